//! The controls panel: dataset, model, hyperparameters, noise, and the run buttons.

use egui::{Button, ComboBox, DragValue, Slider};

use crate::data::NoiseKind;
use crate::settings::{
    BaseNet, BuiltinData, CellKind, Field, LossKind, MAX_POINTS, ModelKind, Settings,
    SettingsError, SparsityKind,
};

/// What a CSV file of series holds, for the two places that open one.
pub const CSV_HELP: &str = "One series per row, first column the class label (UCR layout)";

/// What the user asked for with the buttons this frame.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Actions {
    pub train: bool,
    pub pause_toggle: bool,
    pub step: bool,
    pub stop: bool,
    pub reset: bool,
    /// Pick a CSV file of series to train on.
    pub open_csv: bool,
    /// Pick a folder of images to train on.
    pub open_folder: bool,
}

/// Where the run stands, for enabling buttons and saying what waits for the next run.
#[derive(Debug, Clone, Copy)]
pub struct RunStatus<'a> {
    pub active: bool,
    pub paused: bool,
    /// Settings changed since the run started that apply only to the next run.
    pub next_run: &'a [&'static str],
    /// What in the settings a run could not use (the studio marks that control).
    pub problem: Option<&'a SettingsError>,
}

/// The row a field is set in, by its label; `None` for fields the studio has no control for
/// (they come from settings files, which are refused by name when opened).
fn row_label(field: Field) -> Option<&'static str> {
    Some(match field {
        Field::Dataset => "Dataset",
        Field::Network => "Network",
        Field::LatentSize => "Latent size",
        Field::HiddenWidths => "Hidden widths",
        Field::Loss => "Loss",
        Field::LearningRate => "Learning rate",
        Field::BatchSize => "Batch size",
        Field::Epochs => "Epochs",
        Field::NoiseLevel => "Noise level",
        Field::Beta => "β",
        Field::SparsityWeight => "Penalty weight",
        Field::ScatterPoints => "Scatter points",
        Field::Device => "Device",
        Field::SparsityTarget | Field::EvalEvery | Field::SnapshotInterval => return None,
    })
}

/// Marks the control of the setting a run could not use: its label in the error colour, the
/// reason first in its hover text.
#[derive(Clone, Copy)]
struct Marks<'a>(Option<&'a SettingsError>);

impl Marks<'_> {
    /// Why the setting in the row `label` cannot be used, when it is the one at fault.
    fn why(self, label: &str) -> Option<String> {
        let e = self.0?;
        (row_label(e.field()) == Some(label)).then(|| e.to_string())
    }

    /// `text` for the row `label`: in the error colour when it is at fault.
    fn text(self, ui: &egui::Ui, label: &str, text: &str) -> egui::RichText {
        let text = egui::RichText::new(text);
        match self.why(label) {
            Some(_) => text.color(ui.visuals().error_fg_color),
            None => text,
        }
    }

    /// `hover` with the reason the setting `label` cannot be used before it.
    fn hover(self, label: &str, hover: &str) -> String {
        match self.why(label) {
            Some(why) => format!("{why}. {hover}"),
            None => hover.to_string(),
        }
    }

    /// A labelled grid row; the label names the widget for screen readers and UI tests, and
    /// both say in plain words what the setting does when pointed at.
    fn row(
        self,
        ui: &mut egui::Ui,
        label: &str,
        hover: &str,
        add: impl FnOnce(&mut egui::Ui) -> egui::Response,
    ) {
        let hover = self.hover(label, hover);
        let text = self.text(ui, label, label);
        let label = ui.label(text).on_hover_text(&hover);
        add(ui).labelled_by(label.id).on_hover_text(&hover);
        ui.end_row();
    }
}

/// A drop-down (egui id `id`) setting `value` to one of `options`, each shown by its `label`.
fn choice<T: PartialEq + Copy>(
    ui: &mut egui::Ui,
    id: &str,
    value: &mut T,
    options: &[T],
    label: fn(T) -> &'static str,
) -> egui::Response {
    ComboBox::from_id_salt(id)
        .selected_text(label(*value))
        .show_ui(ui, |ui| {
            for &o in options {
                ui.selectable_value(value, o, label(o));
            }
        })
        .response
}

/// The help text a value's doc comment gives it on the command line, for its hover text.
fn help_of(value: impl clap::ValueEnum) -> String {
    value
        .to_possible_value()
        .and_then(|v| v.get_help().map(|h| h.to_string()))
        .unwrap_or_default()
}

