/*
 * normalize.c: normalize's record handling (raw envelopes, bare payloads,
 * --emit-raw, --provider, --plans) over arbitrary NDJSON. Its code is static,
 * so the program's source is included here with main renamed. Every line
 * written must be strict JSON: a canonical event, or with --emit-raw a raw
 * envelope before it, with the fields the loader requires (and no payload
 * secret: hottok, client_secret).
 * Options by the input's length.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "secret.h"

int normalize_main(int argc, char **argv);
#define main normalize_main
#include "../../src/normalize.c"
#undef main

/* What the loader checks of every record (docs/load.md) fails: the field's name, or NULL. */
static const char *loadable_problem(json_object *rec, int raw)
{
	static const char *const keys[] = { "provider", "external_event_id", "project_id", "received_at",
					    "source", NULL };
	int64_t ms;

	for (const char *const *k = keys; *k; k++) {
		json_object *v = jpath(rec, *k);
		if (!json_object_is_type(v, json_type_string) || !json_object_get_string_len(v) ||
		    strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v))
			return *k;
	}
	if (parse_rfc3339(jstr(rec, "received_at"), &ms) != 0)
		return "received_at";
	/* no payload secret at any depth: secret_drop finds none to delete */
	if (raw && (!json_object_is_type(jpath(rec, "payload"), json_type_object) ||
		    secret_drop(jpath(rec, "payload")) != 0))
		return "payload";
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static json_object *plans;
	struct opts o = { .project = DEFAULT_PROJECT, .max_line = 1 << 20 };
	char *out = NULL;
	size_t outlen = 0;

	fuzz_quiet();
	if (!plans) {
		rejects_open("/dev/null");
		plans = json_object_new_object();
		json_object_object_add(plans, "stripe\x1fprice_1", json_object_new_string("pro"));
		json_object_object_add(plans, "hotmart\x1f" "1038897", json_object_new_string("club"));
	}
	switch (size % 4) {
	case 1: o.emit_raw = 1; break;
	case 2: o.provider = connector_by_name("stripe"); o.plans = plans; break;
	case 3: o.provider = connector_by_name("hotmart"); o.plans = plans; o.emit_raw = 1; break;
	}
	FILE *real_stdout = stdout;
	stdout = open_memstream(&out, &outlen);
	if (!stdout)
		abort();
	char *path = (char *)fuzz_file(data, size);
	normalize_all(&path, 1, 1 + (int)(size % 3 == 0), &o); /* one thread or two */
	if (fclose(stdout) != 0)
		abort();
	stdout = real_stdout;

	for (char *line = out, *end = out + outlen; line < end;) {
		char *nl = memchr(line, '\n', (size_t)(end - line));
		if (!nl)
			abort();
		json_object *rec = fuzz_must_parse("normalize output", line, (size_t)(nl - line));
		const char *kind = jstr(rec, "record"), *why = NULL;
		if (!kind || (strcmp(kind, "event") != 0 && !(o.emit_raw && strcmp(kind, "raw") == 0)))
			why = "record";
		else if (!(why = loadable_problem(rec, strcmp(kind, "raw") == 0)) && strcmp(kind, "event") == 0)
			why = fuzz_event_problem(rec);
		if (why) {
			fuzz_loud();
			fprintf(stderr, "fuzz: bad record (%s): %.*s\n", why, (int)(nl - line), line);
			abort();
		}
		json_object_put(rec);
		line = nl + 1;
	}
	free(out);
	fuzz_loud();
	return 0;
}

const char fuzz_name[] = "normalize";
const char *const fuzz_seeds[] = { "tests/fuzz/seeds/normalize", NULL };
