//! Checkpoints: a folder with the weights (burnpack), the optimizer state and
//! `checkpoint.json` (architecture, config, step, and which weights file is current).
//!
//! Two slots alternate: a save writes `model-b.bpk` and `optimizer-b.bpk` while the description
//! names the `-a` files, and only then replaces `checkpoint.json` (atomically, synced) to name
//! the `-b` ones; the next save writes `-a`. A crash at any point leaves a description that
//! names complete files of one save, never a mix of two. (Checkpoints from before the slots
//! hold `model.bpk` and `optimizer.bpk` and still load.)

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
/// The weights and optimizer files of the two slots, and of checkpoints from before them.
const SLOTS: [(&str, &str); 2] = [
    ("model-a.bpk", "optimizer-a.bpk"),
    ("model-b.bpk", "optimizer-b.bpk"),
];
const LEGACY: (&str, &str) = ("model.bpk", "optimizer.bpk");

fn legacy_model_file() -> String {
    LEGACY.0.into()
}

fn legacy_optimizer_file() -> Option<String> {
    Some(LEGACY.1.into())
}

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
    /// The weights file this description goes with (set by [`save`]).
    #[serde(default = "legacy_model_file")]
    pub model_file: String,
    /// The optimizer state saved with them, if any (set by [`save`]).
    #[serde(default = "legacy_optimizer_file")]
    pub optimizer_file: Option<String>,
    /// FNV-1a hashes of the weights and optimizer files as written, checked on loading: a
    /// truncated, bit-flipped or swapped file is refused by name (absent in older checkpoints).
    #[serde(default)]
    pub model_hash: Option<u64>,
    #[serde(default)]
    pub optimizer_hash: Option<u64>,
}

/// FNV-1a, 64-bit: a checksum, not a defence against deliberate tampering.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Reads `file` of checkpoint `dir` (one of this module's own names) and checks it against the
/// hash its description recorded; returns its path and bytes.
fn read_checked(dir: &Path, file: &str, hash: Option<u64>) -> anyhow::Result<(PathBuf, Vec<u8>)> {
    let path = dir.join(own_file(file)?);
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    if let Some(want) = hash
        && fnv1a(&bytes) != want
    {
        bail!(
            "{} is damaged: its contents are not what {} recorded (truncated, altered or from another save)",
            path.display(),
            META_FILE
        );
    }
    Ok((path, bytes))
}

/// Writes a checkpoint of `model` (and `optim` when given) into `dir`, in the slot the
/// current description does not name; the description is replaced last.
pub fn save<M: Autoencoder>(
    dir: &Path,
    model: &M,
    optim: Option<&ModuleOptimizer>,
    meta: &CheckpointMeta,
) -> anyhow::Result<()> {
    let current = read_meta(dir).ok().map(|(_, m)| m.model_file);
    let (model_file, optim_file) = if current.as_deref() == Some(SLOTS[0].0) {
        SLOTS[1]
    } else {
        SLOTS[0]
    };
    let weights = model
        .clone()
        .into_record()
        .into_bytes()
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("cannot serialise the weights")?;
    write_atomic(&dir.join(model_file), &weights)?;
    let mut meta = meta.clone();
    meta.model_file = model_file.into();
    meta.model_hash = Some(fnv1a(&weights));
    meta.optimizer_file = None;
    meta.optimizer_hash = None;
    if let Some(optim) = optim {
        let state = optim
            .into_bytes()
            .map_err(|e| anyhow::anyhow!("{e}"))
            .context("cannot serialise the optimizer state")?;
        write_atomic(&dir.join(optim_file), &state)?;
        meta.optimizer_file = Some(optim_file.into());
        meta.optimizer_hash = Some(fnv1a(&state));
    }
    let json = serde_json::to_vec_pretty(&meta)?;
    write_atomic(&dir.join(META_FILE), &json)
}

/// Copies the checkpoint in `from` (a checkpoint or run folder) into the folder `to`: the files
/// its description names, then the description, each written atomically (the studio's
/// **Save model…** of a run that has ended). A damaged source is refused before anything is
/// written.
pub fn copy(from: &Path, to: &Path) -> anyhow::Result<()> {
    let (src, meta) = read_meta(from)?;
    let mut files = Vec::new();
    for (name, hash) in [
        (Some(&meta.model_file), meta.model_hash),
        (meta.optimizer_file.as_ref(), meta.optimizer_hash),
    ] {
        let Some(name) = name else { continue };
        let (_, bytes) = read_checked(&src, name, hash)?;
        files.push((name, bytes));
    }
    let meta_bytes = std::fs::read(src.join(META_FILE))?;
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    for (name, bytes) in files {
        write_atomic(&to.join(name), &bytes)?;
    }
    write_atomic(&to.join(META_FILE), &meta_bytes)
}

/// Checks that a description names only this module's own files (not a path elsewhere).
fn own_file(name: &str) -> anyhow::Result<&str> {
    let known = SLOTS
        .iter()
        .chain([&LEGACY])
        .any(|(m, o)| name == *m || name == *o);
    anyhow::ensure!(known, "names an unknown file `{name}`");
    Ok(name)
}

