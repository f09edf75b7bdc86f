/* hotmart.c: placeholder until the hotmart connector lands; it recognises nothing. */
#include "connector.h"

static int detect(json_object *payload)
{
	return 0;
}

static int identify(json_object *payload, struct event_identity *id, struct jerr *e)
{
	jerr_set(e, "the hotmart connector is not built yet");
	return -1;
}

static void normalize(json_object *payload, struct event *ev)
{
	event_fail(ev, "the hotmart connector is not built yet");
}

const struct connector hotmart_connector = { "hotmart", detect, identify, normalize };
