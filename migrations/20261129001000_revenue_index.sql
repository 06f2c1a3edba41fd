-- The revenue report (backoffice) reads, for each pizzeria of its scope and a
-- period of up to a year, every sold order's status, payment method, channel,
-- total and VAT. ix_orders_pizzeria_created finds the rows but then fetches
-- each one from the table: a year of one pizzeria is ~200,000 random reads
-- (4.2 s measured on the 1,000,000-order history), and the group falls back to
-- a full table scan (2.4 s). This index covers the query, so it is answered
-- from the index alone: one range per pizzeria over the period, in
-- (pizzeria_id, created_at) order; measured 0.18 s for one pizzeria and
-- 0.89 s for the group over the same year (infra/local/bench.sh).
--
-- pizzeria_id first, not created_at: the group's query names its pizzerias
-- (`pizzeria_id IN (...)`), so both scopes get ranges on MariaDB, which has
-- no skip scan. The cost is one more secondary index to maintain per order
-- written (about 60 bytes a row); of its columns only `status` moves (a few
-- times per order) and the totals (when a customer modifies the order before
-- the kitchen starts it).
CREATE INDEX ix_orders_revenue
    ON orders (pizzeria_id, created_at, status, payment_method, channel, total_cents, vat_cents);
