#!/usr/bin/env bash
# "User upgraded but plan shows Starter" cannot happen, whatever the order;
# an unmapped price still updates the subscription and is flagged.
. "$(dirname "$0")/lib/db.sh"
fx=$ROOT/fixtures/db
plan_of() {
	q "$1" "SELECT coalesce(p.code, '-') FROM subscriptions s LEFT JOIN plans p ON p.id = s.plan_id
		WHERE s.subscription_id = 'sub_1'"
}

a=$(newdb up_fwd)
load --dsn "dbname=$a" "$fx/upgrade.ndjson" 2>/dev/null
check "starter then pro: plan is pro" test "$(plan_of "$a")" = pro
b=$(newdb up_rev)
tac "$fx/upgrade.ndjson" | load --dsn "dbname=$b" 2>/dev/null
check "pro then starter (one batch): plan is pro" test "$(plan_of "$b")" = pro
c=$(newdb up_runs)
grep '"evt_s2"' "$fx/upgrade.ndjson" | load --dsn "dbname=$c" 2>/dev/null
check "pro alone: plan is pro" test "$(plan_of "$c")" = pro
grep -v '"evt_s2"' "$fx/upgrade.ndjson" | load --dsn "dbname=$c" 2>/dev/null
check "the older starter event in a later run does not roll back" test "$(plan_of "$c")" = pro
check "the older event is still logged as processed" \
	test "$(q "$c" "SELECT status FROM external_events WHERE external_event_id = 'evt_s1'")" = processed
check "both orders end identical" same_state "$a" "$c"
check "the subscription remembers which event set it" \
	test "$(q "$c" "SELECT state_event_id || ' ' || price_id FROM subscriptions WHERE subscription_id = 'sub_1'")" = "evt_s2 price_pro_m"
check "the runbook's manual fix still works (org_id, plans.code)" \
	test "$(q "$c" "UPDATE subscriptions SET plan_id = (SELECT id FROM plans WHERE code='starter') WHERE org_id = 'acme' AND subscription_id = 'sub_1' RETURNING plan_id")" = starter
check "the manual fix is stamped as set by hand" \
	test "$(q "$c" "SELECT plan_set_by_hand_at IS NOT NULL FROM subscriptions WHERE subscription_id = 'sub_1'")" = t
# sql/033: the same fix with a code that is no plan's (a typo) set plan_id to NULL, pinned
# by every load after it (audit-RB2 1)
st=0
q "$c" "UPDATE subscriptions SET plan_id = (SELECT id FROM plans WHERE code='Pro') WHERE subscription_id = 'sub_1'" \
	>/dev/null 2>"$T/err" || st=$?
check "a manual fix naming no plan is refused, saying why (exit $st)" \
	sh -c "test $st != 0 && grep -q 'subscription sub_1: plan_id set to NULL by hand' '$T/err' && grep -q 'SELECT id, code FROM plans' '$T/err'"
check "and changes nothing" test "$(plan_of "$c")" = starter
st=0
q "$c" "UPDATE subscriptions SET plan_id = NULL, plan_set_by_hand_at = NULL WHERE subscription_id = 'sub_1'" >/dev/null 2>&1 || st=$?
check "nor with the stamp cleared in the same UPDATE (exit $st)" sh -c "test $st != 0 && test '$(plan_of "$c")' = starter"
# sql/016: the next cron run re-derived the plan of every subscription it named, undoing it
x0=$(q "$c" "SELECT xmin FROM subscriptions WHERE subscription_id = 'sub_1'")
load --dsn "dbname=$c" "$fx/upgrade.ndjson" 2>/dev/null
check "a re-run over the same events keeps the plan set by hand" test "$(plan_of "$c")" = starter
check "and does not even rewrite the row" \
	test "$(q "$c" "SELECT xmin FROM subscriptions WHERE subscription_id = 'sub_1'")" = "$x0"
python3 -c '
import json, sys
for line in open(sys.argv[1]):
	o = json.loads(line)
	if o["external_event_id"] != "evt_s2":
		continue
	o["external_event_id"] = "evt_s3"; o["occurred_at"] = "2026-11-20T00:00:00Z"
	if o["record"] == "raw":
		o["payload"]["id"] = "evt_s3"
	print(json.dumps(o))' "$fx/upgrade.ndjson" >"$T/s3.ndjson"
