/*
 * to-csv: NDJSON objects in, RFC 4180 CSV out (docs/to-csv.md).
 *
 * One row per input object, streaming: the only memory that grows is the
 * current line and the current row. Quoting is libcsv's (csv_write2); a
 * field is quoted only when it has to be, or when it begins or ends with a
 * space, so plain fields stay plain.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <csv.h>
#include <json-c/json.h>

#include "diag.h"
#include "jsonutil.h"
#include "lineio.h"
#include "money.h"
#include "records.h"
#include "strbuf.h"

static const char synopsis[] =
	"usage: to-csv [--columns LIST] [--no-header] [--lf] [--delimiter CHAR] [--bom]\n"
	"              [--money] [--decimal-comma] [--no-sanitize] [--strict]\n"
	"              [--max-line BYTES] [--rejects FILE] [FILE...]\n";

static const char help_text[] =
	"\n"
	"Write each JSON object of the NDJSON input (FILEs, plain or gzip, or stdin)\n"
	"as one CSV row (RFC 4180). Bad lines are reported as prog: file:line: message\n"
	"and skipped.\n"
	"\n"
	"Options:\n"
	"  -c, --columns LIST   comma-separated columns: dotted paths into nested objects\n"
	"                       (customer.email, items.0.price), each optionally PATH:HEADER;\n"
	"                       \\, \\:, \\\\ and \\. (a dot in a key) escape. Repeatable.\n"
	"                       Default: the keys of the first object, in order\n"
	"      --no-header      leave out the header row\n"
	"      --lf             end rows with LF instead of CRLF\n"
	"  -d, --delimiter CHAR field separator: one ASCII character or 'tab' (default ',')\n"
	"      --bom            begin the output with a UTF-8 byte order mark (Excel)\n"
	"      --money          write *_minor integers that have a 'currency' beside them\n"
	"                       as exact decimal amounts (1990 BRL -> 19.90); the header\n"
	"                       loses its _minor suffix\n"
	"      --decimal-comma  a number's decimal mark is a comma: --money amounts and\n"
	"                       JSON numbers with a fraction (19,90; pt-BR and most of\n"
	"                       Europe's Excel, with --delimiter ';')\n"
	"      --no-sanitize    write every cell exactly (for machine consumers): no\n"
	"                       apostrophe before a formula (= + - @, TAB CR LF) at a\n"
	"                       text cell's start or after a , ; or line break in it\n"
	"      --strict         without --columns: a later object with a key the first one\n"
	"                       lacks is rejected (default: a warning once per key)\n"
	"      --max-line BYTES longest input line, K/M/G suffixes (default 16M)\n"
	"      --rejects FILE   also write rejected lines to FILE as NDJSON\n"
	"  -h, --help           this help\n"
	"  -V, --version        the version\n"
	"\n"
	"Exit status: 0 every line written; 1 some lines rejected (each reported on\n"
	"stderr as 'to-csv: FILE:LINE: ... (code)'); 2 usage; 3 I/O or memory failure.\n"
	"\n"
	"Example:\n"
	"  to-csv --money \\\n"
	"      -c external_event_id:id,customer.email:email,payment.amount_minor,payment.currency \\\n"
	"      events.ndjson\n";

enum { OPT_NO_HEADER = 256, OPT_LF, OPT_BOM, OPT_MONEY, OPT_DECIMAL_COMMA, OPT_NO_SANITIZE, OPT_STRICT,
       OPT_MAX_LINE, OPT_REJECTS };

static const struct option long_options[] = {
	{"columns", required_argument, NULL, 'c'},
	{"no-header", no_argument, NULL, OPT_NO_HEADER},
	{"lf", no_argument, NULL, OPT_LF},
	{"delimiter", required_argument, NULL, 'd'},
	{"bom", no_argument, NULL, OPT_BOM},
	{"money", no_argument, NULL, OPT_MONEY},
	{"decimal-comma", no_argument, NULL, OPT_DECIMAL_COMMA},
	{"no-sanitize", no_argument, NULL, OPT_NO_SANITIZE},
	{"strict", no_argument, NULL, OPT_STRICT},
	{"max-line", required_argument, NULL, OPT_MAX_LINE},
	{"rejects", required_argument, NULL, OPT_REJECTS},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

/* In a --columns path, an escaped dot ("\\.") is kept as this byte until the
 * path is split: a key that holds a dot (Stripe metadata: "plan.name"). */
