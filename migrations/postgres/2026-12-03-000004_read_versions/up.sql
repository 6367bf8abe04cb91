-- What the read cache of each instance checks its entries against (docs/performance.md, "The
-- read cache"): a user's data_version moves in the same transaction as any change to what is
-- read about them (identity, applications, installments), and read_epoch moves with any change
-- to products or settings. Triggers rather than code at each write, so no write path, present
-- or future, can change those rows without moving the version.
ALTER TABLE users ADD COLUMN data_version BIGINT NOT NULL DEFAULT 0;

CREATE TABLE read_epoch (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    value BIGINT NOT NULL
);
INSERT INTO read_epoch (id, value) VALUES (1, 0);

CREATE FUNCTION bump_user_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE users SET data_version = data_version + 1 WHERE id = NEW.user_id;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE users SET data_version = data_version + 1 WHERE id = OLD.user_id;
    ELSE
        UPDATE users SET data_version = data_version + 1 WHERE id IN (OLD.user_id, NEW.user_id);
    END IF;
    RETURN NULL;
END
$$;

-- Deferred to the commit: the user's row is locked last, when the transaction holds every other
-- lock it will take, so the bump adds no new order in which two transactions could wait for
-- each other.
CREATE CONSTRAINT TRIGGER identities_data_version
    AFTER INSERT OR UPDATE OR DELETE ON identities
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_user_data_version();
CREATE CONSTRAINT TRIGGER applications_data_version
    AFTER INSERT OR UPDATE OR DELETE ON applications
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_user_data_version();
-- The daily job's accrual (overdue, penalty_cents, penalty_date) moves no version: what an unpaid
-- installment owes is computed from its terms to a date, never read from those columns, and
-- leaving them out keeps the job from rewriting a user row per installment it accrues.
CREATE CONSTRAINT TRIGGER installments_data_version
    AFTER INSERT OR DELETE OR UPDATE OF
    application_id, user_id, period, start_date, due_date, principal_cents,
    interest_cents, fee_cents, status, charged_principal_cents, charged_interest_cents,
    charged_fee_cents, charged_penalty_cents, settled_by, prepaid, paid_on, paid_at
    ON installments
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_user_data_version();

CREATE FUNCTION bump_read_epoch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE read_epoch SET value = value + 1 WHERE id = 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER products_read_epoch
    AFTER INSERT OR UPDATE OR DELETE ON products
    FOR EACH STATEMENT EXECUTE FUNCTION bump_read_epoch();
CREATE TRIGGER settings_read_epoch
    AFTER INSERT OR UPDATE OR DELETE ON settings
    FOR EACH STATEMENT EXECUTE FUNCTION bump_read_epoch();
