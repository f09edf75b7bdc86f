/* Unit tests for src/lib: money, time, UTF-8, strict JSON, paths, getters, line reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>
#include <libpq-fe.h>

#include "base64.h"
#include "capture.h"
#include "diag.h"
#include "jsonutil.h"
#include "lineio.h"
#include "money.h"
#include "pgmsg.h"
#include "rawhttp.h"
#include "records.h"
#include "secret.h"
#include "timeutil.h"

static void test_decimal_to_minor(void **state)
{
	int64_t v;
	assert_int_equal(decimal_to_minor("19.9", 2, 0, &v), MONEY_OK);
	assert_int_equal(v, 1990);
	assert_int_equal(decimal_to_minor("19.90", 2, 0, &v), MONEY_OK);
	assert_int_equal(v, 1990);
	assert_int_equal(decimal_to_minor("0.1", 2, 0, &v), MONEY_OK);
	assert_int_equal(v, 10);
	assert_int_equal(decimal_to_minor("1500", 2, 0, &v), MONEY_OK);
	assert_int_equal(v, 150000);
	assert_int_equal(decimal_to_minor("1500", 0, 0, &v), MONEY_OK);
	assert_int_equal(v, 1500);
	assert_int_equal(decimal_to_minor("1.234", 3, 0, &v), MONEY_OK);
	assert_int_equal(v, 1234);
	assert_int_equal(decimal_to_minor("1.99e1", 2, 0, &v), MONEY_OK);
	assert_int_equal(v, 1990);
	assert_int_equal(decimal_to_minor("2E-2", 2, 0, &v), MONEY_OK);
	assert_int_equal(v, 2);
	assert_int_equal(decimal_to_minor("0", 2, 0, &v), MONEY_OK);
	assert_int_equal(v, 0);
	assert_int_equal(decimal_to_minor("0.000", 2, 0, &v), MONEY_OK);
	assert_int_equal(v, 0);
	assert_int_equal(decimal_to_minor("19.999", 2, 0, &v), MONEY_PRECISION);
	assert_int_equal(decimal_to_minor("1.5", 0, 0, &v), MONEY_PRECISION);
	assert_int_equal(decimal_to_minor("-5.00", 2, 0, &v), MONEY_NEGATIVE);
	assert_int_equal(decimal_to_minor("-5.01", 2, 1, &v), MONEY_OK);
	assert_int_equal(v, -501);
	assert_int_equal(decimal_to_minor("abc", 2, 0, &v), MONEY_SYNTAX);
	assert_int_equal(decimal_to_minor("", 2, 0, &v), MONEY_SYNTAX);
	assert_int_equal(decimal_to_minor("1.2.3", 2, 0, &v), MONEY_SYNTAX);
	assert_int_equal(decimal_to_minor("1,5", 2, 0, &v), MONEY_SYNTAX);
	assert_int_equal(decimal_to_minor("1e 2", 2, 0, &v), MONEY_SYNTAX);
	assert_int_equal(decimal_to_minor("1e +2", 2, 0, &v), MONEY_SYNTAX);
	assert_int_equal(decimal_to_minor("1e+ 2", 2, 0, &v), MONEY_SYNTAX);
	assert_int_equal(decimal_to_minor("1e", 2, 0, &v), MONEY_SYNTAX);
	assert_int_equal(decimal_to_minor("1e+2", 2, 0, &v), MONEY_OK);
	assert_int_equal(v, 10000);
	assert_int_equal(decimal_to_minor(NULL, 2, 0, &v), MONEY_SYNTAX);
	assert_int_equal(decimal_to_minor("92233720368547758.06", 2, 0, &v), MONEY_OK);
	assert_int_equal(v, INT64_MAX - 1);
	/* INT64_MAX itself is json-c's mark of a clamped integer: every reader of the
	 * event (load, to-csv) would refuse it, so it is out of range here too */
	assert_int_equal(decimal_to_minor("92233720368547758.07", 2, 0, &v), MONEY_RANGE);
	assert_int_equal(decimal_to_minor("-92233720368547758.07", 2, 1, &v), MONEY_RANGE);
	assert_int_equal(decimal_to_minor("92233720368547758.08", 2, 0, &v), MONEY_RANGE);
	assert_int_equal(decimal_to_minor("1e30", 2, 0, &v), MONEY_RANGE);
	assert_int_equal(decimal_to_minor("000000000000000000000000000000000000000000000000000000000000000000000012.5", 2, 0, &v), MONEY_OK);
	assert_int_equal(v, 1250);
}

static void test_minor_to_decimal(void **state)
{
	char b[32];
	minor_to_decimal(1990, 2, b, sizeof b);
	assert_string_equal(b, "19.90");
	minor_to_decimal(5, 2, b, sizeof b);
	assert_string_equal(b, "0.05");
	minor_to_decimal(-5, 3, b, sizeof b);
	assert_string_equal(b, "-0.005");
	minor_to_decimal(1500, 0, b, sizeof b);
	assert_string_equal(b, "1500");
	minor_to_decimal(INT64_MIN, 2, b, sizeof b);
	assert_string_equal(b, "-92233720368547758.08");
	assert_int_equal(minor_to_decimal(123456, 2, b, 4), -1);
}

static void test_currency(void **state)
{
	char c[4];
	assert_int_equal(currency_exponent("JPY"), 0);
	assert_int_equal(currency_exponent("jpy"), 0);
	assert_int_equal(currency_exponent("BRL"), 2);
	assert_int_equal(currency_exponent("KWD"), 3);
	assert_int_equal(currency_exponent("KRW"), 0);
	/* every ISO 4217 currency (list of 2024) whose minor unit is not 2: a wrong entry
	 * reads a Hotmart price 1000 times off and prints it so in to-csv --money */
	static const struct { const char *code; int exponent; } iso[] = {
		{"BIF", 0}, {"CLP", 0}, {"DJF", 0}, {"GNF", 0}, {"ISK", 0}, {"JPY", 0},
		{"KMF", 0}, {"KRW", 0}, {"PYG", 0}, {"RWF", 0}, {"UGX", 0}, {"UYI", 0},
		{"VND", 0}, {"VUV", 0}, {"XAF", 0}, {"XOF", 0}, {"XPF", 0},
		{"BHD", 3}, {"IQD", 3}, {"JOD", 3}, {"KWD", 3}, {"LYD", 3}, {"OMR", 3},
		{"TND", 3}, {"CLF", 4}, {"UYW", 4},
		/* two, as any code not listed: a few that border the table's entries */
		{"USD", 2}, {"EUR", 2}, {"MGA", 2}, {"HUF", 2}, {"TWD", 2}, {"AAA", 2}, {"ZZZ", 2},
	};
	for (size_t i = 0; i < sizeof iso / sizeof iso[0]; i++) {
		char lower[4] = { (char)(iso[i].code[0] | 0x20), (char)(iso[i].code[1] | 0x20),
			(char)(iso[i].code[2] | 0x20), 0 };
		if (currency_exponent(iso[i].code) != iso[i].exponent || currency_exponent(lower) != iso[i].exponent)
			fail_msg("%s: exponent %d, expected %d", iso[i].code, currency_exponent(iso[i].code), iso[i].exponent);
	}
	assert_int_equal(currency_exponent("US"), -1);
	assert_int_equal(currency_exponent("U$D"), -1);
	assert_int_equal(currency_normalize("usd", c), 0);
	assert_string_equal(c, "USD");
	assert_int_equal(currency_normalize("usdd", c), -1);
	assert_int_equal(currency_normalize(NULL, c), -1);
}

static void test_time(void **state)
{
	char b[RFC3339_BUFSZ];
	int64_t ms;
	assert_string_equal(fmt_rfc3339(0, b), "1970-01-01T00:00:00Z");
	assert_string_equal(fmt_rfc3339(1632411406000LL, b), "2021-09-23T15:36:46Z");
	assert_string_equal(fmt_rfc3339(1632411406123LL, b), "2021-09-23T15:36:46.123Z");
	assert_string_equal(fmt_rfc3339(-1, b), "1969-12-31T23:59:59.999Z");
	assert_string_equal(fmt_rfc3339(951782400000LL, b), "2000-02-29T00:00:00Z");
	assert_int_equal(parse_rfc3339("2021-09-23T15:36:46Z", &ms), 0);
	assert_int_equal(ms, 1632411406000LL);
	assert_int_equal(parse_rfc3339("2021-09-23T12:36:46.5-03:00", &ms), 0);
	assert_int_equal(ms, 1632411406500LL);
	assert_int_equal(parse_rfc3339("2021-09-23 15:36:46", &ms), 0);
	assert_int_equal(ms, 1632411406000LL);
	assert_int_equal(parse_rfc3339("2021-09-23", &ms), 0);
	assert_int_equal(ms, 1632355200000LL);
	assert_int_equal(parse_rfc3339("2021-02-29", &ms), -1);
	/* the Gregorian leap years: 2000 is one (divisible by 400), 1900 and 2100 are not */
	assert_int_equal(parse_rfc3339("2000-02-29T12:00:00Z", &ms), 0);
	assert_int_equal(ms, 951825600000LL);
	assert_int_equal(parse_rfc3339("2024-02-29", &ms), 0);
	assert_int_equal(ms, 1709164800000LL);
	assert_int_equal(parse_rfc3339("2000-03-01", &ms), 0);
	assert_int_equal(ms, 951868800000LL);
	assert_int_equal(parse_rfc3339("1900-02-29", &ms), -1);
	assert_int_equal(parse_rfc3339("2100-02-29", &ms), -1);
	assert_int_equal(parse_rfc3339("2100-03-01", &ms), 0);
	assert_int_equal(ms, 4107542400000LL);
	assert_int_equal(parse_rfc3339("2021-13-01", &ms), -1);
	assert_int_equal(parse_rfc3339("2021-09-23T25:00:00Z", &ms), -1);
	assert_int_equal(parse_rfc3339("yesterday", &ms), -1);
	assert_int_equal(parse_rfc3339("2021-09-23T15:36:46Zjunk", &ms), -1);
	assert_int_equal(parse_rfc3339(NULL, &ms), -1);
	/* as PostgreSQL reads them: a fraction to the microsecond, rounded (then our
	 * milliseconds), a leap second as the next minute's first */
	assert_int_equal(parse_rfc3339("2021-09-23T15:36:46.123456789Z", &ms), 0);
	assert_int_equal(ms, 1632411406123LL);
	assert_int_equal(parse_rfc3339("2021-09-23T15:36:46.9999995Z", &ms), 0);
	assert_int_equal(ms, 1632411407000LL);
	assert_int_equal(parse_rfc3339("2021-09-23T15:36:46.9999994Z", &ms), 0);
	assert_int_equal(ms, 1632411406999LL);
	assert_int_equal(parse_rfc3339("2016-12-31T23:59:60Z", &ms), 0);
	assert_int_equal(ms, 1483228800000LL); /* 2017-01-01T00:00:00Z */
	assert_int_equal(parse_rfc3339_strict("2016-12-31t23:59:60.5z", &ms), 0);
	assert_int_equal(ms, 1483228800500LL);
	/* an offset PostgreSQL refuses (past 15:59) is not a record time */
	assert_int_equal(parse_rfc3339_strict("2021-09-23T15:36:46+15:59", &ms), 0);
	assert_int_equal(parse_rfc3339_strict("2021-09-23T15:36:46+16:00", &ms), -1);
	assert_int_equal(parse_rfc3339_strict("2021-09-23T15:36:46-23:59", &ms), -1);
	/* a bound of a window of millisecond times: a fraction of one rounds up,
	 * so that [since, until) holds the events it says (audit-T2 2) */
	assert_int_equal(parse_rfc3339_bound("2021-09-23T15:36:46.1235Z", &ms), 0);
	assert_int_equal(ms, 1632411406124LL);
	assert_int_equal(parse_rfc3339_bound("2021-09-23T15:36:46.123Z", &ms), 0);
	assert_int_equal(ms, 1632411406123LL);
	assert_int_equal(parse_rfc3339_bound("2021-09-23T15:36:46.9999Z", &ms), 0);
	assert_int_equal(ms, 1632411407000LL);
	assert_int_equal(parse_rfc3339_bound("2021-09-23", &ms), 0);
	assert_int_equal(ms, 1632355200000LL);
	assert_int_equal(parse_rfc3339_bound("2021-09-23T25:00:00Z", &ms), -1);
	assert_int_equal(epoch_to_ms(1632411406), 1632411406000LL);
	assert_int_equal(epoch_to_ms(1632411406000LL), 1632411406000LL);
}

