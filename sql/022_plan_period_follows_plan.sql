-- 022_plan_period_follows_plan.sql: a subscription no subscription.* event has set takes
-- its interval and interval_count from the latest event that told them and named the plan
-- the subscription has (its price_id; no plan when it has none), no longer from the latest
-- that told them whatever plan it named. A Hotmart SWITCH_PLAN names the new plan and not
-- its period: the subscription kept the old plan's period beside the new plan (monthly on
-- what may be a yearly plan) until a purchase under the new plan told it; now it has none
-- until then, or the period it had on that plan before (a switch back). The loader
-- recomputes such a subscription from its stored events when a batch names another plan
-- (src/load.c, TOLD_PLAN). Subscriptions a subscription.* event set (fill_event_id null)
-- are unchanged: that event gives every field. It reads the stored events of every
-- subscription only other events set: migrate when no load runs.
SELECT set_config('revenueos.writer', 'load', true);
WITH ev AS (
	SELECT t.project_id, t.provider, t.subscription_id, n.external_event_id AS id,
		COALESCE(n.occurred_at, '-infinity') AS occ,
		COALESCE((n.event #>> '{subscription,invoiced_at}')::timestamptz, n.occurred_at,
			'-infinity') AS fo,
		n.event->'subscription' AS s
	FROM subscriptions t JOIN external_events_normalized n USING (project_id, provider, subscription_id)
	WHERE t.fill_event_id IS NOT NULL AND n.status = 'processed'
		AND n.event #>> '{subscription,price_id}' IS NOT DISTINCT FROM t.price_id
), iv AS (  -- the latest that told the interval, by (fo, occurred_at, event id)
	SELECT DISTINCT ON (project_id, provider, subscription_id) project_id, provider,
		subscription_id, s->>'interval' AS v, fo, occ, id
	FROM ev WHERE s->>'interval' IS NOT NULL
	ORDER BY project_id, provider, subscription_id, fo DESC, occ DESC, id DESC
), ic AS (  -- and the interval_count
	SELECT DISTINCT ON (project_id, provider, subscription_id) project_id, provider,
		subscription_id, s->>'interval_count' AS v, fo, occ, id
	FROM ev WHERE s->>'interval_count' IS NOT NULL
	ORDER BY project_id, provider, subscription_id, fo DESC, occ DESC, id DESC
)
UPDATE subscriptions t SET
	interval = iv.v, interval_count = ic.v::bigint,
	fill_as_of = t.fill_as_of[1:3] || ARRAY[iv.fo, ic.fo] || t.fill_as_of[6:],
	fill_occurred_at = t.fill_occurred_at[1:3] || ARRAY[iv.occ, ic.occ] || t.fill_occurred_at[6:],
	fill_event_id = t.fill_event_id[1:3] || ARRAY[iv.id, ic.id] || t.fill_event_id[6:]
FROM subscriptions k
	LEFT JOIN iv ON (iv.project_id, iv.provider, iv.subscription_id) = (k.project_id, k.provider, k.subscription_id)
	LEFT JOIN ic ON (ic.project_id, ic.provider, ic.subscription_id) = (k.project_id, k.provider, k.subscription_id)
WHERE k.fill_event_id IS NOT NULL
	AND (t.project_id, t.provider, t.subscription_id) = (k.project_id, k.provider, k.subscription_id);
