#!/usr/bin/env bash
# Malformed records and rows PostgreSQL refuses are rejected and reported; the rest load.
. "$(dirname "$0")/lib/db.sh"
fx=$ROOT/fixtures/db

db=$(newdb rej)
load --dsn "dbname=$db" --rejects "$T/rej" "$fx/malformed.ndjson" 2>"$T/err"
check "exit status 1 when records were rejected" test $? -eq 1
check "six rejects in the rejects file" test "$(wc -l <"$T/rej")" -eq 6
check "reject codes" test "$(python3 -c 'import json,sys; print(" ".join("%d:%s" % (r["line"], r["code"]) for r in sorted(map(json.loads, open(sys.argv[1])), key=lambda r: r["line"])))' "$T/rej")" = \
	"3:invalid_json 4:missing_field 5:invalid_field 6:db_rejected 7:db_rejected 8:invalid_field"
check "a refused row is reported with file:line, event id and source" \
	grep -q "malformed.ndjson:7: stripe event 'evt_bogus' (dumps/basic.ndjson:3): postgres: new row for relation \"payments\" violates check constraint" "$T/err"
check "bad jsonb is refused by PostgreSQL and isolated" grep -q "malformed.ndjson:6: stripe raw event 'evt_nul'" "$T/err"
db_in=$(newdb rej_stdin)
load --dsn "dbname=$db_in" <"$fx/malformed.ndjson" 2>"$T/err_stdin"
check "stdin is named <stdin> in a reject, as every program names it (docs/load.md)" \
	grep -q "^load: <stdin>:7: stripe event 'evt_bogus' (dumps/basic.ndjson:3): postgres: new row" "$T/err_stdin"
# docs/rejects.md: an over-long line keeps its first 4096 bytes in load's rejects file, as in
# every program's, or --max-line's when fewer
python3 -c 'print("{\"a\":\"" + "x" * 5000 + "\"}")' >"$T/long.ndjson"
for max in 100 4500; do
	load --dsn "dbname=$db_in" --max-line $max --rejects "$T/rej_long" "$T/long.ndjson" 2>"$T/err_long"
	st=$?
	want=$((max < 4096 ? max : 4096))
	check "--max-line $max: the message names the maximum" grep -q ":1: line longer than $max bytes (line_too_long)" "$T/err_long"
	check "--max-line $max: an over-long line is line_too_long (exit 1), its first $want bytes kept" \
		test "$st $(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["code"], len(r["raw"]))' "$T/rej_long")" = "1 line_too_long $want"
done
check "the good records of the same batch are loaded" \
	test "$(q "$db" "SELECT string_agg(external_event_id, ',' ORDER BY external_event_id) FROM external_events_raw")" = evt_c1,evt_p1
check "nothing of a refused event half-applied" \
	test "$(q "$db" "SELECT count(*) FROM external_events WHERE external_event_id = 'evt_bogus'")" = 0
check "summary counts rejects" grep -q 'inserted 4, updated 0, unchanged 0, failed 0, ignored 0, rejected 6' "$T/err"
check "the run is recorded with exit status 1" \
	test "$(q "$db" "SELECT rejected || ' ' || exit_status FROM pipeline_runs")" = "6 1"