static void test_utf8(void **state)
{
	assert_true(utf8_valid("plain", 5));
	assert_true(utf8_valid("S\xc3\xa3o Paulo \xf0\x9f\x98\x80", 15));
	assert_false(utf8_valid("\xc3", 1));         /* truncated */
	assert_false(utf8_valid("\xc0\xaf", 2));     /* overlong */
	assert_false(utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
	assert_false(utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
	assert_false(utf8_valid("abcdefgh\xff", 9));
}

/* utf8_replace: each byte not part of valid UTF-8, and each NUL, becomes
 * U+FFFD; utf8_repair makes each such byte '?' in place. */
static void test_utf8_replace(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *replaced, *repaired;
	} cases[] = {
		{ "S\xc3\xa3o \xf0\x9f\x98\x80", 9, "S\xc3\xa3o \xf0\x9f\x98\x80", "S\xc3\xa3o \xf0\x9f\x98\x80" },
		{ "a\x80" "b", 3, "a\xef\xbf\xbd" "b", "a?b" },                   /* a lone continuation */
		{ "\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd", "??" },           /* overlong */
		{ "\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", "???" }, /* surrogate */
		{ "x\xe2\x82", 3, "x\xef\xbf\xbd", "x?" },                     /* cut at the end: one unit */
		{ "\xe2\x82\xc3\xa3", 4, "\xef\xbf\xbd\xc3\xa3", "?\xc3\xa3" },   /* cut, then a character */
		/* Unicode 15, 3.9, Table 3-8: 61 F1 80 80 E1 80 C2 62 80 63 80 BF 64 */
		{ "a\xf1\x80\x80\xe1\x80\xc2" "b\x80" "c\x80\xbf" "d", 13,
		  "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xef\xbf\xbd\xef\xbf\xbd" "d",
		  "a???b?c??d" },
		{ "\xe0\x80\xf4\x90\xf4\x8f", 6,                                /* second bytes out of range */
		  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", "?????" },
		{ "\xf5\x80\xff", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", "???" }, /* never a lead */
		{ "Jo\xe3o", 4, "Jo\xef\xbf\xbdo", "Jo?o" },                    /* Latin-1 */
		{ "a\0" "b", 3, "a\xef\xbf\xbd" "b", NULL },                     /* a NUL */
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t n;
		char *out = utf8_replace(cases[i].in, cases[i].len, &n);
		assert_int_equal(n, strlen(cases[i].replaced));
		assert_string_equal(out, cases[i].replaced);
		assert_true(utf8_valid(out, n));
		free(out);
		if (cases[i].repaired) {
			char buf[32];
			memcpy(buf, cases[i].in, cases[i].len);
			buf[cases[i].len] = '\0';
			utf8_repair(buf);
			assert_string_equal(buf, cases[i].repaired);
		}
	}
}

static struct jparser *parser;

static json_object *parse(const char *s, enum reject_code *code)
{
	char msg[256];
	return jparse(parser, s, strlen(s), code, msg, sizeof msg);
}

static json_object *parse_len(const char *s, size_t len, enum reject_code *code)
{
	char msg[256];
	return jparse(parser, s, len, code, msg, sizeof msg);
}

static void test_jparse(void **state)
{
	enum reject_code code;
	json_object *o = parse("{\"a\": [1, {\"b\": \"x\"}]}  ", &code);
	assert_non_null(o);
	assert_string_equal(jstr(o, "a.1.b"), "x");
	assert_null(jpath(o, "a.2"));
	assert_null(jpath(o, "a.x"));
	assert_null(jstr(o, "a.0"));
	/* an array index is plain digits only */
	assert_non_null(jpath(o, "a.0"));
	assert_null(jpath(o, "a.01"));
	assert_null(jpath(o, "a.+1"));
	assert_null(jpath(o, "a. 1"));
	assert_null(jpath(o, "a.-0"));
	assert_null(jpath(o, "a.1 "));
	json_object_put(o);
	/* a key holding a dot, named with an escape byte */
	o = parse("{\"m\": {\"plan.name\": \"Pro\", \"plan\": {\"name\": \"no\"}}, \"l\": [{\"a.b\": 1}]}", &code);
	assert_string_equal(jstr(o, "m.plan.name"), "no");
	assert_string_equal(json_object_get_string(jpath_esc(o, "m.plan\x01name", '\x01')), "Pro");
	assert_int_equal(json_object_get_int(jpath_esc(o, "l.0.a\x01" "b", '\x01')), 1);
	assert_null(jpath_esc(o, "l.01.a\x01" "b", '\x01'));
	json_object_put(o);
	o = parse("12", &code);
	assert_non_null(o);
	json_object_put(o);
	assert_null(parse("{\"a\":1} x", &code));
	assert_int_equal(code, REJ_INVALID_JSON);
	assert_null(parse("{\"a\":1}{}", &code));
	assert_null(parse("{'a':1}", &code));
	assert_null(parse("{\"a\":NaN}", &code));
	assert_null(parse("{\"a\":", &code));
	assert_int_equal(code, REJ_INVALID_JSON);
	assert_null(parse("", &code));
	assert_null(parse("{\"a\":\"\xff\"}", &code));
	assert_int_equal(code, REJ_INVALID_UTF8);
	char deep[400];
	memset(deep, '[', 200);
	memset(deep + 200, ']', 200);
	assert_null(parse_len(deep, 400, &code));
	assert_int_equal(code, REJ_TOO_DEEP);
	char nul[] = "{\"a\":1}\0";
	char msg[64];
	struct jparser *p = jparser_new();
	assert_null(jparse(p, nul, sizeof nul - 1, &code, msg, sizeof msg));
	assert_int_equal(code, REJ_NUL_BYTE);
	jparser_free(p);
}

static void test_jparse_shallow(void **state)
{
	const char *text = "{\"a\":{\"b\":{\"c\":1},\"d\":[1,[2]],\"e\":{}},\"f\":[{\"g\":1},[]],\"h\":\"x\"}";
	char msg[128];
	enum reject_code code;
	json_object *o = jparse_shallow(parser, text, strlen(text), 2, &code, msg, sizeof msg);
	assert_non_null(o);
	assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
			    "{\"a\":{\"b\":{},\"d\":[],\"e\":{}},\"f\":[{},[]],\"h\":\"x\"}");
	json_object_put(o);
	/* Still the whole text is checked: an error deep inside is found. */
	const char *bad = "{\"a\":{\"b\":{\"c\":01}}}";
	assert_null(jparse_shallow(parser, bad, strlen(bad), 1, &code, msg, sizeof msg));
	assert_int_equal(code, REJ_INVALID_JSON);
	const char *utf = "{\"a\":{\"b\":{\"c\":\"\xc3\"}}}";
	assert_null(jparse_shallow(parser, utf, strlen(utf), 1, &code, msg, sizeof msg));
	assert_int_equal(code, REJ_INVALID_UTF8);
}

/* text parsed by the test parser, so that its members are known (jmember_span, jdrop_members) */
static void parse_members(const char *text, int shallow)
{
	enum reject_code code;
	char msg[128];
	json_object *o = shallow ? jparse_shallow(parser, text, strlen(text), 1, &code, msg, sizeof msg)
				 : jparse(parser, text, strlen(text), &code, msg, sizeof msg);
	assert_non_null(o);
	json_object_put(o);
}

/* span: what jmember_span says of text after a jparse (and the same after a jparse_shallow) */
static int span(const char *text, const char *key, size_t *off, size_t *len)
{
	size_t off2 = 0, len2 = 0;
	int found;

	parse_members(text, 1);
	found = jmember_span(parser, text, strlen(text), key, &off2, &len2);
	parse_members(text, 0);
	assert_int_equal(jmember_span(parser, text, strlen(text), key, off, len), found);
	if (found) {
		assert_int_equal(*off, off2);
		assert_int_equal(*len, len2);
	}
	return found;
}

static void test_member_span(void **state)
{
	const char *a = "{\"a\":1,\"payload\":{\"x\":[1,{\"y\":\"}\\\"\"}]} ,\"z\":\"p\"}";
	const char *b = "{\"payload\" : [2] , \"payload\":\"s\\\"x\"}";
	const char *c = "{\"pay\\u006coad\":1}";
	size_t off, len;
	assert_true(span(a, "payload", &off, &len));
	assert_int_equal(len, strlen("{\"x\":[1,{\"y\":\"}\\\"\"}]}"));
	assert_memory_equal(a + off, "{\"x\":[1,{\"y\":\"}\\\"\"}]}", len);
	assert_true(span(b, "payload", &off, &len)); /* the last one */
	assert_memory_equal(b + off, "\"s\\\"x\"", len);
	/* a key spelled with escapes reads as json-c and PostgreSQL read it */
	assert_true(span(c, "payload", &off, &len));
	assert_memory_equal(c + off, "1", len);
	/* a later copy spelled with escapes is the one json-c keeps */
	const char *d = "{\"payload\":{\"a\":1},\"p\\u0061yload\":{\"b\":2}}";
	assert_true(span(d, "payload", &off, &len));
	assert_memory_equal(d + off, "{\"b\":2}", len);
	assert_true(span("{\"a\\/b\\\"\\t\":1,\"x\":2}", "a/b\"\t", &off, &len));
	assert_int_equal(off, 12);
	assert_true(span("{\"\\u00e9\\ud83d\\ude00\":[]}", "\xc3\xa9\xf0\x9f\x98\x80", &off, &len)); /* é😀 */
	assert_true(span("{\"\\ud800x\":0}", "\xef\xbf\xbdx", &off, &len)); /* a lone surrogate: U+FFFD */
	assert_false(span("{\"payload\\u0000\":0}", "payload", &off, &len));
	/* a top-level key holding U+0000: json-c reads "payload\u0000" as a second
	 * payload, so the members are not known (the caller refuses the line) */
	assert_false(span("{\"payload\":1,\"payload\\u0000x\":2}", "payload", &off, &len));
	assert_true(span("{\"payload\":1,\"a\":{\"b\\u0000\":2}}", "payload", &off, &len)); /* deeper: the caller's */
	assert_false(span("{\"p\\u0061yloa\":0}", "payload", &off, &len));
	assert_false(span("{\"p\\u0061yloadd\":0}", "payload", &off, &len));
	assert_false(span("{}", "payload", &off, &len));
	assert_true(span("{\"payload\":12}", "payload", &off, &len));
	assert_int_equal(len, 2);
	assert_true(span(" {\"x\" :\t\"y\" } ", "x", &off, &len));
	assert_int_equal(off, 8);
	assert_int_equal(len, 3);
	/* escapes inside values, and inside keys deeper down, do not matter */
	assert_true(span("{\"a\":{\"k\\u0065y\":\"\\n\"},\"payload\":[true,null,-1.5e3]}", "payload", &off, &len));
	assert_int_equal(len, strlen("[true,null,-1.5e3]"));
	/* not an object, or another text than the one parsed last: not known */
	assert_false(span("[{\"payload\":1}]", "payload", &off, &len));
	parse_members("{\"payload\":1}", 0);
	assert_false(jmember_span(parser, "{\"payload\": 1}", 15, "payload", &off, &len));
	/* a parser not asked to track members knows none */
	struct jparser *plain = jparser_new();
	enum reject_code code;
	char msg[64];
	json_object *o = jparse(plain, "{\"payload\":1}", 13, &code, msg, sizeof msg);
	assert_non_null(o);
	assert_false(jmember_span(plain, "{\"payload\":1}", 13, "payload", &off, &len));
	json_object_put(o);
	jparser_free(plain);
	/* any number of members */
	static char many[8192] = "{";
	for (int i = 0; i < 600; i++)
		sprintf(many + strlen(many), "%s\"k%d\":%d", i ? "," : "", i, i);
	strcat(many, ",\"payload\":1}");
	assert_true(span(many, "payload", &off, &len));
	assert_int_equal(off, strlen(many) - 2);
	assert_true(span(many, "k599", &off, &len));
	assert_memory_equal(many + off, "599", len);
	/* up to 4096: past that not known (the caller builds the object) */
	static char more[65536] = "{";
	size_t at = 1;
	for (int i = 0; i < 4096; i++)
		at += (size_t)sprintf(more + at, "%s\"k%d\":%d", i ? "," : "", i, i);
	strcpy(more + at, "}");
	assert_true(span(more, "k4095", &off, &len));
	strcpy(more + at, ",\"payload\":1}");
	assert_false(span(more, "payload", &off, &len));
	assert_false(span(more, "k1", &off, &len));
}

/* jdrop_members gives the object json-c gives after deleting the keys, from
 * the text's own bytes, a key written with escapes read as json-c reads it. */
static void test_drop_members(void **state)
{
	static const char *const keys[] = {"received_at", "source"};
	const char *cases[] = {
		"{}",
		"{\"source\":\"a\"}",
		"{\"received_at\":1,\"source\":\"a\",\"x\":2}",
		"{\"x\":2,\"received_at\":1,\"source\":\"a\"}",
		"{ \"a\" : {\"source\":1, \"b\":[\"received_at\", {\"source\":2}]} , \"source\" :\t\"s\\\"}\" ,\"z\":null }",
		"{\"source\":1,\"k\":\"v\",\"source\":2,\"sources\":3,\"sourc\":4}",
		"{\"x\":\"\\\\\",\"received_at\":\"2026-11-01T10:00:00Z\"}",
		" {\"s\\u006frce\":[], \"source\" : {}} ",
		"{\"sour\\u0063e\":1,\"x\":2,\"received\\u005fat\":3,\"sourc\\u0065s\":4}",
		"{\"x\":\"\\\\\",\"received_at\":\"2026-11-01T10:00:00Z\"}",
	};
	char out[256];
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		parse_members(cases[i], (int)(i % 2));
		size_t n = jdrop_members(parser, cases[i], strlen(cases[i]), keys, 2, out);
		assert_true(n <= strlen(cases[i]));
		json_object *want = json_tokener_parse(cases[i]), *got;
		json_object_object_del(want, "received_at");
		json_object_object_del(want, "source");
		out[n] = '\0';
		got = json_tokener_parse(out);
		assert_non_null(got);
		assert_true(json_object_equal(want, got));
		json_object_put(want);
		json_object_put(got);
	}
	assert_string_equal(out, "{\"x\":\"\\\\\"}");
	const char *escaped = "{\"sour\\u0063e\":1,\"x\":2}";
	parse_members(escaped, 0);
	assert_int_equal(jdrop_members(parser, escaped, strlen(escaped), keys, 2, out), 7);
	assert_memory_equal(out, "{\"x\":2}", 7);
}

/* json_value_end skips string contents eight bytes at a time: a quote or a
 * backslash at every offset of strings of every length up to 40. */
static void test_value_end_strings(void **state)
{
	char buf[128];

	for (size_t n = 0; n <= 40; n++) {
		for (size_t k = 0; k <= n; k++) {
			size_t len = 0;
			buf[len++] = '"';
			for (size_t i = 0; i < n; i++) {
				if (i == k && i + 1 < n) { /* an escaped quote, then an escaped backslash */
					buf[len++] = '\\';
					buf[len++] = i % 2 ? '"' : '\\';
				} else {
					buf[len++] = i % 3 ? 'x' : (char)0xc3; /* bytes past ASCII are plain too */
				}
			}
			buf[len++] = '"';
			size_t end = len;
			memcpy(buf + len, ",\"}\"]", 5);
			len += 5;
			assert_int_equal(json_value_end(buf, len), end);
			/* and as a member inside an object: the object's end */
			char obj[160];
			int m = snprintf(obj, sizeof obj, "{\"k\":%.*s,\"l\":[\"}\"]} ,", (int)end, buf);
			assert_int_equal(json_value_end(obj, (size_t)m), (size_t)m - 2);
		}
	}
}

/* json_text_state tells a document's first line (it goes on) from a line cut or broken. */
static void test_text_state(void **state)
{
	static const struct { const char *text; enum json_text want; } cases[] = {
		{"{\"id\":\"evt_1\"}", JSON_WHOLE},
		{" [{}, []] ", JSON_WHOLE},
		{"{", JSON_GOES_ON},
		{"[{\"id\":\"evt_1\"},", JSON_GOES_ON},
		{"{\"id\": \"evt_1\",", JSON_GOES_ON},
		{"{\"data\":", JSON_GOES_ON},
		{"{\"n\": 12", JSON_GOES_ON},      /* a number ends where the line does */
		{"{\"id\":\"evt_1\",\"ob", JSON_BAD}, /* cut inside a string */
		{"{\"ok\": tr", JSON_BAD},          /* cut inside a word */
		{"{\"id\"", JSON_BAD},              /* a key without its ':' */
		{"{\"a\":1} x", JSON_BAD},
		{"{\"a\":1},", JSON_BAD},
		{"{[", JSON_BAD},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		if (json_text_state(cases[i].text, strlen(cases[i].text)) != cases[i].want)
			fail_msg("'%s': not %d", cases[i].text, cases[i].want);
}

static void test_getters(void **state)
{
	enum reject_code code;
	json_object *o = parse("{\"amount\":1990,\"s\":\"x\",\"f\":19.9,\"n\":null,\"big\":99999999999999999999,"
			       "\"cust\":{\"id\":\"cus_1\"},\"cid\":\"cus_2\",\"b\":true,\"e\":\"\"}", &code);
	struct jerr e = {0};
	int64_t v;
	const char *s;
	int b;
	assert_true(jget_int(o, "amount", 1, &v, &e));
	assert_int_equal(v, 1990);
	assert_true(jget_str(o, "s", 1, &s, &e));
	assert_string_equal(s, "x");
	assert_true(jget_id(o, "cust", 1, &s, &e));
	assert_string_equal(s, "cus_1");
	assert_true(jget_id(o, "cid", 1, &s, &e));
	assert_string_equal(s, "cus_2");
	assert_true(jget_bool(o, "b", 1, &b, &e));
	assert_false(jget_str(o, "n", 0, &s, &e));
	assert_false(e.failed);
	assert_false(jget_int(o, "f", 1, &v, &e));
	assert_true(e.failed);
	assert_string_equal(e.reason, "field 'f' must be an integer, got number");
	e = (struct jerr){0};
	assert_false(jget_int(o, "missing.deep", 1, &v, &e));
	assert_string_equal(e.reason, "missing field 'missing.deep'");
	e = (struct jerr){0};
	assert_false(jget_int(o, "big", 1, &v, &e));
	assert_string_equal(e.reason, "field 'big' is out of range");
	e = (struct jerr){0};
	assert_false(jget_str(o, "e", 1, &s, &e));
	assert_string_equal(e.reason, "field 'e' is empty");
	e = (struct jerr){0};
	assert_false(jget_str(o, "n", 1, &s, &e));
	assert_string_equal(e.reason, "missing field 'n'");
	json_object_put(o);

	/* U+0000 would cut the C string short: "cus_1\u0000x" is not cus_1 */
	o = parse("{\"s\":\"cus_1\\u0000x\",\"cust\":{\"id\":\"cus_1\\u0000\"}}", &code);
	assert_non_null(o);
	assert_true(jstr_has_nul(jpath(o, "s")));
	e = (struct jerr){0};
	assert_false(jget_str(o, "s", 0, &s, &e));
	assert_null(s);
	assert_string_equal(e.reason, "field 's' contains U+0000");
	e = (struct jerr){0};
	assert_false(jget_id(o, "s", 1, &s, &e));
	assert_string_equal(e.reason, "field 's' contains U+0000");
	e = (struct jerr){0};
	assert_false(jget_id(o, "cust", 1, &s, &e));
	assert_string_equal(e.reason, "field 'cust.id' contains U+0000");
	json_object_put(o);
}

static char *write_tmp(const void *data, size_t len, int gzip)
{
	static char path[64];
	strcpy(path, "/tmp/ro-test-lineio.XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	if (gzip) {
		gzFile gz = gzdopen(fd, "wb");
		gzwrite(gz, data, (unsigned)len);
		gzclose(gz);
	} else {
		assert_int_equal(write(fd, data, len), (ssize_t)len);
		close(fd);
	}
	return path;
}

static void test_lines_plain(void **state)
{
	const char text[] = "one\r\ntwo\n\nthree-is-long\nfour";
	char *path = write_tmp(text, sizeof text - 1, 0);
	struct line_reader *lr = lr_open(path, 8);
	struct line l;
	assert_int_equal(lr_next(lr, &l), LR_LINE);
	assert_string_equal(l.text, "one");
	assert_int_equal(l.lineno, 1);
	assert_int_equal(lr_next(lr, &l), LR_LINE);
	assert_string_equal(l.text, "two");
	assert_int_equal(lr_next(lr, &l), LR_LINE);
	assert_int_equal(l.len, 0);
	assert_int_equal(lr_next(lr, &l), LR_LINE);
	assert_true(l.too_long);
	assert_int_equal(l.lineno, 4);
	assert_int_equal(lr_next(lr, &l), LR_LINE);
	assert_string_equal(l.text, "four");
	assert_false(l.too_long);
	assert_int_equal(l.lineno, 5);
	assert_int_equal(lr_next(lr, &l), LR_EOF);
	lr_close(lr);
	unlink(path);
}

/* The maximum is the line's own length: a CRLF line of exactly --max-line
 * bytes is taken, as its LF twin is, at the end of the input too. */
static void test_lines_crlf_at_the_maximum(void **state)
{
	const char text[] = "12345678\r\n12345678\n123456789\r\n12345678\r";
	char *path = write_tmp(text, sizeof text - 1, 0);
	struct line_reader *lr = lr_open(path, 8);
	struct line l;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(lr_next(lr, &l), LR_LINE);
		assert_int_equal(l.too_long, i == 2);
		if (i != 2)
			assert_string_equal(l.text, "12345678");
	}
	assert_int_equal(lr_next(lr, &l), LR_EOF);
	lr_close(lr);
	unlink(path);
}

static void test_lines_long_across_chunks(void **state)
{
	size_t n = 3 << 20;
	char *big = malloc(n + 16);
	memset(big, 'x', n);
	memcpy(big + n, "\nafter\n", 7);
	char *path = write_tmp(big, n + 7, 1);
	struct line_reader *lr = lr_open(path, 1 << 20);
	struct line l;
	assert_int_equal(lr_next(lr, &l), LR_LINE);
	assert_true(l.too_long);
	assert_int_equal(lr_next(lr, &l), LR_LINE);
	assert_string_equal(l.text, "after");
	assert_int_equal(l.lineno, 2);
	assert_int_equal(lr_next(lr, &l), LR_EOF);
	lr_close(lr);
	unlink(path);
	free(big);
}

/* Bytes between lines (an HTTP body): line ends and all, the line count kept,
 * plain and gzip, across the reader's buffer; skipping; the end of the input. */
static void test_lines_and_bytes(void **state)
{
	const char text[] = "\xef\xbb\xbfPOST / HTTP/1.1\r\n\r\n{\"a\":\r\n1}POST /b HTTP/1.1\nlast\nx";
	for (int gz = 0; gz < 2; gz++) {
		char *path = write_tmp(text, sizeof text - 1, gz);
		struct line_reader *lr = lr_open(path, 64);
		struct line l;
		char body[16];
		assert_int_equal(lr_next(lr, &l), LR_LINE);
		assert_string_equal(l.text, "POST / HTTP/1.1");
		assert_int_equal(lr_next(lr, &l), LR_LINE);
		assert_int_equal(l.len, 0);
		assert_int_equal(lr_read(lr, body, 9), 9);
		assert_memory_equal(body, "{\"a\":\r\n1}", 9);
		assert_int_equal(lr_next(lr, &l), LR_LINE);
		assert_string_equal(l.text, "POST /b HTTP/1.1");
		assert_int_equal(l.lineno, 4); /* the body ended inside line 4 */
		assert_int_equal(lr_read(lr, NULL, 3), 3); /* "las" skipped */
		assert_int_equal(lr_next(lr, &l), LR_LINE);
		assert_string_equal(l.text, "t");
		assert_int_equal(l.lineno, 5);
		assert_int_equal(lr_read(lr, body, 10), 1);
		assert_int_equal(body[0], 'x');
		assert_int_equal(lr_read(lr, body, 10), 0);
		assert_int_equal(lr_next(lr, &l), LR_EOF);
		lr_close(lr);
		unlink(path);
	}
	/* a first read before any line still skips the byte-order mark */
	char *path = write_tmp(text, sizeof text - 1, 0);
	struct line_reader *lr = lr_open(path, 64);
	char head[4];
	assert_int_equal(lr_read(lr, head, 4), 4);
	assert_memory_equal(head, "POST", 4);
	lr_close(lr);
	unlink(path);

	/* 3 MB of lines read as bytes, past the reader's buffer, then a line */
	size_t n = 3 << 20;
	char *big = malloc(n + 16), *back = malloc(n);
	assert_non_null(big);
	assert_non_null(back);
	for (size_t i = 0; i < n; i++)
		big[i] = i % 100 == 99 ? '\n' : 'a' + i % 26;
	memcpy(big + n, "tail\n", 5);
	for (int gz = 0; gz < 2; gz++) {
		path = write_tmp(big, n + 5, gz);
		lr = lr_open(path, 1024);
		struct line l;
		assert_int_equal(lr_read(lr, back, n), (ssize_t)n);
		assert_memory_equal(back, big, n);
		assert_int_equal(lr_lineno(lr), (long)(n / 100));
		/* given back: more than the buffer's room before the unread bytes, then a
		 * little (room there); the lines read again, their numbers as the first time */
		lr_unread(lr, back + 150, n - 150);
		assert_int_equal(lr_lineno(lr), 1);
		assert_int_equal(lr_next(lr, &l), LR_LINE);
		assert_int_equal(l.lineno, 2);
		assert_int_equal(l.len, 49);
		assert_memory_equal(l.text, big + 150, 49);
		assert_int_equal(lr_read(lr, back, n - 200), (ssize_t)(n - 200));
		assert_memory_equal(back, big + 200, n - 200);
		size_t last = n / 100 * 100 - 100; /* the last whole line's start */
		lr_unread(lr, back + last - 200, n - last);
		assert_int_equal(lr_next(lr, &l), LR_LINE);
		assert_int_equal(l.lineno, (long)(n / 100));
		assert_int_equal(l.len, 99);
		assert_memory_equal(l.text, big + last, 99);
		assert_int_equal(lr_next(lr, &l), LR_LINE); /* the rest of the n bytes, then "tail" */
		assert_int_equal(l.len, n - last - 100 + 4);
		assert_memory_equal(l.text, big + last + 100, n - last - 100);
		assert_string_equal(l.text + l.len - 4, "tail");
		assert_int_equal(l.lineno, (long)(n / 100 + 1));
		lr_close(lr);
		unlink(path);
	}
	free(big);
	free(back);
}

/* Raw HTTP: what is a request line; requests back to back, glued to a body, chunked, unsized. */
static void test_rawhttp(void **state)
{
	static const char *const yes[] = { "POST /webhooks/stripe HTTP/1.1", "PUT * HTTP/1.0", "POST http://h/x?a=%20 HTTP/1.1" };
	static const char *const no[] = { "", "POST", "post /x HTTP/1.1", "POST /x HTTP/2", "POST /x HTTP/1.2", "POST /x  HTTP/1.1",
		" POST /x HTTP/1.1", "POST /x HTTP/1.1 ", "POST /x\tHTTP/1.1", "POST  HTTP/1.1", "ABCDEFGHIJKLMNOPQRSTU /x HTTP/1.1",
		"{\"a\":1}POST /x HTTP/1.1" };
	for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
		assert_true(http_request_line(yes[i], strlen(yes[i])));
	for (size_t i = 0; i < sizeof no / sizeof *no; i++)
		if (http_request_line(no[i], strlen(no[i])))
			fail_msg("'%s' taken as a request line", no[i]);

	const char text[] =
		"POST /a HTTP/1.1\r\nContent-Length: 3\r\nDate: Fri, 20 Nov 2026 14:30:00 GMT\r\n\r\n{}\n"
		"POST /b HTTP/1.1\nTransfer-Encoding: chunked\nContent-Type: application/x-www-form-urlencoded\n\n"
		"3\na=1\n2;x\n&b\n0\n\n"
		"garbage\nmore\n"
		"POST /c HTTP/1.1\r\nContent-Length: 1\r\n\r\nxPOST /d HTTP/1.1\n\n{\n}\n\n";
	char *path = write_tmp(text, sizeof text - 1, 1);
	struct line_reader *lr = lr_open(path, 1024);
	struct line l;
	struct http_request rq;
	assert_int_equal(lr_next(lr, &l), LR_LINE);
	struct http_reader *hr = http_open(lr, &l, 1024);
	assert_int_equal(http_next(hr, &rq), HTTP_REQUEST);
	assert_int_equal(rq.lineno, 1);
	assert_int_equal(rq.body_len, 3);
	assert_memory_equal(rq.body, "{}\n", 3);
	assert_string_equal(rq.date, "Fri, 20 Nov 2026 14:30:00 GMT");
	assert_int_equal(http_next(hr, &rq), HTTP_REQUEST);
	assert_int_equal(rq.lineno, 6);
	assert_string_equal(rq.content_type, "application/x-www-form-urlencoded");
	assert_int_equal(rq.body_len, 5);
	assert_memory_equal(rq.body, "a=1&b", 5);
	assert_int_equal(http_next(hr, &rq), HTTP_BAD);
	assert_int_equal(rq.lineno, 16);
	assert_int_equal(rq.code, REJ_INVALID_REQUEST);
	assert_null(rq.line); /* no request line: maybe a body's piece, a secret's value in it */
	assert_int_equal(http_next(hr, &rq), HTTP_REQUEST);
	assert_int_equal(rq.lineno, 18);
	assert_int_equal(rq.body_len, 1);
	assert_int_equal(http_next(hr, &rq), HTTP_REQUEST); /* glued to the body before it, unsized */
	assert_int_equal(rq.lineno, 21);
	assert_string_equal(rq.line, "POST /d HTTP/1.1");
	assert_int_equal(rq.body_len, 3);
	assert_memory_equal(rq.body, "{\n}", 3);
	assert_int_equal(http_next(hr, &rq), HTTP_EOF);
	http_close(hr);
	lr_close(lr);
	unlink(path);

	/* A body whose last line, cut by its length, may begin a request line: the body's when the
	 * line goes on otherwise, or the bytes before it are not text; the next request's when it
	 * does. A length past a whole request line, at the start of a body line. */
	const char cuts[] =
		"POST /a HTTP/1.1\nContent-Length: 6\n\nx\nPOST\r\n"     /* "POST" then a line end */
		"POST /b HTTP/1.1\nContent-Length: 4\n\n\1\nPO"           /* binary, glued to the next */
		"POST /c HTTP/1.1\nContent-Length: 8\n\n{}\nPOST /d HTTP/1.1\n\n{}\n"
		"PUT /e HTTP/1.1\nContent-Length: 40\n\n{}\nPUT /f HTTP/1.1\n\n[]\n"
		/* glued to the body's last bytes (CRLF rewritten to LF shrank it): cut, then whole */
		"POST /g HTTP/1.1\nContent-Length: 12\n\n{}POST /h HTTP/1.1\n\n{}\n"
		"POST /i HTTP/1.1\nContent-Length: 22\n\n{\n}POST /j HTTP/1.1\n\n[]\n"
		/* capitals and blanks ending a body of its exact length: no request */
		"POST /k HTTP/1.1\nContent-Length: 9\n\n\"A B C D\"\n";
	path = write_tmp(cuts, sizeof cuts - 1, 0);
	lr = lr_open(path, 1024);
	assert_int_equal(lr_next(lr, &l), LR_LINE);
	hr = http_open(lr, &l, 1024);
	assert_int_equal(http_next(hr, &rq), HTTP_REQUEST);
	assert_int_equal(rq.body_len, 6);
	assert_memory_equal(rq.body, "x\nPOST", 6);
	assert_int_equal(http_next(hr, &rq), HTTP_REQUEST);
	assert_int_equal(rq.lineno, 6);
	assert_memory_equal(rq.body, "\1\nPO", 4);
	/* then each request rejected with why, or read: its line and body */
	static const struct {
		int status;
		long lineno;
		const char *text, *line;
	} next[] = {
		{HTTP_BAD, 10, "Content-Length 8 runs into the next request (line 14) after 3 bytes of body", NULL},
		{HTTP_REQUEST, 14, "{}", "POST /d HTTP/1.1"},
		{HTTP_BAD, 17, "Content-Length 40 runs into the next request (line 21) after 3 bytes of body", NULL},
		{HTTP_REQUEST, 21, "[]", "PUT /f HTTP/1.1"},
		{HTTP_BAD, 24, "Content-Length 12 runs into the next request (line 27) after 2 bytes of body", NULL},
		{HTTP_REQUEST, 27, "{}", "POST /h HTTP/1.1"},
		{HTTP_BAD, 30, "Content-Length 22 runs into the next request (line 34) after 3 bytes of body", NULL},
		{HTTP_REQUEST, 34, "[]", "POST /j HTTP/1.1"},
		{HTTP_REQUEST, 37, "\"A B C D\"", "POST /k HTTP/1.1"},
	};
	for (size_t i = 0; i < sizeof next / sizeof next[0]; i++) {
		assert_int_equal(http_next(hr, &rq), next[i].status);
		assert_int_equal(rq.lineno, next[i].lineno);
		if (next[i].status == HTTP_BAD) {
			assert_int_equal(rq.code, REJ_INVALID_REQUEST);
			assert_string_equal(rq.msg, next[i].text);
			continue;
		}
		assert_string_equal(rq.line, next[i].line);
		assert_int_equal(rq.body_len, strlen(next[i].text));
		assert_memory_equal(rq.body, next[i].text, rq.body_len);
	}
	assert_int_equal(http_next(hr, &rq), HTTP_EOF);
	http_close(hr);
	lr_close(lr);
	unlink(path);

	/* Obsolete line folding (RFC 9112, 5.2): a line that begins with a blank goes
	 * on with the header before it, the fold one space; one before any header
	 * continues none. A header longer than its field is refused, not cut (its
	 * end, a charset, would be lost). */
	char longtype[400];
	snprintf(longtype, sizeof longtype, "PUT /l HTTP/1.1\nContent-Type: text/plain; p=%0300d; charset=x\n\n{}\n", 0);
	char folds[1024];
	snprintf(folds, sizeof folds, "%s%s",
		 "POST /a HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded;\r\n \t charset=ISO-8859-1\r\n"
		 "Content-Encoding:\r\n\tgzip\r\nContent-Length: 2\r\n\r\n{}"
		 "POST /b HTTP/1.1\n continued\nContent-Length: 2\n\n{}"
		 "POST /c HTTP/1.1\nDate: Fri, 20 Nov 2026\n 14:30:00 GMT\n\n{}\n",
		 longtype);
	path = write_tmp(folds, strlen(folds), 0);
	lr = lr_open(path, 1024);
	assert_int_equal(lr_next(lr, &l), LR_LINE);
	hr = http_open(lr, &l, 1024);
	assert_int_equal(http_next(hr, &rq), HTTP_REQUEST);
	assert_string_equal(rq.content_type, "application/x-www-form-urlencoded; charset=ISO-8859-1");
	assert_string_equal(rq.content_encoding, "gzip");
	assert_int_equal(rq.body_len, 2);
	assert_int_equal(http_next(hr, &rq), HTTP_BAD);
	assert_int_equal(rq.code, REJ_INVALID_REQUEST);
	assert_string_equal(rq.msg, "line 9 of the request's headers continues no header");
	assert_int_equal(http_next(hr, &rq), HTTP_REQUEST);
	assert_string_equal(rq.line, "POST /c HTTP/1.1");
	assert_string_equal(rq.date, "Fri, 20 Nov 2026 14:30:00 GMT");
	assert_int_equal(http_next(hr, &rq), HTTP_BAD);
	assert_string_equal(rq.line, "PUT /l HTTP/1.1");
	assert_string_equal(rq.msg, "a 'Content-Type' header longer than 255 bytes");
	assert_int_equal(http_next(hr, &rq), HTTP_EOF);
	http_close(hr);
	lr_close(lr);
	unlink(path);
}

static void test_lines_gzip_members_and_truncation(void **state)
{
	/* Two gzip members back to back read as one stream. */
	char path[] = "/tmp/ro-test-gz.XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	for (int i = 0; i < 2; i++) {
		gzFile gz = gzopen(path, "ab");
		gzputs(gz, i == 0 ? "{\"a\":1}\n" : "{\"b\":2}\n");
		gzclose(gz);
	}
	struct line_reader *lr = lr_open(path, 0);
	struct line l;
	assert_int_equal(lr_next(lr, &l), LR_LINE);
	assert_string_equal(l.text, "{\"a\":1}");
	assert_int_equal(lr_next(lr, &l), LR_LINE);
	assert_string_equal(l.text, "{\"b\":2}");
	assert_int_equal(lr_next(lr, &l), LR_EOF);
	lr_close(lr);

	/* A gzip file cut short: the complete lines, then an error that says so. */
	char text[4096];
	size_t n = 0;
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(text + n, sizeof text - n, "{\"line\":%d}\n", i);
	char *tpath = write_tmp(text, n, 1);
	FILE *f = fopen(tpath, "r+");
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	assert_int_equal(ftruncate(fileno(f), size - 20), 0);
	fclose(f);
	lr = lr_open(tpath, 0);
	int lines = 0, r, truncated = 0;
	while ((r = lr_next(lr, &l)) == LR_LINE)
		lines++;
	assert_int_equal(r, LR_ERROR);
	lr_error(lr, &truncated);
	assert_true(truncated);
	assert_true(lines > 0 && lines < 100);
	lr_close(lr);
	unlink(tpath);
	unlink(path);
}

