-- 007_dispute_outcomes.sql: a dispute's outcome. charge.dispute.closed (Stripe) becomes
-- payment.dispute_closed, and the dispute's payment row moves from 'disputed' to
-- 'dispute_won' (closed without a chargeback: the money stays) or 'dispute_lost' (the
-- chargeback stands). Only values are added, so every stored row passes; checking them
-- reads the payments table once, under its lock: migrate when no load runs.
ALTER TABLE payments DROP CONSTRAINT payments_status_check,
	ADD CONSTRAINT payments_status_check
	CHECK (status IN ('succeeded', 'failed', 'pending', 'refunded', 'partially_refunded',
		'disputed', 'dispute_won', 'dispute_lost', 'canceled', 'expired', 'uncollectible'));
