//! The style views of the latent quadrant, on plain codes through the snapshot's decoder
//! (`latent::swap`):
//! - the style-swap grid: one row per test image giving the style, one column per class as
//!   the content;
//! - convert: one test image's style drawn with another test image's content, or a class's;
//! - attribute vector: a slider that moves a test image's code along the difference of two
//!   classes' mean codes ("more like a 7"), decoded live.
//!
//! Kinds with a content part (CVAE, content/style split) swap it; other labelled kinds can only
//! move a code by the difference of class means, and the caption says so.
//!
//! On sound (the voice model, classes are voices) convert is voice conversion: the words of one
//! test utterance in a chosen voice or the voice of another utterance, with Play buttons for
//! the source, its reconstruction and the conversion (through `crate::sound`, on a job, so the
//! window never waits) and Export WAV.

use std::sync::Arc;

use egui::{ComboBox, DragValue, Slider, Vec2};

use super::pixels::Texture;
use crate::data::audio::{
    SAMPLE_RATE, mean_spread, silence, sounding_frames, speak, voice_spreads, write_wav,
};
use crate::jobs::Job;
use crate::latent::probe;
use crate::latent::swap::{Swap, along, class_means};
use crate::protocol::{SampleGrid, Snapshot};
use crate::render;
use crate::sound;

/// Where the converted image's content comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentFrom {
    Class(usize),
    /// A scatter point (test image).
    Point(usize),
}

/// The three sounds convert can play.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sound {
    Source,
    Reconstruction,
    Conversion,
}

impl Sound {
    fn name(self) -> &'static str {
        match self {
            Sound::Source => "source",
            Sound::Reconstruction => "reconstruction",
            Sound::Conversion => "conversion",
        }
    }
}

/// A spectrogram to be heard: `[N_MELS, frames]` values, the first `keep` frames sounding,
/// with the voice's spread to restore.
struct Utterance {
    values: Vec<f32>,
    frames: usize,
    keep: usize,
    spread: Option<Vec<f32>>,
}

impl Utterance {
    fn speak(&self) -> Vec<f32> {
        speak(&self.values, self.frames, self.keep, self.spread.as_deref())
    }
}

/// Which of the three style views shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StyleView {
    Grid,
    Convert,
    Attribute,
}

pub struct Styles {
    pub view: StyleView,
    snapshot: Option<Arc<Snapshot>>,
    /// The test split's samples, indexed by a point's test index.
    samples: Option<Arc<SampleGrid>>,
    swap: Option<Swap>,
    class_names: Vec<String>,
    /// Rows of the style-swap grid: the first this many test images.
    pub rows: usize,
    /// The decodes of the grid, `rows × classes`, row-major.
    pub grid: Option<SampleGrid>,
    /// The scatter point whose style convert and the attribute slider start from.
    pub style_point: usize,
    pub content: ContentFrom,
    /// Convert's result: one sample.
    pub converted: Option<SampleGrid>,
    /// The attribute vector runs from this class's mean code to that one's.
    pub from_class: usize,
    pub to_class: usize,
    /// How far along it: 0 the test image itself, 1 moved by the whole difference.
    pub amount: f32,
    /// The attribute slider's decode: one sample.
    pub attribute: Option<SampleGrid>,
    /// Linear probes of the class from the content and the style code, with the step of the
    /// snapshot they were fitted on; refitted in the background as snapshots come.
    pub probes: Option<Probes>,
    probe_job: Option<Job<Probes>>,
    /// For sound: each voice's typical spread of every band over time (from the test
    /// utterances), restored in what is played so that a decode does not sound flat.
    voice_spreads: Vec<Vec<f32>>,
    /// The sound playing (its answer: played, or why not) and what it is.
    player: Option<(Job<Result<(), String>>, Sound)>,
    /// What the last Play did, or why it could not.
    pub play_message: Option<String>,
    grid_texture: Texture,
    convert_texture: Texture,
    attribute_texture: Texture,
}

