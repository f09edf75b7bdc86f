/*
 * load/record.c: a record's fields checked, and written in COPY's text
 * format (load/record.h). src/load.c reads the records and batches them.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "diag.h"
#include "jsonutil.h"
#include "load/record.h"
#include "timeutil.h"

/* 1 when none of the eight bytes in w is a control character, a backslash or
 * non-ASCII (conservative: it may say 0 for a word COPY copies as it is). */
static inline int copy_plain8(uint64_t w)
{
	const uint64_t lo = 0x0101010101010101ULL, hi = 0x8080808080808080ULL;
	uint64_t bslash = w ^ (lo * '\\');
	return (((w - lo * 0x20) | (bslash - lo) | w) & hi) == 0;
}

/* One field of COPY text format: backslash, tab, newline and CR escaped;
 * NULL is \N. sep is the byte that follows ('\t', or '\n' at the row end). */
void copy_field(struct strbuf *b, const char *s, size_t n, char sep)
{
	/* the bytes COPY text escapes, and what follows their backslash */
	static const char esc[256] = {['\\'] = '\\', ['\t'] = 't', ['\n'] = 'n', ['\r'] = 'r'};

	if (!s) {
		sb_add(b, "\\N", 2);
	} else {
		char *o = sb_reserve(b, 2 * n);
		size_t i = 0;
		while (i < n) {
			/* a run of plain bytes, eight at a time where the word test
			 * allows (payloads are JSON: escapes are rare) */
			size_t j = i;
			for (;;) {
				uint64_t w;
				while (j + 8 <= n && (memcpy(&w, s + j, 8), copy_plain8(w)))
					j += 8;
				if (j == n || esc[(unsigned char)s[j]])
					break;
				j++;
			}
			memcpy(o, s + i, j - i);
			o += j - i;
			if (j < n) {
				*o++ = '\\';
				*o++ = esc[(unsigned char)s[j++]];
			}
			i = j;
		}
		b->len = (size_t)(o - b->buf);
	}
	sb_add(b, &sep, 1);
}

void copy_str(struct strbuf *b, const char *s, char sep)
{
	copy_field(b, s, s ? strlen(s) : 0, sep);
}

/* v >= 0: a record's sequence number in its batch (no printf per row) */
void copy_long(struct strbuf *b, long v, char sep)
{
	char tmp[24], *p = tmp + sizeof tmp;
	unsigned long u = (unsigned long)v;

	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	copy_field(b, p, (size_t)(tmp + sizeof tmp - p), sep);
}

/* ------------------------------------------------------------ validation */


