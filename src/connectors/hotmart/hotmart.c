/*
 * hotmart.c: the Hotmart connector (docs/hotmart.md).
 *
 * Two payload forms. The webhook 2.0.0 envelope {id, creation_date, event,
 * version, data}, and the older flat postback ("v1": transaction, status,
 * prod, email, ... at the top level, the subscriberCode/cancellationDate
 * form for a cancellation, or the switchPlanDate form for a plan change),
 * which has no event id: we derive one.
 *
 * Prices come in major units, as JSON numbers or strings; they are converted
 * from their text (json-c keeps a number's original text), never through a
 * double. The payload is borrowed; the event builder copies every string.
 * `hottok` is a shared secret: it is never read, logged or copied here.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "connector.h"
#include "money.h"
#include "timeutil.h"

/* A NULL-terminated list of alternative paths; the first present one wins. */
#define ALT(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* How strictly a getter treats its field. */
enum need {
	OPT,   /* absent or unusable: left null */
	CHECK, /* absent: left null; present but unusable: a field error */
	REQ,   /* absent or unusable: a field error */
};

#define MAX_MS INT64_C(253402300799999) /* 9999-12-31T23:59:59.999Z */

static void errf(struct jerr *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Record the first field error only: it is the one worth reading. */
static void errf(struct jerr *e, const char *fmt, ...)
{
	char msg[sizeof e->reason];
	va_list ap;

	if (e->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	jerr_set(e, "%s", msg);
}

static json_object *alt(json_object *root, const char *const *paths, const char **used)
{
	for (; *paths; paths++) {
		json_object *o = jpath(root, *paths);
		if (o) {
			*used = *paths;
			return o;
		}
	}
	return NULL;
}

static int empty_text(json_object *o)
{
	return json_object_is_type(o, json_type_string) && json_object_get_string_len(o) == 0;
}

/* alt, where "" (Hotmart's way of saying it has none) gives way to the next
 * path named, as absent or null does; the last "" when nothing follows it. */
static json_object *alt_sent(json_object *root, const char *const *paths, const char **used)
{
	json_object *o = alt(root, paths, used);

	while (empty_text(o)) {
		const char *const *next = paths;
		while (*next && *next != *used)
			next++;
		if (!*next || !next[1])
			break;
		const char *was = *used;
		json_object *n = alt(root, next + 1, used);
		if (!n) {
			*used = was;
			break;
		}
		o = n;
	}
	return o;
}

/* Report a field that is absent (o == NULL) or unusable, as need says. */
static void field_problem(struct jerr *e, enum need need, const char *path, json_object *o,
			  const char *what)
{
	char v[41];

	if (!o) {
		if (need == REQ)
			errf(e, "missing field '%s'", path);
	} else if (need == OPT) {
		return;
	} else if (jstr_has_nul(o)) {
		errf(e, "field '%s' contains U+0000", path); /* a C string would be cut there */

	} else if (json_object_is_type(o, json_type_string) && !*json_object_get_string(o)) {
		errf(e, "field '%s' is empty", path);
	} else if (json_object_is_type(o, json_type_string) || json_object_is_type(o, json_type_int) ||
		   json_object_is_type(o, json_type_double)) {
		errf(e, "field '%s' must be %s, got %s '%s'", path, what, jtype_name(o),
		     utf8_clip(json_object_get_string(o), v, sizeof v));
	} else {
		errf(e, "field '%s' must be %s, got %s", path, what, jtype_name(o));
	}
}

/* A non-empty string. */
static const char *get_str(json_object *root, const char *const *paths, enum need need,
			   struct jerr *e)
{
	const char *used = paths[0];
	json_object *o = alt_sent(root, paths, &used);

	if (o && json_object_is_type(o, json_type_string) && *json_object_get_string(o) && !jstr_has_nul(o))
		return json_object_get_string(o);
	field_problem(e, need, used, o, "a non-empty string");
	return NULL;
}

/* An identifier: a non-empty string, or an integer as its decimal text. One
 * that is there but could name another object (a clamped integer, U+FFFD,
 * U+0000) fails the event even when optional (docs/events.md): left null, a
 * renewal's subscription would go without a word. */
static const char *get_id(json_object *root, const char *const *paths, enum need need,
			  struct jerr *e)
{
	const char *used = paths[0];
	json_object *o = alt(root, paths, &used);

	if (o && json_object_is_type(o, json_type_int)) {
		/* json-c clamps an integer past 64 bits to the limit: two such ids
		 * would read as one */
		if (!jint_clamped(o))
			return json_object_get_string(o);
		errf(e, "field '%s' is out of range", used);
		return NULL;
	}
	if (jstr_has_fffd(o)) { /* jsonutil.h: two such ids could read as one */
		errf(e, "field '%s' contains U+FFFD (a lone UTF-16 surrogate?): not an id", used);
		return NULL;
	}
	if (jstr_has_nul(o)) {
		errf(e, "field '%s' contains U+0000", used); /* a C string would be cut there */
		return NULL;
	}
	if (o && json_object_is_type(o, json_type_string) && *json_object_get_string(o))
		return json_object_get_string(o);
	field_problem(e, need, used, o, "a string or an integer");
	return NULL;
}

/* Decimal digits only, 1 to 18 of them (fits in int64). */
static int digits(const char *s, int64_t *v)
{
	size_t n = strspn(s, "0123456789");

	if (n == 0 || n > 18 || s[n] != '\0')
		return 0;
	*v = strtoll(s, NULL, 10);
	return 1;
}

/* An integer, or a string of digits (the v1 postback sends text). */
static int get_int(json_object *root, const char *const *paths, enum need need, int64_t *v,
		   struct jerr *e)
{
	const char *used = paths[0];
	json_object *o = alt(root, paths, &used);

	if (o && json_object_is_type(o, json_type_int)) {
		/* past 64 bits json-c clamps it to the limit: a number not sent */
		if (jint_clamped(o)) {
			errf(e, "field '%s' is out of range", used);
			return 0;
		}
		*v = json_object_get_int64(o);
		return 1;
	}
	if (o && json_object_is_type(o, json_type_string) && !jstr_has_nul(o) && digits(json_object_get_string(o), v))
		return 1;
	field_problem(e, need, used, o, "an integer");
	return 0;
}

/* RFC 3339 text, or with ISO 8601's basic offset (+hhmm, as Java's
 * SimpleDateFormat "Z" writes it: "2022-09-01T12:00:00.000-0300"), which
 * names its zone as surely. 0 ok, -1 not a time with its zone. */
static int text_time(const char *s, int64_t *ms)
{
	char buf[64];
	size_t n = strlen(s);
	const char *z;

	if (parse_rfc3339_strict(s, ms) == 0)
		return 0;
	if (n < 16 || n + 2 > sizeof buf)
		return -1;
	z = s + n - 5;
	if ((z[0] != '+' && z[0] != '-') || strspn(z + 1, "0123456789") != 4)
		return -1;
	memcpy(buf, s, n - 2);
	buf[n - 2] = ':';
	memcpy(buf + n - 1, s + n - 2, 3); /* the last two digits and the NUL */
	return parse_rfc3339_strict(buf, ms);
}

/*
 * A time: epoch milliseconds (or seconds) as a number or a digit string,
 * or an RFC 3339 date-time string. 1 with *ms set, 0 when unusable.
 */
static int time_of(json_object *o, int64_t *ms)
{
	int64_t v;
	double d;

	switch (json_object_get_type(o)) {
	case json_type_int:
		v = json_object_get_int64(o);
		if (v <= 0 || v > MAX_MS)
			return 0;
		*ms = epoch_to_ms(v);
		break;
	case json_type_double:
		d = json_object_get_double(o);
		if (!(d >= 1 && d <= (double)MAX_MS) || d != (double)(int64_t)d)
			return 0;
		*ms = epoch_to_ms((int64_t)d);
		break;
	case json_type_string:
		if (jstr_has_nul(o))
			return 0;
		if (digits(json_object_get_string(o), &v)) {
			if (v <= 0 || v > MAX_MS)
				return 0;
			*ms = epoch_to_ms(v);
		} else if (text_time(json_object_get_string(o), ms) != 0) {
			/* with its zone: a time without one, or a date alone, is not
			 * taken for UTC (Hotmart's own zone is Brazil's) */
			return 0;
		}
		break;
	default:
		return 0;
	}
	return *ms > 0 && *ms <= MAX_MS;
}

static int get_time(json_object *root, const char *const *paths, enum need need, int64_t *ms,
		    struct jerr *e)
{
	const char *used = paths[0];
	/* "" is Hotmart's way of sending no date (a v1 form posts every field,
	 * subscription_date_next_charge= of a subscription with no next charge):
	 * none left after it, the time is absent, unless it is required */
	json_object *o = alt_sent(root, paths, &used);

	*ms = 0;
	if (o && time_of(o, ms))
		return 1;
	*ms = 0;
	if (need != REQ && empty_text(o))
		return 0;
	field_problem(e, need, used, o, "a timestamp (epoch milliseconds or RFC 3339)");
	return 0;
}

/* An ISO 4217 code, upper-cased into out. An empty one ("", Hotmart's way of
 * saying it has none) gives way to the next path, as absent or null does. */
static int get_currency(json_object *root, const char *const *paths, enum need need, char out[4],
			struct jerr *e)
{
	const char *used = paths[0];
	json_object *o = alt_sent(root, paths, &used);

	if (o && json_object_is_type(o, json_type_string) && !jstr_has_nul(o) &&
	    currency_normalize(json_object_get_string(o), out) == 0)
		return 1;
	field_problem(e, need, used, o, "an ISO 4217 currency code");
	return 0;
}

/*
 * "D.DDDE[+]K" (digits, one point, a positive exponent below 20) written out
 * without the exponent into buf: "1.4989999999999998E7" -> "14989999.999999998".
 * 0 when text is not of that form or does not fit.
 */
static int sci_to_plain(const char *text, char *buf, size_t n)
{
	const char *e = strpbrk(text, "eE"), *dot = strchr(text, '.');
	char digits[40];
	size_t nd = 0, point;
	int k = 0;

	if (!dot || dot > e || dot == text || e == dot + 1 || strspn(text, "0123456789") != (size_t)(dot - text) ||
	    strspn(dot + 1, "0123456789") != (size_t)(e - dot - 1))
		return 0;
	const char *x = e + 1 + (e[1] == '+');
	if (!*x || strspn(x, "0123456789") != strlen(x) || strlen(x) > 2 || (k = atoi(x)) >= 20)
		return 0;
	for (const char *c = text; c < e; c++)
		if (c != dot) {
			if (nd + 1 >= sizeof digits)
				return 0;
			digits[nd++] = *c;
		}
	point = (size_t)(dot - text) + (size_t)k;
	if (point >= nd || nd + 2 > n)
		return 0; /* an integer: decimal_to_minor reads it exactly already */
	memcpy(buf, digits, point);
	buf[point] = '.';
	memcpy(buf + point + 1, digits + point, nd - point);
	buf[nd + 1] = '\0';
	return 1;
}

/*
 * A number printed from a double that carries its binary rounding error:
 * 149.89999999999998 for 149.90, 177.30000000000001 for 177.30. The mark is
 * the shortest round-trip text of a double (15 to 17 significant digits,
 * no exponent) whose digits past the currency's decimals start with six or
 * more 9s or 0s. 1 with *minor the amount it stands for; 0 otherwise, so a
 * real extra decimal (19.999, 19.995000000000001) still fails.
 */
static int double_noise(const char *text, int exponent, int64_t *minor)
{
	const char *dot = strchr(text, '.'), *tail, *c;
	size_t sig = 0, run;
	char head[48], plain[48];

	/* Java prints a double of 10^7 or more with an exponent (1.4989999999999998E7):
	 * the same digits with the point moved. */
	if (strpbrk(text, "eE") && sci_to_plain(text, plain, sizeof plain))
		return double_noise(plain, exponent, minor);
	if (!dot || exponent < 0 || strpbrk(text, "eE+-") || strlen(dot + 1) <= (size_t)exponent)
		return 0;
	for (c = text; *c; c++)
		if ((*c >= '1' && *c <= '9') || (*c == '0' && sig > 0))
			sig++;
	if (sig < 15 || sig > 17)
		return 0;
	tail = dot + 1 + exponent;
	run = strspn(tail, "9") >= 6 ? 9 : strspn(tail, "0") >= 6 ? 0 : 1;
	if (run == 1 || (size_t)(tail - text) >= sizeof head)
		return 0;
	/* The amount with the currency's decimals only ("149.89"), then rounded up past a run of 9s. */
	snprintf(head, sizeof head, "%.*s", (int)(tail - text) - (exponent == 0), text);
	if (decimal_to_minor(head, exponent, 0, minor) != MONEY_OK || *minor == INT64_MAX)
		return 0;
	*minor += run == 9;
	return 1;
}

/*
 * Hotmart works out every price in cents, also in a currency without them: a
 * CLP price net of Chile's 19% VAT comes as 5625.21 (full_price 6694). Such a
 * value, with at most two decimals, is taken to the currency's own unit, half
 * up (5625). 1 with *minor; 0 when the currency has two decimals or more, or
 * the value has more than two.
 */
static int cents_of_unitless(const char *text, int exponent, int64_t *minor)
{
	int64_t cents, unit = 1;

	if (exponent < 0 || exponent >= 2)
		return 0;
	if (decimal_to_minor(text, 2, 0, &cents) != MONEY_OK && !double_noise(text, 2, &cents))
		return 0;
	for (int i = exponent; i < 2; i++)
		unit *= 10;
	*minor = cents / unit + (cents % unit >= unit / 2);
	return 1;
}

/*
 * "19.990", "1.500": one to three digits, a point and three more, the last
 * a zero (otherwise it is more decimals than the currency has, and fails as
 * such: "19.999" BRL), in a currency with fewer than three decimals.
 * Hotmart prints a price from a double (19.99) or with two decimals
 * (19.90), never so; a pt-BR, es-CL or es-CO thousands separator does (CLP
 * 19.990 is 19990, not 20).
 */
static int thousands_like(const char *text, int exponent)
{
	/* as decimal_to_minor reads it: blanks around, a '+', leading zeros */
	text += strspn(text, " ");
	text += *text == '+';
	text += strspn(text, "0");
	size_t head = strspn(text, "0123456789");

	return exponent < 3 && head >= 1 && head <= 3 && text[head] == '.' &&
	       strspn(text + head + 1, "0123456789") == 3 && text[head + 3] == '0' &&
	       text[head + 4 + strspn(text + head + 4, " ")] == '\0';
}

/*
 * Money in major units ("19.9", 19.9, 1500) -> integer minor units of
 * currency, exactly. More decimals than the currency has is an error, unless
 * they are a double's rounding error (double_noise).
 */
static int get_money(json_object *root, const char *const *paths, enum need need,
		     const char *currency, int64_t *minor, struct jerr *e)
{
	const char *used = paths[0], *text;
	json_object *o = alt(root, paths, &used);
	char v[41];

	if (!o || !(json_object_is_type(o, json_type_int) || json_object_is_type(o, json_type_double) ||
		    json_object_is_type(o, json_type_string)) || jstr_has_nul(o)) {
		field_problem(e, need, used, o, "a decimal number");
		return 0;
	}
	text = utf8_clip(json_object_get_string(o), v, sizeof v);
	if (thousands_like(json_object_get_string(o), currency_exponent(currency))) {
		if (need != OPT)
			errf(e, "field '%s' has three decimals, more than %s has: '%s' (a thousands separator?)", used,
			     currency, text);
		return 0;
	}
	switch (decimal_to_minor(json_object_get_string(o), currency_exponent(currency), 0, minor)) {
	case MONEY_OK:
		return 1;
	case MONEY_PRECISION:
		if (double_noise(json_object_get_string(o), currency_exponent(currency), minor))
			return 1;
		if (cents_of_unitless(json_object_get_string(o), currency_exponent(currency), minor))
			return 1;
		if (need != OPT)
			errf(e, "field '%s' has more decimals than %s allows: '%s'", used, currency, text);
		return 0;
	case MONEY_NEGATIVE:
		if (need != OPT)
			errf(e, "field '%s' must not be negative: '%s'", used, text);
		return 0;
	case MONEY_RANGE:
		if (need != OPT)
			errf(e, "field '%s' is out of range: '%s'", used, text);
		return 0;
	default:
		if (need != OPT)
			errf(e, "field '%s' must be a decimal number, got '%s'", used, text);
		return 0;
	}
}

/* ---- value mappings ---- */

/* Upper-case s into buf with spaces and hyphens as '_'; 0 when it does not fit. */
static int upcase_key(const char *s, char *buf, size_t n)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		if (i + 1 >= n)
			return 0;
		char c = s[i];
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		else if (c == ' ' || c == '-')
			c = '_';
		buf[i] = c;
	}
	buf[i] = '\0';
	return 1;
}

