-- Session ids and SMS and graphic codes are stored as SHA-256 digests from now on. Those stored
-- in clear before cannot be matched any more: they are dropped (borrowers log in again; codes
-- live minutes anyway).
DELETE FROM sessions;
DELETE FROM sms_codes;
DELETE FROM captchas;
