-- OC Pizza: generator of historical orders, for benchmarks.
--
-- A TEMPLATE: the loader replaces the count placeholder on the first SET below
-- with N (1 .. 1,000,000 per run) and runs the whole file as one multi-statement
-- script on one connection (it uses session variables and temporary tables).
-- Needs the demo data (samples/demo.sql) or any catalog with the categories
-- 'Pizzas', 'Boissons', 'Desserts' and at least one active pizzeria.
--
-- What it writes: N orders over the open pizzerias and the last 365 days
-- (UTC, at lunch and dinner times of Europe/Paris), 1 to 3 lines each, and two
-- order_status_history rows each (first and final status). About 95 % are
-- 'delivered' or 'picked_up' (according to fulfilment), 5 % 'cancelled'.
-- Guest orders (customer_id NULL); no payments, tickets or deliveries; stock
-- is NOT touched (history is already consumed).
--
-- Re-runnable: the new orders take the ids just above the current MAX(id),
-- and number / tracking_token derive from that id (and a per-run UUID), so a
-- second run never collides with the first. Numbers look like 'H0000A3F2'
-- ('H' for history: the application's own numbers never start like that).
-- Do not run it while the application inserts orders: both would want the
-- same ids.
--
-- Portable to MySQL 8 and MariaDB 10.6+: no recursive CTE (the row source is a
-- table of the digits 0-9 cross joined 6 times), and no temporary table is
-- referenced twice in one statement (MySQL cannot reopen a temporary table).
-- Pseudo-random draws are CRC32 hashes of (per-run salt, tag, n): deterministic
-- within a run, so they can be referenced several times in one row.

SET NAMES utf8mb4;

SET @hist_count := @@COUNT@@;
SET @hist_salt := UUID();
SET @hist_now := UTC_TIMESTAMP();

-- Open pizzerias, numbered 0..k-1, with what an order needs from them.
DROP TEMPORARY TABLE IF EXISTS hist_pizzerias;
CREATE TEMPORARY TABLE hist_pizzerias (
    k                   INT          NOT NULL,
    id                  BIGINT       NOT NULL,
    postcode            VARCHAR(10)  NOT NULL,
    city                VARCHAR(100) NOT NULL,
    latitude            DOUBLE       NOT NULL,
    longitude           DOUBLE       NOT NULL,
    delivery_radius_m   INT          NOT NULL,
    delivery_fee_cents  BIGINT       NOT NULL,
    min_order_cents     BIGINT       NOT NULL,
    monday_open         BOOLEAN      NOT NULL,
    cashier_id          BIGINT       NULL,
    PRIMARY KEY (k),
    UNIQUE KEY (id)
);
INSERT INTO hist_pizzerias (k, id, postcode, city, latitude, longitude, delivery_radius_m,
                            delivery_fee_cents, min_order_cents, monday_open, cashier_id)
SELECT ROW_NUMBER() OVER (ORDER BY p.id) - 1, p.id, p.postcode, p.city, p.latitude, p.longitude,
       p.delivery_radius_m, p.delivery_fee_cents, p.min_order_cents,
       EXISTS (SELECT 1 FROM opening_hours h WHERE h.pizzeria_id = p.id AND h.weekday = 1),
       (SELECT MIN(u.id) FROM users u WHERE u.pizzeria_id = p.id AND u.role = 'cashier')
FROM pizzerias p
WHERE p.status = 'active';
SET @hist_npz := (SELECT COUNT(*) FROM hist_pizzerias);

-- Sellable products by kind (P pizza, B boisson, D dessert), numbered 0..k-1.
-- Only products with a recipe: the "pizza with no recipe" was never sold.
DROP TEMPORARY TABLE IF EXISTS hist_products;
CREATE TEMPORARY TABLE hist_products (
    kind         CHAR(1)      NOT NULL,
    k            INT          NOT NULL,
    product_id   BIGINT       NOT NULL,
    name         VARCHAR(100) NOT NULL,
    price_cents  BIGINT       NOT NULL,
    vat_rate_bp  INT          NOT NULL,
    PRIMARY KEY (kind, k)
);
INSERT INTO hist_products (kind, k, product_id, name, price_cents, vat_rate_bp)
SELECT CASE c.name WHEN 'Pizzas' THEN 'P' WHEN 'Boissons' THEN 'B' ELSE 'D' END,
       ROW_NUMBER() OVER (PARTITION BY p.category_id ORDER BY p.position, p.id) - 1,
       p.id, p.name, p.price_cents, p.vat_rate_bp
FROM products p
JOIN categories c ON c.id = p.category_id
WHERE c.name IN ('Pizzas', 'Boissons', 'Desserts')
  AND p.active
  AND EXISTS (SELECT 1 FROM recipe_lines rl WHERE rl.product_id = p.id);
SET @hist_np := (SELECT COUNT(*) FROM hist_products WHERE kind = 'P');
SET @hist_nb := (SELECT COUNT(*) FROM hist_products WHERE kind = 'B');
SET @hist_nd := (SELECT COUNT(*) FROM hist_products WHERE kind = 'D');

-- The row source: n = 0 .. N-1 with its pseudo-random draws (32-bit hashes),
-- computed once here and read by the plan below.
DROP TEMPORARY TABLE IF EXISTS hist_rand;
CREATE TEMPORARY TABLE hist_rand (
    n   INT          NOT NULL,
    ra  INT UNSIGNED NOT NULL,
    rb  INT UNSIGNED NOT NULL,
    rc  INT UNSIGNED NOT NULL,
    rd  INT UNSIGNED NOT NULL,
    re  INT UNSIGNED NOT NULL,
    rf  INT UNSIGNED NOT NULL,
    rg  INT UNSIGNED NOT NULL,
    rh  INT UNSIGNED NOT NULL,
    PRIMARY KEY (n)
);
INSERT INTO hist_rand (n, ra, rb, rc, rd, re, rf, rg, rh)
SELECT s.n,
       CRC32(CONCAT(@hist_salt, 'a', s.n)) AS ra,
       CRC32(CONCAT(@hist_salt, 'b', s.n)) AS rb,
       CRC32(CONCAT(@hist_salt, 'c', s.n)) AS rc,
       CRC32(CONCAT(@hist_salt, 'd', s.n)) AS rd,
       CRC32(CONCAT(@hist_salt, 'e', s.n)) AS re,
       CRC32(CONCAT(@hist_salt, 'f', s.n)) AS rf,
       CRC32(CONCAT(@hist_salt, 'g', s.n)) AS rg,
       CRC32(CONCAT(@hist_salt, 'h', s.n)) AS rh
FROM (
    -- 0 .. 999999 from a digits table cross joined 6 times.
    SELECT d0.d + 10 * d1.d + 100 * d2.d + 1000 * d3.d + 10000 * d4.d + 100000 * d5.d AS n
    FROM (SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
          UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) d0
    CROSS JOIN (SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
          UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) d1
    CROSS JOIN (SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
          UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) d2
    CROSS JOIN (SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
          UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) d3
    CROSS JOIN (SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
          UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) d4
    CROSS JOIN (SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
          UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) d5
) s
WHERE s.n < @hist_count;

-- One row per order to create: n = 0 .. N-1 and everything drawn for it.
DROP TEMPORARY TABLE IF EXISTS hist_plan;
CREATE TEMPORARY TABLE hist_plan (
    n               INT          NOT NULL,
    pizzeria_id     BIGINT       NOT NULL,
    created_at      DATETIME(6)  NOT NULL,
    finished_at     DATETIME(6)  NOT NULL,
    channel         VARCHAR(10)  NOT NULL,
    want_delivery   BOOLEAN      NOT NULL,
    payment_method  VARCHAR(10)  NOT NULL,
    cancelled       BOOLEAN      NOT NULL,
    nlines          TINYINT      NOT NULL,
    k1              INT          NOT NULL,
    q1              INT          NOT NULL,
    kind2           CHAR(1)      NOT NULL,
    k2              INT          NOT NULL,
    q2              INT          NOT NULL,
    kind3           CHAR(1)      NOT NULL,
    k3              INT          NOT NULL,
    contact_name    VARCHAR(100) NOT NULL,
    contact_phone   VARCHAR(20)  NOT NULL,
    contact_email   VARCHAR(254) NULL,
    address_line1   VARCHAR(200) NOT NULL,
    latitude        DECIMAL(9,6) NOT NULL,
    longitude       DECIMAL(9,6) NOT NULL,
    distance_m      INT          NOT NULL,
    created_by      BIGINT       NULL,
    PRIMARY KEY (n)
);

INSERT INTO hist_plan (n, pizzeria_id, created_at, finished_at, channel, want_delivery, payment_method,
                       cancelled, nlines, k1, q1, kind2, k2, q2, kind3, k3,
                       contact_name, contact_phone, contact_email,
                       address_line1, latitude, longitude, distance_m, created_by)
SELECT z.n,
       z.pizzeria_id,
       z.created_at,
       z.created_at + INTERVAL (CASE WHEN z.cancelled THEN 2 + z.rf % 9
                                     WHEN z.want_delivery THEN 25 + z.rf % 31
                                     ELSE 15 + z.rf % 21 END) MINUTE,
       z.channel,
       z.want_delivery,
       z.payment_method,
       z.cancelled,
       z.nlines,
       z.k1,
       -- Deliveries are bigger: a single-line delivery takes two pizzas.
       IF(z.q1_draw < 20 OR (z.want_delivery AND z.nlines = 1), 2, 1),
       z.kind2, z.k2, z.q2, z.kind3, z.k3,
       z.contact_name, z.contact_phone,
       CASE WHEN z.channel = 'web' THEN CONCAT('client', z.rh % 200000, '@example.com') END,
       z.address_line1,
       ROUND(z.plat + z.dist * COS(z.angle) / 111195, 6),
       ROUND(z.plon + z.dist * SIN(z.angle) / (111195 * COS(RADIANS(z.plat))), 6),
       ROUND(z.dist),
       CASE WHEN z.channel = 'web' THEN NULL ELSE z.cashier_id END
FROM (
    SELECT y.n, y.rf, y.rh, hp.id AS pizzeria_id, hp.cashier_id,
           hp.latitude AS plat, hp.longitude AS plon,
           -- Local lunch (11:30-14:15, 35 %) or dinner (18:00-22:30) time, to UTC
           -- (Paris is UTC+2 from April to October, UTC+1 otherwise: close enough).
           -- Pizzerias closed on Mondays get Sunday instead.
           TIMESTAMP(y.day - INTERVAL (DAYOFWEEK(y.day) = 2 AND NOT hp.monday_open) DAY)
             + INTERVAL (CASE WHEN (y.rb DIV 400) % 100 < 35 THEN 41400 + (y.rb DIV 40000) % 9900
                              ELSE 64800 + (y.rb DIV 40000) % 16200 END
                         - IF(MONTH(y.day) BETWEEN 4 AND 10, 7200, 3600)) SECOND AS created_at,
           y.channel,
           y.channel <> 'counter' AND (y.rc DIV 100) % 100 < 75 AS want_delivery,
           CASE WHEN y.channel = 'web' THEN IF((y.rc DIV 10000) % 100 < 80, 'card', 'cash')
                WHEN y.channel = 'counter' THEN IF((y.rc DIV 10000) % 100 < 60, 'card', 'cash')
                ELSE 'cash' END AS payment_method,
           (y.rc DIV 1000000) % 100 < 5 AS cancelled,
           CASE WHEN y.rd % 100 < 45 THEN 1 WHEN y.rd % 100 < 85 THEN 2 ELSE 3 END AS nlines,
           y.k1,
           (y.rd DIV 100) % 100 AS q1_draw,
           -- Line 2: another pizza (65 %) or a drink. Line 3: a dessert, or a
           -- drink when line 2 is a pizza (half the time): never twice the same product.
           IF(y.re % 100 < 65, 'P', 'B') AS kind2,
           IF(y.re % 100 < 65, (y.k1 + 1 + (y.re DIV 100) % GREATEST(@hist_np - 1, 1)) % @hist_np,
                               (y.re DIV 100) % @hist_nb) AS k2,
           IF(y.re % 100 < 65, 1, 1 + (y.re DIV 1000000) % 2) AS q2,
           IF(y.re % 100 < 65 AND y.rf % 2 = 0, 'B', 'D') AS kind3,
           IF(y.re % 100 < 65 AND y.rf % 2 = 0, (y.rf DIV 100) % @hist_nb, (y.rf DIV 100) % @hist_nd) AS k3,
           CONCAT(ELT(1 + y.rh % 20, 'Camille', 'Lucas', 'Chloé', 'Hugo', 'Léa', 'Louis', 'Manon',
                      'Gabriel', 'Inès', 'Arthur', 'Jade', 'Jules', 'Louise', 'Adam', 'Alice',
                      'Raphaël', 'Lina', 'Nathan', 'Sarah', 'Mohamed'),
                  ' ',
                  ELT(1 + (y.rh DIV 20) % 20, 'Martin', 'Bernard', 'Dubois', 'Thomas', 'Robert',
                      'Richard', 'Petit', 'Durand', 'Leroy', 'Moreau', 'Simon', 'Laurent',
                      'Lefebvre', 'Michel', 'Garcia', 'David', 'Bertrand', 'Roux', 'Vincent',
                      'Fournier')) AS contact_name,
           -- 06 39 98 xx xx: a range reserved for fiction.
           CONCAT('+3363998', LPAD(y.rh % 10000, 4, '0')) AS contact_phone,
           CONCAT(1 + (y.rg DIV 36000000) % 120, ' ',
                  ELT(1 + (y.rh DIV 400) % 12, 'Rue de la Paix', 'Avenue Jean Jaurès', 'Rue Victor Hugo',
                      'Boulevard Gambetta', 'Rue Pasteur', 'Rue de la République', 'Rue Jules Ferry',
                      'Rue du Général Leclerc', 'Avenue Foch', 'Rue Voltaire', 'Rue Émile Zola',
                      'Place de la Mairie')) AS address_line1,
           -- A point uniformly drawn in 90 % of the delivery disc.
           hp.delivery_radius_m * 0.9 * SQRT((y.rg % 10000) / 10000) AS dist,
           RADIANS((y.rg DIV 10000) % 3600 / 10) AS angle
    FROM (
        SELECT x.n, x.rb, x.rc, x.rd, x.re, x.rf, x.rg, x.rh,
               x.ra % @hist_npz AS pk,
               DATE(@hist_now) - INTERVAL (1 + x.rb % 365) DAY AS day,
               CASE WHEN x.rc % 100 < 60 THEN 'web' WHEN x.rc % 100 < 85 THEN 'phone' ELSE 'counter' END AS channel,
               (x.rd DIV 10000) % @hist_np AS k1
        FROM hist_rand x
    ) y
    JOIN hist_pizzerias hp ON hp.k = y.pk
) z;

-- The lines, priced from the catalog (one statement per line number, so that
-- each temporary table is read once per statement).
DROP TEMPORARY TABLE IF EXISTS hist_lines;
CREATE TEMPORARY TABLE hist_lines (
    n                   INT          NOT NULL,
    line_no             INT          NOT NULL,
    product_id          BIGINT       NOT NULL,
    product_name        VARCHAR(100) NOT NULL,
    unit_price_cents    BIGINT       NOT NULL,
    vat_rate_bp         INT          NOT NULL,
    quantity            INT          NOT NULL,
    line_total_cents    BIGINT       NOT NULL,
    PRIMARY KEY (n, line_no)
);
INSERT INTO hist_lines (n, line_no, product_id, product_name, unit_price_cents, vat_rate_bp, quantity, line_total_cents)
SELECT pl.n, 1, hp.product_id, hp.name, hp.price_cents, hp.vat_rate_bp, pl.q1, hp.price_cents * pl.q1
FROM hist_plan pl JOIN hist_products hp ON hp.kind = 'P' AND hp.k = pl.k1;
INSERT INTO hist_lines (n, line_no, product_id, product_name, unit_price_cents, vat_rate_bp, quantity, line_total_cents)
SELECT pl.n, 2, hp.product_id, hp.name, hp.price_cents, hp.vat_rate_bp, pl.q2, hp.price_cents * pl.q2
FROM hist_plan pl JOIN hist_products hp ON hp.kind = pl.kind2 AND hp.k = pl.k2
WHERE pl.nlines >= 2;
INSERT INTO hist_lines (n, line_no, product_id, product_name, unit_price_cents, vat_rate_bp, quantity, line_total_cents)
SELECT pl.n, 3, hp.product_id, hp.name, hp.price_cents, hp.vat_rate_bp, 1, hp.price_cents
FROM hist_plan pl JOIN hist_products hp ON hp.kind = pl.kind3 AND hp.k = pl.k3
WHERE pl.nlines >= 3;

-- Totals: VAT contained in each line, rounded half up to the cent.
DROP TEMPORARY TABLE IF EXISTS hist_totals;
CREATE TEMPORARY TABLE hist_totals (
    n               INT     NOT NULL,
    subtotal_cents  BIGINT  NOT NULL,
    vat_cents       BIGINT  NOT NULL,
    PRIMARY KEY (n)
);
INSERT INTO hist_totals (n, subtotal_cents, vat_cents)
SELECT n, SUM(line_total_cents),
       SUM(FLOOR((2 * line_total_cents * vat_rate_bp + 10000 + vat_rate_bp) / (2 * (10000 + vat_rate_bp))))
FROM hist_lines
GROUP BY n;

START TRANSACTION;

SET @hist_base := (SELECT COALESCE(MAX(id), 0) FROM orders);

-- A delivery below the pizzeria's minimum order became a pickup.
INSERT INTO orders (id, number, pizzeria_id, customer_id, channel, fulfilment, payment_method, status,
                    subtotal_cents, vat_cents, delivery_fee_cents, total_cents,
                    address_line1, address_postcode, address_city, latitude, longitude, distance_m,
                    contact_name, contact_phone, contact_email, tracking_token, idempotency_key,
                    reservation_expires_at, created_by, created_at, updated_at)
SELECT @hist_base + 1 + pl.n,
       CONCAT('H', LPAD(CONV(@hist_base + 1 + pl.n, 10, 36), 8, '0')),
       pl.pizzeria_id,
       NULL,
       pl.channel,
       IF(d.delivery, 'delivery', 'pickup'),
       pl.payment_method,
       CASE WHEN pl.cancelled THEN 'cancelled' WHEN d.delivery THEN 'delivered' ELSE 'picked_up' END,
       t.subtotal_cents,
       t.vat_cents,
       IF(d.delivery, hp.delivery_fee_cents, 0),
       t.subtotal_cents + IF(d.delivery, hp.delivery_fee_cents, 0),
       IF(d.delivery, pl.address_line1, NULL),
       IF(d.delivery, hp.postcode, NULL),
       IF(d.delivery, hp.city, NULL),
       IF(d.delivery, pl.latitude, NULL),
       IF(d.delivery, pl.longitude, NULL),
       IF(d.delivery, pl.distance_m, NULL),
       pl.contact_name,
       pl.contact_phone,
       pl.contact_email,
       SHA2(CONCAT(@hist_salt, ':', @hist_base + 1 + pl.n), 256),
       NULL,
       NULL,
       pl.created_by,
       pl.created_at,
       pl.finished_at
FROM hist_plan pl
JOIN hist_totals t ON t.n = pl.n
JOIN hist_pizzerias hp ON hp.id = pl.pizzeria_id
JOIN (SELECT 0 AS delivery UNION ALL SELECT 1) d
  ON d.delivery = (pl.want_delivery AND t.subtotal_cents >= hp.min_order_cents)
ORDER BY pl.n;

INSERT INTO order_lines (order_id, line_no, product_id, product_name, unit_price_cents, vat_rate_bp,
                         quantity, line_total_cents)
SELECT @hist_base + 1 + l.n, l.line_no, l.product_id, l.product_name, l.unit_price_cents, l.vat_rate_bp,
       l.quantity, l.line_total_cents
FROM hist_lines l
ORDER BY l.n, l.line_no;

-- First and final status of each order (the steps in between are not kept).
INSERT INTO order_status_history (order_id, status, at, by_user_id, by_label, note)
SELECT o.id, 'placed', o.created_at, o.created_by,
       CASE o.channel WHEN 'web' THEN 'customer' ELSE 'cashier' END, 'Historique généré'
FROM orders o
WHERE o.id > @hist_base AND o.id <= @hist_base + @hist_count
ORDER BY o.id;
INSERT INTO order_status_history (order_id, status, at, by_user_id, by_label, note)
SELECT o.id, o.status, o.updated_at, NULL,
       CASE o.status WHEN 'delivered' THEN 'courier' WHEN 'picked_up' THEN 'cashier' ELSE 'customer' END,
       'Historique généré'
FROM orders o
WHERE o.id > @hist_base AND o.id <= @hist_base + @hist_count
ORDER BY o.id;

COMMIT;

DROP TEMPORARY TABLE IF EXISTS hist_totals;
DROP TEMPORARY TABLE IF EXISTS hist_lines;
DROP TEMPORARY TABLE IF EXISTS hist_plan;
DROP TEMPORARY TABLE IF EXISTS hist_rand;
DROP TEMPORARY TABLE IF EXISTS hist_products;
DROP TEMPORARY TABLE IF EXISTS hist_pizzerias;
