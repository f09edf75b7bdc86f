/* jsonutil.c: strict one-line JSON parsing and typed getters over json-c. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonutil.h"

/*
 * The top-level members of the last text parsed, as byte spans, recorded by
 * the grammar pass itself (jmember_span, jdrop_members): a member runs from
 * its key's opening quote (start) to the end of its value; key is its first
 * byte inside the quotes, klen its length as written (escaped: with escapes,
 * which a comparison decodes). usable: the text was an object, no key of its
 * own holding U+0000 (json-c reads "id\u0000x" as "id": the spans would not be
 * the members it builds), at most MEMBERS_MAX members (no record has near as
 * many; the array, which grows to the most a line has had, stays small).
 */
enum { MEMBERS_MAX = 4096 };
struct member {
	size_t start, key, klen, value, end;
	int escaped;
};
struct members {
	size_t len; /* of the text they are spans of */
	int n, cap, usable, nul, overflow;
	struct member *m;
};

struct jparser {
	json_tokener *tok;
	char *shallow; /* jparse_shallow's copy of the text */
	size_t cap;
	int track; /* jparser_track_members was called: the grammar pass fills top */
	struct members top;
	int depth;   /* how deep the last text accepted nests */
	int key_nul; /* a member name in it holds the escape \u0000 */
	long units; /* the units (JSON_MAX_UNITS) of its tree, at every depth */
};

struct jparser *jparser_new(void)
{
	struct jparser *p = xmalloc(sizeof *p);
	p->shallow = NULL;
	p->cap = 0;
	p->track = 0;
	p->top.usable = 0;
	p->top.n = p->top.cap = 0;
	p->top.m = NULL;
	p->depth = 0;
	p->key_nul = 0;
	p->units = 0;
	p->tok = json_tokener_new_ex(JSON_MAX_DEPTH + 2) /* the grammar pass enforces the limit */;
	if (!p->tok)
		die_sys(ENOMEM, "out of memory");
	json_tokener_set_flags(p->tok, JSON_TOKENER_STRICT);
	return p;
}

int jparser_depth(const struct jparser *p)
{
	return p->depth;
}

long jparser_units(const struct jparser *p)
{
	return p->units;
}

int jparser_key_nul(const struct jparser *p)
{
	return p->key_nul;
}

void jparser_track_members(struct jparser *p)
{
	p->track = 1;
}

void jparser_free(struct jparser *p)
{
	if (!p)
		return;
	json_tokener_free(p->tok);
	free(p->shallow);
	free(p->top.m);
	free(p);
}

static inline int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* 1 when none of the eight bytes in w is '"', '\\', a control character or non-ASCII
 * (a conservative test: it may say 0 for a plain word, never 1 for another). */
static inline int plain8(uint64_t w);

/* Bytes that end a plain run inside a string: quote, backslash, controls, non-ASCII. */
static const unsigned char str_special[256] = {
	[0 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, [0x80 ... 0xff] = 1,
};

static inline int plain8(uint64_t w)
{
	const uint64_t lo = 0x0101010101010101ULL, hi = 0x8080808080808080ULL;
	uint64_t quote = w ^ (lo * '"'), bslash = w ^ (lo * '\\');
	return (((w - lo * 0x20) | (quote - lo) | (bslash - lo) | w) & hi) == 0;
}

/*
 * The bytes at s (a non-ASCII byte) that begin a well-formed UTF-8 sequence,
 * by Unicode 15's Table 3-7 (no overlongs, no surrogates, nothing past
 * U+10FFFF): 0 when s[0] leads none, else 1..*need, *need the length its lead
 * byte announces (0 when none). All *need of them: a valid character.
 */
static size_t utf8_walk(const char *s, const char *end, size_t *need)
{
	unsigned c = (unsigned char)s[0], lo = 0x80, hi = 0xbf;
	size_t i = 1;

	if (c >= 0xc2 && c <= 0xdf)
		*need = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		*need = 3;
		if (c == 0xe0)
			lo = 0xa0; /* no overlongs */
		else if (c == 0xed)
			hi = 0x9f; /* no surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		*need = 4;
		if (c == 0xf0)
			lo = 0x90; /* no overlongs */
		else if (c == 0xf4)
			hi = 0x8f; /* nothing past U+10FFFF */
	} else {
		*need = 0;
		return 0;
	}
	for (; i < *need && s + i < end; i++) {
		unsigned b = (unsigned char)s[i];
		if (b < lo || b > hi)
			break;
		lo = 0x80;
		hi = 0xbf;
	}
	return i;
}

/* Length of the valid UTF-8 sequence at s (a non-ASCII lead byte), or 0. */
static size_t utf8_seq(const char *s, const char *end)
{
	size_t need, n = utf8_walk(s, end, &need);

	return need && n == need ? n : 0;
}

