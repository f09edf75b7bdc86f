-- 031_settings_freshness_order_integrations.sql: a change of the freshness settings is
-- checked against the integrations that read them too. sql/023 checks, at commit, that an
-- integration's slow_after as integration_freshness_view reads it (its own, else the
-- setting) does not exceed its stale_after, but only when the integration's row is written:
-- settings moved to slow_after 4 days, stale_after 5 days, under an integration whose own
-- stale_after is 3 days, were taken, and that integration went from fresh to stale with no
-- slow between (the runbook's "data feeds are slow" never applied), the error then blaming
-- its row's next write (audit-RB 2). Now such a settings change is refused at commit,
-- naming the integration.
CREATE OR REPLACE FUNCTION settings_freshness_order() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	slow text;
	stale text;
	v record;
BEGIN
	SELECT max(value) FILTER (WHERE key = 'freshness.slow_after'), max(value) FILTER (WHERE key = 'freshness.stale_after')
	INTO slow, stale FROM settings;
	IF slow IS NOT NULL AND stale IS NOT NULL
	   AND settings_interval('freshness.slow_after', slow) > settings_interval('freshness.stale_after', stale) THEN
		RAISE EXCEPTION 'settings: freshness.slow_after (%) is longer than freshness.stale_after (%)', slow, stale
			USING ERRCODE = 'check_violation';
	END IF;
	SELECT project_id, provider, slow_after, stale_after INTO v FROM integration_freshness_view
	WHERE slow_after > stale_after ORDER BY project_id, provider LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'settings: with freshness.slow_after % and freshness.stale_after %, integrations (%, %) would read slow_after % and stale_after % (its own thresholds: UPDATE integrations)',
			slow, stale, v.project_id, v.provider, v.slow_after, v.stale_after USING ERRCODE = 'check_violation';
	END IF;
	RETURN NULL;
END $$;
