//! The desktop studio: an eframe app that drives the trainer through `protocol` messages and
//! shows the run live. The run's state is a [`RunModel`] (events folded into plain data); one
//! file per panel draws from it; this one is the shell: commands, event dispatch, dialogs and
//! layout.
//!
//! Never imports burn: everything it knows of the model comes through `protocol`.

mod activity;
mod controls;
mod dialogs;
mod draw;
mod figure;
mod frame_stats;
mod interpolation;
mod latent_view;
mod loss_plot;
mod manifold;
mod menu;
mod pixels;
mod points_gpu;
pub mod run_model;
mod samples;
mod scatter3d;
mod selection;
mod sliders;
mod status;
mod styles;
mod timeline;
mod traversals;
mod triptych;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use egui::{Key, Rect, UiBuilder, Vec2};

use crate::data::DataSpec;
use crate::latent::LatentStats;
use crate::protocol::{Command, SampleGrid, Snapshot, StartRequest};
use crate::settings::{ModelKind, Settings};
use crate::train::DeviceChoice;
use crate::train::worker::Trainer;
use activity::activity_ui;
use controls::{RunStatus, controls_ui};
pub use frame_stats::FrameStats;
use interpolation::Interpolation;
use latent_view::LatentView;
use loss_plot::LossPlot;
use manifold::Manifold;
use run_model::Change;
pub use run_model::RunModel;
use samples::Samples;
use scatter3d::Scatter3d;
use selection::Selection;
use sliders::Sliders;
use status::status_ui;
use styles::Styles;
use traversals::Traversals;
use triptych::Triptych;

/// Where the studio keeps its settings in eframe's storage.
pub const SETTINGS_KEY: &str = "latentlab-settings";
/// Time the UI spends draining trainer events per frame, at most.
const EVENT_BUDGET: Duration = Duration::from_millis(4);

/// The views of the latent quadrant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LatentTab {
    Scatter,
    Scatter3d,
    Activity,
    Manifold,
    Styles,
    Traversals,
}

/// The studio.
pub struct StudioApp {
    pub settings: Settings,
    trainer: Trainer,
    /// The run shown: lifecycle, facts, losses, snapshot, status.
    run: RunModel,
    /// The settings the current run started with (to revert a change the user cancels), with
    /// the live ones (learning rate, noise, β) updated as they are sent.
    run_settings: Option<Settings>,
    pub loss: LossPlot,
    triptych: Triptych,
    latent: LatentView,
    /// Which view the latent quadrant shows.
    latent_tab: LatentTab,
    /// The snapshot each latent view shows, by `LatentTab` index (compared by identity: two
    /// snapshots can share a step).
    view_shows: [Option<Arc<Snapshot>>; 6],
    pub scatter3d: Scatter3d,
    pub manifold: Manifold,
    pub styles: Styles,
    pub traversals: Traversals,
    pub interpolation: Interpolation,
    sliders: Sliders,
    samples: Samples,
    selection: Selection,
    /// A dismissible error notice.
    notice: Option<String>,
    /// The warnings window is open.
    show_warnings: bool,
    /// Where the views were drawn last frame (loss plot, reconstructions, latent view,
    /// explorer), for **Export figure…**.
    view_rects: [Rect; 4],
    /// Milliseconds the trainer's events wait before asking for a frame (0: at once).
    frame_cap: Arc<AtomicU64>,
    /// The window is drawn by a software renderer (llvmpipe on a VM or a remote desktop).
    software_renderer: bool,
    /// When the user last moved, clicked, scrolled or typed.
    last_interaction: Instant,
    /// The timeline's replay is running, since its last moment changed.
    replaying: Option<Instant>,
    /// Draw your own: the canvas window and the drawing's code.
    pub draw: draw::Draw,
    /// The built-in lessons (the Lessons menu).
    lessons: Vec<crate::settings::file::SettingsFile>,
    /// Presentation view is on, and the zoom it replaced.
    presenting: Option<f32>,
    /// The lesson whose text is shown above the controls.
    lesson: Option<crate::settings::file::Lesson>,
    /// What the last figure export came to, set by its screenshot callback.
    figure_result: Arc<std::sync::Mutex<Option<Result<String, String>>>>,
    /// The settings a restart would use, while the user is asked to confirm.
    confirm_restart: Option<Settings>,
    stats: FrameStats,
    show_stats: bool,
    /// The folder a diverged run's last finite weights were kept in, while the notice offers
    /// to resume from them at a lower learning rate.
    recovery: Option<std::path::PathBuf>,
    /// Where runs autosave (a temporary folder of this process; last, so that the trainer has
    /// stopped writing when it is removed).
    checkpoints: TempFolder,
}

