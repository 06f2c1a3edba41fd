-- Phone numbers in E.164 (`+33645678901`), the one form the application now
-- stores and looks up (shared/src/phone.rs): users.phone and
-- orders.contact_phone were kept as typed (`06 45 67 89 01`, `+33 6 45…`),
-- so a lookup by `=` on ix_users_phone / ix_orders_phone missed most rows.
--
-- Rewritten here: the French numbers typed in the usual ways. With the
-- digits alone (every other character dropped):
--   10 digits, `0` then a non-zero digit       `06 45 67 89 01`     → +33 + the last 9
--   11 digits, `33` then a non-zero digit      `+33 6 45 67 89 01`  → +33 + the last 9
--   13 digits, `0033` then a non-zero digit    `0033 6 45 67 89 01` → +33 + the last 9
-- Anything else is left as it is (a foreign number, a `+33 (0)6…`, a
-- mistake): the application cannot find it by `=` and says nothing wrong
-- about it; a checkout by such an account asks for a phone number again.
-- SQL cannot tell a valid number from an invalid one as libphonenumber
-- does: a rewritten number of the right shape in an unused range stays.
--
-- Portable to MySQL 8 and MariaDB 10.6+: REGEXP_REPLACE exists in both (ICU
-- and PCRE; `[^0-9]` means the same to both). Rows already in E.164 compute
-- to themselves and are not written (compared as bytes, not through the
-- column's collation). Each UPDATE scans its table once: on a large `orders`
-- it holds its row locks for that long — run it off-peak. It is idempotent:
-- after a failure, run it again.

UPDATE users
SET phone = CONCAT('+33', RIGHT(REGEXP_REPLACE(phone, '[^0-9]', ''), 9))
WHERE phone IS NOT NULL
  AND (   REGEXP_REPLACE(phone, '[^0-9]', '') REGEXP '^0[1-9][0-9]{8}$'
       OR REGEXP_REPLACE(phone, '[^0-9]', '') REGEXP '^33[1-9][0-9]{8}$'
       OR REGEXP_REPLACE(phone, '[^0-9]', '') REGEXP '^0033[1-9][0-9]{8}$')
  AND CAST(phone AS BINARY)
      <> CAST(CONCAT('+33', RIGHT(REGEXP_REPLACE(phone, '[^0-9]', ''), 9)) AS BINARY);

UPDATE orders
SET contact_phone = CONCAT('+33', RIGHT(REGEXP_REPLACE(contact_phone, '[^0-9]', ''), 9))
WHERE (   REGEXP_REPLACE(contact_phone, '[^0-9]', '') REGEXP '^0[1-9][0-9]{8}$'
       OR REGEXP_REPLACE(contact_phone, '[^0-9]', '') REGEXP '^33[1-9][0-9]{8}$'
       OR REGEXP_REPLACE(contact_phone, '[^0-9]', '') REGEXP '^0033[1-9][0-9]{8}$')
  AND CAST(contact_phone AS BINARY)
      <> CAST(CONCAT('+33', RIGHT(REGEXP_REPLACE(contact_phone, '[^0-9]', ''), 9)) AS BINARY);
