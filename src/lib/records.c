/* records.c: the shared NDJSON input loop. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "jsonutil.h"
#include "records.h"


/* Whether the file ended early: a gzip file cut short (its lines read are
 * handed on; the truncated_gzip reject says the rest was not there). */
static int read_one(const char *path, size_t max_line, struct jparser *p, record_fn fn, void *ctx)
{
	struct line_reader *lr = lr_open(path, max_line);
	struct line l;
	int r;

	if (!lr) {
		warn_msg(errno, "cannot open '%s'", path);
		diag_system_error();
		return 0;
	}
	const char *name = lr_name(lr);
	while ((r = lr_next(lr, &l)) == LR_LINE) {
		progress_tick(l.len + 1);
		if (l.too_long) {
			reject(name, l.lineno, REJ_LINE_TOO_LONG, l.text, l.len < RAW_IN_REJECT ? l.len : RAW_IN_REJECT,
			       "line longer than %zu bytes", max_line);
			continue;
		}
		if (l.len == 0 || strspn(l.text, " \t\r") == l.len)
			continue; /* blank lines carry no record */
		enum reject_code code;
		char msg[256];
		json_object *o = jparse(p, l.text, l.len, &code, msg, sizeof msg);
		if (!o) {
			reject(name, l.lineno, code, l.text, l.len, "%s", msg);
			continue;
		}
		if (!json_object_is_type(o, json_type_object)) {
			reject(name, l.lineno, REJ_NOT_OBJECT, l.text, l.len, "expected a JSON object, got %s",
			       jtype_name(o));
			json_object_put(o);
			continue;
		}
		if (jparser_key_nul(p)) {
			reject(name, l.lineno, REJ_INVALID_FIELD, l.text, l.len, NUL_KEY_MSG);
			json_object_put(o);
			continue;
		}
		struct record_input in = { name, &l, o, jparser_depth(p), jparser_units(p) };
		fn(&in, ctx);
		json_object_put(o);
	}
	int cut = 0;
	if (r == LR_ERROR) {
		lr_reject_error(lr, name, l.lineno);
		lr_error(lr, &cut);
	}
	lr_close(lr);
	return cut;
}

int for_each_record(char *const *files, int nfiles, size_t max_line, record_fn fn, void *ctx)
{
	struct jparser *p = jparser_new();
	int cut = 0;

	if (nfiles == 0)
		cut += read_one("-", max_line, p, fn, ctx);
	for (int i = 0; i < nfiles; i++)
		cut += read_one(files[i], max_line, p, fn, ctx);
	jparser_free(p);
	return cut;
}

size_t parse_size(const char *text)
{
	char *end;
	/* digits first: strtoull would skip blanks and take " -1" as 2^64 - 1 */
	if (!isdigit((unsigned char)text[0]))
		return 0;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno || end == text)
		return 0;
	int shift = 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (*end || v > (SIZE_MAX >> shift))
		return 0; /* not a size, or more than memory can address: never wrapped */
	return (size_t)(v << shift);
}

size_t size_opt(const char *synopsis, const char *opt, const char *text)
{
	size_t v = parse_size(text);
	if (!v)
		die_usage(synopsis, "%s: '%s' is not a size (a positive number; K, M or G after it, in "
			  "either case, multiplies it by 2^10, 2^20, 2^30)", opt, text);
	return v;
}

size_t max_line_opt(const char *synopsis, const char *text)
{
	size_t v = size_opt(synopsis, "--max-line", text);
	if (v > LINE_MAX_LIMIT)
		die_usage(synopsis, "--max-line: '%s' is more than 1G, the longest line a program reads", text);
	return v;
}
