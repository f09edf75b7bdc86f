/*
 * load: raw envelopes and canonical events (NDJSON) into PostgreSQL.
 *
 * Records are validated here, then loaded in batches: each batch is one
 * transaction that upserts, set-based, from staged rows (docs/load.md). A
 * second connection COPYs the next batch into scratch tables while the first
 * runs this one ("Two connections" below), its raw rows as they are read;
 * without them the batch is COPYed into temporary staging tables in its own
 * transaction. When PostgreSQL refuses a batch for a data error, the batch is
 * replayed one record at a time under savepoints, so only the bad records are
 * rejected.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libpq-fe.h>

#include "diag.h"
#include "envelope.h"
#include "event.h"
#include "jsonutil.h"
#include "lineio.h"
#include "records.h"
#include "pgmsg.h"
#include "pgschema.h"
#include "secret.h"
#include "strbuf.h"
#include "timeutil.h"

static const char synopsis[] =
	"usage: load [--dsn CONNINFO] [--batch N] [--rejects FILE] [--max-line SIZE] [--quiet] [FILE...]\n"
	"       load --migrate [--dsn CONNINFO] [--sql-dir DIR]\n"
	"       load --note-run PROGRAM [--dsn CONNINFO] < NOTE.json\n"
	"       load --split-dsn [--dsn CONNINFO]\n";

static const char help[] =
	"Load raw envelopes (fetch-events) and canonical events (normalize), or both in\n"
	"one stream (normalize --emit-raw), into PostgreSQL. Idempotent and order-safe:\n"
	"loading the same records again, or in another order, leaves the same rows (but\n"
	"for copies of one event normalized by different runs that disagree: the one\n"
	"loaded last is stored; and the limits docs/schema.md names).\n"
	"\n"
	"  --dsn CONNINFO    connection string or URI (default: $RO_DSN when set, else the\n"
	"                    PG* environment); a password on a command line shows in `ps`:\n"
	"                    give it in RO_DSN, PGPASSWORD or ~/.pgpass\n"
	"  --batch N         records per transaction (default 5000, at most 1000000; fewer\n"
	"                    when their lines reach 12 MiB)\n"
	"  --rejects FILE    write rejected lines there as JSON (file, line, code, message, raw)\n"
	"  --max-line SIZE   longest accepted line in bytes (default 16M)\n"
	"  -q, --quiet       no summary line and no notices (for cron: stderr then says only\n"
	"                    what went wrong; the run's pipeline_runs row counts the notices)\n"
	"  --migrate         apply the schema migrations (sql/NNN_*.sql) not yet applied, then exit\n"
	"  --sql-dir DIR     where the migrations are (default: $RO_SQL_DIR when set, else\n"
	"                    ../sql or ../share/revenueos/sql next to the program)\n"
	"  --note-run PROGRAM  record a finished run of PROGRAM (a pipeline such as\n"
	"                    pipelines/ingest-dumps) in pipeline_runs, from one JSON object on\n"
	"                    stdin: started_at, exit_status, rejected, detail (all optional)\n"
	"  --split-dsn       for scripts that run psql (pipelines/export): write the\n"
	"                    connection string without its password, the password for\n"
	"                    PGPASSWORD (empty when it stays in the string), then each secret\n"
	"                    to mask in psql's messages, each ended by a NUL byte; connects\n"
	"                    to nothing (docs/load.md)\n"
	"  -h, --help, -V, --version\n"
	"\n"
	"Prints one summary line on stderr (not with --quiet) and records the run in\n"
	"pipeline_runs. A copy of an event with other content than the stored copy is\n"
	"kept when received first, else not: either way a notice says it (docs/load.md).\n"
	"Exit status: 0 every record loaded; 1 some records rejected (each reported as\n"
	"'load: FILE:LINE: ...'); 2 usage; 3 database or I/O failure.\n"
	"\n"
	"Example:\n"
	"  fetch-events --project acme dumps/*.ndjson.gz | normalize --emit-raw | load\n";

/* ---------------------------------------------------------------- buffers */

/* 1 when none of the eight bytes in w is a control character, a backslash or
 * non-ASCII (conservative: it may say 0 for a word COPY copies as it is). */
static inline int copy_plain8(uint64_t w)
{
	const uint64_t lo = 0x0101010101010101ULL, hi = 0x8080808080808080ULL;
	uint64_t bslash = w ^ (lo * '\\');
	return (((w - lo * 0x20) | (bslash - lo) | w) & hi) == 0;
}

/* One field of COPY text format: backslash, tab, newline and CR escaped;
 * NULL is \N. sep is the byte that follows ('\t', or '\n' at the row end). */
static void copy_field(struct strbuf *b, const char *s, size_t n, char sep)
{
	/* the bytes COPY text escapes, and what follows their backslash */
	static const char esc[256] = {['\\'] = '\\', ['\t'] = 't', ['\n'] = 'n', ['\r'] = 'r'};

	if (!s) {
		sb_add(b, "\\N", 2);
	} else {
		char *o = sb_reserve(b, 2 * n);
		size_t i = 0;
		while (i < n) {
			/* a run of plain bytes, eight at a time where the word test
			 * allows (payloads are JSON: escapes are rare) */
			size_t j = i;
			for (;;) {
				uint64_t w;
				while (j + 8 <= n && (memcpy(&w, s + j, 8), copy_plain8(w)))
					j += 8;
				if (j == n || esc[(unsigned char)s[j]])
					break;
				j++;
			}
			memcpy(o, s + i, j - i);
			o += j - i;
			if (j < n) {
				*o++ = '\\';
				*o++ = esc[(unsigned char)s[j++]];
			}
			i = j;
		}
		b->len = (size_t)(o - b->buf);
	}
	sb_add(b, &sep, 1);
}

static void copy_str(struct strbuf *b, const char *s, char sep)
{
	copy_field(b, s, s ? strlen(s) : 0, sep);
}

/* v >= 0: a record's sequence number in its batch (no printf per row) */
static void copy_long(struct strbuf *b, long v, char sep)
{
	char tmp[24], *p = tmp + sizeof tmp;
	unsigned long u = (unsigned long)v;

	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	copy_field(b, p, (size_t)(tmp + sizeof tmp - p), sep);
}

/* ------------------------------------------------------------ validation */

enum ftype { F_STR, F_ID, F_INT, F_BOOL, F_TIME, F_CUR, F_OBJ }; /* F_ID: a string without U+FFFD */

struct fcheck {
	int code;      /* 0 ok, else REJ_MISSING_FIELD / REJ_INVALID_FIELD */
	int rewrote;   /* a time the event keeps was rewritten: its text is no longer the line's */
	char msg[256];
};

static int fail(struct fcheck *fc, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct fcheck *fc, int code, const char *fmt, ...)
{
	va_list ap;

	if (fc->code)
		return -1;
	fc->code = code;
	va_start(ap, fmt);
	vsnprintf(fc->msg, sizeof fc->msg, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Check obj[key] is absent/null (allowed unless required) or of type t.
 * Times are rewritten in place to canonical RFC 3339 UTC, so PostgreSQL reads
 * exactly the instant we checked. Returns the value (borrowed) or NULL.
 */
static json_object *check(json_object *obj, const char *key, enum ftype t, int required,
			  const char *prefix, struct fcheck *fc)
{
	json_object *v = NULL;

	/* the field's name is prefix + key, written only in a message */
	if (!json_object_object_get_ex(obj, key, &v) || !v) {
		if (required)
			fail(fc, REJ_MISSING_FIELD, "missing field '%s%s'", prefix, key);
		return NULL;
	}
	switch (t) {
	case F_STR:
	case F_ID:
	case F_TIME:
	case F_CUR: {
		if (!json_object_is_type(v, json_type_string))
			break;
		const char *s = json_object_get_string(v);
		size_t n = (size_t)json_object_get_string_len(v);
		if (strlen(s) != n) {
			fail(fc, REJ_INVALID_FIELD, "field '%s%s' contains a NUL character", prefix, key);
			return NULL;
		}
		/* an id names a row: "" (or blanks) would merge every event that has it */
		if ((required && n == 0) || (t == F_ID && text_blank(s, n))) {
			fail(fc, REJ_INVALID_FIELD, "field '%s%s' is %s", prefix, key, n ? "blank" : "empty");
			return NULL;
		}
		if (t == F_ID && memmem(s, n, "\xEF\xBF\xBD", 3)) { /* jsonutil.h, jstr_has_fffd */
			fail(fc, REJ_INVALID_FIELD, "field '%s%s' contains U+FFFD (a lone UTF-16 surrogate?): not an id",
			     prefix, key);
			return NULL;
		}
		if (t == F_TIME) {
			int64_t ms;
			char out[RFC3339_BUFSZ];
			if (parse_rfc3339_strict(s, &ms) != 0 || !time_in_range(ms)) {
				fail(fc, REJ_INVALID_FIELD, "field '%s%s' is not an RFC 3339 time in 1970..9999: '%.40s'",
				     prefix, key, s);
				return NULL;
			}
			fmt_rfc3339(ms, out);
			if (strcmp(out, s) != 0) {
				json_object_object_add(obj, key, json_object_new_string(out));
				json_object_object_get_ex(obj, key, &v);
				/* received_at: in a column only, never in the event */
				fc->rewrote |= *prefix != '\0' || strcmp(key, "received_at") != 0;
			}
		}
		if (t == F_CUR && !(n == 3 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' &&
				    s[2] >= 'A' && s[2] <= 'Z')) {
			fail(fc, REJ_INVALID_FIELD, "field '%s%s' is not an ISO 4217 code: '%.40s'", prefix, key, s);
			return NULL;
		}
		return v;
	}
	case F_INT:
		if (json_object_is_type(v, json_type_int))
			return v;
		break;
	case F_BOOL:
		if (json_object_is_type(v, json_type_boolean))
			return v;
		break;
	case F_OBJ:
		if (json_object_is_type(v, json_type_object))
			return v;
		break;
	}
	static const char *const want[] = {"a string", "a string", "an integer", "a boolean", "a time string",
					   "a currency code", "an object"};
	fail(fc, REJ_INVALID_FIELD, "field '%s%s' must be %s, got %s", prefix, key, want[t], jtype_name(v));
	return NULL;
}

static const char *str_of(json_object *v)
{
	return v ? json_object_get_string(v) : NULL;
}

struct spec {
	const char *key;
	enum ftype type;
};

static const struct spec customer_spec[] = {
	{"id", F_ID}, {"email", F_STR}, {"name", F_STR}, {"phone", F_STR}, {"country", F_STR}, {NULL, 0},
};
static const struct spec payment_spec[] = {
	{"id", F_ID}, {"object", F_STR}, {"invoice_id", F_ID}, {"subscription_id", F_ID},
	{"charge_id", F_ID}, {"payment_intent_id", F_ID}, {"amount_minor", F_INT}, {"currency", F_CUR}, {"status", F_STR}, {"method", F_STR},
	{"installments", F_INT}, {"failure_code", F_STR}, {"discount_minor", F_INT},
	{"refunded_minor", F_INT}, {"due_at", F_TIME}, {"paid_at", F_TIME}, {NULL, 0},
};
static const struct spec subscription_spec[] = {
	{"id", F_ID}, {"price_id", F_ID}, {"product_id", F_ID}, {"plan_code", F_STR},
	{"status", F_STR}, {"interval", F_STR}, {"interval_count", F_INT}, {"quantity", F_INT},
	{"current_period_start", F_TIME}, {"current_period_end", F_TIME},
	{"cancel_at_period_end", F_BOOL}, {"cancel_at", F_TIME}, {"canceled_at", F_TIME},
	{"trial_end", F_TIME}, {"invoiced_at", F_TIME}, {NULL, 0},
};

/* Check a section; returns it (borrowed) or NULL when null/absent/invalid. */
static json_object *check_section(json_object *ev, const char *name, const struct spec *spec,
				  struct fcheck *fc)
{
	char prefix[64];
	json_object *sec = check(ev, name, F_OBJ, 0, "", fc);
	if (!sec)
		return NULL;
	snprintf(prefix, sizeof prefix, "%s.", name);
	for (const struct spec *s = spec; s->key; s++)
		check(sec, s->key, s->type, 0, prefix, fc);
	return sec;
}

/* ------------------------------------------------------------------ batch */

enum kind { K_RAW, K_EVENT };

struct rec {
	enum kind kind;
	const char *file;  /* borrowed from the reader's name, kept for the run */
	long line;
	size_t text_off, text_len; /* the input line in batch.text */
	size_t copy_off, copy_len; /* its COPY row in batch.copy[kind] */
};

struct batch {
	struct rec *recs;
	size_t n, cap;
	struct strbuf text;
	struct strbuf copy[2];
};

struct counts {
	long read, raw, events, inserted, updated, unchanged, failed, ignored;
	long not_kept; /* of unchanged: later copies with other content (not_kept_say) */
	long replaced; /* of updated: earlier copies that replaced a stored one of other content */
};

static struct batch bufs[2];
static struct batch *B = &bufs[0]; /* the batch being read */
static struct counts C;
static PGconn *conn;
static int quiet; /* --quiet: no summary, no notices */
static unsigned long batches; /* committed so far */
static int run_started;       /* loading: a failure leaves whole batches */
static PGconn *conn1;         /* the first connection, whose transactions load the batches */
static long run_id;           /* its pipeline_runs row, once the run started */
static void settle_inflight(void);
/* the batch's counts came before its script failed: lost then, the connection
 * was lost at the COMMIT, which may have been done */
static int commit_unknown;
static char *password; /* to keep out of messages */

/* ------------------------------------------------------------ connection */

/* PostgreSQL's message, one line, with any password masked. */
static const char *pg_msg(const char *m)
{
	return pg_oneline(m, password);
}

static void die_pg(const char *what, const PGresult *r)
{
	const char *m = r ? PQresultErrorMessage(r) : NULL;
	if (!m || !*m)
		m = PQerrorMessage(conn);
	if (strncmp(m, "ERROR:", 6) == 0)
		m += 6;
	while (*m == ' ')
		m++;
	/* a failed send leaves the status OK until libpq reads the end of the
	 * connection: an error libpq made itself (no SQLSTATE) is checked for it */
	int lost = PQstatus(conn) == CONNECTION_BAD;
	if (!lost && !(r && PQresultErrorField(r, PG_DIAG_SQLSTATE)))
		lost = !PQconsumeInput(conn) && PQstatus(conn) == CONNECTION_BAD;
	warn_msg(0, "%s%s: %s", lost ? "lost the connection to the database: " : "", what, pg_msg(m));
	/* the second connection failed while the first one's transaction went on:
	 * its outcome decides what was committed */
	if (run_started && conn != conn1)
		settle_inflight();
	if (run_started && lost && commit_unknown && conn == conn1)
		warn_msg(0, "%lu batches (%ld records) were committed, and the batch in progress may have"
			 " been too (the connection was lost at its COMMIT, whose outcome did not come);"
			 " re-run the same input to complete the job", batches, C.inserted + C.updated + C.unchanged);
	else if (run_started)
		warn_msg(0, "%lu batches (%ld records) were committed; the batch in progress, if any, was"
			 " rolled back; re-run the same input to complete the job", batches,
			 C.inserted + C.updated + C.unchanged);
	exit(EXIT_SYSTEM); /* the run's row is finished by record_failure, at exit */
}

/* A connection to dsn. client_encoding after dbname wins over the DSN's,
 * PGCLIENTENCODING and a role's: the records are UTF-8, and a LATIN1 session
 * would store each byte of theirs as a character ("JoÃ£o") without an error. */
static PGconn *open_conn(const char *dsn)
{
	const char *keys[] = {"dbname", "client_encoding", "fallback_application_name", NULL};
	const char *vals[] = {dsn ? dsn : "", "UTF8", "load", NULL};
	PGconn *c = PQconnectdbParams(keys, vals, 1);

	if (!c)
		die_sys(ENOMEM, "cannot connect to the database");
	if (PQstatus(c) != CONNECTION_OK) {
		warn_msg(0, "cannot connect to the database: %s", pg_msg(PQerrorMessage(c)));
		exit(EXIT_SYSTEM);
	}
	/* A connection waits, idle, while the input is slow (a FIFO, a stalled
	 * share), as a statement's time is not the input's pace: a role's
	 * idle_session_timeout (PostgreSQL 14) ended it, and the run (audit-E 4).
	 * Were this refused, the next statement would say what is wrong. */
	if (PQserverVersion(c) >= 140000)
		PQclear(PQexec(c, "SET idle_session_timeout = 0"));
	return c;
}

static void connect_db(const char *dsn, const char *from)
{
	if (pg_password_of(dsn, &password) < 0)
		die_usage(synopsis, "%s: not a valid connection string or URI", from);
	conn = conn1 = open_conn(dsn);
}

/* --split-dsn: dsn for psql, its password apart, and what to mask (pg_dsn_split). */
static int split_dsn(const char *dsn, const char *from)
{
	char *conninfo = NULL, *pw = NULL;

	if (pg_password_of(dsn, &password) < 0 || (dsn && pg_dsn_split(dsn, &conninfo, &pw) < 0))
		die_usage(synopsis, "%s: not a valid connection string or URI", from);
	xwrite(conninfo ? conninfo : "", conninfo ? strlen(conninfo) + 1 : 1, stdout);
	xwrite(pw ? pw : "", pw ? strlen(pw) + 1 : 1, stdout);
	for (int i = 0; pg_secret(i); i++)
		xwrite(pg_secret(i), strlen(pg_secret(i)) + 1, stdout);
	free(conninfo);
	free(pw);
	free(password);
	return diag_finish();
}

/* Run a statement that must succeed; returns the result (caller clears). */
static PGresult *must(const char *sql, int nparams, const char *const *params)
{
	PGresult *r = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		char what[80];
		snprintf(what, sizeof what, "database error in '%.50s'", sql);
		die_pg(what, r);
	}
	return r;
}

/* A parameterless statement (or several), through the simple protocol. */
static void exec_ok(const char *sql)
{
	PGresult *r = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		char what[80];
		snprintf(what, sizeof what, "database error in '%.50s'", sql);
		die_pg(what, r);
	}
	PQclear(r);
}

/* The RevenueOS schema (pg_schema_pin's, quoted), every session's search_path,
 * once found */
static char *schema;

/* What every session of ours sets first: messages, times in UTC, the schema's
 * triggers running, the search_path (when the schema is found: conn1 finds it). */
static void session_setup(void)
{
	exec_ok("SET client_min_messages = warning");
	exec_ok("SET TimeZone = 'UTC'");
	/* 'replica' (left by a bulk copy's tool: AWS DMS asks for it, on the
	 * database) turns off every trigger and foreign key: sql/017's refusal of
	 * an event moved to another project among them, so a load without its
	 * --project split a tenant in two, unsaid (audit-GUC 1) */
	PGresult *r = must("SELECT current_setting('session_replication_role')", 0, NULL);
	/* ('local' fires them all, as 'origin': review R15 3) */
	if (strcmp(PQgetvalue(r, 0, 0), "replica") == 0) {
		PGresult *set = PQexec(conn, "SET session_replication_role = origin");
		if (PQresultStatus(set) != PGRES_COMMAND_OK) {
			warn_msg(0, "the session's session_replication_role is '%s' (set on the role, the database"
				 " or in PGOPTIONS), and this role may not set it back to 'origin': the schema's"
				 " triggers and foreign keys would not run, and load relies on them (reset it:"
				 " ALTER DATABASE ... RESET session_replication_role)", PQgetvalue(r, 0, 0));
			exit(EXIT_SYSTEM);
		}
		PQclear(set);
	}
	PQclear(r);
	if (schema) {
		PGresult *f = pg_schema_set(conn, schema);
		if (f)
			die_pg("database error in setting the search_path", f);
	}
}

/* Find the RevenueOS schema and make it conn's search_path (pgschema.h);
 * creating: --migrate, which makes it where none is. */
static void schema_pin(int creating)
{
	PGresult *f;
	switch (pg_schema_pin(conn, creating, &schema, &f)) {
	case PG_SCHEMA_OURS:
	case PG_SCHEMA_NONE: /* said below, as a schema without this loader's tables */
		return;
	case PG_SCHEMA_ELSEWHERE:
		warn_msg(0, PG_SCHEMA_ELSEWHERE_MSG "%s", schema,
			 creating ? " (a --migrate here would make a second copy of the schema: none is made)" : "");
		exit(EXIT_SYSTEM);
	case PG_SCHEMA_NOWHERE:
		warn_msg(0, "the session's search_path names no schema that exists, to make the tables in");
		exit(EXIT_SYSTEM);
	default:
		die_pg("database error in finding the schema", f);
	}
}

/* Waits for our turn, however long: waiting for another run is no work of the
 * server's, which a statement_timeout or lock_timeout of the role, the database
 * or PGOPTIONS bounds (audit-K 1: the second cron run failed). The loaders' turn
 * is 7263100; a migrator first takes the migrators' (7263101), then the loaders'. */
static void wait_turn(int migrator)
{
	exec_ok("SET statement_timeout = 0");
	exec_ok("SET lock_timeout = 0");
	if (migrator)
		exec_ok("SELECT pg_advisory_lock(7263101)");
	exec_ok("SELECT pg_advisory_lock(7263100)");
	exec_ok("RESET statement_timeout");
	exec_ok("RESET lock_timeout");
}

/* ------------------------------------------------------------ migrations */

/* The last of sql/: a database that has a later one is a newer release's, one
 * without it an older's (tests/sh/contracts.sh checks that it is sql/'s last). */
#define NEWEST_MIGRATION "035_payload_array_secrets.sql"

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *find_sql_dir(const char *opt)
{
	char exe[PATH_MAX], cand[PATH_MAX + 64];
	const char *env = getenv("RO_SQL_DIR");

	if (opt)
		return xstrdup(opt);
	if (env && *env)
		return xstrdup(env);
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		/* PREFIX/bin/load, then bin/load in the source tree or
		 * build/san/bin/load (a tree: its src/load.c beside sql/). An
		 * installed program never takes a sql/ around its prefix (an older
		 * release copied there by hand, or /sql from /opt/revenueos/bin):
		 * "schema up to date" from an older release's migrations, and every
		 * run then refused as older than the loader. */
		static const char *const rel[][2] = {
			{ "/../share/revenueos/sql", NULL },
			{ "/../sql", "/../src/load.c" },
			{ "/../../../sql", "/../../../src/load.c" },
		};
		for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
			if (rel[i][1]) {
				snprintf(cand, sizeof cand, "%s%s", exe, rel[i][1]);
				if (access(cand, R_OK) != 0)
					continue;
			}
			snprintf(cand, sizeof cand, "%s%s", exe, rel[i][0]);
			if (access(cand, R_OK | X_OK) == 0)
				return xstrdup(cand);
		}
	}
	return xstrdup("sql");
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	struct strbuf b = {0};
	char chunk[65536];
	size_t n;

	if (!f)
		die_sys(errno, "cannot open '%s'", path);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		sb_add(&b, chunk, n);
	if (ferror(f))
		die_sys(errno, "cannot read '%s'", path);
	fclose(f);
	if (!b.buf)
		sb_add(&b, "", 0);
	return b.buf;
}

