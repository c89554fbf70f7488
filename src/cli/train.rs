//! `latentlab train`: one run, synchronously, with a progress bar; writes its results to `--out`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::TrainArgs;
use crate::files::write_atomic;
use crate::latent::disentangle;
use crate::metrics::MetricsLog;
use crate::protocol::{Event, SampleGrid, Snapshot, StartRequest};
use crate::render;
use crate::train::{self, Autosave, DeviceChoice, device};

#[derive(Debug, Args)]
pub struct TrainCmd {
    #[command(flatten)]
    pub args: TrainArgs,

    /// Output folder: metrics.csv, checkpoint/, reconstructions.png, latents.csv, and the run
    /// over time as history.png (reconstructions row by row) and history.gif (replayed).
    #[arg(long, default_value = "runs/latest")]
    pub out: PathBuf,

    /// Continue from a checkpoint (a run folder or its checkpoint/ folder): weights, optimizer
    /// state and step count. The architecture flags must match it; --epochs is the new total.
    #[arg(long)]
    pub resume: Option<PathBuf>,
}

pub fn train(cmd: TrainCmd, device_choice: DeviceChoice) -> anyhow::Result<()> {
    let config = cmd.args.config().validate()?;
    let data = crate::data::load(&config.data, config.seed)
        .with_context(|| format!("cannot load dataset {}", config.data))?;
    let device = device::select(device_choice)?;
    eprintln!("device: {}", device.description);
    eprintln!(
        "data: {} ({} train, {} test, {})",
        data.name,
        data.train.len(),
        data.test.len(),
        data.train.shape
    );
    for w in &data.warnings {
        eprintln!("warning: {w}");
    }
    let out = cmd.out;
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;

    let request = StartRequest {
        run_id: 0,
        config: config.clone(),
        resume_from: cmd.resume,
        checkpoint_dir: None,
        fault: None,
        device: None,
        start_paused: false,
    };
    // Nobody sends commands; the sender lives so the run does not read a closed channel as "stop".
    let (_commands, mut control) = mpsc::channel();
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix} [{bar:30}] {pos}/{len} steps {msg} ({elapsed}, eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let mut metrics = MetricsLog::default();
    let mut snapshot: Option<Arc<Snapshot>> = None;
    // Kept as the studio's timeline keeps them, for history.png and history.gif.
    let mut history: Vec<Arc<Snapshot>> = Vec::new();
    let mut first_below = None;
    let mut samples_per_sec = 0.0f32;
    let mut last_input_mse = None;
    let mut last_terms: Vec<f32> = Vec::new();
    let mut saved_at: Option<u64> = None;
    let mut last_warning: Option<String> = None;
    let mut sink = |event: Event| match event {
        Event::Started(info) => {
            eprintln!("model: {}", info.architecture);
            metrics = MetricsLog::new(&info.term_names);
            bar.set_length(info.total_steps);
            bar.set_position(info.start_step);
        }
        Event::Steps(batch) => {
            samples_per_sec = batch.samples_per_sec;
            if let Some(last) = batch.steps.last() {
                bar.set_position(last.step);
                bar.set_prefix(format!("epoch {}", last.epoch));
                bar.set_message(format!(
                    "loss {:.4}, {:.0} samples/s",
                    last.loss, batch.samples_per_sec
                ));
            }
            metrics.steps(&batch.steps, Some(batch.elapsed_secs));
        }
        Event::Eval(report) => {
            if first_below.is_none() && report.test_mse < 0.03 {
                first_below = Some(report.step);
            }
            last_input_mse = report.input_mse;
            last_terms = report.terms.clone();
            metrics.eval(&report);
            // `suspend`, not `println`: a hidden bar (stderr not a terminal) prints nothing.
            bar.suspend(|| {
                eprintln!(
                    "step {:>6}  epoch {:>3}  test MSE {:.5}",
                    report.step, report.epoch, report.test_mse
                )
            });
        }
        Event::Snapshot(s) => {
            if history.len() >= crate::protocol::HISTORY {
                crate::protocol::thin_history(&mut history);
            }
            history.push(s.clone());
            snapshot = Some(s);
        }
        Event::CheckpointSaved { step, .. } => saved_at = Some(step),
        Event::Warning(w) => {
            bar.suspend(|| eprintln!("warning: {w}"));
            last_warning = Some(w);
        }
        _ => {}
    };
    let result = train::run(
        &request,
        &data,
        &device,
        &Autosave {
            dir: Some(out.join("checkpoint")),
        },
        &mut sink,
        &mut control,
    );
    bar.finish_and_clear();

    // Whatever happened, keep what was learned and measured.
    write_atomic(&out.join("metrics.csv"), metrics.csv().as_bytes())?;
    if let Some(s) = &snapshot {
        let noisy = (s.noisy != s.inputs).then_some(&s.noisy);
        let rows: Vec<render::Canvas> =
            render::comparison(&s.inputs, noisy, &s.reconstructions, 4, 2, 4)
                .into_iter()
                .map(|(_, c)| c)
                .collect();
        let picture = render::stack(&rows, 2).context("no reconstructions to draw")?;
        write_atomic(&out.join("reconstructions.png"), &picture.png()?)?;
        write_history(&out, &history)?;
        write_atomic(
            &out.join("latents.csv"),
            latents_csv(s, &data.test.class_names).as_bytes(),
        )?;
        if config.model.kind.is_variational() {
            let grid = crate::latent::manifold_grid(s.decoder.as_ref(), 10, 2.0);
            let picture = render::grid(&grid, 10, 1, 2).context("no decodes to draw")?;
            write_atomic(&out.join("prior_grid.png"), &picture.png()?)?;
        }
        let styles = if config.model.kind.is_variational() || s.parts.is_some() {
            // Half of a few test utterances is too few to fit a probe on: for small test
            // splits the probes are fitted on the training codes (from the saved weights).
            let train_codes = if s.parts.is_some() && data.test.len() < SMALL_TEST {
                Some(crate::train::checkpoint::encode_dataset(
                    &out.join("checkpoint"),
                    &data.train,
                    &device.device,
                )?)
            } else {
                None
            };
            write_style_swap(&out, s, &data, train_codes.as_ref(), config.seed)?
        } else {
            None
        };
        super::voice::write_voice_outputs(&out, s, &data.train, &data.test)?;
        write_disentanglement(
            &out,
            s,
            &data.test,
            config.model.kind.is_variational() || s.parts.is_some(),
            styles,
        )?;
    }
    let end = result?;
    // The run folder promises the final weights: a run whose last save failed (a full disk)
    // is an error, with the reason, though all else it measured was kept above.
    if saved_at != Some(end.step) {
        anyhow::bail!(
            "trained to step {} but could not save the checkpoint in {}: {}",
            end.step,
            out.join("checkpoint").display(),
            last_warning.unwrap_or_else(|| "no save was reported".into())
        );
    }
    if let Some(s) = &snapshot {
        println!(
            "latent near-zero fraction (|z| < {}): {:.1} %",
            crate::latent::NEAR_ZERO,
            s.latents.stats.overall_zero * 100.0
        );
    }
    if let (Some(input), Some(mse)) = (last_input_mse, end.test_mse) {
        println!(
            "denoising: output MSE {mse:.5} vs noisy-input MSE {input:.5} (ratio {:.3})",
            mse / input
        );
    }
    if let Some(kl) = last_terms
        .get(1)
        .filter(|_| metrics.term_names().get(1).is_some_and(|t| t == "KL"))
    {
        println!("test KL term: {kl:.4}");
    }
    println!(
        "{} at step {} (epoch {}) in {:.1} s: test MSE {}, {:.0} samples/s{}",
        if end.stopped { "stopped" } else { "finished" },
        end.step,
        end.epoch,
        end.elapsed_secs,
        end.test_mse
            .map(|m| format!("{m:.5}"))
            .unwrap_or_else(|| "n/a".into()),
        samples_per_sec,
        first_below
            .map(|s| format!("; test MSE first below 0.03 at step {s}"))
            .unwrap_or_default()
    );
    println!("wrote {}", out.display());
    Ok(())
}

