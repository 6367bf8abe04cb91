-- The cash-loan data model. Money is BIGINT 分 (cents), rates are decimal TEXT, instants are
-- BIGINT milliseconds since the epoch, business dates are TEXT 'YYYY-MM-DD' (they sort as dates).
-- The SQLite migration of the same name is the same schema.

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    mobile TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until BIGINT,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    is_risk BOOLEAN NOT NULL DEFAULT FALSE,
    total_credit_cents BIGINT NOT NULL,
    real_name_auth BOOLEAN NOT NULL DEFAULT FALSE,
    bank_card_auth BOOLEAN NOT NULL DEFAULT FALSE,
    customer_info_auth BOOLEAN NOT NULL DEFAULT FALSE,
    mobile_auth BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE identities (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id),
    real_name TEXT NOT NULL,
    id_card_no TEXT NOT NULL UNIQUE,
    verified_at BIGINT NOT NULL
);

CREATE TABLE bank_cards (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id),
    card_no TEXT NOT NULL UNIQUE,
    reserved_mobile TEXT NOT NULL,
    verified_at BIGINT NOT NULL
);

CREATE TABLE personal_infos (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id),
    education TEXT NOT NULL,
    marital_status TEXT NOT NULL,
    registry_province TEXT NOT NULL,
    registry_city TEXT NOT NULL,
    registry_detail TEXT NOT NULL,
    house_province TEXT NOT NULL,
    house_city TEXT NOT NULL,
    house_county TEXT NOT NULL,
    house_detail TEXT NOT NULL,
    residence_length TEXT NOT NULL,
    industry_type TEXT NOT NULL,
    work_province TEXT NOT NULL,
    work_city TEXT NOT NULL,
    work_county TEXT NOT NULL,
    work_detail TEXT NOT NULL,
    working_hours TEXT NOT NULL,
    employer TEXT NOT NULL,
    job_position TEXT NOT NULL,
    month_income_cents BIGINT NOT NULL,
    payroll_day INTEGER,
    updated_at BIGINT NOT NULL
);

CREATE TABLE contacts (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    position INTEGER NOT NULL,
    rel_type TEXT NOT NULL,
    real_name TEXT NOT NULL,
    phone TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (user_id, position),
    UNIQUE (user_id, phone)
);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    device_token TEXT NOT NULL,
    app_type TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE captchas (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL,
    client TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    consumed_at BIGINT
);
CREATE INDEX captchas_by_code ON captchas (code);
CREATE INDEX captchas_by_time ON captchas (created_at);

CREATE TABLE sms_codes (
    mobile TEXT NOT NULL,
    purpose TEXT NOT NULL,
    code TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    sent_at BIGINT NOT NULL,
    consumed_at BIGINT,
    PRIMARY KEY (mobile, purpose)
);

CREATE TABLE sms_sends (
    id TEXT PRIMARY KEY NOT NULL,
    mobile TEXT NOT NULL,
    purpose TEXT NOT NULL,
    business_date TEXT NOT NULL,
    sent_at BIGINT NOT NULL
);
CREATE INDEX sms_sends_by_mobile ON sms_sends (mobile, sent_at);

CREATE TABLE grants (
    mobile TEXT NOT NULL,
    kind TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (mobile, kind)
);

CREATE TABLE nonces (
    nonce TEXT NOT NULL,
    request_timestamp TEXT NOT NULL,
    seen_at BIGINT NOT NULL,
    PRIMARY KEY (nonce, request_timestamp)
);
CREATE INDEX nonces_by_time ON nonces (seen_at);

CREATE TABLE rate_counters (
    bucket TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    hits INTEGER NOT NULL,
    PRIMARY KEY (bucket, window_start)
);

