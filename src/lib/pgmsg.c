/* pgmsg.c: PostgreSQL messages without the password. */
#include "pgmsg.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

int pg_password_of(const char *dsn, char **password)
{
	const char *env = getenv("PGPASSWORD");

	*password = NULL;
	if (dsn) {
		char *err = NULL;
		PQconninfoOption *opts = PQconninfoParse(dsn, &err);
		if (!opts) {
			PQfreemem(err);
			return -1;
		}
		for (PQconninfoOption *o = opts; o->keyword; o++)
			if (strcmp(o->keyword, "password") == 0 && o->val && *o->val && !*password)
				*password = xstrdup(o->val);
		/* A URI whose password holds an '@' not written %40 (postgresql://u:p@ss@host/db):
		 * libpq splits at the first one, so the rest of the password is in the host,
		 * which its messages print. That part is what to mask. */
		for (PQconninfoOption *o = opts; o->keyword; o++) {
			const char *at;
			if (strcmp(o->keyword, "host") == 0 && o->val && (at = strrchr(o->val, '@')) && at > o->val) {
				free(*password);
				*password = xstrdup(o->val);
				(*password)[at - o->val] = '\0';
			}
		}
		/* One holding a '/' not written %2F (postgresql://u:Xy7/Qz9@host/db): libpq
		 * ends the user and password at the '/', reads none, and takes "Xy7" for
		 * the port, which its message quotes as a bad one. A port that is no
		 * number, in a URI whose user is followed by ':', is that part. */
		int uri = strncmp(dsn, "postgresql://", 13) == 0 || strncmp(dsn, "postgres://", 11) == 0;
		for (PQconninfoOption *o = opts; o->keyword; o++)
			if (uri && !*password && strcmp(o->keyword, "port") == 0 && o->val && *o->val &&
			    o->val[strspn(o->val, "0123456789,")] != '\0')
				*password = xstrdup(o->val);
		PQconninfoFree(opts);
	}
	if (!*password && env && *env)
		*password = xstrdup(env);
	return 0;
}

const char *pg_oneline(const char *msg, const char *password)
{
	static char out[1024];
	static const char mask[] = "********";
	size_t n = 0, pl = password ? strlen(password) : 0;

	for (const char *p = msg ? msg : "unknown error"; *p && n < sizeof out - 1;) {
		if (pl > 0 && strncmp(p, password, pl) == 0) {
			for (const char *s = mask; *s && n < sizeof out - 1; s++)
				out[n++] = *s;
			p += pl;
			continue;
		}
		char c = (*p == '\n' || *p == '\t' || *p == '\r') ? ' ' : *p;
		if (!(c == ' ' && (n == 0 || out[n - 1] == ' ')))
			out[n++] = c;
		p++;
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
	return out;
}
