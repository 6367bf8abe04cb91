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

CREATE TRIGGER identities_insert_version AFTER INSERT ON identities BEGIN
    UPDATE users SET data_version = data_version + 1 WHERE id = NEW.user_id;
END;
CREATE TRIGGER identities_update_version AFTER UPDATE ON identities BEGIN
    UPDATE users SET data_version = data_version + 1 WHERE id IN (OLD.user_id, NEW.user_id);
END;
CREATE TRIGGER identities_delete_version AFTER DELETE ON identities BEGIN
    UPDATE users SET data_version = data_version + 1 WHERE id = OLD.user_id;
END;

CREATE TRIGGER applications_insert_version AFTER INSERT ON applications BEGIN
    UPDATE users SET data_version = data_version + 1 WHERE id = NEW.user_id;
END;
CREATE TRIGGER applications_update_version AFTER UPDATE ON applications BEGIN
    UPDATE users SET data_version = data_version + 1 WHERE id IN (OLD.user_id, NEW.user_id);
END;
CREATE TRIGGER applications_delete_version AFTER DELETE ON applications BEGIN
    UPDATE users SET data_version = data_version + 1 WHERE id = OLD.user_id;
END;

CREATE TRIGGER installments_insert_version AFTER INSERT ON installments BEGIN
    UPDATE users SET data_version = data_version + 1 WHERE id = NEW.user_id;
END;
-- The daily job's accrual (overdue, penalty_cents, penalty_date) moves no version: what an unpaid
-- installment owes is computed from its terms to a date, never read from those columns, and
-- leaving them out keeps the job from rewriting a user row per installment it accrues.
CREATE TRIGGER installments_update_version AFTER UPDATE OF
    application_id, user_id, period, start_date, due_date, principal_cents,
    interest_cents, fee_cents, status, charged_principal_cents, charged_interest_cents,
    charged_fee_cents, charged_penalty_cents, settled_by, prepaid, paid_on, paid_at
    ON installments BEGIN
    UPDATE users SET data_version = data_version + 1 WHERE id IN (OLD.user_id, NEW.user_id);
END;
CREATE TRIGGER installments_delete_version AFTER DELETE ON installments BEGIN
    UPDATE users SET data_version = data_version + 1 WHERE id = OLD.user_id;
END;

CREATE TRIGGER products_insert_epoch AFTER INSERT ON products BEGIN
    UPDATE read_epoch SET value = value + 1 WHERE id = 1;
END;
CREATE TRIGGER products_update_epoch AFTER UPDATE ON products BEGIN
    UPDATE read_epoch SET value = value + 1 WHERE id = 1;
END;
CREATE TRIGGER products_delete_epoch AFTER DELETE ON products BEGIN
    UPDATE read_epoch SET value = value + 1 WHERE id = 1;
END;
CREATE TRIGGER settings_insert_epoch AFTER INSERT ON settings BEGIN
    UPDATE read_epoch SET value = value + 1 WHERE id = 1;
END;
CREATE TRIGGER settings_update_epoch AFTER UPDATE ON settings BEGIN
    UPDATE read_epoch SET value = value + 1 WHERE id = 1;
END;
CREATE TRIGGER settings_delete_epoch AFTER DELETE ON settings BEGIN
    UPDATE read_epoch SET value = value + 1 WHERE id = 1;
END;
