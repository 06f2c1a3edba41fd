-- What a customer must know and may ask (see shared/src/catalog/choices.rs).
--
-- The 14 allergens of EU regulation 1169/2011 (annex II), declared on each
-- ingredient; a product's allergens follow from its recipe and the options
-- chosen. `vegetarian`: no meat nor fish. It starts FALSE so an ingredient
-- nobody has looked at is never sold as vegetarian.
CREATE TABLE ingredient_allergens (
    ingredient_id BIGINT      NOT NULL,
    allergen      VARCHAR(20) NOT NULL,
    PRIMARY KEY (ingredient_id, allergen),
    CONSTRAINT fk_ingredient_allergens_ingredient FOREIGN KEY (ingredient_id) REFERENCES ingredients (id),
    CONSTRAINT ck_ingredient_allergens_code CHECK (allergen IN (
        'gluten', 'crustaceans', 'eggs', 'fish', 'peanuts', 'soybeans', 'milk',
        'nuts', 'celery', 'mustard', 'sesame', 'sulphites', 'lupin', 'molluscs'))
);

ALTER TABLE ingredients
    ADD COLUMN vegetarian BOOLEAN NOT NULL DEFAULT FALSE;

-- A topping the customer may leave off ("sans oignons"); the dough and the
-- base are not.
ALTER TABLE recipe_lines
    ADD COLUMN removable BOOLEAN NOT NULL DEFAULT FALSE;

-- How many extras one unit of the product may take (0: none, drinks).
ALTER TABLE products
    ADD COLUMN max_extras INT NOT NULL DEFAULT 0,
    ADD CONSTRAINT ck_products_max_extras CHECK (max_extras BETWEEN 0 AND 10);

-- A product's sizes, each with its price and its recipe's quantities as a
-- percentage of the recipe (150: one and a half times each ingredient,
-- rounded up). A product without sizes is sold as its recipe says; one with
-- sizes is sold in one of them, the first by position when none is asked.
CREATE TABLE product_sizes (
    product_id     BIGINT      NOT NULL,
    code           VARCHAR(20) NOT NULL,
    label          VARCHAR(50) NOT NULL,
    price_cents    BIGINT      NOT NULL,
    recipe_percent INT         NOT NULL,
    position       INT         NOT NULL DEFAULT 0,
    PRIMARY KEY (product_id, code),
    CONSTRAINT fk_product_sizes_product FOREIGN KEY (product_id) REFERENCES products (id),
    CONSTRAINT ck_product_sizes CHECK (price_cents >= 0 AND recipe_percent BETWEEN 10 AND 400)
);

-- The extras any product with `max_extras` may take: an ingredient, the
-- portion added (in its unit, scaled by the size like the recipe) and its
-- price, VAT as the product's.
CREATE TABLE extras (
    ingredient_id BIGINT NOT NULL,
    quantity      INT    NOT NULL,
    price_cents   BIGINT NOT NULL,
    position      INT    NOT NULL DEFAULT 0,
    PRIMARY KEY (ingredient_id),
    CONSTRAINT fk_extras_ingredient FOREIGN KEY (ingredient_id) REFERENCES ingredients (id),
    CONSTRAINT ck_extras CHECK (quantity > 0 AND price_cents > 0)
);

-- What a line asked for, kept as sold (like its name and price):
-- - `size_code`/`size_label`: the size (NULL: the product has none);
-- - `removed`, `extras`: ingredient ids, ascending, comma-separated;
-- - `choices`: what to make, as the kitchen reads it ("Grande · sans
--   Oignons rouges · + Chèvre");
-- - `allergens`: the line's allergen codes, comma-separated;
-- - `note`: the customer's note for the kitchen ("bien cuite").
ALTER TABLE order_lines
    ADD COLUMN size_code  VARCHAR(20)   NULL,
    ADD COLUMN size_label VARCHAR(50)   NULL,
    ADD COLUMN removed    VARCHAR(400)  NOT NULL DEFAULT '',
    ADD COLUMN extras     VARCHAR(400)  NOT NULL DEFAULT '',
    ADD COLUMN choices    VARCHAR(2500) NOT NULL DEFAULT '',
    ADD COLUMN allergens  VARCHAR(200)  NOT NULL DEFAULT '',
    ADD COLUMN note       VARCHAR(140)  NULL;

-- For the courier: door code, floor, intercom.
ALTER TABLE orders
    ADD COLUMN delivery_instructions VARCHAR(200) NULL;
