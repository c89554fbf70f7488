//! Pictures for files: rows of images composed into one enlarged PNG (nearest-neighbour).
//!
//! Plain pixels in, PNG bytes out; used by the CLI and by the studio's exports.

use anyhow::Context;
use image::ImageEncoder as _;

use crate::protocol::ImageGrid;

/// Composes `rows` (each a grid of equally-shaped images) into one picture, each image enlarged
/// `scale` times with a `gap`-pixel dark border, and encodes it as PNG.
pub fn rows_png(rows: &[&ImageGrid], scale: usize, gap: usize) -> anyhow::Result<Vec<u8>> {
    let shape = rows
        .iter()
        .find_map(|r| r.shape)
        .context("no images to draw")?;
    let cols = rows.iter().map(|r| r.len()).max().unwrap_or(0);
    let (ih, iw) = (shape.height * scale, shape.width * scale);
    let width = cols * (iw + gap) + gap;
    let height = rows.len() * (ih + gap) + gap;
    let mut rgb = vec![24u8; width * height * 3];
    let plane = shape.height * shape.width;
    for (r, row) in rows.iter().enumerate() {
        for c in 0..row.len() {
            let img = row.image(c);
            for y in 0..ih {
                for x in 0..iw {
                    let (sy, sx) = (y / scale, x / scale);
                    let px = |ch: usize| {
                        let v = img[ch.min(shape.channels - 1) * plane + sy * shape.width + sx];
                        (v.clamp(0.0, 1.0) * 255.0).round() as u8
                    };
                    let o = ((gap + r * (ih + gap) + y) * width + gap + c * (iw + gap) + x) * 3;
                    rgb[o..o + 3].copy_from_slice(&[px(0), px(1), px(2)]);
                }
            }
        }
    }
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            &rgb,
            width as u32,
            height as u32,
            image::ExtendedColorType::Rgb8,
        )
        .context("cannot encode PNG")?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::ImageShape;

    #[test]
    fn composes_rows_at_scale() {
        let shape = ImageShape {
            channels: 1,
            height: 2,
            width: 2,
        };
        let a = ImageGrid::new(shape, vec![0.0, 1.0, 1.0, 0.0, 0.5, 0.5, 0.5, 0.5]);
        let b = ImageGrid::new(shape, vec![1.0; 4]);
        let png = rows_png(&[&a, &b], 3, 1).unwrap();
        let img = image::load_from_memory(&png).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (2 * 7 + 1, 2 * 7 + 1));
        // First image, top-right pixel block is white; second row's image is white everywhere.
        assert_eq!(img.get_pixel(1 + 3, 1).0, [255, 255, 255]);
        assert_eq!(img.get_pixel(1, 1).0, [0, 0, 0]);
        assert_eq!(img.get_pixel(1, 8).0, [255, 255, 255]);
        assert_eq!(img.get_pixel(0, 0).0, [24, 24, 24]);
    }
}
