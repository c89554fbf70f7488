//! `latentlab bench`: speed of each model kind at its reference settings, measured through the
//! very training loop the app runs. One JSON object per line on stdout, a table on stderr.
//!
//! Per kind: training samples/s (median over the loop's ~100 ms windows after warm-up; only time
//! inside training steps counts), slider decode latency (batch 1 on the CPU decoder copy: median
//! and p99 over 1000 calls after 100 warm-up calls), the time to encode the test split for the
//! scatter, and the steps and training seconds until the test MSE first drops below the target
//! (evaluating every 50 steps, as the PyTorch reference does). Image kinds train on the built-in
//! MNIST subset; the sequence kind on the reference's `lstm` data (noisy sines, made here with
//! the same distribution).

use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use clap::Args;
use serde::Serialize;

use crate::data::{DataSpec, DataSplit, Dataset, Rng, SeriesShape};
use crate::protocol::{Command, Event, Snapshot, StartRequest};
use crate::settings::{CellKind, ModelConfig, ModelKind, TrainConfig};
use crate::train::{self, Autosave, DeviceChoice, device};

#[derive(Debug, Args)]
pub struct BenchCmd {
    /// Model kinds to measure, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [ModelKind::Dense, ModelKind::Conv, ModelKind::Vae, ModelKind::Denoise, ModelKind::Sparse, ModelKind::Seq])]
    pub model: Vec<ModelKind>,

    /// Mini-batch size.
    #[arg(long, default_value_t = 128)]
    pub batch: usize,

    /// Train at least this many steps per kind (more when the target takes longer).
    #[arg(long, default_value_t = 300)]
    pub steps: u64,

    /// Steps before timing starts.
    #[arg(long, default_value_t = 10)]
    pub warmup: u64,

    /// Give up on reaching the target after this many training seconds per kind.
    #[arg(long, default_value_t = 60.0)]
    pub max_seconds: f64,

    /// Test MSE to reach [default: 0.03; 0.05 for vae and seq, as the reference].
    #[arg(long)]
    pub target: Option<f32>,

    /// Seed (the reference uses 0).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// The seq kind's cell (the reference is an LSTM).
    #[arg(long, value_enum, default_value_t = CellKind::Lstm)]
    pub cell: CellKind,
}

/// One kind's figures.
#[derive(Debug, Serialize)]
pub struct BenchResult {
    pub mode: &'static str,
    pub model: String,
    pub device: String,
    pub threads: usize,
    pub batch: usize,
    pub samples_per_sec: f32,
    pub train_ms_per_step: f32,
    pub decode_median_ms: f64,
    pub decode_p99_ms: f64,
    pub encode_points: usize,
    pub encode_ms: f64,
    pub target: f32,
    pub steps_to_target: Option<u64>,
    pub seconds_to_target: Option<f64>,
    pub final_test_mse: Option<f32>,
    pub steps: u64,
    pub curve: Vec<(u64, f32)>,
}

