-- 004_subscription_fill_stamps.sql: which event gave each field of a subscription
-- that no subscription.* event has set yet (its fields come from other events,
-- invoices, one by one), so the loader merges such a subscription with a batch's new
-- events instead of recomputing it from every stored event each time an invoice
-- names it. The rows' values do not change; the stamps are filled from the stored
-- events here. docs/schema.md, "The order-safety rule".
--
-- fill_occurred_at[i], fill_event_id[i]: the stamp (occurred_at, external_event_id)
-- of the latest processed event that had field i ('-infinity' for an event without
-- occurred_at; NULL when none had it): 1 price_id (and plan_code, from the same
-- event), 2 product_id, 3 status, 4 interval, 5 interval_count, 6 quantity,
-- 7 current_period_start, 8 current_period_end, 9 cancel_at_period_end,
-- 10 canceled_at, 11 trial_end. Both NULL once a subscription.* event gives the
-- fields (state_event_type says so).
ALTER TABLE subscriptions ADD COLUMN fill_occurred_at timestamptz[], ADD COLUMN fill_event_id text[];

WITH field (i, name) AS (
	VALUES (1, 'price_id'), (2, 'product_id'), (3, 'status'), (4, 'interval'),
		(5, 'interval_count'), (6, 'quantity'), (7, 'current_period_start'),
		(8, 'current_period_end'), (9, 'cancel_at_period_end'), (10, 'canceled_at'),
		(11, 'trial_end')
), ev AS (
	SELECT project_id, provider, subscription_id, external_event_id AS id,
		COALESCE(occurred_at, '-infinity') AS occ, event->'subscription' AS s
	FROM external_events_normalized
	WHERE status = 'processed' AND subscription_id IS NOT NULL
), latest AS (  -- per subscription and field, the latest event that had it
	SELECT DISTINCT ON (e.project_id, e.provider, e.subscription_id, f.i)
		e.project_id, e.provider, e.subscription_id, f.i, e.occ, e.id
	FROM ev e JOIN field f ON e.s->>f.name IS NOT NULL
	ORDER BY e.project_id, e.provider, e.subscription_id, f.i, e.occ DESC, e.id DESC
), agg AS (  -- in field order, NULL for a field no event had
	SELECT k.project_id, k.provider, k.subscription_id,
		array_agg(l.occ ORDER BY f.i) AS occs, array_agg(l.id ORDER BY f.i) AS ids
	FROM (SELECT DISTINCT project_id, provider, subscription_id FROM ev) k CROSS JOIN field f
	LEFT JOIN latest l ON (l.project_id, l.provider, l.subscription_id, l.i) =
		(k.project_id, k.provider, k.subscription_id, f.i)
	GROUP BY k.project_id, k.provider, k.subscription_id
)
UPDATE subscriptions t SET fill_occurred_at = a.occs, fill_event_id = a.ids
FROM agg a
WHERE (t.project_id, t.provider, t.subscription_id) = (a.project_id, a.provider, a.subscription_id)
	AND NOT coalesce(t.state_event_type LIKE 'subscription.%', false);
