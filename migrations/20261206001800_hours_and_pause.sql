-- Opening hours a pizzeria can really have, special days, and a pause of
-- online orders (see shared/src/catalog/hours.rs and catalog/mod.rs).
--
-- A period whose closing time is not after its opening time now runs past
-- midnight (18:00 to 01:00): it belongs to the day it starts. Changing a
-- CHECK means dropping it first: `DROP CONSTRAINT` is understood by MySQL
-- 8.0.19+ and MariaDB.
ALTER TABLE opening_hours DROP CONSTRAINT ck_opening_hours;
ALTER TABLE opening_hours ADD CONSTRAINT ck_opening_hours CHECK (weekday BETWEEN 1 AND 7 AND closes_at <> opens_at);

-- A date whose hours are not the week's: closed (no special_hours row) or
-- open at other hours (its special_hours rows replace the week's that day).
CREATE TABLE special_days (
    pizzeria_id BIGINT       NOT NULL,
    day         DATE         NOT NULL,
    note        VARCHAR(200) NOT NULL DEFAULT '',
    PRIMARY KEY (pizzeria_id, day),
    CONSTRAINT fk_special_days_pizzeria FOREIGN KEY (pizzeria_id) REFERENCES pizzerias (id)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE special_hours (
    pizzeria_id BIGINT NOT NULL,
    day         DATE   NOT NULL,
    opens_at    TIME   NOT NULL,
    closes_at   TIME   NOT NULL,
    PRIMARY KEY (pizzeria_id, day, opens_at),
    CONSTRAINT fk_special_hours_day FOREIGN KEY (pizzeria_id, day)
        REFERENCES special_days (pizzeria_id, day) ON DELETE CASCADE,
    CONSTRAINT ck_special_hours CHECK (closes_at <> opens_at)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- Online orders paused by a manager, all of them or deliveries only, until
-- `paused_until` (UTC), when the pause ends by itself. Phone and counter
-- orders are never paused.
ALTER TABLE pizzerias
    ADD COLUMN paused_until  DATETIME(6)  NULL,
    ADD COLUMN pause_scope   VARCHAR(10)  NULL,
    ADD COLUMN pause_message VARCHAR(200) NULL,
    ADD CONSTRAINT ck_pizzerias_pause CHECK (pause_scope IS NULL OR pause_scope IN ('all', 'delivery'));

-- Bumped by every change to a pizzeria, its hours, special days or pause:
-- the menu function keeps the pizzeria list per container and reloads it
-- when the group's count or sum of versions moved, so a change shows on the
-- next request.
ALTER TABLE pizzerias ADD COLUMN version INT NOT NULL DEFAULT 0;
