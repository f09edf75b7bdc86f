/*
 * normalize: raw webhook envelopes (or bare provider payloads) in, canonical
 * events out (docs/events.md). One connector per provider does the mapping.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>

#include "connector.h"
#include "diag.h"
#include "envelope.h"
#include "lineio.h"
#include "records.h"
#include "secret.h"
#include "strbuf.h"
#include "timeutil.h"

static const char synopsis[] =
	"usage: normalize [--emit-raw] [--provider NAME] [--project ID] [--received-at TIME]\n"
	"                 [--plans FILE] [--rejects FILE] [--max-line SIZE] [--jobs N]\n"
	"                 [--quiet] [FILE...]\n";

static const char help[] =
	"Map raw webhook envelopes from fetch-events (or bare Stripe / Hotmart payloads)\n"
	"to canonical events, one JSON object a line (docs/events.md). Every event comes\n"
	"out processed, ignored (a type we do not use) or failed (with the reason).\n"
	"Input is one JSON object a line: a payload saved as a document over several\n"
	"lines (pretty-printed) is read by fetch-events FILE | normalize.\n"
	"\n"
	"  --emit-raw        write each raw envelope line before its canonical event\n"
	"                    (the stream the loader takes)\n"
	"  --provider NAME   take bare payloads as this provider's (%s)\n"
	"                    instead of detecting it\n"
	"  --project ID      project of bare payloads (default: default); an envelope\n"
	"                    keeps its own (said once when it is another)\n"
	"  --received-at TIME\n"
	"                    received_at of bare payloads (default: the file's\n"
	"                    modification time; stdin: now)\n"
	"  --plans FILE      map price / offer ids to plan codes: lines of\n"
	"                    PROVIDER PRICE_ID PLAN_CODE (blanks or one comma between;\n"
	"                    a code is lower-case letters, digits, _ . -, from a letter\n"
	"                    or digit; '#' after a blank starts a comment; a line that\n"
	"                    cannot be read, or a price mapped to two plans, is named\n"
	"                    and nothing is done: exit 2)\n"
	"  --rejects FILE    write rejected lines there as JSON (file, line, code, message, raw)\n"
	"  --max-line SIZE   longest accepted line (default 16M)\n"
	"  --jobs N          threads (default: the cores, at most 4); the output is the\n"
	"                    same, in input order, for any N\n"
	"  -q, --quiet       no notices of what needs no look (a file's modification time\n"
	"                    not used, --project given where envelopes keep their own):\n"
	"                    for cron, stderr then says only what went wrong\n"
	"  -h, --help, -V, --version\n"
	"\n"
	"Exit status: 0 every line normalized; 1 some lines rejected or events failed\n"
	"(each reported on stderr as 'normalize: FILE:LINE: ...'); 2 usage, or a --plans\n"
	"line that cannot be read; 3 I/O error (the --plans file too).\n"
	"\n"
	"Example:\n"
	"  fetch-events --project acme dumps/*.ndjson.gz | normalize > events.ndjson\n";

struct opts {
	int emit_raw;
	const char *received_at; /* --received-at, RFC 3339 UTC */
	size_t max_line;
	const struct connector *provider;
	const char *project;
	int project_given; /* --project was given: said once when an envelope names another */
	json_object *plans; /* "provider\x1fprice_id" -> plan code */
};

/* Threads by default: the cores there are, at most 4 (more do not pay for
 * the memory of their jobs). */
static long default_jobs(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 4 ? 4 : n;
}

/*
 * The fields of a plans line, at most max, into f: separated by blanks (spaces,
 * tabs), or by a comma with blanks around it or not; a field cannot be empty
 * ("a,,b", a trailing comma). The count, or -1 when a field is empty.
 */
static int plan_fields(char *s, char **f, int max)
{
	int n = 0;

	s += strspn(s, " \t");
	while (*s) {
		if (*s == ',' || n == max)
			return *s == ',' ? -1 : n + 1; /* an empty field; or one too many */
		f[n++] = s;
		s += strcspn(s, " \t,");
		int comma = 0;
		while (*s == ' ' || *s == '\t' || *s == ',') {
			if (*s == ',' && comma++)
				return -1;
			*s++ = '\0';
		}
		if (comma && !*s)
			return -1; /* a trailing comma: an empty last field */
	}
	return n;
}

