//! The command line: `latentlab` (the studio) and the headless subcommands.
//!
//! Parses with clap, then calls the engine; errors are reported once, here, with their chain.

mod bench;
mod export;
#[cfg(feature = "remote")]
mod serve;
mod train;
mod tsne;
mod voice;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::data::{CsvOptions, DataSpec, Fit, FolderOptions, LabelColumn, NoiseKind};
use crate::settings::{
    BaseNet, CellKind, LossKind, ModelConfig, ModelKind, SparsityKind, TrainConfig,
};
use crate::train::DeviceChoice;

/// Latent Lab: watch autoencoders learn.
///
/// Without a subcommand, opens the desktop studio on the built-in MNIST data.
#[derive(Debug, Parser)]
#[command(name = "latentlab", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Commands>,

    /// Where training runs: auto (a real GPU if present, else CPU), cpu, gpu, or
    /// remote:ws://HOST:PORT (a `latentlab serve` server; its token in LATENTLAB_REMOTE_TOKEN;
    /// needs a build with `--features remote`).
    #[arg(long, default_value = "auto", global = true)]
    pub device: DeviceChoice,

    /// Studio only: log frame-time percentiles to stderr every few seconds (F12 shows them).
    #[arg(long)]
    pub frame_stats: bool,

    /// CPU threads for training (the Flex backend's thread pool) [default: all cores].
    #[arg(long, global = true)]
    pub threads: Option<usize>,

    /// The most sample data (MB) a file may promise before it is read; larger files are
    /// refused from their header, before anything is decompressed (default 1024).
    #[arg(long, global = true, value_name = "MB")]
    pub max_data_mb: Option<usize>,

    /// Studio only: start training as soon as the window opens.
    #[arg(long)]
    pub train: bool,

    /// Studio only: train on this data instead of the built-in sets (any --data of train:
    /// mnist, fashion, shapes, spoken-digits, idx:..., csv:..., wav:DIR, folder:DIR).
    #[arg(long, value_parser = parse_data)]
    pub data: Option<DataSpec>,

    /// Studio only: test points encoded for the latent views (overrides the saved setting).
    #[arg(long)]
    pub points: Option<usize>,

    /// Studio only: start with this model kind (its default architecture).
    #[arg(long, value_enum)]
    pub model: Option<ModelKind>,

    /// Studio only: start from an experiment saved as a settings file (TOML; the studio's
    /// File > Save settings). --data and --model given too apply on top of it.
    #[arg(long, value_name = "FILE")]
    pub settings: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Commands {
    /// Train an autoencoder headless and write metrics, a checkpoint and pictures to --out.
    Train(train::TrainCmd),
    /// Measure training speed, decode latency and convergence of each model kind.
    Bench(bench::BenchCmd),
    /// Export a run's embeddings for TensorBoard's Embedding Projector, or its weights for PyTorch.
    Export(export::ExportCmd),
    /// Convert a WAV into the voice of other WAVs with a trained voice model.
    Convert(voice::ConvertCmd),
    /// Map exported codes with t-SNE (Barnes-Hut), timed, with its 5-NN label accuracy.
    Tsne(tsne::TsneCmd),
    /// Serve this machine's GPU (or CPU) to studios and CLIs elsewhere: burn's remote backend
    /// over WebSocket; they train with --device remote:ws://THIS-HOST:PORT.
    #[cfg(feature = "remote")]
    Serve(serve::ServeCmd),
}

/// Options shared by everything that trains.
#[derive(Debug, Clone, Args)]
pub struct TrainArgs {
    /// Dataset: mnist, fashion, synthetic-seq (six families of series), idx:IMAGES[,LABELS[,NAMES]]
    /// (IDX files, gzip or raw, any image size, and a text file of class names, one per line), or
    /// csv:TRAIN[,TEST] (one series per row, UCR style; see --label-column, --znorm, --length),
    /// shapes, spoken-digits, wav:DIR (WAV recordings in one subfolder per speaker, cut into
    /// spectrograms of 0.64 s), or folder:DIR (images: PNG, JPEG, BMP, GIF, WebP, TIFF, one
    /// subfolder per class or flat; see --image-size, --grey, --fit). One file or folder is split 90/10 into train and test with --seed.
    #[arg(long, default_value = "mnist", value_parser = parse_data)]
    pub data: DataSpec,

