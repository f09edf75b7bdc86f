#!/usr/bin/env bash
# A subscription known from invoice events only takes each field from the invoice made
# last: an old invoice paid late (net 30) never rolls it back to the old plan and period,
# nor does a backdated proration or a payment event's random id, in any order, batches or
# runs; sql/019 on a database loaded before it gives what this loader writes; and a
# subscription whose events only fill (Hotmart's) ends the same in a clean load and a re-run.
. "$(dirname "$0")/lib/db.sh"

mkdir "$T/story"
python3 "$ROOT/tests/db/lib/invoice_story.py" "$T/story"
ingest_stream "$T"/story/sub_*.json >"$T/in.ndjson"
n_ev=$(ls "$T"/story/sub_*.json | wc -l)
subs() { # the subscriptions as tab-separated id, price, quantity, period start and end
	q "$1" "SELECT subscription_id || E'\t' || price_id || E'\t' || quantity || E'\t'
		|| to_char(current_period_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') || E'\t'
		|| to_char(current_period_end AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
		FROM subscriptions ORDER BY 1"
}

a=$(newdb fill_inorder)
load --dsn "dbname=$a" "$T/in.ndjson" 2>/dev/null
check "every event is processed" \
	test "$(q "$a" "SELECT count(*) FILTER (WHERE status = 'processed') || '/' || count(*) FROM external_events")" = "$n_ev/$n_ev"
subs "$a" >"$T/got"
check "in order, one batch: each subscription as a finance person would state it" \
	diff "$T/story/expect.tsv" "$T/got"
check "the late Starter invoice leaves the plan Pro, the backdated downgrade Starter" \
	test "$(q "$a" "SELECT string_agg(p.code, ' ' ORDER BY s.subscription_id) FROM subscriptions s
		JOIN plans p ON p.id = s.plan_id WHERE s.subscription_id LIKE 'sub_basil_%'")" = "starter starter pro pro starter pro"
check "the price is stamped with the renewal invoice's making, then its event's time and id" \
	test "$(q "$a" "SELECT fill_as_of[1] || ' ' || fill_occurred_at[1] || ' ' || fill_event_id[1]
		FROM subscriptions WHERE subscription_id = 'sub_basil_late'")" = \
	"2026-07-01 00:00:00+00 2026-07-01 01:00:00+00 evt_sub_basil_late_03"
check "the state stamp is still the latest event's" \
	test "$(q "$a" "SELECT state_event_id FROM subscriptions WHERE subscription_id = 'sub_basil_late'")" = evt_sub_basil_late_04
# The late payment on the renewal's own price: the batch's events are merged, not
# recomputed (one price), and the merge too orders them by when each invoice was made.
check "one price, the old invoice paid after the renewal, merged in one batch: the renewal's period" \
	test "$(q "$a" "SELECT string_agg(to_char(current_period_start AT TIME ZONE 'UTC', 'MM-DD') || '..'
		|| to_char(current_period_end AT TIME ZONE 'UTC', 'MM-DD') || ' ' || fill_event_id[1], ' '
		ORDER BY subscription_id) FROM subscriptions WHERE subscription_id LIKE 'sub\\_%\\_same'")" = \
	"07-01..07-31 evt_sub_basil_same_19 07-01..07-31 evt_sub_legacy_same_39"

b=$(newdb fill_reversed)
load_reversed "$b" "$T/in.ndjson"
check "latest first, one event a batch: the same tables" same_state "$a" "$b"
c=$(newdb fill_runs)
load_pairs "$c" "$T/in.ndjson" $(seq "$n_ev" | shuf --random-source=<(yes 7))
check "one event a run, shuffled: the same tables" same_state "$a" "$c"
load --dsn "dbname=$c" "$T/in.ndjson" 2>"$T/err"
check "a re-run changes nothing" grep -q "inserted 0, updated 0, unchanged $((2 * n_ev))" "$T/err"

# sql/019 on a database an earlier release loaded: its events have no invoiced_at, its
# subscriptions no fill_as_of, and each field came from the latest event. Migrated, it
# holds what this loader writes, taken from the raw payloads: a re-run finds every event
# unchanged. A plan ops set by hand stays.
check_needs_migration fill_old 019 "$T/in.ndjson"
d=$(newdb fill_upgrade)
load --dsn "dbname=$d" "$T/in.ndjson" 2>/dev/null
q "$d" "UPDATE subscriptions SET plan_id = 'starter' WHERE subscription_id = 'sub_legacy_late'" >/dev/null
state "$d" >"$T/clean"
q "$d" "SELECT set_config('revenueos.writer', 'load', true);
	UPDATE external_events_normalized SET event = event #- '{subscription,invoiced_at}';
	UPDATE subscriptions SET price_id = 'price_starter_m', plan_id = 'starter', event_plan_code = 'x',
		current_period_start = NULL, fill_occurred_at[1] = now(), fill_event_id[8] = 'evt_x';
	ALTER TABLE subscriptions DROP COLUMN fill_as_of; DROP FUNCTION stripe_invoiced_at(jsonb);
	DELETE FROM schema_migrations WHERE version LIKE '019_%'" >/dev/null
state "$d" >"$T/old"
check "(the earlier release's database differs)" sh -c "! cmp -s '$T/old' '$T/clean'"
load --migrate --dsn "dbname=$d" 2>"$T/mig"
check "load --migrate applies sql/019" grep -q "applied 019_" "$T/mig"
state "$d" >"$T/migrated"
check "and the database is what this loader writes" diff "$T/clean" "$T/migrated"
check "a plan set by hand stays" \
	test "$(q "$d" "SELECT plan_id || ' ' || (plan_set_by_hand_at IS NOT NULL) FROM subscriptions
		WHERE subscription_id = 'sub_legacy_late'")" = "starter true"
load --dsn "dbname=$d" "$T/in.ndjson" 2>"$T/err"
check "a re-run of the dumps then finds every event unchanged" \
	grep -q "inserted 0, updated 0, unchanged $((2 * n_ev))" "$T/err"

# Canonical events an older normalize wrote (no invoiced_at key: canonical NDJSON kept, a
# worker not yet upgraded) take it from their raw payloads, the batch's copy or the stored
# one: ordered by their events' times, they would outrank the invoices made after them.
jq -c 'if .record == "event" and .subscription != null then .subscription |= del(.invoiced_at) else . end' \
	"$T/in.ndjson" >"$T/older.ndjson"
check "(the older stream has no invoiced_at)" sh -c "! grep -q invoiced_at '$T/older.ndjson'"
e=$(newdb fill_older)
load --dsn "dbname=$e" "$T/older.ndjson" 2>/dev/null
check "an older normalize's events with their raw copies: the same tables" same_state "$a" "$e"
f=$(newdb fill_older_alone)
grep '"record":"raw"' "$T/in.ndjson" | load --dsn "dbname=$f" 2>/dev/null
grep '"record":"event"' "$T/older.ndjson" | load --dsn "dbname=$f" 2>/dev/null
check "and without them, their raw rows stored before: the same tables" same_state "$a" "$f"
load --dsn "dbname=$f" "$T/older.ndjson" 2>"$T/err"
check "a re-run of the older stream changes nothing" grep -q "inserted 0, updated 0, unchanged $((2 * n_ev))" "$T/err"

# Hotmart's subscription events only fill, as its purchases do: a cancellation and a
# purchase of one instant were ordered by their kind in a recompute (a re-run that changed
# an event) and by their ids in a merge, so a clean load and a re-run could differ.
python3 - "$T/hm0.ndjson" "$T/hm1.ndjson" <<'EOF'
import json, sys
keys = ["price_id", "product_id", "plan_code", "status", "interval", "interval_count", "quantity",
	"current_period_start", "current_period_end", "cancel_at_period_end", "cancel_at",
	"canceled_at", "trial_end", "invoiced_at"]
def pair(eid, ptype, ctype, sub, source):
	t = "2026-06-01T00:00:00Z"
	env = {"record": "raw", "provider": "hotmart", "external_event_id": eid, "event_type": ptype,
	       "project_id": "p1", "occurred_at": t, "received_at": "2026-11-01T00:00:00Z",
	       "source": source, "payload": {"id": eid}}
	s = dict.fromkeys(keys); s.update(sub); s["id"] = "hsub_1"
	ev = {"record": "event", "schema_version": 1, "provider": "hotmart", "external_event_id": eid,
	      "project_id": "p1", "event_type": ctype, "provider_event_type": ptype, "status": "processed",
	      "reason": None, "occurred_at": t, "received_at": "2026-11-01T00:00:00Z", "source": source,
	      "livemode": None, "customer": None, "payment": None, "subscription": s}
	return [env, ev]
for path, interval in ((sys.argv[1], None), (sys.argv[2], "month")):
	with open(path, "w") as f:
		for r in pair("a_cancel", "SUBSCRIPTION_CANCELLATION", "subscription.canceled",
			      {"status": "canceled", "canceled_at": "2026-06-01T00:00:00Z"}, "x:1") + \
			 pair("b_purchase", "PURCHASE_APPROVED", "payment.succeeded",
			      {"status": "active", "interval": interval}, "x:2"):
			f.write(json.dumps(r) + "\n")
EOF
h=$(newdb fill_hotmart_clean)
load --dsn "dbname=$h" "$T/hm1.ndjson" 2>/dev/null
g=$(newdb fill_hotmart_rerun)
load --dsn "dbname=$g" "$T/hm0.ndjson" 2>/dev/null
load --dsn "dbname=$g" "$T/hm1.ndjson" 2>"$T/err"
check "Hotmart: a re-run that changed an event recomputes ($(grep -o 'updated [0-9]*' "$T/err"))" \
	grep -q "updated 1," "$T/err"
check "Hotmart, two events of one instant: a clean load and a re-run end the same" same_state "$h" "$g"
check "the later id gives the status, in both" \
	test "$(q "$h" "SELECT status || ' ' || state_event_id FROM subscriptions")" = "active b_purchase"

# A database that ran the release with 019_fill_by_billed_period.sql (renamed when its rule
# changed): --migrate no longer says, for ever, that the directory lacks a migration, and
# sql/029 takes that release's billed_from key out of the stored events, so a re-run finds
# them unchanged (audit-UP 3).
r=$(newdb fill_renamed)
load --dsn "dbname=$r" "$T/in.ndjson" 2>/dev/null
q "$r" "SELECT set_config('revenueos.writer', 'load', true);
	UPDATE external_events_normalized SET event = jsonb_set(event, '{subscription,billed_from}', '\"2026-11-01T00:00:00Z\"')
	WHERE jsonb_typeof(event->'subscription') = 'object';
	INSERT INTO schema_migrations (version) VALUES ('019_fill_by_billed_period.sql');
	DELETE FROM schema_migrations WHERE version = '029_retired_billed_from.sql'" >/dev/null
load --migrate --dsn "dbname=$r" 2>"$T/mig"
check "the renamed 019: --migrate applies 029 and says nothing of a missing migration" \
	sh -c "grep -q 'applied 029_' '$T/mig' && ! grep -q 'does not hold' '$T/mig'"
load --migrate --dsn "dbname=$r" 2>"$T/mig"
check "then: schema up to date ($(head -c 120 "$T/mig"))" grep -q "schema up to date" "$T/mig"
load --dsn "dbname=$r" "$T/in.ndjson" 2>"$T/err"
check "and a re-run of the dumps finds every event unchanged" grep -q "inserted 0, updated 0, unchanged $((2 * n_ev))" "$T/err"
# A migration retired within the work that added it, 032_stage_payloads_inline.sql (881c559,
# undone by 64846ec): not a missing one either (audit-U 3).
q "$r" "INSERT INTO schema_migrations (version) VALUES ('032_stage_payloads_inline.sql')" >/dev/null
load --migrate --dsn "dbname=$r" 2>"$T/mig"
check "the retired 032: schema up to date, nothing said of a missing migration ($(head -c 120 "$T/mig"))" \
	sh -c "grep -q 'schema up to date' '$T/mig' && ! grep -q 'does not hold' '$T/mig'"
q "$r" "INSERT INTO schema_migrations (version) VALUES ('032_not_ours.sql')" >/dev/null
load --migrate --dsn "dbname=$r" 2>"$T/mig"
check "one the directory does not hold still said ($(head -c 160 "$T/mig"))" \
	grep -q "has 1 migration that .* does not hold (the last: 032_not_ours.sql)" "$T/mig"
