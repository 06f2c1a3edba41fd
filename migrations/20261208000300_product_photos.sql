-- A product's photo (functions/photos). Its files are in the photos bucket
-- at `products/{product_id}/{version}/{width}.jpg`, one per width in
-- `widths` (ascending, e.g. '320,640,960'), each cropped to 4:3: a new
-- upload is a new version, so a file is never overwritten and CloudFront
-- may cache it for a year. No row: the product has no photo and the shop
-- shows a placeholder. The row is written in one statement after every file
-- is stored, so an upload that fails halfway leaves the previous photo.
-- `version` and `widths` are the application's own ASCII, read back: the
-- database's collation (a `_bin` one would read back as bytes).
CREATE TABLE product_photos (
    product_id  BIGINT      NOT NULL,
    version     VARCHAR(40) NOT NULL,
    widths      VARCHAR(40) NOT NULL,
    updated_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (product_id),
    CONSTRAINT fk_product_photos_product FOREIGN KEY (product_id) REFERENCES products (id),
    CONSTRAINT ck_product_photos_version CHECK (CHAR_LENGTH(version) BETWEEN 8 AND 40),
    CONSTRAINT ck_product_photos_widths CHECK (CHAR_LENGTH(widths) BETWEEN 3 AND 40)
);
