-- OC Pizza: generator of historical orders, for benchmarks.
--
-- A TEMPLATE: the loader replaces the count placeholder on the first SET below
-- with N (1 .. 1,000,000 per run) and runs the whole file as one multi-statement
-- script on ONE connection (it uses session variables and temporary tables).
-- Needs the demo data (samples/demo.sql) or any catalog with the categories
-- 'Pizzas', 'Boissons', 'Desserts' and at least one open pizzeria.
--
-- What it writes: N orders spread evenly over the last 365 days (UTC, at lunch
-- and dinner times of Europe/Paris, never on a Monday for pizzerias closed on
-- Mondays) and over the open pizzerias; 1 to 3 lines each, priced from the catalog; two
-- order_status_history rows each (first and final status). About 95 % end
-- 'delivered' or 'picked_up' (according to fulfilment), 5 % 'cancelled'.
-- Guest orders (customer_id NULL); no payments, tickets or deliveries; stock
-- is NOT touched (history is already consumed). The revenue summaries
-- (revenue_days) are counted after the script by the rebuild
-- (ocpizza::samples::generate_history): a Paris day needs chrono-tz.
--
-- Re-runnable: the new orders take the ids just above the current MAX(id), day
-- after day, and number / tracking_token derive from that id (plus a per-run
-- UUID for the token), so a second run never collides with the first.
-- Numbers look like 'H00000A3F' ('H' for history). Do not run it while the
-- application inserts orders: both would want the same ids.
--
-- Portable to MySQL 8 and MariaDB 10.6+: no recursive CTE (the row source is a
-- table of the digits 0-9 cross joined 6 times), and no temporary table is read
-- twice in one statement (MySQL cannot reopen a temporary table: hence the
-- copies of hist_products). Pseudo-random draws are CRC32 hashes of
-- (per-run salt, tag, n), turned into choices once, in hist_draw.
-- Measured on MariaDB 10.11 (128 MB buffer pool, 2 busy vCPUs): 100,000 orders
-- in about 20 s, 1,000,000 in about 4 min.

SET NAMES utf8mb4;

SET @hist_count := @@COUNT@@;
SET @hist_salt := UUID();
SET @hist_now := UTC_TIMESTAMP();

-- Open pizzerias, numbered k = 0..P-1, with what an order needs from them.
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
    PRIMARY KEY (k)
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

-- Sellable products by kind (P pizza, B boisson, D dessert), numbered k = 0..n-1.
-- Only products with a recipe: the pizza without one was never sold.
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
DROP TEMPORARY TABLE IF EXISTS hist_products_2;
CREATE TEMPORARY TABLE hist_products_2 LIKE hist_products;
INSERT INTO hist_products_2 (kind, k, product_id, name, price_cents, vat_rate_bp)
SELECT kind, k, product_id, name, price_cents, vat_rate_bp FROM hist_products;
DROP TEMPORARY TABLE IF EXISTS hist_products_3;
CREATE TEMPORARY TABLE hist_products_3 LIKE hist_products;
INSERT INTO hist_products_3 (kind, k, product_id, name, price_cents, vat_rate_bp)
SELECT kind, k, product_id, name, price_cents, vat_rate_bp FROM hist_products;

-- One row per order to create: n = 0 .. N-1 and what was drawn for it. The
-- draws are 32-bit hashes ra..rh of (per-run salt, tag, n).
DROP TEMPORARY TABLE IF EXISTS hist_draw;
CREATE TEMPORARY TABLE hist_draw (
    n                   INT          NOT NULL,
    pizzeria_id         BIGINT       NOT NULL,
    postcode            VARCHAR(10)  NOT NULL,
    city                VARCHAR(100) NOT NULL,
    latitude            DOUBLE       NOT NULL,
    longitude           DOUBLE       NOT NULL,
    delivery_radius_m   INT          NOT NULL,
    delivery_fee_cents  BIGINT       NOT NULL,
    min_order_cents     BIGINT       NOT NULL,
    cashier_id          BIGINT       NULL,
    created_at          DATETIME(6)  NOT NULL,
    channel             VARCHAR(10)  NOT NULL,
    want_delivery       BOOLEAN      NOT NULL,
    payment_method      VARCHAR(10)  NOT NULL,
    cancelled           BOOLEAN      NOT NULL,
    nlines              TINYINT      NOT NULL,
    k1                  INT          NOT NULL,
    q1                  INT          NOT NULL,
    kind2               CHAR(1)      NOT NULL,
    k2                  INT          NOT NULL,
    q2                  INT          NOT NULL,
    kind3               CHAR(1)      NOT NULL,
    k3                  INT          NOT NULL,
    rf                  INT UNSIGNED NOT NULL,
    rg                  INT UNSIGNED NOT NULL,
    rh                  INT UNSIGNED NOT NULL,
    PRIMARY KEY (n)
);
INSERT INTO hist_draw (n, pizzeria_id, postcode, city, latitude, longitude, delivery_radius_m,
                       delivery_fee_cents, min_order_cents, cashier_id, created_at, channel,
                       want_delivery, payment_method, cancelled, nlines, k1, q1, kind2, k2, q2,
                       kind3, k3, rf, rg, rh)