static void check_redact(const char *in, const char *want)
{
	size_t n = 0;
	char *out = secret_redact(in, strlen(in), &n);

	if (!want) {
		assert_null(out);
		return;
	}
	assert_non_null(out);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(out, want, n);
	free(out);
}

/* hottok is found and taken out wherever it sits: nested, in headers, in form bodies. */
/* load and reconcile print PostgreSQL's messages through pg_oneline: one line,
 * the password of --dsn or PGPASSWORD never in it. */
static void test_pg_messages(void **state)
{
	char *pw = NULL;

	unsetenv("PGPASSWORD");
	assert_int_equal(pg_password_of("host=/tmp password='s3 cret' dbname=x", &pw), 0);
	assert_string_equal(pw, "s3 cret");
	free(pw);
	assert_int_equal(pg_password_of("postgresql://bob:s3cr%40t@db.example:5433/x", &pw), 0);
	assert_string_equal(pw, "s3cr@t"); /* the URI's %-escape decoded, as libpq sends it */
	free(pw);
	assert_int_equal(pg_password_of("host=/tmp dbname=x", &pw), 0);
	assert_null(pw);
	assert_int_equal(pg_password_of(NULL, &pw), 0);
	assert_null(pw);
	setenv("PGPASSWORD", "envpw", 1);
	assert_int_equal(pg_password_of("dbname=x", &pw), 0);
	assert_string_equal(pw, "envpw");
	free(pw);
	assert_int_equal(pg_password_of("password=own", &pw), 0);
	assert_string_equal(pw, "own"); /* libpq prefers the string's: so do we */
	free(pw);
	unsetenv("PGPASSWORD");
	/* a string that does not parse: -1, nothing kept */
	assert_int_equal(pg_password_of("host='unterminated password=x", &pw), -1);
	assert_null(pw);

	/* --dsn: a copy to connect with; the command line `ps` shows loses the secret */
	char a1[] = "host=/tmp password='s3 cret' dbname=x", a2[] = "postgresql://bob:s3cr%40t@db:5433/x",
	     a3[] = "postgresql://bob:pw@db/x?password=other", a4[] = "host=/tmp dbname=x",
	     a5[] = "postgresql://nobody:s3cr@3tpw@nohost:1/none", a6[] = "postgresql://u:Xy7/Qz9@h:1/x";
	assert_string_equal(pg_dsn_take(a1), "host=/tmp password='s3 cret' dbname=x");
	assert_string_equal(a1, "host=/tmp password='*******' dbname=x");
	assert_string_equal(pg_dsn_take(a2), "postgresql://bob:s3cr%40t@db:5433/x");
	assert_string_equal(a2, "postgresql://bob:********@db:5433/x"); /* where it is written, escapes and all */
	assert_string_equal(pg_dsn_take(a3), "postgresql://bob:pw@db/x?password=other");
	assert_string_equal(a3, "postgresql://bob:**@db/x?password=*****"); /* libpq takes "other" */
	assert_string_equal(pg_dsn_take(a4), "host=/tmp dbname=x");
	assert_string_equal(a4, "host=/tmp dbname=x");
	pg_dsn_take(a5);
	assert_string_equal(a5, "postgresql://nobody:*********@nohost:1/none");
	pg_dsn_take(a6);
	assert_string_equal(a6, "postgresql://u:*******@h:1/x");
	/* a URI spelled postgres:// is one too (mutation audit MP: read as no URI, the
	 * piece of the password libpq takes for the port was neither secret in its
	 * message, 'invalid integer value "Xy7" for connection option "port"', nor
	 * masked past it in the command line) */
	char a6p[] = "postgres://u:Xy7/Qz9@h:1/x";
	pg_dsn_take(a6p);
	assert_string_equal(a6p, "postgres://u:*******@h:1/x");
	assert_int_equal(pg_password_of("postgres://u:Xy7/Qz9@h:1/x", &pw), 0);
	free(pw);
	assert_string_equal(pg_oneline("invalid integer value \"Xy7\" for connection option \"port\"", NULL),
			    "invalid integer value \"********\" for connection option \"port\"");
	assert_int_equal(pg_password_of(NULL, &pw), 0);
	/* a secret that is part of the scheme's name does not undo the URI's rules */
	char a7[] = "postgresql://u:sql/Zq9rT@h/x", a8[] = "postgresql://u:hunter2@h/x?password=%67res&sslmode=require",
	     a9[] = "host=/tmp password='it\\'s' dbname=x";
	pg_dsn_take(a7);
	assert_string_equal(a7, "postgre***://u:*********@h/x"); /* over-masked, never under */
	pg_dsn_take(a8);
	assert_null(strstr(a8, "hunter2"));
	assert_null(strstr(a8, "%67res"));
	assert_non_null(strstr(a8, "sslmode=require"));
	assert_string_equal(pg_dsn_take(a9), "host=/tmp password='it\\'s' dbname=x");
	assert_string_equal(a9, "***********************************"); /* not written as libpq reads it */
	/* every copy of a key=value string's password, not only the last one libpq
	 * uses (S2-4: "first" stayed in ps), blanks around '=' and quotes and all */
	char a10[] = "password=first host=/tmp password = second", a11[] = "sslpassword = 'a b c' password=fi\\ rst password=xyz9 dbname=d";
	assert_string_equal(pg_dsn_take(a10), "password=first host=/tmp password = second");
	assert_string_equal(a10, "password=***** host=/tmp password = ******");
	/* read on the text as given: a password that is a piece of the key's name
	 * ("word") masks the key's letters too, and every copy is still found */
	char a12[] = "password=first password=word";
	pg_dsn_take(a12);
	assert_string_equal(a12, "pass****=***** pass****=****");
	pg_dsn_take(a11);
	assert_string_equal(a11, "sslpassword = '*****' password=******* password=**** dbname=d");

	assert_string_equal(pg_oneline("FATAL:  password authentication failed for user \"bob\"\n", NULL),
			    "FATAL: password authentication failed for user \"bob\"");
	assert_string_equal(pg_oneline("connection to server failed: refused\n\tIs the server running?\r\n", "pw"),
			    "connection to server failed: refused Is the server running?");
	assert_string_equal(pg_oneline("bad: \"hunter2\" and \"a hunter2hunter2\".", "hunter2"),
			    "bad: \"********\" and \"********\".");
	/* the whole quoted text: masking the password alone would tell it ("/none********istent") */
	assert_string_equal(pg_oneline("connection to server on socket \"/nonexistent/.s.PGSQL.5432\" failed", "x"),
			    "connection to server on socket \"********\" failed");
	/* outside quotes it is a piece of the message's own words: all of it withheld */
	assert_string_equal(pg_oneline("connection to server on socket \"/tmp/.s.PGSQL.5432\" failed", "e"), PG_WITHHELD);
	assert_string_equal(pg_oneline("bad: hunter2 here", "hunter2"), PG_WITHHELD);
	assert_string_equal(pg_oneline("after \"a\" the hunter2 \"b\"", "hunter2"), PG_WITHHELD);
	assert_string_equal(pg_oneline("an unclosed \"quote hunter2", "hunter2"), PG_WITHHELD);
	/* a password holding a quote: still the one quoted text */
	assert_string_equal(pg_oneline("database \"a\"b\" does not exist", "a\"b"), "database \"********\" does not exist");
	assert_string_equal(pg_oneline("role \"x y\"\n\tthen \"plain\"", "y"), "role \"********\" then \"plain\"");
	assert_string_equal(pg_oneline("  \n", "x"), "");
	assert_string_equal(pg_oneline(NULL, NULL), "unknown error");
	assert_string_equal(pg_oneline("no secret here", ""), "no secret here");
	/* a message longer than the buffer is cut, never overrun */
	char big[3000];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_true(strlen(pg_oneline(big, "b")) < sizeof big);
}