/// The run over time: `history.png`, the test inputs' reconstructions at up to a dozen kept
/// moments, and `history.gif`, every kept moment replayed.
fn write_history(out: &Path, history: &[Arc<Snapshot>]) -> anyhow::Result<()> {
    for (name, animated) in [("history.png", false), ("history.gif", true)] {
        write_atomic(&out.join(name), &render::history_file(history, animated)?)?;
    }
    Ok(())
}

/// Traversals (one row per latent dimension, the first test code moved ±3σ along it) for
/// variational and two-code kinds and data with known factors, and, when the factors are known, their
/// scores against the test codes (`disentanglement.json`, MIG on the terminal).
fn write_disentanglement(
    out: &Path,
    s: &Snapshot,
    test: &crate::data::Dataset,
    variational: bool,
    styles: Option<serde_json::Value>,
) -> anyhow::Result<()> {
    let cloud = &s.latents;
    let write_json = |value: &serde_json::Value| {
        write_atomic(
            &out.join("disentanglement.json"),
            serde_json::to_string_pretty(value)?.as_bytes(),
        )
    };
    if !(variational || test.factors.is_some()) || cloud.is_empty() {
        return styles.as_ref().map(write_json).transpose().map(|_| ());
    }
    const STEPS: usize = 9;
    let grid = disentangle::traversals(
        s.decoder.as_ref(),
        &cloud.codes[..cloud.dim],
        &cloud.stats.std,
        3.0,
        STEPS,
    );
    let picture = render::grid(&grid, STEPS, 1, 2).context("no traversals to draw")?;
    write_atomic(&out.join("traversals.png"), &picture.png()?)?;
    let score = test.factors.as_ref().and_then(|factors| {
        disentangle::score(
            &cloud.codes,
            cloud.dim,
            &factors.subset(&cloud.test_indices),
        )
    });
    let mut json = match &score {
        Some(score) => serde_json::to_value(score)?,
        None => serde_json::json!({}),
    };
    if let (Some(map), Some(serde_json::Value::Object(styles))) = (json.as_object_mut(), styles) {
        map.extend(styles);
    }
    if json.as_object().is_some_and(|m| !m.is_empty()) {
        write_json(&json)?;
    }
    if let Some(score) = score {
        let gaps: Vec<String> = score
            .factor_names
            .iter()
            .zip(&score.gaps)
            .map(|(n, g)| format!("{n} {g:.2}"))
            .collect();
        println!(
            "MIG {:.3} over {} test codes (gap per factor: {})",
            score.mig,
            score.points,
            gaps.join(", ")
        );
    }
    Ok(())
}

