-- Orders, their lines with price snapshots, and who moved them when.
CREATE TABLE orders (
    id                      BIGINT       NOT NULL AUTO_INCREMENT,
    -- What staff and customers read out ("commande K7M2QD"); unique, not guessable order.
    number                  VARCHAR(16)  NOT NULL,
    pizzeria_id             BIGINT       NOT NULL,
    customer_id             BIGINT       NULL,
    channel                 VARCHAR(10)  NOT NULL,
    fulfilment              VARCHAR(10)  NOT NULL,
    payment_method          VARCHAR(10)  NOT NULL,
    status                  VARCHAR(20)  NOT NULL,
    subtotal_cents          BIGINT       NOT NULL,
    vat_cents               BIGINT       NOT NULL,
    delivery_fee_cents      BIGINT       NOT NULL DEFAULT 0,
    total_cents             BIGINT       NOT NULL,
    -- Delivery address as given at checkout (not a reference: it must not change later).
    address_line1           VARCHAR(200) NULL,
    address_postcode        VARCHAR(10)  NULL,
    address_city            VARCHAR(100) NULL,
    latitude                DOUBLE       NULL,
    longitude               DOUBLE       NULL,
    distance_m              INT          NULL,
    contact_name            VARCHAR(100) NOT NULL,
    contact_phone           VARCHAR(20)  NOT NULL,
    contact_email           VARCHAR(254) NULL,
    -- Secret given to a guest to follow the order (URL-safe random, 32 bytes).
    tracking_token          VARCHAR(64)  NOT NULL,
    idempotency_key         VARCHAR(100) NULL,
    -- Unpaid card orders hold their reservation until then; the sweep cancels after.
    reservation_expires_at  DATETIME(6)  NULL,
    created_by              BIGINT       NULL,
    created_at              DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at              DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    UNIQUE KEY uq_orders_number (number),
    UNIQUE KEY uq_orders_tracking_token (tracking_token),
    UNIQUE KEY uq_orders_idempotency_key (idempotency_key),
    KEY ix_orders_pizzeria_status (pizzeria_id, status, created_at),
    KEY ix_orders_pizzeria_created (pizzeria_id, created_at),
    KEY ix_orders_customer (customer_id, created_at),
    KEY ix_orders_status_expiry (status, reservation_expires_at),
    KEY ix_orders_phone (contact_phone),
    CONSTRAINT fk_orders_pizzeria FOREIGN KEY (pizzeria_id) REFERENCES pizzerias (id),
    CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES users (id),
    CONSTRAINT ck_orders_channel CHECK (channel IN ('web', 'phone', 'counter')),
    CONSTRAINT ck_orders_fulfilment CHECK (fulfilment IN ('delivery', 'pickup')),
    CONSTRAINT ck_orders_payment_method CHECK (payment_method IN ('card', 'cash')),
    CONSTRAINT ck_orders_status CHECK (status IN ('pending_payment', 'placed', 'preparing', 'ready', 'out_for_delivery', 'delivered', 'picked_up', 'cancelled')),
    CONSTRAINT ck_orders_totals CHECK (subtotal_cents >= 0 AND vat_cents >= 0 AND delivery_fee_cents >= 0 AND total_cents = subtotal_cents + delivery_fee_cents)
);

CREATE TABLE order_lines (
    order_id            BIGINT       NOT NULL,
    line_no             INT          NOT NULL,
    product_id          BIGINT       NOT NULL,
    -- Snapshots: the order keeps the name, price and VAT it was sold at.
    product_name        VARCHAR(100) NOT NULL,
    unit_price_cents    BIGINT       NOT NULL,
    vat_rate_bp         INT          NOT NULL,
    quantity            INT          NOT NULL,
    line_total_cents    BIGINT       NOT NULL,
    PRIMARY KEY (order_id, line_no),
    KEY ix_order_lines_product (product_id),
    CONSTRAINT fk_order_lines_order FOREIGN KEY (order_id) REFERENCES orders (id),
    CONSTRAINT fk_order_lines_product FOREIGN KEY (product_id) REFERENCES products (id),
    CONSTRAINT ck_order_lines_quantity CHECK (quantity > 0 AND line_total_cents = unit_price_cents * quantity)
);

-- Every status an order went through, with who moved it (a user, or a system
-- actor such as 'stripe' or 'sweep' in by_label).
CREATE TABLE order_status_history (
    id          BIGINT      NOT NULL AUTO_INCREMENT,
    order_id    BIGINT      NOT NULL,
    status      VARCHAR(20) NOT NULL,
    at          DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    by_user_id  BIGINT      NULL,
    by_label    VARCHAR(50) NOT NULL,
    note        VARCHAR(200) NULL,
    PRIMARY KEY (id),
    KEY ix_order_status_history_order (order_id, id),
    CONSTRAINT fk_order_status_history_order FOREIGN KEY (order_id) REFERENCES orders (id)
);

-- Money actually moved: card charges and refunds through Stripe, cash taken by a
-- courier or at the counter, card terminal payments at the counter.
CREATE TABLE payments (
    id              BIGINT       NOT NULL AUTO_INCREMENT,
    order_id        BIGINT       NOT NULL,
    provider        VARCHAR(20)  NOT NULL,
    kind            VARCHAR(10)  NOT NULL,
    provider_ref    VARCHAR(255) NULL,
    amount_cents    BIGINT       NOT NULL,
    status          VARCHAR(30)  NOT NULL,
    created_at      DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at      DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    UNIQUE KEY uq_payments_provider_ref (provider, provider_ref),
    KEY ix_payments_order (order_id),
    CONSTRAINT fk_payments_order FOREIGN KEY (order_id) REFERENCES orders (id),
    CONSTRAINT ck_payments_provider CHECK (provider IN ('stripe', 'cash', 'card_terminal')),
    CONSTRAINT ck_payments_kind CHECK (kind IN ('charge', 'refund')),
    CONSTRAINT ck_payments_amount CHECK (amount_cents >= 0)
);
