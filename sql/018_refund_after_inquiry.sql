-- 018_refund_after_inquiry.sql: of two events of one payment in the same instant, a refund
-- (partially_refunded, refunded) now ranks after an inquiry (src/load.c, PAY_STAGE): a Hotmart
-- v1 postback carries no time of its own, so every status of a purchase takes its
-- confirmation date, and a purchase approved, protested (the buyer's refund request:
-- inquiry) and refunded stayed 'inquiry', its refund counted nowhere. The order is now
-- pending < failed < succeeded (and the other ends) < inquiry < partially_refunded <
-- refunded < disputed < dispute_won, dispute_lost. A Stripe dispute, the only other
-- inquiry, is a payment row of its own, never refunded, so nothing else moves.
-- Re-decided here for the payments stored before, from their stored events, as sql/013
-- did: it reads every processed event that names a payment once; migrate when no load runs.
WITH best AS (
	SELECT DISTINCT ON (project_id, provider, payment_id) project_id, provider, payment_id,
		external_event_id, event_type, COALESCE(occurred_at, '-infinity') AS occ,
		event->'payment' AS pay, (event->>'livemode')::boolean AS livemode
	FROM external_events_normalized
	WHERE status = 'processed' AND payment_id IS NOT NULL
	ORDER BY project_id, provider, payment_id, COALESCE(occurred_at, '-infinity') DESC,
		CASE event #>> '{payment,status}' WHEN 'pending' THEN 1 WHEN 'failed' THEN 2
			WHEN 'inquiry' THEN 4 WHEN 'partially_refunded' THEN 5 WHEN 'refunded' THEN 6
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
