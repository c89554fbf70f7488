//! A model's weights for PyTorch: named tensors in PyTorch's layouts, the safetensors file
//! format, and a description of the network that `scripts/load_in_torch.py` rebuilds it from.
//!
//! safetensors is a JSON header and raw little-endian tensor data: opening one reads numbers,
//! never runs code, unlike a pickled `.pt` file. Names follow the module tree
//! (`net.encoder.0.weight`), the same names the script's `nn.Module`s give their parameters;
//! a `Linear` weight is stored `[out, in]` as PyTorch keeps it (burn keeps `[in, out]`),
//! convolution weights are already in PyTorch's layouts.

use std::collections::BTreeMap;

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Tensor;
use serde_json::json;

use crate::data::SampleShape;
use crate::settings::{BaseNet, ModelConfig, ModelKind, SparsityKind};

/// One parameter: its dotted name, shape and values (row-major, f32).
#[derive(Debug, Clone, PartialEq)]
pub struct NamedTensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// Every float parameter of `model`, named by its path, in PyTorch's layouts.
pub fn named_tensors<M: Module>(model: &M) -> Vec<NamedTensor> {
    struct Collect {
        /// (field or index, the type of the module that holds the field).
        path: Vec<(String, String)>,
        out: Vec<NamedTensor>,
    }
    impl ModuleVisitor for Collect {
        fn enter_module(&mut self, name: &str, container_type: &str) {
            self.path
                .push((name.to_string(), container_type.to_string()));
        }
        fn exit_module(&mut self, _name: &str, _container_type: &str) {
            self.path.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let tensor = param.val();
            let mut shape = tensor.dims().to_vec();
            let mut values = super::to_vec(tensor);
            let name = self
                .path
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(".");
            // Entering a field reports the type that holds it: `weight` of a `Linear`.
            let in_linear = self.path.last().is_some_and(|(_, t)| t == "Struct:Linear");
            if in_linear && name.ends_with("weight") && shape.len() == 2 {
                let (rows, cols) = (shape[0], shape[1]);
                let mut t = vec![0.0; values.len()];
                for r in 0..rows {
                    for c in 0..cols {
                        t[c * rows + r] = values[r * cols + c];
                    }
                }
                values = t;
                shape = vec![cols, rows];
            }
            self.out.push(NamedTensor {
                name,
                shape,
                values,
            });
        }
    }
    let mut c = Collect {
        path: Vec::new(),
        out: Vec::new(),
    };
    model.visit(&mut c);
    c.out
}

/// The safetensors encoding of `tensors` (F32), with `metadata` in its header.
pub fn safetensors(tensors: &[NamedTensor], metadata: &BTreeMap<String, String>) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    if !metadata.is_empty() {
        header.insert("__metadata__".into(), json!(metadata));
    }
    let mut offset = 0usize;
    for t in tensors {
        let end = offset + 4 * t.values.len();
        header.insert(
            t.name.clone(),
            json!({"dtype": "F32", "shape": t.shape, "data_offsets": [offset, end]}),
        );
        offset = end;
    }
    let mut text = serde_json::Value::Object(header).to_string().into_bytes();
    // The data starts 8-byte aligned, as the format recommends.
    while !(8 + text.len()).is_multiple_of(8) {
        text.push(b' ');
    }
    let mut out = Vec::with_capacity(8 + text.len() + offset);
    out.extend((text.len() as u64).to_le_bytes());
    out.extend(text);
    for t in tensors {
        for v in &t.values {
            out.extend(v.to_le_bytes());
        }
    }
    out
}

/// One sample's dimensions as PyTorch shapes it: `[C, H, W]` for images, `[C, T]` for series.
pub fn input_dims(shape: SampleShape) -> Vec<usize> {
    match shape.image() {
        Some(i) => vec![i.channels, i.height, i.width],
        None => vec![shape.channels(), shape.len() / shape.channels().max(1)],
    }
}