/// Held-out accuracies of linear probes of the class.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Probes {
    pub step: u64,
    pub content: Option<f32>,
    pub style: Option<f32>,
    pub chance: f32,
}

impl Default for Styles {
    fn default() -> Self {
        Self {
            view: StyleView::Grid,
            snapshot: None,
            samples: None,
            swap: None,
            class_names: Vec::new(),
            rows: 6,
            grid: None,
            style_point: 0,
            content: ContentFrom::Class(0),
            converted: None,
            from_class: 0,
            to_class: 1,
            amount: 0.0,
            attribute: None,
            probes: None,
            probe_job: None,
            voice_spreads: Vec::new(),
            player: None,
            play_message: None,
            grid_texture: Texture::default(),
            convert_texture: Texture::default(),
            attribute_texture: Texture::default(),
        }
    }
}

impl Styles {
    /// Recomputes every view from `snapshot`; `style_point` follows the scatter's selection.
    pub fn update(
        &mut self,
        ctx: &egui::Context,
        snapshot: &Arc<Snapshot>,
        samples: &Arc<SampleGrid>,
        class_names: &[String],
        selected: Option<usize>,
    ) {
        self.class_names = class_names.to_vec();
        if !self
            .samples
            .as_ref()
            .is_some_and(|s| Arc::ptr_eq(s, samples))
        {
            self.samples = Some(samples.clone());
            self.voice_spreads = Vec::new();
        }
        self.swap = Swap::for_cloud(
            snapshot.parts.as_ref(),
            &snapshot.latents,
            class_names.len(),
        );
        let mut moved = self.snapshot.is_none();
        self.snapshot = Some(snapshot.clone());
        if let Some(i) = selected {
            moved |= self.style_point != i;
            self.style_point = i;
        }
        // The attribute vector starts from the style image's own class; a voice conversion
        // starts into another voice than the source's (four on: a man's into a woman's).
        if moved && let Some(own) = self.label(self.style_point) {
            let voices = class_names.len().max(1);
            if self.frames().is_some() && self.content == ContentFrom::Class(own as usize) {
                self.content = ContentFrom::Class((own as usize + 4) % voices);
            }
            self.from_class = own as usize;
            if self.to_class == self.from_class {
                self.to_class = (self.from_class + 1) % class_names.len().max(1);
            }
        }
        if self.voice_spreads.is_empty() {
            self.voice_spreads = self.measure_voice_spreads();
        }
        self.refresh_grid(ctx);
        self.refresh_convert(ctx);
        self.refresh_attribute(ctx);
        self.start_probes(ctx);
    }

    /// Takes a finished probe fit, and fits the probes on the latest snapshot in the
    /// background unless that is done or a fit is running.
    fn start_probes(&mut self, ctx: &egui::Context) {
        if let Some(job) = &self.probe_job {
            if let Some(p) = job.try_take() {
                self.probes = Some(p);
            }
            if !job.is_finished() {
                return;
            }
        }
        self.probe_job = None;
        let Some(s) = &self.snapshot else {
            return;
        };
        let (Some(parts), Some(labels)) = (&s.parts, &s.latents.labels) else {
            return;
        };
        if self.probes.is_some_and(|p| p.step == s.step) {
            return;
        }
        let (codes, labels, dim) = (s.latents.codes.clone(), labels.clone(), s.latents.dim);
        let (content_dim, classes, step) = (parts.content_dim, parts.classes(), s.step);
        let ctx = ctx.clone();
        if let Ok(job) = Job::spawn(
            "latentlab-probes",
            Box::new(move || ctx.request_repaint()),
            move |_| {
                let fit = |dims| probe::accuracy(&codes, dim, dims, &labels, classes);
                Some(Probes {
                    step,
                    content: fit(0..content_dim),
                    style: fit(content_dim..dim),
                    chance: 1.0 / classes.max(1) as f32,
                })
            },
        ) {
            self.probe_job = Some(job);
        }
    }