#define ESCAPED_DOT '\x01'

struct column {
	char *path;   /* dotted path; with is_key, one exact top-level key */
	char *name;   /* the path as the user wrote it, for messages */
	char *header;
	char *parent; /* --money: path of the object holding 'currency' ("" = top) */
	int is_key;
	int money;
};

/* The output row buffer; whole rows go to stdout in large writes. */
struct out {
	char *buf;
	size_t len, cap;
};

static struct column *cols;
static size_t ncols;
static struct out out;
static char delim = ',';
static const char *eol = "\r\n";
static size_t eol_len = 2;
static char specials[8]; /* bytes that force quoting: quote, CR, LF, delimiter */
static int opt_header = 1, opt_bom, opt_money, opt_decimal_comma, opt_sanitize = 1, opt_strict;
static int bom_done;
static size_t max_line = LINE_MAX_DEFAULT;

/* Extra keys already warned about, as said (clipped: a key of 15 MB is not
 * kept, nor printed), bounded so memory stays constant. */
#define MAX_WARNED 256
#define KEY_SAID 104
static char warned[MAX_WARNED][KEY_SAID];
static size_t nwarned;
static int warned_full;

static void reserve(size_t more)
{
	if (out.cap - out.len >= more)
		return;
	size_t cap = out.cap ? out.cap : 1 << 16;
	while (cap - out.len < more) {
		if (cap > SIZE_MAX / 2)
			die_sys(ENOMEM, "out of memory");
		cap *= 2;
	}
	out.buf = xrealloc(out.buf, cap);
	out.cap = cap;
}

static void put(const char *s, size_t n)
{
	reserve(n);
	memcpy(out.buf + out.len, s, n);
	out.len += n;
}

static void flush_out(void)
{
	xwrite(out.buf, out.len, stdout);
	out.len = 0;
}

/* A character a spreadsheet's cell may not begin with: a formula, or blank
 * in front of one (CSV injection, OWASP). */
static int trigger(char c)
{
	return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r' || c == '\n';
}

static int dangerous(const char *s, size_t len)
{
	return len > 0 && trigger(s[0]);
}

/*
 * A spreadsheet that reads the file with the other list separator (Excel
 * takes the locale's: ',' in one, ';' in pt-BR and most of Europe) starts a
 * cell after every ',' or ';' of a cell, quoted or not (audit-CSV 1), and a
 * row after its line breaks, as it no longer sees the quotes. A text cell
 * then gets the apostrophe after such a separator or line break when a
 * formula follows it, behind any '"' (the file's doubled quotes); the CR of
 * a CRLF none (its LF gets it). A JSON cell (an object or an array) writes
 * that character as \u00XX, the same JSON: after a ',' or ';' in a string,
 * and as the first of a string after a ','. sane holds the result; 0 when
 * nothing needed it.
 */
static struct strbuf sane;

