#!/usr/bin/env bash
# reconcile --db: on a clean load it agrees with stream mode; when the loader rejects an event
# (PostgreSQL refuses its row, the raw envelope is stored), reconcile finds it and names it.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
PATH=${BIN:-$ROOT/bin}:$PATH
export RO_SQL_DIR=${RO_SQL_DIR:-$ROOT/sql} RO_NO_PROGRESS=1
cd "$ROOT" || exit 3
n=0
check() { # check DESCRIPTION COMMAND...
	local what=$1; shift
	n=$((n + 1))
	if "$@"; then echo "ok $n - $what"; else echo "not ok $n - $what"; fi
}
T=$(mktemp -d /tmp/ro-reconcile.XXXXXX)
db=ro_reconcile_$$
trap 'dropdb --if-exists "$db" >/dev/null 2>&1; rm -rf "$T"' EXIT
createdb "$db" && load --migrate --dsn "dbname=$db" 2>/dev/null || { echo "not ok 1 - create the database"; exit 1; }
# totals without the duplicate counts (the database holds one row per event by its keys)
nodup() { sed 's/,"duplicate_raw":[0-9]*,"duplicate_normalized":[0-9]*//' "$@"; }

# 1. the month of acme dumps, loaded whole: balanced, and the same counts as stream mode
fetch-events --project acme fixtures/dumps/2026-11 2>/dev/null |
	normalize --emit-raw --plans fixtures/plans.tsv >"$T/month" 2>/dev/null