/// A folder removed when dropped.
struct TempFolder(std::path::PathBuf);

impl Drop for TempFolder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl StudioApp {
    /// Builds the app; `device` is where runs train.
    pub fn new(
        cc: &eframe::CreationContext<'_>,
        device: DeviceChoice,
        log_frame_stats: bool,
    ) -> std::io::Result<Self> {
        let mut settings: Settings = cc
            .storage
            .and_then(|s| eframe::get_value(s, SETTINGS_KEY))
            .unwrap_or_default();
        settings.device = device.to_string();
        style(&cc.egui_ctx);
        let ctx = cc.egui_ctx.clone();
        // The trainer's events ask for a frame at once, or after the cap set by `cap_frames`.
        let frame_cap = Arc::new(AtomicU64::new(0));
        let cap = frame_cap.clone();
        let trainer = Trainer::spawn(
            device,
            Box::new(move || match cap.load(Ordering::Relaxed) {
                0 => ctx.request_repaint(),
                ms => ctx.request_repaint_after(Duration::from_millis(ms)),
            }),
        )?;
        let software_renderer = cc
            .wgpu_render_state
            .as_ref()
            .is_some_and(|rs| rs.adapter.get_info().device_type == eframe::wgpu::DeviceType::Cpu);
        // The scatters draw their points through the window's GPU where it has one.
        if let Some(rs) = &cc.wgpu_render_state {
            points_gpu::install(rs);
        }

        let mut app = Self {
            settings,
            trainer,
            run: RunModel::default(),
            run_settings: None,
            loss: LossPlot::default(),
            triptych: Triptych::default(),
            latent: LatentView::default(),
            latent_tab: LatentTab::Scatter,
            view_shows: Default::default(),
            scatter3d: Scatter3d::default(),
            manifold: Manifold::default(),
            styles: Styles::default(),
            traversals: Traversals::default(),
            interpolation: Interpolation::default(),
            sliders: Sliders::default(),
            samples: Samples::default(),
            selection: Selection::default(),
            notice: None,
            show_warnings: false,
            view_rects: [Rect::NOTHING; 4],
            figure_result: Default::default(),
            frame_cap,
            software_renderer,
            last_interaction: Instant::now(),
            draw: draw::Draw::default(),
            replaying: None,
            lessons: crate::settings::lessons::builtin(),
            lesson: None,
            presenting: None,
            confirm_restart: None,
            stats: FrameStats::new(log_frame_stats),
            show_stats: log_frame_stats,
            recovery: None,
            checkpoints: TempFolder(
                std::env::temp_dir().join(format!("latentlab-studio-{}", std::process::id())),
            ),
        };
        if cc.wgpu_render_state.is_some() {
            app.assume_gpu_points();
        }
        Ok(app)
    }

    /// The folder run `run_id` autosaves to.
    fn run_checkpoints(&self, run_id: u64) -> std::path::PathBuf {
        self.checkpoints.0.join(format!("run-{run_id}"))
    }

    // --- Read-outs for tests and the frame-stats overlay. ---

    /// The run shown: its lifecycle, facts, losses, latest snapshot and status.
    pub fn run(&self) -> &RunModel {
        &self.run
    }

    pub fn triptych_filled(&self) -> bool {
        self.triptych.is_filled()
    }