load --dsn "dbname=$c" "$T/s3.ndjson" 2>/dev/null
check "so does a newer subscription event (the merge), which still moves the rest" \
	test "$(plan_of "$c") $(q "$c" "SELECT state_event_id FROM subscriptions WHERE subscription_id = 'sub_1'")" = "starter evt_s3"
q "$c" "UPDATE subscriptions SET plan_set_by_hand_at = NULL WHERE subscription_id = 'sub_1'" >/dev/null
check "clearing the stamp changes nothing at once" test "$(plan_of "$c")" = starter
load --dsn "dbname=$c" "$fx/upgrade.ndjson" 2>/dev/null
check "then the next run derives the plan again" test "$(plan_of "$c")" = pro

d=$(newdb up_unmapped)
load --dsn "dbname=$d" "$fx/basic.ndjson" 2>/dev/null
check "unmapped price: subscription updated with plan empty and price kept" \
	test "$(q "$d" "SELECT coalesce(plan_id, '-') || ' ' || price_id || ' ' || status FROM subscriptions WHERE subscription_id = 'HSUB9'")" = "- offer_gold active"
check "unmapped price: flagged in the processing log with the price id" \
	test "$(q "$d" "SELECT unmapped_price_id || ' / ' || warning FROM external_events WHERE external_event_id = 'HS-2001'")" = "offer_gold / no plan mapped for hotmart price 'offer_gold'"
check "an event's own plan_code wins without a mapping" \
	test "$(q "$d" "SELECT plan_id FROM subscriptions WHERE subscription_id = 'HSUB10'")" = pro
st=0
q "$d" "UPDATE subscriptions SET plan_id = (SELECT id FROM plans WHERE code='Pro') WHERE subscription_id = 'HSUB9'" \
	>/dev/null 2>"$T/err" || st=$?
check "the manual fix naming no plan is refused on a row with no plan too (exit $st; review R4 4)" \
	sh -c "test $st != 0 && grep -q 'subscription HSUB9: plan_id set to NULL by hand' '$T/err' &&
		test '$(q "$d" "SELECT plan_set_by_hand_at IS NULL FROM subscriptions WHERE subscription_id = 'HSUB9'")' = t"
q "$d" "INSERT INTO plan_prices VALUES ('hotmart', 'offer_gold', 'pro')"
load --dsn "dbname=$d" "$fx/basic.ndjson" 2>"$T/err"
check "after adding the mapping a replay sets the plan" \
	test "$(q "$d" "SELECT plan_id FROM subscriptions WHERE subscription_id = 'HSUB9'")" = pro
check "the loader's own change of a plan does not count as set by hand" \
	test "$(q "$d" "SELECT plan_set_by_hand_at IS NULL FROM subscriptions WHERE subscription_id = 'HSUB9'")" = t
check "and clears the flag, counting the attempt" \
	test "$(q "$d" "SELECT coalesce(warning, '-') || ' ' || attempts FROM external_events WHERE external_event_id = 'HS-2001'")" = "- 2"
check "the replay reports the event as updated" grep -q 'updated 1, unchanged 21' "$T/err"

# A mapping added, then a new event that rewrites the subscription's row without naming
# a price (a purchase naming it, by another customer id): the plan still follows the
# mapping as it is now, though this batch wrote the row.
f=$(newdb up_mapped_later)
load --dsn "dbname=$f" "$fx/basic.ndjson" 2>/dev/null
q "$f" "INSERT INTO plan_prices VALUES ('hotmart', 'offer_gold', 'pro')"
python3 -c '
import json, sys
for line in open(sys.argv[1]):
	o = json.loads(line)
	if o["external_event_id"] != "HS-2001":
		continue
	o["external_event_id"] = "HS-2002"; o["occurred_at"] = "2026-11-05T12:00:00Z"
	if o["record"] == "raw":
		o["payload"]["id"] = "HS-2002"; o["event_type"] = "PURCHASE_APPROVED"
	else:
		o["event_type"] = "payment.succeeded"; o["provider_event_type"] = "PURCHASE_APPROVED"
		o["customer"] = {"id": "caio2@example.com.br", "email": None, "name": None, "phone": None, "country": None}
		o["payment"] = {"id": "HP99", "object": "purchase", "invoice_id": None, "subscription_id": "HSUB9",
			"amount_minor": 100, "currency": "BRL", "status": "succeeded", "method": "pix", "installments": 1,
			"failure_code": None, "discount_minor": None, "refunded_minor": None, "due_at": None,
			"paid_at": "2026-11-05T12:00:00Z"}
		o["subscription"] = {k: None for k in o["subscription"]}; o["subscription"]["id"] = "HSUB9"
	print(json.dumps(o))' "$fx/basic.ndjson" | load --dsn "dbname=$f" 2>"$T/err"
