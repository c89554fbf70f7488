//! The variational autoencoder: the encoder gives a mean μ and a log-variance log σ² per latent
//! dimension, the code is z = μ + σ·ε with ε ~ N(0, I), and the loss is the reconstruction summed
//! over pixels plus β times the KL divergence to the N(0, I) prior, both per sample.
//! Built on the dense or the convolutional network; its default is the reference
//! 784-512-256-(2+2) / 2-256-512-784. `encode` returns μ, so the scatter shows the means.

use burn::module::Module;
use burn::tensor::{Device, Distribution, Tensor};

use super::{Autoencoder, LossTerms, Network, reconstruction_loss};
use crate::data::SampleShape;
use crate::settings::{LossParams, ModelConfig};

#[derive(Module, Debug)]
pub struct VaeAe<N: Network> {
    /// Encodes to `2 · latent` units (μ then log σ²); decodes from `latent`.
    net: N,
    #[module(skip)]
    latent: usize,
}

impl<N: Network> VaeAe<N> {
    /// μ and log σ², `[batch, latent]` each.
    fn moments(&self, images: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let h = self.net.encode(images);
        let mu = h.clone().narrow(1, 0, self.latent);
        // Clamped so that exp() stays finite in a bad step; far outside any useful range.
        let logvar = h.narrow(1, self.latent, self.latent).clamp(-30.0, 20.0);
        (mu, logvar)
    }
}

impl<N: Network> Autoencoder for VaeAe<N> {
    fn init(config: &ModelConfig, shape: SampleShape, device: &Device) -> Self {
        Self {
            net: N::build(config, shape, 2 * config.latent, config.latent, device),
            latent: config.latent,
        }
    }

    fn check(config: &ModelConfig, shape: SampleShape) -> Result<(), String> {
        N::check(config, shape)
    }

    fn latent_dim(&self) -> usize {
        self.latent
    }

    fn sample_shape(&self) -> SampleShape {
        self.net.sample_shape()
    }

    fn encode(&self, images: Tensor<2>) -> Tensor<2> {
        self.moments(images).0
    }

    fn decode(&self, codes: Tensor<2>) -> Tensor<2> {
        self.net.decode(codes)
    }

    fn term_names(&self) -> Vec<String> {
        vec!["reconstruction".into(), "KL".into()]
    }

    fn loss(&self, input: Tensor<2>, target: Tensor<2>, params: &LossParams) -> LossTerms {
        let (mu, logvar) = self.moments(input);
        let [batch, latent] = mu.dims();
        let eps = Tensor::<2>::random(
            [batch, latent],
            Distribution::Normal(0.0, 1.0),
            &mu.device(),
        );
        let z = mu.clone() + logvar.clone().mul_scalar(0.5).exp() * eps;
        let logits = self.net.decode(z);
        // Per sample: summed over values (the mean over elements times the value count).
        let shape = self.sample_shape();
        let recon = reconstruction_loss(logits, target, params.recon, shape.value_range())
            .mul_scalar(shape.len() as f32);
        let kl = (logvar.clone().add_scalar(1.0) - mu.square() - logvar.exp())
            .sum()
            .mul_scalar(-0.5 / batch as f32);
        LossTerms {
            total: recon.clone() + kl.clone().mul_scalar(params.beta),
            terms: vec![recon, kl],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests_support::check_kind;
    use crate::model::{DenseNet, to_vec};
    use crate::settings::ModelKind;

    #[test]
    fn vae_shapes_gradients_and_learning() {
        let config = ModelConfig {
            hidden: vec![32],
            latent: 2,
            ..ModelKind::Vae.default_model()
        };
        check_kind::<VaeAe<DenseNet>>(&config);
    }

    #[test]
    fn kl_is_zero_at_the_prior_and_positive_elsewhere() {
        let device = Device::flex();
        let shape = SampleShape::Image(crate::data::ImageShape {
            channels: 1,
            height: 4,
            width: 4,
        });
        let config = ModelConfig {
            hidden: vec![8],
            latent: 3,
            ..ModelKind::Vae.default_model()
        };
        let m = VaeAe::<DenseNet>::init(&config, shape, &device);
        let x = Tensor::<2>::ones([5, 16], &device).mul_scalar(0.5);
        let terms = m.loss(x.clone(), x, &LossParams::default());
        let kl = to_vec(terms.terms[1].clone())[0];
        assert!(kl.is_finite() && kl >= 0.0, "{kl}");
        let total = to_vec(terms.total)[0];
        let recon = to_vec(terms.terms[0].clone())[0];
        assert!((total - recon - kl).abs() < 1e-3 * total.abs().max(1.0));
    }
}
