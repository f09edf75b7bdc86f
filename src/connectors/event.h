/*
 * event.h: the canonical event (docs/events.md) and its builder.
 *
 * Every key of the schema is always present, in a fixed order, null when
 * unknown; a section (customer, payment, subscription) is null until a
 * connector sets one of its keys. Setting a key outside the schema is a
 * programming error and aborts. The builder copies every string it is given.
 */
#ifndef RO_EVENT_H
#define RO_EVENT_H

#include <stdint.h>
#include <stdio.h>
#include <json-c/json.h>

#include "jsonutil.h"
#include "strbuf.h"

#define EVENT_SCHEMA_VERSION 1

enum event_status { EV_PROCESSED, EV_IGNORED, EV_FAILED };
enum event_section { SEC_TOP, SEC_CUSTOMER, SEC_PAYMENT, SEC_SUBSCRIPTION, SEC__COUNT };

#define EVENT_MAX_KEYS 18 /* keys in the largest section */

struct event {
	/* One value per schema key (NULL: null), in schema order; a section is
	 * null until one of its keys is set. */
	json_object *val[SEC__COUNT][EVENT_MAX_KEYS];
	int has[SEC__COUNT];
	json_object *obj; /* built by event_finish() */
	enum event_status status;
	int settled;
	/* Connectors pass &ev->err to the jget_* getters: a failed getter makes
	 * the event `failed` with its reason (the field's name) when it is settled. */
	struct jerr err;
	int64_t occurred_ms; /* the event's own time, 0 unknown */
};

struct event_origin {
	const char *provider, *external_event_id, *project_id, *received_at, *source;
	const char *provider_event_type;
	int64_t occurred_ms; /* 0: unknown until the connector sets it */
};

/* 1 when t is a canonical event type (docs/events.md's table). */
int event_type_known(const char *t);
/* 1 when s is a plan code the plans table takes: lower-case letters, digits,
 * '_', '.' and '-', from a letter or digit (sql/001, plans_code_check), at most
 * PLAN_CODE_MAX bytes (a longer one may pass the check and then no btree of
 * the table takes it: every event naming its price would be refused). */
enum { PLAN_CODE_MAX = 255 };
int plan_code_valid(const char *s);

void event_init(struct event *ev, const struct event_origin *o);
void event_set_type(struct event *ev, const char *canonical_type);
void event_set_occurred(struct event *ev, int64_t ms);
void event_ignore(struct event *ev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void event_fail(struct event *ev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* NULL / 0 ms leave the key null. */
void event_str(struct event *ev, enum event_section s, const char *key, const char *val);
/* A text typed by a person (a name): without the blanks around it (jsonutil's
 * text_trim); one that is nothing else leaves the key as it was. 1 when set. */
int event_text(struct event *ev, enum event_section s, const char *key, const char *val);
void event_int(struct event *ev, enum event_section s, const char *key, int64_t val);
void event_bool(struct event *ev, enum event_section s, const char *key, int val);
void event_time(struct event *ev, enum event_section s, const char *key, int64_t ms);
/* The value currently at key of section s (borrowed), or NULL. */
json_object *event_get(struct event *ev, enum event_section s, const char *key);

/* Settle status and reason; returns the event as a json-c object (owned by ev). */
json_object *event_finish(struct event *ev);
/* Settle status and reason and append the event as one JSON line, without
 * building json-c objects: what normalize does for every event. */
void event_append(struct event *ev, struct strbuf *out);
/* The same, written to f. */
void event_write(struct event *ev, FILE *f);
/* The settled reason (ignored or failed), or NULL. */
const char *event_reason(struct event *ev);
/* Release the event. */
void event_free(struct event *ev);

#endif