int utf8_valid(const char *buf, size_t len)
{
	const char *s = buf, *end = buf + len;

	while (s < end) {
		/* ASCII fast path, eight bytes at a time. */
		while (end - s >= 8) {
			uint64_t w;
			memcpy(&w, s, 8);
			if (w & 0x8080808080808080ULL)
				break;
			s += 8;
		}
		if (s >= end)
			break;
		if (!((unsigned char)*s & 0x80)) {
			s++;
			continue;
		}
		size_t n = utf8_seq(s, end);
		if (!n)
			return 0;
		s += n;
	}
	return 1;
}

/* A copy of a JSON text without what nests deeper than keep levels. */
struct shallow {
	int keep;
	const char *from; /* input not copied yet starts here; NULL while skipping */
	char *out;
	size_t len;
};

static void shallow_copy(struct shallow *sh, const char *upto)
{
	if (sh->from) {
		memcpy(sh->out + sh->len, sh->from, (size_t)(upto - sh->from));
		sh->len += (size_t)(upto - sh->from);
	}
	sh->from = NULL;
}

/*
 * Length of the maximal subpart at s, a byte that does not start valid UTF-8:
 * the longest start of a well-formed sequence there, at least the one byte
 * (Unicode 15, 3.9, "U+FFFD Substitution of Maximal Subparts", the practice
 * of the WHATWG decoder and of Python's 'replace'). A character cut short
 * (e2 82) is one bad unit, as is a lone lead or continuation byte; an
 * overlong (c0 af) or a surrogate (ed a0 80) is one a byte.
 */
static size_t utf8_subpart(const char *s, const char *end)
{
	size_t need, n = utf8_walk(s, end, &need);

	return n && n < need ? n : 1; /* n == need: valid after all; the caller asked utf8_seq first */
}

