#!/usr/bin/env bash
# pipelines/demo, the main job, touches no server but its throwaway cluster: not the one
# PGHOST and PGDATABASE name (an ops shell's production server), nor RO_DSN's (cron's), a
# PGSERVICE's or a PGHOSTADDR's, and a PGPORT (a host's second cluster) does not break it.
# With --pg-env it uses the PG* server and database.
. "$(dirname "$0")/lib/db.sh"
prod=ro_demo_prod_$$
dbs="$dbs $prod"
createdb "$prod"
printf '[prod]\nhost=%s\nport=%s\nuser=%s\ndbname=%s\n' "$PGHOST" "$PGPORT" "$PGUSER" "$prod" >"$T/svc.conf"
PGDATABASE=$prod RO_DSN="host=$PGHOST port=$PGPORT dbname=$prod" PGSERVICEFILE="$T/svc.conf" \
	PGSERVICE=prod PGHOSTADDR=127.0.0.1 PGPORT=6543 "$ROOT/pipelines/demo" >"$T/out" 2>&1
st=$?
pgdir=$(sed -n 's/^== starting a throwaway PostgreSQL cluster in //p' "$T/out")
check "demo with PGHOST, PGDATABASE, RO_DSN, PGSERVICE, PGHOSTADDR and PGPORT set: exit $st, its own cluster ($(grep -m1 -i -e error -e 'cannot' "$T/out"))" \
	sh -c "test $st = 0 && test -n '$pgdir' && grep -q 'inserted 0, updated 0, unchanged 46' '$T/out'"
check "the other server's database holds no table" \
	test "$(q "$prod" "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" = 0
check "its cluster is stopped and removed" sh -c "test -n '$pgdir' && ! test -e '$pgdir' && ! pgrep -f -- '[-]D $pgdir/data' >/dev/null"

# --pg-env: the PG* server and database, schema and fixtures, left running
mine=ro_demo_env_$$
dbs="$dbs $mine"
createdb "$mine"
PGDATABASE=$mine "$ROOT/pipelines/demo" --pg-env >"$T/env.out" 2>&1
st=$?
check "demo --pg-env: exit $st, on the PG* server's database, the second run unchanged" \
	sh -c "test $st = 0 && grep -q '^== using the server of the PG\* environment ($PGHOST, database $mine)' '$T/env.out' &&
		! grep -q 'throwaway' '$T/env.out' && grep -q 'inserted 0, updated 0, unchanged 46' '$T/env.out'"
check "its database holds the fixtures' events" \
	test "$(q "$mine" "SELECT count(*) > 0 FROM external_events_raw WHERE project_id = 'acme'")" = t
"$ROOT/pipelines/demo" --pg-env --bogus >/dev/null 2>"$T/usage.err"
st=$?
check "an argument after --pg-env is a usage error (exit $st)" \
	sh -c "test $st = 2 && grep -q '^usage: pipelines/demo \[--pg-env\]' '$T/usage.err'"