    /// The frames of the spectrograms shown, when the data is sound.
    fn frames(&self) -> Option<usize> {
        let shape = self.samples.as_ref()?.shape?;
        Some(shape.spectrogram()?.frames)
    }

    fn measure_voice_spreads(&self) -> Vec<Vec<f32>> {
        let (Some(frames), Some(s)) = (self.frames(), &self.snapshot) else {
            return Vec::new();
        };
        let Some(labels) = &s.latents.labels else {
            return Vec::new();
        };
        let images: Vec<Vec<f32>> = (0..labels.len()).map(|i| self.image(i)).collect();
        let labelled: Vec<(u32, &[f32])> = labels
            .iter()
            .copied()
            .zip(images.iter().map(Vec::as_slice))
            .collect();
        voice_spreads(&labelled, self.class_names.len(), frames)
    }

    /// What `which` sounds like for convert's choice, ready for [`Utterance::speak`] (which
    /// takes tens of milliseconds, so Play runs it on its job): cut to the source's sounding
    /// length, spread restored to the voice it is in.
    fn utterance(&self, which: Sound) -> Option<Utterance> {
        let frames = self.frames()?;
        let s = self.snapshot.as_ref()?;
        let cloud = &s.latents;
        let a = self.style_point.min(cloud.len().checked_sub(1)?);
        let source = self.image(a);
        let keep = sounding_frames(&source, frames);
        let own_voice = self.label(a).map(|v| v as usize);
        let voice_spread = |v: Option<usize>| v.and_then(|v| self.voice_spreads.get(v).cloned());
        let (values, spread) = match which {
            Sound::Source => (source, None),
            Sound::Reconstruction => (
                s.decoder.decode(cloud.code(a)).sample(0).to_vec(),
                voice_spread(own_voice),
            ),
            Sound::Conversion => {
                let spread = match self.content {
                    ContentFrom::Class(c) => voice_spread(Some(c)),
                    ContentFrom::Point(b) => {
                        let voice = self.image(b.min(cloud.len() - 1));
                        Some(mean_spread([&voice[..]], frames))
                    }
                };
                (self.converted.as_ref()?.sample(0).to_vec(), spread)
            }
        };
        Some(Utterance {
            values,
            frames,
            keep,
            spread,
        })
    }

    /// Plays `which` on a job; one sound at a time.
    fn play(&mut self, ctx: &egui::Context, which: Sound) {
        if self.player.is_some() {
            return;
        }
        let Some(utterance) = self.utterance(which) else {
            self.play_message = Some(format!("Nothing to play yet: no {}", which.name()));
            return;
        };
        let ctx = ctx.clone();
        match Job::spawn(
            "latentlab-play",
            Box::new(move || ctx.request_repaint()),
            move |_| Some(sound::play(&utterance.speak(), SAMPLE_RATE)),
        ) {
            Ok(job) => {
                self.play_message = Some(format!("Playing the {}...", which.name()));
                self.player = Some((job, which));
            }
            Err(e) => self.play_message = Some(format!("Cannot play: {e}")),
        }
    }

    /// Collects the answer of a finished Play.
    fn poll_player(&mut self) {
        let Some((job, which)) = &self.player else {
            return;
        };
        if let Some(answer) = job.try_take() {
            self.play_message = Some(match answer {
                Ok(()) => format!("Played the {}", which.name()),
                Err(e) => format!("Cannot play the {}: {e}", which.name()),
            });
            self.player = None;
        } else if job.is_finished() {
            self.player = None;
        }
    }

    /// The conversion as a WAV file (16 kHz, 16-bit), for Export WAV.
    pub fn conversion_wav(&self) -> Option<Vec<u8>> {
        Some(write_wav(&self.utterance(Sound::Conversion)?.speak()))
    }

    /// True when convert is voice conversion (the data is sound).
    pub fn is_sound(&self) -> bool {
        self.frames().is_some()
    }

    fn points(&self) -> usize {
        self.snapshot.as_ref().map_or(0, |s| s.latents.len())
    }

