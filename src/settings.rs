//! What a run is configured with: [`TrainConfig`], its parts, and `validate()`, which turns what a
//! user typed (which may be nonsense) into something the trainer can trust.
//!
//! Plain data with serde, shared by the CLI, the UI and checkpoints; never imports burn or egui.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::data::{DataSpec, Noise};
use crate::train::DeviceChoice;

pub mod file;
pub mod lessons;

/// Points the latent views take at most: the GPU draws them in one call, and a snapshot's
/// cloud of 200 000 32-D codes is 25 MB.
pub const MAX_POINTS: usize = 200_000;

/// The autoencoder kinds. A new kind is one file under `model/`, one variant here and one arm
/// in `with_model_type!`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
pub enum ModelKind {
    /// Fully connected encoder and decoder.
    Dense,
    /// Strided convolutions down, transposed convolutions up.
    Conv,
    /// Learns to remove the input corruption (dense or conv network).
    Denoise,
    /// A code kept mostly near zero by an L1 or KL sparsity penalty.
    Sparse,
    /// Variational: a Gaussian code, reconstruction + β·KL to the N(0, I) prior.
    Vae,
    /// Sequence to sequence: a recurrent (LSTM or GRU) encoder and decoder, for series.
    Seq,
    /// β-TCVAE: a VAE whose β weighs only the total correlation of the code, so that its
    /// dimensions come apart into separate factors.
    Btcvae,
    /// Conditional VAE: the decoder sees the class beside the code, so the code keeps only
    /// the style (slant, thickness) and any style can be drawn as any class.
    Cvae,
    /// Content and style from two encoders into one decoder; an adversary drives the class
    /// out of the style code, a KL bottleneck keeps the content code to the class.
    Split,
    /// Voice conversion on spectrograms: a content code stripped of the voice by instance
    /// normalisation, a speaker code, a decoder that re-applies the speaker (AdaIN-VC).
    Voice,
}

impl ModelKind {
    pub const ALL: [ModelKind; 10] = [
        ModelKind::Dense,
        ModelKind::Conv,
        ModelKind::Denoise,
        ModelKind::Sparse,
        ModelKind::Vae,
        ModelKind::Btcvae,
        ModelKind::Cvae,
        ModelKind::Split,
        ModelKind::Seq,
        ModelKind::Voice,
    ];

