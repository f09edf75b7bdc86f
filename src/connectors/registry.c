/* registry.c: the one table of provider connectors. Add a line to add one. */
#include <stdio.h>
#include <string.h>

#include "connector.h"
#include "timeutil.h"

extern const struct connector stripe_connector;
extern const struct connector hotmart_connector;

const struct connector *const connectors[] = {
	&stripe_connector,
	&hotmart_connector,
	NULL,
};

const struct connector *connector_by_name(const char *name)
{
	for (const struct connector *const *c = connectors; *c; c++)
		if (strcmp((*c)->name, name) == 0)
			return *c;
	return NULL;
}

const char *connector_names(void)
{
	static char names[256];

	if (!names[0])
		for (const struct connector *const *c = connectors; *c; c++)
			snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
				 c == connectors ? "" : ", ", (*c)->name);
	return names;
}

const struct connector *connector_detect(json_object *payload)
{
	if (!json_object_is_type(payload, json_type_object))
		return NULL;
	for (const struct connector *const *c = connectors; *c; c++)
		if ((*c)->detect(payload))
			return *c;
	return NULL;
}

int64_t identity_time(const struct event_identity *id, const char *received_at)
{
	int64_t ms;

	if (!id->at_arrival)
		return id->occurred_ms;
	return received_at && parse_rfc3339_strict(received_at, &ms) == 0 ? ms : 0;
}
