/* secret.c: find, drop and redact provider secrets. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "diag.h"
#include "secret.h"
#include "strbuf.h"

#define PAYLOAD_SECRET "hottok"
#define PAYLOAD_SECRET_LEN (sizeof PAYLOAD_SECRET - 1)

/* The names whose value rejected text must not show: the payload secret, and
 * the credentials a captured webhook's headers carry (API Gateway's key, as the
 * X-Api-Key header and requestContext.identity.apiKey, too). */
static const char *const text_secrets[] = { PAYLOAD_SECRET, "authorization", "stripe-signature", "api-key", "apikey",
					    NULL };

int secret_key(const char *key)
{
	return key && strcasestr(key, PAYLOAD_SECRET) != NULL;
}

int secret_in_text(const char *text, size_t len)
{
	/* memchr for each case of the last letter, the rarest in JSON text (a
	 * tenth as many stops as the first), then the rest compared */
	if (len < PAYLOAD_SECRET_LEN)
		return 0;
	for (int c = 0; c < 2; c++) {
		const char *p = text + PAYLOAD_SECRET_LEN - 1, *end = text + len;
		while (p < end && (p = memchr(p, "kK"[c], (size_t)(end - p)))) {
			if (strncasecmp(p - (PAYLOAD_SECRET_LEN - 1), PAYLOAD_SECRET, PAYLOAD_SECRET_LEN) == 0)
				return 1;
			p++;
		}
	}
	return 0;
}

int secret_drop(json_object *o)
{
	int n = 0;

	if (json_object_is_type(o, json_type_array)) {
		size_t len = json_object_array_length(o);
		for (size_t i = 0; i < len; i++)
			n += secret_drop(json_object_array_get_idx(o, i));
		return n;
	}
	if (!json_object_is_type(o, json_type_object))
		return 0;
	json_object_object_foreach(o, k, v) {
		if (!secret_key(k))
			n += secret_drop(v);
	}
	/* Deleting while iterating is not safe in json-c: one at a time. */
	for (;;) {
		char *victim = NULL;
		json_object_object_foreach(o, key, val) {
			(void)val;
			if (secret_key(key)) {
				victim = xstrdup(key);
				break;
			}
		}
		if (!victim)
			return n;
		json_object_object_del(o, victim);
		free(victim);
		n++;
	}
}

/* The length of a secret name at s (any case), or 0. */
static size_t secret_name_at(const char *s, size_t n)
{
	for (const char *const *name = text_secrets; *name; name++) {
		size_t len = strlen(*name);
		if ((*s | 0x20) == **name && len <= n && strncasecmp(s, *name, len) == 0)
			return len;
	}
	return 0;
}

static size_t skip_blanks(const char *raw, size_t len, size_t j)
{
	while (j < len && (raw[j] == ' ' || raw[j] == '\t'))
		j++;
	return j;
}

/* 1 and *end past the JSON string at raw[j] (its quote escaped inside a body:
 * \"), up to its closing quote, its text starting at *v; 0 when no quote is at j. */
static int quoted_at(const char *raw, size_t len, size_t j, size_t *v, size_t *end)
{
	if (j + 1 < len && raw[j] == '\\' && raw[j + 1] == '"')
		j++;
	if (j >= len || raw[j] != '"')
		return 0;
	*v = ++j;
	while (j < len && raw[j] != '"' && raw[j] != '\\')
		j++;
	*end = j;
	return 1;
}

/*
 * Where the value of the secret name ending at raw[j] sits: *v..return, or 0
 * when nothing after the name is its value. JSON ("hottok": "v", a number, the
 * first string of a list: multiValueHeaders), a header list (HAR's "name":
 * "X-Hotmart-Hottok", "value": "v", or a pair ["X-Hotmart-Hottok", "v"]), an
 * HTTP header line (Authorization: Bearer v, to the line end, or to a JSON
 * string's escaped \r\n) or a form field (hottok=v, to what ends a token).
 */
static size_t secret_value(const char *raw, size_t len, size_t j, size_t *v)
{
	size_t end;
	int closed = 0; /* the name ends a JSON string */

	if (j < len && raw[j] == '\\')
		j++;
	if (j < len && raw[j] == '"')
		closed = 1, j++;
	j = skip_blanks(raw, len, j);
	if (closed && j < len && raw[j] == ',') {
		j = skip_blanks(raw, len, j + 1);
		if (quoted_at(raw, len, j, v, &end) && !(end - *v == 5 && memcmp(raw + *v, "value", 5) == 0))
			return end; /* a pair: the next string is the value */
		if (!quoted_at(raw, len, j, v, &end))
			return 0;
		j = skip_blanks(raw, len, end + (end < len && raw[end] == '\\') + 1);
		if (j >= len || raw[j] != ':')
			return 0;
		return quoted_at(raw, len, skip_blanks(raw, len, j + 1), v, &end) ? end : 0;
	}
	if (j == len || (raw[j] != ':' && raw[j] != '='))
		return 0;
	int header_line = !closed && raw[j] == ':';
	j = skip_blanks(raw, len, j + 1);
	if (j < len && raw[j] == '[' && closed)
		j = skip_blanks(raw, len, j + 1); /* a list of values: its first */
	if (quoted_at(raw, len, j, v, &end))
		return end;
	/* a bare value: a header's runs to the line end; a number's or a form
	 * field's to what ends a token; an object or array is no credential */
	*v = j;
	while (j < len && !strchr(header_line ? "\\\r\n" : "\"\\&,{}[] \t\r\n", raw[j]))
		j++;
	return j;
}

char *secret_redact(const char *raw, size_t len, size_t *outlen)
{
	static const char mask[] = "[redacted]";
	struct strbuf b = { 0 };
	size_t from = 0;

	for (size_t i = 0; i < len; i++) {
		size_t n = secret_name_at(raw + i, len - i), v, end;
		if (!n || !(end = secret_value(raw, len, i + n, &v)) || end == v)
			continue;
		sb_add(&b, raw + from, v - from);
		SB_LIT(&b, mask);
		from = end;
		i = end - 1;
	}
	if (!b.buf)
		return NULL;
	sb_add(&b, raw + from, len - from);
	*outlen = b.len;
	return b.buf;
}
