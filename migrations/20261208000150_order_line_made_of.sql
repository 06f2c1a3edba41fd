-- What one unit of a line was made of when it was sold (`id:quantity`, `:x`
-- for an extra, `:r` for a topping that could be left off, comma-separated):
-- the kitchen's card and a remake follow it rather than today's catalogue,
-- so an admin changing a size or an extra never changes an order in flight.
-- NULL for lines sold before it was kept (made from the catalogue).
ALTER TABLE order_lines
    ADD COLUMN made_of VARCHAR(2000) NULL;
