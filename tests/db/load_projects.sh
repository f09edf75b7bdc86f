#!/usr/bin/env bash
# An event stays in the project it was first loaded into (sql/017): a re-run that names
# another project (a forgotten --project, which is 'default') is refused event by event,
# reported, and leaves every table as it was; a session that says so moves them.
. "$(dirname "$0")/lib/db.sh"
stream() { fetch-events --project "$1" --received-at 2026-12-01T00:00:00Z "$ROOT/fixtures/dumps" 2>/dev/null |
	normalize --emit-raw 2>/dev/null; }
stream acme >"$T/acme.ndjson"
stream default >"$T/default.ndjson"
n=$(wc -l <"$T/acme.ndjson")
by_project() { q "$1" "SELECT string_agg(t || ' ' || p || ' ' || n, ', ' ORDER BY t, p) FROM (
	SELECT 'raw' t, project_id p, count(*) n FROM external_events_raw GROUP BY 2 UNION ALL
	SELECT 'norm', project_id, count(*) FROM external_events_normalized GROUP BY 2 UNION ALL
	SELECT 'log', project_id, count(*) FROM external_events GROUP BY 2 UNION ALL
	SELECT 'pay', project_id, count(*) FROM payments GROUP BY 2 UNION ALL
	SELECT 'sub', project_id, count(*) FROM subscriptions GROUP BY 2 UNION ALL
	SELECT 'cus', project_id, count(*) FROM customers GROUP BY 2) x"; }

a=$(newdb projects)
load --dsn "dbname=$a" "$T/acme.ndjson" 2>/dev/null
state "$a" >"$T/before"
before=$(by_project "$a")
load --dsn "dbname=$a" "$T/default.ndjson" 2>"$T/err" && st=0 || st=$?
check "a re-run under another project: exit 1 ($st)" test "$st" = 1
check "each of its records rejected, db_rejected, naming both projects" sh -c \
	"test \$(grep -c \"is stored under project 'acme', not 'default' (a wrong --project?\" '$T/err') = $n &&
	 grep -q 'rejected $n\$' '$T/err'"
check "nothing moved ($before)" test "$(by_project "$a")" = "$before"
state "$a" >"$T/after"
check "every table as before the re-run" diff "$T/before" "$T/after"
check "the run is recorded with its rejects" test "$(q "$a" "SELECT rejected FROM pipeline_runs
	WHERE program = 'load' ORDER BY id DESC LIMIT 1")" = $n
load --dsn "dbname=$a" "$T/acme.ndjson" 2>"$T/err"
check "the right project again: nothing to do" grep -q 'inserted 0, updated 0' "$T/err"

# events of another project beside: those load, the stored ones are refused
printf '%s\n' '{"id":"evt_FakeProj1","object":"event","type":"customer.created","created":1795185000,"data":{"object":{"id":"cus_FakeProj1","object":"customer"}}}' >"$T/new.json"
{ fetch-events --project default --received-at 2026-12-01T00:00:00Z "$T/new.json" | normalize --emit-raw
  head -2 "$T/default.ndjson"; } 2>/dev/null | load --dsn "dbname=$a" 2>"$T/err" && st=0 || st=$?
check "a new event of the other project loads beside the refused ones (exit $st)" test "$st:$(q "$a" \
	"SELECT project_id FROM external_events WHERE external_event_id = 'evt_FakeProj1'")" = 1:default

# a payload re-injected by hand, without --project: a copy received later than the stored
# one (no update: the first copy is kept) is refused all the same, not counted unchanged
fetch-events --project default --received-at 2026-12-02T00:00:00Z "$ROOT/fixtures/dumps/2026-11/stripe-2026-11-08.ndjson" 2>/dev/null |
	normalize --emit-raw 2>/dev/null | head -2 >"$T/later.ndjson"
state "$a" >"$T/before"
load --dsn "dbname=$a" "$T/later.ndjson" 2>"$T/err" && st=0 || st=$?
check "a later copy under another project: exit 1, both records rejected naming the projects ($st)" sh -c \
	"test $st = 1 && grep -q 'rejected 2\$' '$T/err' && test \$(grep -c \"stored under project 'acme', not 'default'\" '$T/err') = 2"
state "$a" >"$T/after"
check "and nothing changed, not even a project named" diff "$T/before" "$T/after"

# a deliberate move: the session says so
b=$(newdb projects_move)
load --dsn "dbname=$b" "$T/acme.ndjson" 2>/dev/null
PGOPTIONS='-c revenueos.move_project=on' load --dsn "dbname=$b" "$T/default.ndjson" 2>"$T/err" && st=0 || st=$?
check "revenueos.move_project=on: moved, exit $st" test "$st" = 0
c=$(newdb projects_clean)
load --dsn "dbname=$c" "$T/default.ndjson" 2>/dev/null
STATE_TABLES="external_events_raw external_events_normalized plans customers subscriptions payments"
state "$b" >"$T/moved"; state "$c" >"$T/clean"
check "moved: the events and state tables as a clean load under the new project" diff "$T/moved" "$T/clean"
check "and the processing log: every event under the new project, processed again (attempts 2)" test \
	"$(q "$b" "SELECT project_id || ' ' || attempts || ' ' || count(*) FROM external_events GROUP BY project_id, attempts")" = "default 2 20"
