-- Couriers' shifts. A courier is on shift from `on_shift_since` (UTC) until
-- they end it (NULL: off shift). Only couriers on shift are given deliveries:
-- a courier who is not working tonight no longer gets one because their
-- account is active. Staff accounts that exist when this runs start off
-- shift; the demo data puts its couriers on shift.
ALTER TABLE users ADD COLUMN on_shift_since DATETIME(6) NULL;
