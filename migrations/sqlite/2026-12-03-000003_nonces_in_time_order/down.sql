CREATE TABLE nonces_by_nonce (
    nonce TEXT NOT NULL,
    request_timestamp TEXT NOT NULL,
    seen_at BIGINT NOT NULL,
    PRIMARY KEY (nonce, request_timestamp)
);
INSERT INTO nonces_by_nonce (nonce, request_timestamp, seen_at)
    SELECT nonce, request_timestamp, seen_at FROM nonces;
DROP TABLE nonces;
ALTER TABLE nonces_by_nonce RENAME TO nonces;
CREATE INDEX nonces_by_time ON nonces (seen_at);
