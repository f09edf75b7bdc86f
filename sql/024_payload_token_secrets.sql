-- 024_payload_token_secrets.sql: a string that holds a credential known by its value, under
-- any key, is a secret member of the payload too. A PaymentIntent that needs 3-D Secure
-- carries its client secret inside the URLs of its next_action (use_stripe_sdk.stripe_js,
-- "...?client_secret=src_client_secret_..."; redirect_to_url.url,
-- "...&payment_intent_client_secret=pi_..._secret_..."), as a SetupIntent's and a Source's
-- redirects do, and Stripe says a client secret is not to be stored nor logged. The
-- credentials are those a rejects file masks wherever they are (src/lib/secret.c,
-- token_len): Stripe's secret, restricted and ephemeral keys (sk_, rk_, ek_ live or test),
-- webhook signing secrets (whsec_) and client secrets ([a-z]+_ID_secret_...), each with at
-- least 8 letters or digits after its prefix, at a word's start. fetch-events, normalize
-- --emit-raw and load now leave such members out, and this takes them out of the payloads
-- stored before. It reads the stored raw payloads that hold one of those words once:
-- migrate when no load runs.

-- sql/021's function, with that rule added.
CREATE OR REPLACE FUNCTION payload_without_secrets(j jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT CASE jsonb_typeof(j)
	WHEN 'object' THEN (SELECT coalesce(jsonb_object_agg(k, payload_without_secrets(v)), '{}')
		FROM jsonb_each(j) AS e(k, v)
		WHERE NOT (lower(k COLLATE "C") LIKE '%hottok%' OR k = 'client_secret'
			OR (jsonb_typeof(v) = 'string' AND (v #>> '{}') ~ ('(^|[^A-Za-z0-9_])'
				'(((sk|rk|ek)_(live|test)|whsec)_[A-Za-z0-9]{8}|[a-z]+_[A-Za-z0-9]+_secret_[A-Za-z0-9]{8})'))
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
	WHERE strpos(x.t, '_secret_') > 0 OR strpos(x.t, 'k_live_') > 0 OR strpos(x.t, 'k_test_') > 0
		OR strpos(x.t, 'whsec_') > 0) c
WHERE (r.provider, r.external_event_id) = (c.provider, c.external_event_id) AND r.payload <> c.clean;
