/*
 * gen: write a deterministic dump of realistic webhook payloads for the
 * benchmarks: Stripe events and Hotmart 2.0.0 webhooks, one JSON object a
 * line, as `fetch-events` reads them (raw payloads, not envelopes).
 *
 * The same options give the same bytes on every platform: all randomness
 * comes from a splitmix64 generator seeded by -s, never from rand() or time.
 * Customers, subscriptions, prices and Hotmart subscribers are a fixed
 * population derived from the seed, so the same customer shows up again and
 * again, as in a real account. A fraction (-d) of the lines are exact
 * duplicates of a recent line or events delivered late (out of order).
 *
 * Build: cc -O2 -o build/bench/gen bench/gen.c
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *prog = "gen";

static void
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* ---- randomness ---------------------------------------------------------- */

static uint64_t
splitmix64(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint64_t rng;     /* the event stream */
static uint64_t seed;    /* the population (customers, prices, ...) */

static uint64_t
rnd(void)
{
	return splitmix64(&rng);
}

static uint64_t
below(uint64_t n)
{
	return n ? rnd() % n : 0; /* the modulo bias is far below what matters here */
}

static double
unit(void)
{
	return (double)(rnd() >> 11) * (1.0 / 9007199254740992.0);
}

/* A stable hash of (kind, index) under the seed: the same entity, the same id. */
static uint64_t
entity_hash(uint64_t kind, uint64_t index)
{
	uint64_t s = seed ^ (kind * UINT64_C(0xd6e8feb86659fd93)) ^ (index * UINT64_C(0xa0761d6478bd642f));

	return splitmix64(&s);
}

/* The index that h picks from weights: each index by its share of the total. */
static size_t
weighted(const unsigned *weights, size_t n, uint64_t h)
{
	unsigned total = 0, r;
	size_t i;

	for (i = 0; i < n; i++)
		total += weights[i];
	r = (unsigned)(h % total);
	for (i = 0; i < n; i++) {
		if (r < weights[i])
			return i;
		r -= weights[i];
	}
	return n - 1;
}

static size_t
pick(const unsigned *weights, size_t n)
{
	return weighted(weights, n, rnd());
}

/* ---- an append-only text buffer ------------------------------------------ */

struct buf {
	char *p;
	size_t len, cap;
};

static void
grow(struct buf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 4096;
	char *p;

	while (cap < b->len + need + 1)
		cap *= 2;
	if (cap == b->cap)
		return;
	if ((p = realloc(b->p, cap)) == NULL)
		die("out of memory");
	b->p = p;
	b->cap = cap;
}

static void
put(struct buf *b, const char *s)
{
	size_t n = strlen(s);

	grow(b, n);
	memcpy(b->p + b->len, s, n + 1);
	b->len += n;
}

static void putf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
putf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	grow(b, 256);
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		die("vsnprintf failed");
	if ((size_t)n >= b->cap - b->len) {
		grow(b, (size_t)n);
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

/* ---- ids ----------------------------------------------------------------- */

static const char base62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* prefix + n base62 characters drawn from h (rehashed as it runs out). */
static char *
make_id(char *out, size_t size, const char *prefix, uint64_t h, int n)
{
	size_t len = strlen(prefix);
	uint64_t state = h, v = h;
	int i;

	if (len + (size_t)n + 1 > size)
		die("id too long");
	memcpy(out, prefix, len);
	for (i = 0; i < n; i++) {
		if (i % 10 == 0 && i)
			v = splitmix64(&state);
		out[len + (size_t)i] = base62[v % 62];
		v /= 62;
	}
	out[len + (size_t)n] = '\0';
	return out;
}

/* A Stripe object id: prefix, "1", then 23 characters, as the API shows them. */
static char *
stripe_id(char *out, size_t size, const char *prefix, uint64_t h)
{
	char tmp[64];

	snprintf(tmp, sizeof(tmp), "%s1", prefix);
	return make_id(out, size, tmp, h, 23);
}

static char *
fresh_stripe_id(char *out, size_t size, const char *prefix)
{
	return stripe_id(out, size, prefix, rnd());
}

static char *
uuid4(char *out, size_t size)
{
	uint64_t a = rnd(), b = rnd();

	snprintf(out, size, "%08" PRIx64 "-%04" PRIx64 "-4%03" PRIx64 "-%04" PRIx64 "-%012" PRIx64,
	    a >> 32, (a >> 16) & 0xffff, a & 0xfff, ((b >> 48) & 0x3fff) | 0x8000, b & UINT64_C(0xffffffffffff));
	return out;
}

/* ---- the population ------------------------------------------------------ */

static const char *const first_names[] = {
	"Olivia", "Liam", "Emma", "Noah", "Ava", "Lucas", "Sofia", "Mateus", "Julia", "Gabriel",
	"Ana", "Pedro", "Laura", "Miguel", "Beatriz", "Hugo", "Chloe", "Yuki", "Hannah", "Jonas",
	"Marie", "Felix", "Isabela", "Rafael", "João", "Léa", "Zoë", "Amir", "Priya", "Kenji",
};
static const char *const last_names[] = {
	"Smith", "Johnson", "Silva", "Santos", "Oliveira", "Müller", "Schmidt", "Martin", "Bernard",
	"Garcia", "Rodrigues", "Ferreira", "Costa", "Tanaka", "Sato", "Brown", "Wilson", "Dubois",
	"Rossi", "Kowalski", "Nguyen", "Patel", "Almeida", "Souza", "Gómez", "O'Neil", "Lima",
};
static const char *const mail_domains[] = {
	"example.com", "example.org", "mail.example.net", "acme.example", "corp.example.com",
};
struct country { const char *iso, *name, *city, *postal; };
static const struct country countries[] = {
	{ "US", "United States", "San Francisco", "94107" },
	{ "US", "United States", "New York", "10001" },
	{ "GB", "United Kingdom", "London", "EC1A 1BB" },
	{ "DE", "Germany", "Berlin", "10115" },
	{ "FR", "France", "Paris", "75001" },
	{ "BR", "Brasil", "São Paulo", "01310-100" },
	{ "BR", "Brasil", "Uberlândia", "38400-123" },
	{ "CA", "Canada", "Toronto", "M5H 2N2" },
	{ "PT", "Portugal", "Lisboa", "1100-148" },
	{ "MX", "México", "Ciudad de México", "06600" },
	{ "JP", "Japan", "Tokyo", "100-0001" },
	{ "IN", "India", "Bengaluru", "560001" },
};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

enum { K_CUS = 1, K_SUB, K_PRICE, K_PROD, K_SI, K_PM, K_HPROD, K_HSUB, K_HPLAN, K_ACCT, K_HSUBPROD };

struct customer {
	char id[32], name[64], email[96], phone[24];
	const struct country *country;
	uint64_t index;
};

static uint64_t n_customers;

/* An e-mail local part from a name: its ASCII letters, lower case. */
static void
mail_part(char *out, size_t size, const char *name)
{
	size_t i, j;

	for (i = j = 0; name[i] && j + 1 < size; i++)
		if ((name[i] >= 'A' && name[i] <= 'Z') || (name[i] >= 'a' && name[i] <= 'z'))
			out[j++] = (char)(name[i] | 0x20);
	out[j] = '\0';
}

static void
customer_get(uint64_t index, struct customer *c)
{
	uint64_t h = entity_hash(K_CUS, index);
	const char *first = first_names[h % NELEM(first_names)];
	const char *last = last_names[(h >> 8) % NELEM(last_names)];
	char lfirst[32], llast[32];

	c->index = index;
	make_id(c->id, sizeof(c->id), "cus_", h, 14);
	snprintf(c->name, sizeof(c->name), "%s %s", first, last);
	mail_part(lfirst, sizeof(lfirst), first);
	mail_part(llast, sizeof(llast), last);
	snprintf(c->email, sizeof(c->email), "%s.%s%" PRIu64 "@%s", lfirst, llast, index,
	    mail_domains[(h >> 16) % NELEM(mail_domains)]);
	c->country = &countries[(h >> 24) % NELEM(countries)];
	snprintf(c->phone, sizeof(c->phone), "+1555%07" PRIu64, (h >> 32) % 10000000);
}

/* The Stripe price catalogue of a typical SaaS. */
struct price {
	const char *nickname, *product_name, *currency, *interval;
	int interval_count;
	int64_t unit_amount;
};
static const struct price prices[] = {
	{ "Starter monthly", "Starter", "usd", "month", 1, 1900 },
	{ "Pro monthly", "Pro", "usd", "month", 1, 4900 },
	{ "Pro yearly", "Pro", "usd", "year", 1, 49000 },
	{ "Team quarterly", "Team", "usd", "month", 3, 12900 },
	{ "Business monthly", "Business", "usd", "month", 1, 19900 },
	{ "Pro monthly EUR", "Pro", "eur", "month", 1, 4500 },
	{ "Pro monthly BRL", "Pro", "brl", "month", 1, 24900 },
	{ "Pro monthly JPY", "Pro", "jpy", "month", 1, 5500 },
	{ "Enterprise yearly", "Enterprise", "usd", "year", 1, 480000 },
};
static const unsigned price_weights[] = { 30, 30, 8, 4, 6, 8, 6, 3, 1 };

/* A customer's subscription: its price and seat count are fixed by the seed. */
struct sub {
	char id[40], item_id[40], price_id[40], product_id[32];
	const struct price *price;
	int quantity;
	int64_t start;
};

static int64_t t_start;

static void
sub_get(const struct customer *c, struct sub *s)
{
	uint64_t h = entity_hash(K_SUB, c->index);
	size_t pi = weighted(price_weights, NELEM(price_weights), h >> 7);

	s->price = &prices[pi];
	stripe_id(s->id, sizeof(s->id), "sub_", h);
	stripe_id(s->item_id, sizeof(s->item_id), "si_", entity_hash(K_SI, c->index));
	stripe_id(s->price_id, sizeof(s->price_id), "price_", entity_hash(K_PRICE, pi));
	make_id(s->product_id, sizeof(s->product_id), "prod_", entity_hash(K_PROD, (uint64_t)(s->price->product_name[0])), 14);
	s->quantity = (h >> 40) % 5 == 0 ? 2 + (int)((h >> 44) % 9) : 1;
	s->start = t_start - (int64_t)((h >> 20) % (86400 * 400));
}

static char account_id[32];

static const char *
currency_symbol(const char *cur)
{
	if (strcmp(cur, "usd") == 0)
		return "$";
	if (strcmp(cur, "eur") == 0)
		return "€";
	if (strcmp(cur, "brl") == 0)
		return "R$";
	if (strcmp(cur, "jpy") == 0)
		return "¥";
	return "";
}

static int
zero_decimal(const char *cur)
{
	return strcmp(cur, "jpy") == 0;
}

/* "$49.00", "¥5,500": as Stripe's line descriptions show amounts. */
static void
format_money(char *out, size_t size, int64_t minor, const char *cur)
{
	if (zero_decimal(cur))
		snprintf(out, size, "%s%" PRId64, currency_symbol(cur), minor);
	else
		snprintf(out, size, "%s%" PRId64 ".%02" PRId64, currency_symbol(cur), minor / 100, minor % 100);
}

/* ---- Stripe -------------------------------------------------------------- */

enum stripe_type {
	S_INVOICE_PAID, S_INVOICE_PAYMENT_SUCCEEDED, S_INVOICE_PAYMENT_FAILED, S_INVOICE_FINALIZED,
	S_INVOICE_CREATED, S_INVOICE_UPCOMING, S_CHARGE_SUCCEEDED, S_CHARGE_FAILED, S_CHARGE_REFUNDED,
	S_SUB_CREATED, S_SUB_UPDATED, S_SUB_DELETED, S_CUSTOMER_CREATED, S_CUSTOMER_UPDATED,
	S_PI_SUCCEEDED, S_PI_CREATED, S_CHECKOUT_COMPLETED, S_PM_ATTACHED, S_DISPUTE_CREATED,
	S__COUNT
};
static const char *const stripe_type_names[S__COUNT] = {
	"invoice.paid", "invoice.payment_succeeded", "invoice.payment_failed", "invoice.finalized",
	"invoice.created", "invoice.upcoming", "charge.succeeded", "charge.failed", "charge.refunded",
	"customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted",
	"customer.created", "customer.updated", "payment_intent.succeeded", "payment_intent.created",
	"checkout.session.completed", "payment_method.attached", "charge.dispute.created",
};
/* What a subscription SaaS receives, roughly: renewals dominate. */
static const unsigned stripe_weights[S__COUNT] = {
	13, 13, 3, 10, 6, 3, 12, 2, 1,
	3, 7, 2, 3, 4, 10, 4, 3, 2, 1,
};

static void
stripe_begin(struct buf *b, int64_t created)
{
	char id[40];

	fresh_stripe_id(id, sizeof(id), "evt_");
	putf(b, "{\"id\":\"%s\",\"object\":\"event\",\"api_version\":\"2024-06-20\",\"created\":%" PRId64 ","
	    "\"data\":{\"object\":", id, created);
}

static void
stripe_end(struct buf *b, const char *type, int livemode, int with_request)
{
	char req[40], key[40];

	put(b, "},\"livemode\":");
	put(b, livemode ? "true" : "false");
	putf(b, ",\"pending_webhooks\":%d,", 1 + (int)below(2));
	if (with_request) {
		make_id(req, sizeof(req), "req_", rnd(), 14);
		uuid4(key, sizeof(key));
		putf(b, "\"request\":{\"id\":\"%s\",\"idempotency_key\":\"%s\"},", req, key);
	} else {
		put(b, "\"request\":{\"id\":null,\"idempotency_key\":null},");
	}
	putf(b, "\"type\":\"%s\"}", type);
}

static void
stripe_address(struct buf *b, const struct country *co)
{
	putf(b, "{\"city\":\"%s\",\"country\":\"%s\",\"line1\":null,\"line2\":null,\"postal_code\":\"%s\",\"state\":null}",
	    co->city, co->iso, co->postal);
}

static void
stripe_price(struct buf *b, const struct sub *s, int livemode)
{
	const struct price *p = s->price;

	putf(b, "{\"id\":\"%s\",\"object\":\"price\",\"active\":true,\"billing_scheme\":\"per_unit\","
	    "\"created\":%" PRId64 ",\"currency\":\"%s\",\"custom_unit_amount\":null,\"livemode\":%s,"
	    "\"lookup_key\":null,\"metadata\":{},\"nickname\":\"%s\",\"product\":\"%s\","
	    "\"recurring\":{\"aggregate_usage\":null,\"interval\":\"%s\",\"interval_count\":%d,"
	    "\"meter\":null,\"trial_period_days\":null,\"usage_type\":\"licensed\"},"
	    "\"tax_behavior\":\"unspecified\",\"tiers_mode\":null,\"transform_quantity\":null,"
	    "\"type\":\"recurring\",\"unit_amount\":%" PRId64 ",\"unit_amount_decimal\":\"%" PRId64 "\"}",
	    s->price_id, t_start - 86400 * 700, p->currency, livemode ? "true" : "false", p->nickname,
	    s->product_id, p->interval, p->interval_count, p->unit_amount, p->unit_amount);
}

/* The legacy "plan" twin of a price, which Stripe still sends beside it. */
static void
stripe_plan(struct buf *b, const struct sub *s, int livemode)
{
	const struct price *p = s->price;

	putf(b, "{\"id\":\"%s\",\"object\":\"plan\",\"active\":true,\"aggregate_usage\":null,"
	    "\"amount\":%" PRId64 ",\"amount_decimal\":\"%" PRId64 "\",\"billing_scheme\":\"per_unit\","
	    "\"created\":%" PRId64 ",\"currency\":\"%s\",\"interval\":\"%s\",\"interval_count\":%d,"
	    "\"livemode\":%s,\"metadata\":{},\"meter\":null,\"nickname\":\"%s\",\"product\":\"%s\","
	    "\"tiers_mode\":null,\"transform_usage\":null,\"trial_period_days\":null,\"usage_type\":\"licensed\"}",
	    s->price_id, p->unit_amount, p->unit_amount, t_start - 86400 * 700, p->currency, p->interval,
	    p->interval_count, livemode ? "true" : "false", p->nickname, s->product_id);
}

static int64_t
period_seconds(const struct price *p)
{
	return (strcmp(p->interval, "year") == 0 ? 365 * 86400 : 30 * 86400) * (int64_t)p->interval_count;
}

struct stripe_ctx {
	struct customer c;
	struct sub s;
	int livemode;
	int64_t now;
	int64_t amount;      /* the subscription's amount for one period */
	char invoice_id[40], charge_id[40], pi_id[40], pm_id[40];
};

static void
stripe_invoice(struct buf *b, struct stripe_ctx *x, enum stripe_type t)
{
	const struct price *p = x->s.price;
	int paid = t == S_INVOICE_PAID || t == S_INVOICE_PAYMENT_SUCCEEDED;
	int failed = t == S_INVOICE_PAYMENT_FAILED;
	int draft = t == S_INVOICE_CREATED || t == S_INVOICE_UPCOMING;
	int64_t period_end = x->now, period_start = x->now - period_seconds(p);
	int64_t discount = below(10) == 0 ? x->amount / 5 : 0;
	int64_t total = x->amount - discount;
	char money[32], line_id[40], number[32];
	const char *reason = below(8) == 0 ? "subscription_create" : "subscription_cycle";

	format_money(money, sizeof(money), p->unit_amount, p->currency);
	stripe_id(line_id, sizeof(line_id), "il_", rnd());
	make_id(number, sizeof(number), "", entity_hash(K_CUS, x->c.index) >> 3, 8);
	put(b, "{");
	if (t != S_INVOICE_UPCOMING)
		putf(b, "\"id\":\"%s\",", x->invoice_id);
	putf(b, "\"object\":\"invoice\",\"account_country\":\"US\",\"account_name\":\"Acme Analytics, Inc.\","
	    "\"account_tax_ids\":null,\"amount_due\":%" PRId64 ",\"amount_paid\":%" PRId64 ","
	    "\"amount_remaining\":%" PRId64 ",\"amount_shipping\":0,\"application\":null,"
	    "\"attempt_count\":%d,\"attempted\":%s,\"auto_advance\":%s,"
	    "\"billing_reason\":\"%s\",\"charge\":",
	    total, paid ? total : 0, paid ? 0 : total, failed ? 1 + (int)below(4) : paid ? 1 : 0,
	    paid || failed ? "true" : "false", paid ? "false" : "true", reason);
	if (paid || failed)
		putf(b, "\"%s\"", x->charge_id);
	else
		put(b, "null");
	putf(b, ",\"collection_method\":\"charge_automatically\",\"created\":%" PRId64 ",\"currency\":\"%s\","
	    "\"customer\":\"%s\",\"customer_address\":", x->now - (paid ? 3600 : 0), p->currency, x->c.id);
	stripe_address(b, x->c.country);
	putf(b, ",\"customer_email\":\"%s\",\"customer_name\":\"%s\",\"customer_phone\":null,"
	    "\"customer_shipping\":null,\"customer_tax_exempt\":\"none\",\"customer_tax_ids\":[],"
	    "\"default_payment_method\":null,\"default_source\":null,\"default_tax_rates\":[],\"description\":null,"
	    "\"issuer\":{\"type\":\"self\"},\"last_finalization_error\":null,\"latest_revision\":null,"
	    "\"payment_settings\":{\"default_mandate\":null,\"payment_method_options\":null,"
	    "\"payment_method_types\":null},\"discount\":",
	    x->c.email, x->c.name);
	if (discount)
		putf(b, "{\"id\":\"di_%s\",\"object\":\"discount\",\"coupon\":{\"id\":\"LAUNCH20\",\"object\":\"coupon\","
		    "\"duration\":\"repeating\",\"duration_in_months\":3,\"percent_off\":20.0,\"valid\":true},"
		    "\"customer\":\"%s\",\"start\":%" PRId64 ",\"subscription\":\"%s\"}",
		    x->s.id + 4, x->c.id, x->s.start, x->s.id);
	else
		put(b, "null");
	putf(b, ",\"due_date\":null,\"ending_balance\":%s,", draft ? "null" : "0");
	if (!draft)
		putf(b, "\"hosted_invoice_url\":\"https://invoice.stripe.com/i/%s/live_%s\","
		    "\"invoice_pdf\":\"https://pay.stripe.com/invoice/%s/live_%s/pdf?s=ap\",",
		    account_id, x->invoice_id + 3, account_id, x->invoice_id + 3);
	else
		put(b, "\"hosted_invoice_url\":null,\"invoice_pdf\":null,");
	putf(b, "\"lines\":{\"object\":\"list\",\"data\":[{\"id\":\"%s\",\"object\":\"line_item\","
	    "\"amount\":%" PRId64 ",\"currency\":\"%s\",\"description\":\"%d × %s (at %s / %s)\","
	    "\"discount_amounts\":[],\"discountable\":true,\"discounts\":[],\"invoice\":\"%s\",\"livemode\":%s,"
	    "\"metadata\":{},\"period\":{\"end\":%" PRId64 ",\"start\":%" PRId64 "},\"plan\":",
	    line_id, x->amount, p->currency, x->s.quantity, p->product_name, money, p->interval,
	    x->invoice_id, x->livemode ? "true" : "false", period_end + period_seconds(p), period_end);
	stripe_plan(b, &x->s, x->livemode);
	put(b, ",\"price\":");
	stripe_price(b, &x->s, x->livemode);
	putf(b, ",\"proration\":false,\"quantity\":%d,\"subscription\":\"%s\",\"subscription_item\":\"%s\","
	    "\"type\":\"subscription\"}],\"has_more\":false,\"total_count\":1,\"url\":\"/v1/invoices/%s/lines\"},"
	    "\"livemode\":%s,\"metadata\":{},\"next_payment_attempt\":",
	    x->s.quantity, x->s.id, x->s.item_id, x->invoice_id, x->livemode ? "true" : "false");
	if (failed || (!paid && !draft))
		putf(b, "%" PRId64, x->now + 3 * 86400);
	else
		put(b, "null");
	putf(b, ",\"number\":\"%s-%04d\",\"paid\":%s,\"paid_out_of_band\":false,\"payment_intent\":",
	    number, 1 + (int)below(40), paid ? "true" : "false");
	if (draft)
		put(b, "null");
	else
		putf(b, "\"%s\"", x->pi_id);
	putf(b, ",\"period_end\":%" PRId64 ",\"period_start\":%" PRId64 ",\"receipt_number\":null,"
	    "\"starting_balance\":0,\"statement_descriptor\":null,\"status\":\"%s\","
	    "\"status_transitions\":{\"finalized_at\":",
	    period_end, period_start, paid ? "paid" : draft ? "draft" : "open");
	if (draft)
		put(b, "null");
	else
		putf(b, "%" PRId64, x->now - (paid ? 3600 : 0));
	put(b, ",\"marked_uncollectible_at\":null,\"paid_at\":");
	if (paid)
		putf(b, "%" PRId64, x->now);
	else
		put(b, "null");
	putf(b, ",\"voided_at\":null},\"subscription\":\"%s\",\"subtotal\":%" PRId64 ",\"tax\":null,"
	    "\"total\":%" PRId64 ",\"total_discount_amounts\":[",
	    x->s.id, x->amount, total);
	if (discount)
		putf(b, "{\"amount\":%" PRId64 ",\"discount\":\"di_%s\"}", discount, x->s.id + 4);
	put(b, "],\"total_tax_amounts\":[],\"webhooks_delivered_at\":");
	if (draft)
		put(b, "null}");
	else
		putf(b, "%" PRId64 "}", x->now);
}

static const char *const brands[] = { "visa", "mastercard", "amex", "visa", "mastercard", "visa" };

static void
stripe_card(struct buf *b, struct stripe_ctx *x)
{
	uint64_t h = entity_hash(K_PM, x->c.index);
	char fp[24];

	make_id(fp, sizeof(fp), "", h, 16);
	putf(b, "{\"card\":{\"amount_authorization\":null,\"brand\":\"%s\",\"checks\":{\"address_line1_check\":null,"
	    "\"address_postal_code_check\":\"pass\",\"cvc_check\":\"pass\"},\"country\":\"%s\",\"exp_month\":%d,"
	    "\"exp_year\":%d,\"fingerprint\":\"%s\",\"funding\":\"credit\",\"installments\":null,"
	    "\"last4\":\"%04d\",\"mandate\":null,\"network\":\"%s\",\"three_d_secure\":null,\"wallet\":null},"
	    "\"type\":\"card\"}",
	    brands[h % NELEM(brands)], x->c.country->iso, 1 + (int)((h >> 8) % 12), 2026 + (int)((h >> 12) % 5),
	    fp, (int)((h >> 16) % 10000), brands[h % NELEM(brands)]);
}

static void
stripe_charge(struct buf *b, struct stripe_ctx *x, enum stripe_type t)
{
	int failed = t == S_CHARGE_FAILED;
	int refunded = t == S_CHARGE_REFUNDED;
	int64_t amount = x->amount;
	int64_t amount_refunded = refunded ? (below(3) == 0 ? amount / 2 : amount) : 0;
	char receipt[40];

	make_id(receipt, sizeof(receipt), "", rnd(), 24);
	putf(b, "{\"id\":\"%s\",\"object\":\"charge\",\"amount\":%" PRId64 ",\"amount_captured\":%" PRId64 ","
	    "\"amount_refunded\":%" PRId64 ",\"application\":null,\"application_fee\":null,"
	    "\"application_fee_amount\":null,\"balance_transaction\":",
	    x->charge_id, amount, failed ? 0 : amount, amount_refunded);
	if (failed)
		put(b, "null");
	else
		putf(b, "\"txn_%s\"", x->charge_id + 3);
	put(b, ",\"billing_details\":{\"address\":");
	stripe_address(b, x->c.country);
	putf(b, ",\"email\":\"%s\",\"name\":\"%s\",\"phone\":null},\"calculated_statement_descriptor\":\"ACME ANALYTICS\","
	    "\"captured\":%s,\"created\":%" PRId64 ",\"currency\":\"%s\",\"customer\":\"%s\",\"description\":\"%s\","
	    "\"disputed\":false,\"failure_balance_transaction\":null,\"failure_code\":%s,\"failure_message\":%s,"
	    "\"fraud_details\":{},\"invoice\":\"%s\",\"livemode\":%s,\"metadata\":{},\"on_behalf_of\":null,"
	    "\"outcome\":{\"network_status\":\"%s\",\"reason\":%s,\"risk_level\":\"normal\",\"risk_score\":%d,"
	    "\"seller_message\":\"%s\",\"type\":\"%s\"},\"paid\":%s,\"payment_intent\":\"%s\","
	    "\"payment_method\":\"%s\",\"payment_method_details\":",
	    x->c.email, x->c.name, failed ? "false" : "true", x->now, x->s.price->currency, x->c.id,
	    "Subscription update", failed ? "\"card_declined\"" : "null",
	    failed ? "\"Your card was declined.\"" : "null", x->invoice_id, x->livemode ? "true" : "false",
	    failed ? "declined_by_network" : "approved_by_network", failed ? "\"generic_decline\"" : "null",
	    (int)below(60), failed ? "The bank did not return any further details with this decline." : "Payment complete.",
	    failed ? "issuer_declined" : "authorized", failed ? "false" : "true", x->pi_id, x->pm_id);
	stripe_card(b, x);
	putf(b, ",\"receipt_email\":\"%s\",\"receipt_number\":null,"
	    "\"receipt_url\":\"https://pay.stripe.com/receipts/invoices/%s?s=ap\",\"refunded\":%s,"
	    "\"review\":null,\"shipping\":null,\"source_transfer\":null,\"statement_descriptor\":null,"
	    "\"statement_descriptor_suffix\":null,\"status\":\"%s\",\"transfer_data\":null,\"transfer_group\":null}",
	    x->c.email, receipt, refunded && amount_refunded == amount ? "true" : "false",
	    failed ? "failed" : "succeeded");
	if (refunded) {
		/* a refunded charge's previous attributes ride along in the event */
		put(b, ",\"previous_attributes\":{\"amount_refunded\":0");
		if (amount_refunded == amount)
			put(b, ",\"refunded\":false");
		put(b, "}");
	}
}

static void
stripe_subscription(struct buf *b, struct stripe_ctx *x, enum stripe_type t)
{
	const struct price *p = x->s.price;
	int64_t pstart = x->now - (int64_t)below((uint64_t)period_seconds(p));
	int64_t pend = pstart + period_seconds(p);
	const char *status = "active";
	int trial = 0, cancel_at_end = 0;
	int64_t canceled_at = 0;

	if (t == S_SUB_CREATED) {
		uint64_t r = below(10);
		status = r < 3 ? "trialing" : r < 4 ? "incomplete" : "active";
		trial = r < 3;
		pstart = x->now;
		pend = trial ? x->now + 14 * 86400 : x->now + period_seconds(p);
	} else if (t == S_SUB_DELETED) {
		status = "canceled";
		canceled_at = x->now;
	} else {
		uint64_t r = below(10);
		if (r < 2)
			status = "past_due";
		else if (r < 4)
			cancel_at_end = 1, canceled_at = x->now;
	}
	putf(b, "{\"id\":\"%s\",\"object\":\"subscription\",\"application\":null,\"application_fee_percent\":null,"
	    "\"automatic_tax\":{\"enabled\":false,\"liability\":null},\"billing_cycle_anchor\":%" PRId64 ","
	    "\"billing_thresholds\":null,\"cancel_at\":",
	    x->s.id, x->s.start);
	if (cancel_at_end)
		putf(b, "%" PRId64, pend);
	else
		put(b, "null");
	putf(b, ",\"cancel_at_period_end\":%s,\"canceled_at\":", cancel_at_end ? "true" : "false");
	if (canceled_at)
		putf(b, "%" PRId64, canceled_at);
	else
		put(b, "null");
	putf(b, ",\"cancellation_details\":{\"comment\":null,\"feedback\":%s,\"reason\":%s},"
	    "\"collection_method\":\"charge_automatically\",\"created\":%" PRId64 ",\"currency\":\"%s\","
	    "\"current_period_end\":%" PRId64 ",\"current_period_start\":%" PRId64 ",\"customer\":\"%s\","
	    "\"days_until_due\":null,\"default_payment_method\":\"%s\",\"default_source\":null,"
	    "\"default_tax_rates\":[],\"description\":null,\"discount\":null,\"discounts\":[],\"ended_at\":",
	    canceled_at ? "\"too_expensive\"" : "null", canceled_at ? "\"cancellation_requested\"" : "null",
	    x->s.start, p->currency, pend, pstart, x->c.id, x->pm_id);
	if (t == S_SUB_DELETED)
		putf(b, "%" PRId64, x->now);
	else
		put(b, "null");
	putf(b, ",\"items\":{\"object\":\"list\",\"data\":[{\"id\":\"%s\",\"object\":\"subscription_item\","
	    "\"billing_thresholds\":null,\"created\":%" PRId64 ",\"discounts\":[],\"metadata\":{},\"plan\":",
	    x->s.item_id, x->s.start);
	stripe_plan(b, &x->s, x->livemode);
	put(b, ",\"price\":");
	stripe_price(b, &x->s, x->livemode);
	putf(b, ",\"quantity\":%d,\"subscription\":\"%s\",\"tax_rates\":[]}],\"has_more\":false,\"total_count\":1,"
	    "\"url\":\"/v1/subscription_items?subscription=%s\"},\"latest_invoice\":\"%s\",\"livemode\":%s,"
	    "\"metadata\":{\"workspace_id\":\"ws_%" PRIu64 "\",\"plan_code\":\"%s\"},\"next_pending_invoice_item_invoice\":null,"
	    "\"on_behalf_of\":null,\"pause_collection\":null,\"payment_settings\":{\"payment_method_options\":null,"
	    "\"payment_method_types\":null,\"save_default_payment_method\":\"off\"},\"pending_invoice_item_interval\":null,"
	    "\"pending_setup_intent\":null,\"pending_update\":null,\"quantity\":%d,\"schedule\":null,"
	    "\"start_date\":%" PRId64 ",\"status\":\"%s\",\"test_clock\":null,\"transfer_data\":null,"
	    "\"trial_end\":",
	    x->s.quantity, x->s.id, x->s.id, x->invoice_id, x->livemode ? "true" : "false", x->c.index + 1000,
	    p->product_name, x->s.quantity, x->s.start, status);
	if (trial)
		putf(b, "%" PRId64, pend);
	else
		put(b, "null");
	put(b, ",\"trial_settings\":{\"end_behavior\":{\"missing_payment_method\":\"create_invoice\"}},\"trial_start\":");
	if (trial)
		putf(b, "%" PRId64 "}", x->now);
	else
		put(b, "null}");
	if (t == S_SUB_UPDATED) {
		if (cancel_at_end)
			put(b, ",\"previous_attributes\":{\"cancel_at\":null,\"cancel_at_period_end\":false,\"canceled_at\":null}");
		else
			putf(b, ",\"previous_attributes\":{\"current_period_end\":%" PRId64 ",\"current_period_start\":%" PRId64
			    ",\"latest_invoice\":\"in_1PrevInvoice000000000000\"}", pstart, pstart - period_seconds(p));
	}
}

static void
stripe_customer(struct buf *b, struct stripe_ctx *x, enum stripe_type t)
{
	putf(b, "{\"id\":\"%s\",\"object\":\"customer\",\"address\":", x->c.id);
	stripe_address(b, x->c.country);
	putf(b, ",\"balance\":0,\"created\":%" PRId64 ",\"currency\":%s,\"default_source\":null,\"delinquent\":false,"
	    "\"description\":null,\"discount\":null,\"email\":\"%s\",\"invoice_prefix\":\"%.8s\","
	    "\"invoice_settings\":{\"custom_fields\":null,\"default_payment_method\":%s%s%s,\"footer\":null,"
	    "\"rendering_options\":null},\"livemode\":%s,\"metadata\":{\"workspace_id\":\"ws_%" PRIu64 "\"},"
	    "\"name\":\"%s\",\"next_invoice_sequence\":%d,\"phone\":\"%s\",\"preferred_locales\":[\"en\"],"
	    "\"shipping\":null,\"tax_exempt\":\"none\",\"test_clock\":null}",
	    t == S_CUSTOMER_CREATED ? x->now : x->s.start, t == S_CUSTOMER_CREATED ? "null" : "\"usd\"",
	    x->c.email, x->c.id + 4, t == S_CUSTOMER_CREATED ? "" : "\"", t == S_CUSTOMER_CREATED ? "null" : x->pm_id,
	    t == S_CUSTOMER_CREATED ? "" : "\"", x->livemode ? "true" : "false", x->c.index + 1000, x->c.name,
	    1 + (int)below(30), x->c.phone);
	if (t == S_CUSTOMER_UPDATED)
		put(b, ",\"previous_attributes\":{\"invoice_settings\":{\"default_payment_method\":null}}");
}

static void
stripe_payment_intent(struct buf *b, struct stripe_ctx *x, enum stripe_type t)
{
	int ok = t == S_PI_SUCCEEDED;
	char secret[40];

	make_id(secret, sizeof(secret), "", rnd(), 25);
	putf(b, "{\"id\":\"%s\",\"object\":\"payment_intent\",\"amount\":%" PRId64 ",\"amount_capturable\":0,"
	    "\"amount_details\":{\"tip\":{}},\"amount_received\":%" PRId64 ",\"application\":null,"
	    "\"application_fee_amount\":null,\"automatic_payment_methods\":null,\"canceled_at\":null,"
	    "\"cancellation_reason\":null,\"capture_method\":\"automatic\",\"client_secret\":\"%s_secret_%s\","
	    "\"confirmation_method\":\"automatic\",\"created\":%" PRId64 ",\"currency\":\"%s\",\"customer\":\"%s\","
	    "\"description\":\"Subscription update\",\"invoice\":\"%s\",\"last_payment_error\":null,"
	    "\"latest_charge\":%s%s%s,\"livemode\":%s,\"metadata\":{},\"next_action\":null,\"on_behalf_of\":null,"
	    "\"payment_method\":%s%s%s,\"payment_method_configuration_details\":null,"
	    "\"payment_method_options\":{\"card\":{\"installments\":null,\"mandate_options\":null,\"network\":null,"
	    "\"request_three_d_secure\":\"automatic\"}},\"payment_method_types\":[\"card\"],\"processing\":null,"
	    "\"receipt_email\":\"%s\",\"review\":null,\"setup_future_usage\":\"off_session\",\"shipping\":null,"
	    "\"source\":null,\"statement_descriptor\":null,\"statement_descriptor_suffix\":null,\"status\":\"%s\","
	    "\"transfer_data\":null,\"transfer_group\":null}",
	    x->pi_id, x->amount, ok ? x->amount : 0, x->pi_id, secret, x->now, x->s.price->currency, x->c.id,
	    x->invoice_id, ok ? "\"" : "", ok ? x->charge_id : "null", ok ? "\"" : "",
	    x->livemode ? "true" : "false", ok ? "\"" : "", ok ? x->pm_id : "null", ok ? "\"" : "",
	    x->c.email, ok ? "succeeded" : "requires_payment_method");
}

static void
stripe_checkout(struct buf *b, struct stripe_ctx *x)
{
	char cs[80];

	make_id(cs, sizeof(cs), x->livemode ? "cs_live_a1" : "cs_test_a1", rnd(), 56);
	putf(b, "{\"id\":\"%s\",\"object\":\"checkout.session\",\"after_expiration\":null,\"allow_promotion_codes\":true,"
	    "\"amount_subtotal\":%" PRId64 ",\"amount_total\":%" PRId64 ",\"automatic_tax\":{\"enabled\":false,"
	    "\"liability\":null,\"status\":null},\"billing_address_collection\":\"auto\",\"cancel_url\":"
	    "\"https://app.acme.example/billing?canceled=1\",\"client_reference_id\":\"ws_%" PRIu64 "\","
	    "\"consent\":null,\"created\":%" PRId64 ",\"currency\":\"%s\",\"custom_fields\":[],\"customer\":\"%s\","
	    "\"customer_creation\":\"always\",\"customer_details\":{\"address\":",
	    cs, x->amount, x->amount, x->c.index + 1000, x->now - 120, x->s.price->currency, x->c.id);
	stripe_address(b, x->c.country);
	putf(b, ",\"email\":\"%s\",\"name\":\"%s\",\"phone\":null,\"tax_exempt\":\"none\",\"tax_ids\":[]},"
	    "\"customer_email\":null,\"expires_at\":%" PRId64 ",\"invoice\":\"%s\",\"livemode\":%s,\"locale\":null,"
	    "\"metadata\":{},\"mode\":\"subscription\",\"payment_intent\":null,\"payment_link\":null,"
	    "\"payment_method_collection\":\"always\",\"payment_method_types\":[\"card\"],\"payment_status\":\"paid\","
	    "\"phone_number_collection\":{\"enabled\":false},\"setup_intent\":null,\"shipping_address_collection\":null,"
	    "\"status\":\"complete\",\"submit_type\":null,\"subscription\":\"%s\",\"success_url\":"
	    "\"https://app.acme.example/billing?session_id={CHECKOUT_SESSION_ID}\",\"total_details\":"
	    "{\"amount_discount\":0,\"amount_shipping\":0,\"amount_tax\":0},\"ui_mode\":\"hosted\",\"url\":null}",
	    x->c.email, x->c.name, x->now + 86400, x->invoice_id, x->livemode ? "true" : "false", x->s.id);
}

static void
stripe_payment_method(struct buf *b, struct stripe_ctx *x)
{
	putf(b, "{\"id\":\"%s\",\"object\":\"payment_method\",\"allow_redisplay\":\"unspecified\","
	    "\"billing_details\":{\"address\":", x->pm_id);
	stripe_address(b, x->c.country);
	putf(b, ",\"email\":\"%s\",\"name\":\"%s\",\"phone\":null},\"card\":", x->c.email, x->c.name);
	/* reuse the charge's card details: the shape is the same minus "type" */
	{
		size_t at = b->len;

		stripe_card(b, x);
		/* {"card":{...},"type":"card"} -> {...} */
		memmove(b->p + at, b->p + at + 8, b->len - at - 8);
		b->len -= 8;
		b->len -= strlen(",\"type\":\"card\"}");
		b->p[b->len] = '\0';
	}
	putf(b, ",\"created\":%" PRId64 ",\"customer\":\"%s\",\"livemode\":%s,\"metadata\":{},\"type\":\"card\"}",
	    x->now, x->c.id, x->livemode ? "true" : "false");
}

static void
stripe_dispute(struct buf *b, struct stripe_ctx *x)
{
	char du[40];

	stripe_id(du, sizeof(du), "du_", rnd());
	putf(b, "{\"id\":\"%s\",\"object\":\"dispute\",\"amount\":%" PRId64 ",\"balance_transactions\":[],"
	    "\"charge\":\"%s\",\"created\":%" PRId64 ",\"currency\":\"%s\",\"evidence\":{\"access_activity_log\":null,"
	    "\"billing_address\":null,\"customer_email_address\":\"%s\",\"customer_name\":\"%s\",\"product_description\":null,"
	    "\"uncategorized_text\":null},\"evidence_details\":{\"due_by\":%" PRId64 ",\"has_evidence\":false,"
	    "\"past_due\":false,\"submission_count\":0},\"is_charge_refundable\":false,\"livemode\":%s,\"metadata\":{},"
	    "\"payment_intent\":\"%s\",\"reason\":\"fraudulent\",\"status\":\"needs_response\"}",
	    du, x->amount, x->charge_id, x->now, x->s.price->currency, x->c.email, x->c.name, x->now + 7 * 86400,
	    x->livemode ? "true" : "false", x->pi_id);
}

static int livemode_default = 1;

static void
stripe_event(struct buf *b, int64_t now)
{
	struct stripe_ctx x;
	enum stripe_type t = (enum stripe_type)pick(stripe_weights, S__COUNT);
	const char *type = stripe_type_names[t];
	int with_request = t == S_CUSTOMER_CREATED || t == S_CUSTOMER_UPDATED || t == S_PM_ATTACHED ||
	    t == S_SUB_CREATED || (t == S_SUB_UPDATED && below(2)) || t == S_SUB_DELETED;

	memset(&x, 0, sizeof(x));
	customer_get(below(n_customers), &x.c);
	sub_get(&x.c, &x.s);
	x.livemode = livemode_default;
	x.now = now;
	x.amount = x.s.price->unit_amount * x.s.quantity;
	fresh_stripe_id(x.invoice_id, sizeof(x.invoice_id), "in_");
	fresh_stripe_id(x.charge_id, sizeof(x.charge_id), "ch_");
	fresh_stripe_id(x.pi_id, sizeof(x.pi_id), "pi_");
	stripe_id(x.pm_id, sizeof(x.pm_id), "pm_", entity_hash(K_PM, x.c.index));

	stripe_begin(b, now);
	switch (t) {
	case S_INVOICE_PAID: case S_INVOICE_PAYMENT_SUCCEEDED: case S_INVOICE_PAYMENT_FAILED:
	case S_INVOICE_FINALIZED: case S_INVOICE_CREATED: case S_INVOICE_UPCOMING:
		stripe_invoice(b, &x, t);
		break;
	case S_CHARGE_SUCCEEDED: case S_CHARGE_FAILED: case S_CHARGE_REFUNDED:
		stripe_charge(b, &x, t);
		break;
	case S_SUB_CREATED: case S_SUB_UPDATED: case S_SUB_DELETED:
		stripe_subscription(b, &x, t);
		break;
	case S_CUSTOMER_CREATED: case S_CUSTOMER_UPDATED:
		stripe_customer(b, &x, t);
		break;
	case S_PI_SUCCEEDED: case S_PI_CREATED:
		stripe_payment_intent(b, &x, t);
		break;
	case S_CHECKOUT_COMPLETED:
		stripe_checkout(b, &x);
		break;
	case S_PM_ATTACHED:
		stripe_payment_method(b, &x);
		break;
	case S_DISPUTE_CREATED:
		stripe_dispute(b, &x);
		break;
	case S__COUNT:
		break;
	}
	stripe_end(b, type, x.livemode, with_request);
}

/* ---- Hotmart ------------------------------------------------------------- */

enum hotmart_type {
	H_APPROVED, H_COMPLETE, H_REFUNDED, H_CANCELED, H_CHARGEBACK, H_BILLET_PRINTED, H_DELAYED,
	H_EXPIRED, H_PROTEST, H_SUB_CANCELLATION, H_SWITCH_PLAN, H_CHARGE_DATE, H_CLUB_FIRST_ACCESS,
	H__COUNT
};
static const char *const hotmart_type_names[H__COUNT] = {
	"PURCHASE_APPROVED", "PURCHASE_COMPLETE", "PURCHASE_REFUNDED", "PURCHASE_CANCELED",
	"PURCHASE_CHARGEBACK", "PURCHASE_BILLET_PRINTED", "PURCHASE_DELAYED", "PURCHASE_EXPIRED",
	"PURCHASE_PROTEST", "SUBSCRIPTION_CANCELLATION", "SWITCH_PLAN", "UPDATE_SUBSCRIPTION_CHARGE_DATE",
	"CLUB_FIRST_ACCESS",
};
static const char *const hotmart_status[H__COUNT] = {
	"APPROVED", "COMPLETED", "REFUNDED", "CANCELED", "CHARGEBACK", "BILLET_PRINTED", "DELAYED",
	"EXPIRED", "DISPUTE", NULL, NULL, NULL, NULL,
};
static const unsigned hotmart_weights[H__COUNT] = { 34, 24, 3, 3, 1, 6, 3, 3, 1, 6, 2, 1, 3 };

struct hproduct {
	const char *name, *currency, *plan_name;
	int64_t price_minor;   /* cents */
	int subscription;      /* 1: a recurring plan */
};
static const struct hproduct hproducts[] = {
	{ "Curso Completo de Marketing Digital", "BRL", "Plano Mensal", 9700, 1 },
	{ "Curso Completo de Marketing Digital", "BRL", "Plano Anual", 99700, 1 },
	{ "Comunidade Investidor Pro", "BRL", "Assinatura Mensal", 4990, 1 },
	{ "Ebook Receitas Fit", "BRL", NULL, 2790, 0 },
	{ "Mentoria Carreira Tech", "BRL", NULL, 149700, 0 },
	{ "Photography Masterclass", "USD", "Monthly", 1900, 1 },
	{ "Curso de Inglês Fluente", "EUR", NULL, 4990, 0 },
	{ "Programa Finanzas Personales", "MXN", "Mensual", 29900, 1 },
};
static const unsigned hproduct_weights[] = { 30, 8, 14, 18, 4, 8, 6, 6 };

static const char *const payment_types[] = { "CREDIT_CARD", "PIX", "BILLET", "PAYPAL" };
static const unsigned payment_weights[] = { 64, 20, 11, 5 };

/* Hotmart sends prices as JSON numbers in major units: 97, 149.5, 27.9. */
static void
put_major(struct buf *b, int64_t minor)
{
	if (minor % 100 == 0)
		putf(b, "%" PRId64, minor / 100);
	else if (minor % 10 == 0)
		putf(b, "%" PRId64 ".%" PRId64, minor / 100, (minor % 100) / 10);
	else
		putf(b, "%" PRId64 ".%02" PRId64, minor / 100, minor % 100);
}

static void
put_price(struct buf *b, const char *key, int64_t minor, const char *cur)
{
	putf(b, "\"%s\":{\"value\":", key);
	put_major(b, minor);
	putf(b, ",\"currency_value\":\"%s\"}", cur);
}

struct hotmart_ctx {
	struct customer c;
	const struct hproduct *p;
	int64_t product_id, plan_id;
	char ucode[40], subscriber[16], transaction[24];
	int64_t now_ms;
};

static void
hotmart_product(struct buf *b, struct hotmart_ctx *x)
{
	putf(b, "\"product\":{\"id\":%" PRId64 ",\"ucode\":\"%s\",\"name\":\"%s\",\"warranty_date\":\"2026-01-%02dT00:00:00Z\","
	    "\"support_email\":\"suporte@produtor.example.com\",\"has_co_production\":false,\"is_physical_product\":false}",
	    x->product_id, x->ucode, x->p->name, 1 + (int)(x->product_id % 28));
}

static void
hotmart_purchase(struct buf *b, struct hotmart_ctx *x, enum hotmart_type t)
{
	const char *ptype = payment_types[pick(payment_weights, NELEM(payment_weights))];
	int installments = strcmp(ptype, "CREDIT_CARD") == 0 && x->p->price_minor > 20000 ? 1 + (int)below(12) : 1;
	int64_t price = x->p->price_minor;
	int64_t commission = price / 10;
	int64_t order_ms = x->now_ms - (int64_t)below(3 * 86400) * 1000;
	int approved = t == H_APPROVED || t == H_COMPLETE || t == H_REFUNDED || t == H_CHARGEBACK || t == H_PROTEST;

	if (t == H_BILLET_PRINTED)
		ptype = "BILLET";
	put(b, "\"data\":{");
	hotmart_product(b, x);
	putf(b, ",\"affiliates\":[{\"affiliate_code\":\"%s\",\"name\":\"%s\"}],", below(4) == 0 ? "Q58388177J" : "",
	    below(4) == 0 ? "Afiliado Parceiro" : "");
	{
		const char *sp = strchr(x->c.name, ' ');
		int first_len = sp ? (int)(sp - x->c.name) : (int)strlen(x->c.name);

		putf(b, "\"buyer\":{\"email\":\"%s\",\"name\":\"%s\",\"first_name\":\"%.*s\",\"last_name\":\"%s\","
		    "\"checkout_phone_code\":\"%.9s\",\"checkout_phone\":\"%s\",\"address\":{\"city\":\"%s\","
		    "\"country\":\"%s\",\"country_iso\":\"%s\",\"state\":\"\",\"neighborhood\":\"Centro\","
		    "\"zipcode\":\"%s\",\"address\":\"Avenida Paulista\",\"number\":\"%d\",\"complement\":\"\"},"
		    "\"document\":\"%011" PRIu64 "\",\"document_type\":\"CPF\"},",
		    x->c.email, x->c.name, first_len, x->c.name, sp ? sp + 1 : "", x->c.phone + 1, x->c.phone + 1,
		    x->c.country->city, x->c.country->name, x->c.country->iso, x->c.country->postal,
		    1 + (int)(x->c.index % 2000), entity_hash(K_CUS + 100, x->c.index) % UINT64_C(100000000000));
	}
	put(b, "\"producer\":{\"name\":\"Produtora Exemplo LTDA\",\"document\":\"12345678000190\",\"legal_nature\":\"Pessoa Jurídica\"},");
	put(b, "\"commissions\":[{\"value\":");
	put_major(b, commission);
	putf(b, ",\"source\":\"MARKETPLACE\",\"currency_value\":\"%s\"},{\"value\":", x->p->currency);
	put_major(b, price - commission);
	putf(b, ",\"source\":\"PRODUCER\",\"currency_value\":\"%s\"}],", x->p->currency);
	put(b, "\"purchase\":{");
	if (approved)
		putf(b, "\"approved_date\":%" PRId64 ",", order_ms + 2000);
	put_price(b, "full_price", price, x->p->currency);
	put(b, ",");
	put_price(b, "price", price, x->p->currency);
	putf(b, ",\"checkout_country\":{\"name\":\"%s\",\"iso\":\"%s\"},\"order_bump\":{\"is_order_bump\":false},",
	    x->c.country->name, x->c.country->iso);
	put_price(b, "original_offer_price", price, x->p->currency);
	putf(b, ",\"order_date\":%" PRId64 ",\"status\":\"%s\",\"transaction\":\"%s\",\"payment\":{",
	    order_ms, hotmart_status[t], x->transaction);
	if (strcmp(ptype, "BILLET") == 0)
		putf(b, "\"billet_barcode\":\"03399.33335 33823.303087 %06d 001014 1 %014" PRId64 "\","
		    "\"billet_url\":\"https://billet-link.example.com/bHP%s\",",
		    (int)below(1000000), price, x->transaction + 2);
	if (strcmp(ptype, "PIX") == 0)
		putf(b, "\"pix_code\":\"00020101021226870014br.gov.bcb.pix2565qrcode.example.com/%s\","
		    "\"pix_expiration_date\":%" PRId64 ",", x->transaction, order_ms + 86400000);
	putf(b, "\"installments_number\":%d,\"type\":\"%s\"},\"offer\":{\"code\":\"%.8s\"},\"invoice_by\":\"HOTMART\","
	    "\"subscription_anticipation_purchase\":false,", installments, ptype, x->ucode);
	if (x->p->subscription)
		putf(b, "\"date_next_charge\":%" PRId64 ",\"recurrence_number\":%d,",
		    x->now_ms + (int64_t)30 * 86400000, 1 + (int)below(24));
	put(b, "\"is_funnel\":false,\"business_model\":\"I\"}");
	if (x->p->subscription)
		putf(b, ",\"subscription\":{\"status\":\"%s\",\"plan\":{\"id\":%" PRId64 ",\"name\":\"%s\"},"
		    "\"subscriber\":{\"code\":\"%s\"}}",
		    t == H_CANCELED || t == H_REFUNDED || t == H_CHARGEBACK ? "CANCELLED_BY_ADMIN" :
		    t == H_DELAYED ? "DELAYED" : "ACTIVE", x->plan_id, x->p->plan_name, x->subscriber);
	put(b, "}");
}

/* The recurring product (and so the plan) of a customer's Hotmart subscription:
 * each by its weight among the recurring products. */
static size_t
subscriber_product(uint64_t customer)
{
	unsigned w[NELEM(hproducts)];

	for (size_t i = 0; i < NELEM(hproducts); i++)
		w[i] = hproducts[i].subscription ? hproduct_weights[i] : 0;
	return weighted(w, NELEM(hproducts), entity_hash(K_HSUBPROD, customer));
}

static void
hotmart_event(struct buf *b, int64_t now)
{
	struct hotmart_ctx x;
	enum hotmart_type t = (enum hotmart_type)pick(hotmart_weights, H__COUNT);
	size_t pi;
	uint64_t h;
	char id[40];

	memset(&x, 0, sizeof(x));
	customer_get(below(n_customers), &x.c);
	h = entity_hash(K_HSUB, x.c.index);
	/* a subscriber is on one recurring product and plan in every event about
	 * the subscription, as Hotmart sends it (the plan it pays for), not a new
	 * one each time; subscription events are always about it */
	pi = pick(hproduct_weights, NELEM(hproducts));
	if (t == H_SUB_CANCELLATION || t == H_SWITCH_PLAN || t == H_CHARGE_DATE || hproducts[pi].subscription)
		pi = subscriber_product(x.c.index);
	x.p = &hproducts[pi];
	x.product_id = 1000000 + (int64_t)(entity_hash(K_HPROD, pi) % 5000000);
	x.plan_id = 100000 + (int64_t)(entity_hash(K_HPLAN, pi) % 900000);
	{
		/* the product's ucode is the product's, not the event's */
		uint64_t save = rng;

		rng = entity_hash(K_HPROD, pi);
		uuid4(x.ucode, sizeof(x.ucode));
		rng = save;
	}
	make_id(x.subscriber, sizeof(x.subscriber), "", h, 8);
	for (char *p = x.subscriber; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 32);
	snprintf(x.transaction, sizeof(x.transaction), "HP%014" PRIu64, rnd() % UINT64_C(100000000000000));
	x.now_ms = now * 1000 + (int64_t)below(1000);

	putf(b, "{\"id\":\"%s\",\"creation_date\":%" PRId64 ",\"event\":\"%s\",\"version\":\"2.0.0\",",
	    uuid4(id, sizeof(id)), x.now_ms, hotmart_type_names[t]);
	switch (t) {
	case H_SUB_CANCELLATION:
		put(b, "\"data\":{");
		putf(b, "\"date_next_charge\":%" PRId64 ",\"product\":{\"name\":\"%s\",\"id\":%" PRId64 "},"
		    "\"actual_recurrence_value\":", x.now_ms + (int64_t)below(30) * 86400000, x.p->name, x.product_id);
		put_major(b, x.p->price_minor);
		putf(b, ",\"subscriber\":{\"code\":\"%s\",\"name\":\"%s\",\"email\":\"%s\",\"phone\":{\"dddPhone\":\"\","
		    "\"phone\":\"\",\"dddCell\":\"%02d\",\"cell\":\"9%08d\"}},\"subscription\":{\"id\":%" PRIu64 ","
		    "\"plan\":{\"name\":\"%s\",\"id\":%" PRId64 "}},\"cancellation_date\":%" PRId64 "}",
		    x.subscriber, x.c.name, x.c.email, 11 + (int)(h % 80), (int)((h >> 8) % 100000000),
		    (h >> 20) % 10000000, x.p->plan_name, x.plan_id, x.now_ms);
		break;
	case H_SWITCH_PLAN:
		putf(b, "\"data\":{\"switch_plan_date\":%" PRId64 ",\"subscription\":{\"subscriber_code\":\"%s\","
		    "\"status\":\"ACTIVE\",\"product\":{\"id\":%" PRId64 ",\"name\":\"%s\"},\"user\":{\"email\":\"%s\"}},"
		    "\"plans\":[{\"id\":%" PRId64 ",\"name\":\"%s\",\"offer\":{\"key\":\"%.8s\"},\"current\":true},"
		    "{\"id\":%" PRId64 ",\"name\":\"Plano Trimestral\",\"offer\":{\"key\":\"%.8s\"},\"current\":false}]}",
		    x.now_ms, x.subscriber, x.product_id, x.p->name, x.c.email, x.plan_id, x.p->plan_name, x.ucode,
		    x.plan_id + 1, x.ucode + 9);
		break;
	case H_CHARGE_DATE:
		putf(b, "\"data\":{\"subscriber\":{\"code\":\"%s\",\"name\":\"%s\",\"email\":\"%s\"},"
		    "\"subscription\":{\"id\":%" PRIu64 ",\"status\":\"ACTIVE\",\"plan\":{\"id\":%" PRId64 ",\"name\":\"%s\"},"
		    "\"product\":{\"id\":%" PRId64 ",\"name\":\"%s\"},\"dateNextCharge\":%" PRId64 ",\"previous_charge_day\":%d,"
		    "\"new_charge_day\":%d}}",
		    x.subscriber, x.c.name, x.c.email, (h >> 20) % 10000000, x.plan_id, x.p->plan_name, x.product_id,
		    x.p->name, x.now_ms + (int64_t)20 * 86400000, 1 + (int)below(28), 1 + (int)below(28));
		break;
	case H_CLUB_FIRST_ACCESS:
		putf(b, "\"data\":{\"product\":{\"id\":%" PRId64 ",\"name\":\"%s\"},\"user\":{\"name\":\"%s\",\"email\":\"%s\"}}",
		    x.product_id, x.p->name, x.c.name, x.c.email);
		break;
	default:
		hotmart_purchase(b, &x, t);
		break;
	}
	put(b, "}");
}

/* ---- the stream ---------------------------------------------------------- */

#define RING 256
#define HELD 8

struct held {
	struct buf text;
	long release_at; /* emit once this many lines are out */
	int used;
};

static void
emit(const struct buf *b)
{
	if (fwrite(b->p, 1, b->len, stdout) != b->len || putchar('\n') == EOF)
		die("write error: %s", strerror(errno));
}

static void
copy(struct buf *dst, const struct buf *src)
{
	dst->len = 0;
	grow(dst, src->len);
	memcpy(dst->p, src->p, src->len + 1);
	dst->len = src->len;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: gen [-n count] [-s seed] [-r stripe_ratio] [-d dup_fraction] [-t start] [-T]\n"
	    "\n"
	    "Write count webhook payloads (Stripe events and Hotmart 2.0.0 webhooks), one\n"
	    "JSON object a line, to stdout. The same options always give the same bytes.\n"
	    "\n"
	    "  -n count         payloads to write (default 1000)\n"
	    "  -s seed          seed of the generator (default 1)\n"
	    "  -r stripe_ratio  fraction of Stripe payloads, 0..1 (default 0.7)\n"
	    "  -d dup_fraction  fraction of lines that are duplicates or late deliveries, 0..1 (default 0.01)\n"
	    "  -t start         epoch seconds of the first event (default 1735689600, 2025-01-01)\n"
	    "  -T               test mode: Stripe livemode false\n"
	    "\n"
	    "Exit status: 0 ok, 1 write error, 2 usage.\n"
	    "Example: gen -n 200000 -s 42 | gzip -1 > /tmp/dump.ndjson.gz\n");
}

static double
parse_fraction(const char *s, const char *what)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || end == s || !(v >= 0 && v <= 1)) {
		fprintf(stderr, "%s: invalid %s '%s' (want 0..1)\n", prog, what, s);
		usage(stderr);
		exit(2);
	}
	return v;
}

