-- 025_customer_fill_by_invoice_time.sql: a customer's contact field (email, name, phone,
-- country) that no Stripe customer.* event gave is the copy of the latest state, not of the
-- latest event. An invoice's customer_email, customer_name, customer_phone and
-- customer_address are frozen when it is finalized: an old invoice paid late (net 30) carries
-- the address the customer had then, and on an endpoint that takes no customer events it
-- wrote that address back over a later invoice's, by its event's time. The loader now ranks
-- such a copy by when its invoice was made (src/load.c, CUS_AS_OF): the canonical event's
-- subscription.invoiced_at (sql/019), else, for an invoice of no subscription, the same time
-- from its raw payload (stripe_invoiced_at), else the event's own time; a customer.* event's
-- fields are still the authority's (sql/015) and rank by their own time. The stamp of each
-- field (<field>_occurred_at) is that time. This re-decides the stored customers that have a
-- Stripe invoice event, from their stored events, as the loader's recompute does.
-- It reads the stored events of those customers once: migrate when no load runs.
WITH cus AS (
	SELECT DISTINCT project_id, provider, customer_id FROM external_events_normalized
	WHERE provider = 'stripe' AND status = 'processed' AND provider_event_type LIKE 'invoice.%'
		AND customer_id IS NOT NULL
), ev AS (
	SELECT n.project_id, n.provider, n.customer_id, n.external_event_id AS id,
		n.event_type LIKE 'customer.%' AS auth,
		CASE WHEN n.event_type LIKE 'customer.%' THEN COALESCE(n.occurred_at, '-infinity')
		ELSE COALESCE((n.event #>> '{subscription,invoiced_at}')::timestamptz,
			CASE WHEN n.provider_event_type LIKE 'invoice.%'
				AND jsonb_typeof(n.event -> 'customer') = 'object'
			THEN (SELECT (stripe_invoiced_at(r.payload) #>> '{}')::timestamptz
				FROM external_events_raw r
				WHERE (r.provider, r.external_event_id) = (n.provider, n.external_event_id)
				LIMIT 1) END,
			n.occurred_at, '-infinity') END AS fo,
		n.event #>> '{customer,email}' AS email, n.event #>> '{customer,name}' AS name,
		n.event #>> '{customer,phone}' AS phone, n.event #>> '{customer,country}' AS country
	FROM cus JOIN external_events_normalized n USING (project_id, provider, customer_id)
	WHERE n.status = 'processed'
), f AS (
	SELECT DISTINCT project_id, provider, customer_id,
		(array_agg(email) FILTER (WHERE email IS NOT NULL) OVER w)[1] AS email,
		(array_agg(fo) FILTER (WHERE email IS NOT NULL) OVER w)[1] AS email_occ,
		(array_agg(id) FILTER (WHERE email IS NOT NULL) OVER w)[1] AS email_id,
		coalesce((array_agg(auth) FILTER (WHERE email IS NOT NULL) OVER w)[1], false) AS email_auth,
		(array_agg(name) FILTER (WHERE name IS NOT NULL) OVER w)[1] AS name,
		(array_agg(fo) FILTER (WHERE name IS NOT NULL) OVER w)[1] AS name_occ,
		(array_agg(id) FILTER (WHERE name IS NOT NULL) OVER w)[1] AS name_id,
		coalesce((array_agg(auth) FILTER (WHERE name IS NOT NULL) OVER w)[1], false) AS name_auth,
		(array_agg(phone) FILTER (WHERE phone IS NOT NULL) OVER w)[1] AS phone,
		(array_agg(fo) FILTER (WHERE phone IS NOT NULL) OVER w)[1] AS phone_occ,
		(array_agg(id) FILTER (WHERE phone IS NOT NULL) OVER w)[1] AS phone_id,
		coalesce((array_agg(auth) FILTER (WHERE phone IS NOT NULL) OVER w)[1], false) AS phone_auth,
		(array_agg(country) FILTER (WHERE country IS NOT NULL) OVER w)[1] AS country,
		(array_agg(fo) FILTER (WHERE country IS NOT NULL) OVER w)[1] AS country_occ,
		(array_agg(id) FILTER (WHERE country IS NOT NULL) OVER w)[1] AS country_id,
		coalesce((array_agg(auth) FILTER (WHERE country IS NOT NULL) OVER w)[1], false) AS country_auth
	FROM ev
	WINDOW w AS (PARTITION BY project_id, provider, customer_id ORDER BY auth DESC, fo DESC, id DESC
		ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
)
UPDATE customers t SET
	email = f.email, email_occurred_at = f.email_occ, email_event_id = f.email_id, email_auth = f.email_auth,
	name = f.name, name_occurred_at = f.name_occ, name_event_id = f.name_id, name_auth = f.name_auth,
	phone = f.phone, phone_occurred_at = f.phone_occ, phone_event_id = f.phone_id, phone_auth = f.phone_auth,
	country = f.country, country_occurred_at = f.country_occ, country_event_id = f.country_id,
	country_auth = f.country_auth
FROM f
WHERE (t.project_id, t.provider, t.customer_id) = (f.project_id, f.provider, f.customer_id)
	AND (t.email, t.email_occurred_at, t.email_event_id, t.email_auth, t.name, t.name_occurred_at,
		t.name_event_id, t.name_auth, t.phone, t.phone_occurred_at, t.phone_event_id, t.phone_auth,
		t.country, t.country_occurred_at, t.country_event_id, t.country_auth)
	IS DISTINCT FROM (f.email, f.email_occ, f.email_id, f.email_auth, f.name, f.name_occ,
		f.name_id, f.name_auth, f.phone, f.phone_occ, f.phone_id, f.phone_auth,
		f.country, f.country_occ, f.country_id, f.country_auth);
