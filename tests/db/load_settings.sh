#!/usr/bin/env bash
# The database as ops have it, not as newdb makes it (audit-GUC): a role's own schema
# first on the search_path, the tables in a schema the search_path does not name,
# session_replication_role left at 'replica'. load, reconcile --db and export read and
# write the RevenueOS schema's tables, or refuse, said; never another schema's.
. "$(dirname "$0")/lib/db.sh"
fetch-events --project acme --received-at 2026-12-01T00:00:00Z "$ROOT/fixtures/dumps" 2>/dev/null |
	normalize --emit-raw 2>/dev/null >"$T/acme.ndjson"
fetch-events --received-at 2026-12-01T00:00:00Z "$ROOT/fixtures/dumps" 2>/dev/null |
	normalize --emit-raw 2>/dev/null >"$T/default.ndjson"
n=$(wc -l <"$T/acme.ndjson")
me=$(q postgres "SELECT current_user")
roles=""
trap 'cleanup; for r in $roles; do psql -qX -d postgres -c "DROP ROLE IF EXISTS $r" >/dev/null 2>&1; done' EXIT

# session_replication_role = replica (a bulk copy's tool asks for it on the database):
# every trigger off, sql/017's refusal of an event moved to another project too. A load
# without its --project moved half a tenant, exit 0.
a=$(newdb settings_replica)
load --dsn "dbname=$a" "$T/acme.ndjson" 2>/dev/null
state "$a" >"$T/before"
q "$a" "ALTER DATABASE $a SET session_replication_role = replica"
check "the database's sessions are 'replica'" test "$(q "$a" "SHOW session_replication_role")" = replica
load --dsn "dbname=$a" "$T/default.ndjson" 2>"$T/err" && st=0 || st=$?
check "a load without its --project under 'replica': refused record by record all the same (exit $st)" \
	sh -c "[ $st = 1 ] && grep -q 'rejected $n\$' '$T/err' && grep -q \"is stored under project 'acme', not 'default'\" '$T/err'"
state "$a" >"$T/after"
check "and nothing moved" diff "$T/before" "$T/after"
# a role that may not set it back (a superuser's setting): refused before anything, said
r=ro_settings_rep_$$
roles="$roles $r"
q "$a" "CREATE ROLE $r LOGIN; ALTER ROLE $r SET session_replication_role = replica"
runs=$(q "$a" "SELECT count(*) FROM pipeline_runs")
load --dsn "dbname=$a user=$r" "$T/acme.ndjson" 2>"$T/err" && st=0 || st=$?
check "a role held at 'replica': exit 3, said ($(head -c 160 "$T/err"))" \
	sh -c "[ $st = 3 ] && grep -q \"^load: the session's session_replication_role is 'replica'.*may not set it back to 'origin'\" '$T/err'"
check "and no run recorded" test "$(q "$a" "SELECT count(*) FROM pipeline_runs")" = "$runs"
check "the message says where it is set, and what a role without a superuser can be given (audit-NOSU 1)" \
	sh -c "grep -q \"is 'replica' (set on the role (ALTER ROLE ... SET)), and this role may not\" '$T/err' &&
		grep -q 'GRANT SET ON PARAMETER session_replication_role TO' '$T/err'"
q "$a" "GRANT SET ON PARAMETER session_replication_role TO $r"
grant_loader "$a" "$r"
load --dsn "dbname=$a user=$r" "$T/acme.ndjson" 2>"$T/err" && st=0 || st=$?
check "given SET on it, the role sets it back and loads (exit $st: $(head -c 120 "$T/err"))" test "$st" = 0
q "$a" "DROP OWNED BY $r" >/dev/null # its grants, the parameter's too: the role is dropped at exit
# 'local' fires every trigger, as 'origin' does: a least-privilege role held at it loads, and
# the project guard holds (review R15 3: refused as 'replica' was)
w=ro_settings_local_$$
roles="$roles $w"
q "$a" "CREATE ROLE $w LOGIN; ALTER ROLE $w SET session_replication_role = local"
grant_loader "$a" "$w"
load --dsn "dbname=$a user=$w" "$T/default.ndjson" 2>"$T/err" && st=0 || st=$?
check "a role held at 'local': loads, the project guard firing (exit $st: $(grep -c 'is stored under project' "$T/err") refused)" \
	sh -c "[ $st = 1 ] && grep -q 'rejected $n\$' '$T/err' && ! grep -q 'session_replication_role' '$T/err'"

