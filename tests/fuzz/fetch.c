/*
 * fetch.c: fetch-events' own input handling (NDJSON lines, pretty documents,
 * arrays of events, captured webhooks in every shape capture.h reads: API
 * Gateway events, header lists, base64 and gzip bodies, raw HTTP requests
 * through rawhttp.c) over arbitrary bytes. Its functions are static, so the program's source is
 * included here with main renamed; the input goes through read_path() as a
 * file. Every line written must be a raw envelope that is one strict JSON
 * object. The input's length picks the options.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "timeutil.h"

int fetch_events_main(int argc, char **argv);
#define main fetch_events_main
#include "../../src/fetch-events.c"
#undef main

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct jparser *parser;
	static struct opts o;
	char *out = NULL;
	size_t outlen = 0;

	fuzz_quiet();
	if (!parser) {
		parser = jparser_new();
		jparser_track_members(parser); /* as main's: a capture's body is sliced out of its line */
		rejects_open("/dev/null");
	}
	memset(&o, 0, sizeof o);
	o.project = DEFAULT_PROJECT;
	o.max_line = LINE_MAX_DEFAULT;
	o.since = INT64_MIN; /* as main's: no bound (0 would drop every event with a time) */
	o.until = INT64_MAX;
	switch (size % 5) {
	case 1: o.max_line = 256; break;
	case 2: o.provider = connector_by_name("stripe"); break;
	case 3: o.provider = connector_by_name("hotmart"); break;
	case 4: o.since = 1; o.until = INT64_C(1795543200000); break;
	}
	FILE *real_stdout = stdout;
	stdout = open_memstream(&out, &outlen);
	if (!stdout)
		abort();
	/* each input is a run of its own: the file, rewritten in place, is not "read already" */
	free(seen);
	seen = NULL;
	seen_cap = n_seen = 0;
	read_path(fuzz_file(data, size), &o, parser, 0);
	if (fclose(stdout) != 0)
		abort();
	stdout = real_stdout;

	for (char *line = out, *end = out + outlen; line < end;) {
		char *nl = memchr(line, '\n', (size_t)(end - line));
		if (!nl)
			abort(); /* every envelope ends its line */
		json_object *env = fuzz_must_parse("raw envelope", line, (size_t)(nl - line));
		const char *record = jstr(env, "record"), *received = jstr(env, "received_at"),
			   *occurred = jstr(env, "occurred_at");
		int64_t ms;
		if (!record || strcmp(record, "raw") != 0 || !jstr(env, "provider") ||
		    !received || parse_rfc3339(received, &ms) != 0 ||
		    (occurred && parse_rfc3339(occurred, &ms) != 0) ||
		    !jstr(env, "external_event_id") || !json_object_is_type(jpath(env, "payload"), json_type_object) ||
		    secret_drop(jpath(env, "payload")) != 0) {
			fuzz_loud();
			fprintf(stderr, "fuzz: bad raw envelope: %.*s\n", (int)(nl - line), line);
			abort();
		}
		json_object_put(env);
		line = nl + 1;
	}
	free(out);
	fuzz_loud();
	return 0;
}

const char fuzz_name[] = "fetch";
const char *const fuzz_seeds[] = { "fixtures/captured", "fixtures/bad", "fixtures/hotmart", "fixtures/stripe",
				    "fixtures/dumps/2026-11", "fixtures/dumps/2026-11/captured", "tests/fuzz/seeds/fetch",
				    NULL };
