-- 028_integration_thresholds_repaired.sql: an integration's threshold not above zero,
-- stored before sql/023 (which left such rows as they were: its checks NOT VALID), made
-- every later write of the row refused, PostgreSQL checking a NOT VALID constraint on
-- each update: the loader's last_event_at among them, so every event of that integration
-- was rejected (db_rejected) once the database was migrated (audit-UP 1). Such a threshold
-- meant nothing (a feed always stale, or never slow). Both of the row's thresholds are
-- cleared, so the settings apply (sql/020 keeps them in order: clearing one alone could
-- leave the other out of order with the setting), each said as a warning; the checks
-- then hold for every row.
DO $$
DECLARE
	r record;
BEGIN
	FOR r IN UPDATE integrations SET slow_after = NULL, stale_after = NULL
		WHERE slow_after <= interval '0' OR stale_after <= interval '0'
		RETURNING project_id, provider LOOP
		RAISE WARNING 'integrations (%, %): a threshold not above zero, stored before sql/023, cleared: the settings apply',
			r.project_id, r.provider;
	END LOOP;
END $$;
ALTER TABLE integrations VALIDATE CONSTRAINT integrations_slow_after_above_zero;
ALTER TABLE integrations VALIDATE CONSTRAINT integrations_stale_after_above_zero;
