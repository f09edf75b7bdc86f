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
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
#include "load/migrate.h"
#include "load/record.h"
#include "load/session.h"
#include "load/statements.h"
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
PGconn *conn; /* load/session.h */
static int quiet; /* --quiet: no summary, no notices */
static unsigned long batches; /* committed so far */
static int run_started;       /* loading: a failure leaves whole batches */
static PGconn *conn1;         /* the first connection, whose transactions load the batches */
static PGconn *conn2;         /* the second: the scratch slots' COPYs (below) */
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

/* The run's batches so far, and how to complete the job: said by every end
 * that leaves the run unfinished */
static void say_committed(void)
{
	if (run_started && commit_unknown && conn == conn1 && PQstatus(conn) == CONNECTION_BAD)
		warn_msg(0, "%lu batches (%ld records) were committed, and the batch in progress may have"
			 " been too (the connection was lost at its COMMIT, whose outcome did not come);"
			 " re-run the same input to complete the job", batches, C.inserted + C.updated + C.unchanged);
	else if (run_started)
		warn_msg(0, "%lu batches (%ld records) were committed; the batch in progress, if any, was"
			 " rolled back; re-run the same input to complete the job", batches,
			 C.inserted + C.updated + C.unchanged);
}

void die_pg(const char *what, const PGresult *r)
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
	say_committed();
	exit(EXIT_SYSTEM); /* the run's row is finished by record_failure, at exit */
}

/*
 * A session of its own (audit-POOL). The scratch slots' COPYs, the temporary
 * tables, the advisory lock and the settings are a session's, and a pooler in
 * transaction or statement mode (PgBouncer) hands each transaction whichever
 * server session is idle: a second load took the first one's lock and they
 * ran together, rows lost; the next run found the temporary tables there;
 * ops' psql inherited the loader's settings. So each connection marks its
 * session with a token of its own (revenueos.session, a setting nothing else
 * reads): a session holding one an earlier client set there was that client's
 * (mark_free), and one that does not hold ours at the lock, once the turn is
 * taken or at a transaction's start is not ours.
 */
#define SESSION_NOT_OURS_MSG "this connection's session is not load's own (%s): a connection pooler that" \
	" hands a session on to the next client (transaction or statement mode, or session mode without" \
	" its server_reset_query)? load needs one session from its start to its end: give it the server," \
	" or a pool in session mode (docs/load.md, \"Behind a connection pooler\")"
static char tokens[2][64]; /* conn1's, then conn2's */
#define MARK "current_setting('revenueos.session', true)" /* the session's mark, null if none */
#define MARK_SQL "SELECT " MARK

static const char *token_of(const PGconn *c)
{
	return c == conn1 ? tokens[0] : tokens[1];
}

/*
 * The end of our sessions' use: each left as a new one, its advisory locks let
 * go, its temporary tables dropped, its settings (the mark among them) reset.
 * The end of the connection does as much, but a pooler's session outlives it:
 * its next client had our settings (review R17 4), the loaders' lock stayed
 * held (R18 1, 2: later loads waited, on the server too), and a --note-run's
 * settings went on the same way (R18 3). In a pooler's transaction mode the
 * statement may go to any idle session: none there is any client's own.
 */
static void session_end(void)
{
	PGconn *const c[2] = {conn1, conn2};
	for (int i = 0; i < 2; i++)
		if (c[i] && PQstatus(c[i]) == CONNECTION_OK && PQtransactionStatus(c[i]) == PQTRANS_IDLE)
			PQclear(PQexec(c[i], "DISCARD ALL"));
}

/* Refuse a session not our own: said, then our sessions let go (session_end),
 * exit 3. */
static void __attribute__((noreturn)) die_not_ours(const char *why)
{
	warn_msg(0, SESSION_NOT_OURS_MSG, why);
	say_committed();
	session_end();
	exit(EXIT_SYSTEM);
}

