-- One-time links to set a password: the first admin's after a deploy
-- (`ocpizza-admin bootstrap`). Only the SHA-256 of the link's token is kept,
-- so reading the table gives nobody a way in. A link works once, before
-- `expires_at` (UTC).
CREATE TABLE password_links (
    token_sha256 BINARY(32)  NOT NULL,
    user_id      BIGINT      NOT NULL,
    purpose      VARCHAR(20) NOT NULL,
    created_at   DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    expires_at   DATETIME(6) NOT NULL,
    used_at      DATETIME(6) NULL,
    PRIMARY KEY (token_sha256),
    KEY ix_password_links_user (user_id),
    CONSTRAINT fk_password_links_user FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT ck_password_links_purpose CHECK (purpose IN ('bootstrap'))
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