    /// The test image of scatter point `i` (empty when there is none).
    fn image(&self, i: usize) -> Vec<f32> {
        let (Some(s), Some(samples)) = (&self.snapshot, &self.samples) else {
            return Vec::new();
        };
        match s.latents.test_indices.get(i) {
            Some(&t) if t < samples.len() => samples.sample(t).to_vec(),
            _ => Vec::new(),
        }
    }

    fn label(&self, i: usize) -> Option<u32> {
        let s = self.snapshot.as_ref()?;
        s.latents.labels.as_ref()?.get(i).copied()
    }

    fn refresh_grid(&mut self, ctx: &egui::Context) {
        let (Some(s), Some(swap)) = (&self.snapshot, &self.swap) else {
            return;
        };
        let cloud = &s.latents;
        let rows = self.rows.min(cloud.len());
        let grid = swap.grid(
            s.decoder.as_ref(),
            &cloud.codes[..rows * cloud.dim],
            cloud.dim,
            cloud.labels.as_deref(),
        );
        // Each row starts with the image that gives its style.
        let mut values = Vec::new();
        let classes = swap.classes();
        for r in 0..rows {
            values.extend(self.image(r));
            for c in 0..classes {
                values.extend_from_slice(grid.sample(r * classes + c));
            }
        }
        if let Some(shape) = grid.shape
            && let Some(img) = render::grid(&SampleGrid::new(shape, values), classes + 1, 1, 1)
        {
            self.grid_texture.set(ctx, "style-swap", &img);
        }
        self.grid = Some(grid);
    }

    fn refresh_convert(&mut self, ctx: &egui::Context) {
        let (Some(s), Some(swap)) = (&self.snapshot, &self.swap) else {
            return;
        };
        let cloud = &s.latents;
        let a = self.style_point.min(cloud.len().saturating_sub(1));
        if cloud.is_empty() {
            return;
        }
        let code = match self.content {
            ContentFrom::Class(c) => swap.code(cloud.code(a), self.label(a), c),
            ContentFrom::Point(b) => {
                let b = b.min(cloud.len() - 1);
                swap.code_from(cloud.code(a), self.label(a), cloud.code(b), self.label(b))
            }
        };
        let result = s.decoder.decode(&code);
        let Some(shape) = result.shape else {
            return;
        };
        // Style image, content image (blank for a class), result; for sound the source's
        // reconstruction comes second, to hear and see what the model makes of it unchanged.
        // A chosen class has no sample of its own: a blank tile (silence, for sound).
        let blank = if self.is_sound() { silence() } else { 0.0 };
        let content = match self.content {
            ContentFrom::Class(_) => vec![blank; shape.len()],
            ContentFrom::Point(b) => self.image(b.min(cloud.len() - 1)),
        };
        let source = self.image(a);
        let reconstruction;
        let mut shown: Vec<&[f32]> = vec![&source];
        if self.is_sound() {
            reconstruction = s.decoder.decode(cloud.code(a));
            shown.push(reconstruction.sample(0));
        }
        shown.extend([&content[..], result.sample(0)]);
        let tiles: Vec<render::Canvas> =
            shown.iter().map(|v| render::single(shape, v, 2)).collect();
        if let Some(img) = render::compose(&tiles, tiles.len(), 2) {
            self.convert_texture.set(ctx, "style-convert", &img);
        }
        self.converted = Some(result);
    }