/*
 * --plans FILE: lines of PROVIDER PRICE_ID PLAN_CODE. A configuration, read
 * whole before any input: a line that cannot be read, or a price mapped to two
 * plans, names its line and ends the run (exit 2) rather than mapping some
 * prices and not others. Blank lines, '#' comments and a first line naming the
 * columns ("provider ...") are skipped.
 */
static void load_plans(const char *path, json_object *plans)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long n = 0, bad = 0;

	if (!f)
		die_sys(errno, "cannot open plans file '%s'", path);
	while (bad < 10 && (len = getline(&line, &cap, f)) > 0) { /* ten say enough */
		char *text = line, *fl[4];
		n++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		/* a byte-order mark (a spreadsheet saved it) is not part of the provider */
		if (n == 1 && strncmp(text, "\xef\xbb\xbf", 3) == 0)
			text += 3, len -= 3;
		if (memchr(text, '\0', (size_t)len) || !utf8_valid(text, (size_t)len)) {
			warn_at(path, n, "not UTF-8 text (a NUL byte or invalid UTF-8)");
			bad++;
			continue;
		}
		/* a comment: from a '#' opening the line or after a blank */
		for (char *h = text; (h = strchr(h, '#')); h++)
			if (h == text || h[-1] == ' ' || h[-1] == '\t') {
				*h = '\0';
				break;
			}
		const char *first = text + strspn(text, " \t");
		if (!*first)
			continue;
		if (n == 1 && strncasecmp(first, "provider", 8) == 0 && strchr(" \t,", first[8]))
			continue; /* the columns' names */
		int nf = plan_fields(text, fl, 3);
		if (nf != 3) {
			warn_at(path, n, "expected PROVIDER PRICE_ID PLAN_CODE%s", nf < 0 ? " (a field is empty)" :
				nf > 3 ? " (more than three fields)" : "");
			bad++;
			continue;
		}
		const char *provider = fl[0], *price = fl[1], *code = fl[2];
		/* a mapping no event can use, or one whose code the plans table
		 * refuses (every event naming the price would be rejected by load) */
		if (!connector_by_name(provider)) {
			warn_at(path, n, "unknown provider '%.40s'", provider);
			bad++;
			continue;
		}
		if (!plan_code_valid(code)) {
			char buf[41];
			warn_at(path, n, "plan code '%s' must be lower-case letters, digits, '_', '.' or '-', from a letter or digit, at most %d bytes",
				utf8_clip(code, buf, sizeof buf), PLAN_CODE_MAX);
			bad++;
			continue;
		}
		char key[512];
		if ((size_t)snprintf(key, sizeof key, "%s\x1f%s", provider, price) >= sizeof key) {
			warn_at(path, n, "price id longer than %zu bytes", sizeof key - 16);
			bad++;
			continue;
		}
		json_object *was;
		if (json_object_object_get_ex(plans, key, &was)) {
			if (strcmp(json_object_get_string(was), code) != 0) {
				char buf[81];
				warn_at(path, n, "%s price '%s' is mapped to '%s' by an earlier line: which is it?",
					provider, utf8_clip(price, buf, sizeof buf), json_object_get_string(was));
				bad++;
			}
			continue;
		}
		json_object_object_add(plans, key, json_object_new_string(code));
	}
	if (ferror(f))
		die_sys(errno, "cannot read plans file '%s'", path);
	free(line);
	fclose(f);
	if (bad) {
		warn_msg(0, "--plans '%s': %ld%s line%s not read; nothing done", path, bad, bad == 10 ? " or more" : "",
			 bad == 1 ? "" : "s");
		exit(EXIT_USAGE);
	}
}

static void map_plan(struct event *ev, const char *provider, json_object *plans)
{
	json_object *price = event_get(ev, SEC_SUBSCRIPTION, "price_id"), *code;
	char key[512];

	if (!plans || !price || event_get(ev, SEC_SUBSCRIPTION, "plan_code"))
		return;
	/* a key cut short could match another price's: a price that long maps to nothing */
	if ((size_t)snprintf(key, sizeof key, "%s\x1f%s", provider, json_object_get_string(price)) >= sizeof key)
		return;
	if (json_object_object_get_ex(plans, key, &code))
		event_str(ev, SEC_SUBSCRIPTION, "plan_code", json_object_get_string(code));
}

