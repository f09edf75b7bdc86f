/* fuzz.c: helpers for the fuzz targets (see fuzz.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "connector.h"
#include "diag.h"
#include "jsonutil.h"
#include "timeutil.h"
#include "fuzz.h"

static FILE *real_stderr, *null_out;

void fuzz_quiet(void)
{
	if (!null_out) {
		null_out = fopen("/dev/null", "w");
		if (!null_out)
			abort();
		setenv("RO_NO_PROGRESS", "1", 1);
	}
	real_stderr = stderr;
	stderr = null_out;
}

void fuzz_loud(void)
{
	if (real_stderr)
		stderr = real_stderr;
}

const char *fuzz_file(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];

	if (fd < 0) {
		fd = memfd_create("fuzz-input", 0);
		if (fd < 0)
			abort();
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) != 0)
		abort();
	for (size_t off = 0; off < size;) {
		ssize_t n = pwrite(fd, data + off, size - off, (off_t)off);
		if (n <= 0)
			abort();
		off += (size_t)n;
	}
	return path;
}

json_object *fuzz_must_parse(const char *what, const char *text, size_t len)
{
	static struct jparser *p;
	enum reject_code code;
	char msg[256];

	if (!p)
		p = jparser_new();
	json_object *o = jparse(p, text, len, &code, msg, sizeof msg);
	if (!o || !json_object_is_type(o, json_type_object)) {
		fuzz_loud();
		fprintf(stderr, "fuzz: %s is not a strict JSON object (%s): %.*s\n", what,
			o ? "not an object" : msg, (int)(len > 2000 ? 2000 : len), text);
		abort();
	}
	return o;
}

static int in_set(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (strcmp(s, *set) == 0)
			return 1;
	return 0;
}

const char *fuzz_event_problem(json_object *ev)
{
	static const char *const statuses[] = { "processed", "ignored", "failed", NULL };
	static const char *const pay_statuses[] = { "succeeded", "failed", "pending", "refunded",
		"partially_refunded", "inquiry", "disputed", "dispute_won", "dispute_lost", "canceled", "expired",
		"uncollectible", NULL };
	static const char *const sub_statuses[] = { "trialing", "active", "past_due", "unpaid",
		"canceled", "incomplete", "incomplete_expired", "paused", NULL };
	static const char *const intervals[] = { "day", "week", "month", "year", NULL };
	static const char *const times[] = { "occurred_at", "received_at", "payment.due_at",
		"payment.paid_at", "subscription.current_period_start", "subscription.current_period_end",
		"subscription.cancel_at", "subscription.canceled_at", "subscription.trial_end", NULL };
	static const char *const minors[] = { "payment.amount_minor", "payment.discount_minor",
		"payment.refunded_minor", NULL };
	const char *status = jstr(ev, "status"), *type = jstr(ev, "event_type"),
		   *reason = jstr(ev, "reason"), *s;
	int64_t ms;

	if (!status || !in_set(status, statuses))
		return "status";
	if (strcmp(status, "processed") == 0 ? !type || !*type : !reason || !*reason)
		return "event_type or reason";
	if (strcmp(status, "failed") == 0 &&
	    (jpath(ev, "customer") || jpath(ev, "payment") || jpath(ev, "subscription")))
		return "a failed event with a section";
	for (const char *const *t = times; *t; t++) {
		json_object *v = jpath(ev, *t);
		if (v && (!json_object_is_type(v, json_type_string) ||
			  parse_rfc3339(json_object_get_string(v), &ms) != 0))
			return *t;
	}
	for (const char *const *m = minors; *m; m++) {
		json_object *v = jpath(ev, *m);
		if (v && !json_object_is_type(v, json_type_int))
			return *m;
	}
	if (jpath(ev, "payment.amount_minor")) {
		s = jstr(ev, "payment.currency");
		if (!s || strlen(s) != 3 || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 3)
			return "payment.currency";
	}
	if ((s = jstr(ev, "payment.status")) && !in_set(s, pay_statuses))
		return "payment.status";
	if ((s = jstr(ev, "subscription.status")) && !in_set(s, sub_statuses))
		return "subscription.status";
	if ((s = jstr(ev, "subscription.interval")) && !in_set(s, intervals))
		return "subscription.interval";
	/* load's vocabulary (docs/load.md, invalid_field): a type of docs/events.md's table,
	 * a method in lower case, a plan code the plans table takes */
	if (type && !event_type_known(type))
		return "event_type";
	if ((s = jstr(ev, "payment.method")) && strpbrk(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
		return "payment.method";
	if ((s = jstr(ev, "subscription.plan_code")) && !plan_code_valid(s))
		return "subscription.plan_code";
	return NULL;
}

int fuzz_connector(const char *name, const uint8_t *data, size_t size)
{
	static struct jparser *p;
	enum reject_code code;
	char msg[256];

	fuzz_quiet();
	if (!p)
		p = jparser_new();
	const struct connector *c = connector_by_name(name);
	if (!c)
		abort();
	json_object *payload = jparse(p, (const char *)data, size, &code, msg, sizeof msg);
	if (!payload) {
		fuzz_loud();
		return -1; /* not in the corpus: only JSON is worth mutating */
	}
	(void)connector_detect(payload);
	(void)c->detect(payload);

	struct event_identity id = {0};
	struct jerr err = {0};
	struct event_origin origin = {
		.provider = c->name, .project_id = "fuzz", .received_at = "2026-11-25T00:00:00Z",
		.source = "fuzz:1",
	};
	if (c->identify(payload, &id, &err) == 0) {
		origin.external_event_id = id.event_id;
		origin.provider_event_type = id.event_type;
		origin.occurred_ms = id.occurred_ms;
	} else if (!err.failed || !err.reason[0]) {
		abort(); /* a failed identify says why */
	} else {
		origin.external_event_id = "fuzz-event";
	}

	struct event ev;
	event_init(&ev, &origin);
	c->normalize(payload, &ev);
	/* event_write() must write the bytes json-c writes for event_finish()'s object. */
	char *written = NULL;
	size_t wlen = 0;
	FILE *mem = open_memstream(&written, &wlen);
	if (!mem)
		abort();
	event_write(&ev, mem);
	if (fclose(mem) != 0)
		abort();
	json_object *out = event_finish(&ev);
	size_t n;
	const char *text = json_object_to_json_string_length(out, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (wlen != n + 1 || memcmp(written, text, n) != 0 || written[n] != '\n') {
		fuzz_loud();
		fprintf(stderr, "fuzz: event_write differs from json-c:\n%.*s\n%s\n", (int)wlen, written, text);
		abort();
	}
	free(written);
	json_object *back = fuzz_must_parse("canonical event", text, n);
	const char *why = fuzz_event_problem(back);
	if (why) {
		fuzz_loud();
		fprintf(stderr, "fuzz: bad canonical event (%s): %s\n", why, text);
		abort();
	}
	json_object_put(back);
	event_free(&ev);
	json_object_put(payload);
	fuzz_loud();
	return 0;
}
