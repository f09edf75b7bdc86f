#!/usr/bin/env bash
# pipelines/demo, the main job, touches no server but its throwaway cluster unless
# PGHOST or PGDATABASE names one: not the server RO_DSN (cron's), a PGSERVICE or a
# PGHOSTADDR names, and a PGPORT (a host's second cluster) does not break it.
. "$(dirname "$0")/lib/db.sh"
prod=ro_demo_prod_$$
dbs="$dbs $prod"
createdb "$prod"
printf '[prod]\nhost=%s\nport=%s\nuser=%s\ndbname=%s\n' "$PGHOST" "$PGPORT" "$PGUSER" "$prod" >"$T/svc.conf"
env -u PGHOST -u PGDATABASE RO_DSN="host=$PGHOST port=$PGPORT dbname=$prod" PGSERVICEFILE="$T/svc.conf" \
	PGSERVICE=prod PGHOSTADDR=127.0.0.1 PGPORT=6543 "$ROOT/pipelines/demo" >"$T/out" 2>&1
st=$?
pgdir=$(sed -n 's/^== starting a throwaway PostgreSQL cluster in //p' "$T/out")
check "demo with RO_DSN, PGSERVICE, PGHOSTADDR and PGPORT set: exit $st, its own cluster ($(grep -m1 -i -e error -e 'cannot' "$T/out"))" \
	sh -c "test $st = 0 && test -n '$pgdir' && grep -q 'inserted 0, updated 0, unchanged 46' '$T/out'"
check "the other server's database holds no table" \
	test "$(q "$prod" "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" = 0
check "its cluster is stopped and removed" sh -c "test -n '$pgdir' && ! test -e '$pgdir' && ! pgrep -f -- '[-]D $pgdir/data' >/dev/null"
