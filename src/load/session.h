/*
 * load/session.h: the database session of src/load.c, for load's other parts
 * (load/migrate.c). Every call acts on conn and ends the program, exit 3,
 * saying what failed, when the statement does.
 */
#ifndef RO_LOAD_SESSION_H
#define RO_LOAD_SESSION_H

#include <libpq-fe.h>

/* the connection statements run on */
extern PGconn *conn;

/* what failed and PostgreSQL's message (a password masked), then how much of
 * the run was committed; exit 3 */
void die_pg(const char *what, const PGresult *r) __attribute__((noreturn));
/* a statement that must succeed, through the extended protocol; the caller clears its result */
PGresult *must(const char *sql, int nparams, const char *const *params);
/* a parameterless statement (or several) that must succeed */
void exec_ok(const char *sql);
/* wait, however long, for the loaders' turn (an advisory lock, taken only in
 * a session still ours); a migrator takes the migrators' first */
void wait_turn(int migrator);
/* BEGIN a transaction of the loader's (revenueos.writer set in it), in a
 * session still ours (else exit 3: a connection pooler) */
void begin_tx(void);

#endif