CREATE TABLE products (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    detail_description TEXT NOT NULL,
    third_service_code TEXT NOT NULL,
    amount_limit_type INTEGER NOT NULL,
    single_min_amount_cents BIGINT,
    single_max_amount_cents BIGINT,
    single_amounts TEXT,
    single_default_amount_cents BIGINT,
    rate_limit_type INTEGER NOT NULL,
    min_rate TEXT,
    max_rate TEXT,
    rates TEXT,
    default_rate TEXT,
    term_units TEXT NOT NULL,
    days_limit_type INTEGER,
    min_days INTEGER,
    max_days INTEGER,
    days TEXT,
    default_days INTEGER,
    months_limit_type INTEGER,
    min_months INTEGER,
    max_months INTEGER,
    months TEXT,
    default_months INTEGER,
    repay_types TEXT NOT NULL,
    repay_term_units TEXT NOT NULL,
    default_repay_term_count INTEGER,
    default_repay_term_unit TEXT,
    penalty_rate TEXT,
    service_fee_rate TEXT NOT NULL,
    upfront_fee_rate TEXT NOT NULL,
    on_sale BOOLEAN NOT NULL,
    display_order INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX products_on_sale ON products (on_sale, display_order, created_at);

CREATE TABLE applications (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    product_id TEXT NOT NULL REFERENCES products (id),
    product_code TEXT NOT NULL,
    product_name TEXT NOT NULL,
    loan_code TEXT NOT NULL UNIQUE,
    status INTEGER NOT NULL,
    amount_cents BIGINT NOT NULL,
    reply_amount_cents BIGINT,
    interest_rate TEXT NOT NULL,
    penalty_rate TEXT,
    service_fee_rate TEXT NOT NULL,
    upfront_fee_rate TEXT NOT NULL,
    term_count INTEGER NOT NULL,
    term_unit TEXT NOT NULL,
    repay_term_count INTEGER NOT NULL,
    repay_term_unit TEXT NOT NULL,
    repay_type TEXT NOT NULL,
    auth_term_count INTEGER,
    auth_term_unit TEXT,
    purpose TEXT NOT NULL,
    other_channels TEXT NOT NULL,
    longitude TEXT NOT NULL,
    latitude TEXT NOT NULL,
    order_id TEXT NOT NULL,
    contact_name TEXT,
    contact_phone TEXT,
    remark TEXT,
    phonebook TEXT NOT NULL,
    applied_at BIGINT NOT NULL,
    reviewed_at BIGINT,
    decided_at BIGINT,
    reject_reason TEXT,
    disbursed_at BIGINT,
    release_date TEXT,
    settled_at BIGINT,
    updated_at BIGINT NOT NULL
);
CREATE INDEX applications_by_user ON applications (user_id, applied_at DESC, id DESC);
CREATE INDEX applications_by_status ON applications (status, applied_at DESC);
-- A user has at most one application in 0, 1, 2 or 4 (DOMAIN.md), whatever the concurrency.
CREATE UNIQUE INDEX applications_one_open ON applications (user_id) WHERE status IN (0, 1, 2, 4);

CREATE TABLE contracts (
    id TEXT PRIMARY KEY NOT NULL,
    application_id TEXT NOT NULL REFERENCES applications (id),
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX contracts_by_application ON contracts (application_id);

CREATE TABLE installments (
    id TEXT PRIMARY KEY NOT NULL,
    application_id TEXT NOT NULL REFERENCES applications (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    period INTEGER NOT NULL,
    start_date TEXT NOT NULL,
    due_date TEXT NOT NULL,
    principal_cents BIGINT NOT NULL,
    interest_cents BIGINT NOT NULL,
    fee_cents BIGINT NOT NULL,
    status INTEGER NOT NULL DEFAULT 0,
    overdue BOOLEAN NOT NULL DEFAULT FALSE,
    penalty_cents BIGINT NOT NULL DEFAULT 0,
    penalty_date TEXT,
    charged_principal_cents BIGINT,
    charged_interest_cents BIGINT,
    charged_fee_cents BIGINT,
    charged_penalty_cents BIGINT,
    settled_by TEXT,
    prepaid BOOLEAN NOT NULL DEFAULT FALSE,
    paid_on TEXT,
    paid_at BIGINT,
    UNIQUE (application_id, period)
);
CREATE INDEX installments_by_user ON installments (user_id, status, due_date);
CREATE INDEX installments_by_due_date ON installments (due_date, status);

-- Append-only ledger of every money movement.
CREATE TABLE payments (
    id TEXT PRIMARY KEY NOT NULL,
    payment_ref TEXT NOT NULL,
    application_id TEXT NOT NULL REFERENCES applications (id),
    installment_id TEXT REFERENCES installments (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL,
    amount_cents BIGINT NOT NULL,
    principal_cents BIGINT NOT NULL,
    interest_cents BIGINT NOT NULL,
    fee_cents BIGINT NOT NULL,
    penalty_cents BIGINT NOT NULL,
    channel_ref TEXT,
    business_date TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX payments_by_application ON payments (application_id, created_at);
-- Money can never be taken twice for one installment, nor paid out twice for one loan.
CREATE UNIQUE INDEX payments_once_per_installment ON payments (installment_id) WHERE installment_id IS NOT NULL;
CREATE UNIQUE INDEX payments_one_disbursement ON payments (application_id) WHERE kind = 'disbursement';

CREATE TABLE customer_messages (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    message_type TEXT NOT NULL,
    title TEXT NOT NULL,
    content TEXT NOT NULL,
    event_key TEXT UNIQUE,
    sent_at BIGINT NOT NULL
);
CREATE INDEX customer_messages_by_user ON customer_messages (user_id, sent_at DESC, id DESC);

CREATE TABLE system_messages (
    id TEXT PRIMARY KEY NOT NULL,
    message_type TEXT NOT NULL,
    title TEXT NOT NULL,
    content TEXT NOT NULL,
    event_url TEXT NOT NULL,
    send_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX system_messages_by_time ON system_messages (send_at DESC, id DESC);

CREATE TABLE feedback (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    mobile TEXT NOT NULL,
    source TEXT NOT NULL,
    suggestion TEXT NOT NULL,
    business_date TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX feedback_by_mobile ON feedback (mobile, business_date);

CREATE TABLE app_versions (
    id TEXT PRIMARY KEY NOT NULL,
    app_type TEXT NOT NULL,
    version_code BIGINT NOT NULL,
    version_name TEXT NOT NULL,
    download_url TEXT NOT NULL,
    force_update BOOLEAN NOT NULL,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (app_type, version_code)
);

CREATE TABLE blacklist (
    mobile TEXT PRIMARY KEY NOT NULL,
    reason TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE settings (
    name TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE sequences (
    scope TEXT NOT NULL,
    day TEXT NOT NULL,
    last_value BIGINT NOT NULL,
    PRIMARY KEY (scope, day)
);
