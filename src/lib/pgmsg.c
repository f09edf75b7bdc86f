/* pgmsg.c: PostgreSQL messages without the password. */
#include "pgmsg.h"

#include <ctype.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "strbuf.h"

/*
 * What of a connection string is secret, as libpq reads it, by slot; each
 * NULL or malloc'd.
 */
enum {
	SEC_PASSWORD, /* the password */
	SEC_HOST,     /* the part of a URI's password libpq took for the host (an '@' not written %40) */
	SEC_PORT,     /* the part it took for the port (a '/' not written %2F) */
	SEC_OTHER,    /* another option libpq itself marks secret (dispchar '*': sslpassword) */
	SEC_DBNAME,   /* a dbname that is itself a connection string holding a secret, whole */
	SEC_DBNAME_CUT, /* and as the server quotes it, cut to NAMEDATALEN - 1 bytes */
	NSEC
};

static int is_uri(const char *s)
{
	return strncmp(s, "postgresql://", 13) == 0 || strncmp(s, "postgres://", 11) == 0;
}

/* A database's name alone ("revenueos"): libpq reads a dbname holding no '='
 * that is no URI so, and psql's -d too. Not one that looks like a URI in
 * another spelling (Postgresql://u:pw@h/db), which libpq would send as the
 * name, for the server to quote. */
static int is_plain_dbname(const char *s)
{
	return *s && !strchr(s, '=') && !strstr(s, "://");
}

/*
 * libpq's reading of dsn into *opts (PQconninfoFree it), or NULL for a
 * database's name alone; -1 when it does not parse (libpq's message is not
 * kept: it may quote the string, password and all).
 */
static int parse_dsn(const char *dsn, PQconninfoOption **opts)
{
	char *err = NULL;

	*opts = PQconninfoParse(dsn, &err);
	PQfreemem(err);
	return *opts || is_plain_dbname(dsn) ? 0 : -1;
}

/* The secrets of dsn into sec[NSEC]. -1 when dsn does not parse (parse_dsn). */
static int dsn_secrets(const char *dsn, char *sec[NSEC])
{
	PQconninfoOption *opts;

	for (int i = 0; i < NSEC; i++)
		sec[i] = NULL;
	if (parse_dsn(dsn, &opts) < 0)
		return -1;
	if (!opts) /* a database's name alone: no secret */
		return 0;
	int uri = is_uri(dsn);
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		const char *at;
		if (!o->val || !*o->val)
			continue;
		if (strcmp(o->keyword, "password") == 0 && !sec[SEC_PASSWORD])
			sec[SEC_PASSWORD] = xstrdup(o->val);
		else if (o->dispchar && strchr(o->dispchar, '*') && !sec[SEC_OTHER])
			sec[SEC_OTHER] = xstrdup(o->val);
		/* postgresql://u:p@ss@host/db: libpq splits at the first '@', so the
		 * rest of the password is in the host, which its messages print */
		else if (strcmp(o->keyword, "host") == 0 && (at = strrchr(o->val, '@')) && at > o->val) {
			free(sec[SEC_HOST]);
			sec[SEC_HOST] = xstrdup(o->val);
			sec[SEC_HOST][at - o->val] = '\0';
		}
		/* postgresql://u:Xy7/Qz9@host/db: libpq ends the user and password at
		 * the '/', reads none, and takes "Xy7" for the port, which its message
		 * quotes as a bad one. A port that is no number, in a URI, is that part. */
		else if (strcmp(o->keyword, "port") == 0 && uri && o->val[strspn(o->val, "0123456789,")] != '\0')
			sec[SEC_PORT] = xstrdup(o->val);
		/* dbname=postgresql://u:pw@/db: libpq expands the outer string only, and
		 * the inner one goes to the server as the database's name, which its
		 * FATAL quotes. Secret whole when it holds a secret or does not parse. */
		else if (strcmp(o->keyword, "dbname") == 0 && (is_uri(o->val) || strchr(o->val, '='))) {
			char *inner[NSEC];
			int secret = dsn_secrets(o->val, inner) < 0;
			for (int i = 0; i < NSEC; i++) {
				secret |= inner[i] != NULL;
				free(inner[i]);
			}
			if (secret) {
				sec[SEC_DBNAME] = xstrdup(o->val);
				if (strlen(o->val) > 63) {
					sec[SEC_DBNAME_CUT] = xstrdup(o->val);
					sec[SEC_DBNAME_CUT][63] = '\0';
				}
			}
		}
	}
	PQconninfoFree(opts);
	return 0;
}

