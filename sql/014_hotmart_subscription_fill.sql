-- 014_hotmart_subscription_fill.sql: Hotmart's subscription events (SWITCH_PLAN,
-- UPDATE_SUBSCRIPTION_CHARGE_DATE, SUBSCRIPTION_CANCELLATION) carry a part of the
-- subscription, as its purchases do, and are no longer its authority (src/load.c,
-- SUB_AUTH): every field of a Hotmart subscription is the latest value any of its events
-- gave, stamped per field (fill_occurred_at / fill_event_id, sql/004). Before, the latest
-- such event gave every field, its nulls included (a charge date change blanked the
-- interval), and a later renewal or DELAYED purchase could not move the status or the
-- period. This re-decides the Hotmart subscriptions stored before whose state came from
-- one of those events, from their stored events, as the loader's recompute does: events
-- latest first by occurred_at, then created < updated < canceled, then event id.
-- It reads the stored events of those subscriptions once: migrate when no load runs.
WITH field (i, name) AS (
	VALUES (1, 'price_id'), (2, 'product_id'), (3, 'status'), (4, 'interval'),
		(5, 'interval_count'), (6, 'quantity'), (7, 'current_period_start'),
		(8, 'current_period_end'), (9, 'cancel_at_period_end'), (10, 'canceled_at'),
		(11, 'trial_end'), (12, 'cancel_at')
), subs AS (
	SELECT project_id, provider, subscription_id FROM subscriptions
	WHERE provider = 'hotmart' AND state_event_type LIKE 'subscription.%'
), ev AS (
	SELECT n.project_id, n.provider, n.subscription_id, n.external_event_id AS id,
		n.event_type, COALESCE(n.occurred_at, '-infinity') AS occ,
		CASE n.event_type WHEN 'subscription.created' THEN 1 WHEN 'subscription.updated' THEN 2
			WHEN 'subscription.canceled' THEN 3 ELSE 0 END AS rank,
		n.event->'subscription' AS s
	FROM subs JOIN external_events_normalized n USING (project_id, provider, subscription_id)
	WHERE n.status = 'processed'
), latest AS (  -- per subscription and field, the latest event that had it
	SELECT DISTINCT ON (e.project_id, e.provider, e.subscription_id, f.i)
		e.project_id, e.provider, e.subscription_id, f.i, e.occ, e.id, e.s->>f.name AS v,
		e.s->>'plan_code' AS plan_code
	FROM ev e JOIN field f ON e.s->>f.name IS NOT NULL
	ORDER BY e.project_id, e.provider, e.subscription_id, f.i, e.occ DESC, e.rank DESC, e.id DESC
), agg AS (  -- in field order, NULL for a field no event had
	SELECT k.project_id, k.provider, k.subscription_id,
		array_agg(l.occ ORDER BY f.i) AS occs, array_agg(l.id ORDER BY f.i) AS ids,
		array_agg(l.v ORDER BY f.i) AS v, max(l.plan_code) FILTER (WHERE f.i = 1) AS plan_code
	FROM subs k CROSS JOIN field f
	LEFT JOIN latest l ON (l.project_id, l.provider, l.subscription_id, l.i) =
		(k.project_id, k.provider, k.subscription_id, f.i)
	GROUP BY k.project_id, k.provider, k.subscription_id
), st AS (  -- the state: the latest event
	SELECT DISTINCT ON (project_id, provider, subscription_id) project_id, provider,
		subscription_id, occ, id, event_type
	FROM ev ORDER BY project_id, provider, subscription_id, occ DESC, rank DESC, id DESC
)
UPDATE subscriptions t SET
	price_id = a.v[1], event_plan_code = a.plan_code,
	plan_id = COALESCE(a.plan_code, (SELECT pp.plan_id FROM plan_prices pp
		WHERE pp.provider = t.provider AND pp.price_id = a.v[1])),
	product_id = a.v[2], status = a.v[3], interval = a.v[4],
	interval_count = a.v[5]::bigint, quantity = a.v[6]::bigint,
	current_period_start = a.v[7]::timestamptz, current_period_end = a.v[8]::timestamptz,
	cancel_at_period_end = a.v[9]::boolean, canceled_at = a.v[10]::timestamptz,
	trial_end = a.v[11]::timestamptz, cancel_at = a.v[12]::timestamptz,
	state_occurred_at = s.occ, state_event_id = s.id, state_event_type = s.event_type,
	fill_occurred_at = a.occs, fill_event_id = a.ids
FROM agg a JOIN st s USING (project_id, provider, subscription_id)
WHERE (t.project_id, t.provider, t.subscription_id) = (a.project_id, a.provider, a.subscription_id);
