-- Ingredient stock per pizzeria, in the ingredient's unit.
-- available = on_hand - reserved. A checkout reserves; the kitchen starting an
-- order consumes (on_hand and reserved both go down); a cancellation releases.
CREATE TABLE stock (
    pizzeria_id     BIGINT      NOT NULL,
    ingredient_id   BIGINT      NOT NULL,
    on_hand         INT         NOT NULL,
    reserved        INT         NOT NULL DEFAULT 0,
    low_threshold   INT         NOT NULL DEFAULT 0,
    updated_at      DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (pizzeria_id, ingredient_id),
    KEY ix_stock_ingredient (ingredient_id),
    CONSTRAINT fk_stock_pizzeria FOREIGN KEY (pizzeria_id) REFERENCES pizzerias (id),
    CONSTRAINT fk_stock_ingredient FOREIGN KEY (ingredient_id) REFERENCES ingredients (id),
    CONSTRAINT ck_stock_levels CHECK (on_hand >= 0 AND reserved >= 0 AND low_threshold >= 0)
);

-- Every change to stock, as deltas: for each (pizzeria, ingredient) the sums of
-- on_hand_delta and reserved_delta equal stock.on_hand and stock.reserved.
CREATE TABLE stock_movements (
    id              BIGINT       NOT NULL AUTO_INCREMENT,
    pizzeria_id     BIGINT       NOT NULL,
    ingredient_id   BIGINT       NOT NULL,
    kind            VARCHAR(20)  NOT NULL,
    on_hand_delta   INT          NOT NULL DEFAULT 0,
    reserved_delta  INT          NOT NULL DEFAULT 0,
    order_id        BIGINT       NULL,
    user_id         BIGINT       NULL,
    reason          VARCHAR(200) NULL,
    created_at      DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    KEY ix_stock_movements_stock (pizzeria_id, ingredient_id, created_at),
    KEY ix_stock_movements_order (order_id),
    CONSTRAINT ck_stock_movements_kind CHECK (kind IN ('initial', 'restock', 'reservation', 'release', 'consumption', 'adjustment', 'waste'))
);
