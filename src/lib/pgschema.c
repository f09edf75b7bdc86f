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

int pg_schema_pin(PGconn *c, int creating, char **schema, PGresult **failed)
{
	*failed = NULL;
	/* not a temporary table of the session's (pg_temp comes first for tables) */
	if (one_value(c, "SELECT quote_ident(n.nspname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
			 " WHERE c.oid = to_regclass('pipeline_runs') AND c.relpersistence <> 't'", schema, failed) < 0)
		return PG_SCHEMA_FAILED;
	if (!*schema) {
		/* RevenueOS's: its pipeline_runs beside its schema_migrations (a schema the
		 * role may not use is listed too: pg_class is everybody's to read) */
		if (one_value(c, "SELECT string_agg(quote_ident(n.nspname), ', ' ORDER BY n.nspname)"
				 " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
				 " WHERE c.relname = 'pipeline_runs' AND c.relkind IN ('r', 'p') AND c.relpersistence <> 't'"
				 " AND EXISTS (SELECT FROM pg_class m WHERE m.relnamespace = c.relnamespace"
				 " AND m.relname = 'schema_migrations')", schema, failed) < 0)
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
