-- E-mails about an account rather than an order (a forgotten password):
-- the notifier sends them like the others. `order_id` is NULL for them and
-- `user_id` names the account.
ALTER TABLE notifications
    MODIFY COLUMN order_id BIGINT NULL,
    ADD COLUMN user_id BIGINT NULL,
    ADD KEY ix_notifications_user (user_id),
    ADD CONSTRAINT fk_notifications_user FOREIGN KEY (user_id) REFERENCES users (id);

-- A link to choose a new password after forgetting it (`reset`, one hour)
-- beside the first admin's (`bootstrap`).
ALTER TABLE password_links DROP CONSTRAINT ck_password_links_purpose;
ALTER TABLE password_links
    ADD CONSTRAINT ck_password_links_purpose CHECK (purpose IN ('bootstrap', 'reset'));
