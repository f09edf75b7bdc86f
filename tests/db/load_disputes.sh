#!/usr/bin/env bash
# A dispute's lifecycle in the payments table: opened (an inquiry, or disputed), then
# closed (dispute_won / dispute_lost), in any order and over re-runs; an inquiry that
# becomes a chargeback; and sql/012 on a database made before it.
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
check "the opening alone (an inquiry) is 'inquiry'" \
	test "$(dispute "$o" du_FakeDispute01)" = "inquiry 2700 EUR ch_Fake2023001 payment.chargeback"
load --dsn "dbname=$a" "$T/lost.ndjson" 2>/dev/null
check "a lost dispute" test "$(dispute "$a" dp_FakeDispute03)" = "dispute_lost 1999 GBP ch_FakeDisputed03 payment.dispute_closed"

# An inquiry that becomes a chargeback and is lost: inquiry, disputed, dispute_lost,
# whatever order the events come in; the same second orders them by stage.
python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
def ev(i, t, st, dt):
	c = json.loads(json.dumps(o))
	c["id"] = "evt_FakeEscalate%d" % i; c["type"] = t; c["created"] += dt
	c["data"]["object"]["status"] = st
	print(json.dumps(c))
ev(1, "charge.dispute.updated", "warning_under_review", 3600)
ev(2, "charge.dispute.funds_withdrawn", "needs_response", 86400)
ev(3, "charge.dispute.updated", "under_review", 90000)
ev(4, "charge.dispute.closed", "lost", 900000)
' "$fx/charge.dispute.created.json" >"$T/escalate.json"
ingest_stream "$T/escalate.json" >"$T/escalate.ndjson"
e=$(newdb disp_esc)
load --dsn "dbname=$e" "$T/open.ndjson" 2>/dev/null
check "an inquiry opens as 'inquiry'" \
	test "$(dispute "$e" du_FakeDispute01)" = "inquiry 2700 EUR ch_Fake2023001 payment.chargeback"
head -n 2 "$T/escalate.ndjson" | load --dsn "dbname=$e" 2>/dev/null
check "evidence submitted: still an inquiry" \
	test "$(dispute "$e" du_FakeDispute01)" = "inquiry 2700 EUR ch_Fake2023001 payment.chargeback"
sed -n 3,6p "$T/escalate.ndjson" | load --dsn "dbname=$e" 2>/dev/null
check "the funds withdrawn: a chargeback, 'disputed'" \
	test "$(dispute "$e" du_FakeDispute01)" = "disputed 2700 EUR ch_Fake2023001 payment.chargeback"
sed -n 7,8p "$T/escalate.ndjson" | load --dsn "dbname=$e" 2>/dev/null
check "then lost" \
	test "$(dispute "$e" du_FakeDispute01)" = "dispute_lost 2700 EUR ch_Fake2023001 payment.dispute_closed"
f=$(newdb disp_esc_rev)
tac "$T/escalate.ndjson" | load --dsn "dbname=$f" 2>/dev/null
load --dsn "dbname=$f" "$T/open.ndjson" 2>/dev/null
check "the same events backwards, the opening last: the same database" same_state "$e" "$f"
# every event in one second: the stage orders them (inquiry < disputed < outcome)
python3 -c '
import json, sys
for l in open(sys.argv[1]):
	o = json.loads(l)
	if o.get("occurred_at"): o["occurred_at"] = "2023-11-26T12:00:00Z"
	print(json.dumps(o))
' <(cat "$T/open.ndjson" "$T/escalate.ndjson") >"$T/same.ndjson"
g=$(newdb disp_same)
tac "$T/same.ndjson" | load --dsn "dbname=$g" 2>/dev/null
check "all in one second: lost" \
	test "$(dispute "$g" du_FakeDispute01)" = "dispute_lost 2700 EUR ch_Fake2023001 payment.dispute_closed"
# the outcome outranks the chargeback (dispute_lost above disputed) even when its event
# id sorts before the chargeback's
g2=$(newdb disp_same_id)
sed 's/evt_FakeEscalate4/evt_FakeEscalat04/g' "$T/same.ndjson" | load --dsn "dbname=$g2" 2>/dev/null
check "all in one second, the closing's id sorting first: still lost" \
	test "$(dispute "$g2" du_FakeDispute01)" = "dispute_lost 2700 EUR ch_Fake2023001 payment.dispute_closed"
h=$(newdb disp_same2)
grep -v '"status": *"dispute_lost"\|charge.dispute.closed' "$T/same.ndjson" | tac | load --dsn "dbname=$h" 2>/dev/null
check "all but the closing in one second: disputed, not inquiry" \
	test "$(dispute "$h" du_FakeDispute01 | cut -d' ' -f1)" = disputed

# sql/012 on what an older release stored: a Stripe inquiry's opening and a Hotmart
# protest as 'disputed' (the stored events and the payment rows); a Hotmart chargeback
# stays disputed. Its backfill gives what the loader writes now.
ingest_stream "$ROOT/fixtures/hotmart/purchase_protest.json" "$ROOT/fixtures/hotmart/purchase_chargeback.json" \
	>"$T/hotmart.ndjson"
i=$(newdb disp_012)
load --dsn "dbname=$i" "$T/open.ndjson" "$T/hotmart.ndjson" 2>/dev/null
check "a Hotmart protest is an inquiry, its chargeback disputed" \
	test "$(q "$i" "SELECT string_agg(status, ' ' ORDER BY status) FROM payments WHERE provider = 'hotmart'")" = "disputed inquiry"
check_backfill "$i" 012 "UPDATE external_events_normalized SET event = jsonb_set(event, '{payment,status}', '\"disputed\"')
	WHERE event #>> '{payment,status}' = 'inquiry'; UPDATE payments SET status = 'disputed'" '^WITH v AS'
load --dsn "dbname=$i" "$T/open.ndjson" 2>"$T/err"
load --dsn "dbname=$i" "$T/hotmart.ndjson" 2>>"$T/err"
check "a re-run after it is unchanged" sh -c "grep -c 'inserted 0, updated 0, unchanged [1-9]' '$T/err' | grep -qx 2"

# A database before sql/012: this loader writes 'inquiry' and says the schema is too
# old; migrated, it loads, and the check still holds every other status out.
check_needs_migration disp_old 012 "$T/open.ndjson"
c=$old_db
load --dsn "dbname=$c" "$T/open.ndjson" "$T/close.ndjson" 2>/dev/null
check "and the load records the inquiry, then its outcome" \
	test "$(dispute "$c" du_FakeDispute01)" = "dispute_won 2700 EUR ch_Fake2023001 payment.dispute_closed"
check "the check still refuses a status outside the list" \
	sh -c "! psql -qX -d $c -c \"UPDATE payments SET status = 'won'\" 2>/dev/null"
