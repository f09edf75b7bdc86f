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
# first upserts; without them (003 undone here) one connection loads alone.
check "the scratch tables are empty after a run" \
	test "$(q "$ref" "SELECT (SELECT count(*) FROM load_stage_raw_0) + (SELECT count(*) FROM load_stage_ev_0)
		+ (SELECT count(*) FROM load_stage_raw_1) + (SELECT count(*) FROM load_stage_ev_1)")" = 0
# A batch's transaction deletes its slot's rows, and the slot's next use frees their
# space: while a run goes on, the slots hold its last batches, not all it has read
# (50 raw rows a batch of 100 records here).
db=$(newdb order_slots)
mkfifo "$T/fifo"
load --dsn "dbname=$db" --batch 100 <"$T/fifo" 2>/dev/null &
pid=$!
exec 7>"$T/fifo"
head -n 1000 "$T/gen.ndjson" >&7
for i in $(seq 300); do
	[ "$(q "$db" "SELECT count(*) FROM external_events_raw")" -ge 400 ] && break
	sleep 0.1
done
live=$(q "$db" "SELECT (SELECT count(*) FROM load_stage_raw_0) + (SELECT count(*) FROM load_stage_raw_1)")
exec 7>&-
wait $pid
check "while a run goes on, the scratch slots hold its last two batches at most ($live raw rows)" \
	test "$live" -le 100
db=$(newdb order_noscratch)
q "$db" "DROP TABLE load_stage_raw_0, load_stage_ev_0, load_stage_raw_1, load_stage_ev_1;
	DELETE FROM schema_migrations WHERE version = '003_load_scratch.sql'" >/dev/null
cat "$fx/basic.ndjson" "$T/gen.ndjson" | shuf --random-source=<(yes 4) |
	load --dsn "dbname=$db" --batch 70 2>/dev/null
check "without the scratch tables, one connection loads identical tables" same_state "$ref" "$db"

# A payment's customer is the latest an event about it names: an invoice names the
# customer, a later webhook about the same payment (a refund) names none. Each order,
# in one batch or two runs, keeps the invoice's customer.
python3 -c '
import json, sys
raw, ev = [json.loads(l) for l in open(sys.argv[1]) if "\"evt_p1\"" in l]
for eid, t, cus in (("evt_pa", "2026-11-01T10:00:00Z", "cus_1"), ("evt_pb", "2026-11-02T10:00:00Z", None)):
	r, e = json.loads(json.dumps(raw)), json.loads(json.dumps(ev))
	r["external_event_id"] = e["external_event_id"] = r["payload"]["id"] = eid
	r["occurred_at"] = e["occurred_at"] = t
	e["customer"] = cus and {"id": cus, "email": None, "name": None, "phone": None, "country": None}
	open(sys.argv[2] + "/" + eid, "w").write(json.dumps(r) + "\n" + json.dumps(e) + "\n")
' "$fx/basic.ndjson" "$T"
one=$(newdb pay_one) two=$(newdb pay_two) rev=$(newdb pay_rev)
cat "$T/evt_pa" "$T/evt_pb" | load --dsn "dbname=$one" 2>/dev/null
load --dsn "dbname=$two" "$T/evt_pa" 2>/dev/null && load --dsn "dbname=$two" "$T/evt_pb" 2>/dev/null
load --dsn "dbname=$rev" "$T/evt_pb" 2>/dev/null && load --dsn "dbname=$rev" "$T/evt_pa" 2>/dev/null
pay() { q "$1" "SELECT customer_id || ' ' || customer_event_id || ' ' || state_event_id FROM payments"; }
check "a payment's customer: the latest event that names one, in one batch" test "$(pay "$one")" = "cus_1 evt_pa evt_pb"
check "the same over two runs, in order" test "$(pay "$two")" = "cus_1 evt_pa evt_pb"
check "the same over two runs, the later event first" test "$(pay "$rev")" = "cus_1 evt_pa evt_pb"
