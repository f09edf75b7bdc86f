/* envelope.c: write one raw envelope line. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <json-c/json.h>

#include "diag.h"
#include "envelope.h"
#include "jsonutil.h"
#include "strbuf.h"
#include "timeutil.h"

static void key(struct strbuf *b, const char *name, const char *val)
{
	SB_LIT(b, ",\"");
	sb_add(b, name, strlen(name));
	SB_LIT(b, "\":");
	if (val)
		sb_json_string(b, val, strlen(val));
	else
		SB_LIT(b, "null");
}

void envelope_trim(const char **text, size_t *len)
{
	while (*len && strchr(" \t\r\n", (*text)[0]))
		++*text, --*len;
	while (*len && strchr(" \t\r\n", (*text)[*len - 1]))
		--*len;
}

size_t envelope_append(struct strbuf *b, const struct envelope *e, size_t max_line)
{
	char t[RFC3339_BUFSZ];
	size_t from = b->len;

	SB_LIT(b, "{\"record\":\"raw\"");
	key(b, "provider", e->provider);
	key(b, "external_event_id", e->event_id);
	key(b, "event_type", e->event_type);
	key(b, "project_id", e->project_id);
	key(b, "occurred_at", e->occurred_ms ? fmt_rfc3339(e->occurred_ms, t) : NULL);
	key(b, "received_at", e->received_at);
	key(b, "source", e->source);
	SB_LIT(b, ",\"payload\":");
	size_t at = b->len;
	sb_add(b, e->payload, e->payload_len);
	json_cr_to_space(b->buf + at, e->payload_len);
	SB_LIT(b, "}\n");
	size_t n = b->len - from - 1;
	if (n <= max_line)
		return 0;
	b->len = from;
	return n;
}

const char *project_id_problem(const char *id)
{
	if (!*id)
		return "is empty";
	if (strlen(id) > PROJECT_ID_MAX)
		return "is longer than " PROJECT_ID_MAX_TEXT " bytes"; /* every key of the tables holds it */
	if (!utf8_valid(id, strlen(id)))
		return "is not valid UTF-8";
	/* json-c reads an escaped lone surrogate (\ud800) as U+FFFD: "ac\ud800me" and
	 * "ac\udbffme" would be one tenant */
	if (strstr(id, "\xEF\xBF\xBD"))
		return "contains U+FFFD (a lone UTF-16 surrogate?)";
	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		if (*p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)) /* C0, DEL, C1 */
			return "has a control character";
	return NULL;
}


void file_received_at(const char *path, const char *opt, char *out)
{
	struct stat st;

	if (opt) {
		snprintf(out, RFC3339_BUFSZ, "%s", opt);
		return;
	}
	if (strcmp(path, "-") != 0 && stat(path, &st) == 0) {
		int64_t ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
		/* before 2010 no webhook of a provider we read arrived: a placeholder
		 * (the epoch, zip's 1980), which would date the arrival decades before
		 * the event (audit-F2 5) */
		int placeholder = time_in_range(ms) && ms < INT64_C(1262304000000);
		if (time_in_range(ms) && !arrival_in_future(ms) && !placeholder) {
			fmt_rfc3339(ms, out);
			return;
		}
		notice_at(NULL, 0, "'%s': its modification time is %s: its events are received now "
			  "(--received-at gives a time)", path,
			  placeholder	      ? "before 2010, when no webhook we read was sent (a placeholder?)"
			  : time_in_range(ms) ? "more than a day in the future"
					      : "not in 1970..9999");
	}
	fmt_rfc3339(now_ms(), out);
}
