//! Training: the loop as a plain function ([`run`]), the worker thread around it
//! ([`worker::Trainer`]), checkpoints and device choice.
//!
//! `run` talks to the outside only through `Command`s and `Event`s from [`crate::protocol`];
//! it owns no threads. Never imports egui.

pub mod adam;
pub mod cadence;
pub mod checkpoint;
pub mod device;
pub mod worker;

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};

use crate::data::{DataFacts, DataSplit, Dataset, Noise, Rng, ValueRange, epoch_batches};
use crate::latent::swap::class_means;
use crate::model::{
    Autoencoder, Batch, CpuDecoder, architecture, one_hot, output, samples_tensor, to_vec,
};
use crate::protocol::{
    CodeParts, Command, EvalReport, Event, Fault, LatentCloud, RunEnd, RunInfo, SampleGrid,
    Snapshot, StartRequest, StepBatch, StepLoss,
};
use crate::settings::{
    Field, LossKind, LossParams, ModelKind, SettingsError, TrainConfig, unusable,
};
use cadence::{Cadence, Clock, Due, Throughput};
use checkpoint::CheckpointMeta;
pub use device::{DeviceChoice, SelectedDevice};

/// Why a run failed, and at which step.
#[derive(Debug, Clone)]
pub struct RunError {
    pub step: u64,
    pub message: String,
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for RunError {}

/// Where a run writes its checkpoints, besides explicit `SaveCheckpoint` commands.
#[derive(Debug, Clone, Default)]
pub struct Autosave {
    /// Saved at each epoch end and when the run ends (on failure: the weights kept).
    pub dir: Option<PathBuf>,
}

/// This machine's memory in bytes (`MemTotal`), where the system says; read once, since
/// [`preflight`] runs every frame in the studio.
fn memory_bytes() -> Option<u64> {
    static TOTAL: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    *TOTAL.get_or_init(|| {
        let info = std::fs::read_to_string("/proc/meminfo").ok()?;
        let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    })
}

/// Refuses a run whose estimated training memory exceeds three quarters of the machine's,
/// saying both; passes when the machine's memory is unknown.
fn fits_in_memory(estimate: u64, memory: Option<u64>) -> Result<(), String> {
    let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
    match memory {
        Some(total) if estimate > total / 4 * 3 => Err(format!(
            "this model would need about {:.1} GiB to train (weights, gradients, optimizer state and a batch's activations), more than three quarters of this machine's {:.1} GiB: make the hidden layers narrower or fewer, or the batch smaller",
            gib(estimate),
            gib(total)
        )),
        _ => Ok(()),
    }
}

/// Whether `config` can train on data of `facts` on this machine: every field valid, the model
/// able to take the samples, the batch no larger than the training split, the memory estimate
/// within three quarters of the machine's. The error names the field to change. The trainer
/// runs it before anything is allocated; the studio runs it as the settings change, to mark
/// the field.
pub fn preflight(config: &TrainConfig, facts: &DataFacts) -> Result<(), SettingsError> {
    let mut config = config.clone().validate()?;
    if config.model.kind.uses_labels() {
        config.model.classes = facts.classes;
    }
    if config.loss == LossKind::Bce && facts.shape.value_range() == ValueRange::Real {
        return Err(unusable(
            Field::Loss,
            format!(
                "binary cross-entropy needs values in [0, 1], but these are real-valued {}: use the MSE loss",
                facts.shape.modality()
            ),
        ));
    }
    crate::model::check(&config.model, facts.shape)?;
    if config.batch_size > facts.train_len {
        return Err(unusable(
            Field::BatchSize,
            format!(
                "batch size {} is larger than the {} training samples",
                config.batch_size, facts.train_len
            ),
        ));
    }
    fits_in_memory(
        crate::model::training_bytes(&config.model, facts.shape, config.batch_size),
        memory_bytes(),
    )
    .map_err(|message| unusable(Field::HiddenWidths, message))
}

/// What a caught panic said.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown panic".to_string())
}

/// Trains one run to its end, reporting through `sink` and obeying `control`.
///
/// Sends exactly one `Finished` or `Failed` as its last event, whatever happens inside
/// (a panic in a backend included). Returns when the run completes, on `Stop`, or when
/// `control`'s sender is dropped.
///
/// The loop itself runs inside a thread pool of its own ([`worker::on_training_pool`]); the
/// caller waits.
pub fn run(
    request: &StartRequest,
    data: &DataSplit,
    device: &SelectedDevice,
    autosave: &Autosave,
    sink: &mut (dyn FnMut(Event) + Send),
    control: &mut Receiver<Command>,
) -> Result<RunEnd, RunError> {
    worker::on_training_pool(move || run_here(request, data, device, autosave, sink, control))
}

