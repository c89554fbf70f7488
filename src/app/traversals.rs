//! The traversal view: one row per latent dimension, that dimension swept ±3σ from the
//! selected point (the mean when none is selected) and the others held, each row labelled
//! with the factor the dimension holds most of when the data's factors are known (with the
//! MIG in the caption), or with its part of the code (content or style) for two-code kinds.

use egui::{Align2, FontId, Vec2};

use super::pixels::Texture;
use crate::data::Factors;
use crate::latent::disentangle;
use crate::protocol::{SampleGrid, Snapshot};
use crate::render;

/// Decodes per row.
pub const STEPS: usize = 9;
/// How far each dimension is swept, in standard deviations of its codes.
const SPAN: f32 = 3.0;

#[derive(Default)]
pub struct Traversals {
    /// `dim × STEPS` decodes, row-major.
    pub grid: Option<SampleGrid>,
    /// One label per row.
    pub row_labels: Vec<String>,
    pub caption: String,
    texture: Texture,
}

impl Traversals {
    pub fn update(
        &mut self,
        ctx: &egui::Context,
        s: &Snapshot,
        factors: Option<&Factors>,
        selected: Option<usize>,
    ) {
        let cloud = &s.latents;
        if cloud.is_empty() || cloud.stats.std.len() != cloud.dim {
            return;
        }
        let base = match selected.filter(|&i| i < cloud.len()) {
            Some(i) => cloud.code(i).to_vec(),
            None => cloud.stats.mean.clone(),
        };
        let grid =
            disentangle::traversals(s.decoder.as_ref(), &base, &cloud.stats.std, SPAN, STEPS);
        if let Some(img) = render::grid(&grid, STEPS, 1, 1) {
            self.texture.set(ctx, "traversals", &img);
        }
        let score = factors.and_then(|f| {
            disentangle::score(&cloud.codes, cloud.dim, &f.subset(&cloud.test_indices))
        });
        let content = s.parts.as_ref().map_or(0, |p| p.content_dim);
        self.row_labels = (0..cloud.dim)
            .map(|d| match &score {
                Some(score) => match &score.captures[d] {
                    Some((factor, share)) => format!("z{d}: {factor} {:.0} %", share * 100.0),
                    None => format!("z{d}: none"),
                },
                None if d < content => format!("content {d}"),
                None if content > 0 => format!("style {}", d - content),
                None => format!("z{d}"),
            })
            .collect();
        let from = if selected.is_some() {
            "the selected point"
        } else {
            "the mean code"
        };
        self.caption = match &score {
            Some(score) => format!(
                "Each dimension swept ±3σ from {from}; MIG {:.3} over {} test codes",
                score.mig, score.points
            ),
            None => format!("Each dimension swept ±3σ from {from}"),
        };
        self.grid = Some(grid);
    }

    pub fn ui(&mut self, ui: &mut egui::Ui) {
        ui.weak(&self.caption);
        let label_w = 130.0;
        let bounds = Vec2::new(
            (ui.available_width() - label_w).max(32.0),
            ui.available_height().max(32.0),
        );
        let Some(size) = self.texture.fit(bounds) else {
            ui.label("The traversals appear with the first snapshot of a run.");
            return;
        };
        let (rect, _) =
            ui.allocate_exact_size(Vec2::new(size.x + label_w, size.y), egui::Sense::hover());
        let image = egui::Rect::from_min_size(rect.min + Vec2::new(label_w, 0.0), size);
        if let Some(t) = self.texture.get() {
            ui.painter().image(
                t.id(),
                image,
                egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
                egui::Color32::WHITE,
            );
        }
        let rows = self.row_labels.len().max(1);
        let row_h = size.y / rows as f32;
        let font = FontId::proportional((row_h * 0.6).clamp(8.0, 14.0));
        for (r, label) in self.row_labels.iter().enumerate() {
            ui.painter().text(
                egui::pos2(image.min.x - 6.0, image.min.y + (r as f32 + 0.5) * row_h),
                Align2::RIGHT_CENTER,
                label,
                font.clone(),
                ui.visuals().text_color(),
            );
        }
    }
}
