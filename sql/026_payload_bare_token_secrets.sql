-- 026_payload_bare_token_secrets.sql: sql/024's rule again, over the payloads stored since.
-- The loader (and fetch-events, normalize --emit-raw) looked for a credential known by its
-- value (src/lib/secret.c, token_len: sk_, rk_, ek_ keys, whsec_, [a-z]+_ID_secret_...) only
-- in a payload that also named a secret (hottok, client_secret, a Stripe bearer URL's host)
-- or held a \u escape: a bare "note":"sk_live_..." or "x":"pi_..._secret_...", or one spelled
-- with escapes ("\u0070i_..."), was stored as it came (fuzz-F 1, 2). jsonb's text decodes
-- the escapes, so sql/024's function finds them all. It reads the stored raw payloads that
-- hold one of those words once: migrate when no load runs.
UPDATE external_events_raw r SET payload = c.clean
FROM (SELECT provider, external_event_id, payload_without_secrets(payload) AS clean
	FROM external_events_raw, LATERAL (SELECT payload::text AS t) x
	WHERE strpos(x.t, '_secret_') > 0 OR strpos(x.t, 'k_live_') > 0 OR strpos(x.t, 'k_test_') > 0
		OR strpos(x.t, 'whsec_') > 0) c
WHERE (r.provider, r.external_event_id) = (c.provider, c.external_event_id) AND r.payload <> c.clean;
