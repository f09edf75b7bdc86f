/* strbuf.c: growable buffers and JSON strings. */
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "strbuf.h"

char *sb_reserve(struct strbuf *b, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2 + 256;
		b->buf = xrealloc(b->buf, b->cap);
	}
	return b->buf + b->len;
}

void sb_add(struct strbuf *b, const void *s, size_t n)
{
	memcpy(sb_reserve(b, n), s, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

void sb_json_string(struct strbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t from = 0;

	SB_LIT(b, "\"");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6] = { '\\', 0 };
		size_t elen = 2;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			elen = 6;
		}
		sb_add(b, s + from, i - from);
		sb_add(b, esc, elen);
		from = i + 1;
	}
	sb_add(b, s + from, n - from);
	SB_LIT(b, "\"");
}

void sb_free(struct strbuf *b)
{
	free(b->buf);
	memset(b, 0, sizeof *b);
}