fn run_here(
    request: &StartRequest,
    data: &DataSplit,
    device: &SelectedDevice,
    autosave: &Autosave,
    sink: &mut dyn FnMut(Event),
    control: &Receiver<Command>,
) -> Result<RunEnd, RunError> {
    let mut last_step = 0;
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
        crate::with_model_type!(request.config.model, M => {
            Trainer::<M>::run(request, data, device, autosave, sink, control, &mut last_step)
        })
    }));
    let result = outcome.unwrap_or_else(|panic| {
        let what = panic_message(&*panic);
        Err(RunError {
            step: last_step,
            message: format!("internal error in the training backend at step {last_step}: {what}"),
        })
    });
    match &result {
        Ok(end) => sink(Event::Finished(end.clone())),
        Err(e) => sink(Event::Failed {
            step: e.step,
            message: e.message.clone(),
        }),
    }
    result
}

/// Test data prepared once as device tensors, in chunks.
struct EvalSet {
    /// Batches of the test split; the input is a fixed noisy copy when noise is on.
    chunks: Vec<Batch>,
    count: usize,
}

const EVAL_CHUNK: usize = 500;

impl EvalSet {
    fn new(test: &Dataset, noise: Noise, seed: u64, device: &Device) -> Self {
        let n = test.len();
        let px = test.shape.len();
        // The noisy copy of the whole test split exists only when there is noise.
        let noisy = (!noise.is_identity()).then(|| {
            let mut noisy = test.values.to_f32();
            noise.apply(
                &mut noisy,
                test.shape.value_range(),
                &mut Rng::new(seed ^ 0x7E57),
            );
            noisy
        });
        let chunks = (0..n)
            .step_by(EVAL_CHUNK)
            .map(|start| {
                let end = (start + EVAL_CHUNK).min(n);
                let target =
                    samples_tensor(test.samples(start..end).into_owned(), test.shape, device);
                let input = match &noisy {
                    None => target.clone(),
                    Some(noisy) => {
                        samples_tensor(noisy[start * px..end * px].to_vec(), test.shape, device)
                    }
                };
                let classes = test
                    .labels
                    .as_ref()
                    .map(|l| one_hot(&l[start..end], test.classes(), device));
                Batch {
                    input,
                    target,
                    classes,
                }
            })
            .collect();
        Self { chunks, count: n }
    }
}

/// How `model`'s code divides into content and style, with each class's content code: the
/// model's own when it has one, else the mean content code of the class among `codes` (the
/// test codes, in order, labelled by `labels`).
fn code_parts<M: Autoencoder>(
    model: &M,
    codes: &[f32],
    labels: Option<&[u32]>,
    classes: usize,
) -> Option<CodeParts> {
    let content_dim = model.content_dim();
    if content_dim == 0 || classes == 0 {
        return None;
    }
    let dim = model.latent_dim();
    let means = labels.map(|l| class_means(codes, dim, l, classes));
    let mut class_contents = Vec::with_capacity(classes * content_dim);
    for c in 0..classes {
        match (model.class_content(c), &means) {
            (Some(own), _) if own.len() == content_dim => class_contents.extend(own),
            (_, Some(means)) => class_contents.extend(&means[c * dim..c * dim + content_dim]),
            _ => class_contents.extend(std::iter::repeat_n(0.0, content_dim)),
        }
    }
    Some(CodeParts {
        content_dim,
        class_contents,
        names: model.part_names().map(String::from),
    })
}