# A schema named after the role (CREATE SCHEMA AUTHORIZATION: the default search_path
# "$user", public finds it first) holding a table of the loader's name, a copy made while
# fixing something: load wrote its customers there, export and reconcile read them there.
b=$(newdb settings_shadow)
q "$b" "CREATE SCHEMA \"$me\"; CREATE TABLE \"$me\".customers (LIKE public.customers INCLUDING ALL);
	CREATE TABLE \"$me\".external_events_raw (LIKE public.external_events_raw INCLUDING ALL);
	CREATE TABLE \"$me\".pipeline_runs (LIKE public.pipeline_runs INCLUDING ALL);
	INSERT INTO \"$me\".customers (project_id, provider, customer_id, email)
		VALUES ('acme', 'stripe', 'cus_FakeShadow1', 'shadow@example.com');
	INSERT INTO \"$me\".external_events_raw (provider, external_event_id, project_id, received_at, source, payload)
		VALUES ('stripe', 'evt_FakeShadow1', 'acme', '2026-11-05', 'x', '{}')"
check "the search_path finds the copies first" \
	test "$(q "$b" "SELECT relnamespace::regnamespace FROM pg_class WHERE oid = 'customers'::regclass")" = "$me"
load --dsn "dbname=$b" "$T/acme.ndjson" 2>"$T/err" && st=0 || st=$?
check "load beside a role's own schema (exit $st: the fixtures' one bad line is not in it)" test "$st" = 0
check "and it says the copies are not used (what a release before 0.2.0 wrote there stays: review UPG50 1)" \
	grep -q "^load: note: \"\?$me\"\?.customers, \"\?$me\"\?.external_events_raw, \"\?$me\"\?.pipeline_runs, before the RevenueOS schema on this session's search_path" "$T/err"
check "its customers went to the schema's table ($(q "$b" "SELECT count(*) FROM public.customers")), none to the copy" \
	test "$(q "$b" "SELECT count(*) > 0 FROM public.customers")$(q "$b" "SELECT count(*) FROM \"$me\".customers")" = t1
c=$(newdb settings_plain)
load --dsn "dbname=$c" "$T/acme.ndjson" 2>/dev/null
PGOPTIONS='-c search_path=public' state "$b" >"$T/b"
state "$c" >"$T/c"
check "every table as a database without the copies has it" diff "$T/b" "$T/c"
reconcile --db --dsn "dbname=$c" >"$T/rec.c" 2>/dev/null
reconcile --db --dsn "dbname=$b" >"$T/rec.b" 2>"$T/err" && st=0 || st=$?
check "reconcile --db reads the schema's raw table, not the copy (exit $st)" \
	sh -c "[ $st = 0 ] && [ -s '$T/rec.b' ] && diff '$T/rec.b' '$T/rec.c'"
PGDATABASE=$b "$ROOT/pipelines/export" customers --project acme >"$T/exp.b" 2>"$T/err" && st=0 || st=$?
PGDATABASE=$c "$ROOT/pipelines/export" customers --project acme >"$T/exp.c" 2>/dev/null
check "export reads the schema's customers, not the copy (exit $st, $(wc -l <"$T/exp.b") lines)" \
	sh -c "[ $st = 0 ] && [ \$(wc -l <'$T/exp.b') -gt 1 ] && diff '$T/exp.b' '$T/exp.c'"
