#!/usr/bin/env bash
# Customers, subscriptions and payments are merged with each batch's new events (per-field
# stamps, sql/002, 004, 005); where that cannot be exact they are recomputed. Both must give
# the rows a clean load of the same events gives.
. "$(dirname "$0")/lib/db.sh"

python3 "$ROOT/tests/db/lib/gen_events.py" 600 5 >"$T/gen.ndjson"
# A normalizer fix: the same raw events, some canonical events now say something else
# (another email, another customer, a subscription event now ignored, an event now failed).
python3 -c '
import json, sys
for line in open(sys.argv[1]):
	o = json.loads(line)
	i = int(o["external_event_id"][4:])
	if o["record"] == "event" and o["status"] == "processed":
		if o["customer"] and i % 7 == 0:
			o["customer"]["email"] = "fixed%d@example.com" % i
		if o["customer"] and i % 11 == 0:
			o["customer"]["id"] = "cus_000000"
		if i % 17 == 0:
			o.update(status="failed", reason="a field the fixed normalizer checks", event_type=None,
				customer=None, subscription=None, payment=None)
		elif o["subscription"] and i % 13 == 0:
			o.update(status="ignored", reason="not a subscription change", customer=None, subscription=None,
				payment=None)
		elif o["customer"] and not o["payment"] and not o["subscription"] and i % 5 == 0:
			o["livemode"] = not o["livemode"]  # only the canonical event holds it
	print(json.dumps(o, separators=(",", ":")))
' "$T/gen.ndjson" >"$T/fixed.ndjson"

state_of() { # the state tables only (the log counts attempts, which differ by design)
	local t
	echo "== external_events_normalized"
	q "$1" "SELECT external_event_id || ' ' || status FROM external_events_normalized ORDER BY 1"
	for t in customers subscriptions payments; do
		echo "== $t"
		q "$1" "SELECT to_jsonb(x)::text FROM $t x ORDER BY 1"
	done
}

clean=$(newdb inc_clean)
load --dsn "dbname=$clean" --batch 100 "$T/fixed.ndjson" 2>/dev/null
check "clean load of the fixed events" test $? -eq 0
db=$(newdb inc_rerun)
load --dsn "dbname=$db" --batch 100 "$T/gen.ndjson" 2>/dev/null
load --dsn "dbname=$db" --batch 100 "$T/fixed.ndjson" 2>"$T/err"
check "the re-run over fixed events updates them" grep -q 'updated [1-9]' "$T/err"
state_of "$clean" >"$T/a"
state_of "$db" >"$T/b"
check "events whose content changed (some now failed): canonical events, customers, subscriptions, payments as a clean load" diff "$T/a" "$T/b"
# and the canonical events themselves, a change no state table holds (livemode of a customer
# event) included: the re-run rewrote them as a clean load wrote them
events_of() { q "$1" "SELECT concat_ws(' ', external_event_id, project_id, event_type, provider_event_type, status,
	occurred_at, customer_id, subscription_id, payment_id, event) FROM external_events_normalized ORDER BY 1"; }
events_of "$clean" >"$T/ev_clean"
events_of "$db" >"$T/ev_rerun"
check "the changed canonical events' content as a clean load's ($(grep -c '"livemode": true' "$T/ev_rerun") now live)" \
	diff "$T/ev_clean" "$T/ev_rerun"
check "the moved events' customer has their fields" \
	test "$(q "$db" "SELECT count(*) FROM customers WHERE customer_id = 'cus_000000' AND email_event_id IS NOT NULL")" = 1

# A re-run whose event is now ignored but still names its payment (the loader takes a
# section on an ignored event; only a failed one may carry none): no processed event names
# the payment any more, and it goes, as a clean load of the ignored event has none.
python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
i = next(i for i, l in enumerate(lines) if l["record"] == "event" and l["payment"] and l["status"] == "processed")
raw, ev = lines[i - 1], lines[i]
assert raw["record"] == "raw" and raw["external_event_id"] == ev["external_event_id"]
print(json.dumps(raw)); print(json.dumps(ev))
ev.update(status="ignored", reason="not a payment change", customer=None, subscription=None)
open(sys.argv[2], "w").write(json.dumps(raw) + "\n" + json.dumps(ev) + "\n")
' "$T/gen.ndjson" "$T/pay_ignored.ndjson" >"$T/pay_processed.ndjson"
pg=$(newdb inc_pay_ignored)
load --dsn "dbname=$pg" "$T/pay_processed.ndjson" 2>/dev/null
before=$(q "$pg" "SELECT count(*) FROM payments")
load --dsn "dbname=$pg" "$T/pay_ignored.ndjson" 2>/dev/null
check "an event now ignored, its payment section kept: the payment goes ($before, then $(q "$pg" "SELECT count(*) FROM payments"))" \
	test "$before $(q "$pg" "SELECT count(*) FROM payments")" = "1 0"

