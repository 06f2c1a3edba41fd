-- Notifications are sent by a scheduled sender that retries with backoff: when
-- a row may next be tried (also the lease a sender takes while it sends), and
-- why the last try failed (never a secret).
ALTER TABLE notifications
    ADD COLUMN next_attempt_at DATETIME(6)  NULL,
    ADD COLUMN last_error      VARCHAR(500) NULL;

-- The sender's query: pending rows whose next attempt is due.
CREATE INDEX ix_notifications_due ON notifications (status, next_attempt_at);
