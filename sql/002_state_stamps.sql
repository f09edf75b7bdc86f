-- 002_state_stamps.sql: which event gave each state field, so the loader can apply
-- new events to customers and subscriptions incrementally (a maximum per field over
-- (occurred_at, external_event_id)) instead of recomputing them from every stored
-- event. The rows' values do not change; the new columns are filled from the stored
-- events here. docs/schema.md, "The order-safety rule".

-- customers: each field is its latest non-null value; *_occurred_at and *_event_id
-- name the event that gave it ('-infinity' when that event has no occurred_at).
ALTER TABLE customers
	ADD COLUMN email_occurred_at timestamptz, ADD COLUMN email_event_id text,
	ADD COLUMN name_occurred_at timestamptz, ADD COLUMN name_event_id text,
	ADD COLUMN phone_occurred_at timestamptz, ADD COLUMN phone_event_id text,
	ADD COLUMN country_occurred_at timestamptz, ADD COLUMN country_event_id text;

-- subscriptions: customer_id is the latest non-null over all the events naming the
-- subscription (customer_occurred_at / customer_event_id say which); event_plan_code
-- is the plan code the chosen event named itself (normalize --plans), which wins
-- over the price mapping.
ALTER TABLE subscriptions
	ADD COLUMN customer_occurred_at timestamptz, ADD COLUMN customer_event_id text,
	ADD COLUMN event_plan_code text;

WITH ev AS (
	SELECT project_id, provider, customer_id, external_event_id AS id,
		COALESCE(occurred_at, '-infinity') AS occ,
		event->'customer'->>'email' AS email, event->'customer'->>'name' AS name,
		event->'customer'->>'phone' AS phone, event->'customer'->>'country' AS country
	FROM external_events_normalized
	WHERE status = 'processed' AND customer_id IS NOT NULL
), agg AS (
	SELECT project_id, provider, customer_id,
		(array_agg(occ ORDER BY occ DESC, id DESC) FILTER (WHERE email IS NOT NULL))[1] AS email_occ,
		(array_agg(id ORDER BY occ DESC, id DESC) FILTER (WHERE email IS NOT NULL))[1] AS email_id,
		(array_agg(occ ORDER BY occ DESC, id DESC) FILTER (WHERE name IS NOT NULL))[1] AS name_occ,
		(array_agg(id ORDER BY occ DESC, id DESC) FILTER (WHERE name IS NOT NULL))[1] AS name_id,
		(array_agg(occ ORDER BY occ DESC, id DESC) FILTER (WHERE phone IS NOT NULL))[1] AS phone_occ,
		(array_agg(id ORDER BY occ DESC, id DESC) FILTER (WHERE phone IS NOT NULL))[1] AS phone_id,
		(array_agg(occ ORDER BY occ DESC, id DESC) FILTER (WHERE country IS NOT NULL))[1] AS country_occ,
		(array_agg(id ORDER BY occ DESC, id DESC) FILTER (WHERE country IS NOT NULL))[1] AS country_id
	FROM ev GROUP BY project_id, provider, customer_id
)
UPDATE customers c SET
	email_occurred_at = a.email_occ, email_event_id = a.email_id,
	name_occurred_at = a.name_occ, name_event_id = a.name_id,
	phone_occurred_at = a.phone_occ, phone_event_id = a.phone_id,
	country_occurred_at = a.country_occ, country_event_id = a.country_id
FROM agg a
WHERE (c.project_id, c.provider, c.customer_id) = (a.project_id, a.provider, a.customer_id);

WITH ev AS (
	SELECT project_id, provider, subscription_id, customer_id, external_event_id AS id,
		coalesce(event_type LIKE 'subscription.%', false) AS auth,
		COALESCE(occurred_at, '-infinity') AS occ, event->'subscription' AS s
	FROM external_events_normalized
	WHERE status = 'processed' AND subscription_id IS NOT NULL
), agg AS (
	SELECT project_id, provider, subscription_id,
		(array_agg(occ ORDER BY occ DESC, id DESC) FILTER (WHERE customer_id IS NOT NULL))[1] AS cus_occ,
		(array_agg(id ORDER BY occ DESC, id DESC) FILTER (WHERE customer_id IS NOT NULL))[1] AS cus_id,
		(array_agg(s ORDER BY auth DESC, occ DESC, id DESC)
			FILTER (WHERE auth OR s->>'price_id' IS NOT NULL))[1] AS ps
	FROM ev GROUP BY project_id, provider, subscription_id
)
UPDATE subscriptions t SET
	customer_occurred_at = a.cus_occ, customer_event_id = a.cus_id,
	event_plan_code = a.ps->>'plan_code'
FROM agg a
WHERE (t.project_id, t.provider, t.subscription_id) = (a.project_id, a.provider, a.subscription_id);
