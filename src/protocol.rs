//! Plain-data messages between the UI (or CLI) and the trainer: commands in, events out.
//!
//! No tensor crosses this boundary: samples (images, series) are `Vec<f32>` with a [`SampleShape`], latent codes are rows of
//! `f32`, and the decoder is reached through the [`LatentDecoder`] trait object.

use std::path::PathBuf;
use std::sync::Arc;

use crate::data::{Factors, Noise, SampleShape};
use crate::latent::{LatentStats, Pca};
use crate::settings::{ModelConfig, TrainConfig};
use crate::train::DeviceChoice;

/// What the caller asks of the trainer.
#[derive(Debug, Clone)]
pub enum Command {
    /// Start a fresh run (or resume one, when `resume_from` is set) with this configuration.
    Start(Box<StartRequest>),
    Pause,
    Resume,
    /// Run exactly one batch (while paused; starts paused when nothing runs).
    Step,
    /// End the current run; it reports `Finished`.
    Stop,
    /// Change the learning rate of the running optimizer, from the next step on.
    SetLearningRate(f64),
    /// Change the input corruption, from the next step on.
    SetNoise(Noise),
    /// Change the VAE's KL weight β, from the next step on.
    SetBeta(f32),
    /// Slow motion: at most this many steps per second (`None`: full speed). A `Step` while
    /// paused does not wait for it.
    SetSpeed(Option<f64>),
    /// Write a checkpoint of the current weights to this folder.
    SaveCheckpoint(PathBuf),
}

/// Everything a run needs to start.
#[derive(Debug, Clone)]
pub struct StartRequest {
    /// The caller's name for this run; the worker tags each of its events with it.
    pub run_id: u64,
    pub config: TrainConfig,
    /// A checkpoint folder to continue from (weights, optimizer state, step count).
    pub resume_from: Option<PathBuf>,
    /// Begin paused (the UI's **Step** with no run).
    pub start_paused: bool,
    /// Where the worker autosaves this run, and keeps the last finite weights of a run that
    /// diverges (the studio's runs use a temporary folder, to offer resuming from them). The
    /// CLI passes its own `Autosave` to `train::run` instead.
    pub checkpoint_dir: Option<PathBuf>,
    /// A fault to inject, for tests of the failure path; nothing in the app or the CLI sets it.
    pub fault: Option<Fault>,
    /// Train on this device from now on instead of the one the worker was started with (the
    /// studio's Device field); `None` keeps the worker's.
    pub device: Option<DeviceChoice>,
}

/// A fault a test can inject into a run through its [`StartRequest`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    /// At this step, ask the training device for a buffer of 4 TiB, more than any GPU has, as a
    /// model too large for it would: the backend's error surfaces on the training thread. For
    /// GPU tests only: the CPU backend would ask the system for the memory.
    OversizedAllocation { at_step: u64 },
}

/// How the message of a run that failed because its loss became non-finite begins.
pub const DIVERGED: &str = "training diverged";

/// What the trainer reports. Every run ends with exactly one `Finished` or `Failed`.
#[derive(Debug, Clone)]
pub enum Event {
    /// Loading the data before the run starts, where that takes a while (image folders):
    /// `done` of `total` files read; throttled. A Stop meanwhile cancels the load, and the
    /// run ends `Finished` with `stopped` at step 0.
    Loading {
        done: usize,
        total: usize,
    },
    /// The run's data is in memory (loaded, or kept from an earlier run); sent before the
    /// settings are checked against it, so a run refused for them still says what the data is.
    DataReady(crate::data::DataFacts),
    Started(RunInfo),
    /// Losses of the steps since the last batch, oldest first.
    Steps(StepBatch),
    /// Metrics on the whole test split.
    Eval(EvalReport),
    /// Samples, latent codes and a decoder; throttled to a few per second.
    Snapshot(Arc<Snapshot>),
    Paused {
        step: u64,
    },
    Resumed {
        step: u64,
    },
    LearningRateChanged {
        step: u64,
        lr: f64,
    },
    NoiseChanged {
        step: u64,
        noise: Noise,
    },
    BetaChanged {
        step: u64,
        beta: f32,
    },
    SpeedChanged {
        step: u64,
        /// `None`: full speed.
        steps_per_sec: Option<f64>,
    },
    CheckpointSaved {
        step: u64,
        path: PathBuf,
    },
    /// A non-fatal problem (e.g. a checkpoint could not be written); the run goes on.
    Warning(String),
    Finished(RunEnd),
    Failed {
        step: u64,
        /// The full error chain, ready to show.
        message: String,
    },
}

/// An event of the run the caller named `run` in its `StartRequest`.
#[derive(Debug, Clone)]
pub struct RunEvent {
    pub run: u64,
    pub event: Event,
}

