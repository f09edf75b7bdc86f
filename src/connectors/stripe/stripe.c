/* stripe.c: placeholder until the stripe connector lands; it recognises nothing. */
#include "connector.h"

static int detect(json_object *payload)
{
	return 0;
}

static int identify(json_object *payload, struct event_identity *id, struct jerr *e)
{
	jerr_set(e, "the stripe connector is not built yet");
	return -1;
}

static void normalize(json_object *payload, struct event *ev)
{
	event_fail(ev, "the stripe connector is not built yet");
}

const struct connector stripe_connector = { "stripe", detect, identify, normalize };
