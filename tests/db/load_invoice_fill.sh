#!/usr/bin/env bash
# A subscription known from invoice events only takes each field from the invoice that
# bills the latest time: an old invoice paid late (net 30) never rolls it back to the old
# plan and period, in any order, batches or runs; and sql/019 on a database before it.
. "$(dirname "$0")/lib/db.sh"

mkdir "$T/story"
python3 "$ROOT/tests/db/lib/invoice_story.py" "$T/story"
ingest_stream "$T"/story/sub_*.json >"$T/in.ndjson"
subs() { # the subscriptions as tab-separated id, price, period start and end
	q "$1" "SELECT subscription_id || E'\t' || price_id || E'\t'
		|| to_char(current_period_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') || E'\t'
		|| to_char(current_period_end AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
		FROM subscriptions ORDER BY 1"
}

a=$(newdb fill_inorder)
load --dsn "dbname=$a" "$T/in.ndjson" 2>/dev/null
check "every event is processed" \
	test "$(q "$a" "SELECT count(*) FILTER (WHERE status = 'processed') || '/' || count(*) FROM external_events")" = 22/22
subs "$a" >"$T/got"
check "in order, one batch: each subscription as a finance person would state it" \
	diff "$T/story/expect.tsv" "$T/got"
check "the late Starter invoice leaves the plan Pro" \
	test "$(q "$a" "SELECT string_agg(p.code, ' ' ORDER BY s.subscription_id) FROM subscriptions s
		JOIN plans p ON p.id = s.plan_id")" = "starter pro pro starter pro pro"
check "the price is stamped with the time its line bills from, the upgrade's change" \
	test "$(q "$a" "SELECT fill_occurred_at[1] || ' ' || fill_event_id[1] FROM subscriptions
		WHERE subscription_id = 'sub_basil_early'")" = "2026-06-11 00:00:00+00 evt_sub_basil_early_06"
check "the state stamp is still the latest event's" \
	test "$(q "$a" "SELECT state_event_id FROM subscriptions WHERE subscription_id = 'sub_basil_late'")" = evt_sub_basil_late_04

b=$(newdb fill_reversed)
load_reversed "$b" "$T/in.ndjson"
check "latest first, one event a batch: the same tables" same_state "$a" "$b"
c=$(newdb fill_runs)
for i in 4 1 3 2 11 9 10 8 7 5 6 15 14 12 13 20 21 22 19 18 17 16; do load_pairs "$c" "$T/in.ndjson" $i; done
check "one event a run, shuffled: the same tables" same_state "$a" "$c"
load --dsn "dbname=$c" "$T/in.ndjson" 2>"$T/err"
check "a re-run changes nothing" grep -q 'inserted 0, updated 0, unchanged 44' "$T/err"

# sql/019 on a database loaded before it: its events have no billed_from and the
# subscriptions took each field from the latest event. A plan ops set by hand stays.
check_needs_migration fill_old 019 "$T/in.ndjson"
d=$(newdb fill_backfill)
load --dsn "dbname=$d" "$T/in.ndjson" 2>/dev/null
q "$d" "UPDATE subscriptions SET plan_id = 'starter' WHERE subscription_id = 'sub_legacy_late'" >/dev/null
check_backfill "$d" 019 "SELECT set_config('revenueos.writer', 'load', true);
	UPDATE external_events_normalized SET event = event #- '{subscription,billed_from}'
		WHERE event #> '{subscription,billed_from}' = event #> '{subscription,current_period_start}'
		OR event #> '{subscription,billed_from}' = 'null';
	UPDATE subscriptions SET price_id = 'price_starter_m', plan_id = 'starter',
		event_plan_code = 'x', current_period_start = NULL, fill_occurred_at[1] = now(),
		fill_event_id[8] = 'evt_x'"
check "sql/019 keeps a plan set by hand" \
	test "$(q "$d" "SELECT plan_id || ' ' || (plan_set_by_hand_at IS NOT NULL) FROM subscriptions
		WHERE subscription_id = 'sub_legacy_late'")" = "starter true"
# A proration stored before has no billed_from; its event's time stands in until its
# dump is re-run: the upgrade's invoice paid on day 20 then outranks the downgrade.
e=$(newdb fill_stale)
load --dsn "dbname=$e" "$T/in.ndjson" 2>/dev/null
q "$e" "UPDATE external_events_normalized SET event = event #- '{subscription,billed_from}'" >/dev/null
psql -qX1 -d "$e" -v ON_ERROR_STOP=1 -f "$ROOT"/sql/019_*.sql >/dev/null
check "a proration stored before is ordered by its event's time" \
	test "$(q "$e" "SELECT price_id FROM subscriptions WHERE subscription_id = 'sub_basil_down'")" = price_pro_m
load --dsn "dbname=$e" "$T/in.ndjson" 2>"$T/err"
check "the re-run of its dump sets the downgrade back" same_state "$a" "$e"
check "and rewrites just the prorations' events" grep -q 'updated 10, unchanged 34' "$T/err"