static int neutralise_inside(const char *s, size_t len, int text)
{
	int in_str = 0;
	size_t from = 0;

	sane.len = 0;
	for (size_t i = 0; i + 1 < len; i++) {
		char c = s[i];
		size_t at = i + 1; /* where the formula would begin */
		if (text) {
			if (c != ',' && c != ';' && c != '\n' && !(c == '\r' && s[at] != '\n'))
				continue;
			while (at < len && s[at] == '"')
				at++;
		} else if (!in_str) {
			/* a string that begins after a ',' (a member's name, an element) */
			if (!(in_str = c == '"') || i == 0 || s[i - 1] != ',')
				continue;
		} else if (c == '\\') {
			i++; /* an escape: \" ends no string */
			continue;
		} else if (c == '"') {
			in_str = 0;
			continue;
		} else if (c != ',' && c != ';') {
			continue;
		}
		if (at >= len || !trigger(s[at]))
			continue;
		sb_add(&sane, s + from, i + 1 - from);
		if (text) {
			SB_LIT(&sane, "'");
			from = i + 1;
		} else {
			char u[8];
			snprintf(u, sizeof u, "\\u%04x", (unsigned)(unsigned char)s[at]);
			sb_add(&sane, u, 6);
			from = at + 1;
			i = at;
		}
	}
	if (from == 0)
		return 0;
	sb_add(&sane, s + from, len - from);
	return 1;
}

/*
 * One text cell. s has no NUL byte (checked before the row started).
 * text: a JSON string or a header, which sanitizing applies to.
 */
static void put_cell(const char *s, size_t len, int text)
{
	if (opt_sanitize && neutralise_inside(s, len, text)) {
		s = sane.buf;
		len = sane.len;
	}
	int apos = text && opt_sanitize && dangerous(s, len);
	int quote = strcspn(s, specials) < len ||
		    (len > 0 && (s[0] == ' ' || s[len - 1] == ' ')) ||
		    (len == 0 && ncols == 1) || /* a lone empty cell would be a blank line */
		    /* a line \. alone ends the data for PostgreSQL's COPY and psql's
		     * \copy, which drop the rows after it (audit-CSV 1): quoted, as
		     * PostgreSQL's own CSV writer quotes it */
		    (ncols == 1 && len == 2 && s[0] == '\\' && s[1] == '.');

	if (!quote) {
		reserve(len + 1);
		if (apos)
			out.buf[out.len++] = '\'';
		memcpy(out.buf + out.len, s, len);
		out.len += len;
		return;
	}
	if (len > (SIZE_MAX - 4) / 2)
		die_sys(ENOMEM, "out of memory");
	reserve(2 * len + 3);
	char *dest = out.buf + out.len + apos;
	size_t n = csv_write2(dest, out.cap - out.len - (size_t)apos, s, len, '"');
	if (apos) {
		/* csv_write2 wrote the opening quote at dest: put it before the apostrophe. */
		out.buf[out.len] = '"';
		out.buf[out.len + 1] = '\'';
	}
	out.len += n + (size_t)apos;
}

static void put_int64(int64_t v)
{
	char tmp[24], *p = tmp + sizeof tmp;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--p = '-';
	put(p, (size_t)(tmp + sizeof tmp - p));
}

/* A number's text s[0..n), its decimal mark a comma with --decimal-comma (a
 * cell then quoted when the delimiter is one). */
static void put_number(const char *s, size_t n)
{
	static struct strbuf num;
	const char *dot = opt_decimal_comma ? memchr(s, '.', n) : NULL;

	if (!dot) {
		put(s, n);
		return;
	}
	num.len = 0;
	sb_add(&num, s, n);
	num.buf[dot - s] = ',';
	put_cell(num.buf, num.len, 0);
}

static void start_output(void)
{
	if (opt_bom && !bom_done) {
		put("\xef\xbb\xbf", 3);
		bom_done = 1;
	}
}

static void write_header(void)
{
	start_output();
	if (!opt_header)
		return;
	for (size_t i = 0; i < ncols; i++) {
		if (i)
			put(&delim, 1);
		put_cell(cols[i].header, strlen(cols[i].header), 1);
	}
	put(eol, eol_len);
}

/* The header --money gives a converted column: "payment.amount_minor" -> "payment.amount". */
static char *money_header(const char *name)
{
	size_t n = strlen(name);
	char *h = xstrdup(name);
	if (n > 6 && strcmp(name + n - 6, "_minor") == 0)
		h[n - 6] = '\0';
	return h;
}