load --dsn "dbname=$db" "$T/month" 2>/dev/null
check "the month loads" test $? -eq 0
reconcile --db --dsn "dbname=$db" --details >"$T/db"
check "a clean load is balanced (exit 0)" test $? -eq 0
check "no detail lines when balanced" sh -c "! grep -q reconcile_detail $T/db"
reconcile "$T/month" >"$T/stream"
check "stream mode says balanced too" test $? -eq 0
nodup "$T/db" >"$T/db.nodup"; nodup "$T/stream" >"$T/stream.nodup"
check "database and stream mode give the same per-day counts" cmp -s "$T/db.nodup" "$T/stream.nodup"
# a bound with a fraction of a millisecond rounds up in both modes alike: an event at T is
# before --until T.0001 (T + 1 ms), not before --until T (review R3)
t=$(psql -qXAt -d "$db" -c "SELECT to_char(min(occurred_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS')
	FROM external_events_raw WHERE project_id = 'acme'")
for u in "${t}Z" "${t}1Z"; do
	reconcile --db --dsn "dbname=$db" --until "$u" >"$T/ub.db"
	reconcile --until "$u" "$T/month" >"$T/ub.stream"
	nodup "$T/ub.db" >"$T/ub.db.nodup"; nodup "$T/ub.stream" >"$T/ub.stream.nodup"
	check "--until $u: database and stream mode the same ($(wc -l <"$T/ub.db") lines)" cmp -s "$T/ub.db.nodup" "$T/ub.stream.nodup"
	echo "$(wc -l <"$T/ub.db")" >>"$T/ub.lines"
done
check "and the event at $t is in the second window only ($(tr '\n' ' ' <"$T/ub.lines"))" \
	test "$(sed -n 1p "$T/ub.lines") $(sed -n 2p "$T/ub.lines")" = "0 1"

# --since is inclusive: the event at T is in [T, T + 1 s), not in [T.0001, T + 1 s) (the
# bound rounded up to T + 1 ms), in both modes alike
u=$(psql -qXAt -d "$db" -c "SELECT to_char((min(occurred_at) + interval '1 second') AT TIME ZONE 'UTC',
	'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM external_events_raw WHERE project_id = 'acme'")
for since in "${t}Z" "${t}1Z"; do
	reconcile --db --dsn "dbname=$db" --since "$since" --until "$u" >"$T/sb.db"
	reconcile --since "$since" --until "$u" "$T/month" >"$T/sb.stream"
	nodup "$T/sb.db" >"$T/sb.db.nodup"; nodup "$T/sb.stream" >"$T/sb.stream.nodup"
	check "--since $since: database and stream mode the same ($(wc -l <"$T/sb.db") lines)" cmp -s "$T/sb.db.nodup" "$T/sb.stream.nodup"
	echo "$(grep -c '"raw":1,' "$T/sb.db")" >>"$T/sb.lines"
done
check "and the event at $t is in the first window only, counted once ($(tr '\n' ' ' <"$T/sb.lines"))" \
	test "$(sed -n 1p "$T/sb.lines") $(sed -n 2p "$T/sb.lines")" = "1 0"

# an event logged as processed whose normalized row is gone (deleted by hand, a restore
# of one table): missing, said why, on a copy of the database
gdb=${db}_gone
createdb -T "$db" "$gdb" && psql -qX -d "$gdb" -c "DELETE FROM external_events_normalized WHERE external_event_id = 'evt_AcmeCus002'"
reconcile --db --dsn "dbname=$gdb" --details >"$T/gone" 2>/dev/null
check "a processed event without its normalized row: out of balance (exit $?)" test $? -eq 4
check "named missing, logged as processed but no normalized row" \
	grep -q '"external_event_id":"evt_AcmeCus002","kind":"missing","status":"processed","reason":"logged as processed but no normalized row"' "$T/gone"
day_count() { # FILE FIELD: FIELD of 2026-11-05's line
	grep '"day":"2026-11-05"' "$1" | grep -o "\"$2\":[0-9]*" | cut -d: -f2
}
check "its day: one normalized row fewer ($(day_count "$T/db" normalized) -> $(day_count "$T/gone" normalized)), one missing" \
	test "$(day_count "$T/gone" missing) $(day_count "$T/gone" normalized)" = "1 $(($(day_count "$T/db" normalized) - 1))"
dropdb "$gdb"

# 2. an event PostgreSQL refuses (a payment status the schema does not allow) and one
#    that normalize failed
cat >"$T/more" <<'IN'
{"record":"raw","provider":"stripe","external_event_id":"evt_refused","event_type":"invoice.paid","project_id":"acme","occurred_at":"2026-11-30T23:59:59Z","received_at":"2026-12-01T00:00:02Z","source":"dumps/late.ndjson:1","payload":{"id":"evt_refused","object":"event","type":"invoice.paid"}}
{"record":"event","schema_version":1,"provider":"stripe","external_event_id":"evt_refused","project_id":"acme","event_type":"payment.succeeded","provider_event_type":"invoice.paid","status":"processed","reason":null,"occurred_at":"2026-11-30T23:59:59Z","received_at":"2026-12-01T00:00:02Z","source":"dumps/late.ndjson:1","livemode":false,"customer":null,"payment":{"id":"in_refused","object":"invoice","invoice_id":"in_refused","subscription_id":null,"charge_id":null,"payment_intent_id":null,"amount_minor":2900,"currency":"USD","status":"bogus","method":"card","installments":null,"failure_code":null,"discount_minor":null,"refunded_minor":null,"due_at":null,"paid_at":null},"subscription":null}
IN
normalize --emit-raw >>"$T/more" 2>/dev/null <<'IN'
{"record":"raw","provider":"hotmart","external_event_id":"h_fail","event_type":"PURCHASE_APPROVED","project_id":"acme","occurred_at":"2026-11-20T00:53:20Z","received_at":"2026-11-25T00:00:00Z","source":"dumps/h.ndjson:9","payload":{"id":"h_fail","event":"PURCHASE_APPROVED","version":"2.0.0","creation_date":1795654400000,"data":{"purchase":{"transaction":"HP1","price":{"value":"19,90","currency_value":"BRL"}}}}}
IN
load --dsn "dbname=$db" --rejects "$T/rej" "$T/more" 2>/dev/null
check "the loader rejects the refused event (exit 1, db_rejected)" sh -c "test $? -eq 1 && grep -q '\"code\":\"db_rejected\"' $T/rej && grep -q evt_refused $T/rej"
check "its raw envelope is stored" test "$(psql -qXAt -d "$db" -c "SELECT count(*) FROM external_events_raw WHERE external_event_id = 'evt_refused'")" = 1

reconcile --db --dsn "dbname=$db" --details >"$T/db2" 2>"$T/err2"
check "out of balance: exit 4" test $? -eq 4
check "the refused event is named, missing, with its source and day" grep -qx '{"record":"reconcile_detail","provider":"stripe","project_id":"acme","day":"2026-11-30","external_event_id":"evt_refused","kind":"missing","status":null,"reason":"no processing log entry","source":"dumps/late.ndjson:1"}' "$T/db2"
check "the failed event is named with normalize's reason" grep -q '"external_event_id":"h_fail","kind":"failed","status":"failed","reason":"field .data.purchase.price.value. must be a decimal number' "$T/db2"
check "its day counts one missing (23:59:59Z is still Nov 30)" grep -q '"provider":"stripe","project_id":"acme","day":"2026-11-30","raw":1,"normalized":0,"processed":0,"ignored":0,"failed":0,"missing":1,"extra":0,"duplicate_raw":0,"duplicate_normalized":0,"delta":1}' "$T/db2"
check "two detail lines, nothing else out of balance" test "$(grep -c reconcile_detail "$T/db2")" = 2
check "a summary on stderr" grep -qx 'reconcile: out of balance: 1 missing, 1 failed, 0 extra' "$T/err2"

# 3. filters are parameters
reconcile --db --dsn "dbname=$db" --provider hotmart --since 2026-11-20 --until 2026-11-21 --details >"$T/f" 2>/dev/null
check "--provider/--since/--until select the failed day only (exit 4)" sh -c "test $? -eq 4 && test \$(grep -c '\"record\":\"reconcile\"' $T/f) = 1 && grep -q h_fail $T/f"
reconcile --db --dsn "dbname=$db" --project "acme' OR 'x'='x" >"$T/inj" 2>"$T/inj.err"
check "a quote in --project is data, not SQL (no such project: exit 2, no rows)" sh -c \
	"test $? -eq 2 && ! test -s $T/inj && grep -q \"no project 'acme' OR 'x'='x' in the database (its projects: acme)\" $T/inj.err"
reconcile --db --dsn "dbname=$db" --project acm >"$T/typo" 2>"$T/typo.err"
check "a project the database does not know (a typo): exit 2, its projects named, nothing written" \
	sh -c "test $? -eq 2 && ! test -s $T/typo && grep -q \"^reconcile: --project: no project 'acm' in the database (its projects: acme)\" $T/typo.err"
RECONCILE_DIR=$T pipelines/reconcile acm --dsn "dbname=$db" >"$T/typo2" 2>&1
check "pipelines/reconcile of it: exit 2, no 'balanced' ($?)" sh -c "test $? -eq 2 && ! grep -q balanced $T/typo2"
check "the program's reason, with the pipeline's usage, not the program's" sh -c \
	"grep -q \"no project 'acm' in the database\" $T/typo2 && grep -q '^usage: pipelines/reconcile' $T/typo2 && ! grep -q '^usage: reconcile' $T/typo2 && ! ls $T/reconcile-acm-* 2>/dev/null"
RECONCILE_DIR=$T pipelines/reconcile acme --project other --dsn "dbname=$db" >"$T/two" 2>&1
check "PROJECT and a --project naming another: exit 2, both named ($?)" sh -c \
	"test $? -eq 2 && grep -q \"two projects: 'acme' and 'other'\" $T/two"
mkdir "$T/twice"
for i in 1 2 3; do RECONCILE_DIR=$T/twice pipelines/reconcile acme --dsn "dbname=$db" >/dev/null 2>&1; done
check "runs in one second keep a file each ($(ls $T/twice | wc -l))" test "$(ls $T/twice | wc -l)" = 3
# a name planted in a shared directory, for this second and the next ones (a symlink to a
# file, to a device, or dangling: where it would make one), is not opened through
# (audit-security 2; the device: the diff review)
mkdir "$T/planted" && echo keep >"$T/victim"
now=$(date -u +%s)
for s in 0 1 2 3 4 5; do
	pl=$T/planted/reconcile-acme-$(date -u -d "@$((now + s))" +%Y%m%dT%H%M%SZ).ndjson
	case $s in
	0 | 1) ln -s /dev/null "$pl" ;; # the seconds the run is likely in
	2 | 3) ln -s "$T/victim" "$pl" ;;
	*) ln -s "$T/made-$s" "$pl" ;;
	esac
