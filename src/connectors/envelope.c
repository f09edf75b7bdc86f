/* envelope.c: write one raw envelope line. */
#include <errno.h>
#include <string.h>
#include <json-c/json.h>

#include "diag.h"
#include "envelope.h"
#include "timeutil.h"

static void key(FILE *f, const char *name, const char *val)
{
	fputs(",\"", f);
	fputs(name, f);
	fputs("\":", f);
	if (!val) {
		fputs("null", f);
		return;
	}
	json_object *s = json_object_new_string(val);
	fputs(json_object_to_json_string_ext(s, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), f);
	json_object_put(s);
}

void envelope_write(FILE *f, const struct envelope *e)
{
	char t[RFC3339_BUFSZ];

	fputs("{\"record\":\"raw\"", f);
	key(f, "provider", e->provider);
	key(f, "external_event_id", e->event_id);
	key(f, "event_type", e->event_type);
	key(f, "project_id", e->project_id);
	key(f, "occurred_at", e->occurred_ms ? fmt_rfc3339(e->occurred_ms, t) : NULL);
	key(f, "received_at", e->received_at);
	key(f, "source", e->source);
	fputs(",\"payload\":", f);
	xwrite(e->payload, e->payload_len, f);
	if (fputs("}\n", f) == EOF)
		die_sys(errno, "write error");
}