    fn refresh_attribute(&mut self, ctx: &egui::Context) {
        let Some(s) = &self.snapshot else {
            return;
        };
        let cloud = &s.latents;
        let (Some(labels), false) = (&cloud.labels, cloud.is_empty()) else {
            return;
        };
        let classes = self.class_names.len();
        let means = class_means(&cloud.codes, cloud.dim, labels, classes);
        let mean = |c: usize| means.get(c * cloud.dim..(c + 1) * cloud.dim);
        let (Some(from), Some(to)) = (mean(self.from_class), mean(self.to_class)) else {
            return;
        };
        let a = self.style_point.min(cloud.len() - 1);
        let decoded = s
            .decoder
            .decode(&along(cloud.code(a), from, to, self.amount));
        if let Some(shape) = decoded.shape {
            let tiles = [
                render::single(shape, &self.image(a), 3),
                render::single(shape, decoded.sample(0), 3),
            ];
            if let Some(img) = render::compose(&tiles, 2, 2) {
                self.attribute_texture.set(ctx, "style-attribute", &img);
            }
        }
        self.attribute = Some(decoded);
    }

    fn class_combo(ui: &mut egui::Ui, label: &str, names: &[String], value: &mut usize) -> bool {
        let before = *value;
        let text = names.get(*value).cloned().unwrap_or_default();
        let l = ui.label(label);
        ComboBox::from_id_salt(label)
            .selected_text(text)
            .height(320.0)
            .show_ui(ui, |ui| {
                for (c, name) in names.iter().enumerate() {
                    ui.selectable_value(value, c, name);
                }
            })
            .response
            .labelled_by(l.id);
        *value != before
    }