/// Below this many test samples, linear probes are fitted on the training codes.
const SMALL_TEST: usize = 1000;

/// Test images redrawn as every class: `style_swap.png` (each row a test image, then that
/// image's style drawn as each class), and the figures that say whether it worked, for
/// `disentanglement.json`: how often the project's classifier names the intended class, and
/// linear probes of the class from the content and the style code (fitted on `train_codes`
/// and scored on the test codes where given, else fitted and scored on halves of the test
/// codes). `None` for unlabelled data.
fn write_style_swap(
    out: &Path,
    s: &Snapshot,
    data: &crate::data::DataSplit,
    train_codes: Option<&crate::protocol::LatentCloud>,
    seed: u64,
) -> anyhow::Result<Option<serde_json::Value>> {
    use crate::latent::swap::Swap;
    use crate::model::classifier::{Classifier, agreement};
    /// Rows in the picture; rows scored by the classifier.
    const SHOWN: usize = 8;
    const CLASSIFIER_EPOCHS: usize = 10;
    const SCORED: usize = 200;
    let (cloud, test) = (&s.latents, &data.test);
    let classes = test.classes();
    let Some(swap) = Swap::for_cloud(s.parts.as_ref(), cloud, classes) else {
        return Ok(None);
    };
    let Some(shape) = s.inputs.shape else {
        return Ok(None);
    };
    let rows = SCORED.min(cloud.len());
    let labels = cloud.labels.as_deref();
    let grid = swap.grid(
        s.decoder.as_ref(),
        &cloud.codes[..rows * cloud.dim],
        cloud.dim,
        labels,
    );
    let shown = SHOWN.min(rows);
    let mut values = Vec::new();
    for r in 0..shown {
        test.extend_sample(cloud.test_indices[r], &mut values);
        for c in 0..classes {
            values.extend_from_slice(grid.sample(r * classes + c));
        }
    }
    let picture = render::grid(&SampleGrid::new(shape, values), classes + 1, 1, 2)
        .context("no style swaps to draw")?;
    write_atomic(&out.join("style_swap.png"), &picture.png()?)?;

    // Sound is labelled by voice: its class part is the speaker code, the rest the content,
    // and the voice judge (`voice_judge.py`), not this classifier, scores conversions.
    let sound = shape.spectrogram().is_some();
    let mut json = serde_json::json!({ "chance": 1.0 / classes as f32 });
    if !sound {
        let classifier =
            Classifier::fit(&data.train, CLASSIFIER_EPOCHS, seed).map_err(anyhow::Error::msg)?;
        let classifier_accuracy = classifier.accuracy(test);
        let intended: Vec<u32> = (0..rows * classes).map(|i| (i % classes) as u32).collect();
        let swap_accuracy = agreement(&classifier.predict(&grid.values), &intended);
        let method = match swap {
            Swap::Content(_) => "content swap",
            Swap::MeanShift { .. } => "class-mean shift",
        };
        println!(
            "style swap ({method}): {:.1} % of {} drawn as their intended class (the classifier names {:.1} % of the test images right)",
            swap_accuracy * 100.0,
            rows * classes,
            classifier_accuracy * 100.0
        );
        json["classifier_test_accuracy"] = serde_json::json!(classifier_accuracy);
        json["style_swap_method"] = serde_json::json!(method);
        json["style_swap_accuracy"] = serde_json::json!(swap_accuracy);
        json["style_swap_count"] = serde_json::json!(rows * classes);
    }
    if let (Some(parts), Some(labels)) = (&s.parts, labels) {
        let train = train_codes
            .zip(data.train.labels.as_deref())
            .map(|(t, l)| (&t.codes[..], l));
        let (split, dim) = (parts.content_dim, cloud.dim);
        let test = (&cloud.codes[..], labels);
        let class_part = probe_codes(test, train, dim, 0..split, classes);
        let rest = probe_codes(test, train, dim, split..dim, classes);
        let [first, second] = &parts.names;
        let what = if sound { "voice" } else { "class" };
        let fitted = if train.is_some() {
            "fitted on the training codes"
        } else {
            "fitted on half the test codes"
        };
        println!(
            "linear probes of the {what} ({fitted}): {first} code {}, {second} code {} (chance {:.1} %)",
            percent(class_part),
            percent(rest),
            100.0 / classes as f32
        );
        json["probes_fitted_on"] = serde_json::json!(fitted);
        json[format!("probe_{first}_accuracy")] = serde_json::json!(class_part);
        json[format!("probe_{second}_accuracy")] = serde_json::json!(rest);
        if sound {
            // The content code is [channels, frames]: averaged over time, what is left of the
            // voice is its time-invariant part, which instance normalisation strips.
            let channels = crate::model::voice::CODE_CHANNELS;
            let averaged = |codes: &[f32]| time_averaged(codes, dim, split, channels);
            let test_averaged = averaged(&cloud.codes);
            let train_averaged = train.map(|(c, l)| (averaged(c), l));
            let over_time = probe_codes(
                (&test_averaged, labels),
                train_averaged.as_ref().map(|(c, l)| (&c[..], *l)),
                channels,
                0..channels,
                classes,
            );
            println!("  {second} code averaged over time: {}", percent(over_time));
            json[format!("probe_{second}_time_averaged_accuracy")] = serde_json::json!(over_time);
        }
    }
    Ok(Some(json))
}

