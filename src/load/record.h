/*
 * load/record.h: what load does to one record's fields, for src/load.c: the
 * checks of a field's type and value (check, check_section, with the
 * sections' specs), and the COPY text format the accepted ones are written
 * in. Values returned are borrowed from the record's json_object.
 */
#ifndef RO_LOAD_RECORD_H
#define RO_LOAD_RECORD_H

#include <stddef.h>
#include <json-c/json.h>

#include "strbuf.h"

/* One field of COPY text format, then sep ('\t', or '\n' at the row end):
 * backslash, tab, newline and CR escaped; s NULL is \N. */
void copy_field(struct strbuf *b, const char *s, size_t n, char sep);
void copy_str(struct strbuf *b, const char *s, char sep);
/* v >= 0: a record's sequence number in its batch (no printf per row) */
void copy_long(struct strbuf *b, long v, char sep);

enum ftype { F_STR, F_ID, F_INT, F_BOOL, F_TIME, F_CUR, F_OBJ }; /* F_ID: a string without U+FFFD */

/* A record's first failed check: its reject code and message. */
struct fcheck {
	int code;      /* 0 ok, else REJ_MISSING_FIELD / REJ_INVALID_FIELD */
	int rewrote;   /* a time the event keeps was rewritten: its text is no longer the line's */
	char msg[256];
};

/* Note a failure in fc unless one is noted already; returns -1. */
int fail(struct fcheck *fc, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* obj[key] absent or null (allowed unless required), or of type t; a time
 * rewritten in place to canonical RFC 3339 UTC. The value, or NULL. */
json_object *check(json_object *obj, const char *key, enum ftype t, int required, const char *prefix,
		   struct fcheck *fc);

static inline const char *str_of(json_object *v)
{
	return v ? json_object_get_string(v) : NULL;
}

/* A section of the canonical event (docs/events.md) and its fields' types. */
struct spec {
	const char *key;
	enum ftype type;
};
extern const struct spec customer_spec[], payment_spec[], subscription_spec[];

/* ev[name] checked field by field; the section, or NULL when null, absent or invalid. */
json_object *check_section(json_object *ev, const char *name, const struct spec *spec, struct fcheck *fc);

#endif