SELECT y.n, hp.id, hp.postcode, hp.city, hp.latitude, hp.longitude, hp.delivery_radius_m,
       hp.delivery_fee_cents, hp.min_order_cents, hp.cashier_id,
       -- Local lunch (11:30-14:15, 35 %) or dinner (18:00-22:30) time, to UTC
       -- (Paris is UTC+2 from April to October, UTC+1 otherwise: close enough).
       -- A pizzeria closed on Mondays gets the Sunday before.
       TIMESTAMP(y.day - INTERVAL (DAYOFWEEK(y.day) = 2 AND NOT hp.monday_open) DAY)
         + INTERVAL (CASE WHEN y.rb % 100 < 35 THEN 41400 + (y.rb DIV 100) % 9900
                          ELSE 64800 + (y.rb DIV 100) % 16200 END
                     - IF(MONTH(y.day) BETWEEN 4 AND 10, 7200, 3600)) SECOND,
       y.channel,
       y.want_delivery,
       CASE WHEN y.channel = 'web' THEN IF((y.rc DIV 10000) % 100 < 80, 'card', 'cash')
            WHEN y.channel = 'counter' THEN IF((y.rc DIV 10000) % 100 < 60, 'card', 'cash')
            ELSE 'cash' END,
       (y.rc DIV 1000000) % 100 < 5,
       y.nlines,
       y.k1,
       -- Deliveries are bigger: a one-line delivery takes two pizzas.
       IF((y.rd DIV 100) % 100 < 20 OR (y.want_delivery AND y.nlines = 1), 2, 1),
       -- Line 2: another pizza (65 %) or a drink. Line 3: a dessert, or a drink
       -- when line 2 is a pizza (half the time): never twice the same product.
       IF(y.re % 100 < 65, 'P', 'B'),
       IF(y.re % 100 < 65, (y.k1 + 1 + (y.re DIV 100) % GREATEST(@hist_np - 1, 1)) % @hist_np,
                           (y.re DIV 100) % @hist_nb),
       IF(y.re % 100 < 65, 1, 1 + (y.re DIV 1000000) % 2),
       IF(y.re % 100 < 65 AND y.rf % 2 = 0, 'B', 'D'),
       IF(y.re % 100 < 65 AND y.rf % 2 = 0, (y.rf DIV 100) % @hist_nb, (y.rf DIV 100) % @hist_nd),
       y.rf, y.rg, y.rh
FROM (
    SELECT x.n, x.rb, x.rc, x.rd, x.re, x.rf, x.rg, x.rh,
           x.ra % @hist_npz AS pk,
           -- Evenly from 365 days ago (n = 0) to yesterday (n = N-1): ids follow the days.
           DATE(@hist_now) - INTERVAL (365 - FLOOR(x.n * 365 / @hist_count)) DAY AS day,
           CASE WHEN x.rc % 100 < 60 THEN 'web' WHEN x.rc % 100 < 85 THEN 'phone' ELSE 'counter' END
               AS channel,
           x.rc % 100 < 85 AND (x.rc DIV 100) % 100 < 75 AS want_delivery,
           CASE WHEN x.rd % 100 < 45 THEN 1 WHEN x.rd % 100 < 85 THEN 2 ELSE 3 END AS nlines,
           (x.rd DIV 10000) % @hist_np AS k1
    FROM (
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
        WHERE s.n < @hist_count
    ) x
) y
JOIN hist_pizzerias hp ON hp.k = y.pk;

START TRANSACTION;