static int migrate(const char *sql_opt)
{
	char *dir = find_sql_dir(sql_opt);
	DIR *d = opendir(dir);
	char **names = NULL;
	size_t n = 0, applied = 0;
	struct dirent *e;

	if (!d)
		die_sys(errno, "cannot open migrations directory '%s'", dir);
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len > 4 && e->d_name[0] >= '0' && e->d_name[0] <= '9' &&
		    strcmp(e->d_name + len - 4, ".sql") == 0) {
			names = xrealloc(names, (n + 1) * sizeof *names);
			names[n++] = xstrdup(e->d_name);
		}
	}
	closedir(d);
	if (n == 0) {
		warn_msg(0, "no migrations in '%s'", dir);
		exit(EXIT_SYSTEM);
	}
	qsort(names, n, sizeof *names, cmp_names);

	/* One migrator at a time; the table itself is the first thing we need.
	 * And no load meanwhile: a load running (an older release's, cron's)
	 * finishes first, as its statements are its schema's, and loads started
	 * after wait (the loaders' turn, below in main), however long. */
	wait_turn(1);
	/* made when missing only: CREATE ... IF NOT EXISTS needs CREATE on the
	 * schema even when the table is there, and a loader role that runs
	 * --migrate on an up-to-date database has none (since PostgreSQL 15) */
	PGresult *t = must("SELECT to_regclass('schema_migrations') IS NULL", 0, NULL);
	int missing = strcmp(PQgetvalue(t, 0, 0), "t") == 0;
	PQclear(t);
	if (missing)
		exec_ok("CREATE TABLE schema_migrations ("
			"version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
	for (size_t i = 0; i < n; i++) {
		const char *p[1] = {names[i]};
		PGresult *r = must("SELECT 1 FROM schema_migrations WHERE version = $1", 1, p);
		int done = PQntuples(r) > 0;
		PQclear(r);
		if (done)
			continue;
		char path[PATH_MAX + 256];
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		char *sql = read_file(path);
		exec_ok("BEGIN");
		r = PQexec(conn, sql);
		if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
			char what[PATH_MAX + 64];
			snprintf(what, sizeof what, "migration '%s' failed", names[i]);
			die_pg(what, r);
		}
		PQclear(r);
		PQclear(must("INSERT INTO schema_migrations (version) VALUES ($1)", 1, p));
		exec_ok("COMMIT");
		fprintf(stderr, "%s: applied %s\n", prog_name, names[i]);
		applied++;
		free(sql);
	}
	/* what the database has that this directory does not: a stale --sql-dir or
	 * $RO_SQL_DIR (an older release's), or an older loader on a newer schema.
	 * Not a migration renamed since, whose new name the directory holds (it
	 * was applied too): every --migrate said so, for ever (audit-UP 3). Nor
	 * one retired (no new name): a commit's that a later one of the same
	 * work undid (audit-U 3). */
	static const char *const renamed[][2] = {
		{ "019_fill_by_billed_period.sql", "019_fill_by_invoice_time.sql" }, /* 9af6859 */
		{ "032_stage_payloads_inline.sql", NULL },                          /* 881c559, 64846ec */
	};
	PGresult *r = must("SELECT version FROM schema_migrations ORDER BY version", 0, NULL);
	size_t foreign = 0;
	const char *newest = NULL;
	for (int i = 0; i < PQntuples(r); i++) {
		const char *v = PQgetvalue(r, i, 0);
		int known = 0;
		for (size_t k = 0; k < sizeof renamed / sizeof *renamed; k++)
			known |= !strcmp(v, renamed[k][0]) &&
				 (!renamed[k][1] || bsearch(&renamed[k][1], names, n, sizeof *names, cmp_names));
		if (!known && !bsearch(&v, names, n, sizeof *names, cmp_names)) {
			foreign++;
			newest = v;
		}
	}
	exec_ok("SELECT pg_advisory_unlock(7263101)");
	if (foreign)
		warn_msg(0, "the database has %zu migration%s that '%s' does not hold (the last: %s): an older"
			 " release's directory? (--sql-dir, $RO_SQL_DIR)", foreign, foreign == 1 ? "" : "s", dir,
			 newest);
	else if (applied == 0)
		fprintf(stderr, "%s: schema up to date (%zu migrations)\n", prog_name, n);
	PQclear(r);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(dir);
	return EXIT_OK;
}

/* --------------------------------------------------------------- staging */

/* ON COMMIT DELETE ROWS: each transaction (a batch) starts with them empty,
 * emptied in place; a TRUNCATE per batch made new files for each of them, and
 * the file system's inode bookkeeping was 5% of the server's time. */
#define PER_BATCH " ON COMMIT DELETE ROWS;"
static const char stage_sql[] =
	"CREATE TEMP TABLE stage_raw (seq integer, provider text, external_event_id text,"
	" project_id text, event_type text, occurred_at timestamptz, received_at timestamptz,"
	" source text, payload jsonb)" PER_BATCH
	"CREATE TEMP TABLE stage_ev (seq integer, provider text, external_event_id text,"
	" project_id text, event_type text, provider_event_type text, status text, reason text,"
	" occurred_at timestamptz, received_at timestamptz, source text, customer_id text,"
	" subscription_id text, payment_id text, price_id text, plan_code text, event jsonb)" PER_BATCH
	/* the raw and log rows the batch inserted or changed (the summary counts, freshness) */
	"CREATE TEMP TABLE stage_changed (kind \"char\", provider text, external_event_id text,"
	" ins boolean, project_id text, received_at timestamptz,"
	/* a raw row's: it now holds an earlier copy than the one replaced, and that
	 * copy's content is the same (DELIVERY_KEYS aside) */
	" moved boolean, same boolean)" PER_BATCH
	/* the normalized rows the batch inserted or changed ('n'), and what changed rows
	 * named before ('o'): the input of the customer, subscription and payment updates */
	"CREATE TEMP TABLE stage_norm (kind \"char\", ins boolean, provider text,"
	" external_event_id text, project_id text, status text, event_type text,"
	" occurred_at timestamptz, customer_id text, subscription_id text, payment_id text, email text, name text,"
	" phone text, country text, sub jsonb, cus_as_of timestamptz)" PER_BATCH
	/* the batch's raw records received after the stored copy of their event,
	 * with other content: not kept (seq), and the source of the copy kept; or
	 * received before it (replaced), and the source of the copy replaced */
	"CREATE TEMP TABLE stage_kept (seq integer, kept text, replaced boolean)" PER_BATCH
	/* customers ('c'), subscriptions ('s') and payments ('p') recomputed from their stored events */
	"CREATE TEMP TABLE stage_full (kind \"char\", project_id text, provider text, id text)" PER_BATCH
	/* lz4 here too: cheaper than pglz to write, and the compressed payload is copied as is */
	"DO $$ BEGIN ALTER TABLE stage_raw ALTER COLUMN payload SET COMPRESSION lz4;"
	" EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN NULL; END $$";

static const char copy_raw_sql[] =
	"COPY stage_raw (seq, provider, external_event_id, project_id, event_type, occurred_at,"
	" received_at, source, payload) FROM STDIN";
static const char copy_ev_sql[] =
	"COPY stage_ev (seq, provider, external_event_id, project_id, event_type,"
	" provider_event_type, status, reason, occurred_at, received_at, source, customer_id,"
	" subscription_id, payment_id, price_id, plan_code, event) FROM STDIN";

/*
 * The upserts, in order. Raw, normalized and log rows keep the earliest
 * received copy of an event (least received_at, then source) and take new
 * content when a re-run brings it; state tables take the latest event by
 * (occurred_at, external_event_id): a maximum, so any order ends the same.
 *
 * Customers, subscriptions and payments are updated incrementally from the
 * events the batch inserted: every field is a maximum over a total order, and the row
 * keeps the stamp (occurred_at, event id) of the event that gave it, so the
 * new events are merged with the row alone (a subscription no subscription.*
 * event has set yet keeps a stamp per field: invoices fill its fields one by
 * one). Where that is not exact they are recomputed from every stored event
 * (stage_full): an event whose stored content changed (a re-run after a
 * normalizer fix), for what it names now and what it named before.
 */
/* a window over a whole partition, read in the window's order: aggregates over
 * it see each key's events in that order (one sort per window, where an
 * ordered aggregate sorts every group again for every field) */
#define WHOLE " ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING"
/*
 * The copy an event's rows keep is the first received (least received_at,
 * then source): a raw row stored by an earlier run, when earlier than the
 * batch's copy, gives its received_at and source to a canonical event or a
 * log row inserted now (an event that failed then and is processed now, one
 * whose raw envelope came alone), as a clean load of both copies would. Only
 * events whose raw row this batch did not write are looked up, one key probe
 * each (a NOT IN of a hashed subplan gates it): a fresh load probes nothing.
 */
/* A copy's place in the order of arrival after its received_at: its source
 * (file:line) with the line a number, file:9 before file:10 (as text, :10 came
 * first: of two copies in one dump, the later was kept), the text before the
 * number (the file's name and its ':') in byte order, then the whole text (a total order: equal keys, equal sources). */
#define SRC_KEY(x) " rtrim(" x ", '0123456789') COLLATE \"C\", length(" x "), " x " COLLATE \"C\""
/* the event of stage table s's row is not one whose raw row this batch wrote
 * (stage_changed kind 'r'): only those are looked up in the stored tables, so
 * a fresh load probes nothing (a NOT IN of a hashed subplan) */
#define RAW_NOT_WRITTEN(s)                                                                    \
	" (" s ".provider, " s ".external_event_id) NOT IN (SELECT provider, external_event_id" \
	" FROM stage_changed WHERE kind = 'r')"
#define FIRST_COPY(s) " coalesce(fc.received_at, " s ".received_at), coalesce(fc.source, " s ".source)"
#define FIRST_COPY_JOIN(s)                                                                        \
	" LEFT JOIN LATERAL (SELECT r.received_at, r.source FROM external_events_raw r"                 \
	" WHERE" RAW_NOT_WRITTEN(s) " AND (r.provider, r.external_event_id) ="                          \
	" (" s ".provider, " s ".external_event_id) AND (r.received_at," SRC_KEY("r.source") ") <"        \
	" (" s ".received_at," SRC_KEY(s ".source") ") LIMIT 1) fc ON true"
/* does the proposed row's stamp for f beat the stored one? */
#define STAMP_NEWER(occ, id)                                                            \
	"(EXCLUDED." id " IS NOT NULL AND (t." id " IS NULL OR"                               \
	" (EXCLUDED." occ ", EXCLUDED." id ") > (t." occ ", t." id ")))"
#define NEWER(f) STAMP_NEWER(f "_occurred_at", f "_event_id")
/* column c: the batch's value when cond holds, else the stored one */
#define TAKE(cond, c) "CASE WHEN " cond " THEN EXCLUDED." c " ELSE t." c " END"
#define PICK(cond, c) " " c " = " TAKE(cond, c) ","
/* a customer's field: its stamp leads with whether a customer.* event of Stripe gave it
 * (CUS_AUTH), so such an event's value beats any other event's */
#define CNEWER(f)                                                                     \
	"(EXCLUDED." f "_event_id IS NOT NULL AND (t." f "_event_id IS NULL OR"             \
	" (EXCLUDED." f "_auth, EXCLUDED." f "_occurred_at, EXCLUDED." f "_event_id) >"      \
	" (t." f "_auth, t." f "_occurred_at, t." f "_event_id)))"
#define MERGE(f) PICK(CNEWER(f), f) PICK(CNEWER(f), f "_occurred_at") PICK(CNEWER(f), f "_event_id") \
	PICK(CNEWER(f), f "_auth")
/* a customer merged with a batch's row (EXCLUDED): the fields beside the stamped ones */
#define CUS_DELETED "(t.deleted OR EXCLUDED.deleted)"
#define CUS_DELETED_AT "GREATEST(t.deleted_at, EXCLUDED.deleted_at)"
#define CUS_FIRST "LEAST(t.first_event_at, EXCLUDED.first_event_at)"
#define CUS_STATE_OCC "GREATEST(t.state_occurred_at, EXCLUDED.state_occurred_at)"
#define CUS_STATE_ID "(CASE WHEN t.state_event_id IS NULL OR"                           \
	" (COALESCE(EXCLUDED.state_occurred_at, '-infinity'), EXCLUDED.state_event_id) >"      \
	" (COALESCE(t.state_occurred_at, '-infinity'), t.state_event_id)"                      \
	" THEN EXCLUDED.state_event_id ELSE t.state_event_id END)"
#define STAMPED(p, f) p f ", " p f "_occurred_at, " p f "_event_id, " p f "_auth"
#define SET3(f) " " f " = EXCLUDED." f ", " f "_occurred_at = EXCLUDED." f "_occurred_at, " \
	f "_event_id = EXCLUDED." f "_event_id, " f "_auth = EXCLUDED." f "_auth,"

/*
 * A subscription's fields after price_id (which brings the plan with it), each with
 * the index of its stamp in fill_occurred_at / fill_event_id (price_id's is 1), the
 * cast of its text, and which events tell it (t): any that has it (VAL), or, for the
 * plan's period, one that has it and names the plan the subscription has, or no plan
 * when it has none (PLAN). A Hotmart SWITCH_PLAN names the new plan and not its period:
 * the old plan's period is not the new one's. The one list every field list below is
 * made from, so a new field is one line here (and its column, stamp and backfill in a
 * migration). SUB_FIELDS(X, a) calls X(a, field, index, cast, t) for each.
 */
#define SUB_FIELDS(X, a) X(a, "product_id", "2", "", VAL) X(a, "status", "3", "", VAL)              \
	X(a, "interval", "4", "", PLAN) X(a, "interval_count", "5", "::bigint", PLAN)                  \
	X(a, "quantity", "6", "::bigint", VAL) X(a, "current_period_start", "7", "::timestamptz", VAL) \
	X(a, "current_period_end", "8", "::timestamptz", VAL)                                          \
	X(a, "cancel_at_period_end", "9", "::boolean", VAL) X(a, "canceled_at", "10", "::timestamptz", VAL) \
	X(a, "trial_end", "11", "::timestamptz", VAL) X(a, "cancel_at", "12", "::timestamptz", VAL)
/* the X of SUB_FIELDS: macro M of the field (EACH_F), of its index (EACH_I), of both
 * (EACH_FI), of the field and its t (EACH_FT), or after a comma (NEXT_FT, NEXT_I, for
 * ARRAY[...]); the field's name, or its name and cast, as a select-list item (NAME_OF,
 * CAST_OF) */
#define EACH_F(M, f, i, c, t) M(f)
#define NEXT_FT(M, f, i, c, t) "," M(f, t)
#define NEXT_I(M, f, i, c, t) "," M(i)
#define EACH_I(M, f, i, c, t) M(i)
#define EACH_FI(M, f, i, c, t) M(f, i)
#define EACH_FT(M, f, i, c, t) M(f, t)
#define NAME_OF(u, f, i, c, t) " " f ","
#define CAST_OF(u, f, i, c, t) " " f c ","
/* In the recompute, does an event (a row of ev) tell field f of kind t? ps is the
 * subscription section of the subscription's chosen event: its price_id is the plan. */
#define TOLD(t, f) TOLD_##t(f)
#define TOLD_VAL(f) f " IS NOT NULL"
#define TOLD_PLAN(f) "(" f " IS NOT NULL AND price_id IS NOT DISTINCT FROM ps->>'price_id')"
/* A subscription field: from the best event that is a subscription event or
 * tells the field (see the subscriptions recompute; wf is its window). */
#define SUB_FIELD(f, t) " (array_agg(" f ") FILTER (WHERE auth OR " TOLD(t, f) ") OVER wf)[1] AS " f ","
/* wf: a subscription's events, the best first (subscription.* events, then by fill
 * stamp, occurrence, rank, id) */
#define SUB_WF "(PARTITION BY " SUB_KEY " ORDER BY auth DESC, fo DESC, occ DESC, " AUTH_RANK " DESC, id DESC" WHOLE ")"
#define SUB_COL(f) " n.event->'subscription'->>'" f "' AS " f ","
#define SUB_COLS " customer_id, plan_id, price_id," SUB_FIELDS(NAME_OF, _)                        \
	" state_occurred_at, state_event_id, state_event_type, customer_occurred_at,"                 \
	" customer_event_id, event_plan_code, fill_as_of, fill_occurred_at, fill_event_id"
/* the fields the latest subscription.* event gives (and state_event_type, last) */
#define SUB_AUTH_COLS(X) X("plan_id") X("price_id") SUB_FIELDS(EACH_F, X) X("event_plan_code") \
	X("state_occurred_at") X("state_event_id")
#define SUB_SET(c) " " c " = EXCLUDED." c ","
#define SUB_DIFF_T(c) " t." c ","
#define SUB_DIFF_X(c) " EXCLUDED." c ","
/*
 * Is an event (of provider prov, canonical type et) the authority on its
 * subscription? Stripe's subscription.* events carry the whole Subscription
 * object: the latest gives every field, nulls included. Hotmart's
 * (SWITCH_PLAN, UPDATE_SUBSCRIPTION_CHARGE_DATE, SUBSCRIPTION_CANCELLATION)
 * carry a part of it, as its purchases do, which tell the live status (a
 * renewal, DELAYED): every Hotmart event only fills, the latest value of each
 * field wins. sql/014 re-decides the Hotmart subscriptions stored before.
 */
#define SUB_AUTH(prov, et) "(coalesce(" et " LIKE 'subscription.%', false) AND " prov " <> 'hotmart')"
/*
 * subscription.* events in the same instant: created, then updated, then
 * canceled, then by event id (Stripe's times are whole seconds: a subscription
 * created incomplete and made active by its first payment often shares one).
 */
#define SUB_RANK(et) "(CASE " et " WHEN 'subscription.created' THEN 1 WHEN 'subscription.updated'" \
	" THEN 2 WHEN 'subscription.canceled' THEN 3 ELSE 0 END)"
/* the rank among an event's kind: subscription.* events' alone (for the others,
 * Hotmart's included, the merge has no rank to compare with: a stamp does not hold it) */
#define AUTH_RANK "(CASE WHEN auth THEN " SUB_RANK("event_type") " ELSE 0 END)"
#define AUTH_NEWER "(NOT " T_AUTH " OR"                                                    \
	" (EXCLUDED.state_occurred_at, " SUB_RANK("EXCLUDED.state_event_type") ", EXCLUDED.state_event_id) >" \
	" (t.state_occurred_at, " SUB_RANK("t.state_event_type") ", t.state_event_id))"

/*
 * A subscription no subscription.* event has set yet takes each field from the
 * latest event that had it, by the time of the state it tells (fo, FILL_AT),
 * then its own time, then its id, and keeps that event's stamp: element i of
 * fill_as_of (sql/019) / fill_occurred_at / fill_event_id (sql/004), NULL once
 * a subscription.* event gives the fields. FILL_ARRAY builds the array of an
 * expression per field.
 */
#define FILL_ARRAY(E) "ARRAY[" E("price_id", VAL) SUB_FIELDS(NEXT_FT, E) "]"
#define INDEX_ARRAY(E) "ARRAY[" E("1") SUB_FIELDS(NEXT_I, E) "]"
/* the row's columns, each with the index of the stamp of the field it follows */
#define SUB_FILL_COLS(X) X("plan_id", "1") X("price_id", "1") X("event_plan_code", "1")         \
	SUB_FIELDS(EACH_FI, X)
/* is the batch's row (EXCLUDED) / the stored row (t) from a subscription.* event? */
#define X_AUTH SUB_AUTH("EXCLUDED.provider", "EXCLUDED.state_event_type")
#define T_AUTH SUB_AUTH("t.provider", "t.state_event_type")
/* the batch's latest subscription.* event gives every field */
#define TAKE_ALL "(" X_AUTH " AND " AUTH_NEWER ")"
/* neither is: field i from the batch when its stamp is newer */
#define FILL_STAMP(r, i) "(" r ".fill_as_of[" i "], " r ".fill_occurred_at[" i "], " r ".fill_event_id[" i "])"
#define FILL(i) "(NOT " X_AUTH " AND NOT " T_AUTH " AND EXCLUDED.fill_event_id[" i "] IS NOT NULL AND"   \
	" (t.fill_event_id[" i "] IS NULL OR " FILL_STAMP("EXCLUDED", i) " > " FILL_STAMP("t", i) "))"
#define FILL_PICK(c, i) PICK(TAKE_ALL " OR " FILL(i), c)
#define FILL_ASOF(i) TAKE(FILL(i), "fill_as_of[" i "]")
#define FILL_OCC(i) TAKE(FILL(i), "fill_occurred_at[" i "]")
#define FILL_ID(i) TAKE(FILL(i), "fill_event_id[" i "]")
#define FILL_ANY(i) " OR " FILL(i)
#define EACH_INDEX(E) E("1") SUB_FIELDS(EACH_I, E)
/* neither is: the state stamp is the latest event's */
#define STATE_NEWER "(NOT " X_AUTH " AND NOT " T_AUTH " AND (EXCLUDED.state_occurred_at,"          \
	" EXCLUDED.state_event_id) > (t.state_occurred_at, t.state_event_id))"
#define STATE_PICK(c) PICK(TAKE_ALL " OR " STATE_NEWER, c)
/* the recompute's stamps: the first event in wf's order that had the field */
#define R_ASOF(f, t) "(array_agg(fo) FILTER (WHERE " TOLD(t, f) ") OVER wf)[1]"
#define R_OCC(f, t) "(array_agg(occ) FILTER (WHERE " TOLD(t, f) ") OVER wf)[1]"
#define R_ID(f, t) "(array_agg(id) FILTER (WHERE " TOLD(t, f) ") OVER wf)[1]"
/* the merge's: the position, in the batch's events latest first (window w),
 * of the first in fill order (wf) that has the field (p_f), of the latest
 * subscription.* event (pa) and of the latest with a customer (pc); the
 * values are read from arrays of the events in w's order (one array per
 * column, where an aggregate per field and column copied each value a dozen
 * times) */
#define B_POS(f) " (array_agg(rn) FILTER (WHERE s->>'" f "' IS NOT NULL) OVER wf)[1] AS p_" f ","
#define B_ASOF(f, t) "fa[p_" f "]"
#define B_OCC(f, t) "o[p_" f "]"
#define B_ID(f, t) "i[p_" f "]"
#define B_VAL(f) " ss[coalesce(pa, p_" f ")]->>'" f "' AS " f ","

/*
 * The time of the state an event's section tells (fo; stamped in fill_as_of):
 * for an invoice, when it was made (invoiced_at: its lines are the
 * subscription as it was then), else the event's own time. An invoice paid,
 * voided or marked uncollectible weeks later is still the state it was
 * made in: by event time it outranked the upgrade and the renewal after it.
 */
#define FILL_AT(auth, s, occ) "CASE WHEN " auth " THEN " occ " ELSE COALESCE((" s "->>'invoiced_at')::timestamptz, " occ ") END"

/* the events of a subscription, one row each, for the recompute */
#define SUB_EV_COLS " n.external_event_id AS id, n.event_type,"                     \
	" " SUB_AUTH("n.provider", "n.event_type") " AS auth,"                               \
	" COALESCE(n.occurred_at, '-infinity') AS occ, n.event->'subscription' AS s, n.customer_id," \
	" " FILL_AT(SUB_AUTH("n.provider", "n.event_type"), "n.event->'subscription'",             \
		    "COALESCE(n.occurred_at, '-infinity')") " AS fo,"                                   \
	" n.event->'subscription'->>'price_id' AS price_id,"                                 \
	SUB_FIELDS(EACH_F, SUB_COL) " 0 AS _end"

