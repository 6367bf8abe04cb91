-- Replay records keyed by (timestamp, nonce) rather than (nonce, timestamp): the same pairs are
-- unique, but a new record now lands at the right edge of the key, beside the last ones, instead
-- of on a random page. A commit of the replay writer then writes a few pages to the WAL instead
-- of one per nonce. Without a rowid, the key is the table: one B-tree fewer to write.
CREATE TABLE nonces_by_key (
    request_timestamp TEXT NOT NULL,
    nonce TEXT NOT NULL,
    seen_at BIGINT NOT NULL,
    PRIMARY KEY (request_timestamp, nonce)
) WITHOUT ROWID;
INSERT INTO nonces_by_key (request_timestamp, nonce, seen_at)
    SELECT request_timestamp, nonce, seen_at FROM nonces;
DROP TABLE nonces;
ALTER TABLE nonces_by_key RENAME TO nonces;
CREATE INDEX nonces_by_time ON nonces (seen_at);