/* Hotmart payment.type (v2 upper case, v1 lower case) -> canonical method. */
static const char *method_of(const char *type, char *buf, size_t n)
{
	static const struct {
		const char *hotmart, *method;
	} methods[] = {
		{ "CREDIT_CARD", "card" },
		{ "DEBIT_CARD", "card" },
		{ "BILLET", "boleto" },
		{ "FINANCED_BILLET", "boleto" },
		{ "DIRECT_BANK_BILLET", "boleto" },
		{ "PIX", "pix" },
		{ "PAYPAL", "paypal" },
		{ "PAYPAL_INTERNACIONAL", "paypal" },
		{ "PICPAY", "picpay" },
		{ "GOOGLE_PAY", "google_pay" },
		{ "SAMSUNG_PAY", "samsung_pay" },
		{ "APPLE_PAY", "apple_pay" },
		{ "HOTCARD", "hotcard" },
		{ "HYBRID", "hybrid" },
		{ "WALLET", "wallet" },
		{ "CASH_PAYMENT", "cash" },
		{ "DIRECT_DEBIT", "direct_debit" },
		{ "DIRECT_BANK_TRANSFER", "bank_transfer" },
		{ "BANK_TRANSFER", "bank_transfer" },
		{ "MANUAL_TRANSFER", "bank_transfer" },
		{ "FINANCED_INSTALLMENT", "financed_installment" },
	};
	char key[40];
	size_t i;

	if (!type || !upcase_key(type, key, sizeof key))
		return NULL;
	for (i = 0; i < sizeof methods / sizeof methods[0]; i++)
		if (strcmp(key, methods[i].hotmart) == 0)
			return methods[i].method;
	/* An unknown method keeps its name, lower case, if it looks like one. */
	for (i = 0; key[i]; i++) {
		char c = key[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_') || i + 1 >= n)
			return NULL;
		buf[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	buf[i] = '\0';
	return buf;
}

/*
 * Hotmart subscription status -> canonical. The API spells cancellations
 * CANCELLED_BY_* and CANCELED_BY_*; v1 sends lower case ("active",
 * "past_due", "Canceled by client"). OVERDUE is Hotmart's "period ended"
 * (DELAYED is the late payment). NULL for anything else.
 */
static const char *sub_status_of(const char *status)
{
	static const struct {
		const char *hotmart, *status;
	} statuses[] = {
		{ "ACTIVE", "active" },
		{ "TRIAL", "trialing" },
		{ "TRIALING", "trialing" },
		{ "STARTED", "incomplete" },
		{ "INACTIVE", "incomplete" },
		{ "DELAYED", "past_due" },
		{ "PAST_DUE", "past_due" },
		{ "OVERDUE", "canceled" },
		{ "EXPIRED", "canceled" },
	};
	char key[40];
	size_t i;

	if (!status || !upcase_key(status, key, sizeof key))
		return NULL;
	for (i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
		if (strcmp(key, statuses[i].hotmart) == 0)
			return statuses[i].status;
	if (strncmp(key, "CANCELED", 8) == 0 || strncmp(key, "CANCELLED", 9) == 0)
		return "canceled";
	return NULL;
}

/* A recurrence period in days (7, 30, 60, 90, 180, 360) -> interval. */
static void set_interval(struct event *ev, int64_t days)
{
	if (days <= 0 || days > 3660)
		return;
	if (days == 360 || days == 365) {
		event_str(ev, SEC_SUBSCRIPTION, "interval", "year");
		event_int(ev, SEC_SUBSCRIPTION, "interval_count", 1);
	} else if (days % 30 == 0) {
		event_str(ev, SEC_SUBSCRIPTION, "interval", "month");
		event_int(ev, SEC_SUBSCRIPTION, "interval_count", days / 30);
	} else if (days % 7 == 0) {
		event_str(ev, SEC_SUBSCRIPTION, "interval", "week");
		event_int(ev, SEC_SUBSCRIPTION, "interval_count", days / 7);
	} else {
		event_str(ev, SEC_SUBSCRIPTION, "interval", "day");
		event_int(ev, SEC_SUBSCRIPTION, "interval_count", days);
	}
}

/* ---- the customer ---- */

struct person_layout {
	const char *email, *name, *first_name, *last_name;
	const char *phone[4][2]; /* {area code or NULL, number} pairs, in preference order */
	const char *country;     /* ISO alpha-2 */
};

/* checkout_phone_code is the area code (DDD) of checkout_phone, sent for
 * Brazilian buyers only; others have the country code inside the number. */
static const struct person_layout buyer_v2 = {
	"email", "name", "first_name", "last_name",
	{ { "checkout_phone_code", "checkout_phone" }, { NULL, "phone" },
	  { "phone.dddCell", "phone.cell" }, { "phone.dddPhone", "phone.phone" } },
	"address.country_iso",
};

static const struct person_layout buyer_v1 = {
	"email", "name", "first_name", "last_name",
	{ { "phone_checkout_local_code", "phone_checkout_number" },
	  { "phone_local_code", "phone_number" } },
	"address_country",
};

/* The flat v1 cancellation's subscriber. */
static const struct person_layout cancel_v1 = {
	.email = "userEmail",
	.name = "userName",
};

/* A string or integer as text, NULL when empty or another type. */
static const char *text_at(json_object *base, const char *path)
{
	json_object *o;

	if (!base || !path || !(o = jpath(base, path)))
		return NULL;
	if (!json_object_is_type(o, json_type_string) && !json_object_is_type(o, json_type_int))
		return NULL;
	/* a number past 64 bits (a phone sent as one) is clamped by json-c: not its text */
	if (jint_clamped(o))
		return NULL;
	if (jstr_has_nul(o))
		return NULL; /* never cut short: left out (the loader refuses the raw payload) */
	return *json_object_get_string(o) ? json_object_get_string(o) : NULL;
}

/*
 * The email trimmed (of every blank text_blank counts: a no-break space or a
 * newline pasted with it made the same buyer another customer, audit-ID 3)
 * and its ASCII letters lower-cased into buf: the customer id, since
 * Hotmart has no customer id. 0 when it is not an address that fits, or
 * holds U+FFFD: a Latin-1 form read as UTF-8 (jo\xe3o@ and jo\xf5o@ read
 * alike) would name another buyer.
 */
static int email_key(const char *s, char *buf, size_t n)
{
	size_t len, i;

	s = text_trim(s, &len);
	if (len == 0 || len >= n || !memchr(s, '@', len) || memmem(s, len, "\xef\xbf\xbd", 3))
		return 0;
	for (i = 0; i < len; i++)
		buf[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
	buf[len] = '\0';
	return 1;
}

static void fill_country(struct event *ev, const char *iso)
{
	char cc[3];

	if (!iso || strlen(iso) != 2)
		return;
	for (int i = 0; i < 2; i++) {
		char c = iso[i];
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (c < 'A' || c > 'Z')
			return;
		cc[i] = c;
	}
	cc[2] = '\0';
	event_str(ev, SEC_CUSTOMER, "country", cc);
}

/*
 * Whether an area code (a Brazilian DDD, two digits; other countries' one to
 * three) goes in front of a number: it is one to three digits (Hotmart's test
 * sends and some accounts fill it with 999999999, which is no code), and the
 * number is a local one, at most 9 digits (8 for a Brazilian landline, 9 for a
 * mobile); with 10 or more it carries its area code, or a country code,
 * already. (A number that starts with the code is no sign: DDD 91-99 mobiles
 * start with 9.)
 */
static int area_code_needed(const char *ddd, const char *num)
{
	size_t n = strlen(ddd);
	int digits = 0;

	if (n < 1 || n > 3)
		return 0;
	for (const char *c = ddd; *c; c++)
		if (!isdigit((unsigned char)*c))
			return 0;
	for (const char *c = num; *c; c++)
		digits += isdigit((unsigned char)*c) != 0;
	return digits <= 9;
}

/*
 * Fill the customer from the person object at prefix ("data.buyer", or ""
 * for the flat v1 form). need applies to the email, the customer's key.
 */
static void fill_customer(struct event *ev, json_object *payload, const char *prefix,
			  const struct person_layout *l, enum need need)
{
	json_object *base = *prefix ? jpath(payload, prefix) : payload;
	char path[96], key[256], buf[96];
	const char *email, *name, *first, *last, *num, *ddd;

	snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", l->email);
	/* Hotmart sends "" for text it does not have: no email, as when absent */
	if (need == CHECK && json_object_is_type(jpath(payload, path), json_type_string) &&
	    json_object_get_string_len(jpath(payload, path)) == 0)
		return;
	email = get_str(payload, ALT(path), need, &ev->err);
	if (!email)
		return;
	/* one that is no address ("  ", a typo in a sale made by hand) names no
	 * customer: as without one, the payment stays, and the section holds the
	 * checkout's country alone (docs/hotmart.md) */
	if (!email_key(email, key, sizeof key))
		return;
	event_str(ev, SEC_CUSTOMER, "id", key);
	event_str(ev, SEC_CUSTOMER, "email", key);

	name = text_at(base, l->name);
	first = text_at(base, l->first_name);
	last = text_at(base, l->last_name);
	/* as typed at the checkout: the white space around it is no part of it
	 * ("Ana " is Ana), and a name of blanks is none */
	if (!event_text(ev, SEC_CUSTOMER, "name", name)) {
		size_t nf = 0, nl = 0;
		if (first)
			first = text_trim(first, &nf);
		if (last)
			last = text_trim(last, &nl);
		if (nf && nl && snprintf(buf, sizeof buf, "%.*s %.*s", (int)nf, first, (int)nl, last) < (int)sizeof buf)
			event_str(ev, SEC_CUSTOMER, "name", buf);
		else if (nf || nl)
			event_text(ev, SEC_CUSTOMER, "name", nf ? first : last);
	}

	for (int i = 0; i < 4 && l->phone[i][1]; i++) {
		char dd[8];
		size_t nn = 0, nd = 0;
		if (!(num = text_at(base, l->phone[i][1])))
			continue;
		/* as typed, as a name is: the blanks around it are no part of it,
		 * and a number of blanks is none (audit-HQ 2: "11 " from a blank
		 * checkout_phone replaced the customer's number) */
		num = text_trim(num, &nn);
		if (!nn)
			continue;
		if ((ddd = text_at(base, l->phone[i][0])))
			ddd = text_trim(ddd, &nd);
		if (ddd && nd > 0 && nd < sizeof dd) {
			memcpy(dd, ddd, nd);
			dd[nd] = '\0';
			ddd = area_code_needed(dd, num) ? dd : NULL;
		} else {
			ddd = NULL;
		}
		if (snprintf(buf, sizeof buf, "%s%.*s", ddd ? ddd : "", (int)nn, num) >= (int)sizeof buf)
			continue;
		event_str(ev, SEC_CUSTOMER, "phone", buf);
		break;
	}
	fill_country(ev, text_at(base, l->country));
}

/* ---- purchases ---- */

enum kind { K_PURCHASE, K_SUB_CANCEL, K_SWITCH_PLAN, K_CHARGE_DATE };

struct mapping {
	const char *hotmart, *canonical, *pay_status;
	enum kind kind;
	int after_charge; /* about a transaction's money after its charge: purchase_subscription's link_only */
};

/*
 * PURCHASE_PROTEST is the buyer's refund request (Hotmart status DISPUTE):
 * a dispute opened through Hotmart, no money taken back yet, so
 * payment.chargeback / inquiry (PURCHASE_CHARGEBACK, the card network's, took
 * it back: disputed); a PURCHASE_REFUNDED follows if it is granted.
 * PURCHASE_DELAYED is a charge not paid by its due date (subscription
 * recurrence, Smart Installment): the money is still awaited, so
 * invoice.overdue / pending.
 */
static const struct mapping mappings[] = {
	{ "PURCHASE_APPROVED", "payment.succeeded", "succeeded", K_PURCHASE, 0 },
	{ "PURCHASE_COMPLETE", "payment.succeeded", "succeeded", K_PURCHASE, 1 },
	{ "PURCHASE_CANCELED", "payment.canceled", "canceled", K_PURCHASE, 0 },
	{ "PURCHASE_REFUNDED", "payment.refunded", "refunded", K_PURCHASE, 1 },
	{ "PURCHASE_CHARGEBACK", "payment.chargeback", "disputed", K_PURCHASE, 1 },
	{ "PURCHASE_PROTEST", "payment.chargeback", "inquiry", K_PURCHASE, 1 },
	{ "PURCHASE_DELAYED", "invoice.overdue", "pending", K_PURCHASE, 0 },
	{ "PURCHASE_EXPIRED", "payment.canceled", "expired", K_PURCHASE, 0 },
	{ "PURCHASE_BILLET_PRINTED", "payment.pending", "pending", K_PURCHASE, 0 },
	{ "SUBSCRIPTION_CANCELLATION", "subscription.canceled", NULL, K_SUB_CANCEL, 0 },
	{ "SWITCH_PLAN", "subscription.updated", NULL, K_SWITCH_PLAN, 0 },
	{ "UPDATE_SUBSCRIPTION_CHARGE_DATE", "subscription.updated", NULL, K_CHARGE_DATE, 0 },
};

/*
 * Where a 2.0.0 event of each kind names its product: its product_id, and
 * the id 0 that marks a test send (test_send). A purchase's is data.product
 * (purchase_v2); a plan or charge date change has it inside its subscription.
 */
static const char *const *const product_v2[] = {
	[K_PURCHASE] = ALT("data.product.id"),
	[K_SUB_CANCEL] = ALT("data.product.id", "data.subscription.product.id"),
	[K_SWITCH_PLAN] = ALT("data.subscription.product.id", "data.product.id"),
	[K_CHARGE_DATE] = ALT("data.subscription.product.id", "data.product.id"),
};

static const struct mapping *mapping_of(const char *event)
{
	for (size_t i = 0; i < sizeof mappings / sizeof mappings[0]; i++)
		if (strcmp(event, mappings[i].hotmart) == 0)
			return &mappings[i];
	return NULL;
}

/* Where a purchase's fields are, in the 2.0.0 and the flat v1 forms. */
typedef const char *const *paths;

struct purchase_layout {
	paths transaction, price, currency, original_price, original_currency;
	paths offer_currency; /* the producer's, for a price sent without its own */
	int currency_described; /* currency may be a description ("R$"), not a code */
	paths installments, method, paid, next_charge, status, refusal;
	paths sub_code, sub_status, plan, product, period;
	const char *buyer;
	const struct person_layout *person;
	paths country; /* fallback when the buyer has none, each tried in turn */
};

static const struct purchase_layout purchase_v2 = {
	.transaction = ALT("data.purchase.transaction"),
	.price = ALT("data.purchase.price.value"),
	.currency = ALT("data.purchase.price.currency_value", "data.purchase.full_price.currency_value"),
	.offer_currency = ALT("data.purchase.original_offer_price.currency_value"),
	.original_price = ALT("data.purchase.original_offer_price.value"),
	.original_currency = ALT("data.purchase.original_offer_price.currency_value"),
	.installments = ALT("data.purchase.payment.installments_number"),
	.method = ALT("data.purchase.payment.type"),
	.refusal = ALT("data.purchase.payment.refusal_reason"),
	.paid = ALT("data.purchase.approved_date", "data.purchase.approvedDate"),
	.next_charge = ALT("data.purchase.date_next_charge", "data.purchase.dateNextCharge"),
	.status = ALT("data.purchase.status"),
	.sub_code = ALT("data.subscription.subscriber.code", "data.subscription.subscriber_code",
			"data.subscription.subscriberCode"),
	.sub_status = ALT("data.subscription.status"),
	.plan = ALT("data.subscription.plan.id", "data.purchase.offer.code"),
	.product = ALT("data.product.id"), /* product_v2[K_PURCHASE] */
	.period = ALT("data.subscription.plan.recurrency_period",
		      "data.subscription.plan.recurrence_period"),
	.buyer = "data.buyer",
	.person = &buyer_v2,
	.country = ALT("data.purchase.checkout_country.iso"),
};

static const struct purchase_layout purchase_v1 = {
	.transaction = ALT("transaction"),
	.price = ALT("price"),
	.currency = ALT("currency"),
	/* "Descrição da moeda (R$)", in copies of Hotmart's own field list: a code
	 * is what we have seen sent */
	.currency_described = 1,
	.offer_currency = ALT("currency_code_from"),
	.original_price = ALT("original_offer_price"),
	/* the offer's currency: currency_code_from when sent (a sale converted from it), so a
	 * discount is never one currency's price less another's */
	.original_currency = ALT("currency_code_from", "currency"),
	.installments = ALT("installments_number"),
	.method = ALT("payment_type"),
	.refusal = ALT("refusal_reason"),
	.paid = ALT("confirmation_purchase_date"),
	.next_charge = ALT("subscription_date_next_charge"),
	.status = ALT("status"),
	.sub_code = ALT("subscriber_code"),
	.sub_status = ALT("subscription_status", "signature_status"),
	.plan = ALT("off"),
	.product = ALT("prod"),
	.period = ALT("recurrency_period"),
	.buyer = "",
	.person = &buyer_v1,
	/* both spellings are sent: address_country_ISO by real integrations */
	.country = ALT("address_country_iso", "address_country_ISO"),
};

/*
 * The subscription a purchase pays for, when the product is one. An event
 * about a transaction's money after its charge (a refund, a chargeback, a
 * protest, the warranty's end: link_only) names its subscription and product
 * but says nothing else of it, except that it has ended (a canceled status is
 * live, whatever transaction it comes with): a refund does not stop the next
 * charges, and the plan, next charge date and active status it carries may
 * be that old transaction's, which would move a renewed, switched or
 * canceled subscription back. Its state comes from the charges (approved,
 * delayed, declined) and the subscription events.
 */
static void purchase_subscription(struct event *ev, json_object *p, const struct purchase_layout *l,
				  int link_only)
{
	struct jerr lax = { 0 };
	const char *code, *s;
	int64_t v;

	if (!(code = get_id(p, l->sub_code, OPT, &ev->err)))
		return;
	event_str(ev, SEC_PAYMENT, "subscription_id", code);
	event_str(ev, SEC_SUBSCRIPTION, "id", code);
	event_str(ev, SEC_SUBSCRIPTION, "product_id", get_id(p, l->product, OPT, &ev->err));
	if (link_only) {
		/* save that it has ended: a status that says so is no old renewal's */
		if ((s = get_str(p, l->sub_status, OPT, &lax)) && (s = sub_status_of(s)) && strcmp(s, "canceled") == 0)
			event_str(ev, SEC_SUBSCRIPTION, "status", s);
		return;
	}
	event_str(ev, SEC_SUBSCRIPTION, "price_id", get_id(p, l->plan, OPT, &ev->err));
	if ((s = get_str(p, l->sub_status, OPT, &lax)))
		event_str(ev, SEC_SUBSCRIPTION, "status", sub_status_of(s));
	if (get_int(p, l->period, OPT, &v, &lax))
		set_interval(ev, v);
	if (get_time(p, l->next_charge, OPT, &v, &lax))
		event_time(ev, SEC_SUBSCRIPTION, "current_period_end", v);
}

/* 1 when one of paths holds a currency that is not "" (absent, null and ""
 * are Hotmart's ways of sending none). */
static int sent_currency(json_object *p, const char *const *names)
{
	const char *used;
	json_object *o = alt_sent(p, names, &used);

	return o && !empty_text(o);
}

/*
 * A price sent without its own currency (test sends of 2022) is in the
 * offer's, the producer's, only when it is the offer's price: a sale Hotmart
 * converted to the buyer's currency (MXN 1690.00 for a USD 97.00 offer) would
 * otherwise be booked as USD 1690.00. 1 and cur set when so; else the price's
 * currency is missing, and said so.
 */
static int offer_priced(json_object *p, const struct purchase_layout *l, char cur[4])
{
	struct jerr lax = { 0 };
	int64_t price, offer;

	return get_currency(p, l->offer_currency, OPT, cur, &lax) && get_money(p, l->price, OPT, cur, &price, &lax) &&
	       get_money(p, l->original_price, OPT, cur, &offer, &lax) && price == offer;
}

/* The code a currency symbol names when it names one only ("R$": the real), or NULL. */
static const char *symbol_code(const char *s)
{
	static const char *const map[][2] = { { "R$", "BRL" }, { "US$", "USD" }, { "\u20ac", "EUR" },
					      { "\u00a3", "GBP" }, { "MX$", "MXN" } };

	while (s && *s == ' ')
		s++;
	for (size_t i = 0; s && i < sizeof map / sizeof map[0]; i++) {
		size_t n = strlen(map[i][0]);
		if (strncmp(s, map[i][0], n) == 0 && s[n + strspn(s + n, " ")] == '\0')
			return map[i][1];
	}
	return NULL;
}

/*
 * The price's currency into cur: its own, else the offer's when the price is
 * the offer's (offer_priced). A v1 currency that is no code ("R$") says only
 * what the buyer saw: it gives way as "" does, and is the one named when no
 * other is a code; a symbol naming another currency than the offer's
 * (symbol_code) fails. 1, or 0 with e set.
 */
static int price_currency(json_object *p, const struct purchase_layout *l, char cur[4], struct jerr *e)
{
	struct jerr described = { 0 };
	const char *used;

	if (sent_currency(p, l->currency)) {
		if (get_currency(p, l->currency, REQ, cur, l->currency_described ? &described : e))
			return 1;
		if (!l->currency_described)
			return 0;
	}
	if (offer_priced(p, l, cur)) {
		/* a symbol naming another currency than the offer's: the price's is not known */
		json_object *o = described.failed ? alt_sent(p, l->currency, &used) : NULL;
		const char *named = o ? symbol_code(json_object_get_string(o)) : NULL;
		if (named && strcmp(named, cur) != 0) {
			errf(e, "field '%s' is '%.10s' (%s), the offer's currency is %s: which is the price's is not known",
			     used, json_object_get_string(o), named, cur);
			return 0;
		}
		return 1;
	}
	if (described.failed)
		errf(e, "%s", described.reason);
	else
		errf(e, jpath(p, l->currency[0]) ? "field '%s' is empty" : "missing field '%s'", l->currency[0]);
	return 0;
}

static void purchase(struct event *ev, json_object *p, const struct mapping *m,
		     const struct purchase_layout *l)
{
	struct jerr lax = { 0 }; /* optional fields: best effort, never fatal */
	const char *transaction, *status, *method, *refusal;
	char currency[4], ocurrency[4], mbuf[40];
	int64_t amount, original, v;
	int paid;
	struct mapping declined;

	transaction = get_id(p, l->transaction, REQ, &ev->err);
	price_currency(p, l, currency, &ev->err);
	if (ev->err.failed)
		return;
	if (!get_money(p, l->price, REQ, currency, &amount, &ev->err))
		return;

	/* Why the card was refused (the card issuer's words: "Saldo insuficiente
	 * ..."), "" when it was not. PURCHASE_CANCELED is a card declined for good
	 * or an order dropped unpaid (a boleto's expiry): with a refusal it is the
	 * first, a collection attempt that failed. */
	refusal = get_str(p, l->refusal, OPT, &lax);
	if (refusal && !*refusal)
		refusal = NULL;
	if (refusal && strcmp(m->hotmart, "PURCHASE_CANCELED") == 0) {
		declined = *m;
		declined.canonical = "payment.failed";
		declined.pay_status = "failed";
		m = &declined;
	}

	event_set_type(ev, m->canonical);
	event_str(ev, SEC_PAYMENT, "id", transaction);
	event_str(ev, SEC_PAYMENT, "object", "purchase");
	event_int(ev, SEC_PAYMENT, "amount_minor", amount);
	event_str(ev, SEC_PAYMENT, "currency", currency);

	status = get_str(p, l->status, OPT, &lax);
	char skey[40];
	if (strcmp(m->hotmart, "PURCHASE_REFUNDED") == 0 && status && upcase_key(status, skey, sizeof skey) &&
	    strcmp(skey, "PARTIALLY_REFUNDED") == 0) {
		event_str(ev, SEC_PAYMENT, "status", "partially_refunded");
	} else {
		event_str(ev, SEC_PAYMENT, "status", m->pay_status);
		if (strcmp(m->hotmart, "PURCHASE_REFUNDED") == 0)
			event_int(ev, SEC_PAYMENT, "refunded_minor", amount);
	}

	/* Hotmart "prints" PIX codes too (payment.type PIX): only a billet event
	 * that names no type is taken for a boleto. */
	method = method_of(get_str(p, l->method, OPT, &lax), mbuf, sizeof mbuf);
	if (!method && strcmp(m->hotmart, "PURCHASE_BILLET_PRINTED") == 0)
		method = "boleto";
	event_str(ev, SEC_PAYMENT, "method", method);
	if (get_int(p, l->installments, OPT, &v, &lax) && v > 0 && v <= 1000)
		event_int(ev, SEC_PAYMENT, "installments", v);

	/* A coupon: the offer's list price above what was charged, in the same
	 * currency; an offer's price in none (missing, empty, "R$") may be in the
	 * producer's, not the buyer's: no discount is guessed (audit-MON 1) */
	if (get_currency(p, l->original_currency, OPT, ocurrency, &lax) && strcmp(ocurrency, currency) == 0 &&
	    get_money(p, l->original_price, OPT, currency, &original, &lax) && original > amount)
		event_int(ev, SEC_PAYMENT, "discount_minor", original - amount);

	paid = strcmp(m->pay_status, "succeeded") == 0 || strcmp(m->pay_status, "refunded") == 0 ||
	       strcmp(m->pay_status, "disputed") == 0 || strcmp(m->pay_status, "inquiry") == 0;
	if (paid && get_time(p, l->paid, OPT, &v, &lax))
		event_time(ev, SEC_PAYMENT, "paid_at", v);
	/* a refusal an approval carries is an earlier attempt's */
	if (!paid)
		event_str(ev, SEC_PAYMENT, "failure_code", refusal);

	purchase_subscription(ev, p, l, m->after_charge);
	/* A buyer without an email is still a payment: no customer, as Stripe's guest charges */
	fill_customer(ev, p, l->buyer, l->person, CHECK);
	/* each name in turn: a form posts every field, an empty one with the other */
	for (paths c = l->country; *c && !event_get(ev, SEC_CUSTOMER, "country"); c++)
		fill_country(ev, get_str(p, ALT(*c), OPT, &lax));
}

/* ---- subscription events ---- */

static void subscription_common(struct event *ev, json_object *p, const char *const *plan,
				const char *const *product, const char *const *status)
{
	struct jerr lax = { 0 };
	const char *s;

	event_str(ev, SEC_SUBSCRIPTION, "price_id", get_id(p, plan, OPT, &ev->err));
	event_str(ev, SEC_SUBSCRIPTION, "product_id", get_id(p, product, OPT, &ev->err));
	if (status && (s = get_str(p, status, OPT, &lax)))
		event_str(ev, SEC_SUBSCRIPTION, "status", sub_status_of(s));
}

/* SUBSCRIPTION_CANCELLATION (2.0.0) and the flat v1 cancellation. */
static void subscription_canceled(struct event *ev, json_object *p, int v1, int64_t created)
{
	const char *code;
	int64_t canceled, next;

	if (v1) {
		code = get_id(p, ALT("subscriberCode", "subscriber_code"), REQ, &ev->err);
		get_time(p, ALT("cancellationDate"), CHECK, &canceled, &ev->err);
		get_time(p, ALT("dateNextCharge", "subscription_date_next_charge"), CHECK, &next,
			 &ev->err);
	} else {
		code = get_id(p, ALT("data.subscriber.code", "data.subscriber_code",
				     "data.subscription.subscriber.code",
				     "data.subscription.subscriber_code", "data.subscriberCode"),
			      REQ, &ev->err);
		get_time(p, ALT("data.cancellation_date", "data.cancellationDate"), CHECK, &canceled,
			 &ev->err);
		get_time(p, ALT("data.date_next_charge", "data.dateNextCharge"), CHECK, &next,
			 &ev->err);
	}
	if (ev->err.failed)
		return;

	event_set_type(ev, "subscription.canceled");
	event_str(ev, SEC_SUBSCRIPTION, "id", code);
	if (v1) {
		subscription_common(ev, p, ALT("off"), ALT("prod"), NULL);
		if (jpath(p, "userEmail"))
			fill_customer(ev, p, "", &cancel_v1, OPT);
		else
			fill_customer(ev, p, "", &buyer_v1, OPT);
	} else {
		subscription_common(ev, p, ALT("data.subscription.plan.id"), product_v2[K_SUB_CANCEL], NULL);
		fill_customer(ev, p, "data.subscriber", &buyer_v2, OPT);
	}
	/* Whatever the payload's status says, the subscription has ended. */
	event_str(ev, SEC_SUBSCRIPTION, "status", "canceled");
	if (!canceled)
		canceled = created;
	event_time(ev, SEC_SUBSCRIPTION, "canceled_at", canceled);
	/* date_next_charge: where the paid period ends, until when the buyer
	 * keeps access (and when a reactivation would charge). Not cancel_at: no
	 * later Hotmart event would clear it, and a reactivated subscription
	 * would stay "scheduled to end" at a date gone by. */
	event_time(ev, SEC_SUBSCRIPTION, "current_period_end", next);
}

/*
 * A v1 purchase postback of callback_type 2: a subscription's cancellation
 * told in a purchase's fields. None of its times is the cancellation's (its
 * purchase's confirmation may be renewals old, and dated so the cancellation
 * lost to them), so it is dated when it arrived (identify: at_arrival), the
 * cancellation or a retry's moments later; a copy received later is another
 * copy's time, and load keeps the first. Without one it fails rather than
 * take a wrong date.
 */
static void postback_canceled(struct event *ev, json_object *p)
{
	if (!ev->occurred_ms) {
		event_fail(ev, "a subscription cancellation postback (callback_type 2) carries no time of its own, "
			   "and its envelope no received_at");
		return;
	}
	subscription_canceled(ev, p, 1, ev->occurred_ms);
}

/* SWITCH_PLAN: the new plan is the one marked current: true. */
static void switch_plan(struct event *ev, json_object *p)
{
	json_object *plans, *plan = NULL, *cur;
	const char *code, *plan_id;
	char path[48];
	int64_t next;
	size_t i, n;

	code = get_id(p, ALT("data.subscription.subscriber_code", "data.subscription.subscriber.code",
			     "data.subscription.subscriberCode", "data.subscriber.code"),
		      REQ, &ev->err);
	get_time(p, ALT("data.subscription.date_next_charge", "data.subscription.dateNextCharge"),
		 CHECK, &next, &ev->err);
	if (ev->err.failed)
		return;
	plans = jpath(p, "data.plans");
	if (!plans || !json_object_is_type(plans, json_type_array)) {
		field_problem(&ev->err, REQ, "data.plans", plans, "an array");
		return;
	}
	n = json_object_array_length(plans);
	for (i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(plans, i);
		if (json_object_is_type(o, json_type_object) &&
		    json_object_object_get_ex(o, "current", &cur) &&
		    json_object_is_type(cur, json_type_boolean) && json_object_get_boolean(cur)) {
			plan = o;
			break;
		}
	}
	if (!plan) {
		errf(&ev->err, "no plan in 'data.plans' has \"current\": true");
		return;
	}
	snprintf(path, sizeof path, "data.plans.%zu.id", i);
	if (!(plan_id = get_id(p, ALT(path), REQ, &ev->err)))
		return;

	event_set_type(ev, "subscription.updated");
	event_str(ev, SEC_SUBSCRIPTION, "id", code);
	subscription_common(ev, p, ALT(path), product_v2[K_SWITCH_PLAN], ALT("data.subscription.status"));
	event_time(ev, SEC_SUBSCRIPTION, "current_period_end", next);
	if (jpath(p, "data.subscription.user"))
		fill_customer(ev, p, "data.subscription.user", &buyer_v2, OPT);
	else if (jpath(p, "data.subscription.subscriber"))
		fill_customer(ev, p, "data.subscription.subscriber", &buyer_v2, OPT);
	else
		fill_customer(ev, p, "data.subscriber", &buyer_v2, OPT);
}

/*
 * The v1 plan change (webhook 1.0.0's "plan change event"): the subscription
 * as it was (subscription.plan) and the plan it moves to (newSubscriptionPlan),
 * which, as a v1 purchase's "off", is known by its offer's key. The period,
 * in days, is the new plan's; no next charge date is sent.
 */
static void switch_plan_v1(struct event *ev, json_object *p)
{
	struct jerr lax = { 0 };
	const char *code;
	int64_t v;

	code = get_id(p, ALT("subscription.subscriber.code"), REQ, &ev->err);
	get_id(p, ALT("newSubscriptionPlan.offer.key"), REQ, &ev->err);
	if (ev->err.failed)
		return;
	event_set_type(ev, "subscription.updated");
	event_str(ev, SEC_SUBSCRIPTION, "id", code);
	subscription_common(ev, p, ALT("newSubscriptionPlan.offer.key"), ALT("subscription.product.id"),
			    ALT("subscription.status"));
	if (get_int(p, ALT("newSubscriptionPlan.recurrencyPeriod"), OPT, &v, &lax) && v > 0)
		set_interval(ev, v);
	fill_customer(ev, p, "subscription.subscriber.user", &buyer_v2, OPT);
}

/*
 * UPDATE_SUBSCRIPTION_CHARGE_DATE: the new next charge ends the current
 * period. Hotmart sends the plan beside the subscription (data.plan), not
 * inside it as the purchase events do.
 */
static void charge_date(struct event *ev, json_object *p)
{
	const char *code;
	int64_t next;

	code = get_id(p, ALT("data.subscriber.code", "data.subscription.subscriber_code",
			     "data.subscription.subscriber.code", "data.subscriber_code",
			     "data.subscription.subscriberCode"),
		      REQ, &ev->err);
	get_time(p, ALT("data.subscription.date_next_charge", "data.subscription.dateNextCharge",
			"data.date_next_charge", "data.dateNextCharge"),
		 REQ, &next, &ev->err);
	if (ev->err.failed)
		return;

	event_set_type(ev, "subscription.updated");
	event_str(ev, SEC_SUBSCRIPTION, "id", code);
	subscription_common(ev, p, ALT("data.plan.id", "data.subscription.plan.id"),
			    product_v2[K_CHARGE_DATE], ALT("data.subscription.status"));
	event_time(ev, SEC_SUBSCRIPTION, "current_period_end", next);
	fill_customer(ev, p, "data.subscriber", &buyer_v2, OPT);
}

/* ---- the two forms ---- */

static int is_v2(json_object *p)
{
	json_object *o;

	/* an "event" of another type is still a webhook's: it fails naming the field */
	return json_object_object_get_ex(p, "event", &o) && o &&
	       json_object_object_get_ex(p, "data", &o) && json_object_is_type(o, json_type_object);
}

/* The flat postback's cancellation form (subscriberCode, cancellationDate). */
static int is_v1_cancel(json_object *p)
{
	return jpath(p, "subscriberCode") && jpath(p, "cancellationDate");
}

/* The v1 plan change form (switchPlanDate, subscription, newSubscriptionPlan). */
static int is_v1_switch(json_object *p)
{
	return jpath(p, "switchPlanDate") && json_object_is_type(jpath(p, "newSubscriptionPlan"), json_type_object) &&
	       json_object_is_type(jpath(p, "subscription"), json_type_object);
}

/* A form field of text, or posted more than once, the list of its texts
 * (fetch-events keeps every value): a purchase form all the same. */
static int form_text(json_object *p, const char *name)
{
	json_object *o = jpath(p, name);

	if (json_object_is_type(o, json_type_array) && json_object_array_length(o) > 0)
		o = json_object_array_get_idx(o, 0);
	return json_object_is_type(o, json_type_string);
}

static int is_v1_purchase(json_object *p)
{
	return form_text(p, "transaction") && form_text(p, "status") && jpath(p, "prod");
}

/* v1 purchase status -> the 2.0.0 event it stands for; NULL when none. */
static const char *v1_event_of(json_object *p)
{
	static const struct {
		const char *status, *event;
	} statuses[] = {
		{ "APPROVED", "PURCHASE_APPROVED" },
		{ "COMPLETED", "PURCHASE_COMPLETE" },
		{ "COMPLETE", "PURCHASE_COMPLETE" },
		{ "CANCELED", "PURCHASE_CANCELED" },
		{ "CANCELLED", "PURCHASE_CANCELED" },
		{ "REFUNDED", "PURCHASE_REFUNDED" },
		{ "PARTIALLY_REFUNDED", "PURCHASE_REFUNDED" },
		{ "CHARGEBACK", "PURCHASE_CHARGEBACK" },
		{ "DISPUTE", "PURCHASE_PROTEST" },
		{ "PROTESTED", "PURCHASE_PROTEST" },
		{ "DELAYED", "PURCHASE_DELAYED" },
		{ "EXPIRED", "PURCHASE_EXPIRED" },
		{ "BILLET_PRINTED", "PURCHASE_BILLET_PRINTED" },
		{ "PRINTED_BILLET", "PURCHASE_BILLET_PRINTED" },
	};
	const char *status = jstr(p, "status"), *cb = text_at(p, "callback_type");
	char key[40];

	/* callback_type 2 is a subscription cancellation notice. */
	if (cb && strcmp(cb, "2") == 0 && text_at(p, "subscriber_code"))
		return "SUBSCRIPTION_CANCELLATION";
	if (!status || !upcase_key(status, key, sizeof key))
		return NULL;
	for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
		if (strcmp(key, statuses[i].status) == 0)
			return statuses[i].event;
	return NULL;
}

static int hotmart_detect(json_object *p)
{
	json_object *o;
	const char *s;

	if (!json_object_is_type(p, json_type_object))
		return 0;
	/* Stripe (and anything like it) names its objects; Hotmart never does. */
	if (json_object_object_get_ex(p, "object", &o))
		return 0;
	if ((s = jstr(p, "id")) && strncmp(s, "evt_", 4) == 0)
		return 0;
	if (is_v2(p)) {
		s = jstr(p, "event");
		if (!s || !*s || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != strlen(s))
			return 0;
		return jpath(p, "version") || jpath(p, "creation_date") || jpath(p, "creationDate") ||
		       jpath(p, "hottok");
	}
	if (json_object_object_get_ex(p, "data", &o))
		return 0;
	/* Other platforms (PagTrust, Pepper, ...) send the v1 postback's very fields and
	 * say so in payment_engine, which Hotmart's own postback sets to "hotmart". */
	if ((s = jstr(p, "payment_engine")) && strcasecmp(s, "hotmart") != 0)
		return 0;
	return is_v1_purchase(p) || is_v1_cancel(p) || is_v1_switch(p);
}

/* The derived id and time of a v1 purchase postback of status b. snprintf's answer. */
static int purchase_id(json_object *p, const char *transaction, const char *b, struct event_identity *id,
		       struct jerr *e)
{
	/* a partial refund is an event of its own beside the full one */
	char key[40];
	int partial = upcase_key(b, key, sizeof key) && strcmp(key, "PARTIALLY_REFUNDED") == 0;
	int64_t ms = 0;

	/* A postback sends no time of its own: every status of a purchase
	 * (approved, then refunded, charged back) takes the one it carries, the
	 * purchase's confirmation, so that they sort by the stage of the
	 * payment's life they are at (docs/schema.md), where an untimed refund
	 * ranked before its timed approval and was never applied. A purchase
	 * never paid (a boleto printed or expired, a card refused) has no
	 * confirmation: it takes the order's time, purchase_date. */
	if (get_time(p, ALT("confirmation_purchase_date"), OPT, &ms, e) ||
	    get_time(p, ALT("purchase_date"), OPT, &ms, e))
		id->occurred_ms = ms;
	return snprintf(id->id_buf, sizeof id->id_buf, "%s:%s", transaction,
			partial ? "PARTIALLY_REFUNDED" : id->event_type);
}

/*
 * The derived id of a callback_type 2 notice: its transaction (the purchase it
 * comes with, maybe the subscription's first, the same for each of its
 * cancellations), then what moves between one cancellation and the next, the
 * period the subscriber is in (recurrency) and the next charge date, as sent.
 * A retry of the notice, the same bytes, has the same id. What is not a clean
 * id is left out (""). snprintf's answer.
 */
static int notice_id(json_object *p, const char *transaction, char *buf, size_t n)
{
	struct jerr lax = { 0 };
	const char *period = get_id(p, ALT("recurrency"), OPT, &lax);
	const char *next = get_id(p, ALT("subscription_date_next_charge"), OPT, &lax);

	return snprintf(buf, n, "%s:SUBSCRIPTION_CANCELLATION:%s:%s", transaction, period ? period : "",
			next ? next : "");
}

/* 1, said in e, when a field of a v1 form named in names was posted more than
 * once: an id made of it would be one value's, or none. */
static int posted_twice(json_object *p, struct jerr *e, const char *const *names)
{
	for (; *names; names++)
		if (json_object_is_type(jpath(p, *names), json_type_array)) {
			errf(e, "field '%s' was posted more than once", *names);
			return 1;
		}
	return 0;
}

static int hotmart_identify(json_object *p, struct event_identity *id, struct jerr *e)
{
	const char *a, *b;
	int64_t ms = 0;
	int n;

	memset(id, 0, sizeof *id);
	if (is_v2(p)) {
		if (!(id->event_id = get_id(p, ALT("id"), REQ, e)))
			return -1;
		id->event_type = jstr_has_nul(jpath(p, "event")) ? NULL : jstr(p, "event");
		if (get_time(p, ALT("creation_date", "creationDate"), OPT, &ms, e))
			id->occurred_ms = ms;
		return 0;
	}
	/* The flat postback has no event id: derive a stable one, from fields
	 * posted once (which of two values Hotmart meant is not ours to guess). */
	int cancel = is_v1_cancel(p);
	if (cancel || is_v1_switch(p)) {
		/* <subscriber code>:<type>:<its date, as sent> */
		const char *date = cancel ? "cancellationDate" : "switchPlanDate";
		if (posted_twice(p, e, cancel ? ALT("subscriberCode", "cancellationDate") : ALT("switchPlanDate")))
			return -1;
		a = get_id(p, ALT(cancel ? "subscriberCode" : "subscription.subscriber.code"), REQ, e);
		b = get_id(p, ALT(date), REQ, e);
		if (!a || !b)
			return -1;
		id->event_type = cancel ? "SUBSCRIPTION_CANCELLATION" : "SWITCH_PLAN";
		n = snprintf(id->id_buf, sizeof id->id_buf, "%s:%s:%s", a, id->event_type, b);
		if (get_time(p, ALT(date), OPT, &ms, e))
			id->occurred_ms = ms;
	} else {
		/* a callback_type 2 notice's id is made of three more fields (notice_id) */
		const char *cb = text_at(p, "callback_type");
		if (posted_twice(p, e, ALT("transaction", "status", "callback_type")) ||
		    (cb && strcmp(cb, "2") == 0 &&
		     posted_twice(p, e, ALT("subscriber_code", "recurrency", "subscription_date_next_charge"))))
			return -1;
		a = get_id(p, ALT("transaction"), REQ, e);
		b = get_str(p, ALT("status"), REQ, e);
		if (!a || !b)
			return -1;
		id->event_type = v1_event_of(p);
		if (!id->event_type)
			id->event_type = b;
		if (strcmp(id->event_type, "SUBSCRIPTION_CANCELLATION") == 0) {
			n = notice_id(p, a, id->id_buf, sizeof id->id_buf);
			id->at_arrival = 1; /* postback_canceled */
		} else
			n = purchase_id(p, a, b, id, e);
	}
	if (n < 0 || (size_t)n >= sizeof id->id_buf) {
		errf(e, "derived event id is longer than %zu bytes", sizeof id->id_buf - 1);
		return -1;
	}
	/* an unknown status is the id's type as sent: one not UTF-8 in a form
	 * (read as U+FFFD), or "\ud800x", made an id normalize and load refuse
	 * (jsonutil.h: two such ids read as one), where this one was written */
	if (strstr(id->id_buf, "\xEF\xBF\xBD")) {
		errf(e, "derived event id '%s' contains U+FFFD (a lone UTF-16 surrogate, or a byte not UTF-8?): not an id",
		     id->id_buf);
		return -1;
	}
	id->event_id = id->id_buf;
	return 0;
}

/*
 * Hotmart's "send test" button posts to the endpoint's production URL, and
 * nothing in the notification says it is a test but its made-up content: the
 * product id 0 (a real one never is), "Produto test postback2", the buyer
 * testeComprador271101postman15@example.com, the same transaction every time
 * (HP16015479281022, HP1121336654889). Booked, each would be a sale of BRL
 * 1500.00, an active subscription and a customer; its transaction's status
 * would follow whichever test was sent last. The product is where the event
 * names it (product_v2): a plan or charge date change's test has the id 0 in
 * data.subscription.product, and no data.product. NULL when the event is no
 * test, else the path of its product id 0.
 */
static const char *test_send(json_object *p, enum kind k)
{
	const char *used = NULL, *s;
	json_object *id = alt(p, product_v2[k], &used);

	if (json_object_is_type(id, json_type_int))
		return json_object_get_int64(id) == 0 ? used : NULL;
	if (json_object_is_type(id, json_type_string) && (s = json_object_get_string(id)) && *s &&
	    strspn(s, "0") == strlen(s))
		return used;
	return NULL;
}

static void hotmart_normalize(json_object *p, struct event *ev)
{
	const struct mapping *m;
	const char *event, *test;
	int64_t created = 0;
	char buf[65];

	if (!json_object_is_type(p, json_type_object)) {
		event_fail(ev, "payload is not an object");
		return;
	}
	if (is_v2(p)) {
		if (!jget_str(p, "event", 1, &event, &ev->err))
			return;
		int timed = get_time(p, ALT("creation_date", "creationDate"), CHECK, &created, &ev->err);
		if (ev->err.failed)
			return;
		if (timed)
			event_set_occurred(ev, created);
		if (!(m = mapping_of(event))) {
			event_ignore(ev, "unsupported event type '%s'", utf8_clip(event, buf, sizeof buf));
			return;
		}
		if ((test = test_send(p, m->kind))) {
			event_bool(ev, SEC_TOP, "livemode", 0);
			event_ignore(ev, "a Hotmart test notification (%s 0)", test);
			return;
		}
		/* the event's own time, required of an event we book: untimed
		 * (absent, null or ""), it would rank below every event of its
		 * subscription (a cancellation undone), never applied (audit-hotmart 2) */
		if (!timed) {
			get_time(p, ALT("creation_date", "creationDate"), REQ, &created, &ev->err);
			return;
		}
		switch (m->kind) {
		case K_PURCHASE:
			purchase(ev, p, m, &purchase_v2);
			break;
		case K_SUB_CANCEL:
			subscription_canceled(ev, p, 0, created);
			break;
		case K_SWITCH_PLAN:
			switch_plan(ev, p);
			break;
		case K_CHARGE_DATE:
			charge_date(ev, p);
			break;
		}
		return;
	}
	/* A v1 postback is a flat form: a list in it is a field posted more than
	 * once (fetch-events keeps every value), and which one Hotmart meant is
	 * not ours to guess, nor to drop as an optional field of the wrong type. */
	if (is_v1_cancel(p) || is_v1_purchase(p)) {
		json_object_object_foreach(p, key, val) {
			if (json_object_is_type(val, json_type_array)) {
				event_fail(ev, "field '%s' was posted more than once", utf8_clip(key, buf, sizeof buf));
				return;
			}
		}
	}
	if (is_v1_cancel(p)) {
		get_time(p, ALT("cancellationDate"), CHECK, &created, &ev->err);
		event_set_occurred(ev, created);
		subscription_canceled(ev, p, 1, created);
		return;
	}
	if (is_v1_switch(p)) {
		get_time(p, ALT("switchPlanDate"), REQ, &created, &ev->err);
		if (ev->err.failed)
			return;
		event_set_occurred(ev, created);
		switch_plan_v1(ev, p);
		return;
	}
	if (!is_v1_purchase(p)) {
		event_fail(ev, "not a Hotmart payload: no 'event' and 'data', nor 'transaction' and 'status'");
		return;
	}
	if (!(event = v1_event_of(p))) {
		event_ignore(ev, "unsupported postback status '%s'", utf8_clip(jstr(p, "status"), buf, sizeof buf));
		return;
	}
	m = mapping_of(event);
	if (m->kind == K_SUB_CANCEL)
		postback_canceled(ev, p);
	else
		purchase(ev, p, m, &purchase_v1);
}

const struct connector hotmart_connector = {
	.name = "hotmart",
	.detect = hotmart_detect,
	.identify = hotmart_identify,
	.normalize = hotmart_normalize,
};