    pub fn label(self) -> &'static str {
        match self {
            ModelKind::Dense => "Dense",
            ModelKind::Conv => "Convolutional",
            ModelKind::Denoise => "Denoising",
            ModelKind::Sparse => "Sparse",
            ModelKind::Vae => "Variational (VAE)",
            ModelKind::Seq => "Sequence (LSTM/GRU)",
            ModelKind::Btcvae => "β-TCVAE",
            ModelKind::Cvae => "Conditional VAE",
            ModelKind::Split => "Content/style split",
            ModelKind::Voice => "Voice conversion",
        }
    }

    /// The CLI name (`--model`).
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Dense => "dense",
            ModelKind::Conv => "conv",
            ModelKind::Denoise => "denoise",
            ModelKind::Sparse => "sparse",
            ModelKind::Vae => "vae",
            ModelKind::Seq => "seq",
            ModelKind::Btcvae => "btcvae",
            ModelKind::Cvae => "cvae",
            ModelKind::Split => "split",
            ModelKind::Voice => "voice",
        }
    }

    /// True for kinds that are built on a choice of network (`--base`).
    pub fn has_base(self) -> bool {
        matches!(
            self,
            ModelKind::Denoise
                | ModelKind::Sparse
                | ModelKind::Vae
                | ModelKind::Btcvae
                | ModelKind::Cvae
                | ModelKind::Split
        )
    }

    /// True for kinds whose loss has a β-weighted term (a KL or a total correlation).
    pub fn has_beta(self) -> bool {
        self.is_variational() || self.uses_labels()
    }

    /// True for kinds that learn from the labels (and refuse unlabelled data).
    pub fn uses_labels(self) -> bool {
        matches!(self, ModelKind::Cvae | ModelKind::Split)
    }

    /// True for kinds with a Gaussian code and a prior to sample from (β applies).
    pub fn is_variational(self) -> bool {
        matches!(self, ModelKind::Vae | ModelKind::Btcvae)
    }

    /// The reference architecture of this kind (`../shared/bench/README.md`), on its default
    /// network.
    pub fn default_model(self) -> ModelConfig {
        let base = match self {
            ModelKind::Conv => BaseNet::Conv,
            ModelKind::Seq | ModelKind::Voice => BaseNet::Seq,
            _ => BaseNet::Dense,
        };
        self.model_on(base)
    }

    /// The default architecture of this kind on `base`.
    pub fn model_on(self, base: BaseNet) -> ModelConfig {
        let base = match self {
            ModelKind::Conv => BaseNet::Conv,
            ModelKind::Dense => BaseNet::Dense,
            ModelKind::Seq | ModelKind::Voice => BaseNet::Seq,
            _ => base,
        };
        let (hidden, latent) = match (self, base) {
            (ModelKind::Vae, BaseNet::Dense) => (vec![512, 256], 2),
            (ModelKind::Vae, BaseNet::Conv) => (vec![32, 64], 2),
            (ModelKind::Vae, BaseNet::Seq) => (vec![64], 2),
            // As in the β-TCVAE paper's dSprites runs: a 10-D code.
            (ModelKind::Btcvae, BaseNet::Dense) => (vec![512, 256], 10),
            (ModelKind::Btcvae, BaseNet::Conv) => (vec![32, 64], 10),
            (ModelKind::Btcvae, BaseNet::Seq) => (vec![64], 10),
            // 128 channels per layer; a 32-D speaker code.
            (ModelKind::Voice, _) => (vec![128], 32),
            // The style code (the class or the content code comes on top).
            (ModelKind::Cvae | ModelKind::Split, BaseNet::Dense) => (vec![512, 256], 8),
            (ModelKind::Cvae | ModelKind::Split, BaseNet::Conv) => (vec![32, 64], 8),
            (ModelKind::Cvae | ModelKind::Split, BaseNet::Seq) => (vec![64], 8),
            (_, BaseNet::Conv) => (vec![32, 64], 16),
            (_, BaseNet::Dense) => (vec![512, 128], 32),
            (_, BaseNet::Seq) => (vec![64], 8),
        };
        ModelConfig {
            kind: self,
            base,
            hidden,
            latent,
            sparsity: SparsityKind::L1,
            cell: CellKind::Lstm,
            bidirectional: false,
            classes: 0,
        }
    }
}

/// The network a kind is built on.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, clap::ValueEnum,
)]
pub enum BaseNet {
    #[default]
    Dense,
    Conv,
    /// Recurrent encoder and decoder, for series.
    Seq,
}

impl BaseNet {
    pub const ALL: [BaseNet; 3] = [BaseNet::Dense, BaseNet::Conv, BaseNet::Seq];

    pub fn label(self) -> &'static str {
        match self {
            BaseNet::Dense => "dense",
            BaseNet::Conv => "conv",
            BaseNet::Seq => "seq",
        }
    }
}

/// The recurrent cell of the sequence network.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, clap::ValueEnum,
)]
pub enum CellKind {
    /// Long short-term memory: four gates and a cell state.
    #[default]
    Lstm,
    /// Gated recurrent unit: three gates, no cell state; lighter.
    Gru,
}

impl CellKind {
    pub fn label(self) -> &'static str {
        match self {
            CellKind::Lstm => "lstm",
            CellKind::Gru => "gru",
        }
    }
}

/// The sparse autoencoder's penalty.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, clap::ValueEnum,
)]
pub enum SparsityKind {
    /// λ · mean |z| on ReLU code units.
    #[default]
    L1,
    /// β · Σ KL(ρ ‖ ρ̂ⱼ) on sigmoid code units, ρ̂ⱼ their mean activation over the batch.
    Kl,
}

impl SparsityKind {
    pub fn label(self) -> &'static str {
        match self {
            SparsityKind::L1 => "L1 (λ)",
            SparsityKind::Kl => "KL (ρ, β)",
        }
    }

    /// The penalty's default weight: λ = 0.01 for L1, β = 0.1 for KL.
    pub fn default_weight(self) -> f32 {
        match self {
            SparsityKind::L1 => 0.01,
            SparsityKind::Kl => 0.1,
        }
    }
}

/// Reconstruction loss on the decoder's logits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
pub enum LossKind {
    /// Mean squared error between sigmoid(logits) and the target.
    Mse,
    /// Binary cross-entropy on logits, averaged over pixels and batch.
    #[default]
    Bce,
}

