-- 030_payload_checkout_secrets.sql: sql/024's rule, with two more credentials. A Checkout
-- Session's client secret is written cs_live_ID_secret_... (cs_test_ too), which sql/024's
-- [a-z]+_ID_secret_ did not match; and a credential can be a member's name (metadata keyed
-- by an API key) as well as its value. fetch-events, normalize --emit-raw and load now leave
-- both out (src/lib/secret.c, token_len; audit-SEC 3), and this takes them out of the
-- payloads stored before. It reads the stored raw payloads that hold one of the credential
-- words once: migrate when no load runs.
CREATE OR REPLACE FUNCTION payload_without_secrets(j jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT CASE jsonb_typeof(j)
	WHEN 'object' THEN (SELECT coalesce(jsonb_object_agg(k, payload_without_secrets(v)), '{}')
		FROM jsonb_each(j) AS e(k, v)
		WHERE NOT (lower(k COLLATE "C") LIKE '%hottok%' OR k = 'client_secret'
			OR k ~ ('(^|[^A-Za-z0-9_])(((sk|rk|ek)_(live|test)|whsec)_[A-Za-z0-9]{8}'
				'|[a-z]+_((live|test)_)?[A-Za-z0-9]+_secret_[A-Za-z0-9]{8})')
			OR (jsonb_typeof(v) = 'string' AND (v #>> '{}') ~ ('(^|[^A-Za-z0-9_])'
				'(((sk|rk|ek)_(live|test)|whsec)_[A-Za-z0-9]{8}|[a-z]+_((live|test)_)?[A-Za-z0-9]+_secret_[A-Za-z0-9]{8})'))
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