done
RECONCILE_DIR=$T/planted pipelines/reconcile acme --dsn "dbname=$db" >"$T/planted.out" 2>&1
check "a planted name: the run writes a file of its own ($(grep NDJSON: "$T/planted.out"))" \
	sh -c "test \"\$(cat $T/victim)\" = keep && ! ls $T/made-* >/dev/null 2>&1 &&
		f=\$(sed -n 's/^NDJSON: //p' $T/planted.out) && test -f \"\$f\" -a ! -L \"\$f\" && grep -q '\"record\":\"reconcile\"' \"\$f\""

# 4. the pipeline: a table and the NDJSON
RECONCILE_DIR=$T pipelines/reconcile acme --dsn "dbname=$db" >"$T/table" 2>/dev/null
check "pipelines/reconcile exits 4" test $? -eq 4
check "its table names the refused event" grep -Eq '^missing +stripe +acme +2026-11-30 +evt_refused ' "$T/table"
check "and says OUT OF BALANCE" grep -qx 'OUT OF BALANCE' "$T/table"
# stderr closed: the same table and exit (audit-E 1: "cat ... >&2" ended it under set -e,
# exit 1 and no report)
mkdir "$T/e-closed"
RECONCILE_DIR=$T/e-closed pipelines/reconcile acme --dsn "dbname=$db" >"$T/table2" 2>&-
st=$?
# (the heading's time aside: the two runs may be a second apart, and the check failed
# now and then)
check "pipelines/reconcile with stderr closed: exit 4 ($st), the same table" \
	bash -c "test $st -eq 4 && grep -q '^Reconciliation of acme at ' '$T/table2' &&
		diff -q <(grep -v '^NDJSON: \|^Reconciliation of ' '$T/table') <(grep -v '^NDJSON: \|^Reconciliation of ' '$T/table2') >/dev/null"
check "its NDJSON is reconcile's" bash -c "cmp -s $T/reconcile-acme-*.ndjson <(reconcile --db --dsn dbname=$db --details --project acme 2>/dev/null)"
# a report that cannot be written (a full disk, stdout closed) is exit 3, said as
# reconcile's, the NDJSON kept; a reader gone (| head), SIGPIPE ignored or not, quietly
# (it was bash's "echo: write error", exit 1, hiding the 4)
for o in full closed; do
	mkdir "$T/out-$o"
	if [ $o = full ]; then
		RECONCILE_DIR=$T/out-$o pipelines/reconcile acme --dsn "dbname=$db" >/dev/full 2>"$T/out-$o.err"
	else
		RECONCILE_DIR=$T/out-$o pipelines/reconcile acme --dsn "dbname=$db" >&- 2>"$T/out-$o.err"
	fi
	st=$?
	check "pipelines/reconcile, stdout $o: exit 3 ($st), said ($(grep -v 'note:' "$T/out-$o.err" | head -c 200)), the NDJSON kept" \
		sh -c "test $st -eq 3 && grep -q '^reconcile: cannot write the report: .*; the NDJSON: $T/out-$o/reconcile-acme-' '$T/out-$o.err' &&
			! grep -q 'write error' '$T/out-$o.err' && ls $T/out-$o/reconcile-acme-*.ndjson >/dev/null"
done
# both closed (>&- 2>&-): exit 3, the NDJSON kept, eight runs (stderr was taken for open
# when the check's sed ran before the shell closed the pipe that held descriptor 2, and
# the report's message ended the run under set -e: exit 1, one run in three under load)
got=""
for i in 1 2 3 4 5 6 7 8; do
	mkdir "$T/both-$i"
	RECONCILE_DIR=$T/both-$i pipelines/reconcile acme --dsn "dbname=$db" >&- 2>&-
	got="$got $?:$(ls "$T/both-$i" | grep -c '^reconcile-acme-.*\.ndjson$')"
done
check "pipelines/reconcile >&- 2>&-, eight runs: each exit 3, the NDJSON kept (exit:files$got)" \
	[ "$got" = "$(printf ' 3:1%.0s' 1 2 3 4 5 6 7 8)" ]
for sig in "" -; do
	mkdir -p "$T/out-pipe"
	st=$(trap "$sig" PIPE; RECONCILE_DIR=$T/out-pipe pipelines/reconcile acme --dsn "dbname=$db" 2>"$T/out-pipe.err" | (exec <&-)
		echo "${PIPESTATUS[0]}")
	check "pipelines/reconcile | a reader gone, trap '$sig' PIPE: exit 3 ($st), nothing said ($(grep 'write\|cannot' "$T/out-pipe.err" | head -c 200))" \
		sh -c "test $st -eq 3 && ! grep -q 'write\|cannot' '$T/out-pipe.err'"
