#!/usr/bin/env bash
# A dispute's lifecycle in the payments table: opened (disputed), then closed
# (dispute_won / dispute_lost), in either order and over re-runs; and sql/007 on a
# database made before it.
. "$(dirname "$0")/lib/db.sh"
fx=$ROOT/fixtures/stripe

# The opened dispute of the fixtures, and its closing: same dispute, a later event.
python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
c = json.loads(json.dumps(o))
c["id"] = "evt_FakeDisputeClose1"; c["type"] = "charge.dispute.closed"; c["created"] += 864000
c["data"]["object"]["status"] = "won"
print(json.dumps(c))
' "$fx/charge.dispute.created.json" >"$T/closed.json"
ingest_stream "$fx/charge.dispute.created.json" >"$T/open.ndjson"
ingest_stream "$T/closed.json" >"$T/close.ndjson"
ingest_stream "$fx/charge.dispute.closed.lost.json" >"$T/lost.ndjson"
dispute() { q "$1" "SELECT status || ' ' || amount_minor || ' ' || currency || ' ' || charge_id || ' ' || state_event_type
	FROM payments WHERE payment_id = '$2'"; }

a=$(newdb disp_fwd)
cat "$T/open.ndjson" "$T/close.ndjson" | load --dsn "dbname=$a" 2>/dev/null
check "opened then closed (one batch): the dispute is won" \
	test "$(dispute "$a" du_FakeDispute01)" = "dispute_won 2700 EUR ch_Fake2023001 payment.dispute_closed"
b=$(newdb disp_rev)
load --dsn "dbname=$b" "$T/close.ndjson" 2>/dev/null
load --dsn "dbname=$b" "$T/open.ndjson" 2>/dev/null
check "the closing first, the opening in a later run: still won" \
	test "$(dispute "$b" du_FakeDispute01)" = "dispute_won 2700 EUR ch_Fake2023001 payment.dispute_closed"
check "both orders end identical" same_state "$a" "$b"
cat "$T/close.ndjson" "$T/open.ndjson" | load --dsn "dbname=$b" 2>"$T/err"
check "a re-run changes nothing" grep -q 'inserted 0, updated 0, unchanged 4' "$T/err"
o=$(newdb disp_open)
load --dsn "dbname=$o" "$T/open.ndjson" 2>/dev/null
check "the opening alone is disputed" \
	test "$(dispute "$o" du_FakeDispute01)" = "disputed 2700 EUR ch_Fake2023001 payment.chargeback"
load --dsn "dbname=$a" "$T/lost.ndjson" 2>/dev/null
check "a lost dispute" test "$(dispute "$a" dp_FakeDispute03)" = "dispute_lost 1999 GBP ch_FakeDisputed03 payment.dispute_closed"

# A database made before sql/007: its check refuses the outcomes; migrating adds them
# and keeps every row.
c=$(db_before disp_old 007)
load --dsn "dbname=$c" "$T/open.ndjson" 2>/dev/null
load --dsn "dbname=$c" --rejects "$T/rej" "$T/close.ndjson" 2>/dev/null
check "before sql/007 the outcome is refused (db_rejected), the dispute stays disputed" \
	sh -c "grep -q db_rejected '$T/rej' && test \"\$(psql -qXAt -d $c -c \"SELECT status FROM payments\")\" = disputed"
load --migrate --dsn "dbname=$c" 2>"$T/mig"
check "sql/007 applies to it" grep -q 'applied 007_dispute_outcomes.sql' "$T/mig"
load --dsn "dbname=$c" "$T/close.ndjson" 2>/dev/null
check "and the re-run records the outcome" \
	test "$(dispute "$c" du_FakeDispute01)" = "dispute_won 2700 EUR ch_Fake2023001 payment.dispute_closed"
check "the check still refuses a status outside the list" \
	sh -c "! psql -qX -d $c -c \"UPDATE payments SET status = 'won'\" 2>/dev/null"