char *utf8_replace(const char *s, size_t len, size_t *outlen)
{
	char *out = xmalloc(len * 3 + 1);
	size_t o = 0;

	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		size_t n = c < 0x80 ? (c != 0) : utf8_seq(s + i, s + len);
		if (n) {
			memcpy(out + o, s + i, n);
			o += n;
			i += n;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i += c ? utf8_subpart(s + i, s + len) : 1;
		}
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

char *utf8_said(const char *s)
{
	size_t len = strlen(s), o = 0;
	char *out = xmalloc(4 * len + 1);

	for (size_t i = 0; i < len;) {
		size_t n = (unsigned char)s[i] < 0x80 ? 1 : utf8_seq(s + i, s + len);
		if (n) {
			memcpy(out + o, s + i, n);
			o += n;
			i += n;
		} else {
			o += (size_t)sprintf(out + o, "\\x%02x", (unsigned char)s[i]);
			i++;
		}
	}
	out[o] = '\0';
	return out;
}

void utf8_repair(char *s)
{
	size_t len = strlen(s), o = 0;

	for (size_t i = 0; i < len;) {
		size_t n = (unsigned char)s[i] < 0x80 ? 1 : utf8_seq(s + i, s + len);
		if (n) {
			memmove(s + o, s + i, n);
			o += n;
			i += n;
		} else {
			i += utf8_subpart(s + i, s + len); /* before the '?' may overwrite s[i] */
			s[o++] = '?';
		}
	}
	s[o] = '\0';
}

/*
 * RFC 8259 grammar check, iterative and without allocation. json-c's strict
 * mode still takes single quotes, some bad escapes and numbers, and raw
 * control characters; this pass refuses them before json-c builds anything.
 * Returns the 0-based offset of the first bad byte, or -1 when the text is
 * one valid value (surrounded by whitespace only).
 */
static long grammar_error(const char *buf, size_t len, const char **why, struct shallow *sh,
			  struct members *mm, int *deepest, int *key_nul, long *nunits, int limit)
{
	const char *s = buf, *end = buf + len;
	char stack[JSON_MAX_DEPTH + 1];
	int depth = 0, deep = 0, nul = 0;
	long units = 0, held = 0; /* the tree's units (JSON_MAX_UNITS); of what a tree will hold */
	enum { VALUE, VALUE_OR_CLOSE, KEY, KEY_OR_CLOSE, AFTER } want = VALUE;
	struct member *cur = NULL; /* the top-level member being read */

#define FAIL(msg) do { *why = (msg); return (long)(s - buf); } while (0)
/* depth is back at the top-level object's members: s is past the value that ended */
#define MEMBER_END() do { if (cur && depth == 1) { cur->end = (size_t)(s - buf); cur = NULL; } } while (0)
	for (;;) {
		while (s < end && is_ws(*s))
			s++;
		if (s == end) {
			if (want == AFTER && depth == 0) {
				if (sh)
					shallow_copy(sh, end);
				*deepest = deep;
				*key_nul = nul;
				*nunits = units;
				return -1;
			}
			FAIL("unexpected end of line");
		}
		char c = *s;
		switch (want) {
		case KEY_OR_CLOSE:
			if (c == '}') {
				depth--;
				if (sh && depth == sh->keep)
					sh->from = s; /* the closing bracket is copied again */
				s++;
				MEMBER_END();
				want = AFTER;
				continue;
			}
			/* fall through */
		case KEY:
			if (c != '"')
				FAIL("expected a string key");
			break;
		case VALUE_OR_CLOSE:
			if (c == ']') {
				depth--;
				if (sh && depth == sh->keep)
					sh->from = s; /* the closing bracket is copied again */
				s++;
				MEMBER_END();
				want = AFTER;
				continue;
			}
			/* fall through */
		case VALUE:
			break;
		case AFTER:
			if (depth == 0)
				FAIL("trailing data after the value");
			if (c == ',') {
				s++;
				want = stack[depth - 1] == '{' ? KEY : VALUE;
				continue;
			}
			if (c == (stack[depth - 1] == '{' ? '}' : ']')) {
				depth--;
				if (sh && depth == sh->keep)
					sh->from = s; /* the closing bracket is copied again */
				s++;
				MEMBER_END();
				continue;
			}
			FAIL(stack[depth - 1] == '{' ? "expected ',' or '}'" : "expected ',' or ']'");
		}
		/* A value (or, in KEY states, a string key) starts at s: its units
		 * counted. Those of what a tree will hold (not below a shallow
		 * parse's kept levels: an array of events' elements are built one
		 * by one) are limited; all are counted, for a payload built whole
		 * later, or by the next program */
		if (want == VALUE || want == VALUE_OR_CLOSE) {
			long u = c == '{' ? JSON_UNITS_OBJECT : c == '[' ? JSON_UNITS_ARRAY : 1;
			if (depth > 0 && stack[depth - 1] == '{')
				u += JSON_UNITS_MEMBER;
			units += u;
			if ((!sh || depth <= sh->keep) && (held += u) > JSON_MAX_UNITS && limit)
				FAIL("too large");
		}
		if (mm && depth == 1 && stack[0] == '{') {
			if (want == VALUE) {
				cur = &mm->m[mm->n - 1];
				cur->value = (size_t)(s - buf);
			} else if (mm->n == MEMBERS_MAX) {
				mm->overflow = 1; /* too many to keep: jmember_span and jdrop_members decline */
				mm = NULL;
			} else {
				if (mm->n == mm->cap) {
					mm->cap = mm->cap ? 2 * mm->cap : 64;
					mm->m = xrealloc(mm->m, (size_t)mm->cap * sizeof *mm->m);
				}
				mm->m[mm->n].start = (size_t)(s - buf);
				mm->m[mm->n].key = (size_t)(s - buf) + 1;
				mm->m[mm->n].escaped = 0;
				mm->n++;
			}
		}
		if (c == '{' || c == '[') {
			if (depth == JSON_MAX_DEPTH)
				FAIL("too deep");
			stack[depth++] = c;
			if (depth > deep)
				deep = depth;
			if (sh && depth == sh->keep + 1)
				shallow_copy(sh, s + 1); /* keep the bracket, drop what it holds */
			s++;
			want = c == '{' ? KEY_OR_CLOSE : VALUE_OR_CLOSE;
			continue;
		}
		int is_key = want == KEY || want == KEY_OR_CLOSE;
		if (c == '"') {
			for (s++;; s++) {
				/* Long runs eight bytes at a time, short ones by table. */
				while (end - s >= 8) {
					uint64_t w;
					memcpy(&w, s, 8);
					if (!plain8(w))
						break;
					s += 8;
				}
				while (s < end && !str_special[(unsigned char)*s])
					s++;
				if (s == end)
					FAIL("unterminated string");
				unsigned char u = (unsigned char)*s;
				if (u == '"')
					break;
				if (u < 0x20)
					FAIL("control character in string");
				if (u >= 0x80) {
					size_t n = utf8_seq(s, end);
					if (!n) {
						*why = "invalid UTF-8";
						return (long)(s - buf);
					}
					s += n - 1;
					continue;
				}
				if (u == '\\') {
					if (mm && depth == 1 && is_key)
						mm->m[mm->n - 1].escaped = 1;
					s++;
					if (s == end)
						FAIL("unterminated string");
					if (*s == 'u') {
						for (int i = 1; i <= 4; i++)
							if (s + i >= end || !isxdigit((unsigned char)s[i]))
								FAIL("bad \\u escape");
						if (is_key && memcmp(s + 1, "0000", 4) == 0) {
							nul = 1;
							if (mm && depth == 1)
								mm->nul = 1;
						}
						s += 4;
					} else if (!strchr("\"\\/bfnrt", *s) || !*s) {
						FAIL("bad escape");
					}
				}
			}
			s++;
			if (is_key) {
				if (mm && depth == 1)
					mm->m[mm->n - 1].klen = (size_t)(s - buf) - 1 - mm->m[mm->n - 1].key;
				while (s < end && is_ws(*s))
					s++;
				if (s == end || *s != ':')
					FAIL("expected ':'");
				s++;
				want = VALUE;
				continue;
			}
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			if (*s == '-')
				s++;
			if (s < end && *s == '0')
				s++;
			else if (s < end && *s >= '1' && *s <= '9')
				while (s < end && is_digit(*s))
					s++;
			else
				FAIL("bad number");
			if (s < end && *s == '.') {
				s++;
				if (s == end || !is_digit(*s))
					FAIL("bad number");
				while (s < end && is_digit(*s))
					s++;
			}
			if (s < end && (*s == 'e' || *s == 'E')) {
				s++;
				if (s < end && (*s == '+' || *s == '-'))
					s++;
				if (s == end || !is_digit(*s))
					FAIL("bad number");
				while (s < end && is_digit(*s))
					s++;
			}
		} else if (end - s >= 4 && memcmp(s, "true", 4) == 0) {
			s += 4;
		} else if (end - s >= 5 && memcmp(s, "false", 5) == 0) {
			s += 5;
		} else if (end - s >= 4 && memcmp(s, "null", 4) == 0) {
			s += 4;
		} else {
			FAIL("unexpected character");
		}
		MEMBER_END();
		want = AFTER;
	}
#undef MEMBER_END
#undef FAIL
}

/* The grammar pass with its verdict as a reject code; 0 when the text is valid.
 * *at (when not NULL) the error's byte offset; a message's column counts from
 * byte col_from (the start of the error's line). */
static int validate_at(const char *buf, size_t len, struct shallow *sh, struct members *mm,
		       int *deepest, int *key_nul, long *nunits, int limit, enum reject_code *code, char *msg,
		       size_t msgsz, long *at, size_t col_from)
{
	if (mm) {
		mm->n = mm->usable = mm->nul = mm->overflow = 0;
		mm->len = len;
	}
	const char *nul = memchr(buf, '\0', len);
	if (nul) {
		*code = REJ_NUL_BYTE;
		if (at)
			*at = nul - buf;
		snprintf(msg, msgsz, "NUL byte at column %zu", (size_t)(nul - buf) - col_from + 1);
		return -1;
	}
	size_t lead = 0;
	while (lead < len && is_ws(buf[lead]))
		lead++;
	if (lead == len) {
		*code = REJ_INVALID_JSON;
		if (at)
			*at = 0;
		snprintf(msg, msgsz, "empty line");
		return -1;
	}
	const char *why;
	long bad = grammar_error(buf, len, &why, sh, mm, deepest, key_nul, nunits, limit);
	if (at)
		*at = bad;
	/* UTF-8 is checked inside strings as they are scanned; a stray non-ASCII
	 * byte elsewhere says invalid UTF-8 too when it is not even that. */
	if (bad >= 0 && (strcmp(why, "invalid UTF-8") == 0 ||
			 ((size_t)bad < len && (unsigned char)buf[bad] >= 0x80 && !utf8_valid(buf, len)))) {
		*code = REJ_INVALID_UTF8;
		snprintf(msg, msgsz, "invalid UTF-8 at column %ld", bad - (long)col_from + 1);
		return -1;
	}
	if (bad >= 0) {
		*code = strcmp(why, "too deep") == 0		? REJ_TOO_DEEP
			: strcmp(why, "too large") == 0 ? REJ_TOO_MANY_VALUES
							       : REJ_INVALID_JSON;
		if (*code == REJ_TOO_DEEP)
			snprintf(msg, msgsz, "JSON nested deeper than %d levels", JSON_MAX_DEPTH);
		else if (*code == REJ_TOO_MANY_VALUES)
			snprintf(msg, msgsz, "JSON too large to build in memory (its tree over %d units: an object %d, "
				 "a member %d more, an array %d, any other value 1)", JSON_MAX_UNITS, JSON_UNITS_OBJECT,
				 JSON_UNITS_MEMBER, JSON_UNITS_ARRAY);
		else
			snprintf(msg, msgsz, "invalid JSON at column %ld: %s", bad - (long)col_from + 1, why);
		return -1;
	}
	if (mm)
		mm->usable = buf[lead] == '{' && !mm->nul && !mm->overflow;
	return 0;
}

/* The check before a tree is built: its units limited (JSON_MAX_UNITS). */
static int validate(const char *buf, size_t len, struct shallow *sh, struct members *mm,
		    int *deepest, int *key_nul, long *nunits, enum reject_code *code, char *msg, size_t msgsz)
{
	return validate_at(buf, len, sh, mm, deepest, key_nul, nunits, 1, code, msg, msgsz, NULL, 0);
}

int jvalidate_text(const char *buf, size_t len, long *line_off, enum reject_code *code, char *msg, size_t msgsz)
{
	int deepest, key_nul;
	long at = -1, lines = 0, units;
	size_t from = 0;

	/* the grammar alone: a tree is built of its parts, each checked then */
	if (validate_at(buf, len, NULL, NULL, &deepest, &key_nul, &units, 0, code, msg, msgsz, &at, 0) == 0)
		return 0;
	for (size_t k = 0; at > 0 && k < (size_t)at && k < len; k++)
		if (buf[k] == '\n') {
			lines++;
			from = k + 1;
		}
	*line_off = lines;
	if (from) /* said again, its column counted on its own line */
		validate_at(buf, len, NULL, NULL, &deepest, &key_nul, &units, 0, code, msg, msgsz, &at, from);
	return -1;
}

/* json-c builds a text already known to be valid. A bare scalar needs its end said. */
static json_object *build(struct jparser *p, const char *buf, size_t len, enum reject_code *code,
			  char *msg, size_t msgsz)
{
	json_tokener_reset(p->tok);
	json_object *o = json_tokener_parse_ex(p->tok, buf, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(p->tok);
	if (jerr == json_tokener_continue) {
		o = json_tokener_parse_ex(p->tok, "", 1);
		jerr = json_tokener_get_error(p->tok);
	}
	if (jerr != json_tokener_success) {
		json_object_put(o);
		*code = REJ_INVALID_JSON;
		snprintf(msg, msgsz, "invalid JSON: %s", json_tokener_error_desc(jerr));
		return NULL;
	}
	if (!o) {
		*code = REJ_NOT_OBJECT;
		snprintf(msg, msgsz, "the value is null");
	}
	return o;
}

json_object *jparse(struct jparser *p, const char *buf, size_t len, enum reject_code *code,
		    char *msg, size_t msgsz)
{
	if (validate(buf, len, NULL, p->track ? &p->top : NULL, &p->depth, &p->key_nul, &p->units, code, msg,
		     msgsz) < 0)
		return NULL;
	return build(p, buf, len, code, msg, msgsz);
}

json_object *jparse_shallow(struct jparser *p, const char *buf, size_t len, int keep,
			    enum reject_code *code, char *msg, size_t msgsz)
{
	if (p->cap < len + 1) {
		p->cap = len + 1;
		p->shallow = xrealloc(p->shallow, p->cap);
	}
	struct shallow sh = { keep, buf, p->shallow, 0 };
	if (validate(buf, len, &sh, p->track ? &p->top : NULL, &p->depth, &p->key_nul, &p->units, code, msg,
		     msgsz) < 0)
		return NULL;
	return build(p, sh.out, sh.len, code, msg, msgsz);
}

/* The first byte at or after i that is a quote or a backslash (inside a string
 * nothing else matters to json_value_end), skipping plain words eight bytes at
 * a time as validate does. */
static inline size_t to_quote_or_bslash(const char *t, size_t i, size_t len)
{
	while (i < len) {
		if (i + 8 <= len) {
			uint64_t w;
			memcpy(&w, t + i, 8);
			if (plain8(w)) {
				i += 8;
				continue;
			}
		}
		if (t[i] == '"' || t[i] == '\\')
			return i;
		i++;
	}
	return len;
}

size_t jsqueeze(char *buf, size_t len)
{
	size_t o = 0;
	int in_str = 0, esc = 0;

	for (size_t i = 0; i < len; i++) {
		char c = buf[i];
		if (in_str) {
			if (esc)
				esc = 0;
			else if (c == '\\')
				esc = 1;
			else if (c == '"')
				in_str = 0;
		} else if (is_ws(c)) {
			continue;
		} else if (c == '"') {
			in_str = 1;
		}
		buf[o++] = c;
	}
	buf[o] = '\0';
	return o;
}

enum json_text json_text_state(const char *buf, size_t len)
{
	const char *why;
	int deepest, key_nul;
	long units;
	long bad = grammar_error(buf, len, &why, NULL, NULL, &deepest, &key_nul, &units, 0);

	if (bad < 0)
		return JSON_WHOLE;
	return (size_t)bad == len && strcmp(why, "unexpected end of line") == 0 ? JSON_GOES_ON : JSON_BAD;
}

size_t json_value_end(const char *text, size_t len)
{
	int depth = 0, in_str = 0;

	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"' && (in_str = 0, depth == 0))
				return i + 1;
			else if (c != '"')
				i = to_quote_or_bslash(text, i + 1, len) - 1;
		} else if (c == '"') {
			in_str = 1;
		} else if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (depth == 0)
				return i; /* the end of a scalar inside a container */
			if (--depth == 0)
				return i + 1;
		} else if (depth == 0 && (c == ',' || is_ws(c))) {
			return i;
		}
	}
	return len;
}

