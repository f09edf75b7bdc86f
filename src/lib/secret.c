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
 * the credentials a captured webhook's headers carry. */
static const char *const text_secrets[] = { PAYLOAD_SECRET, "authorization", "stripe-signature", NULL };

int secret_key(const char *key)
{
	return key && strcasestr(key, PAYLOAD_SECRET) != NULL;
}

int secret_in_text(const char *text, size_t len)
{
	/* memchr for each case of the first letter, then the rest compared */
	for (int c = 0; c < 2; c++) {
		const char *p = text, *end = text + len;
		while (end - p >= (long)PAYLOAD_SECRET_LEN && (p = memchr(p, "hH"[c], (size_t)(end - p)))) {
			if ((size_t)(end - p) >= PAYLOAD_SECRET_LEN &&
			    strncasecmp(p, PAYLOAD_SECRET, PAYLOAD_SECRET_LEN) == 0)
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

char *secret_redact(const char *raw, size_t len, size_t *outlen)
{
	static const char mask[] = "[redacted]";
	struct strbuf b = { 0 };
	size_t from = 0;

	for (size_t i = 0; i < len; i++) {
		size_t j = secret_name_at(raw + i, len - i);
		if (!j)
			continue;
		/* the name, its closing quote (escaped inside a body), then ':' or '=' */
		j += i;
		if (j < len && raw[j] == '\\')
			j++;
		if (j < len && raw[j] == '"')
			j++;
		while (j < len && (raw[j] == ' ' || raw[j] == '\t'))
			j++;
		if (j == len || (raw[j] != ':' && raw[j] != '='))
			continue;
		for (j++; j < len && (raw[j] == ' ' || raw[j] == '\t');)
			j++;
		int quoted = 0;
		if (j < len && raw[j] == '\\' && j + 1 < len && raw[j + 1] == '"')
			j++;
		if (j < len && raw[j] == '"')
			quoted = 1, j++;
		size_t v = j;
		/* a quoted value ends at its quote (or an escape: the body's quote);
		 * a bare one (a number, a form field) at what ends a token; an
		 * object or array is no credential */
		while (j < len && !strchr(quoted ? "\"\\" : "\"\\&,{}[] \t\r\n", raw[j]))
			j++;
		if (j == v)
			continue;
		sb_add(&b, raw + from, v - from);
		SB_LIT(&b, mask);
		from = j;
		i = j - 1;
	}
	if (!b.buf)
		return NULL;
	sb_add(&b, raw + from, len - from);
	*outlen = b.len;
	return b.buf;
}
