-- 003_load_scratch.sql: the loader's scratch tables (docs/load.md, "Two connections").
-- While one batch's upserts run, a second connection of the loader COPYs the next
-- batch here, so the parsing of its payloads (the jsonb input) runs on another core;
-- the batch's transaction then reads it from here. Two slots, used in turn.
-- Unlogged: scratch, not data. Loaders take turns (an advisory lock), and the
-- tables are emptied when a run starts and ends; a killed run leaves its last
-- batches here until the next run. The columns are the loader's staging rows.
CREATE UNLOGGED TABLE load_stage_raw_0 (seq integer, provider text, external_event_id text,
	project_id text, event_type text, occurred_at timestamptz, received_at timestamptz,
	source text, payload jsonb) WITH (autovacuum_enabled = false);
CREATE UNLOGGED TABLE load_stage_ev_0 (seq integer, provider text, external_event_id text,
	project_id text, event_type text, provider_event_type text, status text, reason text,
	occurred_at timestamptz, received_at timestamptz, source text, customer_id text,
	subscription_id text, payment_id text, price_id text, plan_code text, event jsonb)
	WITH (autovacuum_enabled = false);
CREATE UNLOGGED TABLE load_stage_raw_1 (LIKE load_stage_raw_0) WITH (autovacuum_enabled = false);
CREATE UNLOGGED TABLE load_stage_ev_1 (LIKE load_stage_ev_0) WITH (autovacuum_enabled = false);
DO $$
BEGIN
	ALTER TABLE load_stage_raw_0 ALTER COLUMN payload SET COMPRESSION lz4;
	ALTER TABLE load_stage_raw_1 ALTER COLUMN payload SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
	RAISE NOTICE 'lz4 not available; scratch payloads use the default compression';
END
$$;
