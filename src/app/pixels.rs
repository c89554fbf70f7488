//! Turning plain image grids into egui textures, updated in place.

use egui::{Color32, ColorImage, TextureHandle, TextureOptions};

use crate::data::ImageShape;
use crate::protocol::ImageGrid;

/// One image (`[C, H, W]` in [0, 1]) as colours: grey for one channel, RGB for three or more.
fn colour(pixels: &[f32], shape: ImageShape, y: usize, x: usize) -> Color32 {
    let plane = shape.height * shape.width;
    let at = |c: usize| {
        let v = pixels[c.min(shape.channels - 1) * plane + y * shape.width + x];
        (v.clamp(0.0, 1.0) * 255.0).round() as u8
    };
    if shape.channels >= 3 {
        Color32::from_rgb(at(0), at(1), at(2))
    } else {
        let g = at(0);
        Color32::from_rgb(g, g, g)
    }
}

/// A horizontal strip of the grid's images with `gap` background pixels between them.
pub fn strip(grid: &ImageGrid, gap: usize) -> Option<ColorImage> {
    let shape = grid.shape?;
    let n = grid.len();
    if n == 0 {
        return None;
    }
    let width = n * shape.width + (n - 1) * gap;
    let mut img = ColorImage::filled([width, shape.height], Color32::from_gray(40));
    for i in 0..n {
        let px = grid.image(i);
        for y in 0..shape.height {
            for x in 0..shape.width {
                img[(i * (shape.width + gap) + x, y)] = colour(px, shape, y, x);
            }
        }
    }
    Some(img)
}

/// One image.
pub fn single(pixels: &[f32], shape: ImageShape) -> ColorImage {
    let mut img = ColorImage::filled([shape.width, shape.height], Color32::BLACK);
    for y in 0..shape.height {
        for x in 0..shape.width {
            img[(x, y)] = colour(pixels, shape, y, x);
        }
    }
    img
}

/// A texture slot that is created on first use and updated in place afterwards.
#[derive(Default)]
pub struct Texture {
    handle: Option<TextureHandle>,
}

impl Texture {
    pub fn set(&mut self, ctx: &egui::Context, name: &str, image: ColorImage) {
        match &mut self.handle {
            Some(h) => h.set(image, TextureOptions::NEAREST),
            None => self.handle = Some(ctx.load_texture(name, image, TextureOptions::NEAREST)),
        }
    }

    pub fn get(&self) -> Option<&TextureHandle> {
        self.handle.as_ref()
    }
}

impl std::fmt::Debug for Texture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Texture({})", self.handle.is_some())
    }
}