/// The state of one run, apart from the model (which the optimizer consumes and returns).
struct Trainer<'a, M: Autoencoder> {
    config: TrainConfig,
    data: &'a DataSplit,
    train_device: Device,
    eval_device: Device,
    optim: ModuleOptimizer,
    lr: f64,
    beta: f32,
    noise_rng: Rng,
    step: u64,
    steps_per_epoch: u64,
    total_steps: u64,
    term_names: Vec<String>,
    eval: EvalSet,
    examples: Vec<usize>,
    /// Active training time (resumed runs include their earlier processes').
    clock: Clock,
    /// When to flush, evaluate, snapshot and autosave.
    cadence: Cadence,
    /// Slow motion: at most this many steps per second (`Command::SetSpeed`), and when the
    /// next step may begin.
    max_rate: Option<f64>,
    next_step_at: Option<Instant>,
    /// Step losses not yet sent, and samples/s.
    window: Throughput,
    /// Seconds spent in training steps in this process.
    train_secs: f64,
    last_test_mse: Option<f32>,
    /// The weights before the last update, and the step count they belong to: the last weights
    /// known to give a finite loss.
    before_update: Option<(M, u64)>,
    architecture: String,
    autosave: Autosave,
    /// Host buffers reused every step: clean batch and its corrupted copy.
    batch_clean: Vec<f32>,
    batch_noisy: Vec<f32>,
    /// The last snapshot's principal axes: the next snapshot's PCA starts from them, so the
    /// latent views keep their orientation.
    latent_pca: Option<crate::latent::Pca>,
    /// A fault a test injects ([`Fault`]).
    fault: Option<Fault>,
}

enum Flow {
    Go,
    Stop,
}

