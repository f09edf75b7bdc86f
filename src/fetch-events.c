/*
 * fetch-events: archived webhook dumps in, one raw envelope per event out
 * (docs/events.md). Reads plain or gzip NDJSON, files holding one (pretty)
 * JSON document or an array of events, and captured webhooks in the shapes
 * capture.h reads, raw HTTP requests among them (rawhttp.h); directories
 * recursively.
 */
#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "capture.h"
#include "connector.h"
#include "diag.h"
#include "envelope.h"
#include "jsonutil.h"
#include "lineio.h"
#include "rawhttp.h"
#include "records.h"
#include "secret.h"
#include "strbuf.h"
#include "timeutil.h"

static const char synopsis[] =
	"usage: fetch-events [--project ID] [--provider NAME] [--since TIME] [--until TIME]\n"
	"                    [--received-at TIME] [--source TEXT] [--rejects FILE] [--max-line SIZE]\n"
	"                    [--quiet] [FILE|DIR...]\n";

static const char help[] =
	"Read archived webhook dumps and write one raw envelope per event, one JSON\n"
	"object a line (docs/events.md), the provider's payload untouched.\n"
	"\n"
	"Inputs are files, directories (read recursively, in byte order of names; names\n"
	"starting with '.' are left out; each directory and each file in one is read\n"
	"once, whatever symlinks lead to it again; a file named twice, or named and\n"
	"in a directory named, once too; what is neither a file nor a\n"
	"directory, a FIFO or a socket, is named and skipped, as is this run's own\n"
	"output or rejects file found in one) or stdin. Each file may\n"
	"be gzip (any number of members) or plain; NDJSON (one event a line), one JSON\n"
	"document (pretty-printed, an array of events, or a page of Stripe's API list\n"
	"of events: {\"object\": \"list\", \"data\": [...]}), or captured webhooks, one a\n"
	"line or one a file: {\"headers\": ...,\n"
	"\"body\": ...} (headers an object, or a HAR-style list of names and values)\n"
	"and API Gateway / Lambda proxy events (REST v1, HTTP API v2; a base64 body\n"
	"is decoded); or raw HTTP/1.x requests one after another, told by a request\n"
	"line opening the file (POST /hook HTTP/1.1; bodies by Content-Length, chunked\n"
	"or up to the next request line; Content-Encoding gzip undone). A form-encoded\n"
	"body (Hotmart's old postbacks) becomes a flat object of strings. A capture's\n"
	"received_at is its own time when it gives one (docs/events.md; one that is no\n"
	"time, or has no zone, rejects the capture). Stripe events archived from a\n"
	"cloud event destination (Amazon EventBridge, Azure Event Grid), or captured\n"
	"as its delivery's body, are taken out of the destination's envelope, its\n"
	"time their received_at (the capture's, when it has one). Headers, and the\n"
	"payload secrets wherever they are (Hotmart's \"hottok\", Stripe's\n"
	"\"client_secret\"), are never written on.\n"
	"\n"
	"  --project ID        project the events belong to (default: default)\n"
	"  --provider NAME     take every payload as this provider's (%s)\n"
	"                      instead of detecting it\n"
	"  --since TIME        only events that occurred at or after TIME (RFC 3339)\n"
	"  --until TIME        only events that occurred before TIME\n"
	"                      (events carrying no time of their own are kept)\n"
	"  --received-at TIME  received_at of events whose capture does not give it\n"
	"                      (1970..9999; default: the file's modification time;\n"
	"                      stdin: now)\n"
	"  --source TEXT       source of what stdin holds, instead of '<stdin>:LINE':\n"
	"                      a payload the database holds, replayed under its stored\n"
	"                      copy's source (docs/load.md); only with stdin\n"
	"  --rejects FILE      write rejected input there as JSON (file, line, code, message, raw)\n"
	"  --max-line SIZE     longest accepted line or document, or a raw request's\n"
	"                      headers or body, and longest envelope written (default 16M)\n"
	"  -q, --quiet         no notices of what needs no look (a file's modification time\n"
	"                      not used, a file skipped as read already or as this run's\n"
	"                      own): for cron, stderr then says only what went wrong\n"
	"  -h, --help, -V, --version\n"
	"\n"
	"Exit status: 0 every event read; 1 some input rejected (each reported on stderr\n"
	"as 'fetch-events: FILE:LINE: ... (code)'); 2 usage; 3 a file could not be read\n"
	"or output could not be written.\n"
	"\n"
	"Example:\n"
	"  fetch-events --project acme dumps/2026-11/*.ndjson.gz | normalize > events.ndjson\n";

struct opts {
	const char *project;
	const struct connector *provider;
	int64_t since, until; /* INT64_MIN, INT64_MAX: no bound */
	const char *received_at;
	const char *source; /* --source: every envelope's, all read from stdin */
	size_t max_line;
};

/* Lines read ahead to tell what a file holds (holds_documents), copies read
 * again before the reader's next; then the status it ended on, if it did. */
struct ahead {
	struct line *lines;
	size_t n, next;
	int end;        /* 0, or LR_EOF or LR_ERROR met while reading ahead */
	long end_line;
};

struct src {
	const char *file;
	char received_at[RFC3339_BUFSZ];
	struct jparser *parser;
	const struct opts *o;
	struct ahead ahead;
};

/* The next line of s: one read ahead, else the reader's. */
static int next_line(struct src *s, struct line_reader *lr, struct line *l)
{
	struct ahead *a = &s->ahead;

	if (a->next < a->n) {
		*l = a->lines[a->next++];
		return LR_LINE;
	}
	if (a->end) {
		l->lineno = a->end_line;
		return a->end;
	}
	return lr_next(lr, l);
}

static long count_lines(const char *buf, size_t len)
{
	long n = 0;
	for (const char *p = buf; (p = memchr(p, '\n', len - (size_t)(p - buf))); p++)
		n++;
	return n;
}

static void emit_payload(struct src *s, long lineno, const char *raw, size_t rawlen, json_object *payload,
			 int shallow, const char *received_at);
static void emit_body(struct src *s, long lineno, char *text, size_t len, json_object *payload,
		      const char *received_at, int timed);

/* A capture's payload text (its body, a form made JSON, or an object that was
 * part of the capture's line) read again, so that the parser speaks of it as
 * emit_payload wants: how deep it nests, whether a key holds U+0000. */
static void reread(const struct src *s, const char *text, size_t len)
{
	enum reject_code code;
	char msg[64];

	json_object_put(jparse_shallow(s->parser, text, len, 1, &code, msg, sizeof msg));
}

/*
 * A JSON capture, line[0..len) as the parser just read it whole: the body is the payload,
 * as the provider sent it. A body that is an object is passed on as its bytes in the line
 * (a number past 64 bits, -0, a duplicate key, escapes: as they came), sliced out where the
 * parser found it (its keys read as written, escapes decoded); when it cannot tell (a
 * top-level key holding U+0000, which json-c cuts there), json-c's text of it, and then a
 * key holding U+0000 anywhere in the line, which json-c's text would have cut, refuses the
 * line.
 */
