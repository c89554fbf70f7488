//! The point a user picked in the scatter: its test input and the model's output for its code,
//! shown beside the sliders and refreshed with each snapshot.

use egui::Vec2;

use super::pixels::Texture;
use super::run_model::RunModel;
use super::sliders::Sliders;
use crate::render;

/// The selected point and its two pictures.
#[derive(Default)]
pub struct Selection {
    /// The point's index in the latest snapshot's cloud.
    pub index: Option<usize>,
    caption: String,
    input: Texture,
    output: Texture,
}

impl Selection {
    /// Redraws the pictures from the latest snapshot (its decoder, through the sliders').
    pub fn refresh(&mut self, ctx: &egui::Context, run: &RunModel, sliders: &Sliders) {
        let (Some(i), Some(s), Some(info)) = (self.index, &run.snapshot, &run.info) else {
            return;
        };
        let Some(&test_index) = s.latents.test_indices.get(i) else {
            return;
        };
        let shape = info.sample_shape;
        if test_index >= info.test_samples.len() {
            return;
        }
        let input = info.test_samples.sample(test_index);
        self.input.set(
            ctx,
            "selected-input",
            &render::tile(
                shape,
                &[render::Layer {
                    values: input,
                    colour: render::INPUT,
                }],
                1,
            ),
        );
        if let Some(out) = sliders.decode(s.latents.code(i)).filter(|g| !g.is_empty()) {
            self.output.set(
                ctx,
                "selected-output",
                &render::single(shape, out.sample(0), 1),
            );
        }
        self.caption = run.describe_point(Some(i));
    }

    /// The selected point's input and output, or a hint when none is selected.
    pub fn ui(&self, ui: &mut egui::Ui) {
        if self.index.is_none() {
            ui.weak("Click a point in the scatter to inspect it.");
            return;
        }
        ui.label(format!("Selected {}", self.caption));
        ui.horizontal(|ui| {
            for (tex, label) in [(&self.input, "input"), (&self.output, "output")] {
                if tex.get().is_some() {
                    ui.vertical(|ui| {
                        // Images fill the square; a curve's wider tile gets twice the width.
                        tex.show(ui, Vec2::new(144.0, 72.0));
                        ui.label(label);
                    });
                }
            }
        });
    }
}