pub fn bench(cmd: BenchCmd, device_choice: DeviceChoice) -> anyhow::Result<()> {
    let device = device::select(device_choice)?;
    let images = crate::data::load(&DataSpec::Mnist, cmd.seed)?;
    let sines = reference_sines(cmd.seed);
    let threads = rayon::current_num_threads();
    eprintln!("device: {}, {threads} CPU threads", device.description);
    let mut results = Vec::new();
    for &kind in &cmd.model {
        let target = cmd.target.unwrap_or(match kind {
            ModelKind::Vae | ModelKind::Btcvae | ModelKind::Seq => 0.05,
            _ => 0.03,
        });
        let data = if kind == ModelKind::Seq {
            &sines
        } else {
            &images
        };
        let defaults = kind.default_model();
        let base = TrainConfig::for_kind(kind, defaults.base, defaults.sparsity);
        let config = TrainConfig {
            model: ModelConfig {
                cell: cmd.cell,
                ..base.model.clone()
            },
            batch_size: cmd.batch,
            epochs: 100_000,
            seed: cmd.seed,
            // The reference sparse model's λ, so the speed comparison is like for like.
            sparsity_weight: 1e-4,
            eval_every: 50,
            snapshot_interval_secs: 0.0,
            ..base
        }
        .validate()?;
        let request = StartRequest {
            run_id: 0,
            config,
            resume_from: None,
            checkpoint_dir: None,
            fault: None,
            device: None,
            start_paused: false,
        };
        let (tx, mut rx) = mpsc::channel();
        let mut windows: Vec<f32> = Vec::new();
        let mut curve: Vec<(u64, f32)> = Vec::new();
        let mut reached: Option<(u64, f64)> = None;
        let mut snapshot: Option<Arc<Snapshot>> = None;
        let mut steps = 0u64;
        let (min_steps, warmup, max_secs) = (cmd.steps, cmd.warmup, cmd.max_seconds);
        let mut sink = |e: Event| match e {
            Event::Steps(b) => {
                if b.steps.first().is_some_and(|s| s.step > warmup) {
                    windows.push(b.samples_per_sec);
                }
                steps = b.steps.last().map_or(steps, |s| s.step);
            }
            Event::Eval(r) => {
                curve.push((r.step, r.test_mse));
                if reached.is_none() && r.test_mse < target {
                    reached = Some((r.step, r.train_secs));
                }
                let done = r.step >= min_steps && (reached.is_some() || r.train_secs > max_secs);
                if done {
                    let _ = tx.send(Command::Stop);
                }
            }
            Event::Snapshot(s) => snapshot = Some(s),
            _ => {}
        };
        let end = train::run(
            &request,
            data,
            &device,
            &Autosave::default(),
            &mut sink,
            &mut rx,
        )
        .map_err(|e| anyhow::anyhow!("{kind:?}: {e}"))?;
        let snapshot = snapshot.ok_or_else(|| anyhow::anyhow!("{kind:?}: no snapshot"))?;
        let (decode_median_ms, decode_p99_ms) = decode_latency(&snapshot);
        let samples_per_sec = median(&mut windows);
        let r = BenchResult {
            mode: "bench",
            model: match (kind, cmd.cell) {
                (ModelKind::Seq, CellKind::Gru) => "seq-gru".to_string(),
                _ => kind.name().to_string(),
            },
            device: device.description.clone(),
            threads,
            batch: cmd.batch,
            samples_per_sec,
            train_ms_per_step: cmd.batch as f32 / samples_per_sec.max(1e-9) * 1000.0,
            decode_median_ms,
            decode_p99_ms,
            encode_points: snapshot.latents.len(),
            encode_ms: snapshot.encode_secs * 1000.0,
            target,
            steps_to_target: reached.map(|r| r.0),
            seconds_to_target: reached.map(|r| r.1),
            final_test_mse: end.test_mse,
            steps: end.step,
            curve,
        };
        println!("{}", serde_json::to_string(&r)?);
        results.push(r);
    }
    eprintln!(
        "\n{:<8} {:>10} {:>9} {:>10} {:>9} {:>10} {:>16}",
        "model", "samples/s", "ms/step", "dec p50", "dec p99", "encode", "to target"
    );
    for r in &results {
        eprintln!(
            "{:<8} {:>10.0} {:>9.2} {:>8.3}ms {:>7.3}ms {:>8.1}ms {:>16}",
            r.model,
            r.samples_per_sec,
            r.train_ms_per_step,
            r.decode_median_ms,
            r.decode_p99_ms,
            r.encode_ms,
            match (r.steps_to_target, r.seconds_to_target) {
                (Some(s), Some(t)) => format!("{s} steps, {t:.1} s"),
                _ => format!("not in {} steps", r.steps),
            }
        );
    }
    Ok(())
}

/// The PyTorch reference's `lstm` data (its `make_sines`): A·sin(2π·f·t/64 + φ) plus N(0, 0.05²)
/// noise, f ∈ [1, 5] cycles, φ ∈ [0, 2π), A ∈ [0.5, 1]; 4096 training and 512 test series of 64
/// steps, unlabelled.
fn reference_sines(seed: u64) -> DataSplit {
    let shape = SeriesShape {
        channels: 1,
        steps: 64,
    };
    let make = |n: usize, seed: u64| {
        let mut rng = Rng::new(seed);
        let mut values = Vec::with_capacity(n * shape.steps);
        for _ in 0..n {
            let f = 1.0 + 4.0 * rng.uniform();
            let phase = std::f32::consts::TAU * rng.uniform();
            let a = 0.5 + 0.5 * rng.uniform();
            values.extend((0..shape.steps).map(|t| {
                let x = std::f32::consts::TAU * f * t as f32 / shape.steps as f32 + phase;
                a * x.sin() + 0.05 * rng.normal()
            }));
        }
        Dataset {
            shape: shape.into(),
            values: values.into(),
            labels: None,
            class_names: Vec::new(),
            factors: None,
        }
    };
    DataSplit {
        name: "reference sines".into(),
        train: make(4096, seed),
        test: make(512, seed + 1),
        warnings: Vec::new(),
    }
}

/// Median and 99th percentile of single-code decodes, in milliseconds.
fn decode_latency(snapshot: &Snapshot) -> (f64, f64) {
    let decoder = snapshot.decoder.as_ref();
    let mut rng = Rng::new(1);
    let mut code = vec![0.0f32; decoder.latent_dim()];
    let mut times = Vec::with_capacity(1000);
    for i in 0..1100 {
        code.iter_mut().for_each(|c| *c = rng.normal());
        let t0 = Instant::now();
        std::hint::black_box(decoder.decode(&code));
        if i >= 100 {
            times.push(t0.elapsed());
        }
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    (
        ms(times[times.len() / 2]),
        ms(times[times.len() * 99 / 100]),
    )
}

fn median(v: &mut [f32]) -> f32 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f32::total_cmp);
    v[v.len() / 2]
}