    /// The triptych's row names ("input", "noisy", "output" for images; "curves" for series).
    pub fn triptych_rows(&self) -> Vec<&'static str> {
        self.triptych.row_names()
    }

    pub fn slider_values(&self) -> &[f32] {
        &self.sliders.values
    }

    /// Decodes `codes` with the latest snapshot's decoder.
    pub fn decode(&self, codes: &[f32]) -> Option<SampleGrid> {
        self.sliders.decode(codes)
    }

    pub fn decoded_sample(&self) -> Option<&SampleGrid> {
        self.sliders.decoded.as_ref()
    }

    pub fn selected_point(&self) -> Option<usize> {
        self.selection.index
    }

    pub fn latent_points(&self) -> usize {
        self.latent.len()
    }

    /// Where the drawing's code lands in the scatter, if it is drawn there.
    pub fn drawn_point(&self) -> Option<[f64; 2]> {
        self.latent.drawn_point()
    }

    /// The 2-D scatter's title (which projection, how much variance).
    pub fn scatter_title(&self) -> &str {
        self.latent.title()
    }

    /// True once the scatter has drawn image thumbnails.
    pub fn has_thumbnails(&self) -> bool {
        self.latent.has_thumbnails()
    }

    /// True while the scatter's t-SNE is being computed in the background.
    pub fn tsne_running(&self) -> bool {
        self.latent.tsne_running()
    }

    /// The 2-D scatter's plot coordinates of point `i`.
    pub fn scatter_coord(&self, i: usize) -> Option<[f64; 2]> {
        self.latent.plotted(i)
    }

    /// Where scatter point `i` was drawn last frame.
    pub fn scatter_pos(&self, i: usize) -> Option<egui::Pos2> {
        self.latent.screen_pos(i)
    }

    /// The scatter's series that hold points, by legend name, with their point counts.
    pub fn scatter_series(&self) -> Vec<(String, usize)> {
        self.latent.series_counts()
    }

    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    pub fn stats(&self) -> &FrameStats {
        &self.stats
    }

    /// Upgradable exactly while the trainer thread runs.
    pub fn trainer_liveness(&self) -> std::sync::Weak<()> {
        self.trainer.liveness()
    }

    /// What in the settings a run could not use, if anything: every field is checked, and
    /// the model, the batch and the memory estimate against the data where it is known.
    pub fn settings_problem(&self) -> Option<crate::settings::SettingsError> {
        let config = match self.settings.to_config() {
            Ok(config) => config,
            Err(e) => return Some(e),
        };
        if let Err(e) = self.settings.device_choice() {
            return Some(e);
        }
        let spec = self.settings.data_spec();
        // A user's files are known once a run has loaded them.
        let facts = crate::data::DataFacts::of_builtin(&spec).or_else(|| {
            let run = self.run_settings.as_ref()?;
            (run.data_spec() == spec).then_some(self.run.data_facts?)
        })?;
        crate::train::preflight(&config, &facts).err()
    }

    // --- Commands. ---

    fn start(&mut self, paused: bool) {
        self.start_from(paused, None);
    }

    /// Starts a run, from the checkpoint in `resume` when given (same architecture).
    fn start_from(&mut self, paused: bool, resume: Option<std::path::PathBuf>) {
        let config = match (self.settings_problem(), self.settings.to_config()) {
            (None, Ok(c)) => c,
            (Some(e), _) | (None, Err(e)) => {
                self.notice = Some(format!("Cannot start: {e}"));
                return;
            }
        };
        self.recovery = None;
        let run_id = self.run.begin(config.epochs, paused);
        // Earlier runs' checkpoints go, but for the one resumed from.
        if let Ok(entries) = std::fs::read_dir(&self.checkpoints.0) {
            for entry in entries.flatten() {
                if Some(entry.path()) != resume {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
        self.trainer.send(Command::Start(Box::new(StartRequest {
            run_id,
            config,
            resume_from: resume,
            start_paused: paused,
            checkpoint_dir: Some(self.run_checkpoints(run_id)),
            fault: None,
            device: self.settings.device_choice().ok(),
        })));
        if self.settings.speed.is_some() {
            // Read by the run before its first step.
            self.trainer.send(Command::SetSpeed(self.settings.speed));
        }
        self.clear_views();
        self.run_settings = Some(self.settings.clone());
    }

    /// Clears what the views derived from the last run.
    fn clear_views(&mut self) {
        self.loss.reset(Vec::new());
        self.triptych.clear();
        self.latent.clear();
        self.view_shows = Default::default();
        self.sliders.clear();
        self.samples.grid = None;
        self.manifold.grid = None;
        self.interpolation.a = None;
        self.interpolation.b = None;
        self.interpolation.strip = None;
        self.selection = Selection::default();
    }

    fn toggle_pause(&mut self) {
        if self.run.active {
            self.trainer.send(if self.run.paused {
                Command::Resume
            } else {
                Command::Pause
            });
        }
    }

    fn step_once(&mut self) {
        if !self.run.active {
            self.start(true);
        }
        self.trainer.send(Command::Step);
    }

    fn stop(&mut self) {
        if self.run.active {
            self.trainer.send(Command::Stop);
        }
    }

    fn reset(&mut self) {
        self.stop();
        // Events of the stopped run are ignored from now on.
        self.run.reset();
        self.run_settings = None;
        self.clear_views();
    }

    // --- Events. ---

    fn drain_events(&mut self, ctx: &egui::Context) {
        let deadline = Instant::now() + EVENT_BUDGET;
        while let Some(e) = self.trainer.try_recv() {
            let change = self.run.apply(e.run, e.event);
            self.follow(ctx, change);
            if Instant::now() >= deadline {
                ctx.request_repaint();
                break;
            }
        }
        self.loss.sync(&self.run.steps, &self.run.evals);
    }

    /// Brings the views that keep state of their own in line with a change of the run model.
    fn follow(&mut self, ctx: &egui::Context, change: Change) {
        match change {
            Change::Quiet => {}
            Change::Started => {
                let Some(info) = &self.run.info else {
                    return;
                };
                let vae = info.model.kind.is_variational();
                self.loss.reset(info.term_names.clone());
                self.sliders.prior = vae;
                self.latent.set_images(info.test_samples.clone());
                self.interpolation.spherical = vae;
                if info.model.kind == ModelKind::Sparse {
                    self.latent_tab = LatentTab::Activity;
                }
                if info.model.kind.uses_labels() || info.model.kind == ModelKind::Voice {
                    self.latent_tab = LatentTab::Styles;
                }
            }
            Change::Snapshot => {
                let Some(s) = self.run.snapshot.clone() else {
                    return;
                };
                self.triptych.update(ctx, &s, self.run.class_names());
                self.sliders.update(s.decoder.clone(), &s.latents);
                self.selection.refresh(ctx, &self.run, &self.sliders);
                // The latent views are brought up to date when drawn (`refresh_latent_view`):
                // only the visible one pays for its projection.
            }
            Change::Failed(message) => {
                let kept = self.run_checkpoints(self.run.run_id);
                self.recovery = (message.starts_with(crate::protocol::DIVERGED)
                    && kept.join(crate::train::checkpoint::META_FILE).exists())
                .then_some(kept);
                self.notice = Some(message);
            }
        }
    }

    fn refresh_manifold(&mut self, ctx: &egui::Context) {
        let (Some(s), Some(decoder)) = (&self.run.snapshot, self.sliders.decoder()) else {
            return;
        };
        let center = self.selection.index.map(|i| s.latents.code(i));
        self.manifold.update(ctx, decoder, &s.latents, center);
    }

    /// Runs what the interpolation window asked for.
    fn interpolation_ui(&mut self, ctx: &egui::Context) {
        let names = [
            self.run.describe_point(self.interpolation.a),
            self.run.describe_point(self.interpolation.b),
        ];
        let req = self
            .interpolation
            .window(ctx, names, self.selection.index.is_some());
        if req.set_a {
            self.interpolation.a = self.selection.index;
        }
        if req.set_b {
            self.interpolation.b = self.selection.index;
        }
        if req.run {
            self.interpolate(ctx);
        }
        if req.save
            && let Some(path) = rfd::FileDialog::new()
                .set_file_name("interpolation.png")
                .add_filter("PNG image", &["png"])
                .save_file()
        {
            let written = self.interpolation.save(&path);
            self.report_saved(&path, written);
        }
    }

    /// On a software renderer, while a run trains and nobody touches the window, frames come at
    /// most [`CAPPED_FPS`] a second: each costs the renderer ~100 ms of CPU that training would
    /// otherwise have. Any input lifts the cap for a second. Returns whether it is on.
    fn cap_frames(&mut self, ctx: &egui::Context) -> bool {
        let touched =
            ctx.input(|i| i.pointer.is_moving() || i.pointer.any_down() || !i.events.is_empty());
        if touched {
            self.last_interaction = Instant::now();
        }
        let capped = self.software_renderer
            && self.run.active
            && !self.run.paused
            && self.last_interaction.elapsed() > Duration::from_secs(1);
        let ms = if capped { 1000 / CAPPED_FPS } else { 0 };
        self.frame_cap.store(ms, Ordering::Relaxed);
        capped
    }

    /// Treats the window as drawn by a software renderer (UI tests have no renderer to ask).
    pub fn assume_software_renderer(&mut self) {
        self.software_renderer = true;
    }

    /// Makes the scatters hand their points to the GPU path, as in a window drawn by wgpu (UI
    /// tests have no renderer: the paint callbacks are dropped, everything else runs).
    pub fn assume_gpu_points(&mut self) {
        self.latent.gpu = true;
        self.scatter3d.gpu = true;
    }

    /// How long the trainer's events wait before asking for a frame, in ms (0: at once).
    pub fn frame_cap_ms(&self) -> u64 {
        self.frame_cap.load(Ordering::Relaxed)
    }

    /// Asks where, then writes the voice conversion shown as a WAV file.
    fn export_conversion(&mut self) {
        let Some(wav) = self.styles.conversion_wav() else {
            self.notice = Some("There is no conversion to export yet.".into());
            return;
        };
        let Some(path) = rfd::FileDialog::new()
            .set_file_name("conversion.wav")
            .add_filter("WAV sound", &["wav"])
            .save_file()
        else {
            return;
        };
        let written = crate::files::write_atomic(&path, &wav);
        self.report_saved(&path, written);
    }

    /// Says in the status bar that `path` was written, or in a notice why it was not.
    fn report_saved(&mut self, path: &std::path::Path, written: anyhow::Result<()>) {
        match written {
            Ok(()) => self.run.status.last_event = format!("Saved {}", path.display()),
            Err(e) => self.notice = Some(format!("{e:#}")),
        }
    }

    /// Decodes the path between the two chosen points.
    pub fn interpolate(&mut self, ctx: &egui::Context) {
        let (Some(a), Some(b), Some(s)) = (
            self.interpolation.a,
            self.interpolation.b,
            &self.run.snapshot,
        ) else {
            return;
        };
        if a < s.latents.len() && b < s.latents.len() {
            let (ca, cb) = (s.latents.code(a).to_vec(), s.latents.code(b).to_vec());
            self.interpolation
                .compute(ctx, s.decoder.as_ref(), &ca, &cb);
        }
    }

    /// Selects scatter point `i`: moves the sliders to its code and shows it.
    pub fn select(&mut self, ctx: &egui::Context, i: usize) {
        self.selection.index = Some(i);
        self.latent.selected = Some(i);
        if let Some(code) = self.run.latent_code(i) {
            self.sliders.set_code(code);
        }
        self.selection.refresh(ctx, &self.run, &self.sliders);
        // The manifold grid, the traversals and the style views start from the selection.
        for tab in [
            LatentTab::Manifold,
            LatentTab::Styles,
            LatentTab::Traversals,
        ] {
            self.view_shows[tab as usize] = None;
        }
    }

    /// Brings the visible latent view up to the latest snapshot, if it is not yet.
    fn refresh_latent_view(&mut self, ctx: &egui::Context) {
        let Some(s) = self.run.snapshot.clone() else {
            return;
        };
        let resized = self.latent_tab == LatentTab::Manifold && self.manifold.wrong_size();
        let slot = &mut self.view_shows[self.latent_tab as usize];
        if slot.as_ref().is_some_and(|shown| Arc::ptr_eq(shown, &s)) && !resized {
            return;
        }
        *slot = Some(s.clone());
        match self.latent_tab {
            LatentTab::Scatter => {
                self.latent
                    .update(&s, self.run.class_names(), self.run.test_factors())
            }
            LatentTab::Scatter3d => self.scatter3d.update(&s),
            // Drawn straight from the snapshot's statistics: nothing to derive.
            LatentTab::Activity => {}
            LatentTab::Manifold => self.refresh_manifold(ctx),
            LatentTab::Styles => {
                if let Some(info) = &self.run.info {
                    self.styles.update(
                        ctx,
                        &s,
                        &info.test_samples,
                        &info.class_names,
                        self.selection.index,
                    );
                }
            }
            LatentTab::Traversals => self.traversals.update(
                ctx,
                &s,
                self.run.test_factors().as_deref(),
                self.selection.index,
            ),
        }
    }

    // --- Layout. ---

    fn restart_dialog_ui(&mut self, ctx: &egui::Context) {
        let Some(new) = self.confirm_restart.clone() else {
            return;
        };
        match dialogs::confirm_restart_ui(ctx) {
            Some(true) => {
                self.confirm_restart = None;
                // Checked before the run is stopped: settings that cannot start keep it.
                match new.to_config() {
                    Ok(_) => {
                        self.settings = new;
                        self.stop();
                        self.start(false);
                    }
                    Err(e) => {
                        self.notice = Some(format!("Cannot restart: {e}; the current run goes on"))
                    }
                }
            }
            Some(false) => {
                self.confirm_restart = None;
                if let Some(old) = &self.run_settings {
                    // Keep the live and next-run settings the user may have changed meanwhile.
                    self.settings = old.with_adjustable_from(&self.settings);
                }
            }
            None => {}
        }
    }
}

/// Larger type and spacing than egui's defaults: a class at the back of the room reads it.
fn style(ctx: &egui::Context) {
    use egui::{FontFamily, FontId, TextStyle};
    ctx.global_style_mut(|style| {
        style.text_styles = [
            (
                TextStyle::Heading,
                FontId::new(20.0, FontFamily::Proportional),
            ),
            (TextStyle::Body, FontId::new(15.5, FontFamily::Proportional)),
            (
                TextStyle::Monospace,
                FontId::new(14.0, FontFamily::Monospace),
            ),
            (
                TextStyle::Button,
                FontId::new(15.5, FontFamily::Proportional),
            ),
            (
                TextStyle::Small,
                FontId::new(12.5, FontFamily::Proportional),
            ),
        ]
        .into();
        style.spacing.item_spacing = egui::vec2(8.0, 6.0);
        style.spacing.button_padding = egui::vec2(8.0, 4.0);
    });
}

impl eframe::App for StudioApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.stats.begin_frame();
        self.drain_events(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        let typing = ctx.memory(|m| m.focused().is_some());
        if !typing && ctx.input(|i| i.key_pressed(Key::Space)) {
            self.toggle_pause();
        }
        if ctx.input(|i| i.key_pressed(Key::F12)) {
            self.show_stats = !self.show_stats;
        }
        if ctx.input(|i| i.key_pressed(Key::F11))
            || (self.presenting.is_some() && ctx.input(|i| i.key_pressed(Key::Escape)))
        {
            self.set_presenting(&ctx, self.presenting.is_none());
        }

        let capped = self.cap_frames(&ctx);
        let stats_text = match (capped, self.show_stats) {
            (false, false) => None,
            (capped, show) => Some(
                [
                    capped.then(|| {
                        format!("{CAPPED_FPS} frames/s while training (software renderer; moving the mouse draws at full rate)")
                    }),
                    show.then(|| self.stats.report().replace('\n', " | ")),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" | "),
            ),
        };
        let menu_actions = egui::Panel::top("menu")
            .show(ui, |ui| self.menu_ui(&ctx, ui))
            .inner;
        self.collect_figure_result();
        let status = egui::Panel::bottom("status")
            .show(ui, |ui| {
                status_ui(ui, &self.run.status, stats_text.as_deref())
            })
            .inner;
        if status.cancel_loading {
            self.stop();
        }
        if status.show_warnings {
            self.show_warnings = !self.show_warnings;
        }
        self.warnings_window(&ctx);
        self.open_dropped(&ctx);
        let decoder = self
            .run
            .snapshot
            .as_ref()
            .map(|s| (s.decoder.clone(), s.step));
        self.draw.window(
            &ctx,
            decoder.as_ref().map(|d| &d.0),
            decoder.as_ref().map_or(0, |d| d.1),
        );
        self.latent.drawn = self.draw.open.then(|| self.draw.encoding.clone()).flatten();

        let next_run = self
            .run_settings
            .as_ref()
            .filter(|_| self.run.active)
            .map(|r| self.settings.next_run_changes(r))
            .unwrap_or_default();
        let problem = self.settings_problem();
        let run = RunStatus {
            active: self.run.active,
            paused: self.run.paused,
            next_run: &next_run,
            problem: problem.as_ref(),
        };
        let actions = if self.presenting.is_some() {
            // The controls fold away; the menu bar keeps Train, Pause, Step and Stop.
            menu_actions
        } else {
            egui::Panel::left("controls")
                .exact_size(300.0)
                .show(ui, |ui| {
                    egui::ScrollArea::vertical()
                        .show(ui, |ui| {
                            menu::lesson_ui(ui, &mut self.lesson);
                            controls_ui(ui, &mut self.settings, run)
                        })
                        .inner
                })
                .inner
        };
        // The timeline sits under the views once a run has two moments to choose from. Shown
        // after the controls panel, it spans the views only: its appearing mid-run leaves the
        // controls' layout (and the Run buttons under a pointer) where they were.
        if self.run.history.len() > 1 {
            egui::Panel::bottom("timeline").show(ui, |ui| self.timeline_ui(&ctx, ui));
        }
        self.apply_setting_changes();
        if actions.train {
            self.start(false);
        }
        if actions.pause_toggle {
            self.toggle_pause();
        }
        if actions.step {
            self.step_once();
        }
        if actions.stop {
            self.stop();
        }
        if actions.reset {
            self.reset();
        }
        if actions.open_csv {
            self.pick_csv();
        }
        if actions.open_folder {
            self.pick_image_folder();
        }

        egui::CentralPanel::default().show(ui, |ui| {
            let full = ui.available_rect_before_wrap();
            let gap = 10.0;
            let top_h = (full.height() - gap) * 0.5;
            let left_w = (full.width() - gap) * 0.42;
            let cells = [
                Rect::from_min_size(full.min, Vec2::new(left_w, top_h)),
                Rect::from_min_max(
                    egui::pos2(full.min.x + left_w + gap, full.min.y),
                    egui::pos2(full.max.x, full.min.y + top_h),
                ),
                Rect::from_min_max(
                    egui::pos2(full.min.x, full.min.y + top_h + gap),
                    egui::pos2(full.min.x + (full.width() - gap) * 0.5, full.max.y),
                ),
                Rect::from_min_max(
                    egui::pos2(
                        full.min.x + (full.width() - gap) * 0.5 + gap,
                        full.min.y + top_h + gap,
                    ),
                    full.max,
                ),
            ];
            self.view_rects = cells;
            ui.scope_builder(UiBuilder::new().max_rect(cells[0]), |ui| {
                self.loss.ui(ui, &self.run.marks)
            });
            ui.scope_builder(UiBuilder::new().max_rect(cells[1]), |ui| {
                self.triptych.ui(ui)
            });
            let picked = ui
                .scope_builder(UiBuilder::new().max_rect(cells[2]), |ui| {
                    ui.horizontal_wrapped(|ui| {
                        ui.selectable_value(&mut self.latent_tab, LatentTab::Scatter, "Scatter")
                            .on_hover_text(
                                "Every test image as a point at its code (projected to 2-D), \
                                 coloured by its class: similar images land close together",
                            );
                        ui.selectable_value(&mut self.latent_tab, LatentTab::Scatter3d, "3-D")
                            .on_hover_text("The codes in three dimensions; drag to turn them");
                        ui.selectable_value(
                            &mut self.latent_tab,
                            LatentTab::Activity,
                            "Code activity",
                        )
                        .on_hover_text(
                            "How much each code number is used: near zero for most images means \
                             a unit the model switched off",
                        );
                        ui.selectable_value(
                            &mut self.latent_tab,
                            LatentTab::Manifold,
                            "Manifold grid",
                        )
                        .on_hover_text(
                            "Decodes of a grid of codes across the latent plane: what the model \
                             draws everywhere between the test points",
                        );
                        ui.selectable_value(&mut self.latent_tab, LatentTab::Styles, "Styles")
                            .on_hover_text(
                                "Style swaps, convert and attribute vectors: one image's style \
                                 drawn as another class",
                            );
                        ui.selectable_value(
                            &mut self.latent_tab,
                            LatentTab::Traversals,
                            "Traversals",
                        )
                        .on_hover_text("Each latent dimension swept on its own, one row each");
                        if ui
                            .selectable_label(self.draw.open, "Draw")
                            .on_hover_text(
                                "Draw a digit with the mouse: the model encodes it as it trains, \
                                 and it appears as a point here",
                            )
                            .clicked()
                        {
                            self.draw.open = !self.draw.open;
                        }
                        if ui
                            .add_enabled(
                                self.run.snapshot.is_some(),
                                egui::Button::new("Export..."),
                            )
                            .on_hover_text(
                                "Save the test embeddings for TensorBoard's Embedding Projector",
                            )
                            .clicked()
                            && let Some(dir) = rfd::FileDialog::new().pick_folder()
                        {
                            match self.run.export_embeddings(&dir) {
                                Ok(msg) => self.run.status.last_event = msg,
                                Err(e) => self.notice = Some(format!("{e:#}")),
                            }
                        }
                    });
                    self.refresh_latent_view(&ctx);
                    match self.latent_tab {
                        LatentTab::Scatter => self.latent.ui(ui),
                        LatentTab::Scatter3d => {
                            self.scatter3d
                                .ui(ui, self.selection.index, self.run.class_names())
                        }
                        LatentTab::Activity => {
                            let stats = self.run.snapshot.as_ref().map(|s| &s.latents.stats);
                            activity_ui(ui, stats.unwrap_or(&LatentStats::default()));
                            None
                        }
                        LatentTab::Manifold => {
                            // A new size shows from the next frame (`wrong_size`).
                            self.manifold.ui(ui);
                            None
                        }
                        LatentTab::Styles => {
                            if self.styles.ui(ui) {
                                self.export_conversion();
                            }
                            None
                        }
                        LatentTab::Traversals => {
                            self.traversals.ui(ui);
                            None
                        }
                    }
                })
                .inner;
            if let Some(i) = picked {
                self.select(&ctx, i);
            }
            let mut open_samples = false;
            ui.scope_builder(UiBuilder::new().max_rect(cells[3]), |ui| {
                let selection = &self.selection;
                let vae = self.sliders.prior;
                let interpolation = &mut self.interpolation;
                self.sliders.ui(
                    ui,
                    &mut self.stats.decode,
                    |ui| {
                        if ui
                            .button("Interpolation...")
                            .on_hover_text("Decode the path between two points")
                            .clicked()
                        {
                            interpolation.open = true;
                        }
                        if vae {
                            open_samples = ui
                                .button("Samples")
                                .on_hover_text("A grid of images generated from the prior")
                                .clicked();
                        }
                    },
                    |ui| selection.ui(ui),
                );
            });
            if open_samples && let Some(d) = self.sliders.decoder().cloned() {
                self.samples.open = true;
                self.samples.regenerate(&ctx, &d);
            }
            ui.advance_cursor_after_rect(full);
        });

        let decoder = self.sliders.decoder().cloned();
        self.samples.window(&ctx, decoder.as_ref());
        self.interpolation_ui(&ctx);
        self.restart_dialog_ui(&ctx);
        let lower = self.settings.lr / 10.0;
        let action = self
            .recovery
            .as_ref()
            .map(|_| format!("Resume from the kept weights at learning rate {lower:.1e}"));
        if dialogs::notice_ui(&ctx, &mut self.notice, action.as_deref())
            && let Some(kept) = self.recovery.take()
        {
            self.settings.lr = lower;
            self.start_from(false, Some(kept));
        }
        if self.notice.is_none() {
            self.recovery = None;
        }
        let (step, rate) = (self.run.status.step, self.run.status.samples_per_sec);
        let (points, tab) = (self.latent_points(), self.latent_tab);
        self.stats.end_frame(|| {
            format!("run: step {step}, {rate:.0} samples/s; {points} latent points, view {tab:?}")
        });
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, SETTINGS_KEY, &self.settings);
    }
}

