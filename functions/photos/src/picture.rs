//! The admin's upload made into the shop's files: decoded (JPEG, PNG or
//! WebP, whatever the request called it), turned upright (a phone's EXIF
//! orientation), cropped to 4:3 around its centre, then resized to each
//! width of `WIDTHS` it reaches and encoded as JPEG.
//!
//! What is refused, before any file is made: a body that is not one of the
//! three formats or does not decode whole, a picture wider or taller than
//! [`MAX_SIDE`] (checked from the header, before the pixels are decoded), and
//! one whose 4:3 crop is narrower than `MIN_WIDTH`.

use image::imageops::{self, FilterType};
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};
use ocpizza::catalog::photos::{height_for, widths_for, MIN_WIDTH};
use std::io::Cursor;

/// The widest and tallest picture accepted, in pixels.
pub const MAX_SIDE: u32 = 6000;

/// The JPEG quality of the files (what the shop's cards need, about a tenth
/// of the source's bytes).
pub const JPEG_QUALITY: u8 = 80;

/// The most memory a decoder may take (a 6000 × 6000 RGBA picture is 144 MB).
const MAX_DECODER_BYTES: u64 = 256 * 1024 * 1024;

/// Why a body is not a photo the shop can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not a JPEG, PNG or WebP, or one that does not decode whole.
    NotAnImage,
    /// Its 4:3 crop is narrower than `MIN_WIDTH` (or shorter than its 4:3 height).
    TooSmall { width: u32, height: u32 },
    /// Wider or taller than [`MAX_SIDE`].
    TooLarge { width: u32, height: u32 },
}

/// One file: its width (its height follows, 4:3) and its JPEG bytes.
#[derive(Debug)]
pub struct File {
    pub width: u32,
    pub jpeg: Vec<u8>,
}

/// The files of a photo, narrowest first.
#[derive(Debug)]
pub struct Prepared {
    pub files: Vec<File>,
    /// The source's size, as decoded and turned upright.
    pub source: (u32, u32),
}

impl Prepared {
    pub fn widths(&self) -> Vec<u32> {
        self.files.iter().map(|f| f.width).collect()
    }
}

/// The shop's files from an upload. CPU-bound (a 12-megapixel photo takes a
/// few hundred milliseconds): run it off the async threads.
pub fn prepare(bytes: &[u8]) -> Result<Prepared, Refusal> {
    let guess = || {
        ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|_| Refusal::NotAnImage)
    };
    // The header alone first: a picture too large is refused by its size,
    // before its pixels are decoded.
    let header = guess()?;
    if !matches!(
        header.format(),
        Some(ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP)
    ) {
        return Err(Refusal::NotAnImage);
    }
    let (width, height) = header.into_dimensions().map_err(|_| Refusal::NotAnImage)?;
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(Refusal::TooLarge { width, height });
    }
    let mut reader = guess()?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODER_BYTES);
    reader.limits(limits);
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| refusal(e, width, height))?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut picture = DynamicImage::from_decoder(decoder).map_err(|e| refusal(e, width, height))?;
    picture.apply_orientation(orientation);
    let source = (picture.width(), picture.height());
    let (x, y, crop_width, crop_height) = crop_4_3(source.0, source.1);
    if crop_width < MIN_WIDTH || crop_height < height_for(MIN_WIDTH) {
        return Err(Refusal::TooSmall {
            width: source.0,
            height: source.1,
        });
    }
    let upright = opaque(picture);
    let mut current: RgbImage =
        imageops::crop_imm(&upright, x, y, crop_width, crop_height).to_image();
    drop(upright);
    let widths = widths_for(crop_width);
    let mut files = Vec::with_capacity(widths.len());
    // Widest first, each from the one before: a big photo is first brought
    // to twice the widest file by averaging (fast), then Lanczos does the rest.
    for &target in widths.iter().rev() {
        if current.width() > 2 * target {
            current = imageops::thumbnail(&current, 2 * target, height_for(2 * target));
        }
        current = imageops::resize(&current, target, height_for(target), FilterType::Lanczos3);
        files.push(File {
            width: target,
            jpeg: jpeg(&current),
        });
    }
    files.reverse();
    Ok(Prepared { files, source })
}

/// A decoding failure: too large for the limits, or not a whole image.
fn refusal(err: image::ImageError, width: u32, height: u32) -> Refusal {
    match err {
        image::ImageError::Limits(_) => Refusal::TooLarge { width, height },
        _ => Refusal::NotAnImage,
    }
}

