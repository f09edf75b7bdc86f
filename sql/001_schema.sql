-- 001_schema.sql: the RevenueOS data layer (docs/schema.md).
-- Applied by `load --migrate` inside one transaction; recorded in schema_migrations.
-- Keys are natural (provider ids), never sequences, so the same input gives the
-- same rows whatever the order it was loaded in.

-- Settings: the freshness thresholds (and later knobs), as text values.
CREATE TABLE settings (
	key text PRIMARY KEY,
	value text NOT NULL,
	description text
);
INSERT INTO settings (key, value, description) VALUES
	('freshness.slow_after', '6 hours', 'an integration is slow when its last event is older than this'),
	('freshness.stale_after', '24 hours', 'an integration is stale when its last event is older than this');

CREATE TABLE projects (
	id text PRIMARY KEY CHECK (id <> ''),
	name text,
	first_event_at timestamptz  -- earliest received_at seen for the project
);

CREATE TABLE integrations (
	project_id text NOT NULL REFERENCES projects (id),
	provider text NOT NULL CHECK (provider ~ '^[a-z][a-z0-9_]*$'),
	last_event_at timestamptz,     -- latest received_at of its stored events
	slow_after interval,           -- overrides settings freshness.slow_after
	stale_after interval,          -- overrides settings freshness.stale_after
	PRIMARY KEY (project_id, provider)
);

-- Every raw envelope as received; one row per provider event.
CREATE TABLE external_events_raw (
	provider text NOT NULL,
	external_event_id text NOT NULL CHECK (external_event_id <> ''),
	project_id text NOT NULL,
	event_type text,
	occurred_at timestamptz,
	received_at timestamptz NOT NULL,
	source text NOT NULL,
	payload jsonb NOT NULL CHECK (jsonb_typeof(payload) = 'object'),
	PRIMARY KEY (provider, external_event_id)
);
CREATE INDEX external_events_raw_received ON external_events_raw (project_id, provider, received_at);

-- The canonical event of every raw event that normalized (processed or ignored).
-- event holds the canonical record without received_at and source (own columns).
CREATE TABLE external_events_normalized (
	provider text NOT NULL,
	external_event_id text NOT NULL,
	project_id text NOT NULL,
	event_type text,
	provider_event_type text,
	status text NOT NULL CHECK (status IN ('processed', 'ignored')),
	occurred_at timestamptz,
	received_at timestamptz NOT NULL,
	source text NOT NULL,
	customer_id text,
	subscription_id text,
	payment_id text,
	event jsonb NOT NULL,
	PRIMARY KEY (provider, external_event_id)
);
CREATE INDEX external_events_normalized_subscription
	ON external_events_normalized (project_id, provider, subscription_id) WHERE subscription_id IS NOT NULL;
CREATE INDEX external_events_normalized_customer
	ON external_events_normalized (project_id, provider, customer_id) WHERE customer_id IS NOT NULL;

-- The processing log: one row per event, whatever became of it.
CREATE TABLE external_events (
	provider text NOT NULL,
	external_event_id text NOT NULL,
	project_id text NOT NULL,
	status text NOT NULL CHECK (status IN ('processed', 'failed', 'ignored')),
	reason text,
	warning text,            -- processed, but ops should look (e.g. an unmapped price)
	unmapped_price_id text,  -- the price/offer id that has no plan mapping
	event_type text,
	provider_event_type text,
	occurred_at timestamptz,
	received_at timestamptz NOT NULL,
	source text NOT NULL,
	attempts integer NOT NULL DEFAULT 1,  -- loads that changed this row's outcome
	first_processed_at timestamptz NOT NULL DEFAULT now(),
	last_processed_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (provider, external_event_id)
);
CREATE INDEX external_events_attention ON external_events (status, provider)
	WHERE status <> 'processed' OR warning IS NOT NULL;
CREATE INDEX external_events_id ON external_events (external_event_id);
CREATE INDEX external_events_received ON external_events (project_id, provider, received_at);

CREATE TABLE plans (
	id text PRIMARY KEY,              -- equal to code: stable across databases
	code text NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9][a-z0-9_.-]*$'),
	name text,
	CHECK (id = code)
);
INSERT INTO plans (id, code, name) VALUES ('starter', 'starter', 'Starter'), ('pro', 'pro', 'Pro');

-- Provider price / offer / legacy plan ids -> our plans.
CREATE TABLE plan_prices (
	provider text NOT NULL,
	price_id text NOT NULL,
	plan_id text NOT NULL REFERENCES plans (id),
	PRIMARY KEY (provider, price_id)
);

-- Customer state: each field is the latest non-null value any processed event
-- gave it, latest by (occurred_at, external_event_id).
CREATE TABLE customers (
	project_id text NOT NULL,
	provider text NOT NULL,
	customer_id text NOT NULL,
	email text,
	name text,
	phone text,
	country text CHECK (country ~ '^[A-Z]{2}$'),
	deleted boolean NOT NULL DEFAULT false,
	deleted_at timestamptz,
	first_event_at timestamptz,
	state_occurred_at timestamptz,  -- occurred_at of the latest event applied
	state_event_id text,            -- and its id
	PRIMARY KEY (project_id, provider, customer_id)
);