impl StudioApp {
    /// Sends live changes to the trainer (whatever made them) and asks before a change that
    /// needs a new model.
    fn apply_setting_changes(&mut self) {
        let usable = self.settings_problem().is_none();
        let Some(run) = self.run_settings.as_mut().filter(|_| self.run.active) else {
            return;
        };
        let s = &self.settings;
        if s.lr != run.lr {
            run.lr = s.lr;
            self.trainer.send(Command::SetLearningRate(s.lr));
        }
        if s.noise != run.noise {
            run.noise = s.noise;
            self.trainer.send(Command::SetNoise(s.noise));
        }
        if s.beta != run.beta {
            run.beta = s.beta;
            self.trainer.send(Command::SetBeta(s.beta));
        }
        if s.speed != run.speed {
            run.speed = s.speed;
            self.trainer.send(Command::SetSpeed(s.speed));
        }
        // Settings that cannot start a run (a width list being typed, a batch larger than the
        // data) ask nothing yet: the field is marked and the run goes on.
        if self.confirm_restart.is_none() && run.needs_restart(s) && usable {
            self.confirm_restart = Some(s.clone());
        }
    }
}

/// How the studio was started.
#[derive(Debug, Clone, Default)]
pub struct Launch {
    pub device: DeviceChoice,
    /// Log frame-time percentiles to stderr.
    pub log_frame_stats: bool,
    /// Start training at once.
    pub autostart: bool,
    /// Data from the command line instead of the built-in sets.
    pub data: Option<DataSpec>,
    /// Points for the latent views, instead of the saved setting.
    pub points: Option<usize>,
    /// The model kind to start with, instead of the saved one (its default architecture).
    pub model: Option<ModelKind>,
    /// A settings file to start from (`--settings`), applied before the options above.
    pub settings: Option<std::path::PathBuf>,
}

/// Frames a second while training on a software renderer, untouched.
const CAPPED_FPS: u64 = 4;

/// Opens the studio window and runs until it is closed.
pub fn run(launch: Launch) -> anyhow::Result<()> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Latent Lab")
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([900.0, 600.0]),
        depth_buffer: points_gpu::DEPTH_BITS,
        ..Default::default()
    };
    eframe::run_native(
        "Latent Lab",
        options,
        Box::new(move |cc| {
            let mut app = StudioApp::new(cc, launch.device, launch.log_frame_stats)?;
            if let Some(path) = &launch.settings {
                app.open_settings(path);
            }
            if launch.data.is_some() {
                app.settings.custom_data = launch.data;
                app.settings.fit_model_to_data();
            }
            if let Some(points) = launch.points {
                app.settings.max_points = points;
            }
            if let Some(kind) = launch.model {
                let base = app.settings.base;
                app.settings.set_kind(kind, base);
                app.settings.fit_model_to_data();
            }
            if launch.autostart {
                app.start(false);
            }
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the studio window: {e}"))
}