/* every secret the last pg_password_of found, for pg_oneline */
static char *known[NSEC];

int pg_password_of(const char *dsn, char **password)
{
	/* the part libpq's and the server's messages may print first: a dbname
	 * quoted whole, the host's, the password, the port's, then the others */
	static const int order[NSEC] = {SEC_DBNAME, SEC_DBNAME_CUT, SEC_HOST, SEC_PASSWORD, SEC_PORT, SEC_OTHER};
	const char *env = getenv("PGPASSWORD");
	char *sec[NSEC] = {NULL};

	*password = NULL;
	for (int i = 0; i < NSEC; i++) {
		free(known[i]);
		known[i] = NULL;
	}
	if (dsn && dsn_secrets(dsn, sec) < 0)
		return -1;
	/* no password in the string: libpq sends PGPASSWORD's, whatever other
	 * secret (an sslpassword) the string holds */
	if (!sec[SEC_PASSWORD] && env && *env)
		sec[SEC_PASSWORD] = xstrdup(env);
	for (int i = 0; i < NSEC; i++) {
		if (sec[order[i]] && !*password)
			*password = xstrdup(sec[order[i]]);
		known[i] = sec[order[i]];
	}
	return 0;
}

const char *pg_secret(int i)
{
	for (int k = 0; k < NSEC; k++)
		if (known[k] && i-- == 0)
			return known[k];
	return NULL;
}

const char *pg_dsn_or_env(const char *dsn, const char **from)
{
	const char *env = getenv("RO_DSN");

	*from = "--dsn";
	if (dsn)
		return dsn;
	if (env && *env) {
		*from = "RO_DSN";
		return env;
	}
	return NULL;
}

int pg_dsn_split(const char *dsn, char **conninfo, char **password)
{
	PQconninfoOption *opts;
	const char *pw = NULL, *env_service = getenv("PGSERVICE");
	int service = env_service && *env_service;

	*conninfo = *password = NULL;
	if (parse_dsn(dsn, &opts) < 0)
		return -1;
	if (!opts) { /* a database's name alone: nothing to split */
		*conninfo = xstrdup(dsn);
		return 0;
	}
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		if (o->val && strcmp(o->keyword, "password") == 0)
			pw = o->val;
		if (o->val && strcmp(o->keyword, "service") == 0)
			service = 1;
	}
	if (!pw || !*pw || service) {
		*conninfo = xstrdup(dsn);
		PQconninfoFree(opts);
		return 0;
	}
	/* key='value', with ' and \\ escaped: libpq's own quoting */
	struct strbuf b = {0};
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		if (!o->val || strcmp(o->keyword, "password") == 0)
			continue;
		if (b.len)
			SB_LIT(&b, " ");
		sb_add(&b, o->keyword, strlen(o->keyword));
		SB_LIT(&b, "='");
		for (const char *v = o->val; *v; v++) {
			if (*v == '\\' || *v == '\'')
				SB_LIT(&b, "\\");
			sb_add(&b, v, 1);
		}
		SB_LIT(&b, "'");
	}
	*conninfo = xstrdup(b.len ? b.buf : "");
	*password = xstrdup(pw);
	sb_free(&b);
	PQconninfoFree(opts);
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

/* Overwrite each NAME=value of a URI's query (from q, its '?') to the next '&'. */
static int mask_query(char *q, const char *name)
{
	size_t len = strlen(name);
	int covered = 0;

	for (char *p = q; *p && (p = strstr(p + 1, name)) != NULL;)
		if ((p[-1] == '?' || p[-1] == '&') && p[len] == '=') {
			memset(p + len + 1, '*', strcspn(p + len + 1, "&"));
			covered = 1;
		}
	return covered;
}

/* Overwrite the value of each NAME = value of a key=value string, read as
 * libpq reads one ('quoted' with \ escapes, or to the next blank): each
 * copy, not only the last one, which is the one libpq uses (S2-4: the
 * password=first of "password=first password=second" stayed in ps). */
