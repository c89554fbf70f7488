//! The image triptych: fixed test examples as columns, rows input / noisy input /
//! reconstruction, enlarged with nearest-neighbour filtering and labelled with their class.

use egui::{Align2, FontId, Rect, Vec2};

use super::pixels::{Texture, strip};
use crate::protocol::Snapshot;

const GAP: usize = 2;
const ROWS: [&str; 3] = ["input", "noisy", "output"];

#[derive(Debug, Default)]
pub struct Triptych {
    rows: [Texture; 3],
    labels: Vec<String>,
    columns: usize,
    /// Step of the snapshot shown.
    pub step: Option<u64>,
}

impl Triptych {
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    pub fn update(&mut self, ctx: &egui::Context, s: &Snapshot, class_names: &[String]) {
        for (tex, (name, grid)) in self.rows.iter_mut().zip([
            ("triptych-input", &s.inputs),
            ("triptych-noisy", &s.noisy),
            ("triptych-output", &s.reconstructions),
        ]) {
            if let Some(img) = strip(grid, GAP) {
                tex.set(ctx, name, img);
            }
        }
        self.columns = s.inputs.len();
        self.labels = match &s.example_labels {
            Some(labels) => labels
                .iter()
                .map(|&l| {
                    class_names
                        .get(l as usize)
                        .cloned()
                        .unwrap_or_else(|| l.to_string())
                })
                .collect(),
            None => vec![String::new(); self.columns],
        };
        self.step = Some(s.step);
    }

    /// True once a snapshot has filled every row.
    pub fn is_filled(&self) -> bool {
        self.rows.iter().all(|r| r.get().is_some())
    }

    pub fn ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.heading("Inputs and reconstructions");
            if let Some(step) = self.step {
                ui.weak(format!("step {step}"));
            }
        });
        if !self.is_filled() || self.columns == 0 {
            ui.centered_and_justified(|ui| {
                ui.label("Press Train: test images and their reconstructions appear here.");
            });
            return;
        }
        let label_w = 64.0;
        let avail = ui.available_size();
        let [tw, th] = self.rows[0].get().map(|t| t.size()).unwrap_or([1, 1]);
        let text_h = 20.0;
        // Fit three rows plus class labels, keeping square pixels.
        let scale_w = (avail.x - label_w) / tw as f32;
        let scale_h = (avail.y - text_h - 12.0) / (3.0 * th as f32 + 6.0);
        let scale = scale_w.min(scale_h).max(0.5);
        let size = Vec2::new(tw as f32 * scale, th as f32 * scale);
        let font = FontId::proportional(15.0);
        for (name, tex) in ROWS.iter().zip(&self.rows) {
            ui.horizontal(|ui| {
                ui.add_sized([label_w - 8.0, size.y], egui::Label::new(*name));
                if let Some(t) = tex.get() {
                    ui.image((t.id(), size));
                }
            });
        }
        // Class names under the columns.
        let (rect, _) =
            ui.allocate_exact_size(Vec2::new(label_w + size.x, text_h), egui::Sense::hover());
        let col_w = size.x / self.columns as f32;
        for (i, label) in self.labels.iter().enumerate() {
            let x = rect.left() + label_w + (i as f32 + 0.5) * col_w;
            let cell =
                Rect::from_center_size(egui::pos2(x, rect.center().y), Vec2::new(col_w, text_h));
            ui.painter().with_clip_rect(cell).text(
                cell.center(),
                Align2::CENTER_CENTER,
                label,
                font.clone(),
                ui.visuals().text_color(),
            );
        }
    }
}
