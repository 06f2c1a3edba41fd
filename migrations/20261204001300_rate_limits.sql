-- Rate limits that hold across every Lambda instance (shared/src/rate_limit.rs):
-- one row per bucket (SHA-256 of the limit's name and its key: an order, a
-- phone number, a client address), a fixed window and its count. The sweep
-- deletes windows over a day old.
CREATE TABLE rate_limits (
    bucket        BINARY(32)   NOT NULL,
    window_start  DATETIME(6)  NOT NULL,
    hits          INT          NOT NULL,
    PRIMARY KEY (bucket),
    KEY ix_rate_limits_window (window_start)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
