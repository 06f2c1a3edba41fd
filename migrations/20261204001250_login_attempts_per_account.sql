-- Sign-in throttling per account (shared/src/accounts.rs): once the e-mail is
-- found, attempts are counted against the account, whatever form of its
-- address was typed; an address without an account is counted on its own.
-- `email_hash` now holds that key: SHA-256 of `account:<user id>` or of
-- `address:<normalised e-mail>` (the two prefixes keep any typed text away
-- from an account's count). Each attempt is counted before its password is
-- checked, so `failures` and `last_failed_at` are the attempts of the window
-- and the latest; a successful sign-in deletes the row.
--
-- Rows of the old form (SHA-256 of the address alone) that belong to an
-- account carry over to its new key, so a lock running at deploy time holds.
-- The others (addresses without an account) are no longer read: the sweep's
-- `accounts::purge_login_attempts` deletes them with every stale count. Run
-- after 20261204001200, whose addresses are already trimmed and lowered as
-- the old keys were.
UPDATE login_attempts la
    JOIN users u ON la.email_hash = UNHEX(SHA2(u.email, 256))
SET la.email_hash = UNHEX(SHA2(CONCAT('account:', u.id), 256));

-- The purge's range.
CREATE INDEX ix_login_attempts_last_failed ON login_attempts (last_failed_at);
