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
 * the server quotes. A database's name alone holds none. Returns -1 when
 * dsn does not parse (libpq's message is
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
 * The connection string to use: dsn (--dsn's) when not NULL, else $RO_DSN's
 * when set and not empty (a password there stays out of `ps`: the
 * environment of a process is its user's to read only), else NULL (libpq's
 * PG* environment). *from says which, for messages: "--dsn" or "RO_DSN".
 */
const char *pg_dsn_or_env(const char *dsn, const char **from);

/*
 * dsn for a program that takes the connection string on its command line
 * (psql), with the password out of it: *conninfo is dsn with no password
 * option (every option libpq read, as key='value'), and *password the
 * password, for PGPASSWORD, which libpq sends only when the string names
 * none, as it does the string's. When moving it would change what libpq
 * does (no password, or an empty one; a service named, in the string or by
 * PGSERVICE, whose file's password= would win over PGPASSWORD), or dsn is a
 * database's name alone ("revenueos": no '=', no "://"), *conninfo is dsn as
 * it is and *password NULL. -1 when dsn does not parse. Both
 * malloc'd; the caller frees them.
 */
int pg_dsn_split(const char *dsn, char **conninfo, char **password);

/*
 * The secrets the last pg_password_of found (the password, the pieces of it
 * libpq may quote, a secret dbname, an sslpassword), one by one: i from 0;
 * NULL past the last.
 */
const char *pg_secret(int i);

/*
 * msg on one line: newlines and tabs become spaces, runs of spaces one, no
 * trailing space. A copy of password (when not NULL or empty) or of a secret
 * the last pg_password_of found is masked with the whole quoted text that
 * holds it (libpq and the server quote hosts, ports, database names:
 * 'database "********" does not exist'); one outside a message's quotes
 * (a password short or common enough to be a piece of libpq's own words)
 * withholds the whole message, as PG_WITHHELD: masking that piece would tell
 * it. Returns a static buffer, valid until the next call.
 */
const char *pg_oneline(const char *msg, const char *password);

#define PG_WITHHELD "(PostgreSQL's message withheld: a secret of the connection string is part of its words)"

#endif
