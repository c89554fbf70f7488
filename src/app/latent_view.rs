//! The latent scatter: test codes coloured by class, raw for a 2-D latent, PCA otherwise (on
//! the first two of the axes that come with the snapshot, `LatentCloud::stats`), or t-SNE.
//! The legend toggles classes; hover names the point; a click selects it. Where the data has
//! known factors (the shapes set), the points can be coloured by any factor instead.

use std::borrow::Cow;
use std::sync::Arc;

use egui::Color32;
use egui_plot::{
    Legend, Line, MarkerShape, Plot, PlotMemory, PlotPoint, PlotPoints, PlotTransform, Points,
};

use super::pixels::Texture;
use super::points_gpu::{self, Camera, PointBuffer};
use crate::data::Factors;
use crate::jobs::Job;
use crate::latent::grid::PointGrid;
use crate::latent::pca::Pca;
use crate::latent::tsne::{TsneParams, embed};
use crate::protocol::{SampleGrid, Snapshot};
use crate::render;

/// A point's radius in the plot (points).
const POINT_RADIUS: f32 = 2.5;
/// How near the pointer (points) a point must be drawn to be hovered or clicked.
const PICK_POINTS: f32 = 12.0;

/// How a latent of more than two dimensions is flattened for the 2-D scatter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Projection {
    #[default]
    Pca,
    Tsne,
    /// Two chosen latent dimensions.
    Raw,
}

/// Two latent dimensions to plot against each other; z0 and z1 at first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AxisPair(pub [usize; 2]);

impl Default for AxisPair {
    fn default() -> Self {
        Self([0, 1])
    }
}

/// Test images drawn as point markers, at most this many at once.
const MAX_THUMBNAILS: usize = 300;
/// How a code is placed in the view, as the test codes were (a t-SNE map cannot place new
/// points).
#[derive(Debug, Clone, Default)]
enum Place {
    #[default]
    Nowhere,
    /// These two dimensions of the code (from `offset`, the part's start) as x and y; one
    /// dimension draws at y = 0.
    Dims {
        offset: usize,
        x: usize,
        y: Option<usize>,
    },
    /// The part's code projected on two principal axes.
    Pca { offset: usize, dim: usize, pca: Pca },
}

impl Place {
    /// Where `code` (a whole code) lands, and its 1σ radii when `spread` is given and the axes
    /// are its own dimensions.
    fn locate(
        &self,
        code: &[f32],
        spread: Option<&[f32]>,
    ) -> Option<(PlotPoint, Option<[f64; 2]>)> {
        match self {
            Place::Nowhere => None,
            Place::Dims { offset, x, y } => {
                let at = |d: usize| code.get(offset + d).map(|&v| v as f64);
                let p = PlotPoint::new(at(*x)?, y.map_or(Some(0.0), at)?);
                let radii = spread.and_then(|s| {
                    let r = |d: usize| s.get(offset + d).map(|&v| v as f64);
                    Some([r(*x)?, y.map_or(Some(0.0), r)?])
                });
                Some((p, radii))
            }
            Place::Pca { offset, dim, pca } => {
                let part = code.get(*offset..offset + dim)?;
                let p = pca.project(part);
                Some((PlotPoint::new(*p.first()?, *p.get(1)?), None))
            }
        }
    }
}

/// Thumbnails come from an atlas of the first this many test images.
const ATLAS_IMAGES: usize = 4096;
const ATLAS_COLS: usize = 64;

/// What a t-SNE embedded: the snapshot's step and the code part drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct TsneKey {
    pub step: u64,
    pub part: Option<usize>,
}

/// A view's t-SNE in `D` dimensions (the scatter's 2, the orbiting view's 3): the background
/// job running and the last map.
pub(super) struct TsneState<const D: usize> {
    job: Option<(TsneKey, Job<Vec<[f32; D]>>)>,
    /// The map of the last finished run.
    pub result: Option<(TsneKey, Vec<[f32; D]>)>,
    /// The user cancelled: do not restart on new snapshots until asked.
    pub held: bool,
}

impl<const D: usize> Default for TsneState<D> {
    fn default() -> Self {
        Self {
            job: None,
            result: None,
            held: false,
        }
    }
}

impl<const D: usize> TsneState<D> {
    pub fn running(&self) -> bool {
        self.job.is_some()
    }