done
mkdir "$T/names"
psql -X -q -d "$db" -c "INSERT INTO projects (id) VALUES ('a/b c')" >/dev/null
RECONCILE_DIR=$T/names pipelines/reconcile 'a/b c' --dsn "dbname=$db" >/dev/null 2>&1
check "a project with a slash: its file named with '_' (exit $?)" sh -c "ls $T/names | grep -q '^reconcile-a_b_c-.*\.ndjson$'"
RECONCILE_DIR=$T/no-such-dir pipelines/reconcile acme --dsn "dbname=$db" >/dev/null 2>"$T/e"
check "a RECONCILE_DIR it cannot write to: exit 3, said (exit $?)" sh -c "test $? -eq 3 && grep -q 'cannot write' $T/e"
# a signal to it (Ctrl-C, a watchdog's kill) while reconcile waits on a lock: the program
# stops too, and no NDJSON file is left that would look like a result (audit-pipelines 1)
mkdir "$T/sig"
PGAPPNAME=locker psql -X -q -d "$db" -c "BEGIN; LOCK external_events_raw IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60); COMMIT;" >/dev/null 2>&1 &
locker=$!
for _ in $(seq 1 400); do
	[ "$(psql -XAt -d "$db" -c "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
		WHERE a.application_name = 'locker' AND l.relation = 'external_events_raw'::regclass AND l.granted")" -gt 0 ] && break
	sleep 0.02
done
RECONCILE_DIR=$T/sig pipelines/reconcile acme --dsn "dbname=$db" >/dev/null 2>"$T/sig.err" &
rp=$!
for _ in $(seq 1 400); do
	[ "$(psql -XAt -d "$db" -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'reconcile' AND wait_event_type = 'Lock'")" -gt 0 ] && break
	sleep 0.02
done
prog=$(pgrep -P "$rp")
kill -TERM "$rp"
wait "$rp"
st=$?
check "pipelines/reconcile stopped by SIGTERM: exit 143, said, no NDJSON file, the program ($prog) stopped too (exit $st, files: $(ls "$T/sig"))" \
	sh -c "test $st -eq 143 && grep -q 'stopped by a signal' '$T/sig.err' && test -z \"\$(ls -A '$T/sig')\" && test -n '$prog' && ! kill -0 $prog 2>/dev/null"
# ... and a SIGKILL (timeout -s KILL), which no trap sees: its file is left, but as a part
# file, not an empty NDJSON named as a result (audit-K 4)
mkdir "$T/kil" "$T/kil-tmp"
TMPDIR=$T/kil-tmp RECONCILE_DIR=$T/kil timeout -s KILL 1 pipelines/reconcile acme --dsn "dbname=$db" >/dev/null 2>&1
st=$?
check "pipelines/reconcile killed (SIGKILL) while it waits: no file named as a result (exit $st, files: $(ls "$T/kil"))" \
	sh -c "test $st -eq 137 && ! ls '$T/kil' | grep -q '\.ndjson\$' && ls '$T/kil' | grep -q '^reconcile-acme-.*\.ndjson\.part-'"
check "... and no temporary file of its own left under \$TMPDIR (files: $(ls "$T/kil-tmp"))" test -z "$(ls -A "$T/kil-tmp")"
psql -XAt -d "$db" -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'locker'" >/dev/null
wait "$locker"

# 4b. the pipeline's options are its own: --help, --version and a wrong option neither ask
#     the database (PGHOST points nowhere) nor write a file, in RECONCILE_DIR or the cwd
mkdir "$T/opt"
popt() { # popt ARGS...: pipelines/reconcile run in $T/opt, its stdout, stderr and status in $T/opt.*
	(cd "$T/opt" && RECONCILE_DIR=$T/opt PGHOST=/nonexistent "$ROOT/pipelines/reconcile" "$@" >"$T/opt.out" 2>"$T/opt.err")
	echo $? >"$T/opt.st"
}
nofile() { test -z "$(ls -A "$T/opt")"; }
popt --help
check "pipelines/reconcile --help: exit 0, its usage and exit statuses on stdout, nothing on stderr" \
	sh -c "test \$(cat $T/opt.st) = 0 && head -n 1 $T/opt.out | grep -q '^usage: pipelines/reconcile ' && grep -q '^Exit status' $T/opt.out && ! test -s $T/opt.err"
check "pipelines/reconcile --help: no NDJSON file written" nofile
popt acme --help
check "pipelines/reconcile PROJECT --help: the usage too, no file" sh -c "test \$(cat $T/opt.st) = 0 && grep -q '^usage: pipelines/reconcile ' $T/opt.out && test -z \"\$(ls -A $T/opt)\""
popt --version
check "pipelines/reconcile --version: '$(head -n 1 "$T/opt.out")', exit 0, no file" \
	sh -c "test \$(cat $T/opt.st) = 0 && grep -qx 'pipelines/reconcile (RevenueOS Pipelines) $(cat VERSION)' $T/opt.out && test -z \"\$(ls -A $T/opt)\""
for bad in "--bogus" "-x" "acme --sort-memory 1G" "acme --rejects r.json" "acme other" "--since"; do
	# shellcheck disable=SC2086
	popt $bad
	check "pipelines/reconcile $bad: usage error (exit $(cat "$T/opt.st")), said on stderr, nothing on stdout, no file" \
		sh -c "test \$(cat $T/opt.st) = 2 && grep -q '^reconcile: ' $T/opt.err && grep -q '^usage: pipelines/reconcile ' $T/opt.err && ! test -s $T/opt.out && test -z \"\$(ls -A $T/opt)\""
done
# the documented options still work without PROJECT, in both spellings
mkdir "$T/opts"
RECONCILE_DIR=$T/opts pipelines/reconcile --dsn="dbname=$db" --provider hotmart --since 2026-11-20 --until=2026-11-21 --details >"$T/t2" 2>/dev/null
check "pipelines/reconcile --dsn= --provider --since --until= (no PROJECT): exit 4, the failed day only (exit $?)" \
	sh -c "test $? -eq 4 && grep -Eq '^failed +hotmart +acme +2026-11-20 +h_fail ' $T/t2 && ! grep -q evt_refused $T/t2 && ls $T/opts | grep -q '^reconcile-all-'"
