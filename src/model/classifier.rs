//! A small classifier of samples (values → 256 → classes, ReLU), trained on the real training
//! data: the judge of what a decoder draws. A style swap counts as right when this classifier
//! names the class the swap asked for. It trains in seconds on the CPU and is part of the
//! project, so its figures can be reproduced without any other tool.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use super::{cross_entropy, one_hot, samples_tensor, to_vec};
use crate::data::{Dataset, Rng, epoch_batches};

const HIDDEN: usize = 256;
const BATCH: usize = 128;
const LR: f64 = 1e-3;

#[derive(Module, Debug)]
struct Mlp {
    hidden: Linear,
    out: Linear,
}

impl Mlp {
    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.out.forward(relu(self.hidden.forward(x)))
    }
}

/// A trained classifier on the Flex CPU.
pub struct Classifier {
    net: Mlp,
    device: Device,
    values: usize,
    classes: usize,
}

impl Classifier {
    /// Trains on `train` (which must be labelled) for `epochs` epochs from `seed`.
    pub fn fit(train: &Dataset, epochs: usize, seed: u64) -> Result<Self, String> {
        let Some(labels) = &train.labels else {
            return Err("the classifier needs labelled training data".into());
        };
        let classes = train.classes();
        let values = train.shape.len();
        let device = Device::flex().autodiff();
        device.seed(seed);
        let mut net = Mlp {
            hidden: LinearConfig::new(values, HIDDEN).init(&device),
            out: LinearConfig::new(HIDDEN, classes).init(&device),
        };
        let mut optim = AdamConfig::new().init();
        let mut rng = Rng::new(seed);
        for _ in 0..epochs {
            for batch in epoch_batches(train.len(), BATCH, &mut rng) {
                let mut x = Vec::with_capacity(batch.len() * values);
                for &i in &batch {
                    train.extend_sample(i, &mut x);
                }
                let y: Vec<u32> = batch.iter().map(|&i| labels[i]).collect();
                let logits = net.forward(samples_tensor(x, train.shape, &device));
                let loss = cross_entropy(logits, one_hot(&y, classes, &device));
                let grads = GradientsParams::from_grads(loss.backward(), &net);
                net = optim.step(LR, net, grads);
            }
        }
        let device = Device::flex();
        Ok(Self {
            net: net.valid().to_device(&device),
            device,
            values,
            classes,
        })
    }

    /// The most likely class of each sample in `samples` (`[n, values]`, row-major).
    pub fn predict(&self, samples: &[f32]) -> Vec<u32> {
        let n = samples.len() / self.values.max(1);
        let mut out = Vec::with_capacity(n);
        for chunk in samples[..n * self.values].chunks(512 * self.values) {
            let rows = chunk.len() / self.values;
            let x = Tensor::<2>::from_data(
                burn::tensor::TensorData::new(chunk.to_vec(), [rows, self.values]),
                &self.device,
            );
            let logits = to_vec(self.net.forward(x));
            out.extend(logits.chunks(self.classes).map(|row| {
                let mut best = 0;
                for (c, &v) in row.iter().enumerate() {
                    if v > row[best] {
                        best = c;
                    }
                }
                best as u32
            }));
        }
        out
    }

    /// The fraction of `data`'s samples it names right; 0 for unlabelled data.
    pub fn accuracy(&self, data: &Dataset) -> f32 {
        let Some(labels) = &data.labels else {
            return 0.0;
        };
        agreement(&self.predict(&data.values.to_f32()), labels)
    }
}

/// The fraction of positions where `a` and `b` agree.
pub fn agreement(a: &[u32], b: &[u32]) -> f32 {
    let n = a.len().min(b.len());
    if n == 0 {
        return 0.0;
    }
    a.iter().zip(b).filter(|(x, y)| x == y).count() as f32 / n as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two classes of 4×4 images, a bright top half or a bright left half, with noise: the
    /// classifier learns them and tells held-out ones apart.
    #[test]
    fn it_learns_two_classes_and_names_held_out_samples() {
        let make = |n: usize, seed: u64| {
            let mut rng = Rng::new(seed);
            let mut values = Vec::new();
            let mut labels = Vec::new();
            for i in 0..n {
                let class = (i % 2) as u32;
                for p in 0..16 {
                    let (y, x) = (p / 4, p % 4);
                    let on = if class == 0 { y < 2 } else { x < 2 };
                    values.push(if on { 0.8 } else { 0.2 } + 0.3 * rng.normal());
                }
                labels.push(class);
            }
            Dataset {
                shape: crate::data::ImageShape {
                    channels: 1,
                    height: 4,
                    width: 4,
                }
                .into(),
                values: values.into(),
                labels: Some(labels),
                class_names: vec!["top".into(), "left".into()],
                factors: None,
            }
        };
        let c = Classifier::fit(&make(512, 1), 5, 1).unwrap();
        let acc = c.accuracy(&make(200, 2));
        assert!(acc > 0.95, "held-out accuracy {acc}");
        assert_eq!(agreement(&[1, 2, 3], &[1, 0, 3]), 2.0 / 3.0);
    }
}