/// Train, Pause/Resume, Step and Stop, with their text at `size` (the style's when `None`):
/// the controls' Run row, and the menu bar's in presentation view.
pub fn run_buttons(ui: &mut egui::Ui, run: RunStatus<'_>, size: Option<f32>, a: &mut Actions) {
    let button = |text: &str| {
        let text = egui::RichText::new(text);
        Button::new(match size {
            Some(size) => text.size(size),
            None => text,
        })
    };
    a.train = ui
        .add_enabled(!run.active, button("Train"))
        .on_hover_text("Start training a fresh model")
        .on_disabled_hover_text("A run is in progress: Stop it first to train a fresh model")
        .clicked();
    let pause_label = if run.paused { "Resume" } else { "Pause" };
    a.pause_toggle = ui
        .add_enabled(run.active, button(pause_label))
        .on_hover_text(if run.paused {
            "Go on training from where it paused (Space bar too)"
        } else {
            "Hold training here; every view keeps showing this moment (Space bar too)"
        })
        .on_disabled_hover_text("Nothing is training: press Train")
        .clicked();
    a.step = ui
        .add(button("Step"))
        .on_hover_text("Train on exactly one batch, then pause")
        .clicked();
    a.stop = ui
        .add_enabled(run.active, button("Stop"))
        .on_hover_text("End the run; the model and every view stay as they are")
        .on_disabled_hover_text("Nothing is training")
        .clicked();
}

