/*
 * pgmsg.h: what load and reconcile say about PostgreSQL, kept free of the
 * password. pg_password_of() finds the password a connection string or
 * PGPASSWORD gives; pg_oneline() prints a server or libpq message on one
 * line with that password masked, should it ever show up.
 */
#ifndef RO_PGMSG_H
#define RO_PGMSG_H

/*
 * The password --dsn CONNINFO (a key=value string or a URI) names, else
 * PGPASSWORD's; NULL when there is none. What libpq marks secret counts
 * (password, sslpassword), and so does a dbname that is itself a connection
 * string holding one, whole: libpq sends it as the database's name, which
 * the server quotes. Returns -1 when dsn does not parse (libpq's message is
 * not kept: it may quote the string, password and all), 0 otherwise.
 * *password is malloc'd; the caller frees it. Every secret found is kept
 * for pg_oneline until the next call.
 */
int pg_password_of(const char *dsn, char **password);

/*
 * The --dsn option's argument, taken from the command line: returns a copy to
 * connect with (kept until the next call) and overwrites, in arg itself, what
 * of it is secret (a URI's user:password@ and each password= of its query as
 * written, %-escapes and all, and each sslpassword=; every copy of the text
 * of each secret pg_password_of counts; the whole string when a key=value
 * one is nowhere written as libpq reads it, in quotes with escapes) with '*',
 * so that
 * `ps` and /proc/PID/cmdline no longer show it. Until the call they do: a
 * password belongs in PGPASSWORD or ~/.pgpass.
 */
const char *pg_dsn_take(char *arg);

/*
 * msg on one line: newlines and tabs become spaces, runs of spaces one, no
 * trailing space, every copy of password (when not NULL or empty) and of each
 * secret the last pg_password_of found as "********". Returns a static buffer, valid until the next call.
 */
const char *pg_oneline(const char *msg, const char *password);

#endif
