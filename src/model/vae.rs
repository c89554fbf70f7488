//! The variational autoencoder: the encoder gives a mean μ and a log-variance log σ² per latent
//! dimension, the code is z = μ + σ·ε with ε ~ N(0, I), and the loss is the reconstruction summed
//! over pixels plus β times the KL divergence to the N(0, I) prior, both per sample.
//! Built on the dense or the convolutional network; its default is the reference
//! 784-512-256-(2+2) / 2-256-512-784. `encode` returns μ, so the scatter shows the means.
//!
//! The same network trains as a β-TCVAE (Chen et al. 2018, `ModelKind::Btcvae`): the KL term
//! is split into the index-code mutual information, the total correlation of the code (how
//! far its dimensions are from independent) and the dimension-wise KL, and β weighs only the
//! total correlation. The aggregate posterior q(z) and its marginals are estimated on each
//! mini-batch from the batch's own codes: log q(z_i) ≈ log (1/B Σ_j q(z_i|x_j)). The paper's
//! minibatch-weighted sampling divides by B·N (N the training set's size) instead; that only
//! moves each term by a constant, so the gradients are the same, and with 1/B a term reads as
//! an estimate of itself (the total correlation of independent dimensions is near 0, not
//! (D − 1)·ln(B·N)).

use burn::module::Module;
use burn::tensor::{Device, Distribution, Tensor};

use super::{Autoencoder, Batch, LossTerms, Network, reconstruction_loss};
use crate::data::SampleShape;
use crate::settings::{LossParams, ModelConfig, ModelKind};

/// ln 2π, in every Gaussian log-density.
const LN_2PI: f32 = 1.837_877_1;

/// What the code is pulled towards the prior by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Penalty {
    /// β · KL(q(z|x) ‖ p(z)), per sample.
    Kl,
    /// Mutual information + β · total correlation + dimension-wise KL.
    TotalCorrelation,
}

#[derive(Module, Debug)]
pub struct VaeAe<N: Network> {
    /// Encodes to `2 · latent` units (μ then log σ²); decodes from `latent`.
    net: N,
    #[module(skip)]
    latent: usize,
    #[module(skip)]
    penalty: Penalty,
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
            penalty: match config.kind {
                ModelKind::Btcvae => Penalty::TotalCorrelation,
                _ => Penalty::Kl,
            },
        }
    }

    fn check(
        config: &ModelConfig,
        shape: SampleShape,
    ) -> Result<(), crate::settings::SettingsError> {
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

    fn encode_spread(&self, images: Tensor<2>) -> Option<Tensor<2>> {
        Some((self.moments(images).1 * 0.5).exp())
    }

    fn decode(&self, codes: Tensor<2>) -> Tensor<2> {
        self.net.decode(codes)
    }

    fn term_names(&self) -> Vec<String> {
        let names: &[&str] = match self.penalty {
            Penalty::Kl => &["reconstruction", "KL"],
            Penalty::TotalCorrelation => &[
                "reconstruction",
                "mutual information",
                "total correlation",
                "dimension-wise KL",
            ],
        };
        names.iter().map(|n| n.to_string()).collect()
    }

    fn loss(&self, batch: Batch, params: &LossParams) -> LossTerms {
        let (mu, logvar) = self.moments(batch.input);
        let z = sample_code(mu.clone(), logvar.clone());
        let logits = self.net.decode(z.clone());
        // Per sample: summed over values (the mean over elements times the value count).
        let shape = self.sample_shape();
        let recon = reconstruction_loss(logits, batch.target, params.recon, shape.value_range())
            .mul_scalar(shape.len() as f32);
        match self.penalty {
            Penalty::Kl => {
                let kl = gaussian_kl(mu, logvar);
                LossTerms {
                    total: recon.clone() + kl.clone().mul_scalar(params.beta),
                    terms: vec![recon, kl],
                }
            }
            Penalty::TotalCorrelation => {
                let [mi, tc, dwkl] = decomposed_kl(z, mu, logvar);
                LossTerms {
                    total: recon.clone()
                        + mi.clone()
                        + tc.clone().mul_scalar(params.beta)
                        + dwkl.clone(),
                    terms: vec![recon, mi, tc, dwkl],
                }
            }
        }
    }
}

/// A draw z = μ + σ·ε, ε ~ N(0, I), `[batch, latent]`: the reparameterisation that lets the
/// gradient reach μ and log σ².
pub(super) fn sample_code(mu: Tensor<2>, logvar: Tensor<2>) -> Tensor<2> {
    let eps = Tensor::<2>::random(mu.dims(), Distribution::Normal(0.0, 1.0), &mu.device());
    mu + logvar.mul_scalar(0.5).exp() * eps
}

/// KL(N(μ, σ²) ‖ N(0, I)) summed over dimensions, averaged over the batch, `[1]`.
pub(super) fn gaussian_kl(mu: Tensor<2>, logvar: Tensor<2>) -> Tensor<1> {
    let [batch, _] = mu.dims();
    (logvar.clone().add_scalar(1.0) - mu.square() - logvar.exp())
        .sum()
        .mul_scalar(-0.5 / batch.max(1) as f32)
}

