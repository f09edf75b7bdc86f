#!/usr/bin/env bash
# SIGKILL mid-run leaves whole batches; re-running gives the same rows as a clean run.
. "$(dirname "$0")/lib/db.sh"

python3 "$ROOT/tests/db/lib/gen_events.py" 3000 11 >"$T/gen.ndjson"
clean=$(newdb kill_clean)
load --dsn "dbname=$clean" --batch 200 "$T/gen.ndjson" 2>/dev/null
check "clean run" test $? -eq 0

db=$(newdb kill_db)
load --dsn "dbname=$db" --batch 200 "$T/gen.ndjson" 2>/dev/null &
pid=$!
for _ in $(seq 1 400); do
	n=$(q "$db" "SELECT count(*) FROM external_events_raw" 2>/dev/null || echo 0)
	[ "${n:-0}" -gt 0 ] && break
	sleep 0.02
done
kill -KILL $pid 2>/dev/null
wait $pid 2>/dev/null
status=$?
# a COMMIT the client sent before it died still completes: wait for its backends to end,
# and count both tables in one snapshot (two queries saw 200 raw rows, then 300 log rows)
for _ in $(seq 1 250); do
	[ "$(q "$db" "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'load'")" = 0 ] && break
	sleep 0.02
done
read -r raw ev < <(q "$db" "SELECT (SELECT count(*) FROM external_events_raw) || ' ' || (SELECT count(*) FROM external_events)")
check "killed mid-run (status $status) with part of the input loaded ($raw raw, $ev events)" \
	test "$status" -eq 137 -a "$raw" -gt 0 -a "$raw" -lt 3000
check "whole batches only: loaded records are a multiple of the batch size" test $(((raw + ev) % 200)) -eq 0
check "the killed run is visible as unfinished in pipeline_runs" \
	test "$(q "$db" "SELECT count(*) FROM pipeline_runs WHERE finished_at IS NULL")" = 1
load --dsn "dbname=$db" --batch 200 "$T/gen.ndjson" 2>/dev/null
check "the re-run exits 0" test $? -eq 0
check "killed + re-run is identical to a clean run" same_state "$clean" "$db"
