-- 008_payment_same_instant.sql: a payment's state is its latest event's, and events in the
-- same instant are now ordered by the stage of the payment's life their status is
-- (pending, failed, then succeeded / canceled / expired / uncollectible, partially
-- refunded, refunded, disputed, the dispute's outcome), then by event id: Stripe's
-- times are whole seconds, and an invoice finalized and paid in one second was left
-- pending whenever the finalizing event's random id sorted last. The loader applies the
-- rule from now on (src/load.c, PAY_STAGE); this re-decides the payments stored before,
-- from their stored events. It reads every processed event that names a payment once:
-- migrate when no load runs.
WITH best AS (
	SELECT DISTINCT ON (project_id, provider, payment_id) project_id, provider, payment_id,
		external_event_id, event_type, COALESCE(occurred_at, '-infinity') AS occ,
		event->'payment' AS pay, (event->>'livemode')::boolean AS livemode
	FROM external_events_normalized
	WHERE status = 'processed' AND payment_id IS NOT NULL
	ORDER BY project_id, provider, payment_id, COALESCE(occurred_at, '-infinity') DESC,
		CASE event #>> '{payment,status}' WHEN 'pending' THEN 1 WHEN 'failed' THEN 2
			WHEN 'partially_refunded' THEN 4 WHEN 'refunded' THEN 5 WHEN 'disputed' THEN 6
			WHEN 'dispute_won' THEN 7 WHEN 'dispute_lost' THEN 7 ELSE 3 END DESC,
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
