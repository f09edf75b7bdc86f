/*
 * envelope.h: the raw envelope (docs/events.md), written by fetch-events and
 * by normalize --emit-raw for bare payloads. The payload's bytes are copied
 * as given, never re-serialised.
 */
#ifndef RO_ENVELOPE_H
#define RO_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <json-c/json.h>

struct envelope {
	const char *provider, *event_id, *event_type, *project_id, *received_at, *source;
	int64_t occurred_ms;       /* 0: unknown (null) */
	const char *payload;       /* one JSON object's text, without newlines */
	size_t payload_len;
};

struct strbuf;
/* Append e's line to b when it is at most max_line bytes (without its '\n'),
 * which the next program reads at the same --max-line: 0. Else b is left as it
 * was and the line's length returned, for ENVELOPE_TOO_LONG. */
size_t envelope_append(struct strbuf *b, const struct envelope *e, size_t max_line);
#define ENVELOPE_TOO_LONG "its envelope would be %zu bytes, over --max-line %zu"

/* A bare payload's text, *text for *len bytes, narrowed to leave out the
 * blanks (space, tab, CR, LF) around it: the payload an envelope holds, the
 * same from fetch-events and from normalize --emit-raw. */
void envelope_trim(const char **text, size_t *len);

#define DEFAULT_PROJECT "default"

/* The received_at of a file's bare payloads, into out (RFC3339_BUFSZ): opt
 * (--received-at) when given, else the file's modification time, else now
 * (stdin; or a modification time outside 1970..9999, which no reader of the
 * envelope would take: said on stderr). */
void file_received_at(const char *path, const char *opt, char *out);

/* What is wrong with id as a project id (--project), or NULL: it must be
 * non-empty UTF-8 without control characters, as it ends in every record, and
 * at most PROJECT_ID_MAX bytes (a key column of every table: an index entry
 * PostgreSQL cannot hold would make every record a reject). */
#define PROJECT_ID_MAX 255
#define PROJECT_ID_MAX_TEXT "255"
const char *project_id_problem(const char *id);

#endif