RECONCILE_DIR=$T/opts pipelines/reconcile --project acme --dsn "dbname=$db" >/dev/null 2>&1
check "pipelines/reconcile --project acme: exit 4, its file named by the project (exit $?)" \
	sh -c "test $? -eq 4 && ls $T/opts | grep -q '^reconcile-acme-'"

# 5. errors
reconcile --db --dsn "host=$PGHOST password=s3cr3tpw dbname" >/dev/null 2>"$T/e"
check "an unparsable --dsn is a usage error (2) that does not echo it" sh -c "test $? -eq 2 && ! grep -q s3cr3tpw $T/e"
reconcile --db --dsn "postgresql://nobody:s3cr3tpw@localhost:1/none" >/dev/null 2>"$T/e"
check "an unreachable server exits 3 without the password" sh -c "test $? -eq 3 && ! grep -q s3cr3tpw $T/e"
reconcile --db --dsn "host=$PGHOST dbname=postgresql://nobody:s3cr3tpw@/none" >/dev/null 2>"$T/e"
check "a URI nested in dbname=: exit 3 without the password" sh -c "test $? -eq 3 && test -s $T/e && ! grep -q s3cr3tpw $T/e"
reconcile --db --dsn "dbname=postgres" >/dev/null 2>"$T/e"
check "a database without the schema exits 3 and says load --migrate" sh -c "test $? -eq 3 && grep -q 'load --migrate' $T/e"

# 6. a dump's file name holding a line end (audit-pipelines 3): the table keeps one row an
# event, the name's line end written \n as its NDJSON has it, not a cell over two lines
mkdir "$T/nl"
sed '0,/"evt_[^"]*"/s//"evt_nl_line_end"/' fixtures/stripe/charge.failed.json >"$T/nl/x
y.json"
fetch-events --project acme "$T/nl/x
y.json" 2>/dev/null | load --dsn "dbname=$db" 2>/dev/null
RECONCILE_DIR=$T/nl pipelines/reconcile acme --dsn "dbname=$db" >"$T/nl.table" 2>/dev/null
check "a source with a line end: its row whole in the table, the name's line end as \\n" \
	sh -c "grep -Eq '^missing +stripe +acme +[0-9-]+ +evt_nl_line_end +.*/nl/x\\\\ny\\.json:1 ' '$T/nl.table' && ! grep -q '^y\\.json' '$T/nl.table'"

# 7. an id holding a quote and a tab: the table shows the value itself, the tab as \t (as the
# NDJSON escapes it), not to-csv's quoting ("evt_tab\tq""ü")
mkdir "$T/q"
sed '0,/"evt_[^"]*"/s//"evt_tab\\tq\\"ü"/' fixtures/stripe/charge.failed.json >"$T/q/q.json"
fetch-events --project acme "$T/q/q.json" 2>/dev/null | load --dsn "dbname=$db" 2>/dev/null
# (in the C locale, as cron runs it: column(1) there wrote the 'ü' as \xc3\xbc)
LC_ALL=C RECONCILE_DIR=$T/q pipelines/reconcile acme --dsn "dbname=$db" >"$T/q.table" 2>/dev/null
check "an id with a quote and a tab: its value in the table, the tab as \\t, no CSV quotes, in the C locale too" \
	grep -Eq '^missing +stripe +acme +[0-9-]+ +evt_tab\\tq"ü +[^"]*/q/q\.json:1 +no processing log entry$' "$T/q.table"

# 7b. an id holding ESC and BEL (a planted payload): the table shows them as \u001b, \u0007,
# never the bytes, which would drive the terminal (audit-R 2: set its title, cleared it)
mkdir "$T/esc"
sed '0,/"evt_[^"]*"/s//"evt_esc\\u001b]0;pwned\\u0007\\u001b[2Jq"/' fixtures/stripe/charge.failed.json >"$T/esc/e.json"
fetch-events --project acme "$T/esc/e.json" 2>/dev/null | load --dsn "dbname=$db" 2>/dev/null
RECONCILE_DIR=$T/esc pipelines/reconcile acme --dsn "dbname=$db" >"$T/esc.table" 2>/dev/null
check "an id with ESC and BEL: written \\u001b and \\u0007 in the table, no control byte in it" \
	sh -c "grep -Fq 'evt_esc\\u001b]0;pwned\\u0007\\u001b[2Jq ' '$T/esc.table' && ! LC_ALL=C grep -q '[[:cntrl:]]' '$T/esc.table'"

