#!/usr/bin/env bash
# A Stripe customer's contact fields are the Customer object's: its customer.* events
# give them; a charge's billing details (the card holder's) and an invoice's frozen
# customer_email only fill what no customer event gave. In any order, batches and runs.
. "$(dirname "$0")/lib/db.sh"

cus() { # id created type email name
	printf '{"id":"%s","object":"event","api_version":"2024-06-20","created":%s,"type":"%s","data":{"object":{"id":"cus_D","object":"customer","email":"%s","name":"%s"}}}\n' "$1" "$2" "$3" "$4" "$5"
}
charge() { # id created billing_email billing_name country
	printf '{"id":"%s","object":"event","api_version":"2024-06-20","created":%s,"type":"charge.succeeded","data":{"object":{"id":"ch_%s","object":"charge","customer":"cus_D","amount":1000,"amount_captured":1000,"captured":true,"currency":"usd","status":"succeeded","billing_details":{"email":"%s","name":"%s","address":{"country":"%s"}},"payment_method_details":{"type":"card"}}}}\n' "$1" "$2" "$1" "$3" "$4" "$5"
}
invoice() { # id created customer_email
	printf '{"id":"%s","object":"event","api_version":"2024-06-20","created":%s,"type":"invoice.paid","data":{"object":{"id":"in_%s","object":"invoice","customer":"cus_D","customer_email":"%s","amount_paid":1000,"amount_due":1000,"currency":"usd","status":"paid","lines":{"object":"list","data":[]}}}}\n' "$1" "$2" "$1" "$3"
}
{
	cus evt_c1 1730000000 customer.created old@example.com "Dana Lee"
	cus evt_c2 1730000200 customer.updated new@example.com "Dana Lee"
	charge evt_ch1 1730000300 dana.card@gmail.com "D LEE" PT
	invoice evt_in1 1730000400 old@example.com
} >"$T/d.json"
ingest_stream "$T/d.json" >"$T/d.ndjson" 2>/dev/null
check "the four events are processed" test "$(grep -c '"status":"processed"' "$T/d.ndjson")" = 4

who() { q "$1" "SELECT concat_ws('|', email, name, country, email_event_id, email_auth, country_auth) FROM customers WHERE customer_id = 'cus_D'"; }
want='new@example.com|Dana Lee|PT|evt_c2|t|f'
a=$(newdb cus_a) && load --dsn "dbname=$a" "$T/d.ndjson" 2>/dev/null
check "the customer's e-mail is the Customer's latest, not the card holder's or the invoice's copy; the card fills the country" \
	test "$(who "$a")" = "$want"
b=$(newdb cus_b) && load_reversed "$b" "$T/d.ndjson"
check "in reverse order, a pair a batch: the same" test "$(who "$b")" = "$want"
check "and every table is the same" same_state "$a" "$b"
c=$(newdb cus_c) && load_pairs "$c" "$T/d.ndjson" 3 4 2 1
check "one event a run, shuffled: the same rows" same_state "$a" "$c"

# A deletion stays: an update dated before it, delivered late (a run after the deletion's,
# or before it in the batch), fills nothing back and undeletes nothing.
cus evt_del 1730000500 customer.deleted new@example.com "Dana Lee" >"$T/del.json"
cus evt_upd 1730000440 customer.updated late@example.com "Dana Lee" >"$T/upd.json"
ingest_stream "$T/del.json" >"$T/del.ndjson" 2>/dev/null
ingest_stream "$T/upd.json" >"$T/upd.ndjson" 2>/dev/null
gone() { q "$1" "SELECT concat_ws('|', deleted, deleted_at AT TIME ZONE 'UTC', email) FROM customers WHERE customer_id = 'cus_D'"; }
g=$(newdb cus_gone) && load --dsn "dbname=$g" "$T/del.ndjson" 2>/dev/null && load --dsn "dbname=$g" "$T/upd.ndjson" 2>/dev/null
check "a customer.updated older than the deletion, a run later: still deleted, at the deletion's time" \
	test "$(gone "$g")" = "t|2024-10-27 03:41:40|new@example.com"
h=$(newdb cus_gone2) && cat "$T/upd.ndjson" "$T/del.ndjson" | load --dsn "dbname=$h" 2>/dev/null
check "both in one run, the update first: the same rows" same_state "$g" "$h"
i=$(newdb cus_gone3) && cat "$T/del.ndjson" "$T/upd.ndjson" | load --dsn "dbname=$i" --batch 1 2>/dev/null
check "the deletion first, one event a batch: the same rows" same_state "$g" "$i"

# Without customer events the copies are all there is: the latest wins, as before.
{ charge evt_ch2 1730000300 card@example.com "Card Holder" PT; invoice evt_in2 1730000400 inv@example.com; } >"$T/e.json"
e=$(newdb cus_e) && ingest_stream "$T/e.json" | load --dsn "dbname=$e" 2>/dev/null
check "no customer event: the latest copy's e-mail, each field filled" \
	test "$(who "$e")" = "inv@example.com|Card Holder|PT|evt_in2|f|f"