static int ends_minor(const char *path)
{
	const char *last = strrchr(path, '.');
	last = last ? last + 1 : path;
	size_t n = strlen(last);
	return n >= 6 && strcmp(last + n - 6, "_minor") == 0;
}

static size_t cols_cap;

static void add_column(char *path, char *header, int is_key)
{
	/* room doubled: a first object of 100000 keys copied the columns once a
	 * key (under the sanitizers, minutes of mmap and munmap) */
	if (ncols == cols_cap) {
		cols_cap = cols_cap ? 2 * cols_cap : 16;
		cols = xrealloc(cols, cols_cap * sizeof *cols);
	}
	struct column *c = &cols[ncols++];
	c->path = path;
	c->name = xstrdup(path);
	/* a --columns path's "\." marker is a dot in its name; a first object's key is
	 * the key as written (one holding U+0001 is no dot) */
	for (char *p = is_key ? NULL : c->name; p && (p = strchr(p, ESCAPED_DOT)); p++)
		*p = '.';
	c->is_key = is_key;
	c->money = opt_money && ends_minor(path);
	c->parent = NULL;
	if (c->money) {
		const char *dot = is_key ? NULL : strrchr(path, '.');
		c->parent = dot ? xstrdup(path) : xstrdup("");
		if (dot)
			c->parent[dot - path] = '\0';
	}
	if (header)
		c->header = header;
	else
		c->header = c->money ? money_header(c->name) : xstrdup(c->name);
}

/*
 * Parse one --columns argument: PATH[:HEADER] items separated by commas,
 * with \, \: and \\ escapes. Column creation waits until all options are
 * read (--money may come later), so items are kept as (path, header) pairs.
 */
struct spec {
	char *path, *header;
};
static struct spec *specs;
static size_t nspecs;

static void parse_columns(const char *arg)
{
	size_t n = strlen(arg);
	char *path, *header;
	size_t pl = 0, hl = 0;
	int in_header = 0;

	/* a header goes out as it is written here: CSV that is valid UTF-8 throughout
	 * (the argument not quoted back: its bytes are what is wrong with it) */
	if (!utf8_valid(arg, n))
		die_usage(synopsis, "--columns: the list is not valid UTF-8");
	path = xmalloc(n + 1);
	header = xmalloc(n + 1);

	for (const char *s = arg;; s++) {
		if (*s == '\0' || *s == ',') {
			path[pl] = '\0';
			header[hl] = '\0';
			if (pl == 0)
				die_usage(synopsis, "--columns: empty column path in '%s'", arg);
			specs = xrealloc(specs, (nspecs + 1) * sizeof *specs);
			specs[nspecs].path = xstrdup(path);
			specs[nspecs].header = in_header ? xstrdup(header) : NULL;
			nspecs++;
			pl = hl = 0;
			in_header = 0;
			if (*s == '\0')
				break;
			continue;
		}
		char c = *s;
		if (c == ESCAPED_DOT)
			die_usage(synopsis, "--columns: a control character in '%s'", arg);
		if (c == '\\' && s[1] == '.') {
			s++;
			c = in_header ? '.' : ESCAPED_DOT;
		} else if (c == '\\' && (s[1] == ',' || s[1] == ':' || s[1] == '\\')) {
			c = *++s;
		} else if (c == ':' && !in_header) {
			in_header = 1;
			continue;
		}
		if (in_header)
			header[hl++] = c;
		else
			path[pl++] = c;
	}
	free(path);
	free(header);
}

static void check_path(const char *path)
{
	for (const char *s = path;;) {
		size_t n = strcspn(s, ".");
		if (n == 0)
			die_usage(synopsis, "--columns: empty segment in path '%s'", path);
		if (n >= 128)
			die_usage(synopsis, "--columns: path segment longer than 127 bytes in '%s'", path);
		if (s[n] == '\0')
			break;
		s += n + 1;
	}
}