/// A linear probe of the labels from dimensions `dims` of the `test` codes (`[n, dim]`, with
/// their labels): fitted on `train` and scored on `test` where `train` is given, else on
/// halves of `test`.
fn probe_codes(
    test: (&[f32], &[u32]),
    train: Option<(&[f32], &[u32])>,
    dim: usize,
    dims: std::ops::Range<usize>,
    classes: usize,
) -> Option<f32> {
    use crate::latent::probe::{self, Labelled};
    let labelled = |(codes, labels)| Labelled { codes, labels };
    match train {
        Some(train) => probe::transfer(labelled(train), labelled(test), dim, dims, classes),
        None => probe::accuracy(test.0, dim, dims, test.1, classes),
    }
}

/// Each code's part after `split` (`[channels, frames]`) averaged over time: `[n, channels]`.
fn time_averaged(codes: &[f32], dim: usize, split: usize, channels: usize) -> Vec<f32> {
    let frames = (dim.saturating_sub(split) / channels.max(1)).max(1);
    codes
        .chunks_exact(dim.max(1))
        .flat_map(|code| {
            code[split.min(dim)..]
                .chunks_exact(frames)
                .take(channels)
                .map(|c| c.iter().sum::<f32>() / frames as f32)
                .collect::<Vec<_>>()
        })
        .collect()
}

fn percent(v: Option<f32>) -> String {
    v.map(|v| format!("{:.1} %", v * 100.0))
        .unwrap_or_else(|| "n/a".into())
}

fn latents_csv(s: &Snapshot, class_names: &[String]) -> String {
    let cloud = &s.latents;
    let mut out = String::from("index,label,class");
    for d in 0..cloud.dim {
        let _ = write!(out, ",z{d}");
    }
    out.push('\n');
    for i in 0..cloud.len() {
        let label = cloud.labels.as_ref().map(|l| l[i]);
        let class = label
            .and_then(|l| class_names.get(l as usize))
            .map(|c| c.as_str())
            .unwrap_or("");
        let _ = write!(
            out,
            "{},{},{}",
            cloud.test_indices[i],
            label.map(|l| l.to_string()).unwrap_or_default(),
            crate::latent::export::quote(class)
        );
        for v in cloud.code(i) {
            let _ = write!(out, ",{v}");
        }
        out.push('\n');
    }
    out
}