/* a dbname that is itself a connection string holding a password: libpq finds the
 * password, and the server's FATAL quoting the name (cut or whole) says it masked whole */
static void check_nested(const char *dsn, const char *fatal)
{
	char *pw = NULL;

	assert_int_equal(pg_password_of(dsn, &pw), 0);
	assert_non_null(pw);
	free(pw);
	assert_string_equal(pg_oneline(fatal, NULL), "FATAL: database \"********\" does not exist");
}

/* A dbname that is itself a connection string goes to the server as the
 * database's name, quoted by its FATAL: masked whole in messages and in the
 * command line when it holds a secret. */
static void test_pg_nested_dbname(void **state)
{
	char *pw = NULL;

	unsetenv("PGPASSWORD");
	check_nested("dbname=postgresql://secuser:S3cretPw@/t1",
		     "FATAL:  database \"postgresql://secuser:S3cretPw@/t1\" does not exist");
	/* the server cuts a database's name to 63 bytes before it quotes it */
	check_nested("dbname=postgresql://secuser:S3cretPwLongEnough@/t1?host=/a/very/long/path/to/make/it/longer",
		     "FATAL: database \"postgresql://secuser:S3cretPwLongEnough@/t1?host=/a/very/long/p\" does not exist");
	/* one that holds no secret is a name like another */
	assert_int_equal(pg_password_of("dbname='host=/x dbname=y' host=/tmp", &pw), 0);
	assert_null(pw);
	assert_string_equal(pg_oneline("database \"host=/x dbname=y\"", NULL), "database \"host=/x dbname=y\"");
	/* a key=value string holding a password is as secret as a URI: whole, where
	 * the text's own masking leaves a quoted password's second word (mutation audit
	 * MP: only URIs read, the server's FATAL said "password=[redacted] Me99'") */
	check_nested("dbname='user=x password=\\'Hid3 Me99\\''",
		     "FATAL:  database \"user=x password='Hid3 Me99'\" does not exist");
	/* one of 64 bytes, the first length the server cuts: its 63-byte quote is
	 * masked whole too (mutation audit MP: the cut taken from 65 bytes on) */
	check_nested("dbname='user=x password=\\'Hid3 Me99\\' host=/a/very/long/path/to/pad/it/abc'",
		     "FATAL:  database \"user=x password='Hid3 Me99' host=/a/very/long/path/to/pad/it/ab\" does not exist");

	char a1[] = "dbname=postgresql://secuser:S3cretPw@/t1", a2[] = "host=/tmp dbname='postgresql://u:p\\w@/t1'";
	assert_string_equal(pg_dsn_take(a1), "dbname=postgresql://secuser:S3cretPw@/t1");
	assert_null(strstr(a1, "S3cretPw"));
	pg_dsn_take(a2);
	assert_null(strstr(a2, "p\\w")); /* not written as libpq reads it: all of it */
	assert_int_equal(strspn(a2, "*"), strlen(a2));
	assert_int_equal(pg_password_of(NULL, &pw), 0);
}

/* sslpassword is as secret as the password (libpq marks both). */
static void test_pg_sslpassword(void **state)
{
	char *pw = NULL;

	unsetenv("PGPASSWORD");
	/* beside a password: both masked in messages */
	assert_int_equal(pg_password_of("dbname=t1 password=S3cretPw sslpassword=SslKeyPw9", &pw), 0);
	free(pw);
	assert_string_equal(pg_oneline("key \"SslKeyPw9\" or \"S3cretPw\"", NULL), "key \"********\" or \"********\"");
	assert_string_equal(pg_oneline("key SslKeyPw9", NULL), PG_WITHHELD);
	assert_int_equal(pg_password_of("dbname=t1 sslpassword=SslKeyPw9", &pw), 0);
	assert_string_equal(pw, "SslKeyPw9");
	free(pw);
	/* beside PGPASSWORD, which libpq sends when the string has no password */
	setenv("PGPASSWORD", "EnvPw123", 1);
	assert_int_equal(pg_password_of("dbname=t1 sslpassword=SslKeyPw9", &pw), 0);
	free(pw);
	assert_string_equal(pg_oneline("key \"SslKeyPw9\" or \"EnvPw123\"", NULL), "key \"********\" or \"********\"");
	assert_int_equal(pg_password_of("dbname=t1 password=S3cretPw", &pw), 0);
	assert_string_equal(pw, "S3cretPw"); /* the string's wins, as in libpq */
	free(pw);
	unsetenv("PGPASSWORD");

	char a3[] = "dbname=t1 user=secuser password=S3cretPw sslpassword=SslKeyPw9",
	     a4[] = "postgresql://u@h/x?sslpassword=SslKeyPw9&sslmode=require", a5[] = "dbname=t1 sslpassword='a\\'b'";
	pg_dsn_take(a3);
	assert_string_equal(a3, "dbname=t1 user=secuser password=******** sslpassword=*********");
	pg_dsn_take(a4);
	assert_string_equal(a4, "postgresql://u@h/x?sslpassword=*********&sslmode=require");
	pg_dsn_take(a5);
	assert_null(strstr(a5, "a\\'b"));
	/* a %-escaped nested dbname holding a secret, beside a URI's user:password@:
	 * each secret on its own, the whole string masked (review-secfix 9) */
	char a6[] = "postgresql://u:pw@/postgresql:%2F%2Fx:SECRET%40%2Fdb";
	pg_dsn_take(a6);
	assert_null(strstr(a6, "SECRET"));
	assert_int_equal(pg_password_of(NULL, &pw), 0);
}

/* The option key of opts (PQconninfoParse's), or NULL when not set. */
static const char *opt_val(PQconninfoOption *opts, const char *key)
{
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (strcmp(o->keyword, key) == 0)
			return o->val;
	return NULL;
}

/* pg_dsn_split (load --split-dsn, for psql): libpq reads the string it gives
 * as it reads the --dsn, every option alike but the password, which comes
 * apart for PGPASSWORD; it stays in when a service's password= would win. */
static void test_pg_dsn_split(void **state)
{
	static const char *const dsns[] = {
		"host=/tmp/s dbname=t1 user=u password=S3cretPw",
		"postgresql://u:p%40ss@/db?host=/tmp/x&application_name=a%27b",
		"postgresql://bob:pw@h1:5432,h2:5433/db?target_session_attrs=read-write&connect_timeout=5",
		"dbname='it\\'s' password='a\\'b' options='-c search_path=x\\\\y' host=''",
		"password=onlythis",
		"postgresql://u:s3cr@3tpw@nohost.invalid:1/none",
		"dbname=postgresql://inner:pw@/x password=outer",
		"hostaddr=127.0.0.1 port=1 keepalives=1 sslsni=0 ssl_max_protocol_version=TLSv1.3 password=x?y",
	};
	char *conninfo, *pw, *err;

	unsetenv("PGSERVICE");
	for (size_t i = 0; i < sizeof dsns / sizeof *dsns; i++) {
		PQconninfoOption *want = PQconninfoParse(dsns[i], &err);
		assert_non_null(want);
		assert_int_equal(pg_dsn_split(dsns[i], &conninfo, &pw), 0);
		assert_non_null(pw);
		assert_string_equal(pw, opt_val(want, "password"));
		assert_null(strstr(conninfo, pw));
		PQconninfoOption *got = PQconninfoParse(conninfo, &err);
		assert_non_null(got);
		for (PQconninfoOption *o = want; o->keyword; o++) {
			const char *v = opt_val(got, o->keyword);
			if (strcmp(o->keyword, "password") == 0 || !o->val)
				assert_null(v);
			else {
				assert_non_null(v);
				assert_string_equal(v, o->val);
			}
		}
		PQconninfoFree(want);
		PQconninfoFree(got);
		free(conninfo);
		free(pw);
	}
	/* nothing to move: the string as it is */
	static const char *const kept[] = {"host=/tmp dbname=x", "postgresql:///x?host=/tmp", "password=''",
		"service=prod password=S3cretPw", "postgresql://u:pw@/x?service=prod"};
	for (size_t i = 0; i < sizeof kept / sizeof *kept; i++) {
		assert_int_equal(pg_dsn_split(kept[i], &conninfo, &pw), 0);
		assert_string_equal(conninfo, kept[i]);
		assert_null(pw);
		free(conninfo);
	}
	/* a service named by PGSERVICE: its file's password= would win over PGPASSWORD */
	setenv("PGSERVICE", "prod", 1);
	assert_int_equal(pg_dsn_split("dbname=x password=S3cretPw", &conninfo, &pw), 0);
	assert_string_equal(conninfo, "dbname=x password=S3cretPw");
	assert_null(pw);
	free(conninfo);
	unsetenv("PGSERVICE");
	/* a database's name alone, as psql -d and libpq take it: as it is; not a
	 * URI spelled otherwise, which libpq would send as a name */
	assert_int_equal(pg_dsn_split("revenueos", &conninfo, &pw), 0);
	assert_string_equal(conninfo, "revenueos");
	assert_null(pw);
	free(conninfo);
	assert_int_equal(pg_password_of("revenueos", &pw), 0);
	assert_null(pw);
	assert_int_equal(pg_password_of("Postgresql://u:S3cretPw@h/x", &pw), -1);
	assert_int_equal(pg_dsn_split("Postgresql://u:S3cretPw@h/x", &conninfo, &pw), -1);
	/* a string libpq does not read */
	assert_int_equal(pg_dsn_split("Postgresql://u:S3cretPw@/x", &conninfo, &pw), -1);
	assert_int_equal(pg_dsn_split("password=correct horse battery", &conninfo, &pw), -1);
	assert_null(conninfo);
	assert_null(pw);
}

/* --dsn, else $RO_DSN (not empty), else NULL: the PG* environment. */
static void test_pg_dsn_or_env(void **state)
{
	const char *from;

	unsetenv("RO_DSN");
	assert_null(pg_dsn_or_env(NULL, &from));
	setenv("RO_DSN", "", 1);
	assert_null(pg_dsn_or_env(NULL, &from));
	setenv("RO_DSN", "dbname=env", 1);
	assert_string_equal(pg_dsn_or_env(NULL, &from), "dbname=env");
	assert_string_equal(from, "RO_DSN");
	assert_string_equal(pg_dsn_or_env("dbname=opt", &from), "dbname=opt");
	assert_string_equal(from, "--dsn");
	unsetenv("RO_DSN");
}

/* --max-line and --sort-memory sizes: a suffix, no sign, never wrapped past SIZE_MAX. */
/* A text over several lines is checked as written: squeezed first, "1 2" was
 * 12 and "tr ue" true; a fault is said at its own line and column. */
static void test_jvalidate_text(void **state)
{
	enum reject_code code;
	char msg[256];
	long off = -1;
	const char ok_doc[] = "{\n  \"a\": [1, 2],\n\t\"b\": \"x y\"\r\n}\n";
	assert_int_equal(jvalidate_text(ok_doc, sizeof ok_doc - 1, &off, &code, msg, sizeof msg), 0);
	const char split_num[] = "{\n  \"a\": 17930 00000\n}";
	assert_int_equal(jvalidate_text(split_num, sizeof split_num - 1, &off, &code, msg, sizeof msg), -1);
	assert_int_equal(off, 1);
	assert_int_equal(code, REJ_INVALID_JSON);
	assert_non_null(strstr(msg, "at column 14:"));
	const char split_lit[] = "{\"a\":\n\n tr ue}";
	assert_int_equal(jvalidate_text(split_lit, sizeof split_lit - 1, &off, &code, msg, sizeof msg), -1);
	assert_int_equal(off, 2);
	assert_non_null(strstr(msg, "at column 2:"));
	const char first_line[] = "{\"a\": 01,\n \"b\": 1}";
	assert_int_equal(jvalidate_text(first_line, sizeof first_line - 1, &off, &code, msg, sizeof msg), -1);
	assert_int_equal(off, 0);
	assert_non_null(strstr(msg, "at column 8:"));
}

static void test_parse_size(void **state)
{
	assert_int_equal(parse_size("1048576"), 1048576);
	assert_int_equal(parse_size("64k"), 65536);
	assert_int_equal(parse_size("16M"), 16777216);
	assert_int_equal(parse_size("2G"), (size_t)2 << 30);
	assert_int_equal(parse_size("0"), 0);
	assert_int_equal(parse_size("-1"), 0);
	/* strtoull skips blanks and takes a sign: " -1" was 2^64 - 1, no limit at all */
	assert_int_equal(parse_size(" -1"), 0);
	assert_int_equal(parse_size("\t-1K"), 0);
	assert_int_equal(parse_size(" 64k"), 0);
	assert_int_equal(parse_size("+64k"), 0);
	assert_int_equal(parse_size("12x"), 0);
	assert_int_equal(parse_size("1MB"), 0);
	assert_int_equal(parse_size(""), 0);
	assert_int_equal(parse_size("18446744073709551616"), 0);  /* 2^64 */
	assert_int_equal(parse_size("18014398509481985K"), 0);    /* (2^54 + 1) KiB wrapped to 1 KiB */
	assert_int_equal(parse_size("17179869184G"), 0);          /* 2^64 bytes */
	assert_int_equal(parse_size("17179869183G"), (size_t)17179869183 << 30);
}

/* A member name holding \u0000 is told from a value holding it, and from text
 * that only looks like the escape. */
static int key_nul(const char *text)
{
	struct jparser *p = jparser_new();
	enum reject_code code;
	char msg[64];
	json_object *o = jparse(p, text, strlen(text), &code, msg, sizeof msg);
	assert_non_null(o);
	json_object_put(o);
	int nul = jparser_key_nul(p);
	jparser_free(p);
	return nul;
}

static void test_key_has_nul(void **state)
{
#define K(text, want) assert_int_equal(key_nul(text), want)
	K("{\"a\\u0000b\":1}", 1);
	K("{\"n\":{\"x\\u0000y\" : 3}}", 1);
	K("{\"a\":\"\\u0000\"}", 0);                 /* a value */
	K("{\"a\\\\u0000\":1}", 0);                   /* "a\\u0000": a backslash, then text */
	K("{\"q\\\"\\u0000\":1}", 1);                /* after an escaped quote */
	K("[\"\\u0000\", 1]", 0);                      /* an array's string */
	K("{\"a\":[\"\\u0000\"],\"b\":{\"c\":\"\\u0000\"}}", 0);
	K("{\"a\":\"\\u00001\"}", 0);
	K("{}", 0);
#undef K
	/* the parser says it of the last text it took: the next line starts afresh */
	struct jparser *p = jparser_new();
	enum reject_code code;
	char msg[64];
	json_object_put(jparse(p, "{\"a\\u0000\":1}", 13, &code, msg, sizeof msg));
	assert_int_equal(jparser_key_nul(p), 1);
	json_object_put(jparse_shallow(p, "{\"a\":{\"b\":1}}", 13, 1, &code, msg, sizeof msg));
	assert_int_equal(jparser_key_nul(p), 0);
	assert_int_equal(jparser_depth(p), 2);
	jparser_free(p);
	/* the pre-check: an escape, not an escaped backslash before a u */
	assert_non_null(find_u_escape("a\\u00e9", 7));
	assert_null(find_u_escape("a\\\\u00e9", 8));
	assert_null(find_u_escape("abc\\", 4));
	assert_null(find_u_escape("\\n\\t", 4));
	const char *t = "\\\\\\u";
	assert_ptr_equal(find_u_escape(t, strlen(t)), t + 2);
	/* an escaped lone surrogate: a high one alone or before another escape, a low one
	 * first; not a pair, not an escaped backslash before "ud800" */
#define LONE(s) json_lone_surrogate(s, strlen(s))
	assert_int_equal(LONE("{\"a\":\"x\\ud800y\"}"), 1);
	assert_int_equal(LONE("{\"a\":\"\\ud800\\u0041\"}"), 1);
	assert_int_equal(LONE("{\"a\":\"\\udc00\"}"), 1);
	assert_int_equal(LONE("{\"a\":\"\\ud800\"}"), 1);
	assert_int_equal(LONE("{\"a\":\"\\ud83d\\ude00 \\u00e9\"}"), 0);
	assert_int_equal(LONE("{\"a\":\"\\\\ud800\"}"), 0);
	assert_int_equal(LONE("{\"a\":\"\\n\\u0000\"}"), 0);
	assert_int_equal(LONE("{\"a\":\"\\uD83D\\uDE00\"}"), 0);
#undef LONE
}

