//! `latentlab export`: a trained run's test-set embeddings in the Embedding Projector's format.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::latent::export::{Embedding, write_projector};
use crate::protocol::SampleGrid;
use crate::train::{DeviceChoice, checkpoint, device};

#[derive(Debug, Args)]
pub struct ExportCmd {
    /// A run folder (from `latentlab train --out`) or its checkpoint/ folder.
    #[arg(long)]
    pub run: PathBuf,

    /// Where to write tensors.tsv, metadata.tsv, sprite.png, projector_config.pbtxt and
    /// projection.csv.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn export(cmd: ExportCmd, device_choice: DeviceChoice) -> anyhow::Result<()> {
    let (dir, meta) = checkpoint::read_meta(&cmd.run)?;
    let data = crate::data::load(&meta.config.data, meta.config.seed)
        .with_context(|| format!("cannot load the run's dataset {}", meta.config.data))?;
    let device = device::select(device_choice)?;
    let cloud = checkpoint::encode_dataset(&dir, &data.test, &device.device)?;
    let samples = SampleGrid::new(data.test.shape, data.test.values.clone());
    let summary = write_projector(
        &cmd.out,
        &Embedding {
            codes: &cloud.codes,
            dim: cloud.dim,
            labels: cloud.labels.as_deref(),
            class_names: &data.test.class_names,
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
