-- The menu (shared by the group) and the recipes the kitchen follows.
CREATE TABLE categories (
    id          BIGINT      NOT NULL AUTO_INCREMENT,
    name        VARCHAR(50) NOT NULL,
    position    INT         NOT NULL DEFAULT 0,
    PRIMARY KEY (id),
    UNIQUE KEY uq_categories_name (name)
);

CREATE TABLE products (
    id           BIGINT       NOT NULL AUTO_INCREMENT,
    category_id  BIGINT       NOT NULL,
    name         VARCHAR(100) NOT NULL,
    description  VARCHAR(500) NOT NULL DEFAULT '',
    price_cents  BIGINT       NOT NULL,
    -- VAT in basis points (1000 = 10 %), the French rate for food to take away.
    vat_rate_bp  INT          NOT NULL,
    active       BOOLEAN      NOT NULL DEFAULT TRUE,
    position     INT          NOT NULL DEFAULT 0,
    created_at   DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at   DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    UNIQUE KEY uq_products_name (name),
    KEY ix_products_category (category_id, position),
    CONSTRAINT fk_products_category FOREIGN KEY (category_id) REFERENCES categories (id),
    CONSTRAINT ck_products_price CHECK (price_cents >= 0 AND vat_rate_bp BETWEEN 0 AND 10000)
);

CREATE TABLE ingredients (
    id      BIGINT      NOT NULL AUTO_INCREMENT,
    name    VARCHAR(100) NOT NULL,
    unit    VARCHAR(10) NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_ingredients_name (name),
    CONSTRAINT ck_ingredients_unit CHECK (unit IN ('g', 'ml', 'piece'))
);

-- How much of each ingredient one unit of a product takes. Drinks and desserts
-- have a one-line recipe (one bottle, one tiramisu) so every sale moves stock.
CREATE TABLE recipe_lines (
    product_id      BIGINT NOT NULL,
    ingredient_id   BIGINT NOT NULL,
    quantity        INT    NOT NULL,
    PRIMARY KEY (product_id, ingredient_id),
    KEY ix_recipe_lines_ingredient (ingredient_id),
    CONSTRAINT fk_recipe_lines_product FOREIGN KEY (product_id) REFERENCES products (id),
    CONSTRAINT fk_recipe_lines_ingredient FOREIGN KEY (ingredient_id) REFERENCES ingredients (id),
    CONSTRAINT ck_recipe_lines_quantity CHECK (quantity > 0)
);

-- The pizzaiolo's memo, step by step.
CREATE TABLE recipe_steps (
    product_id  BIGINT       NOT NULL,
    position    INT          NOT NULL,
    text        VARCHAR(500) NOT NULL,
    PRIMARY KEY (product_id, position),
    CONSTRAINT fk_recipe_steps_product FOREIGN KEY (product_id) REFERENCES products (id)
);

-- A product a manager has taken off the menu of one pizzeria only.
CREATE TABLE menu_exclusions (
    pizzeria_id BIGINT      NOT NULL,
    product_id  BIGINT      NOT NULL,
    created_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (pizzeria_id, product_id),
    CONSTRAINT fk_menu_exclusions_pizzeria FOREIGN KEY (pizzeria_id) REFERENCES pizzerias (id),
    CONSTRAINT fk_menu_exclusions_product FOREIGN KEY (product_id) REFERENCES products (id)
);