# 8. a forgotten --project (audit-reconcile 1, 2). evt_p1: a run with --project acme, then
# one without over a dump holding an earlier copy; the loader keeps the first loaded
# (it refuses the other, sql/017), stream mode the first read, though the other was
# received earlier. evt_p2: raw envelopes (fetch-events --project acme) and canonical events
# made apart without it; the loader refuses the event, which is then no outcome anywhere,
# not an extra. evt_p3: its canonical event in another project read first, then the one in
# its raw envelope's project, which the loader keeps. Stream mode counts what --db sees.
env() {
	printf '{"record":"raw","provider":"stripe","external_event_id":"%s","event_type":"invoice.paid","project_id":"%s","occurred_at":null,"received_at":"%s","source":"d:%s","payload":{}}\n' "$@"
}
ev() {
	printf '{"record":"event","schema_version":1,"provider":"stripe","external_event_id":"%s","project_id":"%s","event_type":"payment.succeeded","provider_event_type":"invoice.paid","status":"%s","reason":null,"occurred_at":null,"received_at":"%s","source":"d:%s","livemode":false,"customer":null,"payment":null,"subscription":null}\n' "$@"
}
{ env evt_p1 acme 2026-11-03T10:00:00Z a; ev evt_p1 acme processed 2026-11-03T10:00:00Z a
  env evt_p3 acme 2026-11-05T10:00:00Z d; ev evt_p3 acme failed 2026-11-05T10:00:00Z d; } >"$T/p_acme"
{ env evt_p1 default 2026-11-02T10:00:00Z b; ev evt_p1 default processed 2026-11-02T10:00:00Z b; } >"$T/p_default"
env evt_p2 acme 2026-11-04T10:00:00Z c >"$T/p_raw"
{ ev evt_p2 default processed 2026-11-04T10:00:00Z c; ev evt_p3 other ignored 2026-11-05T10:00:00Z d; } >"$T/p_events"
pdb=${db}_projects
trap 'dropdb --if-exists "$db" >/dev/null 2>&1; dropdb --if-exists "$pdb" >/dev/null 2>&1; rm -rf "$T"' EXIT
createdb "$pdb" && load --migrate --dsn "dbname=$pdb" 2>/dev/null
for f in p_acme p_default p_raw p_events; do load --dsn "dbname=$pdb" "$T/$f" 2>>"$T/p.load.err"; done
reconcile --db --dsn "dbname=$pdb" --details >"$T/p.db" 2>"$T/p.db.err"
reconcile --details "$T/p_events" "$T/p_acme" "$T/p_default" "$T/p_raw" >"$T/p.stream" 2>"$T/p.stream.err"
nodup "$T/p.db" | sed 's/"reason":"[^"]*"//' >"$T/p.db.nodup"; nodup "$T/p.stream" | sed 's/"reason":"[^"]*"//' >"$T/p.stream.nodup"
check "copies in two projects: stream mode gives --db's lines ($(grep -c '"record":"reconcile"' "$T/p.stream") days) and totals" \
	sh -c "diff '$T/p.db.nodup' '$T/p.stream.nodup' >&2 && cmp -s '$T/p.db.err' '$T/p.stream.err'"
check "the loader refused the three copies in another project" test "$(grep -c db_rejected "$T/p.load.err")" -ge 3
check "the first copy's day and project, the event refused missing, no extra" \
	sh -c "grep -q '\"project_id\":\"acme\",\"day\":\"2026-11-03\",\"raw\":1,\"normalized\":1,\"processed\":1' '$T/p.stream' &&
		grep -q '\"evt_p2\",\"kind\":\"missing\",\"status\":null,\"reason\":\"normalized under project' '$T/p.stream' &&
		grep -q '\"day\":\"2026-11-05\",\"raw\":1,\"normalized\":1,\"processed\":0,\"ignored\":0,\"failed\":1' '$T/p.stream' &&
		! grep -q '\"extra\":[1-9]' '$T/p.stream'"

# 9. two copies received in the same millisecond, microseconds apart: the loader stores times
# to the millisecond (canonical RFC 3339), so they tie and the least source is kept, "d:a"
# though "d:b" came 300 us earlier; stream mode, comparing milliseconds, keeps the same
{ env evt_us acme 2026-11-06T10:00:00.000400Z a; ev evt_us acme failed 2026-11-06T10:00:00.000400Z a; } >"$T/us_a"
{ env evt_us acme 2026-11-06T10:00:00.000100Z b; ev evt_us acme processed 2026-11-06T10:00:00.000100Z b; } >"$T/us_b"
load --dsn "dbname=$pdb" "$T/us_b" "$T/us_a" 2>/dev/null
check "the loader keeps the least source of copies in one millisecond" \
	test "$(psql -qXAt -d "$pdb" -c "SELECT source || ' ' || status || ' ' || received_at FROM external_events WHERE external_event_id = 'evt_us'")" = "d:a failed 2026-11-06 10:00:00+00"
reconcile --db --dsn "dbname=$pdb" --since 2026-11-06 --until 2026-11-07 >"$T/us.db" 2>/dev/null
reconcile --since 2026-11-06 --until 2026-11-07 "$T/us_b" "$T/us_a" >"$T/us.stream" 2>/dev/null
nodup "$T/us.db" >"$T/us.db.nodup"; nodup "$T/us.stream" >"$T/us.stream.nodup"
check "stream mode keeps it too: --db's counts (failed 1)" \
	sh -c "diff '$T/us.db.nodup' '$T/us.stream.nodup' >&2 && grep -q '\"processed\":0,\"ignored\":0,\"failed\":1' '$T/us.stream'"
# 10. copies whose events differ (the reconcile audit's case): the loader stores the event of
# the copy loaded last among those with the kept copy's content (a retry, a replay:
# pending_webhooks aside), and none of a copy with other content. x1 then x2, loaded and read
# in that order: evt_c1 processed then a later retry's failed -> failed; evt_c2 the other way
# -> processed; evt_c3 the retry first, the first copy's event last -> the first's (failed);
# evt_c4 a later copy with other content and an event, then the first copy alone -> missing;
# evt_c5 the first copy alone, then a later one with other content and an event -> missing.
envp() {
	printf '{"record":"raw","provider":"stripe","external_event_id":"%s","event_type":"invoice.paid","project_id":"acme","occurred_at":null,"received_at":"%s","source":"d:%s","payload":%s}\n' "$@"
}
A=2026-11-08T10:00:00Z B=2026-11-09T10:00:00Z
{ envp evt_c1 $A a1 '{"pending_webhooks":2}'; ev evt_c1 acme processed $A a1
  envp evt_c2 $A a2 '{"pending_webhooks":2}'; ev evt_c2 acme failed $A a2
  envp evt_c3 $B b3 '{"pending_webhooks":1}'; ev evt_c3 acme processed $B b3
  envp evt_c4 $B b4 '{"amount":2}'; ev evt_c4 acme processed $B b4
  envp evt_c5 $A a5 '{"amount":1}'; } >"$T/x1"
{ envp evt_c1 $B b1 '{"pending_webhooks":1}'; ev evt_c1 acme failed $B b1
  envp evt_c2 $B b2 '{"pending_webhooks":1}'; ev evt_c2 acme processed $B b2
  envp evt_c3 $A a3 '{"pending_webhooks":2}'; ev evt_c3 acme failed $A a3
  envp evt_c4 $A a4 '{"amount":1}'
  envp evt_c5 $B b5 '{"amount":2}'; ev evt_c5 acme processed $B b5; } >"$T/x2"