impl<'a, M: Autoencoder> Trainer<'a, M> {
    fn run(
        request: &StartRequest,
        data: &'a DataSplit,
        device: &SelectedDevice,
        autosave: &Autosave,
        sink: &mut dyn FnMut(Event),
        control: &Receiver<Command>,
        last_step: &mut u64,
    ) -> Result<RunEnd, RunError> {
        let mut config = request.config.clone();
        if config.model.kind.uses_labels() {
            config.model.classes = data.train.classes();
        }
        let fail = |step: u64, message: String| RunError { step, message };
        let shape = data.train.shape;
        if data.train.is_empty() || data.test.is_empty() {
            return Err(fail(0, format!("dataset {} has no samples", data.name)));
        }
        let eval_device = device.device.clone();
        let train_device = eval_device.clone().autodiff();
        train_device.seed(config.seed);
        preflight(&config, &data.facts()).map_err(|e| fail(0, format!("{e} ({})", data.name)))?;
        let arch = architecture(&config.model, shape);
        let mut model = M::init(&config.model, shape, &train_device);
        // PyTorch's Adam settings (burn's epsilon defaults to 1e-5), so runs compare with the
        // reference; fused into one pass per parameter on the CPU.
        let mut optim = adam::FusedAdam::new(0.9, 0.999, 1e-8).init();
        let mut step = 0;
        let mut elapsed_before = 0.0;
        if let Some(dir) = &request.resume_from {
            let (dir, meta) = checkpoint::read_meta(dir).map_err(|e| fail(0, format!("{e:#}")))?;
            model = checkpoint::load_model(&dir, &meta, model, &arch)
                .map_err(|e| fail(0, format!("{e:#}")))?;
            optim = checkpoint::load_optimizer(&dir, &meta, optim)
                .map_err(|e| fail(0, format!("{e:#}")))?;
            step = meta.step;
            elapsed_before = meta.elapsed_secs;
        }
        let steps_per_epoch = (data.train.len() / config.batch_size) as u64;
        let examples: Vec<usize> = (0..config.examples.min(data.test.len())).collect();
        let term_names = model.term_names();
        let mut t = Trainer {
            eval: EvalSet::new(&data.test, train_noise(&config), config.seed, &eval_device),
            data,
            lr: config.lr,
            beta: config.beta,
            noise_rng: Rng::new(config.seed ^ 0xA015E ^ step),
            train_device,
            eval_device,
            optim,
            step,
            steps_per_epoch,
            total_steps: steps_per_epoch * config.epochs,
            term_names,
            examples,
            clock: Clock::new(elapsed_before, Instant::now()),
            cadence: Cadence::new(
                config.eval_every,
                steps_per_epoch,
                config.snapshot_interval_secs,
                Instant::now(),
            ),
            max_rate: None,
            next_step_at: None,
            window: Throughput::default(),
            train_secs: 0.0,
            last_test_mse: None,
            before_update: None,
            architecture: arch.clone(),
            autosave: autosave.clone(),
            batch_clean: Vec::new(),
            batch_noisy: Vec::new(),
            latent_pca: None,
            fault: request.fault,
            config,
        };
        sink(Event::Started(RunInfo {
            device: device.description.clone(),
            dataset: data.name.clone(),
            architecture: arch,
            model: t.config.model.clone(),
            sample_shape: shape,
            latent_dim: model.latent_dim(),
            term_names: t.term_names.clone(),
            class_names: data.train.class_names.clone(),
            steps_per_epoch,
            start_step: t.step,
            total_steps: t.total_steps,
            train_len: data.train.len(),
            test_len: data.test.len(),
            test_samples: Arc::new(SampleGrid::new(shape, data.test.values.to_f32())),
            test_labels: data.test.labels.clone().map(Arc::new),
            test_factors: data.test.factors.clone().map(Arc::new),
        }));
        t.send_snapshot(&model, sink);

        let mut paused = request.start_paused;
        let mut step_budget = 0u32;
        if paused {
            t.clock.pause(Instant::now());
            sink(Event::Paused { step: t.step });
        }
        let mut batches: Vec<Vec<usize>> = Vec::new();
        let mut batches_epoch = 0;
        let mut stopped = false;
        while t.step < t.total_steps {
            // Commands first: block while paused with no single step requested, and in slow
            // motion until the next step is due (a requested single step does not wait).
            loop {
                let held = paused && step_budget == 0;
                let wait = if held {
                    Some(Duration::from_millis(200))
                } else {
                    t.next_step_at
                        .filter(|_| step_budget == 0)
                        .and_then(|at| at.checked_duration_since(Instant::now()))
                };
                let cmd = match wait {
                    Some(wait) => match control.recv_timeout(wait) {
                        Ok(c) => c,
                        Err(RecvTimeoutError::Timeout) if held => continue,
                        // The next step is due.
                        Err(RecvTimeoutError::Timeout) => break,
                        Err(RecvTimeoutError::Disconnected) => {
                            stopped = true;
                            break;
                        }
                    },
                    None => match control.try_recv() {
                        Ok(c) => c,
                        Err(TryRecvError::Empty) => break,
                        Err(TryRecvError::Disconnected) => {
                            stopped = true;
                            break;
                        }
                    },
                };
                match t.command(cmd, &model, &mut paused, &mut step_budget, sink) {
                    Flow::Go => {}
                    Flow::Stop => {
                        stopped = true;
                        break;
                    }
                }
            }
            if stopped {
                break;
            }
            let epoch = t.step / t.steps_per_epoch + 1;
            if batches_epoch != epoch {
                let mut rng = Rng::new(t.config.seed.wrapping_mul(0x9E37) ^ epoch);
                batches = epoch_batches(data.train.len(), t.config.batch_size, &mut rng);
                batches_epoch = epoch;
            }
            let pos = (t.step % t.steps_per_epoch) as usize;
            t.next_step_at = t
                .max_rate
                .map(|rate| Instant::now() + Duration::from_secs_f64(1.0 / rate));
            model = match t.train_step(model, &batches[pos], epoch) {
                Ok(m) => m,
                Err((m, bad)) => {
                    *last_step = t.step + 1;
                    return Err(t.diverged(m, bad, sink));
                }
            };
            *last_step = t.step;
            step_budget = step_budget.saturating_sub(1);

            let due = t.cadence.after_step(t.step, Instant::now());
            t.periodic(due, &model, sink);
            if paused && step_budget == 0 {
                t.flush_steps(sink);
            }
        }
        // Finish: final metrics and pictures for whoever reads the last events.
        let due = t.cadence.at_end(t.step);
        t.periodic(due, &model, sink);
        Ok(RunEnd {
            step: t.step,
            epoch: t.epoch(),
            elapsed_secs: t.elapsed_secs(),
            test_mse: t.last_test_mse,
            stopped,
        })
    }

    fn epoch(&self) -> u64 {
        self.step.saturating_sub(1) / self.steps_per_epoch + 1
    }

    fn elapsed_secs(&self) -> f64 {
        self.clock.elapsed_secs(Instant::now())
    }

    /// Does the periodic work the cadence says is due, in this order: losses, metrics,
    /// pictures, checkpoint.
    fn periodic(&mut self, due: Due, model: &M, sink: &mut dyn FnMut(Event)) {
        if due.flush {
            self.flush_steps(sink);
        }
        if due.eval {
            self.evaluate(model, sink);
        }
        if due.snapshot {
            self.send_snapshot(model, sink);
        }
        if due.autosave {
            self.autosave(model, sink);
        }
    }