    /// Collects a finished map (returns true when one arrived), drops a job no longer
    /// `wanted`, and starts one for `key` on `codes()` (`[n, dim]`, `dim`) when a map is wanted
    /// and the last one is of another key. An error: the thread could not start.
    pub fn drive(
        &mut self,
        ctx: &egui::Context,
        wanted: bool,
        key: TsneKey,
        codes: impl FnOnce() -> (Vec<f32>, usize),
    ) -> std::io::Result<bool> {
        if let Some((done, job)) = &self.job {
            if let Some(y) = job.try_take() {
                self.result = Some((*done, y));
                self.job = None;
                return Ok(true);
            }
            if job.is_finished() || !wanted {
                self.job = None;
            }
            return Ok(false);
        }
        let stale = self.result.as_ref().is_none_or(|(k, _)| *k != key);
        if wanted && stale && !self.held {
            let (codes, dim) = codes();
            let ctx = ctx.clone();
            let job = Job::spawn(
                "latentlab-tsne",
                Box::new(move || ctx.request_repaint()),
                move |progress| embed::<D>(&codes, dim, TsneParams::default(), progress),
            )?;
            self.job = Some((key, job));
        }
        Ok(false)
    }

    /// The map of `n` points for code part `part`, if the last one is.
    pub fn map_for(&self, n: usize, part: Option<usize>) -> Option<&(TsneKey, Vec<[f32; D]>)> {
        self.result
            .as_ref()
            .filter(|(k, y)| y.len() == n && k.part == part)
    }

    /// While the map is computed, its progress and Cancel; after a cancel (with t-SNE still
    /// `chosen`), Run t-SNE.
    pub fn controls(&mut self, ui: &mut egui::Ui, chosen: bool) {
        if let Some((_, job)) = &self.job {
            ui.add(
                egui::ProgressBar::new(job.progress())
                    .desired_width(70.0)
                    .text("t-SNE"),
            )
            .on_hover_text(
                "The map is computed with the time training leaves free, so it never slows \
                 training much: pause the run and it finishes at full speed",
            );
            if ui
                .button("Cancel")
                .on_hover_text("Stop computing the map; Run t-SNE starts it again")
                .clicked()
            {
                job.cancel();
                self.held = true;
            }
        } else if chosen
            && self.held
            && ui
                .button("Run t-SNE")
                .on_hover_text("Compute the map of the current codes")
                .clicked()
        {
            self.held = false;
        }
    }
}

/// Distinct colours for the classes (Tableau 10), repeated with a shift beyond ten.
pub fn class_colour(class: usize) -> Color32 {
    const TAB10: [(u8, u8, u8); 10] = [
        (31, 119, 180),
        (255, 127, 14),
        (44, 160, 44),
        (214, 39, 40),
        (148, 103, 189),
        (140, 86, 75),
        (227, 119, 194),
        (127, 127, 127),
        (188, 189, 34),
        (23, 190, 207),
    ];
    let (r, g, b) = TAB10[class % 10];
    // Past ten classes the palette comes again, lighter or darker by turns; past fifty the
    // colours repeat (no palette keeps that many apart).
    let (toward, t) = match (class / 10) % 5 {
        0 => (0.0, 0.0),
        1 => (255.0, 0.45),
        2 => (0.0, 0.4),
        3 => (255.0, 0.7),
        _ => (0.0, 0.65),
    };
    let mix = |c: u8| (c as f32 + (toward - c as f32) * t).round() as u8;
    Color32::from_rgb(mix(r), mix(g), mix(b))
}