check "a mapping added, a later event rewriting the row without a price: the plan follows the mapping ($(q "$f" "SELECT coalesce(plan_id, '-') || ' ' || customer_id FROM subscriptions WHERE subscription_id = 'HSUB9'"))" \
	test "$(q "$f" "SELECT coalesce(plan_id, '-') || ' ' || customer_id FROM subscriptions WHERE subscription_id = 'HSUB9'")" = "pro caio2@example.com.br"

# A mapping added (then changed), then a new invoice of the subscription naming its price:
# the invoice does not outrank the subscription events' fields, but its customer stamp is
# newer, so the merge rewrites the row; the plan still follows the mapping as it is now.
g=$(newdb up_mapped_invoice)
fetch-events --project acme "$ROOT/fixtures/dumps/2026-11" 2>/dev/null | normalize --emit-raw 2>/dev/null |
	load --dsn "dbname=$g" 2>/dev/null
for k in New1:3600 New2:7200; do
	head -1 "$ROOT/fixtures/dumps/2026-11/stripe-2026-11-08.ndjson" | python3 -c '
import json, sys
k, d = sys.argv[1].split(":")
o = json.loads(sys.stdin.readline())
o["id"] = "evt_" + k; o["created"] += int(d); o["data"]["object"]["id"] = "in_" + k
print(json.dumps(o))' "$k" >"$T/${k%%:*}.ndjson"
done
sub_plan() { q "$g" "SELECT coalesce(plan_id, '-') || ' ' || price_id FROM subscriptions WHERE subscription_id = 'sub_Acme0001'"; }
before=$(sub_plan)
q "$g" "INSERT INTO plan_prices VALUES ('stripe', 'price_pro_monthly', 'pro')"
fetch-events --project acme "$T/New1.ndjson" 2>/dev/null | normalize --emit-raw 2>/dev/null | load --dsn "dbname=$g" 2>/dev/null
check "a mapping added, then a new invoice of the subscription: the plan follows it ($before, then $(sub_plan))" \
	test "$before $(sub_plan)" = "- price_pro_monthly pro price_pro_monthly"
q "$g" "UPDATE plan_prices SET plan_id = 'starter' WHERE price_id = 'price_pro_monthly'"
fetch-events --project acme "$T/New2.ndjson" 2>/dev/null | normalize --emit-raw 2>/dev/null | load --dsn "dbname=$g" 2>/dev/null
check "the mapping changed, then another invoice: the plan follows the change ($(sub_plan))" \
	test "$(sub_plan)" = "starter price_pro_monthly"

# An invoice after the upgrade that still names the old price (a retried old invoice),
# with a partial subscription section: it neither reverts the plan nor erases the status.
e=$(newdb up_invoice)
python3 -c '
import json, sys
for line in open(sys.argv[1]):
	o = json.loads(line)
	if o["external_event_id"] == "evt_p1":
		o["external_event_id"] = "evt_p9"; o["occurred_at"] = "2026-11-09T00:00:00Z"
		if o["record"] == "raw":
			o["payload"]["id"] = "evt_p9"
		else:
			o["payment"]["id"] = "in_9"
			o["subscription"] = {k: None for k in ("id", "price_id", "product_id", "plan_code", "status",
				"interval", "interval_count", "quantity", "current_period_start", "current_period_end",
				"cancel_at_period_end", "cancel_at", "canceled_at", "trial_end")}
			o["subscription"].update(id="sub_1", price_id="price_starter_m")
		print(json.dumps(o))
' "$fx/basic.ndjson" >"$T/p9.ndjson"
cat "$T/p9.ndjson" "$fx/upgrade.ndjson" | load --dsn "dbname=$e" 2>/dev/null
check "a later invoice naming the old price does not make the plan Starter" test "$(plan_of "$e")" = pro
check "nor erase the subscription's status" \
	test "$(q "$e" "SELECT status FROM subscriptions WHERE subscription_id = 'sub_1'")" = active