static char parse_delim(const char *arg)
{
	if (strcmp(arg, "tab") == 0 || strcmp(arg, "\\t") == 0)
		return '\t';
	if (strlen(arg) != 1)
		die_usage(synopsis, "--delimiter: '%s' is not one character", arg);
	unsigned char c = (unsigned char)arg[0];
	if (c == '"' || c == '\r' || c == '\n' || c == '\'' || c >= 0x80 || (c < 0x20 && c != '\t') || c == 0x7f)
		die_usage(synopsis, "--delimiter: '%s' cannot separate fields", arg);
	/* numbers, true/false and --money amounts go out unquoted: none may hold it */
	if (isalnum(c) || c == '.' || c == '+' || c == '-')
		die_usage(synopsis, "--delimiter: '%s' can be part of a number or a boolean", arg);
	/* a row whose first cell is empty would begin with it: a formula to a
	 * spreadsheet that splits at , or ; (audit-CSV 2) */
	if (c == '=' || c == '@')
		die_usage(synopsis, "--delimiter: '%s' would begin a formula (a row whose first cell is empty)", arg);
	return (char)c;
}

/* Default columns: the keys of the first object, each an exact key; and the
 * same keys as a set, for a later line's extra keys (json-c's hash table:
 * each key looked up among the columns one by one took keys x columns a line,
 * minutes for a line of 50000: audit-A 3). */
static json_object *column_keys;

static void columns_from(json_object *root)
{
	json_object_put(column_keys); /* a first object of no keys made none */
	column_keys = json_object_new_object();
	json_object_object_foreach(root, key, val) {
		(void)val;
		add_column(xstrdup(key), NULL, 1);
		json_object_object_add(column_keys, key, NULL);
	}
}

static int is_column_key(const char *key)
{
	return column_keys && json_object_object_get_ex(column_keys, key, NULL);
}

/*
 * Keys of root that are not columns (default columns only). Returns 0 when
 * the line must be rejected (--strict), after reporting it.
 */
static int check_extra_keys(json_object *root, const char *file, const struct line *ln)
{
	char said[KEY_SAID];

	json_object_object_foreach(root, key, val) {
		(void)val;
		if (is_column_key(key))
			continue;
		/* the key as said: its first 100 bytes, "..." after them when cut */
		utf8_clip(key, said, KEY_SAID - 3);
		if (strlen(said) < strlen(key))
			strcat(said, "...");
		if (opt_strict) {
			reject(file, ln->lineno, REJ_INVALID_FIELD, ln->text, ln->len,
			       "key '%s' is not a column (the columns are the keys of the first object)", said);
			return 0;
		}
		int seen = 0;
		for (size_t i = 0; i < nwarned && !seen; i++)
			seen = strcmp(warned[i], said) == 0;
		if (seen)
			continue;
		if (nwarned < MAX_WARNED) {
			memcpy(warned[nwarned++], said, sizeof said);
			warn_msg(0, "%s:%ld: warning: key '%s' is not a column; its values are left out"
				 " (reported once)", file, ln->lineno, said);
		} else if (!warned_full) {
			warned_full = 1;
			warn_msg(0, "%s:%ld: warning: more than %d extra keys; no more are reported",
				 file, ln->lineno, MAX_WARNED);
		}
	}
	return 1;
}

/* Why a cell cannot be written, for the reject message. */
static char cell_err[256];

