/* pgmsg.c: PostgreSQL messages without the password. */
#include "pgmsg.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

/*
 * What of dsn is secret, as libpq reads it: sec[0] the password, sec[1] the
 * part of a URI's password libpq took for the host (an '@' not written %40),
 * sec[2] the part it took for the port (a '/' not written %2F). Each NULL or
 * malloc'd. -1 when dsn does not parse (libpq's message is not kept: it may
 * quote the string, password and all).
 */
static int dsn_secrets(const char *dsn, char *sec[3])
{
	char *err = NULL;
	PQconninfoOption *opts = PQconninfoParse(dsn, &err);

	sec[0] = sec[1] = sec[2] = NULL;
	if (!opts) {
		PQfreemem(err);
		return -1;
	}
	int uri = strncmp(dsn, "postgresql://", 13) == 0 || strncmp(dsn, "postgres://", 11) == 0;
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		const char *at;
		if (!o->val || !*o->val)
			continue;
		if (strcmp(o->keyword, "password") == 0 && !sec[0])
			sec[0] = xstrdup(o->val);
		/* postgresql://u:p@ss@host/db: libpq splits at the first '@', so the
		 * rest of the password is in the host, which its messages print */
		else if (strcmp(o->keyword, "host") == 0 && (at = strrchr(o->val, '@')) && at > o->val) {
			free(sec[1]);
			sec[1] = xstrdup(o->val);
			sec[1][at - o->val] = '\0';
		}
		/* postgresql://u:Xy7/Qz9@host/db: libpq ends the user and password at
		 * the '/', reads none, and takes "Xy7" for the port, which its message
		 * quotes as a bad one. A port that is no number, in a URI, is that part. */
		else if (strcmp(o->keyword, "port") == 0 && uri && o->val[strspn(o->val, "0123456789,")] != '\0')
			sec[2] = xstrdup(o->val);
	}
	PQconninfoFree(opts);
	return 0;
}

int pg_password_of(const char *dsn, char **password)
{
	const char *env = getenv("PGPASSWORD");
	char *sec[3] = {NULL, NULL, NULL};

	*password = NULL;
	if (dsn && dsn_secrets(dsn, sec) < 0)
		return -1;
	/* the part libpq's messages may print: the host's, else the password, else the port's */
	*password = sec[1] ? sec[1] : sec[0] ? sec[0] : sec[2];
	for (int i = 0; i < 3; i++)
		if (sec[i] != *password)
			free(sec[i]);
	if (!*password && env && *env)
		*password = xstrdup(env);
	return 0;
}

/* Overwrite, in s, every copy of secret with '*'; 1 when there was one. */
static int mask_all(char *s, const char *secret)
{
	size_t n = secret ? strlen(secret) : 0;
	int found = 0;

	for (char *p = n ? strstr(s, secret) : NULL; p; p = strstr(p + n, secret)) {
		memset(p, '*', n);
		found = 1;
	}
	return found;
}

const char *pg_dsn_take(char *arg)
{
	static char *copy;
	char *sec[3];
	/* decided on the text as given, before any of it is masked */
	int uri = strncmp(arg, "postgresql://", 13) == 0 || strncmp(arg, "postgres://", 11) == 0;
	int covered = 0; /* a URI's password masked where it is written, whatever its escapes */

	free(copy);
	copy = xstrdup(arg);
	if (dsn_secrets(copy, sec) < 0) /* refused at once as a usage error: nothing to keep */
		return copy;
	if (uri) {
		/* its user:password@, whatever libpq made of it: from the first ':'
		 * of the user info to its last '@' */
		char *u = strstr(arg, "://") + 3, *q = u + strcspn(u, "?"), *at = NULL, *c;
		for (char *p = u; p < q; p++)
			if (*p == '@')
				at = p;
		if (at && (c = memchr(u, ':', (size_t)(at - u)))) {
			memset(c + 1, '*', (size_t)(at - c - 1));
			covered = 1;
		}
		/* and each password= of its query, to the next '&' */
		for (char *p = q; *p && (p = strstr(p + 1, "password=")) != NULL;)
			if (p[-1] == '?' || p[-1] == '&') {
				size_t n = strcspn(p + 9, "&");
				memset(p + 9, '*', n);
				covered = 1;
			}
	}
	/* every copy of what libpq reads as secret, as written; a password found
	 * nowhere as written (a key=value string's quotes and escapes) and in no
	 * place masked above: the whole string */
	int found = mask_all(arg, sec[0]);
	mask_all(arg, sec[1]);
	mask_all(arg, sec[2]);
	if (sec[0] && !found && !covered)
		memset(arg, '*', strlen(arg));
	for (int i = 0; i < 3; i++)
		free(sec[i]);
	return copy;
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
