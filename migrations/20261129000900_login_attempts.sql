-- Login throttling, per e-mail address whether or not an account has it, so
-- that a locked answer says nothing about which addresses exist. Keyed by the
-- SHA-256 of the normalised (trimmed, lower-case) address: an unknown address
-- someone typed is not kept in clear. A successful login deletes the row.
-- (users.failed_logins and users.locked_until are left unused for that reason.)
CREATE TABLE login_attempts (
    email_hash      BINARY(32)   NOT NULL,
    -- Consecutive failures within the window, at most the lockout threshold.
    failures        INT          NOT NULL DEFAULT 0,
    last_failed_at  DATETIME(6)  NULL,
    locked_until    DATETIME(6)  NULL,
    PRIMARY KEY (email_hash)
);