/* Money: the exact decimal of an integer *_minor beside a currency. */
static int put_money(json_object *root, const struct column *c, json_object *v)
{
	char buf[48];

	if (!json_object_is_type(v, json_type_int)) {
		snprintf(cell_err, sizeof cell_err, "field '%s' must be an integer for --money, got %s",
			 c->name, jtype_name(v));
		return 0;
	}
	int64_t minor = json_object_get_int64(v);
	json_object *parent = c->parent[0] ? jpath_esc(root, c->parent, ESCAPED_DOT) : root;
	json_object *cur = NULL;
	int exp = -1;
	if (json_object_is_type(parent, json_type_object) &&
	    json_object_object_get_ex(parent, "currency", &cur) &&
	    json_object_is_type(cur, json_type_string))
		exp = currency_exponent(json_object_get_string(cur));
	if (exp < 0) {
		snprintf(cell_err, sizeof cell_err, "field '%s' has no valid 'currency' beside it",
			 c->name);
		return 0;
	}
	/* json-c holds 2^63 .. 2^64 - 2 as unsigned (its int64 getter then says
	 * INT64_MAX), and clamps past 64 bits: the same rule as a number cell's */
	if ((minor == INT64_MAX && json_object_get_uint64(v) != (uint64_t)INT64_MAX) || minor == INT64_MIN) {
		snprintf(cell_err, sizeof cell_err, "field '%s' is out of range", c->name);
		return 0;
	}
	int n = minor_to_decimal(minor, exp, buf, sizeof buf);
	if (n < 0) {
		snprintf(cell_err, sizeof cell_err, "field '%s' cannot be converted", c->name);
		return 0;
	}
	put_number(buf, (size_t)n);
	return 1;
}

/* 1 when v holds, at any depth, an integer json-c clamped (it parsed one beyond
 * 64 bits): the text of an object or array cell would show a wrong number. */
static int has_clamped_int(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_int:
		return jint_clamped(v);
	case json_type_array:
		for (size_t i = 0, n = json_object_array_length(v); i < n; i++)
			if (has_clamped_int(json_object_array_get_idx(v, i)))
				return 1;
		return 0;
	case json_type_object: {
		json_object_object_foreach(v, key, val) {
			(void)key;
			if (has_clamped_int(val))
				return 1;
		}
		return 0;
	}
	default:
		return 0;
	}
}

/* One cell; 0 (cell_err set) when the value cannot be written exactly. */
static int put_value(json_object *root, const struct column *c, json_object *v)
{
	size_t len;
	const char *s;

	if (!v || json_object_is_type(v, json_type_null)) {
		if (ncols == 1)
			put("\"\"", 2); /* a lone empty cell would be a blank line, which readers skip */
		return 1;
	}
	if (c->money)
		return put_money(root, c, v);
	switch (json_object_get_type(v)) {
	case json_type_string:
		s = json_object_get_string(v);
		len = (size_t)json_object_get_string_len(v);
		if (memchr(s, '\0', len)) {
			snprintf(cell_err, sizeof cell_err, "field '%s' contains U+0000, which CSV cannot carry",
				 c->name);
			return 0;
		}
		put_cell(s, len, 1);
		return 1;
	case json_type_int: {
		int64_t i = json_object_get_int64(v);
		if (i != INT64_MAX) {
			if (i == INT64_MIN)
				goto range; /* json-c clamps what is below -2^63 */
			put_int64(i);
			return 1;
		}
		/* INT64_MAX or more: json-c keeps up to UINT64_MAX - 1 exactly, clamps the rest. */
		if (json_object_get_uint64(v) == UINT64_MAX)
			goto range;
		s = json_object_get_string(v);
		put(s, strlen(s));
		return 1;
	}
	case json_type_double:
		/* json-c keeps the text of a parsed number: 1.50 stays 1.50, 1e3 stays 1e3. */
		s = json_object_get_string(v);
		put_number(s, strlen(s));
		return 1;
	case json_type_boolean:
		if (json_object_get_boolean(v))
			put("true", 4);
		else
			put("false", 5);
		return 1;
	case json_type_object:
	case json_type_array:
		if (has_clamped_int(v)) {
			snprintf(cell_err, sizeof cell_err, "field '%s' holds an integer beyond 64 bits", c->name);
			return 0;
		}
		s = json_object_to_json_string_length(v, JSON_C_TO_STRING_PLAIN |
						      JSON_C_TO_STRING_NOSLASHESCAPE, &len);
		if (!s)
			die_sys(ENOMEM, "out of memory");
		put_cell(s, len, 0);
		return 1;
	case json_type_null:
		break;
	}
	return 1;
range:
	snprintf(cell_err, sizeof cell_err, "field '%s' is an integer beyond 64 bits", c->name);
	return 0;
}

