-- Who used an idempotency key (`user:<id>` or `guest`): a replay of the saved
-- answer (which holds the order's tracking token and payment secret) goes to
-- that caller only. NULL for keys saved before this column existed.
ALTER TABLE idempotency_keys ADD COLUMN caller VARCHAR(40) NULL;
