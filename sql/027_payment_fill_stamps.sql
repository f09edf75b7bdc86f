-- 027_payment_fill_stamps.sql: a payment's fields that say what it belongs to and when it
-- was due and paid (invoice_id, subscription_id, charge_id, payment_intent_id, due_at,
-- paid_at) are no longer erased by a later event that does not carry them. They came from
-- the latest event about the payment, nulls included: a Hotmart PURCHASE_REFUNDED without
-- its subscription section unlinked the refunded renewal from its subscription; a Stripe
-- invoice event of a later API version (basil moved the charge and payment intent off the
-- Invoice) lost the ones an earlier event named. Each is now the latest non-null over the
-- payment's processed events by (occurred_at, external_event_id), as customer_id is
-- (sql/005), and keeps that event's stamp: fill_occurred_at[i] / fill_event_id[i], i in
-- the order above (src/load.c, PAY_FILL). The status, amounts, method, installments,
-- failure code and livemode still follow the latest event (PAY_ORDER): the method is the
-- latest attempt's.
-- This stamps and re-decides the payments stored before, from their stored events, as the
-- loader's recompute does. It reads every processed event that names a payment once:
-- migrate when no load runs.
ALTER TABLE payments ADD COLUMN fill_occurred_at timestamptz[], ADD COLUMN fill_event_id text[];

WITH ev AS (
	SELECT project_id, provider, payment_id, external_event_id AS id,
		COALESCE(occurred_at, '-infinity') AS occ,
		event #>> '{payment,invoice_id}' AS v1, event #>> '{payment,subscription_id}' AS v2,
		event #>> '{payment,charge_id}' AS v3, event #>> '{payment,payment_intent_id}' AS v4,
		event #>> '{payment,due_at}' AS v5, event #>> '{payment,paid_at}' AS v6
	FROM external_events_normalized
	WHERE status = 'processed' AND payment_id IS NOT NULL
), f AS (
	SELECT * FROM (
		SELECT project_id, provider, payment_id, row_number() OVER w AS rn,
			(array_agg(v1) FILTER (WHERE v1 IS NOT NULL) OVER w)[1] AS v1,
			(array_agg(occ) FILTER (WHERE v1 IS NOT NULL) OVER w)[1] AS o1,
			(array_agg(id) FILTER (WHERE v1 IS NOT NULL) OVER w)[1] AS i1,
			(array_agg(v2) FILTER (WHERE v2 IS NOT NULL) OVER w)[1] AS v2,
			(array_agg(occ) FILTER (WHERE v2 IS NOT NULL) OVER w)[1] AS o2,
			(array_agg(id) FILTER (WHERE v2 IS NOT NULL) OVER w)[1] AS i2,
			(array_agg(v3) FILTER (WHERE v3 IS NOT NULL) OVER w)[1] AS v3,
			(array_agg(occ) FILTER (WHERE v3 IS NOT NULL) OVER w)[1] AS o3,
			(array_agg(id) FILTER (WHERE v3 IS NOT NULL) OVER w)[1] AS i3,
			(array_agg(v4) FILTER (WHERE v4 IS NOT NULL) OVER w)[1] AS v4,
			(array_agg(occ) FILTER (WHERE v4 IS NOT NULL) OVER w)[1] AS o4,
			(array_agg(id) FILTER (WHERE v4 IS NOT NULL) OVER w)[1] AS i4,
			(array_agg(v5) FILTER (WHERE v5 IS NOT NULL) OVER w)[1] AS v5,
			(array_agg(occ) FILTER (WHERE v5 IS NOT NULL) OVER w)[1] AS o5,
			(array_agg(id) FILTER (WHERE v5 IS NOT NULL) OVER w)[1] AS i5,
			(array_agg(v6) FILTER (WHERE v6 IS NOT NULL) OVER w)[1] AS v6,
			(array_agg(occ) FILTER (WHERE v6 IS NOT NULL) OVER w)[1] AS o6,
			(array_agg(id) FILTER (WHERE v6 IS NOT NULL) OVER w)[1] AS i6
		FROM ev
		WINDOW w AS (PARTITION BY project_id, provider, payment_id ORDER BY occ DESC, id DESC
			ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
	) x WHERE rn = 1
)
UPDATE payments p SET
	invoice_id = f.v1, subscription_id = f.v2, charge_id = f.v3, payment_intent_id = f.v4,
	due_at = f.v5::timestamptz, paid_at = f.v6::timestamptz,
	fill_occurred_at = ARRAY[f.o1, f.o2, f.o3, f.o4, f.o5, f.o6],
	fill_event_id = ARRAY[f.i1, f.i2, f.i3, f.i4, f.i5, f.i6]
FROM f
WHERE (p.project_id, p.provider, p.payment_id) = (f.project_id, f.provider, f.payment_id);
