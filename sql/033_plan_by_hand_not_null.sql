-- 033_plan_by_hand_not_null.sql: a plan set by hand to NULL is refused. The runbook's fix,
-- UPDATE subscriptions SET plan_id = (SELECT id FROM plans WHERE code = 'Pro') ..., with a
-- code that is no plan's (a typo, a plan not seeded yet) set plan_id to NULL: sql/016's
-- trigger stamped it as set by hand, and every later load kept the subscription on no plan,
-- without a word (audit-RB2 1). Now an UPDATE outside the loader that names plan_id and sets
-- it to NULL fails (not_null_violation) and changes nothing, also on a row whose plan is
-- NULL already (an unmapped price: it changed nothing, and said UPDATE 1). To hand the plan
-- back to the loader, clear plan_set_by_hand_at alone. A trigger of its own, on UPDATE OF
-- plan_id: sql/016's fires only when the plan changes, or on a row set by hand. A later
-- migration that writes plan_id sets revenueos.writer = 'load' first, as sql/019 does.
CREATE FUNCTION subscriptions_plan_not_null() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF current_setting('revenueos.writer', true) IS DISTINCT FROM 'load' THEN
		RAISE EXCEPTION 'subscription %: plan_id set to NULL by hand', OLD.subscription_id
			USING ERRCODE = 'not_null_violation',
			DETAIL = 'A plan set by hand is kept by every load: NULL would keep it on no plan.',
			HINT = 'Name a plan that exists (SELECT id, code FROM plans). To hand the plan back'
				' to the loader, set plan_set_by_hand_at = NULL alone.';
	END IF;
	RETURN NEW;
END $$;

CREATE TRIGGER subscriptions_plan_not_null BEFORE UPDATE OF plan_id ON subscriptions FOR EACH ROW
	WHEN (NEW.plan_id IS NULL) EXECUTE FUNCTION subscriptions_plan_not_null();

-- The subscriptions set by hand to no plan before: handed back to the loader, as if the
-- stamp had been cleared (the next event about each, or a re-run, derives its plan).
UPDATE subscriptions SET plan_set_by_hand_at = NULL WHERE plan_id IS NULL AND plan_set_by_hand_at IS NOT NULL;