    fn command(
        &mut self,
        cmd: Command,
        model: &M,
        paused: &mut bool,
        step_budget: &mut u32,
        sink: &mut dyn FnMut(Event),
    ) -> Flow {
        match cmd {
            Command::Pause => {
                if !*paused {
                    *paused = true;
                    self.clock.pause(Instant::now());
                    self.flush_steps(sink);
                    sink(Event::Paused { step: self.step });
                }
            }
            Command::Resume => {
                *step_budget = 0;
                if *paused {
                    *paused = false;
                    self.clock.resume(Instant::now());
                    self.cadence.flushed(Instant::now());
                    sink(Event::Resumed { step: self.step });
                }
            }
            Command::Step => {
                if !*paused {
                    *paused = true;
                    self.clock.pause(Instant::now());
                    self.flush_steps(sink);
                    sink(Event::Paused { step: self.step });
                }
                *step_budget += 1;
            }
            Command::Stop => return Flow::Stop,
            Command::SetSpeed(rate) => {
                let rate = rate.filter(|r| r.is_finite() && *r > 0.0);
                self.max_rate = rate;
                self.next_step_at = rate.map(|r| Instant::now() + Duration::from_secs_f64(1.0 / r));
                sink(Event::SpeedChanged {
                    step: self.step,
                    steps_per_sec: rate,
                });
            }
            Command::SetLearningRate(lr) => {
                if lr.is_finite() && lr > 0.0 {
                    self.lr = lr;
                    sink(Event::LearningRateChanged {
                        step: self.step,
                        lr,
                    });
                } else {
                    sink(Event::Warning(format!(
                        "ignored learning rate {lr}: must be positive"
                    )));
                }
            }
            Command::SetBeta(beta) => {
                if beta.is_finite() && beta >= 0.0 {
                    self.beta = beta;
                    sink(Event::BetaChanged {
                        step: self.step,
                        beta,
                    });
                } else {
                    sink(Event::Warning(format!(
                        "ignored β {beta}: must be 0 or more"
                    )));
                }
            }
            Command::SetNoise(noise) => {
                self.config.noise = noise;
                self.eval = EvalSet::new(
                    &self.data.test,
                    train_noise(&self.config),
                    self.config.seed,
                    &self.eval_device,
                );
                sink(Event::NoiseChanged {
                    step: self.step,
                    noise,
                });
            }
            Command::SaveCheckpoint(dir) => match self.save(&dir, model, true) {
                Ok(()) => sink(Event::CheckpointSaved {
                    step: self.step,
                    path: dir,
                }),
                Err(e) => sink(Event::Warning(format!("{e:#}"))),
            },
            Command::Start(_) => sink(Event::Warning(
                "a run is already in progress: stop it before starting another".to_string(),
            )),
        }
        Flow::Go
    }

    /// One optimizer step on the batch `indices`. On a non-finite loss, returns the model
    /// untouched (the update is not applied) and what was not finite.
    fn train_step(&mut self, model: M, indices: &[usize], epoch: u64) -> Result<M, (M, NonFinite)> {
        let t0 = Instant::now();
        if self.fault == Some(Fault::OversizedAllocation { at_step: self.step }) {
            let huge = Tensor::<1>::zeros([1usize << 40], &self.train_device);
            to_vec(huge.slice(0..1));
        }
        let train = &self.data.train;
        let shape = train.shape;
        self.batch_clean.clear();
        for &i in indices {
            train.extend_sample(i, &mut self.batch_clean);
        }
        let target = samples_tensor(self.batch_clean.clone(), shape, &self.train_device);
        let noise = self.train_noise();
        let input = if noise.is_identity() {
            target.clone()
        } else {
            self.batch_noisy.clone_from(&self.batch_clean);
            noise.apply(
                &mut self.batch_noisy,
                shape.value_range(),
                &mut self.noise_rng,
            );
            samples_tensor(self.batch_noisy.clone(), shape, &self.train_device)
        };
        let classes = train.labels.as_ref().map(|labels| {
            let batch: Vec<u32> = indices.iter().map(|&i| labels[i]).collect();
            one_hot(&batch, train.classes(), &self.train_device)
        });
        let batch = Batch {
            input,
            target,
            classes,
        };
        let terms = model.loss(batch, &self.loss_params());
        let mut parts = vec![terms.total.clone().detach()];
        parts.extend(terms.terms.iter().map(|t| t.clone().detach()));
        let values = to_vec(Tensor::cat(parts, 0));
        let loss = values[0];
        if !loss.is_finite() {
            let terms = model
                .term_names()
                .into_iter()
                .zip(&values[1..])
                .filter(|(_, v)| !v.is_finite())
                .map(|(name, v)| format!("{name} {v}"))
                .collect();
            return Err((model, NonFinite { loss, terms }));
        }
        let grads = GradientsParams::from_grads(terms.total.backward(), &model);
        self.before_update = Some((model.clone(), self.step));
        let model = self.optim.step(self.lr, model, grads);
        self.step += 1;
        let mut term_values = [0.0f32; 4];
        for (dst, src) in term_values.iter_mut().zip(&values[1..]) {
            *dst = *src;
        }
        let secs = t0.elapsed().as_secs_f64();
        self.window.record(
            StepLoss {
                step: self.step,
                epoch,
                loss,
                terms: term_values,
            },
            indices.len(),
            secs,
        );
        self.train_secs += secs;
        Ok(model)
    }

