//! Latent sliders: one per latent dimension, ranged by the observed spread of the codes, and the
//! sample the CPU decoder copy makes of them, redrawn while dragging.

use std::sync::Arc;
use std::time::Instant;

use egui::Vec2;

use super::frame_stats::Samples;
use super::pixels::Texture;
use crate::data::Rng;
use crate::protocol::{LatentCloud, LatentDecoder, SampleGrid};
use crate::render;

pub struct Sliders {
    pub values: Vec<f32>,
    mean: Vec<f32>,
    std: Vec<f32>,
    decoder: Option<Arc<dyn LatentDecoder>>,
    /// The last decoded sample.
    pub decoded: Option<SampleGrid>,
    texture: Texture,
    dirty: bool,
    rng: Rng,
    /// Draw **Random** codes from N(0, I) (a VAE's prior) rather than the observed spread.
    pub prior: bool,
}

impl Default for Sliders {
    fn default() -> Self {
        Self {
            values: Vec::new(),
            mean: Vec::new(),
            std: Vec::new(),
            decoder: None,
            decoded: None,
            texture: Texture::default(),
            dirty: false,
            rng: Rng::new(0x511DE),
            prior: false,
        }
    }
}

impl Sliders {
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// Takes a new decoder and the observed spread of the codes (the cloud's statistics); the
    /// image is redrawn with the new weights at the same slider positions.
    pub fn update(&mut self, decoder: Arc<dyn LatentDecoder>, cloud: &LatentCloud) {
        let dim = decoder.latent_dim();
        let stats = &cloud.stats;
        let fits = cloud.dim == dim && stats.mean.len() == dim && stats.std.len() == dim;
        self.mean = if fits {
            stats.mean.clone()
        } else {
            vec![0.0; dim]
        };
        // A floor on the range, so a dead unit still gets a slider that moves.
        self.std = (0..dim)
            .map(|d| if fits { stats.std[d] } else { 0.0 }.max(1e-3))
            .collect();
        if self.values.len() != dim {
            self.values = self.mean.clone();
        }
        self.decoder = Some(decoder);
        self.dirty = true;
    }

    /// Moves the sliders to `code` (a selected point's).
    pub fn set_code(&mut self, code: &[f32]) {
        if code.len() == self.values.len() {
            self.values.copy_from_slice(code);
            self.dirty = true;
        }
    }

    /// Decodes `codes` with the current decoder (for the selected point's reconstruction).
    pub fn decode(&self, codes: &[f32]) -> Option<SampleGrid> {
        self.decoder.as_ref().map(|d| d.decode(codes))
    }

    pub fn decoder(&self) -> Option<&Arc<dyn LatentDecoder>> {
        self.decoder.as_ref()
    }

    /// Decodes the current slider values if they changed; records the decode time.
    fn refresh(&mut self, ctx: &egui::Context, timings: &mut Samples) {
        if !self.dirty {
            return;
        }
        let Some(decoder) = &self.decoder else {
            return;
        };
        self.dirty = false;
        let t0 = Instant::now();
        let grid = decoder.decode(&self.values);
        timings.push(t0.elapsed());
        if let Some(shape) = grid.shape.filter(|_| !grid.is_empty()) {
            self.texture.set(
                ctx,
                "slider-decoded",
                &render::single(shape, grid.sample(0), 1),
            );
        }
        self.decoded = Some(grid);
    }

    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        timings: &mut Samples,
        extra_buttons: impl FnOnce(&mut egui::Ui),
        side: impl FnOnce(&mut egui::Ui),
    ) {
        self.refresh(ui.ctx(), timings);
        ui.horizontal_wrapped(|ui| {
            ui.heading("Latent sliders").on_hover_text(
                "One slider per code number: the decoder draws the picture for the code they \
                 set, live. Click a point in the scatter to start from its code",
            );
            let ready = !self.values.is_empty();
            if ui
                .add_enabled(ready, egui::Button::new("Reset to mean"))
                .on_hover_text("Every slider to the test codes' average")
                .clicked()
            {
                self.values = self.mean.clone();
                self.dirty = true;
            }
            let hint = if self.prior {
                "A code drawn from the prior N(0, I)"
            } else {
                "A code drawn from the observed spread of each dimension"
            };
            if ui
                .add_enabled(ready, egui::Button::new("Random"))
                .on_hover_text(hint)
                .clicked()
            {
                for ((v, m), s) in self.values.iter_mut().zip(&self.mean).zip(&self.std) {
                    let e = self.rng.normal();
                    *v = if self.prior { e } else { m + s * e };
                }
                self.dirty = true;
            }
            extra_buttons(ui);
        });
        if self.values.is_empty() {
            ui.label("Sliders appear with the first snapshot of a run.");
            return;
        }
        let avail = ui.available_size();
        let image_side = (avail.x * 0.45).min(avail.y - 8.0).max(64.0);
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| {
                ui.set_width(avail.x - image_side - 16.0);
                egui::ScrollArea::vertical()
                    .max_height(avail.y - 4.0)
                    .auto_shrink([false, true])
                    .show(ui, |ui| {
                        ui.spacing_mut().slider_width = (ui.available_width() - 110.0).max(60.0);
                        for (d, v) in self.values.iter_mut().enumerate() {
                            let m = self.mean[d];
                            let r = 3.0 * self.std[d];
                            let slider = egui::Slider::new(v, (m - r)..=(m + r))
                                .text(format!("z{d}"))
                                .custom_formatter(|v, _| format!("{v:.2}"));
                            let hover = format!(
                                "Code number {d}: drag to see what it changes in the picture \
                                 (the range is ±3 σ of the test codes)"
                            );
                            if ui.add(slider).on_hover_text(hover).changed() {
                                self.dirty = true;
                            }
                        }
                    });
            });
            ui.vertical(|ui| {
                if self.texture.show(ui, Vec2::splat(image_side)).is_some() {
                    ui.label("decoded from the sliders");
                }
                side(ui);
            });
        });
    }
}
