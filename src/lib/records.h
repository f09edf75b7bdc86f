/*
 * records.h: the input loop every NDJSON filter shares. It reads the named
 * files (or stdin), parses each line strictly, rejects what is not a JSON
 * object (with file, line and a reject code) and hands each object on.
 *
 * The callback borrows the object and the line; both die after it returns.
 */
#ifndef RO_RECORDS_H
#define RO_RECORDS_H

#include <json-c/json.h>

#include "lineio.h"

struct record_input {
	const char *file;   /* display name: the path, or "<stdin>" */
	const struct line *line;
	json_object *obj;
	int depth;          /* how deep obj nests (jparser_depth) */
	long units;         /* its tree's units (jparser_units) */
};

#define RAW_IN_REJECT 4096 /* bytes of an over-long line kept in its rejects record */

typedef void (*record_fn)(const struct record_input *in, void *ctx);

/* files[0..nfiles); none means stdin ("-" is stdin too). Unreadable files are
 * reported and remembered (exit 3) and the others still read. Returns how
 * many ended early (a gzip file cut short: truncated_gzip, its lines before
 * the cut handed on). */
int for_each_record(char *const *files, int nfiles, size_t max_line, record_fn fn, void *ctx);

/* Parse "16M", "1048576", "64k" for --max-line; 0 on bad text or a size past SIZE_MAX. */
size_t parse_size(const char *text);

/* parse_size(text) for the option opt, or the one usage error of every
 * program: "opt: 'text' is not a size (...)" with synopsis, exit 2. */
size_t size_opt(const char *synopsis, const char *opt, const char *text);

/* size_opt for --max-line, at most LINE_MAX_LIMIT: json-c and libpq take a length
 * as an int, so a line of 2 GiB or more, which --max-line 3G let through, was
 * refused as invalid JSON (one of 4 GiB + k read as its first k bytes: audit-SA 1),
 * and PostgreSQL's longest value is 1 GiB */
size_t max_line_opt(const char *synopsis, const char *text);

#endif