/* payments: the key, the columns beside it, and their values from a row of src */
#define PAY_KEY "project_id, provider, payment_id"
/* the fields the latest event about the payment gives, nulls included (PAY_ORDER) */
#define PAY_STATE(X) X("object") X("amount_minor") X("currency") X("status") X("method")         \
	X("installments") X("failure_code") X("discount_minor") X("refunded_minor") X("livemode")
/*
 * The fields that say what the payment belongs to and when it was due and paid:
 * the objects it links and its dates. A later event without one (a refund
 * webhook that names no subscription, a Stripe invoice event of an API version
 * that no longer carries the invoice's charge) does not erase it: each is the
 * latest non-null by (occurred_at, external_event_id), as customer_id, with its
 * stamp in fill_occurred_at[i] / fill_event_id[i] (sql/027). The method and
 * installments are the latest attempt's (PAY_STATE): a payment intent that
 * succeeds after a declined card may have been paid otherwise, and its
 * success, which Stripe cleared of the failed attempt, may not say how.
 * PAY_FILL(X, a) calls X(a, sep, field, i, cast) for each, sep "" for the
 * first and "," after.
 */
#define PAY_FILL(X, a) X(a, "", "invoice_id", "1", "") X(a, ",", "subscription_id", "2", "")          \
	X(a, ",", "charge_id", "3", "") X(a, ",", "payment_intent_id", "4", "")                          \
	X(a, ",", "due_at", "5", "::timestamptz") X(a, ",", "paid_at", "6", "::timestamptz")
#define FILL_F(M, s, f, i, c) M(f)
#define PAY_FIELDS(X) PAY_STATE(X) PAY_FILL(FILL_F, X)
#define PAY_COLS PAY_FIELDS(PAY_COL) " customer_id, customer_occurred_at, customer_event_id,"      \
	" state_occurred_at, state_event_id, state_event_type, fill_occurred_at, fill_event_id"
#define PAY_COL(c) " " c ","
#define FILL_VALUE(u, s, f, i, c) " fvs[p_" f "][" i "]" c ","
#define FILL_OCC_AT(u, s, f, i, c) s " fos[p_" f "]"
#define FILL_ID_OF(u, s, f, i, c) s " fis[p_" f "]"
#define PAY_VALUES " pay->>'object', (pay->>'amount_minor')::bigint, pay->>'currency', pay->>'status',"  \
	" pay->>'method', (pay->>'installments')::bigint, pay->>'failure_code',"                        \
	" (pay->>'discount_minor')::bigint, (pay->>'refunded_minor')::bigint, livemode,"                \
	PAY_FILL(FILL_VALUE, _) " cus_id, cus_occ, cus_eid, occ, external_event_id, event_type,"        \
	" ARRAY[" PAY_FILL(FILL_OCC_AT, _) "], ARRAY[" PAY_FILL(FILL_ID_OF, _) "]"
/* the latest event with a customer, by its stamp (time, event id), in src's window wc */
#define PAY_CUSTOMER " (array_agg(customer_id) FILTER (WHERE customer_id IS NOT NULL) OVER wc)[1] AS cus_id," \
	" (array_agg(occ) FILTER (WHERE customer_id IS NOT NULL) OVER wc)[1] AS cus_occ,"                  \
	" (array_agg(external_event_id) FILTER (WHERE customer_id IS NOT NULL) OVER wc)[1] AS cus_eid,"
/* and with each field of PAY_FILL: its position p_f in wc's order (rc), read from
 * arrays of the payment's events in that order, of their fields' text (fv, one array
 * a row: fvs is two-dimensional), times and ids (an aggregate per field and column
 * made three dozen arrays a payment) */
#define FILL_TEXT(u, s, f, i, c) s " pay->>'" f "'"
#define FILL_POS(u, s, f, i, c) " min(rc) FILTER (WHERE fv[" i "] IS NOT NULL) OVER wc AS p_" f ","
/* does the batch's stamp for field i beat the stored one? */
#define PAY_FNEWER(i) STAMP_NEWER("fill_occurred_at[" i "]", "fill_event_id[" i "]")
#define FILL_MERGE(u, s, f, i, c) PICK(PAY_FNEWER(i), f)
#define FILL_MERGE_OCC(u, s, f, i, c) s " " TAKE(PAY_FNEWER(i), "fill_occurred_at[" i "]")
#define FILL_MERGE_ID(u, s, f, i, c) s " " TAKE(PAY_FNEWER(i), "fill_event_id[" i "]")
#define FILL_ANY_NEWER(u, s, f, i, c) " OR " PAY_FNEWER(i)
#define PAY_SET(c) " " c " = EXCLUDED." c ","
#define PAY_T(c) " t." c ","
#define PAY_X(c) " EXCLUDED." c ","
/*
 * A payment's events in order: by time, then, at the same instant, by the stage
 * of the payment's life its status is (Stripe's times are whole seconds, and an
 * invoice is often finalized (pending) and paid in the same one: the event ids,
 * random, would make it pending half the time), then by the amount refunded so
 * far (two partial refunds of a charge in one second: Stripe's running total
 * only grows), then by event id. A refund ranks after an inquiry (sql/018): a
 * Hotmart v1 purchase's statuses share one time, and its refund request
 * (inquiry) granted is a refund; a Stripe dispute, the only other inquiry, is a
 * row of its own, never refunded.
 */
#define PAY_STAGE(st) "(CASE " st " WHEN 'pending' THEN 1 WHEN 'failed' THEN 2"                    \
	" WHEN 'inquiry' THEN 4 WHEN 'partially_refunded' THEN 5 WHEN 'refunded' THEN 6"           \
	" WHEN 'disputed' THEN 7 WHEN 'dispute_won' THEN 8 WHEN 'dispute_lost' THEN 8 ELSE 3 END)"
#define PAY_ORDER(p) "(" p "state_occurred_at, " PAY_STAGE(p "status") ", COALESCE(" p "refunded_minor, -1), " \
	p "state_event_id)"
/* the batch's event is the latest about the payment (or the same one, changed) */
#define PAY_LATEST PAY_ORDER("EXCLUDED.") " >= " PAY_ORDER("t.")
#define PAY_PICK(c) PICK(PAY_LATEST, c)
/* the payments' rows from the events in ev, the latest about each payment first
 * (then_by: the order among copies), and the INSERT up to its SET list */
#define PAY_UPSERT(then_by) " src AS (SELECT * FROM (SELECT project_id, provider, payment_id,"      \
	" external_event_id, event_type, occ, pay, livemode," PAY_CUSTOMER PAY_FILL(FILL_POS, _)            \
	" array_agg(fv) OVER wc AS fvs, array_agg(occ) OVER wc AS fos,"                                 \
	" array_agg(external_event_id) OVER wc AS fis, row_number() OVER w AS rn"                       \
	" FROM (SELECT *, row_number() OVER wc AS rc FROM (SELECT *, ARRAY[" PAY_FILL(FILL_TEXT, _)      \
	"] AS fv FROM ev) ev WINDOW wc AS (PARTITION BY " PAY_KEY " ORDER BY occ DESC,"                 \
	" external_event_id DESC" then_by ")) ev"                                                       \
	" WINDOW w AS (PARTITION BY " PAY_KEY " ORDER BY occ DESC, "                                   \
	PAY_STAGE("pay->>'status'") " DESC, COALESCE((pay->>'refunded_minor')::bigint, -1) DESC,"       \
	" external_event_id DESC" then_by WHOLE "),"                                                    \
	" wc AS (PARTITION BY " PAY_KEY " ORDER BY occ DESC, external_event_id DESC" then_by WHOLE "))"  \
	" x WHERE rn = 1)"                                                                              \
	" INSERT INTO payments AS t (" PAY_KEY "," PAY_COLS ") SELECT " PAY_KEY "," PAY_VALUES " FROM src" \
	" ON CONFLICT (" PAY_KEY ") DO UPDATE SET"

#define CUS_COLS " email, email_occurred_at, email_event_id, email_auth, name, name_occurred_at," \
	" name_event_id, name_auth, phone, phone_occurred_at, phone_event_id, phone_auth, country," \
	" country_occurred_at, country_event_id, country_auth," \
	" deleted, deleted_at, first_event_at, state_occurred_at, state_event_id"
/*
 * Is an event (of provider prov, canonical type et) the authority on its
 * customer's contact fields? Stripe's customer.* events carry the Customer
 * object, which owns them; its other events carry copies: a charge's
 * billing_details are its payment method's (a card holder's e-mail), an
 * invoice's customer_email is frozen when it is finalized. So a field a
 * customer event gave is only changed by a later customer event; the others
 * fill what no customer event gave. Hotmart sends no customer events.
 */
#define CUS_AUTH(prov, et) "(coalesce(" et " LIKE 'customer.%', false) AND " prov " = 'stripe')"
/*
 * The time of the copy an event carries of its customer's contact fields (its
 * fields' stamp, *_occurred_at): an invoice's are frozen when it is made, so
 * for a Stripe invoice event that is not the authority it is when the invoice
 * was made, its invoiced_at (docs/events.md: in the subscription section), and
 * for an invoice of no subscription, which has no such section, the same time
 * from its raw payload (stripe_invoiced_at, sql/019; one key probe, only for
 * those); else the event's own time (occ). An old invoice paid late (net 30)
 * still carries the e-mail the customer had when it was made: by event time
 * it was the newest copy and wrote the old address back over a later
 * invoice's. An event loaded without its raw envelope and with no
 * invoiced_at ranks by its own time.
 */
#define CUS_AS_OF(auth, prov, pet, id, ev, occ)                                               \
	"(CASE WHEN " auth " THEN " occ " ELSE COALESCE((" ev " #>> '{subscription,invoiced_at}')::timestamptz," \
	" CASE WHEN " prov " = 'stripe' AND " pet " LIKE 'invoice.%' AND jsonb_typeof(" ev "->'customer') = 'object'" \
	" THEN (SELECT (stripe_invoiced_at(r.payload) #>> '{}')::timestamptz FROM external_events_raw r"  \
	" WHERE (r.provider, r.external_event_id) = (" prov ", " id ") LIMIT 1) END, " occ ") END)"
/*
 * The latest value per key, field by field, is computed without joining
 * per-field winners: joins of those left the planner guessing their sizes,
 * and a bad guess turned into a nested loop quadratic in the batch.
 */
#define CUS_KEY "project_id, provider, customer_id"
/* the keys recomputed rather than merged, for a NOT IN: a hashed subplan
 * whatever the planner guesses of the (never analyzed) staging tables, where
 * NOT EXISTS became a nested loop quadratic in the batch. No column is NULL. */
#define FULL_KEYS(kind) "SELECT project_id, provider, id FROM stage_full WHERE kind = '" kind "'"
/* Keeping the earliest copy of an event the batch holds twice: a sort the
 * batch skips when the loader saw no key twice in it (script() strips the
 * marked text from that variant of the script). */
#define DEDUP(sql) " /*dedup*/" sql "/**/"
#define SUB_KEY "project_id, provider, subscription_id"
/* the customers' rows from the events in ev: a CTE, then the SELECT (CUS_COLS
 * order). One sort: each customer's events latest first, a window over them
 * all; a field is the first non-null value in that order (the authority's
 * first, then by the time of the copy, fo: CUS_AS_OF, then by id), with its
 * stamp (window aggregates read the frame in the window's order). */
#define CUS_LATEST(f) " (array_agg(" f ") FILTER (WHERE " f " IS NOT NULL) OVER wf)[1] AS " f "," \
	" (array_agg(fo) FILTER (WHERE " f " IS NOT NULL) OVER wf)[1] AS " f "_occ,"           \
	" (array_agg(id) FILTER (WHERE " f " IS NOT NULL) OVER wf)[1] AS " f "_id,"            \
	" coalesce((array_agg(auth) FILTER (WHERE " f " IS NOT NULL) OVER wf)[1], false) AS " f "_auth,"
/* (wf's level first, then w's: in one level the first window's arrays rode
 * in every row through the other's sort, quadratic in a customer's events) */
#define CUS_CTES ", lw AS (SELECT *,"                                                    \
	" coalesce(bool_or(event_type = 'customer.deleted') OVER w, false) AS deleted,"        \
	" max(occurred_at) FILTER (WHERE event_type = 'customer.deleted') OVER w AS deleted_at," \
	" min(occurred_at) OVER w AS first_event_at, max(occurred_at) OVER w AS state_occurred_at," \
	" id AS state_event_id, row_number() OVER w AS rn FROM (SELECT " CUS_KEY ", id,"       \
	" event_type, occurred_at, occ," CUS_LATEST("email") CUS_LATEST("name")                 \
	CUS_LATEST("phone") CUS_LATEST("country") " 0 AS _end FROM ev WINDOW wf AS (PARTITION BY " \
	CUS_KEY " ORDER BY auth DESC, fo DESC, id DESC" WHOLE ")) ev WINDOW w AS (PARTITION BY " \
	CUS_KEY " ORDER BY occ DESC, id DESC" WHOLE "))"
#define CUS_SELECT " SELECT " CUS_KEY ", email, email_occ, email_id, email_auth, name, name_occ,"  \
	" name_id, name_auth, phone, phone_occ, phone_id, phone_auth, country, country_occ,"     \
	" country_id, country_auth, deleted, deleted_at,"                                        \
	" first_event_at, state_occurred_at, state_event_id FROM lw WHERE rn = 1"

/*
 * The members of a payload that say how it was delivered, not what happened:
 * Stripe's pending_webhooks, the endpoints still to receive the event, which
 * each retry and each replay lowers. Two copies that differ only there are
 * the same event.
 */
#define DELIVERY_KEYS "'{pending_webhooks}'::text[]"
/* the raw rows the batch moved to an earlier copy, of the same content or not,
 * whose event the batch does not hold (c) */
#define MOVED_ALONE(same)                                                                          \
	"(SELECT provider, external_event_id FROM stage_changed WHERE kind = 'r' AND moved AND same = " same \
	" AND (provider, external_event_id) NOT IN (SELECT provider, external_event_id FROM stage_ev)) c"
/* the rows of table naming those events, for a ctid = ANY: one key probe each */
#define MOVED_ROWS(table, same)                                                                    \
	"ARRAY(SELECT o.ctid FROM " MOVED_ALONE(same) " CROSS JOIN LATERAL (SELECT ctid FROM " table " o" \
	" WHERE (o.provider, o.external_event_id) = (c.provider, c.external_event_id) LIMIT 1) o)"
/* of those, with other content, the rows that are not the raw row's copy's own
 * (an event loaded alone before, of the copy whose raw envelope now came: it
 * is the one a load of them together keeps, audit-B 2) */
#define MOVED_OTHER_ROWS(table)                                                                    \
	"ARRAY(SELECT o.ctid FROM " MOVED_ALONE("false") " CROSS JOIN LATERAL (SELECT ctid, received_at,"  \
	" source FROM " table " o WHERE (o.provider, o.external_event_id) = (c.provider, c.external_event_id)" \
	" LIMIT 1) o WHERE NOT EXISTS (SELECT 1 FROM external_events_raw r WHERE (r.provider,"           \
	" r.external_event_id, r.received_at, r.source) = (c.provider, c.external_event_id, o.received_at, o.source)))"
/* the rows of table naming them take the raw row's received_at and source */
#define MOVED_RESTAMP(table)                                                                       \
	"UPDATE " table " n SET (received_at, source) = (SELECT r.received_at, r.source"               \
	" FROM external_events_raw r WHERE (r.provider, r.external_event_id) = (n.provider, n.external_event_id))" \
	" WHERE n.ctid = ANY (" MOVED_ROWS(table, "true") ")"

