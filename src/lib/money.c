/* money.c: ISO 4217 exponents and exact decimal <-> minor-unit conversion. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "money.h"

/* ISO 4217 codes whose minor unit is not 2 (list of 2024). */
static const struct { char code[4]; int exponent; } exponents[] = {
	{"BHD", 3}, {"BIF", 0}, {"CLF", 4}, {"CLP", 0}, {"DJF", 0}, {"GNF", 0},
	{"IQD", 3}, {"ISK", 0}, {"JOD", 3}, {"JPY", 0}, {"KMF", 0}, {"KRW", 0},
	{"KWD", 3}, {"LYD", 3}, {"OMR", 3}, {"PYG", 0}, {"RWF", 0}, {"TND", 3},
	{"UGX", 0}, {"UYI", 0}, {"UYW", 4}, {"VND", 0}, {"VUV", 0}, {"XAF", 0},
	{"XOF", 0}, {"XPF", 0},
};

int currency_normalize(const char *in, char out[4])
{
	if (!in || strlen(in) != 3)
		return -1;
	for (int i = 0; i < 3; i++) {
		if (!isalpha((unsigned char)in[i]) || (unsigned char)in[i] > 0x7f)
			return -1;
		out[i] = (char)toupper((unsigned char)in[i]);
	}
	out[3] = '\0';
	return 0;
}

int currency_exponent(const char *code)
{
	char c[4];
	if (currency_normalize(code, c) < 0)
		return -1;
	for (size_t i = 0; i < sizeof exponents / sizeof exponents[0]; i++)
		if (memcmp(exponents[i].code, c, 4) == 0)
			return exponents[i].exponent;
	return 2;
}

int decimal_to_minor(const char *text, int exponent, int allow_negative, int64_t *out)
{
	const char *s = text;
	int neg = 0;
	char digits[64];
	size_t nd = 0;
	long point = -1; /* digits before the decimal point */
	long exp10 = 0;

	if (!s)
		return MONEY_SYNTAX;
	while (*s == ' ')
		s++;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (!isdigit((unsigned char)*s) && !(*s == '.' && isdigit((unsigned char)s[1])))
		return MONEY_SYNTAX;
	for (; *s; s++) {
		if (isdigit((unsigned char)*s)) {
			if (nd == 0 && *s == '0' && point < 0)
				continue; /* leading zeros of the integer part */
			if (nd >= sizeof digits - 1) {
				/* Only zeros may follow past what int64 could ever hold. */
				if (*s != '0')
					return point < 0 ? MONEY_RANGE : MONEY_PRECISION;
				if (point >= 0)
					continue;
				return MONEY_RANGE;
			}
			digits[nd++] = *s;
		} else if (*s == '.' && point < 0) {
			point = (long)nd;
		} else {
			break;
		}
	}
	if (*s == 'e' || *s == 'E') {
		char *end;
		s++;
		/* the exponent's digits right after it, a sign between (strtol
		 * would skip blanks: "1e 2" is no number) */
		if (!isdigit((unsigned char)s[*s == '+' || *s == '-']))
			return MONEY_SYNTAX;
		exp10 = strtol(s, &end, 10);
		if (end == s || exp10 > 40 || exp10 < -40)
			return MONEY_SYNTAX;
		s = end;
	}
	while (*s == ' ')
		s++;
	if (*s)
		return MONEY_SYNTAX;
	if (point < 0)
		point = (long)nd;
	/* value = 0.d1d2... * 10^(point + exp10); minor = value * 10^exponent */
	long int_digits = point + exp10 + exponent;
	int64_t v = 0;
	for (long i = 0; i < (long)nd; i++) {
		if (i >= int_digits) {
			if (digits[i] != '0')
				return MONEY_PRECISION;
			continue;
		}
		if (v > (INT64_MAX - (digits[i] - '0')) / 10)
			return MONEY_RANGE;
		v = v * 10 + (digits[i] - '0');
	}
	for (long i = (long)nd; i < int_digits; i++) {
		if (v > INT64_MAX / 10)
			return MONEY_RANGE;
		v *= 10;
	}
	if (v == INT64_MAX)
		return MONEY_RANGE; /* json-c's mark of a clamped integer: its readers (load, to-csv) refuse it */
	if (neg && v != 0 && !allow_negative)
		return MONEY_NEGATIVE;
	*out = neg ? -v : v;
	return MONEY_OK;
}

int minor_to_decimal(int64_t minor, int exponent, char *buf, size_t bufsz)
{
	char digits[32];
	uint64_t u = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
	int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)u);
	size_t o = 0;
	char tmp[48];

	if (minor < 0)
		tmp[o++] = '-';
	if (exponent <= 0) {
		memcpy(tmp + o, digits, (size_t)n);
		o += (size_t)n;
	} else {
		int whole = n - exponent;
		if (whole <= 0) {
			tmp[o++] = '0';
		} else {
			memcpy(tmp + o, digits, (size_t)whole);
			o += (size_t)whole;
		}
		tmp[o++] = '.';
		for (int i = whole; i < 0; i++)
			tmp[o++] = '0';
		int from = whole < 0 ? 0 : whole;
		memcpy(tmp + o, digits + from, (size_t)(n - from));
		o += (size_t)(n - from);
	}
	if (o + 1 > bufsz)
		return -1;
	memcpy(buf, tmp, o);
	buf[o] = '\0';
	return (int)o;
}
