#!/usr/bin/env bash
# The install layout (make install: PREFIX/bin, PREFIX/share/revenueos/{pipelines,sql},
# PREFIX/share/doc/revenueos) run as cron runs it: env -i with PATH=/usr/bin:/bin, another
# working directory, no terminal.
# Each pipeline finds the programs in PREFIX/bin and the schema in share/revenueos/sql.
. "$(dirname "$0")/lib/db.sh"
make -s -C "$ROOT" install DESTDIR="$T/inst" PREFIX=/opt/ro >/dev/null
p=$T/inst/opt/ro/share/revenueos/pipelines
db=ro_install_$$
dbs="$dbs $db"
createdb "$db"
mkdir -p "$T/cwd"
cron() { (cd "$T/cwd" && env -i PATH=/usr/bin:/bin HOME="$T" PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" \
	PGDATABASE="$db" RO_LOCK="$T/lock" "$@" </dev/null); }
cron "$T/inst/opt/ro/bin/load" --migrate 2>"$T/err"
check "installed load --migrate finds the schema (exit $?)" grep -q 'applied 001_schema.sql' "$T/err"
cron "$p/ingest-dumps" --project acme "$ROOT/fixtures/dumps" >/dev/null 2>"$T/err"
st=$?
check "installed ingest-dumps: exit 1 (the fixtures' one bad line), got $st" test "$st" = 1
check "and it loaded" test "$(q "$db" "SELECT count(*) > 0 FROM payments WHERE project_id = 'acme'")" = t
cron "$p/reconcile" acme >"$T/out" 2>"$T/err"
st=$?
check "installed reconcile finds reconcile and to-csv (exit $st: 0 or 4)" sh -c "test $st = 0 -o $st = 4"
check "and prints its table" grep -q '^stripe' "$T/out"
cron "$p/export" payments --project acme -o "$T/p.csv" 2>"$T/err"
st=$?
check "installed export (exit $st)" sh -c "test $st = 0 && head -1 '$T/p.csv' | grep -q '^provider,payment_id'"
for s in ingest-dumps reconcile export; do
	check "installed $s --version" sh -c "'$p/$s' --version | grep -q \"(RevenueOS Pipelines) \$(cat '$ROOT/VERSION')\""
done
# setup and demo build and run the source tree: not installed
for s in setup demo; do
	check "$s is not installed" test ! -e "$p/$s"
done
check "the pipelines installed: ingest-dumps, export, reconcile, and lib/ they source" \
	test "$(cd "$p" && ls | tr '\n' ' ')" = "export ingest-dumps lib reconcile "
check "lib/ holds common.sh, not executable" \
	test "$(cd "$p/lib" && ls | tr '\n' ' ')" = "common.sh " -a ! -x "$p/lib/common.sh"

# An older release's sql/ beside the install (copied there by hand before a make install),
# or two levels up (/sql for /opt/revenueos/bin): never read; the installed
# share/revenueos/sql is (audit-DEP 1: "schema up to date" at 001, every run then refused).
mkdir -p "$T/inst/opt/ro/sql" "$T/inst/sql"
cp "$ROOT/sql/001_schema.sql" "$T/inst/opt/ro/sql/"
echo 'CREATE TABLE not_ours (a int);' >"$T/inst/sql/900_not_ours.sql"
db=ro_install_old_$$
dbs="$dbs $db"
createdb "$db"
cron "$T/inst/opt/ro/bin/load" --migrate 2>"$T/err"
last=$(cd "$ROOT/sql" && ls [0-9]*.sql | tail -n 1)
check "installed load --migrate beside a stray sql/ applies share's, through $last" grep -q "applied $last" "$T/err"
check "and nothing of the stray ones" sh -c "! grep -q 900_not_ours '$T/err'"

# A DESTDIR or PREFIX with a space in it installs whole (audit-DEP 4: the recipe split it,
# half an install, part of it written under the source tree)
make -s -C "$ROOT" install DESTDIR="$T/in st" PREFIX="/opt/r o" >/dev/null 2>"$T/err"
st=$?
check "make install into a path with a space (exit $st)" sh -c "test $st = 0 &&
	'$T/in st/opt/r o/bin/load' --version >/dev/null &&
	test \$(ls '$T/in st/opt/r o/share/revenueos/sql' | wc -l) = \$(ls '$ROOT'/sql/*.sql | wc -l)"
check "the docs the messages name are installed (share/doc/revenueos/docs/schema.md, README.md)" \
	test -f "$T/inst/opt/ro/share/doc/revenueos/docs/schema.md" -a -f "$T/inst/opt/ro/share/doc/revenueos/README.md"