impl LossKind {
    pub fn label(self) -> &'static str {
        match self {
            LossKind::Mse => "MSE",
            LossKind::Bce => "BCE",
        }
    }
}

/// What a loss needs besides the data, computed by the loop each step (so a weight can change
/// while training runs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossParams {
    pub recon: LossKind,
    /// VAE: the weight of the KL term now (after any warm-up).
    pub beta: f32,
    /// Sparse: the weight of the sparsity penalty (λ for L1, β for KL).
    pub sparsity_weight: f32,
    /// Sparse with KL: the target mean activation ρ.
    pub sparsity_target: f32,
}

impl Default for LossParams {
    fn default() -> Self {
        Self {
            recon: LossKind::Bce,
            beta: 1.0,
            sparsity_weight: 0.0,
            sparsity_target: 0.05,
        }
    }
}

/// The architecture of a model: what must match for a checkpoint to load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelConfig {
    pub kind: ModelKind,
    /// The network under kinds that have a choice (denoise, sparse, VAE).
    pub base: BaseNet,
    /// Encoder widths, input side first (units for dense layers, channels for convolutions);
    /// the decoder mirrors them.
    pub hidden: Vec<usize>,
    pub latent: usize,
    /// The sparse kind's penalty (KL puts a sigmoid on the code).
    pub sparsity: SparsityKind,
    /// The sequence network's cell.
    pub cell: CellKind,
    /// The sequence network reads each series forwards and backwards.
    pub bidirectional: bool,
    /// How many classes the data has, for kinds that learn from labels; set by the trainer
    /// from the data, not by the user.
    #[serde(default)]
    pub classes: usize,
}

impl Default for ModelConfig {
    /// The reference dense model: 784-512-128-32-128-512-784.
    fn default() -> Self {
        ModelKind::Dense.default_model()
    }
}

/// A validated training configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainConfig {
    pub data: DataSpec,
    pub model: ModelConfig,
    pub loss: LossKind,
    /// Adam learning rate.
    pub lr: f64,
    pub batch_size: usize,
    /// Total epochs of the run (a resumed run continues up to this count).
    pub epochs: u64,
    pub seed: u64,
    /// Corruption of the inputs; the target stays clean.
    pub noise: Noise,
    /// VAE: weight β of the KL term.
    pub beta: f32,
    /// VAE: β ramps up linearly from 0 over this many steps (0: no warm-up).
    pub kl_warmup_steps: u64,
    /// Sparse: weight of the penalty (λ for L1, β for KL).
    pub sparsity_weight: f32,
    /// Sparse with KL: target mean activation ρ of each code unit.
    pub sparsity_target: f32,
    /// Evaluate on the test split every this many steps (and at the end of each epoch at least
    /// that long).
    pub eval_every: u64,
    /// Fixed test examples shown in snapshots.
    pub examples: usize,
    /// At most this many test points are encoded for the latent scatter (at most
    /// [`MAX_POINTS`]).
    pub max_latent_points: usize,
    /// Snapshots are sent at most this often; 0 means only at evaluations.
    pub snapshot_interval_secs: f64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            data: DataSpec::Mnist,
            model: ModelConfig::default(),
            loss: LossKind::Bce,
            lr: 1e-3,
            batch_size: 128,
            epochs: 10,
            seed: 0,
            noise: Noise::default(),
            beta: 1.0,
            kl_warmup_steps: 0,
            sparsity_weight: 0.01,
            sparsity_target: 0.05,
            eval_every: 50,
            examples: 12,
            max_latent_points: 2000,
            snapshot_interval_secs: 0.25,
        }
    }
}

/// A setting that cannot be used, with the reason.
#[derive(Debug, Error, PartialEq)]
pub enum SettingsError {
    #[error("{} is {value}: {why}", field.name())]
    Invalid {
        field: Field,
        value: String,
        why: &'static str,
    },
    /// A setting that is valid on its own but that these data, this model or this machine
    /// cannot take.
    #[error("{message}")]
    Unusable { field: Field, message: String },
}

impl SettingsError {
    /// The setting to change.
    pub fn field(&self) -> Field {
        match self {
            SettingsError::Invalid { field, .. } | SettingsError::Unusable { field, .. } => *field,
        }
    }
}