static void read_capture(struct src *s, long lineno, json_object *cap, const char *line, size_t linelen)
{
	char when[RFC3339_BUFSZ], msg[256] = "", *text;
	size_t len, off;
	int64_t ms;
	enum reject_code code;
	const char *why, *received_at = s->received_at;
	json_object *body = jpath(cap, "body"), *payload;
	int said = capture_time(cap, &ms, &why);

	if (said <= -2) {
		const char *raw = capture_reject_text(cap, &len);
		reject(s->file, lineno, said == -3 ? REJ_INVALID_REQUEST : REJ_INVALID_FIELD, raw, len, "%s", why);
		return;
	}
	if (said == 0)
		received_at = fmt_rfc3339(ms, when);
	/* an object, or an array (a batch), as its bytes in the line */
	int value = json_object_is_type(body, json_type_object) || json_object_is_type(body, json_type_array);
	if (value && jmember_span(s->parser, line, linelen, "body", &off, &len)) {
		text = xmalloc(len + 1);
		memcpy(text, line + off, len);
		text[len] = '\0';
		payload = json_object_get(body);
	} else if (value && jparser_key_nul(s->parser)) {
		const char *raw = capture_reject_text(cap, &len); /* without the headers */
		reject(s->file, lineno, REJ_INVALID_FIELD, raw, len, NUL_KEY_MSG);
		return;
	} else if (!(payload = capture_json_payload(s->parser, cap, s->o->max_line, &text, &len, &code, msg,
						     sizeof msg))) {
		const char *raw = capture_reject_text(cap, &len);
		reject(s->file, lineno, code, raw, len, "%s", msg);
		return;
	}
	if (*msg)
		warn_msg(0, "%s:%ld: warning: %s", s->file, lineno, msg);
	emit_body(s, lineno, text, len, payload, received_at, said == 0);
	json_object_put(payload);
	free(text);
}

/* How deep fetch-events builds a payload: enough to recognise it and read its
 * id, type and time (Stripe's data.object, Hotmart's data.*); the rest is only
 * validated and passed on as bytes. */
#define SHALLOW_KEEP 2

/*
 * A Stripe event delivered through a cloud event destination (EventBridge,
 * Event Grid), line[0..linelen) as the parser just read it: the event in it is
 * the payload, passed on as its bytes in the line (or json-c's text of it when
 * the members are not known), the destination's time its received_at; or at,
 * when a capture of the delivery says when it arrived.
 */