# Out of order across runs and batches: new events merged with stamped rows.
ord=$(newdb inc_order)
shuf --random-source=<(yes 4) "$T/fixed.ndjson" | split -l 250 - "$T/part."
for p in "$T"/part.*; do load --dsn "dbname=$ord" --batch 37 "$p" 2>/dev/null; done
state_of "$ord" >"$T/c"
check "shuffled events over several runs: state as a clean load" diff "$T/a" "$T/c"
# integrations.last_event_at moves forward run by run (a batch of new events only: a
# maximum with the stored value) to what a clean load gives: the latest received_at
q "$ord" "SELECT provider || ' ' || last_event_at FROM integrations ORDER BY 1" >"$T/a"
q "$ord" "SELECT provider || ' ' || max(received_at) FROM external_events GROUP BY provider ORDER BY 1" >"$T/c"
check "shuffled events over several runs: integrations' last_event_at is the latest received_at" \
	diff "$T/a" "$T/c"
check "... of $(wc -l <"$T/c") provider(s)" test -s "$T/c"
# a raw envelope whose event is not in the log (loaded alone) was received all the same:
# last_event_at is the later of the raw rows' and the log's latest, when the row is made and
# when a changed event recomputes it
python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])][:3]
assert [l["record"] for l in lines] == ["raw", "event", "raw"]
lines[0]["received_at"] = lines[1]["received_at"] = "2026-12-01T00:00:00Z"
lines[2]["received_at"] = "2026-12-03T00:00:00Z"
for l in lines:
	print(json.dumps(l))
lines[1].update(status="ignored", reason="not a change we use", event_type=None, customer=None,
	subscription=None, payment=None)