    fn loss_params(&self) -> LossParams {
        let warmup = self.config.kl_warmup_steps;
        let ramp = if warmup == 0 {
            1.0
        } else {
            (self.step as f32 / warmup as f32).min(1.0)
        };
        LossParams {
            recon: self.config.loss,
            beta: self.beta * ramp,
            sparsity_weight: self.config.sparsity_weight,
            sparsity_target: self.config.sparsity_target,
        }
    }

    /// The corruption the model trains on: the configured one for a denoising model, none
    /// otherwise (other kinds only show it).
    fn train_noise(&self) -> Noise {
        train_noise(&self.config)
    }

    fn flush_steps(&mut self, sink: &mut dyn FnMut(Event)) {
        let (steps, samples_per_sec) = self.window.take();
        if !steps.is_empty() {
            sink(Event::Steps(StepBatch {
                steps,
                samples_per_sec,
                lr: self.lr,
                elapsed_secs: self.elapsed_secs(),
            }));
        }
        self.cadence.flushed(Instant::now());
    }

    /// Test metrics on the whole test split.
    fn evaluate(&mut self, model: &M, sink: &mut dyn FnMut(Event)) {
        let valid = model.valid();
        let mut sq_sum = 0.0f64;
        let mut input_sq_sum = 0.0f64;
        let noisy = !self.train_noise().is_identity();
        let range = self.data.test.shape.value_range();
        let mut terms = vec![0.0f64; self.term_names.len()];
        for batch in &self.eval.chunks {
            let (input, target) = (&batch.input, &batch.target);
            let n = target.dims()[0] as f64;
            let logits = valid.decode(valid.encode(input.clone()));
            sq_sum += to_vec((output(logits, range) - target.clone()).square().sum())[0] as f64;
            if noisy {
                input_sq_sum += to_vec((input.clone() - target.clone()).square().sum())[0] as f64;
            }
            let l = valid.loss(batch.clone(), &self.loss_params());
            let values = to_vec(Tensor::cat(l.terms, 0));
            for (acc, v) in terms.iter_mut().zip(values) {
                *acc += v as f64 * n;
            }
        }
        let count = self.eval.count as f64;
        let values = count * self.data.test.shape.len() as f64;
        let test_mse = (sq_sum / values) as f32;
        self.last_test_mse = Some(test_mse);
        self.cadence.evaluated(self.step);
        sink(Event::Eval(EvalReport {
            step: self.step,
            epoch: self.epoch(),
            test_mse,
            terms: terms.iter().map(|t| (t / count) as f32).collect(),
            input_mse: noisy.then_some((input_sq_sum / values) as f32),
            elapsed_secs: self.elapsed_secs(),
            train_secs: self.train_secs,
        }));
    }

    fn send_snapshot(&mut self, model: &M, sink: &mut dyn FnMut(Event)) {
        let t0 = Instant::now();
        let snapshot = self.snapshot(model);
        self.cadence.snapshot_took(t0.elapsed());
        self.latent_pca = snapshot.latents.stats.pca.clone();
        self.cadence.snapshot_sent(self.step, Instant::now());
        sink(Event::Snapshot(Arc::new(snapshot)));
    }

