#!/usr/bin/env bash
# Events about one payment in the same second (Stripe's times are whole seconds): the
# later stage of the payment's life wins, not the event id, in any order, in one batch
# or over runs, merged or recomputed.
. "$(dirname "$0")/lib/db.sh"
fx=$ROOT/fixtures/stripe

# An invoice finalized (pending) and paid in one second; the paid event's id sorts
# first, so an order by event id alone would leave it pending. Then a refund of the
# charge in the same second as its success.
python3 -c '
import json, sys
paid = json.load(open(sys.argv[1] + "/invoice.paid.json"))
paid["id"] = "evt_AAAApaid"
fin = json.loads(json.dumps(paid))
fin["id"] = "evt_ZZZZfinal"; fin["type"] = "invoice.finalized"
fin["data"]["object"]["status"] = "open"
fin["data"]["object"]["amount_paid"] = 0
fin["data"]["object"]["status_transitions"]["paid_at"] = None
ch = json.load(open(sys.argv[1] + "/charge.succeeded.json"))
ch["id"] = "evt_ZZZZcharge"
ref = json.load(open(sys.argv[1] + "/charge.refunded.json"))
ref["id"] = "evt_AAAArefund"; ref["created"] = ch["created"]
ref["data"]["object"]["id"] = ch["data"]["object"]["id"]
for name, o in (("paid", paid), ("fin", fin), ("ch", ch), ("ref", ref)):
	open(sys.argv[2] + "/" + name + ".json", "w").write(json.dumps(o) + "\n")
' "$fx" "$T"
for x in paid fin ch ref; do ingest_stream "$T/$x.json" >"$T/$x.ndjson"; done
status_of() { q "$1" "SELECT status || ' ' || state_event_id FROM payments WHERE payment_id = '$2'"; }
inv=in_FakeBasil001
chg=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["data"]["object"]["id"])' "$T/ch.json")

a=$(newdb ties_batch)
cat "$T/paid.ndjson" "$T/fin.ndjson" "$T/ch.ndjson" "$T/ref.ndjson" | load --dsn "dbname=$a" 2>/dev/null
check "finalized and paid in one second, one batch: succeeded" \
	test "$(status_of "$a" $inv)" = "succeeded evt_AAAApaid"
check "succeeded and refunded in one second, one batch: partially refunded" \
	test "$(status_of "$a" "$chg")" = "partially_refunded evt_AAAArefund"
b=$(newdb ties_runs)
for x in paid ch fin ref; do load --dsn "dbname=$b" "$T/$x.ndjson" 2>/dev/null; done
check "the same over four runs, the earlier stage last" same_state "$a" "$b"
c=$(newdb ties_rev)
for x in ref fin ch paid; do load --dsn "dbname=$c" "$T/$x.ndjson" 2>/dev/null; done
check "the same over four runs, the later stage first" same_state "$a" "$c"
# A re-run that changes the paid event (a normalizer fix, here its amount) recomputes
# the payment from its stored events: the same rule there.
sed 's/"amount_minor":4410/"amount_minor":4411/' "$T/paid.ndjson" >"$T/paid2.ndjson"
load --dsn "dbname=$c" "$T/paid2.ndjson" 2>/dev/null
check "recomputed after a changed event: still succeeded, with the new amount" \
	test "$(q "$c" "SELECT status || ' ' || amount_minor FROM payments WHERE payment_id = '$inv'")" = "succeeded 4411"

# A subscription created incomplete and made active by its first payment in one
# second; the creation's id sorts last. Then a cancellation in that second too.
python3 -c '
import json, sys
c = json.load(open(sys.argv[1] + "/customer.subscription.created.json"))
c["id"] = "evt_ZZZZsubnew"; c["data"]["object"]["status"] = "incomplete"
u = json.loads(json.dumps(c))
u["id"] = "evt_MMMMsubupd"; u["type"] = "customer.subscription.updated"
u["data"]["object"]["status"] = "active"
x = json.loads(json.dumps(c))
x["id"] = "evt_AAAAsubend"; x["type"] = "customer.subscription.deleted"
x["data"]["object"]["status"] = "canceled"; x["data"]["object"]["canceled_at"] = c["created"]
for name, o in (("sc", c), ("su", u), ("sx", x)):
	open(sys.argv[2] + "/" + name + ".json", "w").write(json.dumps(o) + "\n")