    /// CSV series: is the first column the class label (first) or a value (none)?
    #[arg(long, value_enum, default_value_t = LabelColumn::First)]
    pub label_column: LabelColumn,

    /// CSV series: z-normalise each series (mean 0, standard deviation 1).
    #[arg(long)]
    pub znorm: bool,

    /// CSV series: resample every series linearly to this many steps [default: the longest].
    #[arg(long)]
    pub length: Option<usize>,

    /// Image folders: the side of the square every image is resized to.
    #[arg(long, default_value_t = 32, value_name = "PIXELS")]
    pub image_size: usize,

    /// Image folders: read the images grey even when they have colour.
    #[arg(long)]
    pub grey: bool,

    /// Image folders: crop (the largest centred square) or letterbox (the whole image on black).
    #[arg(long, value_enum, default_value_t = Fit::Crop)]
    pub fit: Fit,

    /// Model kind.
    #[arg(long, value_enum, default_value_t = ModelKind::Dense)]
    pub model: ModelKind,

    /// The network under denoise, sparse and vae: dense, conv or seq.
    #[arg(long, value_enum, default_value_t = BaseNet::Dense)]
    pub base: BaseNet,

    /// Sequence network: the recurrent cell.
    #[arg(long, value_enum, default_value_t = CellKind::Lstm)]
    pub cell: CellKind,

    /// Sequence network: read each series forwards and backwards in the encoder.
    #[arg(long)]
    pub bidirectional: bool,

    /// Number of epochs (passes over the training split) [default: 10; 200 for voice].
    #[arg(long)]
    pub epochs: Option<u64>,

    /// Latent code size [default: the kind's reference: 32 dense, 16 conv, 2 vae, 8 seq].
    #[arg(long)]
    pub latent: Option<usize>,

    /// Encoder widths, comma-separated, input side first (units for dense layers, channels for
    /// convolutions, the one cell width for seq); the decoder mirrors them [default: 512,128
    /// dense; 32,64 conv; 512,256 vae; 64 seq].
    #[arg(long, value_delimiter = ',')]
    pub hidden: Option<Vec<usize>>,

    /// Adam learning rate.
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,

    /// Mini-batch size [default: 128; 16 for voice].
    #[arg(long)]
    pub batch: Option<usize>,

    /// Reconstruction loss: bce (binary cross-entropy on logits; images only) or mse [default:
    /// bce for images, mse for series].
    #[arg(long, value_enum)]
    pub loss: Option<LossKind>,

    /// Seed for weight initialisation, shuffling, noise and the split of user data.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// Input corruption, trained on by the denoise model [default for denoise: gaussian].
    #[arg(long, value_enum)]
    pub noise: Option<NoiseKind>,

    /// Corruption level: σ for gaussian, probability for salt-pepper and mask [default: 0.3].
    #[arg(long, default_value_t = 0.3)]
    pub noise_level: f32,

    /// Weight β of the KL term (VAE, CVAE, split) or of the total correlation (β-TCVAE)
    /// [default: 1; 3 for cvae, 6 for btcvae].
    #[arg(long)]
    pub beta: Option<f32>,

    /// VAE: ramp β up from 0 over this many steps (0: no warm-up).
    #[arg(long, default_value_t = 0)]
    pub kl_warmup: u64,

    /// Sparse: the penalty, l1 (on ReLU code units) or kl (on sigmoid code units).
    #[arg(long, value_enum, default_value_t = SparsityKind::L1)]
    pub sparsity: SparsityKind,

