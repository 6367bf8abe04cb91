-- ID-card and bank-card numbers are sealed (AES-256-GCM) in the new columns; the old columns
-- hold a keyed HMAC of the number from now on (their UNIQUE constraints keep working on it).
-- The server seals the rows written before this at its next start (it needs the data key).
ALTER TABLE identities ADD COLUMN id_card_sealed TEXT;
ALTER TABLE bank_cards ADD COLUMN card_sealed TEXT;
