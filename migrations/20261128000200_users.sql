-- Customers and staff share one table: one login, one role.
-- The default collation (utf8mb4, case-insensitive) makes e-mails unique
-- regardless of case.
CREATE TABLE users (
    id              BIGINT       NOT NULL AUTO_INCREMENT,
    email           VARCHAR(254) NOT NULL,
    password_hash   VARCHAR(255) NOT NULL,
    name            VARCHAR(100) NOT NULL,
    phone           VARCHAR(20)  NULL,
    role            VARCHAR(20)  NOT NULL,
    pizzeria_id     BIGINT       NULL,
    active          BOOLEAN      NOT NULL DEFAULT TRUE,
    -- Bumped on deactivation or password change: older tokens stop working.
    token_version   INT          NOT NULL DEFAULT 0,
    failed_logins   INT          NOT NULL DEFAULT 0,
    locked_until    DATETIME(6)  NULL,
    created_at      DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at      DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    UNIQUE KEY uq_users_email (email),
    KEY ix_users_phone (phone),
    KEY ix_users_pizzeria_role (pizzeria_id, role),
    CONSTRAINT fk_users_pizzeria FOREIGN KEY (pizzeria_id) REFERENCES pizzerias (id),
    CONSTRAINT ck_users_role CHECK (role IN ('customer', 'cashier', 'pizzaiolo', 'courier', 'manager', 'admin')),
    CONSTRAINT ck_users_staff_pizzeria CHECK (role IN ('customer', 'admin') OR pizzeria_id IS NOT NULL)
);

-- A customer's saved delivery addresses.
CREATE TABLE addresses (
    id          BIGINT       NOT NULL AUTO_INCREMENT,
    user_id     BIGINT       NOT NULL,
    label       VARCHAR(50)  NOT NULL,
    line1       VARCHAR(200) NOT NULL,
    postcode    VARCHAR(10)  NOT NULL,
    city        VARCHAR(100) NOT NULL,
    latitude    DOUBLE       NULL,
    longitude   DOUBLE       NULL,
    created_at  DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    KEY ix_addresses_user (user_id),
    CONSTRAINT fk_addresses_user FOREIGN KEY (user_id) REFERENCES users (id)
);
