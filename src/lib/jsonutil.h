/*
 * jsonutil.h: strict JSON parsing of one line and typed getters over json-c.
 *
 * Ownership, as in json-c: jparse() returns a new reference the caller puts;
 * jpath() and the getters borrow, so what they return lives as long as the
 * root object.
 */
#ifndef RO_JSONUTIL_H
#define RO_JSONUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "diag.h"

#define JSON_MAX_DEPTH 64 /* real provider payloads nest under 12 */
/* The tree json-c builds of a line, in units of about 50 bytes (JSON_UNITS):
 * at most 50 MB (8 MB of "1," took 590 MB, 300 KB of "{}" 80 MB); real
 * payloads take a few thousand (the largest fixture 2 400) */
#define JSON_MAX_UNITS 1000000
/* what json-c spends, measured (json-c 0.16, x86-64): an object about 800
 * bytes, a member of one 400 more (its key, its hash entry), an array 130, a
 * value in an array 50 */
#define JSON_UNITS_OBJECT 16
#define JSON_UNITS_MEMBER 8
#define JSON_UNITS_ARRAY 3
/* A payload's: its envelope holds it and a few members more, and must be
 * readable by the next program */
#define PAYLOAD_MAX_UNITS (JSON_MAX_UNITS - 1000)
/* what fetch-events and normalize say of a payload over it (its limit the %d) */
#define PAYLOAD_TOO_LARGE_MSG \
	"JSON too large to build in memory (a payload: its tree over %d units, which its envelope holds and more)"
/* A provider's payload: its envelope (docs/events.md) nests it one level down,
 * and the envelope must be readable by the next program. */
#define PAYLOAD_MAX_DEPTH (JSON_MAX_DEPTH - 1)

struct jparser;

struct jparser *jparser_new(void);
void jparser_free(struct jparser *p);
/* How deep the last text p accepted nests: 1 for {} or [], 0 for a scalar. */
int jparser_depth(const struct jparser *p);
/* The units (JSON_MAX_UNITS) of the tree of the last text accepted, at every
 * depth (also below a shallow parse's kept levels). */
long jparser_units(const struct jparser *p);
/* 1 when a member name of the last text p accepted holds the escape \u0000
 * (valid JSON). json-c keeps names as C strings, cut there, so "a\u0000b" and
 * "a\u0000c" would both read as "a": whoever cannot keep them apart refuses
 * the line (NUL_KEY_MSG). */
int jparser_key_nul(const struct jparser *p);

/*
 * Parse buf[0..len) as exactly one RFC 8259 JSON value: invalid UTF-8, NUL
 * bytes, trailing garbage, too-deep nesting and json-c's lax extensions are
 * refused. On failure returns NULL, sets *code and writes a message. The
 * valid text `null` also returns NULL, with REJ_NOT_OBJECT ("the value is null").
 */
json_object *jparse(struct jparser *p, const char *buf, size_t len, enum reject_code *code,
		    char *msg, size_t msgsz);

/*
 * Validate like jparse(), but build only the first keep levels: deeper
 * objects and arrays come back empty. For a program that needs a few
 * top-level fields of a large payload (fetch-events): the whole text is still
 * checked, only json-c's work is saved.
 */
json_object *jparse_shallow(struct jparser *p, const char *buf, size_t len, int keep,
			    enum reject_code *code, char *msg, size_t msgsz);

/* 1 when buf[0..len) is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
int utf8_valid(const char *buf, size_t len);

/* A new NUL-terminated copy of s[0..len) in which each NUL, and each maximal
 * subpart of what is not valid UTF-8 (a lone byte, or the start of a
 * character cut short: e2 82), is U+FFFD; *outlen its length. */
char *utf8_replace(const char *s, size_t len, size_t *outlen);
/* Replace each maximal subpart of s that is not valid UTF-8 with one '?', in
 * place (clipped messages: text that must stay valid JSON). */
void utf8_repair(char *s);
/* s (a file's name) as UTF-8 text, each byte of it that is not UTF-8 written
 * \xNN (as stderr writes a control character): distinct names stay distinct,
 * and the name can be found again. Malloc'd. */
char *utf8_said(const char *s);
/* At most n - 1 bytes of s (valid UTF-8) into buf, never cutting a character:
 * text quoted in a message stays valid UTF-8. Returns buf. */
const char *utf8_clip(const char *s, char *buf, size_t n);

/* Remove whitespace outside strings, in place: a multi-line document (or a
 * pretty body) on one line, its other bytes kept. Returns the new length;
 * buf[len] is then a NUL. Only for a text already valid (jvalidate_text):
 * squeezed, "1 2" would be 12 and "tr ue" true. */
size_t jsqueeze(char *buf, size_t len);

/* Check buf[0..len), a text over several lines (a document as written), as
 * jparse() would: 0 when valid; else -1, *line_off the lines before the
 * error's, *code and msg as jparse() says them, its column counted on the
 * error's own line. */
int jvalidate_text(const char *buf, size_t len, long *line_off, enum reject_code *code, char *msg, size_t msgsz);

/*
 * What the grammar makes of buf[0..len): JSON_WHOLE one valid value (whitespace
 * around it); JSON_GOES_ON valid as far as it goes, ending between tokens before
 * its value does ("{\"id\": 1," or "[{}, "): more text can complete it;
 * JSON_BAD anything else, a string or a word cut short among it. For telling a
 * document's first line from a line cut short.
 */
enum json_text { JSON_WHOLE, JSON_GOES_ON, JSON_BAD };
enum json_text json_text_state(const char *buf, size_t len);

