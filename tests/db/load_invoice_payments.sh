#!/usr/bin/env bash
# Stripe's InvoicePayment (basil on): its own payment row, the link from an invoice to
# the payment intent or charge that paid it; and sql/010 on a database made before it.
. "$(dirname "$0")/lib/db.sh"
fx=$ROOT/fixtures/stripe

ingest_stream "$fx/invoice.paid.json" "$fx/invoice_payment.paid.json" \
	"$fx/invoice_payment.paid.charge.json" >"$T/in.ndjson"
row() { q "$1" "SELECT object || ' ' || status || ' ' || amount_minor || ' ' || currency || ' '
	|| invoice_id || ' ' || coalesce(payment_intent_id, '-') || ' ' || coalesce(charge_id, '-')
	|| ' ' || coalesce(subscription_id, '-') || ' ' || coalesce(customer_id, '-')
	FROM payments WHERE payment_id = '$2'"; }

a=$(newdb inpay)
load --dsn "dbname=$a" "$T/in.ndjson" 2>/dev/null
check "an InvoicePayment is a payment row of its own, naming invoice and payment intent" \
	test "$(row "$a" inpay_FakeBasil001)" = "invoice_payment succeeded 4410 USD in_FakeBasil001 pi_FakeBasil001 - - -"
check "one paid by a charge names the charge" \
	test "$(row "$a" inpay_FakeFlat002)" = "invoice_payment succeeded 3000 JPY in_FakeFlat002 - ch_FakeLegacy002 - -"
check "the invoice's own row keeps its subscription and customer" \
	test "$(row "$a" in_FakeBasil001)" = "invoice succeeded 4410 USD in_FakeBasil001 - - sub_FakeBasil001 cus_FakeBasil001"
check "the invoice joins to what paid it" \
	test "$(q "$a" "SELECT i.subscription_id || ' ' || ip.payment_intent_id FROM payments i
		JOIN payments ip ON ip.project_id = i.project_id AND ip.provider = i.provider
		AND ip.invoice_id = i.payment_id AND ip.object = 'invoice_payment'
		WHERE i.object = 'invoice'")" = "sub_FakeBasil001 pi_FakeBasil001"
load --dsn "dbname=$a" "$T/in.ndjson" 2>"$T/err"
check "a re-run changes nothing" grep -q 'inserted 0, updated 0, unchanged 6' "$T/err"

# A database of the release before sql/010 (its migrations up to 009; sql/013 restates
# the objects' list, so no database has 013 without 010): this loader says its schema is
# too old and loads nothing; migrated, it records the InvoicePayments.
mkdir -p "$T/sql_upto_009"
for f in "$ROOT"/sql/00[0-9]_*.sql; do cp "$f" "$T/sql_upto_009/"; done
c=ro_inpay_old_$$
dbs="$dbs $c"
dropdb --if-exists "$c" >/dev/null 2>&1
createdb "$c" && load --migrate --dsn "dbname=$c" --sql-dir "$T/sql_upto_009" 2>/dev/null
load --dsn "dbname=$c" "$T/in.ndjson" 2>"$T/err" && st=0 || st=$?
check "before sql/010: exit 3, 'run load --migrate first', nothing loaded (exit $st)" \
	sh -c "test $st = 3 && grep -q \"run 'load --migrate' first\" '$T/err' && test \"\$(psql -qXAt -d $c -c 'SELECT count(*) FROM payments')\" = 0"
load --migrate --dsn "dbname=$c" 2>"$T/mig"
check "sql/010 applies to it" grep -q 'applied 010_invoice_payments.sql' "$T/mig"
load --dsn "dbname=$c" "$T/in.ndjson" 2>/dev/null
check "and the load records them" \
	test "$(row "$c" inpay_FakeBasil001)" = "invoice_payment succeeded 4410 USD in_FakeBasil001 pi_FakeBasil001 - - -"
check "the check still refuses an object outside the list" \
	sh -c "! psql -qX -d $c -c \"UPDATE payments SET object = 'refunds'\" 2>/dev/null"
