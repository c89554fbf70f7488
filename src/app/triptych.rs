//! The triptych: fixed test examples as columns, labelled with their class, compared with what
//! the model makes of them. The layout comes from `render::comparison`: images as rows input /
//! noisy input / reconstruction, enlarged with nearest-neighbour filtering; series as one row of
//! overlaid curves with a colour legend.

use egui::{Align2, Color32, FontId, Rect, RichText, Vec2};

use super::pixels::Texture;
use crate::protocol::Snapshot;
use crate::render;

const GAP: usize = 2;
/// Overlaid tiles (series) per line: two lines of four are readable on a projector, where one
/// line of eight plots was too flat to see.
const OVERLAY_WRAP: usize = 4;

#[derive(Debug, Default)]
pub struct Triptych {
    /// Named rows, as `render::comparison` lays them out.
    rows: Vec<(&'static str, Texture)>,
    /// The noisy input is drawn (it differs from the input).
    noisy: bool,
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
        let wrap = match s.inputs.shape {
            Some(shape) if render::overlays(shape) => OVERLAY_WRAP,
            _ => usize::MAX,
        };
        let rows = render::comparison(&s.inputs, Some(&s.noisy), &s.reconstructions, wrap, GAP, 1);
        let names: Vec<&str> = rows.iter().map(|r| r.0).collect();
        if names != self.rows.iter().map(|r| r.0).collect::<Vec<_>>() {
            self.rows = names.iter().map(|&n| (n, Texture::default())).collect();
        }
        for ((name, tex), (_, canvas)) in self.rows.iter_mut().zip(&rows) {
            tex.set(ctx, &format!("triptych-{name}"), canvas);
        }
        self.noisy = s.noisy != s.inputs;
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

    pub fn row_names(&self) -> Vec<&'static str> {
        self.rows.iter().map(|r| r.0).collect()
    }

    /// True once a snapshot has filled every row.
    pub fn is_filled(&self) -> bool {
        !self.rows.is_empty() && self.rows.iter().all(|r| r.1.get().is_some())
    }

    pub fn ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.heading("Inputs and reconstructions").on_hover_text(
                "The same test images throughout the run: as they are, as the model is shown \
                 them (with noise), and as it redraws them from their codes. The closer the last \
                 row to the first, the better the model",
            );
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
        if self.rows.len() == 1 {
            self.overlaid_ui(ui);
            return;
        }
        let label_w = 64.0;
        let avail = ui.available_size();
        let [tw, th] = self.rows[0].1.get().map(|t| t.size()).unwrap_or([1, 1]);
        let text_h = 20.0;
        // Fit the rows plus class labels, keeping square pixels.
        let n = self.rows.len() as f32;
        let scale_w = (avail.x - label_w) / tw as f32;
        let scale_h = (avail.y - text_h - 12.0) / (n * th as f32 + 2.0 * n);
        let scale = scale_w.min(scale_h).max(0.5);
        let size = Vec2::new(tw as f32 * scale, th as f32 * scale);
        let font = FontId::proportional(15.0);
        for (name, tex) in &self.rows {
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

    /// One picture of overlaid tiles (series), `OVERLAY_WRAP` to a line, each with its class
    /// name in its corner, under a legend of the curve colours.
    fn overlaid_ui(&self, ui: &mut egui::Ui) {
        let Some(t) = self.rows[0].1.get() else {
            return;
        };
        self.legend_ui(ui);
        let [tw, th] = t.size();
        let avail = ui.available_size();
        let scale = (avail.x / tw as f32)
            .min((avail.y - 4.0) / th as f32)
            .max(0.1);
        let rect = ui
            .image((t.id(), Vec2::new(tw as f32, th as f32) * scale))
            .rect;
        let cols = self.columns.clamp(1, OVERLAY_WRAP);
        let lines = self.columns.div_ceil(cols);
        let tile = Vec2::new(
            (tw - (cols - 1) * GAP) as f32 / cols as f32,
            (th - (lines - 1) * GAP) as f32 / lines as f32,
        );
        let font = FontId::proportional(15.0);
        for (i, label) in self.labels.iter().enumerate() {
            let cell =
                Vec2::new((i % cols) as f32, (i / cols) as f32) * (tile + Vec2::splat(GAP as f32));
            ui.painter().text(
                rect.min + cell * scale + Vec2::new(6.0, 4.0),
                Align2::LEFT_TOP,
                label,
                font.clone(),
                ui.visuals().weak_text_color(),
            );
        }
    }

    /// What each curve colour means.
    fn legend_ui(&self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            let mut entries = vec![("input", render::INPUT)];
            if self.noisy {
                entries.push(("noisy input", render::NOISY));
            }
            entries.push(("reconstruction", render::OUTPUT));
            for (name, [r, g, b]) in entries {
                let colour = Color32::from_rgb(r, g, b);
                let (swatch, _) =
                    ui.allocate_exact_size(Vec2::new(26.0, 14.0), egui::Sense::hover());
                ui.painter().line_segment(
                    [swatch.left_center(), swatch.right_center()],
                    egui::Stroke::new(3.0, colour),
                );
                ui.label(RichText::new(name).color(colour).strong());
                ui.add_space(12.0);
            }
        });
    }
}
