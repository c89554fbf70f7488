//! Interpolation: pick two test points, see the decodes along the path between their codes
//! (straight, or spherical for a VAE): a strip of images, or a fan of curves for series (as
//! `render` draws the modality); save it as a PNG.

use std::path::Path;

use egui::Vec2;

use super::pixels::Texture;
use crate::latent::interpolate;
use crate::protocol::{LatentDecoder, SampleGrid};
use crate::render;

pub struct Interpolation {
    pub open: bool,
    /// Scatter points (cloud indices) at the two ends.
    pub a: Option<usize>,
    pub b: Option<usize>,
    pub steps: usize,
    pub spherical: bool,
    /// The decodes shown, `steps` samples.
    pub strip: Option<SampleGrid>,
    texture: Texture,
}

impl Default for Interpolation {
    fn default() -> Self {
        Self {
            open: false,
            a: None,
            b: None,
            steps: 10,
            spherical: false,
            strip: None,
            texture: Texture::default(),
        }
    }
}

/// The path's decodes: a strip of images, or for series one tile of curves going from the
/// input colour (A) to the output colour (B).
fn picture(grid: &SampleGrid, scale: usize) -> Option<render::Canvas> {
    let shape = grid.shape?;
    if render::overlays(shape) {
        render::fan(grid, render::INPUT, render::OUTPUT, scale)
    } else {
        render::grid(grid, grid.len(), 2, scale)
    }
}

/// What the window asks of the app this frame.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Request {
    pub set_a: bool,
    pub set_b: bool,
    pub run: bool,
    pub save: bool,
}

impl Interpolation {
    /// Decodes the path between the codes `a` and `b`.
    pub fn compute(
        &mut self,
        ctx: &egui::Context,
        decoder: &dyn LatentDecoder,
        a: &[f32],
        b: &[f32],
    ) {
        let codes = interpolate(a, b, self.steps, self.spherical);
        let grid = decoder.decode(&codes);
        if let Some(img) = picture(&grid, 1) {
            self.texture.set(ctx, "interpolation", &img);
        }
        self.strip = Some(grid);
    }

    /// Writes the strip as a PNG.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let strip = self
            .strip
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("nothing to save yet"))?;
        let img = picture(strip, 4).ok_or_else(|| anyhow::anyhow!("nothing to save yet"))?;
        crate::files::write_atomic(path, &img.png()?)
    }

    pub fn window(&mut self, ctx: &egui::Context, names: [String; 2], selected: bool) -> Request {
        let mut req = Request::default();
        let mut open = self.open;
        egui::Window::new("Interpolation")
            .open(&mut open)
            .default_width(640.0)
            .show(ctx, |ui| {
                for (end, name, set) in [
                    ("A", &names[0], &mut req.set_a),
                    ("B", &names[1], &mut req.set_b),
                ] {
                    ui.horizontal(|ui| {
                        ui.label(format!("{end}: {name}"));
                        *set = ui
                            .add_enabled(
                                selected,
                                egui::Button::new(format!("Use selected as {end}")),
                            )
                            .clicked();
                    });
                }
                ui.horizontal(|ui| {
                    ui.add(egui::Slider::new(&mut self.steps, 3..=20).text("Steps"));
                    ui.checkbox(&mut self.spherical, "Spherical");
                });
                ui.horizontal(|ui| {
                    req.run = ui
                        .add_enabled(
                            self.a.is_some() && self.b.is_some(),
                            egui::Button::new("Interpolate"),
                        )
                        .clicked();
                    req.save = ui
                        .add_enabled(self.strip.is_some(), egui::Button::new("Save PNG..."))
                        .clicked();
                });
                let w = ui.available_width();
                self.texture.show(ui, Vec2::new(w, w.max(240.0)));
            });
        self.open = open;
        req
    }
}