/// What `scripts/load_in_torch.py` needs to rebuild the network: which body (dense or conv),
/// its widths, how a code is read from the encoder's output, and how outputs are squashed.
/// Kinds the script cannot rebuild (sequence, voice, conditional and two-code models) are
/// refused by name.
pub fn description(config: &ModelConfig, shape: SampleShape) -> Result<serde_json::Value, String> {
    let body = match (config.kind, config.base) {
        (ModelKind::Dense, _) => BaseNet::Dense,
        (ModelKind::Conv, _) => BaseNet::Conv,
        (ModelKind::Denoise | ModelKind::Sparse | ModelKind::Vae | ModelKind::Btcvae, b)
            if b != BaseNet::Seq =>
        {
            b
        }
        (kind, base) => {
            return Err(format!(
                "PyTorch export covers the dense and convolutional networks of the dense, conv, denoise, sparse, vae and btcvae kinds; this model is {} on {}",
                kind.label(),
                base.label()
            ));
        }
    };
    let (code, code_out) = match config.kind {
        ModelKind::Sparse => (
            match config.sparsity {
                SparsityKind::L1 => "relu",
                SparsityKind::Kl => "sigmoid",
            },
            config.latent,
        ),
        // μ: the first half of the encoder's output (log σ² is the second).
        ModelKind::Vae | ModelKind::Btcvae => ("gaussian-mean", 2 * config.latent),
        _ => ("linear", config.latent),
    };
    let mut d = json!({
        "format": "latentlab-torch/1",
        "kind": config.kind,
        "network": if body == BaseNet::Conv { "conv" } else { "dense" },
        "input_shape": input_dims(shape),
        "hidden": config.hidden,
        "latent": config.latent,
        "encoder_outputs": code_out,
        "code": code,
        "output": match shape.value_range() {
            crate::data::ValueRange::Unit => "sigmoid",
            crate::data::ValueRange::Real => "identity",
        },
    });
    if body == BaseNet::Conv {
        d["conv"] = json!({"kernel": 3, "stride": 2, "padding": 1, "output_padding": 1});
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::ImageShape;
    use crate::model::Autoencoder;
    use burn::tensor::Device;

    #[test]
    fn names_follow_the_module_tree_and_linear_weights_turn_to_pytorch_layout() {
        let config = ModelConfig {
            hidden: vec![5],
            latent: 2,
            ..Default::default()
        };
        let shape = SampleShape::Image(ImageShape {
            channels: 1,
            height: 2,
            width: 3,
        });
        let model = crate::model::DenseAe::init(&config, shape, &Device::flex());
        let tensors = named_tensors(&model);
        let names: Vec<(&str, &[usize])> = tensors
            .iter()
            .map(|t| (t.name.as_str(), t.shape.as_slice()))
            .collect();
        assert_eq!(
            names,
            [
                ("net.encoder.0.weight", &[5, 6][..]),
                ("net.encoder.0.bias", &[5][..]),
                ("net.encoder.1.weight", &[2, 5][..]),
                ("net.encoder.1.bias", &[2][..]),
                ("net.decoder.0.weight", &[5, 2][..]),
                ("net.decoder.0.bias", &[5][..]),
                ("net.decoder.1.weight", &[6, 5][..]),
                ("net.decoder.1.bias", &[6][..]),
            ]
        );
        // The code, computed from the exported tensors as PyTorch would (x Wᵀ + b, ReLU
        // between layers), equals the model's own.
        let x: Vec<f32> = (0..6).map(|i| i as f32 / 5.0 - 0.4).collect();
        let linear = |w: &NamedTensor, b: &NamedTensor, x: &[f32]| -> Vec<f32> {
            let (out, inp) = (w.shape[0], w.shape[1]);
            (0..out)
                .map(|r| b.values[r] + (0..inp).map(|c| w.values[r * inp + c] * x[c]).sum::<f32>())
                .collect()
        };
        let h: Vec<f32> = linear(&tensors[0], &tensors[1], &x)
            .into_iter()
            .map(|v| v.max(0.0))
            .collect();
        let code = linear(&tensors[2], &tensors[3], &h);
        let ours = crate::model::to_vec(model.encode(crate::model::samples_tensor(
            x,
            shape,
            &Device::flex(),
        )));
        for (a, b) in code.iter().zip(&ours) {
            assert!((a - b).abs() < 1e-5, "{code:?} vs {ours:?}");
        }
    }

    #[test]
    fn safetensors_header_and_data_are_laid_out_as_the_format_says() {
        let t = [
            NamedTensor {
                name: "a".into(),
                shape: vec![2],
                values: vec![1.0, -2.0],
            },
            NamedTensor {
                name: "b".into(),
                shape: vec![1, 1],
                values: vec![0.5],
            },
        ];
        let meta = BTreeMap::from([("kind".to_string(), "dense".to_string())]);
        let bytes = safetensors(&t, &meta);
        let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        assert_eq!((8 + n) % 8, 0);
        let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
        assert_eq!(header["a"]["data_offsets"], json!([0, 8]));
        assert_eq!(header["b"]["shape"], json!([1, 1]));
        assert_eq!(header["__metadata__"]["kind"], "dense");
        let data = &bytes[8 + n..];
        assert_eq!(data.len(), 12);
        assert_eq!(f32::from_le_bytes(data[4..8].try_into().unwrap()), -2.0);
    }

    #[test]
    fn kinds_the_script_cannot_rebuild_are_refused_by_name() {
        let shape = SampleShape::Image(ImageShape {
            channels: 1,
            height: 4,
            width: 4,
        });
        let seq = ModelConfig {
            kind: ModelKind::Cvae,
            ..Default::default()
        };
        let e = description(&seq, shape).unwrap_err();
        assert!(e.contains("PyTorch export covers"), "{e}");
        let vae = ModelConfig {
            kind: ModelKind::Vae,
            base: BaseNet::Conv,
            latent: 3,
            ..Default::default()
        };
        let d = description(&vae, shape).unwrap();
        assert_eq!(d["network"], "conv");
        assert_eq!(d["encoder_outputs"], 6);
        assert_eq!(d["code"], "gaussian-mean");
    }
}