fn invalid(field: Field, value: impl ToString, why: &'static str) -> SettingsError {
    SettingsError::Invalid {
        field,
        value: value.to_string(),
        why,
    }
}

/// Why `field` cannot be used as it is.
pub fn unusable(field: Field, message: impl Into<String>) -> SettingsError {
    SettingsError::Unusable {
        field,
        message: message.into(),
    }
}

/// A setting a run can be refused for: errors name it, and the studio marks its control.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Dataset,
    Network,
    LatentSize,
    HiddenWidths,
    Loss,
    LearningRate,
    BatchSize,
    Epochs,
    NoiseLevel,
    Beta,
    SparsityWeight,
    SparsityTarget,
    ScatterPoints,
    EvalEvery,
    SnapshotInterval,
    Device,
}

impl Field {
    /// The field's name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Field::Dataset => "dataset",
            Field::Network => "network",
            Field::LatentSize => "latent size",
            Field::HiddenWidths => "hidden widths",
            Field::Loss => "loss",
            Field::LearningRate => "learning rate",
            Field::BatchSize => "batch size",
            Field::Epochs => "epochs",
            Field::NoiseLevel => "noise level",
            Field::Beta => "beta",
            Field::SparsityWeight => "sparsity weight",
            Field::SparsityTarget => "sparsity target",
            Field::ScatterPoints => "scatter points",
            Field::EvalEvery => "eval every",
            Field::SnapshotInterval => "snapshot interval",
            Field::Device => "device",
        }
    }
}

impl TrainConfig {
    /// A fresh run of `kind` on `base` with everything else at its default: the one place kind
    /// defaults live (architecture from [`ModelKind::model_on`], the denoiser's corruption, the
    /// sparsity penalty's weight). The CLI, the studio and the bench all start from it.
    pub fn for_kind(kind: ModelKind, base: BaseNet, sparsity: SparsityKind) -> Self {
        TrainConfig {
            model: ModelConfig {
                sparsity,
                ..kind.model_on(base)
            },
            noise: if kind == ModelKind::Denoise {
                Noise::REFERENCE
            } else {
                Noise::default()
            },
            // Series are real-valued, and BCE needs values in [0, 1].
            loss: if kind.model_on(base).base == BaseNet::Seq {
                LossKind::Mse
            } else {
                LossKind::Bce
            },
            sparsity_weight: sparsity.default_weight(),
            // The spoken digits are 240 utterances: small batches, many epochs (200 take about
            // 140 s on 2 cores).
            batch_size: if kind == ModelKind::Voice { 16 } else { 128 },
            epochs: if kind == ModelKind::Voice { 200 } else { 10 },
            beta: match kind {
                // At β = 1 the CVAE's code kept the class beside the decoder's one-hot (a style
                // swap drew the intended class 57 % of the time on MNIST after 30 epochs); at 3
                // the class leaves the code (99 %).
                ModelKind::Cvae => 3.0,
                // The β-TCVAE paper's weight on dSprites.
                ModelKind::Btcvae => 6.0,
                _ => 1.0,
            },
            ..TrainConfig::default()
        }
    }

    /// This configuration without what a run takes on the fly (learning rate, noise, β) or
    /// leaves to the next run (epochs, scatter points). Two configurations with equal keys train
    /// the same model, so a change between them needs no restart; any other field does.
    pub fn restart_key(&self) -> TrainConfig {
        TrainConfig {
            lr: 0.0,
            noise: Noise::default(),
            beta: 0.0,
            epochs: 0,
            max_latent_points: 0,
            ..self.clone()
        }
    }

