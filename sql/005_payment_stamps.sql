-- 005_payment_stamps.sql: a payment's customer_id is the latest non-null customer over
-- the processed events about the payment (a refund or dispute webhook that names no
-- customer keeps the one an earlier event gave), with the stamp of the event that
-- gave it, so any load order ends the same; before, it depended on the order. And an
-- index to find a payment's stored events: a re-run that changes an event recomputes
-- the payments it names (now and before) from them. A hash index: every load inserts
-- into it, and on 200k events it cost 0.1 s where a btree on (project_id, provider,
-- payment_id) cost 0.4 s. docs/schema.md, "The order-safety rule". customer_id is
-- recomputed here from the stored events.
ALTER TABLE payments ADD COLUMN customer_occurred_at timestamptz, ADD COLUMN customer_event_id text;
CREATE INDEX external_events_normalized_payment
	ON external_events_normalized USING hash (payment_id) WHERE payment_id IS NOT NULL;

WITH agg AS (
	SELECT project_id, provider, payment_id,
		(array_agg(customer_id ORDER BY COALESCE(occurred_at, '-infinity') DESC, external_event_id DESC)
			FILTER (WHERE customer_id IS NOT NULL))[1] AS customer_id,
		(array_agg(COALESCE(occurred_at, '-infinity') ORDER BY COALESCE(occurred_at, '-infinity') DESC,
			external_event_id DESC) FILTER (WHERE customer_id IS NOT NULL))[1] AS occ,
		(array_agg(external_event_id ORDER BY COALESCE(occurred_at, '-infinity') DESC,
			external_event_id DESC) FILTER (WHERE customer_id IS NOT NULL))[1] AS id
	FROM external_events_normalized
	WHERE status = 'processed' AND payment_id IS NOT NULL
	GROUP BY project_id, provider, payment_id
)
UPDATE payments t SET customer_id = a.customer_id, customer_occurred_at = a.occ, customer_event_id = a.id
FROM agg a
WHERE (t.project_id, t.provider, t.payment_id) = (a.project_id, a.provider, a.payment_id);