static const char *const upserts[] = {
	/* A move (revenueos.move_project on: docs/schema.md): a copy received after
	 * the stored one, under another project, of the same content (the dumps
	 * first loaded, their files' times changed since, or --received-at left
	 * out) is that copy read again: it takes its received_at and source, its
	 * event too, and moves the event as the stored copy does. It was not kept,
	 * and the move left it behind without a word (audit-RB 1). Without a move
	 * the condition is a constant: nothing is read. (tests/db/load_faults.sh
	 * knows a batch's script by its first words.) */
	"WITH m AS MATERIALIZED (SELECT s.seq, s.provider, s.external_event_id, s.received_at AS was_at,"
	" s.source AS was_source, t.received_at, t.source FROM stage_raw s CROSS JOIN LATERAL"
	" (SELECT t.project_id, t.event_type, t.occurred_at, t.received_at, t.source, t.payload"
	" FROM external_events_raw t WHERE (t.provider, t.external_event_id) = (s.provider, s.external_event_id)"
	" LIMIT 1) t WHERE current_setting('revenueos.move_project', true) = 'on' AND s.project_id <> t.project_id"
	" AND (s.received_at," SRC_KEY("s.source") ") > (t.received_at," SRC_KEY("t.source") ")"
	" AND (s.event_type, s.occurred_at, s.payload - " DELIVERY_KEYS ") IS NOT DISTINCT FROM"
	" (t.event_type, t.occurred_at, t.payload - " DELIVERY_KEYS ")),"
	" e AS (UPDATE stage_ev e SET (received_at, source) = (m.received_at, m.source) FROM m"
	" WHERE (e.provider, e.external_event_id, e.received_at, e.source) ="
	" (m.provider, m.external_event_id, m.was_at, m.was_source))"
	" UPDATE stage_raw s SET (received_at, source) = (m.received_at, m.source) FROM m WHERE s.seq = m.seq",

	/* projects: the earliest received_at is a minimum, whatever the order */
	"INSERT INTO projects AS t (id, first_event_at)"
	" SELECT project_id, min(received_at) FROM (SELECT project_id, received_at FROM stage_raw"
	" UNION ALL SELECT project_id, received_at FROM stage_ev) s GROUP BY project_id"
	" ON CONFLICT (id) DO UPDATE SET first_event_at = EXCLUDED.first_event_at"
	" WHERE t.first_event_at IS NULL OR EXCLUDED.first_event_at < t.first_event_at",

	"WITH up AS (INSERT INTO external_events_raw AS t (provider, external_event_id, project_id,"
	" event_type, occurred_at, received_at, source, payload)"
	" SELECT" DEDUP(" DISTINCT ON (provider, external_event_id)") " provider, external_event_id, project_id,"
	" event_type, occurred_at, received_at, source, payload FROM stage_raw"
	DEDUP(" ORDER BY provider, external_event_id, received_at," SRC_KEY("source") ", seq DESC")
	" ON CONFLICT (provider, external_event_id) DO UPDATE SET project_id = EXCLUDED.project_id,"
	" event_type = EXCLUDED.event_type, occurred_at = EXCLUDED.occurred_at, payload = EXCLUDED.payload,"
	" received_at = LEAST(t.received_at, EXCLUDED.received_at),"
	" source = CASE WHEN (EXCLUDED.received_at," SRC_KEY("EXCLUDED.source") ") < (t.received_at," SRC_KEY("t.source") ")"
	" THEN EXCLUDED.source ELSE t.source END"
	" WHERE (EXCLUDED.received_at," SRC_KEY("EXCLUDED.source") ") < (t.received_at," SRC_KEY("t.source") ")"
	" OR ((EXCLUDED.received_at, EXCLUDED.source COLLATE \"C\") = (t.received_at, t.source)"
	" AND (t.project_id, t.event_type, t.occurred_at, t.payload) IS DISTINCT FROM"
	" (EXCLUDED.project_id, EXCLUDED.event_type, EXCLUDED.occurred_at, EXCLUDED.payload))"
	" RETURNING provider, external_event_id, xmax = 0 AS ins, project_id, received_at, source,"
	" CASE WHEN xmax <> 0 THEN row(event_type, occurred_at) END AS meta,"
	" CASE WHEN xmax <> 0 THEN payload - " DELIVERY_KEYS " END AS body),"
	/* what an updated row held before: the statement's snapshot still sees
	 * its old version (one key probe per updated row; a fresh load, none) */
	" c AS MATERIALIZED (SELECT u.provider, u.external_event_id, u.ins, u.project_id, u.received_at,"
	" u.source, o.moved, o.body AND (o.project_id, o.meta) IS NOT DISTINCT FROM (u.project_id, u.meta)"
	" AS same, o.body, o.source AS old FROM up u LEFT JOIN LATERAL (SELECT (o.received_at, o.source)"
	" IS DISTINCT FROM (u.received_at, u.source) AS moved, o.project_id, row(o.event_type, o.occurred_at)"
	" AS meta, o.payload - " DELIVERY_KEYS " IS NOT DISTINCT FROM u.body AS body, o.source"
	" FROM external_events_raw o WHERE NOT u.ins AND (o.provider, o.external_event_id) ="
	" (u.provider, u.external_event_id) LIMIT 1) o ON true),"
	/* an earlier copy replaced a stored one of another payload: said
	 * (not_kept_say). Only the payload is content there: a Hotmart v1
	 * cancellation is dated at its arrival, and a retry of it, the same bytes,
	 * is no news. Of copies tied on (received_at, source), the last read is
	 * the one stored. */
	" k AS (INSERT INTO stage_kept SELECT DISTINCT ON (c.provider, c.external_event_id) s.seq, c.old, true"
	" FROM c JOIN stage_raw s ON (s.provider, s.external_event_id, s.received_at, s.source) ="
	" (c.provider, c.external_event_id, c.received_at, c.source) WHERE c.moved AND NOT c.body"
	" ORDER BY c.provider, c.external_event_id, s.seq DESC)"
	" INSERT INTO stage_changed SELECT 'r', provider, external_event_id, ins, project_id, received_at,"
	" moved, same FROM c",

	/* An event is in one project, its raw row's: sql/017 keeps each table's row
	 * where it was first loaded, and this keeps the tables together. The
	 * batch's copies of an event (its raw rows and events: one aggregate, as
	 * the scratch tables' statistics, taken empty, made a join of them a
	 * nested loop), the batch's events against their raw rows stored before
	 * (one key probe each, for those whose raw row the batch did not write),
	 * and a raw row inserted without its event against the event stored
	 * before (with its event, the log's trigger refuses that). Refused as
	 * sql/017 refuses a move (PROJECT_CONFLICT): the replay says which. */
	"SELECT event_project_check(provider, external_event_id, stored, project_id) FROM ("
	" SELECT provider, external_event_id, max(project_id) AS project_id, min(project_id) AS stored"
	" FROM (SELECT provider, external_event_id, project_id FROM stage_raw UNION ALL"
	" SELECT provider, external_event_id, project_id FROM stage_ev) b GROUP BY 1, 2 UNION ALL"
	" SELECT e.provider, e.external_event_id, e.project_id, t.project_id FROM stage_ev e"
	" CROSS JOIN LATERAL (SELECT t.project_id FROM external_events_raw t WHERE"
	" (t.provider, t.external_event_id) = (e.provider, e.external_event_id) LIMIT 1) t"
	" WHERE" RAW_NOT_WRITTEN("e") " UNION ALL"
	" SELECT c.provider, c.external_event_id, c.project_id, t.project_id FROM stage_changed c"
	" CROSS JOIN LATERAL (SELECT t.project_id FROM external_events t WHERE"
	" (t.provider, t.external_event_id) = (c.provider, c.external_event_id) LIMIT 1) t"
	" WHERE c.kind = 'r' AND c.ins AND (c.provider, c.external_event_id) NOT IN"
	" (SELECT provider, external_event_id FROM stage_ev)) x WHERE stored <> project_id",

	/* A copy received after the stored one, with other content (a resent,
	 * corrected event), is not the copy kept: its event goes from the batch,
	 * so that neither the canonical event, nor the log, nor the state tables
	 * take what the raw row does not hold. What only says how it was delivered
	 * (DELIVERY_KEYS) is no content: a retry, or a replay from the provider's
	 * dashboard after a fix, brings its event as a same-payload copy does. Only
	 * raw rows the upsert above left alone are looked up, one key probe each
	 * (a fresh load probes nothing). Without its raw copy in the batch (events
	 * loaded alone) an event is taken as it comes. */
	"WITH l AS MATERIALIZED (SELECT s.seq, s.provider, s.external_event_id, s.received_at, s.source,"
	" t.source AS kept, s.payload - " DELIVERY_KEYS " IS DISTINCT FROM t.payload - " DELIVERY_KEYS " AS other"
	" FROM stage_raw s CROSS JOIN LATERAL (SELECT t.project_id, t.event_type, t.occurred_at,"
	" t.received_at, t.source, t.payload FROM external_events_raw t"
	" WHERE (t.provider, t.external_event_id) = (s.provider, s.external_event_id) LIMIT 1) t"
	" WHERE" RAW_NOT_WRITTEN("s")
	" AND (s.received_at," SRC_KEY("s.source") ") > (t.received_at," SRC_KEY("t.source") ")"
	/* a later copy under another project is refused as an update would be (sql/017) */
	" AND CASE WHEN s.project_id <> t.project_id THEN event_project_check(s.provider,"
	" s.external_event_id, t.project_id, s.project_id) ELSE true END"
	" AND (s.project_id, s.event_type, s.occurred_at, s.payload - " DELIVERY_KEYS ") IS DISTINCT FROM"
	" (t.project_id, t.event_type, t.occurred_at, t.payload - " DELIVERY_KEYS ")),"
	/* said by the loader once the batch is committed (not_kept_say), when
	 * the payload is other (a retry dated at its arrival is no news) */
	" k AS (INSERT INTO stage_kept SELECT seq, kept, false FROM l WHERE other)"
	/* computed once: as a subquery the planner, trusting the scratch tables'
	 * stale statistics, scanned the raw rows again for every staged event
	 * (quadratic in the batch: a load 4.6 times slower) */
	" DELETE FROM stage_ev e USING l"
	" WHERE (e.provider, e.external_event_id, e.received_at, e.source) ="
	" (l.provider, l.external_event_id, l.received_at, l.source)",

	/* an event whose raw copy in the batch is not the copy kept, another raw
	 * copy in the batch being earlier (its own event refused, or none): with
	 * other content it goes, with the same it takes the kept copy's
	 * received_at and source, as when the copies come in two runs (the
	 * statement above; MOVED_ALONE). Every copy's event, before the one kept
	 * is chosen below: of three copies, the third may be the first's content
	 * when the second's is other. Keys the batch holds twice only. */
	DEDUP("WITH d AS MATERIALIZED (SELECT s.seq, e.ctid AS t, r.received_at, r.source,"
	" (s.project_id, s.event_type, s.occurred_at) IS NOT DISTINCT FROM"
	" (r.project_id, r.event_type, r.occurred_at) AS meta,"
	" s.payload - " DELIVERY_KEYS " IS NOT DISTINCT FROM r.payload - " DELIVERY_KEYS " AS body"
	" FROM (SELECT provider, external_event_id FROM stage_raw GROUP BY 1, 2 HAVING count(*) > 1) x"
	" JOIN stage_raw s ON (s.provider, s.external_event_id) = (x.provider, x.external_event_id)"
	/* (a raw copy without its event is said not kept too) */
	" LEFT JOIN stage_ev e ON (e.provider, e.external_event_id, e.received_at, e.source) ="
	" (s.provider, s.external_event_id, s.received_at, s.source)"
	" CROSS JOIN LATERAL (SELECT r.project_id, r.event_type, r.occurred_at, r.received_at, r.source,"
	" r.payload FROM external_events_raw r WHERE (r.provider, r.external_event_id) ="
	" (x.provider, x.external_event_id) LIMIT 1) r"
	" WHERE (s.received_at," SRC_KEY("s.source") ") > (r.received_at," SRC_KEY("r.source") ")),"
	" k AS (INSERT INTO stage_kept SELECT seq, source, false FROM d WHERE NOT body),"
	" gone AS (DELETE FROM stage_ev WHERE ctid IN (SELECT t FROM d WHERE NOT (meta AND body)))"
	" UPDATE stage_ev e SET received_at = d.received_at, source = d.source FROM d"
	" WHERE e.ctid = d.t AND d.meta AND d.body"),

	/* of an event the batch holds more than once, the copy kept (the least
	 * received_at, source) is the one every statement below reads: the
	 * payments' merge reads stage_ev as it is */
	DEDUP("DELETE FROM stage_ev WHERE ctid = ANY (ARRAY(SELECT ctid FROM (SELECT ctid, row_number()"
	" OVER (PARTITION BY provider, external_event_id ORDER BY received_at," SRC_KEY("source") ", seq DESC) AS n"
	" FROM stage_ev) x WHERE n > 1))"),

	/* an event that comes without its raw copy (canonical events loaded
	 * alone), of a later copy than the one stored (its log row's): not kept,
	 * as in one batch, where the first copy's is (just above). Taken, it
	 * replaced the stored event's content and outcome under the first copy's
	 * time and source, and the tables depended on where batches and runs were
	 * cut (audit-B 1, 2). A retry or a replay of the stored raw copy (with
	 * its raw copy, a later one of the same content: the statements above
	 * judged it) brings its event; a re-run's copy is the stored one (a
	 * normalizer's fix); an earlier one replaces it. One key probe of the log
	 * per event whose raw row the batch did not write (a fresh load probes
	 * nothing). Left: an event loaded alone, then a later copy loaded whole,
	 * its raw copy the first stored: its event replaces the first's. */
	"DELETE FROM stage_ev WHERE ctid = ANY (ARRAY(SELECT e.ctid FROM stage_ev e"
	" CROSS JOIN LATERAL (SELECT t.received_at, t.source FROM external_events t"
	" WHERE (t.provider, t.external_event_id) = (e.provider, e.external_event_id) LIMIT 1) t"
	" WHERE" RAW_NOT_WRITTEN("e")
	" AND (e.received_at," SRC_KEY("e.source") ") > (t.received_at," SRC_KEY("t.source") ")"
	" AND NOT ((e.provider, e.external_event_id, e.received_at, e.source) IN"
	" (SELECT provider, external_event_id, received_at, source FROM stage_raw)"
	" AND EXISTS (SELECT 1 FROM external_events_raw r WHERE (r.provider, r.external_event_id) ="
	" (e.provider, e.external_event_id) AND (r.received_at," SRC_KEY("r.source") ") <"
	" (e.received_at," SRC_KEY("e.source") ")))))",

	/* a Stripe invoice's canonical event written before invoiced_at was (an older
	 * normalize, canonical NDJSON kept) gets it from its raw payload, the batch's
	 * copy else the stored one, as sql/019 gave the events stored then: ordered by
	 * its event's time, it would outrank the invoices made after it */
	"UPDATE stage_ev e SET event = jsonb_set(e.event, '{subscription,invoiced_at}',"
	" stripe_invoiced_at(COALESCE((SELECT s.payload FROM stage_raw s"
	" WHERE (s.provider, s.external_event_id) = (e.provider, e.external_event_id) LIMIT 1),"
	" (SELECT t.payload FROM external_events_raw t"
	" WHERE (t.provider, t.external_event_id) = (e.provider, e.external_event_id)))))"
	" WHERE e.provider = 'stripe' AND e.provider_event_type LIKE 'invoice.%'"
	" AND jsonb_typeof(e.event->'subscription') = 'object' AND NOT (e.event->'subscription') ? 'invoiced_at'",

	"WITH src AS (SELECT" DEDUP(" DISTINCT ON (provider, external_event_id)") " provider, external_event_id,"
	" project_id, event_type, provider_event_type, status, occurred_at, received_at, source,"
	" customer_id, subscription_id, payment_id, event FROM stage_ev WHERE status <> 'failed'"
	DEDUP(" ORDER BY provider, external_event_id, received_at," SRC_KEY("source") ", seq DESC") "),"
	" up AS (INSERT INTO external_events_normalized AS t (provider, external_event_id,"
	" project_id, event_type, provider_event_type, status, occurred_at, received_at, source,"
	" customer_id, subscription_id, payment_id, event)"
	" SELECT s.provider, s.external_event_id, s.project_id, s.event_type, s.provider_event_type,"
	" s.status, s.occurred_at," FIRST_COPY("s") ", s.customer_id, s.subscription_id, s.payment_id,"
	" s.event FROM src s" FIRST_COPY_JOIN("s")
	" ON CONFLICT (provider, external_event_id) DO UPDATE SET project_id = EXCLUDED.project_id,"
	" event_type = EXCLUDED.event_type, provider_event_type = EXCLUDED.provider_event_type,"
	" status = EXCLUDED.status, occurred_at = EXCLUDED.occurred_at,"
	" customer_id = EXCLUDED.customer_id, subscription_id = EXCLUDED.subscription_id,"
	" payment_id = EXCLUDED.payment_id, event = EXCLUDED.event,"
	" received_at = LEAST(t.received_at, EXCLUDED.received_at),"
	" source = CASE WHEN (EXCLUDED.received_at," SRC_KEY("EXCLUDED.source") ") < (t.received_at," SRC_KEY("t.source") ")"
	" THEN EXCLUDED.source ELSE t.source END"
	" WHERE (EXCLUDED.received_at," SRC_KEY("EXCLUDED.source") ") < (t.received_at," SRC_KEY("t.source") ")"
	" OR (t.project_id, t.status, t.event) IS DISTINCT FROM"
	" (EXCLUDED.project_id, EXCLUDED.status, EXCLUDED.event)"
	" RETURNING 'n'::\"char\" AS kind, xmax = 0 AS ins, provider, external_event_id, project_id,"
	" status, event_type, occurred_at, customer_id, subscription_id, payment_id,"
	" event #>> '{customer,email}', event #>> '{customer,name}', event #>> '{customer,phone}',"
	" event #>> '{customer,country}', event->'subscription',"
	" " CUS_AS_OF(CUS_AUTH("t.provider", "t.event_type"), "t.provider", "t.provider_event_type",
		      "t.external_event_id", "t.event", "COALESCE(t.occurred_at, '-infinity')") ")"
	/* and what the changed rows named before: the statement's snapshot still
	 * sees their old versions (only updated rows are looked up, one key probe
	 * each: as a join the planner chose a hash join over the whole table) */
	" INSERT INTO stage_norm SELECT * FROM up UNION ALL"
	" SELECT 'o', false, o.provider, o.external_event_id, o.project_id, NULL, NULL, NULL,"
	" o.customer_id, o.subscription_id, o.payment_id, NULL, NULL, NULL, NULL, NULL, NULL"
	" FROM up u CROSS JOIN LATERAL (SELECT * FROM external_events_normalized o"
	" WHERE o.provider = u.provider AND o.external_event_id = u.external_event_id"
	" AND o.status = 'processed' LIMIT 1) o WHERE NOT u.ins",

	/* an event every copy of which in the batch failed (a re-run after a
	 * normalizer change) has no canonical event, as in a clean load: a stored
	 * one goes, and what it named is recomputed ('o' rows). One key probe per
	 * failed event, never a join over the table. */
	"WITH f AS (SELECT provider, external_event_id FROM stage_ev GROUP BY 1, 2"
	" HAVING bool_and(status = 'failed')),"
	" gone AS (DELETE FROM external_events_normalized n WHERE n.ctid = ANY (ARRAY(SELECT o.ctid"
	" FROM f CROSS JOIN LATERAL (SELECT ctid FROM external_events_normalized o"
	" WHERE (o.provider, o.external_event_id) = (f.provider, f.external_event_id) LIMIT 1) o))"
	" RETURNING n.provider, n.external_event_id, n.project_id, n.status, n.customer_id,"
	" n.subscription_id, n.payment_id)"
	" INSERT INTO stage_norm SELECT 'o', false, provider, external_event_id, project_id, NULL, NULL,"
	" NULL, customer_id, subscription_id, payment_id, NULL, NULL, NULL, NULL, NULL, NULL FROM gone"
	" WHERE status = 'processed'",

	/* A raw row now holding an earlier copy than the one stored, when the batch
	 * holds no event of it (a raw envelope loaded alone, or its event refused):
	 * the stored canonical event and log row are the later copy's. With the
	 * same content they take the earlier copy's received_at and source; with
	 * other content they go, as that copy is not kept, and what the canonical
	 * event named is recomputed ('o' rows): the tables a load in the other
	 * order makes. One key probe per such row, never a join over a table. */
	MOVED_RESTAMP("external_events_normalized"),
	MOVED_RESTAMP("external_events"),
	"WITH gone AS (DELETE FROM external_events_normalized n WHERE n.ctid = ANY ("
	MOVED_OTHER_ROWS("external_events_normalized") ")"
	" RETURNING n.provider, n.external_event_id, n.project_id, n.status, n.customer_id,"
	" n.subscription_id, n.payment_id)"
	" INSERT INTO stage_norm SELECT 'o', false, provider, external_event_id, project_id, NULL, NULL,"
	" NULL, customer_id, subscription_id, payment_id, NULL, NULL, NULL, NULL, NULL, NULL FROM gone"
	" WHERE status = 'processed'",
	"DELETE FROM external_events n WHERE n.ctid = ANY (" MOVED_OTHER_ROWS("external_events") ")",

	/* a plan code we have not seen yet becomes a plan (named by ops later) */
	"INSERT INTO plans (id, code) SELECT DISTINCT plan_code, plan_code FROM stage_ev"
	" WHERE status = 'processed' AND plan_code IS NOT NULL ON CONFLICT DO NOTHING",

	/* the processing log; attempts and last_processed_at move only when the outcome does */
	"WITH src AS (SELECT" DEDUP(" DISTINCT ON (s.provider, s.external_event_id)") " s.provider,"
	" s.external_event_id, s.project_id, s.status, s.reason, s.event_type, s.provider_event_type,"
	" s.occurred_at, s.received_at, s.source,"
	" CASE WHEN s.status = 'processed' AND s.price_id IS NOT NULL AND s.plan_code IS NULL"
	" AND pp.plan_id IS NULL THEN s.price_id END AS unmapped"
	" FROM stage_ev s LEFT JOIN plan_prices pp ON pp.provider = s.provider AND pp.price_id = s.price_id"
	DEDUP(" ORDER BY s.provider, s.external_event_id, s.received_at," SRC_KEY("s.source") ", s.seq DESC") "),"
	" up AS (INSERT INTO external_events AS t (provider, external_event_id, project_id, status,"
	" reason, warning, unmapped_price_id, event_type, provider_event_type, occurred_at,"
	" received_at, source)"
	" SELECT s.provider, s.external_event_id, s.project_id, s.status, s.reason,"
	" CASE WHEN s.unmapped IS NOT NULL THEN 'no plan mapped for ' || s.provider || ' price '''"
	" || s.unmapped || '''' END, s.unmapped, s.event_type, s.provider_event_type, s.occurred_at,"
	FIRST_COPY("s") " FROM src s" FIRST_COPY_JOIN("s")
	" ON CONFLICT (provider, external_event_id) DO UPDATE SET project_id = EXCLUDED.project_id,"
	" status = EXCLUDED.status, reason = EXCLUDED.reason, warning = EXCLUDED.warning,"
	" unmapped_price_id = EXCLUDED.unmapped_price_id, event_type = EXCLUDED.event_type,"
	" provider_event_type = EXCLUDED.provider_event_type, occurred_at = EXCLUDED.occurred_at,"
	" received_at = LEAST(t.received_at, EXCLUDED.received_at),"
	" source = CASE WHEN (EXCLUDED.received_at," SRC_KEY("EXCLUDED.source") ") < (t.received_at," SRC_KEY("t.source") ")"
	" THEN EXCLUDED.source ELSE t.source END,"
	" attempts = t.attempts + CASE WHEN (t.project_id, t.status, t.reason, t.warning,"
	" t.event_type, t.provider_event_type, t.occurred_at) IS DISTINCT FROM (EXCLUDED.project_id,"
	" EXCLUDED.status, EXCLUDED.reason, EXCLUDED.warning, EXCLUDED.event_type,"
	" EXCLUDED.provider_event_type, EXCLUDED.occurred_at) THEN 1 ELSE 0 END,"
	" last_processed_at = CASE WHEN (t.project_id, t.status, t.reason, t.warning, t.event_type,"
	" t.provider_event_type, t.occurred_at) IS DISTINCT FROM (EXCLUDED.project_id,"
	" EXCLUDED.status, EXCLUDED.reason, EXCLUDED.warning, EXCLUDED.event_type,"
	" EXCLUDED.provider_event_type, EXCLUDED.occurred_at) THEN now() ELSE t.last_processed_at END"
	" WHERE (EXCLUDED.received_at," SRC_KEY("EXCLUDED.source") ") < (t.received_at," SRC_KEY("t.source") ")"
	" OR (t.project_id, t.status, t.reason, t.warning, t.event_type, t.provider_event_type,"
	" t.occurred_at) IS DISTINCT FROM (EXCLUDED.project_id, EXCLUDED.status, EXCLUDED.reason,"
	" EXCLUDED.warning, EXCLUDED.event_type, EXCLUDED.provider_event_type, EXCLUDED.occurred_at)"
	" RETURNING provider, external_event_id, xmax = 0 AS ins, project_id, received_at)"
	" INSERT INTO stage_changed SELECT 'e', * FROM up",

	/* integrations: the latest received_at of the events kept (a later duplicate
	 * of a stored event is not news). When the batch only added events that is
	 * a maximum with the stored value; when a stored event changed (an earlier
	 * copy moves its received_at back) or the row is missing, it is recomputed. */
	"UPDATE integrations t SET last_event_at = c.last FROM (SELECT project_id, provider,"
	" max(received_at) AS last FROM stage_changed GROUP BY 1, 2 HAVING bool_and(ins)) c"
	" WHERE (t.project_id, t.provider) = (c.project_id, c.provider)"
	" AND (t.last_event_at IS NULL OR c.last > t.last_event_at)",

	"WITH touched AS (SELECT project_id, provider FROM stage_changed c GROUP BY 1, 2"
	" HAVING NOT bool_and(ins) OR NOT EXISTS (SELECT 1 FROM integrations i"
	" WHERE i.project_id = c.project_id AND i.provider = c.provider))"
	" INSERT INTO integrations AS t (project_id, provider, last_event_at)"
	" SELECT project_id, provider, GREATEST((SELECT max(r.received_at) FROM external_events_raw r"
	" WHERE r.project_id = x.project_id AND r.provider = x.provider),"
	" (SELECT max(e.received_at) FROM external_events e"
	" WHERE e.project_id = x.project_id AND e.provider = x.provider)) FROM touched x"
	" ON CONFLICT (project_id, provider) DO UPDATE SET last_event_at = EXCLUDED.last_event_at"
	" WHERE t.last_event_at IS DISTINCT FROM EXCLUDED.last_event_at",

	/* which subscriptions, customers and payments are recomputed rather than merged */
	"INSERT INTO stage_full SELECT DISTINCT 's', project_id, provider, subscription_id"
	" FROM stage_norm WHERE NOT ins AND subscription_id IS NOT NULL"
	" UNION SELECT DISTINCT 'c', project_id, provider, customer_id"
	" FROM stage_norm WHERE NOT ins AND customer_id IS NOT NULL"
	" UNION SELECT DISTINCT 'p', project_id, provider, payment_id"
	" FROM stage_norm WHERE NOT ins AND payment_id IS NOT NULL",

	/* a subscription, customer or payment no processed event names any more
	 * (a re-run turned its events into others' or ignored ones) goes, as in a
	 * clean load */
	"DELETE FROM subscriptions t USING stage_full f WHERE f.kind = 's' AND t.project_id = f.project_id"
	" AND t.provider = f.provider AND t.subscription_id = f.id AND NOT EXISTS (SELECT 1"
	" FROM external_events_normalized n WHERE n.project_id = f.project_id AND n.provider = f.provider"
	" AND n.subscription_id = f.id AND n.status = 'processed')",
	"DELETE FROM customers t USING stage_full f WHERE f.kind = 'c' AND t.project_id = f.project_id"
	" AND t.provider = f.provider AND t.customer_id = f.id AND NOT EXISTS (SELECT 1"
	" FROM external_events_normalized n WHERE n.project_id = f.project_id AND n.provider = f.provider"
	" AND n.customer_id = f.id AND n.status = 'processed')",
	"DELETE FROM payments t USING stage_full f WHERE f.kind = 'p' AND t.project_id = f.project_id"
	" AND t.provider = f.provider AND t.payment_id = f.id AND NOT EXISTS (SELECT 1"
	" FROM external_events_normalized n WHERE n.project_id = f.project_id AND n.provider = f.provider"
	" AND n.payment_id = f.id AND n.status = 'processed')",

	/* and the subscriptions whose plan's period a merge cannot tell: the period
	 * is told by an event that names the plan the subscription has (TOLD_PLAN),
	 * so when the batch's events that name a plan or tell a period name more than
	 * one (no plan counted as one), or another than the stored row's, the period
	 * may be an older event's (a switch back to a plan had before). A row a
	 * subscription.* event set, or a batch that has one, needs none: that event
	 * gives every field. Nor does a row with no plan and no period (none of its
	 * events named a plan or told a period: the batch's are all there is).
	 * After the deletes: the batch has processed events naming each of these,
	 * so none goes, and the deletes' lookups are for a re-run's rows alone. */
	"INSERT INTO stage_full SELECT 's', b.project_id, b.provider, b.subscription_id FROM"
	" (SELECT project_id, provider, subscription_id, min(sub->>'price_id') AS lo, max(sub->>'price_id') AS hi,"
	" bool_or(sub->>'price_id' IS NULL) AS none, bool_or(" SUB_AUTH("provider", "event_type") ") AS auth"
	" FROM stage_norm WHERE ins AND status = 'processed' AND subscription_id IS NOT NULL"
	" AND (sub->>'price_id' IS NOT NULL OR sub->>'interval' IS NOT NULL OR sub->>'interval_count' IS NOT NULL)"
	" GROUP BY 1, 2, 3) b"
	" LEFT JOIN subscriptions t ON (t.project_id, t.provider, t.subscription_id) ="
	" (b.project_id, b.provider, b.subscription_id)"
	" WHERE NOT b.auth AND (t.subscription_id IS NULL OR t.fill_event_id IS NOT NULL)"
	" AND (b.lo <> b.hi OR (b.none AND b.lo IS NOT NULL) OR (t.subscription_id IS NOT NULL"
	" AND ((t.price_id IS DISTINCT FROM b.lo AND (t.price_id IS NOT NULL OR t.interval IS NOT NULL"
	" OR t.interval_count IS NOT NULL)) OR (b.none AND t.price_id IS NOT NULL))))"
	" AND (b.project_id, b.provider, b.subscription_id) NOT IN (" FULL_KEYS("s") ")",

	/* subscriptions recomputed from every processed event that names them.
	 * subscription.* events are the authority (a null there is a value: a
	 * cancellation undone); other events (invoices) carry partial sections that
	 * only fill fields no subscription event gave. Of subscription.* events the
	 * latest by (occurred_at, SUB_RANK, external_event_id) wins; of the others,
	 * for each field, the latest by (fo, occurred_at, external_event_id); so any
	 * order ends the same. The plan is the chosen event's plan_code, else the
	 * price mapping, else NULL. */
	"WITH touched AS (SELECT project_id, provider, id AS subscription_id FROM stage_full WHERE kind = 's'),"
	" ev AS MATERIALIZED (SELECT n.project_id, n.provider, n.subscription_id," SUB_EV_COLS
	" FROM touched JOIN external_events_normalized n USING (project_id, provider, subscription_id)"
	" WHERE n.status = 'processed'),"
	/* one window a query level, each level's rows narrow: a window aggregate's
	 * array is its partition's, and a level's first window's arrays rode in
	 * every row through the next window's sort, quadratic in a subscription's
	 * events (4 000 events: 4 s a recompute; audit-RB2 3) */
	" agg AS (SELECT project_id, provider, subscription_id, c_id AS customer_id,"
	" c_occ AS customer_id_occurred_at, c_eid AS customer_id_event_id, ps," SUB_FIELDS(NAME_OF, _)
	" occ AS state_occurred_at, id AS state_event_id, event_type AS state_event_type,"
	" fill_asof, fill_occ, fill_id FROM (SELECT *, row_number() OVER wa AS rn FROM"
	" (SELECT project_id, provider, subscription_id, auth, occ, id, event_type, c_id, c_occ, c_eid,"
	" ps," SUB_FIELDS(EACH_FT, SUB_FIELD)
	" " FILL_ARRAY(R_ASOF) " AS fill_asof, " FILL_ARRAY(R_OCC) " AS fill_occ, " FILL_ARRAY(R_ID) " AS fill_id"
	" FROM (SELECT *,"
	" (array_agg(customer_id) FILTER (WHERE customer_id IS NOT NULL) OVER wc)[1] AS c_id,"
	" (array_agg(occ) FILTER (WHERE customer_id IS NOT NULL) OVER wc)[1] AS c_occ,"
	" (array_agg(id) FILTER (WHERE customer_id IS NOT NULL) OVER wc)[1] AS c_eid"
	" FROM (SELECT *, (array_agg(s) FILTER (WHERE auth OR price_id IS NOT NULL) OVER wf)[1] AS ps"
	" FROM ev WINDOW wf AS " SUB_WF ") ev"
	" WINDOW wc AS (PARTITION BY " SUB_KEY " ORDER BY occ DESC, id DESC" WHOLE ")) ev"
	" WINDOW wf AS " SUB_WF ") ev"
	" WINDOW wa AS (PARTITION BY " SUB_KEY " ORDER BY auth DESC, occ DESC, " AUTH_RANK " DESC, id DESC" WHOLE ")) x"
	" WHERE rn = 1)"
	" INSERT INTO subscriptions AS t (project_id, provider, subscription_id," SUB_COLS ")"
	" SELECT a.project_id, a.provider, a.subscription_id, a.customer_id,"
	" COALESCE(a.ps->>'plan_code', pp.plan_id), a.ps->>'price_id'," SUB_FIELDS(CAST_OF, _)
	" state_occurred_at, state_event_id, state_event_type,"
	" customer_id_occurred_at, customer_id_event_id, a.ps->>'plan_code',"
	" CASE WHEN " SUB_AUTH("a.provider", "state_event_type") " THEN NULL ELSE fill_asof END,"
	" CASE WHEN " SUB_AUTH("a.provider", "state_event_type") " THEN NULL ELSE fill_occ END,"
	" CASE WHEN " SUB_AUTH("a.provider", "state_event_type") " THEN NULL ELSE fill_id END"
	" FROM agg a LEFT JOIN plan_prices pp ON pp.provider = a.provider AND pp.price_id = a.ps->>'price_id'"
	" ON CONFLICT (project_id, provider, subscription_id) DO UPDATE SET"
	" customer_id = EXCLUDED.customer_id, customer_occurred_at = EXCLUDED.customer_occurred_at,"
	" customer_event_id = EXCLUDED.customer_event_id," SUB_AUTH_COLS(SUB_SET)
	" state_event_type = EXCLUDED.state_event_type, fill_as_of = EXCLUDED.fill_as_of,"
	" fill_occurred_at = EXCLUDED.fill_occurred_at, fill_event_id = EXCLUDED.fill_event_id"
	" WHERE (t.customer_id, t.customer_occurred_at, t.customer_event_id," SUB_AUTH_COLS(SUB_DIFF_T)
	" t.state_event_type, t.fill_as_of, t.fill_occurred_at, t.fill_event_id) IS DISTINCT FROM (EXCLUDED.customer_id,"
	" EXCLUDED.customer_occurred_at, EXCLUDED.customer_event_id," SUB_AUTH_COLS(SUB_DIFF_X)
	" EXCLUDED.state_event_type, EXCLUDED.fill_as_of, EXCLUDED.fill_occurred_at, EXCLUDED.fill_event_id)",

	/* subscriptions merged with the batch's new events: the latest new
	 * subscription.* event replaces the fields when it beats the stored one;
	 * without one on either side each field is the latest that had it (its
	 * stamp, FILL); customer_id is the latest non-null by its stamp */
	"WITH ev AS (SELECT n.project_id, n.provider, n.subscription_id, n.external_event_id AS id,"
	" n.event_type, " SUB_AUTH("n.provider", "n.event_type") " AS auth,"
	" COALESCE(n.occurred_at, '-infinity') AS occ, n.sub AS s, n.customer_id,"
	" " FILL_AT(SUB_AUTH("n.provider", "n.event_type"), "n.sub", "COALESCE(n.occurred_at, '-infinity')")
	" AS fo FROM stage_norm n"
	" WHERE n.ins AND n.status = 'processed' AND n.subscription_id IS NOT NULL"
	" AND (n.project_id, n.provider, n.subscription_id) NOT IN (" FULL_KEYS("s") ")),"
	/* each subscription's new events latest first: the latest with a customer
	 * gives customer_id, the latest subscription.* event (pa) the rest, or
	 * without one the latest event (position 1) the state and each field's
	 * latest value (p_f) the fields */
	" b AS MATERIALIZED (SELECT " SUB_KEY ", c[pc] AS customer_id, o[pc] AS customer_id_occurred_at,"
	" i[pc] AS customer_id_event_id, ss[coalesce(pa, p_price_id)] AS ps,"
	SUB_FIELDS(EACH_F, B_VAL)
	" o[coalesce(pa, 1)] AS occ, i[coalesce(pa, 1)] AS id, et[coalesce(pa, 1)] AS event_type,"
	" CASE WHEN pa IS NULL THEN " FILL_ARRAY(B_ASOF) " END AS fill_asof,"
	" CASE WHEN pa IS NULL THEN " FILL_ARRAY(B_OCC) " END AS fill_occ,"
	" CASE WHEN pa IS NULL THEN " FILL_ARRAY(B_ID) " END AS fill_id"
	" FROM (SELECT " SUB_KEY ", rn, array_agg(s) OVER w AS ss, array_agg(occ) OVER w AS o,"
	" array_agg(id) OVER w AS i, array_agg(event_type) OVER w AS et, array_agg(customer_id) OVER w AS c,"
	" array_agg(fo) OVER w AS fa,"
	" min(rn) FILTER (WHERE customer_id IS NOT NULL) OVER w AS pc,"
	" min(rn) FILTER (WHERE auth AND rna = 1) OVER w AS pa," B_POS("price_id")
	SUB_FIELDS(EACH_F, B_POS) " 0 AS _end"
	" FROM (SELECT *, row_number() OVER w AS rn, row_number() OVER wr AS rna FROM ev"
	" WINDOW w AS (PARTITION BY " SUB_KEY " ORDER BY occ DESC, id DESC),"
	" wr AS (PARTITION BY " SUB_KEY " ORDER BY auth DESC, occ DESC, " SUB_RANK("event_type")
	" DESC, id DESC)) r"
	" WINDOW w AS (PARTITION BY " SUB_KEY " ORDER BY occ DESC, id DESC" WHOLE "),"
	" wf AS (PARTITION BY " SUB_KEY " ORDER BY fo DESC, occ DESC, id DESC" WHOLE ")) x WHERE rn = 1)"
	" INSERT INTO subscriptions AS t (project_id, provider, subscription_id," SUB_COLS ")"
	" SELECT b.project_id, b.provider, b.subscription_id, b.customer_id,"
	" COALESCE(ps->>'plan_code', pp.plan_id), ps->>'price_id'," SUB_FIELDS(CAST_OF, _)
	" occ, id, event_type, customer_id_occurred_at,"
	" customer_id_event_id, ps->>'plan_code', fill_asof, fill_occ, fill_id"
	" FROM b LEFT JOIN plan_prices pp ON pp.provider = b.provider AND pp.price_id = b.ps->>'price_id'"
	" ON CONFLICT (project_id, provider, subscription_id) DO UPDATE SET"
	PICK(NEWER("customer"), "customer_id") PICK(NEWER("customer"), "customer_occurred_at")
	PICK(NEWER("customer"), "customer_event_id") SUB_FILL_COLS(FILL_PICK)
	STATE_PICK("state_occurred_at") STATE_PICK("state_event_id") STATE_PICK("state_event_type")
	" fill_as_of = CASE WHEN " X_AUTH " OR " T_AUTH " THEN NULL ELSE " INDEX_ARRAY(FILL_ASOF) " END,"
	" fill_occurred_at = CASE WHEN " X_AUTH " OR " T_AUTH " THEN NULL ELSE " INDEX_ARRAY(FILL_OCC) " END,"
	" fill_event_id = CASE WHEN " X_AUTH " OR " T_AUTH " THEN NULL ELSE " INDEX_ARRAY(FILL_ID) " END"
	/* a merge that changes nothing writes nothing */
	" WHERE " TAKE_ALL " OR " STATE_NEWER " OR " NEWER("customer") EACH_INDEX(FILL_ANY),

	/* the plan follows the price mapping as it is now, for every subscription the
	 * batch names (a replay after ops added a mapping sets the plan), the rows
	 * this transaction wrote above too: a merge that kept the stored price (a
	 * newer customer stamp only, an invoice a subscription event outranks)
	 * kept its stored plan, mapped before. One key probe each (LIMIT 1): as a
	 * join the planner chose, for one scratch slot in two, a hash join over the
	 * whole table, a cost growing with it. */
	"UPDATE subscriptions t SET plan_id = v.plan_id FROM (SELECT s.row, s.old,"
	" COALESCE(s.event_plan_code, (SELECT pp.plan_id FROM plan_prices pp"
	" WHERE pp.provider = s.provider AND pp.price_id = s.price_id)) AS plan_id"
	" FROM (SELECT DISTINCT project_id, provider, subscription_id FROM stage_ev"
	" WHERE status = 'processed' AND subscription_id IS NOT NULL) x CROSS JOIN LATERAL"
	" (SELECT s.ctid AS row, s.provider, s.price_id, s.event_plan_code, s.plan_id AS old"
	" FROM subscriptions s WHERE (s.project_id, s.provider, s.subscription_id) ="
	" (x.project_id, x.provider, x.subscription_id) LIMIT 1) s) v"
	" WHERE t.ctid = v.row AND v.old IS DISTINCT FROM v.plan_id"
	/* a plan set by hand stays (sql/016's trigger would keep it: no write at all) */
	" AND t.plan_set_by_hand_at IS NULL",

	/* payments recomputed from every processed event about them (see below) */
	"WITH touched AS (SELECT project_id, provider, id AS payment_id FROM stage_full WHERE kind = 'p'),"
	" ev AS MATERIALIZED (SELECT n.project_id, n.provider, n.payment_id, n.customer_id,"
	" n.external_event_id, n.event_type, COALESCE(n.occurred_at, '-infinity') AS occ,"
	" n.event->'payment' AS pay, (n.event->>'livemode')::boolean AS livemode"
	" FROM touched JOIN external_events_normalized n USING (project_id, provider, payment_id)"
	" WHERE n.status = 'processed'),"
	PAY_UPSERT("") PAY_FIELDS(PAY_SET) " customer_id = EXCLUDED.customer_id,"
	" customer_occurred_at = EXCLUDED.customer_occurred_at, customer_event_id = EXCLUDED.customer_event_id,"
	" state_occurred_at = EXCLUDED.state_occurred_at, state_event_id = EXCLUDED.state_event_id,"
	" state_event_type = EXCLUDED.state_event_type, fill_occurred_at = EXCLUDED.fill_occurred_at,"
	" fill_event_id = EXCLUDED.fill_event_id"
	" WHERE (" PAY_FIELDS(PAY_T) " t.customer_id, t.customer_occurred_at, t.customer_event_id,"
	" t.state_occurred_at, t.state_event_id, t.state_event_type, t.fill_occurred_at, t.fill_event_id)"
	" IS DISTINCT FROM (" PAY_FIELDS(PAY_X) " EXCLUDED.customer_id, EXCLUDED.customer_occurred_at,"
	" EXCLUDED.customer_event_id, EXCLUDED.state_occurred_at, EXCLUDED.state_event_id,"
	" EXCLUDED.state_event_type, EXCLUDED.fill_occurred_at, EXCLUDED.fill_event_id)",

	/* payments merged with the batch's events: the state of the latest event
	 * about it; customer_id and each field of PAY_FILL the latest non-null, by
	 * its stamp (a refund webhook that names no customer or subscription keeps
	 * the ones an earlier event gave) */
	"WITH ev AS (SELECT s.project_id, s.provider, s.payment_id, s.customer_id, s.external_event_id,"
	" s.event_type, COALESCE(s.occurred_at, '-infinity') AS occ, s.event->'payment' AS pay,"
	" (s.event->>'livemode')::boolean AS livemode, s.seq FROM stage_ev s"
	" WHERE s.status = 'processed' AND s.payment_id IS NOT NULL"
	" AND (s.project_id, s.provider, s.payment_id) NOT IN (" FULL_KEYS("p") ")),"
	PAY_UPSERT(", seq DESC") PAY_STATE(PAY_PICK) PAY_FILL(FILL_MERGE, _)
	PICK(NEWER("customer"), "customer_id") PICK(NEWER("customer"), "customer_occurred_at")
	PICK(NEWER("customer"), "customer_event_id") PAY_PICK("state_occurred_at")
	PAY_PICK("state_event_id") " state_event_type = CASE WHEN " PAY_LATEST
	" THEN EXCLUDED.state_event_type ELSE t.state_event_type END,"
	" fill_occurred_at = ARRAY[" PAY_FILL(FILL_MERGE_OCC, _) "],"
	" fill_event_id = ARRAY[" PAY_FILL(FILL_MERGE_ID, _) "]"
	" WHERE " PAY_ORDER("EXCLUDED.") " > " PAY_ORDER("t.")
	" OR ((EXCLUDED.state_occurred_at, EXCLUDED.state_event_id) = (t.state_occurred_at, t.state_event_id)"
	" AND (" PAY_STATE(PAY_T) " t.state_event_type) IS DISTINCT FROM (" PAY_STATE(PAY_X)
	" EXCLUDED.state_event_type)) OR " NEWER("customer") PAY_FILL(FILL_ANY_NEWER, _),

	/* customers recomputed from every processed event that names them; each
	 * field is its latest non-null value, so partial sections never erase */
	"WITH touched AS (SELECT project_id, provider, id AS customer_id FROM stage_full WHERE kind = 'c'),"
	" ev AS MATERIALIZED (SELECT n.project_id, n.provider, n.customer_id, n.external_event_id AS id,"
	" n.event_type, n.occurred_at, COALESCE(n.occurred_at, '-infinity') AS occ,"
	" " CUS_AUTH("n.provider", "n.event_type") " AS auth,"
	" " CUS_AS_OF(CUS_AUTH("n.provider", "n.event_type"), "n.provider", "n.provider_event_type",
		      "n.external_event_id", "n.event", "COALESCE(n.occurred_at, '-infinity')") " AS fo,"
	" n.event #>> '{customer,email}' AS email, n.event #>> '{customer,name}' AS name,"
	" n.event #>> '{customer,phone}' AS phone, n.event #>> '{customer,country}' AS country"
	" FROM touched JOIN external_events_normalized n USING (project_id, provider, customer_id)"
	" WHERE n.status = 'processed')" CUS_CTES
	" INSERT INTO customers AS t (project_id, provider, customer_id," CUS_COLS ")" CUS_SELECT
	" ON CONFLICT (project_id, provider, customer_id) DO UPDATE SET"
	SET3("email") SET3("name") SET3("phone") SET3("country")
	" deleted = EXCLUDED.deleted, deleted_at = EXCLUDED.deleted_at,"
	" first_event_at = EXCLUDED.first_event_at, state_occurred_at = EXCLUDED.state_occurred_at,"
	" state_event_id = EXCLUDED.state_event_id"
	" WHERE (" STAMPED("t.", "email") ", " STAMPED("t.", "name") ", " STAMPED("t.", "phone") ", "
	STAMPED("t.", "country") ", t.deleted, t.deleted_at, t.first_event_at, t.state_occurred_at,"
	" t.state_event_id) IS DISTINCT FROM (" STAMPED("EXCLUDED.", "email") ", "
	STAMPED("EXCLUDED.", "name") ", " STAMPED("EXCLUDED.", "phone") ", "
	STAMPED("EXCLUDED.", "country") ", EXCLUDED.deleted,"
	" EXCLUDED.deleted_at, EXCLUDED.first_event_at, EXCLUDED.state_occurred_at, EXCLUDED.state_event_id)",

	/* customers merged with the batch's new events, field by field */
	"WITH ev AS (SELECT n.project_id, n.provider, n.customer_id, n.external_event_id AS id,"
	" n.event_type, n.occurred_at, COALESCE(n.occurred_at, '-infinity') AS occ,"
	" " CUS_AUTH("n.provider", "n.event_type") " AS auth, n.cus_as_of AS fo, n.email, n.name,"
	" n.phone, n.country FROM stage_norm n"
	" WHERE n.ins AND n.status = 'processed' AND n.customer_id IS NOT NULL"
	" AND (n.project_id, n.provider, n.customer_id) NOT IN (" FULL_KEYS("c") "))" CUS_CTES
	" INSERT INTO customers AS t (project_id, provider, customer_id," CUS_COLS ")" CUS_SELECT
	" ON CONFLICT (project_id, provider, customer_id) DO UPDATE SET"
	MERGE("email") MERGE("name") MERGE("phone") MERGE("country")
	" deleted = " CUS_DELETED ", deleted_at = " CUS_DELETED_AT ", first_event_at = " CUS_FIRST ","
	" state_occurred_at = " CUS_STATE_OCC ", state_event_id = " CUS_STATE_ID
	/* a merge that changes nothing writes nothing */
	" WHERE " CNEWER("email") " OR " CNEWER("name") " OR " CNEWER("phone") " OR " CNEWER("country")
	" OR " CUS_DELETED " IS DISTINCT FROM t.deleted OR " CUS_DELETED_AT " IS DISTINCT FROM t.deleted_at"
	" OR " CUS_FIRST " IS DISTINCT FROM t.first_event_at"
	" OR " CUS_STATE_OCC " IS DISTINCT FROM t.state_occurred_at"
	" OR " CUS_STATE_ID " IS DISTINCT FROM t.state_event_id",
};

