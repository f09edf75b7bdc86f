-- 023_integration_thresholds_checked.sql: an integration's own freshness thresholds
-- (integrations.slow_after, stale_after: per-integration overrides of the settings) are
-- checked as the settings' are (sql/020). They were not: stale_after = '-1 hour' made a
-- feed that spoke two minutes ago 'stale', and a slow_after past stale_after could never
-- read 'slow'. Now one not above zero is refused where it is written, and at commit the
-- integration's slow_after, as integration_freshness_view reads it (its own, else the
-- setting), must not exceed its stale_after (checked then, so the two can be changed in
-- one transaction in either order). Rows stored before are left as they are.
ALTER TABLE integrations
	ADD CONSTRAINT integrations_slow_after_above_zero CHECK (slow_after > interval '0') NOT VALID,
	ADD CONSTRAINT integrations_stale_after_above_zero CHECK (stale_after > interval '0') NOT VALID;

CREATE FUNCTION integrations_freshness_order() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	v record;
BEGIN
	SELECT slow_after, stale_after INTO v FROM integration_freshness_view
	WHERE project_id = NEW.project_id AND provider = NEW.provider;
	IF FOUND AND v.slow_after > v.stale_after THEN
		RAISE EXCEPTION 'integrations (%, %): slow_after (%) is longer than stale_after (%)',
			NEW.project_id, NEW.provider, v.slow_after, v.stale_after USING ERRCODE = 'check_violation';
	END IF;
	RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER integrations_freshness_order AFTER INSERT OR UPDATE OF slow_after, stale_after
	ON integrations DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
	WHEN (NEW.slow_after IS NOT NULL OR NEW.stale_after IS NOT NULL) EXECUTE FUNCTION integrations_freshness_order();