# Records the loader itself refuses (invalid_field), before PostgreSQL's checks would
# (db_rejected, a message the server words). From the good pair of lines 1-2 (mutation
# audit MP): another schema version, even 0; an event id holding U+0000 (stored cut at it,
# two ids would be one); a failed event carrying a section. From basic's evt_p1 (MUT-P:
# L18, L19, L43, L24): a provider name not of [a-z][a-z0-9_]*, a currency not three
# capitals, a payment method not in lower case; the refused event's raw row is stored
# (reconcile shows the event missing). A blank line between an envelope and its event is
# no record at all.
python3 - "$fx/malformed.ndjson" "$fx/basic.ndjson" "$T" <<'EOF'
import json, sys
raw, ev = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()[:2]]
recs = [json.loads(l) for l in open(sys.argv[2]).read().splitlines()]
praw, pev = [[r for r in recs if r["record"] == k and r["external_event_id"] == "evt_p1"][0] for k in ("raw", "event")]
def w(name, recs):
    open(sys.argv[3] + "/" + name, "w").write("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in recs))
w("sv0.ndjson", [dict(ev, schema_version=0)])
w("nul.ndjson", [dict(raw, external_event_id="evt_n\u0000zz"), dict(ev, external_event_id="evt_n\u0000zz")])
w("failsub.ndjson", [dict(ev, status="failed", reason="x", customer=None, subscription={"id": "sub_1"})])
w("blank.ndjson", [raw, "", ev])
w("prov1.ndjson", [dict(praw, provider="_x"), dict(pev, provider="_x")])
w("prov2.ndjson", [dict(praw, provider="str-ipe"), dict(pev, provider="str-ipe")])
w("cur.ndjson", [praw, dict(pev, payment=dict(pev["payment"], currency="EUr"))])
w("meth.ndjson", [praw, dict(pev, payment=dict(pev["payment"], method="cardZ"))])
EOF
# each: file, the line first said, the invalid_field rejects, the rows stored, the message
for c in "sv0:1:1:0:field 'schema_version' is 0, this loader reads version 1" \
	"nul:1:2:0:field 'external_event_id' contains a NUL character" \
	"failsub:1:1:0:a failed event carries a 'subscription' section" \
	"prov1:1:2:0:field 'provider' is not a provider name: '_x'" \
	"prov2:1:2:0:field 'provider' is not a provider name: 'str-ipe'" \
	"cur:2:1:1:field 'payment.currency' is not an ISO 4217 code: 'EUr'" \
	"meth:2:1:1:field 'payment.method' is not lower case: 'cardZ'"; do
	IFS=: read -r f l n k m <<<"$c"
	r=$(newdb "rej_$f")
	load --dsn "dbname=$r" --rejects "$T/rej_$f" "$T/$f.ndjson" 2>"$T/err_$f"
	st=$?
	check "$f: exit 1 ($st), $n invalid_field rejects and nothing else, $k rows stored ($(head -n 1 "$T/err_$f"))" \
		test "$st $(grep -c '"code":"invalid_field"' "$T/rej_$f") $(wc -l <"$T/rej_$f") $(q "$r" "SELECT (SELECT count(*) FROM external_events_raw) + (SELECT count(*) FROM external_events)")" = "1 $n $n $k"
	check "$f: said by the loader at line $l" grep -qF "$f.ndjson:$l: $m (invalid_field)" "$T/err_$f"
done
r=$(newdb rej_blank)
load --dsn "dbname=$r" "$T/blank.ndjson" 2>"$T/err_blank"
st=$?
check "a blank line between an envelope and its event: skipped, both loaded, exit 0 ($st)" \
	test "$st $(q "$r" "SELECT count(*) FROM external_events_raw") $(grep -c unpaired "$T/err_blank")" = "0 1 0"
# An unreadable input and a rejected line in one run: exit 3, the worse, and the run's
# row says 3 as the process does
r=$(newdb rej_both)
load --dsn "dbname=$r" "$T/nonexistent.ndjson" "$T/sv0.ndjson" 2>"$T/err_both"
st=$?
check "an unreadable file and a rejected line: exit 3 ($st), the run recorded with 3" \
	test "$st $(q "$r" "SELECT rejected || ' ' || exit_status FROM pipeline_runs")" = "3 1 3"

# A gzip file cut short: the lines before the cut load, the cut is reported at the line it
# fell in (file:line, as every program reports it), and counted read as it is rejected.
head -n 4 "$fx/malformed.ndjson" | head -n 2 >"$T/cut.ndjson"
gzip -c "$T/cut.ndjson" | head -c $(( $(gzip -c "$T/cut.ndjson" | wc -c) - 6 )) >"$T/cut.ndjson.gz"
load --dsn "dbname=$db_in" --rejects "$T/rej_cut" "$T/cut.ndjson.gz" 2>"$T/err_cut"
st=$?
check "a truncated gzip: exit 1, reported at its line (exit $st; $(grep truncated "$T/err_cut"))" \
	sh -c "test $st = 1 && grep -q 'cut.ndjson.gz:3: gzip data ends early (truncated file) (truncated_gzip)' '$T/err_cut'"
check "its rejects record names the line" \
	test "$(python3 -c 'import json,sys; r=json.loads(open(sys.argv[1]).readlines()[-1]); print(r["line"], r["code"])' "$T/rej_cut")" = "3 truncated_gzip"
check "the summary counts it read and rejected ($(grep 'load: read' "$T/err_cut"))" grep -q 'load: read 3 .*rejected 1$' "$T/err_cut"

# A rejects file the disk cannot take (/dev/full): exit 3, and the run's row says so,
# finished, whether the failure shows at a reject's write (a full buffer) or at the end.
for n in 1 2000; do
	rf=$(newdb "rej_full_$n")
	yes '{bad' | head -n $n | load --dsn "dbname=$rf" --rejects /dev/full 2>"$T/err_full"
	st=$?
	check "--rejects /dev/full, $n bad lines: exit 3 ($st), said ($(tail -n 1 "$T/err_full"))" \
		sh -c "test $st = 3 && grep -q \"cannot write rejects file '/dev/full'\" '$T/err_full'"
	check "--rejects /dev/full, $n bad lines: the run's row is finished with exit status 3" \
		test "$(q "$rf" "SELECT exit_status || ' ' || (finished_at IS NOT NULL) FROM pipeline_runs")" = "3 true"
done

# ... and when batches are in flight: the row counts what was committed, no more, no less
# (a batch in flight that commits counted; records replayed one at a time counted once
# their transaction commits)
python3 "$ROOT/tests/db/lib/gen_events.py" 3000 3 200 >"$T/full_ok.ndjson"
{ cat "$T/full_ok.ndjson"; yes '{bad' | head -n 3000; } >"$T/full_mixed.ndjson"
rf=$(newdb rej_full_inflight)
load --dsn "dbname=$rf" --batch 1000 --rejects /dev/full "$T/full_mixed.ndjson" 2>/dev/null
st=$?
check "--rejects /dev/full with batches in flight: exit 3 ($st); the row's counts are what is stored ($(q "$rf" "SELECT records_out || ' ' || inserted FROM pipeline_runs") vs $(q "$rf" "SELECT (SELECT count(*) FROM external_events_raw) + (SELECT count(*) FROM external_events)"))" \
	test "$st $(q "$rf" "SELECT exit_status || ' ' || records_out || ' ' || inserted FROM pipeline_runs")" = \
	"3 3 $(q "$rf" "SELECT (SELECT count(*) FROM external_events_raw) + (SELECT count(*) FROM external_events)") $(q "$rf" "SELECT (SELECT count(*) FROM external_events_raw) + (SELECT count(*) FROM external_events)")"

# The raw rows of a batch go to the server in chunks as they are read (over
# 256 KB of them before this one): a row refused mid-stream is isolated the same.
python3 "$ROOT/tests/db/lib/gen_events.py" 600 7 2000 >"$T/big.ndjson"
{ head -n 601 "$T/big.ndjson"; sed -n 6p "$fx/malformed.ndjson"; tail -n +602 "$T/big.ndjson"; } >"$T/bigbad.ndjson"
db=$(newdb stream)
load --dsn "dbname=$db" --rejects "$T/rej2" "$T/bigbad.ndjson" 2>"$T/err"
check "a row refused mid-stream: exit 1" test $? -eq 1
check "and one reject, db_rejected, at its line" \
	test "$(python3 -c 'import json,sys; print(" ".join("%d:%s" % (r["line"], r["code"]) for r in map(json.loads, open(sys.argv[1]))))' "$T/rej2")" = "602:db_rejected"
clean=$(newdb streamclean)
load --dsn "dbname=$clean" "$T/big.ndjson" 2>/dev/null
check "every other record is loaded: the tables of a load without it" same_state "$db" "$clean"

# A batch PostgreSQL refuses a row of in its upserts is rolled back and replayed
# one record at a time; the scratch slot it was read from is used again two
# batches later and must hold only that batch's rows then.
{ head -n 301 "$T/big.ndjson"; sed -n 7p "$fx/malformed.ndjson"; tail -n +302 "$T/big.ndjson"; } >"$T/bigbad2.ndjson"
db=$(newdb replayslot)
load --dsn "dbname=$db" --batch 100 --rejects "$T/rej3" "$T/bigbad2.ndjson" 2>"$T/err"
check "a row refused in a middle batch: exit 1, one db_rejected at its line" \
	test $? -eq 1 -a "$(python3 -c 'import json,sys; print(" ".join("%d:%s" % (r["line"], r["code"]) for r in map(json.loads, open(sys.argv[1]))))' "$T/rej3")" = "302:db_rejected"
check "and the batches after it, through the same scratch slots, load as without it" same_state "$db" "$clean"

# usage and connection errors
load --batch 0 </dev/null 2>/dev/null
check "--batch 0 is a usage error (2)" test $? -eq 2
load --bogus </dev/null 2>/dev/null
check "an unknown option is a usage error (2)" test $? -eq 2
check "--help exits 0 with the synopsis" sh -c 'load --help | grep -q "^usage: load"'
load --dsn "host=$PGHOST password=s3cr3tpw dbname" </dev/null 2>"$T/err"
check "an unparsable --dsn is a usage error" test $? -eq 2
check "and does not echo the password" sh -c "! grep -q s3cr3tpw $T/err"
load --dsn "postgresql://nobody:s3cr3tpw@localhost:1/none" </dev/null 2>"$T/err"
check "an unreachable server exits 3" test $? -eq 3
check "without printing the password" sh -c "! grep -q s3cr3tpw $T/err"
# a password holding an '@' not written %40: libpq takes the rest of it for the host name
load --dsn "postgresql://nobody:s3cr@3tpw@nohost.invalid:1/none" </dev/null 2>"$T/err"
st=$?
check "a password with a bare '@' in a URI: exit 3, no part of it printed ($(head -c 160 "$T/err"))" \
	sh -c "test $st -eq 3 && ! grep -q 3tpw $T/err && ! grep -q s3cr $T/err"
# the same with an '@' in the query too; a '/' in the password (not written %2F): libpq
# reads no password and takes "Xy7" for the port, which its message quotes
for u in "postgresql://nobody:s3cr@3tpw@nohost.invalid:1/none?application_name=load@cron" \
	"postgresql://nobody:Xy7/Qz9+w@nohost.invalid:1/none"; do
	load --dsn "$u" </dev/null 2>"$T/err"
	st=$?
	check "a password in $u: exit 3, no part of it printed ($(head -c 160 "$T/err"))" \
		sh -c "test $st -eq 3 && test -s $T/err && ! grep -q '3tpw\|s3cr\|Xy7\|Qz9' $T/err"
done
# a dbname that is itself a URI: libpq sends the inner string as the database's name and
# the server's FATAL quotes it
# (cut to 63 bytes when longer)
for u in "postgresql://nobody:s3cr3tpw@/none" "postgresql://nobody:s3cr3tpw@/none?application_name=a-name-long-enough-to-be-cut"; do
	load --dsn "host=$PGHOST dbname=$u" </dev/null 2>"$T/err"
	st=$?
	check "a URI nested in dbname=: exit 3, the password not printed ($(head -c 160 "$T/err"))" \
		sh -c "test $st -eq 3 && test -s $T/err && ! grep -q s3cr3tpw $T/err"
done
# canonical events alone (normalize without --emit-raw, as a hand re-injection may be): loaded,
# with a word that their payloads are not (reconcile would count them extra)
ev_only=$(newdb events_only)
grep '"record":"event"' "$fx/basic.ndjson" | load --dsn "dbname=$ev_only" 2>"$T/err"
st=$?
check "events without raw envelopes: loaded (exit $st), and load says so once" \
	sh -c "test $st -eq 0 && test \$(grep -c 'events without their raw envelopes' $T/err) -eq 1"
load --dsn "dbname=$ev_only" "$fx/basic.ndjson" 2>"$T/err"
check "with their envelopes, no such word" sh -c "! grep -q 'without their raw envelopes' $T/err"
# pipelines/ingest-dumps records each run as a whole in pipeline_runs: a line fetch-events
# refused (a cut webhook) reaches the database nowhere else, and load's own row says only
# load's part (exit 0, nothing rejected)
ing=$(newdb ingest_note)
mkdir -p "$T/ingtmp" "$T/dumps"
cp "$ROOT/fixtures/dumps/2026-11/stripe-2026-11-08.ndjson" "$T/dumps/"
TMPDIR=$T/ingtmp "$ROOT/pipelines/ingest-dumps" --project acme --dsn "dbname=$ing" "$T/dumps" 2>/dev/null
st=$?
check "ingest-dumps over a dump with a cut line: exit $st, its run in pipeline_runs with the line counted" \
	test "$st $(q "$ing" "SELECT exit_status || ' ' || rejected || ' ' || (detail #>> '{stages,fetch-events,rejected}')
		|| ' ' || (detail #>> '{stages,load,exit_status}') || ' ' || (finished_at >= started_at)
		FROM pipeline_runs WHERE program = 'ingest-dumps'")" = "1 1 1 1 0 true"
check "and its own rejects directory is gone" test -z "$(ls -A "$T/ingtmp")"
# a full $TMPDIR: refused before a stage starts, as one that does not exist (audit-E 3: the
# stages ran, their statuses could not be written, and the run said and recorded each as
# exit 3, with bash's "write error"s)
if [ "$(id -u)" -ne 0 ]; then
	ok "a full TMPDIR # SKIP a tmpfs is mounted as root only"
elif mkdir -p "$T/fulltmp" && mount -t tmpfs -o size=64k tmpfs "$T/fulltmp"; then
	head -c 1M /dev/zero >"$T/fulltmp/fill" 2>/dev/null
	runs=$(q "$ing" "SELECT count(*) FROM pipeline_runs")
	TMPDIR=$T/fulltmp "$ROOT/pipelines/ingest-dumps" --project acme --dsn "dbname=$ing" "$T/dumps" 2>"$T/full.err"
	st=$?
	check "ingest-dumps with a full TMPDIR: exit 3 ($st), said once, no stage ran ($(head -c 300 "$T/full.err"))" \
		sh -c '[ "$1" -eq 3 ] && [ "$(cat "$2")" = "ingest-dumps: cannot write under $3 (TMPDIR): is it full?" ] &&
			[ "$4" = "$5" ]' sh $st "$T/full.err" "$T/fulltmp" "$runs" "$(q "$ing" "SELECT count(*) FROM pipeline_runs")"
	umount "$T/fulltmp"
else
	notok "a full TMPDIR: a 64k tmpfs could not be mounted"
fi
# the run names its project (audit-RB 1: reconcile --db cannot see a line refused before the
# database; the run row is where it is traced), as JSON text whatever the project holds
TMPDIR=$T/ingtmp "$ROOT/pipelines/ingest-dumps" --project 'ac"m\e' --dsn "dbname=$ing" "$T/dumps" 2>/dev/null
check "ingest-dumps' run row names its project" \
	test "$(q "$ing" "SELECT string_agg(detail->>'project', ' ' ORDER BY id) FROM pipeline_runs WHERE program = 'ingest-dumps'")" = 'acme ac"m\e'
q "$ing" "DELETE FROM pipeline_runs WHERE program = 'ingest-dumps' AND detail->>'project' <> 'acme'" >/dev/null
"$ROOT/pipelines/ingest-dumps" --project acme --dsn "dbname=$ing" --rejects-dir "$T/ingrej" "$T/dumps" 2>/dev/null
runs=$(q "$ing" "SELECT count(*) || ' ' || sum(rejected) FROM pipeline_runs WHERE program = 'ingest-dumps'")
check "with --rejects-dir the same count, from its files" \
	test "$runs $(wc -l <"$T/ingrej/fetch-events.rejects")" = "2 2 1"
# --max-line to every stage and --jobs to normalize, for untrusted dumps of huge lines (the
# memory audit: ingest-dumps had no way to pass them): the lines over it refused, the rest in
ml=$(newdb max_line)
mkdir -p "$T/clean_ml"
cp "$ROOT/fixtures/dumps/2026-11/stripe-2026-11-05.ndjson.gz" "$T/clean_ml/"
"$ROOT/pipelines/ingest-dumps" --max-line 3K --jobs 1 --project acme --dsn "dbname=$ml" --rejects-dir "$T/mlrej" \
	"$T/clean_ml" >/dev/null 2>"$T/err"
st=$?
got="$st $(jq -r .code "$T/mlrej/fetch-events.rejects" | sort | uniq -c | tr -s ' ') $(q "$ml" "SELECT count(*) FROM external_events_raw")"
check "ingest-dumps --max-line 3K --jobs 1: the 4 lines over it refused, the 3 others loaded ($got)" \
	test "$got" = "1  4 line_too_long 3"
# --quiet, for cron (audit-cron 2): a run with nothing wrong writes nothing at all, one with
# a rejected line says that line and the stage's exit, and no summary either way
mkdir -p "$T/clean"
cp "$ROOT/fixtures/dumps/2026-11/stripe-2026-11-05.ndjson.gz" "$T/clean/"
qt=$(newdb quiet)
"$ROOT/pipelines/ingest-dumps" --quiet --project acme --dsn "dbname=$qt" "$T/clean" >"$T/out" 2>"$T/err"
st=$?
check "ingest-dumps --quiet over a clean dump: exit $st, nothing on stdout or stderr, the events loaded" \
	test "$st $(wc -c <"$T/out") $(wc -c <"$T/err") $(q "$qt" "SELECT count(*) > 0 FROM external_events_raw")" = "0 0 0 t"
# nor one whose dump has a file time it does not use (a placeholder: zip's 1980), which the
# cron line's two days of re-reads said every run (audit-CLI 1); said without --quiet
mkdir -p "$T/old" && cp "$ROOT/fixtures/dumps/2026-11/stripe-2026-11-05.ndjson.gz" "$T/old/" &&
	touch -d 1980-01-01 "$T/old/stripe-2026-11-05.ndjson.gz"
"$ROOT/pipelines/ingest-dumps" --quiet --project acme --dsn "dbname=$qt" "$T/old" >"$T/out" 2>"$T/err"
st=$?
check "ingest-dumps --quiet over a dump of 1980: exit $st, nothing on stdout or stderr" \
	test "$st $(wc -c <"$T/out") $(wc -c <"$T/err")" = "0 0 0"
"$ROOT/pipelines/ingest-dumps" --project acme --dsn "dbname=$qt" "$T/old" >/dev/null 2>"$T/err"
check "and without --quiet the file time is said" grep -q "modification time is before 2010" "$T/err"
"$ROOT/pipelines/ingest-dumps" -q --project acme --dsn "dbname=$qt" "$T/dumps" >/dev/null 2>"$T/err"
st=$?
check "and over a dump with a cut line: exit $st, the reject and the stage said, no summary" \
	sh -c "test $st -eq 1 && grep -q '(invalid_json)\$' $T/err && grep -q '^ingest-dumps: fetch-events exited 1\$' $T/err &&
		! grep -q '^load: read' $T/err"
# a failed read (a corrupt gzip: 3) said to a closed stderr, or to a pipe whose reader has
# gone: still exit 3, and the run recorded (audit-JOB 1: exit 1, or 141, and no row)
mkdir -p "$T/corrupt" && cp "$ROOT/fixtures/bad/corrupt-block.ndjson.gz" "$T/corrupt/"
runs() { q "$qt" "SELECT count(*) FROM pipeline_runs WHERE program = 'ingest-dumps' AND exit_status = 3"; }
before=$(runs)
"$ROOT/pipelines/ingest-dumps" --project acme --dsn "dbname=$qt" "$T/corrupt" >/dev/null 2>&-
st=$?
check "a failed read with stderr closed: exit $st, recorded" test "$st $(runs)" = "3 $((before + 1))"
# (the reader, true, has ended before the run begins)
{ sleep 0.5; "$ROOT/pipelines/ingest-dumps" --project acme --dsn "dbname=$qt" "$T/corrupt" 2>&1 >/dev/null
  echo "st $?" >"$T/st"; } | true
check "... with stderr a pipe closed before it: $(cat "$T/st"), recorded" test "$(cat "$T/st") $(runs)" = "st 3 $((before + 2))"
fetch-events --project acme "$T/clean" | normalize --emit-raw | load --quiet --dsn "dbname=$qt" 2>"$T/err"
check "load --quiet: no summary line" test "$? $(wc -c <"$T/err")" = "0 0"
load --migrate --quiet --dsn "dbname=$qt" 2>/dev/null
check "load --migrate --quiet is a usage error" test $? -eq 2

# a backfill of an old archive says when its events arrived (--received-at): they do not
# read as just arrived, and the freshness view says stale; a bad TIME is a usage error
bf=$(newdb backfill)
"$ROOT/pipelines/ingest-dumps" --project acme --dsn "dbname=$bf" --received-at 2026-11-09T00:00:00Z "$T/dumps" 2>/dev/null
st=$?
check "ingest-dumps --received-at: exit $st, the events received then, the integration stale" \
	test "$st $(q "$bf" "SELECT count(*) || ' ' || count(DISTINCT received_at) || ' ' || min(received_at AT TIME ZONE 'UTC')
		FROM external_events_raw") $(q "$bf" "SELECT string_agg(state, ',') FROM integration_freshness_view")" = \
	"1 5 1 2026-11-09 00:00:00 stale"
"$ROOT/pipelines/ingest-dumps" --project acme --dsn "dbname=$bf" --received-at yesterday "$T/dumps" 2>"$T/err"
st=$?
check "ingest-dumps --received-at yesterday: exit $st, said, no run recorded" \
	sh -c "test $st -eq 2 && grep -q \"ingest-dumps: --received-at: 'yesterday' is not an RFC 3339 time\" $T/err &&
		test \"\$(psql -XAtq -d $bf -c 'SELECT count(*) FROM pipeline_runs WHERE program = \$\$ingest-dumps\$\$')\" = 1"
for bad in '[1]' '{"exit_status":"x"}' '{"rejected":-1}' '{"started_at":"yesterday"}' '{"detail":5}' '' \
	'{"exit_stauts":3,"rejected":7}'; do
	printf '%s' "$bad" | load --dsn "dbname=$ing" --note-run x 2>/dev/null
	st=$?
	check "load --note-run refuses the note '$bad' (exit $st)" test "$st" -eq 2
done
check "and records none of them" test "$(q "$ing" "SELECT count(*) FROM pipeline_runs WHERE program = 'x'")" = 0
# a password in --dsn leaves the command line `ps` shows once load has read it
# (the trust cluster ignores it); load waits on its input meanwhile
hid=$(newdb hide)
for u in "host=$PGHOST dbname=$hid password=s3cr3tpw" "postgresql:///$hid?host=$PGHOST&password=s3cr3tpw" \
	"postgresql://postgres:s3cr3tpw@/$hid?host=$PGHOST" "host=$PGHOST dbname=$hid sslpassword=s3cr3tpw" \
	"postgresql:///$hid?host=$PGHOST&sslpassword=s3cr3tpw"; do
	t0=$(q "$hid" "SELECT clock_timestamp()")
	sleep 3 | load --dsn "$u" 2>"$T/err" &
	pid=$!
	# the forked shell becomes load when it execs, and load hides the password
	# as it starts: wait for its connection (it waits on its input then), a backend
	# started after t0 (the last round's may still be in pg_stat_activity)
	for _ in $(seq 1 100); do
		[ "$(q "$hid" "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'load'
			AND backend_start > '$t0'")" -gt 0 ] && break
		sleep 0.02
	done
	tr '\0' ' ' </proc/$pid/cmdline >"$T/cmdline"
	wait $pid
	st=$?
	check "a password in --dsn $u is not in load's command line ($(cat "$T/cmdline")), the load runs (exit $st)" \
		sh -c "test $st -eq 0 && grep -q 'load --dsn' $T/cmdline && ! grep -q s3cr3tpw $T/cmdline"
done
e=$(newdb empty) && q "$e" "DROP TABLE pipeline_runs CASCADE" >/dev/null
load --dsn "dbname=$e" </dev/null 2>"$T/err"
check "a database without the schema exits 3" test $? -eq 3
check "and says to run load --migrate" grep -q 'load --migrate' "$T/err"
for m in "subscriptions DROP COLUMN fill_occurred_at, DROP COLUMN fill_event_id:004" \
	"payments DROP COLUMN customer_occurred_at, DROP COLUMN customer_event_id:005"; do
	o=$(newdb old${m#*:}) && q "$o" "ALTER TABLE ${m%:*}" >/dev/null
	load --dsn "dbname=$o" "$fx/basic.ndjson" 2>"$T/err"
	check "a schema older than the loader (before ${m#*:}) exits 3, loading nothing" \
		test $? -eq 3 -a "$(q "$o" "SELECT count(*) FROM external_events_raw")" = 0
	check "and says to run load --migrate" grep -q 'older than this loader (it needs sql/ up to [0-9]*_[a-z_]*\.sql): run .load --migrate' "$T/err"
done

# An envelope normalize refuses, load refuses too (docs/events.md), from any writer: a
# project id with a control character (C0, DEL, C1) or over 255 bytes would become a tenant
# of its own; a time outside 1970..9999 one that stream reconcile refuses; an arrival from
# the future would keep the integration "fresh" for years.
long=$(printf 'p%.0s' $(seq 300))
pl='"payload":{"id":"evt_E","object":"event","type":"customer.created","created":1795000000,"data":{"object":{"id":"cus_1","object":"customer"}}}'
for f in '"project_id":"ac\tme","received_at":"2026-11-25T00:00:00Z"' \
	'"project_id":"a\u0085b","received_at":"2026-11-25T00:00:00Z"' \
	'"project_id":"x\u007fy","received_at":"2026-11-25T00:00:00Z"' \
	"\"project_id\":\"$long\",\"received_at\":\"2026-11-25T00:00:00Z\"" \
	'"project_id":"acme","received_at":"2026-11-25T00:00:00Z","occurred_at":"1969-12-31T23:59:59Z"' \
	'"project_id":"acme","received_at":"1969-12-31T23:59:59Z"' \
	'"project_id":"acme","received_at":"2099-01-01T00:00:00Z"' \
	'"project_id":"acme","received_at":"2026-11-25T00:00:00Z"'; do
	echo "{\"record\":\"raw\",\"provider\":\"stripe\",\"external_event_id\":\"evt_E\",\"source\":\"a:1\",$f,$pl}"
done >"$T/env.ndjson"
env_db=$(newdb rej_env)
load --dsn "dbname=$env_db" "$T/env.ndjson" 2>"$T/err_env"
st=$?
check "envelopes normalize refuses: exit 1, each an invalid_field at its line (exit $st)" \
	sh -c "test $st = 1 && test \"\$(grep -c 'invalid_field' '$T/err_env')\" = 7"
for m in "1: field 'project_id' has a control character" "2: field 'project_id' has a control character" \
	"3: field 'project_id' has a control character" "4: field 'project_id' is longer than 255 bytes" \
	"5: field 'occurred_at' is not an RFC 3339 time in 1970..9999" \
	"6: field 'received_at' is not an RFC 3339 time in 1970..9999" \
	"7: field 'received_at' is more than a day in the future"; do
	check "env.ndjson:$m" grep -q "env.ndjson:$m" "$T/err_env"
done
check "only the good one is stored, and no tenant of the refused ones" \
	test "$(q "$env_db" "SELECT string_agg(project_id, ',') FROM external_events_raw") $(q "$env_db" "SELECT string_agg(id, ',' ORDER BY id) FROM projects")" = "acme acme"

# A live event dated more than a day ahead, which normalize fails, load refuses from any
# writer too: as the latest about its payment it would outrank every real event until the
# date came. A test-mode one (Stripe's test clocks) and an ignored one load.
fetch-events --project acme --received-at 2026-11-25T00:00:00Z "$ROOT/fixtures/stripe/charge.succeeded.json" 2>/dev/null |
	normalize 2>/dev/null >"$T/ev.ndjson"
fut_db=$(newdb rej_future)
for lm in true null false; do
	sed 's/"occurred_at":"[^"]*"/"occurred_at":"2099-01-01T00:00:00Z"/; s/"livemode":[a-z]*/"livemode":'$lm'/' "$T/ev.ndjson"
done >"$T/future.ndjson"
sed 's/"occurred_at":"[^"]*"/"occurred_at":"2099-01-01T00:00:00Z"/; s/"status":"processed"/"status":"ignored"/; s/"customer":{[^}]*}/"customer":null/; s/"payment":{[^}]*}/"payment":null/' "$T/ev.ndjson" >>"$T/future.ndjson"
load --dsn "dbname=$fut_db" "$T/future.ndjson" 2>"$T/err_fut"
st=$?
check "a live processed event dated 2099: invalid_field at its line, livemode null too (exit $st)" \
	sh -c "test $st = 1 && grep -q \"future.ndjson:1: field 'occurred_at' is more than a day in the future\" '$T/err_fut' &&
		grep -q 'future.ndjson:2: ' '$T/err_fut' && test \"\$(grep -c invalid_field '$T/err_fut')\" = 2"
check "a test-mode one and an ignored one load" grep -q "rejected 2$" "$T/err_fut"

# An event whose raw envelope was rejected (or that came without one, in a stream made by
# hand) loads without a payload: said, with how many, where the stream holds raw envelopes
# too (a stream of events alone has its own warning)
fetch-events --project acme --received-at 2026-11-25T00:00:00Z "$ROOT/fixtures/dumps" 2>/dev/null |
	normalize --emit-raw 2>/dev/null >"$T/pairs.ndjson"
up_db=$(newdb unpaired)
{ sed -n 1p "$T/pairs.ndjson" | sed 's/"payload":{/"payload":[/'; sed -n '2,$p' "$T/pairs.ndjson"; } |
	load --dsn "dbname=$up_db" 2>"$T/err_up"
check "an event after a rejected raw envelope: loaded, and said (exit $?)" \
	grep -q "^load: 1 event without its raw envelope just before it" "$T/err_up"
load --dsn "dbname=$up_db" "$T/pairs.ndjson" 2>"$T/err_up2"
check "every event after its envelope: nothing said" sh -c "! grep -q 'without' '$T/err_up2'"

# A refused row's message keeps PostgreSQL's reason whole, however long the event's id and
# source: they are cut (80 bytes), the reason is not
python3 - "$T/pairs.ndjson" >"$T/long_ids.ndjson" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
for i in range(len(recs) - 1):
    r, e = recs[i], recs[i + 1]
    if r["record"] == "raw" and e["record"] == "event" and e.get("payment"):
        break
for x in (r, e):
    x["external_event_id"] = "evt_" + "L" * 196
    x["source"] = "dumps/" + "s" * 214
e["payment"]["amount_minor"] = -1
print(json.dumps(r)); print(json.dumps(e))
PY
long_db=$(newdb long_ids)
load --dsn "dbname=$long_db" "$T/long_ids.ndjson" 2>"$T/err_long_ids"
check "a long id and source: the reason whole, the constraint named" \
	grep -q 'violates check constraint "payments_amount_minor_check" (db_rejected)$' "$T/err_long_ids"

# An event is compared with the raw envelope on the line just before it, not an older copy:
# a copy's event refused, its next copy's raw envelope refused, that copy's event loads
python3 - "$T/pairs.ndjson" >"$T/stale.ndjson" <<'PY'
import json, sys
r, e = [json.loads(l) for l in open(sys.argv[1])][:2]
e1 = dict(e, occurred_at="yesterday")
r2 = dict(r, received_at="2026-11-26T00:00:00Z")
e2 = dict(e, received_at="2026-11-26T00:00:00Z")
print(json.dumps(r)); print(json.dumps(e1))
print(json.dumps(r2).replace('"payload": {', '"payload": [', 1)); print(json.dumps(e2))
PY
stale_db=$(newdb stale)
load --dsn "dbname=$stale_db" "$T/stale.ndjson" 2>"$T/err_stale"
check "the later copy's event loads, not compared with the older envelope" sh -c \
	"grep -q 'rejected 2\$' '$T/err_stale' && ! grep -q 'stale.ndjson:4' '$T/err_stale'"

# Another load given the same --rejects FILE while one writes it is refused, exit 2: the one
# writing it keeps its records (audit-CC 1: a load waiting its turn emptied it under the
# other, its rejected lines lost behind a hole of NULs; it then waited, to replace them).
# The first holds it from its start, here while it waits for its turn (a psql holds the
# loaders' lock).
w=$(newdb rej_wait)
psql -qX -d "$w" -c "SELECT pg_advisory_lock(7263100), pg_sleep(4)" >/dev/null 2>&1 &
holder=$!
advisory_locks "$w" 1
load --dsn "dbname=$w" --rejects "$T/rej_wait" "$fx/malformed.ndjson" 2>/dev/null &
loader=$!
advisory_locks "$w" 1 waiting
load --dsn "dbname=$w" --rejects "$T/rej_wait" "$fx/malformed.ndjson" 2>"$T/err_wait2"
st2=$?
wait $loader
st=$?
wait $holder
check "a second load given the FILE a load writes: usage error (exit $st2), said" \
	sh -c "test $st2 -eq 2 && grep -q 'another program running writes it' '$T/err_wait2'"
check "and the first writes it whole once its turn comes (exit $st, $(wc -l <"$T/rej_wait") lines)" \
	test "$st $(wc -l <"$T/rej_wait")" = "1 6"