static long long
parse_int(const char *s, const char *what)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || end == s || v < 0) {
		fprintf(stderr, "%s: invalid %s '%s'\n", prog, what, s);
		usage(stderr);
		exit(2);
	}
	return v;
}

int
main(int argc, char **argv)
{
	long count = 1000, out = 0, i;
	double stripe_ratio = 0.7, dup = 0.01;
	int64_t now;
	struct buf cur = { 0 };
	struct buf ring[RING];
	struct held held[HELD];
	long ring_n = 0;
	int c;

	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	seed = 1;
	t_start = 1735689600;
	while ((c = getopt(argc, argv, "n:s:r:d:t:Th")) != -1) {
		switch (c) {
		case 'n': count = (long)parse_int(optarg, "count"); break;
		case 's': seed = (uint64_t)parse_int(optarg, "seed"); break;
		case 'r': stripe_ratio = parse_fraction(optarg, "stripe ratio"); break;
		case 'd': dup = parse_fraction(optarg, "duplicate fraction"); break;
		case 't': t_start = (int64_t)parse_int(optarg, "start time"); break;
		case 'T': livemode_default = 0; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	rng = seed ^ UINT64_C(0x5eed5eed5eed5eed);
	n_customers = (uint64_t)(count / 20 > 500 ? count / 20 : 500);
	make_id(account_id, sizeof(account_id), "acct_1", entity_hash(K_ACCT, 0), 16);
	memset(ring, 0, sizeof(ring));
	memset(held, 0, sizeof(held));
	if (setvbuf(stdout, NULL, _IOFBF, 1 << 16) != 0)
		die("setvbuf failed");

	now = t_start;
	while (out < count) {
		int n_held = 0;

		/* late deliveries whose time has come */
		for (i = 0; i < HELD; i++) {
			if (held[i].used && held[i].release_at <= out && out < count) {
				emit(&held[i].text);
				held[i].used = 0;
				out++;
			}
			n_held += held[i].used;
		}
		if (out + n_held >= count) {
			/* the rest are the held ones: flush them in order */
			for (i = 0; i < HELD; i++)
				if (held[i].used && out < count) {
					emit(&held[i].text);
					held[i].used = 0;
					out++;
				}
			break;
		}

		double r = unit();
		if (r < dup / 2 && ring_n > 0) {
			/* a redelivery: the same bytes again */
			emit(&ring[below((uint64_t)(ring_n < RING ? ring_n : RING))]);
			out++;
			continue;
		}
		now += (int64_t)below(3);
		cur.len = 0;
		if (unit() < stripe_ratio)
			stripe_event(&cur, now);
		else
			hotmart_event(&cur, now);
		copy(&ring[ring_n % RING], &cur);
		ring_n++;
		if (r < dup) {
			/* a late delivery: hold it back for a few lines */
			for (i = 0; i < HELD; i++)
				if (!held[i].used)
					break;
			if (i < HELD) {
				copy(&held[i].text, &cur);
				held[i].release_at = out + 1 + (long)below(32);
				held[i].used = 1;
				continue;
			}
		}
		emit(&cur);
		out++;
	}
	if (fflush(stdout) == EOF || ferror(stdout) || fclose(stdout) == EOF)
		die("write error: %s", strerror(errno));
	return 0;
}