/// Reads `checkpoint.json` from a checkpoint folder (or a run folder holding `checkpoint/`).
pub fn read_meta(dir: &Path) -> anyhow::Result<(PathBuf, CheckpointMeta)> {
    let dir = resolve_dir(dir);
    let path = dir.join(META_FILE);
    let text = std::fs::read(&path)
        .with_context(|| format!("cannot read checkpoint {}", path.display()))?;
    Ok((dir, parse_meta(&text, &path)?))
}

/// Parses and checks a checkpoint description (`checkpoint.json`'s bytes; `path` labels
/// errors): its files must be this module's own, its configuration valid and its model
/// buildable for its sample shape.
pub fn parse_meta(text: &[u8], path: &Path) -> anyhow::Result<CheckpointMeta> {
    let meta: CheckpointMeta = serde_json::from_slice(text)
        .with_context(|| format!("{} is not a valid checkpoint description", path.display()))?;
    let invalid = |e: String| {
        anyhow::anyhow!(
            "{} is not a valid checkpoint description: {e}",
            path.display()
        )
    };
    own_file(&meta.model_file).map_err(|e| invalid(e.to_string()))?;
    if let Some(o) = &meta.optimizer_file {
        own_file(o).map_err(|e| invalid(e.to_string()))?;
    }
    // A hand-edited or foreign description must not build an absurd or impossible model.
    let config = meta
        .config
        .clone()
        .validate()
        .map_err(|e| invalid(e.to_string()))?;
    crate::model::check(&config.model, meta.sample_shape).map_err(|e| invalid(e.to_string()))?;
    Ok(meta)
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
    let (path, bytes) = read_checked(dir, &meta.model_file, meta.model_hash)?;
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes))
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("{} is not a valid weights file", path.display()))?;
    model
        .try_load_record(record)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("weights in {} do not fit `{expected}`", path.display()))
}

/// Loads the optimizer state saved with the weights, if there is one.
pub fn load_optimizer(
    dir: &Path,
    meta: &CheckpointMeta,
    optim: ModuleOptimizer,
) -> anyhow::Result<ModuleOptimizer> {
    let Some(file) = &meta.optimizer_file else {
        return Ok(optim);
    };
    if !dir.join(file).exists() {
        return Ok(optim);
    }
    let (path, bytes) = read_checked(dir, file, meta.optimizer_hash)?;
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
        let mut codes = Vec::with_capacity(data.len() * model.latent_dim());
        for start in (0..data.len()).step_by(500) {
            let end = (start + 500).min(data.len());
            let x = crate::model::samples_tensor(data.samples(start..end).into_owned(), data.shape, device);
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

/// The model saved in `dir` for PyTorch (see [`crate::model::torch`]).
pub struct TorchExport {
    /// The weights, safetensors.
    pub weights: Vec<u8>,
    /// The architecture, for `scripts/load_in_torch.py`.
    pub description: serde_json::Value,
    /// `inputs`, `codes` and `reconstructions` of the given samples as Latent Lab computes
    /// them (safetensors), for the script to check itself against.
    pub check: Vec<u8>,
}

/// Exports the model saved in `dir` for PyTorch, with `samples` (flat, of the checkpoint's
/// sample shape) encoded and reconstructed for the check file.
pub fn export_torch(dir: &Path, samples: &[f32], device: &Device) -> anyhow::Result<TorchExport> {
    use crate::model::torch::{NamedTensor, description, named_tensors, safetensors};
    let (_, meta) = read_meta(dir)?;
    let description =
        description(&meta.config.model, meta.sample_shape).map_err(anyhow::Error::msg)?;
    let shape = meta.sample_shape;
    anyhow::ensure!(
        samples.len().is_multiple_of(shape.len()),
        "the check samples are not whole samples of {shape}"
    );
    crate::with_model_type!(meta.config.model, M => {
        let (model, meta) = load_for_inference::<M>(dir, device)?;
        let n = samples.len() / shape.len();
        let x = crate::model::samples_tensor(samples.to_vec(), shape, device);
        let codes = model.encode(x);
        let outputs = crate::model::output(model.decode(codes.clone()), shape.value_range());
        let mut input_shape = vec![n];
        input_shape.extend(crate::model::torch::input_dims(shape));
        let check = [
            NamedTensor { name: "inputs".into(), shape: input_shape.clone(), values: samples.to_vec() },
            NamedTensor { name: "codes".into(), shape: vec![n, model.latent_dim()], values: crate::model::to_vec(codes) },
            NamedTensor { name: "reconstructions".into(), shape: input_shape, values: crate::model::to_vec(outputs) },
        ];
        let metadata = std::collections::BTreeMap::from([
            ("format".to_string(), "latentlab-torch/1".to_string()),
            ("architecture".to_string(), meta.architecture.clone()),
            ("step".to_string(), meta.step.to_string()),
        ]);
        Ok(TorchExport {
            weights: safetensors(&named_tensors(&model), &metadata),
            description,
            check: safetensors(&check, &Default::default()),
        })
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
