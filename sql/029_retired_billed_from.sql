-- 029_retired_billed_from.sql: a database that ran the release with
-- 019_fill_by_billed_period.sql (renamed 019_fill_by_invoice_time.sql in 9af6859, when its
-- rule changed) kept that release's canonical key subscription.billed_from in its stored
-- events, which normalize no longer writes: a re-run of the dumps counted every such event
-- updated (audit-UP 3). The key goes. Other databases never had it, and are not scanned.
DO $$
BEGIN
	IF EXISTS (SELECT FROM schema_migrations WHERE version = '019_fill_by_billed_period.sql') THEN
		UPDATE external_events_normalized SET event = event #- '{subscription,billed_from}'
		WHERE jsonb_typeof(event->'subscription') = 'object' AND event->'subscription' ? 'billed_from';
	END IF;
END $$;
