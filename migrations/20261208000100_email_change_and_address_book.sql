-- A change of e-mail waits for its confirmation: a one-time link sent to
-- the new address (`email`, 24 hours) carries the address it confirms, and
-- only following it changes the account's e-mail.
ALTER TABLE password_links DROP CONSTRAINT ck_password_links_purpose;
ALTER TABLE password_links
    ADD COLUMN new_email VARCHAR(254) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NULL,
    ADD CONSTRAINT ck_password_links_purpose CHECK (purpose IN ('bootstrap', 'reset', 'email')),
    ADD CONSTRAINT ck_password_links_new_email CHECK ((purpose = 'email') = (new_email IS NOT NULL));

-- The address book: a customer's saved delivery addresses, reused at
-- checkout (`address_id`). A label is unique per account ("Maison",
-- "Bureau"), compared like the other names (case-insensitive).
ALTER TABLE addresses
    ADD CONSTRAINT uq_addresses_user_label UNIQUE (user_id, label);