    fn snapshot(&self, model: &M) -> Snapshot {
        let valid = model.valid();
        let test = &self.data.test;
        let shape = test.shape;
        let points = self.config.max_latent_points.min(test.len());
        let t0 = Instant::now();
        let mut codes = Vec::with_capacity(points * model.latent_dim());
        for Batch { target: clean, .. } in &self.eval.chunks {
            let have = codes.len() / model.latent_dim().max(1);
            if have >= points {
                break;
            }
            let n = clean.dims()[0].min(points - have);
            codes.extend(to_vec(valid.encode(clean.clone().narrow(0, 0, n))));
        }
        let encode_secs = t0.elapsed().as_secs_f64();
        // The examples as the model sees them (corrupted when noise is on), and their outputs.
        let k = self.examples.len();
        let inputs: Vec<f32> = test.samples(0..k).into_owned();
        let mut noisy = inputs.clone();
        self.config.noise.apply(
            &mut noisy,
            shape.value_range(),
            &mut Rng::new(self.step ^ 0x5EED),
        );
        let seen = if self.train_noise().is_identity() {
            &inputs
        } else {
            &noisy
        };
        let raw =
            valid.decode(valid.encode(samples_tensor(seen.clone(), shape, &self.eval_device)));
        let recon = to_vec(output(raw, shape.value_range()));
        let parts = code_parts(model, &codes, test.labels.as_deref(), test.classes());
        Snapshot {
            step: self.step,
            epoch: self.epoch(),
            example_indices: self.examples.clone(),
            example_labels: test.labels.as_ref().map(|l| l[..k].to_vec()),
            inputs: SampleGrid::new(shape, inputs),
            noisy: SampleGrid::new(shape, noisy),
            reconstructions: SampleGrid::new(shape, recon),
            latents: LatentCloud::new(
                model.latent_dim(),
                codes,
                test.labels.as_ref().map(|l| l[..points].to_vec()),
                (0..points).collect(),
                self.latent_pca.as_ref(),
            ),
            decoder: Arc::new(CpuDecoder::new(model)),
            parts,
            encode_secs,
        }
    }

    fn meta(&self, step: u64) -> CheckpointMeta {
        CheckpointMeta {
            architecture: self.architecture.clone(),
            sample_shape: self.data.train.shape,
            config: TrainConfig {
                lr: self.lr,
                beta: self.beta,
                ..self.config.clone()
            },
            step,
            epoch: step.saturating_sub(1) / self.steps_per_epoch + 1,
            elapsed_secs: self.elapsed_secs(),
            // Named by `checkpoint::save`, which picks the slot.
            model_file: String::new(),
            optimizer_file: None,
            model_hash: None,
            optimizer_hash: None,
        }
    }

    fn save(&self, dir: &std::path::Path, model: &M, with_optim: bool) -> anyhow::Result<()> {
        let optim = with_optim.then_some(&self.optim);
        checkpoint::save(dir, model, optim, &self.meta(self.step))
    }

    fn autosave(&mut self, model: &M, sink: &mut dyn FnMut(Event)) {
        // A failed save counts too: it is retried at the next due time, not every step.
        self.cadence.autosaved(self.step, Instant::now());
        if let Some(dir) = &self.autosave.dir {
            match self.save(dir, model, true) {
                Ok(()) => sink(Event::CheckpointSaved {
                    step: self.step,
                    path: dir.clone(),
                }),
                Err(e) => sink(Event::Warning(format!("{e:#}"))),
            }
        }
    }

    /// The loss became non-finite at step `self.step + 1`: keep the last weights whose loss was
    /// finite (those before the last update), show and save them, and describe the failure.
    fn diverged(&mut self, current: M, bad: NonFinite, sink: &mut dyn FnMut(Event)) -> RunError {
        let bad_step = self.step + 1;
        // A finite loss whose gradient was not finite leaves non-finite weights behind, and the
        // next loss is the first to show it: say which happened.
        let cause = if crate::model::weights_finite(&current) {
            String::new()
        } else {
            format!(
                " (the update of step {} left non-finite weights: its gradient was not finite)",
                self.step
            )
        };
        self.flush_steps(sink);
        let (kept, kept_step) = self.before_update.take().unwrap_or((current, self.step));
        self.step = kept_step;
        self.send_snapshot(&kept, sink);
        let mut message = format!(
            "{}: the loss became non-finite ({}{}) at step {bad_step} with learning rate {}{cause}; kept the last weights with a finite loss, from step {kept_step}",
            crate::protocol::DIVERGED,
            bad.loss,
            if bad.terms.is_empty() {
                String::new()
            } else {
                format!(": {}", bad.terms.join(", "))
            },
            self.lr
        );
        if let Some(dir) = &self.autosave.dir {
            // The optimizer's moments may be poisoned; keep only the weights.
            match checkpoint::save(dir, &kept, None, &self.meta(kept_step)) {
                Ok(()) => message.push_str(&format!(" (saved to {})", dir.display())),
                Err(e) => message.push_str(&format!(" (could not save them: {e:#})")),
            }
        }
        message.push_str(". Try a lower learning rate.");
        RunError {
            step: bad_step,
            message,
        }
    }
}