# sql/015 on what an older release stored (the latest copy won), and the release before it.
f=$(newdb cus_015) && load --dsn "dbname=$f" "$T/d.ndjson" 2>/dev/null
check_backfill "$f" 015 "UPDATE customers SET email = 'old@example.com', email_occurred_at = to_timestamp(1730000400),
	email_event_id = 'evt_in1', email_auth = false, name_auth = false, country_auth = false" '^WITH cus AS'
load --dsn "dbname=$f" "$T/d.ndjson" 2>"$T/err"
check "a re-run after it is unchanged" grep -q 'inserted 0, updated 0, unchanged 8' "$T/err"
check_needs_migration cus_old 015 "$T/d.ndjson"

# An invoice's copy is the customer's as it was when the invoice was made: an old invoice
# paid late (net 30) carries the address changed since. Without customer events each field
# is the copy of the invoice made last (its invoiced_at), not of the latest event; an
# invoice of no subscription the same (its time from the raw payload).
inv() { # id created type invoice invoice_created customer email status [subscription]
	printf '{"id":"%s","object":"event","api_version":"2024-06-20","created":%s,"type":"%s","data":{"object":{"id":"%s","object":"invoice","created":%s,"customer":"%s","customer_email":"%s","amount_paid":1000,"amount_due":1000,"currency":"usd","status":"%s",%s"lines":{"object":"list","data":[]}}}}\n' \
		"$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8" "${9:+\"subscription\":\"$9\",}"
}
t0=1730000000 t30=$((1730000000 + 30 * 86400)) t35=$((1730000000 + 35 * 86400))
{
	inv evt_E01 $t0 invoice.finalized in_E1 $t0 cus_E old@example.com open sub_E
	inv evt_E02 $t30 invoice.paid in_E2 $t30 cus_E new@example.com paid sub_E
	inv evt_E03 $t35 invoice.paid in_E1 $t0 cus_E old@example.com paid sub_E
	inv evt_F01 $t0 invoice.finalized in_F1 $t0 cus_F old@example.com open
	inv evt_F02 $t30 invoice.paid in_F2 $t30 cus_F new@example.com paid
	inv evt_F03 $t35 invoice.paid in_F1 $t0 cus_F old@example.com paid
} >"$T/late.json"
ingest_stream "$T/late.json" >"$T/late.ndjson" 2>/dev/null
check "the six invoice events are processed" test "$(grep -c '"status":"processed"' "$T/late.ndjson")" = 6
late() { q "$1" "SELECT string_agg(concat_ws('|', customer_id, email, email_event_id, extract(epoch FROM email_occurred_at)::bigint, email_auth), ' ' ORDER BY customer_id) FROM customers"; }
want_late="cus_E|new@example.com|evt_E02|$t30|f cus_F|new@example.com|evt_F02|$t30|f"
g=$(newdb late_g) && load --dsn "dbname=$g" "$T/late.ndjson" 2>/dev/null
check "an old invoice paid late does not bring the old e-mail back: the copy of the invoice made last, stamped with when it was made (with a subscription and without)" \
	test "$(late "$g")" = "$want_late"
h=$(newdb late_h) && load_reversed "$h" "$T/late.ndjson"
check "in reverse order, a pair a batch: every table the same" same_state "$g" "$h"
for order in "1 2 3" "1 3 2" "2 1 3" "2 3 1" "3 1 2" "3 2 1"; do
	set -- $order
	k=$(newdb "late_${1}${2}${3}") && load_pairs "$k" "$T/late.ndjson" "$1" "$2" "$3" $(($1 + 3)) $(($2 + 3)) $(($3 + 3))
	check "one event a run, in the order $order: the same rows" same_state "$g" "$k"
done
load --dsn "dbname=$k" "$T/late.ndjson" 2>"$T/err"
check "a re-run is unchanged" grep -q 'inserted 0, updated 0, unchanged 12' "$T/err"
# A re-run whose events changed (a name now read from the old invoices) recomputes the
# customers from their stored events: the rows of a clean load of the new events.
sed '/"record":"event"/s/"email":"old@example.com","name":null/"email":"old@example.com","name":"Eve"/' \
	"$T/late.ndjson" >"$T/late2.ndjson"
load --dsn "dbname=$k" "$T/late2.ndjson" 2>/dev/null
l=$(newdb late_l) && load --dsn "dbname=$l" "$T/late2.ndjson" 2>/dev/null
check "recomputed after a re-run with changed events: a clean load's rows, the e-mail still the later invoice's" \
	sh -c "test \"\$(psql -qXAt -d '$l' -c \"SELECT string_agg(email || '|' || name, ' ') FROM customers\")\" = 'new@example.com|Eve new@example.com|Eve'"
check "and every table the same as that clean load" same_state "$l" "$k"

# sql/025 on what an older release stored (the latest event's copy won, stamped with its time).
m=$(newdb cus_025) && load --dsn "dbname=$m" "$T/late.ndjson" 2>/dev/null
check_backfill "$m" 025 "UPDATE customers SET email = 'old@example.com', email_occurred_at = to_timestamp($t35),
	email_event_id = CASE customer_id WHEN 'cus_E' THEN 'evt_E03' ELSE 'evt_F03' END"
load --dsn "dbname=$m" "$T/late.ndjson" 2>"$T/err"
check "a re-run after it is unchanged" grep -q 'inserted 0, updated 0, unchanged 12' "$T/err"
check_needs_migration cus_old25 025 "$T/late.ndjson"