/* cut(in) is want, or NULL when nothing is cut (the text serves as it is) */
static void check_cut(char *(*cut)(const char *, size_t, size_t *), const char *in, const char *want)
{
	size_t outlen = 0;
	char *out = cut(in, strlen(in), &outlen);
	if (!want) {
		assert_null(out);
	} else {
		assert_non_null(out);
		out[outlen] = '\0';
		assert_string_equal(out, want);
	}
	free(out);
}

static void check_strip(const char *in, const char *want)
{
	check_cut(secret_strip, in, want);
}

/* the same for a loader record: its own members read by their names alone */
static void check_strip_record(const char *in, const char *want)
{
	check_cut(secret_strip_record, in, want);
}

/* The time fields of records: RFC 3339 itself, no guessing of a zone. */
static void test_rfc3339_strict(void **state)
{
	int64_t ms;

	assert_int_equal(parse_rfc3339_strict("2026-11-02T10:00:00Z", &ms), 0);
	assert_int_equal(ms, INT64_C(1793613600000));
	assert_int_equal(parse_rfc3339_strict("2026-11-02T10:00:00.123+03:00", &ms), 0);
	assert_int_equal(parse_rfc3339_strict("2026-11-02t10:00:00z", &ms), 0);
	assert_int_equal(parse_rfc3339_strict("2026-11-02 10:00:00-05:00", &ms), 0);
	assert_int_equal(parse_rfc3339_strict("2026-11-02T10:00:00", &ms), -1);      /* no zone */
	assert_int_equal(parse_rfc3339_strict("2026-11-02", &ms), -1);               /* a date */
	assert_int_equal(parse_rfc3339_strict("2026-11-02T10:00Z", &ms), -1);        /* no seconds */
	assert_int_equal(parse_rfc3339_strict("2026-11-02T10:00:00+0300", &ms), -1); /* no colon */
	assert_int_equal(parse_rfc3339_strict("2026-11-02T10:00:00.Z", &ms), -1);
	assert_int_equal(parse_rfc3339_strict("2026-11-02T10:00:00Zx", &ms), -1);
	assert_int_equal(parse_rfc3339_strict("2026-02-30T10:00:00Z", &ms), -1);
	assert_int_equal(parse_rfc3339_strict(NULL, &ms), -1);
	/* options keep the lenient reader */
	assert_int_equal(parse_rfc3339("2026-11-02", &ms), 0);
}

/* A captured request's Date header: RFC 9110's three forms, GMT (or an offset) only. */
static void test_http_date(void **state)
{
	static const struct {
		const char *in, *want; /* want NULL: not an HTTP date */
	} cases[] = {
		/* RFC 9110's three forms, which a recipient must all read */
		{ "Fri, 20 Nov 2026 14:40:00 GMT", "2026-11-20T14:40:00Z" },
		{ "Fri, 20 Nov 2026 14:40:00 GMT  ", "2026-11-20T14:40:00Z" },
		{ "Friday, 20-Nov-26 14:40:00 GMT", "2026-11-20T14:40:00Z" },
		{ "Sunday, 06-Nov-94 08:49:37 GMT", "1994-11-06T08:49:37Z" }, /* 2094 is > 50 years ahead */
		{ "Fri Nov 20 14:40:00 2026", "2026-11-20T14:40:00Z" },
		{ "Sun Nov  6 08:49:37 1994", "1994-11-06T08:49:37Z" },
		/* RFC 5322 dates: GMT as UTC or an offset, the same instant */
		{ "Fri, 20 Nov 2026 11:40:00 -0300", "2026-11-20T14:40:00Z" },
		{ "Fri, 20 Nov 2026 14:40:00 +0000", "2026-11-20T14:40:00Z" },
		{ "Fri, 20 Nov 2026 14:40:00 UTC", "2026-11-20T14:40:00Z" },
		{ "Fri, 20 Nov 2026 14:40:00 UT", "2026-11-20T14:40:00Z" },
		{ "fri, 20 nov 2026 14:40:00 GMT", "2026-11-20T14:40:00Z" },
		/* not taken for GMT: another zone, none, or garbage */
		{ "Fri, 20 Nov 2026 14:40:00 PST", NULL },
		{ "Fri, 20 Nov 2026 14:40:00", NULL },
		{ "Fri Nov 20 14:40:00 2026 GMT", NULL },
		{ "Fri, 20 Nov 2026 14:40:00 GMTx", NULL },
		{ "Fri, 20 Nov 2026 14:40:00 +030", NULL },
		{ "Fri, 20 Foo 2026 14:40:00 GMT", NULL },
		{ "Fri, 20 Novem 2026 14:40:00 GMT", NULL },
		{ "Fri, 20 ovD 2026 14:40:00 GMT", NULL }, /* in "...NovDec", not at a month's start */
		{ "Fri, 31 Nov 2026 14:40:00 GMT", NULL },
		{ "Fri, 20 Nov 26 14:40:00 GMT", NULL },
		{ "2026-11-20T14:40:00Z", NULL },
		{ "", NULL },
	};
	int64_t ms;
	char buf[RFC3339_BUFSZ];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int r = http_date(cases[i].in, &ms);
		if (!cases[i].want) {
			if (r != -1)
				fail_msg("'%s': read as %s", cases[i].in, fmt_rfc3339(ms, buf));
		} else if (r != 0 || strcmp(fmt_rfc3339(ms, buf), cases[i].want) != 0) {
			fail_msg("'%s': want %s, got %d %s", cases[i].in, cases[i].want, r, r ? "" : buf);
		}
	}
}

