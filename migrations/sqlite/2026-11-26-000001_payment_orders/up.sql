-- Payment orders: every movement of money to or from a borrower's card is written here and
-- committed before the payment channel is called, settled after. The PostgreSQL migration of the
-- same name is the same schema.
CREATE TABLE payment_orders (
    -- Also the reference the channel sees: its idempotency key for this movement.
    id TEXT PRIMARY KEY NOT NULL,
    -- payout (a disbursement), charge (one installment), payoff (the whole loan), auto_debit.
    kind TEXT NOT NULL,
    application_id TEXT NOT NULL REFERENCES applications (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    amount_cents BIGINT NOT NULL,
    -- The business date the amounts were computed for (a payout: the plan's start).
    business_date TEXT NOT NULL,
    -- A payout: how the plan's interest is rounded (half_up; down where half up alone would
    -- cross the APR cap), decided when the order was opened.
    rounding TEXT,
    -- pending (written, the channel not yet answered), succeeded, failed, unknown (the channel
    -- did not answer in time; the reconciler or a notification settles it).
    status TEXT NOT NULL,
    channel_ref TEXT,
    -- The channel's or the operator's words about the outcome.
    message TEXT,
    -- Set when operators must look: an amount that differs from the channel's, money that
    -- moved for installments already paid otherwise.
    flag TEXT,
    -- channel, reconciler, notification or operator.
    settled_by TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    settled_at BIGINT
);
-- At most one open charge of a loan at a time (an installment, its payoff or an auto-debit),
-- and one payout that has not failed: the database refuses the second, whatever the race.
CREATE UNIQUE INDEX payment_orders_one_open_charge ON payment_orders (application_id)
    WHERE kind <> 'payout' AND status IN ('pending', 'unknown');
CREATE UNIQUE INDEX payment_orders_one_payout ON payment_orders (application_id)
    WHERE kind = 'payout' AND status <> 'failed';
CREATE INDEX payment_orders_by_status ON payment_orders (status, updated_at);
CREATE INDEX payment_orders_by_application ON payment_orders (application_id, created_at);

-- What a charge order pays, installment by installment, as computed when it was opened: the
-- settlement applies exactly these amounts, whenever it happens.
CREATE TABLE payment_order_lines (
    order_id TEXT NOT NULL REFERENCES payment_orders (id),
    installment_id TEXT NOT NULL REFERENCES installments (id),
    principal_cents BIGINT NOT NULL,
    interest_cents BIGINT NOT NULL,
    fee_cents BIGINT NOT NULL,
    penalty_cents BIGINT NOT NULL,
    -- Paid before its due date (a payoff).
    prepaid BOOLEAN NOT NULL,
    PRIMARY KEY (order_id, installment_id)
);
