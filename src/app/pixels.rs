//! Rendered samples (`render::Canvas`) as egui textures, updated in place and shown at their
//! aspect ratio. What a sample looks like is decided in `render`, never here.

use egui::{Color32, ColorImage, TextureHandle, TextureOptions, Vec2};

use crate::render::Canvas;

fn color_image(c: &Canvas) -> ColorImage {
    let pixels = c
        .rgb
        .chunks_exact(3)
        .map(|p| Color32::from_rgb(p[0], p[1], p[2]))
        .collect();
    ColorImage::new([c.width, c.height], pixels)
}

/// White with the canvas's brightness as its opacity: a glyph that takes the colour it is
/// drawn with and hides nothing behind its dark parts.
fn glyph_image(c: &Canvas) -> ColorImage {
    let pixels = c
        .rgb
        .chunks_exact(3)
        .map(|p| {
            let a = p.iter().copied().max().unwrap_or(0);
            Color32::from_rgba_unmultiplied(255, 255, 255, a)
        })
        .collect();
    ColorImage::new([c.width, c.height], pixels)
}

/// A texture slot that is created on first use and updated in place afterwards.
#[derive(Default)]
pub struct Texture {
    handle: Option<TextureHandle>,
}

impl Texture {
    /// Shows `canvas` from now on: sharp pixels for images, smoothed for line plots.
    pub fn set(&mut self, ctx: &egui::Context, name: &str, canvas: &Canvas) {
        let options = if canvas.smooth {
            TextureOptions::LINEAR
        } else {
            TextureOptions::NEAREST
        };
        let image = color_image(canvas);
        match &mut self.handle {
            Some(h) => h.set(image, options),
            None => self.handle = Some(ctx.load_texture(name, image, options)),
        }
    }

    /// Sets the texture to `canvas` as a glyph (see [`glyph_image`]).
    pub fn set_glyph(&mut self, ctx: &egui::Context, name: &str, canvas: &Canvas) {
        let image = glyph_image(canvas);
        match &mut self.handle {
            Some(h) => h.set(image, TextureOptions::LINEAR),
            None => self.handle = Some(ctx.load_texture(name, image, TextureOptions::LINEAR)),
        }
    }

    pub fn get(&self) -> Option<&TextureHandle> {
        self.handle.as_ref()
    }

    /// The largest size with the texture's aspect ratio that fits in `bounds`.
    pub fn fit(&self, bounds: Vec2) -> Option<Vec2> {
        let [w, h] = self.handle.as_ref()?.size();
        let scale = (bounds.x / w.max(1) as f32).min(bounds.y / h.max(1) as f32);
        Some(Vec2::new(w as f32, h as f32) * scale.max(0.0))
    }

    /// Draws the texture as large as fits in `bounds`, keeping its aspect ratio.
    pub fn show(&self, ui: &mut egui::Ui, bounds: Vec2) -> Option<egui::Response> {
        let (t, size) = (self.handle.as_ref()?, self.fit(bounds)?);
        Some(ui.image((t.id(), size)))
    }
}

impl std::fmt::Debug for Texture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Texture({})", self.handle.is_some())
    }
}
