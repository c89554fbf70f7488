//! The menu bar and what its items do: File (image folders, CSV, settings files, models,
//! figures, metrics), View (presentation view), Lessons; dropped files; the warnings window and
//! the lesson text above the controls.

use anyhow::Context as _;

use super::controls::{Actions, CSV_HELP, RunStatus, run_buttons};
use super::{StudioApp, figure};
use crate::data::DataSpec;
use crate::protocol::Command;
use crate::settings::Settings;

impl StudioApp {
    /// The menu bar: File (data, settings, models, figures and metrics in and out), View,
    /// Lessons, and in presentation view the run's buttons, whose actions it returns.
    pub(super) fn menu_ui(&mut self, ctx: &egui::Context, ui: &mut egui::Ui) -> Actions {
        let mut actions = Actions::default();
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui
                    .button("Open image folder...")
                    .on_hover_text(
                        "Train on your own pictures: one subfolder per class, or all in one \
                         folder unlabelled",
                    )
                    .clicked()
                {
                    self.pick_image_folder();
                }
                if ui
                    .button("Open CSV series...")
                    .on_hover_text(CSV_HELP)
                    .clicked()
                {
                    self.pick_csv();
                }
                ui.separator();
                if ui
                    .button("Open settings...")
                    .on_hover_text("An experiment saved as a TOML file: model, data, training")
                    .clicked()
                    && let Some(path) = rfd::FileDialog::new()
                        .add_filter("Latent Lab settings", &["toml"])
                        .pick_file()
                {
                    self.open_settings(&path);
                }
                if ui
                    .button("Save settings...")
                    .on_hover_text("This experiment as a small TOML file to hand to a class")
                    .clicked()
                    && let Some(path) = rfd::FileDialog::new()
                        .set_file_name("experiment.toml")
                        .add_filter("Latent Lab settings", &["toml"])
                        .save_file()
                {
                    self.save_settings(&path);
                }
                ui.separator();
                if ui
                    .button("Open model...")
                    .on_hover_text(
                        "A saved model folder: restores its settings and data and shows its latent space, paused",
                    )
                    .clicked()
                    && let Some(dir) = rfd::FileDialog::new().pick_folder()
                {
                    self.open_model(&dir);
                }
                if ui
                    .add_enabled(self.run.info.is_some(), egui::Button::new("Save model..."))
                    .on_hover_text("The current weights with their settings, into a folder")
                    .clicked()
                    && let Some(dir) = rfd::FileDialog::new().pick_folder()
                {
                    self.save_model(&dir);
                }
                ui.separator();
                ui.menu_button("Export figure", |ui| {
                    for f in figure::Figure::ALL {
                        if ui.button(f.label()).clicked()
                            && let Some(path) = rfd::FileDialog::new()
                                .set_file_name(f.file_name())
                                .add_filter("PNG image", &["png"])
                                .save_file()
                        {
                            self.export_figure(ctx, f, path);
                        }
                    }
                });
                if ui
                    .add_enabled(!self.run.steps.is_empty(), egui::Button::new("Export metrics..."))
                    .on_hover_text("The loss history, one row per step, as CSV")
                    .clicked()
                    && let Some(path) = rfd::FileDialog::new()
                        .set_file_name("metrics.csv")
                        .add_filter("CSV table", &["csv"])
                        .save_file()
                {
                    self.export_metrics(&path);
                }
                let kept = self.run.history.len() > 1;
                for (label, hover, file, kind, ext, animated) in [
                    (
                        "Export timeline as GIF...",
                        "The run replayed: every moment the timeline keeps, a bar showing how far in",
                        "history.gif",
                        "GIF animation",
                        "gif",
                        true,
                    ),
                    (
                        "Export timeline as PNG strip...",
                        "The test images on top, then their reconstructions at up to a dozen moments \
                         of the run, oldest first: how the model learned, on one slide",
                        "history.png",
                        "PNG image",
                        "png",
                        false,
                    ),
                ] {
                    if ui
                        .add_enabled(kept, egui::Button::new(label))
                        .on_hover_text(hover)
                        .clicked()
                        && let Some(path) = rfd::FileDialog::new()
                            .set_file_name(file)
                            .add_filter(kind, &[ext])
                            .save_file()
                    {
                        self.export_history(&path, animated);
                    }
                }
            })
            .response
            .on_hover_text("Data, settings and models in and out; figures, metrics and the timeline out");
            ui.menu_button("View", |ui| {
                let on = self.presenting.is_some();
                if ui
                    .selectable_label(on, "Presentation view (F11)")
                    .on_hover_text(
                        "Large text, thick lines, high contrast, the controls folded away, full \
                         screen: readable at the back of a room. F11 or Esc leaves it.",
                    )
                    .clicked()
                {
                    self.set_presenting(ctx, !on);
                }
            })
            .response
            .on_hover_text("Presentation view, for a projector");
            ui.menu_button("Lessons", |ui| {
                let mut chosen = None;
                for (i, f) in self.lessons.iter().enumerate() {
                    if let Some(lesson) = &f.lesson
                        && ui.button(&lesson.title).on_hover_text(&lesson.text).clicked()
                    {
                        chosen = Some(i);
                    }
                }
                if let Some(i) = chosen {
                    self.start_lesson(i);
                }
            })
            .response
            .on_hover_text("Ready experiments, one click each, with what to look at and try");
            if self.presenting.is_some() {
                ui.separator();
                actions = self.presenting_run_bar(ui);
            }
        });
        actions
    }

    /// The run's buttons in the menu bar while the controls are folded away; what they asked
    /// for is carried out with the controls' own actions.
    pub(super) fn presenting_run_bar(&mut self, ui: &mut egui::Ui) -> Actions {
        let mut actions = Actions::default();
        let run = RunStatus {
            active: self.run.active,
            paused: self.run.paused,
            next_run: &[],
            problem: None,
        };
        run_buttons(ui, run, None, &mut actions);
        if let Some(l) = &self.lesson {
            ui.separator();
            ui.label(&l.title);
        }
        if ui
            .button("Exit presentation")
            .on_hover_text("Back to the controls panel and normal text (F11 or Esc)")
            .clicked()
        {
            let ctx = ui.ctx().clone();
            self.set_presenting(&ctx, false);
        }
        actions
    }

    /// Presentation view on or off: zoom (text, lines, points; see [`presentation_zoom`]) and high contrast, the
    /// controls folded into the menu bar, full screen.
    pub fn set_presenting(&mut self, ctx: &egui::Context, on: bool) {
        match (on, self.presenting) {
            (true, None) => {
                let zoom = ctx.zoom_factor();
                self.presenting = Some(zoom);
                ctx.set_zoom_factor(presentation_zoom(ctx, zoom));
                ctx.set_visuals(high_contrast());
            }
            (false, Some(zoom)) => {
                self.presenting = None;
                ctx.set_zoom_factor(zoom);
                ctx.set_visuals(egui::Visuals::dark());
            }
            _ => return,
        }
        ctx.send_viewport_cmd(egui::ViewportCommand::Fullscreen(on));
    }

    pub fn presenting(&self) -> bool {
        self.presenting.is_some()
    }

    /// The built-in lessons' titles, in menu order.
    pub fn lesson_titles(&self) -> Vec<&str> {
        self.lessons
            .iter()
            .filter_map(|f| f.lesson.as_ref().map(|l| l.title.as_str()))
            .collect()
    }

    /// The lesson shown, if any.
    pub fn lesson(&self) -> Option<&crate::settings::file::Lesson> {
        self.lesson.as_ref()
    }

    /// Takes an experiment's configuration (a lesson, a settings file, a saved model) as the
    /// settings; the Device field stays, as it belongs to this machine, not to the experiment.
    fn adopt_config(&mut self, config: &crate::settings::TrainConfig) {
        self.settings = Settings {
            device: self.settings.device.clone(),
            ..Settings::from_config(config)
        };
    }

    /// Loads lesson `i` (its settings and text) and starts training it; a run in progress ends.
    pub fn start_lesson(&mut self, i: usize) {
        let Some(f) = self.lessons.get(i).cloned() else {
            return;
        };
        self.stop();
        self.adopt_config(&f.config);
        self.lesson = f.lesson;
        self.start(false);
    }

    /// Asks for a CSV file of series and trains the next run on it.
    pub(super) fn pick_csv(&mut self) {
        if let Some(path) = rfd::FileDialog::new()
            .add_filter("CSV or TSV series", &["csv", "tsv", "txt"])
            .pick_file()
        {
            self.open_csv(path);
        }
    }

    /// Asks for a folder of images and trains the next run on it.
    pub(super) fn pick_image_folder(&mut self) {
        if let Some(dir) = rfd::FileDialog::new().pick_folder() {
            self.open_folder(dir);
        }
    }

    pub(super) fn open_csv(&mut self, path: std::path::PathBuf) {
        self.settings.custom_data = Some(DataSpec::Csv {
            train: path,
            test: None,
            options: Default::default(),
        });
        self.settings.fit_model_to_data();
    }

    /// Takes a settings file's experiment as the settings (the current ones stay on error).
    pub fn open_settings(&mut self, path: &std::path::Path) {
        match crate::settings::file::read(path) {
            Ok(file) => {
                self.adopt_config(&file.config);
                self.lesson = file.lesson;
                self.run.status.last_event = format!("Settings from {}", path.display());
            }
            Err(e) => self.notice = Some(format!("Cannot open these settings: {e}")),
        }
    }

    /// Writes the settings as a settings file.
    pub fn save_settings(&mut self, path: &std::path::Path) {
        let written = self
            .settings
            .to_config()
            .map_err(|e| e.to_string())
            .and_then(|c| crate::settings::file::to_text(&c, self.lesson.as_ref()))
            .map_err(anyhow::Error::msg)
            .and_then(|text| crate::files::write_atomic(path, text.as_bytes()))
            .context("Cannot save the settings");
        self.report_saved(path, written);
    }

    /// Restores a saved model's settings and data and shows its latent space: a run resumed
    /// from it, paused before its first step (Resume trains on from there).
    pub fn open_model(&mut self, dir: &std::path::Path) {
        match crate::train::checkpoint::read_meta(dir) {
            Ok((dir, meta)) => {
                // A run in progress ends first (the worker reads the Stop before the Start).
                self.stop();
                self.adopt_config(&meta.config);
                self.start_from(true, Some(dir));
            }
            Err(e) => self.notice = Some(format!("Cannot open this model: {e:#}")),
        }
    }

    /// Saves the current weights into `dir`: the running model, or the last one a run kept.
    pub fn save_model(&mut self, dir: &std::path::Path) {
        if self.run.active {
            self.trainer
                .send(Command::SaveCheckpoint(dir.to_path_buf()));
            return;
        }
        match crate::train::checkpoint::copy(&self.run_checkpoints(self.run.run_id), dir) {
            Ok(()) => self.run.status.last_event = format!("Model saved to {}", dir.display()),
            Err(e) => self.notice = Some(format!("Cannot save the model: {e:#}")),
        }
    }

    /// Writes the loss history as CSV.
    pub fn export_metrics(&mut self, path: &std::path::Path) {
        let names = self
            .run
            .info
            .as_ref()
            .map_or(&[][..], |i| &i.term_names[..]);
        let csv =
            crate::metrics::MetricsLog::from_history(names, &self.run.steps, &self.run.evals).csv();
        let written = crate::files::write_atomic(path, csv.as_bytes());
        self.report_saved(path, written);
    }

    /// Writes the timeline's kept moments: replayed as a GIF (`animated`) or as a PNG strip of
    /// reconstructions over time, as `latentlab train` writes them into its run folder.
    pub fn export_history(&mut self, path: &std::path::Path, animated: bool) {
        let written = crate::render::history_file(&self.run.history, animated)
            .and_then(|bytes| crate::files::write_atomic(path, &bytes));
        self.report_saved(path, written);
    }

    /// Writes a view as a PNG once the next frame is drawn (a screenshot, cut to the view).
    pub(super) fn export_figure(
        &mut self,
        ctx: &egui::Context,
        figure: figure::Figure,
        path: std::path::PathBuf,
    ) {
        let region = match figure {
            figure::Figure::LossPlot => Some(self.view_rects[0]),
            figure::Figure::Reconstructions => Some(self.view_rects[1]),
            figure::Figure::LatentView => Some(self.view_rects[2]),
            figure::Figure::Explorer => Some(self.view_rects[3]),
            figure::Figure::Window => None,
        };
        let scale = ctx.pixels_per_point();
        let slot = self.figure_result.clone();
        let repaint = ctx.clone();
        ctx.request_screenshot(move |image| {
            let result = figure::png(&image, region, scale)
                .and_then(|png| crate::files::write_atomic(&path, &png))
                .map(|()| format!("Saved {}", path.display()))
                .map_err(|e| format!("Cannot export the figure: {e:#}"));
            if let Ok(mut slot) = slot.lock() {
                *slot = Some(result);
            }
            repaint.request_repaint();
        });
    }

    /// Shows what a figure export came to, once its screenshot has been written.
    pub(super) fn collect_figure_result(&mut self) {
        let result = self.figure_result.lock().ok().and_then(|mut s| s.take());
        match result {
            Some(Ok(msg)) => self.run.status.last_event = msg,
            Some(Err(e)) => self.notice = Some(e),
            None => {}
        }
    }

    /// Trains the next run on a folder of images (its size and fit as last chosen).
    pub(super) fn open_folder(&mut self, dir: std::path::PathBuf) {
        let options = match &self.settings.custom_data {
            Some(DataSpec::Folder { options, .. }) => options.clone(),
            _ => Default::default(),
        };
        self.run.status.last_event = format!("Next run trains on the images in {}", dir.display());
        self.settings.custom_data = Some(DataSpec::Folder { dir, options });
        self.settings.fit_model_to_data();
    }

    /// Opens what was dropped on the window: a folder of images, a CSV file of series, or image
    /// files (the folder that holds them).
    pub(super) fn open_dropped(&mut self, ctx: &egui::Context) {
        let dropped = ctx.input(|i| i.raw.dropped_files.clone());
        let Some(path) = dropped.into_iter().next().map(|f| f.path().to_path_buf()) else {
            return;
        };
        let extension = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        if path.is_dir() {
            self.open_folder(path);
        } else if ["csv", "tsv", "txt"].contains(&extension.as_str()) {
            self.open_csv(path);
        } else if extension == "toml" {
            self.open_settings(&path);
        } else if let Some(dir) = path.parent() {
            self.open_folder(dir.to_path_buf());
        }
    }

    /// The run's warnings in full (skipped files with their reasons, repairs), while asked for.
    pub(super) fn warnings_window(&mut self, ctx: &egui::Context) {
        let mut open = self.show_warnings;
        egui::Window::new("Warnings")
            .open(&mut open)
            .default_size([560.0, 320.0])
            .show(ctx, |ui| {
                egui::ScrollArea::both().show(ui, |ui| {
                    for w in &self.run.status.warnings {
                        ui.monospace(w);
                        ui.separator();
                    }
                });
            });
        self.show_warnings = open;
    }
}

