/*
 * pgschema.h: where RevenueOS's tables are, for load and reconcile --db.
 *
 * The programs name their tables without a schema, so the session's
 * search_path picks them. A role's own schema first in it (the default
 * "$user", public, once CREATE SCHEMA AUTHORIZATION made one) took a load's
 * writes into a table of its own of the same name, and a --migrate's new
 * objects (audit-GUC 2, 3). So every session's search_path is made the one
 * schema that holds RevenueOS's tables: the first schema of the search_path
 * holding the tables pipeline_runs, schema_migrations and external_events_raw (pg_catalog is
 * still searched first, and pg_temp for the session's own temporary tables).
 */
#ifndef RO_PGSCHEMA_H
#define RO_PGSCHEMA_H

#include <libpq-fe.h>

enum {
	PG_SCHEMA_OURS,      /* found (or, creating, the one to create in): the search_path is it alone */
	PG_SCHEMA_NONE,      /* no RevenueOS tables in the database */
	PG_SCHEMA_ELSEWHERE, /* none on the search_path; *schema names the schemas that hold them */
	PG_SCHEMA_NOWHERE,   /* creating, and the search_path names no schema that exists */
	PG_SCHEMA_FAILED     /* a statement failed: *failed is its result (the caller clears it) */
};

/*
 * Find the RevenueOS schema on c's search_path and make it the session's
 * whole search_path. creating (load --migrate): when the database has none
 * anywhere, the schema to create them in is the one PostgreSQL would, the
 * first on the search_path that exists. *schema is the schema as SQL quotes
 * it (quote_ident), malloc'd, or NULL.
 */
int pg_schema_pin(PGconn *c, int creating, char **schema, PGresult **failed);

/* what PG_SCHEMA_NONE says (and load, of a schema without its tables) */
#define PG_SCHEMA_NONE_MSG "the database has no RevenueOS schema: run 'load --migrate' first"
/* what PG_SCHEMA_ELSEWHERE says, with *schema */
#define PG_SCHEMA_ELSEWHERE_MSG "the database's RevenueOS tables are in schema %s, not on this session's" \
	" search_path or without USAGE for this role: name it in the role's search_path (ALTER ROLE" \
	" ... SET search_path), the database's or PGOPTIONS='-c search_path=...', and grant the role USAGE on it"

/*
 * The relations named as RevenueOS's tables in schemas before its own on c's
 * search_path ("ingest.customers, ..."): read and written instead by a
 * release before 0.2.0. Call before pg_schema_pin. NULL when none (or when
 * the query fails: it is a note); malloc'd.
 */
char *pg_schema_shadows(PGconn *c);

/* search_path set to schema (pg_schema_pin's): NULL, or the failed statement's result */
PGresult *pg_schema_set(PGconn *c, const char *schema);

#endif