# the move re-run with the dumps' times changed (a copy without -p, an object-store sync):
# every copy is received after the stored one, of the same content: it moves all the same,
# where only the captures (their own times) moved and the rest stayed, unsaid (audit-RB 1)
fetch-events --project default --received-at 2026-12-05T00:00:00Z "$ROOT/fixtures/dumps" 2>/dev/null |
	normalize --emit-raw 2>/dev/null >"$T/default-later.ndjson"
m=$(newdb projects_move_later)
load --dsn "dbname=$m" "$T/acme.ndjson" 2>/dev/null
PGOPTIONS='-c revenueos.move_project=on' load --dsn "dbname=$m" "$T/default-later.ndjson" 2>"$T/err" && st=0 || st=$?
state "$m" >"$T/moved-later"
check "a move from later copies of the same content: exit $st, the tables as a clean load under the new project" \
	sh -c "test $st = 0 && diff '$T/moved-later' '$T/clean'"
check "and no event left in the old project ($(by_project "$m"))" test "$(by_project "$m" | grep -c acme)" = 0
PGOPTIONS='-c revenueos.move_project=on' load --dsn "dbname=$m" "$T/default-later.ndjson" 2>"$T/err"
check "the move again: nothing to do" grep -q 'inserted 0, updated 0' "$T/err"
check "a hand UPDATE of an event's project is refused too" sh -c \
	"! psql -qXAt -d $a -c \"UPDATE external_events SET project_id = 'x' WHERE external_event_id = 'evt_FakeProj1'\" 2>/dev/null"

# An event and its raw row are in one project, across the tables too. The raw envelopes
# loaded alone under acme (fetch-events | load), then the events alone without --project
# (a re-injection through normalize): refused, as a move is; the other way round the same.
raw_only() { grep '"record":"raw"' "$1"; }
ev_only() { grep '"record":"event"' "$1"; }
n_ev=$(ev_only "$T/acme.ndjson" | wc -l)
# split DB FIRST SECOND STORED GIVEN WHAT: FIRST (a record kind) of the stream of project
# STORED loaded, then SECOND of GIVEN's: each of those refused naming both, no table changed
split() {
	local db=$1 first=$2 second=$3 stored=$4 given=$5 what=$6 before st
	"$first" "$T/$stored.ndjson" | load --dsn "dbname=$db" 2>/dev/null
	before=$(by_project "$db")
	"$second" "$T/$given.ndjson" | load --dsn "dbname=$db" 2>"$T/err" && st=0 || st=$?
	check "$what stored under another project: exit 1 ($st), each refused naming both" sh -c \
		"test $st = 1 && test \$(grep -c \"is stored under project '$stored', not '$given'\" '$T/err') = $n_ev"
	check "and no table took them ($before)" test "$(by_project "$db")" = "$before"
}
split "$(newdb projects_split)" raw_only ev_only acme default "events whose raw rows are"
e=$(newdb projects_split2)
split "$e" ev_only raw_only default acme "raw envelopes whose events are"
raw_only "$T/default.ndjson" | load --dsn "dbname=$e" 2>/dev/null && st=0 || st=$?
check "under the events' project they load (exit $st)" test "$st" = 0
# in one stream: an event after its raw envelope names another project, or another arrival
# (received_at, source: a first load kept the event's, a re-run the raw row's)
f=$(newdb projects_pair)
python3 - "$T/acme.ndjson" >"$T/pair.ndjson" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])][:4]
assert [l["record"] for l in lines] == ["raw", "event", "raw", "event"]
lines[1]["project_id"] = "beta"
lines[3]["source"] = "elsewhere.ndjson:9"
for l in lines:
    print(json.dumps(l))
EOF
load --dsn "dbname=$f" "$T/pair.ndjson" 2>"$T/err" && st=0 || st=$?
check "an event naming another project than its raw envelope before it: invalid_field at its line (exit $st)" sh -c \
	"test $st = 1 && grep -q \"pair.ndjson:2: field 'project_id' is 'beta', its raw envelope's (line 1) 'acme': an event is in one project (invalid_field)\" '$T/err'"
check "another arrival than its raw envelope's: invalid_field at its line" \
	grep -q "pair.ndjson:4: fields 'received_at' and 'source' are not its raw envelope's (line 3): one copy, one arrival (invalid_field)" "$T/err"
check "the raw rows are stored, in their project ($(by_project "$f"))" test "$(by_project "$f")" = "raw acme 2"
# not just after it (written by hand): refused by the batch's check, said at its line
g=$(newdb projects_apart)
python3 - "$T/acme.ndjson" >"$T/apart.ndjson" <<'EOF'
import json, sys
raw1, ev1, raw2, ev2 = [json.loads(l) for l in open(sys.argv[1])][:4]
ev1["project_id"] = "beta"
for l in (raw1, raw2, ev2, ev1):
    print(json.dumps(l))