SET @hist_base := (SELECT COALESCE(MAX(id), 0) FROM orders);

-- Totals from the catalog prices; VAT is what each line contains, rounded half
-- up to the cent. A delivery below the pizzeria's minimum order became a pickup.
-- tracking_token: 43 URL-safe characters like the application's, but starting
-- with the id in base 36 so that its unique index is filled in order (random
-- tokens make a 1M-order load about twice as slow on a small buffer pool); the
-- 35 other characters are a hash of the per-run salt and the id.
INSERT INTO orders (id, number, pizzeria_id, customer_id, channel, fulfilment, payment_method, status,
                    subtotal_cents, vat_cents, delivery_fee_cents, total_cents,
                    address_line1, address_postcode, address_city, latitude, longitude, distance_m,
                    contact_name, contact_phone, contact_email, tracking_token, idempotency_key,
                    reservation_expires_at, created_by, created_at, updated_at)
SELECT v.id,
       CONCAT('H', LPAD(CONV(v.id, 10, 36), 8, '0')),
       v.pizzeria_id,
       NULL,
       v.channel,
       IF(v.delivery, 'delivery', 'pickup'),
       v.payment_method,
       CASE WHEN v.cancelled THEN 'cancelled' WHEN v.delivery THEN 'delivered' ELSE 'picked_up' END,
       v.subtotal_cents,
       v.vat_cents,
       IF(v.delivery, v.delivery_fee_cents, 0),
       v.subtotal_cents + IF(v.delivery, v.delivery_fee_cents, 0),
       IF(v.delivery,
          CONCAT(1 + (v.rg DIV 36000000) % 120, ' ',
                 ELT(1 + (v.rh DIV 400) % 12, 'Rue de la Paix', 'Avenue Jean Jaurès', 'Rue Victor Hugo',
                     'Boulevard Gambetta', 'Rue Pasteur', 'Rue de la République', 'Rue Jules Ferry',
                     'Rue du Général Leclerc', 'Avenue Foch', 'Rue Voltaire', 'Rue Émile Zola',
                     'Place de la Mairie')),
          NULL),
       IF(v.delivery, v.postcode, NULL),
       IF(v.delivery, v.city, NULL),
       -- A point drawn uniformly in 90 % of the delivery disc.
       IF(v.delivery, ROUND(v.latitude + v.dist * COS(v.angle) / 111195, 6), NULL),
       IF(v.delivery, ROUND(v.longitude + v.dist * SIN(v.angle) / (111195 * COS(RADIANS(v.latitude))), 6), NULL),
       IF(v.delivery, ROUND(v.dist), NULL),
       -- The phone number decides the name (a customer who calls again).
       CONCAT(ELT(1 + v.rh % 20, 'Camille', 'Lucas', 'Chloé', 'Hugo', 'Léa', 'Louis', 'Manon',
                  'Gabriel', 'Inès', 'Arthur', 'Jade', 'Jules', 'Louise', 'Adam', 'Alice',
                  'Raphaël', 'Lina', 'Nathan', 'Sarah', 'Mohamed'),
              ' ',
              ELT(1 + (v.rh DIV 20) % 20, 'Martin', 'Bernard', 'Dubois', 'Thomas', 'Robert',
                  'Richard', 'Petit', 'Durand', 'Leroy', 'Moreau', 'Simon', 'Laurent',
                  'Lefebvre', 'Michel', 'Garcia', 'David', 'Bertrand', 'Roux', 'Vincent',
                  'Fournier')),
       -- 06 39 98 xx xx: a range reserved for fiction.
       CONCAT('+3363998', LPAD(v.rh % 10000, 4, '0')),
       IF(v.channel = 'web', CONCAT('client', v.rh % 200000, '@example.com'), NULL),
       CONCAT(LPAD(CONV(v.id, 10, 36), 8, '0'),
              LEFT(REPLACE(REPLACE(TO_BASE64(UNHEX(SHA2(CONCAT(@hist_salt, ':', v.id), 256))),
                                   '+', '-'), '/', '_'), 35)),
       NULL,
       NULL,
       IF(v.channel = 'web', NULL, v.cashier_id),
       v.created_at,
       v.created_at + INTERVAL (CASE WHEN v.cancelled THEN 2 + v.rf % 9
                                     WHEN v.delivery THEN 25 + v.rf % 31
                                     ELSE 15 + v.rf % 21 END) MINUTE