/// log Σ exp(x) along `dim`, kept as a dimension of size 1; stable for large entries.
fn log_sum_exp<const D: usize>(x: Tensor<D>, dim: usize) -> Tensor<D> {
    let max = x.clone().max_dim(dim).detach();
    (x - max.clone()).exp().sum_dim(dim).log() + max
}

/// The KL term split as β-TCVAE does, each a batch mean `[1]`: mutual information, total
/// correlation and dimension-wise KL, from codes `z` drawn from q(z|x) = N(μ, σ²) `[B, D]`:
/// log q(z_i) ≈ log Σ_j q(z_i|x_j) − log B, and the same per dimension for the marginals.
fn decomposed_kl(z: Tensor<2>, mu: Tensor<2>, logvar: Tensor<2>) -> [Tensor<1>; 3] {
    let [batch, latent] = z.dims();
    let gaussian = |z: Tensor<3>, mu: Tensor<3>, logvar: Tensor<3>| -> Tensor<3> {
        ((z - mu).square() * logvar.clone().neg().exp() + logvar)
            .add_scalar(LN_2PI)
            .mul_scalar(-0.5)
    };
    let log_b = (batch as f32).ln();
    // log q(z_i | x_i) and log p(z_i), per sample: [B].
    let z3 = z.clone().reshape([batch, 1, latent]);
    let own = gaussian(
        z3.clone(),
        mu.clone().reshape([batch, 1, latent]),
        logvar.clone().reshape([batch, 1, latent]),
    )
    .sum_dim(2)
    .reshape([batch]);
    let prior = z
        .square()
        .add_scalar(LN_2PI)
        .mul_scalar(-0.5)
        .sum_dim(1)
        .reshape([batch]);
    // log q(z_i,d | x_j) for every pair: [B, B, D].
    let pairs = gaussian(
        z3,
        mu.reshape([1, batch, latent]),
        logvar.reshape([1, batch, latent]),
    );
    let joint = log_sum_exp(pairs.clone().sum_dim(2), 1)
        .reshape([batch])
        .sub_scalar(log_b);
    let marginals = log_sum_exp(pairs, 1)
        .sub_scalar(log_b)
        .sum_dim(2)
        .reshape([batch]);
    [
        (own - joint.clone()).mean(),
        (joint - marginals.clone()).mean(),
        (marginals - prior).mean(),
    ]
}

#[cfg(test)]
mod tests {
    use burn::tensor::TensorData;

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
        let tc = ModelConfig {
            hidden: vec![32],
            latent: 3,
            ..ModelKind::Btcvae.default_model()
        };
        check_kind::<VaeAe<DenseNet>>(&tc);
    }

    /// The three parts add up to the sampled KL, log q(z|x) − log p(z), whatever the estimate
    /// of q(z); and the total correlation is large when two code dimensions move together and
    /// near zero when they are independent.
    #[test]
    fn the_kl_splits_into_parts_and_total_correlation_sees_dependence() {
        let device = Device::flex();
        let mut rng = crate::data::Rng::new(1);
        let batch = 256;
        let tensor = |v: Vec<f32>| Tensor::<2>::from_data(TensorData::new(v, [batch, 2]), &device);
        let independent: Vec<f32> = (0..2 * batch).map(|_| rng.normal()).collect();
        let dependent: Vec<f32> = (0..batch)
            .flat_map(|_| {
                let a = rng.normal();
                [a, a]
            })
            .collect();
        let logvar = tensor(vec![(0.05f32).ln(); 2 * batch]);
        let tc_of = |mu: Vec<f32>| {
            let mu = tensor(mu);
            let eps = Tensor::<2>::random([batch, 2], Distribution::Normal(0.0, 1.0), &device);
            let z = mu.clone() + logvar.clone().mul_scalar(0.5).exp() * eps;
            let sampled_kl = {
                let own = ((z.clone() - mu.clone()).square() * logvar.clone().neg().exp()
                    + logvar.clone())
                .add_scalar(LN_2PI)
                .mul_scalar(-0.5);
                let prior = z.clone().square().add_scalar(LN_2PI).mul_scalar(-0.5);
                to_vec((own - prior).sum_dim(1).mean())[0]
            };
            let parts = decomposed_kl(z, mu, logvar.clone()).map(|t| to_vec(t)[0]);
            let sum: f32 = parts.iter().sum();
            assert!(
                (sum - sampled_kl).abs() < 1e-3 * sampled_kl.abs().max(1.0),
                "{parts:?}"
            );
            parts[1]
        };
        let (tc_ind, tc_dep) = (tc_of(independent), tc_of(dependent));
        assert!(tc_dep > 1.0, "dependent dimensions: TC {tc_dep}");
        assert!(
            tc_ind.abs() < 0.3 * tc_dep,
            "independent {tc_ind} vs dependent {tc_dep}"
        );
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
        let terms = m.loss(Batch::plain(x), &LossParams::default());
        let kl = to_vec(terms.terms[1].clone())[0];
        assert!(kl.is_finite() && kl >= 0.0, "{kl}");
        let total = to_vec(terms.total)[0];
        let recon = to_vec(terms.terms[0].clone())[0];
        assert!((total - recon - kl).abs() < 1e-3 * total.abs().max(1.0));
    }
}
