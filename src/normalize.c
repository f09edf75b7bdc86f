/*
 * normalize: raw webhook envelopes (or bare provider payloads) in, canonical
 * events out (docs/events.md). One connector per provider does the mapping.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connector.h"
#include "diag.h"
#include "envelope.h"
#include "records.h"
#include "timeutil.h"

static const char synopsis[] =
	"usage: normalize [--emit-raw] [--provider NAME] [--project ID] [--plans FILE]\n"
	"                 [--rejects FILE] [--max-line SIZE] [FILE...]\n";

static const char help[] =
	"Map raw webhook envelopes from fetch-events (or bare Stripe / Hotmart payloads)\n"
	"to canonical events, one JSON object a line (docs/events.md). Every event comes\n"
	"out processed, ignored (a type we do not use) or failed (with the reason).\n"
	"\n"
	"  --emit-raw        write each raw envelope line before its canonical event\n"
	"                    (the stream the loader takes)\n"
	"  --provider NAME   take bare payloads as this provider's (stripe, hotmart)\n"
	"                    instead of detecting it\n"
	"  --project ID      project of bare payloads (default: default)\n"
	"  --plans FILE      map price / offer ids to plan codes: lines of\n"
	"                    PROVIDER PRICE_ID PLAN_CODE (tabs, commas or spaces)\n"
	"  --rejects FILE    write rejected lines there as JSON (file, line, code, message, raw)\n"
	"  --max-line SIZE   longest accepted line (default 16M)\n"
	"  --help, --version\n"
	"\n"
	"Exit status: 0 every line normalized; 1 some lines rejected or events failed\n"
	"(each reported on stderr as 'normalize: FILE:LINE: ...'); 2 usage; 3 I/O error.\n"
	"\n"
	"Example:\n"
	"  fetch-events --project acme dumps/*.ndjson.gz | normalize > events.ndjson\n";

struct opts {
	int emit_raw;
	const struct connector *provider;
	const char *project;
	json_object *plans; /* "provider\x1fprice_id" -> plan code */
};

static void load_plans(const char *path, json_object *plans)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	long n = 0;

	if (!f)
		die_sys(errno, "cannot open plans file '%s'", path);
	while (getline(&line, &cap, f) > 0) {
		n++;
		char *save, *provider = strtok_r(line, " \t,\r\n", &save);
		if (!provider || provider[0] == '#')
			continue;
		char *price = strtok_r(NULL, " \t,\r\n", &save), *code = strtok_r(NULL, " \t,\r\n", &save);
		if (!price || !code) {
			warn_at(path, n, "expected PROVIDER PRICE_ID PLAN_CODE");
			continue;
		}
		char key[512];
		snprintf(key, sizeof key, "%s\x1f%s", provider, price);
		json_object_object_add(plans, key, json_object_new_string(code));
	}
	if (ferror(f))
		die_sys(errno, "cannot read plans file '%s'", path);
	free(line);
	fclose(f);
}

static void map_plan(struct event *ev, const char *provider, json_object *plans)
{
	json_object *price = event_get(ev, SEC_SUBSCRIPTION, "price_id"), *code;
	char key[512];

	if (!plans || !price || event_get(ev, SEC_SUBSCRIPTION, "plan_code"))
		return;
	snprintf(key, sizeof key, "%s\x1f%s", provider, json_object_get_string(price));
	if (json_object_object_get_ex(plans, key, &code))
		event_str(ev, SEC_SUBSCRIPTION, "plan_code", json_object_get_string(code));
}