static unsigned hex4(const char *h)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++)
		v = v * 16 + (unsigned)(h[i] <= '9' ? h[i] - '0' : (h[i] | 0x20) - 'a' + 10);
	return v;
}

/* 1 when the key text t[0..n) (valid JSON string content, with escapes) reads
 * as key (UTF-8 without NUL), as json-c reads it: a pair of surrogates is one
 * character, a lone one U+FFFD (which PostgreSQL refuses); one holding U+0000
 * is never a C string's. */
static int escaped_key_is(const char *t, size_t n, const char *key)
{
	const unsigned char *k = (const unsigned char *)key;

	for (size_t i = 0; i < n;) {
		if (t[i] != '\\') {
			if (*k++ != (unsigned char)t[i++])
				return 0;
			continue;
		}
		unsigned cp;
		char c = t[i + 1];
		if (c != 'u') {
			static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
			cp = (unsigned char)to[strchr(from, c) - from];
			i += 2;
		} else {
			cp = hex4(t + i + 2);
			i += 6;
			if (cp >= 0xd800 && cp < 0xdc00 && i + 6 <= n && t[i] == '\\' && t[i + 1] == 'u') {
				unsigned lo = hex4(t + i + 2);
				if (lo >= 0xdc00 && lo < 0xe000) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					i += 6;
				}
			}
			if (cp >= 0xd800 && cp < 0xe000)
				cp = 0xfffd;
		}
		if (cp == 0)
			return 0;
		unsigned char u[4];
		size_t ul = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
		if (ul == 1)
			u[0] = (unsigned char)cp;
		else {
			for (size_t b = ul - 1; b > 0; b--, cp >>= 6)
				u[b] = (unsigned char)(0x80 | (cp & 0x3f));
			u[0] = (unsigned char)((0xf0 << (4 - ul)) | cp);
		}
		for (size_t b = 0; b < ul; b++)
			if (*k++ != u[b])
				return 0;
	}
	return *k == '\0';
}