check "and its audit row went to the schema's audit_logs" \
	test "$(q "$b" "SELECT count(*) FROM public.audit_logs WHERE action = 'export'")" = 1
check "a copy of pipeline_runs among them takes no run's row (review R15 2: it was taken for the schema)" \
	test "$(q "$b" "SELECT count(*) FROM \"$me\".pipeline_runs")" = 0

# The same schema made after the migrations (an upgrade): the new migrations' objects go
# where the rest is; 031 .. 035 went to the role's schema, and 031's trigger still called
# the old function.
d=$(db_before settings_upgrade 035)
q "$d" "CREATE SCHEMA \"$me\""
load --migrate --dsn "dbname=$d" 2>"$T/err" && st=0 || st=$?
check "load --migrate with a role's schema first on the path (exit $st)" \
	sh -c "[ $st = 0 ] && grep -q 'applied 035_payload_array_secrets.sql' '$T/err'"
check "035's function replaced where it was, nothing made in the role's schema" \
	test "$(q "$d" "SELECT count(*) FROM pg_proc WHERE pronamespace = '\"$me\"'::regnamespace")$(q "$d" \
		"SELECT count(*) FROM pg_class WHERE relnamespace = '\"$me\"'::regnamespace")" = 00
check "and the function is 035's" test "$(q "$d" \
	"SELECT public.payload_without_secrets('{\"a\":[\"sk_live_FAKEARR12345\",1]}')")" = '{"a": [1]}'

# The tables in a schema the session's search_path does not name (made by a role whose own
# schema it was, or by hand): said where they are, exit 3; --migrate makes no second copy.
e=ro_settings_elsewhere_$$
dbs="$dbs $e"
createdb "$e"
q "$e" "CREATE SCHEMA rvo"
PGOPTIONS='-c search_path=rvo' load --migrate --dsn "dbname=$e" 2>/dev/null
check "the tables made in schema rvo" test "$(q "$e" "SELECT to_regclass('rvo.pipeline_runs') IS NOT NULL")" = t
load --dsn "dbname=$e" "$T/acme.ndjson" 2>"$T/err" && st=0 || st=$?
check "load with rvo off the search_path: exit 3, said where they are ($(head -c 160 "$T/err"))" \
	sh -c "[ $st = 3 ] && grep -q \"^load: the database's RevenueOS tables are in schema rvo, not on this session's search_path\" '$T/err'"
load --migrate --dsn "dbname=$e" 2>"$T/err" && st=0 || st=$?
check "load --migrate so: exit 3, no second copy made (exit $st)" \
	sh -c "[ $st = 3 ] && grep -q 'none is made' '$T/err' && [ \$(psql -qXAt -d '$e' -c \"SELECT count(*) FROM pg_class WHERE relname = 'pipeline_runs'\") = 1 ]"
PGDATABASE=$e "$ROOT/pipelines/export" customers --project acme >"$T/exp.e" 2>"$T/err" && st=0 || st=$?
check "export so: exit 3, said as load says it, no row read ($(head -c 160 "$T/err"))" \
	sh -c "[ $st = 3 ] && grep -q \"^export: ERROR:  the database's RevenueOS tables are in schema rvo, not on this session's search_path\" '$T/err' &&
		[ \$(wc -l <'$T/exp.e') -le 1 ] && ! grep -q CONTEXT '$T/err'"
reconcile --db --dsn "dbname=$e" >/dev/null 2>"$T/err" && st=0 || st=$?
check "reconcile --db so: exit 3, said" \
	sh -c "[ $st = 3 ] && grep -q \"^reconcile: the database's RevenueOS tables are in schema rvo, not on this session's search_path\" '$T/err'"