    /// Draws the views; returns true when the user asked to export the conversion as WAV (the
    /// caller asks where).
    pub fn ui(&mut self, ui: &mut egui::Ui) -> bool {
        self.poll_player();
        let Some(swap) = &self.swap else {
            ui.label("Style views need labelled data; they fill with the first snapshot.");
            return false;
        };
        let ctx = ui.ctx().clone();
        let sound = self.is_sound();
        let mut export = false;
        let caption = match swap {
            Swap::Content(_) if sound => {
                "Each row's test utterance, then its words in every voice (the speaker code swapped)"
            }
            Swap::Content(_) => {
                "Each row's test sample, then redrawn as every class (the class part of its code swapped)"
            }
            Swap::MeanShift { .. } => {
                "Each row moved by the difference of class means: this kind has no content \
                 part to swap (try the conditional VAE or the content/style split)"
            }
        };
        let [first, second] = match swap {
            Swap::Content(parts) => parts.names.clone(),
            Swap::MeanShift { .. } => ["content", "style"].map(String::from),
        };
        let what = if sound { "voice" } else { "class" };
        ui.horizontal(|ui| {
            ui.selectable_value(&mut self.view, StyleView::Grid, "Swap grid")
                .on_hover_text(format!(
                    "Each row keeps one test sample's {second}, each column draws it with \
                     another {what}'s {first}"
                ));
            ui.selectable_value(&mut self.view, StyleView::Convert, "Convert")
                .on_hover_text(format!(
                    "Pick one sample for its {second} and a {what} (or a sample) for its {first}"
                ));
            ui.selectable_value(&mut self.view, StyleView::Attribute, "Attribute vector")
                .on_hover_text(
                    "Pick two groups of points: a slider moves a code along the line between \
                     their means, decoded live (\"more bold\", \"more slanted\")",
                );
        });
        // What is left below a view's controls, for its picture.
        let bounds = |ui: &egui::Ui| {
            Vec2::new(
                ui.available_width(),
                (ui.available_height() - 4.0).max(40.0),
            )
        };
        let last = self.points().saturating_sub(1);
        let names = self.class_names.clone();
        match self.view {
            StyleView::Grid => {
                if ui
                    .add(Slider::new(&mut self.rows, 1..=12).text("Style rows"))
                    .on_hover_text("How many test samples lend their style, one row each")
                    .changed()
                {
                    self.refresh_grid(&ctx);
                }
                ui.weak(caption);
                self.start_probes(&ctx);
                if let Some(p) = self.probes {
                    let pct = |v: Option<f32>| {
                        v.map_or("n/a".to_string(), |v| format!("{:.0} %", v * 100.0))
                    };
                    ui.label(format!(
                        "Linear probes of the {what} (step {}): {first} code {}, {second} code {} (chance {:.0} %)",
                        p.step,
                        pct(p.content),
                        pct(p.style),
                        p.chance * 100.0
                    ))
                    .on_hover_text(format!(
                        "A straight cut fitted on half the test codes, scored on the other half: \
                         high for the {first} code and near chance for the {second} code when \
                         the two are apart"
                    ));
                }
                self.grid_texture
                    .show(ui, bounds(ui))
                    .map(|r| r.on_hover_text("Left: the test image giving the style"));
            }
            StyleView::Convert => {
                let mut changed = false;
                let (style_from, content_from, another, content_image) = if sound {
                    (
                        "Words of test utterance",
                        "In the voice of",
                        "another utterance",
                        "Voice utterance",
                    )
                } else {
                    (
                        "Style from test image",
                        "Content from",
                        "a test image",
                        "Content image",
                    )
                };
                ui.horizontal_wrapped(|ui| {
                    let l = ui.label(style_from);
                    changed |= ui
                        .add(DragValue::new(&mut self.style_point).range(0..=last))
                        .labelled_by(l.id)
                        .changed();
                    let l = ui.label(content_from);
                    let text = match self.content {
                        ContentFrom::Class(c) => names.get(c).cloned().unwrap_or_default(),
                        ContentFrom::Point(_) => another.into(),
                    };
                    let before = self.content;
                    ComboBox::from_id_salt("convert_content")
                        .selected_text(text)
                        .height(320.0)
                        .show_ui(ui, |ui| {
                            for (c, name) in names.iter().enumerate() {
                                ui.selectable_value(&mut self.content, ContentFrom::Class(c), name);
                            }
                            ui.selectable_value(&mut self.content, ContentFrom::Point(0), another);
                        })
                        .response
                        .labelled_by(l.id);
                    changed |= self.content != before;
                    if let ContentFrom::Point(b) = &mut self.content {
                        let l = ui.label(content_image);
                        changed |= ui
                            .add(DragValue::new(b).range(0..=last))
                            .labelled_by(l.id)
                            .changed();
                    }
                });
                if changed {
                    self.refresh_convert(&ctx);
                }
                if sound {
                    ui.horizontal_wrapped(|ui| {
                        let idle = self.player.is_none();
                        for which in [Sound::Source, Sound::Reconstruction, Sound::Conversion] {
                            let label = format!("Play {}", which.name());
                            if ui
                                .add_enabled(idle, egui::Button::new(label))
                                .on_hover_text(format!(
                                    "Hear the {} (Griffin-Lim from the spectrogram)",
                                    which.name()
                                ))
                                .clicked()
                            {
                                self.play(&ctx, which);
                            }
                        }
                        export = ui
                            .button("Export WAV...")
                            .on_hover_text("Save the conversion as a 16 kHz WAV file")
                            .clicked();
                        if let Some(m) = &self.play_message {
                            ui.label(m);
                        }
                    });
                    ui.weak(
                        "Source utterance, its reconstruction, the voice's utterance (none for a \
                         chosen voice), the conversion: the source's words in that voice",
                    );
                } else {
                    ui.weak("Style image, content image (none for a class), result");
                }
                self.convert_texture.show(ui, bounds(ui));
            }
            StyleView::Attribute => {
                let mut changed = false;
                ui.horizontal(|ui| {
                    changed |= Self::class_combo(ui, "From class", &names, &mut self.from_class);
                    changed |= Self::class_combo(ui, "To class", &names, &mut self.to_class);
                });
                changed |= ui
                    .add(Slider::new(&mut self.amount, -0.5..=1.5).text("Towards"))
                    .on_hover_text(
                        "Moves the test image's code along the line from the first class's mean \
                         code to the second's: 0 is the image itself, 1 the whole way",
                    )
                    .changed();
                if changed {
                    self.refresh_attribute(&ctx);
                }
                ui.weak(format!(
                    "Test image {} (left) moved towards the second class (right)",
                    self.style_point
                ));
                self.attribute_texture.show(ui, bounds(ui));
            }
        }
        export
    }
}
