-- Exact identifiers, and one declared character set and collation for every
-- table, so that MySQL 8 and MariaDB compare text the same way.
--
-- Until now every table took the server's default collation: MariaDB's
-- utf8mb4_general_ci, MySQL 8's utf8mb4_0900_ai_ci (accent- and
-- case-insensitive, NO PAD) — two different answers to "are these the same
-- text?", and both blind to accents. Sign-in found `lea@…`'s account when
-- `léa@…` was typed, while the throttle counted `léa@…` apart: six wrong
-- passwords locked `lea@…` and the right one typed as `léa@…` still got in.
--
-- 1. Every table (and the database's default, for tables created later) is
--    utf8mb4 with utf8mb4_unicode_ci, which both servers have and sort alike
--    (UCA 4.0.0, PAD SPACE): names, addresses, statuses still compare case-
--    and accent-insensitively, now alike on both.
--
-- 2. E-mail addresses: the application stores one form (shared/src/accounts.rs,
--    `normalise_email`: trimmed, Unicode NFC, lower case) and every lookup
--    compares it byte for byte (`CAST(email AS BINARY) = CAST(? AS BINARY)`,
--    after `email = ?` has found the row through the unique key). The column
--    itself stays utf8mb4_unicode_ci, and so does uq_users_email: uniqueness is
--    stricter than the lookups (`léa@…` cannot register while `lea@…` exists:
--    look-alike addresses never both have an account). Why not utf8mb4_bin on
--    the column: a `_bin` collation sets the column's BINARY flag in the
--    protocol, and sqlx 0.8 then refuses to decode it into a `String`
--    ("Rust type String is not compatible with SQL type VARBINARY",
--    launchbadge/sqlx#3387), so every `SELECT email` (accounts, checkout, tests)
--    would fail. Existing addresses are trimmed and lowered here; SQL cannot
--    put text in NFC (neither server has a Unicode normalisation function), so
--    `accounts::normalise_stored_emails` does that part once, from Rust. SQL's
--    TRIM removes spaces only and LOWER follows the collation's case mapping;
--    the application's form (Rust's Unicode `trim`/`to_lowercase`) is the
--    reference. TRIM could make two rows equal (` a@x.fr` and `a@x.fr`), which
--    the application never stored: the UPDATE then fails on uq_users_email,
--    to be resolved by hand.
--
-- 3. Opaque identifiers that are only ever written and compared, never read
--    back into the application, become utf8mb4_bin (exact, PAD SPACE on both
--    servers): idempotency keys (ours and the clients') and the ids of events
--    already processed — `evt_A` and `evt_a` are two events. Read them back,
--    if ever, as `CONVERT(col USING utf8mb4)` or as bytes (see 2). utf8mb4
--    rather than ascii: comparing an ascii column with a non-ASCII parameter is
--    an error ("Illegal mix of collations"), a 500 instead of "not found".
--    Identifiers the application reads back keep utf8mb4_unicode_ci and are
--    compared exactly where it matters: orders.tracking_token in Rust in
--    constant time; payments.provider_ref / refund_of / idempotency_key,
--    outbox.event_id are ours or Stripe's (random, never case variants).
--
-- Costs and cautions: each ALTER rebuilds its table (ALGORITHM=COPY on MySQL
-- 8 for a collation change of indexed columns): minutes for a large `orders`,
-- which is therefore rebuilt once, its text columns restated one by one. A
-- unique key could refuse the new collation where the old one told two values
-- apart (utf8mb4_unicode_ci equates `ß` and `ss`; PAD SPACE equates trailing
-- spaces, which MySQL 8's NO PAD did not): the ALTER then fails naming the
-- duplicate, to be resolved by hand. The statements are idempotent: after a
-- failure, fix the data, delete this version's row from _sqlx_migrations and
-- run the migration again.

ALTER DATABASE CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

ALTER TABLE pizzerias CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
ALTER TABLE opening_hours CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
ALTER TABLE users CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
ALTER TABLE addresses CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
ALTER TABLE categories CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
ALTER TABLE products CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
ALTER TABLE ingredients CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
ALTER TABLE recipe_lines CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
ALTER TABLE recipe_steps CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
ALTER TABLE menu_exclusions CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
ALTER TABLE stock CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
ALTER TABLE stock_movements CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
ALTER TABLE order_lines CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
ALTER TABLE order_status_history CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
ALTER TABLE payments CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
ALTER TABLE kitchen_tickets CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
ALTER TABLE deliveries CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
ALTER TABLE outbox CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
ALTER TABLE notifications CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
ALTER TABLE geocode_cache CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
ALTER TABLE login_attempts CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CONVERT TO overrides a MODIFY in the same statement (it converts every
-- column), so the exact columns come after it.
ALTER TABLE processed_events CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
ALTER TABLE processed_events
    MODIFY event_id VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL;

ALTER TABLE idempotency_keys CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
ALTER TABLE idempotency_keys
    MODIFY idempotency_key VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL;

-- One rebuild: the table's default, and every text column restated as
-- 20261128000500_orders.sql made it (type, NULL / NOT NULL; none has a default).
ALTER TABLE orders
    DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
    MODIFY number           VARCHAR(16)  CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL,
    MODIFY channel          VARCHAR(10)  CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL,
    MODIFY fulfilment       VARCHAR(10)  CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL,
    MODIFY payment_method   VARCHAR(10)  CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL,
    MODIFY status           VARCHAR(20)  CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL,
    MODIFY address_line1    VARCHAR(200) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NULL,
    MODIFY address_postcode VARCHAR(10)  CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NULL,
    MODIFY address_city     VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NULL,
    MODIFY contact_name     VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL,
    MODIFY contact_phone    VARCHAR(20)  CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL,
    MODIFY contact_email    VARCHAR(254) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NULL,
    MODIFY tracking_token   VARCHAR(64)  CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL,
    MODIFY idempotency_key  VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL;

-- Existing addresses in the stored form, as far as SQL can (see 2). Compared
-- as bytes: under the column's collation every row already "equals" its
-- lower-cased self.
UPDATE users SET email = LOWER(TRIM(email))
WHERE CAST(email AS BINARY) <> CAST(LOWER(TRIM(email)) AS BINARY);