# a role whose search_path names rvo, without USAGE on it: told so, not to name it (review R15 4)
u=ro_settings_usage_$$
roles="$roles $u"
q "$e" "CREATE ROLE $u LOGIN; ALTER ROLE $u SET search_path = rvo, public"
load --dsn "dbname=$e user=$u" "$T/acme.ndjson" 2>"$T/err" && st=0 || st=$?
check "a role without USAGE on rvo: exit 3, told so ($(head -c 200 "$T/err"))" \
	sh -c "[ $st = 3 ] && grep -q 'in schema rvo (this role has no USAGE on it: GRANT USAGE ON SCHEMA rvo TO ...)' '$T/err'"
PGOPTIONS='-c search_path=rvo' load --dsn "dbname=$e" "$T/acme.ndjson" 2>/dev/null && st=0 || st=$?
check "with rvo on the search_path, it loads there (exit $st)" \
	test "$st:$(q "$e" "SELECT count(*) > 0 FROM rvo.customers")" = 0:t
# The schema's triggers read its own tables, view and functions, whatever the session's
# search_path (audit-BAK 1): pg_restore --data-only sets it to '', and a DBA's need not name
# the schema; with two schemas, one's change was checked against the other's
check "a threshold set from a session whose search_path does not name rvo" \
	q "$e" "UPDATE rvo.settings SET value = '8 hours' WHERE key = 'freshness.slow_after'"
check "and from one with search_path '' (pg_restore's), an integration's own too" \
	test "$(q "$e" "SET search_path = ''; UPDATE rvo.integrations SET slow_after = '1 day', stale_after = '3 days';
		UPDATE rvo.settings SET value = '7 hours' WHERE key = 'freshness.slow_after'; SHOW search_path")" = '""'
check "the triggers still check there: a slow_after over stale_after refused at commit" \
	sh -c "! psql -qXAt -d '$e' -c \"SET search_path = ''; UPDATE rvo.settings SET value = '30 hours' WHERE key = 'freshness.slow_after'\" 2>'$T/err' &&
		grep -q 'freshness.slow_after (30 hours) is longer than freshness.stale_after' '$T/err'"
check "and the project guard (sql/017) there" \
	sh -c "! psql -qXAt -d '$e' -c \"SET search_path = ''; UPDATE rvo.external_events_raw SET project_id = 'elsewhere'\" 2>'$T/err' &&
		grep -q \"is stored under project 'acme', not 'elsewhere'\" '$T/err'"
# The database's encoding: UTF8, or refused before anything is made or written (audit-ENC:
# SQL_ASCII refused a payload's escaped character past ASCII, and the whole run with it;
# LATIN1 every event holding a character it lacks)
for enc in SQL_ASCII LATIN1; do
	g=ro_settings_enc_${enc,,}_$$
	dbs="$dbs $g"
	createdb -E "$enc" -T template0 --locale=C "$g"
	load --migrate --dsn "dbname=$g" 2>"$T/err" && st=0 || st=$?
	check "a $enc database: --migrate refused, exit 3, said, nothing made (exit $st)" \
		sh -c "[ $st = 3 ] && grep -q \"^load: the database's encoding is $enc, not UTF8: \" '$T/err' &&
			[ \"\$(psql -qXAt -d '$g' -c \"SELECT to_regclass('schema_migrations') IS NULL\")\" = t ]"
	load --dsn "dbname=$g" "$T/acme.ndjson" 2>"$T/err" && st=0 || st=$?
	check "a $enc database: a load refused, exit 3, said (exit $st)" \
		sh -c "[ $st = 3 ] && grep -q \"^load: the database's encoding is $enc, not UTF8: \" '$T/err'"
done
f=$(newdb settings_none)
q "$f" "DROP TABLE pipeline_runs CASCADE"
reconcile --db --dsn "dbname=$f" >/dev/null 2>"$T/err" && st=0 || st=$?
check "reconcile --db on a database without the schema: exit 3, said" \
	sh -c "[ $st = 3 ] && grep -q \"^reconcile: the database has no RevenueOS schema: run 'load --migrate' first\" '$T/err'"
echo "1..$n_test"