static int member_is(const char *text, const struct member *m, const char *key)
{
	if (m->escaped)
		return escaped_key_is(text + m->key, m->klen, key);
	return strlen(key) == m->klen && memcmp(text + m->key, key, m->klen) == 0;
}

int jmember_span(const struct jparser *p, const char *text, size_t len, const char *key, size_t *off,
		 size_t *vlen)
{
	const struct members *mm = &p->top;

	if (!mm->usable || mm->len != len)
		return 0;
	/* The last one wins, as json-c and PostgreSQL read duplicate keys. */
	for (int i = mm->n - 1; i >= 0; i--)
		if (member_is(text, &mm->m[i], key)) {
			*off = mm->m[i].value;
			*vlen = mm->m[i].end - mm->m[i].value;
			return 1;
		}
	return 0;
}

size_t jdrop_members(const struct jparser *p, const char *text, size_t len, const char *const *keys,
		     int nkeys, char *out)
{
	const struct members *mm = &p->top;
	size_t n = 0;

	if (!mm->usable || mm->len != len)
		return (size_t)-1;
	out[n++] = '{';
	for (int i = 0; i < mm->n; i++) {
		const struct member *m = &mm->m[i];
		int drop = 0;
		for (int k = 0; k < nkeys && !drop; k++)
			drop = member_is(text, m, keys[k]);
		if (!drop) {
			if (n > 1)
				out[n++] = ',';
			memcpy(out + n, text + m->start, m->end - m->start);
			n += m->end - m->start;
		}
	}
	out[n++] = '}';
	return n;
}

