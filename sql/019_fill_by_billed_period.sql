-- 019_fill_by_billed_period.sql: a subscription no subscription.* event has set (a Stripe
-- endpoint that takes invoice events only) takes each field from the section that bills
-- the latest time, not from the latest event. An invoice paid late (net 30, a bank
-- transfer), voided or marked uncollectible weeks on bills a period gone by: by event
-- time it outranked the renewal and the upgrade after it, and the subscription went back
-- to the old plan and period. The canonical subscription section gains billed_from
-- (docs/events.md: the start of what the invoice line bills, the period's start or a
-- proration's change), and the loader orders the sections that fill a subscription by
-- it, else by the event's time (src/load.c, FILL_AT); the field stamps (sql/004,
-- fill_occurred_at) hold that time.
-- It reads the stored events with a subscription section once, and those of the
-- subscriptions it re-decides: migrate when no load runs. `load --migrate` runs it in
-- one transaction (by hand: psql --single-transaction).

-- The stored events as normalize writes them now, so that re-running old dumps finds
-- them unchanged: every subscription section gets billed_from. A Stripe invoice's full
-- period line gives it its start, which is its current_period_start; a proration's or a
-- metered line's start was not kept, so those stay null here (the key falls back to the
-- event's time) until their dumps are re-run.
UPDATE external_events_normalized
SET event = jsonb_set(event, '{subscription,billed_from}',
	CASE WHEN provider = 'stripe' AND NOT coalesce(event_type LIKE 'subscription.%', false)
	THEN coalesce(event #> '{subscription,current_period_start}', 'null') ELSE 'null' END)
WHERE jsonb_typeof(event -> 'subscription') = 'object'
	AND NOT (event -> 'subscription') ? 'billed_from';

-- The subscriptions only other events set whose events say what they bill, re-decided
-- from their stored events as the loader's recompute does: per field, the latest by
-- (billed_from, else occurred_at; then created < updated < canceled, then event id)
-- that had it. The state stamp (the
-- latest event) and the customer do not change. A plan set by hand stays (sql/016).
SELECT set_config('revenueos.writer', 'load', true);
WITH field (i, name) AS (
	VALUES (1, 'price_id'), (2, 'product_id'), (3, 'status'), (4, 'interval'),
		(5, 'interval_count'), (6, 'quantity'), (7, 'current_period_start'),
		(8, 'current_period_end'), (9, 'cancel_at_period_end'), (10, 'canceled_at'),
		(11, 'trial_end'), (12, 'cancel_at')
), subs AS (
	SELECT t.project_id, t.provider, t.subscription_id FROM subscriptions t
	WHERE t.fill_event_id IS NOT NULL AND EXISTS (SELECT 1 FROM external_events_normalized n
		WHERE (n.project_id, n.provider, n.subscription_id) =
			(t.project_id, t.provider, t.subscription_id)
		AND n.status = 'processed' AND n.event #>> '{subscription,billed_from}' IS NOT NULL)
), ev AS (
	SELECT n.project_id, n.provider, n.subscription_id, n.external_event_id AS id,
		COALESCE((n.event #>> '{subscription,billed_from}')::timestamptz, n.occurred_at,
			'-infinity') AS fo,
		CASE n.event_type WHEN 'subscription.created' THEN 1 WHEN 'subscription.updated' THEN 2
			WHEN 'subscription.canceled' THEN 3 ELSE 0 END AS rank,
		n.event->'subscription' AS s
	FROM subs JOIN external_events_normalized n USING (project_id, provider, subscription_id)
	WHERE n.status = 'processed'
), latest AS (  -- per subscription and field, the event that bills the latest and had it
	SELECT DISTINCT ON (e.project_id, e.provider, e.subscription_id, f.i)
		e.project_id, e.provider, e.subscription_id, f.i, e.fo, e.id, e.s->>f.name AS v,
		e.s->>'plan_code' AS plan_code
	FROM ev e JOIN field f ON e.s->>f.name IS NOT NULL
	ORDER BY e.project_id, e.provider, e.subscription_id, f.i, e.fo DESC, e.rank DESC, e.id DESC
), agg AS (  -- in field order, NULL for a field no event had
	SELECT k.project_id, k.provider, k.subscription_id,
		array_agg(l.fo ORDER BY f.i) AS fos, array_agg(l.id ORDER BY f.i) AS ids,
		array_agg(l.v ORDER BY f.i) AS v, max(l.plan_code) FILTER (WHERE f.i = 1) AS plan_code
	FROM subs k CROSS JOIN field f
	LEFT JOIN latest l ON (l.project_id, l.provider, l.subscription_id, l.i) =
		(k.project_id, k.provider, k.subscription_id, f.i)
	GROUP BY k.project_id, k.provider, k.subscription_id
)
UPDATE subscriptions t SET
	price_id = a.v[1], event_plan_code = a.plan_code,
	plan_id = CASE WHEN t.plan_set_by_hand_at IS NOT NULL THEN t.plan_id
		ELSE COALESCE(a.plan_code, (SELECT pp.plan_id FROM plan_prices pp
			WHERE pp.provider = t.provider AND pp.price_id = a.v[1])) END,
	product_id = a.v[2], status = a.v[3], interval = a.v[4],
	interval_count = a.v[5]::bigint, quantity = a.v[6]::bigint,
	current_period_start = a.v[7]::timestamptz, current_period_end = a.v[8]::timestamptz,
	cancel_at_period_end = a.v[9]::boolean, canceled_at = a.v[10]::timestamptz,
	trial_end = a.v[11]::timestamptz, cancel_at = a.v[12]::timestamptz,
	fill_occurred_at = a.fos, fill_event_id = a.ids
FROM agg a
WHERE (t.project_id, t.provider, t.subscription_id) = (a.project_id, a.provider, a.subscription_id)
	AND (t.price_id, t.event_plan_code, t.plan_id, t.product_id, t.status, t.interval,
		t.interval_count, t.quantity, t.current_period_start, t.current_period_end,
		t.cancel_at_period_end, t.canceled_at, t.trial_end, t.cancel_at, t.fill_occurred_at,
		t.fill_event_id) IS DISTINCT FROM (a.v[1], a.plan_code, t.plan_id, a.v[2], a.v[3],
		a.v[4], a.v[5]::bigint, a.v[6]::bigint, a.v[7]::timestamptz, a.v[8]::timestamptz,
		a.v[9]::boolean, a.v[10]::timestamptz, a.v[11]::timestamptz, a.v[12]::timestamptz,
		a.fos, a.ids);
