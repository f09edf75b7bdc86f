/*
 * connector.h: one connector per provider, registered in the one table in
 * registry.c. A connector recognises its payloads (for fetch-events) and maps
 * them to the canonical event (for normalize, see docs/events.md).
 *
 * Ownership: connectors borrow the payload; every string they put into an
 * event is copied by the event builder.
 */
#ifndef RO_CONNECTOR_H
#define RO_CONNECTOR_H

#include <stdint.h>
#include <json-c/json.h>

#include "event.h"
#include "jsonutil.h"

struct event_identity {
	const char *event_id;      /* borrowed from the payload, or from id_buf */
	const char *event_type;    /* the provider's own type, borrowed; may be NULL */
	int64_t occurred_ms;       /* 0 when the payload carries no time */
	int at_arrival;            /* none, and the event is when it arrived: identity_time */
	char id_buf[128];          /* for ids a connector has to derive */
};

struct connector {
	const char *name; /* "stripe": the provider name everywhere (envelopes, tables) */
	/* 1 when the payload is this provider's; must be cheap and never fail. */
	int (*detect)(json_object *payload);
	/* Event id, type and time for the raw envelope. 0 ok; -1 with e set
	 * (e.g. no event id: fetch-events rejects it as missing_event_id). */
	int (*identify)(json_object *payload, struct event_identity *id, struct jerr *e);
	/* Fill ev from the payload: event_set_type() and the sections, or
	 * event_ignore() / event_fail(). Never crash on any JSON input. */
	void (*normalize)(json_object *payload, struct event *ev);
};

/* The registry: NULL-terminated, in detection order. */
extern const struct connector *const connectors[];
/* Their names, "stripe, hotmart": for a message naming a provider none has. */
const char *connector_names(void);

const struct connector *connector_by_name(const char *name);
/* The event's time: id's, or received_at's (RFC 3339) for one dated at its
 * arrival; 0 when none. */
int64_t identity_time(const struct event_identity *id, const char *received_at);
/* The first connector whose detect() accepts the payload, or NULL. */
const struct connector *connector_detect(json_object *payload);

#endif