int jdel_members(json_object *o, int (*drop)(const char *key, json_object *val, void *ctx), void *ctx)
{
	for (int n = 0;; n++) {
		char *victim = NULL;
		json_object_object_foreach(o, key, val) {
			if (drop(key, val, ctx)) {
				victim = xstrdup(key);
				break;
			}
		}
		if (!victim)
			return n;
		json_object_object_del(o, victim);
		free(victim);
	}
}

json_object *jpath(json_object *root, const char *path)
{
	return jpath_esc(root, path, '\0');
}

json_object *jpath_esc(json_object *root, const char *path, char dot)
{
	char seg[128];
	json_object *cur = root;

	while (cur && *path) {
		size_t n = strcspn(path, ".");
		if (n >= sizeof seg)
			return NULL;
		memcpy(seg, path, n);
		seg[n] = '\0';
		for (char *p = dot ? seg : NULL; p && (p = strchr(p, dot)); p++)
			*p = '.';
		path += n + (path[n] == '.');
		if (json_object_is_type(cur, json_type_object)) {
			if (!json_object_object_get_ex(cur, seg, &cur))
				return NULL;
		} else if (json_object_is_type(cur, json_type_array)) {
			char *end;
			errno = 0;
			/* an index is plain digits: not " 1", "+1" nor "01" */
			if (!isdigit((unsigned char)seg[0]) || (seg[0] == '0' && seg[1]))
				return NULL;
			unsigned long i = strtoul(seg, &end, 10);
			if (*end || errno || i >= json_object_array_length(cur))
				return NULL;
			cur = json_object_array_get_idx(cur, i);
		} else {
			return NULL;
		}
	}
	return cur;
}