/// Facts about a run, sent once at its start.
#[derive(Debug, Clone)]
pub struct RunInfo {
    /// "CPU (Flex backend)" or "GPU: <adapter name>".
    pub device: String,
    pub dataset: String,
    /// Human-readable architecture, e.g. "dense 1x28x28, hidden 512-128, latent 32".
    pub architecture: String,
    pub model: ModelConfig,
    /// What one sample is (its modality and shape); every view renders samples by it.
    pub sample_shape: SampleShape,
    pub latent_dim: usize,
    /// Names of the loss terms, in the order `StepLoss::terms` holds them.
    pub term_names: Vec<String>,
    pub class_names: Vec<String>,
    pub steps_per_epoch: u64,
    /// The step this run starts from (non-zero when resuming).
    pub start_step: u64,
    pub total_steps: u64,
    pub train_len: usize,
    pub test_len: usize,
    /// The test split's samples, for showing any point a user picks.
    pub test_samples: Arc<SampleGrid>,
    pub test_labels: Option<Arc<Vec<u32>>>,
    /// The test split's known factors of variation (the shapes set), for colouring by them.
    pub test_factors: Option<Arc<Factors>>,
}

/// One training step's losses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepLoss {
    /// 1-based global step number.
    pub step: u64,
    /// 1-based epoch number.
    pub epoch: u64,
    pub loss: f32,
    /// Loss terms in `RunInfo::term_names` order (at most 4).
    pub terms: [f32; 4],
}

/// A batch of step losses with the throughput at the time.
#[derive(Debug, Clone)]
pub struct StepBatch {
    pub steps: Vec<StepLoss>,
    pub samples_per_sec: f32,
    pub lr: f64,
    pub elapsed_secs: f64,
}

/// Metrics on the test split.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalReport {
    pub step: u64,
    pub epoch: u64,
    /// Mean per-value squared error between the outputs and the clean test samples.
    pub test_mse: f32,
    /// The model's loss terms on the test split, `RunInfo::term_names` order.
    pub terms: Vec<f32>,
    /// For a model trained on corrupted inputs: the MSE of the corrupted test inputs themselves
    /// to the clean images (what the model must beat).
    pub input_mse: Option<f32>,
    pub elapsed_secs: f64,
    /// Seconds spent in training steps only (no evaluation, snapshots or pauses), in this
    /// process.
    pub train_secs: f64,
}

/// Equally-shaped samples, row-major `[count, ...shape]`, with the shape that says how to
/// show them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SampleGrid {
    pub shape: Option<SampleShape>,
    pub values: Vec<f32>,
}

impl SampleGrid {
    pub fn new(shape: impl Into<SampleShape>, values: Vec<f32>) -> Self {
        Self {
            shape: Some(shape.into()),
            values,
        }
    }

    pub fn len(&self) -> usize {
        match self.shape {
            Some(s) if !s.is_empty() => self.values.len() / s.len(),
            _ => 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values of sample `i`.
    pub fn sample(&self, i: usize) -> &[f32] {
        let n = self.shape.map(|s| s.len()).unwrap_or(0);
        &self.values[i * n..(i + 1) * n]
    }

    /// Samples `range` as a grid of their own.
    pub fn slice(&self, range: std::ops::Range<usize>) -> SampleGrid {
        let n = self.shape.map(|s| s.len()).unwrap_or(0);
        SampleGrid {
            shape: self.shape,
            values: self.values[range.start * n..range.end * n].to_vec(),
        }
    }
}

/// Latent codes of test points, row-major `[count, dim]`, with their labels.
#[derive(Debug, Clone, Default)]
pub struct LatentCloud {
    pub dim: usize,
    pub codes: Vec<f32>,
    /// Index into the class names, per point; `None` when the data is unlabelled.
    pub labels: Option<Vec<u32>>,
    /// Index of each point in the test split.
    pub test_indices: Vec<usize>,
    /// Mean, spread, activity and principal axes of the codes, computed once with the cloud
    /// (on the trainer thread) and read by every view.
    pub stats: LatentStats,
}

impl LatentCloud {
    /// A cloud of `codes` (`[count, dim]`, row-major) with its statistics; `previous_pca` (the
    /// last cloud's axes) warm-starts the PCA so a live view keeps its orientation.
    pub fn new(
        dim: usize,
        codes: Vec<f32>,
        labels: Option<Vec<u32>>,
        test_indices: Vec<usize>,
        previous_pca: Option<&Pca>,
    ) -> Self {
        let stats = LatentStats::compute(&codes, dim, previous_pca);
        Self {
            dim,
            codes,
            labels,
            test_indices,
            stats,
        }
    }

    pub fn len(&self) -> usize {
        self.codes.len() / self.dim.max(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn code(&self, i: usize) -> &[f32] {
        &self.codes[i * self.dim..(i + 1) * self.dim]
    }
}

/// A CPU copy of a model's decoder: latent codes in, samples out. Safe to call from any thread
/// while training goes on.
pub trait LatentDecoder: Send + Sync {
    fn latent_dim(&self) -> usize;
    fn sample_shape(&self) -> SampleShape;
    /// Decodes `codes` (`[n, latent_dim]`, row-major) into samples (images in [0, 1]).
    fn decode(&self, codes: &[f32]) -> SampleGrid;
    /// Encodes one sample (a drawing): its code, and for stochastic kinds its spread. `None`
    /// when the sample is not of the model's shape or the model cannot say.
    fn encode(&self, _sample: &[f32]) -> Option<Encoding> {
        None
    }
}

/// One sample's code, as the model's encoder gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct Encoding {
    pub code: Vec<f32>,
    /// σ of each code dimension (a VAE's), when the kind has one.
    pub spread: Option<Vec<f32>>,
}

impl std::fmt::Debug for dyn LatentDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LatentDecoder(latent {})", self.latent_dim())
    }
}

/// What the UI shows of the model at one moment.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub step: u64,
    pub epoch: u64,
    /// Indices of the fixed test examples shown.
    pub example_indices: Vec<usize>,
    /// Their labels (when labelled).
    pub example_labels: Option<Vec<u32>>,
    pub inputs: SampleGrid,
    /// The inputs after the current corruption (equal to `inputs` without noise).
    pub noisy: SampleGrid,
    /// The model's outputs for what it is trained on: the noisy inputs for a denoising model,
    /// the clean ones otherwise.
    pub reconstructions: SampleGrid,
    pub latents: LatentCloud,
    pub decoder: Arc<dyn LatentDecoder>,
    /// How the code divides into content and style, for kinds that separate them.
    pub parts: Option<CodeParts>,
    /// Seconds it took to encode the latent cloud (on the training device).
    pub encode_secs: f64,
}

