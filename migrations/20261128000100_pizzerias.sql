-- Pizzerias, their delivery zone and opening hours.
CREATE TABLE pizzerias (
    id                  BIGINT       NOT NULL AUTO_INCREMENT,
    name                VARCHAR(100) NOT NULL,
    line1               VARCHAR(200) NOT NULL,
    postcode            VARCHAR(10)  NOT NULL,
    city                VARCHAR(100) NOT NULL,
    phone               VARCHAR(20)  NOT NULL,
    latitude            DOUBLE       NOT NULL,
    longitude           DOUBLE       NOT NULL,
    -- The delivery zone is a disc around the shop: simple to explain to a
    -- customer ("we deliver within 4 km") and to check in SQL.
    delivery_radius_m   INT          NOT NULL,
    delivery_fee_cents  BIGINT       NOT NULL,
    min_order_cents     BIGINT       NOT NULL,
    status              VARCHAR(20)  NOT NULL DEFAULT 'active',
    opens_on            DATE         NULL,
    created_at          DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    UNIQUE KEY uq_pizzerias_name (name),
    KEY ix_pizzerias_status (status),
    CONSTRAINT ck_pizzerias_status CHECK (status IN ('active', 'opening_soon', 'closed')),
    CONSTRAINT ck_pizzerias_zone CHECK (delivery_radius_m >= 0 AND delivery_fee_cents >= 0 AND min_order_cents >= 0)
);

-- Local wall-clock hours (Europe/Paris). weekday is ISO: 1 = Monday .. 7 = Sunday.
CREATE TABLE opening_hours (
    pizzeria_id BIGINT   NOT NULL,
    weekday     TINYINT  NOT NULL,
    opens_at    TIME     NOT NULL,
    closes_at   TIME     NOT NULL,
    PRIMARY KEY (pizzeria_id, weekday, opens_at),
    CONSTRAINT fk_opening_hours_pizzeria FOREIGN KEY (pizzeria_id) REFERENCES pizzerias (id),
    CONSTRAINT ck_opening_hours CHECK (weekday BETWEEN 1 AND 7 AND closes_at > opens_at)
);
