-- 021_payload_secrets.sql: Stripe's client_secret is a secret of the payload, as Hotmart's
-- hottok is. A PaymentIntent, SetupIntent, Checkout Session, Source or identity
-- VerificationSession carries one in its events; with it a browser completes the payment
-- or verification, and Stripe says it is not to be stored nor logged. fetch-events,
-- normalize --emit-raw and load now leave the member out of the payload at any depth (a
-- key named client_secret in any case; src/lib/secret.c), and this takes it out of the
-- payloads stored before, as the loader would have stored them. It reads every stored raw
-- payload once: migrate when no load runs.

-- A payload without its secret members at any depth (as src/lib/secret.c: a key that
-- contains hottok, or is client_secret, in any case of its ASCII letters).
CREATE FUNCTION payload_without_secrets(j jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT CASE jsonb_typeof(j)
	WHEN 'object' THEN (SELECT coalesce(jsonb_object_agg(k, payload_without_secrets(v)), '{}')
		FROM jsonb_each(j) AS e(k, v)
		WHERE NOT (lower(k COLLATE "C") LIKE '%hottok%' OR lower(k COLLATE "C") = 'client_secret'))
	WHEN 'array' THEN (SELECT coalesce(jsonb_agg(payload_without_secrets(v) ORDER BY n), '[]')
		FROM jsonb_array_elements(j) WITH ORDINALITY AS a(v, n))
	ELSE j END
$$;

UPDATE external_events_raw SET payload = payload_without_secrets(payload)
WHERE strpos(lower(payload::text COLLATE "C"), 'client_secret') > 0
	AND payload <> payload_without_secrets(payload);
