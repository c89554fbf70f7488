//! **Draw your own**: a canvas a student draws on with the mouse. The model that is training
//! encodes the drawing at once: its code is a marked point in the scatter (with its σ ellipses
//! for a VAE) and its reconstruction appears beside the canvas, redone with each new snapshot.

use std::sync::Arc;

use egui::{Color32, Pos2, Rect, Sense, Vec2};

use super::pixels::Texture;
use crate::protocol::{Encoding, LatentDecoder, SampleGrid};
use crate::render;

/// The canvas's side on screen, in points.
const CANVAS: f32 = 224.0;
/// The brush: its radius in sample pixels, and how soft its edge is.
const BRUSH: f32 = 1.3;

#[derive(Default)]
pub struct Draw {
    pub open: bool,
    /// `[channels, height, width]` of the samples drawn; the drawing is one plane.
    grid: Option<[usize; 3]>,
    plane: Vec<f32>,
    /// The pointer's last position on the canvas while a stroke goes on, in sample pixels.
    last: Option<Pos2>,
    /// The snapshot step whose model encoded the drawing; a new one encodes it again.
    encoded_at: Option<u64>,
    changed: bool,
    output: Texture,
    /// The drawing's code, for the scatter.
    pub encoding: Option<Encoding>,
}

impl Draw {
    /// The drawing as a sample (the plane in every channel), if there is a canvas.
    pub fn sample(&self) -> Option<Vec<f32>> {
        let [c, _, _] = self.grid?;
        Some(self.plane.repeat(c))
    }

    /// Paints a stroke from `from` to `to` (sample pixels) with the soft brush.
    pub fn stroke(&mut self, from: Pos2, to: Pos2) {
        let Some([_, h, w]) = self.grid else {
            return;
        };
        let steps = (from.distance(to) / 0.25).ceil().max(1.0) as usize;
        for k in 0..=steps {
            let p = from.lerp(to, k as f32 / steps as f32);
            let (x0, x1) = (
                (p.x - 2.0).floor().max(0.0) as usize,
                (p.x + 2.0).ceil() as usize,
            );
            let (y0, y1) = (
                (p.y - 2.0).floor().max(0.0) as usize,
                (p.y + 2.0).ceil() as usize,
            );
            for y in y0..y1.min(h) {
                for x in x0..x1.min(w) {
                    let d = Pos2::new(x as f32 + 0.5, y as f32 + 0.5).distance(p);
                    let ink = (1.0 - (d - BRUSH * 0.5).max(0.0) / BRUSH).clamp(0.0, 1.0);
                    let v = &mut self.plane[y * w + x];
                    *v = v.max(ink);
                }
            }
        }
        self.changed = true;
    }

    pub fn clear(&mut self) {
        self.plane.iter_mut().for_each(|v| *v = 0.0);
        self.encoding = None;
        self.changed = true;
    }

    /// Encodes and decodes the drawing with `decoder` when the drawing or the model changed.
    pub fn refresh(&mut self, ctx: &egui::Context, decoder: &Arc<dyn LatentDecoder>, step: u64) {
        let grid = render::drawing_grid(decoder.sample_shape());
        if grid != self.grid {
            self.grid = grid;
            self.plane = grid.map_or(Vec::new(), |[_, h, w]| vec![0.0; h * w]);
            self.encoding = None;
            self.changed = false;
        }
        if !(self.changed || self.encoded_at != Some(step) && self.encoding.is_some()) {
            return;
        }
        self.changed = false;
        self.encoded_at = Some(step);
        let Some(sample) = self.sample() else {
            return;
        };
        if self.plane.iter().all(|&v| v == 0.0) {
            self.encoding = None;
            return;
        }
        self.encoding = decoder.encode(&sample);
        if let Some(e) = &self.encoding {
            let out: SampleGrid = decoder.decode(&e.code);
            if let Some(shape) = out.shape {
                let canvas = render::single(shape, &out.values, 8);
                self.output.set(ctx, "drawn-output", &canvas);
            }
        }
    }

    /// The window: the canvas, Clear, and the reconstruction beside it.
    pub fn window(
        &mut self,
        ctx: &egui::Context,
        decoder: Option<&Arc<dyn LatentDecoder>>,
        step: u64,
    ) {
        if !self.open {
            return;
        }
        if let Some(d) = decoder {
            self.refresh(ctx, d, step);
        }
        let mut open = self.open;
        // Over the reconstructions, clear of the controls and the scatter.
        let right = ctx.content_rect().right();
        egui::Window::new("Draw your own")
            .open(&mut open)
            .resizable(false)
            .min_width(2.0 * CANVAS + 24.0)
            .default_pos([right - 560.0, 60.0])
            .show(ctx, |ui| {
                let Some([_, h, w]) = self.grid else {
                    ui.label(if decoder.is_some() {
                        "Drawing works on images; these samples are not."
                    } else {
                        "Train a model first: it encodes what you draw."
                    });
                    return;
                };
                ui.label("Draw with the mouse: the yellow point in the scatter is your drawing.");
                ui.horizontal(|ui| {
                    let scale = CANVAS / w.max(h) as f32;
                    let size = Vec2::new(w as f32, h as f32) * scale;
                    let (response, painter) = ui.allocate_painter(size, Sense::drag());
                    let rect = response.rect;
                    painter.rect_filled(rect, 0.0, Color32::BLACK);
                    for y in 0..h {
                        for x in 0..w {
                            let v = self.plane[y * w + x];
                            if v > 0.0 {
                                let min = rect.min + Vec2::new(x as f32, y as f32) * scale;
                                let grey = (v * 255.0) as u8;
                                painter.rect_filled(
                                    Rect::from_min_size(min, Vec2::splat(scale)),
                                    0.0,
                                    Color32::from_gray(grey),
                                );
                            }
                        }
                    }
                    painter.rect_stroke(
                        rect,
                        0.0,
                        egui::Stroke::new(1.0, Color32::GRAY),
                        egui::StrokeKind::Outside,
                    );
                    match response.interact_pointer_pos() {
                        Some(p) if response.dragged() || response.drag_started() => {
                            let at = ((p - rect.min) / scale).to_pos2();
                            let from = self.last.unwrap_or(at);
                            self.stroke(from, at);
                            self.last = Some(at);
                        }
                        _ => self.last = None,
                    }
                    ui.vertical(|ui| {
                        ui.label("its reconstruction");
                        if self.encoding.is_some() {
                            self.output.show(ui, size);
                        }
                    });
                });
                if ui.button("Clear").clicked() {
                    self.clear();
                }
            });
        self.open = open;
    }
}
