-- OC Pizza: demo data.
--
-- Idempotent: run it as often as you like. The second run changes nothing.
--   * Reference data (pizzerias, hours, categories, ingredients, products,
--     recipes) uses fixed ids and INSERT ... ON DUPLICATE KEY UPDATE, so a
--     re-run puts back the values written here.
--   * Stock, users and addresses are inserted only when missing (INSERT IGNORE
--     or WHERE NOT EXISTS): a re-run never resets the stock of a running demo.
-- Portable to MySQL 8 and MariaDB 10.6+ (VALUES() in ON DUPLICATE KEY UPDATE
-- is only deprecated on MySQL 8.0.20+, it still works).
--
-- Fixed ids that code and docs may rely on:
--   pizzerias 1-5 open, 6-8 opening soon; pizzeria 1 is open 24/7;
--   pizzeria 2 has no opening hours (closed at every hour, see below).
--   categories 1 Pizzas, 2 Boissons, 3 Desserts.
--   products 1-15 pizzas with a recipe, 16 "Pizza du moment" (no recipe),
--            21-26 drinks, 31-33 desserts.
--   ingredients 1-35 food, 51-56 drinks, 61-63 desserts.
-- Every demo account's password is: ocpizza-demo
-- Phone numbers are in ranges ARCEP reserves for fiction (01 99 00, 03 53 01,
-- 04 65 71, 05 36 49, 06 39 98), stored in E.164 form.

SET NAMES utf8mb4;

