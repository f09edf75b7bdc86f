#!/usr/bin/env bash
# Hotmart's subscriptions: its subscription events (SWITCH_PLAN, UPDATE_SUBSCRIPTION_CHARGE_DATE,
# SUBSCRIPTION_CANCELLATION) carry a part of the subscription, as its purchases do; the
# latest value of each field wins, so a renewal or a DELAYED purchase after a plan switch
# still moves the subscription, and a partial event never blanks what others gave.
. "$(dirname "$0")/lib/db.sh"

hp() { # id epoch_ms event transaction status price plan recurrence sub_status next_ms [period_days]
	printf '{"id":"%s","creation_date":%s,"event":"%s","version":"2.0.0","data":{"product":{"id":4112233},"buyer":{"email":"maria@example.com","name":"Maria"},"purchase":{"transaction":"%s","status":"%s","price":{"value":%s,"currency_value":"BRL"},"date_next_charge":%s,"recurrence_number":%s},"subscription":{"status":"%s","plan":{"id":%s,"recurrency_period":%s},"subscriber":{"code":"SUB1"}}}}\n' \
		"$1" "$2" "$3" "$4" "$5" "$6" "${10}" "$8" "$9" "$7" "${11:-30}"
}
switch='{"id":"h-sw","creation_date":1764513005000,"event":"SWITCH_PLAN","version":"2.0.0","data":{"subscription":{"subscriber_code":"SUB1","status":"ACTIVE","product":{"id":4112233},"user":{"email":"maria@example.com"}},"plans":[{"id":1038897,"current":false},{"id":1038898,"current":true}]}}'
charge_date='{"id":"h-cd","creation_date":1764599405000,"event":"UPDATE_SUBSCRIPTION_CHARGE_DATE","version":"2.0.0","data":{"subscriber":{"code":"SUB1"},"subscription":{"status":"ACTIVE","date_next_charge":1766327405000,"plan":{"id":1038898}}}}'
{
	hp h-ap1 1763649005000 PURCHASE_APPROVED HP001 APPROVED 19.9 1038897 1 ACTIVE 1766241005000
	echo "$switch"
	echo "$charge_date"
	hp h-ap2 1766241005000 PURCHASE_APPROVED HP002 APPROVED 49.9 1038898 2 ACTIVE 1768833005000
	hp h-dl3 1768833005000 PURCHASE_DELAYED HP003 DELAYED 49.9 1038898 3 DELAYED 1769092205000
} >"$T/h.json"
ingest_stream "$T/h.json" >"$T/h.ndjson" 2>"$T/norm.err"
check "the five events normalize" test "$(grep -c '"status":"processed"' "$T/h.ndjson")" = 5