-- Subscription state: recomputed from the processed events naming the subscription;
-- subscription.* events are the authority, the latest by (occurred_at,
-- external_event_id) wins; other events only fill fields no subscription event gave.
CREATE TABLE subscriptions (
	project_id text NOT NULL,
	provider text NOT NULL,
	subscription_id text NOT NULL,
	org_id text GENERATED ALWAYS AS (project_id) STORED,  -- the runbook's name for the tenant
	customer_id text,
	plan_id text REFERENCES plans (id),  -- NULL when the price has no mapping
	price_id text,
	product_id text,
	status text CHECK (status IN ('trialing', 'active', 'past_due', 'unpaid', 'canceled',
		'incomplete', 'incomplete_expired', 'paused')),
	interval text CHECK (interval IN ('day', 'week', 'month', 'year')),
	interval_count bigint CHECK (interval_count > 0),
	quantity bigint CHECK (quantity >= 0),
	current_period_start timestamptz,
	current_period_end timestamptz,
	cancel_at_period_end boolean,
	canceled_at timestamptz,
	trial_end timestamptz,
	state_occurred_at timestamptz NOT NULL,
	state_event_id text NOT NULL,
	state_event_type text,
	PRIMARY KEY (project_id, provider, subscription_id)
);
CREATE INDEX subscriptions_customer ON subscriptions (project_id, provider, customer_id);

CREATE TABLE payments (
	project_id text NOT NULL,
	provider text NOT NULL,
	payment_id text NOT NULL,
	object text CHECK (object IN ('invoice', 'charge', 'payment_intent', 'checkout_session',
		'dispute', 'purchase')),
	customer_id text,
	invoice_id text,
	subscription_id text,
	charge_id text,          -- Stripe: the charge this payment is or belongs to
	payment_intent_id text,
	amount_minor bigint CHECK (amount_minor >= 0),
	currency char(3) CHECK (currency ~ '^[A-Z]{3}$'),
	status text CHECK (status IN ('succeeded', 'failed', 'pending', 'refunded',
		'partially_refunded', 'disputed', 'canceled', 'expired', 'uncollectible')),
	method text,
	installments bigint CHECK (installments > 0),
	failure_code text,
	discount_minor bigint CHECK (discount_minor >= 0),
	refunded_minor bigint CHECK (refunded_minor >= 0),
	due_at timestamptz,
	paid_at timestamptz,
	livemode boolean,
	state_occurred_at timestamptz NOT NULL,
	state_event_id text NOT NULL,
	state_event_type text,
	PRIMARY KEY (project_id, provider, payment_id),
	CHECK ((amount_minor IS NULL AND refunded_minor IS NULL AND discount_minor IS NULL) OR currency IS NOT NULL)
);
CREATE INDEX payments_customer ON payments (project_id, provider, customer_id);
CREATE INDEX payments_charge ON payments (project_id, provider, charge_id) WHERE charge_id IS NOT NULL;

CREATE TABLE pipeline_runs (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	program text NOT NULL,
	started_at timestamptz NOT NULL DEFAULT now(),
	finished_at timestamptz,        -- NULL: still running, or killed
	records_in bigint,
	records_out bigint,
	rejected bigint,
	inserted bigint,
	updated bigint,
	unchanged bigint,
	failed bigint,
	ignored bigint,
	exit_status integer,
	detail jsonb
);

-- Ops actions on customer data (exports now, impersonation and replays later).
CREATE TABLE audit_logs (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at timestamptz NOT NULL DEFAULT now(),
	actor text NOT NULL,
	action text NOT NULL,
	project_id text,
	target_type text,
	target_id text,
	metadata jsonb
);
CREATE INDEX audit_logs_at ON audit_logs (at);

-- Copilot runs: what was asked, what context was injected (metadata), what came back.
CREATE TABLE ai_runs (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	project_id text,
	kind text NOT NULL,
	started_at timestamptz NOT NULL DEFAULT now(),
	finished_at timestamptz,
	status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed')),
	model text,
	input_tokens integer,
	output_tokens integer,
	error text,
	metadata jsonb
);

CREATE VIEW integration_freshness_view AS
SELECT i.project_id, i.provider, i.last_event_at,
	now() - i.last_event_at AS age,
	CASE
	WHEN i.last_event_at IS NULL OR now() - i.last_event_at > COALESCE(i.stale_after, s.stale_after) THEN 'stale'
	WHEN now() - i.last_event_at > COALESCE(i.slow_after, s.slow_after) THEN 'slow'
	ELSE 'fresh'
	END AS state,
	COALESCE(i.slow_after, s.slow_after) AS slow_after,
	COALESCE(i.stale_after, s.stale_after) AS stale_after
FROM integrations i
CROSS JOIN (
	SELECT COALESCE(max(value) FILTER (WHERE key = 'freshness.slow_after'), '6 hours')::interval AS slow_after,
	       COALESCE(max(value) FILTER (WHERE key = 'freshness.stale_after'), '24 hours')::interval AS stale_after
	FROM settings
) s;

-- Payloads dominate the storage: lz4 compresses them faster than pglz when the
-- server was built with it; otherwise keep the default.
DO $$
BEGIN
	ALTER TABLE external_events_raw ALTER COLUMN payload SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
	RAISE NOTICE 'lz4 not available; payloads use the default compression';
END
$$;
