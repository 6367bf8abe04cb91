DROP TRIGGER products_read_epoch ON products;
DROP TRIGGER settings_read_epoch ON settings;
DROP FUNCTION bump_read_epoch();
DROP TRIGGER identities_data_version ON identities;
DROP TRIGGER applications_data_version ON applications;
DROP TRIGGER installments_data_version ON installments;
DROP FUNCTION bump_user_data_version();
DROP TABLE read_epoch;
ALTER TABLE users DROP COLUMN data_version;
