-- The kitchen's queue at a pizzeria, counted by every checkout and every
-- `GET /pizzerias/{id}/times` for the promised time (`promise::load`: the
-- orders placed or preparing whose ticket is released). With
-- `ix_orders_pizzeria_status` (pizzeria, status, created_at) the count read
-- each order's row for its `release_at`: 2 to 6 ms per checkout once a
-- pizzeria had 2,000 to 5,600 tickets waiting (the checkout benchmark, which
-- never cooks). With `release_at` in the index the count reads the index only.
CREATE INDEX ix_orders_queue ON orders (pizzeria_id, status, release_at);
