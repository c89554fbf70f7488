//! `latentlab tsne`: a t-SNE map of codes exported for the Projector (`export --out DIR`),
//! timed, with how well it keeps the classes apart; `bench/tsne.sh` runs it beside openTSNE.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use indicatif::ProgressBar;

use crate::files::write_atomic;
use crate::jobs::Job;
use crate::latent::tsne::{TsneParams, knn_votes, tsne, tsne_3d};

#[derive(Debug, Args)]
pub struct TsneCmd {
    /// A folder written by `latentlab export` (tensors.tsv, and metadata.tsv for the labels).
    #[arg(long)]
    pub input: PathBuf,

    /// Where to write the map as CSV (index, label, x, y[, z]) [default: INPUT/tsne.csv].
    #[arg(long)]
    pub out: Option<PathBuf>,

    /// Dimensions of the map: 2 or 3.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(2..=3))]
    pub dims: u8,

    /// Barnes-Hut accuracy: cells narrower than theta times their distance act as one point;
    /// 0 computes the exact gradient (quadratic in the points).
    #[arg(long, default_value_t = 0.5)]
    pub theta: f32,

    /// Neighbours each point effectively keeps.
    #[arg(long, default_value_t = 30.0)]
    pub perplexity: f32,

    /// Gradient steps (the first 250 with early exaggeration).
    #[arg(long, default_value_t = 750)]
    pub iterations: usize,

    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

pub fn run(cmd: TsneCmd) -> anyhow::Result<()> {
    anyhow::ensure!(
        cmd.theta >= 0.0 && cmd.theta.is_finite(),
        "--theta must be 0 or more, not {}",
        cmd.theta
    );
    anyhow::ensure!(
        cmd.perplexity > 0.0 && cmd.perplexity.is_finite(),
        "--perplexity must be above 0, not {}",
        cmd.perplexity
    );
    let (codes, dim) = read_tensors(&cmd.input.join("tensors.tsv"))?;
    let n = codes.len() / dim;
    let labels = read_labels(&cmd.input.join("metadata.tsv"), n)?;
    let params = TsneParams {
        perplexity: cmd.perplexity,
        iterations: cmd.iterations,
        seed: cmd.seed,
        theta: cmd.theta,
    };
    let t0 = Instant::now();
    // As the studio runs it: a background job at a lower priority than training.
    let dims = cmd.dims;
    let (wake, woken) = std::sync::mpsc::channel::<()>();
    let job = Job::spawn(
        "tsne",
        Box::new(move || {
            let _ = wake.send(());
        }),
        // The map flat, `[n, dims]`.
        move |p| {
            if dims == 3 {
                tsne_3d(&codes, dim, params, p).map(Vec::into_flattened)
            } else {
                tsne(&codes, dim, params, p).map(Vec::into_flattened)
            }
        },
    )
    .context("cannot start the t-SNE thread")?;
    let bar = ProgressBar::new(1000);
    let map = loop {
        if let Some(map) = job.try_take() {
            break map;
        }
        anyhow::ensure!(!job.is_finished(), "the t-SNE ended without a map");
        bar.set_position((job.progress() * 1000.0) as u64);
        let _ = woken.recv_timeout(std::time::Duration::from_millis(200));
    };
    bar.finish_and_clear();
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "t-SNE of {n} points ({dim}-D to {}-D, theta {}) in {secs:.2} s",
        cmd.dims, cmd.theta
    );
    if let Some(labels) = &labels {
        let votes = knn_votes(&map, cmd.dims as usize, labels, 5);
        let right = votes.iter().zip(labels).filter(|(v, l)| v == l).count();
        println!(
            "5-NN label accuracy in the map: {:.3}",
            right as f64 / n as f64
        );
    }
    let mut csv = String::from(if cmd.dims == 3 {
        "index,label,x,y,z\n"
    } else {
        "index,label,x,y\n"
    });
    for (i, p) in map.chunks_exact(cmd.dims as usize).enumerate() {
        let label = labels
            .as_ref()
            .map(|l| l[i].to_string())
            .unwrap_or_default();
        let coords: Vec<String> = p.iter().map(|v| v.to_string()).collect();
        csv.push_str(&format!("{i},{label},{}\n", coords.join(",")));
    }
    let out = cmd.out.unwrap_or_else(|| cmd.input.join("tsne.csv"));
    write_atomic(&out, csv.as_bytes())?;
    println!("wrote {}", out.display());
    Ok(())
}

/// Codes as the Projector reads them: one row per point, tab-separated numbers.
fn read_tensors(path: &Path) -> anyhow::Result<(Vec<f32>, usize)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut codes = Vec::new();
    let mut dim = None;
    for (r, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let before = codes.len();
        for (c, field) in line.split('\t').enumerate() {
            let v: f32 = field
                .trim()
                .parse()
                .ok()
                .filter(|v: &f32| v.is_finite())
                .with_context(|| {
                    format!(
                        "{} line {}, column {}: {field:?} is not a finite number",
                        path.display(),
                        r + 1,
                        c + 1
                    )
                })?;
            codes.push(v);
        }
        let width = codes.len() - before;
        match dim {
            None => dim = Some(width),
            Some(d) if d != width => anyhow::bail!(
                "{} line {}: {width} numbers, where the lines before have {d}",
                path.display(),
                r + 1
            ),
            Some(_) => {}
        }
    }
    let dim = dim.with_context(|| format!("{} holds no codes", path.display()))?;
    Ok((codes, dim))
}

/// The labels column of `metadata.tsv` (header `label\tclass`), when the file exists and
/// every point has one.
fn read_labels(path: &Path, n: usize) -> anyhow::Result<Option<Vec<u32>>> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(None);
    };
    let labels: Option<Vec<u32>> = text
        .lines()
        .skip(1)
        .map(|l| l.split('\t').next().and_then(|v| v.trim().parse().ok()))
        .collect();
    match labels {
        Some(l) if l.len() == n => Ok(Some(l)),
        Some(l) => anyhow::bail!("{} has {} labels for {n} codes", path.display(), l.len()),
        None => Ok(None),
    }
}
