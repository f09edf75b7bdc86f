/*
 * stripe.c: the Stripe connector. Maps a webhook event ("object": "event")
 * of any API version since 2015 to the canonical event; docs/stripe.md has
 * the mapping table and the fields each API vintage carries.
 *
 * Field paths are always written from the payload root ("data.object.amount")
 * so a failed getter names the field exactly as it sits in the payload.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connector.h"
#include "money.h"
#include "timeutil.h"

#define OBJ "data.object."
#define PATHSZ 160
#define MAX_LINES 100          /* invoice lines looked at for the subscription line */
#define MAX_UNIX_S 253402300799LL /* 9999-12-31T23:59:59Z */

struct stripe_type;
typedef void handler_fn(json_object *p, struct event *ev, const struct stripe_type *t);

struct stripe_type {
	const char *type;       /* Stripe's event type */
	const char *canonical;  /* canonical event_type; NULL: the handler decides */
	const char *status;     /* payment.status, or NULL */
	const char *object;     /* what data.object.object must be */
	handler_fn *fn;
	const char *amount[2];  /* where the payment amount is, first present wins */
};

static handler_fn do_customer, do_subscription, do_invoice, do_charge, do_dispute,
	do_checkout, do_payment_intent, do_invoice_payment, do_refund;

static const struct stripe_type stripe_types[] = {
	{ "customer.created", "customer.upserted", NULL, "customer", do_customer, { NULL } },
	{ "customer.updated", "customer.upserted", NULL, "customer", do_customer, { NULL } },
	{ "customer.deleted", "customer.deleted", NULL, "customer", do_customer, { NULL } },

	{ "customer.subscription.created", "subscription.created", NULL, "subscription", do_subscription, { NULL } },
	{ "customer.subscription.updated", "subscription.updated", NULL, "subscription", do_subscription, { NULL } },
	{ "customer.subscription.paused", "subscription.updated", NULL, "subscription", do_subscription, { NULL } },
	{ "customer.subscription.resumed", "subscription.updated", NULL, "subscription", do_subscription, { NULL } },
	/* an update made with payment_behavior pending_if_incomplete, applied once paid */
	{ "customer.subscription.pending_update_applied", "subscription.updated", NULL, "subscription", do_subscription, { NULL } },
	{ "customer.subscription.deleted", "subscription.canceled", NULL, "subscription", do_subscription, { NULL } },

	/* amount_paid appeared in 2018; older paid invoices only have amount_due. */
	{ "invoice.paid", "payment.succeeded", "succeeded", "invoice", do_invoice, { "amount_paid", "amount_due" } },
	{ "invoice.payment_succeeded", "payment.succeeded", "succeeded", "invoice", do_invoice, { "amount_paid", "amount_due" } },
	{ "invoice.payment_failed", "payment.failed", "failed", "invoice", do_invoice, { "amount_due", NULL } },
	{ "invoice.finalized", "payment.pending", "pending", "invoice", do_invoice, { "amount_due", NULL } },
	{ "invoice.marked_uncollectible", "invoice.uncollectible", "uncollectible", "invoice", do_invoice, { "amount_remaining", "amount_due" } },
	{ "invoice.overdue", "invoice.overdue", "pending", "invoice", do_invoice, { "amount_remaining", "amount_due" } },
	{ "invoice.voided", "payment.canceled", "canceled", "invoice", do_invoice, { "amount_due", NULL } },
	/* 2025-03-31.basil: what paid an invoice (amount_paid is null until paid) */
	{ "invoice_payment.paid", "payment.succeeded", "succeeded", "invoice_payment", do_invoice_payment,
	  { "amount_paid", "amount_requested" } },

	{ "charge.succeeded", "payment.succeeded", "succeeded", "charge", do_charge, { "amount", NULL } },
	/* a debit (SEPA, ACH, Bacs...) submitted: charge.succeeded or charge.failed days later */
	{ "charge.pending", "payment.pending", "pending", "charge", do_charge, { "amount", NULL } },
	{ "charge.captured", "payment.succeeded", "succeeded", "charge", do_charge, { "amount_captured", "amount" } },
	{ "charge.failed", "payment.failed", "failed", "charge", do_charge, { "amount", NULL } },
	{ "charge.expired", "payment.canceled", "canceled", "charge", do_charge, { "amount", NULL } },
	{ "charge.refunded", "payment.refunded", NULL, "charge", do_charge, { "amount", NULL } },
	/* a Refund's own events (refund.* for every refund since 2024-10-28.acacia, before
	 * only for refunds without a charge; charge.refund.updated since 2017): its status
	 * says what they are (do_refund) */
	{ "refund.created", NULL, NULL, "refund", do_refund, { "amount", NULL } },
	{ "refund.updated", NULL, NULL, "refund", do_refund, { "amount", NULL } },
	{ "refund.failed", NULL, NULL, "refund", do_refund, { "amount", NULL } },
	{ "charge.refund.updated", NULL, NULL, "refund", do_refund, { "amount", NULL } },
	/* a dispute's events: its status says where it is (dispute_state) */
	{ "charge.dispute.created", NULL, NULL, "dispute", do_dispute, { "amount", NULL } },
	{ "charge.dispute.updated", NULL, NULL, "dispute", do_dispute, { "amount", NULL } },
	{ "charge.dispute.funds_withdrawn", NULL, NULL, "dispute", do_dispute, { "amount", NULL } },
	{ "charge.dispute.funds_reinstated", NULL, NULL, "dispute", do_dispute, { "amount", NULL } },
	{ "charge.dispute.closed", NULL, NULL, "dispute", do_dispute, { "amount", NULL } },

	{ "checkout.session.completed", NULL, NULL, "checkout.session", do_checkout, { "amount_total", NULL } },
	{ "checkout.session.async_payment_succeeded", "payment.succeeded", "succeeded", "checkout.session", do_checkout, { "amount_total", NULL } },
	{ "checkout.session.async_payment_failed", "payment.failed", "failed", "checkout.session", do_checkout, { "amount_total", NULL } },
	{ "checkout.session.expired", "payment.canceled", "expired", "checkout.session", do_checkout, { "amount_total", NULL } },

	{ "payment_intent.succeeded", "payment.succeeded", "succeeded", "payment_intent", do_payment_intent, { "amount_received", NULL } },
	{ "payment_intent.processing", "payment.pending", "pending", "payment_intent", do_payment_intent, { "amount", NULL } },
	{ "payment_intent.payment_failed", "payment.failed", "failed", "payment_intent", do_payment_intent, { "amount", NULL } },
	{ "payment_intent.canceled", "payment.canceled", "canceled", "payment_intent", do_payment_intent, { "amount", NULL } },
};

static const char *const sub_statuses[] = {
	"trialing", "active", "past_due", "unpaid", "canceled", "incomplete",
	"incomplete_expired", "paused", NULL,
};
static const char *const intervals[] = { "day", "week", "month", "year", NULL };

/* ---- field helpers: each records the first problem in ev->err ---- */