const char *jstr(json_object *root, const char *path)
{
	json_object *o = jpath(root, path);
	return json_object_is_type(o, json_type_string) ? json_object_get_string(o) : NULL;
}

void jerr_set(struct jerr *e, const char *fmt, ...)
{
	va_list ap;

	if (e->failed)
		return;
	e->failed = 1;
	va_start(ap, fmt);
	vsnprintf(e->reason, sizeof e->reason, fmt, ap);
	va_end(ap);
}

const char *jtype_name(json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_null: return "null";
	case json_type_boolean: return "boolean";
	case json_type_double: return "number";
	case json_type_int: return "integer";
	case json_type_object: return "object";
	case json_type_array: return "array";
	case json_type_string: return "string";
	}
	return "unknown";
}

/* The value at path, or NULL (recording a missing required field). */
static json_object *field(json_object *root, const char *path, int required, struct jerr *e)
{
	json_object *o = jpath(root, path);
	if (!o && required)
		jerr_set(e, "missing field '%s'", path);
	return o;
}

static int wrong_type(json_object *o, const char *path, const char *want, struct jerr *e)
{
	jerr_set(e, "field '%s' must be %s, got %s", path, want, jtype_name(o));
	return 0;
}

int jstr_has_nul(json_object *o)
{
	return json_object_is_type(o, json_type_string) &&
	       strlen(json_object_get_string(o)) != (size_t)json_object_get_string_len(o);
}

int jint_clamped(json_object *o)
{
	return json_object_is_type(o, json_type_int) &&
	       (json_object_get_int64(o) == INT64_MIN || json_object_get_uint64(o) == UINT64_MAX);
}

int jstr_has_fffd(json_object *o)
{
	return json_object_is_type(o, json_type_string) &&
	       memmem(json_object_get_string(o), (size_t)json_object_get_string_len(o), "\xEF\xBF\xBD", 3);
}

/* The size of the blank text_blank counts that starts at p (left bytes on),
 * 0 when none does. */
static size_t blank_len(const unsigned char *p, size_t left)
{
	if (*p == ' ' || (*p >= '\t' && *p <= '\r'))
		return 1;
	if (left >= 2 && p[0] == 0xc2 && p[1] == 0xa0)
		return 2;
	if (left >= 3 && ((p[0] == 0xe1 && p[1] == 0x9a && p[2] == 0x80) || /* U+1680 */
			  (p[0] == 0xe1 && p[1] == 0xa0 && p[2] == 0x8e) || /* U+180E */
			  (p[0] == 0xe2 && p[1] == 0x80 && (p[2] <= 0x8b || p[2] == 0xa8 || p[2] == 0xa9 || p[2] == 0xaf)) ||
			  (p[0] == 0xe2 && p[1] == 0x81 && (p[2] == 0x9f || p[2] == 0xa0)) ||
			  (p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80) || /* U+3000 */
			  (p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)))   /* U+FEFF */
		return 3;
	return 0;
}

int text_blank(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t k;

	while (n > 0) {
		if (!(k = blank_len(p, n)))
			return 0;
		p += k;
		n -= k;
	}
	return 1;
}

const char *text_trim(const char *s, size_t *len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), k;

	while (n > 0 && (k = blank_len(p, n))) {
		p += k;
		n -= k;
	}
	/* from the end: UTF-8 tells a character that ends there by its lead byte */
	for (;;) {
		if (n >= 1 && blank_len(p + n - 1, 1) == 1)
			n -= 1;
		else if (n >= 2 && blank_len(p + n - 2, 2) == 2)
			n -= 2;
		else if (n >= 3 && blank_len(p + n - 3, 3) == 3)
			n -= 3;
		else
			break;
	}
	*len = n;
	return (const char *)p;
}