-- ---------------------------------------------------------------------------
-- Pizzerias. Coordinates are those of the street. Pizzerias 1 (Presqu'île) and
-- 2 (Gratte-Ciel) are 3.8 km apart: the Part-Dieu and Charpennes areas are
-- served by both. See samples/addresses.json and samples/check_zones.py.
-- ---------------------------------------------------------------------------
INSERT INTO pizzerias (id, name, line1, postcode, city, phone, latitude, longitude, delivery_radius_m, delivery_fee_cents, min_order_cents, status, opens_on) VALUES
(1, 'OC Pizza Lyon Presqu''île', '18 Rue Mercière', '69002', 'Lyon', '+33465710101', 45.763300, 4.831900, 4000, 250, 1500, 'active', NULL),
(2, 'OC Pizza Villeurbanne Gratte-Ciel', '5 Avenue Henri Barbusse', '69100', 'Villeurbanne', '+33465710202', 45.768900, 4.880300, 3500, 250, 1500, 'active', NULL),
(3, 'OC Pizza Paris Oberkampf', '72 Rue Oberkampf', '75011', 'Paris', '+33199000303', 48.865400, 2.375600, 3000, 350, 1500, 'active', NULL),
(4, 'OC Pizza Lille Vieux-Lille', '20 Rue de la Monnaie', '59800', 'Lille', '+33353010404', 50.640500, 3.062600, 3500, 300, 1500, 'active', NULL),
(5, 'OC Pizza Bordeaux Chartrons', '50 Rue Notre-Dame', '33000', 'Bordeaux', '+33536490505', 44.852800, -0.570800, 4000, 300, 1500, 'active', NULL),
(6, 'OC Pizza Lyon Croix-Rousse', '15 Grande Rue de la Croix-Rousse', '69004', 'Lyon', '+33465710606', 45.775200, 4.831300, 3000, 250, 1500, 'opening_soon', '2027-02-02'),
(7, 'OC Pizza Paris Daguerre', '40 Rue Daguerre', '75014', 'Paris', '+33199000707', 48.834500, 2.328500, 3000, 350, 1500, 'opening_soon', '2027-04-06'),
(8, 'OC Pizza Toulouse Capitole', '25 Rue du Taur', '31000', 'Toulouse', '+33536490808', 43.605800, 1.442300, 3500, 300, 1500, 'opening_soon', '2027-06-01')
ON DUPLICATE KEY UPDATE
    name = VALUES(name), line1 = VALUES(line1), postcode = VALUES(postcode), city = VALUES(city),
    phone = VALUES(phone), latitude = VALUES(latitude), longitude = VALUES(longitude),
    delivery_radius_m = VALUES(delivery_radius_m), delivery_fee_cents = VALUES(delivery_fee_cents),
    min_order_cents = VALUES(min_order_cents), status = VALUES(status), opens_on = VALUES(opens_on);

-- ---------------------------------------------------------------------------
-- Opening hours (local time, ISO weekday 1 = Monday .. 7 = Sunday).
-- Pizzeria 1 is open every day from 00:00:00 to 23:59:59 on purpose, so that
-- demos and tests can order from it at any hour. (A slot cannot cross
-- midnight, hence 23:59:59.)
-- ---------------------------------------------------------------------------
INSERT INTO opening_hours (pizzeria_id, weekday, opens_at, closes_at)
SELECT 1, d.wd, TIME '00:00:00', TIME '23:59:59'
FROM (SELECT 1 AS wd UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
      UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7) d
ON DUPLICATE KEY UPDATE closes_at = VALUES(closes_at);

-- Villeurbanne Gratte-Ciel (2) is shut for refurbishment, its reopening date
-- not fixed yet. A chain does that by withdrawing the shop's opening hours,
-- not by changing its status: it stays `active`, so its manager goes on with
-- stock and menu and its staff keep their accounts, and the shop says
-- "closed" with no next opening. (Status `closed` is for a shop given up.)
-- So the demo always has a pizzeria closed whatever the hour:
-- "5 avenue Henri Barbusse, 69100 Villeurbanne" is its own door and is also
-- in the Presqu'île's zone (1, 3.8 km, open around the clock), so the address
-- search must choose the Presqu'île and name Gratte-Ciel as closed;
-- "1 place Grandclément, 69100 Villeurbanne" is in its zone only. Tests that
-- order from it give it hours of their own. The DELETE makes a re-run on an
-- older demo database withdraw its hours too.
DELETE FROM opening_hours WHERE pizzeria_id = 2;

-- The others: lunch and dinner, Tuesday to Sunday; Paris Oberkampf (3) also
-- opens on Mondays.
INSERT INTO opening_hours (pizzeria_id, weekday, opens_at, closes_at)
SELECT p.id, d.wd, s.open_t, s.close_t
FROM pizzerias p
CROSS JOIN (SELECT 1 AS wd UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
            UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7) d
CROSS JOIN (SELECT TIME '11:30:00' AS open_t, TIME '14:30:00' AS close_t
            UNION ALL SELECT TIME '18:00:00', TIME '23:00:00') s
WHERE p.id BETWEEN 3 AND 8
  AND (d.wd <> 1 OR p.id = 3)
ON DUPLICATE KEY UPDATE closes_at = VALUES(closes_at);

-- ---------------------------------------------------------------------------
-- Catalog
-- ---------------------------------------------------------------------------
INSERT INTO categories (id, name, position) VALUES
(1, 'Pizzas', 1),
(2, 'Boissons', 2),
(3, 'Desserts', 3)
ON DUPLICATE KEY UPDATE name = VALUES(name), position = VALUES(position);

INSERT INTO ingredients (id, name, unit) VALUES
(1, 'Pâte à pizza', 'g'),
(2, 'Sauce tomate', 'g'),
(3, 'Mozzarella', 'g'),
(4, 'Jambon blanc', 'g'),
(5, 'Champignons de Paris', 'g'),
(6, 'Chorizo', 'g'),
(7, 'Chèvre', 'g'),
(8, 'Miel', 'g'),
(9, 'Gorgonzola', 'g'),
(10, 'Parmesan', 'g'),
(11, 'Anchois', 'g'),
(12, 'Olives noires', 'g'),
(13, 'Câpres', 'g'),
(14, 'Poivrons', 'g'),
(15, 'Oignons rouges', 'g'),
(16, 'Basilic frais', 'g'),
(17, 'Origan', 'g'),
(18, 'Huile d''olive', 'ml'),
(19, 'Crème fraîche', 'g'),
(20, 'Lardons', 'g'),
(21, 'Pommes de terre', 'g'),
(22, 'Reblochon', 'g'),
(23, 'Saumon fumé', 'g'),
(24, 'Roquette', 'g'),
(25, 'Jambon cru', 'g'),
(26, 'Artichauts', 'g'),
(27, 'Œuf', 'piece'),
(28, 'Merguez', 'g'),
(29, 'Ail', 'g'),
(30, 'Salami piquant', 'g'),
(31, 'Emmental', 'g'),
(32, 'Courgettes', 'g'),
(33, 'Tomates cerises', 'g'),
(34, 'Huile pimentée', 'ml'),
(35, 'Aubergines', 'g'),
-- One 'piece' ingredient per drink and dessert: selling one takes one from stock.
(51, 'Coca-Cola 33 cl', 'piece'),
(52, 'Coca-Cola zéro 33 cl', 'piece'),
(53, 'Orangina 33 cl', 'piece'),
(54, 'Evian 50 cl', 'piece'),
(55, 'San Pellegrino 50 cl', 'piece'),
(56, 'Peroni 33 cl', 'piece'),
(61, 'Tiramisu', 'piece'),
(62, 'Panna cotta', 'piece'),
(63, 'Fondant au chocolat', 'piece')
ON DUPLICATE KEY UPDATE name = VALUES(name), unit = VALUES(unit);

-- Prices in cents, VAT included. VAT 10 % (1000 bp) for food and soft drinks
-- sold to take away or delivered; 20 % (2000 bp) for alcohol.
INSERT INTO products (id, category_id, name, description, price_cents, vat_rate_bp, active, position) VALUES
(1, 1, 'Margherita', 'Sauce tomate, mozzarella, basilic frais, filet d''huile d''olive.', 900, 1000, TRUE, 1),
(2, 1, 'Reine', 'Sauce tomate, mozzarella, jambon blanc, champignons de Paris, origan.', 1100, 1000, TRUE, 2),
(3, 1, 'Quatre fromages', 'Sauce tomate, mozzarella, gorgonzola, emmental et parmesan.', 1300, 1000, TRUE, 3),
(4, 1, 'Calzone', 'Chausson fermé : sauce tomate, mozzarella, jambon blanc, champignons, œuf.', 1250, 1000, TRUE, 4),
(5, 1, 'Napolitaine', 'Sauce tomate, mozzarella, anchois, câpres, olives noires, origan.', 1050, 1000, TRUE, 5),
(6, 1, 'Chorizo', 'Sauce tomate, mozzarella, chorizo, poivrons, oignons rouges.', 1200, 1000, TRUE, 6),
(7, 1, 'Chèvre-miel', 'Base crème fraîche, mozzarella, chèvre, miel.', 1250, 1000, TRUE, 7),
(8, 1, 'Savoyarde', 'Base crème fraîche, mozzarella, pommes de terre, lardons, reblochon, oignons.', 1400, 1000, TRUE, 8),
(9, 1, 'Saumon', 'Base crème fraîche, mozzarella, saumon fumé, câpres, oignons rouges.', 1450, 1000, TRUE, 9),
(10, 1, 'Végétarienne', 'Sauce tomate, mozzarella, poivrons, courgettes, aubergines, champignons, oignons, olives.', 1150, 1000, TRUE, 10),
(11, 1, 'Parma', 'Sauce tomate, mozzarella, jambon cru, roquette, tomates cerises, copeaux de parmesan.', 1400, 1000, TRUE, 11),
(12, 1, 'Orientale', 'Sauce tomate, mozzarella, merguez, poivrons, oignons, œuf.', 1300, 1000, TRUE, 12),
(13, 1, 'Marinara', 'Sauce tomate, ail, origan, huile d''olive. Sans fromage.', 900, 1000, TRUE, 13),
(14, 1, 'Diavola', 'Sauce tomate, mozzarella, salami piquant, olives noires, huile pimentée.', 1250, 1000, TRUE, 14),
(15, 1, 'Quatre saisons', 'Sauce tomate, mozzarella, jambon blanc, champignons, artichauts, olives.', 1300, 1000, TRUE, 15),
-- Active but WITHOUT any recipe line, on purpose: it exercises "a pizza with
-- no recipe" (its available quantity is 0 everywhere until a recipe is set).
(16, 1, 'Pizza du moment', 'La création du mois de nos pizzaïolos : demandez-la en pizzeria.', 1350, 1000, TRUE, 16),
(21, 2, 'Coca-Cola 33 cl', 'Canette 33 cl.', 300, 1000, TRUE, 1),
(22, 2, 'Coca-Cola zéro 33 cl', 'Canette 33 cl, sans sucres.', 300, 1000, TRUE, 2),
(23, 2, 'Orangina 33 cl', 'Canette 33 cl.', 300, 1000, TRUE, 3),
(24, 2, 'Evian 50 cl', 'Eau minérale naturelle, bouteille 50 cl.', 250, 1000, TRUE, 4),
(25, 2, 'San Pellegrino 50 cl', 'Eau minérale gazeuse, bouteille 50 cl.', 300, 1000, TRUE, 5),
(26, 2, 'Bière Peroni 33 cl', 'Bière blonde italienne, 5,1 % vol. Vente interdite aux mineurs.', 400, 2000, TRUE, 6),
(31, 3, 'Tiramisu', 'Mascarpone, café, biscuits, cacao. Fait maison.', 550, 1000, TRUE, 1),
(32, 3, 'Panna cotta aux fruits rouges', 'Crème vanillée, coulis de fruits rouges.', 500, 1000, TRUE, 2),
(33, 3, 'Fondant au chocolat', 'Cœur coulant, chocolat noir 70 %.', 550, 1000, TRUE, 3)
ON DUPLICATE KEY UPDATE
    category_id = VALUES(category_id), name = VALUES(name), description = VALUES(description),
    price_cents = VALUES(price_cents), vat_rate_bp = VALUES(vat_rate_bp),
    active = VALUES(active), position = VALUES(position);

-- Quantities for ONE unit of the product, in the ingredient's unit.
-- Product 16 (Pizza du moment) deliberately has no line.
INSERT INTO recipe_lines (product_id, ingredient_id, quantity) VALUES
-- 1 Margherita
(1, 1, 250), (1, 2, 80), (1, 3, 120), (1, 16, 3), (1, 18, 10),
-- 2 Reine
(2, 1, 250), (2, 2, 80), (2, 3, 120), (2, 4, 60), (2, 5, 50), (2, 17, 1),
-- 3 Quatre fromages
(3, 1, 250), (3, 2, 60), (3, 3, 80), (3, 9, 40), (3, 31, 40), (3, 10, 20),
-- 4 Calzone
(4, 1, 280), (4, 2, 80), (4, 3, 120), (4, 4, 60), (4, 5, 40), (4, 27, 1),
-- 5 Napolitaine
(5, 1, 250), (5, 2, 80), (5, 3, 100), (5, 11, 20), (5, 13, 10), (5, 12, 20), (5, 17, 1),
-- 6 Chorizo
(6, 1, 250), (6, 2, 80), (6, 3, 120), (6, 6, 60), (6, 14, 40), (6, 15, 30),
-- 7 Chèvre-miel
(7, 1, 250), (7, 19, 80), (7, 3, 80), (7, 7, 80), (7, 8, 15),
-- 8 Savoyarde
(8, 1, 250), (8, 19, 80), (8, 3, 80), (8, 21, 80), (8, 20, 60), (8, 22, 100), (8, 15, 20),
-- 9 Saumon
(9, 1, 250), (9, 19, 80), (9, 3, 80), (9, 23, 80), (9, 13, 5), (9, 15, 20),
-- 10 Végétarienne
(10, 1, 250), (10, 2, 80), (10, 3, 100), (10, 14, 40), (10, 32, 50), (10, 35, 40), (10, 5, 40), (10, 15, 20), (10, 12, 15),
-- 11 Parma
(11, 1, 250), (11, 2, 80), (11, 3, 100), (11, 25, 50), (11, 24, 20), (11, 33, 40), (11, 10, 20),
-- 12 Orientale
(12, 1, 250), (12, 2, 80), (12, 3, 100), (12, 28, 80), (12, 14, 40), (12, 15, 30), (12, 27, 1),
-- 13 Marinara
(13, 1, 250), (13, 2, 100), (13, 29, 5), (13, 17, 1), (13, 18, 15),
-- 14 Diavola
(14, 1, 250), (14, 2, 80), (14, 3, 120), (14, 30, 50), (14, 12, 15), (14, 34, 5),
-- 15 Quatre saisons
(15, 1, 250), (15, 2, 80), (15, 3, 100), (15, 4, 50), (15, 5, 40), (15, 26, 40), (15, 12, 15),
-- Drinks and desserts: one piece each.
(21, 51, 1), (22, 52, 1), (23, 53, 1), (24, 54, 1), (25, 55, 1), (26, 56, 1),
(31, 61, 1), (32, 62, 1), (33, 63, 1)
ON DUPLICATE KEY UPDATE quantity = VALUES(quantity);

-- What a customer must know: the 14 regulated allergens (EU 1169/2011,
-- annex II) of each ingredient, and whether it is vegetarian (no meat nor
-- fish, nor what is made of them: the panna cotta's gelatine is). The
-- fondant's chocolate carries soy lecithin.
INSERT INTO ingredient_allergens (ingredient_id, allergen) VALUES
(1, 'gluten'), (3, 'milk'), (7, 'milk'), (9, 'milk'), (10, 'milk'), (11, 'fish'),
(19, 'milk'), (22, 'milk'), (23, 'fish'), (27, 'eggs'), (31, 'milk'),
(56, 'gluten'),
(61, 'gluten'), (61, 'eggs'), (61, 'milk'), (62, 'milk'),
(63, 'gluten'), (63, 'eggs'), (63, 'milk'), (63, 'soybeans')
ON DUPLICATE KEY UPDATE allergen = VALUES(allergen);
UPDATE ingredients SET vegetarian = id NOT IN (4, 6, 11, 20, 23, 25, 28, 30, 62);

-- What a customer may ask. The toppings of a pizza may be left off; its
-- dough and its base (tomato or cream) stay.
UPDATE recipe_lines SET removable = (product_id BETWEEN 1 AND 16 AND ingredient_id NOT IN (1, 2, 19));
-- Two sizes per pizza: the medium as the recipe says, at the listed price;
-- the large one and a half times each ingredient, 4 € more.
INSERT INTO product_sizes (product_id, code, label, price_cents, recipe_percent, position)
SELECT id, 'medium', 'Moyenne 29 cm', price_cents, 100, 1 FROM products WHERE category_id = 1
ON DUPLICATE KEY UPDATE label = VALUES(label), price_cents = VALUES(price_cents),
    recipe_percent = VALUES(recipe_percent), position = VALUES(position);
INSERT INTO product_sizes (product_id, code, label, price_cents, recipe_percent, position)
SELECT id, 'large', 'Grande 40 cm', price_cents + 400, 150, 2 FROM products WHERE category_id = 1
ON DUPLICATE KEY UPDATE label = VALUES(label), price_cents = VALUES(price_cents),
    recipe_percent = VALUES(recipe_percent), position = VALUES(position);
-- Up to three extras per pizza, from this list (portions for a medium).
UPDATE products SET max_extras = IF(category_id = 1, 3, 0);
INSERT INTO extras (ingredient_id, quantity, price_cents, position) VALUES
(3, 60, 150, 1), (7, 40, 200, 2), (4, 50, 200, 3), (6, 40, 200, 4), (5, 40, 100, 5),
(27, 1, 100, 6), (12, 20, 100, 7), (15, 30, 80, 8), (11, 20, 150, 9), (24, 20, 100, 10)
ON DUPLICATE KEY UPDATE quantity = VALUES(quantity), price_cents = VALUES(price_cents), position = VALUES(position);

-- The pizzaiolo's memo.
INSERT INTO recipe_steps (product_id, position, text) VALUES
(1, 1, 'Étaler le pâton de 250 g en disque de 30 cm.'),
(1, 2, 'Napper de 80 g de sauce tomate, en laissant 2 cm de bord.'),
(1, 3, 'Répartir 120 g de mozzarella égouttée.'),
(1, 4, 'Cuire 90 s à 450 °C.'),
(1, 5, 'À la sortie du four : basilic frais et filet d''huile d''olive.'),
(2, 1, 'Étaler le pâton de 250 g en disque de 30 cm.'),
(2, 2, 'Napper de 80 g de sauce tomate.'),
(2, 3, 'Répartir la mozzarella, puis le jambon et les champignons émincés.'),
(2, 4, 'Saupoudrer d''origan.'),
(2, 5, 'Cuire 90 s à 450 °C.'),
(3, 1, 'Étaler le pâton de 250 g en disque de 30 cm.'),
(3, 2, 'Napper de 60 g de sauce tomate.'),
(3, 3, 'Répartir mozzarella, gorgonzola en dés et emmental.'),
(3, 4, 'Cuire 90 s à 450 °C.'),
(3, 5, 'Finir avec 20 g de parmesan râpé.'),
(4, 1, 'Étaler le pâton de 280 g en disque de 32 cm.'),
(4, 2, 'Sur une moitié : sauce tomate, mozzarella, jambon, champignons, œuf battu.'),
(4, 3, 'Replier et souder le bord en pinçant la pâte.'),
(4, 4, 'Inciser le dessus pour laisser sortir la vapeur.'),
(4, 5, 'Cuire 2 min à 420 °C.'),
(5, 1, 'Étaler le pâton de 250 g en disque de 30 cm.'),
(5, 2, 'Napper de sauce tomate, répartir la mozzarella.'),
(5, 3, 'Disposer les anchois en étoile, ajouter câpres et olives.'),
(5, 4, 'Cuire 90 s à 450 °C, puis saupoudrer d''origan.'),
(6, 1, 'Étaler le pâton de 250 g en disque de 30 cm.'),
(6, 2, 'Napper de sauce tomate, répartir la mozzarella.'),
(6, 3, 'Ajouter le chorizo en rondelles, les poivrons et les oignons émincés.'),
(6, 4, 'Cuire 90 s à 450 °C.'),
(7, 1, 'Étaler le pâton de 250 g en disque de 30 cm.'),
(7, 2, 'Napper de 80 g de crème fraîche, répartir la mozzarella.'),
(7, 3, 'Disposer 8 rondelles de chèvre.'),
(7, 4, 'Cuire 90 s à 450 °C.'),
(7, 5, 'Arroser de 15 g de miel en filet à la sortie du four.'),
(8, 1, 'Étaler le pâton de 250 g en disque de 30 cm.'),
(8, 2, 'Napper de crème fraîche, répartir la mozzarella.'),
(8, 3, 'Ajouter les pommes de terre cuites en rondelles, les lardons et les oignons.'),
(8, 4, 'Couvrir de reblochon en tranches, croûte vers le haut.'),
(8, 5, 'Cuire 2 min à 420 °C.'),
(9, 1, 'Étaler le pâton de 250 g en disque de 30 cm.'),
(9, 2, 'Napper de crème fraîche, répartir la mozzarella et les oignons rouges.'),
(9, 3, 'Cuire 90 s à 450 °C.'),
(9, 4, 'À la sortie du four : 80 g de saumon fumé en lanières et les câpres.'),
(10, 1, 'Étaler le pâton de 250 g en disque de 30 cm.'),
(10, 2, 'Napper de sauce tomate, répartir la mozzarella.'),
(10, 3, 'Répartir poivrons, courgettes, aubergines grillées, champignons et oignons.'),
(10, 4, 'Ajouter les olives.'),
(10, 5, 'Cuire 2 min à 420 °C.'),
(11, 1, 'Étaler le pâton de 250 g en disque de 30 cm.'),
(11, 2, 'Napper de sauce tomate, répartir la mozzarella et les tomates cerises coupées.'),
(11, 3, 'Cuire 90 s à 450 °C.'),
(11, 4, 'À la sortie du four : jambon cru, roquette, copeaux de parmesan.'),
(12, 1, 'Étaler le pâton de 250 g en disque de 30 cm.'),
(12, 2, 'Napper de sauce tomate, répartir la mozzarella.'),
(12, 3, 'Ajouter la merguez en rondelles, les poivrons et les oignons.'),
(12, 4, 'Casser l''œuf au centre.'),
(12, 5, 'Cuire 2 min à 420 °C.'),
(13, 1, 'Étaler le pâton de 250 g en disque de 30 cm.'),
(13, 2, 'Napper de 100 g de sauce tomate.'),
(13, 3, 'Parsemer d''ail émincé et d''origan.'),
(13, 4, 'Cuire 90 s à 450 °C, puis arroser d''huile d''olive.'),
(14, 1, 'Étaler le pâton de 250 g en disque de 30 cm.'),
(14, 2, 'Napper de sauce tomate, répartir la mozzarella.'),
(14, 3, 'Disposer le salami piquant et les olives.'),
(14, 4, 'Cuire 90 s à 450 °C.'),
(14, 5, 'Finir d''un trait d''huile pimentée.'),
(15, 1, 'Étaler le pâton de 250 g en disque de 30 cm.'),
(15, 2, 'Napper de sauce tomate, répartir la mozzarella.'),
(15, 3, 'Garnir chaque quart : jambon, champignons, artichauts, olives.'),
(15, 4, 'Cuire 90 s à 450 °C.')
ON DUPLICATE KEY UPDATE text = VALUES(text);

-- ---------------------------------------------------------------------------
-- Stock: one row per (pizzeria, ingredient). INSERT IGNORE: a re-run never
-- resets the levels of a running demo.
--   base     = a well-stocked pizzeria (pizzeria 1: dozens of each pizza);
--   factor   = 1 (1, 5), 0.6 (2), 0.8 (3), 0.7 (4), 0.1 (6-8, opening soon,
--              no drinks or desserts delivered yet);
--   shortages, to show unavailable pizzas:
--     pizzeria 2: 0 g of chèvre             -> Chèvre-miel unavailable;
--     pizzeria 3: 170 g of saumon fumé      -> Saumon: 2 left (low stock);
--     pizzeria 4: 0 Orangina                -> Orangina unavailable;
--     pizzeria 5: 250 g of reblochon        -> Savoyarde: 2 left (low stock).
-- ---------------------------------------------------------------------------
INSERT IGNORE INTO stock (pizzeria_id, ingredient_id, on_hand, reserved, low_threshold)
SELECT p.id,
       b.ingredient_id,
       CASE
           WHEN p.id = 2 AND b.ingredient_id = 7 THEN 0
           WHEN p.id = 3 AND b.ingredient_id = 23 THEN 170
           WHEN p.id = 4 AND b.ingredient_id = 53 THEN 0
           WHEN p.id = 5 AND b.ingredient_id = 22 THEN 250
           WHEN p.id >= 6 AND b.ingredient_id > 50 THEN 0
           ELSE ROUND(b.on_hand * f.factor)
       END,
       0,
       ROUND(b.low_threshold * f.factor)
FROM pizzerias p
JOIN (SELECT 1 AS pizzeria_id, 1.0 AS factor UNION ALL SELECT 2, 0.6 UNION ALL SELECT 3, 0.8
      UNION ALL SELECT 4, 0.7 UNION ALL SELECT 5, 1.0 UNION ALL SELECT 6, 0.1
      UNION ALL SELECT 7, 0.1 UNION ALL SELECT 8, 0.1) f ON f.pizzeria_id = p.id
CROSS JOIN (
    SELECT 1 AS ingredient_id, 30000 AS on_hand, 6000 AS low_threshold  -- pâte: 120 pâtons
    UNION ALL SELECT 2, 12000, 2400    -- sauce tomate
    UNION ALL SELECT 3, 15000, 3000    -- mozzarella
    UNION ALL SELECT 4, 5000, 1000     -- jambon blanc
    UNION ALL SELECT 5, 4000, 800      -- champignons
    UNION ALL SELECT 6, 3000, 600      -- chorizo
    UNION ALL SELECT 7, 3000, 600      -- chèvre
    UNION ALL SELECT 8, 1000, 200      -- miel
    UNION ALL SELECT 9, 2000, 400      -- gorgonzola
    UNION ALL SELECT 10, 1500, 300     -- parmesan
    UNION ALL SELECT 11, 800, 160      -- anchois
    UNION ALL SELECT 12, 1500, 300     -- olives noires
    UNION ALL SELECT 13, 500, 100      -- câpres
    UNION ALL SELECT 14, 3000, 600     -- poivrons
    UNION ALL SELECT 15, 3000, 600     -- oignons rouges
    UNION ALL SELECT 16, 200, 40       -- basilic
    UNION ALL SELECT 17, 100, 20       -- origan
    UNION ALL SELECT 18, 3000, 600     -- huile d'olive (ml)
    UNION ALL SELECT 19, 5000, 1000    -- crème fraîche
    UNION ALL SELECT 20, 3000, 600     -- lardons
    UNION ALL SELECT 21, 4000, 800     -- pommes de terre
    UNION ALL SELECT 22, 4000, 800     -- reblochon
    UNION ALL SELECT 23, 2400, 480     -- saumon fumé
    UNION ALL SELECT 24, 1000, 200     -- roquette
    UNION ALL SELECT 25, 2000, 400     -- jambon cru
    UNION ALL SELECT 26, 2000, 400     -- artichauts
    UNION ALL SELECT 27, 60, 12        -- œufs (pièces)
    UNION ALL SELECT 28, 3000, 600     -- merguez
    UNION ALL SELECT 29, 300, 60       -- ail
    UNION ALL SELECT 30, 2500, 500     -- salami piquant
    UNION ALL SELECT 31, 2000, 400     -- emmental
    UNION ALL SELECT 32, 2500, 500     -- courgettes
    UNION ALL SELECT 33, 2000, 400     -- tomates cerises
    UNION ALL SELECT 34, 500, 100      -- huile pimentée (ml)
    UNION ALL SELECT 35, 2000, 400     -- aubergines
    UNION ALL SELECT 51, 48, 12        -- boissons (pièces)
    UNION ALL SELECT 52, 48, 12
    UNION ALL SELECT 53, 48, 12
    UNION ALL SELECT 54, 48, 12
    UNION ALL SELECT 55, 48, 12
    UNION ALL SELECT 56, 48, 12
    UNION ALL SELECT 61, 24, 6         -- desserts (pièces)
    UNION ALL SELECT 62, 24, 6
    UNION ALL SELECT 63, 24, 6
) b
WHERE p.id BETWEEN 1 AND 8;

-- The journal of the stock above: for every pair, sum(on_hand_delta) must equal
-- stock.on_hand and sum(reserved_delta) stock.reserved. The 'initial' movement
-- is written only for pairs that have no movement at all yet (so never twice,
-- and never on top of movements the application already wrote).
INSERT INTO stock_movements (pizzeria_id, ingredient_id, kind, on_hand_delta, reserved_delta, reason)
SELECT s.pizzeria_id, s.ingredient_id, 'initial', s.on_hand, s.reserved, 'Stock initial (données de démo)'
FROM stock s
WHERE s.pizzeria_id BETWEEN 1 AND 8
  AND NOT EXISTS (SELECT 1 FROM stock_movements m
                  WHERE m.pizzeria_id = s.pizzeria_id AND m.ingredient_id = s.ingredient_id);

-- ---------------------------------------------------------------------------
-- Users. Password of every account: ocpizza-demo (argon2id, m=65536, t=3, p=4).
-- INSERT IGNORE keyed on the unique e-mail: existing accounts are left as is.
-- ---------------------------------------------------------------------------
INSERT IGNORE INTO users (email, password_hash, name, phone, role, pizzeria_id) VALUES
('admin@ocpizza.test', '$argon2id$v=19$m=65536,t=3,p=4$K7p28xs/3TOmVkPp8Ml3Zw$wamf0/irO77ilpXrATBARdhdOwBMx1U90lzF5kHr0r4', 'Isabelle Carpentier', '+33199000001', 'admin', NULL);

-- Staff of each pizzeria: manager.N, cashier.N, pizzaiolo.N, courier.N, and
-- courier2.N for the open pizzerias (N = pizzeria id); the couriers on shift.
INSERT IGNORE INTO users (email, password_hash, name, phone, role, pizzeria_id, on_shift_since)
SELECT CONCAT(r.prefix, '.', p.id, '@ocpizza.test'),
       '$argon2id$v=19$m=65536,t=3,p=4$K7p28xs/3TOmVkPp8Ml3Zw$wamf0/irO77ilpXrATBARdhdOwBMx1U90lzF5kHr0r4',
       ELT((p.id - 1) * 5 + r.k,
           'Julien Rossi', 'Sophie Garnier', 'Antoine Faure', 'Mehdi Rousseau', 'Manon Blanc',
           'Claire Guérin', 'Thomas Muller', 'Inès Henry', 'Nicolas Roussel', 'Emma Nicolas',
           'Karim Perrin', 'Pauline Morin', 'Maxime Mathieu', 'Sarah Clément', 'Baptiste Gauthier',
           'Laura Dumont', 'Yanis Lopez', 'Marion Fontaine', 'Romain Chevalier', 'Élodie Robin',
           'Quentin Masson', 'Jade Sanchez', 'Alexandre Girard', 'Amandine Bonnet', 'Samuel Dupuis',
           'Océane Lambert', 'Florian Fabre', 'Nadia Mercier', 'Kevin Brun', 'Justine Leroy',
           'Rémi Roux', 'Anaïs Vincent', 'Théo Fournier', 'Mathilde Morel', 'Bastien Giraud',
           'Lucie André', 'Adrien Lefèvre', 'Noémie Picard', 'Damien Marchand', 'Zoé Renard'),
       CONCAT('+336399801', p.id, r.k),
       r.role,
       p.id,
       -- The demo's couriers are on shift, so its deliveries find one.
       CASE WHEN r.role = 'courier' THEN UTC_TIMESTAMP(6) END
FROM pizzerias p
CROSS JOIN (SELECT 1 AS k, 'manager' AS prefix, 'manager' AS role
            UNION ALL SELECT 2, 'cashier', 'cashier'
            UNION ALL SELECT 3, 'pizzaiolo', 'pizzaiolo'
            UNION ALL SELECT 4, 'courier', 'courier'
            UNION ALL SELECT 5, 'courier2', 'courier') r
WHERE p.id BETWEEN 1 AND 8
  AND (r.k < 5 OR p.id <= 5)
ORDER BY p.id, r.k;

-- Customers, each with one saved address (see samples/addresses.json).
INSERT IGNORE INTO users (email, password_hash, name, phone, role, pizzeria_id) VALUES
('client.1@ocpizza.test', '$argon2id$v=19$m=65536,t=3,p=4$K7p28xs/3TOmVkPp8Ml3Zw$wamf0/irO77ilpXrATBARdhdOwBMx1U90lzF5kHr0r4', 'Camille Martin', '+33639980001', 'customer', NULL),
('client.2@ocpizza.test', '$argon2id$v=19$m=65536,t=3,p=4$K7p28xs/3TOmVkPp8Ml3Zw$wamf0/irO77ilpXrATBARdhdOwBMx1U90lzF5kHr0r4', 'Lucas Bernard', '+33639980002', 'customer', NULL),
('client.3@ocpizza.test', '$argon2id$v=19$m=65536,t=3,p=4$K7p28xs/3TOmVkPp8Ml3Zw$wamf0/irO77ilpXrATBARdhdOwBMx1U90lzF5kHr0r4', 'Chloé Dubois', '+33639980003', 'customer', NULL),
('client.4@ocpizza.test', '$argon2id$v=19$m=65536,t=3,p=4$K7p28xs/3TOmVkPp8Ml3Zw$wamf0/irO77ilpXrATBARdhdOwBMx1U90lzF5kHr0r4', 'Hugo Lefebvre', '+33639980004', 'customer', NULL),
('client.5@ocpizza.test', '$argon2id$v=19$m=65536,t=3,p=4$K7p28xs/3TOmVkPp8Ml3Zw$wamf0/irO77ilpXrATBARdhdOwBMx1U90lzF5kHr0r4', 'Léa Moreau', '+33639980005', 'customer', NULL);

-- client.1: Lyon 2e, served by pizzeria 1 only.
INSERT INTO addresses (user_id, label, line1, postcode, city, latitude, longitude)
SELECT u.id, 'Domicile', '25 Rue Victor Hugo', '69002', 'Lyon', 45.755000, 4.828900
FROM users u
WHERE u.email = 'client.1@ocpizza.test'
  AND NOT EXISTS (SELECT 1 FROM addresses a WHERE a.user_id = u.id AND a.label = 'Domicile');

-- client.2: Villeurbanne, served by pizzerias 1 AND 2.
INSERT INTO addresses (user_id, label, line1, postcode, city, latitude, longitude)
SELECT u.id, 'Domicile', '30 Rue Francis de Pressensé', '69100', 'Villeurbanne', 45.769500, 4.870500
FROM users u
WHERE u.email = 'client.2@ocpizza.test'
  AND NOT EXISTS (SELECT 1 FROM addresses a WHERE a.user_id = u.id AND a.label = 'Domicile');

-- client.3: Paris 11e, served by pizzeria 3.
INSERT INTO addresses (user_id, label, line1, postcode, city, latitude, longitude)
SELECT u.id, 'Domicile', '15 Rue de Charonne', '75011', 'Paris', 48.853700, 2.374400
FROM users u
WHERE u.email = 'client.3@ocpizza.test'
  AND NOT EXISTS (SELECT 1 FROM addresses a WHERE a.user_id = u.id AND a.label = 'Domicile');

-- client.4: Vieux-Lille, served by pizzeria 4.
INSERT INTO addresses (user_id, label, line1, postcode, city, latitude, longitude)
SELECT u.id, 'Domicile', '12 Rue Esquermoise', '59800', 'Lille', 50.638000, 3.060500
FROM users u
WHERE u.email = 'client.4@ocpizza.test'
  AND NOT EXISTS (SELECT 1 FROM addresses a WHERE a.user_id = u.id AND a.label = 'Domicile');

-- client.5: Bordeaux centre, served by pizzeria 5.
INSERT INTO addresses (user_id, label, line1, postcode, city, latitude, longitude)
SELECT u.id, 'Domicile', '30 Rue Sainte-Catherine', '33000', 'Bordeaux', 44.840700, -0.574100
FROM users u
WHERE u.email = 'client.5@ocpizza.test'
  AND NOT EXISTS (SELECT 1 FROM addresses a WHERE a.user_id = u.id AND a.label = 'Domicile');
