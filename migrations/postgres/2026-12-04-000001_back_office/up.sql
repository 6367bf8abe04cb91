-- The back office (后台): operators with one role each, their sessions, an append-only audit
-- trail, proposals that a second operator confirms (maker-checker), and collection work.
CREATE TABLE operators (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'reviewer', 'finance', 'collector', 'viewer')),
    password_hash TEXT NOT NULL,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    -- Wrong passwords in a row; a sign-in is counted here before its password is checked.
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until BIGINT,
    created_at BIGINT NOT NULL
);

-- Only a digest of the session token is kept: a copy of the database opens no session.
CREATE TABLE operator_sessions (
    token_digest TEXT PRIMARY KEY NOT NULL,
    operator_id TEXT NOT NULL REFERENCES operators (id),
    csrf_token TEXT NOT NULL,
    address TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX operator_sessions_by_operator ON operator_sessions (operator_id);

-- Operators' sign-ins per client address: wrong passwords in a row from one address, whatever
-- names they are tried under, lock that address out of signing in for a while.
CREATE TABLE operator_address_guards (
    address TEXT PRIMARY KEY NOT NULL,
    failures INTEGER NOT NULL,
    locked_until BIGINT
);

-- Who did what, when, from where, to what, before and after. Numbered without gaps by the
-- sequences table in the transaction that writes the row.
CREATE TABLE audit_events (
    seq BIGINT PRIMARY KEY NOT NULL,
    at BIGINT NOT NULL,
    operator TEXT NOT NULL,
    role TEXT NOT NULL,
    address TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT,
    outcome INTEGER NOT NULL,
    before_state TEXT,
    after_state TEXT
);
CREATE INDEX audit_events_by_operator ON audit_events (operator, at);
CREATE INDEX audit_events_by_entity ON audit_events (entity, entity_id, at);
CREATE INDEX audit_events_by_time ON audit_events (at);

-- A disbursement, an offline repayment or a product change: proposed by one operator, done
-- only when another confirms it. At most one open proposal of a kind per thing.
CREATE TABLE proposals (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('disbursement', 'offline_repayment', 'product_change')),
    entity_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'cancelled')),
    proposed_by TEXT NOT NULL,
    proposed_at BIGINT NOT NULL,
    decided_by TEXT,
    decided_at BIGINT,
    result TEXT,
    -- The proposer never confirms their own proposal (they may withdraw it).
    CHECK (status <> 'confirmed' OR decided_by <> proposed_by)
);
CREATE UNIQUE INDEX proposals_one_open ON proposals (kind, entity_id) WHERE status = 'pending';
CREATE INDEX proposals_by_status ON proposals (status, proposed_at);

-- Offline repayments (线下还款): a bank flow number is recorded once, whatever the concurrency.
CREATE TABLE offline_receipts (
    flow_no TEXT PRIMARY KEY NOT NULL,
    proposal_id TEXT NOT NULL REFERENCES proposals (id),
    application_id TEXT NOT NULL REFERENCES applications (id),
    at BIGINT NOT NULL
);

-- Collection (催收): which collector works an overdue loan, and what each contact gave.
CREATE TABLE collection_assignments (
    application_id TEXT PRIMARY KEY NOT NULL REFERENCES applications (id),
    collector_id TEXT NOT NULL REFERENCES operators (id),
    assigned_by TEXT NOT NULL,
    assigned_at BIGINT NOT NULL
);
CREATE INDEX collection_assignments_by_collector ON collection_assignments (collector_id);

CREATE TABLE collection_notes (
    id TEXT PRIMARY KEY NOT NULL,
    application_id TEXT NOT NULL REFERENCES applications (id),
    operator TEXT NOT NULL,
    method TEXT NOT NULL CHECK (method IN ('phone', 'sms', 'visit', 'other')),
    result TEXT NOT NULL,
    promise_date TEXT,
    promise_amount_cents BIGINT,
    at BIGINT NOT NULL
);
CREATE INDEX collection_notes_by_application ON collection_notes (application_id, at);

-- Nothing edits or deletes the audit trail, whatever the code above it does.
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only';
END
$$;
CREATE TRIGGER audit_events_append_only
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