open(sys.argv[2], "w").write(json.dumps(lines[0]) + "\n" + json.dumps(lines[1]) + "\n")
' "$T/gen.ndjson" "$T/raw_later_changed.ndjson" >"$T/raw_later.ndjson"
last_at() { q "$1" "SELECT string_agg(provider || ' ' || to_char(last_event_at AT TIME ZONE 'UTC',
	'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ', ') FROM integrations"; }
rl=$(newdb inc_raw_later)
load --dsn "dbname=$rl" "$T/raw_later.ndjson" 2>/dev/null
check "a raw envelope received after the log's latest event: it is last_event_at ($(last_at "$rl"))" \
	test "$(last_at "$rl")" = "stripe 2026-12-03T00:00:00Z"
# (set back by hand first: the recompute gives it, not the first run's value left as it was)
q "$rl" "UPDATE integrations SET last_event_at = '2026-11-01T00:00:00Z'" >/dev/null
load --dsn "dbname=$rl" "$T/raw_later_changed.ndjson" 2>/dev/null
check "and after a changed event (now ignored) recomputes it ($(last_at "$rl"), $(q "$rl" "SELECT string_agg(status, ' ') FROM external_events"))" \
	test "$(last_at "$rl") $(q "$rl" "SELECT string_agg(status, ' ') FROM external_events")" = "stripe 2026-12-03T00:00:00Z ignored"

# Migration 002 fills the stamps of rows an earlier loader wrote from the stored
# events: wipe them and re-run its backfill; the rows must come back identical.
state "$db" strict >"$T/before"
q "$db" "UPDATE customers SET email_occurred_at = NULL, email_event_id = NULL, name_occurred_at = NULL,
	name_event_id = NULL, phone_occurred_at = NULL, phone_event_id = NULL, country_occurred_at = NULL,
	country_event_id = NULL; UPDATE subscriptions SET customer_occurred_at = NULL,
	customer_event_id = NULL, event_plan_code = NULL" >/dev/null
sed -n '/^WITH ev AS/,$p' "$ROOT/sql/002_state_stamps.sql" | psql -qX -d "$db" -v ON_ERROR_STOP=1 >/dev/null
# (015 then puts the Stripe customers' events first for their fields, 025 an invoice's copy
# at when the invoice was made)
sed -n '/^WITH cus AS/,$p' "$ROOT/sql/015_customer_authority.sql" | psql -qX -d "$db" -v ON_ERROR_STOP=1 >/dev/null
sed -n '/^WITH cus AS/,$p' "$ROOT/sql/025_customer_fill_by_invoice_time.sql" | psql -qX -d "$db" -v ON_ERROR_STOP=1 >/dev/null
state "$db" strict >"$T/after"
check "migration 002's backfill gives the stamps the loader keeps" diff "$T/before" "$T/after"

# Migration 004 (with 011's extension, 019's order and 022's period) the same for the fields' stamps of subscriptions
# only invoices set.
check "some subscriptions are set by invoices alone (the case 004 stamps)" \
	test "$(q "$db" "SELECT count(*) > 0 FROM subscriptions WHERE fill_event_id IS NOT NULL")" = t
q "$db" "UPDATE subscriptions SET fill_occurred_at = NULL, fill_event_id = NULL" >/dev/null
sed -n '/^WITH field/,$p' "$ROOT/sql/004_subscription_fill_stamps.sql" | psql -qX -d "$db" -v ON_ERROR_STOP=1 >/dev/null
# (011 then adds the 12th field's stamp, cancel_at's, to the 11 that 004 knew)
sed -n '/^UPDATE subscriptions SET fill_occurred_at/,$p' "$ROOT/sql/011_subscription_cancel_at.sql" |
	psql -qX -d "$db" -v ON_ERROR_STOP=1 >/dev/null
# (and 019 orders the invoices by when they were made: invoiced_at, else their own time)
sed -n '/^SELECT set_config/,$p' "$ROOT/sql/019_fill_by_invoice_time.sql" | psql -qX1 -d "$db" -v ON_ERROR_STOP=1 >/dev/null
# (and 022 takes the plan's period from the events that name the subscription's plan)
sed -n '/^SELECT set_config/,$p' "$ROOT/sql/022_plan_period_follows_plan.sql" | psql -qX1 -d "$db" -v ON_ERROR_STOP=1 >/dev/null
state "$db" strict >"$T/after"
check "migration 004's backfill gives the stamps the loader keeps" diff "$T/before" "$T/after"

# Migration 005 the same for payments' customers and their stamps.
q "$db" "UPDATE payments SET customer_id = NULL, customer_occurred_at = NULL, customer_event_id = NULL" >/dev/null
sed -n '/^WITH agg AS/,$p' "$ROOT/sql/005_payment_stamps.sql" | psql -qX -d "$db" -v ON_ERROR_STOP=1 >/dev/null
state "$db" strict >"$T/after"
check "migration 005's backfill gives the payments' customers the loader keeps" diff "$T/before" "$T/after"

# The state tables' statistics: a first load analyzes them (after batches 1, 2, 4, ...); a
# run of fewer events than a tenth of what the table held when last analyzed leaves them
# to autovacuum (audit-RBQ 4: three ANALYZEs of a second each in a 20 000-event cron run
# on 1M events). The table's size as the planner has it is set by hand here: a big one.
manual_analyses() {
	q "$1" "SELECT pg_stat_clear_snapshot(); SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'external_events_normalized'" | tail -n 1
}
an=$(newdb analyze)
head -n 400 "$T/gen.ndjson" >"$T/first.ndjson"
load --dsn "dbname=$an" --batch 50 "$T/first.ndjson" 2>/dev/null
first=$(manual_analyses "$an")
check "a first load analyzes the state tables ($first times, 8 batches)" test "$first" -ge 3
q "$an" "UPDATE pg_class SET reltuples = 1000000 WHERE oid = 'external_events_normalized'::regclass" >/dev/null
sed -n '401,1200p' "$T/gen.ndjson" >"$T/rest.ndjson"
load --dsn "dbname=$an" --batch 50 "$T/rest.ndjson" 2>/dev/null
check "a run of 400 events into a table of 1M: no ANALYZE ($(manual_analyses "$an") after $first)" \
	test "$(manual_analyses "$an")" = "$first"
