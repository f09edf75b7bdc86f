/*
 * money.h: money is an integer count of minor units plus an ISO 4217 code.
 * Never a float: decimal text is converted digit by digit.
 */
#ifndef RO_MONEY_H
#define RO_MONEY_H

#include <stddef.h>
#include <stdint.h>

/* Minor-unit exponent of an ISO 4217 code (JPY 0, USD 2, KWD 3); 2 for codes
 * not in the table, -1 for text that is not three ASCII letters. */
int currency_exponent(const char *code);

/* Upper-case and check a currency code ("brl" -> "BRL"). 0 ok, -1 not a code. */
int currency_normalize(const char *in, char out[4]);

enum money_error {
	MONEY_OK = 0,
	MONEY_SYNTAX = -1,    /* not a plain decimal number */
	MONEY_PRECISION = -2, /* more non-zero decimals than the currency has */
	MONEY_RANGE = -3,     /* does not fit in int64 minor units (INT64_MAX, json-c's clamp mark, excluded) */
	MONEY_NEGATIVE = -4,  /* negative and negatives were not allowed */
};

/*
 * "19.9" with exponent 2 -> 1990. Accepts JSON number text (sign, digits,
 * fraction, exponent) exactly; trailing zero decimals beyond the exponent
 * are fine ("19.900"), non-zero ones are MONEY_PRECISION.
 */
int decimal_to_minor(const char *text, int exponent, int allow_negative, int64_t *out);

/* 1990, exponent 2 -> "19.90". Returns the length written, or -1 if buf is small. */
int minor_to_decimal(int64_t minor, int exponent, char *buf, size_t bufsz);

#endif
