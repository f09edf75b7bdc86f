-- 034_payload_hottok_encoded.sql: sql/032's rule, with a hottok's pair in more spellings: its
-- '=' or ':' encoded as a link keeps it in a tracking field ("cb%3Fhottok%3DS"), as a JSON escape
-- read as text ("hottok\u003dS"), as an HTML entity ("hottok&#61;S"), or a no-break space
-- before it (audit-H3 2: such a string was stored as it came). The rule is src/lib/secret.c's
-- hottok_pair_at: hottok in any (ASCII) case, then blanks (U+00A0 too), quotes, backslashes or
-- ']', then ':' or '=' (or %3A, %3D, \u003a, \u003d, &#58;, &#61;), then blanks, quotes or
-- backslashes, then a character that is none of "&,;}]".
-- The name alone, or with an empty value, stays. fetch-events, normalize --emit-raw and load
-- now leave such members out, and this takes them out of the payloads stored before. It reads
-- the stored raw payloads that name hottok once: migrate when no load runs.
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
		FROM jsonb_array_elements(j) WITH ORDINALITY AS a(v, n))
	ELSE j END
$$;

UPDATE external_events_raw r SET payload = c.clean
FROM (SELECT provider, external_event_id, payload_without_secrets(payload) AS clean
	FROM external_events_raw, LATERAL (SELECT payload::text AS t) x
	WHERE strpos(lower(x.t COLLATE "C"), 'hottok') > 0) c
WHERE (r.provider, r.external_event_id) = (c.provider, c.external_event_id) AND r.payload <> c.clean;