# A plan code named only by an event not processed (ignored, its sections kept) makes no
# plan: plans come from the events applied (a failed event carries no section at all)
python3 -c '
import json, sys
for line in open(sys.argv[1]):
	o = json.loads(line)
	if o["external_event_id"] != "HS-2002":
		continue
	o["external_event_id"] = "HS-2098"
	if o["record"] == "raw":
		o["payload"]["id"] = "HS-2098"
	else:
		o.update(status="ignored", reason="a test notification", event_type=None)
		o["subscription"]["plan_code"] = "gold"
	print(json.dumps(o))
' "$fx/basic.ndjson" >"$T/ignored_plan.ndjson"
g=$(newdb up_ignored_plan)
load --dsn "dbname=$g" "$T/ignored_plan.ndjson" 2>/dev/null
check "a plan code named only by an ignored event makes no plan (plans: $(q "$g" "SELECT string_agg(id, ' ' ORDER BY id) FROM plans"))" \
	test "$(q "$g" "SELECT status FROM external_events WHERE external_event_id = 'HS-2098'") $(q "$g" "SELECT count(*) FROM plans WHERE id = 'gold'")" = "ignored 0"

# a database before sql/016 is refused (its loads would undo a plan set by hand), then migrated
check_needs_migration up_old 016 "$fx/upgrade.ndjson"
# and one before sql/033, sql/035, and before this release's last migration, sql/036: a loader upgraded before its
# database loaded into it, without its trigger (audit-C 3)
check_needs_migration up_old33 033 "$fx/upgrade.ndjson"
check_needs_migration up_old35 035 "$fx/upgrade.ndjson"
check_needs_migration up_old36 036 "$fx/upgrade.ndjson"
# --migrate given an older release's sql/ ($RO_SQL_DIR set for it, left after an upgrade):
# said to lack this release's last, not "schema up to date", and the load then names what it
# needs (audit-UPG51 1: "up to date", then every cron run told to run that --migrate)
last=$(cd "$ROOT/sql" && ls [0-9]*.sql | tail -n 1)
g=$(db_before up_olddir "${last%%_*}")
RO_SQL_DIR=$T/sql_before_${last%%_*} load --migrate --dsn "dbname=$g" 2>"$T/err" && st=0 || st=$?
check "--migrate with an older release's sql/: exit $st, said to lack $last, not up to date" \
	sh -c "[ $st = 0 ] && grep -q \"^load: '.*sql_before_${last%%_*}' holds no $last, which this loader needs\" '$T/err' && ! grep -q 'up to date' '$T/err'"
load --dsn "dbname=$g" "$fx/upgrade.ndjson" 2>"$T/err" && st=0 || st=$?
check "and the load refused, exit 3, naming it ($(head -c 160 "$T/err"))" \
	sh -c "[ $st = 3 ] && grep -q \"older than this loader (it needs sql/ up to $last): run 'load --migrate' first\" '$T/err'"

# sql/033 hands back to the loader the subscriptions set by hand to no plan before it; one
# set by hand to a plan stays so
old=$(newdb up_null)
load --dsn "dbname=$old" "$fx/upgrade.ndjson" "$fx/basic.ndjson" 2>/dev/null
# the release before sql/033 (this loader refuses to load a database without it)
q "$old" "DROP TRIGGER subscriptions_plan_not_null ON subscriptions; DROP FUNCTION subscriptions_plan_not_null();
	DELETE FROM schema_migrations WHERE version LIKE '033\_%'"
q "$old" "UPDATE subscriptions SET plan_id = (SELECT id FROM plans WHERE code='Pro') WHERE subscription_id = 'sub_1';
	UPDATE subscriptions SET plan_id = 'starter' WHERE subscription_id = 'HSUB10'" >/dev/null
check "(before sql/033 the typo pinned no plan)" \
	test "$(q "$old" "SELECT coalesce(plan_id, '-') || ' ' || (plan_set_by_hand_at IS NOT NULL) FROM subscriptions WHERE subscription_id = 'sub_1'")" = "- true"
load --migrate --dsn "dbname=$old" 2>/dev/null
check "sql/033 clears that stamp, and keeps a plan set by hand" \
	test "$(q "$old" "SELECT string_agg(subscription_id || ' ' || coalesce(plan_id, '-') || ' ' || (plan_set_by_hand_at IS NOT NULL), ', '
		ORDER BY subscription_id) FROM subscriptions WHERE subscription_id IN ('sub_1', 'HSUB10')")" = "HSUB10 starter true, sub_1 - false"
load --dsn "dbname=$old" "$fx/upgrade.ndjson" 2>/dev/null
check "the next run derives its plan again" test "$(plan_of "$old")" = pro