/// Snapshots a run's history keeps (each holds its codes, pictures and a CPU copy of the
/// model: a few MB for the reference models, so well under 1 GiB).
pub const HISTORY: usize = 48;

/// Thins a run's kept history of snapshots (or anything kept per moment) so that it stays
/// bounded: every other entry of its older half goes, so older moments are kept more sparsely
/// and the recent ones densely. The studio's timeline and the CLI's history figures keep theirs
/// this way, thinning whenever the history reaches [`HISTORY`].
pub fn thin_history<T>(history: &mut Vec<T>) {
    let half = history.len() / 2;
    let mut i = 0;
    history.retain(|_| {
        i += 1;
        i > half || i % 2 == 1
    });
}

/// A code `[content | style]` of a kind that separates the two (CVAE, content/style split):
/// swapping the content part for another class's draws the same style as that class.
#[derive(Debug, Clone, PartialEq)]
pub struct CodeParts {
    /// The first `content_dim` entries of a code are its content.
    pub content_dim: usize,
    /// `[classes, content_dim]`: the content code that stands for each class (a CVAE's
    /// one-hot, or the mean content code of the class's test samples).
    pub class_contents: Vec<f32>,
    /// What the two parts hold, for the views: `["content", "style"]` for the image kinds,
    /// `["speaker", "content"]` for the voice model.
    pub names: [String; 2],
}

impl CodeParts {
    pub fn classes(&self) -> usize {
        self.class_contents.len() / self.content_dim.max(1)
    }

    /// Class `c`'s content code.
    pub fn class_content(&self, c: usize) -> &[f32] {
        &self.class_contents[c * self.content_dim..(c + 1) * self.content_dim]
    }

    /// `style_code` with its content part replaced by `content`.
    pub fn swap(&self, style_code: &[f32], content: &[f32]) -> Vec<f32> {
        let mut code = style_code.to_vec();
        let n = self.content_dim.min(content.len()).min(code.len());
        code[..n].copy_from_slice(&content[..n]);
        code
    }

    /// Codes of a style-swap grid, row-major: row r keeps the style of `style_codes`' r-th
    /// code (`dim` wide each), column c takes class c's content.
    pub fn swap_grid(&self, style_codes: &[f32], dim: usize) -> Vec<f32> {
        let mut codes = Vec::new();
        for style in style_codes.chunks_exact(dim.max(1)) {
            for c in 0..self.classes() {
                codes.extend(self.swap(style, self.class_content(c)));
            }
        }
        codes
    }
}

/// How a run ended well.
#[derive(Debug, Clone)]
pub struct RunEnd {
    pub step: u64,
    pub epoch: u64,
    pub elapsed_secs: f64,
    /// Test MSE at the end (the last evaluation).
    pub test_mse: Option<f32>,
    /// True when it ended on a Stop command rather than completing its epochs.
    pub stopped: bool,
}
