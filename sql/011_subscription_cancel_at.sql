-- 011_subscription_cancel_at.sql: a subscription's scheduled end, cancel_at (Stripe's
-- cancel_at: the period's end, or any date an API call or a contract set), where only
-- cancel_at_period_end was kept and a cancellation on another date left the subscription
-- looking as if it renewed. The canonical event's subscription section gains the key
-- (docs/events.md); the subscriptions' field stamps (sql/004) its index, 12.
ALTER TABLE subscriptions ADD COLUMN cancel_at timestamptz;

-- The stored events as normalize writes them now, so that re-running old dumps finds
-- them unchanged: every subscription section gets cancel_at, a Stripe subscription
-- event's from its raw payload (integer seconds, written as normalize writes times),
-- every other one null. It reads the events with a subscription section once and their
-- raw rows: migrate when no load runs.
WITH v AS (
	SELECT n.provider, n.external_event_id,
		CASE WHEN n.provider = 'stripe' AND n.event_type LIKE 'subscription.%'
			AND jsonb_typeof(r.payload #> '{data,object,cancel_at}') = 'number'
			AND (r.payload #>> '{data,object,cancel_at}') ~ '^[0-9]{1,11}$'
		THEN to_jsonb(to_char(to_timestamp((r.payload #>> '{data,object,cancel_at}')::bigint)
			AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
		ELSE 'null'::jsonb END AS cancel_at
	FROM external_events_normalized n
	LEFT JOIN external_events_raw r USING (provider, external_event_id)
	WHERE jsonb_typeof(n.event -> 'subscription') = 'object'
		AND NOT (n.event -> 'subscription') ? 'cancel_at'
)
UPDATE external_events_normalized n
SET event = jsonb_set(n.event, '{subscription,cancel_at}', v.cancel_at)
FROM v
WHERE (n.provider, n.external_event_id) = (v.provider, v.external_event_id);

-- A subscription a subscription.* event set takes that event's cancel_at, as the loader
-- would; one only other events set has none (they never carry it).
UPDATE subscriptions t SET cancel_at = (n.event #>> '{subscription,cancel_at}')::timestamptz
FROM external_events_normalized n
WHERE (n.provider, n.external_event_id) = (t.provider, t.state_event_id)
	AND coalesce(t.state_event_type LIKE 'subscription.%', false)
	AND n.event #>> '{subscription,cancel_at}' IS NOT NULL;

-- The field stamps of a subscription only other events set (sql/004) gain a 12th
-- element, cancel_at's, as the loader writes them now: the stamp of the latest processed
-- event whose section had a cancel_at (none did before this release; an event another
-- tool wrote might have), NULL when none; that event's value is the row's.
UPDATE subscriptions SET fill_occurred_at = fill_occurred_at || NULL::timestamptz,
	fill_event_id = fill_event_id || NULL::text
WHERE cardinality(fill_event_id) = 11;
WITH latest AS (
	SELECT DISTINCT ON (project_id, provider, subscription_id) project_id, provider,
		subscription_id, COALESCE(occurred_at, '-infinity') AS occ, external_event_id AS id,
		(event #>> '{subscription,cancel_at}')::timestamptz AS cancel_at
	FROM external_events_normalized
	WHERE status = 'processed' AND subscription_id IS NOT NULL
		AND event #>> '{subscription,cancel_at}' IS NOT NULL
	ORDER BY project_id, provider, subscription_id, COALESCE(occurred_at, '-infinity') DESC,
		external_event_id DESC
)
UPDATE subscriptions t SET cancel_at = l.cancel_at, fill_occurred_at[12] = l.occ,
	fill_event_id[12] = l.id
FROM latest l
WHERE (t.project_id, t.provider, t.subscription_id) = (l.project_id, l.provider, l.subscription_id)
	AND t.fill_event_id IS NOT NULL
	AND NOT coalesce(t.state_event_type LIKE 'subscription.%', false);
