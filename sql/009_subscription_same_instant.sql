-- 009_subscription_same_instant.sql: subscription.* events in the same instant are now
-- ordered created, updated, canceled, then by event id (src/load.c, SUB_RANK), where the
-- event id alone decided: Stripe's times are whole seconds, and a subscription created
-- incomplete and made active by its first payment in one second was left incomplete
-- whenever the creating event's random id sorted last. This re-decides the subscriptions
-- stored before whose state came from a subscription.* event, from their stored events.
-- It reads every processed subscription.* event once: migrate when no load runs.
WITH best AS (
	SELECT DISTINCT ON (project_id, provider, subscription_id) project_id, provider,
		subscription_id, external_event_id, event_type,
		COALESCE(occurred_at, '-infinity') AS occ, event->'subscription' AS s
	FROM external_events_normalized
	WHERE status = 'processed' AND subscription_id IS NOT NULL
		AND event_type LIKE 'subscription.%'
	ORDER BY project_id, provider, subscription_id, COALESCE(occurred_at, '-infinity') DESC,
		CASE event_type WHEN 'subscription.created' THEN 1 WHEN 'subscription.updated' THEN 2
			WHEN 'subscription.canceled' THEN 3 ELSE 0 END DESC,
		external_event_id DESC
)
UPDATE subscriptions t SET
	plan_id = COALESCE(b.s->>'plan_code', (SELECT pp.plan_id FROM plan_prices pp
		WHERE pp.provider = b.provider AND pp.price_id = b.s->>'price_id')),
	price_id = b.s->>'price_id', product_id = b.s->>'product_id', status = b.s->>'status',
	interval = b.s->>'interval', interval_count = (b.s->>'interval_count')::bigint,
	quantity = (b.s->>'quantity')::bigint,
	current_period_start = (b.s->>'current_period_start')::timestamptz,
	current_period_end = (b.s->>'current_period_end')::timestamptz,
	cancel_at_period_end = (b.s->>'cancel_at_period_end')::boolean,
	canceled_at = (b.s->>'canceled_at')::timestamptz, trial_end = (b.s->>'trial_end')::timestamptz,
	event_plan_code = b.s->>'plan_code', state_occurred_at = b.occ,
	state_event_id = b.external_event_id, state_event_type = b.event_type
FROM best b
WHERE (t.project_id, t.provider, t.subscription_id) = (b.project_id, b.provider, b.subscription_id)
	AND coalesce(t.state_event_type LIKE 'subscription.%', false)
	AND t.state_event_id IS DISTINCT FROM b.external_event_id;