/*
 * The length of the JSON value at the start of text: objects, arrays and
 * strings by bracket and quote counting, a scalar up to the next delimiter;
 * len when it does not end. It checks nothing: jparse() says if it is valid.
 */
size_t json_value_end(const char *text, size_t len);

/*
 * The top-level members of the text the last jparse() or jparse_shallow() of
 * p took (pass that text again), found by the pass that checked it: no second
 * walk over the bytes. To pass members' bytes on without building and
 * re-writing them. The pass records them only for a parser that was asked
 * to (jparser_track_members): the others are not known.
 *
 * jmember_span: 1 and where the value of member key sits (its last copy, as
 * json-c and PostgreSQL read duplicate keys; a key written with escapes read
 * as they read it); 0 when no member is key, or when the members are not
 * known: not an object, a top-level key holding U+0000 (json-c cuts it there,
 * so it may be another copy of key), more than 4096 members. The caller
 * builds the object then.
 *
 * jdrop_members: write the object to out without its members named
 * keys[0..nkeys) (every copy of them), the others copied as they are, and
 * return the length written (at most len: out has room for len bytes);
 * (size_t)-1 when the members are not known.
 */
void jparser_track_members(struct jparser *p);
int jmember_span(const struct jparser *p, const char *text, size_t len, const char *key, size_t *off,
		 size_t *vlen);
size_t jdrop_members(const struct jparser *p, const char *text, size_t len, const char *const *keys,
		     int nkeys, char *out);

/* Follow a dotted path ("data.object.customer"); array indexes as numbers
 * ("items.data.0.price"). NULL when any step is absent or JSON null. */
json_object *jpath(json_object *root, const char *path);

/* Delete each member of o for which drop(key, value, ctx) says 1 (json-c
 * cannot delete while it iterates: one at a time); how many were deleted. */
int jdel_members(json_object *o, int (*drop)(const char *key, json_object *val, void *ctx), void *ctx);
/* jpath where the byte dot (not NUL) inside a segment stands for a '.' of the
 * key: to-csv's --columns 'metadata.plan\.name'. */
json_object *jpath_esc(json_object *root, const char *path, char dot);

/* Borrowed string at path, or NULL when absent, null or not a string. */
const char *jstr(json_object *root, const char *path);

/*
 * Field errors for connectors: the getters below record the first problem
 * ("missing field 'data.object.amount'", "field 'x' must be an integer,
 * got string") in a jerr and return 0; on success they return 1.
 */
struct jerr {
	int failed;
	char reason[256];
};
void jerr_set(struct jerr *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* required: 1 records a missing field as an error; 0 leaves *out NULL/unset and returns 0. */
int jget_str(json_object *root, const char *path, int required, const char **out, struct jerr *e);
int jget_int(json_object *root, const char *path, int required, int64_t *out, struct jerr *e);
int jget_bool(json_object *root, const char *path, int required, int *out, struct jerr *e);
/* A string id, or the "id" of an expanded object (Stripe's expandable fields). */
int jget_id(json_object *root, const char *path, int required, const char **out, struct jerr *e);
/* 1 when o is a string holding U+0000 (a \u0000 escape): as a C string it
 * would be cut short. The getters above refuse such a string. */
int jstr_has_nul(json_object *o);
/* 1 when o is an integer json-c clamped (the text held one beyond 64 bits:
 * INT64_MIN or UINT64_MAX stands for it, a number that was not sent). */
int jint_clamped(json_object *o);

/* The message of the invalid_field reject every program gives such a line. */
#define NUL_KEY_MSG "a key holds U+0000, at which the JSON library cuts it (two keys could read as one)"

/* A CR in valid JSON text is whitespace between tokens (one inside a string
 * is refused): each becomes a space, so that a line stays one line to readers
 * that also split at CR (Python's splitlines). In place. */
void json_cr_to_space(char *text, size_t len);

/* The first "\u" in text (a backslash, then u), or NULL: memchr for the
 * backslash, rare in JSON, where memmem would walk every byte. */
const char *find_u_escape(const char *text, size_t len);
/* 1 when valid JSON text holds an escaped lone UTF-16 surrogate ("\ud800" not
 * followed by a low one, or a low one first): json-c reads it as U+FFFD,
 * PostgreSQL's jsonb refuses it. */
int json_lone_surrogate(const char *text, size_t len);
/* 1 when o is a string holding U+FFFD. json-c reads an escaped lone UTF-16
 * surrogate (\ud800) as U+FFFD, so "evt_\ud800" and "evt_\udbff" would read
 * as one id: jget_id refuses it, and so do the connectors and load for ids. */
int jstr_has_fffd(json_object *o);
/* 1 when s[0..n) is made of blanks only (or empty): ASCII's, and Unicode's
 * spaces and invisible ones (U+00A0, U+1680, U+180E, U+2000..U+200B, U+2028,
 * U+2029, U+202F, U+205F, U+2060, U+3000, U+FEFF). Such an id is none: every
 * event holding it would be one row (audit-SCH 2: " " was refused, U+00A0 not). */
int text_blank(const char *s, size_t n);
/* s (a C string) without the blanks text_blank counts at either end: its
 * start, and *len bytes (a name or an e-mail typed with a no-break space, a
 * zero-width one or a newline around it). */
const char *text_trim(const char *s, size_t *len);
/* The JSON type name of o ("string", "integer", "null", ...). */
const char *jtype_name(json_object *o);

#endif
