-- 015_customer_authority.sql: a Stripe customer's contact fields (email, name, phone,
-- country) are the Customer object's, told by its customer.* events; the copies other
-- events carry (a charge's billing_details, an invoice's customer_email frozen when it
-- was finalized, a checkout's customer_details) only fill what no customer event gave
-- (src/load.c, CUS_AUTH). Before, the latest non-null value of any event won: every
-- charge paid with a card whose holder has another e-mail turned the customer's e-mail
-- into the card holder's. <field>_auth says whether a customer event gave the field; it
-- leads the field's stamp. This re-decides the stored Stripe customers that have a
-- customer event, from their stored events, as the loader's recompute does.
-- It reads the stored events of those customers once: migrate when no load runs.
ALTER TABLE customers ADD COLUMN email_auth boolean NOT NULL DEFAULT false,
	ADD COLUMN name_auth boolean NOT NULL DEFAULT false,
	ADD COLUMN phone_auth boolean NOT NULL DEFAULT false,
	ADD COLUMN country_auth boolean NOT NULL DEFAULT false;

WITH cus AS (
	SELECT DISTINCT project_id, provider, customer_id FROM external_events_normalized
	WHERE provider = 'stripe' AND status = 'processed' AND event_type LIKE 'customer.%'
		AND customer_id IS NOT NULL
), ev AS (
	SELECT n.project_id, n.provider, n.customer_id, n.external_event_id AS id,
		COALESCE(n.occurred_at, '-infinity') AS occ, n.event_type LIKE 'customer.%' AS auth,
		n.event #>> '{customer,email}' AS email, n.event #>> '{customer,name}' AS name,
		n.event #>> '{customer,phone}' AS phone, n.event #>> '{customer,country}' AS country
	FROM cus JOIN external_events_normalized n USING (project_id, provider, customer_id)
	WHERE n.status = 'processed'
), f AS (
	SELECT DISTINCT project_id, provider, customer_id,
		(array_agg(email) FILTER (WHERE email IS NOT NULL) OVER w)[1] AS email,
		(array_agg(occ) FILTER (WHERE email IS NOT NULL) OVER w)[1] AS email_occ,
		(array_agg(id) FILTER (WHERE email IS NOT NULL) OVER w)[1] AS email_id,
		coalesce((array_agg(auth) FILTER (WHERE email IS NOT NULL) OVER w)[1], false) AS email_auth,
		(array_agg(name) FILTER (WHERE name IS NOT NULL) OVER w)[1] AS name,
		(array_agg(occ) FILTER (WHERE name IS NOT NULL) OVER w)[1] AS name_occ,
		(array_agg(id) FILTER (WHERE name IS NOT NULL) OVER w)[1] AS name_id,
		coalesce((array_agg(auth) FILTER (WHERE name IS NOT NULL) OVER w)[1], false) AS name_auth,
		(array_agg(phone) FILTER (WHERE phone IS NOT NULL) OVER w)[1] AS phone,
		(array_agg(occ) FILTER (WHERE phone IS NOT NULL) OVER w)[1] AS phone_occ,
		(array_agg(id) FILTER (WHERE phone IS NOT NULL) OVER w)[1] AS phone_id,
		coalesce((array_agg(auth) FILTER (WHERE phone IS NOT NULL) OVER w)[1], false) AS phone_auth,
		(array_agg(country) FILTER (WHERE country IS NOT NULL) OVER w)[1] AS country,
		(array_agg(occ) FILTER (WHERE country IS NOT NULL) OVER w)[1] AS country_occ,
		(array_agg(id) FILTER (WHERE country IS NOT NULL) OVER w)[1] AS country_id,
		coalesce((array_agg(auth) FILTER (WHERE country IS NOT NULL) OVER w)[1], false) AS country_auth
	FROM ev
	WINDOW w AS (PARTITION BY project_id, provider, customer_id ORDER BY auth DESC, occ DESC, id DESC
		ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
)
UPDATE customers t SET
	email = f.email, email_occurred_at = f.email_occ, email_event_id = f.email_id, email_auth = f.email_auth,
	name = f.name, name_occurred_at = f.name_occ, name_event_id = f.name_id, name_auth = f.name_auth,
	phone = f.phone, phone_occurred_at = f.phone_occ, phone_event_id = f.phone_id, phone_auth = f.phone_auth,
	country = f.country, country_occurred_at = f.country_occ, country_event_id = f.country_id,
	country_auth = f.country_auth
FROM f
WHERE (t.project_id, t.provider, t.customer_id) = (f.project_id, f.provider, f.customer_id);
