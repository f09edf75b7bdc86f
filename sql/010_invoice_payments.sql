-- 010_invoice_payments.sql: Stripe's InvoicePayment (invoice_payment.paid, from
-- 2025-03-31.basil) is a payment row of its own, object 'invoice_payment': from basil on
-- it is the only link between an invoice and the payment intent or charge that paid it.
-- Only a value is added, so every stored row passes; checking them reads the payments
-- table once, under its lock: migrate when no load runs.
ALTER TABLE payments DROP CONSTRAINT payments_object_check,
	ADD CONSTRAINT payments_object_check
	CHECK (object IN ('invoice', 'invoice_payment', 'charge', 'payment_intent',
		'checkout_session', 'dispute', 'purchase'));