/* A string the getters hand out as a C string must not hold U+0000: the C
 * string would end there, and a cut id could name another event. */
static int nul_inside(json_object *o, const char *path, struct jerr *e)
{
	if (!jstr_has_nul(o))
		return 0;
	jerr_set(e, "field '%s' contains U+0000", path);
	return 1;
}

/* An id must also not hold U+FFFD (jstr_has_fffd): nor may it be cut short. */
static int not_an_id(json_object *o, const char *path, struct jerr *e)
{
	if (nul_inside(o, path, e))
		return 1;
	if (!jstr_has_fffd(o))
		return 0;
	jerr_set(e, "field '%s' contains U+FFFD (a lone UTF-16 surrogate?): not an id", path);
	return 1;
}

int jget_str(json_object *root, const char *path, int required, const char **out, struct jerr *e)
{
	json_object *o = field(root, path, required, e);
	*out = NULL;
	if (!o)
		return 0;
	if (!json_object_is_type(o, json_type_string))
		return wrong_type(o, path, "a string", e);
	if (nul_inside(o, path, e))
		return 0;
	*out = json_object_get_string(o);
	if (required && !**out) {
		jerr_set(e, "field '%s' is empty", path);
		return 0;
	}
	return 1;
}

int jget_int(json_object *root, const char *path, int required, int64_t *out, struct jerr *e)
{
	json_object *o = field(root, path, required, e);
	if (!o)
		return 0;
	if (!json_object_is_type(o, json_type_int))
		return wrong_type(o, path, "an integer", e);
	int64_t v = json_object_get_int64(o);
	/* json-c clamps integers beyond 64 bits to the limits instead of failing. */
	if (v == INT64_MAX || v == INT64_MIN) {
		jerr_set(e, "field '%s' is out of range", path);
		return 0;
	}
	*out = v;
	return 1;
}

int jget_bool(json_object *root, const char *path, int required, int *out, struct jerr *e)
{
	json_object *o = field(root, path, required, e);
	if (!o)
		return 0;
	if (!json_object_is_type(o, json_type_boolean))
		return wrong_type(o, path, "a boolean", e);
	*out = json_object_get_boolean(o);
	return 1;
}

int jget_id(json_object *root, const char *path, int required, const char **out, struct jerr *e)
{
	json_object *o = field(root, path, required, e);
	*out = NULL;
	if (!o)
		return 0;
	if (json_object_is_type(o, json_type_object)) {
		json_object *id;
		if (json_object_object_get_ex(o, "id", &id) && json_object_is_type(id, json_type_string)) {
			char sub[160];
			snprintf(sub, sizeof sub, "%s.id", path);
			if (not_an_id(id, sub, e))
				return 0;
			*out = json_object_get_string(id);
			return 1;
		}
		jerr_set(e, "field '%s.id' must be a string", path);
		return 0;
	}
	if (!json_object_is_type(o, json_type_string))
		return wrong_type(o, path, "an id string or object", e);
	if (not_an_id(o, path, e))
		return 0;
	*out = json_object_get_string(o);
	if (required && !**out) {
		jerr_set(e, "field '%s' is empty", path);
		return 0;
	}
	return 1;
}

const char *find_u_escape(const char *text, size_t len)
{
	const char *p = text, *end = text + len;

	while ((p = memchr(p, '\\', (size_t)(end - p)))) {
		if (p + 1 < end && p[1] == 'u')
			return p;
		p += 2; /* the escaped character is not the start of another escape */
		if (p >= end)
			return NULL;
	}
	return NULL;
}

int json_lone_surrogate(const char *text, size_t len)
{
	const char *p = text, *end = text + len;

	while ((p = find_u_escape(p, (size_t)(end - p)))) {
		if (end - p < 6)
			return 0; /* not valid JSON: not this function's to say */
		unsigned cp = hex4(p + 2);
		p += 6;
		if (cp >= 0xdc00 && cp < 0xe000)
			return 1; /* a low one first */
		if (cp >= 0xd800 && cp < 0xdc00) {
			if (end - p < 6 || p[0] != '\\' || p[1] != 'u')
				return 1;
			unsigned lo = hex4(p + 2);
			if (lo < 0xdc00 || lo >= 0xe000)
				return 1;
			p += 6;
		}
	}
	return 0;
}

void json_cr_to_space(char *text, size_t len)
{
	for (char *p = text, *end = text + len; (p = memchr(p, '\r', (size_t)(end - p))); p++)
		*p = ' ';
}

const char *utf8_clip(const char *s, char *buf, size_t n)
{
	size_t len = strlen(s);

	if (len >= n) {
		len = n - 1;
		while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
			len--;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	return buf;
}
