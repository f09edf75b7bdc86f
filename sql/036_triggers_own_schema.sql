-- 036_triggers_own_schema.sql: the schema's trigger functions read the schema's own tables,
-- view and functions, whatever the search_path of the session that fires them. They named
-- them unqualified, so: pg_restore --data-only of settings (which sets search_path to '')
-- failed, 'function settings_interval(text, text) does not exist'; a DBA session whose path
-- does not name the schema could not make docs/schema.md's hand edits of settings and
-- integrations; and with two schemas in one database (docs/load.md), a change of one
-- schema's settings was checked against the other's settings and view (audit-BAK 1). Each
-- now runs its body with the search_path of the table it fires on (TG_TABLE_SCHEMA), for
-- the body only. Not a function's own SET search_path: that names the schema as it was
-- called when migrated, and a schema renamed or restored under another name would then
-- look in the old one. The loader's sessions name the schema alone already (pgschema.c).
CREATE OR REPLACE FUNCTION settings_checked() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	path text := current_setting('search_path');
BEGIN
	PERFORM set_config('search_path', quote_ident(TG_TABLE_SCHEMA), true);
	PERFORM settings_interval(NEW.key, NEW.value);
	PERFORM set_config('search_path', path, true);
	RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION settings_freshness_order() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	path text := current_setting('search_path');
	slow text;
	stale text;
	v record;
BEGIN
	PERFORM set_config('search_path', quote_ident(TG_TABLE_SCHEMA), true);
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
	PERFORM set_config('search_path', path, true);
	RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION integrations_freshness_order() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	path text := current_setting('search_path');
	v record;
BEGIN
	PERFORM set_config('search_path', quote_ident(TG_TABLE_SCHEMA), true);
	SELECT slow_after, stale_after INTO v FROM integration_freshness_view
	WHERE project_id = NEW.project_id AND provider = NEW.provider;
	IF FOUND AND v.slow_after > v.stale_after THEN
		RAISE EXCEPTION 'integrations (%, %): slow_after (%) is longer than stale_after (%)',
			NEW.project_id, NEW.provider, v.slow_after, v.stale_after USING ERRCODE = 'check_violation';
	END IF;
	PERFORM set_config('search_path', path, true);
	RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION events_project_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	path text := current_setting('search_path');
BEGIN
	PERFORM set_config('search_path', quote_ident(TG_TABLE_SCHEMA), true);
	PERFORM event_project_check(OLD.provider, OLD.external_event_id, OLD.project_id, NEW.project_id);
	PERFORM set_config('search_path', path, true);
	RETURN NEW;
END $$;
