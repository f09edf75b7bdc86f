/*
 * fuzz.h: what the fuzz targets in tests/fuzz/ share. Each target is one .c
 * file defining LLVMFuzzerTestOneInput; `make fuzz` links it with libFuzzer
 * (clang), `make test` with replay.c, which feeds it the inputs under
 * tests/fuzz/regressions/NAME/ and the fixtures.
 *
 * The targets check what must hold for any input (no crash, no leak, and
 * whatever they write is valid JSON) and abort() when it does not.
 */
#ifndef RO_FUZZ_H
#define RO_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Each target names itself and its seed directories (NULL-terminated). */
extern const char fuzz_name[];
extern const char *const fuzz_seeds[];

/* Messages of the code under test go to /dev/null (libFuzzer and the
 * sanitizers keep the real stderr: they write to fd 2 or their own FILE). */
void fuzz_quiet(void);
void fuzz_loud(void);

/* A path naming a file that holds exactly data[0..size): a memfd, rewritten each call. */
const char *fuzz_file(const uint8_t *data, size_t size);

/* abort() unless text[0..len) is one strict JSON object (jparse); returns it (caller puts). */
json_object *fuzz_must_parse(const char *what, const char *text, size_t len);

/*
 * A connector's identify and normalize on data parsed with jparse (input that
 * is not strict JSON is skipped): the event must come out as strict JSON with
 * a known status, a type when processed and a reason when not.
 */
int fuzz_connector(const char *name, const uint8_t *data, size_t size);

/* What docs/events.md promises of every canonical event: NULL when it holds, else the
 * first key that breaks it. */
const char *fuzz_event_problem(json_object *ev);

/* make fuzz: a JSON-aware LLVMFuzzerCustomMutator for the connectors (mutate.c). */
size_t fuzz_json_mutate(const char *dict, uint8_t *data, size_t size, size_t max_size, unsigned seed);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

#endif
