/*
 * load/migrate.h: load --migrate, sql/'s migrations applied in order
 * (load/migrate.c).
 */
#ifndef RO_LOAD_MIGRATE_H
#define RO_LOAD_MIGRATE_H

/* The last of sql/: a database that has a later one is a newer release's, one
 * without it an older's (tests/sh/contracts.sh checks that it is sql/'s last). */
#define NEWEST_MIGRATION "036_triggers_own_schema.sql"

/* Apply the migrations of sql_opt (NULL: $RO_SQL_DIR, else the sql/ beside
 * the program) the database has not, each in its own transaction, on conn
 * once the turn is ours; returns the exit status. */
int migrate(const char *sql_opt);

#endif