static void field_error(struct event *ev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void field_error(struct event *ev, const char *fmt, ...)
{
	char msg[sizeof ev->err.reason];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	jerr_set(&ev->err, "%s", msg);
}

/* buf = a + b; paths are short literals, so overflow is a programming error. */
static void join(char buf[PATHSZ], const char *a, const char *b)
{
	int n = snprintf(buf, PATHSZ, "%s%s", a, b);

	if (n < 0 || n >= PATHSZ)
		abort();
}

static int present(json_object *p, const char *path)
{
	return jpath(p, path) != NULL;
}

/* Stripe's expandable fields that the connector reads under: the object, or its id. */
static int expandable(const char *seg, size_t n)
{
	static const char *const names[] = {
		"customer", "invoice", "charge", "payment_intent", "subscription", "product", "price",
		"latest_invoice", "latest_charge", "payment_method", "default_payment_method", "source",
		"balance_transaction", "schedule", "promotion_code", "refund", "dispute", NULL,
	};
	for (const char *const *q = names; *q; q++)
		if (strlen(*q) == n && memcmp(*q, seg, n) == 0)
			return 1;
	return 0;
}

/*
 * An optional field found absent: the containers on its path as the payload
 * has them. One present that is neither an object (an array where an index
 * follows) nor null, nor an expandable field's id (a string), or an array
 * element that is none of those, is a field of the wrong type: the event
 * fails (docs/stripe.md), rather than every field under it reading as absent
 * ("status_transitions": "x" is no paid_at of null).
 */
static void containers_of(json_object *p, struct event *ev, const char *path)
{
	char prefix[PATHSZ];

	for (const char *seg = path, *dot; !ev->err.failed && (dot = strchr(seg, '.')); seg = dot + 1) {
		size_t n = (size_t)(dot - path);
		if (n >= sizeof prefix)
			return;
		memcpy(prefix, path, n);
		prefix[n] = '\0';
		json_object *o = jpath(p, prefix);
		int index = isdigit((unsigned char)dot[1]);
		if (!o) /* absent or null: so is all under it */
			return;
		if (json_object_is_type(o, index ? json_type_array : json_type_object))
			continue;
		/* an id where its object may be (discounts: ["di_1"]) */
		if (json_object_is_type(o, json_type_string) &&
		    (expandable(seg, (size_t)(dot - seg)) || isdigit((unsigned char)*seg)))
			return;
		field_error(ev, "field '%s' must be %s, got %s", prefix, index ? "an array" : "an object", jtype_name(o));
	}
}

/* A string when present (JSON null and "" count as absent), else NULL; a
 * wrong type is an error. */
static const char *opt_str(json_object *p, struct event *ev, const char *path)
{
	const char *s = NULL;

	if (!jget_str(p, path, 0, &s, &ev->err)) /* absent is no error when not required */
		containers_of(p, ev, path);
	return s && *s ? s : NULL;
}

static const char *opt_id(json_object *p, struct event *ev, const char *path)
{
	const char *s = NULL;

	if (!jget_id(p, path, 0, &s, &ev->err))
		containers_of(p, ev, path);
	return s && *s ? s : NULL;
}

static const char *req_str(json_object *p, struct event *ev, const char *path)
{
	const char *s = NULL;

	jget_str(p, path, 1, &s, &ev->err);
	return s;
}

static const char *req_id(json_object *p, struct event *ev, const char *path)
{
	const char *s = NULL;

	jget_id(p, path, 1, &s, &ev->err);
	return s;
}

static int opt_int(json_object *p, struct event *ev, const char *path, int64_t *out)
{
	if (jget_int(p, path, 0, out, &ev->err))
		return 1;
	containers_of(p, ev, path);
	return 0;
}

/* A count at path (a quantity at least 0, an interval count or installments
 * at least 1): 1 when present and in range; one below min fails the event, as
 * a field of an unknown shape does (the database refuses it too). */
static int opt_count(json_object *p, struct event *ev, const char *path, int64_t min, int64_t *out)
{
	if (!opt_int(p, ev, path, out))
		return 0;
	if (*out < min) {
		field_error(ev, "field '%s' must be at least %lld, got %lld", path, (long long)min, (long long)*out);
		return 0;
	}
	return 1;
}

static int opt_bool(json_object *p, struct event *ev, const char *path, int *out)
{
	if (jget_bool(p, path, 0, out, &ev->err))
		return 1;
	containers_of(p, ev, path);
	return 0;
}

/* The first of paths (NULL-terminated) that is present, or paths[0]. */
static const char *first_present(json_object *p, const char *const *paths)
{
	for (const char *const *q = paths; *q; q++)
		if (present(p, *q))
			return *q;
	return paths[0];
}

/* o, or NULL for a string of "": stripe-mock's and stripe/openapi's fixtures
 * write "" for an id Stripe sends as null */
static json_object *unblank(json_object *o)
{
	return json_object_is_type(o, json_type_string) && json_object_get_string_len(o) == 0 ? NULL : o;
}

/* present, and not "" */
static int named(json_object *p, const char *path)
{
	return unblank(jpath(p, path)) != NULL;
}

/* first_present of ids: a "" is none */
static const char *first_named(json_object *p, const char *const *paths)
{
	for (const char *const *q = paths; *q; q++)
		if (named(p, *q))
			return *q;
	return paths[0];
}

static int one_of(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (strcmp(s, *set) == 0)
			return 1;
	return 0;
}

/* A Unix time in seconds at path into key of section s; absent leaves null. */
static void put_time(json_object *p, struct event *ev, enum event_section s, const char *key,
		     const char *path)
{
	int64_t v;

	if (!opt_int(p, ev, path, &v))
		return;
	if (v < 0 || v > MAX_UNIX_S)
		field_error(ev, "field '%s' is not a Unix time in seconds: %lld", path, (long long)v);
	else
		event_time(ev, s, key, v * 1000);
}

static void put_str(json_object *p, struct event *ev, enum event_section s, const char *key,
		    const char *path)
{
	event_str(ev, s, key, opt_str(p, ev, path));
}

/* payment.method, lower case as the canonical event has it (docs/events.md):
 * Stripe's types are lower case, but a value is not trusted to be. */
static void put_method(struct event *ev, const char *m)
{
	if (!m) {
		event_str(ev, SEC_PAYMENT, "method", NULL);
		return;
	}
	char *buf = xstrdup(m);
	for (char *c = buf; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	event_str(ev, SEC_PAYMENT, "method", buf);
	free(buf);
}

/* Set key only when nothing has set it yet (fallback sources). */
static void str_if_unset(struct event *ev, enum event_section s, const char *key, const char *val)
{
	if (val && !event_get(ev, s, key))
		event_str(ev, s, key, val);
}

/* Stripe sends ISO 3166-1 alpha-2 codes; anything else (old free-text
 * addresses) is left out rather than guessed. */
static void put_country(json_object *p, struct event *ev, const char *path)
{
	const char *c = opt_str(p, ev, path);
	char cc[3];

	if (!c || strlen(c) != 2)
		return;
	for (int i = 0; i < 2; i++) {
		unsigned char ch = (unsigned char)c[i];
		if (ch >= 'a' && ch <= 'z')
			ch = (unsigned char)(ch - 'a' + 'A');
		if (ch < 'A' || ch > 'Z')
			return;
		cc[i] = (char)ch;
	}
	cc[2] = '\0';
	str_if_unset(ev, SEC_CUSTOMER, "country", cc);
}

/* A name, where none is set yet, without the white space around it (a buyer's
 * typing: "Ana " is Ana; one of blanks only is none). Legacy Checkout
 * (checkout.js, about 2014-2019) filled a card's name with the e-mail address
 * the buyer typed: a "name" that is an address (an '@', no space once
 * trimmed) is nobody's name and is left out. So is one
 * holding U+0000 (docs/json.md): a card holder's name is no reason to lose a
 * payment. */
static void put_name(json_object *p, struct event *ev, const char *path)
{
	if (jstr_has_nul(jpath(p, path)))
		return;
	const char *n = opt_str(p, ev, path);

	size_t len;

	if (!n || event_get(ev, SEC_CUSTOMER, "name"))
		return;
	n = text_trim(n, &len);
	if (memchr(n, '@', len) && !memchr(n, ' ', len) && !memchr(n, '\t', len))
		return;
	event_text(ev, SEC_CUSTOMER, "name", n);
}

/*
 * The exponent of Stripe's amounts for an (upper-case) currency. Stripe's
 * minor units are ISO 4217's except where its currency page says otherwise:
 * ISK and UGX are sent as two-decimal amounts ending in 00, and MGA is
 * zero-decimal where ISO has two decimals.
 */
static int stripe_exponent(const char *iso)
{
	static const char *const two[] = { "ISK", "UGX", NULL };
	static const char *const zero[] = {
		"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF",
		"VND", "VUV", "XAF", "XOF", "XPF", NULL,
	};

	if (one_of(iso, two))
		return 2;
	if (one_of(iso, zero))
		return 0;
	return currency_exponent(iso);
}

/* The currency at path, upper-cased into out. 1 ok. */
static int get_currency(json_object *p, struct event *ev, const char *path, int required, char out[4])
{
	const char *c = required ? req_str(p, ev, path) : opt_str(p, ev, path);

	if (!c)
		return 0;
	if (currency_normalize(c, out) < 0) {
		field_error(ev, "field '%s' is not a currency code: '%.32s'", path, c);
		return 0;
	}
	return 1;
}

/*
 * v, a Stripe amount at path, in ISO minor units of cur. 1 ok. One that is
 * not a whole number of them (ISK, UGX: Stripe's unit is a hundredth) fails,
 * unless round: then rounded half away from zero.
 */
static int to_iso(struct event *ev, const char *path, const char *cur, int64_t v, int round, int64_t *out)
{
	int64_t f = 1;
	int shift = currency_exponent(cur) - stripe_exponent(cur);

	for (int i = 0; i < (shift < 0 ? -shift : shift); i++)
		f *= 10;
	if (shift > 0) {
		if (v > INT64_MAX / f || v < INT64_MIN / f) {
			field_error(ev, "field '%s' is out of range", path);
			return 0;
		}
		v *= f;
	} else if (shift < 0) {
		if (v % f && !round) {
			field_error(ev, "field '%s' is %lld, not a whole number of %s minor units", path,
				    (long long)v, cur);
			return 0;
		}
		int64_t r = v % f; /* the sign of v, or 0 */
		v = v / f + (2 * (r < 0 ? -r : r) >= f ? (v < 0 ? -1 : 1) : 0);
	}
	*out = v;
	return 1;
}

/* A Stripe amount at path, as Stripe wrote it. 1 ok; 0 absent or bad. */
static int stripe_amount_at(json_object *p, struct event *ev, const char *path, int required,
			    int allow_negative, int64_t *out)
{
	if (!(required ? jget_int(p, path, 1, out, &ev->err) : opt_int(p, ev, path, out)))
		return 0;
	if (*out < 0 && !allow_negative) {
		field_error(ev, "field '%s' must not be negative, got %lld", path, (long long)*out);
		return 0;
	}
	return 1;
}

/* A Stripe amount at path in ISO minor units of cur. 1 ok; 0 absent or bad. */
static int amount_at(json_object *p, struct event *ev, const char *path, int required,
		     int allow_negative, const char *cur, int64_t *out)
{
	int64_t v;

	return stripe_amount_at(p, ev, path, required, allow_negative, &v) && to_iso(ev, path, cur, v, 0, out);
}

static int get_amount(json_object *p, struct event *ev, const char *path, int required,
		      const char *cur, int64_t *out)
{
	return amount_at(p, ev, path, required, 0, cur, out);
}

/* Where the customer is named: path, or, when it is absent, path_account
 * (Accounts v2, 2025, may name the customer as an account instead). */
static const char *customer_at(json_object *p, const char *path, char alt[PATHSZ])
{
	join(alt, path, "_account");
	return !present(p, path) && present(p, alt) ? alt : path;
}

/* The customer's id at path (a string id or an expanded object). */
static void put_customer_ref(json_object *p, struct event *ev, const char *path, int required)
{
	char alt[PATHSZ];

	path = customer_at(p, path, alt);
	event_str(ev, SEC_CUSTOMER, "id", required ? req_id(p, ev, path) : opt_id(p, ev, path));
}

/* An expanded customer object's details, where the object the event is about
 * set none: called after its own contact fields. */
static void put_customer_details(json_object *p, struct event *ev, const char *path)
{
	char alt[PATHSZ], sub[PATHSZ];

	path = customer_at(p, path, alt);
	if (!json_object_is_type(jpath(p, path), json_type_object))
		return;
	join(sub, path, ".email");
	str_if_unset(ev, SEC_CUSTOMER, "email", opt_str(p, ev, sub));
	join(sub, path, ".name");
	put_name(p, ev, sub);
	join(sub, path, ".phone");
	str_if_unset(ev, SEC_CUSTOMER, "phone", opt_str(p, ev, sub));
	join(sub, path, ".address.country");
	put_country(p, ev, sub);
}

/* Contact details under a prefix ("data.object.billing_details."): email,
 * name, phone, address.country, each only where still unset. */
static void put_contact(json_object *p, struct event *ev, const char *prefix)
{
	char path[PATHSZ];

	join(path, prefix, "email");
	str_if_unset(ev, SEC_CUSTOMER, "email", opt_str(p, ev, path));
	join(path, prefix, "name");
	put_name(p, ev, path);
	join(path, prefix, "phone");
	str_if_unset(ev, SEC_CUSTOMER, "phone", opt_str(p, ev, path));
	join(path, prefix, "address.country");
	put_country(p, ev, path);
}

/* The payment section's common part: id, object, amount and currency. */
static void put_payment(json_object *p, struct event *ev, const struct stripe_type *t,
			const char *object, int amount_required, char cur[4])
{
	char path[PATHSZ], alt[PATHSZ];
	const char *const paths[] = { path, alt, NULL };
	int64_t amount;

	event_str(ev, SEC_PAYMENT, "id", req_str(p, ev, OBJ "id"));
	event_str(ev, SEC_PAYMENT, "object", object);
	event_str(ev, SEC_PAYMENT, "status", t->status);
	if (!get_currency(p, ev, OBJ "currency", amount_required, cur)) {
		cur[0] = '\0';
		return;
	}
	event_str(ev, SEC_PAYMENT, "currency", cur);
	join(path, OBJ, t->amount[0]);
	join(alt, OBJ, t->amount[1] ? t->amount[1] : t->amount[0]);
	if (get_amount(p, ev, first_present(p, paths), amount_required, cur, &amount))
		event_int(ev, SEC_PAYMENT, "amount_minor", amount);
}

/* ---- customers ---- */

/* What a card or a Sources API source at src ("data.object.source.") says
 * of its holder: a source's owner, a card's name and address_country. */
static void put_source_contact(json_object *p, struct event *ev, const char *src)
{
	char path[PATHSZ];

	join(path, src, "owner."); /* Sources API */
	put_contact(p, ev, path);
	join(path, src, "name");
	put_name(p, ev, path);
	join(path, src, "address_country");
	put_country(p, ev, path);
}

/* How many of a customer's sources are looked through for its default one
 * (Stripe listed ten with the customer). */
#define MAX_SOURCES 100

/*
 * Before 2019 a Customer had no name, phone or address of its own: what it
 * had was on its default card, as on a charge's (put_charge_contact). The
 * default source (default_source, default_card before 2015-02-18: an id, or
 * the object expanded) found in its sources (cards before 2015-02-18) gives
 * a card's name and address_country, or a Sources API source's owner, where
 * the customer's own fields gave none.
 */
static void put_default_source(json_object *p, struct event *ev)
{
	static const char *const def_at[] = { OBJ "default_source", OBJ "default_card" };
	static const char *const list_at[] = { OBJ "sources.data", OBJ "cards.data" };
	char src[PATHSZ];

	for (int k = 0; k < 2; k++) {
		json_object *def = jpath(p, def_at[k]), *list = jpath(p, list_at[k]);
		size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
		int at = -1;

		if (json_object_is_type(def, json_type_object)) {
			join(src, def_at[k], ".");
		} else if (json_object_is_type(def, json_type_string)) {
			for (size_t i = 0; i < n && i < MAX_SOURCES && at < 0; i++) {
				json_object *eid = jpath(json_object_array_get_idx(list, i), "id");
				if (json_object_is_type(eid, json_type_string) &&
				    strcmp(json_object_get_string(eid), json_object_get_string(def)) == 0)
					at = (int)i;
			}
			if (at < 0)
				continue;
			if (k == 0)
				snprintf(src, sizeof src, OBJ "sources.data.%d.", at);
			else
				snprintf(src, sizeof src, OBJ "cards.data.%d.", at);
		} else {
			continue;
		}
		put_source_contact(p, ev, src);
		return;
	}
}

static void do_customer(json_object *p, struct event *ev, const struct stripe_type *t)
{
	event_set_type(ev, t->canonical);
	event_str(ev, SEC_CUSTOMER, "id", req_str(p, ev, OBJ "id"));
	put_contact(p, ev, OBJ);
	put_default_source(p, ev);
}

/* ---- subscriptions ---- */

/* Price, product and interval from a plan or price object at base. */
static void put_price(json_object *p, struct event *ev, const char *base, int is_price)
{
	char path[PATHSZ];
	const char *s;
	int64_t n;

	join(path, base, ".id");
	str_if_unset(ev, SEC_SUBSCRIPTION, "price_id", opt_str(p, ev, path));
	join(path, base, ".product");
	str_if_unset(ev, SEC_SUBSCRIPTION, "product_id", opt_id(p, ev, path));
	join(path, base, is_price ? ".recurring.interval" : ".interval");
	if ((s = opt_str(p, ev, path)) && !event_get(ev, SEC_SUBSCRIPTION, "interval")) {
		if (one_of(s, intervals))
			event_str(ev, SEC_SUBSCRIPTION, "interval", s);
		else
			field_error(ev, "field '%s' has unknown value '%.32s'", path, s);
	}
	join(path, base, is_price ? ".recurring.interval_count" : ".interval_count");
	if (opt_count(p, ev, path, 1, &n) && !event_get(ev, SEC_SUBSCRIPTION, "interval_count"))
		event_int(ev, SEC_SUBSCRIPTION, "interval_count", n);
}

/* cancel_at falls on a period end: the subscription's (classic, before
 * basil) or one of its items' (basil on: flexible billing cancels at the
 * latest item's end, or the earliest with cancel_at=min_period_end). */
static int cancels_at_period_end(json_object *p, struct event *ev, int64_t cancel_at)
{
	json_object *items = jpath(p, OBJ "items.data");
	char path[PATHSZ];
	int64_t end;

	if (opt_int(p, ev, OBJ "current_period_end", &end) && end == cancel_at)
		return 1;
	if (!json_object_is_type(items, json_type_array))
		return 0;
	for (size_t i = 0; i < json_object_array_length(items) && i < MAX_LINES; i++) {
		snprintf(path, sizeof path, OBJ "items.data.%zu.current_period_end", i);
		if (opt_int(p, ev, path, &end) && end == cancel_at)
			return 1;
	}
	return 0;
}

/*
 * Whether the subscription ends with its current period. Billing mode
 * flexible (the default from 2025-09-30.clover) schedules that as
 * cancel_at = the period end with cancel_at_period_end false; classic sets
 * both. A cancel_at on another date is not the period's end: false (the
 * subscription renews until then; cancel_at itself says when it ends).
 */
static void put_cancel_at_period_end(json_object *p, struct event *ev)
{
	int64_t cancel_at;
	int b = 0;
	int known = opt_bool(p, ev, OBJ "cancel_at_period_end", &b);

	if (!b && opt_int(p, ev, OBJ "cancel_at", &cancel_at) && cancels_at_period_end(p, ev, cancel_at)) {
		b = 1;
		known = 1;
	}
	if (known)
		event_bool(ev, SEC_SUBSCRIPTION, "cancel_at_period_end", b);
}

/*
 * Payment collection paused (pause_collection, 2020 on: invoices voided, kept as
 * drafts or marked uncollectible until it resumes): Stripe keeps the status
 * active and its Dashboard shows the subscription paused. Nothing is collected,
 * so it is paused here too; null or absent is not paused.
 */
static int collection_paused(json_object *p, struct event *ev)
{
	json_object *pc = jpath(p, OBJ "pause_collection");

	if (!pc)
		return 0;
	if (json_object_is_type(pc, json_type_object))
		return 1;
	field_error(ev, "field '" OBJ "pause_collection' must be an object or null, got %s", jtype_name(pc));
	return 0;
}

static void do_subscription(json_object *p, struct event *ev, const struct stripe_type *t)
{
	static const char *const qty[] = { OBJ "items.data.0.quantity", OBJ "quantity", NULL };
	static const char *const start[] = {
		OBJ "current_period_start", OBJ "items.data.0.current_period_start", NULL,
	};
	static const char *const end[] = {
		OBJ "current_period_end", OBJ "items.data.0.current_period_end", NULL,
	};
	const char *status;
	int64_t n;

	event_set_type(ev, t->canonical);
	event_str(ev, SEC_SUBSCRIPTION, "id", req_str(p, ev, OBJ "id"));
	put_customer_ref(p, ev, OBJ "customer", 1);
	put_customer_details(p, ev, OBJ "customer");
	int paused = collection_paused(p, ev); /* read, and checked, whatever the status */
	if ((status = req_str(p, ev, OBJ "status"))) {
		if (!one_of(status, sub_statuses))
			field_error(ev, "field '" OBJ "status' has unknown value '%.32s'", status);
		else if (strcmp(status, "active") == 0 && paused)
			event_str(ev, SEC_SUBSCRIPTION, "status", "paused");
		else
			event_str(ev, SEC_SUBSCRIPTION, "status", status);
	}
	/* Newest first: price (2020+), the item's plan, the legacy top-level plan. */
	put_price(p, ev, OBJ "items.data.0.price", 1);
	put_price(p, ev, OBJ "items.data.0.plan", 0);
	put_price(p, ev, OBJ "plan", 0);
	if (opt_count(p, ev, first_present(p, qty), 0, &n))
		event_int(ev, SEC_SUBSCRIPTION, "quantity", n);
	/* 2025-03-31.basil moved the period from the subscription to its items. */
	put_time(p, ev, SEC_SUBSCRIPTION, "current_period_start", first_present(p, start));
	put_time(p, ev, SEC_SUBSCRIPTION, "current_period_end", first_present(p, end));
	put_cancel_at_period_end(p, ev);
	put_time(p, ev, SEC_SUBSCRIPTION, "cancel_at", OBJ "cancel_at");
	/* Before cancel_at existed (2018), a cancellation at the period's end was
	 * cancel_at_period_end alone: it ends at current_period_end. */
	json_object *at_end = event_get(ev, SEC_SUBSCRIPTION, "cancel_at_period_end");
	if (!json_object_object_get_ex(jpath(p, "data.object"), "cancel_at", NULL) && at_end &&
	    json_object_get_boolean(at_end))
		put_time(p, ev, SEC_SUBSCRIPTION, "cancel_at", first_present(p, end));
	put_time(p, ev, SEC_SUBSCRIPTION, "canceled_at", OBJ "canceled_at");
	put_time(p, ev, SEC_SUBSCRIPTION, "trial_end", OBJ "trial_end");
}

/* ---- invoices ---- */

/* The line's own field, or the same one under its basil parent: basil moved
 * proration, proration_details and subscription to
 * parent.subscription_item_details, or to parent.invoice_item_details for a
 * line made from an invoice item (before basil, type "invoiceitem"). */
static json_object *line_field(json_object *l, const char *name)
{
	char path[PATHSZ];
	json_object *o = jpath(l, name);

	if (o)
		return o;
	join(path, "parent.subscription_item_details.", name);
	if ((o = jpath(l, path)))
		return o;
	join(path, "parent.invoice_item_details.", name);
	return jpath(l, path);
}

/* Line i's member at path when it is of type t (what = its name, "a string"):
 * NULL when absent or null; another type fails the event, as an optional
 * field of the wrong type does everywhere (a shape not known is not guessed). */
static json_object *line_get(struct event *ev, size_t i, json_object *l, const char *path, json_type t,
			     const char *what)
{
	json_object *o = jpath(l, path);
	char on_way[PATHSZ];

	if (o && !json_object_is_type(o, t)) {
		field_error(ev, "field '" OBJ "lines.data.%zu.%s' must be %s, got %s", i, path, what, jtype_name(o));
		return NULL;
	}
	/* absent: an object on its way of the wrong type ("parent": "x") is no parent of none */
	for (const char *d = o ? NULL : strchr(path, '.'); d && !ev->err.failed; d = strchr(d + 1, '.')) {
		snprintf(on_way, sizeof on_way, "%.*s", (int)(d - path), path);
		json_object *c = jpath(l, on_way);
		if (!c)
			break;
		if (!json_object_is_type(c, json_type_object))
			field_error(ev, "field '" OBJ "lines.data.%zu.%s' must be an object, got %s", i, on_way,
				    jtype_name(c));
	}
	return o;
}

/* A credit proration gives back unused time on the old price or quantity:
 * it names what the subscription no longer is. */
static int credit_proration(struct event *ev, size_t i, json_object *l)
{
	json_object *amount = line_get(ev, i, l, "amount", json_type_int, "an integer");

	return (amount && json_object_get_int64(amount) < 0) ||
	       line_field(l, "proration_details.credited_items") != NULL;
}

/* Whether line i is of this subscription: it names it, or names none (a
 * pending proration of another of the customer's subscriptions can be swept
 * into the invoice). Before basil the line names it (or its expanded object),
 * from basil on parent.subscription_item_details does. */
static int line_of(struct event *ev, size_t i, json_object *l, const char *sub_id)
{
	json_object *o = jpath(l, "subscription");
	const char *sub = NULL;

	if (json_object_is_type(o, json_type_object)) /* expanded */
		o = unblank(line_get(ev, i, l, "subscription.id", json_type_string, "a string"));
	else
		o = unblank(line_get(ev, i, l, "subscription", json_type_string, "a string or an object"));
	if (!o)
		o = unblank(line_get(ev, i, l, "parent.subscription_item_details.subscription", json_type_string,
				     "a string"));
	if (!o)
		o = unblank(line_get(ev, i, l, "parent.invoice_item_details.subscription", json_type_string, "a string"));
	if (o)
		sub = json_object_get_string(o);
	return !sub || !sub_id || strcmp(sub, sub_id) == 0;
}

/*
 * Whether line i bills in arrears: a metered price's usage over the period
 * just over, no price the subscription is on from now, nor its quantity, nor
 * its current period. Before basil the line's price (or plan) says so; a basil
 * line names no price object, and its period does: it ends by the invoice's
 * period_end, where a licensed item's (billed in advance) starts there.
 */
static int arrears_line(json_object *p, struct event *ev, size_t i, json_object *l)
{
	json_object *u = line_get(ev, i, l, "price.recurring.usage_type", json_type_string, "a string");
	json_object *ps, *pe, *ip;

	if (!u)
		u = line_get(ev, i, l, "plan.usage_type", json_type_string, "a string");
	if (u)
		return strcmp(json_object_get_string(u), "metered") == 0;
	if (jpath(l, "price") || jpath(l, "plan"))
		return 0;
	ps = line_get(ev, i, l, "period.start", json_type_int, "an integer");
	pe = line_get(ev, i, l, "period.end", json_type_int, "an integer");
	ip = jpath(p, OBJ "period_end");
	if (!ps || !pe || !json_object_is_type(ip, json_type_int))
		return 0;
	return json_object_get_int64(ps) < json_object_get_int64(ip) &&
	       json_object_get_int64(pe) <= json_object_get_int64(ip);
}

/*
 * The invoice line that bills the subscription: the first non-proration
 * subscription line billed in advance, else the first debit proration (an
 * upgrade billed at once has only prorations), else the first line billed in
 * arrears (a subscription of metered prices only: its price, nothing more;
 * *arrears set); -1 when none, *proration set when it is one.
 * Old versions mark the period's line with type "subscription" and a
 * proration as an invoice item ("invoiceitem", proration true); basil both
 * with parent.type "subscription_item_details", or a proration made from an
 * invoice item with "invoice_item_details" (its proration true, its
 * subscription named there). A line of another
 * subscription (line_of) is never this one's.
 */
static int subscription_line(json_object *p, struct event *ev, const char *sub_id, int *proration,
			     int *arrears)
{
	json_object *lines = jpath(p, OBJ "lines.data");
	size_t n;
	int first = -1, metered = -1;

	*proration = *arrears = 0;
	if (lines && !json_object_is_type(lines, json_type_array)) {
		field_error(ev, "field '" OBJ "lines.data' must be an array, got %s", jtype_name(lines));
		return -1;
	}
	if (!lines) {
		containers_of(p, ev, OBJ "lines.data"); /* "lines": "x" */
		return -1;
	}
	n = json_object_array_length(lines);
	for (size_t i = 0; i < n && i < MAX_LINES && !ev->err.failed; i++) {
		json_object *l = json_object_array_get_idx(lines, i);
		if (!json_object_is_type(l, json_type_object)) {
			field_error(ev, "field '" OBJ "lines.data.%zu' must be an object, got %s", i, jtype_name(l));
			return -1;
		}
		json_object *t = line_get(ev, i, l, "type", json_type_string, "a string");
		json_object *pt = line_get(ev, i, l, "parent.type", json_type_string, "a string");
		const char *type = t ? json_object_get_string(t) : NULL;
		const char *ptype = pt ? json_object_get_string(pt) : NULL;
		json_object *pr = line_get(ev, i, l, "proration", json_type_boolean, "a boolean");
		if (!pr)
			pr = line_get(ev, i, l, "parent.subscription_item_details.proration", json_type_boolean,
				      "a boolean");
		if (!pr)
			pr = line_get(ev, i, l, "parent.invoice_item_details.proration", json_type_boolean,
				      "a boolean");
		int prorated = pr && json_object_get_boolean(pr);
		int sub = ((type && strcmp(type, "subscription") == 0) ||
			   (ptype && strcmp(ptype, "subscription_item_details") == 0) ||
			   (prorated && type && strcmp(type, "invoiceitem") == 0) ||
			   (prorated && ptype && strcmp(ptype, "invoice_item_details") == 0)) &&
			  line_of(ev, i, l, sub_id);
		if (!sub || ev->err.failed)
			continue;
		if (!prorated) {
			if (!arrears_line(p, ev, i, l))
				return ev->err.failed ? -1 : (int)i;
			if (metered < 0)
				metered = (int)i;
		} else if (first < 0 && !credit_proration(ev, i, l))
			first = (int)i;
	}
	if (ev->err.failed)
		return -1;
	*proration = first >= 0;
	*arrears = first < 0 && metered >= 0;
	return first >= 0 ? first : metered;
}

static void put_invoice_subscription(json_object *p, struct event *ev, const char *sub_id)
{
	static const char *const invoice_created[] = { OBJ "created", OBJ "date", NULL };
	char base[PATHSZ], path[PATHSZ];
	int64_t qty;
	int line, proration, arrears;

	event_str(ev, SEC_PAYMENT, "subscription_id", sub_id);
	event_str(ev, SEC_SUBSCRIPTION, "id", sub_id);
	/* When the invoice was made (`date` before 2019-03-14): its lines are the
	 * subscription as it was then, however late it is paid, voided or marked
	 * uncollectible. The loader orders the invoices that fill a subscription
	 * by it, not by the event's time. */
	put_time(p, ev, SEC_SUBSCRIPTION, "invoiced_at", first_present(p, invoice_created));
	if ((line = subscription_line(p, ev, sub_id, &proration, &arrears)) < 0)
		return;
	snprintf(base, sizeof base, OBJ "lines.data.%d", line);
	/* basil: pricing.price_details.{price,product}; older: price, then plan. */
	join(path, base, ".pricing.price_details.price");
	str_if_unset(ev, SEC_SUBSCRIPTION, "price_id", opt_id(p, ev, path));
	if (json_object_is_type(jpath(p, path), json_type_object))
		put_price(p, ev, path, 1); /* expanded (2025-12-15 on): its recurring too */
	join(path, base, ".pricing.price_details.product");
	str_if_unset(ev, SEC_SUBSCRIPTION, "product_id", opt_id(p, ev, path));
	join(path, base, ".price");
	put_price(p, ev, path, 1);
	join(path, base, ".plan");
	put_price(p, ev, path, 0);
	/* A metered price is billed in arrears: the line's quantity is the usage
	 * billed (a metered item has no quantity), its period the one just over. */
	if (arrears)
		return;
	join(path, base, ".quantity");
	if (opt_count(p, ev, path, 0, &qty))
		event_int(ev, SEC_SUBSCRIPTION, "quantity", qty);
	/* A proration bills from the change on: only its end is the period's;
	 * before 2015-04-07 a proration's period ended where it started (the
	 * change), which is no period's end. */
	int64_t start = 0, end = -1;
	join(path, base, ".period.start");
	if (!proration)
		put_time(p, ev, SEC_SUBSCRIPTION, "current_period_start", path);
	else
		opt_int(p, ev, path, &start);
	join(path, base, ".period.end");
	if (!proration || !opt_int(p, ev, path, &end) || end != start)
		put_time(p, ev, SEC_SUBSCRIPTION, "current_period_end", path);
}

/*
 * The tax an old invoice adds on top of its subtotal. `tax` is the sum of all
 * its tax amounts, and from 2019 a tax rate can be inclusive: that part is in
 * the subtotal already. total_tax_amounts says which; without it (tax_percent,
 * before 2019) all of `tax` is on top. 1 ok.
 */
static int invoice_tax_on_top(json_object *p, struct event *ev, int64_t *out)
{
	json_object *tta = jpath(p, OBJ "total_tax_amounts");
	char path[PATHSZ];
	int64_t v;
	int inclusive;

	*out = 0;
	if (tta && !json_object_is_type(tta, json_type_array)) {
		field_error(ev, "field '" OBJ "total_tax_amounts' must be an array, got %s", jtype_name(tta));
		return 0;
	}
	if (!tta || json_object_array_length(tta) == 0)
		return !present(p, OBJ "tax") || stripe_amount_at(p, ev, OBJ "tax", 0, 1, out);
	for (size_t i = 0; i < json_object_array_length(tta) && i < MAX_LINES; i++) {
		snprintf(path, sizeof path, OBJ "total_tax_amounts.%zu.inclusive", i);
		inclusive = 0;
		opt_bool(p, ev, path, &inclusive);
		snprintf(path, sizeof path, OBJ "total_tax_amounts.%zu.amount", i);
		/* Credit prorations can make an old invoice's taxes negative. */
		if (!stripe_amount_at(p, ev, path, 1, 1, &v))
			return 0;
		/* At most MAX_LINES of them: the sum stays within what the caller checks. */
		if (v > INT64_MAX / 4 / MAX_LINES || v < INT64_MIN / 4 / MAX_LINES) {
			field_error(ev, "field '%s' is out of range", path);
			return 0;
		}
		if (!inclusive)
			*out += v;
	}
	return !ev->err.failed;
}

/*
 * The discount in minor units: the sum of total_discount_amounts (July 2020+),
 * else, for an old invoice with a `discount`, subtotal + tax on top - total;
 * no discount at all is 0.
 */
static void put_invoice_discount(json_object *p, struct event *ev, const char *cur)
{
	json_object *tda = jpath(p, OBJ "total_discount_amounts");
	int64_t sum = 0, v, sub, tot, tax = 0;
	char path[PATHSZ];

	if (tda) {
		if (!json_object_is_type(tda, json_type_array)) {
			field_error(ev, "field '" OBJ "total_discount_amounts' must be an array, got %s",
				    jtype_name(tda));
			return;
		}
		/* summed as Stripe wrote them, then rounded once (a coupon's share of an
		 * ISK or UGX invoice may be a fraction of a króna: Stripe rounds what
		 * it charges, not the discount) */
		for (size_t i = 0; i < json_object_array_length(tda) && i < MAX_LINES; i++) {
			snprintf(path, sizeof path, OBJ "total_discount_amounts.%zu.amount", i);
			if (!stripe_amount_at(p, ev, path, 1, 0, &v))
				return;
			if (v > INT64_MAX - sum) {
				field_error(ev, "field '%s' is out of range", path);
				return;
			}
			sum += v;
		}
		if (to_iso(ev, OBJ "total_discount_amounts", cur, sum, 1, &sum))
			event_int(ev, SEC_PAYMENT, "discount_minor", sum);
		return;
	}
	if (!present(p, OBJ "discount") && !present(p, OBJ "discounts")) {
		event_int(ev, SEC_PAYMENT, "discount_minor", 0);
		return;
	}
	if (!present(p, OBJ "discount"))
		return; /* discount ids without amounts: unknown */
	/* Credit prorations can make an old invoice's totals negative. In
	 * Stripe's units, rounded once, as the sum above: an ISK or UGX invoice's
	 * total or tax may be a fraction of a króna, where what it charges is
	 * whole (audit-M3 1: such an invoice with a coupon failed) */
	if (!stripe_amount_at(p, ev, OBJ "subtotal", 0, 1, &sub) || !stripe_amount_at(p, ev, OBJ "total", 0, 1, &tot))
		return;
	if (!invoice_tax_on_top(p, ev, &tax))
		return;
	if (sub > INT64_MAX / 4 || sub < INT64_MIN / 4 || tax > INT64_MAX / 4 || tax < INT64_MIN / 4 ||
	    tot > INT64_MAX / 4 || tot < INT64_MIN / 4) {
		field_error(ev, "field '" OBJ "subtotal' is out of range");
		return;
	}
	if (sub + tax >= tot && to_iso(ev, OBJ "total", cur, sub + tax - tot, 1, &v))
		event_int(ev, SEC_PAYMENT, "discount_minor", v);
}

/*
 * The subscription of an invoice that does not name it (no `subscription`,
 * null, or "" as stripe-mock's fixtures write null; no basil `parent`:
 * Stripe's early invoices had no such key): a
 * subscription line's id was its subscription's id (sub_...) until
 * 2019-12-03, so the first line of type "subscription" whose id is one names
 * it. NULL when there is none.
 */
static const char *line_subscription(json_object *p)
{
	json_object *lines = jpath(p, OBJ "lines.data");
	size_t n = json_object_is_type(lines, json_type_array) ? json_object_array_length(lines) : 0;

	if (named(p, OBJ "subscription") || present(p, OBJ "parent"))
		return NULL;
	for (size_t i = 0; i < n && i < MAX_LINES; i++) {
		json_object *l = json_object_array_get_idx(lines, i);
		json_object *t = jpath(l, "type"), *id = jpath(l, "id");
		if (json_object_is_type(t, json_type_string) && strcmp(json_object_get_string(t), "subscription") == 0 &&
		    json_object_is_type(id, json_type_string) && strncmp(json_object_get_string(id), "sub_", 4) == 0 &&
		    !jstr_has_nul(id) && !jstr_has_fffd(id))
			return json_object_get_string(id);
	}
	return NULL;
}

static void do_invoice(json_object *p, struct event *ev, const struct stripe_type *t)
{
	static const char *const subs[] = {
		OBJ "subscription", OBJ "parent.subscription_details.subscription", NULL,
	};
	const char *sub_id, *inv_id;
	char cur[4];

	event_set_type(ev, t->canonical);
	put_payment(p, ev, t, "invoice", 1, cur);
	if ((inv_id = opt_str(p, ev, OBJ "id")))
		event_str(ev, SEC_PAYMENT, "invoice_id", inv_id);
	/* Invoice.charge and Invoice.payment_intent went away in 2025-03-31.basil. */
	event_str(ev, SEC_PAYMENT, "charge_id", opt_id(p, ev, OBJ "charge"));
	event_str(ev, SEC_PAYMENT, "payment_intent_id", opt_id(p, ev, OBJ "payment_intent"));
	put_customer_ref(p, ev, OBJ "customer", 1);
	put_str(p, ev, SEC_CUSTOMER, "email", OBJ "customer_email");
	put_name(p, ev, OBJ "customer_name"); /* an e-mail address there is no name */
	put_str(p, ev, SEC_CUSTOMER, "phone", OBJ "customer_phone");
	put_country(p, ev, OBJ "customer_address.country");
	put_customer_details(p, ev, OBJ "customer");
	containers_of(p, ev, subs[1]); /* a basil parent of the wrong type: not read as none */
	if ((sub_id = opt_id(p, ev, first_named(p, subs))) || (sub_id = line_subscription(p)))
		put_invoice_subscription(p, ev, sub_id);
	put_time(p, ev, SEC_PAYMENT, "due_at", OBJ "due_date");
	put_time(p, ev, SEC_PAYMENT, "paid_at", OBJ "status_transitions.paid_at");
	if (cur[0])
		put_invoice_discount(p, ev, cur);
}

/* ---- charges, disputes, payment intents ---- */

/* The method of a payment intent or a session that allowed only one type, when
 * nothing else said it: payment_method_types, allowed_source_types on payment
 * intents before 2019-02-11. */
static void put_only_method_type(json_object *p, struct event *ev)
{
	static const char *const lists[] = { OBJ "payment_method_types", OBJ "allowed_source_types", NULL };
	const char *at = first_present(p, lists);
	json_object *types = jpath(p, at);
	char path[PATHSZ];

	if (types && !json_object_is_type(types, json_type_array)) {
		field_error(ev, "field '%s' must be an array, got %s", at, jtype_name(types));
		return;
	}
	if (event_get(ev, SEC_PAYMENT, "method") || !types || json_object_array_length(types) != 1)
		return;
	join(path, at, ".0");
	put_method(ev, opt_str(p, ev, path));
}

/* The payment method type: payment_method_details.type (2019+), else the
 * legacy source (`card` before 2015-02-18): a Sources API source has its own
 * type (a three_d_secure one wraps a card: "card"), a card is "card", a bank
 * account "bank_account". */
static void put_charge_method(json_object *p, struct event *ev, const char *base)
{
	static const char *const legacy[] = { "source.", "card.", NULL };
	char path[PATHSZ], src[PATHSZ];
	const char *m, *obj;

	join(path, base, "payment_method_details.type");
	if ((m = opt_str(p, ev, path))) {
		put_method(ev, m);
		return;
	}
	for (const char *const *l = legacy; *l; l++) {
		join(src, base, *l);
		join(path, src, "object");
		if (!(obj = opt_str(p, ev, path)))
			continue;
		if (strcmp(obj, "source") == 0) {
			join(path, src, "type");
			obj = opt_str(p, ev, path);
			/* a 3-D Secure source wraps a card source: the payment is a card's */
			if (obj && strcmp(obj, "three_d_secure") == 0)
				obj = "card";
		}
		put_method(ev, obj);
		return;
	}
}

/* Customer details of a charge at base ("data.object."), newest first:
 * billing_details (2019+), receipt_email, then the legacy card or source. */
static void put_charge_contact(json_object *p, struct event *ev, const char *base)
{
	static const char *const legacy[] = { "source.", "card.", NULL };
	char path[PATHSZ], src[PATHSZ];

	join(path, base, "billing_details.");
	put_contact(p, ev, path);
	join(path, base, "receipt_email");
	str_if_unset(ev, SEC_CUSTOMER, "email", opt_str(p, ev, path));
	for (const char *const *l = legacy; *l; l++) {
		join(src, base, *l);
		put_source_contact(p, ev, src);
	}
}

/* The event was rendered in 2025-03-31.basil or later (its api_version,
 * "2025-03-31.basil"); events without one are from before October 2014. */
static int basil_or_later(json_object *p, struct event *ev)
{
	const char *v = opt_str(p, ev, "api_version");

	return v && strncmp(v, "2025-03-31", 10) >= 0;
}

/* The part of an authorisation a partial capture left uncaptured, which
 * Stripe recorded as refunded before basil (0 from basil on, or when not
 * known: amount_captured is there from September 2020). Stripe units.
 * A multicapture charge still open for captures ("available") released
 * nothing yet: what it has refunded are real refunds. The version that
 * decides is the capture request's, which the event does not name (an SDK
 * pins its own; the endpoint's may differ): a charge that has refunded less
 * than the part released shows that the release was not recorded, and one
 * that has refunded more than it captured shows that it was (real refunds
 * never exceed the capture), whatever the event's version; between the two,
 * the event's version decides. */
static int64_t uncaptured_part(json_object *p, struct event *ev)
{
	int64_t amount, captured, refunded;
	const char *mc;
	int have_refunded;

	/* a charge captured whole left nothing uncaptured, whatever its
	 * multicapture's status says (not read: of the wrong type, it fails
	 * the event reading it) */
	if (!opt_int(p, ev, OBJ "amount", &amount) || !opt_int(p, ev, OBJ "amount_captured", &captured) ||
	    captured <= 0 || captured >= amount)
		return 0;
	mc = opt_str(p, ev, OBJ "payment_method_details.card.multicapture.status");
	if (mc && strcmp(mc, "available") == 0)
		return 0;
	have_refunded = opt_int(p, ev, OBJ "amount_refunded", &refunded);
	if (have_refunded && refunded < amount - captured)
		return 0;
	if (basil_or_later(p, ev) && !(have_refunded && refunded > captured))
		return 0;
	return amount - captured;
}

/*
 * charge.refunded: what went back to the customer out of what was collected
 * (amount_captured; a charge before September 2020 has only amount). Before
 * basil amount_refunded also counts the uncaptured part of a partial capture.
 */
static void put_charge_refund(json_object *p, struct event *ev, const char *cur)
{
	static const char *const collected_at[] = { OBJ "amount_captured", OBJ "amount", NULL };
	int64_t collected, refunded, authorised;
	int full = 0;

	if (!get_amount(p, ev, OBJ "amount_refunded", 1, cur, &refunded) ||
	    !get_amount(p, ev, first_present(p, collected_at), 1, cur, &collected))
		return;
	if (uncaptured_part(p, ev) > 0) {
		if (!get_amount(p, ev, OBJ "amount", 1, cur, &authorised))
			return;
		refunded -= authorised - collected;
		if (refunded < 0)
			refunded = 0;
	}
	/* Stripe refunds at most what it collected: more is a payload that
	 * cannot be, and net revenue below zero on a charge if let through. */
	if (refunded > collected) {
		field_error(ev, "field '" OBJ "amount_refunded' refunds more than was collected: %lld of %lld %s minor units",
			    (long long)refunded, (long long)collected, cur);
		return;
	}
	event_int(ev, SEC_PAYMENT, "refunded_minor", refunded);
	opt_bool(p, ev, OBJ "refunded", &full);
	event_str(ev, SEC_PAYMENT, "status", full || refunded >= collected ? "refunded" : "partially_refunded");
}

/* charge.captured without amount_captured (before September 2020): a partial
 * capture had just recorded the rest as refunded, so what was captured is
 * what is not refunded. */
static void put_captured_before_2020(json_object *p, struct event *ev, const char *cur)
{
	int64_t amount, refunded;

	if (!get_amount(p, ev, OBJ "amount", 1, cur, &amount) ||
	    !get_amount(p, ev, OBJ "amount_refunded", 0, cur, &refunded))
		return;
	if (refunded > amount)
		field_error(ev, "field '" OBJ "amount_refunded' refunds more than was authorised: %lld of %lld %s minor units",
			    (long long)refunded, (long long)amount, cur);
	else
		event_int(ev, SEC_PAYMENT, "amount_minor", amount - refunded);
}

/* At a capture (captured of it, refunded so far): a charge not open for
 * more captures (no multicapture, or its status "unavailable": captured
 * once, or for the last time) that has refunded exactly the part left
 * uncaptured has released that part, as a capture request before basil
 * records it, in an event of any version: it has no refund yet (audit-M 1,
 * review-X 1). Read for charge.captured alone: a multicapture status of
 * another kind fails no other event. */
static int released_at_capture(json_object *p, struct event *ev, int64_t captured, int64_t refunded)
{
	const char *mc = opt_str(p, ev, OBJ "payment_method_details.card.multicapture.status");
	int64_t amount;

	return !(mc && strcmp(mc, "available") == 0) && opt_int(p, ev, OBJ "amount", &amount) &&
	       refunded == amount - captured;
}

static void do_charge(json_object *p, struct event *ev, const struct stripe_type *t)
{
	struct stripe_type st = *t;
	int64_t n, refunded, released;
	const char *id;
	char cur[4];
	int captured = 1;

	/* Every charge has its amount, which the uncaptured part is worked out from
	 * even where the amount booked is amount_captured. */
	if (!stripe_amount_at(p, ev, OBJ "amount", 1, 0, &n))
		return;
	opt_bool(p, ev, OBJ "captured", &captured);
	if (strcmp(t->type, "charge.succeeded") == 0 && !captured) {
		/* An authorisation to capture later: the money comes with charge.captured. */
		st.canonical = "payment.pending";
		st.status = "pending";
	} else if (strcmp(t->type, "charge.refunded") == 0 && !captured) {
		/* Before basil a canceled or expired authorisation was "refunded"
		 * whole: nothing was collected, so the payment will not happen. */
		st.canonical = "payment.canceled";
		st.status = "canceled";
	} else if (strcmp(t->type, "charge.refunded") == 0) {
		/* A refund is of what was collected: the captured amount. */
		st.amount[0] = "amount_captured";
		st.amount[1] = "amount";
		released = uncaptured_part(p, ev);
		if (released > 0 && opt_int(p, ev, OBJ "amount_refunded", &refunded) && refunded <= released &&
		    (id = req_str(p, ev, OBJ "id")) && !ev->err.failed) {
			event_ignore(ev, "charge '%.100s' only released the part of a partial capture "
				     "that was never captured: no money was refunded", id);
			return;
		}
	}
	event_set_type(ev, st.canonical);
	put_payment(p, ev, &st, "charge", 1, cur);
	/* Paid: when the charge was made (Stripe states no other time; a card is charged
	 * then, a bank debit succeeds days later). The same in every event about the
	 * charge, so a refund or a dispute months later does not move it, nor an export
	 * windowed by it. An authorisation not captured is not paid yet. */
	int paid = 0;
	if (opt_bool(p, ev, OBJ "paid", &paid) && paid && captured)
		put_time(p, ev, SEC_PAYMENT, "paid_at", OBJ "created");
	put_customer_ref(p, ev, OBJ "customer", 0);
	put_charge_contact(p, ev, OBJ);
	put_customer_details(p, ev, OBJ "customer");
	/* Charge.invoice went away in 2025-03-31.basil. */
	event_str(ev, SEC_PAYMENT, "invoice_id", opt_id(p, ev, OBJ "invoice"));
	event_str(ev, SEC_PAYMENT, "charge_id", opt_str(p, ev, OBJ "id"));
	event_str(ev, SEC_PAYMENT, "payment_intent_id", opt_id(p, ev, OBJ "payment_intent"));
	put_charge_method(p, ev, OBJ);
	if (opt_count(p, ev, OBJ "payment_method_details.card.installments.plan.count", 1, &n))
		event_int(ev, SEC_PAYMENT, "installments", n);
	if (strcmp(st.canonical, "payment.failed") == 0)
		put_str(p, ev, SEC_PAYMENT, "failure_code", OBJ "failure_code");
	if (strcmp(st.canonical, "payment.refunded") == 0 && cur[0])
		put_charge_refund(p, ev, cur);
	if (strcmp(t->type, "charge.captured") == 0 && cur[0] && !present(p, OBJ "amount_captured"))
		put_captured_before_2020(p, ev, cur);
	/* A charge that has real refunds already, in an event that says it
	 * collected: it must not take them back, as the state tables take the
	 * latest event's row whole. A multicapture charge refunded between two
	 * captures (charge.captured; not one that only released the part left
	 * uncaptured: released_at_capture), a bank debit refunded before it
	 * settled (the refund's pending_reason charge_pending: its
	 * charge.refunded comes before charge.succeeded, days before). */
	int64_t part;
	if (strcmp(t->type, "charge.captured") == 0 && cur[0] && opt_int(p, ev, OBJ "amount_captured", &part) &&
	    opt_int(p, ev, OBJ "amount_refunded", &refunded) && refunded > uncaptured_part(p, ev) &&
	    !released_at_capture(p, ev, part, refunded))
		put_charge_refund(p, ev, cur);
	/* charge.succeeded reads its refunds only when it has some (an integer
	 * above 0: before it, uncaptured_part is not called, whose multicapture
	 * status of another kind would fail the event; review V 2): what was
	 * processed before this rule, a refunds field of the wrong type among
	 * it, is still (a charge missing from revenue is worse); and only real
	 * ones, more than a partial capture released (review W 1) */
	json_object *ar = jpath(p, OBJ "amount_refunded");
	if (strcmp(t->type, "charge.succeeded") == 0 && captured && cur[0] && ar &&
	    json_object_is_type(ar, json_type_int) && json_object_get_int64(ar) > 0 &&
	    json_object_get_int64(ar) > uncaptured_part(p, ev))
		put_charge_refund(p, ev, cur);
}

/*
 * Where a dispute stands, from its status (data.object.status), the same rule for
 * every event about it: an inquiry (warning_needs_response, warning_under_review: the
 * issuer asks, no money has moved; Amex and Discover send many) is 'inquiry'; a
 * chargeback (needs_response, under_review: the money was taken back) 'disputed';
 * closed, 'dispute_lost' when lost (the chargeback stands), else 'dispute_won': won,
 * warning_closed (an inquiry that never became a chargeback), prevented (recent: what
 * went back did so as a refund, which the charge's events report) and
 * charge_refunded (the same before 2014-11-20; won since) took no money by the
 * dispute. The status alone decides, not payment_method_details.card.case_type
 * (2024 on): whether that changes when an inquiry escalates is not documented,
 * and a stale one would take a chargeback's row back to inquiry. Its canonical
 * type follows: payment.chargeback while open, payment.dispute_closed once
 * closed. charge.dispute.closed must carry a closed status; funds withdrawn
 * make a chargeback of an inquiry whatever the snapshot says.
 */
static const char *dispute_state(json_object *p, struct event *ev, const char *type,
				 const char **canonical)
{
	static const char *const inquiry[] = { "warning_needs_response", "warning_under_review", NULL };
	static const char *const open[] = { "needs_response", "under_review", NULL };
	static const char *const kept[] = { "won", "warning_closed", "prevented", "charge_refunded", NULL };
	const char *s = req_str(p, ev, OBJ "status");

	if (!s)
		return NULL;
	*canonical = "payment.dispute_closed";
	if (strcmp(s, "lost") == 0)
		return "dispute_lost";
	if (one_of(s, kept))
		return "dispute_won";
	if (strcmp(type, "charge.dispute.closed") == 0) {
		field_error(ev, "field '" OBJ "status' is '%.32s', not the status of a closed dispute", s);
		return NULL;
	}
	*canonical = "payment.chargeback";
	if (one_of(s, inquiry))
		return strcmp(type, "charge.dispute.funds_withdrawn") == 0 ? "disputed" : "inquiry";
	if (one_of(s, open))
		return "disputed";
	field_error(ev, "field '" OBJ "status' is '%.32s', not a dispute's status", s);
	return NULL;
}

static void do_dispute(json_object *p, struct event *ev, const struct stripe_type *t)
{
	struct stripe_type st = *t;
	char cur[4];

	if (!(st.status = dispute_state(p, ev, t->type, &st.canonical)))
		return;
	event_set_type(ev, st.canonical);
	put_payment(p, ev, &st, "dispute", 1, cur);
	/* The disputed charge must exist: it is what the chargeback takes back. */
	event_str(ev, SEC_PAYMENT, "charge_id", req_id(p, ev, OBJ "charge"));
	put_str(p, ev, SEC_PAYMENT, "failure_code", OBJ "reason");
	event_str(ev, SEC_PAYMENT, "payment_intent_id", opt_id(p, ev, OBJ "payment_intent"));
}

/*
 * A Refund's events. A charge's refunds are told by charge.refunded, which
 * carries the charge's running total (amount_refunded): a refund created,
 * pending or succeeded adds nothing to it, and is ignored, saying so (read as
 * well, each refund would count twice). What charge.refunded never tells is a
 * refund that then failed (the card closed, the account gone: Stripe puts the
 * money back in the balance) or was canceled: that is payment.refund_failed,
 * on the refund's own payment row (object 'refund', its charge_id naming the
 * charge whose refunded_minor still counts it), with the failure_reason.
 * A refund without a charge (a customer balance refunded) is reported by
 * nothing else: payment.refunded on its own row.
 */
static void do_refund(json_object *p, struct event *ev, const struct stripe_type *t)
{
	static const char *const returning[] = { "pending", "requires_action", "succeeded", NULL };
	const char *id = req_id(p, ev, OBJ "id");
	const char *status = opt_str(p, ev, OBJ "status"); /* refunds had none before 2017 */
	const char *charge = opt_id(p, ev, OBJ "charge");
	const char *intent = opt_id(p, ev, OBJ "payment_intent");
	struct stripe_type st = *t;
	char cur[4];

	if (ev->err.failed)
		return;
	/* A refund of no charge and no payment intent pays a customer's cash
	 * balance back to their bank (funds they overpaid or sent unmatched, or a
	 * payment already refunded into that balance, which its charge.refunded
	 * counted): money that paid for nothing, not revenue given back. */
	if (!charge && !intent) {
		event_ignore(ev, "refund '%.100s' returns a customer's cash balance (no charge, no payment intent): "
			     "not a payment's refund", id);
		return;
	}
	if (!status)
		status = "succeeded";
	if (strcmp(t->type, "refund.failed") == 0 || strcmp(status, "failed") == 0 ||
	    strcmp(status, "canceled") == 0) {
		st.canonical = "payment.refund_failed";
		st.status = strcmp(status, "canceled") == 0 ? "canceled" : "failed";
	} else if (!one_of(status, returning)) {
		field_error(ev, "field '" OBJ "status' is '%.32s', not a refund's status", status);
		return;
	} else if (charge) {
		event_ignore(ev, "refund '%.100s' of charge '%.100s': charge.refunded reports it", id, charge);
		return;
	} else {
		st.canonical = "payment.refunded";
		st.status = "refunded";
	}
	event_set_type(ev, st.canonical);
	put_payment(p, ev, &st, "refund", 1, cur);
	event_str(ev, SEC_PAYMENT, "charge_id", charge);
	event_str(ev, SEC_PAYMENT, "payment_intent_id", intent);
	if (strcmp(st.status, "refunded") == 0) {
		int64_t amount;
		if (get_amount(p, ev, OBJ "amount", 1, cur, &amount))
			event_int(ev, SEC_PAYMENT, "refunded_minor", amount);
	} else {
		put_str(p, ev, SEC_PAYMENT, "failure_code", OBJ "failure_reason");
	}
}

static void do_payment_intent(json_object *p, struct event *ev, const struct stripe_type *t)
{
	static const char *const codes[] = {
		OBJ "last_payment_error.code", OBJ "last_payment_error.decline_code", NULL,
	};
	/* latest_charge arrived with 2022-11-15; before, the embedded charges
	 * (newest first) name it. A declined attempt names its charge in
	 * last_payment_error in every version. */
	static const char *const charges[] = {
		OBJ "latest_charge", OBJ "charges.data.0.id", OBJ "last_payment_error.charge", NULL,
	};
	static const char *const methods[] = {
		OBJ "last_payment_error.payment_method.type", OBJ "last_payment_error.payment_method_type", NULL,
	};
	char cur[4];

	event_set_type(ev, t->canonical);
	put_payment(p, ev, t, "payment_intent", 1, cur);
	put_customer_ref(p, ev, OBJ "customer", 0);
	put_str(p, ev, SEC_CUSTOMER, "email", OBJ "receipt_email");
	/* Before 2022-11-15 the charges list was embedded. */
	put_charge_contact(p, ev, OBJ "charges.data.0.");
	put_customer_details(p, ev, OBJ "customer");
	/* PaymentIntent.invoice went away in 2025-03-31.basil. */
	event_str(ev, SEC_PAYMENT, "invoice_id", opt_id(p, ev, OBJ "invoice"));
	event_str(ev, SEC_PAYMENT, "payment_intent_id", opt_str(p, ev, OBJ "id"));
	event_str(ev, SEC_PAYMENT, "charge_id", opt_id(p, ev, first_named(p, charges)));
	if (strcmp(t->canonical, "payment.failed") == 0) {
		put_str(p, ev, SEC_PAYMENT, "failure_code", first_present(p, codes));
		/* 2026-09-30.endive names the type without the payment method */
		put_method(ev, opt_str(p, ev, first_present(p, methods)));
	}
	if (!event_get(ev, SEC_PAYMENT, "method"))
		put_charge_method(p, ev, OBJ "charges.data.0.");
	put_only_method_type(p, ev);
}

/* ---- invoice payments ---- */

/*
 * An InvoicePayment (2025-03-31.basil on) ties an invoice to what paid it: from
 * basil on the invoice no longer names its charge or payment intent, nor they
 * the invoice, so this is the only link between them. Its own payment row
 * (payment.id inpay_...) carries it: invoice_id, and payment_intent_id or
 * charge_id (a charge only when it has no payment intent). basil and clover nest
 * them under payment (with type); the 2025-11-17.preview reference has them at
 * the top.
 */
static void do_invoice_payment(json_object *p, struct event *ev, const struct stripe_type *t)
{
	static const char *const intents[] = { OBJ "payment.payment_intent", OBJ "payment_intent", NULL };
	static const char *const charges[] = { OBJ "payment.charge", OBJ "charge", NULL };
	char cur[4];

	event_set_type(ev, t->canonical);
	put_payment(p, ev, t, "invoice_payment", 1, cur);
	event_str(ev, SEC_PAYMENT, "invoice_id", req_id(p, ev, OBJ "invoice"));
	event_str(ev, SEC_PAYMENT, "payment_intent_id", opt_id(p, ev, first_named(p, intents)));
	event_str(ev, SEC_PAYMENT, "charge_id", opt_id(p, ev, first_named(p, charges)));
	put_time(p, ev, SEC_PAYMENT, "paid_at", OBJ "status_transitions.paid_at");
}

/* ---- checkout sessions ---- */

static void do_checkout(json_object *p, struct event *ev, const struct stripe_type *t)
{
	const char *id = req_str(p, ev, OBJ "id");
	const char *mode = opt_str(p, ev, OBJ "mode");
	const char *ps = opt_str(p, ev, OBJ "payment_status");
	struct stripe_type st = *t;
	int64_t disc;
	char cur[4];

	if (ev->err.failed)
		return;
	if (mode && strcmp(mode, "setup") == 0) {
		event_ignore(ev, "checkout session '%s' is in setup mode: no payment", id);
		return;
	}
	if (!st.canonical) {
		/* payment_status arrived in 2020; before, completed meant paid. Present,
		 * it is never null nor empty (an enum). */
		json_object *v;
		if (!ps && json_object_object_get_ex(jpath(p, "data.object"), "payment_status", &v)) {
			field_error(ev, "field '" OBJ "payment_status' must be 'paid', 'unpaid' or "
					"'no_payment_required', got %s", v ? "\"\"" : "null");
			return;
		}
		if (!ps || strcmp(ps, "paid") == 0) {
			st.canonical = "payment.succeeded";
			st.status = "succeeded";
		} else if (strcmp(ps, "unpaid") == 0) {
			st.canonical = "payment.pending";
			st.status = "pending";
		} else if (strcmp(ps, "no_payment_required") == 0) {
			event_ignore(ev, "checkout session '%s' needed no payment", id);
			return;
		} else {
			field_error(ev, "field '" OBJ "payment_status' has unknown value '%.32s'", ps);
			return;
		}
	}
	event_set_type(ev, st.canonical);
	/* Sessions before 2020 have neither amount_total nor currency; both are
	 * nullable, and an expired session that has none moved no money: it
	 * still says the checkout was abandoned. */
	put_payment(p, ev, &st, "checkout_session",
		    ps != NULL && strcmp(t->type, "checkout.session.expired") != 0, cur);
	put_customer_ref(p, ev, OBJ "customer", 0);
	put_contact(p, ev, OBJ "customer_details.");
	str_if_unset(ev, SEC_CUSTOMER, "email", opt_str(p, ev, OBJ "customer_email"));
	put_customer_details(p, ev, OBJ "customer");
	event_str(ev, SEC_PAYMENT, "subscription_id", opt_id(p, ev, OBJ "subscription"));
	event_str(ev, SEC_PAYMENT, "invoice_id", opt_id(p, ev, OBJ "invoice"));
	event_str(ev, SEC_PAYMENT, "payment_intent_id", opt_id(p, ev, OBJ "payment_intent"));
	event_str(ev, SEC_SUBSCRIPTION, "id", opt_id(p, ev, OBJ "subscription"));
	if (cur[0] && stripe_amount_at(p, ev, OBJ "total_details.amount_discount", 0, 0, &disc) &&
	    to_iso(ev, OBJ "total_details.amount_discount", cur, disc, 1, &disc)) /* as an invoice's */
		event_int(ev, SEC_PAYMENT, "discount_minor", disc);
	put_only_method_type(p, ev);
}

/* ---- the connector ---- */

static const struct stripe_type *find_type(const char *type)
{
	for (size_t i = 0; i < sizeof stripe_types / sizeof stripe_types[0]; i++)
		if (strcmp(stripe_types[i].type, type) == 0)
			return &stripe_types[i];
	return NULL;
}

/* A thin event (object v2.core.event): a notification that names what changed
 * (related_object) and carries none of it; v1 resources' thin events (v1.*,
 * generally available with 2026-09-30.endive) stand beside the snapshot events. */
static int is_thin(json_object *payload)
{
	const char *obj = jstr(payload, "object");
	return obj && strcmp(obj, "v2.core.event") == 0;
}

static int detect(json_object *payload)
{
	const char *obj = jstr(payload, "object"), *id = jstr(payload, "id");
	json_object *data = jpath(payload, "data"), *o;

	/* A type of the wrong kind is still Stripe's: reported as such by thin_event. */
	if (is_thin(payload))
		return (!id || !*id || strncmp(id, "evt_", 4) == 0) &&
		       json_object_object_get_ex(payload, "type", NULL);

	/* An event with a broken id (absent, empty, not a string) is still
	 * Stripe's, so that it is reported as missing_event_id; an id of another
	 * form is someone else's. */
	return obj && strcmp(obj, "event") == 0 && (!id || !*id || strncmp(id, "evt_", 4) == 0) &&
	       json_object_is_type(data, json_type_object) && json_object_object_get_ex(data, "object", &o);
}

static int identify(json_object *payload, struct event_identity *id, struct jerr *e)
{
	struct jerr scratch = { 0 };
	int64_t created = 0;

	memset(id, 0, sizeof *id);
	if (!jget_str(payload, "id", 1, &id->event_id, e))
		return -1;
	if (jstr_has_fffd(jpath(payload, "id"))) {
		jerr_set(e, "field 'id' contains U+FFFD (a lone UTF-16 surrogate?): not an id");
		return -1;
	}
	/* Type and time are only useful, not essential, for the envelope. */
	jget_str(payload, "type", 0, &id->event_type, &scratch);
	if (is_thin(payload)) {
		const char *t = jstr(payload, "created"); /* RFC 3339 in the v2 API */
		int64_t ms;
		if (t && parse_rfc3339_strict(t, &ms) == 0 && time_in_range(ms))
			id->occurred_ms = ms;
		return 0;
	}
	if (jget_int(payload, "created", 0, &created, &scratch) && created > 0 && created <= MAX_UNIX_S)
		id->occurred_ms = created * 1000;
	return 0;
}

/*
 * A thin event carries no object to map. One of a type the table reads (v1.
 * and a snapshot type: v1.invoice.paid) is revenue this stream does not hold:
 * failed, so that the log and reconcile show it, naming what to fetch (its
 * snapshot event, when Stripe sent one alongside, or the object). Others are
 * ignored like any type not read.
 */
static void thin_event(json_object *p, struct event *ev)
{
	const char *type = NULL, *created = NULL, *snap, *rel;
	int64_t ms;
	int live;

	if (!jget_str(p, "type", 1, &type, &ev->err) || !jget_str(p, "created", 1, &created, &ev->err))
		return;
	if (parse_rfc3339_strict(created, &ms) < 0 || !time_in_range(ms)) {
		field_error(ev, "field 'created' is not an RFC 3339 time: '%.40s'", created);
		return;
	}
	event_set_occurred(ev, ms);
	if (opt_bool(p, ev, "livemode", &live))
		event_bool(ev, SEC_TOP, "livemode", live);
	if (strncmp(type, "v1.", 3) != 0 || !find_type(type + 3)) {
		event_ignore(ev, "unsupported event type '%.200s' (a thin event)", type);
		return;
	}
	snap = opt_id(p, ev, "snapshot_event");
	rel = opt_str(p, ev, "related_object.url");
	if (ev->err.failed)
		return;
	event_fail(ev, "thin event '%.100s' carries no object: fetch %s%.100s%s, or have Stripe send this "
		   "endpoint snapshot events", type, snap ? "its snapshot event '" : rel ? "'" : "the object it names",
		   snap ? snap : rel ? rel : "", snap || rel ? "'" : "");
}

static void normalize(json_object *p, struct event *ev)
{
	const struct stripe_type *t;
	const char *type = NULL, *object = NULL;
	json_object *data;
	int64_t created = 0;
	int live;

	if (!json_object_is_type(p, json_type_object)) {
		event_fail(ev, "the payload must be an object, got %s", jtype_name(p));
		return;
	}
	if (is_thin(p)) {
		thin_event(p, ev);
		return;
	}
	if (!jget_str(p, "type", 1, &type, &ev->err))
		return;
	/* Before 2018-11-08 an invoice written off was "forgiven", and said so
	 * only by invoice.updated; invoice.marked_uncollectible came with the
	 * uncollectible status that replaced it. */
	if (strcmp(type, "invoice.updated") == 0 && json_object_is_type(jpath(p, OBJ "forgiven"), json_type_boolean) &&
	    json_object_get_boolean(jpath(p, OBJ "forgiven")) &&
	    json_object_is_type(jpath(p, "data.previous_attributes.forgiven"), json_type_boolean) &&
	    !json_object_get_boolean(jpath(p, "data.previous_attributes.forgiven")))
		type = "invoice.marked_uncollectible";
	if (!(t = find_type(type))) {
		event_ignore(ev, "unsupported event type '%.200s'", type);
		return;
	}
	if (jget_int(p, "created", 1, &created, &ev->err)) {
		if (created <= 0 || created > MAX_UNIX_S)
			field_error(ev, "field 'created' is not a Unix time in seconds: %lld", (long long)created);
		else
			event_set_occurred(ev, created * 1000);
	}
	if (opt_bool(p, ev, "livemode", &live))
		event_bool(ev, SEC_TOP, "livemode", live);
	data = jpath(p, "data.object");
	if (!data) {
		field_error(ev, "missing field 'data.object'");
		return;
	}
	if (!json_object_is_type(data, json_type_object)) {
		field_error(ev, "field 'data.object' must be an object, got %s", jtype_name(data));
		return;
	}
	if (!(object = req_str(p, ev, OBJ "object")))
		return;
	if (strcmp(object, t->object) != 0) {
		field_error(ev, "field '" OBJ "object' is '%.32s', expected '%s' for '%s'", object,
			    t->object, t->type);
		return;
	}
	if (ev->err.failed)
		return;
	t->fn(p, ev, t);
}

const struct connector stripe_connector = { "stripe", detect, identify, normalize };