pub fn controls_ui(ui: &mut egui::Ui, s: &mut Settings, run: RunStatus<'_>) -> Actions {
    let mut a = Actions::default();
    let marks = Marks(run.problem);
    ui.heading("Run");
    ui.horizontal_wrapped(|ui| {
        let big = |text: &str| Button::new(egui::RichText::new(text).size(18.0));
        run_buttons(ui, run, Some(18.0), &mut a);
        a.reset = ui
            .add(big("Reset"))
            .on_hover_text("Stop and clear everything; the next Train starts from scratch")
            .clicked();
    });
    ui.horizontal(|ui| {
        let mut slow = s.speed.is_some();
        if ui
            .checkbox(&mut slow, "Slow motion")
            .on_hover_text(
                "Train at most a few steps per second, so the class can watch single updates \
                 move the scatter and the reconstructions (Step still takes one at a time)",
            )
            .changed()
        {
            s.speed = slow.then_some(2.0);
        }
        if let Some(rate) = &mut s.speed {
            ui.add(
                egui::Slider::new(rate, 1.0..=100.0)
                    .logarithmic(true)
                    .suffix(" steps/s")
                    .max_decimals(0),
            )
            .on_hover_text("The most training steps per second");
        }
    });
    if !run.next_run.is_empty() {
        ui.weak(format!(
            "Changed {}: applies to the next run.",
            run.next_run.join(" and ")
        ));
    }
    ui.separator();

    ui.heading("Data and model");
    egui::Grid::new("model_grid")
        .num_columns(2)
        .spacing([8.0, 6.0])
        .show(ui, |ui| {
            marks.row(
                ui,
                "Dataset",
                "What the model learns from: a built-in set, or your own images (a folder) or \
                 series (a CSV file)",
                |ui| {
                    let selected = match &s.custom_data {
                        Some(spec) => BuiltinData::ALL
                            .into_iter()
                            .find(|d| d.spec() == *spec)
                            .map_or_else(|| spec.to_string(), |d| d.label().to_string()),
                        None => s.data.label().to_string(),
                    };
                    ComboBox::from_id_salt("dataset")
                        .selected_text(selected)
                        .truncate()
                        .show_ui(ui, |ui| {
                            for d in BuiltinData::ALL {
                                let chosen = s.custom_data.is_none() && s.data == d;
                                if ui.selectable_label(chosen, d.label()).clicked() {
                                    s.data = d;
                                    s.custom_data = None;
                                    s.fit_model_to_data();
                                }
                            }
                            a.open_csv = ui
                                .selectable_label(false, "Open CSV series...")
                                .on_hover_text(CSV_HELP)
                                .clicked();
                            a.open_folder = ui
                            .selectable_label(false, "Open image folder...")
                            .on_hover_text(
                                "PNG, JPEG, BMP, GIF, WebP or TIFF; one subfolder per class, or \
                                 all in one folder unlabelled. Dropping a folder on the window \
                                 opens it too.",
                            )
                            .clicked();
                        })
                        .response
                },
            );
            if let Some(crate::data::DataSpec::Folder { options, .. }) = &mut s.custom_data {
                marks.row(
                    ui,
                    "Image size",
                    "Every image is resized to a square of this side",
                    |ui| {
                        ui.add(
                            egui::DragValue::new(&mut options.size)
                                .range(4..=256)
                                .suffix(" px"),
                        )
                    },
                );
                marks.row(
                    ui,
                    "Fit",
                    "How an image that is not square becomes square",
                    |ui| {
                        ui.horizontal(|ui| {
                            ui.selectable_value(&mut options.fit, crate::data::Fit::Crop, "Crop")
                                .on_hover_text("The largest centred square of each image");
                            ui.selectable_value(
                                &mut options.fit,
                                crate::data::Fit::Letterbox,
                                "Letterbox",
                            )
                            .on_hover_text("The whole image, centred on black");
                        })
                        .response
                    },
                );
                marks.row(
                    ui,
                    "Grey",
                    "Read the images grey even when they have colour",
                    |ui| ui.checkbox(&mut options.grey, ""),
                );
            }
            let kind_help = format!(
                "What kind of autoencoder, and so what its code is pushed to hold. {}: {}",
                s.kind.label(),
                help_of(s.kind)
            );
            marks.row(ui, "Model kind", &kind_help, |ui| {
                let mut kind = s.kind;
                let r = ComboBox::from_id_salt("model_kind")
                    .selected_text(s.kind.label())
                    .height(400.0)
                    .show_ui(ui, |ui| {
                        for k in ModelKind::ALL {
                            ui.selectable_value(&mut kind, k, k.label())
                                .on_hover_text(help_of(k));
                        }
                    })
                    .response;
                if kind != s.kind {
                    s.set_kind(kind, s.base);
                }
                r
            });
            if s.kind.has_base() {
                marks.row(
                    ui,
                    "Network",
                    "The layers inside: dense (every pixel to every unit), convolutional (small \
                     filters slid over the image) or recurrent (through a series step by step)",
                    |ui| {
                        let mut base = s.base;
                        let r = choice(ui, "base_net", &mut base, &BaseNet::ALL, BaseNet::label);
                        if base != s.base {
                            s.set_kind(s.kind, base);
                        }
                        r
                    },
                );
            }
            if s.base == BaseNet::Seq && s.kind != ModelKind::Voice {
                marks.row(
                    ui,
                    "Cell",
                    "The recurrent unit that reads the series: LSTM, or the smaller GRU",
                    |ui| {
                        let cells = [CellKind::Lstm, CellKind::Gru];
                        choice(ui, "cell", &mut s.cell, &cells, CellKind::label)
                    },
                );
                marks.row(
                    ui,
                    "Bidirectional",
                    "The encoder reads each series forwards and backwards",
                    |ui| ui.checkbox(&mut s.bidirectional, ""),
                );
            }
            if s.kind == ModelKind::Sparse {
                marks.row(
                    ui,
                    "Penalty",
                    "How the code is kept sparse: L1 pulls every activation towards zero; KL \
                     pulls each unit's average activation to a small target",
                    |ui| {
                        let kinds = [SparsityKind::L1, SparsityKind::Kl];
                        choice(ui, "sparsity", &mut s.sparsity, &kinds, SparsityKind::label)
                    },
                );
                marks.row(
                    ui,
                    "Penalty weight",
                    "What sparsity costs against reconstruction: higher leaves fewer active \
                     units and blurrier outputs",
                    |ui| {
                        ui.add(
                            DragValue::new(&mut s.sparsity_weight)
                                .range(0.0..=10.0)
                                .speed(0.001),
                        )
                    },
                );
            }
            marks.row(
                ui,
                "Latent size",
                "How many numbers each input is squeezed into, the bottleneck: the fewer, the \
                 more the model must keep only what matters most",
                |ui| ui.add(DragValue::new(&mut s.latent).range(1..=256)),
            );
            // An invalid list is marked here; the run goes on until it is fixed.
            let marked = marks.why("Hidden widths").is_some();
            marks.row(
                ui,
                "Hidden widths",
                "Encoder layer widths, comma-separated; the decoder mirrors them. A running model \
                 keeps its own until a change can be used",
                |ui| {
                    let mut edit = egui::TextEdit::singleline(&mut s.hidden).desired_width(110.0);
                    if marked {
                        edit = edit.text_color(ui.visuals().error_fg_color);
                    }
                    ui.add(edit)
                },
            );
            marks.row(
                ui,
                "Loss",
                "How a reconstruction's error is measured: binary cross-entropy treats each \
                 pixel as a probability of ink; mean squared error as a number",
                |ui| {
                    let losses = [LossKind::Bce, LossKind::Mse];
                    choice(ui, "loss", &mut s.loss, &losses, LossKind::label)
                },
            );
            marks.row(
                ui,
                "Batch size",
                "How many examples each training step learns from at once: larger steps are \
                 steadier, smaller ones come more often",
                |ui| ui.add(DragValue::new(&mut s.batch_size).range(1..=4096)),
            );
            marks.row(
                ui,
                "Seed",
                "Draws the first weights, the order of the data and the noise: the same seed \
                 trains the same run again",
                |ui| ui.add(DragValue::new(&mut s.seed)),
            );
            marks.row(
                ui,
                "Epochs",
                "How many times training goes through all the data",
                |ui| ui.add(DragValue::new(&mut s.epochs).range(1..=10_000)),
            );
            marks.row(
                ui,
                "Scatter points",
                "Test points encoded for the latent views (next run; up to 200 000, drawn by the GPU)",
                |ui| {
                    ui.add(
                        DragValue::new(&mut s.max_points)
                            .range(100..=MAX_POINTS)
                            .speed(100),
                    )
                },
            );
            marks.row(
                ui,
                "Device",
                "Where the next run trains: auto (a GPU when there is one), cpu, gpu, or \
                 remote:ws://HOST:PORT for a lab's `latentlab serve` (its token in the \
                 LATENTLAB_REMOTE_TOKEN environment variable; a build with --features remote)",
                |ui| ui.add(egui::TextEdit::singleline(&mut s.device).desired_width(150.0)),
            );
        });
    ui.separator();

    ui.heading("Live");
    ui.add(
        // A rate set by other means (a resumed or loaded run) is kept, not clamped to the
        // slider's range; the trainer validates it.
        Slider::new(&mut s.lr, 1e-5..=1e-1)
            .clamping(egui::SliderClamping::Edits)
            .logarithmic(true)
            .text(marks.text(ui, "Learning rate", "Learning rate"))
            .custom_formatter(|v, _| format!("{v:.1e}")),
    )
    .on_hover_text(marks.hover(
        "Learning rate",
        "How big each training step is: too small learns slowly, too large makes the loss jump \
         or the run diverge. Changes apply at once, while training",
    ));
    ui.horizontal(|ui| {
        let noise_help = "What corrupts the inputs: the denoising model learns to undo it, the \
                          others are shown it. Changes apply at once";
        let label = ui.label("Noise").on_hover_text(noise_help);
        choice(
            ui,
            "noise_kind",
            &mut s.noise.kind,
            &NoiseKind::ALL,
            NoiseKind::label,
        )
        .labelled_by(label.id)
        .on_hover_text(noise_help);
    });
    let noise_text = marks.text(ui, "Noise level", "Noise level");
    ui.add(Slider::new(&mut s.noise.level, 0.0..=1.0).text(noise_text))
        .on_hover_text(marks.hover(
            "Noise level",
            "How strong the corruption is: the σ of Gaussian noise, or the share of pixels \
             flipped (salt & pepper) or hidden (masking). Changes apply at once",
        ));
    if s.kind.has_beta() {
        let (text, hover) = match s.kind {
            ModelKind::Btcvae => (
                "TC weight β",
                "The weight of the total correlation: how hard the code's dimensions are \
                 pushed to be independent, so that each holds its own factor (the β-TCVAE \
                 paper used 6 on dSprites)",
            ),
            ModelKind::Cvae => (
                "KL weight β",
                "How hard the style code is pulled towards the N(0, I) prior: higher pushes \
                 the class out of it, so a style swap draws the class the decoder is given",
            ),
            ModelKind::Split => (
                "Content KL β",
                "What holding information in the content code costs: it keeps the content \
                 code to the class and sends the style to the style code",
            ),
            _ => (
                "KL weight β",
                "How hard the code is pulled towards the N(0, I) prior",
            ),
        };
        ui.add(
            Slider::new(&mut s.beta, 0.0..=10.0)
                .text(marks.text(ui, "β", text))
                .custom_formatter(|v, _| format!("{v:.2}")),
        )
        .on_hover_text(marks.hover("β", hover));
    }
    ui.weak("The denoising model trains on noisy inputs; every model shows them.");
    a
}