static void read_cloud_event(struct src *s, long lineno, json_object *o, const char *member, const char *line,
			     size_t linelen, const char *at)
{
	char when[RFC3339_BUFSZ], msg[256], *text;
	size_t len, off;
	int64_t ms;
	enum reject_code code;
	const char *why, *received_at = at ? at : s->received_at;
	json_object *payload;
	int said = at ? 1 : cloud_event_time(o, &ms, &why);

	if (said == -2) {
		reject(s->file, lineno, REJ_INVALID_FIELD, line, linelen, "%s", why);
		return;
	}
	if (said == 0)
		received_at = fmt_rfc3339(ms, when);
	if (jmember_span(s->parser, line, linelen, member, &off, &len)) {
		text = xmalloc(len + 1);
		memcpy(text, line + off, len);
		text[len] = '\0';
	} else {
		json_object *full = jparse(s->parser, line, linelen, &code, msg, sizeof msg); /* valid: just checked */
		if (!full || jparser_key_nul(s->parser)) {
			reject(s->file, lineno, REJ_INVALID_FIELD, line, linelen, NUL_KEY_MSG);
			json_object_put(full);
			return;
		}
		text = xstrdup(json_object_to_json_string_ext(jpath(full, member), JSON_C_TO_STRING_PLAIN |
										JSON_C_TO_STRING_NOSLASHESCAPE));
		len = strlen(text);
		json_object_put(full);
	}
	if ((payload = jparse_shallow(s->parser, text, len, SHALLOW_KEEP, &code, msg, sizeof msg))) {
		emit_payload(s, lineno, text, len, payload, 1, received_at);
		json_object_put(payload);
	} else {
		reject(s->file, lineno, code, text, len, "%s", msg);
	}
	free(text);
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* 1 when text is objects or arrays written one after another with nothing
 * between them, {...}{...} (a Firehose stream's S3 objects, without its
 * newline delimiter), the first whole, the last maybe cut short; blanks may
 * end it. Anything between them ({...} {...}) makes it trailing garbage. */
static int values_follow(const char *text, size_t len)
{
	size_t i = 0;
	int values = 0;

	for (;;) {
		if (text[i] != '{' && text[i] != '[')
			return 0;
		size_t n = json_value_end(text + i, len - i);
		if (values++ == 0 && (n >= len || json_text_state(text, n) != JSON_WHOLE))
			return 0;
		i += n;
		size_t next = i;
		while (next < len && is_space(text[next]))
			next++;
		if (next == len)
			return values > 1;
		if (next != i)
			return 0;
	}
}

/* Where an array's elements come from: the source, the line, and for a
 * captured body the time of its arrival (timed: it came with the capture). */
struct at {
	struct src *s;
	long lineno;
	const char *received_at;
	int timed;
};

/* Calls fn on each element of the JSON array text[0..len) (already parsed,
 * so valid), its bytes sliced out and NUL-ended for the call. */
static void each_element(char *text, size_t len, void (*fn)(struct at *, char *, size_t), struct at *at)
{
	for (size_t i = 1, n; i < len; i += n) {
		while (i < len && strchr(" ,\t\r\n", text[i]))
			i++;
		if (i >= len || text[i] == ']')
			break;
		if (!(n = json_value_end(text + i, len - i)))
			n = 1; /* never stand still */
		char save = text[i + n];
		text[i + n] = '\0';
		fn(at, text + i, n);
		text[i + n] = save;
	}
}

static void one_value(struct src *s, long lineno, char *text, size_t len, int open_array);

/* A list object of Stripe's API: {"object": "list", "data": [...], "has_more": ...}. */
static int is_list_page(json_object *o)
{
	json_object *kind = NULL, *data = NULL;
	return json_object_object_get_ex(o, "object", &kind) && json_object_is_type(kind, json_type_string) &&
	       strcmp(json_object_get_string(kind), "list") == 0 && json_object_object_get_ex(o, "data", &data) &&
	       json_object_is_type(data, json_type_array);
}

/* An element of an array of events on a line: one of them. */
static void array_value(struct at *at, char *text, size_t len)
{
	one_value(at->s, at->lineno, text, len, 0);
}

/* An element of a captured body's array (an Event Grid batch): a payload or a
 * cloud event, as the body would be. */
static void body_element(struct at *at, char *text, size_t len)
{
	struct src *s = at->s;
	enum reject_code code;
	char msg[256];
	const char *member;
	json_object *o = jparse_shallow(s->parser, text, len, SHALLOW_KEEP, &code, msg, sizeof msg);

	if (!o)
		reject(s->file, at->lineno, code, text, len, "%s", msg);
	else if (!json_object_is_type(o, json_type_object))
		reject(s->file, at->lineno, REJ_NOT_OBJECT, text, len, "captured body: expected a JSON object in its array, got %s",
		       jtype_name(o));
	else if ((member = cloud_event_member(o)))
		read_cloud_event(s, at->lineno, o, member, text, len, at->timed ? at->received_at : NULL);
	else
		emit_payload(s, at->lineno, text, len, o, 1, at->received_at);
	json_object_put(o);
}

/* One JSON text (a line, or a squeezed document value) at lineno; an array
 * is opened when it is the text (open_array), not when it is an element of
 * one: an array in an array is a value that is not an event, rejected whole
 * (a header list's [name, value] pairs, split, would lose the names that
 * redaction reads). */
/* The last page of Stripe's list of events read, when it says has_more: its
 * file (len 0: none) and line. */
static struct strbuf last_page;
static long last_page_line;

static void one_value(struct src *s, long lineno, char *text, size_t len, int open_array)
{
	enum reject_code code;
	char msg[256];
	/* an array's elements are built one by one (each_element): its own tree
	 * holds them empty, so an array of 10 000 events on a line is no larger
	 * tree than it must be (review R12 2: refused, too_many_values) */
	size_t lead = strspn(text, " \t\r\n");
	int keep = open_array && lead < len && text[lead] == '[' ? 1 : SHALLOW_KEEP;
	json_object *o = jparse_shallow(s->parser, text, len, keep, &code, msg, sizeof msg);

	if (!o && open_array && values_follow(text, len)) {
		/* each value on its own, at this line; the last, cut short, rejected */
		for (size_t i = 0, n; i < len && !is_space(text[i]); i += n) {
			n = json_value_end(text + i, len - i);
			char save = text[i + n];
			text[i + n] = '\0';
			one_value(s, lineno, text + i, n, 1);
			text[i + n] = save;
		}
		return;
	}
	if (!o) {
		reject(s->file, lineno, code, text, len, "%s", msg);
		return;
	}
	if (open_array && json_object_is_type(o, json_type_array)) {
		/* An array of events: each element is one. */
		struct at at = { s, lineno, NULL, 0 };
		json_object_put(o);
		each_element(text, len, array_value, &at);
		return;
	}
	if (!json_object_is_type(o, json_type_object)) {
		reject(s->file, lineno, REJ_NOT_OBJECT, text, len, "expected a JSON object, got %s", jtype_name(o));
		json_object_put(o);
		return;
	}
	size_t off, dlen;
	if (open_array && is_list_page(o) && jmember_span(s->parser, text, len, "data", &off, &dlen)) {
		/* A page of Stripe's API (GET /v1/events, `stripe events list`): its
		 * data's elements, each one as an array's */
		struct at at = { s, lineno, NULL, 0 };
		json_object *more = NULL;
		/* the page says events follow it: said at the end when it is the
		 * last page read, as nothing else would tell (the API's default page
		 * is 10); pages fetched with starting_after and kept one after
		 * another say it of each but the last (audit-F2 3) */
		last_page.len = 0;
		if (json_object_object_get_ex(o, "has_more", &more) && json_object_is_type(more, json_type_boolean) &&
		    json_object_get_boolean(more)) {
			sb_add(&last_page, s->file, strlen(s->file));
			last_page_line = lineno;
		}
		json_object_put(o);
		each_element(text + off, dlen, array_value, &at);
		return;
	}
	const char *member = cloud_event_member(o);
	if (member) {
		read_cloud_event(s, lineno, o, member, text, len, NULL);
		json_object_put(o);
		return;
	}
	if (!capture_is(o)) {
		emit_payload(s, lineno, text, len, o, 1, s->received_at);
		json_object_put(o);
		return;
	}
	json_object_put(o);
	o = jparse(s->parser, text, len, &code, msg, sizeof msg); /* valid: it was just checked */
	read_capture(s, lineno, o, text, len);
	json_object_put(o);
}

/*
 * A captured request's body, text[0..len), what the parser built of it: the
 * payload; or a Stripe event delivered through a cloud event destination (an
 * EventBridge API destination, an Event Grid push), read as in an archive and
 * dated, when timed, when the capture says it arrived (received_at); or an
 * array of those (an Event Grid batch), each element so, its bytes sliced out.
 */
static void emit_body(struct src *s, long lineno, char *text, size_t len, json_object *payload,
		      const char *received_at, int timed)
{
	if (json_object_is_type(payload, json_type_array)) {
		struct at at = { s, lineno, received_at, timed };
		each_element(text, len, body_element, &at);
		return;
	}
	const char *member = cloud_event_member(payload);

	reread(s, text, len);
	if (member)
		read_cloud_event(s, lineno, payload, member, text, len, timed ? received_at : NULL);
	else
		emit_payload(s, lineno, text, len, payload, 0, received_at);
}

/* One payload: raw is the text the parser read last (its depth and keys are
 * the parser's to say); payload what it built of it, all or (shallow) its
 * first levels. */
static void emit_payload(struct src *s, long lineno, const char *raw, size_t rawlen, json_object *payload,
			 int shallow, const char *received_at)
{
	const struct connector *c = s->o->provider ? s->o->provider : connector_detect(payload);
	struct event_identity id = {0};
	struct jerr err = {0};
	json_object *full = NULL;
	char source[PATH_MAX + 24]; /* "FILE:LINE", whole */

	char *clean = NULL;

	if (jparser_key_nul(s->parser)) {
		reject(s->file, lineno, REJ_INVALID_FIELD, raw, rawlen, NUL_KEY_MSG);
		return;
	}
	if (jparser_depth(s->parser) > PAYLOAD_MAX_DEPTH) {
		/* its envelope would nest one level more than the next program reads */
		reject(s->file, lineno, REJ_TOO_DEEP, raw, rawlen, "JSON nested deeper than %d levels (a payload: "
		       "its envelope nests it once more)", PAYLOAD_MAX_DEPTH);
		return;
	}
	if (jparser_units(s->parser) > PAYLOAD_MAX_UNITS) {
		/* its tree costs memory (JSON_MAX_UNITS), here or in the next
		 * program, which reads its envelope whole */
		reject(s->file, lineno, REJ_TOO_MANY_VALUES, raw, rawlen, PAYLOAD_TOO_LARGE_MSG, PAYLOAD_MAX_UNITS);
		return;
	}
	if (shallow && (!c || c->identify(payload, &id, &err) < 0 || !id.event_id)) {
		/* Not recognised from its first levels: build it all. */
		enum reject_code code;
		char msg[256];
		full = payload = jparse(s->parser, raw, rawlen, &code, msg, sizeof msg);
		if (!full) {
			reject(s->file, lineno, code, raw, rawlen, "%s", msg);
			return;
		}
		c = s->o->provider ? s->o->provider : connector_detect(payload);
		memset(&id, 0, sizeof id);
		memset(&err, 0, sizeof err);
	}
	if (!c) {
		reject(s->file, lineno, REJ_UNKNOWN_PROVIDER, raw, rawlen, "no connector recognises this payload");
		goto out;
	}
	/* told by a secret's presence (Hotmart's hottok), read without its
	 * members: the envelope's id and type are those of the payload it
	 * holds, which has none (a type of "X hottok=S": audit-R7 B) */
	int secrets = secret_in_text(raw, rawlen); /* once: the payload written is a part of raw */
	if (secrets) {
		secret_drop(payload);
		memset(&id, 0, sizeof id);
		memset(&err, 0, sizeof err);
	}
	if (c->identify(payload, &id, &err) < 0 || !id.event_id || !*id.event_id) {
		reject(s->file, lineno, REJ_MISSING_EVENT_ID, raw, rawlen, "%s payload without an event id: %s",
		       c->name, err.failed ? err.reason : "empty id");
		goto out;
	}
	id.occurred_ms = identity_time(&id, received_at);
	if (id.occurred_ms && (id.occurred_ms < s->o->since || id.occurred_ms >= s->o->until))
		goto out;
	if (s->o->source)
		snprintf(source, sizeof source, "%s", s->o->source);
	else
		snprintf(source, sizeof source, "%s:%ld", s->file, lineno);
	struct envelope e = {
		c->name, id.event_id, id.event_type, s->o->project, received_at, source,
		id.occurred_ms, raw, rawlen,
	};
	envelope_trim(&e.payload, &e.payload_len);
	/* the secret's members left out of the text, every other byte kept */
	if (secrets && (clean = secret_strip(e.payload, e.payload_len, &e.payload_len)))
		e.payload = clean;
	static struct strbuf line; /* one buffer for the run; fetch-events is one thread */
	line.len = 0;
	size_t too_long = envelope_append(&line, &e, s->o->max_line);
	if (too_long)
		reject(s->file, lineno, REJ_LINE_TOO_LONG, raw, rawlen, ENVELOPE_TOO_LONG, too_long, s->o->max_line);
	else
		xwrite(line.buf, line.len, stdout);
out:
	free(clean);
	json_object_put(full);
}

/*
 * text[0..n) (malloc'd; freed here), a value as written from line on: checked
 * as written, white space and all (squeezed, "1 2" would be 12), a fault said
 * at its own line and column with raw[0..rawlen) (raw NULL: the value on one
 * line), else handed on one line to one_value.
 */
static void value_as_written(struct src *s, char *text, size_t n, long line, const char *raw, size_t rawlen,
			     int open_array)
{
	enum reject_code code;
	char msg[256];
	long off;
	/* white space after it changes nothing but where a value cut short at the
	 * end of its file is said to end: on its last line, not the line after */
	while (n > 0 && is_space(text[n - 1]))
		n--;
	int bad = jvalidate_text(text, n, &off, &code, msg, sizeof msg) < 0;
	size_t m = jsqueeze(text, n);

	if (bad)
		reject(s->file, line + off, code, raw ? raw : text, raw ? rawlen : m, "%s", msg);
	else
		one_value(s, line, text, m, open_array);
	free(text);
}

/*
 * What is left of a line at a document file's top, buf[i..i + n), from no
 * '{' or '[' (a line of prose, a log line, a document's lost head): one
 * value or one reject, never a reject a word, its column counted on its line
 * and a secret's name beside its value, for the redaction of the rejects
 * record. White space left of it stands in for what came before it.
 */
static void line_rest(struct src *s, const char *buf, size_t i, size_t n, long line)
{
	size_t ls = i, pad;
	while (ls > 0 && buf[ls - 1] != '\n')
		ls--;
	pad = i - ls;
	while (n > 0 && is_space(buf[i + n - 1]))
		n--;
	char *text = xmalloc(pad + n + 1);
	memset(text, ' ', pad);
	memcpy(text + pad, buf + i, n);
	value_as_written(s, text, pad + n, line, buf + i, n, 1); /* the rest as written: redactable */
}

/*
 * The JSON values of a document buffer, each squeezed onto one line and
 * handed to one_value() with the line it starts on. At the top (top = 1)
 * values follow each other and an array is opened once, so that each event
 * in it gets its own line number; inside it (top = 0) they are separated by
 * commas, exactly one each: a missing, doubled or trailing comma is
 * reported (invalid_json) and the elements around it still read. Lines are
 * counted as the scan goes, never again from the start.
 *
 * An array's elements handed over in parts (doc_elements) carry where the
 * scan stands between two parts in *st: after a value, after a comma; more
 * set, more of the array follows (a comma last is no trailing one yet).
 */
struct elem_state {
	int after_value, after_comma;
};

static void doc_values(struct src *s, const char *buf, size_t len, long base_line, int top, struct elem_state *st,
		       int more)
{
	size_t i = 0, counted = 0;
	long line = base_line;
	struct elem_state own = { 0, 0 };
	if (!st)
		st = &own;
	int after_value = st->after_value, after_comma = st->after_comma;

	for (;;) {
		while (i < len && is_space(buf[i]))
			i++;
		line += count_lines(buf + counted, i - counted);
		counted = i;
		if (i >= len)
			break;
		if (!top && buf[i] == ',') {
			if (!after_value)
				reject(s->file, line, REJ_INVALID_JSON, NULL, 0,
				       after_comma ? "two commas in a row in the array" : "a comma before the array's first element");
			after_value = 0;
			after_comma = 1;
			i++;
			continue;
		}
		if (!top && after_value)
			reject(s->file, line, REJ_INVALID_JSON, NULL, 0, "no comma between two array elements");
		if (top && buf[i] != '{' && buf[i] != '[') {
			const char *nl = memchr(buf + i, '\n', len - i);
			size_t n = nl ? (size_t)(nl - buf) - i : len - i;
			line_rest(s, buf, i, n, line);
			i += n;
			continue;
		}
		size_t n = json_value_end(buf + i, len - i);
		if (n == 0)
			n = 1;
		if (top && buf[i] == '[' && n > 1 && buf[i + n - 1] == ']') {
			doc_values(s, buf + i + 1, n - 2, line, 0, NULL, 0);
		} else {
			char *text = xmalloc(n + 1);
			memcpy(text, buf + i, n);
			value_as_written(s, text, n, line, NULL, 0, top);
		}
		i += n;
		after_value = !top;
		after_comma = 0;
	}
	if (after_comma && !more) {
		reject(s->file, line, REJ_INVALID_JSON, NULL, 0, "a comma after the array's last element");
		after_comma = 0;
	}
	st->after_value = after_value;
	st->after_comma = after_comma;
}

/* The input of s cannot be read on at lineno: the lines before it were read. */
static void read_error(struct src *s, struct line_reader *lr, long lineno)
{
	lr_reject_error(lr, s->file, lineno);
}

/* The length of a request line (POST /hook?token=... HTTP/1.1) written as a
 * rejects record's text: up to its query, where a webhook URL's secret
 * (?token=, ?key=) sits. */
static size_t without_query(const char *line, size_t len)
{
	const char *q = memchr(line, '?', len);
	return q ? (size_t)(q - line) : len;
}

/* A raw HTTP request's body is the payload; its Date header, when it has one, received_at. */
static void http_payload(struct src *s, const struct http_request *rq)
{
	char when[RFC3339_BUFSZ], msg[256] = "", *text;
	size_t len;
	int64_t ms;
	enum reject_code code;
	const char *received_at = s->received_at, *why;

	switch (date_header_time(rq->date, &ms, &why)) { /* one that cannot be read is refused, as a capture's */
	case -2:
		reject(s->file, rq->lineno, REJ_INVALID_FIELD, rq->line, without_query(rq->line, rq->line_len), "%s", why);
		return;
	case 0:
		received_at = fmt_rfc3339(ms, when);
		break;
	}
	json_object *payload = capture_payload(s->parser, rq->content_type, rq->content_encoding, rq->body,
					       rq->body_len, s->o->max_line, &text, &len, &code, msg, sizeof msg);

	if (!payload) {
		/* the body, else the request line; a compressed body (or bytes that
		 * are not text: compressed under a Content-Encoding not told) is
		 * bytes no redaction can see into: not written; nor one holding a NUL,
		 * UTF-16 without its mark ("h\0o\0t\0t\0o\0k"), valid UTF-8 as it is */
		if (rq->body_len == 0)
			reject(s->file, rq->lineno, code, rq->line, without_query(rq->line, rq->line_len), "%s", msg);
		else if (capture_body_compressed(rq->content_encoding, rq->body, rq->body_len) ||
			 !utf8_valid(rq->body, rq->body_len) || memchr(rq->body, '\0', rq->body_len))
			reject(s->file, rq->lineno, code, NULL, 0, "%s", msg);
		else
			reject(s->file, rq->lineno, code, rq->body, rq->body_len, "%s", msg);
		return;
	}
	if (*msg)
		warn_msg(0, "%s:%ld: warning: %s", s->file, rq->lineno, msg);
	emit_body(s, rq->lineno, text, len, payload, received_at, received_at != s->received_at);
	json_object_put(payload);
	free(text);
}

/* A file of raw HTTP requests (rawhttp.h), its first request line just read. */
static void read_http(struct src *s, struct line_reader *lr, const struct line *first)
{
	struct http_reader *hr = http_open(lr, first, s->o->max_line);
	struct http_request rq;
	int r;

	while ((r = http_next(hr, &rq)) != HTTP_EOF) {
		if (r == HTTP_ERROR) {
			read_error(s, lr, rq.lineno);
			break;
		}
		progress_tick(rq.line_len + rq.body_len);
		if (r == HTTP_BAD)
			reject(s->file, rq.lineno, rq.code, rq.line, rq.line ? without_query(rq.line, rq.line_len) : 0,
			       "%s", rq.msg);
		else
			http_payload(s, &rq);
	}
	http_close(hr);
}

/*
 * A file of JSON documents (pretty-printed, one after another, or arrays of
 * events), streamed: the lines of the top-level value being read are held, at
 * most --max-line bytes of them, and handed to doc_values once its brackets
 * close; memory is one document's, not the file's.
 *
 * A document cut short (a writer killed mid-write, the next one appended
 * after it) would take every document after it in, its brackets never
 * closing. A line that opens an object or array at the column of the value
 * being read or left of it, in a document whose inner lines are indented or
 * where what came before cannot go on with a value (no ':', '[' or an
 * array's ',' before it), starts a new one: the cut value is rejected, the
 * next read. The same for an element of a top-level array, at the column of
 * the first element that starts on its line. An array not closed at the end of the
 * file has its elements read all the same.
 */
struct docscan {
	char *buf;
	size_t cap, len;
	long line;          /* of buf's first byte */
	long first;         /* of the value's first byte, once started */
	int depth, started, array, indented, too_long;
	int hidden;         /* and a line of it was too long: its brackets are not all seen */
	int elem_long;      /* the array's element being read grew past --max-line: dropped, */
	long long_line;     /* rejected at its line (long_line) once it ends */
	size_t col;         /* the top-level value's column */
	size_t elem_off;    /* an element of a top-level array being read: where in buf */
	size_t elem_col;    /* the column of the first element that starts on its line */
	long elem_line;
	size_t elem_end;    /* after the last element of it read whole (0: none since the last handed over) */
	size_t close;       /* the array's closing bracket (array is 0 from there) */
	int handed;         /* some of its elements were handed over: buf holds no '[' */
	struct elem_state es; /* where the scan of those handed over stands */
	char last;          /* the last byte appended that is not a space */
	uint64_t objects;   /* bit n set: the bracket open at depth n + 1 is '{' (to depth 64) */
};

#define DOC_HAND_OVER ((size_t)1 << 20) /* an array's whole elements held before they go */

/*
 * An array's elements in buf[0..end), handed to doc_values and dropped from
 * buf: from after its '[' the first time, then from where the last handed
 * over ended (the comma after it the first thing doc_values checks). An array of a million events is
 * read an element at a time, not held whole. more: the array goes on after
 * end (a comma before end is no trailing one yet).
 */
static void doc_elements(struct src *s, struct docscan *d, size_t end, int more)
{
	size_t from = 0;

	/* an offset kept from bytes since dropped (an array closed on a line of an
	 * element too long, whose bytes are not held) ends at what is held: a
	 * negative memmove took fetch-events down (fuzz, FZ3's follow-up run) */
	if (end > d->len)
		end = d->len;
	if (!d->handed) {
		const char *open = memchr(d->buf, '[', end);
		from = open ? (size_t)(open - d->buf) + 1 : 0;
		d->es.after_value = d->es.after_comma = 0;
	}
	/* handed over before: what came before these (an element, a comma) is in d->es */
	doc_values(s, d->buf + from, end - from, d->line + count_lines(d->buf, from), 0, &d->es, more);
	d->line += count_lines(d->buf, end);
	memmove(d->buf, d->buf + end, d->len - end);
	d->len -= end;
	d->elem_off = d->elem_off >= end ? d->elem_off - end : 0;
	d->close = d->close >= end ? d->close - end : 0;
	d->elem_end = 0;
	d->handed = 1;
}

static void elem_long_end(struct src *s, struct docscan *d)
{
	reject(s->file, d->long_line, REJ_LINE_TOO_LONG, NULL, 0, "array element longer than %zu bytes",
	       s->o->max_line);
	d->elem_long = d->hidden = 0;
}

/*
 * The dropped element's lines are not held (not even as line ends: an element
 * of millions of lines would fill buf, and push what follows it past
 * --max-line): once it ends, at line lineno, what came before it is handed
 * over and buf starts again empty, at that line. value: it ended as a value
 * (its commas then are checked as any element's), else it was cut short.
 */
static void elem_long_skip(struct src *s, struct docscan *d, long lineno, int value)
{
	elem_long_end(s, d);
	doc_elements(s, d, d->elem_off, 1);
	if (value) {
		if (d->es.after_value)
			reject(s->file, d->long_line, REJ_INVALID_JSON, NULL, 0, "no comma between two array elements");
		d->es.after_value = 1;
		d->es.after_comma = 0;
	}
	d->len = 0;
	d->line = lineno;
}

static void doc_flush(struct src *s, struct docscan *d, long next_line)
{
	if (d->elem_long && !d->too_long)
		elem_long_end(s, d);
	d->elem_long = 0;
	if (d->too_long) {
		reject(s->file, d->started ? d->first : d->line, REJ_LINE_TOO_LONG, NULL, 0, "document longer than %zu bytes",
		       s->o->max_line);
	} else if (d->handed) {
		/* the rest of an array handed over in parts: its last elements, what follows it
		 * (read_document has handed over those of one never closed) */
		size_t close = d->close;
		doc_elements(s, d, close, 0);
		if (d->len > 1)
			doc_values(s, d->buf + 1, d->len - 1, d->line, 1, NULL, 0);
	} else if (d->len > 0) {
		doc_values(s, d->buf, d->len, d->line, 1, NULL, 0);
	}
	d->len = 0;
	d->line = next_line;
	d->depth = d->started = d->array = d->indented = d->too_long = d->handed = 0;
	d->elem_end = d->close = 0;
	d->last = 0;
}

/* buf[from..len) replaced by its line ends: the bytes gone, the line count kept. */
static void doc_blank(struct docscan *d, size_t from)
{
	size_t n = 0;
	for (size_t i = from; i < d->len; i++)
		n += d->buf[i] == '\n';
	memset(d->buf + from, '\n', n);
	d->len = from + n;
}

/* t[0..n) appended to buf, its room doubled as it grows (one byte spare) */
static void doc_add(struct docscan *d, const char *t, size_t n)
{
	while (d->len + n + 2 > d->cap)
		d->buf = xrealloc(d->buf, d->cap *= 2);
	memcpy(d->buf + d->len, t, n);
	d->len += n;
}

static void doc_line(struct src *s, struct docscan *d, const struct line *l)
{
	size_t lead = strspn(l->text, " \t");
	char c = lead < l->len ? l->text[lead] : 0;
	/* after an object's ',' comes a key: a bracket there opens no value of it */
	int in_object = d->depth >= 1 && d->depth <= 64 && (d->objects >> (d->depth - 1) & 1);
	int opens = c == '{' || c == '[',
	    goes_on = d->last == ':' || d->last == '[' || (d->last == ',' && !in_object);

	if (d->started && d->depth > 0 && lead > 0 && lead < l->len)
		d->indented = 1;
	/* after a line too long, where the element's brackets were not all seen:
	 * a ',' or ']' that begins a line at the elements' column ends it (the
	 * next element's comma, the array's close) */
	if (d->hidden && d->elem_long && !d->too_long && (c == ',' || c == ']') && lead <= d->elem_col) {
		elem_long_skip(s, d, l->lineno, 1);
		d->depth = 1;
		d->last = '}';
	}
	if (opens && d->array && d->depth >= 2 && lead <= d->elem_col && (d->indented || !goes_on)) {
		if (d->elem_long) {
			if (d->too_long)
				elem_long_end(s, d);
			else
				elem_long_skip(s, d, l->lineno, 0); /* its bytes are gone already */
		} else {
			if (!d->too_long)
				reject(s->file, d->elem_line, REJ_INVALID_JSON, NULL, 0,
				       "an array element cut short: another starts at line %ld", l->lineno);
			doc_blank(d, d->elem_off);
		}
		d->depth = 1;
		d->last = ',';
	} else if (opens && !d->array && d->depth >= 1 && lead <= d->col && (d->indented || !goes_on)) {
		/* one too long is said so at its flush: its long line may have hidden brackets */
		if (!d->too_long)
			reject(s->file, d->first, REJ_INVALID_JSON, NULL, 0,
			       "a JSON document cut short: another starts at line %ld", l->lineno);
		d->len = d->close = 0; /* (an array closed, then a value cut short after it on its line) */
		doc_flush(s, d, l->lineno);
	}
	if (d->array && d->depth >= 1 && !d->too_long && d->elem_end > 0 && d->len + l->len + 1 > s->o->max_line)
		doc_elements(s, d, d->elem_end, 1); /* --max-line bounds an element, not the array */
	/* an element of lines each within --max-line grows past it: that element is
	 * dropped (its bytes in buf blanked to their line ends, its lines after not
	 * kept) and rejected once it ends; the elements after it are read. A line
	 * itself too long may hide brackets: the whole document is refused then. */
	if (!d->too_long && !d->elem_long && !l->too_long && d->array && d->depth >= 2 &&
	    d->len + l->len + 1 > s->o->max_line) {
		d->elem_long = 1;
		d->long_line = d->elem_line;
		doc_blank(d, d->elem_off);
	}
	/* A line itself too long in an array's element, or starting one, drops that
	 * element too: its first bytes are scanned, what it hides is taken to be a
	 * string's (a long text, an image's base64), and a line opening an object
	 * at the elements' column after it starts the next element (audit-F2 1:
	 * the whole array was refused, the elements after it lost, said once) */
	int hides = 0;
	if (!d->too_long && l->too_long && d->array && d->depth >= 1 && d->started) {
		hides = 1;
		d->hidden = 1;
		if (!d->elem_long) {
			d->elem_long = 1;
			d->long_line = d->depth >= 2 ? d->elem_line : l->lineno;
			if (d->depth >= 2) {
				doc_blank(d, d->elem_off);
			} else {
				/* what is before the element on its line (a leading ',')
				 * is the array's: kept, for its commas' check */
				size_t k = strcspn(l->text, "{[\"");
				doc_add(d, l->text, k < l->len ? k : l->len);
			}
		}
	}
	if (!d->too_long && !hides && (l->too_long || (!d->elem_long && d->len + l->len + 1 > s->o->max_line)))
		d->too_long = 1;
	int dropped = d->elem_long; /* this line goes as its line end, but for what follows the element */
	int out = dropped;          /* its bytes are not in buf: a place in it is buf's end */
	size_t at = d->len;
	if (!d->too_long && !dropped) {
		doc_add(d, l->text, l->len);
		doc_add(d, "\n", 1);
	}
	int in_str = 0, esc = 0;
	for (size_t i = 0; i < l->len; i++) {
		char ch = l->text[i];
		if (in_str) {
			if (esc)
				esc = 0;
			else if (ch == '\\')
				esc = 1;
			else if (ch == '"')
				in_str = 0;
			continue;
		}
		if (ch == ' ' || ch == '\t' || ch == '\r')
			continue;
		d->last = ch;
		if (!d->started) {
			d->started = 1;
			d->first = l->lineno;
			d->col = i;
			d->array = ch == '[';
		}
		if (ch == '"') {
			in_str = 1;
		} else if (ch == '{' || ch == '[') {
			if (++d->depth <= 64) {
				uint64_t bit = (uint64_t)1 << (d->depth - 1);
				d->objects = ch == '{' ? d->objects | bit : d->objects & ~bit;
			}
			if (d->depth == 2 && d->array) {
				d->elem_off = out ? d->len : at + i;
				/* one after another on its line ("},{") keeps the column of the
				 * line's first: its inner lines are indented from there */
				if (d->elem_line != l->lineno)
					d->elem_col = i;
				d->elem_line = l->lineno;
			}
		} else if ((ch == '}' || ch == ']') && d->depth > 0) {
			if (--d->depth == 1 && d->array && d->elem_long) {
				/* what came before it handed over, it taken as a value (the
				 * commas around it checked as any element's); the rest of the
				 * line is kept, buf starting with it */
				if (d->too_long) {
					elem_long_end(s, d);
					continue;
				}
				elem_long_skip(s, d, l->lineno, 1);
				size_t rest = i + 1;
				at = d->len - rest;
				doc_add(d, l->text + rest, l->len - rest);
				out = 0;
			} else if (d->depth == 1 && d->array) {
				d->elem_end = out ? d->len : at + i + 1;
			} else if (d->depth == 0 && d->array) {
				d->close = out ? d->len : at + i; /* what may follow it on its line is no element */
				d->array = 0;
			}
		} else if (ch == ',' && d->depth == 1 && d->array && !d->elem_long) {
			/* what is before it is whole, a scalar too (no bracket ends one):
			 * an array of lines of them is handed over as one of objects is */
			d->elem_end = out ? d->len : at + i;
		}
	}
	if (hides)
		d->last = 0; /* where the line was cut tells nothing of what goes on */
	if (dropped && !d->elem_long && !d->too_long) /* the line the dropped element ended on */
		doc_add(d, "\n", 1);
	if (d->array && d->depth >= 1 && !d->too_long && d->elem_end >= DOC_HAND_OVER)
		doc_elements(s, d, d->elem_end, 1);
	/* a string does not go on past its line: the value is broken, the parser will say so */
	if (d->started && d->depth == 0)
		doc_flush(s, d, l->lineno + 1);
}

static void read_document(struct src *s, struct line_reader *lr, const struct line *first)
{
	struct docscan d = { .cap = 1 << 16, .line = first->lineno };
	struct line l = *first;
	int r = LR_LINE;

	d.buf = xmalloc(d.cap);
	do
		doc_line(s, &d, &l);
	while ((r = next_line(s, lr, &l)) == LR_LINE);
	if (d.array && d.depth > 0 && !d.too_long) {
		/* the array was not closed: its elements (a last one cut is rejected) */
		reject(s->file, d.first, REJ_INVALID_JSON, NULL, 0, "the array opened here is not closed; its elements are read");
		if (d.elem_long) /* the last element, dropped, cut short by the end */
			elem_long_skip(s, &d, l.lineno, 1);
		/* without the line ends after it, a comma after the last element is
		 * said on its line, not on the line after the file's last */
		size_t end = d.len;
		while (end > 0 && is_space(d.buf[end - 1]))
			end--;
		doc_elements(s, &d, end, 0);
		d.len = 0;
	}
	if (d.started || d.len > 0)
		doc_flush(s, &d, 0);
	if (r == LR_ERROR)
		read_error(s, lr, l.lineno);
	free(d.buf);
}

/* A copy of l, to be read again (next_line). */
static void keep_ahead(struct src *s, const struct line *l)
{
	struct ahead *a = &s->ahead;
	struct line *k;

	a->lines = xrealloc(a->lines, (a->n + 1) * sizeof *a->lines);
	k = &a->lines[a->n++];
	*k = *l;
	k->text = xmalloc(l->len + 1);
	memcpy(k->text, l->text, l->len);
	k->text[l->len] = '\0';
}

/* A line that is one whole object or array of its own: an NDJSON line. */
static int whole_line(const struct line *l)
{
	size_t lead = strspn(l->text, " \t\r");
	return lead < l->len && (l->text[lead] == '{' || l->text[lead] == '[') &&
	       json_text_state(l->text, l->len) == JSON_WHOLE;
}

/*
 * 1 when the file whose first line (not blank) is first holds JSON documents,
 * 0 when NDJSON (or anything else). Documents when that line opens a value and
 * ends before the value does, between tokens: nothing but brackets (as pretty
 * printers write it), "[{...}," (an array, an element or more a line), "{"id":
 * "evt_1"," (a document holding its first member). A line that is whole, or
 * invalid, or cut inside a string or a word, is NDJSON's, read as today.
 *
 * An object's first line cut between tokens by a crashed writer ("{"id":
 * "evt_1",") looks like a document's: the lines after it tell. They go on
 * with its value (a member, a closing bracket): a document; the first line
 * that cannot, a whole value of its own: NDJSON, the first line rejected,
 * the good lines after it read. Lines read to tell are read again (next_line);
 * l is then invalid.
 */
static int holds_documents(struct src *s, struct line_reader *lr, const struct line *first)
{
	size_t lead = strspn(first->text, " \t\r");
	struct strbuf text = {0};
	struct line l = {0};
	int r, docs = 0;

	if (first->text[lead] != '{' && first->text[lead] != '[')
		return 0;
	if (strspn(first->text, "{[ \t\r") == first->len)
		return 1;
	if (json_text_state(first->text + lead, first->len - lead) != JSON_GOES_ON)
		return 0;
	if (first->text[lead] == '[')
		return 1; /* NDJSON lines after it too are read, as its elements */
	keep_ahead(s, first);
	sb_add(&text, first->text + lead, first->len - lead);
	SB_LIT(&text, "\n");
	for (;;) {
		if ((r = lr_next(lr, &l)) != LR_LINE) {
			s->ahead.end = r;
			s->ahead.end_line = l.lineno;
			break; /* only whole lines after it, or none: NDJSON */
		}
		/* a blank line carries nothing, in a document or NDJSON: not kept, so
		 * a run of them (a writer's crash padding, a hostile file: 16 KB of
		 * gzip are 16 million) costs no memory (one too long is, to say so) */
		int blank = strspn(l.text, " \t\r") == l.len;
		if (blank && !l.too_long)
			continue;
		keep_ahead(s, &l);
		if (blank)
			continue;
		if (l.too_long || text.len + l.len + 1 > s->o->max_line) {
			docs = 1; /* a document's to say it is too long */
			break;
		}
		sb_add(&text, l.text, l.len);
		SB_LIT(&text, "\n");
		enum json_text st = json_text_state(text.buf, text.len);
		int whole = whole_line(&l);
		/* a whole line that goes on with the value ("data":\n{...}) tells nothing yet */
		if (st != JSON_GOES_ON || !whole) {
			docs = st != JSON_BAD || !whole;
			break;
		}
	}
	sb_free(&text);
	return docs;
}

static void read_file(const char *path, const struct opts *o, struct jparser *parser)
{
	struct line_reader *lr = lr_open(path, o->max_line);
	struct src s = { .parser = parser, .o = o };
	struct line l;
	int r, first = 1;

	if (!lr) {
		warn_msg(errno, "cannot open '%s'", path);
		diag_system_error();
		return;
	}
	s.file = lr_name(lr);
	file_received_at(path, o->received_at, s.received_at);

	while ((r = next_line(&s, lr, &l)) == LR_LINE) {
		progress_tick(l.len + 1);
		if (l.too_long) {
			reject(s.file, l.lineno, REJ_LINE_TOO_LONG, l.text, l.len < RAW_IN_REJECT ? l.len : RAW_IN_REJECT,
			       "line longer than %zu bytes", o->max_line);
			first = 0;
			continue;
		}
		size_t lead = strspn(l.text, " \t\r");
		if (lead == l.len)
			continue;
		if (first) {
			first = 0;
			/* A first line opening a value it does not end opens documents
			 * (pretty, or an array of events), not NDJSON. A request line
			 * opens raw HTTP requests. */
			int docs = holds_documents(&s, lr, &l);
			if (s.ahead.n)
				next_line(&s, lr, &l); /* the first line again */
			if (docs) {
				read_document(&s, lr, &l);
				goto out;
			}
			if (http_request_line(l.text, l.len)) {
				read_http(&s, lr, &l);
				goto out;
			}
		}
		one_value(&s, l.lineno, l.text + lead, l.len - lead, 1);
	}
	if (r == LR_ERROR)
		read_error(&s, lr, l.lineno);
out:
	for (size_t i = 0; i < s.ahead.n; i++)
		free(s.ahead.lines[i].text);
	free(s.ahead.lines);
	lr_close(lr);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * What the walk has read: each directory and each file found in one is read
 * once per run, whatever symlinks lead to it twice (current -> 2026-11, a
 * dump linked into two folders, d and d/sub both named), so no event is
 * repeated. A set of (device, inode), open addressing.
 */
struct file_id {
	dev_t dev;
	ino_t ino;
	int64_t born_s; /* its birth time where the filesystem keeps one, else 0: */
	long born_ns;   /* a file removed during the run leaves its inode to a new one */
};
static struct file_id *seen;
static size_t n_seen, seen_cap; /* seen_cap: a power of two, or 0 */

static size_t id_hash(const struct file_id *f, size_t cap)
{
	uint64_t h = ((uint64_t)f->dev * 0x9e3779b97f4a7c15ULL) ^ ((uint64_t)f->ino * 0xc2b2ae3d27d4eb4fULL);
	return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

/* 1 when st's file (at path; NULL: stdin) was met before; else it is added
 * and 0. A file is its inode and its birth time: one read, then removed (a
 * rotation, a spool emptied while the run goes on), can give its inode
 * number to a new file, which is not the one read. */
static int seen_before(const char *path, const struct stat *st)
{
	struct file_id f = { st->st_dev, st->st_ino, 0, 0 };
	struct statx sx;

	if ((path ? statx(AT_FDCWD, path, 0, STATX_BTIME, &sx) : statx(STDIN_FILENO, "", AT_EMPTY_PATH, STATX_BTIME, &sx)) == 0 &&
	    (sx.stx_mask & STATX_BTIME) && sx.stx_ino == (uint64_t)st->st_ino &&
	    makedev(sx.stx_dev_major, sx.stx_dev_minor) == st->st_dev) {
		f.born_s = sx.stx_btime.tv_sec;
		f.born_ns = (long)sx.stx_btime.tv_nsec;
	}

	if (2 * (n_seen + 1) > seen_cap) {
		size_t cap = seen_cap ? seen_cap * 2 : 256;
		struct file_id *t = xmalloc(cap * sizeof *t);
		memset(t, 0xff, cap * sizeof *t); /* all ones: empty (no file has inode ~0) */
		for (size_t i = 0; i < seen_cap; i++)
			if (seen[i].ino != (ino_t)-1) {
				size_t h = id_hash(&seen[i], cap);
				while (t[h].ino != (ino_t)-1)
					h = (h + 1) & (cap - 1);
				t[h] = seen[i];
			}
		free(seen);
		seen = t;
		seen_cap = cap;
	}
	size_t h = id_hash(&f, seen_cap);
	for (; seen[h].ino != (ino_t)-1; h = (h + 1) & (seen_cap - 1))
		if (seen[h].dev == f.dev && seen[h].ino == f.ino && seen[h].born_s == f.born_s &&
		    seen[h].born_ns == f.born_ns)
			return 1;
	seen[h] = f;
	n_seen++;
	return 0;
}

/* This run's own outputs (stdout and the rejects file, when regular files):
 * found in a walked directory they are not dumps. Read, they would feed the
 * run its own envelopes, or its rejects, as they are being written. */
static struct file_id own[2];
static int n_own;

static void add_own(const struct stat *st)
{
	if (S_ISREG(st->st_mode))
		own[n_own++] = (struct file_id){ st->st_dev, st->st_ino, 0, 0 };
}

static int is_own(const struct stat *st)
{
	for (int i = 0; i < n_own; i++)
		if (own[i].dev == st->st_dev && own[i].ino == st->st_ino)
			return 1;
	return 0;
}

/* The directories from the argument down to the one being read: a directory
 * met again among them is a symlink loop (d/self -> .), worth a word. */
#define MAX_DEPTH 32
static struct file_id walk[MAX_DEPTH + 2];

static void read_path(const char *path, const struct opts *o, struct jparser *parser, int depth)
{
	struct stat st;
	int found = strcmp(path, "-") != 0 && stat(path, &st) == 0;

	if (depth > 0 && found && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		/* A FIFO in a dump directory would block the walk until someone writes
		 * to it, a socket cannot be read: named on the command line they are
		 * read (<(zcat ...)); found in a directory they are not dumps. */
		warn_msg(0, "'%s': not a regular file, skipped", path);
		diag_system_error();
		return;
	}
	if (depth > 0 && !found && errno == ENOENT && lstat(path, &st) < 0 && errno == ENOENT) {
		/* listed, then renamed or removed before its turn: a rotation
		 * (a.ndjson.1 -> a.ndjson.1.gz) while the run reads the directory,
		 * whose new name the next run reads. Said, no failure (a dangling
		 * symlink, still there, is one: read_file), also under --quiet: a
		 * file removed, not renamed, is events never read (review R19 3) */
		warn_msg(0, "'%s': gone since its directory was read (rotated or removed?), skipped", path);
		return;
	}
	if (depth > 0 && found && is_own(&st)) {
		notice_at(NULL, 0, "'%s': this run's own output or rejects file, skipped", path);
		return;
	}
	if (!found || !S_ISDIR(st.st_mode)) {
		/* a dump is read once a run: named twice, or named and in a directory
		 * named too (dumps/ dumps/today.ndjson), its events would come twice;
		 * what is not a regular file (a pipe, <(zcat ...)) is read as named;
		 * one that cannot be read says so (read_file) */
		if (found && S_ISREG(st.st_mode) && seen_before(path, &st)) {
			if (depth == 0)
				notice_at(NULL, 0, "'%s': read already in this run, skipped", path);
			return;
		}
		/* stdin redirected from a dump named too (f.ndjson - < f.ndjson) */
		if (!strcmp(path, "-") && fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode) && seen_before(NULL, &st)) {
			notice_at(NULL, 0, "'-': standard input is a file read already in this run, skipped");
			return;
		}
		read_file(path, o, parser);
		return;
	}
	for (int i = 0; i < depth; i++)
		if (walk[i].dev == st.st_dev && walk[i].ino == st.st_ino) {
			warn_msg(0, "'%s': a symlink loop (the directory is its own ancestor), skipped", path);
			diag_system_error();
			return;
		}
	if (seen_before(path, &st))
		return; /* another path to a directory read already */
	if (depth > MAX_DEPTH) {
		warn_msg(0, "'%s': nested more than %d directories below the one named, not read", path, MAX_DEPTH);
		diag_system_error();
		return;
	}
	walk[depth] = (struct file_id){ st.st_dev, st.st_ino, 0, 0 };
	DIR *d = opendir(path);
	if (!d) {
		warn_msg(errno, "cannot open directory '%s'", path);
		diag_system_error();
		return;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue; /* ., .., and hidden files such as .gitkeep */
		if (n == cap)
			names = xrealloc(names, (cap = cap ? cap * 2 : 64) * sizeof *names);
		size_t len = strlen(path) + strlen(de->d_name) + 2;
		names[n] = xmalloc(len);
		snprintf(names[n++], len, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/", de->d_name);
	}
	closedir(d);
	if (n > 0) /* an empty directory: names is NULL, which qsort must not be given */
		qsort(names, n, sizeof *names, by_name);
	for (size_t i = 0; i < n; i++) {
		read_path(names[i], o, parser, depth + 1);
		free(names[i]);
	}
	free(names);
}

/* bound: --since or --until, whose fraction of a millisecond rounds up */
static int64_t parse_time_opt(const char *name, const char *text, int bound)
{
	int64_t ms;
	if ((bound ? parse_rfc3339_bound(text, &ms) : parse_rfc3339(text, &ms)) < 0)
		die_usage(synopsis, "%s: '%s' is not an RFC 3339 time", name, text);
	return ms;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"project", required_argument, NULL, 'P'},
		{"provider", required_argument, NULL, 'p'},
		{"since", required_argument, NULL, 's'},
		{"until", required_argument, NULL, 'u'},
		{"received-at", required_argument, NULL, 'a'},
		{"source", required_argument, NULL, 'S'},
		{"rejects", required_argument, NULL, 'R'},
		{"max-line", required_argument, NULL, 'L'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct opts o = { .project = DEFAULT_PROJECT, .max_line = LINE_MAX_DEFAULT, .since = INT64_MIN, .until = INT64_MAX };
	char received[RFC3339_BUFSZ];
	const char *why;
	int64_t ms;
	int ch;
	const char *rejects_path = NULL;

	diag_init("fetch-events");
	while ((ch = getopt_said(argc, argv, "qhV", longopts)) != -1) {
		switch (ch) {
		case 'P':
			if ((why = project_id_problem(optarg)))
				die_usage(synopsis, "--project %s", why);
			o.project = optarg;
			break;
		case 'p':
			if (!(o.provider = connector_by_name(optarg)))
				die_usage(synopsis, "unknown provider '%s' (the providers: %s)", optarg, connector_names());
			break;
		case 's': o.since = parse_time_opt("--since", optarg, 1); break;
		case 'u': o.until = parse_time_opt("--until", optarg, 1); break;
		case 'a':
			/* it ends in every envelope: one normalize and load refuse is no use */
			if (!time_in_range(ms = parse_time_opt("--received-at", optarg, 0)))
				die_usage(synopsis, "--received-at: '%s' is not in 1970..9999", optarg);
			if (arrival_in_future(ms))
				die_usage(synopsis, "--received-at: '%s' is more than a day in the future", optarg);
			o.received_at = fmt_rfc3339(ms, received);
			break;
		case 'S':
			/* it is stored and compared as written: text every reader takes */
			if (!*optarg || strlen(optarg) > PATH_MAX || !utf8_valid(optarg, strlen(optarg)) ||
			    strpbrk(optarg, "\t\n\r"))
				die_usage(synopsis, "--source: not empty, at most %d bytes of UTF-8 text on one line",
					  PATH_MAX);
			o.source = optarg;
			break;
		case 'R': rejects_path = optarg; break;
		case 'L':
			o.max_line = max_line_opt(synopsis, optarg);
			break;
		case 'q': diag_quiet(); break;
		case 'h': fputs(synopsis, stdout); fputs("\n", stdout); printf(help, connector_names()); return diag_finish();
		case 'V': puts("fetch-events (RevenueOS Pipelines) " RO_VERSION); return diag_finish();
		default: fputs(synopsis, stderr); return EXIT_USAGE;
		}
	}
	if (o.since >= o.until) /* swapped in a cron line: an empty window would read as all clear */
		die_usage(synopsis, "--since is not before --until, to the millisecond (a bound's fraction of one "
			  "rounds up): no event could pass");
	for (int i = optind; o.source && i < argc; i++)
		if (strcmp(argv[i], "-") != 0) /* a file's lines have their own sources */
			die_usage(synopsis, "--source is for stdin only, not '%s'", argv[i]);
	rejects_setup(synopsis, rejects_path, argv + optind, argc - optind);
	struct stat st;
	if (fstat(STDOUT_FILENO, &st) == 0)
		add_own(&st);
	if (rejects_path && stat(rejects_path, &st) == 0)
		add_own(&st);
	struct jparser *parser = jparser_new();
	jparser_track_members(parser); /* a capture's body is sliced out of its line */
	if (optind == argc)
		read_path("-", &o, parser, 0);
	for (int i = optind; i < argc; i++)
		read_path(argv[i], &o, parser, 0);
	if (last_page.len)
		note_at(last_page.buf, last_page_line, "warning: the last page of Stripe's list of events read has has_more "
			"true: the events after it are not in this input (fetch the next pages: starting_after, or --limit 100)");
	sb_free(&last_page);
	jparser_free(parser);
	free(seen);
	return diag_finish();
}
