//! Prior samples: a grid of images decoded from codes drawn from N(0, I), regenerated on demand.
//! For a VAE this is what the model generates.

use std::sync::Arc;

use egui::Vec2;

use super::pixels::Texture;
use crate::data::Rng;
use crate::protocol::{LatentDecoder, SampleGrid};
use crate::render;

const SIDE: usize = 8;

pub struct Samples {
    pub open: bool,
    texture: Texture,
    rng: Rng,
    /// The samples shown, `[SIDE²]`.
    pub grid: Option<SampleGrid>,
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
        let Some(img) = render::grid(&grid, SIDE, 1, 1) else {
            return;
        };
        self.texture.set(ctx, "prior-samples", &img);
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
                let side = ui.available_width().min(480.0);
                self.texture.show(ui, Vec2::splat(side));
            });
        self.open = open;
    }
}