static void mask_kv(char *s, const char *name)
{
	size_t len = strlen(name);

	while (*s) {
		s += strspn(s, " \t\n\r\f\v");
		char *key = s;
		s += strcspn(s, "= \t\n\r\f\v");
		int match = (size_t)(s - key) == len && strncmp(key, name, len) == 0;
		s += strspn(s, " \t\n\r\f\v");
		if (*s != '=')
			return; /* not a string libpq takes: dsn_secrets said so already */
		s++;
		s += strspn(s, " \t\n\r\f\v");
		int quoted = *s == '\'';
		if (quoted)
			s++;
		for (; *s && (quoted ? *s != '\'' : !isspace((unsigned char)*s)); s++) {
			if (*s == '\\' && s[1]) {
				if (match)
					*s = '*';
				s++;
			}
			if (match)
				*s = '*';
		}
		if (quoted && *s)
			s++;
	}
}

const char *pg_dsn_take(char *arg)
{
	static char *copy;
	char *sec[NSEC];
	/* decided on the text as given, before any of it is masked */
	int uri = is_uri(arg);
	/* a URI's password, and its sslpassword, masked where written, whatever their escapes */
	int covered = 0, covered_ssl = 0;

	free(copy);
	copy = xstrdup(arg);
	if (dsn_secrets(copy, sec) < 0) /* refused at once as a usage error: nothing to keep */
		return copy;
	/* a key=value string's password= values, each copy, read on the text as
	 * given (masking the secrets below first could mask a key's own letters:
	 * a password "word" in "password=") */
	char *kv = uri ? NULL : xstrdup(arg);
	if (kv) {
		mask_kv(kv, "password");
		mask_kv(kv, "sslpassword");
	}
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
		/* and each password= and sslpassword= of its query */
		covered |= mask_query(q, "password");
		covered_ssl = mask_query(q, "sslpassword");
	}
	/* every copy of what libpq reads as secret, as written; one found nowhere
	 * as written (a key=value string's quotes and escapes, a URI's %-escapes)
	 * and in no place masked above: the whole string. Each secret on its own:
	 * a URI's user:password@ masked says nothing of a nested dbname's. */
	int unfound = !mask_all(arg, sec[SEC_PASSWORD]) && sec[SEC_PASSWORD] && !covered;
	for (int i = SEC_HOST; i < NSEC; i++)
		if (!mask_all(arg, sec[i]) && sec[i] &&
		    ((i == SEC_OTHER && !covered_ssl) || i == SEC_DBNAME))
			unfound = 1;
	if (unfound) {
		memset(arg, '*', strlen(arg));
	} else if (kv) {
		for (size_t i = 0; kv[i]; i++)
			if (kv[i] != copy[i])
				arg[i] = '*';
	}
	free(kv);
	for (int i = 0; i < NSEC; i++)
		free(sec[i]);
	return copy;
}

/* The length of the longest secret msg starts with: password or one pg_password_of found. */
static size_t secret_at(const char *msg, const char *password)
{
	size_t best = 0, n;

	if (password && (n = strlen(password)) > 0 && strncmp(msg, password, n) == 0)
		best = n;
	for (int i = 0; i < NSEC; i++)
		if (known[i] && (n = strlen(known[i])) > best && strncmp(msg, known[i], n) == 0)
			best = n;
	return best;
}

const char *pg_oneline(const char *msg, const char *password)
{
	static char out[1024];
	static const char mask[] = "********\"", withheld[] = PG_WITHHELD;
	size_t n = 0, sl, quotes = 0; /* the '"' written so far */
	const char *rq;

	for (const char *p = msg ? msg : "unknown error"; *p && n < sizeof out - 1;) {
		if ((sl = secret_at(p, password)) > 0) {
			/* between a message's quotes, the whole quoted text; anywhere
			 * else, masking it would say what libpq's own words it is
			 * part of (a password "x", "/none********istent"): nothing */
			if (quotes % 2 == 0 || !(rq = strchr(p + sl, '"')))
				return withheld;
			while (out[n - 1] != '"')
				n--;
			for (const char *s = mask; *s && n < sizeof out - 1; s++)
				out[n++] = *s;
			quotes++;
			p = rq + 1;
			continue;
		}
		char c = (*p == '\n' || *p == '\t' || *p == '\r') ? ' ' : *p;
		if (!(c == ' ' && (n == 0 || out[n - 1] == ' ')))
			out[n++] = c;
		quotes += c == '"';
		p++;
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
	return out;
}
