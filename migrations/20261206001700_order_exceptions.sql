-- What goes wrong after the kitchen starts (see shared/src/order/exceptions.rs).
--
-- Orders gain three final statuses: `failed_delivery` (the courier could not
-- hand it over: nobody home, address not found, refused at the door),
-- `no_show` (a pickup never collected) and `voided` (called off by a manager
-- after the kitchen started: what was paid is refunded, what was consumed is
-- recorded as waste). Changing a CHECK means dropping it first:
-- `DROP CONSTRAINT` is understood by MySQL 8.0.19+ and MariaDB.
ALTER TABLE orders DROP CONSTRAINT ck_orders_status;
ALTER TABLE orders ADD CONSTRAINT ck_orders_status CHECK (status IN ('pending_payment', 'placed', 'preparing',
    'ready', 'out_for_delivery', 'delivered', 'picked_up', 'cancelled', 'failed_delivery', 'no_show', 'voided'));

-- A delivery that failed says why and when; one whose order was voided is
-- `cancelled`.
ALTER TABLE deliveries DROP CONSTRAINT ck_deliveries_status;
ALTER TABLE deliveries
    ADD COLUMN failure VARCHAR(20) NULL,
    ADD COLUMN failed_at DATETIME(6) NULL,
    ADD CONSTRAINT ck_deliveries_status CHECK (status IN ('waiting', 'assigned', 'out_for_delivery', 'delivered',
        'failed', 'cancelled')),
    ADD CONSTRAINT ck_deliveries_failure CHECK (failure IS NULL OR failure IN ('absent', 'address_not_found', 'refused'));

-- Refunds given by hand (cash handed back, or on the pizzeria's card
-- terminal) are recorded as `succeeded` refunds of that provider. The revenue
-- report reads refunds by kind: this keeps it off the charges.
ALTER TABLE payments ADD KEY ix_payments_kind (kind, status, order_id);
