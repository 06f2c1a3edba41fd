-- A promised time and pre-orders (see shared/src/order/promise.rs).
--
-- Per pizzeria, set by its manager: how long an order takes in the kitchen
-- when nothing waits, and how many pre-orders one quarter hour can take.
ALTER TABLE pizzerias
    ADD COLUMN prep_minutes  SMALLINT NOT NULL DEFAULT 15,
    ADD COLUMN slot_capacity SMALLINT NOT NULL DEFAULT 6,
    ADD CONSTRAINT ck_pizzerias_prep CHECK (prep_minutes BETWEEN 5 AND 120),
    ADD CONSTRAINT ck_pizzerias_slot_capacity CHECK (slot_capacity BETWEEN 0 AND 100);

-- Per order (UTC):
-- - `slot_at`: the quarter hour a pre-order is for (NULL: as soon as possible);
-- - `release_at`: when a pre-order's ticket goes to the kitchen (the slot
--   minus the preparation, and the ride for a delivery);
-- - `promised_at`: when the customer is told it will be ready (pickup) or
--   delivered, kept up to date as the order moves.
ALTER TABLE orders
    ADD COLUMN slot_at     DATETIME(6) NULL,
    ADD COLUMN release_at  DATETIME(6) NULL,
    ADD COLUMN promised_at DATETIME(6) NULL,
    ADD KEY ix_orders_slot (pizzeria_id, slot_at);

-- An event not to send before this instant (a pre-order's ticket); a
-- cancelled pre-order's waiting row is deleted by its order.
ALTER TABLE outbox
    ADD COLUMN not_before DATETIME(6) NULL,
    ADD KEY ix_outbox_order (order_id, sent_at);
