-- 033_plan_by_hand_not_null.sql: a plan set by hand to NULL is refused. The runbook's fix,
-- UPDATE subscriptions SET plan_id = (SELECT id FROM plans WHERE code = 'Pro') ..., with a
-- code that is no plan's (a typo, a plan not seeded yet) set plan_id to NULL: sql/016's
-- trigger stamped it as set by hand, and every later load kept the subscription on no plan,
-- without a word (audit-RB2 1). Now such an UPDATE fails (not_null_violation) and changes
-- nothing; to hand the plan back to the loader, clear plan_set_by_hand_at alone.
CREATE OR REPLACE FUNCTION subscriptions_plan_by_hand() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF current_setting('revenueos.writer', true) IS NOT DISTINCT FROM 'load' THEN
		IF OLD.plan_set_by_hand_at IS NOT NULL THEN
			NEW.plan_id := OLD.plan_id;
		END IF;
	ELSIF NEW.plan_id IS DISTINCT FROM OLD.plan_id THEN
		IF NEW.plan_id IS NULL THEN
			RAISE EXCEPTION 'subscription %: plan_id set to NULL by hand', OLD.subscription_id
				USING ERRCODE = 'not_null_violation',
				DETAIL = 'A plan set by hand is kept by every load: NULL would keep it on no plan.',
				HINT = 'Name a plan that exists (SELECT id, code FROM plans). To hand the plan back'
					' to the loader, set plan_set_by_hand_at = NULL alone.';
		END IF;
		NEW.plan_set_by_hand_at := now();
	END IF;
	RETURN NEW;
END $$;