/* One statement of the probe below; its value (text, "" for null) in out. */
static int probe(PGconn *c, const char *sql, char *out, size_t size)
{
	PGresult *r = PQexec(c, sql);
	int ok = PQresultStatus(r) == PGRES_TUPLES_OK || PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		snprintf(out, size, "%s", pg_msg(PQresultErrorMessage(r)));
	else if (out)
		snprintf(out, size, "%s", PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : "");
	PQclear(r);
	return ok;
}

/* 1 when c's session holds c's token */
static int session_ours(PGconn *c)
{
	char mark[256];
	return probe(c, MARK_SQL, mark, sizeof mark) && strcmp(mark, token_of(c)) == 0;
}

/* Connecting c failed: PostgreSQL's message said (r's, else c's), both freed
 * (a leak report would be the exit status under LeakSanitizer); exit 3. */
static void __attribute__((noreturn)) cannot_connect(PGconn *c, PGresult *r)
{
	warn_msg(0, "cannot connect to the database: %s", pg_msg(r ? PQresultErrorMessage(r) : PQerrorMessage(c)));
	PQclear(r);
	PQfinish(c);
	exit(EXIT_SYSTEM);
}

/* A connection being opened refused: closed (not yet conn1 or conn2, which
 * session_end lets go), then die_not_ours. */
static void __attribute__((noreturn)) refuse_new(PGconn *c, const char *why)
{
	PQfinish(c);
	die_not_ours(why);
}

/*
 * c's session holds no other connection's mark: one SET there by an earlier
 * client of the session (a pooler's, handed on unreset) differs from what a
 * RESET gives back, where a value set on the role, the database or in
 * PGOPTIONS (a mark of ours nobody would set, but a session is not refused for
 * it) does not. In one transaction, rolled back: the session is left as it
 * was, and a pooler in statement mode, which ends a client at its BEGIN, is
 * met here, before anything is set.
 */
static void mark_free(PGconn *c)
{
	char was[256], reset[256];

	if (!probe(c, "BEGIN", was, sizeof was)) {
		char why[320];
		snprintf(why, sizeof why, "a transaction's BEGIN was refused: %.250s", was);
		refuse_new(c, why);
	}
	char used[8];
	if (!probe(c, MARK_SQL, was, sizeof was) || !probe(c, "RESET revenueos.session", NULL, 0) ||
	    !probe(c, MARK_SQL, reset, sizeof reset) ||
	    !probe(c, "SELECT EXISTS (SELECT FROM pg_class WHERE relnamespace = pg_my_temp_schema())"
		      " OR EXISTS (SELECT FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid())",
		   used, sizeof used) ||
	    !probe(c, "ROLLBACK", NULL, 0))
		cannot_connect(c, NULL);
	/* an earlier client's temporary tables or advisory locks, still there: a
	 * pooler's session that its reset (RESET ALL, say) left them in (review
	 * R18 2: the loaders' lock stayed, and every later load waited) */
	if (strcmp(used, "t") == 0)
		refuse_new(c, "it holds an earlier client's temporary tables or advisory locks");
	if (strcmp(was, reset) != 0) {
		char why[128];
		snprintf(why, sizeof why, "it holds another connection's mark, '%.60s'", was);
		refuse_new(c, why);
	}
}

/* A connection to dsn, its session marked as ours (token: tokens[slot]).
 * client_encoding after dbname wins over the DSN's, PGCLIENTENCODING and a
 * role's: the records are UTF-8, and a LATIN1 session would store each byte
 * of theirs as a character ("JoÃ£o") without an error. */
