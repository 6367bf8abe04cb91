-- Registration and reset flows belong to the client that started them: an SMS code remembers
-- the flow that asked for it (the digest of the flow cookie it was given, and its address and
-- User-Agent), and a grant belongs to one flow. Grants live minutes: the old ones are dropped.
ALTER TABLE sms_codes ADD COLUMN flow_cookie TEXT;
ALTER TABLE sms_codes ADD COLUMN flow_client TEXT;
DROP TABLE grants;
CREATE TABLE grants (
    mobile TEXT NOT NULL,
    kind TEXT NOT NULL,
    flow TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (mobile, kind, flow)
);