/// A colour along a perceptual ramp (viridis' stops) for level `level` of `levels`, so that an
/// ordered factor (scale, position) reads as dark to light.
pub fn ramp_colour(level: usize, levels: usize) -> Color32 {
    const STOPS: [(f32, f32, f32); 5] = [
        (68.0, 1.0, 84.0),
        (59.0, 82.0, 139.0),
        (33.0, 145.0, 140.0),
        (94.0, 201.0, 98.0),
        (253.0, 231.0, 37.0),
    ];
    let t = level as f32 / (levels.max(2) - 1) as f32 * (STOPS.len() - 1) as f32;
    let i = (t.floor() as usize).min(STOPS.len() - 2);
    let f = (t - i as f32).clamp(0.0, 1.0);
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let mix = |x: f32, y: f32| (x + (y - x) * f).round() as u8;
    Color32::from_rgb(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

struct ClassSeries {
    name: String,
    colour: Color32,
    points: Vec<PlotPoint>,
    /// Index in the cloud of each point.
    members: Vec<usize>,
}

#[derive(Default)]
pub struct LatentView {
    pub projection: Projection,
    /// The dimensions shown by `Projection::Raw`.
    pub raw_dims: AxisPair,
    /// Draw a subset of the points as their images.
    pub thumbnails: bool,
    /// A code from outside the test set (a student's drawing), shown as a marked point, with
    /// its σ ellipse when the view shows its own two dimensions.
    pub drawn: Option<crate::protocol::Encoding>,
    /// How the view places a code, from the last rebuild.
    place: Place,
    images: Option<Arc<SampleGrid>>,
    atlas: Texture,
    tsne: TsneState<2>,
    snapshot: Option<Arc<Snapshot>>,
    class_names: Vec<String>,
    factors: Option<Arc<Factors>>,
    /// Colour by this factor instead of the class.
    pub colour_by: Option<usize>,
    /// For a two-code kind, draw only this part of the code (0: the part standing for the
    /// class, such as the speaker; 1: the rest); the whole code when `None`.
    pub part: Option<usize>,
    /// 2-D display coordinates of every point, cloud order.
    coords: Vec<PlotPoint>,
    series: Vec<ClassSeries>,
    title: String,
    pub selected: Option<usize>,
    transform: Option<PlotTransform>,
    /// `coords` in `f32`, binned, so hover and clicks look only near the pointer.
    grid: PointGrid<2>,
    points: Vec<[f32; 2]>,
    /// Each point's series (its legend entry), cloud order.
    member_of: Vec<usize>,
    /// The points' bounding box, which the plot always includes.
    bounds: Option<([f64; 2], [f64; 2])>,
    /// Draw through the window's GPU (see [`points_gpu`]) instead of as plot items.
    pub gpu: bool,
    buffer: PointBuffer,
}

impl LatentView {
    pub fn clear(&mut self) {
        // The GPU buffer's key stays, so the window's copy is reused, not leaked.
        let (gpu, buffer) = (self.gpu, std::mem::take(&mut self.buffer));
        *self = Self {
            gpu,
            buffer,
            ..Self::default()
        };
    }

    pub fn len(&self) -> usize {
        self.coords.len()
    }

    /// Takes a new snapshot and recomputes the projection (PCA on the snapshot's axes; t-SNE
    /// shows its last result until a fresh one is ready).
    pub fn update(
        &mut self,
        snapshot: &Arc<Snapshot>,
        class_names: &[String],
        factors: Option<Arc<Factors>>,
    ) {
        self.snapshot = Some(snapshot.clone());
        self.class_names = class_names.to_vec();
        if factors
            .as_ref()
            .is_none_or(|f| self.colour_by.is_some_and(|c| c >= f.names.len()))
        {
            self.colour_by = None;
        }
        self.factors = factors;
        self.rebuild();
    }

    /// The series points fall into: the classes, or the levels of the chosen factor. Returns
    /// each series' name and colour, and each point's series.
    fn groups(&self, cloud: &crate::protocol::LatentCloud) -> (Vec<(String, Color32)>, Vec<usize>) {
        if let (Some(f), Some(factors)) = (self.colour_by, &self.factors) {
            let levels = factors.levels[f];
            let name = &factors.names[f];
            // Unordered factors (few levels, such as the shape) keep the class palette.
            let colour = |l: usize| {
                if levels <= 3 {
                    class_colour(l)
                } else {
                    ramp_colour(l, levels)
                }
            };
            // Zero-padded, so that the legend (sorted by name) lists the levels in order.
            let width = (levels - 1).max(1).to_string().len();
            let series = (0..levels)
                .map(|l| (format!("{name} {l:0width$}"), colour(l)))
                .collect();
            let members = cloud
                .test_indices
                .iter()
                .map(|&t| (factors.of(t)[f] as usize).min(levels - 1))
                .collect();
            return (series, members);
        }
        let classes = match &cloud.labels {
            Some(_) => self.class_names.len().max(1),
            None => 1,
        };
        let series = (0..classes)
            .map(|c| {
                let name = match &cloud.labels {
                    Some(_) => self
                        .class_names
                        .get(c)
                        .cloned()
                        .unwrap_or_else(|| c.to_string()),
                    None => "test points".to_string(),
                };
                (name, class_colour(c))
            })
            .collect();
        let members = (0..cloud.len())
            .map(|i| {
                cloud
                    .labels
                    .as_ref()
                    .map_or(0, |l| l[i] as usize)
                    .min(classes - 1)
            })
            .collect();
        (series, members)
    }

    pub fn title(&self) -> &str {
        &self.title
    }

    /// The test samples, for thumbnails (the atlas is built when first needed).
    pub fn set_images(&mut self, images: Arc<SampleGrid>) {
        self.images = Some(images);
        self.atlas = Texture::default();
    }

    /// True when the thumbnail atlas exists (thumbnails were drawn).
    pub fn has_thumbnails(&self) -> bool {
        self.atlas.get().is_some()
    }

    fn build_atlas(&mut self, ctx: &egui::Context) {
        let Some(images) = &self.images else {
            return;
        };
        let Some(shape) = images.shape else {
            return;
        };
        let count = images.len().min(ATLAS_IMAGES);
        if count == 0 {
            return;
        }
        let tiles: Vec<render::Canvas> = (0..count)
            .map(|i| render::thumbnail(shape, images.sample(i)))
            .collect();
        let Some(atlas) = render::compose(&tiles, ATLAS_COLS, 0) else {
            return;
        };
        // Colour pictures stay as they are; grey ones, curves and spectrograms become glyphs
        // drawn in their class's colour, transparent where they are dark.
        if render::has_colour(shape) {
            self.atlas.set(ctx, "thumbnail-atlas", &atlas);
        } else {
            self.atlas.set_glyph(ctx, "thumbnail-atlas", &atlas);
        }
    }

    /// Where [`Self::drawn`] lands in the view, if it can be placed.
    pub fn drawn_point(&self) -> Option<[f64; 2]> {
        let e = self.drawn.as_ref()?;
        let (p, _) = self.place.locate(&e.code, None)?;
        Some([p.x, p.y])
    }

    /// True while a t-SNE is being computed.
    pub fn tsne_running(&self) -> bool {
        self.tsne.running()
    }

    /// Starts, collects or cancels the t-SNE as needed; returns true when a result arrived.
    fn drive_tsne(&mut self, ctx: &egui::Context) -> bool {
        let Some(snap) = self.snapshot.clone() else {
            return false;
        };
        let wanted = self.projection == Projection::Tsne && self.view_dim(&snap) > 2;
        let key = TsneKey {
            step: snap.step,
            part: self.part,
        };
        // Out of `self` while it runs, so that the codes can be read from the view.
        let mut state = std::mem::take(&mut self.tsne);
        let started = state.drive(ctx, wanted, key, || {
            let (codes, dim, _) = self.view_codes(&snap);
            (codes.into_owned(), dim)
        });
        self.tsne = state;
        started.unwrap_or_else(|_| {
            self.projection = Projection::Pca;
            false
        })
    }

    /// The entries of each code the chosen part holds; `None` for the whole code.
    fn part_range(&self, snap: &Snapshot) -> Option<std::ops::Range<usize>> {
        let (part, split, dim) = (
            self.part?,
            snap.parts.as_ref()?.content_dim,
            snap.latents.dim,
        );
        if split == 0 || split >= dim {
            return None;
        }
        Some(if part == 0 { 0..split } else { split..dim })
    }

    /// How many dimensions the drawn codes have.
    fn view_dim(&self, snap: &Snapshot) -> usize {
        self.part_range(snap).map_or(snap.latents.dim, |r| r.len())
    }

    /// The codes the view draws, `[n, dim]`: the whole codes, or the chosen part of a two-code
    /// kind's (with its name).
    fn view_codes<'s>(&self, snap: &'s Snapshot) -> (Cow<'s, [f32]>, usize, Option<String>) {
        let cloud = &snap.latents;
        let (Some(part), Some(parts), Some(range)) =
            (self.part, &snap.parts, self.part_range(snap))
        else {
            return (Cow::Borrowed(&cloud.codes[..]), cloud.dim, None);
        };
        let dim = range.len();
        let codes = (0..cloud.len())
            .flat_map(|i| cloud.code(i)[range.clone()].iter().copied())
            .collect();
        let name = parts.names.get(part).cloned().unwrap_or_default();
        (Cow::Owned(codes), dim, Some(name))
    }

    fn rebuild(&mut self) {
        let Some(snap) = self.snapshot.clone() else {
            return;
        };
        let n = snap.latents.len();
        let (codes, dim, part) = self.view_codes(&snap);
        // The snapshot's axes are the whole code's; a part gets its own.
        let pca = match &part {
            None => snap.latents.stats.pca.clone(),
            Some(_) => Pca::fit(&codes, dim, 2, None),
        };
        // The chosen raw dimensions, kept inside the latent (used only for more than two).
        let raw = self.raw_dims.0.map(|r| r.min(dim.saturating_sub(1)));
        let tsne_ready = self.projection == Projection::Tsne
            && dim > 2
            && self.tsne.map_for(n, self.part).is_some();
        // How a code is placed: the test codes below, and any other code (a drawing) later.
        let offset = self.part_range(&snap).map_or(0, |r| r.start);
        self.place = match dim {
            0 => Place::Nowhere,
            1 => Place::Dims {
                offset,
                x: 0,
                y: None,
            },
            2 => Place::Dims {
                offset,
                x: 0,
                y: Some(1),
            },
            _ if self.projection == Projection::Raw => Place::Dims {
                offset,
                x: raw[0],
                y: Some(raw[1]),
            },
            _ if tsne_ready => Place::Nowhere,
            _ => match &pca {
                Some(pca) if pca.components.len() >= 2 => Place::Pca {
                    offset,
                    dim,
                    pca: pca.clone(),
                },
                _ => Place::Nowhere,
            },
        };
        self.coords = if tsne_ready {
            // A t-SNE map places only the points it was computed for.
            self.tsne
                .result
                .iter()
                .flat_map(|(_, y)| y.iter().map(|p| PlotPoint::new(p[0], p[1])))
                .collect()
        } else if part.is_none()
            && matches!(self.place, Place::Pca { .. })
            && snap.latents.stats.projected.len() == n
        {
            // The snapshot's own axes: its points come projected on them.
            snap.latents
                .stats
                .projected
                .iter()
                .map(|p| PlotPoint::new(p[0], p[1]))
                .collect()
        } else {
            (0..n)
                .map(|i| {
                    self.place
                        .locate(snap.latents.code(i), None)
                        .map(|(p, _)| p)
                })
                .collect::<Option<Vec<_>>>()
                .unwrap_or_default()
        };
        let space = match &part {
            Some(name) => format!("{name} code"),
            None => "Latent space".to_string(),
        };
        let of = |d: usize| match &part {
            Some(name) => format!("the {d}-D {name} code"),
            None => format!("{d}-D"),
        };
        self.title = match (dim, &pca) {
            (1, _) => format!("{space} (1-D)"),
            (2, _) => format!("{space} (raw 2-D)"),
            (d, _) if self.projection == Projection::Raw => {
                let [a, b] = raw;
                format!("{space}: dimensions z{a} and z{b} of {d}")
            }
            (d, _) if tsne_ready => format!(
                "{space}: t-SNE of {} (perplexity 30, from step {})",
                of(d),
                self.tsne.result.as_ref().map_or(0, |r| r.0.step)
            ),
            (d, Some(p)) if d > 2 => format!(
                "{space}: PCA of {} (axes explain {:.0}% + {:.0}%{})",
                of(d),
                p.explained[0] * 100.0,
                p.explained.get(1).copied().unwrap_or(0.0) * 100.0,
                p.sample_note(n)
            ),
            _ => space,
        };
        let cloud = &snap.latents;
        let (groups, member_of) = self.groups(cloud);
        self.series = groups
            .into_iter()
            .map(|(name, colour)| ClassSeries {
                name,
                colour,
                points: Vec::new(),
                members: Vec::new(),
            })
            .collect();
        for (i, p) in self.coords.iter().enumerate() {
            if let Some(series) = member_of.get(i).and_then(|&g| self.series.get_mut(g)) {
                // On the GPU path the plot holds no points: only the counts are wanted.
                if !self.gpu {
                    series.points.push(*p);
                }
                series.members.push(i);
            }
        }
        self.points = self
            .coords
            .iter()
            .map(|p| [p.x as f32, p.y as f32])
            .collect();
        self.grid = PointGrid::new(&self.points, 512);
        self.bounds = self
            .grid
            .bounds()
            .map(|(lo, hi)| (lo.map(f64::from), hi.map(f64::from)));
        if self.gpu {
            let series = &self.series;
            self.buffer
                .set(self.points.iter().zip(&member_of).map(|(p, &g)| {
                    let colour = series.get(g).map_or(Color32::GRAY, |s| s.colour);
                    ([p[0], p[1], 0.0], colour, g)
                }));
        }
        self.member_of = member_of;
        if self.selected.is_some_and(|s| s >= n) {
            self.selected = None;
        }
    }

    /// The legend names of the series that hold points, with their point counts.
    pub fn series_counts(&self) -> Vec<(String, usize)> {
        self.series
            .iter()
            .filter(|s| !s.members.is_empty())
            .map(|s| (s.name.clone(), s.members.len()))
            .collect()
    }

    /// The plot coordinates of point `i`.
    pub fn plotted(&self, i: usize) -> Option<[f64; 2]> {
        self.coords.get(i).map(|p| [p.x, p.y])
    }

    /// Where point `i` was drawn in the last frame, in screen coordinates.
    pub fn screen_pos(&self, i: usize) -> Option<egui::Pos2> {
        let t = self.transform.as_ref()?;
        Some(t.position_from_point(self.coords.get(i)?))
    }

    /// Draws the scatter; returns the point a click selected this frame.
    pub fn ui(&mut self, ui: &mut egui::Ui) -> Option<usize> {
        if self.drive_tsne(ui.ctx()) {
            self.rebuild();
        }
        let title = if self.title.is_empty() {
            "Latent space"
        } else {
            &self.title
        };
        ui.add(egui::Label::new(egui::RichText::new(title).heading()).truncate())
            .on_hover_text(
                "Where the model puts each test sample in its code space, one point each, \
                 coloured by what is known about it: samples the model finds alike land close \
                 together. Click a point to see it and set the sliders to its code; drag to pan, \
                 scroll to zoom, click a legend entry to hide its points",
            );
        let dim = self.snapshot.as_ref().map_or(1, |s| self.view_dim(s));
        let projections = dim > 2;
        let part_names = self
            .snapshot
            .as_ref()
            .and_then(|s| s.parts.as_ref())
            .map(|p| p.names.clone());
        ui.horizontal_wrapped(|ui| {
            if let Some(names) = part_names {
                let before = self.part;
                let name = |p: Option<usize>| match p {
                    Some(p) => format!("{} code", names[p.min(1)]),
                    None => "whole code".to_string(),
                };
                egui::ComboBox::from_label("Draw")
                    .selected_text(name(self.part))
                    .show_ui(ui, |ui| {
                        ui.selectable_value(&mut self.part, None, name(None));
                        ui.selectable_value(&mut self.part, Some(0), name(Some(0)));
                        ui.selectable_value(&mut self.part, Some(1), name(Some(1)));
                    })
                    .response
                    .on_hover_text(
                        "Draw one part of the code: coloured by class, the part that stands for \
                         the class should fall into clusters and the other part should not",
                    );
                if self.part != before {
                    self.tsne.held = false;
                    self.rebuild();
                }
            }
            ui.checkbox(&mut self.thumbnails, "Thumbnails")
                .on_hover_text("Draw a subset of the points as their images");
            if let Some(factors) = self.factors.clone() {
                let before = self.colour_by;
                let name = |c: Option<usize>| match c {
                    Some(f) => factors.names[f].clone(),
                    None => "class".to_string(),
                };
                egui::ComboBox::from_label("Colour by")
                    .selected_text(name(self.colour_by))
                    .show_ui(ui, |ui| {
                        ui.selectable_value(&mut self.colour_by, None, "class");
                        for f in 0..factors.names.len() {
                            ui.selectable_value(&mut self.colour_by, Some(f), name(Some(f)));
                        }
                    })
                    .response
                    .on_hover_text(
                        "Colour the points by a known factor of the data, to see which \
                         direction of the latent space holds it",
                    );
                if self.colour_by != before {
                    self.rebuild();
                }
            }
            if projections {
                ui.separator();
                let before = self.projection;
                ui.selectable_value(&mut self.projection, Projection::Pca, "PCA")
                    .on_hover_text(
                        "The two directions along which the codes spread most: distances are \
                         kept as far as a flat picture can",
                    );
                ui.selectable_value(&mut self.projection, Projection::Tsne, "t-SNE")
                    .on_hover_text(
                        "A map that keeps neighbours together: clusters show clearly, but \
                         distances between them mean little. Computed in the background",
                    );
                ui.selectable_value(&mut self.projection, Projection::Raw, "Raw")
                    .on_hover_text("Two code numbers of your choice as the axes");
                let dims_before = self.raw_dims;
                if self.projection == Projection::Raw {
                    for (axis, d) in ["x", "y"].into_iter().zip(self.raw_dims.0.iter_mut()) {
                        let label = ui.label(axis);
                        ui.add(egui::DragValue::new(d).range(0..=dim - 1).prefix("z"))
                            .labelled_by(label.id)
                            .on_hover_text(format!("Which code number the {axis} axis shows"));
                    }
                }
                if self.projection != before || self.raw_dims != dims_before {
                    self.tsne.held = false;
                    self.rebuild();
                }
                self.tsne.controls(ui, self.projection == Projection::Tsne);
            }
        });
        if self.coords.is_empty() {
            ui.centered_and_justified(|ui| {
                ui.label("Latent codes of the test images appear here while training.");
            });
            return None;
        }
        if self.thumbnails && self.atlas.get().is_none() {
            self.build_atlas(ui.ctx());
        }
        let series = &self.series;
        let selected = self.selected.and_then(|i| self.coords.get(i).copied());
        let drawn = self
            .drawn
            .as_ref()
            .and_then(|e| self.place.locate(&e.code, e.spread.as_deref()));
        let plot_id = ui.make_persistent_id("latent_scatter");
        let hidden: Vec<usize> = PlotMemory::load(ui.ctx(), plot_id)
            .map(|m| {
                (0..series.len())
                    .filter(|&g| m.hidden_items.contains(&series_id(g)))
                    .collect()
            })
            .unwrap_or_default();
        let gpu = self.gpu;
        let mut plot = Plot::new("latent_scatter")
            .id(plot_id)
            .legend(Legend::default().position(egui_plot::Corner::RightTop))
            .data_aspect(1.0)
            .label_formatter(|hover| match hover {
                egui_plot::HoverPosition::NearDataPoint { plot_name, .. } => {
                    Some(plot_name.to_string())
                }
                egui_plot::HoverPosition::Elsewhere { .. } => None,
            });
        if let Some((lo, hi)) = self.bounds {
            plot = plot.include_x(lo[0]).include_x(hi[0]);
            plot = plot.include_y(lo[1]).include_y(hi[1]);
        }
        let response = plot.show(ui, |plot_ui| {
            for (g, s) in series.iter().enumerate() {
                // On the GPU the plot holds each series without its points: its legend entry.
                let points = if gpu {
                    PlotPoints::Owned(Vec::new())
                } else {
                    PlotPoints::Borrowed(&s.points)
                };
                plot_ui.add(
                    Points::new(s.name.clone(), points)
                        .id(series_id(g))
                        .color(s.colour)
                        .radius(POINT_RADIUS)
                        .filled(true),
                );
            }
            if let Some(p) = selected.filter(|_| !gpu) {
                plot_ui.add(
                    Points::new("selected", PlotPoints::Owned(vec![p]))
                        .shape(MarkerShape::Circle)
                        .filled(false)
                        .radius(9.0)
                        .color(Color32::WHITE),
                );
            }
            if let Some((p, radii)) = drawn {
                let yellow = Color32::from_rgb(255, 230, 60);
                // The VAE's uncertainty: the 1σ and 2σ ellipses around μ.
                for (k, [rx, ry]) in radii.into_iter().flat_map(|r| [(1.0, r), (2.0, r)]) {
                    let ring: Vec<[f64; 2]> = (0..=48)
                        .map(|i| {
                            let t = i as f64 / 48.0 * std::f64::consts::TAU;
                            [p.x + k * rx * t.cos(), p.y + k * ry * t.sin()]
                        })
                        .collect();
                    plot_ui.add(
                        Line::new("your drawing", PlotPoints::from(ring))
                            .color(yellow.gamma_multiply(if k == 1.0 { 0.9 } else { 0.45 }))
                            .width(1.5),
                    );
                }
                plot_ui.add(
                    Points::new("your drawing", PlotPoints::Owned(vec![p]))
                        .shape(MarkerShape::Diamond)
                        .filled(true)
                        .radius(8.0)
                        .color(yellow),
                );
            }
        });
        let frame = *response.transform.frame();
        if gpu {
            // The points above the plot's grid, then what marks them.
            let painter = ui.painter_at(frame);
            let b = response.transform.bounds();
            let camera = Camera::Plot {
                min: b.min(),
                max: b.max(),
                radius: POINT_RADIUS,
            };
            points_gpu::paint(&painter, frame, &self.buffer, camera, &hidden);
            if let Some(p) = selected {
                let at = response.transform.position_from_point(&p);
                painter.circle_stroke(at, 9.0, egui::Stroke::new(2.0, Color32::WHITE));
            }
            let hovered = response
                .response
                .hover_pos()
                .and_then(|at| self.pick(&response.transform, at, &hidden));
            if let Some(i) = hovered {
                let at = response.transform.position_from_point(&self.coords[i]);
                let name = self.member_of.get(i).and_then(|&g| self.series.get(g));
                painter.text(
                    at + egui::vec2(10.0, -10.0),
                    egui::Align2::LEFT_BOTTOM,
                    name.map_or("", |s| &s.name),
                    egui::FontId::proportional(15.0),
                    ui.visuals().strong_text_color(),
                );
            }
        }
        self.transform = Some(response.transform);
        if self.thumbnails
            && let (Some(atlas), Some(snap), Some(images)) =
                (self.atlas.get(), &self.snapshot, &self.images)
            && let Some(shape) = images.shape
        {
            let painter = ui.painter_at(response.response.rect);
            let rows = images.len().min(ATLAS_IMAGES).div_ceil(ATLAS_COLS) as f32;
            let stride = self.coords.len().div_ceil(MAX_THUMBNAILS).max(1);
            // At least 28 px on the long side (an MNIST digit's own size).
            let [tw, th] = render::thumbnail_size(shape).map(|v| v.max(1) as f32);
            let size = egui::Vec2::new(tw, th) * (28.0f32.max(tw.max(th)) / tw.max(th));
            for (i, p) in self.coords.iter().enumerate().step_by(stride) {
                let Some(&t) = snap
                    .latents
                    .test_indices
                    .get(i)
                    .filter(|&&t| t < ATLAS_IMAGES)
                else {
                    continue;
                };
                let (c, r) = ((t % ATLAS_COLS) as f32, (t / ATLAS_COLS) as f32);
                let uv = egui::Rect::from_min_size(
                    egui::pos2(c / ATLAS_COLS as f32, r / rows),
                    egui::vec2(1.0 / ATLAS_COLS as f32, 1.0 / rows),
                );
                let at = response.transform.position_from_point(p);
                let tint = if render::has_colour(shape) {
                    Color32::WHITE
                } else {
                    snap.latents
                        .labels
                        .as_ref()
                        .and_then(|l| l.get(i))
                        .map_or(Color32::WHITE, |&c| class_colour(c as usize))
                };
                painter.image(atlas.id(), egui::Rect::from_center_size(at, size), uv, tint);
            }
        }
        if !response.response.clicked() {
            return None;
        }
        let pointer = response.response.interact_pointer_pos()?;
        let best = self.pick(&response.transform, pointer, &hidden)?;
        self.selected = Some(best);
        Some(best)
    }

    /// The shown point drawn nearest `at` within [`PICK_POINTS`], from the grid.
    fn pick(&self, t: &PlotTransform, at: egui::Pos2, hidden: &[usize]) -> Option<usize> {
        let value = t.value_from_position(at);
        let radius = PICK_POINTS as f64 / t.dpos_dvalue_x().abs().max(1e-12);
        self.grid.nearest(
            &self.points,
            [value.x as f32, value.y as f32],
            radius as f32,
            |i| self.member_of.get(i).is_none_or(|g| !hidden.contains(g)),
        )
    }
}

/// The plot item (legend entry) of series `g`.
fn series_id(g: usize) -> egui_plot::ItemId {
    egui_plot::ItemId::new(("latent series", g))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Any label has a colour (labels of 70 and more once overflowed a byte), and the first
    /// fifty classes are told apart.
    #[test]
    fn every_class_has_a_colour_and_fifty_are_distinct() {
        let colours: Vec<Color32> = (0..10_000).map(class_colour).collect();
        let first: std::collections::HashSet<_> = colours[..50].iter().collect();
        assert_eq!(first.len(), 50);
        assert_eq!(colours[73], colours[23]);
    }
}
