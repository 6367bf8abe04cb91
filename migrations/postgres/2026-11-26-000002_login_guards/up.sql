-- Wrong-password guards: per account and client address (the configured number of failures in a
-- row, then that address is locked out of that account), and per account across every address
-- (client '': a ceiling of failures an hour, then the account is locked). An attempt is reserved
-- here before the password is checked, so a burst of guesses is never evaluated beyond the limit.
CREATE TABLE login_guards (
    user_id TEXT NOT NULL REFERENCES users (id),
    client TEXT NOT NULL,
    failures INTEGER NOT NULL,
    window_start BIGINT NOT NULL,
    locked_until BIGINT,
    PRIMARY KEY (user_id, client)
);