' "$fx" "$T"
for x in sc su sx; do ingest_stream "$T/$x.json" >"$T/$x.ndjson"; done
sub_of() { q "$1" "SELECT status || ' ' || state_event_id FROM subscriptions WHERE subscription_id = 'sub_FakeBasil001'"; }
d=$(newdb ties_sub)
cat "$T/su.ndjson" "$T/sc.ndjson" | load --dsn "dbname=$d" 2>/dev/null
check "created and updated in one second, one batch: the update wins" \
	test "$(sub_of "$d")" = "active evt_MMMMsubupd"
e=$(newdb ties_sub_runs)
load --dsn "dbname=$e" "$T/su.ndjson" 2>/dev/null
load --dsn "dbname=$e" "$T/sc.ndjson" 2>/dev/null
check "the update first, the creation in a later run: the same tables" same_state "$d" "$e"
f=$(newdb ties_sub_rev)
load --dsn "dbname=$f" "$T/sc.ndjson" 2>/dev/null
load --dsn "dbname=$f" "$T/su.ndjson" 2>/dev/null
check "the creation first, the update in a later run: the same tables" same_state "$d" "$f"
load --dsn "dbname=$f" "$T/sx.ndjson" 2>/dev/null
cat "$T/sx.ndjson" "$T/sc.ndjson" "$T/su.ndjson" | load --dsn "dbname=$d" 2>/dev/null
check "a cancellation in that second ends it, merged or in one batch" \
	sh -c "test \"\$(psql -qXAt -d $f -c \"SELECT status || ' ' || state_event_id FROM subscriptions\")\" = 'canceled evt_AAAAsubend' && test \"\$(psql -qXAt -d $d -c \"SELECT status || ' ' || state_event_id FROM subscriptions\")\" = 'canceled evt_AAAAsubend'"
sed 's/"quantity":1/"quantity":2/' "$T/su.ndjson" >"$T/su2.ndjson"
load --dsn "dbname=$e" "$T/su2.ndjson" 2>/dev/null
check "recomputed after a changed event: the update still wins, and is the state's event" \
	test "$(q "$e" "SELECT status || ' ' || quantity || ' ' || state_event_id || ' ' || state_event_type FROM subscriptions")" = "active 2 evt_MMMMsubupd subscription.updated"

# A database loaded before the rule: its payment was left at the finalizing event.
# sql/008 re-decides it from the stored events.
q "$a" "UPDATE payments SET status = 'pending', amount_minor = 4410, paid_at = NULL,
	state_event_id = 'evt_ZZZZfinal', state_event_type = 'payment.pending' WHERE payment_id = '$inv';
	DELETE FROM schema_migrations WHERE version = '008_payment_same_instant.sql'" >/dev/null
check "the old rule's row, made by hand, is pending" test "$(status_of "$a" $inv)" = "pending evt_ZZZZfinal"
load --migrate --dsn "dbname=$a" 2>"$T/mig"
check "sql/008 applies" grep -q 'applied 008_payment_same_instant.sql' "$T/mig"
check "and re-decides it as a load now would" same_state "$a" "$b"

# And a subscription left at its creation by the old rule: sql/009 re-decides it.
q "$e" "UPDATE subscriptions SET status = 'incomplete', quantity = 1, state_event_id = 'evt_ZZZZsubnew',
	state_event_type = 'subscription.created';
	DELETE FROM schema_migrations WHERE version = '009_subscription_same_instant.sql'" >/dev/null
check "the old rule's subscription, made by hand, is incomplete" \
	test "$(q "$e" "SELECT status FROM subscriptions")" = incomplete
load --migrate --dsn "dbname=$e" 2>"$T/mig"
check "sql/009 applies and re-decides it" \
	test "$(grep -c 'applied 009_subscription_same_instant.sql' "$T/mig") $(q "$e" "SELECT status || ' ' || quantity || ' ' || state_event_id FROM subscriptions")" = "1 active 2 evt_MMMMsubupd"