/*
 * Lines are normalized in jobs of up to JOB_LINES lines. With --jobs N, N
 * threads work on jobs while the main thread reads the next ones; a job's
 * output and diagnostics are written by the main thread, in input order, so
 * the bytes on stdout, stderr and the rejects file are the same for any N.
 */
#define JOB_LINES 256
#define JOB_BYTES (1 << 20)

struct item {
	size_t off, len; /* the line in job->text */
	long lineno;
	int too_long;
};

struct note {
	long lineno;
	int is_reject;
	int is_notice; /* said once a run, the first in input order; no data error */
	enum reject_code code;
	size_t raw_off, raw_len;
	char msg[400];
};

struct job {
	const char *file;
	const char *received_at; /* of bare payloads: --received-at, or the file's time */
	struct strbuf text; /* the lines, each followed by a NUL */
	struct item *items;
	size_t n, cap;
	struct strbuf out;
	struct note *notes;
	size_t nnotes, notes_cap;
	int noticed; /* a notice is in notes: one a job is enough */
	int done;
};

static struct note *job_note(struct job *j, const struct record_input *in, const char *fmt, va_list ap)
{
	if (j->nnotes == j->notes_cap)
		j->notes = xrealloc(j->notes, (j->notes_cap = j->notes_cap * 2 + 8) * sizeof *j->notes);
	struct note *n = &j->notes[j->nnotes++];
	memset(n, 0, sizeof *n);
	n->lineno = in->line->lineno;
	n->raw_off = (size_t)(in->line->text - j->text.buf);
	n->raw_len = in->line->len;
	vsnprintf(n->msg, sizeof n->msg, fmt, ap);
	utf8_repair(n->msg); /* a character the cut split: a '?' */
	return n;
}