static const char count_sql[] =
	"SELECT count(*) FILTER (WHERE kind = 'r' AND ins), count(*) FILTER (WHERE kind = 'r' AND NOT ins),"
	" count(*) FILTER (WHERE kind = 'e' AND ins), count(*) FILTER (WHERE kind = 'e' AND NOT ins)"
	" FROM (SELECT CASE WHEN kind = 'r' THEN 'r' ELSE 'e' END AS kind, provider, external_event_id,"
	" bool_or(kind IN ('r', 'e') AND ins) AS ins FROM (SELECT kind, provider, external_event_id, ins"
	" FROM stage_changed UNION ALL SELECT kind, provider, external_event_id, ins FROM stage_norm"
	" WHERE kind = 'n') c GROUP BY 1, 2, 3) x";
/* The batch's raw records that are later copies of a stored event with other
 * content, or earlier copies that replaced a stored one of other content (the
 * statements above put them in stage_kept): the record (seq), the source of
 * the other copy, and which. Said once the batch is committed. */
static const char not_kept_sql[] =
	"SELECT DISTINCT ON (seq) seq, kept, replaced FROM stage_kept ORDER BY seq, replaced";
/* A data error (bad value, constraint) is the record's fault; anything else is
 * ours. So is a value too large for an index (54000: a 3 KB id passes every
 * check, then no btree takes it): the batch replayed, only its record is lost,
 * where the run stopped, and every re-run with it. */
static int is_data_error(const PGresult *r)
{
	const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	if (PQstatus(conn) != CONNECTION_OK || !st)
		return 0;
	return strncmp(st, "22", 2) == 0 || strncmp(st, "23", 2) == 0 || strcmp(st, "54000") == 0;
}

/* End the COPY in progress on conn; returns NULL on success or the failed result. */
static PGresult *copy_end(void)
{
	PGresult *r, *bad = NULL;

	if (PQputCopyEnd(conn, NULL) != 1)
		die_pg("COPY failed", NULL);
	while ((r = PQgetResult(conn)) != NULL) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK && !bad)
			bad = r;
		else
			PQclear(r);
	}
	return bad;
}

/* COPY a run of rows; returns NULL on success or the failed result. */
static PGresult *copy_rows(const char *sql, const char *data, size_t len)
{
	PGresult *r = PQexec(conn, sql);

	if (PQresultStatus(r) != PGRES_COPY_IN)
		return r;
	PQclear(r);
	if (len > 0 && PQputCopyData(conn, data, (int)len) != 1)
		die_pg("COPY failed", NULL);
	return copy_end();
}

/* The COPY rows of the records of kind k in recs[lo..hi): contiguous in its
 * buffer, in record order. 0 when there is none. */
static int kind_range(const struct batch *b, size_t lo, size_t hi, enum kind k, size_t *first, size_t *end)
{
	*first = SIZE_MAX;
	*end = 0;
	for (size_t i = lo; i < hi; i++)
		if (b->recs[i].kind == k) {
			if (*first == SIZE_MAX)
				*first = b->recs[i].copy_off;
			*end = b->recs[i].copy_off + b->recs[i].copy_len;
		}
	return *first != SIZE_MAX;
}

/* COPY records recs[lo..hi) of b into the emptied staging tables. NULL on
 * success, else the failed result (the transaction is then aborted). */
static PGresult *stage_range(const struct batch *b, size_t lo, size_t hi, int bulk)
{
	PGresult *r;

	/* a batch's transaction starts with them empty (PER_BATCH); one record
	 * replayed under a savepoint follows others in the same transaction */
	if (!bulk) {
		r = PQexec(conn, "DELETE FROM stage_raw; DELETE FROM stage_ev; DELETE FROM stage_changed;"
			   " DELETE FROM stage_kept; DELETE FROM stage_norm; DELETE FROM stage_full");
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			return r;
		PQclear(r);
	}
	for (int k = K_RAW; k <= K_EVENT; k++) {
		size_t first, end;
		if (!kind_range(b, lo, hi, (enum kind)k, &first, &end))
			continue;
		r = copy_rows(k == K_RAW ? copy_raw_sql : copy_ev_sql, b->copy[k].buf + first, end - first);
		if (r)
			return r;
	}
	return NULL;
}

/* A dump's source (file:line) in a message: at most its last SOURCE_SAID
 * bytes, where the file's name and the line are, from a character's start;
 * *cut is "..." when a long directory path was cut, to be said before it. */
