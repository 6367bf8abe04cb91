DROP TABLE grants;
CREATE TABLE grants (
    mobile TEXT NOT NULL,
    kind TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (mobile, kind)
);
ALTER TABLE sms_codes DROP COLUMN flow_client;
ALTER TABLE sms_codes DROP COLUMN flow_cookie;
