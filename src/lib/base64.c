/* base64.c: strict RFC 4648 base64 decoding (base64.h). */
#include <stdint.h>

#include "base64.h"

/* The 6-bit value of an alphabet character, or -1. */
static int sextet(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* The last quantum, "xx==" or "xxx=": its one or two bytes, 0 when the bits
 * the padding drops are zero (RFC 4648 3.5: else another text means the same). */
static int padded_quantum(uint32_t bits, int pad, unsigned char *out, size_t *o)
{
	if (pad == 2) {
		out[(*o)++] = (unsigned char)(bits >> 4);
		return bits & 0xf ? -1 : 0;
	}
	out[(*o)++] = (unsigned char)(bits >> 10);
	out[(*o)++] = (unsigned char)(bits >> 2);
	return bits & 0x3 ? -1 : 0;
}

int base64_decode(const char *in, size_t len, unsigned char *out, size_t *outlen)
{
	uint32_t bits = 0;
	int n = 0, pad = 0, done = 0; /* n: characters of the quantum, '=' included */
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (done)
			return -1; /* something after the padding */
		if (c == '=') {
			if (n < 2)
				return -1; /* a quantum holds at least one byte: two characters */
			pad++;
			if (++n == 4) {
				if (padded_quantum(bits, pad, out, &o) < 0)
					return -1;
				done = 1;
				n = 0;
			}
			continue;
		}
		int v = sextet(c);
		if (v < 0 || pad)
			return -1; /* not the alphabet, or data after a '=' ("xx=x") */
		bits = bits << 6 | (uint32_t)v;
		if (++n == 4) {
			out[o++] = (unsigned char)(bits >> 16);
			out[o++] = (unsigned char)(bits >> 8);
			out[o++] = (unsigned char)bits;
			bits = 0;
			n = 0;
		}
	}
	if (n != 0)
		return -1; /* a quantum cut short: unpadded, or "xx=" */
	*outlen = o;
	return 0;
}
