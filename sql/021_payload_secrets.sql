-- 021_payload_secrets.sql: Stripe's secrets are secrets of the payload, as Hotmart's hottok
-- is. A PaymentIntent, SetupIntent, Checkout Session, Source or identity VerificationSession
-- carries a client_secret in its events; with it a browser completes the payment or
-- verification, and Stripe says it is not to be stored nor logged. A VerificationSession's
-- url (https://verify.stripe.com/...: "Don't store it, log it") and a billing portal
-- Session's (https://billing.stripe.com/p/session/...: it signs the visitor in as the
-- customer) are bearer URLs. fetch-events, normalize --emit-raw and load now leave those
-- members out of the payload at any depth (src/lib/secret.c), and this takes them out of
-- the payloads stored before, as the loader would have stored them. It reads every stored
-- raw payload once: migrate when no load runs.

-- A payload without its secret members at any depth, as src/lib/secret.c: a key that
-- contains hottok (in any case of its ASCII letters) or is client_secret, or a url that is
-- a Stripe bearer URL (as Stripe writes them).
CREATE FUNCTION payload_without_secrets(j jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT CASE jsonb_typeof(j)
	WHEN 'object' THEN (SELECT coalesce(jsonb_object_agg(k, payload_without_secrets(v)), '{}')
		FROM jsonb_each(j) AS e(k, v)
		WHERE NOT (lower(k COLLATE "C") LIKE '%hottok%' OR k = 'client_secret'
			OR (k = 'url' AND jsonb_typeof(v) = 'string'
				AND (starts_with(v #>> '{}', 'https://verify.stripe.com/')
					OR starts_with(v #>> '{}', 'https://billing.stripe.com/p/session/')))))
	WHEN 'array' THEN (SELECT coalesce(jsonb_agg(payload_without_secrets(v) ORDER BY n), '[]')
		FROM jsonb_array_elements(j) WITH ORDINALITY AS a(v, n))
	ELSE j END
$$;

UPDATE external_events_raw r SET payload = c.clean
FROM (SELECT provider, external_event_id, payload_without_secrets(payload) AS clean
	FROM external_events_raw, LATERAL (SELECT payload::text AS t) x
	WHERE strpos(x.t, 'client_secret') > 0 OR strpos(x.t, 'verify.stripe.com') > 0
		OR strpos(x.t, 'billing.stripe.com') > 0) c
WHERE (r.provider, r.external_event_id) = (c.provider, c.external_event_id) AND r.payload <> c.clean;
