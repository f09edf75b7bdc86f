/* secret.c: find, drop and redact provider secrets (hottok). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "diag.h"
#include "secret.h"
#include "strbuf.h"

#define SECRET_WORD "hottok"
#define SECRET_LEN (sizeof SECRET_WORD - 1)

int secret_key(const char *key)
{
	return key && strcasestr(key, SECRET_WORD) != NULL;
}

/* Where the next mention of the secret word starts in text[from..len), or len. */
static size_t next_mention(const char *text, size_t from, size_t len)
{
	for (size_t i = from; i + SECRET_LEN <= len; i++)
		if ((text[i] | 0x20) == 'h' && strncasecmp(text + i, SECRET_WORD, SECRET_LEN) == 0)
			return i;
	return len;
}

int secret_in_text(const char *text, size_t len)
{
	return next_mention(text, 0, len) < len;
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

/* Bytes between a key and its value: quotes (escaped or not), ':', '=', blanks. */
static int separator(char c)
{
	return c == '"' || c == '\\' || c == '\'' || c == ':' || c == '=' || c == ' ' || c == '\t';
}

/* Bytes that end a value: its closing quote (escaped or not), the next form
 * field or JSON member, the end of a line. */
static int value_end(char c)
{
	return c == '"' || c == '\\' || c == '\'' || c == '&' || c == ',' || c == '}' || c == ']' ||
	       c == ';' || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\0';
}

char *secret_redact(const char *text, size_t len, size_t *outlen)
{
	struct strbuf b = { 0 };
	size_t from = 0, at;

	if (!secret_in_text(text, len))
		return NULL;
	while ((at = next_mention(text, from, len)) < len) {
		size_t v = at + SECRET_LEN, end;
		/* The rest of a longer key ("hottok_id"), then what separates it from its value. */
		while (v < len && !separator(text[v]) && !value_end(text[v]))
			v++;
		while (v < len && separator(text[v]))
			v++;
		for (end = v; end < len && !value_end(text[end]); end++)
			;
		sb_add(&b, text + from, v - from);
		if (end > v)
			SB_LIT(&b, "REDACTED");
		from = end;
	}
	sb_add(&b, text + from, len - from);
	*outlen = b.len;
	return b.buf ? b.buf : xstrdup("");
}