/// The largest 4:3 rectangle centred in `width` × `height`: (x, y, w, h).
pub fn crop_4_3(width: u32, height: u32) -> (u32, u32, u32, u32) {
    let (a, b) = ocpizza::catalog::photos::ASPECT;
    // Wider than 4:3: keep the full height; else the full width.
    let (w, h) = if u64::from(width) * u64::from(b) > u64::from(height) * u64::from(a) {
        (height * a / b, height)
    } else {
        (width, width * b / a)
    };
    ((width - w) / 2, (height - h) / 2, w, h)
}

/// The picture in RGB, a transparent one laid on white (as on the card).
fn opaque(picture: DynamicImage) -> RgbImage {
    if !picture.color().has_alpha() {
        return picture.into_rgb8();
    }
    let rgba = picture.into_rgba8();
    let mut rgb = RgbImage::new(rgba.width(), rgba.height());
    for (out, pixel) in rgb.pixels_mut().zip(rgba.pixels()) {
        let alpha = u32::from(pixel[3]);
        for c in 0..3 {
            let v = (u32::from(pixel[c]) * alpha + 255 * (255 - alpha) + 127) / 255;
            out[c] = v as u8;
        }
    }
    rgb
}

fn jpeg(picture: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY);
    // Encoding an RGB buffer into memory does not fail.
    if let Err(e) = encoder.encode_image(picture) {
        tracing::error!(error = %e, "JPEG encoding failed");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageBuffer, Rgb, Rgba};

    fn png(width: u32, height: u32) -> Vec<u8> {
        let picture = ImageBuffer::from_fn(width, height, |x, y| {
            Rgb([(x % 256) as u8, (y % 256) as u8, 128u8])
        });
        let mut out = Cursor::new(Vec::new());
        picture
            .write_to(&mut out, ImageFormat::Png)
            .expect("PNG in memory");
        out.into_inner()
    }

    fn decoded(jpeg: &[u8]) -> (u32, u32, ImageFormat) {
        let reader = ImageReader::new(Cursor::new(jpeg))
            .with_guessed_format()
            .unwrap();
        let format = reader.format().unwrap();
        let picture = reader.decode().unwrap();
        (picture.width(), picture.height(), format)
    }

    #[test]
    fn a_photo_becomes_the_shop_widths_in_4_3_jpeg() {
        let made = prepare(&png(1200, 900)).unwrap();
        assert_eq!(made.widths(), [320, 640, 960]);
        for file in &made.files {
            assert_eq!(
                decoded(&file.jpeg),
                (file.width, height_for(file.width), ImageFormat::Jpeg)
            );
        }
    }

    #[test]
    fn a_tall_or_wide_photo_is_cropped_around_its_centre() {
        assert_eq!(crop_4_3(1200, 900), (0, 0, 1200, 900));
        assert_eq!(crop_4_3(2000, 900), (400, 0, 1200, 900));
        assert_eq!(crop_4_3(900, 2000), (0, 662, 900, 675));
        let made = prepare(&png(700, 1600)).unwrap();
        assert_eq!(made.widths(), [320, 640]);
        assert_eq!(made.source, (700, 1600));
    }

    #[test]
    fn a_transparent_png_is_laid_on_white() {
        let picture = ImageBuffer::from_pixel(400, 300, Rgba([0u8, 0, 0, 0]));
        let mut out = Cursor::new(Vec::new());
        picture.write_to(&mut out, ImageFormat::Png).unwrap();
        let made = prepare(out.get_ref()).unwrap();
        let file = image::load_from_memory(&made.files[0].jpeg)
            .unwrap()
            .into_rgb8();
        assert!(file.get_pixel(160, 120).0.iter().all(|c| *c > 245));
    }

    #[test]
    fn what_is_not_a_usable_photo_is_refused() {
        assert_eq!(
            prepare(b"not a photo at all").unwrap_err(),
            Refusal::NotAnImage
        );
        assert_eq!(prepare(b"").unwrap_err(), Refusal::NotAnImage);
        let whole = png(1200, 900);
        assert_eq!(
            prepare(&whole[..whole.len() / 2]).unwrap_err(),
            Refusal::NotAnImage
        );
        assert_eq!(
            prepare(&png(100, 100)).unwrap_err(),
            Refusal::TooSmall {
                width: 100,
                height: 100
            }
        );
        // Wide enough, but its 4:3 crop is not.
        assert!(matches!(
            prepare(&png(2000, 200)).unwrap_err(),
            Refusal::TooSmall { .. }
        ));
        // Refused by its header: the pixels are never decoded.
        assert_eq!(
            prepare(&png(6001, 10)).unwrap_err(),
            Refusal::TooLarge {
                width: 6001,
                height: 10
            }
        );
    }
}
