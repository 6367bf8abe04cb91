ALTER TABLE bank_cards DROP COLUMN card_sealed;
ALTER TABLE identities DROP COLUMN id_card_sealed;
