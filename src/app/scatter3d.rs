//! The 3-D latent scatter: codes projected on three axes (raw for a 3-D latent, else the first
//! three principal components, a 3-D t-SNE map computed in the background, or three chosen
//! dimensions), drawn with a perspective camera. Drag to orbit, scroll to zoom,
//! double-click to reset, optional slow auto-rotation; nearer points are larger and brighter.
//! The principal axes come with the snapshot (`LatentCloud::stats`); this view only projects on
//! them and centres and scales the result for display.

use egui::{Color32, Pos2, Rect, Sense, Shape, Stroke, Vec2};

use super::latent_view::{Projection, TsneKey, TsneState, class_colour};
use super::points_gpu::{self, Camera, PointBuffer};
use std::sync::Arc;

use crate::latent::grid::PointGrid;
use crate::protocol::Snapshot;

/// The eye's distance from the centre of the cloud, in its units.
const EYE: f32 = 3.5;
/// How near the pointer (points) a point must be drawn to be hovered or clicked.
const PICK_POINTS: f32 = 10.0;

pub struct Scatter3d {
    /// Display coordinates, normalised to about [-1, 1] on each axis; cloud order.
    points: Vec<[f32; 3]>,
    classes: Vec<usize>,
    pub yaw: f32,
    pub pitch: f32,
    pub zoom: f32,
    pub auto_rotate: bool,
    title: String,
    /// How more than three dimensions become three: principal axes, t-SNE, or three chosen.
    pub projection: Projection,
    tsne: TsneState<3>,
    pub raw_dims: [usize; 3],
    /// Classes hidden with the legend.
    pub hidden: std::collections::HashSet<usize>,
    cloud: Option<Arc<Snapshot>>,
    /// The rectangle the points were drawn in last frame, for hover, clicks and tests.
    rect: Rect,
    /// The points binned in space, so a pick looks only near the pointer's ray.
    grid: PointGrid<3>,
    /// Draw through the window's GPU (see [`points_gpu`]) instead of as egui shapes.
    pub gpu: bool,
    buffer: PointBuffer,
}

impl Default for Scatter3d {
    fn default() -> Self {
        Self {
            points: Vec::new(),
            classes: Vec::new(),
            yaw: 0.6,
            pitch: 0.35,
            zoom: 1.0,
            auto_rotate: false,
            title: String::new(),
            projection: Projection::Pca,
            tsne: TsneState::default(),
            raw_dims: [0, 1, 2],
            hidden: Default::default(),
            cloud: None,
            rect: Rect::NOTHING,
            grid: PointGrid::default(),
            gpu: false,
            buffer: PointBuffer::default(),
        }
    }
}

impl Scatter3d {
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Takes a new snapshot's cloud and projects it.
    pub fn update(&mut self, snapshot: &Arc<Snapshot>) {
        self.cloud = Some(snapshot.clone());
        self.rebuild();
    }

