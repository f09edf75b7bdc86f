-- 013_refunds.sql: a Stripe Refund is a payment row of its own, object 'refund', when
-- its events say what charge.refunded cannot: that it failed or was canceled after all
-- (event payment.refund_failed: the money went back to the account, and the charge's
-- refunded_minor still counts it), or that money went back with no charge behind it (a
-- customer balance refunded: payment.refunded). Only a value is added to the payments'
-- objects, so every stored row passes; checking them reads the payments table once,
-- under its lock: migrate when no load runs.
ALTER TABLE payments DROP CONSTRAINT payments_object_check,
	ADD CONSTRAINT payments_object_check
	CHECK (object IN ('invoice', 'invoice_payment', 'charge', 'payment_intent',
		'checkout_session', 'dispute', 'purchase', 'refund'));

-- Two events of one payment in the same instant and the same stage are now ordered by
-- the amount refunded so far before their event ids (src/load.c, PAY_ORDER): two
-- partial refunds of a charge in one second (refunds made in a loop) kept whichever
-- total's event id sorted last, the smaller one half the time; Stripe's running total
-- only grows. Re-decided here for the payments stored before, from their stored events,
-- as sql/008 did: it reads every processed event that names a payment once.
WITH best AS (
	SELECT DISTINCT ON (project_id, provider, payment_id) project_id, provider, payment_id,
		external_event_id, event_type, COALESCE(occurred_at, '-infinity') AS occ,
		event->'payment' AS pay, (event->>'livemode')::boolean AS livemode
	FROM external_events_normalized
	WHERE status = 'processed' AND payment_id IS NOT NULL
	ORDER BY project_id, provider, payment_id, COALESCE(occurred_at, '-infinity') DESC,
		CASE event #>> '{payment,status}' WHEN 'pending' THEN 1 WHEN 'failed' THEN 2
			WHEN 'partially_refunded' THEN 4 WHEN 'refunded' THEN 5 WHEN 'inquiry' THEN 6
			WHEN 'disputed' THEN 7 WHEN 'dispute_won' THEN 8 WHEN 'dispute_lost' THEN 8
			ELSE 3 END DESC,
		COALESCE((event #>> '{payment,refunded_minor}')::bigint, -1) DESC,
		external_event_id DESC
)
UPDATE payments p SET
	object = b.pay->>'object', invoice_id = b.pay->>'invoice_id',
	subscription_id = b.pay->>'subscription_id', charge_id = b.pay->>'charge_id',
	payment_intent_id = b.pay->>'payment_intent_id', amount_minor = (b.pay->>'amount_minor')::bigint,
	currency = b.pay->>'currency', status = b.pay->>'status', method = b.pay->>'method',
	installments = (b.pay->>'installments')::bigint, failure_code = b.pay->>'failure_code',
	discount_minor = (b.pay->>'discount_minor')::bigint,
	refunded_minor = (b.pay->>'refunded_minor')::bigint,
	due_at = (b.pay->>'due_at')::timestamptz, paid_at = (b.pay->>'paid_at')::timestamptz,
	livemode = b.livemode, state_occurred_at = b.occ, state_event_id = b.external_event_id,
	state_event_type = b.event_type
FROM best b
WHERE (p.project_id, p.provider, p.payment_id) = (b.project_id, b.provider, b.payment_id)
	AND p.state_event_id IS DISTINCT FROM b.external_event_id;