enum { SOURCE_SAID = 120 };
static const char *source_said(const char *source, const char **cut)
{
	size_t n = strlen(source);
	const char *p = n > SOURCE_SAID ? source + n - SOURCE_SAID : source;

	while (p > source && ((unsigned char)*p & 0xC0) == 0x80)
		p++; /* not inside a UTF-8 sequence (p > source: cut, so n - SOURCE_SAID bytes follow) */
	*cut = p > source ? "..." : "";
	return p;
}

/*
 * A copy of an event received after the stored one, with other content, is
 * not kept: the first received is (docs/schema.md); one received before it
 * replaces it. That is no error, and no silence either: each such raw record
 * is said, with its line, once its batch is committed (a notice: the exit
 * status stays; none with --quiet), and counted in the run's row. So every
 * copy whose content the database does not keep is said once, whatever the
 * order and the batches the copies come in: as not kept, or as replaced.
 */
static struct {
	long seq;
	char *other; /* the other copy's source */
	int replaced;
} *not_kept;
static size_t n_not_kept, cap_not_kept;

/* Remember the rows of a not_kept_sql result. */
static void not_kept_take(const PGresult *r)
{
	for (int i = 0; i < PQntuples(r); i++) {
		if (n_not_kept == cap_not_kept) {
			cap_not_kept = cap_not_kept ? 2 * cap_not_kept : 16;
			not_kept = xrealloc(not_kept, cap_not_kept * sizeof *not_kept);
		}
		not_kept[n_not_kept].seq = atol(PQgetvalue(r, i, 0));
		not_kept[n_not_kept].replaced = strcmp(PQgetvalue(r, i, 2), "t") == 0;
		not_kept[n_not_kept++].other = xstrdup(PQgetvalue(r, i, 1));
	}
}

static void rec_what(const struct batch *b, const struct rec *rc, const char *msg);

/* The batch's transaction committed: say its records not kept. */
static void not_kept_say(const struct batch *b)
{
	for (size_t i = 0; i < n_not_kept; i++) {
		long seq = not_kept[i].seq;
		if (seq >= 0 && (size_t)seq < b->n && b->recs[seq].kind == K_RAW) {
			char msg[512];
			const char *cut, *other = source_said(not_kept[i].other, &cut);
			if (not_kept[i].replaced)
				snprintf(msg, sizeof msg, "received before the copy stored from %s%s, with other"
					 " content: this copy replaces it and its event", cut, other);
			else
				snprintf(msg, sizeof msg, "received after the copy from %s%s, with other content:"
					 " that copy is kept, not this one or its event", cut, other);
			if (!quiet)
				rec_what(b, &b->recs[seq], msg);
			if (not_kept[i].replaced)
				C.replaced++;
			else
				C.not_kept++;
		}
		free(not_kept[i].other);
	}
	n_not_kept = 0;
}

/* Forget them: the transaction did not commit. */
static void not_kept_drop(void)
{
	for (size_t i = 0; i < n_not_kept; i++)
		free(not_kept[i].other);
	n_not_kept = 0;
}

/* Stage records recs[lo..hi) and upsert them, one statement at a time. NULL
 * on success, else the failed result (the transaction is then aborted). */