    /// Projects the cloud: on the snapshot's three principal axes for more than three
    /// dimensions, or on the chosen raw dimensions.
    fn rebuild(&mut self) {
        let Some(snapshot) = self.cloud.clone() else {
            return;
        };
        let cloud = &snapshot.latents;
        let n = cloud.len();
        let raw_dims = self.raw_dims.map(|d| d.min(cloud.dim.saturating_sub(1)));
        let choice = if cloud.dim > 3 {
            self.projection
        } else {
            Projection::Pca
        };
        // Until its map is ready, a t-SNE view shows the principal axes.
        let map = (choice == Projection::Tsne)
            .then(|| self.tsne.map_for(n, None))
            .flatten();
        let pca = cloud
            .stats
            .pca
            .as_ref()
            .filter(|p| cloud.dim > 3 && choice != Projection::Raw && p.components.len() >= 3);
        let raw: Vec<[f32; 3]> = match map {
            Some((_, y)) => y.clone(),
            None => (0..n)
                .map(|i| {
                    let c = cloud.code(i);
                    match pca {
                        // The snapshot's points come projected on its axes.
                        Some(_) if cloud.stats.projected.len() == n => cloud.stats.projected[i],
                        Some(p) => {
                            let v = p.project(c);
                            [v[0], v[1], v[2]]
                        }
                        None if choice == Projection::Raw => raw_dims.map(|d| c[d]),
                        None => [c[0], *c.get(1).unwrap_or(&0.0), *c.get(2).unwrap_or(&0.0)],
                    }
                })
                .collect(),
        };
        // Centre and scale so the bulk of the cloud (1.6 RMS radii) fills the view whatever its
        // units; outliers may leave it.
        let mut mean = [0.0f32; 3];
        for p in &raw {
            for k in 0..3 {
                mean[k] += p[k] / n.max(1) as f32;
            }
        }
        let mean_sq = raw
            .iter()
            .map(|p| (0..3).map(|k| (p[k] - mean[k]).powi(2)).sum::<f32>())
            .sum::<f32>()
            / n.max(1) as f32;
        let spread = 1.6 * mean_sq.sqrt().max(1e-6);
        self.points = raw
            .iter()
            .map(|p| {
                [
                    (p[0] - mean[0]) / spread,
                    (p[1] - mean[1]) / spread,
                    (p[2] - mean[2]) / spread,
                ]
            })
            .collect();
        self.classes = (0..n)
            .map(|i| cloud.labels.as_ref().map_or(0, |l| l[i] as usize))
            .collect();
        self.grid = PointGrid::new(&self.points, 64);
        if self.gpu {
            self.buffer.set(
                self.points
                    .iter()
                    .zip(&self.classes)
                    .map(|(p, &c)| (*p, class_colour(c), c)),
            );
        }
        self.title = match (cloud.dim, pca) {
            (d, _) if map.is_some() => format!(
                "3-D: t-SNE of {d}-D (perplexity 30, from step {})",
                map.map_or(0, |m| m.0.step)
            ),
            (d, None) if choice == Projection::Raw => format!(
                "3-D: z{}, z{}, z{} of {d}",
                raw_dims[0], raw_dims[1], raw_dims[2]
            ),
            (_, Some(p)) => format!(
                "3-D: PCA of {}-D ({:.0}% + {:.0}% + {:.0}% of variance{})",
                cloud.dim,
                p.explained[0] * 100.0,
                p.explained[1] * 100.0,
                p.explained[2] * 100.0,
                p.sample_note(n)
            ),
            (d, None) => format!("3-D: raw {d}-D latent"),
        };
    }

