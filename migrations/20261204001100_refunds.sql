-- The money rule's bookkeeping on `payments` (see shared/src/money_rule.rs).
--
-- Charges: `currency` is what Stripe says the PaymentIntent was in (only EUR
-- counts towards an order); `requested_cents` is the amount we asked for, so a
-- PaymentIntent that succeeds for less is seen; `anomaly` names why a payment
-- did not count (`unknown_intent`, `currency`, `short`): such a payment is
-- refunded in full and never places an order.
--
-- Refunds are decided inside the order's locked transaction and written
-- `requested` there, with the charge they return (`refund_of`, the
-- PaymentIntent id), their reason and an idempotency key unique per order and
-- sequence (`order-<id>-refund-<n>`). Stripe is called after the commit with
-- that key; until it answers, the row stays `requested` and the sweep retries
-- it (`attempts`, `next_attempt_at` as a lease, `last_error` for the
-- operator). Once Stripe answers, `provider_ref` is its refund id and
-- `status` Stripe's (`pending`, `succeeded`…).
ALTER TABLE payments
    ADD COLUMN currency         CHAR(3)      NOT NULL DEFAULT 'eur',
    ADD COLUMN requested_cents  BIGINT       NULL,
    ADD COLUMN anomaly          VARCHAR(30)  NULL,
    ADD COLUMN refund_of        VARCHAR(255) NULL,
    ADD COLUMN reason           VARCHAR(50)  NULL,
    ADD COLUMN idempotency_key  VARCHAR(100) NULL,
    ADD COLUMN attempts         INT          NOT NULL DEFAULT 0,
    ADD COLUMN next_attempt_at  DATETIME(6)  NULL,
    ADD COLUMN last_error       VARCHAR(200) NULL,
    ADD UNIQUE KEY uq_payments_idempotency_key (idempotency_key),
    ADD KEY ix_payments_retry (status, next_attempt_at);
