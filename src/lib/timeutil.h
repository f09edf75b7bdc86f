/*
 * timeutil.h: instants are int64 milliseconds since the Unix epoch, written
 * as RFC 3339 in UTC.
 */
#ifndef RO_TIMEUTIL_H
#define RO_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

#define RFC3339_BUFSZ 64

/* "2026-11-25T08:49:44Z", or "2026-11-25T08:49:44.123Z" when the milliseconds
 * are not zero. Returns buf. */
char *fmt_rfc3339(int64_t ms, char buf[RFC3339_BUFSZ]);

/*
 * Parse RFC 3339 / ISO 8601 date-times: "2026-11-25T08:49:44Z",
 * "...44.5+03:00", "2026-11-25 08:49:44" (no zone: UTC), "2026-11-25"
 * (midnight UTC). 0 ok, -1 not a date-time.
 */
int parse_rfc3339(const char *s, int64_t *ms);
/* The same for a bound of a window of millisecond times, [since, until): a
 * fraction of a millisecond rounds up (..05.1235 keeps an event at ..05.123
 * before it and none after it), where parse_rfc3339 cuts it. */
int parse_rfc3339_bound(const char *s, int64_t *ms);

/* RFC 3339 itself, for the time fields of records (envelopes, events): a
 * date, a time with seconds, and a zone, Z or +hh:mm. An offset-less time or
 * a date alone is refused (-1) rather than taken for UTC. Options keep the
 * lenient parse_rfc3339. */
int parse_rfc3339_strict(const char *s, int64_t *ms);

/* A Unix timestamp that may be seconds or milliseconds: values above 1e11
 * are taken as milliseconds (1e11 s is the year 5138). */
int64_t epoch_to_ms(int64_t v);

/* 1 when ms is in 1970..9999: a time every RFC 3339 reader here takes back
 * (normalize and load refuse others), as an arrival time must be. */
int time_in_range(int64_t ms);

int64_t now_ms(void);

/* 1 when ms, an arrival time, is more than a day after now: no webhook has
 * arrived then (a day leaves room for a capturing host's clock). */
int arrival_in_future(int64_t ms);

#endif