/* A capture's header, whatever the shape, met once, repeated alike, or differing. */
static void test_capture_header(void **state)
{
	static const struct {
		const char *cap, *want; /* want "!": two values that differ */
	} cases[] = {
		{ "{\"headers\": {\"Content-Type\": \"a/b\"}}", "a/b" },
		{ "{\"headers\": {\"X\": \"a/b\"}}", NULL },
		{ "{\"headers\": {}, \"multiValueHeaders\": {\"content-type\": [\"a/b\"]}}", "a/b" },
		{ "{\"headers\": {\"Content-Type\": \"a/b\", \"content-type\": \" A/B \"}}", "a/b" },
		{ "{\"headers\": {\"Content-Type\": \"a/b\", \"content-type\": \"a/c\"}}", "!" },
		{ "{\"headers\": {\"Content-Type\": [\"a/b\", 7, \"a/b\"]}}", "a/b" },
		{ "{\"headers\": {\"Content-Type\": [\"a/b\", \"a/bc\"]}}", "!" },
		{ "{\"headers\": {\"Content-Type\": [\"a/bc\", \"a/b\"]}}", "!" },
		{ "{\"headers\": [[\"content-type\", \"a/b\"], [\"Content-Type\", \"a/b\"]]}", "a/b" },
		{ "{\"headers\": [[\"content-type\", \"a/b\"], [\"X\", \"a/c\"], [\"Content-Type\", \"a/c\"]]}", "!" },
		{ "{\"headers\": [{\"name\": \"Content-Type\", \"value\": \"a/b\"},"
		  " {\"name\": \"CONTENT-TYPE\", \"value\": \"a/c\"}]}", "!" },
		{ "{\"headers\": {\"Content-Type\": \"a/b\"}, \"multiValueHeaders\": {\"Content-Type\": [\"a/b\"]}}", "a/b" },
		{ "{\"headers\": {\"Content-Type\": \"a/c\"}, \"multiValueHeaders\": {\"Content-Type\": [\"a/b\", \"a/c\"]}}",
		  "!" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_object *cap = json_tokener_parse(cases[i].cap);
		const char *v = "unset";
		int r;

		assert_non_null(cap);
		r = capture_header(cap, "Content-Type", &v);
		if (strcmp(cases[i].want ? cases[i].want : "", "!") == 0) {
			if (r != -1 || v)
				fail_msg("%s: want -1 and NULL, got %d '%s'", cases[i].cap, r, v ? v : "(null)");
		} else if (r != 0 || (cases[i].want ? !v || strcasecmp(v + strspn(v, " "), cases[i].want) != 0 : v != NULL)) {
			fail_msg("%s: want '%s', got %d '%s'", cases[i].cap, cases[i].want ? cases[i].want : "(null)", r,
				 v ? v : "(null)");
		}
		json_object_put(cap);
	}
}

static void test_secret(void **state)
{
	assert_true(secret_key("hottok"));
	assert_true(secret_key("X-Hotmart-Hottok"));
	assert_true(secret_key("HOTTOK"));
	assert_false(secret_key("hotkey"));
	assert_false(secret_key(NULL));
	assert_true(secret_in_text("{\"a\":{\"HotTok\":1}}", 17));
	assert_false(secret_in_text("{\"hotto\":\"k\"}", 14));
	assert_false(secret_in_text("hotto", 5));
	assert_true(secret_in_text("hottok", 6));
	assert_true(secret_in_text("xHOTTOK", 7));
	assert_false(secret_in_text("hottok", 5));
	assert_false(secret_in_text("ok", 2));
	assert_true(secret_in_text("k=1&hoTTok=2", 12));
	/* Stripe's client_secret: the whole name, as Stripe writes it (JSON keys are
	 * case-sensitive; hottok's any case is HTTP's header names') */
	assert_true(secret_key("client_secret"));
	assert_false(secret_key("Client_Secret"));
	assert_false(secret_key("client_secret_x"));
	assert_false(secret_key("secret"));
	assert_false(secret_key("client"));
	assert_true(secret_in_text("{\"client_secret\":1}", 19));
	assert_false(secret_in_text("{\"CLIENT_SECRET\":1}", 19));
	assert_true(secret_in_text("client_secret", 13));
	assert_false(secret_in_text("client_secret", 12));
	assert_false(secret_in_text("{\"client_id\":\"_secret\"}", 23));
	/* each word at every place of texts of every length to 80 (sixteen places
	 * at a time, then one at a time), found, and not when its last byte differs */
	static const char *const words[] = {"client_secret", "verify.stripe.com", "billing.stripe.com"};
	for (size_t w = 0; w < 3; w++) {
		size_t n = strlen(words[w]);
		for (size_t len = n; len <= 80; len++) {
			for (size_t at = 0; at + n <= len; at++) {
				char *t = malloc(len); /* exactly len: ASan sees a read past it */
				assert_non_null(t);
				memset(t, 'x', len);
				memcpy(t + at, words[w], n);
				assert_true(secret_in_text(t, len));
				t[at + n - 1] = 'x';
				assert_false(secret_in_text(t, len));
				t[at + n - 1] = words[w][n - 1];
				t[at] = 'x';
				assert_false(secret_in_text(t, len));
				free(t);
			}
		}
	}

	json_object *o = json_tokener_parse(
		"{\"hottok\":\"S1\",\"id\":\"e\",\"data\":{\"x\":[{\"Hottok\":\"S2\",\"k\":1}],"
		"\"hottok\":\"S3\"},\"headers\":{\"X-Hotmart-Hottok\":\"S4\"}}");
	assert_non_null(o);
	assert_int_equal(secret_drop(o), 4);
	assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
			    "{\"id\":\"e\",\"data\":{\"x\":[{\"k\":1}]},\"headers\":{}}");
	assert_int_equal(secret_drop(o), 0);
	json_object_put(o);
	o = json_tokener_parse("{\"a\":{\"url\":\"https://billing.stripe.com/p/session/S\",\"b\":{\"url\":\"https://x\"}},"
			       "\"client_secret\":\"S\"}");
	assert_int_equal(secret_drop(o), 2);
	assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
			    "{\"a\":{\"b\":{\"url\":\"https://x\"}}}");
	json_object_put(o);

	/* secret_strip: the members out of the text, every other byte as it came */
	check_strip("{\"id\":\"e\"}", NULL);
	check_strip("{\"hottok\":\"S\"}", "{}");
	check_strip("{\"hottok\":\"S\",\"id\":1}", "{\"id\":1}");
	check_strip("{\"id\":1, \"hottok\" : \"S\" ,\"n\":2}", "{\"id\":1 ,\"n\":2}");
	check_strip("{\"id\":1,\"hottok\":\"S\"}", "{\"id\":1}");
	check_strip("{\"hottok\":1,\"HOTTOK\":2,\"a\":3,\"x-hotmart-hottok\":4}", "{\"a\":3}");
	check_strip("{\"hott\\u006fk\":\"S\",\"big\":123456789012345678901234567890}",
		    "{\"big\":123456789012345678901234567890}");
	check_strip("{\"d\":{\"u\":\"\\u00e9\\/x\",\"a\":[{\"Hottok\":{\"k\":[1,2]}},-0]},\"e\":\"hottok\"}",
		    "{\"d\":{\"u\":\"\\u00e9\\/x\",\"a\":[{},-0]},\"e\":\"hottok\"}");
	check_strip("[{\"hottok\":\"S\"},{\"b\":\"\\\"hottok\\\":\"}]", "[{},{\"b\":\"\\\"hottok\\\":\"}]");
	check_strip("{\"hot\\u0000tok\":1}", NULL); /* U+0000 cuts the name: no secret */
	check_strip("{\"id\":\"pi_1\",\"client_secret\":\"pi_1_secret_S\",\"amount\":100}",
		    "{\"id\":\"pi_1\",\"amount\":100}");
	check_strip("{\"data\":{\"object\":{\"client_secret\":null,\"o\":{\"client_secret\":\"S\",\"Client_Secret\":1}}}}",
		    "{\"data\":{\"object\":{\"o\":{\"Client_Secret\":1}}}}");
	check_strip("{\"client_\\u0073ecret\":\"S\",\"a\":1}", "{\"a\":1}");
	check_strip("{\"client_secret_hint\":\"x\",\"secret\":1,\"d\":\"client_secret\"}", NULL);
	/* Stripe's bearer URLs: a VerificationSession's, a portal Session's url */
	check_strip("{\"data\":{\"object\":{\"id\":\"vs_1\",\"url\":\"https://verify.stripe.com/start/S\",\"status\":\"x\"}}}",
		    "{\"data\":{\"object\":{\"id\":\"vs_1\",\"status\":\"x\"}}}");
	check_strip("{\"url\":\"https:\\/\\/billing.stripe.com\\/p\\/session\\/test_S\",\"return_url\":\"https://a.example\"}",
		    "{\"return_url\":\"https://a.example\"}");
	check_strip("{\"url\":\"https://billing.stripe.com/p/login/x\",\"u\":\"https://verify.stripe.com/start/S\"}", NULL);
	check_strip("{\"url\":\"https://checkout.stripe.com/c/pay/cs_1\",\"url2\":{\"url\":7}}", NULL);
	/* a duplicated "url": every copy goes when the last, the one readers keep, is a
	 * bearer URL (sql/021 sees that one only); else only the bearer copies */
	check_strip("{\"url\":\"https://a.example/\",\"x\":1,\"url\":\"https://verify.stripe.com/s\"}", "{\"x\":1}");
	check_strip("{\"url\":\"https://verify.stripe.com/s\",\"x\":{\"url\":2},\"url\":\"https://a.example/\"}",
		    "{\"x\":{\"url\":2},\"url\":\"https://a.example/\"}");
	/* a string holding a credential known by its value, under any key: a
	 * PaymentIntent's 3-D Secure URLs carry its client secret (audit-S2 1) */
	check_strip("{\"next_action\":{\"type\":\"use_stripe_sdk\",\"use_stripe_sdk\":{\"type\":\"three_d_secure_redirect\","
		    "\"stripe_js\":\"https:\\/\\/hooks.stripe.com\\/redirect\\/authenticate\\/src_1A?client_secret=src_client_secret_Abcdefgh12\","
		    "\"source\":\"src_1A\"}},\"client_secret\":\"pi_1_secret_S\"}",
		    "{\"next_action\":{\"type\":\"use_stripe_sdk\",\"use_stripe_sdk\":{\"type\":\"three_d_secure_redirect\","
		    "\"source\":\"src_1A\"}}}");
	check_strip("{\"redirect_to_url\":{\"return_url\":\"https://a.example/\",\"url\":\"https://hooks.stripe.com/3d_secure_2/hosted?"
		    "merchant=acct_1&payment_intent_client_secret=pi_3Ab_secret_Xyz0123456789&publishable_key=pk_live_1\"},"
		    "\"client_secret\":null}",
		    "{\"redirect_to_url\":{\"return_url\":\"https://a.example/\"}}");
	check_strip("{\"metadata\":{\"k\":\"sk_live_Abcdefgh1\",\"pk\":\"pk_live_Abcdefgh1\",\"w\":[\"whsec_1234567\"]},\"client_secret\":1}",
		    "{\"metadata\":{\"pk\":\"pk_live_Abcdefgh1\",\"w\":[\"whsec_1234567\"]}}");
	/* a string element holding a secret leaves its array, with a comma (stop-47
	 * leftover: only members were dropped); the other elements as they came */
	check_strip("{\"l\":[\"sk_live_Abcdefgh1\"],\"m\":[ \"a\" , \"sk_test_Abcdefgh1\" ],\"n\":[1,\"x hottok=S\",2]}",
		    "{\"l\":[],\"m\":[ \"a\" ],\"n\":[1,2]}");
	check_strip("[\"pi_1_secret_Abcdefgh1\", \"rk_live_Abcdefgh1\",[\"\\u0073k_live_Abcdefgh1\",{\"a\":[\"b\"]}],\"c\"]",
		    "[[{\"a\":[\"b\"]}],\"c\"]");
	check_strip("{\"l\":[\"hottok\",\"hottok=\",\"pk_live_Abcdefgh1\",\"whsec_1234567\"],\"client_secret\":1}",
		    "{\"l\":[\"hottok\",\"hottok=\",\"pk_live_Abcdefgh1\",\"whsec_1234567\"]}");
	o = json_tokener_parse("{\"l\":[\"sk_live_Abcdefgh1\",\"a\",[\"cb?hottok%3DS\",\"b\"],\"whsec_Abcdefgh1\"],\"k\":[\"hottok\"]}");
	assert_int_equal(secret_drop(o), 3);
	assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
			    "{\"l\":[\"a\",[\"b\"]],\"k\":[\"hottok\"]}");
	json_object_put(o);
	/* the words of a credential known by its value are found at every place of the
	 * text, in the 16-byte blocks and in the last bytes alike; near misses are not */
	static const char *const token_words[] = { "k_live_", "k_test_", "_secret_", "whsec_" };
	static const char *const token_misses[] = { "k_liv_", "_secret", "whsec", "k-test_" };
	char txt[64];
	for (size_t wi = 0; wi < 4; wi++)
		for (size_t at = 0; at + strlen(token_words[wi]) <= 48; at++) {
			memset(txt, 'x', 48);
			memcpy(txt + at, token_words[wi], strlen(token_words[wi]));
			assert_true(secret_in_text(txt, 48));
			memset(txt, 'x', 48);
			memcpy(txt + at, token_misses[wi], strlen(token_misses[wi]));
			assert_false(secret_in_text(txt, 48));
		}
	/* with no other word that calls the stripper (fuzz-F 1: the text held no
	 * client_secret nor hottok, and sk_live_ stayed) */
	check_strip("{\"id\":\"pi_1\",\"note\":\"sk_live_abcdefgh12345\"}", "{\"id\":\"pi_1\"}");
	check_strip("{\"a\":\"x pi_1Abcdefgh_secret_Xyzabcdefgh12\",\"b\":1}", "{\"b\":1}");
	check_strip("{\"w\":\"whsec_abcdefgh12\",\"r\":\"rk_test_abcdefgh12\",\"e\":\"ek_live_abcdefgh12\"}", "{}");
	/* each of Stripe's prefixes on its own, test mode's ephemeral key too: a misspelt
	 * row of the table (mutation audit MP: "ek_test_" survived) let that kind of key
	 * through fetch-events' envelopes and the rejects files */
	{
		static const char *const prefixes[] = { "sk_live_", "sk_test_", "rk_live_", "rk_test_", "ek_live_",
							"ek_test_", "whsec_" };
		for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++) {
			char in[96], m[96];
			snprintf(in, sizeof in, "{\"k\":1,\"n\":\"%sAbCdEfGh1234\"}", prefixes[i]);
			check_strip(in, "{\"k\":1}");
			snprintf(m, sizeof m, "not json %sAbCdEfGh1234", prefixes[i]);
			assert_int_equal(secret_mask_tokens(m), 1);
			assert_string_equal(m, "not json [redacted]");
		}
	}
	check_strip("{\"pk\":\"pk_live_abcdefgh12\"}", NULL); /* a publishable key is public */
	/* a credential spelled with escapes, as a reader decodes it (fuzz-F 2) */
	check_strip("{\"note\":\"key\\u0020sk_live_abcdefgh12345\",\"cs\":\"\\u0070i_1Ab_secret_Xyzabcdefgh12\",\"k\":2}",
		    "{\"k\":2}");
	check_strip("{\"n\":\"line\\nsk_test_abcdefgh12\"}", "{}");
	assert_true(secret_member("stripe_js", "a?client_secret=src_client_secret_Abcdefgh1", 43));
	assert_false(secret_member("stripe_js", "a?client_secret=src_client_secret_Abcdefg", 41)); /* 7 after it */
	assert_false(secret_member("d", "my_app_secretive_Abcdefgh1", 26));
	assert_true(secret_member("url", "https://verify.stripe.com/start/S", 33));
	assert_false(secret_member("url", "https://verify.stripe.com/", 10)); /* the length counts */
	assert_false(secret_member("url", NULL, 0));
	assert_false(secret_member("URL", "https://verify.stripe.com/start/S", 33)); /* as Stripe writes it */
	assert_true(secret_member("hottok", NULL, 0));
	assert_true(secret_in_text("{\"hott\\u006fk\":1}", 18));
	/* a hottok with its value inside a string, under any key (audit-H2 1: a
	 * tracking field "sck":"hottok=S"): a query string, quoted JSON, a header,
	 * a dict; the name alone or with an empty value is no secret */
	static const char *const pairs[] = { "hottok=S", "a=1&HotTok=S&b=2", "{\"hottok\":\"S\"}",
					     "{\\\"hottok\\\": \\\"S\\\"}", "X-Hotmart-Hottok: S",
					     "'hottok' => 'S'", "[hottok] => S", "hottok =\n S", NULL };
	static const char *const nonpairs[] = { "hottok", "hottok=", "hottok=&prod=1", "{\"hottok\":\"\"}",
						"{\"hottok\":\"\",\"a\":1}", "hottok=]", "hottokens=1", "the hottok",
						"hottok;S", NULL };
	for (const char *const *p = pairs; *p; p++)
		assert_true(secret_member("sck", *p, strlen(*p)));
	for (const char *const *p = nonpairs; *p; p++)
		assert_false(secret_member("sck", *p, strlen(*p)));
	assert_true(secret_member("sck", "hottok=\0", 8)); /* a NUL is a value */
	check_strip("{\"sck\":\"hottok=S\",\"xcod\":\"hott\\u006fk\\u003dS\",\"k\":1}", "{\"k\":1}");
	check_strip("{\"a\":[\"x\",{\"b\":\"{\\\"HOTTOK\\\":\\\"S\\\"}\"}],\"e\":\"hottok=&x=1\"}",
		    "{\"a\":[\"x\",{}],\"e\":\"hottok=&x=1\"}");
	/* read as a reader decodes it: an escaped blank or terminator is no value (review R4 2) */
	check_strip("{\"a\":\"hottok=\\t\",\"b\":\"hottok=\\u0026x=1\",\"c\":\"hottok:\\r\\n\",\"d\":\"hottok=\\\"\\\"\"}", NULL);
	check_strip("{\"a\":\"hottok=\\t\",\"b\":\"hottok=\\u0053\"}", "{\"a\":\"hottok=\\t\"}");
	/* a record's own members by their names alone: a dump's path may name hottok
	 * (review R4 1: normalize --emit-raw dropped the envelope's source) */
	static const char rec[] = "{\"source\":\"d/account=hottok=x/f:1\",\"hottok\":1,\"note\":\"sk_live_abcdefgh12345\","
				  "\"tr\":\"sck=hottok=S\",\"reason\":\"a hottok=x\",\"payload\":{\"sck\":\"hottok=S\",\"k\":1}}";
	check_strip_record(rec, "{\"source\":\"d/account=hottok=x/f:1\",\"payload\":{\"k\":1}}");
	check_strip(rec, "{\"payload\":{\"k\":1}}");
	json_object *t = json_tokener_parse(rec);
	assert_int_equal(secret_drop_record(t), 5);
	assert_string_equal(json_object_to_json_string_ext(t, JSON_C_TO_STRING_PLAIN),
			    "{\"source\":\"d\\/account=hottok=x\\/f:1\",\"payload\":{\"k\":1}}");
	json_object_put(t);
	/* a source is still read for credentials, by both (review R6 1) */
	static const char rec2[] = "{\"source\":\"sk_live_abcdefgh12345:1\",\"payload\":{}}";
	check_strip_record(rec2, "{\"payload\":{}}");
	t = json_tokener_parse(rec2);
	assert_int_equal(secret_drop_record(t), 1);
	json_object_put(t);
	/* the record's own source only: a "source" inside its payload is any member,
	 * read for a hottok's pair (mutation audit MP: without the depth, normalize
	 * --emit-raw wrote an envelope's metadata.source "hottok=S" as it came) */
	static const char rec3[] = "{\"source\":\"d/f:1\",\"payload\":{\"m\":{\"source\":\"hottok=S\",\"k\":1}}}";
	check_strip_record(rec3, "{\"source\":\"d/f:1\",\"payload\":{\"m\":{\"k\":1}}}");
	/* \b is a backspace, as json-c reads it: a value, no blank (review R6 2) */
	check_strip("{\"a\":\"hottok=\\b\"}", "{}");
	check_strip("{\"b\":\"hottok\\b=S\"}", NULL);
	t = json_tokener_parse("{\"a\":\"hottok=\\b\",\"b\":\"hottok\\b=S\"}");
	assert_int_equal(secret_drop(t), 1);
	json_object_put(t);
	t = json_tokener_parse("{\"purchase\":{\"sck\":\"hottok=S\",\"src\":\"hottok\"}}");
	assert_int_equal(secret_drop(t), 1);
	assert_string_equal(json_object_to_json_string_ext(t, JSON_C_TO_STRING_PLAIN), "{\"purchase\":{\"src\":\"hottok\"}}");
	json_object_put(t);

	check_redact("{\"id\":\"e\"}", NULL);
	/* a multipart form naming a secret: its value is on a line of its own, after a
	 * blank one, where no redaction looks; as it came and inside a captured body
	 * (audit-S2 3) */
	static const char mp[] = "--b\r\nContent-Disposition: form-data; name=\"hottok\"\r\n\r\nS3CR3T\r\n--b--\r\n";
	static const char mpj[] = "{\"body\":\"--b\\r\\nContent-Disposition: FORM-DATA; name=\\\"x-api-key\\\"\\r\\n\\r\\nS\"}";
	assert_true(secret_in_multipart(mp, sizeof mp - 1));
	assert_true(secret_in_multipart(mpj, sizeof mpj - 1));
	assert_false(secret_in_multipart(mp, 40)); /* the part's name not there */
	/* a name right after form-data, no blank or name= between (MUT-P S45) */
	static const char mp_tight[] = "form-data;token\r\n\r\nS", mp_tighter[] = "form-datahottok";
	assert_true(secret_in_multipart(mp_tight, sizeof mp_tight - 1));
	assert_true(secret_in_multipart(mp_tighter, sizeof mp_tighter - 1));
	static const char nomp[] = "{\"hottok\":1,\"type\":\"form\"}",
			  mp_status[] = "--b\r\nContent-Disposition: form-data; name=\"status\"\r\n\r\nok";
	assert_false(secret_in_multipart(nomp, sizeof nomp - 1));
	assert_false(secret_in_multipart(mp_status, sizeof mp_status - 1));
	/* a name spelled with escapes is not read by the redaction: such text is withheld */
	assert_true(secret_name_escaped("{\"hott\\u006fk\":\"S\"}", 19));
	assert_true(secret_name_escaped("{\"Authoriz\\u0061tion\":\"S\"}", 26));
	assert_false(secret_name_escaped("{\"name\":\"Jos\\u00e9\",\"hottok\":\"S\"}", 33));
	assert_false(secret_name_escaped("{\"a\":\"\\u0041\"}", 14));
	assert_false(secret_name_escaped("{\"hottok\":1}", 12));
	assert_true(secret_name_escaped("{\"client_secre\\u0074\":\"S\"}", 26));
	/* in a body's string too, where the body's \u0074 is written \\u0074; at any
	 * depth (audit-hotmart 1) */
	assert_true(secret_name_escaped("{\"body\":\"{\\\"hot\\\\u0074ok\\\":\\\"S\\\"\"}", 34));
	assert_true(secret_name_escaped("{\"M\":\"{\\\"body\\\":\\\"{\\\\\\\"x-api-k\\\\\\\\u0065y\\\\\\\":1\\\"}\"}", 51));
	/* a form's %XX spells a name as its reader decodes it */
	assert_true(secret_name_escaped("hott%6Fk=S&prod=1", 17));
	assert_true(secret_name_escaped("{\"body\":\"x=1&%68ottok=S\"}", 25));
	assert_false(secret_name_escaped("price=10%25&hottok=S", 20));
	assert_false(secret_name_escaped("name=Jos%C3%A9", 14));
	/* a decoded byte anywhere in a name, whatever else the text names */
	assert_true(secret_name_escaped("x=%2apikey&hott%6Fk=SECRET", 26));
	assert_true(secret_name_escaped("cookie%73=S", 11));
	assert_false(secret_name_escaped("x=%2a&hottok=S", 14));
	/* %20..%2F decoded as the rest: a name's '-' ("X-Api%2DKey") or the quotes
	 * around it (%22) spell it for a form's reader too (mutation audit MP: read
	 * from %30 on, both lines reached a rejects file whole) */
	assert_true(secret_name_escaped("X-Api%2DKey=S", 13));
	assert_true(secret_name_escaped("%22hottok%22%3A%22S%22", 22));
	/* a credential known by its value spelled with an escape (audit-SEC 2) */
	static const char esc_key[] = "{\"n\":\"\\u0073k_live_LEAKF1xxxxxxxx\"}",
			  esc_cs[] = "{\"n\":\"\\u0070i_3Abc_secret_LEAKF2xxxxxx\"}",
			  esc_none[] = "{\"n\":\"\\u0041 sk_live_LEAKF1xxxxxxxx\"}"; /* read as written */
	assert_true(secret_name_escaped(esc_key, sizeof esc_key - 1));
	assert_true(secret_name_escaped(esc_cs, sizeof esc_cs - 1));
	assert_false(secret_name_escaped(esc_none, sizeof esc_none - 1));
	/* a pair's value in a form the redaction does not read: not written (audit-SEC 1) */
	static const char *const left[] = { "{'hottok': 'LEAKA1', 'id': 'x'}", "{\"hottok\"=[redacted]\"LEAKA2\"}",
					    "{\\\"hottok\\\"=[redacted]\\\"LEAKR9\\\"}", /* in a string: review R9 2 */
					    "    [hottok] => LEAKE1", "[('hottok', 'LEAKE3'), ('prod', '1')]",
					    "{'headers': {'X-Hotmart-Hottok': 'LEAKE4'}}", "{'client_secret': 'LEAKE7'}",
					    "{\"Authorization\": [redacted] LEAKE5'}",
					    NULL };
	for (const char *const *l = left; *l; l++)
		assert_true(secret_left(*l, strlen(*l)));
	static const char *const masked[] = { "{\"hottok\": \"[redacted]\", bad}", "hottok=[redacted]&x=1",
					      "{\"hottok\": [redacted], bad}", "{\"hottok\": \"\", bad}",
					      "{\"authorization\": {\"id\":\"iauth_1\"}}", "X-Hotmart-Hottok: [redacted]",
					      "{\"cookie\": [\"[redacted]\"]}", "the token expired", "no hottok here.",
					      "{\"hottok\":", "[{\"name\":\"X-Hotmart-Hottok\",\"value\":\"[redacted]\"}]",
					      /* a form field or a query last in a string; words of prose
					       * before a comma (review T 2, 3) */
					      "{\"body\":\"a=1&hottok=[redacted]\"}",
					      "{\"rawQueryString\":\"token=[redacted]\",\"body\":\"{}\"}",
					      "{\"description\":\"Cookies, 12 units\"}", "{\"name\":\"Secret, the course\"}",
					      "{\"error\":\"authorization, missing\"}", NULL };
	for (const char *const *m = masked; *m; m++)
		assert_false(secret_left(*m, strlen(*m)));
	/* a message or a reason (audit-R7 B): redacted, and cut at a secret's name
	 * whose value the redaction does not read; the rest as it was */
	static const char *const texts[][2] = {
		{ "unsupported event type 'X hottok=LEAK1'", "unsupported event type 'X hottok=[redacted]" },
		{ "provider 'x {'hottok': 'LEAK2'}' unknown", "provider 'x {'[redacted]" },
		{ "a key sk_live_abcdefgh1234 quoted", "a key [redacted] quoted" },
		{ "missing field 'data.object.amount'", NULL },
		{ "password authentication failed for user \"x\"", NULL },
		{ "field 'authorization', got 'x'", NULL },
		/* the blanks holds_hottok_pair reads around its ':' or '=' (review R8 1) */
		{ "provider 'x hottok\v=LEAK3'", "provider 'x hottok\v=[redacted]" },
		{ "provider 'x hottok\f: LEAK4'", "provider 'x hottok\f: [redacted]" },
		/* a path or a type naming a token before a ':' is not cut (review R8 2);
		 * another secret's quoted value is (review R9 1) */
		{ "--plans 'stripe_token': 1 line not read; nothing done", NULL },
		{ "debug={'password': 'LEAK7'} x", "debug={'[redacted]" },
		{ "\"Authorization\"=>\"Bearer LEAK8\"", "\"[redacted]" },
	};
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		size_t n = 0;
		char *out = secret_mask_text(texts[i][0], strlen(texts[i][0]), &n);
		if (!texts[i][1]) {
			assert_null(out);
			continue;
		}
		assert_non_null(out);
		assert_int_equal(n, strlen(texts[i][1]));
		assert_string_equal(out, texts[i][1]);
		free(out);
	}
	/* a blank's escape between the name and its '=' (review R8 1) */
	check_redact("{\"note\":\"hottok\\u000b= LEAK5\"}", "{\"note\":\"hottok\\u000b= [redacted]\"}");
	check_redact("{\"note\":\"hottok\\f=LEAK6\"}", "{\"note\":\"hottok\\f=[redacted]\"}");
	/* a Checkout Session's client secret, cs_live_..._secret_...; an API key as a
	 * member's name (audit-SEC 3) */
	check_redact("{\"k\":\"cs_live_a1B2c3D4e5F6_secret_fidBBBBBBBB2222\"}", "{\"k\":\"[redacted]\"}");
	check_redact("{\"k\":\"cs_test_a1B2c3D4e5F6_secret_fidBBBBBBBB2222\"}", "{\"k\":\"[redacted]\"}");
	assert_true(secret_member("sk_live_AAAAAAAAAAAA1111", "x", 1));
	assert_true(secret_member("k", "cs_live_a1B2c3D4e5F6_secret_fidBBBBBBBB2222", 43));
	assert_false(secret_member("live_orders", "x", 1));
	/* live_ or test_ the id itself (review T 4) */
	check_redact("{\"note\":\"abc_test_secret_Abcdefgh12\"}", "{\"note\":\"[redacted]\"}");
	check_strip("{\"metadata\":{\"sk_live_AAAAAAAAAAAA1111\":\"x\",\"k\":1}}", "{\"metadata\":{\"k\":1}}");
	check_strip("{\"k\":\"cs_live_a1B2c3D4e5F6_secret_fidBBBBBBBB2222\",\"n\":1}", "{\"n\":1}");
	/* credentials known by their value, under any name or none */
	check_redact("{\"X-Stripe-Key\":\"sk_live_51AbCdEfGh\",\"k\":\"rk_test_12345678\"}",
		     "{\"X-Stripe-Key\":\"[redacted]\",\"k\":\"[redacted]\"}");
	check_redact("key=whsec_0123456789abcdef&x=1 Basic ek_live_ABCDEFGH9",
		     "key=[redacted]&x=1 Basic [redacted]");
	check_redact("{\"body\":\"a\\nsk_live_ABCDEFGH1\",\"s\":\"pi_3MtwBw_secret_YrKJUKribc\"}",
		     "{\"body\":\"a\\n[redacted]\",\"s\":\"[redacted]\"}");
	check_redact("{\"s\":\"src_client_secret_AbCdEfGhIj\",\"t\":\"seti_1Q_secret_Q1w2e3r4t5\"}",
		     "{\"s\":\"[redacted]\",\"t\":\"[redacted]\"}");
	/* not: a publishable key, a tail too short or not a word's start, a name */
	check_redact("{\"pk\":\"pk_live_ABCDEFGH12\",\"a\":\"sk_live_short\",\"b\":\"xsk_live_ABCDEFGH12\"}", NULL);
	check_redact("{\"sk_live_\":2,\"whsec_abc\":3,\"x\":\"a_b_secret_short\"}", NULL);
	/* a name shaped as a token is a name: the value after it is the names' pass's */
	check_redact("{\"metadata\":{\"oauth_client_secret_production\":\"LEAK40\"}, broken",
		     "{\"metadata\":{\"oauth_client_secret_production\":\"[redacted]\"}, broken");
	check_redact("{\"note\":\"sk_test_ABCDEFGH_password=LEAK41\", broken",
		     "{\"note\":\"sk_test_ABCDEFGH_password=[redacted]\", broken");
	{
		char m[] = "unknown currency 'sk_test_4eC39HqLyjWDarjtT1zdp7dc' at sk_live_X and whsec_ABCDEFGH";
		assert_int_equal(secret_mask_tokens(m), 2);
		assert_string_equal(m, "unknown currency '[redacted]' at sk_live_X and [redacted]");
		char plain[] = "nothing here: pk_live_ABCDEFGH12";
		assert_int_equal(secret_mask_tokens(plain), 0);
		assert_string_equal(plain, "nothing here: pk_live_ABCDEFGH12");
	}
	{
		/* a message cut short (a width, its buffer) ends a key early: what
		 * is left of it is masked too, in any cut (the 7-character leak) */
		const char *key = "sk_live_51HabcdefghijklmnopQRSTUV", *cs = "pi_3Mtw_secret_YrKJUKribcXYZ";
		for (int w = 0; w < 40; w++) {
			char m[128], c[128];
			snprintf(m, sizeof m, "type '%.*s'", w, key);
			secret_mask_in(m, sizeof m);
			assert_null(strstr(m, "sk_live_5"));
			snprintf(c, sizeof c, "unknown 'abcdefg %s' here", cs);
			c[22 + w % 16] = '\0'; /* a buffer's cut */
			secret_mask_in(c, sizeof c);
			assert_null(strstr(c, "_secret_Y"));
		}
		char m[64];
		snprintf(m, sizeof m, "got '%.20s'", key);
		secret_mask_in(m, sizeof m);
		assert_string_equal(m, "got '[redacted]'");
		/* a payload's rule is unchanged: a tail of eight */
		check_redact("{\"a\":\"sk_live_short\"}", NULL);
	}
	{
		/* a hottok's pair with its '=' encoded, or a no-break space before
		 * it: a payload's member dropped, a message cut at the name, a
		 * rejected line's raw withheld (secret_left); an empty value, the
		 * name alone and a value masked already are none (audit-H3 2) */
		static const char *const encoded[] = { "cb%3Fhottok%3DLEAK1", "HOTTOK%3aLEAK2", "hottok\\u003dLEAK3",
						     "hottok&#61;LEAK4", "hottok\xc2\xa0=LEAK5", "X-Hotmart-Hottok%3A%20LEAK6" };
		for (size_t i = 0; i < sizeof encoded / sizeof encoded[0]; i++) {
			assert_true(secret_member("sck", encoded[i], strlen(encoded[i])));
			assert_true(secret_left(encoded[i], strlen(encoded[i])));
			char m[128];
			snprintf(m, sizeof m, "price '%s' is no number", encoded[i]);
			secret_mask_in(m, sizeof m);
			assert_null(strstr(m, "LEAK"));
		}
		static const char *const none[] = { "hottok%3D&y=1", "hottok%3d", "the hottok", "hottoku003dX" };
		for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
			assert_false(secret_member("sck", none[i], strlen(none[i])));
			assert_false(secret_left(none[i], strlen(none[i])));
		}
		/* what the redaction left, masked or no value, is no pair left
		 * (review R11 2: withheld, and a message cut) */
		static const char *const redacted[] = { "hottok=[redacted]", "{\"hottok\": \"[redacted]\"}",
							"x [hottok] => [redacted]", "Array ( [hottok] => [redacted] [x] => 1 )",
							"hottok = {}" };
		for (size_t i = 0; i < sizeof redacted / sizeof redacted[0]; i++) {
			assert_false(secret_left(redacted[i], strlen(redacted[i])));
			char m[128];
			snprintf(m, sizeof m, "%s", redacted[i]);
			secret_mask_in(m, sizeof m);
			assert_string_equal(m, redacted[i]);
		}
		/* a name of its own is not cut short: a file's (review R11 5) */
		char f[] = "cannot open 'sk_test_q3.ndjson'";
		secret_mask_in(f, sizeof f);
		assert_string_equal(f, "cannot open 'sk_test_q3.ndjson'");
		char m[] = "price 'hottok%3DLEAK7' is no number";
		secret_mask_in(m, sizeof m);
		assert_string_equal(m, "price '[redacted]");
		check_strip("{\"d\":\"hottok\\u00a0=LEAK8\",\"n\":1}", "{\"n\":1}");
	}
	check_redact("{\"id\":\"pi_1\",\"client_secret\":\"pi_1_secret_LEAK\"}",
		     "{\"id\":\"pi_1\",\"client_secret\":\"[redacted]\"}");
	/* lists of values, quotes and escapes inside a value, a header list naming it last, api_key */
	check_redact("{\"Authorization\":[\"Bearer FIRST\",\"Bearer LEAK1\"]}",
		     "{\"Authorization\":[\"[redacted]\",\"[redacted]\"]}");
	check_redact("{\"hottok\": [\"a\", \"LEAK9b\"], \"id\": 1}", "{\"hottok\": [redacted], \"id\": 1}");
	/* a payload secret's list whole, whatever it holds */
	check_redact("{\"hottok\":[{\"a\":1},{\"b\":\"LEAK9c\"}],\"id\":1}", "{\"hottok\":[redacted],\"id\":1}");
	check_redact("{\"client_secret\":[1,2,3],\"id\":1}", "{\"client_secret\":[redacted],\"id\":1}");
	/* a name that holds a secret's word, not only one that ends with it */
	check_redact("{\"cookies\":[\"sid=LEAK30\"],\"secretKey\":\"LEAK31\",\"X-Hub-Signature-256\":\"LEAK32\","
		     "\"password_hash\":\"LEAK33\",\"tokens\":\"LEAK34\",\"x\":\"a secretive note\"}",
		     "{\"cookies\":[\"[redacted]\"],\"secretKey\":\"[redacted]\",\"X-Hub-Signature-256\":\"[redacted]\","
		     "\"password_hash\":\"[redacted]\",\"tokens\":\"[redacted]\",\"x\":\"a secretive note\"}");
	check_redact("{\"authorization\":\"Bearer abc\\\"LEAK2\",\"x\":1}",
		     "{\"authorization\":\"[redacted]\",\"x\":1}");
	check_redact("{\"Authorization\":\"Basic\\u0020LEAK17\"}",
		     "{\"Authorization\":\"[redacted]\"}");
	check_redact("{\"k\":\"a\\\\\",\"authorization\":\"S\"}",
		     "{\"k\":\"a\\\\\",\"authorization\":\"[redacted]\"}");
	check_redact("[{\"value\":\"LEAK3\",\"name\":\"Authorization\"},{\"name\":\"Host\",\"value\":\"h\"}]",
		     "[{\"value\":\"[redacted]\",\"name\":\"Authorization\"},{\"name\":\"Host\",\"value\":\"h\"}]");
	check_redact("{\"api_key\":\"LEAK4\"}",
		     "{\"api_key\":\"[redacted]\"}");
	check_redact("{\"body\":\"{\\\"authorization\\\":\\\"a\\\\\\\"LEAK5\\\",\\\"n\\\":1}\"}",
		     "{\"body\":\"{\\\"authorization\\\":\\\"[redacted]\\\",\\\"n\\\":1}\"}");

	check_redact("{\"hottok\": \"S-1\",\"id\":\"e\"}", "{\"hottok\": \"[redacted]\",\"id\":\"e\"}");
	check_redact("{\"a\":{\"hottok\":12345}}", "{\"a\":{\"hottok\":[redacted]}}");
	check_redact("{\"headers\":{\"X-Hotmart-Hottok\":\"S\"},\"body\":\"{\\\"hottok\\\": \\\"S2\\\"}\"}",
		     "{\"headers\":{\"X-Hotmart-Hottok\":\"[redacted]\"},\"body\":\"{\\\"hottok\\\": \\\"[redacted]\\\"}\"}");
	check_redact("prod=1&hottok=S%2B3&status=approved", "prod=1&hottok=[redacted]&status=approved");
	check_redact("hottok=S4", "hottok=[redacted]");
	/* a mention that is no key, and an empty value, stay as they are */
	check_redact("prod_name=hottok+course&hottok=", NULL);
	check_redact("{\"hottok", NULL);
	/* the credentials of a captured webhook's headers; an object is no credential */
	check_redact("{\"headers\":{\"Authorization\":\"Bearer t0k\",\"Stripe-Signature\":\"t=1,v1=ab\"}}",
		     "{\"headers\":{\"Authorization\":\"[redacted]\",\"Stripe-Signature\":\"[redacted]\"}}");
	check_redact("{\"type\":\"issuing_authorization.created\",\"authorization\":{\"id\":\"iauth_1\"}}", NULL);
	check_redact("{\"authorization\":[{\"id\":\"iauth_1\"}]}", NULL);
	/* but a payload secret's object is its parts: all of it */
	check_redact("{\"id\":\"a2\",\"hottok\":{\"v\":\"LEAK22\",\"w\":[1]}} garbage",
		     "{\"id\":\"a2\",\"hottok\":[redacted]} garbage");
	/* JSON's white space before a value: CR and LF too, and their escapes in a body */
	check_redact("{\"hottok\":\r\n \"LEAK23\",\"x\":1}", "{\"hottok\":\r\n \"[redacted]\",\"x\":1}");
	check_redact("{\"body\":\"{\\\"hottok\\\":\\r\\n\\\"LEAK24\\\"}\"}",
		     "{\"body\":\"{\\\"hottok\\\":\\r\\n\\\"[redacted]\\\"}\"}");
	/* headers as lists: HAR's name/value objects, [name, value] pairs, multiValueHeaders */
	check_redact("{\"headers\":[{\"name\": \"X-Hotmart-Hottok\", \"value\": \"S\"},{\"name\":\"Host\",\"value\":\"h\"}]}",
		     "{\"headers\":[{\"name\": \"X-Hotmart-Hottok\", \"value\": \"[redacted]\"},{\"name\":\"Host\",\"value\":\"h\"}]}");
	check_redact("{\"h\":[[\"Authorization\", \"Bearer S\"],[\"Host\",\"h\"]]}",
		     "{\"h\":[[\"Authorization\", \"[redacted]\"],[\"Host\",\"h\"]]}");
	check_redact("{\"multiValueHeaders\":{\"x-hotmart-hottok\":[ \"S\"]}}",
		     "{\"multiValueHeaders\":{\"x-hotmart-hottok\":[redacted]}}");
	check_redact("\"body\":\"{\\\"name\\\":\\\"hottok\\\",\\\"value\\\":\\\"S\\\"}\"",
		     "\"body\":\"{\\\"name\\\":\\\"hottok\\\",\\\"value\\\":\\\"[redacted]\\\"}\"");
	check_redact("[\"hottok\", \"value\"]", NULL);
	/* the value before a name that holds the word inside it (audit-fetch 1) */
	check_redact("[{\"value\":\"LEAK40\",\"name\":\"X-Hotmart-Hottok\"},{\"value\": \"t=1,v1=LEAK41\", \"name\": \"Stripe-Signature\"}]",
		     "[{\"value\":\"[redacted]\",\"name\":\"X-Hotmart-Hottok\"},{\"value\": \"[redacted]\", \"name\": \"Stripe-Signature\"}]");
	check_redact("\"body\":\"[{\\\"value\\\":\\\"LEAK42\\\",\\\"name\\\":\\\"x-hotmart-hottok\\\"}]\"",
		     "\"body\":\"[{\\\"value\\\":\\\"[redacted]\\\",\\\"name\\\":\\\"x-hotmart-hottok\\\"}]\"");
	/* a value holding the word is no name: the next member's name stays, and the
	 * value is masked by its own name's pass */
	check_redact("[{\"value\":\"HOTSECRET1\",\"name\":\"hottok\"}]",
		     "[{\"value\":\"[redacted]\",\"name\":\"hottok\"}]");
	check_redact("{\"note\":\"my_secret_plan\",\"id\":\"x\"}", NULL);
	/* a pair inside a pretty body (escaped blanks before the name), a line's first
	 * string (the diff review's cases) */
	check_redact("{\"body\":\"[\\n  \\\"Host\\\",\\n  \\\"h\\\",\\n  \\\"X-Hotmart-Hottok\\\",\\n  \\\"LEAK44\\\"\\n]\"}",
		     "{\"body\":\"[\\n  \\\"Host\\\",\\n  \\\"h\\\",\\n  \\\"X-Hotmart-Hottok\\\",\\n  \\\"[redacted]\\\"\\n]\"}");
	check_redact("{\"body\":\"[\\t\\\"X-Hotmart-Hottok\\\",\\t\\\"LEAK45\\\"]\"}",
		     "{\"body\":\"[\\t\\\"X-Hotmart-Hottok\\\",\\t\\\"[redacted]\\\"]\"}");
	check_redact("\"X-Hotmart-Hottok\",\"LEAK46\"", "\"X-Hotmart-Hottok\",\"[redacted]\"");
	/* a secret's word ending a string's text is no name: the next member's name stays
	 * (the second review's cases) */
	check_redact("{\"description\":\"API token\",\"amount\":100,\"x\":\"see /secret\",\"y\":1}", NULL);
	check_redact("{\"body\":\"{\\\"note\\\":\\\"Reset your password\\\",\\\"id\\\":\\\"x\\\"}\"}", NULL);
	/* a value-first header object with line ends, real or escaped, before the name */
	check_redact("{\"headers\":[{\"value\":\n  \"LEAK47\",\n  \"name\":\n  \"Authorization\"}]}",
		     "{\"headers\":[{\"value\":\n  \"[redacted]\",\n  \"name\":\n  \"Authorization\"}]}");
	check_redact("{\"body\":\"[{\\\"value\\\":\\\"LEAK48\\\",\\r\\n\\\"name\\\":\\t\\\"Authorization\\\"}]\"}",
		     "{\"body\":\"[{\\\"value\\\":\\\"[redacted]\\\",\\r\\n\\\"name\\\":\\t\\\"Authorization\\\"}]\"}");
	/* a name-first header object with other members before its value: HAR's
	 * optional "comment", a number, an object; escaped in a body too */
	check_redact("{\"headers\":[{\"name\":\"X-Api-Key\",\"comment\":\"\",\"value\":\"LEAK49\"}]}",
		     "{\"headers\":[{\"name\":\"X-Api-Key\",\"comment\":\"\",\"value\":\"[redacted]\"}]}");
	check_redact("[{\"name\": \"Authorization\", \"n\": 1, \"o\": {\"a\": [1]}, \"value\": \"LEAK50\"}]",
		     "[{\"name\": \"Authorization\", \"n\": 1, \"o\": {\"a\": [1]}, \"value\": \"[redacted]\"}]");
	check_redact("\"body\":\"{\\\"name\\\":\\\"hottok\\\",\\\"comment\\\":\\\"c\\\",\\\"value\\\":\\\"LEAK51\\\"}\"",
		     "\"body\":\"{\\\"name\\\":\\\"hottok\\\",\\\"comment\\\":\\\"c\\\",\\\"value\\\":\\\"[redacted]\\\"}\"");
	/* an object or a list between them, escaped in a body; braces in a string or a
	 * nested object before the name of a value-first one (the diff review's cases) */
	check_redact("\"body\":\"[{\\\"name\\\":\\\"X-Api-Key\\\",\\\"o\\\":{\\\"a\\\":\\\"b\\\"},\\\"l\\\":[\\\"x\\\",1],\\\"value\\\":\\\"LEAK52\\\"}]\"",
		     "\"body\":\"[{\\\"name\\\":\\\"X-Api-Key\\\",\\\"o\\\":{\\\"a\\\":\\\"b\\\"},\\\"l\\\":[\\\"x\\\",1],\\\"value\\\":\\\"[redacted]\\\"}]\"");
	check_redact("{\"headers\":[{\"value\":\"LEAK53\",\"comment\":\"see {docs}\",\"name\":\"Authorization\"}]}",
		     "{\"headers\":[{\"value\":\"[redacted]\",\"comment\":\"see {docs}\",\"name\":\"Authorization\"}]}");
	check_redact("{\"headers\":[{\"value\":\"LEAK54\",\"o\":{\"a\":1,\"b\":[{}]},\"name\":\"Authorization\"}]}",
		     "{\"headers\":[{\"value\":\"[redacted]\",\"o\":{\"a\":1,\"b\":[{}]},\"name\":\"Authorization\"}]}");
	check_redact("\"body\":\"[{\\\"value\\\":\\\"LEAK55\\\",\\\"o\\\":{\\\"a\\\":\\\"}\\\"},\\\"name\\\":\\\"x-hotmart-hottok\\\"}]\"",
		     "\"body\":\"[{\\\"value\\\":\\\"[redacted]\\\",\\\"o\\\":{\\\"a\\\":\\\"}\\\"},\\\"name\\\":\\\"x-hotmart-hottok\\\"}]\"");
	/* an object without a "value" before the name: another object's stays */
	check_redact("[{\"value\":\"h\",\"name\":\"Host\"},{\"comment\":\"{\",\"name\":\"Authorization\"}]", NULL);
	/* a value-first header's value with a word masked in it already ("csrftoken=x"),
	 * or another member masked before the name: the whole value masked (the third
	 * review's cases); a "value" beside a member that is no "name" stays */
	check_redact("{\"headers\":[{\"value\":\"sessionid=LEAK56; csrftoken=abc123\",\"name\":\"Cookie\"}]}",
		     "{\"headers\":[{\"value\":\"[redacted]\",\"name\":\"Cookie\"}]}");
	check_redact("[{\"comment\":\"old token=abc\",\"value\":\"Bearer LEAK57\",\"name\":\"Authorization\"}]",
		     "[{\"comment\":\"old token=[redacted]\",\"value\":\"[redacted]\",\"name\":\"Authorization\"}]");
	check_redact("[{\"value\":\"a=LEAK58&token=x\",\"name\":\"Cookie\"},{\"value\":\"s\",\"name\":\"X-Api-Key\"}]",
		     "[{\"value\":\"[redacted]\",\"name\":\"Cookie\"},{\"value\":\"[redacted]\",\"name\":\"X-Api-Key\"}]");
	check_redact("[{\"value\":\"LEAK59\",\"type\":\"text\",\"key\":\"X-Api-Key\"}]",
		     "[{\"value\":\"[redacted]\",\"type\":\"text\",\"key\":\"X-Api-Key\"}]");
	/* a body wrapped again (an SNS message in an SQS one, a capture of a capture):
	 * its quotes have 3, 7, ... backslashes, its line ends \\n; each depth read */
	check_redact("{\"Message\":\"{\\\"Message\\\":\\\"{\\\\\\\"hottok\\\\\\\":\\\\\\\"LEAK60\\\\\\\",\\\\\\\"id\\\\\\\":\\\\\\\"x\\\\\\\"}\\\"}\"}",
		     "{\"Message\":\"{\\\"Message\\\":\\\"{\\\\\\\"hottok\\\\\\\":\\\\\\\"[redacted]\\\\\\\",\\\\\\\"id\\\\\\\":\\\\\\\"x\\\\\\\"}\\\"}\"}");
	check_redact("{\"Message\":\"{\\\"Message\\\":\\\"{\\\\\\\"headers\\\\\\\":[{\\\\\\\"name\\\\\\\":\\\\\\\"X-Api-Key\\\\\\\",\\\\\\\"comment\\\\\\\":\\\\\\\"c\\\\\\\",\\\\\\\"value\\\\\\\":\\\\\\\"LEAK61\\\\\\\"}]}\\\"}\"}",
		     "{\"Message\":\"{\\\"Message\\\":\\\"{\\\\\\\"headers\\\\\\\":[{\\\\\\\"name\\\\\\\":\\\\\\\"X-Api-Key\\\\\\\",\\\\\\\"comment\\\\\\\":\\\\\\\"c\\\\\\\",\\\\\\\"value\\\\\\\":\\\\\\\"[redacted]\\\\\\\"}]}\\\"}\"}");
	check_redact("{\"Message\":\"{\\\"Message\\\":\\\"{\\\\\\\"headers\\\\\\\":[{\\\\\\\"value\\\\\\\":\\\\\\\"sessionid=LEAK62; csrftoken=x\\\\\\\",\\\\\\\"name\\\\\\\":\\\\\\\"Cookie\\\\\\\"}]}\\\"}\"}",
		     "{\"Message\":\"{\\\"Message\\\":\\\"{\\\\\\\"headers\\\\\\\":[{\\\\\\\"value\\\\\\\":\\\\\\\"[redacted]\\\\\\\",\\\\\\\"name\\\\\\\":\\\\\\\"Cookie\\\\\\\"}]}\\\"}\"}");
	check_redact("{\"Message\":\"{\\\"Message\\\":\\\"{\\\\n \\\\\\\"hottok\\\\\\\": \\\\\\\"LEAK63\\\\\\\",\\\\n \\\\\\\"id\\\\\\\": \\\\\\\"x\\\\\\\"\\\\n}\\\"}\"}",
		     "{\"Message\":\"{\\\"Message\\\":\\\"{\\\\n \\\\\\\"hottok\\\\\\\": \\\\\\\"[redacted]\\\\\\\",\\\\n \\\\\\\"id\\\\\\\": \\\\\\\"x\\\\\\\"\\\\n}\\\"}\"}");
	check_redact("{\"Message\":\"{\\\"Message\\\":\\\"{\\\\\\\"Message\\\\\\\":\\\\\\\"{\\\\\\\\\\\\\\\"rawHeaders\\\\\\\\\\\\\\\":[\\\\\\\\\\\\\\\"Host\\\\\\\\\\\\\\\",\\\\\\\\\\\\\\\"h\\\\\\\\\\\\\\\",\\\\\\\\\\\\\\\"X-Hotmart-Hottok\\\\\\\\\\\\\\\",\\\\\\\\\\\\\\\"LEAK64\\\\\\\\\\\\\\\"]}\\\\\\\"}\\\"}\"}",
		     "{\"Message\":\"{\\\"Message\\\":\\\"{\\\\\\\"Message\\\\\\\":\\\\\\\"{\\\\\\\\\\\\\\\"rawHeaders\\\\\\\\\\\\\\\":[\\\\\\\\\\\\\\\"Host\\\\\\\\\\\\\\\",\\\\\\\\\\\\\\\"h\\\\\\\\\\\\\\\",\\\\\\\\\\\\\\\"X-Hotmart-Hottok\\\\\\\\\\\\\\\",\\\\\\\\\\\\\\\"[redacted]\\\\\\\\\\\\\\\"]}\\\\\\\"}\\\"}\"}");
	check_redact("{\"Message\":\"{\\\"Message\\\":\\\"{\\\\\\\"description\\\\\\\":\\\\\\\"API token\\\\\\\",\\\\\\\"amount\\\\\\\":100,\\\\\\\"value\\\\\\\":\\\\\\\"5\\\\\\\"}\\\"}\"}",
		     NULL);
	/* a header object's value as a list or a number (a key sent as digits), either
	 * order: whole */
	check_redact("{\"headers\":[{\"name\":\"Authorization\",\"value\":[\"Bearer LEAK70\"]}]}",
		     "{\"headers\":[{\"name\":\"Authorization\",\"value\":[redacted]}]}");
	check_redact("[{\"value\":[\"LEAK71\"],\"name\":\"Authorization\"},{\"name\":\"Host\",\"value\":\"h\"}]",
		     "[{\"value\":[redacted],\"name\":\"Authorization\"},{\"name\":\"Host\",\"value\":\"h\"}]");
	check_redact("\"body\":\"[{\\\"name\\\":\\\"X-Api-Key\\\",\\\"value\\\":12345678}]\"",
		     "\"body\":\"[{\\\"name\\\":\\\"X-Api-Key\\\",\\\"value\\\":[redacted]}]\"");
	check_redact("[{\"value\": 987654321, \"name\": \"X-Api-Key\"}]", "[{\"value\": [redacted], \"name\": \"X-Api-Key\"}]");
	/* a header line's value to its line end, quotes and backslashes in it; a
	 * hottok's list in a body, and no further; a flat list's pair whose value is
	 * a secret's name (the review of the depth change) */
	check_redact("{\"request\":\"GET / HTTP/1.1\\r\\nCookie: sid=\\\"LEAK75\\\"\\r\\nHost: h\\r\\n\\r\\n\"}",
		     "{\"request\":\"GET / HTTP/1.1\\r\\nCookie: [redacted]\\r\\nHost: h\\r\\n\\r\\n\"}");
	check_redact("{\"Message\":\"{\\\"multiValueHeaders\\\":{\\\"X-Hotmart-Hottok\\\":[\\\"LEAK76\\\"]},\\\"body\\\":\\\"{\\\\\\\"id\\\\\\\":\\\\\\\"evt-42\\\\\\\"}\\\"}\"}",
		     "{\"Message\":\"{\\\"multiValueHeaders\\\":{\\\"X-Hotmart-Hottok\\\":[redacted]},\\\"body\\\":\\\"{\\\\\\\"id\\\\\\\":\\\\\\\"evt-42\\\\\\\"}\\\"}\"}");
	check_redact("{\"rawHeaders\":[\"Vary\",\"Cookie\",\"Cookie\",\"sid=LEAK77\",\"Host\",\"h\"]}",
		     "{\"rawHeaders\":[\"Vary\",\"Cookie\",\"[redacted]\",\"[redacted]\",\"Host\",\"h\"]}");
	assert_true(secret_name_escaped("{\"body\":\"{\\u0022hottok\\u0022:\\u0022S\\u0022}\"}", 45));
	/* a header's list value, or a comment before the value, longer than the 2 KB a
	 * member is read for its end: the value masked whole all the same (the diff
	 * review's cases) */
	{
		char a[3001], in[3200], want[3200];
		memset(a, 'A', 3000);
		a[3000] = '\0';
		snprintf(in, sizeof in, "{\"headers\":[{\"name\":\"Cookie\",\"value\":[\"sid=%sLEAK78\"]}]}", a);
		check_redact(in, "{\"headers\":[{\"name\":\"Cookie\",\"value\":[redacted]");
		snprintf(in, sizeof in, "[{\"value\":[\"sid=%sLEAK79\"],\"name\":\"Cookie\"},{\"name\":\"Host\",\"value\":\"h\"}]", a);
		check_redact(in, "[{\"value\":[redacted],\"name\":\"Cookie\"},{\"name\":\"Host\",\"value\":\"h\"}]");
		snprintf(in, sizeof in, "[{\"name\":\"Authorization\",\"comment\":\"%s\",\"value\":\"Bearer LEAK80\"}]", a);
		snprintf(want, sizeof want, "[{\"name\":\"Authorization\",\"comment\":\"%s\",\"value\":\"[redacted]\"}]", a);
		check_redact(in, want);
	}
	check_redact("{\"object\":\"line_item\",\"value\":\"49.90\",\"description\":\"Cookie box (12 units)\"}", NULL);
	check_redact("{\"options\":[{\"value\":\"choc\",\"label\":\"Cookie\"},{\"value\":\"v\",\"name\":\"Cookie jar\"}]}", NULL);
	/* but a secret's word inside a string's text reaches only a "value" right after it */
	check_redact("{\"description\":\"API token\",\"amount\":100,\"value\":\"5\"}", NULL);
	/* the object ends before any "value": the next object's stays */
	check_redact("[{\"name\":\"Authorization\",\"comment\":\"c\"},{\"name\":\"Host\",\"value\":\"h\"}]", NULL);
	/* a flat list of names and values (Node's rawHeaders) */
	check_redact("{\"rawHeaders\":[\"Host\",\"h\",\"X-Hotmart-Hottok\",\"LEAK43\"]}",
		     "{\"rawHeaders\":[\"Host\",\"h\",\"X-Hotmart-Hottok\",\"[redacted]\"]}");
	/* HTTP header lines (a raw request's): the value is the rest of the line */
	check_redact("Authorization: Bearer S\r\nX-Hotmart-Hottok:S 2\nHost: h",
		     "Authorization: [redacted]\r\nX-Hotmart-Hottok:[redacted]\nHost: h");
	check_redact("{\"identity\":{\"apiKey\":\"S\"},\"headers\":{\"X-Api-Key\":\"S2\"}}",
		     "{\"identity\":{\"apiKey\":\"[redacted]\"},\"headers\":{\"X-Api-Key\":\"[redacted]\"}}");
	check_redact("{\"head\":\"Stripe-Signature: t=1, v1=S\\r\\nHost: h\"}",
		     "{\"head\":\"Stripe-Signature: [redacted]\\r\\nHost: h\"}");
	/* Stripe's bearer URLs, whole, under any key, their slashes escaped or not,
	 * in a body string; another Stripe URL stays */
	check_redact("{\"url\":\"https://verify.stripe.com/start/test_YWNjdF8x\",\"x\":1",
		     "{\"url\":\"[redacted]\",\"x\":1");
	check_redact("{\"return\":\"HTTPS://Billing.Stripe.com/p/session/test_YWNj?x=1\" }",
		     "{\"return\":\"[redacted]\" }");
	check_redact("\"body\":\"{\\\"url\\\":\\\"https:\\\\/\\\\/verify.stripe.com\\\\/start\\\\/S\\\"}\"",
		     "\"body\":\"{\\\"url\\\":\\\"[redacted]\\\"}\"");
	check_redact("{\"url\":\"https:\\/\\/verify.stripe.com\\/start\\/S\"} tail",
		     "{\"url\":\"[redacted]\"} tail");
	check_redact("{\"url\":\"https://billing.stripe.com/p/login/abc\",\"u\":\"https://verify.stripe.com\"}", NULL);
	check_redact("{\"url\":\"https:\\u002f\\u002Fverify.stripe.com\\u002fstart\\u002fS\"}",
		     "{\"url\":\"[redacted]\"}");
	check_redact("url=https%3A%2F%2Fverify.stripe.com%2Fstart%2FS&x=1", "url=[redacted]&x=1");
	check_redact("u=https%3a%2f%2fbilling.stripe.com%2fp%2fsession%2fS x", "u=[redacted] x");
}

