-- Replay records keyed by (timestamp, nonce) rather than (nonce, timestamp): the same pairs are
-- unique, but a new key now lands at the right edge of the index, beside the last ones, instead
-- of on a random page.
ALTER TABLE nonces DROP CONSTRAINT nonces_pkey;
ALTER TABLE nonces ADD PRIMARY KEY (request_timestamp, nonce);
