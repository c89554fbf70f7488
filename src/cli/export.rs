//! `latentlab export`: a trained run's test-set embeddings in the Embedding Projector's format,
//! or its weights for PyTorch (safetensors and a description `scripts/load_in_torch.py` reads).

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::files::write_atomic;
use crate::latent::export::{Embedding, write_projector};
use crate::protocol::SampleGrid;
use crate::train::{DeviceChoice, checkpoint, device};

#[derive(Debug, Args)]
pub struct ExportCmd {
    /// A run folder (from `latentlab train --out`) or its checkpoint/ folder.
    #[arg(long)]
    pub run: PathBuf,

    /// Where to write: for projector, tensors.tsv, metadata.tsv, sprite.png,
    /// projector_config.pbtxt and projection.csv; for safetensors, model.safetensors,
    /// model.json and check.safetensors.
    #[arg(long)]
    pub out: PathBuf,

    /// projector (TensorBoard's Embedding Projector) or safetensors (the weights for PyTorch;
    /// `python scripts/load_in_torch.py OUT` rebuilds the network and checks it).
    #[arg(long, value_enum, default_value_t = Format::Projector)]
    pub format: Format,

    /// Projector: which samples to encode: the test split, the training split, or all of
    /// them (training first).
    #[arg(long, value_enum, default_value_t = Split::Test)]
    pub split: Split,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Split {
    Test,
    Train,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Projector,
    Safetensors,
}

/// Test samples encoded and reconstructed into check.safetensors.
const CHECK_SAMPLES: usize = 16;

pub fn export(cmd: ExportCmd, device_choice: DeviceChoice) -> anyhow::Result<()> {
    let (dir, meta) = checkpoint::read_meta(&cmd.run)?;
    let data = crate::data::load(&meta.config.data, meta.config.seed)
        .with_context(|| format!("cannot load the run's dataset {}", meta.config.data))?;
    let device = device::select(device_choice)?;
    if cmd.format == Format::Safetensors {
        let n = data.test.len().min(CHECK_SAMPLES);
        let samples = &data.test.samples(0..n);
        let export = checkpoint::export_torch(&dir, samples, &device.device)?;
        std::fs::create_dir_all(&cmd.out)
            .with_context(|| format!("cannot create {}", cmd.out.display()))?;
        write_atomic(&cmd.out.join("model.safetensors"), &export.weights)?;
        write_atomic(
            &cmd.out.join("model.json"),
            &serde_json::to_vec_pretty(&export.description)?,
        )?;
        write_atomic(&cmd.out.join("check.safetensors"), &export.check)?;
        println!(
            "wrote model.safetensors ({} bytes), model.json and check.safetensors ({n} test samples) to {}",
            export.weights.len(),
            cmd.out.display()
        );
        println!(
            "in PyTorch: python scripts/load_in_torch.py {}",
            cmd.out.display()
        );
        return Ok(());
    }
    let chosen = match cmd.split {
        Split::Test => data.test,
        Split::Train => data.train,
        Split::All => joined(data.train, data.test),
    };
    let cloud = checkpoint::encode_dataset(&dir, &chosen, &device.device)?;
    let samples = SampleGrid::new(chosen.shape, chosen.values.to_f32());
    let summary = write_projector(
        &cmd.out,
        &Embedding {
            codes: &cloud.codes,
            dim: cloud.dim,
            labels: cloud.labels.as_deref(),
            class_names: &chosen.class_names,
            samples: &samples,
        },
    )?;
    for w in &summary.warnings {
        eprintln!("warning: {w}");
    }
    println!(
        "wrote {} points ({}-D) to {}: sprite {} px with {} px thumbnails",
        summary.points,
        cloud.dim,
        cmd.out.display(),
        summary.sprite_px,
        summary.thumb_px
    );
    println!(
        "open https://projector.tensorflow.org, Load, and pick tensors.tsv, metadata.tsv (and the config for the sprite)"
    );
    Ok(())
}

/// `a`'s samples then `b`'s (two splits of one data set: one shape, one set of classes).
fn joined(mut a: crate::data::Dataset, b: crate::data::Dataset) -> crate::data::Dataset {
    a.values.append(b.values);
    a.labels = a.labels.zip(b.labels).map(|(mut x, y)| {
        x.extend(y);
        x
    });
    a.factors = a.factors.zip(b.factors).map(|(mut x, y)| {
        x.values.extend(y.values);
        x
    });
    a
}
