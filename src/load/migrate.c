/*
 * load/migrate.c: load --migrate (load/migrate.h). One migrator at a time,
 * and no load meanwhile; each file of sql/ is applied once, in name order,
 * and recorded in schema_migrations.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "load/migrate.h"
#include "load/session.h"
#include "strbuf.h"

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

int migrate(const char *sql_opt)
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
		begin_tx();
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
	/* a directory without this release's last (a $RO_SQL_DIR set for the release
	 * before): "schema up to date", and every load then refused as older than
	 * the loader, told to run the --migrate that said so (audit-UPG51 1) */
	const char *last = NEWEST_MIGRATION;
	int behind = !bsearch(&last, names, n, sizeof *names, cmp_names);
	if (foreign)
		warn_msg(0, "the database has %zu migration%s that '%s' does not hold (the last: %s): an older"
			 " release's directory? (--sql-dir, $RO_SQL_DIR)", foreign, foreign == 1 ? "" : "s", dir,
			 newest);
	else if (behind)
		warn_msg(0, "'%s' holds no %s, which this loader needs: an older release's directory?"
			 " (--sql-dir, $RO_SQL_DIR; unset it to take this release's own)", dir, NEWEST_MIGRATION);
	else if (applied == 0)
		fprintf(stderr, "%s: schema up to date (%zu migrations)\n", prog_name, n);
	PQclear(r);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(dir);
	return EXIT_OK;
}