/// What was not finite when a step's loss was not: the total and the terms that were not
/// (by `Autoencoder::term_names`).
struct NonFinite {
    loss: f32,
    terms: Vec<String>,
}

/// The corruption a configuration trains on (see `Trainer::train_noise`).
fn train_noise(config: &TrainConfig) -> Noise {
    if config.model.kind == ModelKind::Denoise {
        config.noise
    } else {
        Noise::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_that_would_not_fit_is_refused_with_both_figures() {
        let gib = 1u64 << 30;
        let e = fits_in_memory(30 * gib, Some(24 * gib)).unwrap_err();
        assert!(e.contains("30.0 GiB") && e.contains("24.0 GiB"), "{e}");
        assert!(fits_in_memory(gib, Some(24 * gib)).is_ok());
        assert!(fits_in_memory(u64::MAX, None).is_ok());
    }

    /// Every hostile setting the reliability issue lists is refused before training, naming the
    /// field the studio marks.
    #[test]
    fn preflight_refuses_hostile_settings_naming_the_field() {
        use crate::settings::{BaseNet, SparsityKind};
        let mnist = DataFacts::of_builtin(&crate::data::DataSpec::Mnist).unwrap();
        let series = DataFacts::of_builtin(&crate::data::DataSpec::SyntheticSeq).unwrap();
        let dense = TrainConfig::for_kind(ModelKind::Dense, BaseNet::Dense, SparsityKind::L1);
        assert_eq!(preflight(&dense, &mnist), Ok(()));
        let field = |change: &dyn Fn(&mut TrainConfig), facts: &DataFacts| {
            let mut c = dense.clone();
            change(&mut c);
            preflight(&c, facts).map_err(|e| (e.field(), e.to_string()))
        };
        type Case<'a> = (&'a dyn Fn(&mut TrainConfig), Field, &'a str);
        let cases: [Case; 10] = [
            (
                &|c| c.model.latent = 0,
                Field::LatentSize,
                "latent size is 0",
            ),
            (&|c| c.batch_size = 0, Field::BatchSize, "batch size is 0"),
            (
                &|c| c.batch_size = 9001,
                Field::BatchSize,
                "larger than the 9000 training samples",
            ),
            (
                &|c| c.model.hidden = vec![1_000_000_000],
                Field::HiddenWidths,
                "hidden width is 1000000000",
            ),
            (&|c| c.lr = 0.0, Field::LearningRate, "learning rate is 0"),
            (
                &|c| c.lr = -1e-3,
                Field::LearningRate,
                "learning rate is -0.001",
            ),
            (
                &|c| c.lr = f64::NAN,
                Field::LearningRate,
                "learning rate is NaN",
            ),
            (
                &|c| c.noise.level = 11.0,
                Field::NoiseLevel,
                "noise level is 11",
            ),
            // About 330 GiB: more than any machine this runs on.
            (
                &|c| c.model.hidden = vec![16384; 40],
                Field::HiddenWidths,
                "GiB to train",
            ),
            (
                &|c| {
                    c.model = ModelKind::Conv.model_on(BaseNet::Conv);
                    c.model.hidden = vec![8, 16, 32];
                },
                Field::HiddenWidths,
                "divisible by 8",
            ),
        ];
        for (change, want, text) in cases {
            let (got, message) = field(change, &mnist).expect_err(text);
            assert_eq!(got, want, "{message}");
            assert!(message.contains(text), "{message}");
        }
        // Series: binary cross-entropy is refused by the loss, conv by the network.
        let (got, message) = field(&|c| c.loss = LossKind::Bce, &series).unwrap_err();
        assert_eq!(
            (got, message.contains("use the MSE loss")),
            (Field::Loss, true),
            "{message}"
        );
        let (got, _) = field(
            &|c| {
                c.loss = LossKind::Mse;
                c.model = ModelKind::Conv.model_on(BaseNet::Conv);
            },
            &series,
        )
        .unwrap_err();
        assert_eq!(got, Field::Network);
    }
}