load --dsn "dbname=$pdb" "$T/x1" 2>/dev/null; load --dsn "dbname=$pdb" "$T/x2" 2>/dev/null
reconcile --db --dsn "dbname=$pdb" --details --since 2026-11-08 --until 2026-11-09 >"$T/c.db" 2>/dev/null
reconcile --details --since 2026-11-08 --until 2026-11-09 "$T/x1" "$T/x2" >"$T/c.stream" 2>/dev/null
check "the loader stores failed, processed, failed and no event for evt_c1..evt_c5" \
	test "$(psql -qXAt -d "$pdb" -c "SELECT string_agg(external_event_id || '=' || coalesce(l.status, '-'), ' ' ORDER BY external_event_id) FROM external_events_raw r LEFT JOIN external_events l USING (provider, external_event_id) WHERE external_event_id LIKE 'evt_c%'")" = "evt_c1=failed evt_c2=processed evt_c3=failed evt_c4=- evt_c5=-"
nodup "$T/c.db" | sed 's/"reason":"[^"]*"//' >"$T/c.db.nodup"; nodup "$T/c.stream" | sed 's/"reason":"[^"]*"//' >"$T/c.stream.nodup"
check "stream mode gives --db's details and counts (2 failed, 2 missing)" \
	sh -c "diff '$T/c.db.nodup' '$T/c.stream.nodup' >&2 && grep -q '\"processed\":1,\"ignored\":0,\"failed\":2,\"missing\":2' '$T/c.stream'"

# 11. a line refused before the database (the fixtures' bad line, by fetch-events) is in no
# table: --db's counts cannot hold it, so the ingest-dumps runs that did not load every line
# are said on stderr, of the project and from a day before the window on; the exit status
# stays the tables' verdict
rdb=${db}_runs
createdb "$rdb" && load --migrate --dsn "dbname=$rdb" 2>/dev/null
pipelines/ingest-dumps --project beta --dsn "dbname=$rdb" fixtures/dumps/2026-11/hotmart-2026-11.ndjson.gz >/dev/null 2>&1
check "a dump read whole: ingest-dumps exit 0" test $? -eq 0
reconcile --db --dsn "dbname=$rdb" >/dev/null 2>"$T/r0"
check "no run that refused a line: balanced (exit $?), nothing said" sh -c "test $? -eq 0 && ! test -s '$T/r0'"
pipelines/ingest-dumps --project acme --dsn "dbname=$rdb" fixtures/dumps/2026-11/stripe-2026-11-08.ndjson >/dev/null 2>&1
check "a dump with a bad line: ingest-dumps exit 1" test $? -eq 1
at=$(psql -qXAt -d "$rdb" -c "SELECT to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM pipeline_runs WHERE program = 'ingest-dumps' AND exit_status = 1")
reconcile --db --dsn "dbname=$rdb" >/dev/null 2>"$T/r1"
st=$?
check "balanced tables (exit $st), the run said" sh -c "test $st -eq 0 && grep -qx \"reconcile: note: the ingest-dumps run started at $at did not load every line of its dumps (pipeline_runs): a line refused before the database is in no count here\" '$T/r1'"
reconcile --db --dsn "dbname=$rdb" --project acme --since "$(psql -qXAt -d "$rdb" -c "SELECT to_char((started_at + interval '1 day') AT TIME ZONE 'UTC', 'YYYY-MM-DD') FROM pipeline_runs WHERE program = 'ingest-dumps' AND exit_status = 1")" >/dev/null 2>"$T/r2"
check "a window from the day after the run's on: said (a run holds events up to a day ahead)" grep -q 'note: the ingest-dumps run started at' "$T/r2"
reconcile --db --dsn "dbname=$rdb" --since "$(psql -qXAt -d "$rdb" -c "SELECT to_char((started_at + interval '3 days') AT TIME ZONE 'UTC', 'YYYY-MM-DD') FROM pipeline_runs WHERE program = 'ingest-dumps' AND exit_status = 1")" >/dev/null 2>"$T/r3"
check "a window two days after the run: not said" sh -c "! test -s '$T/r3'"
reconcile --db --dsn "dbname=$rdb" --project beta >/dev/null 2>"$T/r4"
check "another project's window: not said" sh -c "! test -s '$T/r4'"
# "a day before" is 24 hours in any session time zone: across a DST change (New York's, on
# 2026-03-08) a calendar day of the session was 23 hours, and a run 23.5 hours before the
# window unsaid (audit-T2 1)
echo '{"started_at":"2026-03-08T03:30:00Z","exit_status":1,"rejected":2,"detail":{"project":"acme"}}' |
	load --note-run ingest-dumps --dsn "dbname=$rdb" 2>/dev/null
PGTZ=America/New_York reconcile --db --dsn "dbname=$rdb" --project acme --since 2026-03-09T03:00:00Z >/dev/null 2>"$T/r5"
check "a run 23.5 hours before the window, under PGTZ=America/New_York: said ($(cat "$T/r5"))" \
	grep -q "note: 2 ingest-dumps runs, started from 2026-03-08T03:30:00Z to" "$T/r5"
psql -qXAt -d "$rdb" -c "DELETE FROM pipeline_runs WHERE started_at = '2026-03-08T03:30:00Z'" >/dev/null
# a run recorded without its count of refused lines (rejected null) that did not exit 0: said,
# by its exit status (the table cannot tell that it loaded every line)
echo '{"started_at":"2026-03-08T03:30:00Z","exit_status":1,"detail":{"project":"acme"}}' |
	load --note-run ingest-dumps --dsn "dbname=$rdb" 2>/dev/null
