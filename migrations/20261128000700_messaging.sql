-- Reliability plumbing: the transactional outbox, external events already
-- handled, saved answers for idempotency keys, notifications, geocoding cache.

-- Written in the transaction that changes an order; sent to SQS after commit,
-- or later by outbox-relay. event_id travels in the message for deduplication.
CREATE TABLE outbox (
    id          BIGINT       NOT NULL AUTO_INCREMENT,
    event_id    CHAR(36)     NOT NULL,
    event_type  VARCHAR(50)  NOT NULL,
    order_id    BIGINT       NULL,
    queue       VARCHAR(50)  NOT NULL,
    payload     TEXT         NOT NULL,
    created_at  DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    sent_at     DATETIME(6)  NULL,
    attempts    INT          NOT NULL DEFAULT 0,
    last_error  VARCHAR(500) NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_outbox_event (event_id),
    KEY ix_outbox_pending (sent_at, id)
);

-- One row per external event or queue message already applied, by consumer.
CREATE TABLE processed_events (
    consumer        VARCHAR(50)  NOT NULL,
    event_id        VARCHAR(255) NOT NULL,
    processed_at    DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (consumer, event_id)
);

-- A request's Idempotency-Key with the answer it got, replayed on a retry.
CREATE TABLE idempotency_keys (
    scope           VARCHAR(50)  NOT NULL,
    idempotency_key VARCHAR(100) NOT NULL,
    request_hash    CHAR(64)     NOT NULL,
    status_code     SMALLINT     NULL,
    response_body   MEDIUMTEXT   NULL,
    created_at      DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (scope, idempotency_key),
    KEY ix_idempotency_keys_created (created_at)
);

-- A message to a customer about an order; one per order and kind.
CREATE TABLE notifications (
    id          BIGINT       NOT NULL AUTO_INCREMENT,
    order_id    BIGINT       NOT NULL,
    kind        VARCHAR(30)  NOT NULL,
    channel     VARCHAR(10)  NOT NULL,
    recipient   VARCHAR(254) NOT NULL,
    subject     VARCHAR(200) NOT NULL,
    body        TEXT         NOT NULL,
    status      VARCHAR(10)  NOT NULL DEFAULT 'pending',
    attempts    INT          NOT NULL DEFAULT 0,
    created_at  DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    sent_at     DATETIME(6)  NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_notifications_order_kind (order_id, kind, channel),
    KEY ix_notifications_pending (status, created_at),
    CONSTRAINT fk_notifications_order FOREIGN KEY (order_id) REFERENCES orders (id),
    CONSTRAINT ck_notifications_status CHECK (status IN ('pending', 'sent', 'failed'))
);

-- Answers of the geocoding provider, keyed by the normalised query text.
CREATE TABLE geocode_cache (
    query_hash          CHAR(64)     NOT NULL,
    query               VARCHAR(300) NOT NULL,
    latitude            DOUBLE       NOT NULL,
    longitude           DOUBLE       NOT NULL,
    formatted_address   VARCHAR(300) NOT NULL,
    created_at          DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (query_hash)
);