static void process_record(const struct record_input *in, void *ctx)
{
	json_object *root = in->obj;
	const char *file = in->file;
	const struct line *ln = in->line;

	(void)ctx;
	if (ncols == 0) {
		columns_from(root);
		if (ncols == 0) {
			reject(file, ln->lineno, REJ_INVALID_FIELD, ln->text, ln->len,
			       "the first object has no keys to make columns of");
			return;
		}
		write_header();
	}

	size_t row_start = out.len, found = 0;
	int ok = 1;
	for (size_t i = 0; i < ncols && ok; i++) {
		const struct column *c = &cols[i];
		json_object *v = NULL;
		if (i)
			put(&delim, 1);
		if (c->is_key)
			found += json_object_object_get_ex(root, c->path, &v);
		else
			v = jpath_esc(root, c->path, ESCAPED_DOT);
		ok = put_value(root, c, v);
	}
	if (!ok) {
		out.len = row_start;
		reject(file, ln->lineno, REJ_INVALID_FIELD, ln->text, ln->len, "%s", cell_err);
	} else if (cols[0].is_key && found < (size_t)json_object_object_length(root) &&
		   !check_extra_keys(root, file, ln)) {
		out.len = row_start;
	} else {
		put(eol, eol_len);
		if (out.len >= 1 << 16)
			flush_out();
	}
}

/* The columns and the keys warned about, gone (the fuzz target runs many inputs). */
static void free_columns(void)
{
	for (size_t i = 0; i < ncols; i++) {
		free(cols[i].path);
		free(cols[i].name);
		free(cols[i].header);
		free(cols[i].parent);
	}
	free(cols);
	cols = NULL;
	ncols = cols_cap = 0;
	nwarned = 0;
	json_object_put(column_keys);
	column_keys = NULL;
}

int main(int argc, char **argv)
{
	int ch;
	const char *rejects_path = NULL;

	diag_init("to-csv");
	while ((ch = getopt_said(argc, argv, "c:d:hV", long_options)) != -1) {
		switch (ch) {
		case 'c': parse_columns(optarg); break;
		case 'd': delim = parse_delim(optarg); break;
		case OPT_NO_HEADER: opt_header = 0; break;
		case OPT_LF: eol = "\n"; eol_len = 1; break;
		case OPT_BOM: opt_bom = 1; break;
		case OPT_MONEY: opt_money = 1; break;
		case OPT_DECIMAL_COMMA: opt_decimal_comma = 1; break;
		case OPT_NO_SANITIZE: opt_sanitize = 0; break;
		case OPT_STRICT: opt_strict = 1; break;
		case OPT_MAX_LINE:
			max_line = max_line_opt(synopsis, optarg);
			break;
		case OPT_REJECTS: rejects_path = optarg; break;
		case 'h':
			printf("%s%s", synopsis, help_text);
			return diag_finish();
		case 'V':
			puts("to-csv (RevenueOS Pipelines) " RO_VERSION);
			return diag_finish();
		default:
			fprintf(stderr, "%s", synopsis);
			return EXIT_USAGE;
		}
	}
	/* every usage error before --rejects empties its file */
	for (size_t i = 0; i < nspecs; i++)
		check_path(specs[i].path);
	rejects_setup(synopsis, rejects_path, argv + optind, argc - optind);
	snprintf(specials, sizeof specials, "\"\r\n%c", delim);

	for (size_t i = 0; i < nspecs; i++)
		add_column(specs[i].path, specs[i].header, 0);
	free(specs);
	if (ncols)
		write_header();

	for_each_record(argv + optind, argc - optind, max_line, process_record, NULL);
	flush_out();

	free_columns();
	free(out.buf);
	return diag_finish();
}
