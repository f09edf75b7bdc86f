/*
 * base64.h: RFC 4648 base64, the standard alphabet (API Gateway's encoding of
 * a binary body), decoded strictly: whitespace (the line breaks of MIME-style
 * text) is skipped; any other byte outside the alphabet, missing or misplaced
 * padding, anything after the padding and non-zero pad bits are errors, so
 * that one text decodes to one byte string or to nothing.
 *
 * The caller owns both buffers; out has room for BASE64_DECODED_MAX(len) bytes.
 */
#ifndef RO_BASE64_H
#define RO_BASE64_H

#include <stddef.h>

#define BASE64_DECODED_MAX(len) ((len) / 4 * 3 + 3)

/* 0 and the bytes in out[0..*outlen), or -1 when in[0..len) is not base64. */
int base64_decode(const char *in, size_t len, unsigned char *out, size_t *outlen);

#endif