static void job_reject(struct job *j, const struct record_input *in, enum reject_code code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void job_reject(struct job *j, const struct record_input *in, enum reject_code code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct note *n = job_note(j, in, fmt, ap);
	va_end(ap);
	n->is_reject = 1;
	n->code = code;
}

static void job_warn(struct job *j, const struct record_input *in, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void job_warn(struct job *j, const struct record_input *in, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	job_note(j, in, fmt, ap);
	va_end(ap);
}

/* A notice (no data error), said once a run: the first in input order, as
 * emit_job() writes the jobs in it, whatever thread met it first. */
static void job_notice(struct job *j, const struct record_input *in, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void job_notice(struct job *j, const struct record_input *in, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	job_note(j, in, fmt, ap)->is_notice = 1;
	va_end(ap);
	j->noticed = 1;
}

/* env[key] as a string without a NUL character (a C string would cut it
 * short): 1, 0 when absent or null, -1 when of another kind. */
static int member_text(json_object *env, const char *key, const char **out)
{
	json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(env, key, &v) || !v)
		return 0;
	if (!json_object_is_type(v, json_type_string) || jstr_has_nul(v))
		return -1;
	*out = json_object_get_string(v);
	return 1;
}

/* t is an RFC 3339 time in 1970..9999: 0, its canonical form in out and its
 * instant in *ms, or -1. */
static int envelope_time(const char *t, char out[RFC3339_BUFSZ], int64_t *ms)
{
	if (parse_rfc3339_strict(t, ms) < 0 || !time_in_range(*ms))
		return -1;
	fmt_rfc3339(*ms, out);
	return 0;
}

/*
 * The envelope's fields into origin, checked as the loader checks them
 * (docs/events.md): an envelope it would refuse is rejected here, so neither
 * it (--emit-raw) nor an event made from it reaches the loader. 0, or -1
 * after rejecting the line.
 */
static int envelope_fields(struct job *j, const struct record_input *in, struct event_origin *origin,
			   char received[RFC3339_BUFSZ])
{
	static const char *const keys[] = { "external_event_id", "project_id", "received_at", "source",
					    "event_type", "occurred_at" };
	const char *val[6], *why;
	char occurred[RFC3339_BUFSZ];
	int64_t ms[6];

	for (int i = 0; i < 6; i++) {
		int st = member_text(in->obj, keys[i], &val[i]);
		if (st == 0 && i < 4) {
			job_reject(j, in, i == 0 ? REJ_MISSING_EVENT_ID : REJ_MISSING_FIELD, "envelope without '%s'",
				   keys[i]);
			return -1;
		}
		if (st < 0 || (st > 0 && i < 4 && !*val[i])) {
			job_reject(j, in, REJ_INVALID_FIELD, "envelope '%s' must be a %sstring without U+0000",
				   keys[i], i < 4 ? "non-empty " : "");
			return -1;
		}
	}
	if (strstr(val[0], "\xEF\xBF\xBD")) { /* jsonutil.h, jstr_has_fffd */
		job_reject(j, in, REJ_INVALID_FIELD, "envelope 'external_event_id' contains U+FFFD"
			   " (a lone UTF-16 surrogate?): not an id");
		return -1;
	}
	if ((why = project_id_problem(val[1]))) {
		job_reject(j, in, REJ_INVALID_FIELD, "envelope 'project_id' %s", why);
		return -1;
	}
	for (int i = 2; i <= 5; i += 3)
		if (val[i] && envelope_time(val[i], i == 2 ? received : occurred, &ms[i]) < 0) {
			job_reject(j, in, REJ_INVALID_FIELD, "envelope '%s' is not an RFC 3339 time in 1970..9999",
				   keys[i]);
			return -1;
		}
	/* no webhook arrives from the future: such a time would stay the
	 * integration's latest and keep it "fresh" (integration_freshness_view) */
	if (arrival_in_future(ms[2])) {
		job_reject(j, in, REJ_INVALID_FIELD, "envelope 'received_at' is more than a day in the future");
		return -1;
	}
	origin->external_event_id = val[0];
	origin->project_id = val[1];
	origin->received_at = received;
	origin->source = val[3];
	return 0;
}

/*
 * An envelope names its payload: the id the connector reads from it, as
 * fetch-events writes it. One that names another (written by hand, or by
 * another tool) is rejected: its raw row would file the payload under another
 * event than the canonical event made from it. Its type and time are taken as
 * they come (a payload's time another release reads otherwise, a Hotmart text
 * time without a zone, is no reason to lose the line). 1 after rejecting it.
 */
static int envelope_disagrees(struct job *j, const struct record_input *in, const struct event_origin *origin,
			      const struct event_identity *id)
{
	char a[121], b[121];

	if (strcmp(origin->external_event_id, id->event_id) == 0)
		return 0;
	job_reject(j, in, REJ_INVALID_FIELD, "envelope 'external_event_id' '%s' is not its payload's, '%s'",
		   utf8_clip(origin->external_event_id, a, sizeof a), utf8_clip(id->event_id, b, sizeof b));
	return 1;
}

static void one(struct job *j, const struct record_input *in, const struct opts *o)
{
	const char *kind = jstr(in->obj, "record");
	struct event_origin origin = {0};
	struct event_identity id = {0};
	struct jerr err = {0};
	const struct connector *c;
	json_object *payload;
	char source[PATH_MAX + 24], received[RFC3339_BUFSZ]; /* "FILE:LINE", whole */
	/* the line read for a secret once: what --emit-raw writes is a part of it */
	const int secrets = secret_in_text(in->line->text, in->line->len);

	if (kind && strcmp(kind, "raw") == 0) {
		const char *provider;
		int st = member_text(in->obj, "provider", &provider);
		if (st <= 0 || !*provider) {
			/* empty, as the other fields (and load): no name at all, not an unknown one */
			job_reject(j, in, st ? REJ_INVALID_FIELD : REJ_MISSING_FIELD, st ? "envelope 'provider' must be"
				   " a non-empty string without U+0000" : "envelope without 'provider'");
			return;
		}
		if (!(c = connector_by_name(provider))) {
			job_reject(j, in, REJ_UNKNOWN_PROVIDER, "no connector for provider '%s'", provider);
			return;
		}
		/* A secret is read by no one: a member that is one is left out of
		 * the envelope and its payload before anything reads them, as the
		 * loader stores them (a type of "X hottok=S" reached the event's
		 * reason and the log: audit-R7 B); one the envelope needs refuses it. */
		if (secrets) {
			static const char *const needed[] = { "external_event_id", "project_id", "received_at",
							      "source", NULL };
			const char *k = secret_record_names(in->obj, needed);
			if (k) {
				job_reject(j, in, REJ_INVALID_FIELD, "envelope '%s' holds a secret (docs/events.md)", k);
				return;
			}
			secret_drop_record(in->obj);
		}
		payload = jpath(in->obj, "payload");
		if (!json_object_is_type(payload, json_type_object)) {
			job_reject(j, in, REJ_MISSING_FIELD, "envelope without a 'payload' object");
			return;
		}
		if (envelope_fields(j, in, &origin, received) < 0)
			return;
		/* --project is for bare payloads; an envelope keeps its own: a run
		 * meant for another project says so, once */
		if (o->project_given && strcmp(origin.project_id, o->project) != 0 && !j->noticed) {
			char pbuf[81];
			job_notice(j, in, "--project '%s' is for bare payloads: this envelope keeps its project '%s' "
				   "(said once)", o->project, utf8_clip(origin.project_id, pbuf, sizeof pbuf));
		}
	} else if (kind && strcmp(kind, "event") == 0) {
		job_reject(j, in, REJ_INVALID_FIELD, "already a canonical event");
		return;
	} else {
		payload = in->obj;
		if (in->depth > PAYLOAD_MAX_DEPTH) {
			/* its envelope would be too deep for the next program (and fetch-events
			 * refuses it alike) */
			job_reject(j, in, REJ_TOO_DEEP, "JSON nested deeper than %d levels (a payload: its envelope "
				   "nests it once more)", PAYLOAD_MAX_DEPTH);
			return;
		}
		if (in->units > PAYLOAD_MAX_UNITS) {
			job_reject(j, in, REJ_TOO_MANY_VALUES, PAYLOAD_TOO_LARGE_MSG, PAYLOAD_MAX_UNITS);
			return;
		}
		c = o->provider ? o->provider : connector_detect(payload);
		if (!c) {
			job_reject(j, in, REJ_UNKNOWN_PROVIDER, "not a raw envelope nor a payload of a known provider");
			return;
		}
		/* told by a secret's presence (Hotmart's hottok), read without its
		 * members: as the envelope fetch-events writes of it */
		if (secrets)
			secret_drop(payload);
		origin.project_id = o->project;
		origin.received_at = j->received_at;
		snprintf(source, sizeof source, "%s:%ld", in->file, in->line->lineno);
		origin.source = source;
	}
	origin.provider = c->name;
	if (c->identify(payload, &id, &err) < 0) {
		if (!origin.external_event_id) {
			job_reject(j, in, REJ_MISSING_EVENT_ID, "%s", err.reason);
			return;
		}
		/* An envelope names the event; the event itself fails below. */
	} else if (!origin.external_event_id) {
		origin.external_event_id = id.event_id;
	} else if (envelope_disagrees(j, in, &origin, &id)) {
		return;
	}
	origin.provider_event_type = id.event_type;
	origin.occurred_ms = id.occurred_ms = identity_time(&id, origin.received_at);

	if (o->emit_raw) {
		const char *text = in->line->text;
		size_t len = in->line->len;
		/* a bare payload's envelope is the one fetch-events makes
		 * (audit-normalize 5) */
		if (payload == in->obj)
			envelope_trim(&text, &len);
		/* A bare payload, or an envelope from elsewhere, may still hold a
		 * secret: its members are left out of the text, the rest as it came. */
		char *clean = !secrets ? NULL : payload == in->obj ? secret_strip(text, len, &len)
								   : secret_strip_record(text, len, &len);
		if (clean)
			text = clean;
		if (payload == in->obj) {
			struct envelope e = {
				c->name, origin.external_event_id, id.event_type, origin.project_id,
				origin.received_at, source, id.occurred_ms, text, len,
			};
			size_t too_long = envelope_append(&j->out, &e, o->max_line);
			if (too_long) {
				job_reject(j, in, REJ_LINE_TOO_LONG, ENVELOPE_TOO_LONG, too_long, o->max_line);
				free(clean);
				return;
			}
		} else {
			size_t at = j->out.len;
			sb_add(&j->out, text, len);
			json_cr_to_space(j->out.buf + at, len);
			sb_add(&j->out, "\n", 1);
		}
		free(clean);
	}

	struct event ev;
	event_init(&ev, &origin);
	if (err.failed)
		event_fail(&ev, "%s", err.reason);
	else
		c->normalize(payload, &ev);
	map_plan(&ev, c->name, o->plans);
	const char *reason = event_reason(&ev); /* settles the status: its last checks may fail it */
	if (ev.status == EV_FAILED) {
		char idbuf[121], srcbuf[257]; /* an id of any length: the reason must show */
		/* an envelope's source too (the dump's file and line, as load's messages
		 * give it): this line is a pipe's, which no one can open */
		int own = origin.source && origin.source != source;
		job_warn(j, in, "event '%s'%s%s%s failed: %s", utf8_clip(origin.external_event_id, idbuf, sizeof idbuf),
			 own ? " (" : "", own ? utf8_clip(origin.source, srcbuf, sizeof srcbuf) : "", own ? ")" : "",
			 reason);
	}
	event_append(&ev, &j->out);
	event_free(&ev);
}

/* A first line that opens an object or array and does not close it: the start
 * of a JSON document written over several lines (a payload saved pretty-printed). */
static int opens_document(const char *s, size_t n)
{
	while (n && memchr(" \t\r", s[n - 1], 3))
		n--;
	while (n && memchr(" \t\xef\xbb\xbf", *s, 5)) /* a BOM too */
		s++, n--;
	return n && (*s == '{' || *s == '[') && s[n - 1] != '}' && s[n - 1] != ']';
}

/* Parse and normalize every line of a job (in a worker thread, or inline). */
static void run_job(struct job *j, struct jparser *p, const struct opts *o)
{
	for (size_t i = 0; i < j->n; i++) {
		const struct item *it = &j->items[i];
		struct line l = { j->text.buf + it->off, it->len, it->lineno, it->too_long };
		struct record_input in = { j->file, &l, NULL, 0, 0 };
		enum reject_code code;
		char msg[256];

		if (it->too_long) {
			job_reject(j, &in, REJ_LINE_TOO_LONG, "line longer than %zu bytes", o->max_line);
			continue;
		}
		if (!(in.obj = jparse(p, l.text, l.len, &code, msg, sizeof msg))) {
			if (code == REJ_INVALID_JSON && l.lineno == 1 && opens_document(l.text, l.len))
				job_reject(j, &in, code, "%s (a JSON document over several lines? normalize reads"
					   " one a line: fetch-events FILE | normalize)", msg);
			else
				job_reject(j, &in, code, "%s", msg);
			continue;
		}
		in.depth = jparser_depth(p);
		in.units = jparser_units(p);
		if (!json_object_is_type(in.obj, json_type_object))
			job_reject(j, &in, REJ_NOT_OBJECT, "expected a JSON object, got %s", jtype_name(in.obj));
		else if (jparser_key_nul(p))
			job_reject(j, &in, REJ_INVALID_FIELD, NUL_KEY_MSG);
		else
			one(j, &in, o);
		json_object_put(in.obj);
	}
}

/* Write a finished job: its diagnostics in line order, then its output, so
 * that a reader gone (| head: SIGPIPE) does not take the rejects with it. */
static void emit_job(struct job *j)
{
	static int noticed;

	for (size_t i = 0; i < j->nnotes; i++) {
		const struct note *n = &j->notes[i];
		if (n->is_reject)
			reject(j->file, n->lineno, n->code, j->text.buf + n->raw_off, n->raw_len, "%s", n->msg);
		else if (!n->is_notice)
			warn_at(j->file, n->lineno, "%s", n->msg);
		else if (!noticed++)
			notice_at(j->file, n->lineno, "%s", n->msg);
	}
	xwrite(j->out.buf, j->out.len, stdout);
	j->text.len = j->out.len = 0;
	j->n = j->nnotes = j->noticed = 0;
}

struct pool {
	char received_at[RFC3339_BUFSZ]; /* the file's, for its jobs */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *ring;
	size_t nring;
	size_t filled, taken, emitted; /* job counters; ring slot = counter % nring */
	int quit;
	const struct opts *o;
};

static void *worker(void *arg)
{
	struct pool *pl = arg;
	struct jparser *p = jparser_new();

	pthread_mutex_lock(&pl->mu);
	for (;;) {
		while (pl->taken == pl->filled && !pl->quit)
			pthread_cond_wait(&pl->cv, &pl->mu);
		if (pl->taken == pl->filled)
			break;
		struct job *j = &pl->ring[pl->taken++ % pl->nring];
		pthread_mutex_unlock(&pl->mu);
		run_job(j, p, pl->o);
		pthread_mutex_lock(&pl->mu);
		j->done = 1;
		pthread_cond_broadcast(&pl->cv);
	}
	pthread_mutex_unlock(&pl->mu);
	jparser_free(p);
	return NULL;
}

/* Emit the oldest job once it is done. */
static void emit_oldest(struct pool *pl)
{
	struct job *j = &pl->ring[pl->emitted % pl->nring];

	pthread_mutex_lock(&pl->mu);
	while (!j->done)
		pthread_cond_wait(&pl->cv, &pl->mu);
	pthread_mutex_unlock(&pl->mu);
	emit_job(j);
	pl->emitted++;
}

/* Hand the job being filled to the workers (or run it here, without threads). */
static void submit(struct pool *pl, struct jparser *inline_parser)
{
	struct job *j = &pl->ring[pl->filled % pl->nring];

	if (j->n == 0)
		return;
	if (!inline_parser) {
		pthread_mutex_lock(&pl->mu);
		j->done = 0;
		pl->filled++;
		pthread_cond_broadcast(&pl->cv);
		pthread_mutex_unlock(&pl->mu);
	} else {
		run_job(j, inline_parser, pl->o);
		j->done = 1;
		pl->filled++;
		pl->taken++;
	}
	if (pl->filled - pl->emitted == pl->nring || inline_parser)
		emit_oldest(pl);
}

static void drain(struct pool *pl)
{
	while (pl->emitted < pl->filled)
		emit_oldest(pl);
}

static void read_file(const char *path, struct pool *pl, struct jparser *inline_parser)
{
	struct line_reader *lr = lr_open(path, pl->o->max_line);
	struct line l;
	int r;

	if (!lr) {
		warn_msg(errno, "cannot open '%s'", path);
		diag_system_error();
		return;
	}
	/* when bare payloads arrived, as fetch-events takes it: the option, the
	 * file's modification time, or now (stdin) */
	file_received_at(path, pl->o->received_at, pl->received_at);
	while ((r = lr_next(lr, &l)) == LR_LINE) {
		progress_tick(l.len + 1);
		if (!l.too_long && strspn(l.text, " \t\r") == l.len)
			continue; /* blank lines carry no record */
		struct job *j = &pl->ring[pl->filled % pl->nring];
		size_t keep = l.too_long && l.len > RAW_IN_REJECT ? RAW_IN_REJECT : l.len;
		if (j->n == j->cap)
			j->items = xrealloc(j->items, (j->cap = j->cap * 2 + JOB_LINES) * sizeof *j->items);
		j->file = lr_name(lr);
		j->received_at = pl->received_at;
		j->items[j->n++] = (struct item){ j->text.len, keep, l.lineno, l.too_long };
		sb_add(&j->text, l.text, keep);
		sb_add(&j->text, "", 1);
		if (j->n == JOB_LINES || j->text.len >= JOB_BYTES)
			submit(pl, inline_parser);
	}
	submit(pl, inline_parser);
	drain(pl); /* the file's name dies with its reader */
	if (r == LR_ERROR)
		lr_reject_error(lr, lr_name(lr), l.lineno);
	lr_close(lr);
}

static void normalize_all(char *const *files, int nfiles, int jobs, const struct opts *o)
{
	struct pool pl = { .nring = jobs > 1 ? (size_t)jobs * 2 : 1, .o = o };
	pthread_t *threads = NULL;
	struct jparser *inline_parser = NULL;

	pl.ring = xmalloc(pl.nring * sizeof *pl.ring);
	memset(pl.ring, 0, pl.nring * sizeof *pl.ring);
	if (jobs > 1) {
		pthread_mutex_init(&pl.mu, NULL);
		pthread_cond_init(&pl.cv, NULL);
		threads = xmalloc((size_t)jobs * sizeof *threads);
		for (int i = 0; i < jobs; i++) {
			int err = pthread_create(&threads[i], NULL, worker, &pl);
			if (err)
				die_sys(err, "cannot start a thread");
		}
	} else {
		inline_parser = jparser_new();
	}
	if (nfiles == 0)
		read_file("-", &pl, inline_parser);
	for (int i = 0; i < nfiles; i++)
		read_file(files[i], &pl, inline_parser);
	if (jobs > 1) {
		pthread_mutex_lock(&pl.mu);
		pl.quit = 1;
		pthread_cond_broadcast(&pl.cv);
		pthread_mutex_unlock(&pl.mu);
		for (int i = 0; i < jobs; i++)
			pthread_join(threads[i], NULL);
		free(threads);
	}
	jparser_free(inline_parser);
	for (size_t i = 0; i < pl.nring; i++) {
		sb_free(&pl.ring[i].text);
		sb_free(&pl.ring[i].out);
		free(pl.ring[i].items);
		free(pl.ring[i].notes);
	}
	free(pl.ring);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"emit-raw", no_argument, NULL, 'r'},
		{"provider", required_argument, NULL, 'p'},
		{"project", required_argument, NULL, 'P'},
		{"received-at", required_argument, NULL, 'a'},
		{"plans", required_argument, NULL, 'm'},
		{"rejects", required_argument, NULL, 'R'},
		{"max-line", required_argument, NULL, 'L'},
		{"jobs", required_argument, NULL, 'j'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct opts o = { .project = DEFAULT_PROJECT };
	size_t max_line = LINE_MAX_DEFAULT;
	long jobs = default_jobs();
	char received[RFC3339_BUFSZ];
	int64_t ms;
	char *end;
	const char *why;
	int ch;
	const char *rejects_path = NULL;
	/* the --plans files, read once the options are (--help first) */
	char **plans = xmalloc((size_t)argc * sizeof *plans);
	int nplans = 0;

	diag_init("normalize");
	while ((ch = getopt_said(argc, argv, "qhV", longopts)) != -1) {
		switch (ch) {
		case 'r': o.emit_raw = 1; break;
		case 'p':
			if (!(o.provider = connector_by_name(optarg)))
				die_usage(synopsis, "unknown provider '%s' (the providers: %s)", optarg, connector_names());
			break;
		case 'P':
			if ((why = project_id_problem(optarg)))
				die_usage(synopsis, "--project %s", why);
			o.project = optarg;
			o.project_given = 1;
			break;
		case 'a':
			if (parse_rfc3339(optarg, &ms) < 0 || !time_in_range(ms))
				die_usage(synopsis, "--received-at: '%s' is not an RFC 3339 time in 1970..9999", optarg);
			if (arrival_in_future(ms))
				die_usage(synopsis, "--received-at: '%s' is more than a day in the future", optarg);
			o.received_at = fmt_rfc3339(ms, received);
			break;
		case 'm':
			if (!*optarg)
				die_usage(synopsis, "--plans: an empty file name");
			plans[nplans++] = optarg;
			break;
		case 'R': rejects_path = optarg; break;
		case 'L':
			max_line = max_line_opt(synopsis, optarg);
			break;
		case 'j':
			jobs = strtol(optarg, &end, 10);
			if (*end || end == optarg || jobs < 1 || jobs > 64)
				die_usage(synopsis, "--jobs takes a number from 1 to 64, not '%s'", optarg);
			break;
		case 'q': diag_quiet(); break;
		case 'h': free(plans); fputs(synopsis, stdout); fputs("\n", stdout); printf(help, connector_names()); return diag_finish();
		case 'V': free(plans); puts("normalize (RevenueOS Pipelines) " RO_VERSION); return diag_finish();
		default: free(plans); fputs(synopsis, stderr); return EXIT_USAGE;
		}
	}
	/* --rejects naming a plans file would empty it: the next run's --plans
	 * would read reject records (audit-normalize 2) */
	struct stat rs, ps;
	for (int i = 0; rejects_path && i < nplans; i++)
		if (stat(rejects_path, &rs) == 0 && stat(plans[i], &ps) == 0 && rs.st_dev == ps.st_dev &&
		    rs.st_ino == ps.st_ino && S_ISREG(rs.st_mode))
			die_usage(synopsis, "--rejects: it is the --plans file (it would be emptied)");
	for (int i = 0; i < nplans; i++) {
		if (!o.plans)
			o.plans = json_object_new_object();
		load_plans(plans[i], o.plans);
	}
	free(plans);
	rejects_setup(synopsis, rejects_path, argv + optind, argc - optind);
	o.max_line = max_line;
	normalize_all(argv + optind, argc - optind, jobs, &o);
	json_object_put(o.plans);
	return diag_finish();
}