EOF
load --dsn "dbname=$g" "$T/apart.ndjson" 2>"$T/err" && st=0 || st=$?
check "an event apart from its raw envelope, in another project: refused at its line (exit $st)" sh -c \
	"test $st = 1 && grep -q \"apart.ndjson:4: .*is stored under project 'acme', not 'beta'.*(db_rejected)\" '$T/err' && grep -q 'rejected 1\$' '$T/err'"
check "the others loaded, in their project ($(by_project "$g"))" test "$(by_project "$g")" = "cus acme 1, log acme 1, norm acme 1, raw acme 2, sub acme 1"

# Rows split between two projects before these checks (moved by hand here): a raw envelope
# sent again, as stored, is no news in a replayed batch either; only the conflicting record is
# refused, whatever else the batch holds
h=$(newdb projects_presplit)
load --dsn "dbname=$h" "$T/acme.ndjson" 2>/dev/null
split_id=$(sed -n 1p "$T/acme.ndjson" | python3 -c 'import json,sys; print(json.load(sys.stdin)["external_event_id"])')
psql -qXAt -d "$h" -c "SET revenueos.move_project = on; UPDATE external_events SET project_id = 'other'
	WHERE external_event_id = '$split_id'" >/dev/null
{ sed -n 1p "$T/acme.ndjson"; sed -n 4p "$T/default.ndjson"; } | load --dsn "dbname=$h" 2>"$T/err" && st=0 || st=$?
check "a replayed batch refuses the conflicting record alone, not the raw copy stored as it is ($st)" sh -c \
	"test $st = 1 && grep -q 'rejected 1\$' '$T/err' && ! grep -q '<stdin>:1:' '$T/err'"

# The runbook's re-injection, `fetch-events FILE | normalize | load`, without --project: a
# new event lands in project 'default', a tenant of its own, every stage exit 0. The run
# that makes 'default' beside other projects says so (audit-DOC 2); the next does not,
# nor a database that has 'default' alone.
k=$(newdb projects_default_new)
load --dsn "dbname=$k" "$T/acme.ndjson" 2>/dev/null
fetch-events --received-at 2026-12-01T00:00:00Z "$ROOT/fixtures/stripe/charge.failed.json" 2>/dev/null |
	normalize 2>/dev/null >"$T/reinject.ndjson"
load --dsn "dbname=$k" --quiet "$T/reinject.ndjson" 2>"$T/err" && st=0 || st=$?
check "a re-injection without --project beside project acme: loaded (exit $st), said, also with --quiet" sh -c \
	"test $st = 0 && grep -q \"^load: this run made project 'default' beside the database's others (acme): were its events fetched without --project?\" '$T/err'"
load --dsn "dbname=$k" "$T/reinject.ndjson" 2>"$T/err"
check "the next run into 'default' says nothing of it" sh -c "! grep -q \"project 'default'\" '$T/err'"
m=$(newdb projects_default_only)
load --dsn "dbname=$m" "$T/default.ndjson" 2>"$T/err"
check "a first load into 'default' alone says nothing of it" sh -c "! grep -q \"project 'default'\" '$T/err'"

# projects.first_event_at is the earliest receipt, whatever run brings it: two runs, the
# later one holding later receipts (kept: the first run's), then earlier ones (taken)
# (the dumps' files alone: the captures keep their own receipt times)
stream_at() { fetch-events --project acme --received-at "$1" "$ROOT/fixtures/dumps" 2>/dev/null |
	normalize --emit-raw 2>/dev/null | grep -v '/captured/'; }
stream_at 2026-12-01T00:00:00Z >"$T/acme-dumps.ndjson"
stream_at 2026-12-03T00:00:00Z >"$T/acme-later.ndjson"
first_at() { q "$1" "SELECT to_char(first_event_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
	FROM projects WHERE id = 'acme'"; }
fe=$(newdb projects_first_later)
head -20 "$T/acme-dumps.ndjson" | load --dsn "dbname=$fe" 2>/dev/null
tail -n +21 "$T/acme-later.ndjson" | load --dsn "dbname=$fe" 2>/dev/null
check "projects.first_event_at: a later run's later receipts leave the earliest ($(first_at "$fe"))" \
	test "$(first_at "$fe")" = 2026-12-01T00:00:00Z
fe=$(newdb projects_first_earlier)
head -20 "$T/acme-later.ndjson" | load --dsn "dbname=$fe" 2>/dev/null
tail -n +21 "$T/acme-dumps.ndjson" | load --dsn "dbname=$fe" 2>/dev/null
check "projects.first_event_at: a later run's earlier receipts become it ($(first_at "$fe"))" \
	test "$(first_at "$fe")" = 2026-12-01T00:00:00Z

check_needs_migration projects_old 017 "$T/acme.ndjson"
