//! Checkpoints: a folder with the weights (`model.bpk`, burnpack), the optimizer state
//! (`optimizer.bpk`) and `checkpoint.json` (architecture, config, step). Each file is written
//! atomically; `checkpoint.json` is written last, so its presence means the rest is complete.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use burn::optim::ModuleOptimizer;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device};
use serde::{Deserialize, Serialize};

use crate::data::SampleShape;
use crate::files::write_atomic;
use crate::model::{Autoencoder, architecture};
use crate::settings::TrainConfig;

pub const META_FILE: &str = "checkpoint.json";
const MODEL_FILE: &str = "model.bpk";
const OPTIM_FILE: &str = "optimizer.bpk";

/// What `checkpoint.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckpointMeta {
    /// From [`architecture`]; must match for the weights to load.
    pub architecture: String,
    /// What one sample is; checkpoints from before series existed call it `image_shape`.
    #[serde(alias = "image_shape")]
    pub sample_shape: SampleShape,
    pub config: TrainConfig,
    /// Steps completed.
    pub step: u64,
    /// Epochs started (1-based epoch of the last step).
    pub epoch: u64,
    pub elapsed_secs: f64,
}

/// Writes a checkpoint of `model` (and `optim` when given) into `dir`.
pub fn save<M: Autoencoder>(
    dir: &Path,
    model: &M,
    optim: Option<&ModuleOptimizer>,
    meta: &CheckpointMeta,
) -> anyhow::Result<()> {
    let weights = model
        .clone()
        .into_record()
        .into_bytes()
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("cannot serialise the weights")?;
    write_atomic(&dir.join(MODEL_FILE), &weights)?;
    if let Some(optim) = optim {
        let state = optim
            .into_bytes()
            .map_err(|e| anyhow::anyhow!("{e}"))
            .context("cannot serialise the optimizer state")?;
        write_atomic(&dir.join(OPTIM_FILE), &state)?;
    } else {
        // A stale optimizer state from an earlier save would not match these weights.
        let _ = std::fs::remove_file(dir.join(OPTIM_FILE));
    }
    let json = serde_json::to_vec_pretty(meta)?;
    write_atomic(&dir.join(META_FILE), &json)
}

/// Reads `checkpoint.json` from a checkpoint folder (or a run folder holding `checkpoint/`).
pub fn read_meta(dir: &Path) -> anyhow::Result<(PathBuf, CheckpointMeta)> {
    let dir = resolve_dir(dir);
    let path = dir.join(META_FILE);
    let text = std::fs::read(&path)
        .with_context(|| format!("cannot read checkpoint {}", path.display()))?;
    let meta: CheckpointMeta = serde_json::from_slice(&text)
        .with_context(|| format!("{} is not a valid checkpoint description", path.display()))?;
    Ok((dir, meta))
}

/// A run folder's checkpoint is in its `checkpoint/` subfolder; accept either.
fn resolve_dir(dir: &Path) -> PathBuf {
    let sub = dir.join("checkpoint");
    if !dir.join(META_FILE).exists() && sub.join(META_FILE).exists() {
        sub
    } else {
        dir.to_path_buf()
    }
}

/// Loads weights into a model whose architecture is `expected`. A checkpoint of another
/// architecture is an error naming both.
pub fn load_model<M: Autoencoder>(
    dir: &Path,
    meta: &CheckpointMeta,
    model: M,
    expected: &str,
) -> anyhow::Result<M> {
    if meta.architecture != expected {
        bail!(
            "checkpoint {} was made by a different architecture: it holds `{}`, but this model is `{}`",
            dir.display(),
            meta.architecture,
            expected
        );
    }
    let path = dir.join(MODEL_FILE);
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes))
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("{} is not a valid weights file", path.display()))?;
    model
        .try_load_record(record)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("weights in {} do not fit `{expected}`", path.display()))
}

/// Loads the optimizer state saved beside the weights, if there is one.
pub fn load_optimizer(dir: &Path, optim: ModuleOptimizer) -> anyhow::Result<ModuleOptimizer> {
    let path = dir.join(OPTIM_FILE);
    if !path.exists() {
        return Ok(optim);
    }
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    optim
        .from_bytes(Bytes::from_bytes_vec(bytes))
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("{} is not a valid optimizer state", path.display()))
}

/// Loads a checkpoint's model for inference on `device`, whatever its kind.
pub fn load_for_inference<M: Autoencoder>(
    dir: &Path,
    device: &Device,
) -> anyhow::Result<(M, CheckpointMeta)> {
    let (dir, meta) = read_meta(dir)?;
    let model = M::init(&meta.config.model, meta.sample_shape, device);
    let arch = architecture(&meta.config.model, meta.sample_shape);
    let model = load_model(&dir, &meta, model, &arch)?;
    Ok((model, meta))
}

/// Encodes every sample of `data` with the model saved in `dir` (any kind), on `device`.
pub fn encode_dataset(
    dir: &Path,
    data: &crate::data::Dataset,
    device: &Device,
) -> anyhow::Result<crate::protocol::LatentCloud> {
    let (_, meta) = read_meta(dir)?;
    anyhow::ensure!(
        meta.sample_shape == data.shape,
        "the checkpoint takes samples of {} but the data has {}",
        meta.sample_shape,
        data.shape
    );
    crate::with_model_type!(meta.config.model, M => {
        let (model, _) = load_for_inference::<M>(dir, device)?;
        let px = data.shape.len();
        let mut codes = Vec::with_capacity(data.len() * model.latent_dim());
        for start in (0..data.len()).step_by(500) {
            let end = (start + 500).min(data.len());
            let x = crate::model::samples_tensor(data.values[start * px..end * px].to_vec(), data.shape, device);
            codes.extend(crate::model::to_vec(model.encode(x)));
        }
        Ok(crate::protocol::LatentCloud::new(
            model.latent_dim(),
            codes,
            data.labels.clone(),
            (0..data.len()).collect(),
            None,
        ))
    })
}

/// The decoder of the model saved in `dir` (any kind), as a CPU [`crate::protocol::LatentDecoder`].
pub fn load_decoder(
    dir: &Path,
    device: &Device,
) -> anyhow::Result<std::sync::Arc<dyn crate::protocol::LatentDecoder>> {
    let (_, meta) = read_meta(dir)?;
    crate::with_model_type!(meta.config.model, M => {
        let (model, _) = load_for_inference::<M>(dir, device)?;
        Ok(std::sync::Arc::new(crate::model::CpuDecoder::new(&model)))
    })
}