static PGresult *load_range(const struct batch *b, size_t lo, size_t hi, long counts[4])
{
	PGresult *r = stage_range(b, lo, hi, 0);

	if (r)
		return r;
	for (size_t i = 0; i < sizeof upserts / sizeof upserts[0]; i++) {
		r = PQexecParams(conn, upserts[i], 0, NULL, NULL, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
			return r; /* (the project check is a SELECT) */
		PQclear(r);
	}
	r = PQexecParams(conn, count_sql, 0, NULL, NULL, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		return r;
	for (int i = 0; i < 4; i++)
		counts[i] = atol(PQgetvalue(r, 0, i));
	PQclear(r);
	r = PQexecParams(conn, not_kept_sql, 0, NULL, NULL, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		return r;
	not_kept_take(r);
	PQclear(r);
	return NULL;
}

static void add_counts(const long c[4], size_t nrecs)
{
	C.inserted += c[0] + c[2];
	C.updated += c[1] + c[3];
	C.unchanged += (long)nrecs - (c[0] + c[1] + c[2] + c[3]);
}

/* What record rc is, read from its line again (rare: a record's fields are
 * not kept in memory), said with its line: rejected (db_rejected, who the
 * refusal's author) or, with notice set, as a notice. */
static void rec_say(const struct batch *b, const struct rec *rc, const char *who, const char *m, int notice)
{
	const char *text = b->text.buf + rc->text_off;
	static struct jparser *jp;
	enum reject_code code;
	char msg[64];
	if (!jp)
		jp = jparser_new();
	json_object *o = jparse_shallow(jp, text, rc->text_len, 1, &code, msg, sizeof msg);
	const char *provider = jstr(o, "provider"), *id = jstr(o, "external_event_id"), *source = jstr(o, "source");
	const char *what = rc->kind == K_RAW ? "raw event" : "event";
	const char *cut, *said = source_said(source ? source : "?", &cut);
	if (notice)
		note_at(rc->file, rc->line, "%s %s '%.80s' (%s%s): %s", provider ? provider : "?", what,
			id ? id : "?", cut, said, m);
	else
		reject(rc->file, rc->line, REJ_DB_REJECTED, text, rc->text_len, "%s %s '%.80s' (%s%s): %s%s",
		       provider ? provider : "?", what, id ? id : "?", cut, said, who ? who : "",
		       who ? pg_msg(m) : m);
	json_object_put(o);
}

static void reject_rec(const struct batch *b, const struct rec *rc, const char *who, const char *m)
{
	rec_say(b, rc, who, m, 0);
}

static void rec_what(const struct batch *b, const struct rec *rc, const char *msg)
{
	rec_say(b, rc, NULL, msg, 1);
}

static void reject_db(const struct batch *b, const struct rec *rc, const char *m)
{
	reject_rec(b, rc, "postgres: ", m);
}

/* Is a raw row of the event staged alone as records lo..hi stored? (Asked
 * under a savepoint rolled back: nothing stays staged.) */
static int raw_stored(const struct batch *b, size_t lo, size_t hi)
{
	PGresult *r;
	int stored;

	exec_ok("SAVEPOINT probe");
	if ((r = stage_range(b, lo, hi, 0))) {
		if (!is_data_error(r))
			die_pg("cannot stage a record", r);
		PQclear(r); /* refused: said when it is loaded */
		exec_ok("ROLLBACK TO SAVEPOINT probe");
		return 0;
	}
	r = PQexecParams(conn, "SELECT EXISTS (SELECT 1 FROM stage_ev s JOIN external_events_raw t"
			 " USING (provider, external_event_id))", 0, NULL, NULL, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		die_pg("cannot look up a stored raw row", r);
	stored = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	exec_ok("ROLLBACK TO SAVEPOINT probe");
	return stored;
}

static const char *row_key(const struct batch *b, const struct rec *rc, size_t *len);

/* sql/017's trigger refused an event stored under another project */
#define PROJECT_CONFLICT "23R01"

/* The batch's records of events stored under another project (each a row: its
 * seq and sql/017's message), found in one pass when the batch failed for one:
 * a re-run under a wrong --project refuses every record, and trying each under
 * its own savepoint took a minute per 7 000. */
static const char project_conflicts_sql[] =
	"SELECT seq, event_project_message(provider, external_event_id, stored, project_id) FROM"
	" (SELECT s.seq, s.provider, s.external_event_id, t.project_id AS stored, s.project_id"
	" FROM stage_raw s JOIN external_events_raw t USING (provider, external_event_id) UNION ALL"
	" SELECT s.seq, s.provider, s.external_event_id, t.project_id, s.project_id"
	" FROM stage_ev s JOIN external_events t USING (provider, external_event_id) UNION ALL"
	/* and across the tables: an event whose raw row, a raw row whose event, is
	 * stored under another project */
	" SELECT s.seq, s.provider, s.external_event_id, t.project_id, s.project_id"
	" FROM stage_ev s JOIN external_events_raw t USING (provider, external_event_id) UNION ALL"
	" SELECT s.seq, s.provider, s.external_event_id, t.project_id, s.project_id"
	" FROM stage_raw s JOIN external_events t USING (provider, external_event_id)"
	/* (a raw row stored already, as the batch's copy names it, is no news: the
	 * batch refuses only one it would insert) */
	" WHERE NOT EXISTS (SELECT FROM external_events_raw r WHERE (r.provider, r.external_event_id,"
	" r.project_id) = (s.provider, s.external_event_id, s.project_id))) c"
	" WHERE stored <> project_id";

/* The state of a replay: what it loaded, and how its last record ended. */
struct replay {
	const struct batch *b;
	long sum[4];
	size_t n_ok;
	int prev_ok, prev_refused;
};

/* Is recs[i] an event right after its own raw row? The two are kept together. */
static int after_own_raw(const struct batch *b, size_t i)
{
	size_t klen, plen;

	if (i == 0 || b->recs[i].kind != K_EVENT || b->recs[i - 1].kind != K_RAW)
		return 0;
	const char *k = row_key(b, &b->recs[i], &klen), *pk = row_key(b, &b->recs[i - 1], &plen);
	return klen == plen && memcmp(k, pk, klen) == 0;
}

/* Records recs[lo..hi) under a savepoint, n of them new: loaded and counted
 * (NULL), or rolled back for a data error, whose result is returned to be said
 * and cleared. Any other error ends the run. */
static PGresult *replay_try(struct replay *rp, size_t lo, size_t hi, size_t n)
{
	long c[4];

	exec_ok("SAVEPOINT replay");
	PGresult *r = load_range(rp->b, lo, hi, c);
	if (!r) {
		exec_ok("RELEASE SAVEPOINT replay");
		for (int k = 0; k < 4; k++)
			rp->sum[k] += c[k];
		rp->n_ok += n;
		rp->prev_ok = 1;
		rp->prev_refused = 0;
		return NULL;
	}
	if (!is_data_error(r))
		die_pg("cannot load records", r);
	exec_ok("ROLLBACK TO SAVEPOINT replay");
	exec_ok("RELEASE SAVEPOINT replay");
	return r;
}

/* Record i alone: loaded, or refused with PostgreSQL's word. */
static void replay_one(struct replay *rp, size_t i)
{
	const struct batch *b = rp->b;
	/* an event goes with its raw row again (stored by the record before:
	 * unchanged now), which tells whether its copy is the one kept */
	int own = after_own_raw(b, i);
	size_t lo = own && rp->prev_ok ? i - 1 : i;

	/* Its raw row refused (a payload jsonb cannot hold), the event is a
	 * copy whose content no stored row holds: another copy stored, that
	 * one is kept, as a later copy with other content would leave it
	 * (docs/schema.md); none stored, the event loads alone. */
	if (own && rp->prev_refused && raw_stored(b, i, i + 1)) {
		reject_rec(b, &b->recs[i], NULL, "its raw envelope was refused, and another copy of"
			   " the event is stored: that one is kept");
		rp->prev_ok = rp->prev_refused = 0;
		return;
	}
	PGresult *r = replay_try(rp, lo, i + 1, 1);
	if (r) {
		rp->prev_ok = 0;
		rp->prev_refused = b->recs[i].kind == K_RAW;
		reject_db(b, &b->recs[i], PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY));
		PQclear(r);
	}
}

/* Records recs[lo..hi) under one savepoint (tried: known to fail already);
 * refused for a data error, each half so, down to single records (replay_one),
 * a raw row and its event in one half until then. A batch with one bad record
 * costs about 2 log2(n) loads of ever smaller halves, where a load a record cost
 * minutes (audit-K 2: 4 min 22 s for one bad record in 5000, at every re-run). */
static void replay_range(struct replay *rp, size_t lo, size_t hi, int tried)
{
	const struct batch *b = rp->b;

	if (hi - lo == 1) {
		replay_one(rp, lo);
		return;
	}
	if (!tried) {
		PGresult *r = replay_try(rp, lo, hi, hi - lo);
		if (!r)
			return;
		PQclear(r);
	}
	size_t mid = lo + (hi - lo) / 2;
	if (hi - lo > 2 && after_own_raw(b, mid))
		mid = mid + 1 < hi ? mid + 1 : mid - 1;
	replay_range(rp, lo, mid, 0);
	replay_range(rp, mid, hi, 0);
}

/* PostgreSQL refused the batch for a data error and it was rolled back: load
 * it again in halves (replay_range), so only the records it refuses are lost.
 * When it was for events stored under another project (conflict), those are
 * found first, all at once, and refused without a try. */
static void replay_records(const struct batch *b, int conflict)
{
	struct replay rp = { b, { 0, 0, 0, 0 }, 0, 0, 0 };
	PGresult *r;
	static char **refused; /* per record: sql/017's message, or NULL (static: still
				* reachable when a database failure ends the run in the loop) */

	exec_ok("BEGIN");
	if (conflict) {
		refused = xmalloc(b->n * sizeof *refused);
		memset(refused, 0, b->n * sizeof *refused);
		exec_ok("SAVEPOINT probe");
		if (!(r = stage_range(b, 0, b->n, 0)))
			r = PQexecParams(conn, project_conflicts_sql, 0, NULL, NULL, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_TUPLES_OK && !is_data_error(r))
			die_pg("cannot look for events stored under another project", r);
		for (int j = 0; PQresultStatus(r) == PGRES_TUPLES_OK && j < PQntuples(r); j++) {
			long seq = atol(PQgetvalue(r, j, 0));
			if (seq >= 0 && (size_t)seq < b->n && !refused[seq])
				refused[seq] = xstrdup(PQgetvalue(r, j, 1));
		}
		PQclear(r);
		exec_ok("ROLLBACK TO SAVEPOINT probe");
	}
	/* the runs of records not refused, each replayed; the whole batch, when
	 * none is, known to fail */
	for (size_t i = 0, run = 0; i <= b->n; i++) {
		if (i < b->n && !(refused && refused[i]))
			continue;
		if (i > run)
			replay_range(&rp, run, i, run == 0 && i == b->n);
		if (i < b->n) {
			reject_db(b, &b->recs[i], refused[i]);
			free(refused[i]);
			rp.prev_ok = rp.prev_refused = 0;
		}
		run = i + 1;
	}
	free(refused);
	refused = NULL;
	exec_ok("COMMIT");
	add_counts(rp.sum, rp.n_ok); /* counted once committed: a run ending before counts none of it */
	not_kept_say(b);
}

static PGconn *conn2;
static int analyze_due;
/* the columns of external_events_normalized that the recomputes and deletes look
 * events up by: without fresh statistics of them (autovacuum's come a minute
 * late, from a table a fraction of its size) the planner took a subscription
 * id for a thousand events and ANDed its index with the provider's half of the
 * primary key, a millisecond a lookup (not its jsonb: that costs reading it) */
#define NORM_LOOKUP_COLS "project_id, provider, status, subscription_id, customer_id, payment_id"

/* With two connections this runs on conn2, while the server works on the
 * batch in flight (flush_batch): it only refreshes statistics. */
static void analyze_now(void)
{
	static int owner = -1; /* the role owns the three tables, and may analyze them */
	PGconn *main_conn = conn;

	if (conn2)
		conn = conn2;
	if (owner < 0) {
		/* another role's ANALYZE is a WARNING of each table a time, which
		 * --quiet would not silence: said once, not tried */
		PGresult *r = PQexec(conn, "SELECT bool_and(pg_has_role(relowner, 'USAGE')) FROM pg_class WHERE oid IN"
					   " ('subscriptions'::regclass, 'customers'::regclass,"
					   " 'external_events_normalized'::regclass)");
		owner = PQresultStatus(r) == PGRES_TUPLES_OK && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
		PQclear(r);
		if (!owner && !quiet)
			note_at(NULL, 0, "note: this role does not own subscriptions, customers and"
				" external_events_normalized: their statistics are autovacuum's, a minute late"
				" (a first load is faster as their owner: docs/load.md)");
	}
	if (owner)
		exec_ok("ANALYZE subscriptions, customers, external_events_normalized (" NORM_LOOKUP_COLS ")");
	conn = main_conn;
	analyze_due = 0;
}

static void batch_done(struct batch *b)
{
	/* The state tables and the events grow fast in a first load, and the
	 * planner's idea of their size decides which index the per-entity lookups
	 * use: refresh their statistics after batches 1, 2, 4, 8, ... (a handful
	 * per run). */
	batches++;
	if ((batches & (batches - 1)) == 0)
		analyze_due = 1;
	if (analyze_due && !conn2)
		analyze_now();
	b->n = 0;
	b->text.len = 0;
	b->copy[K_RAW].len = b->copy[K_EVENT].len = 0;
}

/*
 * A batch is sent in two steps so that reading and checking the next batch
 * overlaps with the server's work on this one: the COPYs, then every upsert,
 * the count and the COMMIT as one query string whose results are read only
 * when the next batch is ready (finish_inflight). One batch at most is in flight.
 */
static struct batch *inflight;

/*
 * Two connections. While the server runs one batch's upserts (on conn), the
 * next batch is COPYed into scratch tables (sql/003_load_scratch.sql) on
 * conn2, so the parsing of its payloads into jsonb, a third of the server's
 * work, runs on another core; the batch's one transaction on conn then reads
 * the rows from there. Two slots are used in turn: the slot being filled is
 * never the one the batch in flight reads. Without the scratch tables (a
 * schema not migrated yet), or when PostgreSQL refuses a row of the COPY, the
 * batch is staged in conn's temporary tables instead (WHERE_TEMP).
 */
enum { WHERE_TEMP = 2 };
static int next_slot;
static int slot_vacuum;
#define SLOT_ANALYZE_MIN 500 /* records of a batch whose slot gets statistics */
static char *scripts[3][2]; /* [slot 0, 1 or WHERE_TEMP][no key twice: DEDUP parts left out] */

/* Append q to s, the staging tables renamed to scratch slot `where` (if one). */
static void add_sql(struct strbuf *s, const char *q, size_t n, int where)
{
	const char *end = q + n;

	while (q < end) {
		const char *raw = where == WHERE_TEMP ? NULL : memmem(q, (size_t)(end - q), "stage_raw", 9);
		const char *ev = where == WHERE_TEMP ? NULL : memmem(q, (size_t)(end - q), "stage_ev", 8);
		const char *hit = raw && (!ev || raw < ev) ? raw : ev;
		if (!hit) {
			sb_add(s, q, (size_t)(end - q));
			break;
		}
		sb_add(s, q, (size_t)(hit - q));
		char name[32];
		int len = snprintf(name, sizeof name, "load_%s_%d", hit == raw ? "stage_raw" : "stage_ev", where);
		sb_add(s, name, (size_t)len);
		q = hit + (hit == raw ? 9 : 8);
	}
}

/* The upserts, the count and the COMMIT as one query string. */
static const char *script(int where, int no_twice)
{
	if (!scripts[where][no_twice]) {
		struct strbuf s = {0};
		for (size_t i = 0; i < sizeof upserts / sizeof upserts[0]; i++) {
			for (const char *q = upserts[i], *d; *q; q = d) {
				d = no_twice ? strstr(q, "/*dedup*/") : NULL;
				if (!d)
					d = q + strlen(q);
				add_sql(&s, q, (size_t)(d - q), where);
				if (*d)
					d = strstr(d, "/**/") + 4;
			}
			sb_add(&s, ";\n", 2);
		}
		sb_add(&s, count_sql, strlen(count_sql));
		sb_add(&s, ";\n", 2);
		sb_add(&s, not_kept_sql, strlen(not_kept_sql));
		if (where != WHERE_TEMP && slot_vacuum) {
			static const char del[] = ";\nDELETE FROM stage_raw;\nDELETE FROM stage_ev";
			add_sql(&s, del, sizeof del - 1, where);
		}
		sb_add(&s, ";\nCOMMIT", 8);
		scripts[where][no_twice] = s.buf;
	}
	return scripts[where][no_twice];
}

/*
 * The raw rows of the batch being read go to scratch slot next_slot as they
 * are read: one COPY on conn2, sent a chunk at a time, so the server parses
 * their payloads while this process reads and checks the rest of the batch
 * (the COPY as one piece at the batch's end left every other stage waiting
 * for it). The events follow in one COPY when the batch is complete.
 */
enum { STREAM_CHUNK = 256 * 1024 };
static int streaming; /* a COPY into load_stage_raw_<next_slot> is open on conn2 */
static size_t streamed; /* bytes of B->copy[K_RAW] sent in it */

/*
 * Empty scratch slot n for the next batch. A TRUNCATE gives a table new files
 * each time (six a slot, with the TOAST tables and the unlogged tables' init
 * forks), and creating and unlinking files was a tenth of the server's CPU.
 * So the batch's own transaction on conn deletes its slot's rows before its
 * COMMIT (script()), and at the slot's next use the VACUUM here frees their
 * space (the batch in flight on conn began after that commit), then a DELETE
 * empties what a batch replayed record by record left: the next COPY fills the
 * freed pages again. The rows used to be deleted here, at reuse: the batch in
 * flight then still saw them, and the slot the next batch read held two
 * batches' pages (1M events, pairs against TRUNCATE: server CPU 245/232 s
 * against 257/243 s, wall the same). VACUUM needs PostgreSQL 12 (TRUNCATE
 * false) and the tables' owner; otherwise TRUNCATE.
 */

static void empty_slot(int n)
{
	static const char *const sql[2][3] = {
		{"VACUUM (TRUNCATE false) load_stage_raw_0, load_stage_ev_0",
		 "DELETE FROM load_stage_raw_0", "DELETE FROM load_stage_ev_0"},
		{"VACUUM (TRUNCATE false) load_stage_raw_1, load_stage_ev_1",
		 "DELETE FROM load_stage_raw_1", "DELETE FROM load_stage_ev_1"},
	};

	if (!slot_vacuum) {
		exec_ok(n ? "TRUNCATE load_stage_raw_1, load_stage_ev_1" : "TRUNCATE load_stage_raw_0, load_stage_ev_0");
		return;
	}
	for (int i = 0; i < 3; i++)
		exec_ok(sql[n][i]);
}

/* Send the raw rows read since the last call: when a chunk is ready, or all
 * of them (at_end). The COPY opens with the first chunk. */
static void stream_raw(int at_end)
{
	static const char *const sql[2] = {"COPY load_stage_raw_0 FROM STDIN", "COPY load_stage_raw_1 FROM STDIN"};
	const struct strbuf *rows = &B->copy[K_RAW];
	PGconn *main_conn = conn;

	if (!conn2 || rows->len == streamed || (!at_end && rows->len - streamed < STREAM_CHUNK))
		return;
	conn = conn2; /* exec_ok and die_pg speak of the connection at work */
	if (!streaming) {
		empty_slot(next_slot);
		/* The COPY stays open while the batch is read: its time is the input's
		 * pace (a slow source, a large --batch), not the server's work, which a
		 * statement_timeout of the role or PGOPTIONS is there to bound. Reset
		 * when it ends (scratch_copy). */
		exec_ok("SET statement_timeout = 0");
		PGresult *r = PQexec(conn, sql[next_slot]);
		if (PQresultStatus(r) != PGRES_COPY_IN)
			die_pg("cannot load batch", r);
		PQclear(r);
		streaming = 1;
	}
	if (PQputCopyData(conn, rows->buf + streamed, (int)(rows->len - streamed)) != 1)
		die_pg("COPY failed", NULL);
	streamed = rows->len;
	conn = main_conn;
}

/* Complete the COPYs of batch b (B) into scratch slot n on conn2 (autocommit):
 * 0, or -1 when PostgreSQL refused a row. */
static int scratch_copy(const struct batch *b, int n)
{
	static const char *const ev_sql[2] = {"COPY load_stage_ev_0 FROM STDIN", "COPY load_stage_ev_1 FROM STDIN"};
	PGconn *main_conn = conn;
	PGresult *bad = NULL;
	size_t first, end;

	stream_raw(1);
	conn = conn2;
	if (streaming) {
		streaming = 0;
		streamed = 0;
		bad = copy_end();
		if (PQstatus(conn) == CONNECTION_OK)
			exec_ok("RESET statement_timeout");
	} else {
		empty_slot(n);
	}
	if (!bad && kind_range(b, 0, b->n, K_EVENT, &first, &end))
		bad = copy_rows(ev_sql[n], b->copy[K_EVENT].buf + first, end - first);
	/* The slot's statistics: the VACUUM at its reuse left it counted empty
	 * (reltuples 0), and every scratch table read as one row made the planner
	 * join two of them in a nested loop (the copies' statement below: 20 rows
	 * by 2 500, each batch). One cheap column (all its pages are read, no
	 * payload is), here on conn2, beside the batch in flight on conn. Only
	 * the owner may (another role's ANALYZE is a WARNING a batch, which
	 * --quiet would not silence), and only of a batch big enough to need
	 * it: a small one is planned well as it is, and each ANALYZE costs two
	 * transactions (--batch 1: review R2 4). */
	if (!bad && slot_vacuum && b->n >= SLOT_ANALYZE_MIN) {
		static const char *const an_sql[2] = {"ANALYZE load_stage_raw_0 (provider), load_stage_ev_0 (provider)",
						      "ANALYZE load_stage_raw_1 (provider), load_stage_ev_1 (provider)"};
		exec_ok(an_sql[n]);
	}
	if (bad && !is_data_error(bad))
		die_pg("cannot load batch", bad);
	PQclear(bad);
	conn = main_conn;
	return bad ? -1 : 0;
}

/* Empty the scratch tables (a run's start and end). */
static void scratch_empty(void)
{
	PGconn *main_conn = conn;

	if (!conn2)
		return;
	conn = conn2;
	exec_ok("TRUNCATE load_stage_raw_0, load_stage_ev_0, load_stage_raw_1, load_stage_ev_1");
	conn = main_conn;
}

/* Open conn2 when the scratch tables exist (set up as conn), and empty them. */
static void scratch_open(const char *dsn)
{
	PGresult *r = must("SELECT to_regclass('load_stage_ev_1') IS NOT NULL", 0, NULL);
	int have = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	if (!have)
		return;
	PGconn *main_conn = conn;
	conn = conn2 = open_conn(dsn);
	session_setup();
	/* What the role may do with them: a role granted only SELECT, INSERT,
	 * UPDATE and DELETE on the schema's tables (least privilege) can neither
	 * VACUUM (the owner's) nor TRUNCATE them; it stages in its temporary
	 * tables, as without the scratch tables. */
	r = must("SELECT bool_and(has_table_privilege(oid, 'SELECT') AND has_table_privilege(oid, 'INSERT')"
		 " AND has_table_privilege(oid, 'DELETE')),"
		 " bool_and(pg_has_role(relowner, 'USAGE')), bool_and(has_table_privilege(oid, 'TRUNCATE'))"
		 " FROM pg_class WHERE oid IN ('load_stage_raw_0'::regclass, 'load_stage_ev_0'::regclass,"
		 " 'load_stage_raw_1'::regclass, 'load_stage_ev_1'::regclass)", 0, NULL);
	int dml = strcmp(PQgetvalue(r, 0, 0), "t") == 0, owner = strcmp(PQgetvalue(r, 0, 1), "t") == 0;
	int truncate = strcmp(PQgetvalue(r, 0, 2), "t") == 0;
	PQclear(r);
	conn = main_conn;
	if (!dml || !(owner || truncate)) {
		PQfinish(conn2);
		conn2 = NULL;
		return;
	}
	slot_vacuum = owner && PQserverVersion(conn2) >= 120000;
	scratch_empty();
}

/* The key of a record's COPY row: its provider and id fields (after the seq). */
static const char *row_key(const struct batch *b, const struct rec *rc, size_t *len)
{
	const char *row = b->copy[rc->kind].buf + rc->copy_off, *end = row + rc->copy_len;
	const char *k = (const char *)memchr(row, '\t', rc->copy_len) + 1;
	const char *t = memchr(k, '\t', (size_t)(end - k)); /* after provider */
	t = memchr(t + 1, '\t', (size_t)(end - t - 1));    /* after the id */
	*len = (size_t)(t - k);
	return k;
}

/* Does the batch hold some key (kind, provider, id) twice? */
static int batch_has_twice(const struct batch *b)
{
	size_t cap = 16;
	int twice = 0;

	while (cap < 2 * b->n)
		cap *= 2;
	size_t *slot = xmalloc(cap * sizeof *slot); /* record index + 1; 0 is empty */
	memset(slot, 0, cap * sizeof *slot);
	for (size_t i = 0; i < b->n && !twice; i++) {
		const struct rec *rc = &b->recs[i];
		size_t len;
		const char *key = row_key(b, rc, &len);
		uint64_t h = 1469598103934665603ULL ^ (uint64_t)rc->kind;
		for (size_t j = 0; j < len; j++)
			h = (h ^ (unsigned char)key[j]) * 1099511628211ULL;
		for (size_t p = (size_t)h & (cap - 1);; p = (p + 1) & (cap - 1)) {
			if (!slot[p]) {
				slot[p] = i + 1;
				break;
			}
			const struct rec *o = &b->recs[slot[p] - 1];
			size_t olen;
			const char *okey = row_key(b, o, &olen);
			if (o->kind == rc->kind && olen == len && memcmp(okey, key, len) == 0) {
				twice = 1;
				break;
			}
		}
	}
	free(slot);
	return twice;
}

static void send_batch(struct batch *b, int where)
{
	PGresult *r = NULL;

	exec_ok("BEGIN");
	if (where == WHERE_TEMP)
		r = stage_range(b, 0, b->n, 1);
	if (r) {
		if (!is_data_error(r))
			die_pg("cannot load batch", r);
		PQclear(r);
		exec_ok("ROLLBACK");
		replay_records(b, 0);
		batch_done(b);
		return;
	}
	if (!PQsendQuery(conn, script(where, !batch_has_twice(b))))
		die_pg("cannot send batch", NULL);
	inflight = b;
}

/* A batch script's results on c, all read: the first that failed (the
 * statements after it are skipped, and so is the COMMIT), or NULL; *counted
 * when the counts row came, into cnt. */
static PGresult *script_results(PGconn *c, long cnt[4], int *counted)
{
	PGresult *r, *bad = NULL;

	*counted = 0;
	while ((r = PQgetResult(c)) != NULL) {
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_TUPLES_OK && PQntuples(r) == 1 && PQnfields(r) == 4) {
			for (int i = 0; i < 4; i++)
				cnt[i] = atol(PQgetvalue(r, 0, i));
			*counted = 1;
		} else if (st == PGRES_TUPLES_OK && PQnfields(r) == 3 && strcmp(PQfname(r, 1), "kept") == 0) {
			not_kept_take(r);
		} else if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && !bad) {
			bad = r;
			continue;
		}
		PQclear(r);
	}
	return bad;
}

static void finish_inflight(void)
{
	struct batch *b = inflight;
	PGresult *bad;
	long c[4];
	int counted;

	if (!b)
		return;
	inflight = NULL;
	bad = script_results(conn, c, &counted);
	if (!bad && counted) {
		add_counts(c, b->n);
		not_kept_say(b);
	} else if (!bad || !is_data_error(bad)) {
		commit_unknown = counted; /* die_pg tells whether the connection was lost */
		die_pg("cannot load batch", bad);
	} else {
		const char *st = PQresultErrorField(bad, PG_DIAG_SQLSTATE);
		int conflict = st && strcmp(st, PROJECT_CONFLICT) == 0;
		PQclear(bad);
		exec_ok("ROLLBACK");
		not_kept_drop();
		replay_records(b, conflict);
	}
	batch_done(b);
}

/* The batch in flight, when a failure elsewhere ends the run: counted as
 * committed when its transaction did, else left (rolled back, or lost). */
static void settle_inflight(void)
{
	long c[4];
	int counted;

	if (inflight) {
		PGresult *bad = script_results(conn1, c, &counted);
		if (!bad && counted) {
			add_counts(c, inflight->n);
			not_kept_say(inflight);
			batches++;
		}
		not_kept_drop();
		PQclear(bad);
		inflight = NULL;
	}
}

/* Send the batch read so far (after the one in flight is done) and read into the other buffer. */
static void flush_batch(void)
{
	int where = WHERE_TEMP;

	if (B->n == 0) {
		finish_inflight();
		return;
	}
	/* the COPY of this batch runs while the server works on the one in flight */
	if (conn2 && scratch_copy(B, next_slot) == 0) {
		where = next_slot;
		next_slot ^= 1;
	}
	if (conn2 && analyze_due)
		analyze_now();
	finish_inflight();
	send_batch(B, where);
	B = B == &bufs[0] ? &bufs[1] : &bufs[0];
}

/* --------------------------------------------------------------- records */

static const char *const ev_top_str[] = {"event_type", "provider_event_type", "reason", NULL};

/* The whole of a line (valid: it was parsed shallow), for what must be written
 * out by json-c: shallow, what lies below the levels kept would be lost. */
static json_object *parse_whole(const char *line, size_t line_len)
{
	static struct jparser *fp;
	enum reject_code code;
	char msg[64];

	if (!fp)
		fp = jparser_new();
	return jparse(fp, line, line_len, &code, msg, sizeof msg);
}

/*
 * The raw envelope read last, for the event normalize --emit-raw writes after
 * it: the two are one event's, and must agree on where and when it came. An
 * event under another project than its raw row would put its payments in
 * another tenant than its payload, which reconcile counts in the raw row's
 * project; another received_at or source would be kept by a first load and
 * replaced by the raw row's copy on a re-run (the first-copy rule).
 */
static struct {
	struct strbuf key; /* provider NUL id NUL project NUL source NUL */
	size_t id_at, project_at, source_at;
	int64_t received;
	long line, read; /* its line, and its number among the records read (C.read) */
	int set;
} last_raw;

static void remember_raw(const char *provider, const char *id, const char *project, const char *source,
			 int64_t received, long line)
{
	struct strbuf *k = &last_raw.key;
	k->len = 0;
	sb_add(k, provider, strlen(provider) + 1);
	last_raw.id_at = k->len;
	sb_add(k, id, strlen(id) + 1);
	last_raw.project_at = k->len;
	sb_add(k, project, strlen(project) + 1);
	last_raw.source_at = k->len;
	sb_add(k, source, strlen(source) + 1);
	last_raw.received = received;
	last_raw.line = line;
	last_raw.read = C.read;
	last_raw.set = 1;
}

/* events that came without their raw envelope just before them (counted when loaded) */
static long unpaired;
static int event_paired;

/* 0, or -1 with fc set: the event disagrees with its raw envelope read just before it */
static int check_raw_pair(const char *provider, const char *id, const char *project, const char *source,
			  int64_t received, struct fcheck *fc)
{
	const char *k = last_raw.key.buf;
	event_paired = 0;
	/* the record just before this one: not an older copy, a line rejected between */
	if (!last_raw.set || last_raw.read != C.read - 1 || strcmp(k, provider) != 0 ||
	    strcmp(k + last_raw.id_at, id) != 0)
		return 0;
	event_paired = 1;
	if (strcmp(k + last_raw.project_at, project) != 0)
		return fail(fc, REJ_INVALID_FIELD,
			    "field 'project_id' is '%.60s', its raw envelope's (line %ld) '%.60s': an event is in one project",
			    project, last_raw.line, k + last_raw.project_at);
	if (received != last_raw.received || strcmp(k + last_raw.source_at, source) != 0)
		return fail(fc, REJ_INVALID_FIELD,
			    "fields 'received_at' and 'source' are not its raw envelope's (line %ld): one copy, one arrival",
			    last_raw.line);
	return 0;
}

/* Validate a record and append its COPY row; returns 0, or -1 with fc set.
 * o is what jp took of line: the members jp found in it locate the bytes to copy. */
static int stage_record(const struct jparser *jp, json_object *o, const char *line, size_t line_len,
			long lineno, struct rec *rc, struct fcheck *fc)
{
	json_object *v;
	const char *kind;

	v = check(o, "record", F_STR, 1, "", fc);
	if (!v)
		return -1;
	kind = json_object_get_string(v);
	if (strcmp(kind, "raw") == 0)
		rc->kind = K_RAW;
	else if (strcmp(kind, "event") == 0)
		rc->kind = K_EVENT;
	else
		return fail(fc, REJ_INVALID_FIELD, "field '%s' must be \"raw\" or \"event\", got '%.40s'",
			    "record", kind);

	/* A member that is a secret is left out of every column as it is out
	 * of the stored JSON (secret_strip_record): an envelope's event_type of
	 * "X hottok=S", an event's provider_event_type or an id (audit-R7 B).
	 * One the record cannot do without refuses it. A reason is kept with
	 * what it quotes masked, as normalize writes it (audit-R7 A). */
	static struct strbuf rbuf;
	const char *reason = jstr(o, "reason");
	if (reason) {
		size_t n;
		char *masked = secret_mask_text(reason, strlen(reason), &n);
		rbuf.len = 0;
		sb_add(&rbuf, masked ? masked : reason, masked ? n : strlen(reason));
		free(masked);
		reason = rbuf.buf;
	}
	size_t poff, plen;
	int secrets;
	if (rc->kind == K_RAW && jmember_span(jp, line, line_len, "payload", &poff, &plen))
		/* around the payload, whose own are left out of its text below */
		secrets = secret_in_text(line, poff) ||
			  secret_in_text(line + poff + plen, line_len - poff - plen);
	else
		secrets = secret_in_text(line, line_len);
	if (secrets) {
		static const char *const needed[] = { "provider", "external_event_id", "project_id", "received_at",
						      "source", NULL };
		const char *k = secret_record_names(o, needed);
		if (k)
			return fail(fc, REJ_INVALID_FIELD, "field '%s' holds a secret (docs/load.md)", k);
		secret_drop_record(o);
	}

	const char *provider = str_of(check(o, "provider", F_STR, 1, "", fc));
	const char *id = str_of(check(o, "external_event_id", F_ID, 1, "", fc));
	const char *project = str_of(check(o, "project_id", F_STR, 1, "", fc));
	const char *occurred = str_of(check(o, "occurred_at", F_TIME, 0, "", fc));
	const char *received = str_of(check(o, "received_at", F_TIME, 1, "", fc));
	const char *source = str_of(check(o, "source", F_STR, 1, "", fc));
	if (fc->code)
		return -1;
	/* as normalize checks an envelope (docs/events.md): a project id that ends in
	 * every key; times every reader takes back (check: RFC 3339 in 1970..9999);
	 * no arrival from the future, which would keep the integration "fresh" for
	 * years (integration_freshness_view) */
	const char *why = project_id_problem(project);
	if (why)
		return fail(fc, REJ_INVALID_FIELD, "field 'project_id' %s", why);
	int64_t ms;
	parse_rfc3339_strict(received, &ms); /* checked above, and written canonical */
	if (arrival_in_future(ms))
		return fail(fc, REJ_INVALID_FIELD, "field 'received_at' is more than a day in the future");
	for (const char *p = provider; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_') ||
		    (p == provider && !(*p >= 'a' && *p <= 'z')))
			return fail(fc, REJ_INVALID_FIELD, "field '%s' is not a provider name: '%.40s'",
				    "provider", provider);
	if (rc->kind == K_EVENT && check_raw_pair(provider, id, project, source, ms, fc) != 0)
		return -1;

	struct strbuf *b = &B->copy[rc->kind];
	size_t start = b->len;
	if (rc->kind == K_RAW) {
		const char *etype = str_of(check(o, "event_type", F_STR, 0, "", fc));
		check(o, "payload", F_OBJ, 1, "", fc);
		if (fc->code)
			return -1;
		const char *ptext = line;
		json_object *full = NULL;
		char *clean = NULL;
		if (jmember_span(jp, line, line_len, "payload", &poff, &plen)) {
			ptext += poff;
			/* a secret in it (an envelope fetch-events did not write): its
			 * members left out, the rest as it came */
			if ((clean = secret_strip(ptext, plen, &plen)))
				ptext = clean;
		} else {
			/* the members not known (jp tracks them: not for an
			 * object it took): build it, write it out without its
			 * secrets. */
			full = parse_whole(line, line_len);
			secret_drop(jpath(full, "payload"));
			ptext = json_object_to_json_string_length(jpath(full, "payload"),
				JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &plen);
		}
		copy_long(b, (long)B->n, '\t');
		copy_str(b, provider, '\t');
		copy_str(b, id, '\t');
		copy_str(b, project, '\t');
		copy_str(b, etype, '\t');
		copy_str(b, occurred, '\t');
		copy_str(b, received, '\t');
		copy_str(b, source, '\t');
		copy_field(b, ptext, plen, '\n');
		json_object_put(full);
		free(clean);
		remember_raw(provider, id, project, source, ms, lineno);
	} else {
		v = check(o, "schema_version", F_INT, 1, "", fc);
		if (v && json_object_get_int64(v) != 1)
			return fail(fc, REJ_INVALID_FIELD, "field '%s' is %s, this loader reads version 1",
				    "schema_version", json_object_get_string(v));
		const char *status = str_of(check(o, "status", F_STR, 1, "", fc));
		for (int i = 0; ev_top_str[i]; i++)
			check(o, ev_top_str[i], F_STR, 0, "", fc);
		check(o, "livemode", F_BOOL, 0, "", fc);
		json_object *cus = check_section(o, "customer", customer_spec, fc);
		json_object *pay = check_section(o, "payment", payment_spec, fc);
		json_object *sub = check_section(o, "subscription", subscription_spec, fc);
		if (fc->code)
			return -1;
		/* PostgreSQL's jsonb refuses such an escape, and json-c reads it as
		 * U+FFFD when the event is written out again: one rule for both */
		if (json_lone_surrogate(line, line_len))
			return fail(fc, REJ_INVALID_FIELD, "a string holds an escaped lone UTF-16 surrogate (\\ud800):"
				    " not text PostgreSQL stores");
		/* a payment is its id: a section without one would land nowhere */
		if (pay && !jstr(pay, "id"))
			return fail(fc, REJ_MISSING_FIELD, "missing field '%s'", "payment.id");
		/* the vocabulary docs/events.md gives and no constraint holds: a type
		 * outside its table, or a method in capitals ("CARD" beside "card"),
		 * would be counted apart by every query that groups by it */
		const char *etype = jstr(o, "event_type"), *method = pay ? jstr(pay, "method") : NULL;
		if (etype && !event_type_known(etype))
			return fail(fc, REJ_INVALID_FIELD, "field '%s' is not a canonical event type: '%.40s'",
				    "event_type", etype);
		/* null only when ignored or failed before it was known: a processed
		 * event without one would fill the state tables with no type */
		if (!etype && strcmp(status, "processed") == 0)
			return fail(fc, REJ_INVALID_FIELD, "a processed event has no 'event_type'");
		if (method && strpbrk(method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
			return fail(fc, REJ_INVALID_FIELD, "field '%s' is not lower case: '%.40s'", "payment.method",
				    method);
		/* a code the plans table refuses: said here, not by PostgreSQL (db_rejected) */
		const char *plan = sub ? jstr(sub, "plan_code") : NULL;
		if (plan && !plan_code_valid(plan))
			return fail(fc, REJ_INVALID_FIELD,
				    "field '%s' is not a plan code (lower-case letters, digits, '_', '.', '-', from a letter or digit, at most %d bytes):"
				    " '%.40s'", "subscription.plan_code", PLAN_CODE_MAX, plan);
		/* as normalize fails it (docs/events.md): a live event dated past
		 * tomorrow, the latest about its payment or subscription, would
		 * outrank every real one until the date came */
		json_object *lm = NULL;
		int64_t oms;
		if (occurred && strcmp(status, "processed") == 0 && parse_rfc3339(occurred, &oms) == 0 &&
		    arrival_in_future(oms) && !(json_object_object_get_ex(o, "livemode", &lm) && lm &&
						 !json_object_get_boolean(lm)))
			return fail(fc, REJ_INVALID_FIELD,
				    "field 'occurred_at' is more than a day in the future (a live event, processed)");
		if (strcmp(status, "processed") == 0)
			;
		else if (strcmp(status, "ignored") == 0)
			C.ignored++;
		else if (strcmp(status, "failed") == 0)
			C.failed++;
		else
			return fail(fc, REJ_INVALID_FIELD,
				    "field '%s' must be processed, ignored or failed, got '%.40s'", "status", status);
		if (strcmp(status, "failed") == 0 && (cus || pay || sub)) {
			C.failed--;
			return fail(fc, REJ_INVALID_FIELD, "a failed event carries a '%s' section",
				    cus ? "customer" : pay ? "payment" : "subscription");
		}
		const char *ptype = jstr(o, "provider_event_type");
		const char *cus_id = cus ? jstr(cus, "id") : NULL;
		const char *sub_id = sub ? jstr(sub, "id") : NULL;
		const char *pay_id = pay ? jstr(pay, "id") : NULL;
		const char *price = sub ? jstr(sub, "price_id") : NULL;
		copy_long(b, (long)B->n, '\t');
		copy_str(b, provider, '\t');
		copy_str(b, id, '\t');
		copy_str(b, project, '\t');
		copy_str(b, etype, '\t');
		copy_str(b, ptype, '\t');
		copy_str(b, status, '\t');
		copy_str(b, reason, '\t');
		copy_str(b, occurred, '\t');
		copy_str(b, received, '\t');
		copy_str(b, source, '\t');
		copy_str(b, cus_id, '\t');
		copy_str(b, sub_id, '\t');
		copy_str(b, pay_id, '\t');
		copy_str(b, price, '\t');
		copy_str(b, plan, '\t');
		/* the event without the two fields that vary between copies of it:
		 * the line's own bytes without those members, or (a time rewritten)
		 * the object without them, written out by json-c */
		static const char *const varying[] = {"received_at", "source"};
		static struct strbuf ebuf;
		char *kept = sb_reserve(&ebuf, line_len);
		size_t elen = fc->rewrote ? (size_t)-1 : jdrop_members(jp, line, line_len, varying, 2, kept);
		const char *etext = kept;
		json_object *full = NULL;
		if (elen == (size_t)-1) {
			full = parse_whole(line, line_len);
			json_object_object_del(full, varying[0]);
			json_object_object_del(full, varying[1]);
			/* a time not written as normalize writes it (+01:00, 10 digits
			 * of fraction), occurred_at or a section's: the event holds what
			 * PostgreSQL reads of it, the instant checked above, as the
			 * columns do */
			if (fc->rewrote) {
				struct fcheck again = {0};
				check(full, "occurred_at", F_TIME, 0, "", &again);
				check_section(full, "customer", customer_spec, &again);
				check_section(full, "payment", payment_spec, &again);
				check_section(full, "subscription", subscription_spec, &again);
			}
			secret_drop_record(full);
			etext = json_object_to_json_string_length(
				full, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &elen);
		}
		/* a payload secret in an event another tool wrote (normalize's hold
		 * none): its members left out, as a raw payload's are */
		char *eclean = full ? NULL : secret_strip_record(etext, elen, &elen);
		copy_field(b, eclean ? eclean : etext, elen, '\n');
		free(eclean);
		json_object_put(full);
	}
	rc->copy_off = start;
	rc->copy_len = b->len - start;
	return 0;
}

/* A batch is also full at BATCH_BYTES of input lines: --batch counts records,
 * and 5000 of 16 MB would be 80 GB (two batches are held at once). 5000 of the
 * benchmark's events are 9 MB: it does not cut them. */
#define BATCH_BYTES ((size_t)12 << 20)
static int batch_full(size_t batch_size)
{
	return B->n >= batch_size || B->text.len >= BATCH_BYTES;
}

static void read_input(struct line_reader *lr, const char *file, struct jparser *jp, size_t batch_size,
		       size_t max_line)
{
	struct line ln;
	int st;
	char msg[256];

	while ((st = lr_next(lr, &ln)) == LR_LINE) {
		progress_tick(ln.len);
		if (strspn(ln.text, " \t\r") == ln.len)
			continue; /* blank lines carry no record, as in every program */
		C.read++;
		if (ln.too_long) {
			reject(file, ln.lineno, REJ_LINE_TOO_LONG, ln.text,
			       ln.len < RAW_IN_REJECT ? ln.len : RAW_IN_REJECT, "line longer than %zu bytes", max_line);
			continue;
		}
		enum reject_code code;
		/* Two levels are all the checks read (an event's sections); a raw
		 * envelope's payload goes to COPY as its own bytes (stage_record). */
		json_object *o = jparse_shallow(jp, ln.text, ln.len, 2, &code, msg, sizeof msg);
		if (!o) {
			reject(file, ln.lineno, code, ln.text, ln.len, "%s", msg);
			continue;
		}
		if (!json_object_is_type(o, json_type_object)) {
			reject(file, ln.lineno, REJ_NOT_OBJECT, ln.text, ln.len, "the line is not a JSON object");
			json_object_put(o);
			continue;
		}
		if (jparser_key_nul(jp)) {
			reject(file, ln.lineno, REJ_INVALID_FIELD, ln.text, ln.len, NUL_KEY_MSG);
			json_object_put(o);
			continue;
		}
		/* a raw envelope opens the next batch when this one is full, so the
		 * event normalize wrote after it goes in its batch (which copy of an
		 * event is kept is told from its raw row) even when the event after
		 * the last raw was refused */
		const char *kind = jstr(o, "record");
		if (batch_full(batch_size) && kind && strcmp(kind, "raw") == 0)
			flush_batch();
		if (B->n == B->cap) {
			B->cap = B->cap ? 2 * B->cap : 1024;
			B->recs = xrealloc(B->recs, B->cap * sizeof *B->recs);
		}
		struct rec *rc = &B->recs[B->n];
		struct fcheck fc = {0};
		memset(rc, 0, sizeof *rc);
		rc->file = file;
		rc->line = ln.lineno;
		if (stage_record(jp, o, ln.text, ln.len, ln.lineno, rc, &fc) != 0) {
			reject(file, ln.lineno, (enum reject_code)fc.code, ln.text, ln.len, "%s", fc.msg);
			json_object_put(o);
			continue;
		}
		json_object_put(o);
		if (rc->kind == K_RAW)
			C.raw++;
		else
			C.events++, unpaired += !event_paired;
		rc->text_off = B->text.len;
		rc->text_len = ln.len;
		sb_add(&B->text, ln.text, ln.len);
		if (rc->kind == K_RAW)
			stream_raw(0);
		B->n++;
		/* a raw envelope and the event normalize wrote after it go in one
		 * batch: the batch ends after an event (or at the next raw, above) */
		if (batch_full(batch_size) && (rc->kind == K_EVENT || B->n > batch_size))
			flush_batch();
	}
	if (st == LR_ERROR) {
		C.read++; /* the line it could not read: counted where it is reported */
		lr_reject_error(lr, file, ln.lineno);
	}
}

/* ------------------------------------------------------------------- run */

static long start_run(int argc, char **argv, long batch_size)
{
	json_object *d = json_object_new_object(), *files = json_object_new_array();
	for (int i = 0; i < argc; i++) {
		char *name = utf8_said(argv[i]); /* a name not UTF-8: as its messages say it */
		json_object_array_add(files, json_object_new_string(name));
		free(name);
	}
	json_object_object_add(d, "files", files);
	json_object_object_add(d, "batch", json_object_new_int64(batch_size));
	const char *p[1] = {json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN)};
	PGresult *r = must("INSERT INTO pipeline_runs (program, detail) VALUES ('load', $1) RETURNING id", 1, p);
	long id = atol(PQgetvalue(r, 0, 0));
	PQclear(r);
	json_object_put(d);
	return id;
}

/* the note's parameters for the INSERT, read before connecting (note_read) */
static struct {
	const char *p[5];
	char vals[3][RFC3339_BUFSZ], *detail;
} nt;

/* Read and check the note on stdin into nt; exits 2 when it is not one. */
static void note_read(const char *program)
{
	char *text = NULL, msg[256];
	const char *why = NULL;
	size_t cap = 0;
	ssize_t n = getdelim(&text, &cap, '\0', stdin);
	struct jparser *jp = jparser_new();
	enum reject_code code;
	json_object *o = n > 0 ? jparse(jp, text, (size_t)n - (text[n - 1] == '\n'), &code, msg, sizeof msg) : NULL;
	json_object *v, *detail = NULL;
	int64_t ms;

	nt.p[0] = program;
	if (!json_object_is_type(o, json_type_object))
		why = "stdin is not one JSON object";
	if (!why && json_object_object_get_ex(o, "started_at", &v)) {
		if (!json_object_is_type(v, json_type_string) || parse_rfc3339_strict(json_object_get_string(v), &ms) < 0)
			why = "'started_at' is not an RFC 3339 time";
		else
			nt.p[1] = fmt_rfc3339(ms, nt.vals[0]);
	}
	for (int i = 0; i < 2 && !why; i++) {
		static const char *const keys[] = {"exit_status", "rejected"};
		if (!json_object_object_get_ex(o, keys[i], &v))
			continue;
		if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0 ||
		    json_object_get_int64(v) > INT32_MAX) {
			why = i ? "'rejected' is not a count" : "'exit_status' is not an exit status";
			break;
		}
		snprintf(nt.vals[1 + i], sizeof nt.vals[1 + i], "%" PRId64, json_object_get_int64(v));
		nt.p[2 + i] = nt.vals[1 + i];
	}
	if (!why && json_object_object_get_ex(o, "detail", &detail) && !json_object_is_type(detail, json_type_object))
		why = "'detail' is not an object";
	/* a key misspelt (exit_stauts) would record a run without its status */
	static char unknown[160];
	if (!why) {
		json_object_object_foreach(o, key, val) {
			(void)val;
			if (strcmp(key, "started_at") && strcmp(key, "exit_status") && strcmp(key, "rejected") &&
			    strcmp(key, "detail")) {
				snprintf(unknown, sizeof unknown, "unknown key '%.40s' (started_at, exit_status,"
					 " rejected, detail)", key);
				why = unknown;
				break;
			}
		}
	}
	if (!why && detail)
		nt.p[4] = nt.detail = xstrdup(json_object_to_json_string_ext(detail, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	free(text);
	jparser_free(jp);
	if (why)
		die_usage(synopsis, "--note-run: %s", why);
}

/*
 * load --note-run PROGRAM: a run of another program (a pipeline, whose stages
 * each only know their own part) recorded in pipeline_runs, from one JSON
 * object on stdin (note_read, before connecting): {"started_at": TIME,
 * "exit_status": N, "rejected": N, "detail": {...}}, each optional.
 */
static void note_insert(void)
{
	PQclear(must("INSERT INTO pipeline_runs (program, started_at, finished_at, exit_status, rejected,"
		     " detail) VALUES ($1, COALESCE($2::timestamptz, now()), now(), $3::integer, $4::bigint,"
		     " $5::jsonb)", 5, nt.p));
	free(nt.detail);
}

#define FINISH_RUN_SQL                                                                            \
	"UPDATE pipeline_runs SET finished_at = now(), records_in = $2, records_out = $3,"        \
	" rejected = $4, inserted = $5, updated = $6, unchanged = $7, failed = $8,"               \
	" ignored = $9, exit_status = $10, detail = COALESCE(detail, '{}')"                       \
	" || jsonb_build_object('not_kept', $11::bigint, 'replaced', $12::bigint) WHERE id = $1"
enum { RUN_PARAMS = 12 };

/* The run's counts and exit status, as parameters of FINISH_RUN_SQL, into v and p. */
static void run_params(long id, int status, char v[RUN_PARAMS][32], const char *p[RUN_PARAMS])
{
	long vals[RUN_PARAMS] = {id, C.read, C.inserted + C.updated + C.unchanged, rejects_count(), C.inserted,
				 C.updated, C.unchanged, C.failed, C.ignored, status, C.not_kept,
				 C.replaced};
	for (int i = 0; i < RUN_PARAMS; i++) {
		snprintf(v[i], sizeof v[i], "%ld", vals[i]);
		p[i] = v[i];
	}
}

static void finish_run(long id, int status)
{
	char v[RUN_PARAMS][32];
	const char *p[RUN_PARAMS];

	run_params(id, status, v, p);
	PQclear(must(FINISH_RUN_SQL, RUN_PARAMS, p));
}

/* A run ending on a failure, a database error (not a lost first connection)
 * or any other (an exit handler: main registers it once the row exists), says
 * so in its row, as a finished run with exit status 3: only a killed run, or
 * one whose connection died, is left unfinished. Best effort: no error here is
 * reported. */
static void record_failure(void)
{
	PGresult *r;
	char v[RUN_PARAMS][32];
	const char *p[RUN_PARAMS];

	long id = run_id;

	if (!id || !conn1 || PQstatus(conn1) != CONNECTION_OK)
		return;
	run_id = 0; /* once */
	settle_inflight(); /* a batch in flight that commits is counted */
	while ((r = PQgetResult(conn1)) != NULL) { /* a script or a COPY in flight */
		if (PQresultStatus(r) == PGRES_COPY_IN)
			PQputCopyEnd(conn1, "load failed");
		PQclear(r);
		if (PQstatus(conn1) != CONNECTION_OK)
			return;
	}
	if (PQtransactionStatus(conn1) != PQTRANS_IDLE)
		PQclear(PQexec(conn1, "ROLLBACK"));
	run_params(id, EXIT_SYSTEM, v, p);
	PQclear(PQexecParams(conn1, FINISH_RUN_SQL, RUN_PARAMS, NULL, p, NULL, NULL, 0));
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"dsn", required_argument, NULL, 'd'},
		{"batch", required_argument, NULL, 'b'},
		{"rejects", required_argument, NULL, 'r'},
		{"max-line", required_argument, NULL, 'm'},
		{"quiet", no_argument, NULL, 'q'},
		{"migrate", no_argument, NULL, 'M'},
		{"sql-dir", required_argument, NULL, 's'},
		{"note-run", required_argument, NULL, 'N'},
		{"split-dsn", no_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *dsn = NULL, *rejects_path = NULL, *sql_dir = NULL, *note = NULL, *from;
	size_t batch_size = 5000, max_line = LINE_MAX_DEFAULT;
	int do_migrate = 0, load_opt = 0, do_split = 0, c;

	diag_init("load");
	while ((c = getopt_said(argc, argv, "hqV", longopts)) != -1) {
		switch (c) {
		case 'd': dsn = pg_dsn_take(optarg); break;
		case 'b':
			load_opt = 1;
			batch_size = size_opt(synopsis, "--batch", optarg);
			if (batch_size > 1000000)
				die_usage(synopsis, "--batch: at most 1000000");
			break;
		case 'r': rejects_path = optarg; load_opt = 1; break;
		case 'm': max_line = size_opt(synopsis, "--max-line", optarg); load_opt = 1; break;
		case 'q': quiet = 1; load_opt = 1; break;
		case 'M': do_migrate = 1; break;
		case 's': sql_dir = optarg; break;
		case 'N':
			if (!*(note = optarg))
				die_usage(synopsis, "--note-run: empty program name");
			break;
		case 'S': do_split = 1; break;
		case 'h': fputs(synopsis, stdout); fputs("\n", stdout); fputs(help, stdout); return diag_finish();
		case 'V': puts("load (RevenueOS Pipelines) " RO_VERSION); return diag_finish();
		default: fputs(synopsis, stderr); return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	dsn = pg_dsn_or_env(dsn, &from);
	if (do_split && (do_migrate || note || load_opt || sql_dir || argc > 0))
		die_usage(synopsis, "--split-dsn takes only --dsn");
	if (do_split)
		return split_dsn(dsn, from);
	if (do_migrate && argc > 0)
		die_usage(synopsis, "--migrate takes no input files");
	if (note && (do_migrate || load_opt || sql_dir || argc > 0))
		die_usage(synopsis, "--note-run takes only --dsn");
	if (do_migrate && load_opt) /* read by a load only: taken silently, they would mislead */
		die_usage(synopsis, "--migrate loads nothing: --batch, --rejects, --max-line and --quiet are for a load");
	if (sql_dir && !do_migrate) /* a load would run without the migrations it names */
		die_usage(synopsis, "--sql-dir is read by --migrate only");
	/* held from the start, as every program holds its own (a file another
	 * program of the pipeline writes is refused: review R14 1, the upstream
	 * stage's records emptied once it had ended); a second load given it
	 * meanwhile is refused too, where it waited its turn to replace them */
	rejects_setup(synopsis, rejects_path, argv, argc);

	if (note)
		note_read(note); /* a note that is not one is a usage error, whatever the server */
	connect_db(dsn, from);
	session_setup();
	schema_pin(do_migrate);
	/* who writes: a plan ops set by hand stays through our writes (sql/016's trigger) */
	exec_ok("SET revenueos.writer = 'load'");
	if (do_migrate) {
		int st = migrate(sql_dir);
		PQfinish(conn);
		free(password);
		return st == EXIT_OK ? diag_finish() : st;
	}

	if (!note) {
		/* loaders take turns: concurrent upserts of the same rows would only wait or
		 * deadlock. A --migrate takes the turn too: the schema is checked once it
		 * is ours. */
		wait_turn(0);
	}
	/* the schema, and the newest columns and values this loader writes (sql/004,
	 * 005, 011, 015; 012's payment status 'inquiry', 013's payment object 'refund') */
	PGresult *r = must("SELECT to_regclass('pipeline_runs') IS NOT NULL, (SELECT count(*) = 4"
			   " FROM pg_attribute WHERE NOT attisdropped AND"
			   " ((attrelid, attname) = (to_regclass('subscriptions'), 'fill_event_id') OR"
			   " (attrelid, attname) = (to_regclass('customers'), 'email_auth') OR"
			   " (attrelid, attname) = (to_regclass('subscriptions'), 'cancel_at') OR"
			   " (attrelid, attname) = (to_regclass('payments'), 'customer_event_id')))"
			   " AND EXISTS (SELECT FROM pg_constraint WHERE conrelid = to_regclass('payments')"
			   " AND conname = 'payments_status_check'"
			   " AND pg_get_constraintdef(oid) LIKE '%''inquiry''%')"
			   " AND EXISTS (SELECT FROM pg_constraint WHERE conrelid = to_regclass('payments')"
			   " AND conname = 'payments_object_check'"
			   " AND pg_get_constraintdef(oid) LIKE '%''refund''%')", 0, NULL);
	int have_schema = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	int have_new = strcmp(PQgetvalue(r, 0, 1), "t") == 0;
	PQclear(r);
	if (!have_schema) {
		warn_msg(0, "the database has no RevenueOS schema: run 'load --migrate' first");
		exit(EXIT_SYSTEM);
	}
	if (note) {
		note_insert();
		PQfinish(conn);
		free(password);
		return diag_finish();
	}
	if (have_new) { /* and the subscriptions' rule of sql/014, the plans set by hand of sql/016,
			 * the events' fixed project of sql/017, the payments' order of sql/018,
			 * the fill order by invoice time of sql/019, the plan's period told
			 * with the plan of sql/022, the customers' copies by invoice time of
			 * sql/025, the payments' fields kept by their stamps of sql/027, the
			 * thresholds an integration's last_event_at can be written beside of
			 * sql/028; and this release's last (audit-C 3: a loader upgraded
			 * before its database ran on one five migrations behind, their
			 * triggers and backfills missing) */
		const char *newest[1] = { NEWEST_MIGRATION };
		r = must("SELECT count(*) = 10 FROM schema_migrations WHERE version IN"
			 " ('014_hotmart_subscription_fill.sql', '016_plan_set_by_hand.sql',"
			 " '017_event_project_fixed.sql', '018_refund_after_inquiry.sql',"
			 " '019_fill_by_invoice_time.sql', '022_plan_period_follows_plan.sql',"
			 " '025_customer_fill_by_invoice_time.sql', '027_payment_fill_stamps.sql',"
			 " '028_integration_thresholds_repaired.sql', $1)", 1, newest);
		have_new = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
		PQclear(r);
	}
	if (!have_new) {
		warn_msg(0, "the database schema is older than this loader: run 'load --migrate' first");
		exit(EXIT_SYSTEM);
	}
	/* and not newer: a loader of an older release (a cron host not upgraded yet)
	 * writes what its own schema knows, and a newer one's columns (stamps it
	 * never sets) then make later events wrong without a word (audit-UP 2) */
	const char *newest[1] = { NEWEST_MIGRATION };
	r = must("SELECT max(version COLLATE \"C\") FROM schema_migrations WHERE version COLLATE \"C\" > $1", 1, newest);
	if (!PQgetisnull(r, 0, 0)) {
		warn_msg(0, "the database schema is newer than this loader (it has %s): run this release's loader",
			 PQgetvalue(r, 0, 0));
		exit(EXIT_SYSTEM);
	}
	PQclear(r);
	/* temp_buffers must be set before the session touches a temporary table */
	exec_ok("SET temp_buffers = '64MB'");
	/* a batch's sorts (DISTINCT ON over the staged rows) stay in memory */
	exec_ok("SET work_mem = '32MB'");
	exec_ok(stage_sql);
	run_id = start_run(argc, argv, (long)batch_size);
	/* The projects before this run: a 'default' it makes beside others is, most
	 * likely, a fetch-events given no --project (the runbook's re-injection,
	 * `fetch-events FILE | normalize | load`, put a payment in a tenant of its
	 * own, every stage exit 0: audit-DOC 2). Said at the end. */
	r = must("SELECT (SELECT string_agg(id, ', ' ORDER BY id) FROM (SELECT id FROM projects ORDER BY id"
		 " LIMIT 5) p) FROM (SELECT) x WHERE NOT EXISTS (SELECT FROM projects WHERE id = 'default')", 0, NULL);
	char *others = PQntuples(r) && !PQgetisnull(r, 0, 0) ? xstrdup(PQgetvalue(r, 0, 0)) : NULL;
	PQclear(r);
	run_started = 1;
	/* any exit from here on (a database failure, a rejects file that cannot
	 * be written) finishes the row with exit status 3 */
	atexit(record_failure);
	scratch_open(dsn);

	struct jparser *jp = jparser_new();
	jparser_track_members(jp); /* stage_record copies members' bytes */
	char *dash[] = {"-"};
	char **files = argc > 0 ? argv : dash;
	int nfiles = argc > 0 ? argc : 1;
	/* batched records borrow their file's name, for a reject up to two batches
	 * later: the names stay, each file is closed once read (kept open, a run
	 * over more files than the descriptor limit failed to open the rest) */
	char **names = xmalloc((size_t)nfiles * sizeof *names);
	int unreadable = 0;
	for (int i = 0; i < nfiles; i++) {
		struct line_reader *lr = lr_open(files[i], max_line);
		names[i] = NULL;
		if (!lr) {
			/* as in every program: named, the others loaded, exit 3 */
			warn_msg(errno, "cannot open '%s'", files[i]);
			diag_system_error();
			unreadable = 1;
			continue;
		}
		names[i] = xstrdup(lr_name(lr));
		read_input(lr, names[i], jp, batch_size, max_line);
		lr_close(lr);
	}
	flush_batch();
	finish_inflight();
	scratch_empty();
	progress_done();

	rejects_flush(); /* a rejects file the disk could not take is a failure the row says */
	int status = unreadable ? EXIT_SYSTEM : rejects_count() > 0 ? EXIT_DATA : EXIT_OK;
	long id = run_id;
	run_id = 0; /* finished: a failure from here on leaves the row as it says */
	finish_run(id, status);
	if (!quiet)
		fprintf(stderr,
			"%s: read %ld (raw %ld, events %ld), inserted %ld, updated %ld, unchanged %ld,"
			" failed %ld, ignored %ld, rejected %ld\n",
			prog_name, C.read, C.raw, C.events, C.inserted, C.updated, C.unchanged, C.failed,
			C.ignored, rejects_count());
	if (!quiet && C.not_kept > 0)
		warn_msg(0, C.not_kept == 1 ? "%ld of the unchanged records is a later copy of a stored event with"
			 " other content (said above): the copy received first is kept" : "%ld of the unchanged"
			 " records are later copies of stored events with other content (said above): the copies"
			 " received first are kept", C.not_kept);
	if (!quiet && C.replaced > 0)
		warn_msg(0, C.replaced == 1 ? "%ld of the updated records is an earlier copy that replaced a stored"
			 " one with other content (said above)" : "%ld of the updated records are earlier copies"
			 " that replaced stored ones with other content (said above)", C.replaced);
	if (C.events > 0 && C.raw == 0) /* normalize without --emit-raw: a runbook re-injection, say */
		warn_msg(0, "events without their raw envelopes: no payload stored (reconcile counts them"
			 " extra, and a later copy is not told from the first); pipe 'normalize --emit-raw',"
			 " or run pipelines/ingest-dumps");
	else if (unpaired > 0) /* their envelopes rejected above, or a stream made by hand */
		warn_msg(0, "%ld event%s without %s raw envelope just before %s: unless stored before, no"
			 " payload (reconcile counts such an event extra)", unpaired, unpaired == 1 ? "" : "s",
			 unpaired == 1 ? "its" : "their", unpaired == 1 ? "it" : "them");
	if (others) { /* also with --quiet: a cron line without --project is as wrong */
		r = must("SELECT EXISTS (SELECT FROM projects WHERE id = 'default')", 0, NULL);
		if (strcmp(PQgetvalue(r, 0, 0), "t") == 0)
			warn_msg(0, "this run made project 'default' beside the database's others (%s): were its"
				 " events fetched without --project? (fetch-events --project ID; to move them:"
				 " docs/schema.md, revenueos.move_project)", others);
		PQclear(r);
		free(others);
	}
	PQfinish(conn);
	if (conn2)
		PQfinish(conn2);
	for (int i = 0; i < nfiles; i++)
		free(names[i]);
	free(names);
	jparser_free(jp);
	for (int i = 0; i < 2; i++) {
		free(bufs[i].recs);
		free(bufs[i].text.buf);
		free(bufs[i].copy[0].buf);
		free(bufs[i].copy[1].buf);
	}
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 2; j++)
			free(scripts[i][j]);
	free(password);
	int fin = diag_finish();
	return fin > status ? fin : status;
}
