/* event.c: the canonical event builder; the key lists are the schema. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "timeutil.h"

static const char *const top_keys[] = {
	"record", "schema_version", "provider", "external_event_id", "project_id",
	"event_type", "provider_event_type", "status", "reason", "occurred_at",
	"received_at", "source", "livemode", "customer", "payment", "subscription", NULL,
};
static const char *const customer_keys[] = {
	"id", "email", "name", "phone", "country", NULL,
};
static const char *const payment_keys[] = {
	"id", "object", "invoice_id", "subscription_id", "charge_id", "payment_intent_id",
	"amount_minor", "currency",
	"status", "method", "installments", "failure_code", "discount_minor",
	"refunded_minor", "due_at", "paid_at", NULL,
};
static const char *const subscription_keys[] = {
	"id", "price_id", "product_id", "plan_code", "status", "interval",
	"interval_count", "quantity", "current_period_start", "current_period_end",
	"cancel_at_period_end", "canceled_at", "trial_end", NULL,
};
static const char *const *const section_keys[SEC__COUNT] = {
	top_keys, customer_keys, payment_keys, subscription_keys,
};
static const char *const section_names[SEC__COUNT] = {
	NULL, "customer", "payment", "subscription",
};
static const char *const status_names[] = { "processed", "ignored", "failed" };

static json_object *new_section(const char *const *keys)
{
	json_object *o = json_object_new_object();
	for (; *keys; keys++)
		json_object_object_add(o, *keys, NULL);
	return o;
}

static void put(json_object *o, const char *key, json_object *val)
{
	/* json-c keeps a replaced key's position: the schema order survives. */
	json_object_object_add(o, key, val);
}

void event_init(struct event *ev, const struct event_origin *o)
{
	char t[RFC3339_BUFSZ];

	memset(ev, 0, sizeof *ev);
	ev->obj = ev->sec[SEC_TOP] = new_section(top_keys);
	put(ev->obj, "record", json_object_new_string("event"));
	put(ev->obj, "schema_version", json_object_new_int(EVENT_SCHEMA_VERSION));
	event_str(ev, SEC_TOP, "provider", o->provider);
	event_str(ev, SEC_TOP, "external_event_id", o->external_event_id);
	event_str(ev, SEC_TOP, "project_id", o->project_id);
	event_str(ev, SEC_TOP, "provider_event_type", o->provider_event_type);
	event_str(ev, SEC_TOP, "received_at", o->received_at);
	event_str(ev, SEC_TOP, "source", o->source);
	if (o->occurred_ms)
		event_str(ev, SEC_TOP, "occurred_at", fmt_rfc3339(o->occurred_ms, t));
	ev->status = EV_PROCESSED;
}

static json_object *section(struct event *ev, enum event_section s, const char *key)
{
	const char *const *k;

	for (k = section_keys[s]; *k; k++)
		if (strcmp(*k, key) == 0)
			break;
	if (!*k) {
		fprintf(stderr, "event: '%s' is not a key of the canonical schema\n", key);
		abort();
	}
	if (!ev->sec[s]) {
		ev->sec[s] = new_section(section_keys[s]);
		put(ev->obj, section_names[s], ev->sec[s]);
	}
	return ev->sec[s];
}

void event_str(struct event *ev, enum event_section s, const char *key, const char *val)
{
	if (val)
		put(section(ev, s, key), key, json_object_new_string(val));
}

void event_int(struct event *ev, enum event_section s, const char *key, int64_t val)
{
	put(section(ev, s, key), key, json_object_new_int64(val));
}

void event_bool(struct event *ev, enum event_section s, const char *key, int val)
{
	put(section(ev, s, key), key, json_object_new_boolean(val));
}

void event_time(struct event *ev, enum event_section s, const char *key, int64_t ms)
{
	char t[RFC3339_BUFSZ];

	if (ms)
		event_str(ev, s, key, fmt_rfc3339(ms, t));
}

json_object *event_get(struct event *ev, enum event_section s, const char *key)
{
	json_object *v = NULL;

	if (ev->sec[s])
		json_object_object_get_ex(ev->sec[s], key, &v);
	return v;
}

void event_set_type(struct event *ev, const char *canonical_type)
{
	event_str(ev, SEC_TOP, "event_type", canonical_type);
}

void event_set_occurred(struct event *ev, int64_t ms)
{
	event_time(ev, SEC_TOP, "occurred_at", ms);
}

/*
 * Reasons quote payload values, which connectors clip ("%.32s") and
 * vsnprintf truncates: either can cut a UTF-8 sequence, and json-c would
 * write the broken bytes. Each byte outside a valid sequence becomes '?'.
 */
static void utf8_repair(char *s)
{
	size_t len = strlen(s);

	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		size_t n = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
		if (i + n <= len && utf8_valid(s + i, n))
			i += n;
		else
			s[i++] = '?';
	}
}

static void set_status(struct event *ev, enum event_status st, const char *fmt, va_list ap)
{
	char reason[256];

	if (ev->status == EV_FAILED)
		return; /* the first failure is the one worth reading */
	ev->status = st;
	vsnprintf(reason, sizeof reason, fmt, ap);
	utf8_repair(reason);
	put(ev->obj, "reason", json_object_new_string(reason));
}

void event_ignore(struct event *ev, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_status(ev, EV_IGNORED, fmt, ap);
	va_end(ap);
}

void event_fail(struct event *ev, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_status(ev, EV_FAILED, fmt, ap);
	va_end(ap);
}

json_object *event_finish(struct event *ev)
{
	if (ev->err.failed)
		event_fail(ev, "%s", ev->err.reason);
	if (ev->status == EV_FAILED) {
		/* A failed event must not half-apply: its sections are dropped. */
		for (int s = SEC_CUSTOMER; s < SEC__COUNT; s++) {
			if (ev->sec[s])
				put(ev->obj, section_names[s], NULL);
			ev->sec[s] = NULL;
		}
	}
	put(ev->obj, "status", json_object_new_string(status_names[ev->status]));
	return ev->obj;
}

void event_free(struct event *ev)
{
	json_object_put(ev->obj);
	memset(ev, 0, sizeof *ev);
}