static PGconn *open_conn(const char *dsn, int slot)
{
	const char *keys[] = {"dbname", "client_encoding", "fallback_application_name", NULL};
	const char *vals[] = {dsn ? dsn : "", "UTF8", "load", NULL};
	PGconn *c = PQconnectdbParams(keys, vals, 1);

	/* The second, opened once the turn is ours: the load before, which gave
	 * it back as it ended (session_end), may hold its connection a moment
	 * more, and a role's connection limit counts it (review R18 1's fix):
	 * tried again for up to five seconds. */
	for (int tries = 0; slot == 1 && c && PQstatus(c) != CONNECTION_OK && tries < 50; tries++) {
		PQfinish(c);
		usleep(100000);
		c = PQconnectdbParams(keys, vals, 1);
	}
	if (!c)
		die_sys(ENOMEM, "cannot connect to the database");
	if (PQstatus(c) != CONNECTION_OK)
		cannot_connect(c, NULL);
	mark_free(c);
	snprintf(tokens[slot], sizeof tokens[slot], "load %ld.%d %ld", (long)getpid(), slot, (long)time(NULL));
	const char *p[1] = {tokens[slot]};
	PGresult *r = PQexecParams(c, "SELECT set_config('revenueos.session', $1, false)", 1, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		cannot_connect(c, r);
	PQclear(r);
	/* A connection waits, idle, while the input is slow (a FIFO, a stalled
	 * share), as a statement's time is not the input's pace: a role's
	 * idle_session_timeout (PostgreSQL 14) ended it, and the run (audit-E 4).
	 * Were this refused, the next statement would say what is wrong. */
	if (PQserverVersion(c) >= 140000)
		PQclear(PQexec(c, "SET idle_session_timeout = 0"));
	return c;
}

/*
 * Once the turn is ours, before anything is written: the second connection's
 * session is its own, and the first one's still is (a pooler in transaction
 * mode hands the second connection the first one's idle session, its mark
 * then found there, or the first one the second's). Opened after the turn: a
 * load waiting for it holds one connection, as before (review R17 1: under a
 * role's connection limit the waiting load failed). conn2 is kept for
 * scratch_open.
 */
static void own_sessions(const char *dsn)
{
	conn2 = open_conn(dsn, 1);
	if (!session_ours(conn1) || !session_ours(conn2))
		die_not_ours("its mark was gone at the next statement");
}

static void connect_db(const char *dsn, const char *from)
{
	if (pg_password_of(dsn, &password) < 0)
		die_usage(synopsis, "%s: not a valid connection string or URI", from);
	conn = conn1 = open_conn(dsn, 0);
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
PGresult *must(const char *sql, int nparams, const char *const *params)
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
void exec_ok(const char *sql)
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
	PGresult *r = must("SELECT setting, CASE source WHEN 'database' THEN 'set on the database (ALTER DATABASE ... SET)'"
			   " WHEN 'user' THEN 'set on the role (ALTER ROLE ... SET)'"
			   " WHEN 'database user' THEN 'set on the role in this database (ALTER ROLE ... IN DATABASE ... SET)'"
			   " WHEN 'client' THEN 'in PGOPTIONS or the connection''s options'"
			   " WHEN 'configuration file' THEN 'in the server''s configuration: postgresql.conf, ALTER SYSTEM,"
			   " a managed service''s parameter group'"
			   " ELSE 'from the ' || source || ' setting' END"
			   " FROM pg_settings WHERE name = 'session_replication_role'", 0, NULL);
	/* ('local' fires them all, as 'origin': review R15 3) */
	if (strcmp(PQgetvalue(r, 0, 0), "replica") == 0) {
		PGresult *set = PQexec(conn, "SET session_replication_role = origin");
		if (PQresultStatus(set) != PGRES_COMMAND_OK) {
			/* what ops can do without a superuser is said too: a managed
			 * service has none (audit-NOSU 1) */
			warn_msg(0, "the session's session_replication_role is '%s' (%s), and this role may not set"
				 " it back to 'origin': the schema's triggers and foreign keys would not run, and load"
				 " relies on them. Reset it where it is set (a superuser's setting, or the service's"
				 " parameter group), or let this role set it: GRANT SET ON PARAMETER"
				 " session_replication_role TO ... (PostgreSQL 15, by a superuser)",
				 PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1));
			PQclear(set);
			PQclear(r);
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

/* The records are UTF-8 text and JSON, which only a UTF8 database holds whole
 * (audit-ENC 1-3): SQL_ASCII refuses a payload's escaped "\u00e9" in jsonb, a
 * feature error that took every run down, and leaves the no-break spaces of
 * sql/034's secret patterns unmatched; LATIN1 and the like refuse every event
 * with a character they lack, its payment and customer with it. Refused before
 * a migration makes the schema there, or a load writes. */
static void utf8_database(void)
{
	PGresult *r = must("SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = current_database()",
			   0, NULL);
	if (PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "UTF8") != 0) {
		warn_msg(0, "the database's encoding is %s, not UTF8: the events' text and JSON are UTF-8, which"
			 " only a UTF8 database holds whole (%s); make one with ENCODING 'UTF8' and load the dumps"
			 " there (docs/load.md, \"The database\")", PQgetvalue(r, 0, 0),
			 strcmp(PQgetvalue(r, 0, 0), "SQL_ASCII") == 0
				 ? "SQL_ASCII refuses an escaped character past ASCII in a payload"
				 : "this one refuses every event with a character it lacks");
		PQclear(r);
		exit(EXIT_SYSTEM);
	}
	PQclear(r);
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

/* the lock's statement returned its row: it ran in our session */
static void turn_taken(PGresult *r)
{
	int taken = PQntuples(r) == 1;
	PQclear(r);
	if (!taken)
		die_not_ours("its token was gone when the loaders' lock was taken");
}

/* Waits for our turn, however long: waiting for another run is no work of the
 * server's, which a statement_timeout or lock_timeout of the role, the database
 * or PGOPTIONS bounds (audit-K 1: the second cron run failed). The loaders' turn
 * is 7263100; a migrator first takes the migrators' (7263101), then the loaders'. */
void wait_turn(int migrator)
{
	exec_ok("SET statement_timeout = 0");
	exec_ok("SET lock_timeout = 0");
	/* taken in our session only: one a pooler handed us keeps it for its next
	 * client (audit-POOL: a second load took it again and ran beside us) */
	static const char *const turns[] = {"7263101", "7263100"}; /* the migrators', the loaders' */
	for (int i = !migrator; i < 2; i++) {
		const char *p[2] = {token_of(conn), turns[i]};
		turn_taken(must("SELECT pg_advisory_lock($2::bigint) FROM (SELECT) x"
				" WHERE " MARK " = $1", 2, p));
	}
	exec_ok("RESET statement_timeout");
	exec_ok("RESET lock_timeout");
}

/* A transaction of ours: its session holds our token, and in it our writes
 * are the loader's (sql/016's trigger: a plan ops set by hand stays through
 * them). Set for the transaction only: set for the session, it stayed with
 * the next client of a pooler's (audit-POOL 1). */
void begin_tx(void)
{
	PGresult *r = PQexec(conn, "BEGIN; SELECT set_config('revenueos.writer', 'load', true),"
			     " " MARK);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		die_pg("database error in 'BEGIN'", r);
	if (strcmp(PQgetvalue(r, 0, 1), token_of(conn)) != 0) {
		PQclear(r);
		PQclear(PQexec(conn, "ROLLBACK"));
		die_not_ours("its token was gone at a transaction's start");
	}
	PQclear(r);
}

/* ------------------------------------------------- the batch's statements */

/* stage_sql, the COPYs, the upserts, count_sql and not_kept_sql: src/load/statements.c */

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

/* COPY data to c, in pieces libpq's int length takes (a row of a 1 GiB line
 * escaped is more: audit-SA 1); 1, or -1 as PQputCopyData */
static int copy_put(PGconn *c, const char *data, size_t len)
{
	while (len > 0) {
		size_t n = len < ((size_t)1 << 26) ? len : (size_t)1 << 26;
		if (PQputCopyData(c, data, (int)n) != 1)
			return -1;
		data += n;
		len -= n;
	}
	return 1;
}

/* COPY a run of rows; returns NULL on success or the failed result. */
static PGresult *copy_rows(const char *sql, const char *data, size_t len)
{
	PGresult *r = PQexec(conn, sql);

	if (PQresultStatus(r) != PGRES_COPY_IN)
		return r;
	PQclear(r);
	if (copy_put(conn, data, len) != 1)
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
	for (size_t i = 0; i < n_upserts; i++) {
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

	begin_tx();
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

static int analyze_due;
/* the columns of external_events_normalized that the recomputes and deletes look
 * events up by: without fresh statistics of them (autovacuum's come a minute
 * late, from a table a fraction of its size) the planner took a subscription
 * id for a thousand events and ANDed its index with the provider's half of the
 * primary key, a millisecond a lookup (not its jsonb: that costs reading it) */
#define NORM_LOOKUP_COLS "project_id, provider, status, subscription_id, customer_id, payment_id"

/* The statistics stand while this run has read fewer events than a tenth of
 * what external_events_normalized held when last analyzed (autovacuum's own
 * threshold): on a database of 1M events a cron run of 20 000 spent a third
 * of its time in three ANALYZEs of a second each (audit-RBQ 4). A first load
 * (a table never analyzed, or empty) refreshes them as before. */
static int stats_stand(void)
{
	PGresult *r = PQexec(conn, "SELECT reltuples FROM pg_class WHERE oid = 'external_events_normalized'::regclass");
	double held = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 ? atof(PQgetvalue(r, 0, 0)) : -1;
	PQclear(r);
	return held > 0 && (double)C.events < held / 10;
}

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
	if (owner && !stats_stand())
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
		for (size_t i = 0; i < n_upserts; i++) {
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
	if (copy_put(conn, rows->buf + streamed, rows->len - streamed) != 1)
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

/* Keep conn2 when the scratch tables exist (set up as conn), and empty them. */
static void scratch_open(void)
{
	PGresult *r = must("SELECT to_regclass('load_stage_ev_1') IS NOT NULL", 0, NULL);
	int have = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	if (!have) {
		PQfinish(conn2);
		conn2 = NULL;
		return;
	}
	PGconn *main_conn = conn;
	conn = conn2; /* opened by own_sessions */
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

	begin_tx();
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
		case 'm': max_line = max_line_opt(synopsis, optarg); load_opt = 1; break;
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
	if (!note)
		utf8_database();
	/* copies of our tables before ours on the path: the old releases' writes (review UPG50 1) */
	char *shadows = quiet ? NULL : pg_schema_shadows(conn);
	if (shadows)
		note_at(NULL, 0, "note: %s, before the RevenueOS schema on this session's search_path, named as"
			" its tables: not read or written (a release before 0.2.0 used them: docs/load.md, \"What"
			" a re-run does not undo\")", shadows);
	free(shadows);
	schema_pin(do_migrate);
	if (do_migrate) {
		int st = migrate(sql_dir);
		session_end(); /* both turns given back (audit-POOL 3) */
		PQfinish(conn);
		free(password);
		return st == EXIT_OK ? diag_finish() : st;
	}

	if (!note) {
		/* loaders take turns: concurrent upserts of the same rows would only wait or
		 * deadlock. A --migrate takes the turn too: the schema is checked once it
		 * is ours. Then the second session, seen to be its own. */
		wait_turn(0);
		own_sessions(dsn);
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
		warn_msg(0, PG_SCHEMA_NONE_MSG);
		exit(EXIT_SYSTEM);
	}
	if (note) {
		note_insert();
		session_end();
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
		warn_msg(0, "the database schema is older than this loader (it needs sql/ up to %s): run"
			 " 'load --migrate' first", NEWEST_MIGRATION);
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
	scratch_open();

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
	session_end();
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
