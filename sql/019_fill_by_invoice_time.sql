-- 019_fill_by_invoice_time.sql: a subscription no subscription.* event has set (a Stripe
-- endpoint that takes invoice events only) takes each field from the invoice made last, not
-- from the latest event. An invoice paid late (net 30, a bank transfer), voided or marked
-- uncollectible weeks on still tells the subscription as it was when it was made: by event
-- time it outranked the upgrade and the renewal after it, and the subscription went back to
-- the old plan and period. The canonical subscription section gains invoiced_at
-- (docs/events.md: the invoice's created, `date` before 2019-03-14), and the loader orders
-- the sections that fill a subscription by it (an event without one: by its own time), then
-- by the event's time, then its id (src/load.c, FILL_AT); fill_as_of stamps each field with
-- that first time, fill_occurred_at (sql/004) with the event's. A Hotmart subscription event, which
-- only fills too, no longer ranks over another event of the same instant by its type: the
-- loader's merge could not tell, so a clean load and a re-run could differ.
-- It reads the stored events with a subscription section once, with their raw rows, and
-- the events of every subscription only other events set: migrate when no load runs.
ALTER TABLE subscriptions ADD COLUMN fill_as_of timestamptz[];
COMMENT ON COLUMN subscriptions.fill_as_of IS
	'per field: the time of the state the event that gave it tells (its invoiced_at, else occurred_at)';

-- A Stripe invoice event's invoiced_at from its raw payload, as normalize writes it: the
-- invoice's created, else its date, integer seconds in 1..9999-12-31 as an RFC 3339 text;
-- JSON null when there is none (or no payload). The loader gives it to a canonical event
-- written without the key (an older normalize, canonical NDJSON kept) from its raw copy.
CREATE FUNCTION stripe_invoiced_at(payload jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN jsonb_typeof(t) = 'number' AND (t #>> '{}') ~ '^[1-9][0-9]{0,11}$'
		AND (t #>> '{}')::bigint <= 253402300799
	THEN to_jsonb(to_char(to_timestamp((t #>> '{}')::bigint) AT TIME ZONE 'UTC',
		'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
	ELSE 'null'::jsonb END
	FROM (SELECT COALESCE(NULLIF(payload #> '{data,object,created}', 'null'),
		payload #> '{data,object,date}') AS t) c
$$;

-- The stored events as normalize writes them now, so that re-running old dumps finds them
-- unchanged: every subscription section gets invoiced_at, a Stripe invoice event's from its
-- raw payload, every other one null.
UPDATE external_events_normalized n
SET event = jsonb_set(n.event, '{subscription,invoiced_at}',
	CASE WHEN n.provider = 'stripe' AND n.event->>'provider_event_type' LIKE 'invoice.%'
	THEN stripe_invoiced_at((SELECT r.payload FROM external_events_raw r
		WHERE (r.provider, r.external_event_id) = (n.provider, n.external_event_id)))
	ELSE 'null'::jsonb END)
WHERE jsonb_typeof(n.event -> 'subscription') = 'object'
	AND NOT (n.event -> 'subscription') ? 'invoiced_at';

-- Every subscription only other events set, re-decided from its stored events as the
-- loader's recompute does: each field from the latest by (invoiced_at, else occurred_at;
-- occurred_at; event id) that had it, the state stamp from the latest by (occurred_at,
-- event id). The customer does not change. A plan set by hand stays (sql/016).
SELECT set_config('revenueos.writer', 'load', true);
WITH field (i, name) AS (
	VALUES (1, 'price_id'), (2, 'product_id'), (3, 'status'), (4, 'interval'),
		(5, 'interval_count'), (6, 'quantity'), (7, 'current_period_start'),
		(8, 'current_period_end'), (9, 'cancel_at_period_end'), (10, 'canceled_at'),
		(11, 'trial_end'), (12, 'cancel_at')
), subs AS (
	SELECT project_id, provider, subscription_id FROM subscriptions WHERE fill_event_id IS NOT NULL
), ev AS (
	SELECT n.project_id, n.provider, n.subscription_id, n.external_event_id AS id, n.event_type,
		COALESCE(n.occurred_at, '-infinity') AS occ,
		COALESCE((n.event #>> '{subscription,invoiced_at}')::timestamptz, n.occurred_at,
			'-infinity') AS fo,
		n.event->'subscription' AS s
	FROM subs JOIN external_events_normalized n USING (project_id, provider, subscription_id)
	WHERE n.status = 'processed'
), latest AS (  -- per subscription and field, the event of the latest state that had it
	SELECT DISTINCT ON (e.project_id, e.provider, e.subscription_id, f.i)
		e.project_id, e.provider, e.subscription_id, f.i, e.fo, e.occ, e.id,
		e.s->>f.name AS v, e.s->>'plan_code' AS plan_code
	FROM ev e JOIN field f ON e.s->>f.name IS NOT NULL
	ORDER BY e.project_id, e.provider, e.subscription_id, f.i, e.fo DESC, e.occ DESC, e.id DESC
), agg AS (  -- in field order, NULL for a field no event had
	SELECT k.project_id, k.provider, k.subscription_id,
		array_agg(l.fo ORDER BY f.i) AS fos, array_agg(l.occ ORDER BY f.i) AS occs,
		array_agg(l.id ORDER BY f.i) AS ids, array_agg(l.v ORDER BY f.i) AS v,
		max(l.plan_code) FILTER (WHERE f.i = 1) AS plan_code
	FROM subs k CROSS JOIN field f
	LEFT JOIN latest l ON (l.project_id, l.provider, l.subscription_id, l.i) =
		(k.project_id, k.provider, k.subscription_id, f.i)
	GROUP BY k.project_id, k.provider, k.subscription_id
), st AS (  -- the state: the latest event
	SELECT DISTINCT ON (project_id, provider, subscription_id) project_id, provider,
		subscription_id, occ, id, event_type
	FROM ev ORDER BY project_id, provider, subscription_id, occ DESC, id DESC
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
	state_occurred_at = s.occ, state_event_id = s.id, state_event_type = s.event_type,
	fill_as_of = a.fos, fill_occurred_at = a.occs, fill_event_id = a.ids
FROM agg a JOIN st s USING (project_id, provider, subscription_id)
WHERE (t.project_id, t.provider, t.subscription_id) = (a.project_id, a.provider, a.subscription_id);
