-- 035_payload_array_secrets.sql: sql/034's rule, for arrays too. A string in an array that
-- holds a credential known by its value (a Stripe key, a client secret, a webhook secret) or a
-- hottok with its value was stored as it came: only members were dropped, and an element has
-- no name (stop-47 leftover). Such an element now leaves its array, as a member holding it
-- leaves its object. fetch-events, normalize --emit-raw and load leave it out
-- (src/lib/secret.c, strip_value and secret_drop), and this takes it out of the payloads
-- stored before. It reads the stored raw payloads that hold a credential's word or hottok
-- once: migrate when no load runs.
CREATE OR REPLACE FUNCTION payload_without_secrets(j jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT CASE jsonb_typeof(j)
	WHEN 'object' THEN (SELECT coalesce(jsonb_object_agg(k, payload_without_secrets(v)), '{}')
		FROM jsonb_each(j) AS e(k, v)
		WHERE NOT (lower(k COLLATE "C") LIKE '%hottok%' OR k = 'client_secret'
			OR k ~ ('(^|[^A-Za-z0-9_])(((sk|rk|ek)_(live|test)|whsec)_[A-Za-z0-9]{8}'
				'|[a-z]+_((live|test)_)?[A-Za-z0-9]+_secret_[A-Za-z0-9]{8})')
			OR (jsonb_typeof(v) = 'string' AND (v #>> '{}') ~ ('(^|[^A-Za-z0-9_])'
				'(((sk|rk|ek)_(live|test)|whsec)_[A-Za-z0-9]{8}|[a-z]+_((live|test)_)?[A-Za-z0-9]+_secret_[A-Za-z0-9]{8})'))
			OR (jsonb_typeof(v) = 'string'
				AND lower((v #>> '{}') COLLATE "C") ~ ('hottok(?:[]\s"''\\]|\u00a0)*(?:[:=]|%3[ad]|\\u003[ad]|&#(?:61|58);)'
					'[\s"''\\]*[^]\s"''\\&,;}]'))
			OR (k = 'url' AND jsonb_typeof(v) = 'string'
				AND (starts_with(v #>> '{}', 'https://verify.stripe.com/')
					OR starts_with(v #>> '{}', 'https://billing.stripe.com/p/session/')))))
	WHEN 'array' THEN (SELECT coalesce(jsonb_agg(payload_without_secrets(v) ORDER BY n), '[]')
		FROM jsonb_array_elements(j) WITH ORDINALITY AS a(v, n)
		WHERE NOT (jsonb_typeof(v) = 'string' AND ((v #>> '{}') ~ ('(^|[^A-Za-z0-9_])'
				'(((sk|rk|ek)_(live|test)|whsec)_[A-Za-z0-9]{8}|[a-z]+_((live|test)_)?[A-Za-z0-9]+_secret_[A-Za-z0-9]{8})')
			OR lower((v #>> '{}') COLLATE "C") ~ ('hottok(?:[]\s"''\\]|\u00a0)*(?:[:=]|%3[ad]|\\u003[ad]|&#(?:61|58);)'
				'[\s"''\\]*[^]\s"''\\&,;}]'))))
	ELSE j END
$$;

UPDATE external_events_raw r SET payload = c.clean
FROM (SELECT provider, external_event_id, payload_without_secrets(payload) AS clean
	FROM external_events_raw, LATERAL (SELECT payload::text AS t) x
	WHERE strpos(x.t, '_secret_') > 0 OR strpos(x.t, 'k_live_') > 0 OR strpos(x.t, 'k_test_') > 0
		OR strpos(x.t, 'whsec_') > 0 OR strpos(lower(x.t COLLATE "C"), 'hottok') > 0) c
WHERE (r.provider, r.external_event_id) = (c.provider, c.external_event_id) AND r.payload <> c.clean;