reconcile --db --dsn "dbname=$rdb" --project acme --since 2026-03-09T03:00:00Z >/dev/null 2>"$T/r5n"
check "a run of exit 1 with no rejected count: said ($(cat "$T/r5n"))" \
	grep -q "note: 2 ingest-dumps runs, started from 2026-03-08T03:30:00Z to" "$T/r5n"
psql -qXAt -d "$rdb" -c "DELETE FROM pipeline_runs WHERE started_at = '2026-03-08T03:30:00Z'" >/dev/null
# a run without --project: its envelopes' project, 'default', is recorded (their events are
# another project's copies, refused: load's 10 rejected lines)
pipelines/ingest-dumps --dsn "dbname=$rdb" fixtures/dumps/2026-11/stripe-2026-11-08.ndjson >/dev/null 2>&1
at2=$(psql -qXAt -d "$rdb" -c "SELECT to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM pipeline_runs WHERE program = 'ingest-dumps' AND detail->>'project' = 'default'")
reconcile --db --dsn "dbname=$rdb" >/dev/null 2>"$T/r6"
check "two runs: the first's and the last's start said" \
	grep -qx "reconcile: note: 2 ingest-dumps runs, started from $at to $at2, did not load every line of their dumps (pipeline_runs): a line refused before the database is in no count here" "$T/r6"
dropdb "$rdb"
# an event normalize failed makes ingest-dumps exit 1 too, but it is in the tables (reconcile
# counts it failed): its run refused no line, and is not said (the review of stop 42)
createdb "$rdb" && load --migrate --dsn "dbname=$rdb" 2>/dev/null
pipelines/ingest-dumps --project beta --dsn "dbname=$rdb" fixtures/stripe/v1.invoice.paid.thin.json >/dev/null 2>&1
check "an event normalize failed: ingest-dumps exit 1, nothing refused" sh -c \
	"test $? -eq 1 && test \"\$(psql -qXAt -d '$rdb' -c \"SELECT exit_status || ' ' || rejected FROM pipeline_runs WHERE program = 'ingest-dumps'\")\" = '1 0'"
reconcile --db --dsn "dbname=$rdb" >/dev/null 2>"$T/r7"
check "its event counted failed (exit 4), its run not said" sh -c "test $? -eq 4 && ! grep -q note '$T/r7'"
dropdb "$rdb"

# 10. two copies in one dump at lines 9 and 10, of other content (the second a corrected
# resend normalize fails): the loader keeps line 9's, received first (a source's line is a
# number: audit-LR 1), and stream mode the same: processed, as --db says
{ for l in 9 10; do
	st=processed; [ $l = 10 ] && st=failed
	printf '{"record":"raw","provider":"stripe","external_event_id":"evt_l","event_type":"invoice.paid","project_id":"acme","occurred_at":null,"received_at":"2026-11-06T10:00:00Z","source":"d:%s","payload":{"v":%s}}\n' $l $l
	printf '{"record":"event","schema_version":1,"provider":"stripe","external_event_id":"evt_l","project_id":"acme","event_type":"payment.succeeded","provider_event_type":"invoice.paid","status":"%s","reason":null,"occurred_at":null,"received_at":"2026-11-06T10:00:00Z","source":"d:%s","livemode":false,"customer":null,"payment":null,"subscription":null}\n' $st $l
done; } >"$T/lines"
ldb=${db}_lines
trap 'dropdb --if-exists "$db" >/dev/null 2>&1; dropdb --if-exists "$pdb" >/dev/null 2>&1; dropdb --if-exists "$ldb" >/dev/null 2>&1; rm -rf "$T"' EXIT
createdb "$ldb" && load --migrate --dsn "dbname=$ldb" 2>/dev/null
load --dsn "dbname=$ldb" "$T/lines" 2>/dev/null
reconcile --db --dsn "dbname=$ldb" >"$T/l.db" 2>/dev/null
reconcile "$T/lines" >"$T/l.stream" 2>/dev/null
nodup "$T/l.db" >"$T/l.db.nodup"; nodup "$T/l.stream" >"$T/l.stream.nodup"
check "copies at lines 9 and 10: line 9's kept, processed, by the loader" \
	grep -q '"day":"2026-11-06","raw":1,"normalized":1,"processed":1,"ignored":0,"failed":0' "$T/l.db"
check "and stream mode counts the same" cmp -s "$T/l.db.nodup" "$T/l.stream.nodup"

# 12. one id at two providers (a Stripe event id and a Hotmart one can be the same text): each
# raw envelope is reconciled with its own provider's log row, one event each, balanced
for pv in stripe hotmart; do
	printf '{"record":"raw","provider":"%s","external_event_id":"same_1","event_type":"x","project_id":"acme","occurred_at":null,"received_at":"2026-11-04T10:00:00Z","source":"p:1","payload":{}}\n' $pv
	printf '{"record":"event","schema_version":1,"provider":"%s","external_event_id":"same_1","project_id":"acme","event_type":"payment.succeeded","provider_event_type":"x","status":"processed","reason":null,"occurred_at":null,"received_at":"2026-11-04T10:00:00Z","source":"p:1","livemode":false,"customer":null,"payment":null,"subscription":null}\n' $pv
done >"$T/same"
load --dsn "dbname=$ldb" "$T/same" 2>/dev/null
reconcile --db --dsn "dbname=$ldb" --since 2026-11-04 --until 2026-11-05 >"$T/same.db" 2>/dev/null
st=$?
check "one id at two providers: balanced (exit $st), one raw and one processed event each" sh -c \
	"test $st -eq 0 && test \$(grep -c '\"raw\":1,\"normalized\":1,\"processed\":1,' '$T/same.db') -eq 2 && test \$(wc -l <'$T/same.db') -eq 2"