static void one(const struct record_input *in, void *ctx)
{
	const struct opts *o = ctx;
	const char *kind = jstr(in->obj, "record");
	struct event_origin origin = {0};
	struct event_identity id = {0};
	struct jerr err = {0};
	const struct connector *c;
	json_object *payload;
	char source[600], received[RFC3339_BUFSZ];

	snprintf(source, sizeof source, "%s:%ld", in->file, in->line->lineno);
	if (kind && strcmp(kind, "raw") == 0) {
		const char *provider = jstr(in->obj, "provider");
		if (!provider) {
			reject(in->file, in->line->lineno, REJ_MISSING_FIELD, in->line->text, in->line->len,
			       "envelope without 'provider'");
			return;
		}
		if (!(c = connector_by_name(provider))) {
			reject(in->file, in->line->lineno, REJ_UNKNOWN_PROVIDER, in->line->text, in->line->len,
			       "no connector for provider '%s'", provider);
			return;
		}
		payload = jpath(in->obj, "payload");
		if (!json_object_is_type(payload, json_type_object)) {
			reject(in->file, in->line->lineno, REJ_MISSING_FIELD, in->line->text, in->line->len,
			       "envelope without a 'payload' object");
			return;
		}
		origin.external_event_id = jstr(in->obj, "external_event_id");
		origin.project_id = jstr(in->obj, "project_id");
		origin.received_at = jstr(in->obj, "received_at");
		origin.source = jstr(in->obj, "source");
		if (!origin.external_event_id) {
			reject(in->file, in->line->lineno, REJ_MISSING_EVENT_ID, in->line->text, in->line->len,
			       "envelope without 'external_event_id'");
			return;
		}
		int64_t ms;
		if (origin.received_at && (parse_rfc3339(origin.received_at, &ms) < 0 || ms < 0 ||
					   ms > INT64_C(253402300799999) /* 9999-12-31T23:59:59.999Z */)) {
			reject(in->file, in->line->lineno, REJ_INVALID_FIELD, in->line->text, in->line->len,
			       "envelope 'received_at' is not an RFC 3339 time in 1970..9999");
			return;
		}
		if (origin.received_at)
			origin.received_at = fmt_rfc3339(ms, received);
	} else if (kind && strcmp(kind, "event") == 0) {
		reject(in->file, in->line->lineno, REJ_INVALID_FIELD, in->line->text, in->line->len,
		       "already a canonical event");
		return;
	} else {
		payload = in->obj;
		c = o->provider ? o->provider : connector_detect(payload);
		if (!c) {
			reject(in->file, in->line->lineno, REJ_UNKNOWN_PROVIDER, in->line->text, in->line->len,
			       "not a raw envelope nor a payload of a known provider");
			return;
		}
		origin.project_id = o->project;
		origin.source = source;
	}
	origin.provider = c->name;
	if (c->identify(payload, &id, &err) < 0) {
		if (!origin.external_event_id) {
			reject(in->file, in->line->lineno, REJ_MISSING_EVENT_ID, in->line->text, in->line->len,
			       "%s", err.reason);
			return;
		}
		/* An envelope names the event; the event itself fails below. */
	} else if (!origin.external_event_id) {
		origin.external_event_id = id.event_id;
	}
	origin.provider_event_type = id.event_type;
	origin.occurred_ms = id.occurred_ms;

	if (o->emit_raw) {
		if (payload == in->obj) {
			struct envelope e = {
				c->name, origin.external_event_id, id.event_type, origin.project_id, NULL,
				source, id.occurred_ms, in->line->text, in->line->len,
			};
			envelope_write(stdout, &e);
		} else {
			xwrite(in->line->text, in->line->len, stdout);
			xwrite("\n", 1, stdout);
		}
	}

	struct event ev;
	event_init(&ev, &origin);
	if (err.failed)
		event_fail(&ev, "%s", err.reason);
	else
		c->normalize(payload, &ev);
	map_plan(&ev, c->name, o->plans);
	if (ev.status == EV_FAILED || ev.err.failed)
		warn_at(in->file, in->line->lineno, "event '%s' failed: %s", origin.external_event_id,
			event_reason(&ev));
	event_write(&ev, stdout);
	event_free(&ev);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"emit-raw", no_argument, NULL, 'r'},
		{"provider", required_argument, NULL, 'p'},
		{"project", required_argument, NULL, 'P'},
		{"plans", required_argument, NULL, 'm'},
		{"rejects", required_argument, NULL, 'R'},
		{"max-line", required_argument, NULL, 'L'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct opts o = { .project = DEFAULT_PROJECT };
	size_t max_line = LINE_MAX_DEFAULT;
	int ch;

	diag_init("normalize");
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r': o.emit_raw = 1; break;
		case 'p':
			if (!(o.provider = connector_by_name(optarg)))
				die_usage(synopsis, "unknown provider '%s'", optarg);
			break;
		case 'P': o.project = optarg; break;
		case 'm':
			if (!o.plans)
				o.plans = json_object_new_object();
			load_plans(optarg, o.plans);
			break;
		case 'R': rejects_open(optarg); break;
		case 'L':
			if (!(max_line = parse_size(optarg)))
				die_usage(synopsis, "bad --max-line '%s'", optarg);
			break;
		case 'h': fputs(synopsis, stdout); fputs("\n", stdout); fputs(help, stdout); return diag_finish();
		case 'V': puts("normalize (RevenueOS Pipelines) " RO_VERSION); return diag_finish();
		default: fputs(synopsis, stderr); return EXIT_USAGE;
		}
	}
	for_each_record(argv + optind, argc - optind, max_line, one, &o);
	json_object_put(o.plans);
	return diag_finish();
}
