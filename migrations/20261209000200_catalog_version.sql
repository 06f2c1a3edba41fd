-- The catalogue's version: one row, bumped in the same transaction by every
-- write to what a menu shows beside the stock and the pizzerias (products,
-- categories, recipe lines, sizes, extras, ingredients and their allergens,
-- exclusions, photos; `catalog::version::bump`). The menu function keeps
-- that part per container and reads this number with the stock at each
-- request, so a change shows at the next request without the catalogue
-- being read again. A change made by hand in SQL without a bump shows once
-- the container's copy is older than `menu::CATALOG_TTL`.
CREATE TABLE catalog_version (
    id      TINYINT NOT NULL,
    version BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (id),
    CONSTRAINT ck_catalog_version_one_row CHECK (id = 1)
);

INSERT INTO catalog_version (id, version) VALUES (1, 0);
