ALTER TABLE nonces DROP CONSTRAINT nonces_pkey;
ALTER TABLE nonces ADD PRIMARY KEY (nonce, request_timestamp);
