-- 020_settings_checked.sql: a freshness threshold is checked when it is written. settings
-- holds text, and integration_freshness_view casts it: a typo ('8 hourz') was taken
-- without a word and every query of the view failed from then on, the "stale data"
-- procedure with it, for every project. Now such a value, or one not above zero, is
-- refused where it is written, naming the key; and at commit slow_after must not exceed
-- stale_after (checked then, so the two can be raised in one transaction in either order).
-- Values stored before are left as they are.
CREATE FUNCTION settings_interval(k text, v text) RETURNS interval LANGUAGE plpgsql STABLE AS $$
DECLARE
	i interval;
BEGIN
	BEGIN
		i := v::interval;
	EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR interval_field_overflow THEN
		RAISE EXCEPTION 'settings %: % is not an interval (write it as ''6 hours'', ''90 minutes'', ''2 days'')',
			k, quote_literal(v) USING ERRCODE = 'check_violation';
	END;
	IF i <= interval '0' THEN
		RAISE EXCEPTION 'settings %: % is not above zero', k, quote_literal(v) USING ERRCODE = 'check_violation';
	END IF;
	RETURN i;
END $$;

CREATE FUNCTION settings_checked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM settings_interval(NEW.key, NEW.value);
	RETURN NEW;
END $$;

CREATE TRIGGER settings_checked BEFORE INSERT OR UPDATE ON settings FOR EACH ROW
	WHEN (NEW.key IN ('freshness.slow_after', 'freshness.stale_after')) EXECUTE FUNCTION settings_checked();

CREATE FUNCTION settings_freshness_order() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	slow text;
	stale text;
BEGIN
	SELECT max(value) FILTER (WHERE key = 'freshness.slow_after'), max(value) FILTER (WHERE key = 'freshness.stale_after')
	INTO slow, stale FROM settings;
	IF slow IS NOT NULL AND stale IS NOT NULL
	   AND settings_interval('freshness.slow_after', slow) > settings_interval('freshness.stale_after', stale) THEN
		RAISE EXCEPTION 'settings: freshness.slow_after (%) is longer than freshness.stale_after (%)', slow, stale
			USING ERRCODE = 'check_violation';
	END IF;
	RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER settings_freshness_order AFTER INSERT OR UPDATE ON settings
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
	WHEN (NEW.key IN ('freshness.slow_after', 'freshness.stale_after')) EXECUTE FUNCTION settings_freshness_order();
