//! The dense (fully connected) network: flatten, hidden layers with ReLU, a linear code, and a
//! mirrored decoder ending in logits. As an autoencoder ([`DenseAe`]) its default is the reference
//! 784-512-128-32-128-512-784.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use super::{Basic, Network};
use crate::data::SampleShape;
use crate::settings::ModelConfig;

/// The dense autoencoder.
pub type DenseAe = Basic<DenseNet>;

#[derive(Module, Debug)]
pub struct DenseNet {
    /// Input → hidden layers → code (no activation on the last).
    encoder: Vec<Linear>,
    /// Code → mirrored hidden layers → pixel logits (no activation on the last).
    decoder: Vec<Linear>,
    #[module(skip)]
    shape: SampleShape,
}

/// Applies `layers` with ReLU between them (none after the last).
fn mlp(layers: &[Linear], mut x: Tensor<2>) -> Tensor<2> {
    for (i, layer) in layers.iter().enumerate() {
        x = layer.forward(x);
        if i + 1 < layers.len() {
            x = relu(x);
        }
    }
    x
}

fn stack(widths: &[usize], device: &Device) -> Vec<Linear> {
    widths
        .windows(2)
        .map(|w| LinearConfig::new(w[0], w[1]).init(device))
        .collect()
}

impl Network for DenseNet {
    fn build(
        config: &ModelConfig,
        shape: SampleShape,
        code_out: usize,
        code_in: usize,
        device: &Device,
    ) -> Self {
        let mut widths = vec![shape.len()];
        widths.extend(&config.hidden);
        widths.push(code_out);
        let encoder = stack(&widths, device);
        widths.reverse();
        widths[0] = code_in;
        let decoder = stack(&widths, device);
        Self {
            encoder,
            decoder,
            shape,
        }
    }

    fn sample_shape(&self) -> SampleShape {
        self.shape
    }

    fn encode(&self, samples: Tensor<2>) -> Tensor<2> {
        mlp(&self.encoder, samples)
    }

    fn decode(&self, codes: Tensor<2>) -> Tensor<2> {
        mlp(&self.decoder, codes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Autoencoder;
    use crate::model::tests_support::check_kind;

    #[test]
    fn dense_shapes_gradients_and_learning() {
        let config = ModelConfig {
            hidden: vec![32, 16],
            latent: 4,
            ..Default::default()
        };
        check_kind::<DenseAe>(&config);
    }

    #[test]
    fn default_is_the_reference_architecture() {
        let shape = SampleShape::Image(crate::data::ImageShape {
            channels: 1,
            height: 28,
            width: 28,
        });
        let m = DenseAe::init(&ModelConfig::default(), shape, &Device::flex());
        // 784·512+512 + 512·128+128 + 128·32+32, and the mirror.
        let enc = 784 * 512 + 512 + 512 * 128 + 128 + 128 * 32 + 32;
        let dec = 32 * 128 + 128 + 128 * 512 + 512 + 512 * 784 + 784;
        assert_eq!(m.num_params(), enc + dec);
    }
}
