/* pgschema.c: the RevenueOS schema, made the session's search_path. */
#include "pgschema.h"

#include <stdlib.h>
#include <string.h>

#include "diag.h"

/* One text value (NULL when null or no row), or -1 with *failed. */
static int one_value(PGconn *c, const char *sql, char **v, PGresult **failed)
{
	PGresult *r = PQexec(c, sql);
	*v = NULL;
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		*failed = r;
		return -1;
	}
	if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
		*v = xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return 0;
}

PGresult *pg_schema_set(PGconn *c, const char *schema)
{
	const char *p[1] = { schema };
	PGresult *r = PQexecParams(c, "SELECT set_config('search_path', $1, false)", 1, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(r) == PGRES_TUPLES_OK) {
		PQclear(r);
		return NULL;
	}
	return r;
}

/* SQL: the schema whose oid is ns holds RevenueOS's tables */
#define OURS_IN(ns) \
	"(SELECT count(*) FROM pg_class t WHERE t.relnamespace = " ns " AND t.relkind IN ('r', 'p')" \
	" AND t.relname IN ('pipeline_runs', 'schema_migrations', 'external_events_raw')) = 3"

char *pg_schema_shadows(PGconn *c)
{
	char *list = NULL;
	PGresult *failed = NULL;
	/* the schemas before ours on the path, and their relations named as ours */
	if (one_value(c, "WITH p AS (SELECT s.nspname, s.i, n.oid FROM unnest(current_schemas(false))"
			 " WITH ORDINALITY AS s(nspname, i) JOIN pg_namespace n ON n.nspname = s.nspname),"
			 " ours AS (SELECT i, oid FROM p WHERE " OURS_IN("p.oid") " ORDER BY i LIMIT 1)"
			 " SELECT string_agg(quote_ident(p.nspname) || '.' || quote_ident(c.relname), ', '"
			 " ORDER BY p.i, c.relname) FROM p JOIN ours ON p.i < ours.i JOIN pg_class c ON"
			 " c.relnamespace = p.oid AND c.relkind IN ('r', 'p', 'v', 'm', 'f') WHERE c.relname IN"
			 " (SELECT t.relname FROM pg_class t WHERE t.relnamespace = ours.oid AND t.relkind IN ('r', 'p'))",
			 &list, &failed) < 0)
		PQclear(failed);
	return list;
}

int pg_schema_pin(PGconn *c, int creating, char **schema, PGresult **failed)
{
	*failed = NULL;
	/* the first schema of the search_path (as the role may use it) that holds
	 * RevenueOS's tables: pipeline_runs, schema_migrations and external_events_raw.
	 * Not the first pipeline_runs alone: a copy of it in a role's own schema
	 * (made while fixing something) took the whole search_path, and the tables
	 * were not found (review R15 2). */
	if (one_value(c, "SELECT quote_ident(s.nspname) FROM unnest(current_schemas(false)) WITH ORDINALITY"
			 " AS s(nspname, i) JOIN pg_namespace n ON n.nspname = s.nspname WHERE " OURS_IN("n.oid")
			 " ORDER BY s.i LIMIT 1", schema, failed) < 0)
		return PG_SCHEMA_FAILED;
	if (!*schema) {
		/* elsewhere: not on the search_path, or not usable by the role (pg_class
		 * is everybody's to read; current_schemas leaves out a schema without
		 * USAGE, which the message says) */
		if (one_value(c, "SELECT string_agg(quote_ident(n.nspname) || CASE WHEN has_schema_privilege(n.oid, 'USAGE')"
				 " THEN '' ELSE ' (this role has no USAGE on it: GRANT USAGE ON SCHEMA ' || quote_ident(n.nspname)"
				 " || ' TO ...)' END, ', ' ORDER BY n.nspname) FROM pg_namespace n WHERE " OURS_IN("n.oid"),
				 schema, failed) < 0)
			return PG_SCHEMA_FAILED;
		if (*schema)
			return PG_SCHEMA_ELSEWHERE;
		if (!creating)
			return PG_SCHEMA_NONE;
		if (one_value(c, "SELECT quote_ident(current_schema())", schema, failed) < 0)
			return PG_SCHEMA_FAILED;
		if (!*schema)
			return PG_SCHEMA_NOWHERE;
	}
	if ((*failed = pg_schema_set(c, *schema))) {
		free(*schema);
		*schema = NULL;
		return PG_SCHEMA_FAILED;
	}
	return PG_SCHEMA_OURS;
}