sub() { q "$1" "SELECT concat_ws('|', price_id, status, interval, interval_count, current_period_end, state_event_id)
	FROM subscriptions WHERE subscription_id = 'SUB1'"; }
want='1038898|past_due|month|1|2026-01-22 14:30:05+00|h-dl3'
a=$(newdb hot_subs) && load --dsn "dbname=$a" "$T/h.ndjson" 2>/dev/null
check "after a plan switch and a charge date change, a renewal and a DELAYED purchase still move the subscription" \
	test "$(sub "$a")" = "$want"
b=$(newdb hot_subs_rev) && load_reversed "$b" "$T/h.ndjson"
check "the same in reverse order, a pair a batch" test "$(sub "$b")" = "$want"
check "and every table is the same" same_state "$a" "$b"
c=$(newdb hot_subs_runs) && load_pairs "$c" "$T/h.ndjson" 5 1 3 2 4
check "one event a run, shuffled: the same rows" same_state "$a" "$c"

# A plan switch names the new plan, not its period: the period is told by an event that
# names the plan the subscription has, so after a switch it has none (not the old plan's:
# monthly on what may be a yearly plan) until a purchase under the new plan tells it; a
# charge date change naming the plan keeps it; a switch back to a plan had before gives its
# period again. In any order, batch or run: the same rows (sql/022).
period() { q "$1" "SELECT price_id || ' ' || coalesce(interval, '-') || ' ' || coalesce(interval_count::text, '-')
	|| ' ' || fill_event_id[1] || ' ' || coalesce(fill_event_id[4], '-') || ' ' || coalesce(fill_event_id[5], '-')
	FROM subscriptions WHERE subscription_id = 'SUB1'"; }
{
	hp h-ap1 1763649005000 PURCHASE_APPROVED HP001 APPROVED 19.9 1038897 1 ACTIVE 1766241005000
	echo "$switch"
	echo "$charge_date"
} >"$T/sw.json"
ingest_stream "$T/sw.json" >"$T/sw.ndjson" 2>/dev/null
{ cat "$T/sw.json"; hp h-ap2 1766241005000 PURCHASE_APPROVED HP002 APPROVED 199.0 1038898 2 ACTIVE 1797777005000 360; } >"$T/sw2.json"
ingest_stream "$T/sw2.json" >"$T/sw2.ndjson" 2>/dev/null
{
	hp h-ap1 1763649005000 PURCHASE_APPROVED HP001 APPROVED 19.9 1038897 1 ACTIVE 1766241005000
	echo "${charge_date//1038898/1038897}"
} >"$T/cd.json"
ingest_stream "$T/cd.json" >"$T/cd.ndjson" 2>/dev/null
{
	cat "$T/sw2.json"
	echo '{"id":"h-sw2","creation_date":1767000000000,"event":"SWITCH_PLAN","version":"2.0.0","data":{"subscription":{"subscriber_code":"SUB1","status":"ACTIVE","product":{"id":4112233},"user":{"email":"maria@example.com"}},"plans":[{"id":1038897,"current":true},{"id":1038898,"current":false}]}}'
} >"$T/back.json"
ingest_stream "$T/back.json" >"$T/back.ndjson" 2>/dev/null
check "the scenarios normalize" test "$(cat "$T"/sw2.ndjson "$T"/cd.ndjson "$T"/back.ndjson | grep -c '"status":"processed"')" = 11
s1=$(newdb hot_switch) && load --dsn "dbname=$s1" "$T/sw.ndjson" 2>/dev/null
check "a plan switch, then a charge date change: the new plan, no period (not the old plan's)" \
	test "$(period "$s1")" = "1038898 - - h-cd - -"
s2=$(newdb hot_switch_runs) && load_pairs "$s2" "$T/sw.ndjson" 1 2 3
check "the purchase, the switch and the charge date change a run each: the same rows" same_state "$s1" "$s2"
s3=$(newdb hot_switch_rev) && load_reversed "$s3" "$T/sw.ndjson"
check "the same in reverse order, a pair a batch" same_state "$s1" "$s3"
s4=$(newdb hot_switch_year) && load --dsn "dbname=$s4" "$T/sw2.ndjson" 2>/dev/null
check "then a purchase under the new plan tells its period" test "$(period "$s4")" = "1038898 year 1 h-ap2 h-ap2 h-ap2"
s5=$(newdb hot_switch_year_runs) && load_pairs "$s5" "$T/sw2.ndjson" 4 2 1 3
check "the four a run each, shuffled: the same rows" same_state "$s4" "$s5"
s6=$(newdb hot_charge_date) && load --dsn "dbname=$s6" "$T/cd.ndjson" 2>/dev/null
check "a charge date change naming the same plan keeps its period" test "$(period "$s6")" = "1038897 month 1 h-cd h-ap1 h-ap1"
s7=$(newdb hot_charge_date_rev) && load_reversed "$s7" "$T/cd.ndjson"
check "the same in reverse order" same_state "$s6" "$s7"
s8=$(newdb hot_switch_back) && load --dsn "dbname=$s8" "$T/back.ndjson" 2>/dev/null
check "a switch back to the first plan: its period again" test "$(period "$s8")" = "1038897 month 1 h-sw2 h-ap1 h-ap1"
for order in "5 4 3 2 1" "1 2 3 4 5" "2 5 1 4 3" "4 1 5 3 2"; do
	s9=$(newdb hot_switch_back_runs) && load_pairs "$s9" "$T/back.ndjson" $order
	check "the five a run each ($order): the same rows" same_state "$s8" "$s9"
done
s10=$(newdb hot_switch_back_rev) && load_reversed "$s10" "$T/back.ndjson"
check "reversed, a pair a batch: the same rows" same_state "$s8" "$s10"
# A subscription first seen in an event that names no plan (a purchase's completion) has
# neither a plan nor a period: a later batch's purchases tell both, merged with the row
# (nothing older can tell them), the same rows as the events in one run, in any order.
{
	echo '{"id":"h-co0","creation_date":1763640000000,"event":"PURCHASE_COMPLETE","version":"2.0.0","data":{"product":{"id":4112233},"buyer":{"email":"maria@example.com","name":"Maria"},"purchase":{"transaction":"HP000","status":"COMPLETE","price":{"value":19.9,"currency_value":"BRL"}},"subscription":{"status":"ACTIVE","subscriber":{"code":"SUB1"}}}}'
	hp h-ap1 1763649005000 PURCHASE_APPROVED HP001 APPROVED 19.9 1038897 1 ACTIVE 1766241005000
	hp h-ap2 1766241005000 PURCHASE_APPROVED HP002 APPROVED 19.9 1038897 2 ACTIVE 1768833005000
} >"$T/nop.json"
ingest_stream "$T/nop.json" >"$T/nop.ndjson" 2>/dev/null
check "the completion names no plan" test "$(sed -n 2p "$T/nop.ndjson" | jq -r '.subscription.price_id')" = null
n1=$(newdb hot_no_plan) && load --dsn "dbname=$n1" "$T/nop.ndjson" 2>/dev/null
check "a subscription first seen without a plan: the purchases' plan and period" \
	test "$(period "$n1")" = "1038897 month 1 h-ap2 h-ap2 h-ap2"
for order in "1 2 3" "1 3 2" "2 1 3" "3 1 2"; do
	n2=$(newdb hot_no_plan_runs) && load_pairs "$n2" "$T/nop.ndjson" $order
	check "the three a run each ($order): the same rows" same_state "$n1" "$n2"
done
# sql/022 on what an older release stored: the old plan's period, stamped by its event.
# Its backfill gives what the loader writes now.
check_backfill "$s1" 022 "UPDATE subscriptions SET interval = 'month', interval_count = 1,
	fill_event_id[4] = 'h-ap1', fill_event_id[5] = 'h-ap1',
	fill_occurred_at[4] = '2025-11-20 14:30:05+00', fill_occurred_at[5] = '2025-11-20 14:30:05+00',
	fill_as_of[4] = '2025-11-20 14:30:05+00', fill_as_of[5] = '2025-11-20 14:30:05+00'"
load --dsn "dbname=$s1" "$T/sw.ndjson" 2>"$T/err"
check "a re-run after it is unchanged" grep -q 'inserted 0, updated 0, unchanged 6' "$T/err"
check_backfill "$s8" 022 "UPDATE subscriptions SET interval = NULL, interval_count = NULL,
	fill_event_id[4] = 'h-sw2', fill_event_id[5] = NULL"
check_needs_migration hot_old22 022 "$T/sw.ndjson"

# A cancellation, then the refund of the last charge: still canceled; the cancellation's
# date stays.
{
	cat "$T/h.json"
	echo '{"id":"h-cx","creation_date":1768919405000,"event":"SUBSCRIPTION_CANCELLATION","version":"2.0.0","data":{"date":1768919405000,"subscriber":{"code":"SUB1"},"subscription":{"id":1,"product":{"id":4112233}},"cancellation_date":1768919405000}}'
} >"$T/hc.json"
ingest_stream "$T/hc.json" >"$T/hc.ndjson" 2>/dev/null
d=$(newdb hot_cancel) && load --dsn "dbname=$d" "$T/hc.ndjson" 2>/dev/null
check "a cancellation after them ends it, with its date" \
	test "$(q "$d" "SELECT status || ' ' || canceled_at || ' ' || interval FROM subscriptions WHERE subscription_id = 'SUB1'")" = \
	"canceled 2026-01-20 14:30:05+00 month"

# sql/014 on what an older release stored: the charge date change gave every field, its
# nulls too, and the purchases after it none. Its backfill gives what the loader writes now.
e=$(newdb hot_014) && load --dsn "dbname=$e" "$T/h.ndjson" 2>/dev/null
check_backfill "$e" 014 "UPDATE subscriptions SET status = 'active', interval = NULL, interval_count = NULL,
	current_period_end = '2025-12-20 14:30:05+00', state_occurred_at = '2025-11-30 14:30:05+00',
	state_event_id = 'h-cd', state_event_type = 'subscription.updated', fill_occurred_at = NULL,
	fill_event_id = NULL"
load --dsn "dbname=$e" "$T/h.ndjson" 2>"$T/err"
check "a re-run after it is unchanged" grep -q 'inserted 0, updated 0, unchanged 10' "$T/err"

check_needs_migration hot_old 014 "$T/h.ndjson"

# v1 postbacks send no time of their own: a refund and a chargeback take the purchase's
# confirmation time, as its approval does, and follow it by the payment's stage.
v1() { # status subscription_status
	printf '{"transaction":"HP777","status":"%s","prod":"4112233","off":"k2x9mq7t","price":"19.90","currency":"BRL","email":"joao@example.com","payment_engine":"hotmart","subscriber_code":"SUBV1","subscription_status":"%s","confirmation_purchase_date":"2026-11-20T14:29:58Z"}\n' "$1" "$2"
}
{ v1 approved active; v1 refunded canceled; } >"$T/v1.json"
{ v1 refunded canceled; v1 approved active; } >"$T/v1r.json"
{ v1 approved active; v1 chargeback canceled; } >"$T/v1c.json"
pay1() { q "$1" "SELECT p.status || ' ' || coalesce(p.refunded_minor::text, '-') || ' ' || s.status
	FROM payments p, subscriptions s WHERE p.payment_id = 'HP777' AND s.subscription_id = 'SUBV1'"; }
g=$(newdb hot_v1) && ingest_stream "$T/v1.json" | load --dsn "dbname=$g" 2>/dev/null
check "v1: an approval, then its refund: refunded, the subscription canceled" test "$(pay1 "$g")" = "refunded 1990 canceled"
h=$(newdb hot_v1r) && ingest_stream "$T/v1r.json" | load --dsn "dbname=$h" 2>/dev/null
check "v1: the refund delivered first: the same" test "$(pay1 "$h")" = "refunded 1990 canceled"
i=$(newdb hot_v1c) && ingest_stream "$T/v1c.json" | load --dsn "dbname=$i" 2>/dev/null
check "v1: an approval, then a chargeback: disputed" test "$(pay1 "$i")" = "disputed - canceled"

# A refund (or chargeback, protest, warranty's end) of an older renewal names its
# subscription but brings none of that old transaction's plan or next charge date back:
# renewal 1 on plan 2001, renewal 2 on plan 2002, then renewal 1 refunded.
python3 - "$ROOT/fixtures/hotmart/purchase_approved.json" >"$T/renew.ndjson" <<'PY'
import json, sys
base = json.load(open(sys.argv[1]))
def ev(eid, event, tx, plan, next_charge, at):
	o = json.loads(json.dumps(base))
	o["id"], o["event"], o["creation_date"] = eid, event, at
	o["data"]["purchase"]["transaction"] = tx
	o["data"]["purchase"]["date_next_charge"] = next_charge
	o["data"]["purchase"]["status"] = "REFUNDED" if event == "PURCHASE_REFUNDED" else "APPROVED"
	o["data"]["subscription"]["plan"]["id"] = plan
	print(json.dumps(o))
ev("r1", "PURCHASE_APPROVED", "HPR1", 2001, 1769904000000, 1767225600000)  # next 2026-02-01
ev("r2", "PURCHASE_APPROVED", "HPR2", 2002, 1772323200000, 1769904000000)  # next 2026-03-01
ev("r3", "PURCHASE_REFUNDED", "HPR1", 2001, 1769904000000, 1770681600000)  # 2026-02-10
PY
for order in forward reverse; do
	r=$(newdb "hot_renew_$order")
	if [ $order = forward ]; then cat "$T/renew.ndjson"; else tac "$T/renew.ndjson"; fi >"$T/renew.in"
	ingest_stream "$T/renew.in" | load --dsn "dbname=$r" 2>/dev/null
	check "$order: a refund of an older renewal leaves the subscription on the newer one's plan and period" \
		test "$(q "$r" "SELECT s.price_id || ' ' || s.status || ' ' || to_char(s.current_period_end, 'YYYY-MM-DD')
			|| ' ' || p.status FROM subscriptions s, payments p WHERE p.payment_id = 'HPR1'")" = "2002 active 2026-03-01 refunded"
done


# v1 postbacks carry no time of their own: every status of a purchase takes its
# confirmation date. Approved, protested (the buyer's refund request: inquiry), then
# refunded is a refund, in whatever order and batches they come (sql/018).
for st in approved dispute refunded; do
	printf '{"prod":"4112233","off":"k2x9mq7t","price":"97.00","currency":"BRL","email":"maria@example.com","transaction":"HPV1PR1","status":"%s","payment_engine":"hotmart","payment_type":"credit_card","callback_type":"1","purchase_date":"2025-06-01T00:00:00Z","confirmation_purchase_date":"2025-06-01T00:00:20Z"}\n' $st
done >"$T/v1.json"
ingest_stream "$T/v1.json" >"$T/v1.ndjson" 2>/dev/null
v1pay() { q "$1" "SELECT status || ' ' || refunded_minor FROM payments WHERE payment_id = 'HPV1PR1'"; }
v=$(newdb hot_v1_protest) && load --dsn "dbname=$v" "$T/v1.ndjson" 2>/dev/null
check "v1: approved, protested, refunded in one instant: refunded, the refund counted" test "$(v1pay "$v")" = "refunded 9700"
w=$(newdb hot_v1_protest_rev) && load_reversed "$w" "$T/v1.ndjson"
check "the same, last first, one a batch" test "$(v1pay "$w")" = "refunded 9700"
check_backfill "$v" 018 "UPDATE payments SET status = 'inquiry', refunded_minor = NULL,
	state_event_id = 'HPV1PR1:PURCHASE_PROTEST', state_event_type = 'payment.chargeback' WHERE payment_id = 'HPV1PR1'"
check_needs_migration hot_v1_old 018 "$T/v1.ndjson"

# A v1 cancellation notice (callback_type 2) comes in a purchase's fields, here its first
# purchase's: it is dated when it arrived, not at that purchase's confirmation, so it
# cancels a subscription renewed since; cancelled again after a reactivation, it is another
# event, and a retry of it (the same bytes, later) is still one.
cb() { # transaction callback_type subscription_status confirmation next_charge recurrency
	printf '{"transaction":"%s","status":"approved","prod":"4112233","off":"k2x9mq7t","price":"19.90","currency":"BRL","email":"ana@example.com","payment_engine":"hotmart","callback_type":"%s","subscriber_code":"SUBCB","subscription_status":"%s","recurrency_period":"30","confirmation_purchase_date":"%s","subscription_date_next_charge":"%s","recurrency":"%s"}\n' "$@"
}
at() { # received_at, then the payload on stdin: a raw envelope and its event
	cat >"$T/cb.in" && fetch-events --project acme --received-at "$1" "$T/cb.in" | normalize --emit-raw
}
{
	cb HPC1 1 active 2026-05-01T12:00:00Z 2026-06-01T12:00:00Z 1 | at 2026-05-01T12:00:05Z
	cb HPC2 1 active 2026-06-01T12:00:00Z 2026-07-01T12:00:00Z 2 | at 2026-06-01T12:00:05Z
	cb HPC3 1 active 2026-07-01T12:00:00Z 2026-08-01T12:00:00Z 3 | at 2026-07-01T12:00:05Z
	cb HPC1 2 canceled 2026-05-01T12:00:00Z 2026-08-01T12:00:00Z 3 | at 2026-07-15T09:30:00Z
} >"$T/cb1.ndjson"
{
	cb HPC4 1 active 2026-08-05T12:00:00Z 2026-09-05T12:00:00Z 4 | at 2026-08-05T12:00:05Z
	cb HPC1 2 canceled 2026-05-01T12:00:00Z 2026-09-05T12:00:00Z 4 | at 2026-08-20T08:00:00Z
	cb HPC1 2 canceled 2026-05-01T12:00:00Z 2026-09-05T12:00:00Z 4 | at 2026-08-20T09:00:00Z
} >"$T/cb2.ndjson"
subcb() { q "$1" "SELECT status || ' ' || to_char(canceled_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')
	FROM subscriptions WHERE subscription_id = 'SUBCB'"; }
x=$(newdb hot_cb2) && load --dsn "dbname=$x" --batch 2 "$T/cb1.ndjson" 2>/dev/null
check "v1 callback_type 2 with the first purchase's fields, after two renewals: canceled when it arrived" \
	test "$(subcb "$x")" = "canceled 2026-07-15 09:30"
load --dsn "dbname=$x" --batch 2 "$T/cb2.ndjson" 2>/dev/null
check "reactivated (a renewal), then canceled again: canceled, at the second cancellation" \
	test "$(subcb "$x")" = "canceled 2026-08-20 08:00"
check "the two cancellations are two events, the retry none" \
	test "$(q "$x" "SELECT count(*) FROM external_events_raw WHERE event_type = 'SUBSCRIPTION_CANCELLATION'")" = 2
# a retry is dated when it arrived, later: the copy received first is kept, whatever the
# order (the log's attempts count the replacement of the retry loaded first)
same_but_log() { STATE_TABLES="external_events_raw external_events_normalized customers subscriptions payments" same_state "$@"; }
kept() { q "$1" "SELECT string_agg(to_char(received_at AT TIME ZONE 'UTC', 'MM-DD HH24:MI') || '=' ||
	to_char(occurred_at AT TIME ZONE 'UTC', 'MM-DD HH24:MI'), ' ' ORDER BY received_at)
	FROM external_events_raw WHERE event_type = 'SUBSCRIPTION_CANCELLATION'"; }
check "each cancellation's raw row is its first copy, dated when it arrived" \
	test "$(kept "$x")" = "07-15 09:30=07-15 09:30 08-20 08:00=08-20 08:00"
y=$(newdb hot_cb2_rev) && cat "$T/cb1.ndjson" "$T/cb2.ndjson" >"$T/cb.ndjson" && load_reversed "$y" "$T/cb.ndjson"
check "the same in reverse order, a pair a batch: the same subscription and raw rows" \
	test "$(subcb "$y") $(kept "$y")" = "$(subcb "$x") $(kept "$x")"
check "and every table but the log is the same" same_but_log "$x" "$y"
