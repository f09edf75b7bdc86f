/*
 * strbuf.h: a growable byte buffer, and JSON text appended to it.
 * The buffer owns its bytes; sb_free releases them. Once anything has been
 * added, buf[len] is a NUL, so the bytes can be read as a C string.
 */
#ifndef RO_STRBUF_H
#define RO_STRBUF_H

#include <stddef.h>

struct strbuf {
	char *buf;
	size_t len, cap;
};

void sb_add(struct strbuf *b, const void *s, size_t n);
/* Room for n more bytes (and the NUL); the caller writes them at buf + len
 * and moves len on. */
char *sb_reserve(struct strbuf *b, size_t n);
#define SB_LIT(b, lit) sb_add((b), (lit), sizeof(lit) - 1)
/* s[0..n) as a JSON string, quoted and escaped as json-c writes it with
 * JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE. */
void sb_json_string(struct strbuf *b, const char *s, size_t n);
void sb_free(struct strbuf *b);

#endif