    /// Sparse: weight of the penalty (λ for l1, β for kl) [default: 0.01 l1, 0.1 kl].
    #[arg(long)]
    pub sparsity_weight: Option<f32>,

    /// Sparse with kl: target mean activation ρ of each code unit.
    #[arg(long, default_value_t = 0.05)]
    pub sparsity_target: f32,

    /// Evaluate on the test split every this many steps (and at the end of each epoch at least
    /// that long).
    #[arg(long, default_value_t = 50)]
    pub eval_every: u64,
}

fn parse_data(s: &str) -> Result<DataSpec, String> {
    s.parse().map_err(|e: crate::data::LoadError| e.to_string())
}

impl TrainArgs {
    /// The configuration these flags describe (not yet validated).
    pub fn config(&self) -> TrainConfig {
        let defaults = TrainConfig::for_kind(self.model, self.base, self.sparsity);
        let mut data = self.data.clone();
        match &mut data {
            DataSpec::Csv { options, .. } => {
                *options = CsvOptions {
                    label_column: self.label_column,
                    znorm: self.znorm,
                    length: self.length,
                }
            }
            DataSpec::Folder { options, .. } => {
                *options = FolderOptions {
                    size: self.image_size,
                    grey: self.grey,
                    fit: self.fit,
                }
            }
            _ => {}
        }
        let series = data.is_series();
        TrainConfig {
            model: ModelConfig {
                hidden: self.hidden.clone().unwrap_or(defaults.model.hidden.clone()),
                latent: self.latent.unwrap_or(defaults.model.latent),
                cell: self.cell,
                bidirectional: self.bidirectional,
                ..defaults.model.clone()
            },
            data,
            loss: self
                .loss
                .unwrap_or(if series { LossKind::Mse } else { defaults.loss }),
            lr: self.lr,
            batch_size: self.batch.unwrap_or(defaults.batch_size),
            epochs: self.epochs.unwrap_or(defaults.epochs),
            seed: self.seed,
            noise: crate::data::Noise {
                kind: self.noise.unwrap_or(defaults.noise.kind),
                level: self.noise_level,
            },
            beta: self.beta.unwrap_or(defaults.beta),
            kl_warmup_steps: self.kl_warmup,
            sparsity_weight: self.sparsity_weight.unwrap_or(defaults.sparsity_weight),
            sparsity_target: self.sparsity_target,
            eval_every: self.eval_every,
            snapshot_interval_secs: 0.0,
            ..defaults
        }
    }
}

/// Runs the command line; the binary's `main` is this.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // A subcommand's output piped into `head` that closes early ends it quietly, as other
    // command line tools do, instead of a panic on the next print (Rust ignores SIGPIPE by
    // default). The studio keeps ignoring it: a window never dies of its log's reader.
    #[cfg(unix)]
    if cli.command.is_some() {
        // SAFETY: restoring a signal's default action, before any thread is started.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    if let Some(n) = cli.threads
        && let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
    {
        eprintln!("error: cannot set {n} threads: {e}");
        return ExitCode::FAILURE;
    }
    if let Some(mb) = cli.max_data_mb {
        crate::data::set_max_data_bytes(mb.saturating_mul(1 << 20));
    }
    let result = match cli.command {
        Some(Commands::Train(args)) => train::train(args, cli.device),
        Some(Commands::Bench(args)) => bench::bench(args, cli.device),
        Some(Commands::Export(args)) => export::export(args, cli.device),
        Some(Commands::Convert(args)) => voice::convert(args, cli.device),
        Some(Commands::Tsne(args)) => tsne::run(args),
        #[cfg(feature = "remote")]
        Some(Commands::Serve(args)) => serve::serve(args, cli.device),
        None => crate::app::run(crate::app::Launch {
            device: cli.device,
            log_frame_stats: cli.frame_stats,
            autostart: cli.train,
            data: cli.data,
            points: cli.points,
            model: cli.model,
            settings: cli.settings,
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