/* What follows the last gzip member: zero padding is nothing; anything else
 * (lines appended to a .gz file) is an error, never skipped in silence. */
static void test_lines_gzip_trailing(void **state)
{
	static const char *const tails[] = { "{\"c\":3}\n", "\x1f", "\0\0\0\0", "\0\0x" };
	static const int ok[] = { 0, 0, 1, 0 };
	for (int t = 0; t < 4; t++) {
		char *path = write_tmp("{\"a\":1}\n", 8, 1);
		FILE *f = fopen(path, "ab");
		assert_non_null(f);
		fwrite(tails[t], 1, t == 2 ? 4 : t == 3 ? 3 : strlen(tails[t]), f);
		fclose(f);
		struct line_reader *lr = lr_open(path, 0);
		struct line l;
		int truncated = 1;
		assert_int_equal(lr_next(lr, &l), LR_LINE);
		assert_string_equal(l.text, "{\"a\":1}");
		if (ok[t]) {
			assert_int_equal(lr_next(lr, &l), LR_EOF);
		} else {
			assert_int_equal(lr_next(lr, &l), LR_ERROR);
			assert_string_equal(lr_error(lr, &truncated),
					    "data after the end of the gzip stream is not gzip (not read)");
			assert_false(truncated);
		}
		lr_close(lr);
		unlink(path);
	}
}

