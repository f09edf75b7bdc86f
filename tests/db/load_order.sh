#!/usr/bin/env bash
# Any input order, any batch size, gives the same final state.
. "$(dirname "$0")/lib/db.sh"
fx=$ROOT/fixtures/db

ref=$(newdb order_ref)
load --dsn "dbname=$ref" "$fx/basic.ndjson" 2>/dev/null
check "reference load" test $? -eq 0
python3 "$ROOT/tests/db/lib/gen_events.py" 600 7 >"$T/gen.ndjson"
load --dsn "dbname=$ref" --batch 97 "$T/gen.ndjson" 2>/dev/null
check "reference load of 600 generated events" test $? -eq 0

for seed in 1 2 3; do
	db=$(newdb order_$seed)
	cat "$fx/basic.ndjson" "$T/gen.ndjson" | shuf --random-source=<(yes $seed) >"$T/shuf"
	load --dsn "dbname=$db" --batch $((seed * 50)) "$T/shuf" 2>/dev/null
	check "shuffled input (seed $seed, batch $((seed * 50))) gives identical tables" same_state "$ref" "$db"
done
db=$(newdb order_rev)
cat "$fx/basic.ndjson" "$T/gen.ndjson" | tac | load --dsn "dbname=$db" --batch 1 2>/dev/null
check "reversed input, one record per batch, gives identical tables" same_state "$ref" "$db"
db=$(newdb order_split)
tac "$T/gen.ndjson" | split -l 300 - "$T/part."
for p in "$T"/part.*; do load --dsn "dbname=$db" "$p" 2>/dev/null; done
load --dsn "dbname=$db" "$fx/basic.ndjson" 2>/dev/null
check "the same events over several runs give identical tables" same_state "$ref" "$db"

# The scratch tables (sql/003) let a second connection COPY the next batch while the
# first upserts; without them (a schema migrated up to 002) one connection loads alone.
check "the scratch tables are empty after a run" \
	test "$(q "$ref" "SELECT (SELECT count(*) FROM load_stage_raw_0) + (SELECT count(*) FROM load_stage_ev_0)
		+ (SELECT count(*) FROM load_stage_raw_1) + (SELECT count(*) FROM load_stage_ev_1)")" = 0
db=$(newdb order_noscratch)
q "$db" "DROP TABLE load_stage_raw_0, load_stage_ev_0, load_stage_raw_1, load_stage_ev_1;
	DELETE FROM schema_migrations WHERE version = '003_load_scratch.sql'" >/dev/null
cat "$fx/basic.ndjson" "$T/gen.ndjson" | shuf --random-source=<(yes 4) |
	load --dsn "dbname=$db" --batch 70 2>/dev/null
check "without the scratch tables, one connection loads identical tables" same_state "$ref" "$db"
