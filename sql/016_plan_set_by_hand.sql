-- 016_plan_set_by_hand.sql: a plan ops set by hand stays. The runbook's fix for "user
-- upgraded but plan shows Starter" is an UPDATE of subscriptions.plan_id; the loader
-- re-derives the plan of every subscription a batch names (the event's plan code, else
-- the price mapping), so the next cron run, minutes later, undid it without a word.
-- Now an UPDATE that changes plan_id outside the loader (which says who it is with
-- SET revenueos.writer = 'load') stamps plan_set_by_hand_at, and while that is set the
-- loader's writes keep the row's plan_id. Clearing it hands the plan back to the loader:
--   UPDATE subscriptions SET plan_set_by_hand_at = NULL WHERE ...;
-- (the next event about the subscription, or a re-run, derives the plan again).
ALTER TABLE subscriptions ADD COLUMN plan_set_by_hand_at timestamptz;
COMMENT ON COLUMN subscriptions.plan_set_by_hand_at IS
	'when ops set plan_id by hand; while set, loads keep that plan (NULL: the loader derives it)';

CREATE FUNCTION subscriptions_plan_by_hand() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF current_setting('revenueos.writer', true) IS NOT DISTINCT FROM 'load' THEN
		IF OLD.plan_set_by_hand_at IS NOT NULL THEN
			NEW.plan_id := OLD.plan_id;
		END IF;
	ELSIF NEW.plan_id IS DISTINCT FROM OLD.plan_id THEN
		NEW.plan_set_by_hand_at := now();
	END IF;
	RETURN NEW;
END $$;

-- called only for a row set by hand or a plan that changes: not for the loader's
-- every other update of a subscription
CREATE TRIGGER subscriptions_plan_by_hand BEFORE UPDATE ON subscriptions FOR EACH ROW
	WHEN (OLD.plan_set_by_hand_at IS NOT NULL OR NEW.plan_id IS DISTINCT FROM OLD.plan_id)
	EXECUTE FUNCTION subscriptions_plan_by_hand();
