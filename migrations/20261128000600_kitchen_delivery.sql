-- What the kitchen display shows, and the couriers' runs.
CREATE TABLE kitchen_tickets (
    order_id        BIGINT      NOT NULL,
    pizzeria_id     BIGINT      NOT NULL,
    status          VARCHAR(20) NOT NULL,
    received_at     DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    started_at      DATETIME(6) NULL,
    ready_at        DATETIME(6) NULL,
    withdrawn_at    DATETIME(6) NULL,
    PRIMARY KEY (order_id),
    KEY ix_kitchen_tickets_display (pizzeria_id, status, received_at),
    CONSTRAINT fk_kitchen_tickets_order FOREIGN KEY (order_id) REFERENCES orders (id),
    CONSTRAINT ck_kitchen_tickets_status CHECK (status IN ('waiting', 'preparing', 'ready', 'withdrawn'))
);

CREATE TABLE deliveries (
    id                      BIGINT      NOT NULL AUTO_INCREMENT,
    order_id                BIGINT      NOT NULL,
    pizzeria_id             BIGINT      NOT NULL,
    courier_id              BIGINT      NULL,
    status                  VARCHAR(20) NOT NULL,
    distance_m              INT         NULL,
    eta                     DATETIME(6) NULL,
    cash_to_collect_cents   BIGINT      NOT NULL DEFAULT 0,
    cash_collected_cents    BIGINT      NULL,
    created_at              DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    assigned_at             DATETIME(6) NULL,
    picked_up_at            DATETIME(6) NULL,
    delivered_at            DATETIME(6) NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_deliveries_order (order_id),
    KEY ix_deliveries_courier (courier_id, status),
    KEY ix_deliveries_pizzeria (pizzeria_id, status, created_at),
    CONSTRAINT fk_deliveries_order FOREIGN KEY (order_id) REFERENCES orders (id),
    CONSTRAINT fk_deliveries_courier FOREIGN KEY (courier_id) REFERENCES users (id),
    CONSTRAINT ck_deliveries_status CHECK (status IN ('waiting', 'assigned', 'out_for_delivery', 'delivered'))
);