/// How much presentation view enlarges everything: as much as keeps about 1000 points across
/// the screen (the width the studio's views are laid out for), at least ×1.25: ×1.9 on a
/// 1920-pixel projector, ×1.28 on a 1280-pixel one.
fn presentation_zoom(ctx: &egui::Context, zoom: f32) -> f32 {
    let points = ctx.input(|i| {
        i.viewport()
            .monitor_size
            .map_or(i.content_rect().width(), |m| m.x)
    });
    // Points at the current zoom, back to the screen's pixels at zoom 1.
    let pixels = points * zoom;
    (pixels / 1000.0).clamp(1.25, 2.5)
}

/// egui's dark look with black backgrounds, white text and thicker strokes, for projectors.
fn high_contrast() -> egui::Visuals {
    use egui::{Color32, Stroke};
    let mut v = egui::Visuals::dark();
    v.override_text_color = Some(Color32::WHITE);
    v.panel_fill = Color32::BLACK;
    v.window_fill = Color32::BLACK;
    v.extreme_bg_color = Color32::BLACK;
    v.faint_bg_color = Color32::from_gray(24);
    for w in [
        &mut v.widgets.noninteractive,
        &mut v.widgets.inactive,
        &mut v.widgets.hovered,
        &mut v.widgets.active,
        &mut v.widgets.open,
    ] {
        w.fg_stroke.width = 2.0;
        w.bg_stroke = Stroke::new(w.bg_stroke.width.max(1.0) * 1.5, Color32::from_gray(170));
    }
    v.widgets.noninteractive.fg_stroke.color = Color32::WHITE;
    v
}

/// The shown lesson's title and text, with a button that hides it.
pub(super) fn lesson_ui(ui: &mut egui::Ui, lesson: &mut Option<crate::settings::file::Lesson>) {
    let Some(l) = lesson else {
        return;
    };
    let mut close = false;
    egui::Frame::group(ui.style()).show(ui, |ui| {
        // Wrapped at the panel's width, the title too (titles are longer than the panel).
        ui.set_max_width(ui.available_width());
        ui.add(egui::Label::new(egui::RichText::new(&l.title).strong()).wrap());
        ui.add(egui::Label::new(l.text.trim()).wrap());
        close = ui
            .small_button("Hide")
            .on_hover_text("Hide the lesson text (the Lessons menu brings it back)")
            .clicked();
    });
    if close {
        *lesson = None;
    }
    ui.add_space(6.0);
}
