#!/usr/bin/env bash
# Refunds in the payments table: charge.refunded's running total on the charge's row
# (two partial refunds in one second keep the larger total, whatever the event ids and
# the order), a failed or canceled refund on a row of its own (object 'refund') that
# names its charge, refund.created of a charge's refund ignored (charge.refunded tells
# it), a refund of no charge on its own row (of no payment intent either: ignored, a cash
# balance paid back); and sql/013 on a database made before it.
. "$(dirname "$0")/lib/db.sh"
fx=$ROOT/fixtures/stripe
pay() { q "$1" "SELECT object || ' ' || status || ' ' || amount_minor || ' ' || coalesce(refunded_minor::text, '-')
	|| ' ' || coalesce(charge_id, '-') || ' ' || coalesce(failure_code, '-') || ' ' || state_event_type
	FROM payments WHERE payment_id = '$2'"; }

# Two partial refunds of one charge in the same second: the first's event id sorts after
# the second's, so the id alone would keep the smaller running total.
python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
for i, (eid, total) in enumerate((("evt_FakeRefZ_first", 1000), ("evt_FakeRefA_second", 2000))):
	c = json.loads(json.dumps(o))
	c["id"] = eid; c["created"] = 1700600000
	c["data"]["object"]["amount_refunded"] = total
	print(json.dumps(c))
' "$fx/charge.refunded.json" >"$T/two.json"
ingest_stream "$T/two.json" >"$T/two.ndjson"
head -n 2 "$T/two.ndjson" >"$T/first.ndjson"
tail -n 2 "$T/two.ndjson" >"$T/second.ndjson"
a=$(newdb ref_one)
load --dsn "dbname=$a" "$T/two.ndjson" 2>/dev/null
got=$(pay "$a" ch_Fake2023001)
check "two partial refunds in one second, one batch: the larger total (got $got)" test "$got" = "charge partially_refunded 2700 2000 ch_Fake2023001 - payment.refunded"
b=$(newdb ref_two)
load --dsn "dbname=$b" "$T/second.ndjson" 2>/dev/null
load --dsn "dbname=$b" "$T/first.ndjson" 2>/dev/null
got=$(pay "$b" ch_Fake2023001)
check "the later total first, the earlier in a later run: still the larger (got $got)" test "$got" = "charge partially_refunded 2700 2000 ch_Fake2023001 - payment.refunded"
check "both orders end identical" same_state "$a" "$b"
# An event of that second that states no running total (refunded_minor null, as a Hotmart
# partial refund's) ranks below one that does, merged over runs as in one batch.
sed 's/"refunded_minor":1000/"refunded_minor":null/' "$T/first.ndjson" >"$T/nototal.ndjson"
n=$(newdb ref_nototal)
load --dsn "dbname=$n" "$T/second.ndjson" 2>/dev/null
load --dsn "dbname=$n" "$T/nototal.ndjson" 2>/dev/null
got=$(pay "$n" ch_Fake2023001)
check "a same-second event with no total, in a later run: the total stays (got $got)" \
	test "$got" = "charge partially_refunded 2700 2000 ch_Fake2023001 - payment.refunded"
# A partial refund and the rest of the charge in that second: refunded (a later stage than
# partially_refunded) wins, in one batch and over runs, whatever its event id.
python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
o["id"] = "evt_FakeRef0_full"; o["created"] = 1700600000
o["data"]["object"]["amount_refunded"] = 2700; o["data"]["object"]["refunded"] = True
print(json.dumps(o))
' "$fx/charge.refunded.json" >"$T/full.json"
ingest_stream "$T/full.json" >"$T/full.ndjson"
f=$(newdb ref_full)
cat "$T/two.ndjson" "$T/full.ndjson" | load --dsn "dbname=$f" 2>/dev/null
load --dsn "dbname=$b" "$T/full.ndjson" 2>/dev/null
got="$(pay "$f" ch_Fake2023001) | $(pay "$b" ch_Fake2023001)"
check "partly, then fully refunded in one second: refunded, one batch and over runs (got $got)" \
	test "$got" = "charge refunded 2700 2700 ch_Fake2023001 - payment.refunded | charge refunded 2700 2700 ch_Fake2023001 - payment.refunded"

# A refund that failed: the charge keeps what charge.refunded said; the refund has its
# own row, failed, naming the charge and why. refund.created of that refund is ignored,
# saying so; charge.refund.updated (the older event) gives the same row.
ingest_stream "$fx/refund.created.json" "$fx/refund.failed.json" "$fx/charge.refund.updated.failed.json" \
	>"$T/refunds.ndjson"
c=$(newdb ref_fail)
load --dsn "dbname=$c" "$T/two.ndjson" "$T/refunds.ndjson" 2>"$T/err"
st=$?
check "refund events load (exit $st)" test "$st" -eq 0
got=$(pay "$c" ch_Fake2023001)
check "the charge's row is charge.refunded's (got $got)" test "$got" = "charge partially_refunded 2700 2000 ch_Fake2023001 - payment.refunded"
got=$(pay "$c" re_FakeRefund0002)
check "the failed refund is a row of its own (got $got)" test "$got" = "refund failed 1000 - ch_Fake2023001 lost_or_stolen_card payment.refund_failed"
got=$(pay "$c" re_FakeRefund0001)
check "charge.refund.updated with a failed refund too (got $got)" test "$got" = "refund failed 30000000 - ch_FakeRefunded01 expired_or_canceled_card payment.refund_failed"
check "refund.created of a charge's refund is ignored, with its reason" \
	test "$(q "$c" "SELECT status || ': ' || reason FROM external_events WHERE external_event_id = 'evt_FakeRefCre0001'")" = \
	"ignored: refund 're_FakeRefund0002' of charge 'ch_Fake2023001': charge.refunded reports it"
check "and names no payment row" test "$(q "$c" "SELECT count(*) FROM payments WHERE payment_id LIKE 're_%'")" = 2

# A refund of a payment intent that names no charge is reported by nothing else: its own
# row, refunded; canceled later, it says so. One of no charge and no payment intent pays a
# customer's cash balance back (money that paid for nothing, or a refund into that
# balance its charge.refunded counted): no payment row, ignored in the log with why.
python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
for pi in ("pi_FakeNoCharge1", None):
	c = json.loads(json.dumps(o))
	c["data"]["object"]["payment_intent"] = pi
	if pi is None:
		c["id"] = "evt_FakeRefCash1"; c["data"]["object"]["id"] = "re_FakeCash0001"
	d = json.loads(json.dumps(c))
	d["id"] = c["id"] + "_can"; d["type"] = "refund.updated"; d["created"] += 3600
	d["data"]["object"]["status"] = "canceled"
	print(json.dumps(c)); print(json.dumps(d))
' "$fx/refund.created.customer_balance.json" >"$T/balance.json"
ingest_stream "$T/balance.json" >"$T/balance.ndjson"
head -n 2 "$T/balance.ndjson" | load --dsn "dbname=$c" 2>/dev/null
got=$(pay "$c" re_FakeRefund0003)
check "a payment intent's refund without a charge: its own row, refunded (got $got)" test "$got" = "refund refunded 5000 5000 - - payment.refunded"
load --dsn "dbname=$c" "$T/balance.ndjson" 2>/dev/null
got=$(pay "$c" re_FakeRefund0003)
check "then canceled: canceled, as the later event says (got $got)" test "$got" = "refund canceled 5000 - - - payment.refund_failed"
check "a cash balance paid back: no payment row" test "$(q "$c" "SELECT count(*) FROM payments WHERE payment_id = 're_FakeCash0001'")" = 0
check "a cash balance paid back: ignored in the log, both events, with why" \
	test "$(q "$c" "SELECT string_agg(status || ': ' || reason, ' | ' ORDER BY external_event_id) FROM external_events WHERE external_event_id LIKE 'evt_FakeRefCash1%'")" = \
	"ignored: refund 're_FakeCash0001' returns a customer's cash balance (no charge, no payment intent): not a payment's refund | ignored: refund 're_FakeCash0001' returns a customer's cash balance (no charge, no payment intent): not a payment's refund"
load --dsn "dbname=$c" "$T/two.ndjson" "$T/refunds.ndjson" "$T/balance.ndjson" 2>"$T/err"
check "a re-run changes nothing ($(tail -n 1 "$T/err"))" grep -q 'inserted 0, updated 0, unchanged 18' "$T/err"

# A database before sql/013: this loader would write object 'refund'; it says the schema
# is too old. Migrated, 013 re-decides the partial refunds an older loader stored by
# event id alone (the smaller total, here), and the load goes on.
d=$(db_without ref_old 013)
load --dsn "dbname=$d" "$T/two.ndjson" 2>"$T/err" && st=0 || st=$?
check "before sql/013: exit 3, 'run load --migrate first' (exit $st)" \
	sh -c "test $st = 3 && grep -q \"run 'load --migrate' first\" '$T/err'"
# what an older loader stored: the tie decided by the event id (the smaller total); made
# with this loader (the object allowed for the time) and the row set back by hand
psql -qX -d "$d" -v ON_ERROR_STOP=1 -c "ALTER TABLE payments DROP CONSTRAINT payments_object_check,
	ADD CONSTRAINT payments_object_check CHECK (object IN ('invoice', 'invoice_payment', 'charge',
	'payment_intent', 'checkout_session', 'dispute', 'purchase', 'refund'))" >/dev/null
load --dsn "dbname=$d" "$T/two.ndjson" 2>/dev/null
psql -qX -d "$d" -v ON_ERROR_STOP=1 -c "UPDATE payments SET refunded_minor = 1000,
	state_event_id = 'evt_FakeRefZ_first' WHERE payment_id = 'ch_Fake2023001'" >/dev/null
psql -qX -d "$d" -v ON_ERROR_STOP=1 -c "ALTER TABLE payments DROP CONSTRAINT payments_object_check,
	ADD CONSTRAINT payments_object_check CHECK (object IN ('invoice', 'invoice_payment', 'charge',
	'payment_intent', 'checkout_session', 'dispute', 'purchase'))" >/dev/null
got=$(pay "$d" ch_Fake2023001)
check "an older loader's tie: the smaller total (got $got)" test "$got" = "charge partially_refunded 2700 1000 ch_Fake2023001 - payment.refunded"
load --migrate --dsn "dbname=$d" 2>"$T/mig"
check "sql/013 applies" grep -q 'applied 013_refunds.sql' "$T/mig"
got=$(pay "$d" ch_Fake2023001)
check "and re-decides it: the larger total (got $got)" test "$got" = "charge partially_refunded 2700 2000 ch_Fake2023001 - payment.refunded"
load --dsn "dbname=$d" "$T/refunds.ndjson" 2>/dev/null
got=$(pay "$d" re_FakeRefund0002)
check "then refunds load as in a new database (got $got)" test "$got" = "refund failed 1000 - ch_Fake2023001 lost_or_stolen_card payment.refund_failed"
check "the check still refuses an object outside the list" \
	sh -c "! psql -qX -d $d -c \"UPDATE payments SET object = 'refunds'\" 2>/dev/null"

# A charge paid on 26 October and refunded in part on 2 November: paid_at is when it was
# made, in either event, so an export of October keeps it and November's does not take it.
python3 -c '
import json, sys
for path, eid, at in ((sys.argv[1], "evt_FakeOctPaid", 1792972800), (sys.argv[2], "evt_FakeNovRef", 1793577600)):
	e = json.load(open(path))
	e["id"] = eid; e["created"] = at
	e["data"]["object"]["id"] = "ch_FakeOct1"; e["data"]["object"]["created"] = 1792972800
	print(json.dumps(e))
' "$fx/charge.succeeded.json" "$fx/charge.refunded.json" >"$T/oct.json"
o=$(newdb refunds_paid_at)
ingest_stream "$T/oct.json" | load --dsn "dbname=$o" 2>/dev/null
check "a charge refunded a week later: paid_at still when it was made" test "$(q "$o" "SELECT status || ' '
	|| to_char(paid_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') FROM payments WHERE payment_id = 'ch_FakeOct1'")" = "partially_refunded 2026-10-26"
oct=$("$ROOT/pipelines/export" payments --project acme --dsn "dbname=$o" --since 2026-10-01 --until 2026-11-01 2>/dev/null | grep -c ch_FakeOct1)
nov=$("$ROOT/pipelines/export" payments --project acme --dsn "dbname=$o" --since 2026-11-01 --until 2026-12-01 2>/dev/null | grep -c ch_FakeOct1)
check "so October's export holds it, November's not (got $oct, $nov)" test "$oct $nov" = "1 0"

# A SEPA debit refunded before it settled (the refund's pending_reason charge_pending):
# charge.pending, charge.refunded a day later, charge.succeeded three days after that,
# which holds the refund. The row ends refunded, in one run or in three in any order
# (audit-ST 1: it went back to succeeded, the refund lost).
python3 -c '
import json, sys
base = json.load(open(sys.argv[1]))
for eid, typ, at, paid, status, refunded in (("evt_FakeDebPend", "charge.pending", 1792972800, False, "pending", 0),
		("evt_FakeDebRef", "charge.refunded", 1793059200, False, "pending", 2900),
		("evt_FakeDebOk", "charge.succeeded", 1793318400, True, "succeeded", 2900)):
	e = json.loads(json.dumps(base))
	e["id"] = eid; e["type"] = typ; e["created"] = at
	o = e["data"]["object"]
	o["id"] = "ch_FakeDeb1"; o["paid"] = paid; o["status"] = status
	o["amount_refunded"] = refunded; o["refunded"] = refunded > 0
	print(json.dumps(e))
' "$fx/charge.pending.json" >"$T/debit.json"
ingest_stream "$T/debit.json" >"$T/debit.ndjson"
d1=$(newdb debit_one)
load --dsn "dbname=$d1" "$T/debit.ndjson" 2>/dev/null
got=$(pay "$d1" ch_FakeDeb1)
check "a debit refunded before it settled stays refunded after charge.succeeded (got $got)" \
	test "$got" = "charge refunded 2900 2900 ch_FakeDeb1 - payment.succeeded"
d2=$(newdb debit_three)
for i in 3 1 2; do
	sed -n "$((2 * i - 1)),$((2 * i))p" "$T/debit.ndjson" | load --dsn "dbname=$d2" 2>/dev/null
done
check "the same in three runs, the settlement first" same_state "$d1" "$d2"

# From basil on, an authorisation the merchant cancels sends payment_intent.canceled
# alone: the charge's row stays pending, and docs/stripe.md's query finds it.
python3 -c '
import json, sys
ch = json.load(open(sys.argv[1])); pi = json.load(open(sys.argv[2]))
for e in (ch, pi):
	e["api_version"] = "2025-03-31.basil"
ch["id"] = "evt_FakeAuth1"; ch["created"] = 1792972800
o = ch["data"]["object"]; o["id"] = "ch_FakeAuth1"; o["captured"] = False; o["amount_captured"] = 0
o["payment_intent"] = "pi_FakeAuth1"
pi["id"] = "evt_FakeAuthCancel1"; pi["created"] = 1793059200
o = pi["data"]["object"]; o["id"] = "pi_FakeAuth1"; o["latest_charge"] = "ch_FakeAuth1"
o["amount"] = ch["data"]["object"]["amount"]; o["currency"] = ch["data"]["object"]["currency"]
print(json.dumps(ch)); print(json.dumps(pi))
' "$fx/charge.succeeded.json" "$fx/payment_intent.canceled.json" >"$T/auth.json"
a2=$(newdb auth_cancel)
ingest_stream "$T/auth.json" | load --dsn "dbname=$a2" 2>/dev/null
query=$(sed -n '/^From basil on, a canceled authorisation/,/^A report of money/p' "$ROOT/docs/stripe.md" | grep '^    ' | sed 's/^    //')
check "the documented query finds the canceled authorisation's charge (got $(q "$a2" "$query" | tr '\n' ' '))" \
	test "$(q "$a2" "$query" | tr '|' ' ')" = "ch_FakeAuth1 2700 EUR"