int fail(struct fcheck *fc, int code, const char *fmt, ...)
{
	va_list ap;

	if (fc->code)
		return -1;
	fc->code = code;
	va_start(ap, fmt);
	vsnprintf(fc->msg, sizeof fc->msg, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Check obj[key] is absent/null (allowed unless required) or of type t.
 * Times are rewritten in place to canonical RFC 3339 UTC, so PostgreSQL reads
 * exactly the instant we checked. Returns the value (borrowed) or NULL.
 */
json_object *check(json_object *obj, const char *key, enum ftype t, int required,
			  const char *prefix, struct fcheck *fc)
{
	json_object *v = NULL;

	/* the field's name is prefix + key, written only in a message */
	if (!json_object_object_get_ex(obj, key, &v) || !v) {
		if (required)
			fail(fc, REJ_MISSING_FIELD, "missing field '%s%s'", prefix, key);
		return NULL;
	}
	switch (t) {
	case F_STR:
	case F_ID:
	case F_TIME:
	case F_CUR: {
		if (!json_object_is_type(v, json_type_string))
			break;
		const char *s = json_object_get_string(v);
		size_t n = (size_t)json_object_get_string_len(v);
		if (strlen(s) != n) {
			fail(fc, REJ_INVALID_FIELD, "field '%s%s' contains a NUL character", prefix, key);
			return NULL;
		}
		/* an id names a row: "" (or blanks) would merge every event that has it */
		if ((required && n == 0) || (t == F_ID && text_blank(s, n))) {
			fail(fc, REJ_INVALID_FIELD, "field '%s%s' is %s", prefix, key, n ? "blank" : "empty");
			return NULL;
		}
		if (t == F_ID && memmem(s, n, "\xEF\xBF\xBD", 3)) { /* jsonutil.h, jstr_has_fffd */
			fail(fc, REJ_INVALID_FIELD, "field '%s%s' contains U+FFFD (a lone UTF-16 surrogate?): not an id",
			     prefix, key);
			return NULL;
		}
		if (t == F_TIME) {
			int64_t ms;
			char out[RFC3339_BUFSZ];
			if (parse_rfc3339_strict(s, &ms) != 0 || !time_in_range(ms)) {
				fail(fc, REJ_INVALID_FIELD, "field '%s%s' is not an RFC 3339 time in 1970..9999: '%.40s'",
				     prefix, key, s);
				return NULL;
			}
			fmt_rfc3339(ms, out);
			if (strcmp(out, s) != 0) {
				json_object_object_add(obj, key, json_object_new_string(out));
				json_object_object_get_ex(obj, key, &v);
				/* received_at: in a column only, never in the event */
				fc->rewrote |= *prefix != '\0' || strcmp(key, "received_at") != 0;
			}
		}
		if (t == F_CUR && !(n == 3 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' &&
				    s[2] >= 'A' && s[2] <= 'Z')) {
			fail(fc, REJ_INVALID_FIELD, "field '%s%s' is not an ISO 4217 code: '%.40s'", prefix, key, s);
			return NULL;
		}
		return v;
	}
	case F_INT:
		if (json_object_is_type(v, json_type_int))
			return v;
		break;
	case F_BOOL:
		if (json_object_is_type(v, json_type_boolean))
			return v;
		break;
	case F_OBJ:
		if (json_object_is_type(v, json_type_object))
			return v;
		break;
	}
	static const char *const want[] = {"a string", "a string", "an integer", "a boolean", "a time string",
					   "a currency code", "an object"};
	fail(fc, REJ_INVALID_FIELD, "field '%s%s' must be %s, got %s", prefix, key, want[t], jtype_name(v));
	return NULL;
}

const struct spec customer_spec[] = {
	{"id", F_ID}, {"email", F_STR}, {"name", F_STR}, {"phone", F_STR}, {"country", F_STR}, {NULL, 0},
};
const struct spec payment_spec[] = {
	{"id", F_ID}, {"object", F_STR}, {"invoice_id", F_ID}, {"subscription_id", F_ID},
	{"charge_id", F_ID}, {"payment_intent_id", F_ID}, {"amount_minor", F_INT}, {"currency", F_CUR}, {"status", F_STR}, {"method", F_STR},
	{"installments", F_INT}, {"failure_code", F_STR}, {"discount_minor", F_INT},
	{"refunded_minor", F_INT}, {"due_at", F_TIME}, {"paid_at", F_TIME}, {NULL, 0},
};
const struct spec subscription_spec[] = {
	{"id", F_ID}, {"price_id", F_ID}, {"product_id", F_ID}, {"plan_code", F_STR},
	{"status", F_STR}, {"interval", F_STR}, {"interval_count", F_INT}, {"quantity", F_INT},
	{"current_period_start", F_TIME}, {"current_period_end", F_TIME},
	{"cancel_at_period_end", F_BOOL}, {"cancel_at", F_TIME}, {"canceled_at", F_TIME},
	{"trial_end", F_TIME}, {"invoiced_at", F_TIME}, {NULL, 0},
};

/* Check a section; returns it (borrowed) or NULL when null/absent/invalid. */
json_object *check_section(json_object *ev, const char *name, const struct spec *spec,
				  struct fcheck *fc)
{
	char prefix[64];
	json_object *sec = check(ev, name, F_OBJ, 0, "", fc);
	if (!sec)
		return NULL;
	snprintf(prefix, sizeof prefix, "%s.", name);
	for (const struct spec *s = spec; s->key; s++)
		check(sec, s->key, s->type, 0, prefix, fc);
	return sec;
}