/* base64 text -> bytes, or -1; the bytes are checked against want[0..wantlen). */
static int b64(const char *text, const char *want, size_t wantlen)
{
	size_t len = strlen(text), got = 12345;
	unsigned char *out = malloc(BASE64_DECODED_MAX(len));
	assert_non_null(out);
	int r = base64_decode(text, len, out, &got);
	if (r == 0) {
		assert_int_equal(got, wantlen);
		assert_memory_equal(out, want, wantlen);
	}
	free(out);
	return r;
}

static void test_base64(void **state)
{
	/* RFC 4648 section 10 */
	static const char *const vectors[][2] = {
		{ "", "" }, { "Zg==", "f" }, { "Zm8=", "fo" }, { "Zm9v", "foo" },
		{ "Zm9vYg==", "foob" }, { "Zm9vYmE=", "fooba" }, { "Zm9vYmFy", "foobar" },
	};
	for (size_t i = 0; i < sizeof vectors / sizeof *vectors; i++)
		assert_int_equal(b64(vectors[i][0], vectors[i][1], strlen(vectors[i][1])), 0);
	/* the whole alphabet, bytes that are not text */
	assert_int_equal(b64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn8=",
				 "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"
				 "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f"
				 " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_"
				 "`abcdefghijklmnopqrstuvwxyz{|}~\x7f", 128), 0);
	assert_int_equal(b64("+/+/", "\xfb\xff\xbf", 3), 0);
	assert_int_equal(b64("H4sIAA==", "\x1f\x8b\x08\x00", 4), 0);
	/* whitespace anywhere is skipped: MIME line breaks, a pretty-printer's indent */
	assert_int_equal(b64("Zm9v\r\nYmFy\n", "foobar", 6), 0);
	assert_int_equal(b64(" Zm 9v\tYg =\n=", "foob", 4), 0);
	assert_int_equal(b64(" \r\n", "", 0), 0);
	/* padding: required, in its place, and the last one */
	static const char *const bad[] = {
		"Zg", "Zm8", "Zm9vYg", "Zg=", "Zg===", "Z===", "====", "=", "=Zg=", "Zm9v=", "Zg==Zg==",
		"Zm=v", "Zg==\nZg", "Z",
		/* one character and its padding: no byte, even when its bits are zero */
		"A===", "Zm9vA===",
		/* not the alphabet: base64url, other bytes */
		"Zm9-", "Zm9_", "Zm9v!", "Zm\xc3\xa9v", "Zm9v.",
		/* non-zero pad bits: "Zh==" would also be "f" */
		"Zh==", "Zm9=",
	};
	size_t got;
	unsigned char out[16];
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		if (base64_decode(bad[i], strlen(bad[i]), out, &got) != -1)
			fail_msg("'%s' decoded", bad[i]);
	}
	/* an embedded NUL (a length, not a C string) */
	assert_int_equal(base64_decode("Zm9v\0YmFy", 9, out, &got), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decimal_to_minor),
		cmocka_unit_test(test_minor_to_decimal),
		cmocka_unit_test(test_currency),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_utf8_replace),
		cmocka_unit_test(test_jparse),
		cmocka_unit_test(test_jparse_shallow),
		cmocka_unit_test(test_member_span),
		cmocka_unit_test(test_drop_members),
		cmocka_unit_test(test_value_end_strings),
		cmocka_unit_test(test_text_state),
		cmocka_unit_test(test_getters),
		cmocka_unit_test(test_secret),
		cmocka_unit_test(test_http_date),
		cmocka_unit_test(test_capture_header),
		cmocka_unit_test(test_rfc3339_strict),
		cmocka_unit_test(test_key_has_nul),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_jvalidate_text),
		cmocka_unit_test(test_pg_messages),
		cmocka_unit_test(test_pg_nested_dbname),
		cmocka_unit_test(test_pg_sslpassword),
		cmocka_unit_test(test_pg_dsn_split),
		cmocka_unit_test(test_pg_dsn_or_env),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_lines_plain),
		cmocka_unit_test(test_lines_crlf_at_the_maximum),
		cmocka_unit_test(test_lines_long_across_chunks),
		cmocka_unit_test(test_lines_and_bytes),
		cmocka_unit_test(test_rawhttp),
		cmocka_unit_test(test_lines_gzip_members_and_truncation),
		cmocka_unit_test(test_lines_gzip_trailing),
	};
	diag_init("test_lib");
	parser = jparser_new();
	jparser_track_members(parser);
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	jparser_free(parser);
	return failed;
}