    /// Checks every field; the trainer assumes a validated config.
    pub fn validate(self) -> Result<Self, SettingsError> {
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(invalid(
                Field::LearningRate,
                self.lr,
                "must be a positive number",
            ));
        }
        if self.batch_size == 0 || self.batch_size > 65536 {
            return Err(invalid(
                Field::BatchSize,
                self.batch_size,
                "must be 1 to 65536",
            ));
        }
        if self.epochs == 0 {
            return Err(invalid(Field::Epochs, self.epochs, "must be at least 1"));
        }
        if self.model.latent == 0 || self.model.latent > 4096 {
            return Err(invalid(
                Field::LatentSize,
                self.model.latent,
                "must be 1 to 4096",
            ));
        }
        if let Some(w) = self.model.hidden.iter().find(|&&w| w == 0 || w > 16384) {
            return Err(unusable(
                Field::HiddenWidths,
                format!("hidden width is {w}: must be 1 to 16384"),
            ));
        }
        if !(self.noise.level.is_finite() && (0.0..=10.0).contains(&self.noise.level)) {
            return Err(invalid(
                Field::NoiseLevel,
                self.noise.level,
                "must be 0 to 10",
            ));
        }
        if !(self.beta.is_finite() && self.beta >= 0.0) {
            return Err(invalid(Field::Beta, self.beta, "must be 0 or more"));
        }
        if !(self.sparsity_weight.is_finite() && self.sparsity_weight >= 0.0) {
            return Err(invalid(
                Field::SparsityWeight,
                self.sparsity_weight,
                "must be 0 or more",
            ));
        }
        if !(self.sparsity_target > 0.0 && self.sparsity_target < 1.0) {
            return Err(invalid(
                Field::SparsityTarget,
                self.sparsity_target,
                "must be between 0 and 1",
            ));
        }
        if self.max_latent_points == 0 || self.max_latent_points > MAX_POINTS {
            return Err(invalid(
                Field::ScatterPoints,
                self.max_latent_points,
                "must be between 1 and 200000",
            ));
        }
        if self.eval_every == 0 {
            return Err(invalid(
                Field::EvalEvery,
                self.eval_every,
                "must be at least 1",
            ));
        }
        if !(self.snapshot_interval_secs.is_finite() && self.snapshot_interval_secs >= 0.0) {
            return Err(invalid(
                Field::SnapshotInterval,
                self.snapshot_interval_secs,
                "must be 0 or more seconds",
            ));
        }
        Ok(self)
    }
}

/// The built-in datasets the studio offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum BuiltinData {
    #[default]
    Mnist,
    Fashion,
    SyntheticSeq,
    Shapes,
    SpokenDigits,
}

impl BuiltinData {
    pub const ALL: [BuiltinData; 5] = [
        BuiltinData::Mnist,
        BuiltinData::Fashion,
        BuiltinData::Shapes,
        BuiltinData::SyntheticSeq,
        BuiltinData::SpokenDigits,
    ];

    pub fn label(self) -> &'static str {
        match self {
            BuiltinData::Mnist => "MNIST digits",
            BuiltinData::Fashion => "Fashion-MNIST",
            BuiltinData::SyntheticSeq => "Synthetic sequences",
            BuiltinData::Shapes => "Shapes (known factors)",
            BuiltinData::SpokenDigits => "Spoken digits (8 voices)",
        }
    }

    pub fn spec(self) -> DataSpec {
        match self {
            BuiltinData::Mnist => DataSpec::Mnist,
            BuiltinData::Fashion => DataSpec::Fashion,
            BuiltinData::SyntheticSeq => DataSpec::SyntheticSeq,
            BuiltinData::Shapes => DataSpec::Shapes,
            BuiltinData::SpokenDigits => DataSpec::SpokenDigits,
        }
    }
}

/// What the studio's controls edit, persisted between sessions. May hold nonsense (a typo in
/// the hidden widths); [`Settings::to_config`] says what is wrong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub data: BuiltinData,
    /// Data given on the command line (`latentlab --data ...`), used instead of `data`; not
    /// remembered between sessions.
    #[serde(skip)]
    pub custom_data: Option<DataSpec>,
    pub kind: ModelKind,
    pub base: BaseNet,
    pub sparsity: SparsityKind,
    /// Sequence network: the recurrent cell and whether the encoder reads both ways.
    pub cell: CellKind,
    pub bidirectional: bool,
    pub latent: usize,
    /// Comma-separated encoder widths, as typed.
    pub hidden: String,
    pub loss: LossKind,
    pub lr: f64,
    pub batch_size: usize,
    pub seed: u64,
    pub epochs: u64,
    pub noise: Noise,
    /// VAE: weight β of the KL term (live).
    pub beta: f32,
    /// Sparse: penalty weight.
    pub sparsity_weight: f32,
    /// Sparse with KL: target mean activation ρ.
    pub sparsity_target: f32,
    /// VAE: β ramps up from 0 over this many steps (0: no warm-up).
    pub kl_warmup_steps: u64,
    /// Evaluate on the test split every this many steps.
    pub eval_every: u64,
    /// Test points encoded for the scatter views (at most the test split's size).
    pub max_points: usize,
    /// Slow motion: at most this many training steps per second (`None`: full speed); live,
    /// and not remembered between sessions.
    #[serde(skip)]
    pub speed: Option<f64>,
    /// Where the next run trains, as typed: `auto`, `cpu`, `gpu` or `remote:ws://HOST:PORT`
    /// (see [`Settings::device_choice`]); starts as the command line's `--device` and is not
    /// remembered, so a saved session never reaches for a server that has gone.
    #[serde(skip)]
    pub device: String,
}