    /// Draws the view; returns the point a click picked.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        selected: Option<usize>,
        class_names: &[String],
    ) -> Option<usize> {
        let title = if self.title.is_empty() {
            "3-D"
        } else {
            &self.title
        };
        ui.add(egui::Label::new(egui::RichText::new(title).heading()).truncate());
        let dim = self.cloud.as_ref().map_or(0, |s| s.latents.dim);
        if let Some(snapshot) = self.cloud.clone() {
            let key = TsneKey {
                step: snapshot.step,
                part: None,
            };
            let wanted = self.projection == Projection::Tsne && dim > 3;
            let cloud = &snapshot.latents;
            match self
                .tsne
                .drive(ui.ctx(), wanted, key, || (cloud.codes.clone(), cloud.dim))
            {
                Ok(true) => self.rebuild(),
                Ok(false) => {}
                Err(_) => self.projection = Projection::Pca,
            }
        }
        let before = (self.projection, self.raw_dims);
        ui.horizontal(|ui| {
            ui.checkbox(&mut self.auto_rotate, "Rotate")
                .on_hover_text("Turn the cloud slowly, so its depth shows without dragging");
            if dim > 3 {
                ui.separator();
                ui.selectable_value(&mut self.projection, Projection::Pca, "PCA")
                    .on_hover_text("The three directions along which the codes spread most");
                ui.selectable_value(&mut self.projection, Projection::Tsne, "t-SNE")
                    .on_hover_text(
                        "A 3-D map that keeps neighbours together: clusters show clearly, but \
                         distances between them mean little. Computed in the background",
                    );
                ui.selectable_value(&mut self.projection, Projection::Raw, "Raw")
                    .on_hover_text("Three code numbers of your choice as the axes");
                if self.projection == Projection::Raw {
                    for d in self.raw_dims.iter_mut() {
                        ui.add(egui::DragValue::new(d).range(0..=dim - 1).prefix("z"))
                            .on_hover_text("Which code number this axis shows");
                    }
                }
                self.tsne.controls(ui, self.projection == Projection::Tsne);
            }
        });
        if (self.projection, self.raw_dims) != before {
            self.tsne.held = false;
            self.rebuild();
        }
        // The legend: click a class to hide or show it.
        ui.horizontal_wrapped(|ui| {
            for (c, name) in class_names.iter().enumerate() {
                let shown = !self.hidden.contains(&c);
                let colour = if shown {
                    class_colour(c)
                } else {
                    Color32::DARK_GRAY
                };
                let mut text = egui::RichText::new(name).color(colour).strong();
                if !shown {
                    text = text.strikethrough();
                }
                let label = egui::Label::new(text).sense(Sense::click());
                if ui
                    .add(label)
                    .on_hover_text("Hide or show this class")
                    .clicked()
                    && !self.hidden.remove(&c)
                {
                    self.hidden.insert(c);
                }
            }
        });
        let size = ui.available_size();
        let (rect, response) = ui.allocate_exact_size(size, Sense::click_and_drag());
        if response.dragged() {
            let d = response.drag_delta();
            self.yaw += d.x * 0.01;
            self.pitch = (self.pitch + d.y * 0.01).clamp(-1.5, 1.5);
        }
        if response.hovered() {
            let scroll = ui.input(|i| i.smooth_scroll_delta.y);
            self.zoom = (self.zoom * (1.0 + scroll * 0.002)).clamp(0.2, 8.0);
        }
        if response.double_clicked() {
            let view = Self::default();
            (self.yaw, self.pitch, self.zoom) = (view.yaw, view.pitch, view.zoom);
        }
        if self.auto_rotate {
            self.yaw += ui.input(|i| i.stable_dt).min(0.1) * 0.3;
            ui.ctx().request_repaint();
        }
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 4.0, ui.visuals().extreme_bg_color);
        self.rect = rect;
        if self.points.is_empty() {
            painter.text(
                rect.center(),
                egui::Align2::CENTER_CENTER,
                "Latent codes appear here while training.",
                egui::FontId::proportional(15.0),
                ui.visuals().text_color(),
            );
            return None;
        }
        if self.gpu {
            let hidden: Vec<usize> = self.hidden.iter().copied().collect();
            let camera = Camera::Orbit {
                yaw: self.yaw,
                pitch: self.pitch,
                scale: self.scale(),
                distance: EYE,
            };
            points_gpu::paint(&painter, rect, &self.buffer, camera, &hidden);
        } else {
            painter.extend(self.shapes());
        }
        if let Some(pos) = selected.and_then(|s| self.screen_pos(s)) {
            painter.circle_stroke(pos, 8.0, Stroke::new(2.0, Color32::WHITE));
        }
        if let Some(i) = response.hover_pos().and_then(|at| self.pick(at)) {
            let name = class_names
                .get(self.classes[i])
                .cloned()
                .unwrap_or_else(|| format!("point {i}"));
            if let Some(at) = self.screen_pos(i) {
                painter.text(
                    at + Vec2::new(10.0, -10.0),
                    egui::Align2::LEFT_BOTTOM,
                    name,
                    egui::FontId::proportional(15.0),
                    ui.visuals().strong_text_color(),
                );
            }
        }
        if response.clicked() {
            return response.interact_pointer_pos().and_then(|at| self.pick(at));
        }
        None
    }

    /// Points per unit at the current zoom, for the last frame's rectangle.
    fn scale(&self) -> f32 {
        self.rect.width().min(self.rect.height()) * 0.38 * self.zoom
    }

    /// Where `p` lands on screen, its depth (towards the eye) and its perspective factor.
    fn project(&self, p: [f32; 3]) -> (Pos2, f32, f32) {
        let ([x, y], z, persp) = points_gpu::orbit(p, self.yaw, self.pitch, EYE);
        (
            self.rect.center() + Vec2::new(x, -y) * self.scale() * persp,
            z,
            persp,
        )
    }

    /// The points as egui shapes, far to near so near points cover far ones (the GPU path
    /// uses a depth buffer instead).
    fn shapes(&self) -> Vec<Shape> {
        let mut drawn: Vec<(f32, usize, Pos2, f32)> = (0..self.points.len())
            .filter(|&i| !self.hidden.contains(&self.classes[i]))
            .map(|i| {
                let (pos, z, persp) = self.project(self.points[i]);
                (z, i, pos, persp)
            })
            .collect();
        drawn.sort_by(|a, b| a.0.total_cmp(&b.0));
        drawn
            .iter()
            .map(|&(z, i, pos, persp)| {
                let depth = ((z + 1.0) * 0.5).clamp(0.0, 1.0);
                let c = class_colour(self.classes[i]);
                let shade = 0.45 + 0.55 * depth;
                let colour = Color32::from_rgb(
                    (c.r() as f32 * shade) as u8,
                    (c.g() as f32 * shade) as u8,
                    (c.b() as f32 * shade) as u8,
                );
                Shape::circle_filled(pos, 1.6 + 1.8 * persp * depth, colour)
            })
            .collect()
    }

    /// The shown point drawn nearest `at` (within [`PICK_POINTS`]), found by walking the grid
    /// cells along the ray from the eye through `at`.
    fn pick(&self, at: Pos2) -> Option<usize> {
        let scale = self.scale();
        if scale <= 0.0 || self.points.is_empty() {
            return None;
        }
        let o = at - self.rect.center();
        // The cloud's reach from its centre (its largest coordinate) bounds the depths worth
        // walking.
        let extent = self.grid.bounds().map_or(0.0, |(lo, hi)| {
            lo.iter().chain(&hi).fold(0.0f32, |m, v| m.max(v.abs()))
        });
        let far = extent * 1.8;
        let (near_z, far_z) = (far.min(EYE - 0.05), -far);
        let depth = |t: f32| near_z + (far_z - near_z) * t;
        let along = |t: f32| {
            let z = depth(t);
            // Undo the perspective, then the camera's turn.
            let k = (EYE - z) / (scale * EYE);
            points_gpu::unorbit([o.x * k, -o.y * k], z, self.yaw, self.pitch)
        };
        let reach = |t: f32| PICK_POINTS * (EYE - depth(t)) / (scale * EYE);
        let screen = |i: usize| {
            (!self.hidden.contains(&self.classes[i])).then(|| {
                let p = self.project(self.points[i]).0;
                [p.x, p.y]
            })
        };
        self.grid
            .pick_on_ray(along, reach, screen, [at.x, at.y], PICK_POINTS)
    }

    /// The view's title: what the axes are.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// True while the 3-D t-SNE map is computed.
    pub fn tsne_running(&self) -> bool {
        self.tsne.running()
    }

    /// Every point's place in the view (centred and scaled), cloud order.
    pub fn points(&self) -> &[[f32; 3]] {
        &self.points
    }

    /// How many points are drawn (hidden classes are not).
    pub fn drawn(&self) -> usize {
        self.classes
            .iter()
            .filter(|c| !self.hidden.contains(c))
            .count()
    }

    /// Where point `i` is drawn with the last frame's rectangle and the current camera;
    /// `None` for a hidden point.
    pub fn screen_pos(&self, i: usize) -> Option<Pos2> {
        let p = *self.points.get(i)?;
        (!self.hidden.contains(&self.classes[i])).then(|| self.project(p).0)
    }
}