FROM (
    SELECT w.*,
           w.lt1 + w.lt2 + w.lt3 AS subtotal_cents,
           w.vat1 + w.vat2 + w.vat3 AS vat_cents,
           w.want_delivery AND w.lt1 + w.lt2 + w.lt3 >= w.min_order_cents AS delivery
    FROM (
        SELECT d.*,
               @hist_base + 1 + d.n AS id,
               d.delivery_radius_m * 0.9 * SQRT((d.rg % 10000) / 10000) AS dist,
               RADIANS((d.rg DIV 10000) % 3600 / 10) AS angle,
               p1.price_cents * d.q1 AS lt1,
               COALESCE(p2.price_cents * d.q2, 0) AS lt2,
               COALESCE(p3.price_cents, 0) AS lt3,
               FLOOR((2 * p1.price_cents * d.q1 * p1.vat_rate_bp + 10000 + p1.vat_rate_bp)
                     / (2 * (10000 + p1.vat_rate_bp))) AS vat1,
               COALESCE(FLOOR((2 * p2.price_cents * d.q2 * p2.vat_rate_bp + 10000 + p2.vat_rate_bp)
                              / (2 * (10000 + p2.vat_rate_bp))), 0) AS vat2,
               COALESCE(FLOOR((2 * p3.price_cents * p3.vat_rate_bp + 10000 + p3.vat_rate_bp)
                              / (2 * (10000 + p3.vat_rate_bp))), 0) AS vat3
        FROM hist_draw d
        JOIN hist_products p1 ON p1.kind = 'P' AND p1.k = d.k1
        LEFT JOIN hist_products_2 p2 ON d.nlines >= 2 AND p2.kind = d.kind2 AND p2.k = d.k2
        LEFT JOIN hist_products_3 p3 ON d.nlines >= 3 AND p3.kind = d.kind3 AND p3.k = d.k3
    ) w
) v
ORDER BY v.n;

INSERT INTO order_lines (order_id, line_no, product_id, product_name, unit_price_cents, vat_rate_bp,
                         quantity, line_total_cents)
SELECT @hist_base + 1 + d.n, ln.line_no, hp.product_id, hp.name, hp.price_cents, hp.vat_rate_bp,
       CASE ln.line_no WHEN 1 THEN d.q1 WHEN 2 THEN d.q2 ELSE 1 END,
       hp.price_cents * CASE ln.line_no WHEN 1 THEN d.q1 WHEN 2 THEN d.q2 ELSE 1 END
FROM hist_draw d
STRAIGHT_JOIN (SELECT 1 AS line_no UNION ALL SELECT 2 UNION ALL SELECT 3) ln ON ln.line_no <= d.nlines
STRAIGHT_JOIN hist_products hp
  ON hp.kind = CASE ln.line_no WHEN 1 THEN 'P' WHEN 2 THEN d.kind2 ELSE d.kind3 END
 AND hp.k = CASE ln.line_no WHEN 1 THEN d.k1 WHEN 2 THEN d.k2 ELSE d.k3 END
ORDER BY d.n;

-- First and final status of each order (the steps in between are not kept).
INSERT INTO order_status_history (order_id, status, at, by_user_id, by_label, note)
SELECT o.id,
       IF(st.step = 1, 'placed', o.status),
       IF(st.step = 1, o.created_at, o.updated_at),
       IF(st.step = 1, o.created_by, NULL),
       CASE WHEN st.step = 1 THEN IF(o.channel = 'web', 'customer', 'cashier')
            WHEN o.status = 'delivered' THEN 'courier'
            WHEN o.status = 'picked_up' THEN 'cashier'
            ELSE 'customer' END,
       'Historique généré'
FROM orders o
CROSS JOIN (SELECT 1 AS step UNION ALL SELECT 2) st
WHERE o.id > @hist_base AND o.id <= @hist_base + @hist_count
ORDER BY o.id, st.step;

COMMIT;

DROP TEMPORARY TABLE IF EXISTS hist_draw;
DROP TEMPORARY TABLE IF EXISTS hist_products_3;
DROP TEMPORARY TABLE IF EXISTS hist_products_2;
DROP TEMPORARY TABLE IF EXISTS hist_products;
DROP TEMPORARY TABLE IF EXISTS hist_pizzerias;