impl Default for Settings {
    fn default() -> Self {
        let c = TrainConfig::for_kind(ModelKind::Dense, BaseNet::Dense, SparsityKind::L1);
        Self {
            data: BuiltinData::Mnist,
            custom_data: None,
            kind: c.model.kind,
            base: c.model.base,
            sparsity: c.model.sparsity,
            cell: c.model.cell,
            bidirectional: c.model.bidirectional,
            latent: c.model.latent,
            hidden: widths_text(&c.model.hidden),
            loss: c.loss,
            lr: c.lr,
            batch_size: c.batch_size,
            seed: c.seed,
            epochs: c.epochs,
            // Shown from the start (the middle row of the triptych); only the denoising model
            // trains on it.
            noise: Noise::REFERENCE,
            beta: c.beta,
            sparsity_weight: c.sparsity_weight,
            sparsity_target: c.sparsity_target,
            kl_warmup_steps: c.kl_warmup_steps,
            eval_every: c.eval_every,
            max_points: c.max_latent_points,
            speed: None,
            device: DeviceChoice::Auto.to_string(),
        }
    }
}

/// Widths as the studio shows them: "512, 128".
fn widths_text(widths: &[usize]) -> String {
    widths
        .iter()
        .map(|w| w.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Settings {
    /// Switches to another kind or base network with its default widths and latent size.
    pub fn set_kind(&mut self, kind: ModelKind, base: BaseNet) {
        let c = TrainConfig::for_kind(kind, base, self.sparsity);
        self.kind = kind;
        self.base = c.model.base;
        self.latent = c.model.latent;
        self.hidden = widths_text(&c.model.hidden);
        self.beta = c.beta;
        if kind == ModelKind::Voice {
            self.batch_size = c.batch_size;
            self.epochs = c.epochs;
        }
        if self.base == BaseNet::Seq {
            self.loss = c.loss;
        }
        // The studio shows the corruption for every kind; a kind that trains on it gets its
        // own when none is set.
        if self.noise.is_identity() {
            self.noise = c.noise;
        }
    }

    /// The data these settings train on.
    pub fn data_spec(&self) -> DataSpec {
        self.custom_data.clone().unwrap_or(self.data.spec())
    }

    /// After the data changed: a model and loss that can take it. Series get MSE and the
    /// sequence network (a plain dense or conv model becomes the seq kind; denoise, sparse and
    /// VAE keep their kind on the seq network); images get a non-recurrent network back, and BCE.
    pub fn fit_model_to_data(&mut self) {
        if self.data_spec().is_series() {
            self.loss = LossKind::Mse;
            if self.base != BaseNet::Seq {
                let kind = if self.kind.has_base() {
                    self.kind
                } else {
                    ModelKind::Seq
                };
                self.set_kind(kind, BaseNet::Seq);
            }
        } else if self.base == BaseNet::Seq {
            let kind = if self.kind.has_base() {
                self.kind
            } else {
                ModelKind::Dense
            };
            self.set_kind(kind, BaseNet::Dense);
            self.loss = LossKind::Bce;
        }
    }

    /// The studio's settings for a headless run of `config` (the CLI's flags are this view too).
    pub fn from_config(config: &TrainConfig) -> Self {
        let builtin = BuiltinData::ALL
            .into_iter()
            .find(|d| d.spec() == config.data);
        Settings {
            data: builtin.unwrap_or_default(),
            custom_data: builtin.is_none().then(|| config.data.clone()),
            kind: config.model.kind,
            base: config.model.base,
            sparsity: config.model.sparsity,
            cell: config.model.cell,
            bidirectional: config.model.bidirectional,
            latent: config.model.latent,
            hidden: widths_text(&config.model.hidden),
            loss: config.loss,
            lr: config.lr,
            batch_size: config.batch_size,
            seed: config.seed,
            epochs: config.epochs,
            noise: config.noise,
            beta: config.beta,
            sparsity_weight: config.sparsity_weight,
            sparsity_target: config.sparsity_target,
            kl_warmup_steps: config.kl_warmup_steps,
            eval_every: config.eval_every,
            max_points: config.max_latent_points,
            speed: None,
            device: DeviceChoice::Auto.to_string(),
        }
    }

    /// Parses the hidden widths ("512, 128" → [512, 128]); empty means none.
    pub fn hidden_widths(&self) -> Result<Vec<usize>, SettingsError> {
        self.hidden
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<usize>().map_err(|_| {
                    invalid(
                        Field::HiddenWidths,
                        &self.hidden,
                        "must be numbers separated by commas",
                    )
                })
            })
            .collect()
    }

    /// A validated configuration for a studio run (snapshots a few times a second).
    pub fn to_config(&self) -> Result<TrainConfig, SettingsError> {
        self.draft(self.hidden_widths()?).validate()
    }

    /// The configuration these settings describe, unchecked, with `hidden` as the widths.
    fn draft(&self, hidden: Vec<usize>) -> TrainConfig {
        TrainConfig {
            data: self.data_spec(),
            model: ModelConfig {
                kind: self.kind,
                base: self.base,
                hidden,
                latent: self.latent,
                sparsity: self.sparsity,
                cell: self.cell,
                bidirectional: self.bidirectional,
                classes: 0,
            },
            loss: self.loss,
            lr: self.lr,
            batch_size: self.batch_size,
            epochs: self.epochs,
            seed: self.seed,
            noise: self.noise,
            beta: self.beta,
            sparsity_weight: self.sparsity_weight,
            sparsity_target: self.sparsity_target,
            kl_warmup_steps: self.kl_warmup_steps,
            eval_every: self.eval_every,
            examples: 8,
            max_latent_points: self.max_points,
            snapshot_interval_secs: 0.3,
        }
    }

    /// True when going from `self` to `other` needs a new model (and so a restart): their
    /// configurations differ in more than [`TrainConfig::restart_key`] leaves out. Widths that
    /// do not parse count as none.
    pub fn needs_restart(&self, other: &Settings) -> bool {
        let key = |s: &Settings| s.draft(s.hidden_widths().unwrap_or_default()).restart_key();
        key(self) != key(other)
    }

    /// `self` with what a run can change without a new model taken from `from` (to keep the
    /// user's live and next-run changes when they decline a restart).
    pub fn with_adjustable_from(&self, from: &Settings) -> Settings {
        Settings {
            lr: from.lr,
            noise: from.noise,
            beta: from.beta,
            epochs: from.epochs,
            max_points: from.max_points,
            speed: from.speed,
            device: from.device.clone(),
            ..self.clone()
        }
    }

    /// The device the Device field names, or why it names none.
    pub fn device_choice(&self) -> Result<DeviceChoice, SettingsError> {
        self.device.trim().parse().map_err(|_| {
            invalid(
                Field::Device,
                &self.device,
                "not a device: auto, cpu, gpu or remote:ws://HOST:PORT",
            )
        })
    }

    /// The settings changed since `run` started that take effect only at the next run.
    pub fn next_run_changes(&self, run: &Settings) -> Vec<&'static str> {
        let mut changed = Vec::new();
        if self.epochs != run.epochs {
            changed.push("epochs");
        }
        if self.max_points != run.max_points {
            changed.push("scatter points");
        }
        if self.device != run.device {
            changed.push("device");
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choosing_series_picks_a_model_and_loss_that_take_them_and_back() {
        let mut s = Settings {
            data: BuiltinData::SyntheticSeq,
            ..Settings::default()
        };
        s.fit_model_to_data();
        assert_eq!(
            (s.kind, s.base, s.loss),
            (ModelKind::Seq, BaseNet::Seq, LossKind::Mse)
        );
        assert!(s.to_config().is_ok());
        s.data = BuiltinData::Mnist;
        s.fit_model_to_data();
        assert_eq!(
            (s.kind, s.base, s.loss),
            (ModelKind::Dense, BaseNet::Dense, LossKind::Bce)
        );
        // A kind with a choice of network keeps its kind and moves to the sequence network.
        s.set_kind(ModelKind::Vae, BaseNet::Conv);
        s.data = BuiltinData::SyntheticSeq;
        s.fit_model_to_data();
        assert_eq!((s.kind, s.base), (ModelKind::Vae, BaseNet::Seq));
    }

    #[test]
    fn default_is_valid_and_bad_values_are_named() {
        assert!(TrainConfig::default().validate().is_ok());
        let e = TrainConfig {
            lr: f64::NAN,
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert!(e.to_string().starts_with("learning rate is NaN"), "{e}");
        let e = TrainConfig {
            model: ModelConfig {
                hidden: vec![512, 0],
                ..Default::default()
            },
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert!(e.to_string().contains("hidden width is 0"), "{e}");
    }

    #[test]
    fn studio_settings_parse_widths_and_know_what_needs_a_restart() {
        let s = Settings::default();
        assert_eq!(s.to_config().unwrap().model, ModelConfig::default());
        let bad = Settings {
            hidden: "512, x".into(),
            ..Settings::default()
        };
        assert!(
            bad.to_config()
                .unwrap_err()
                .to_string()
                .contains("hidden widths")
        );
        let lr = Settings {
            lr: 0.01,
            ..Settings::default()
        };
        assert!(!s.needs_restart(&lr));
        let wider = Settings {
            hidden: "512,128 ".into(),
            ..Settings::default()
        };
        assert!(!s.needs_restart(&wider), "same widths, other spacing");
        let latent = Settings {
            latent: 2,
            ..Settings::default()
        };
        assert!(s.needs_restart(&latent));
    }

    #[test]
    fn adjustable_settings_need_no_restart_and_survive_a_declined_one() {
        let run = Settings::default();
        let adjusted = Settings {
            lr: 0.02,
            noise: Noise::default(),
            beta: 3.0,
            epochs: 99,
            max_points: 500,
            ..run.clone()
        };
        assert!(!run.needs_restart(&adjusted));
        assert_eq!(
            adjusted.next_run_changes(&run),
            ["epochs", "scatter points"]
        );
        // The user changes the model too, then declines the restart: the model reverts, the
        // adjustments stay.
        let both = Settings {
            kind: ModelKind::Vae,
            ..adjusted.clone()
        };
        assert!(run.needs_restart(&both));
        assert_eq!(run.with_adjustable_from(&both), adjusted);
        // Every other field needs a new model, including ones the studio does not show.
        for other in [
            Settings {
                eval_every: 7,
                ..run.clone()
            },
            Settings {
                sparsity_weight: 0.5,
                ..run.clone()
            },
            Settings {
                custom_data: Some(DataSpec::Fashion),
                ..run.clone()
            },
        ] {
            assert!(run.needs_restart(&other), "{other:?}");
        }
    }

    #[test]
    fn kind_defaults_come_from_one_place() {
        let denoise = TrainConfig::for_kind(ModelKind::Denoise, BaseNet::Conv, SparsityKind::L1);
        assert_eq!(denoise.noise, Noise::REFERENCE);
        assert_eq!(denoise.model, ModelKind::Denoise.model_on(BaseNet::Conv));
        let kl = TrainConfig::for_kind(ModelKind::Sparse, BaseNet::Dense, SparsityKind::Kl);
        assert_eq!(kl.sparsity_weight, 0.1);
        assert!(
            TrainConfig::for_kind(ModelKind::Dense, BaseNet::Conv, SparsityKind::L1)
                .noise
                .is_identity()
        );
        let mut s = Settings::default();
        s.set_kind(ModelKind::Vae, BaseNet::Conv);
        let c = s.to_config().unwrap();
        assert_eq!(c.model, ModelKind::Vae.model_on(BaseNet::Conv));
        // A configuration seen as settings and back is the same configuration.
        let back = Settings::from_config(&c).to_config().unwrap();
        assert_eq!(back, c);
        let custom = TrainConfig {
            data: DataSpec::Idx {
                images: "a.idx".into(),
                labels: None,
                names: None,
            },
            ..TrainConfig::default()
        };
        assert_eq!(
            Settings::from_config(&custom).custom_data,
            Some(custom.data)
        );
    }

    #[test]
    fn round_trips_through_json() {
        let c = TrainConfig::default();
        let s = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<TrainConfig>(&s).unwrap(), c);
    }
}
