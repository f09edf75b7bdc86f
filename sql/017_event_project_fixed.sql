-- 017_event_project_fixed.sql: an event stays in the project it was first loaded into.
-- The loader's upserts took the project of the copy they read, so a re-run over the same
-- dumps without --project (default 'default'), or a payload re-injected without it, moved
-- the events, and with them the payments, subscriptions and customers they name, into
-- another tenant, without a word; the tenant's exports and reconciliation then came out
-- empty and "balanced". Now an update that changes an event's project_id fails; the loader
-- reports the record as db_rejected (with the two projects) and keeps the rest of the run.
-- A deliberate move, in a session that says so, is let through:
--   PGOPTIONS='-c revenueos.move_project=on' pipelines/ingest-dumps --project NEW DUMP...
-- (docs/schema.md, after the first-copy rule). A copy received after the stored one is
-- no update (the first copy is kept): event_project_check refuses it all the same.
-- what is said of such an event (here, and by load of each record it then refuses)
CREATE FUNCTION event_project_message(provider text, id text, stored text, given text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT format('%s event %s is stored under project ''%s'', not ''%s'' (a wrong --project?'
		' moving events: docs/schema.md)', provider, id, stored, given)
$$;

CREATE FUNCTION event_project_check(provider text, id text, stored text, given text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	IF stored IS DISTINCT FROM given AND current_setting('revenueos.move_project', true) IS DISTINCT FROM 'on' THEN
		RAISE EXCEPTION '%', event_project_message(provider, id, stored, given)
			USING ERRCODE = '23R01'; -- an integrity error of ours: load loads the batch without them
	END IF;
	RETURN true;
END $$;

CREATE FUNCTION events_project_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM event_project_check(OLD.provider, OLD.external_event_id, OLD.project_id, NEW.project_id);
	RETURN NEW;
END $$;

-- called only for an update that changes the project: not for the loader's every other update
CREATE TRIGGER external_events_raw_project_fixed BEFORE UPDATE ON external_events_raw FOR EACH ROW
	WHEN (NEW.project_id IS DISTINCT FROM OLD.project_id) EXECUTE FUNCTION events_project_fixed();
CREATE TRIGGER external_events_normalized_project_fixed BEFORE UPDATE ON external_events_normalized
	FOR EACH ROW WHEN (NEW.project_id IS DISTINCT FROM OLD.project_id) EXECUTE FUNCTION events_project_fixed();
CREATE TRIGGER external_events_project_fixed BEFORE UPDATE ON external_events FOR EACH ROW
	WHEN (NEW.project_id IS DISTINCT FROM OLD.project_id) EXECUTE FUNCTION events_project_fixed();
