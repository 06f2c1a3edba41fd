-- The revenue report's daily summaries (see shared/src/order/revenue.rs).
--
-- The report read every order of its period (a year of the group: ~1 s on
-- the 1,000,000-order history, growing with the history). It now reads one
-- row per pizzeria, Paris day, payment method and channel, kept up to date
-- in the same transaction as every change that moves an order's share
-- (its status, its totals, its charges and refunds).
--
-- `day` is the Europe/Paris calendar day of the orders' `created_at`
-- (computed in Rust with chrono-tz: the server may have no time-zone tables).
-- The figures are those of the report's rule: `orders` sold, `total_cents`
-- and `vat_cents` counted (a sold order's total, what an undelivered one was
-- paid), `refunds_cents` and `refunds_vat_cents` taken off them. No foreign
-- key to `pizzerias`: a new key would take a shared lock on the pizzeria's
-- row inside a checkout, and the rows are derived (the rebuild recomputes
-- them from the orders).
CREATE TABLE revenue_days (
    pizzeria_id         BIGINT      NOT NULL,
    day                 DATE        NOT NULL,
    payment_method      VARCHAR(10) NOT NULL,
    channel             VARCHAR(10) NOT NULL,
    orders              BIGINT      NOT NULL DEFAULT 0,
    total_cents         BIGINT      NOT NULL DEFAULT 0,
    vat_cents           BIGINT      NOT NULL DEFAULT 0,
    refunds_cents       BIGINT      NOT NULL DEFAULT 0,
    refunds_vat_cents   BIGINT      NOT NULL DEFAULT 0,
    PRIMARY KEY (pizzeria_id, day, payment_method, channel),
    CONSTRAINT ck_revenue_days_payment_method CHECK (payment_method IN ('card', 'cash')),
    CONSTRAINT ck_revenue_days_channel CHECK (channel IN ('web', 'phone', 'counter'))
) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- What each order adds to its summary row now, so that a change applies
-- the difference (idempotent: counting an order again changes nothing) and
-- corrects whatever the order had added before. On the order's own row, which
-- every change already locks: no other row to read or lock. Added last with
-- defaults, so both servers add them instantly (MySQL 8.0.12+ `INSTANT`,
-- MariaDB 10.3+), whatever the size of the table. Zero until the order is
-- counted: the existing orders are counted by `ocpizza-admin revenue-rebuild`
-- (a migration cannot compute a Paris day, and must not hold the table).
ALTER TABLE orders
    ADD COLUMN revenue_orders            BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN revenue_total_cents       BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN revenue_vat_cents         BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN revenue_refunds_cents     BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN revenue_refunds_vat_cents BIGINT NOT NULL DEFAULT 0;

-- Each run of the rebuild. The report reads the summaries only once one has
-- finished; until then it counts from the orders as before (slower, exact).
-- A database without orders has nothing to rebuild: it starts rebuilt.
CREATE TABLE revenue_rebuilds (
    id           BIGINT      NOT NULL AUTO_INCREMENT,
    started_at   DATETIME(6) NOT NULL,
    finished_at  DATETIME(6) NULL,
    -- Orders whose share was corrected, and summary rows rewritten.
    orders_corrected BIGINT  NOT NULL DEFAULT 0,
    days_corrected   BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (id)
) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

INSERT INTO revenue_rebuilds (started_at, finished_at)
SELECT UTC_TIMESTAMP(6), UTC_TIMESTAMP(6) FROM DUAL WHERE NOT EXISTS (SELECT 1 FROM orders);
