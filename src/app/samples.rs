//! Prior samples: a grid of images decoded from codes drawn from N(0, I), regenerated on demand.
//! For a VAE this is what the model generates.

use std::sync::Arc;

use egui::Vec2;

use super::pixels::{Texture, strip};
use crate::data::Rng;
use crate::protocol::{ImageGrid, LatentDecoder};

const SIDE: usize = 8;

pub struct Samples {
    pub open: bool,
    texture: Texture,
    rng: Rng,
    /// The images shown, `[SIDE²]`.
    pub grid: Option<ImageGrid>,
}

impl Default for Samples {
    fn default() -> Self {
        Self {
            open: false,
            texture: Texture::default(),
            rng: Rng::new(0x5A3913),
            grid: None,
        }
    }
}

impl Samples {
    pub fn regenerate(&mut self, ctx: &egui::Context, decoder: &Arc<dyn LatentDecoder>) {
        let grid = crate::latent::prior_samples(decoder.as_ref(), SIDE * SIDE, &mut self.rng);
        let Some(shape) = grid.shape else {
            return;
        };
        // Stack SIDE strips into one picture.
        let rows: Vec<egui::ColorImage> = (0..SIDE)
            .filter_map(|r| {
                let px = shape.pixels();
                strip(
                    &ImageGrid::new(
                        shape,
                        grid.pixels[r * SIDE * px..(r + 1) * SIDE * px].to_vec(),
                    ),
                    1,
                )
            })
            .collect();
        let Some(first) = rows.first() else {
            return;
        };
        let (w, h) = (first.width(), first.height());
        let mut img =
            egui::ColorImage::filled([w, SIDE * (h + 1) - 1], egui::Color32::from_gray(40));
        for (r, row) in rows.iter().enumerate() {
            for y in 0..h {
                for x in 0..w {
                    img[(x, r * (h + 1) + y)] = row[(x, y)];
                }
            }
        }
        self.texture.set(ctx, "prior-samples", img);
        self.grid = Some(grid);
    }

    pub fn window(&mut self, ctx: &egui::Context, decoder: Option<&Arc<dyn LatentDecoder>>) {
        let mut open = self.open;
        egui::Window::new("Prior samples")
            .open(&mut open)
            .default_width(420.0)
            .show(ctx, |ui| {
                ui.label("Codes drawn from N(0, I), decoded by the current model.");
                if ui
                    .add_enabled(decoder.is_some(), egui::Button::new("Regenerate"))
                    .clicked()
                    && let Some(d) = decoder
                {
                    self.regenerate(ctx, d);
                }
                if let Some(t) = self.texture.get() {
                    let side = ui.available_width().min(480.0);
                    ui.image((t.id(), Vec2::splat(side)));
                }
            });
        self.open = open;
    }
}
