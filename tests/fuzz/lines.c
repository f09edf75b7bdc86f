/*
 * lines.c: the line reader and strict JSON parsing over arbitrary bytes
 * (plain or gzip). The input's length picks --max-line, so short lines and
 * too-long lines are both reached; rejects go to a rejects stream (/dev/null)
 * so that their raw text is cleaned too. The whole input is also parsed as
 * one text in its exact-size buffer, and jparse_shallow() is checked against
 * jparse() everywhere; jdrop_members() and jmember_span() against json-c.
 */
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "jsonutil.h"
#include "lineio.h"
#include "fuzz.h"

/*
 * jparse_shallow() must agree with jparse() on every text (same verdict, same
 * code, the same top-level keys), and neither may take text utf8_valid()
 * refuses: the grammar pass checks UTF-8 its own way.
 */
static void check_against_shallow(struct jparser *p, const char *text, size_t len, json_object *full,
				  enum reject_code full_code)
{
	enum reject_code code;
	char msg[256];
	json_object *sh = jparse_shallow(p, text, len, 1, &code, msg, sizeof msg);

	if (!full != !sh || (!full && code != full_code))
		abort();
	if (full && !memchr(text, '\0', len) && !utf8_valid(text, len))
		abort();
	if (full && json_object_is_type(full, json_type_object) &&
	    json_object_object_length(full) != json_object_object_length(sh))
		abort();
	json_object_put(sh);
}

/*
 * On every object the strict parser takes: jdrop_members() gives the object
 * json-c gives after deleting the keys (or declines: a top-level key written
 * with escapes), and a member jmember_span() finds holds the value json-c holds.
 */
static void check_members(struct jparser *p, const char *text, size_t len, json_object *o)
{
	static const char *const keys[] = {"received_at", "source", "id"};
	char *out = malloc(len + 1);
	enum reject_code code;
	char msg[128];
	/* the members of the last text p took: this one, shallow this time */
	json_object *sh = jparse_shallow(p, text, len, 1, &code, msg, sizeof msg);
	size_t n = jdrop_members(p, text, len, keys, 3, out);

	if (!out)
		abort();
	/* it declines only for a key written with escapes, or too many members to keep
	 * (duplicates count: the pass keeps every copy) */
	if (n == (size_t)-1 && !memchr(text, '\\', len) && json_object_object_length(o) <= 16 &&
	    len < 16 * 8)
		abort();
	if (n != (size_t)-1) {
		if (n > len)
			abort();
		json_object *got = fuzz_must_parse("object without members", out, n), *want = NULL;
		if (json_object_deep_copy(o, &want, NULL) != 0)
			abort();
		for (int k = 0; k < 3; k++)
			json_object_object_del(want, keys[k]);
		if (!json_object_equal(want, got))
			abort();
		json_object_put(want);
		json_object_put(got);
	}
	size_t off, vlen;
	if (jmember_span(p, text, len, "id", &off, &vlen)) {
		char *v = malloc(vlen + 3);
		if (!v)
			abort();
		memcpy(v, "[", 1);
		memcpy(v + 1, text + off, vlen);
		memcpy(v + 1 + vlen, "]", 2);
		json_object *arr = json_tokener_parse(v);
		json_object *id = NULL;
		if (!arr || !json_object_object_get_ex(o, "id", &id) ||
		    !json_object_equal(json_object_array_get_idx(arr, 0), id))
			abort();
		json_object_put(arr);
		free(v);
	}
	json_object_put(sh);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct jparser *p;
	static const size_t max_lines[] = { LINE_MAX_DEFAULT, 64, 1, 4096 };

	fuzz_quiet();
	if (!p) {
		p = jparser_new();
		jparser_track_members(p);
		rejects_open("/dev/null");
	}
	/* The whole input as one text, in libFuzzer's exact-size buffer (no NUL after it). */
	{
		enum reject_code code = REJ__COUNT;
		char msg[256];
		json_object *o = jparse(p, (const char *)data, size, &code, msg, sizeof msg);
		check_against_shallow(p, (const char *)data, size, o, code);
		json_object_put(o);
	}
	size_t max_line = max_lines[size % 4];
	struct line_reader *lr = lr_open(fuzz_file(data, size), max_line);
	if (!lr)
		abort();
	struct line l;
	int r;
	long last = 0;
	while ((r = lr_next(lr, &l)) == LR_LINE) {
		if (l.lineno != last + 1 || l.text[l.len] != '\0' || (l.len > max_line))
			abort();
		last = l.lineno;
		if (l.too_long) {
			reject("fuzz", l.lineno, REJ_LINE_TOO_LONG, l.text, l.len, "too long");
			continue;
		}
		enum reject_code code;
		char msg[256];
		json_object *o = jparse(p, l.text, l.len, &code, msg, sizeof msg);
		check_against_shallow(p, l.text, l.len, o, code);
		if (!o) {
			if (strlen(msg) == 0 || (unsigned)code >= REJ__COUNT)
				abort();
			reject("fuzz", l.lineno, code, l.text, l.len, "%s", msg);
			continue;
		}
		/* What json-c built must serialise back to text the strict parser takes. */
		size_t n;
		const char *s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &n);
		json_object *back = NULL;
		if (json_object_is_type(o, json_type_object)) {
			back = fuzz_must_parse("re-serialised line", s, n);
			check_members(p, l.text, l.len, o);
		}
		(void)jpath(o, "data.object.id");
		(void)jstr(o, "a.0.b");
		json_object_put(back);
		json_object_put(o);
	}
	if (r == LR_ERROR) {
		int truncated;
		if (!lr_error(lr, &truncated)[0])
			abort();
	}
	lr_close(lr);
	fuzz_loud();
	return 0;
}

const char fuzz_name[] = "lines";
const char *const fuzz_seeds[] = { "fixtures/bad", "fixtures/captured", "fixtures/hotmart", "fixtures/stripe",
				    "fixtures/dumps/2026-11", NULL };
