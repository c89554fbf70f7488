//! The conditional VAE: the decoder sees the class (one-hot) beside a Gaussian code z, so the
//! code need not hold the class and the KL pulls it out: z keeps the style (slant, thickness)
//! and any style can be drawn as any class by changing the one-hot.
//!
//! The encoder also has a class head, so that a code can be made without a label: the code the
//! rest of the app sees is `[class probabilities | μ]` (content first, then style), and the
//! decoder takes that same layout. Training feeds the decoder the true one-hot, and trains the
//! head by cross-entropy on the labels, weighted by [`LABEL_WEIGHT`] (at weight 1 the head
//! named 94 % of MNIST's test digits after 30 epochs, and a blurred guess between two classes
//! made a blurred reconstruction).

use burn::module::Module;
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor};

use super::vae::{gaussian_kl, sample_code};
use super::{
    Autoencoder, Batch, LABEL_WEIGHT, LossTerms, Network, cross_entropy, reconstruction_loss,
};
use crate::data::SampleShape;
use crate::settings::{Field, LossParams, ModelConfig, unusable};

#[derive(Module, Debug)]
pub struct CvaeAe<N: Network> {
    /// Encodes to `2·latent + classes` units (μ, log σ², class logits); decodes from
    /// `classes + latent` (one-hot, then z).
    net: N,
    #[module(skip)]
    latent: usize,
    #[module(skip)]
    classes: usize,
}

impl<N: Network> CvaeAe<N> {
    /// μ, log σ² `[batch, latent]` and class logits `[batch, classes]`.
    fn heads(&self, samples: Tensor<2>) -> (Tensor<2>, Tensor<2>, Tensor<2>) {
        let h = self.net.encode(samples);
        let mu = h.clone().narrow(1, 0, self.latent);
        let logvar = h
            .clone()
            .narrow(1, self.latent, self.latent)
            .clamp(-30.0, 20.0);
        let logits = h.narrow(1, 2 * self.latent, self.classes);
        (mu, logvar, logits)
    }
}

/// Why a kind that learns from labels cannot train on data with `classes` classes.
pub(super) fn check_classes(config: &ModelConfig) -> Result<(), crate::settings::SettingsError> {
    if config.classes < 2 {
        return Err(unusable(
            Field::Dataset,
            format!(
                "the {} model learns from the labels; this data has {} classes (it needs 2 or more)",
                config.kind.label(),
                config.classes
            ),
        ));
    }
    Ok(())
}

impl<N: Network> Autoencoder for CvaeAe<N> {
    fn init(config: &ModelConfig, shape: SampleShape, device: &Device) -> Self {
        let classes = config.classes.max(1);
        Self {
            net: N::build(
                config,
                shape,
                2 * config.latent + classes,
                classes + config.latent,
                device,
            ),
            latent: config.latent,
            classes,
        }
    }

    fn check(
        config: &ModelConfig,
        shape: SampleShape,
    ) -> Result<(), crate::settings::SettingsError> {
        check_classes(config)?;
        N::check(config, shape)
    }

    fn latent_dim(&self) -> usize {
        self.classes + self.latent
    }

    fn sample_shape(&self) -> SampleShape {
        self.net.sample_shape()
    }

    fn encode(&self, samples: Tensor<2>) -> Tensor<2> {
        let (mu, _, logits) = self.heads(samples);
        Tensor::cat(vec![softmax(logits, 1), mu], 1)
    }

    fn decode(&self, codes: Tensor<2>) -> Tensor<2> {
        self.net.decode(codes)
    }

    fn content_dim(&self) -> usize {
        self.classes
    }

    fn class_content(&self, class: usize) -> Option<Vec<f32>> {
        let mut one_hot = vec![0.0; self.classes];
        *one_hot.get_mut(class)? = 1.0;
        Some(one_hot)
    }

    fn term_names(&self) -> Vec<String> {
        ["reconstruction", "KL", "classification"]
            .map(String::from)
            .to_vec()
    }

    fn loss(&self, batch: Batch, params: &LossParams) -> LossTerms {
        let (mu, logvar, logits) = self.heads(batch.input);
        let z = sample_code(mu.clone(), logvar.clone());
        // Without labels (the trainer always has them) the head's own guess conditions.
        let classes = batch
            .classes
            .unwrap_or_else(|| softmax(logits.clone(), 1).detach());
        let shape = self.sample_shape();
        let out = self.net.decode(Tensor::cat(vec![classes.clone(), z], 1));
        // Per sample: summed over values, as for the VAE.
        let recon = reconstruction_loss(out, batch.target, params.recon, shape.value_range())
            .mul_scalar(shape.len() as f32);
        let kl = gaussian_kl(mu, logvar);
        let ce = cross_entropy(logits, classes);
        LossTerms {
            total: recon.clone()
                + kl.clone().mul_scalar(params.beta)
                + ce.clone().mul_scalar(LABEL_WEIGHT),
            terms: vec![recon, kl, ce],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DenseNet;
    use crate::model::tests_support::check_kind;
    use crate::settings::ModelKind;

    #[test]
    fn cvae_shapes_gradients_and_learning() {
        let config = ModelConfig {
            hidden: vec![32],
            latent: 3,
            classes: 2,
            ..ModelKind::Cvae.default_model()
        };
        check_kind::<CvaeAe<DenseNet>>(&config);
    }

    #[test]
    fn it_refuses_unlabelled_data_and_its_class_content_is_one_hot() {
        let mut config = ModelConfig {
            hidden: vec![8],
            latent: 2,
            ..ModelKind::Cvae.default_model()
        };
        let shape = SampleShape::Image(crate::data::ImageShape {
            channels: 1,
            height: 4,
            width: 4,
        });
        let err = CvaeAe::<DenseNet>::check(&config, shape).unwrap_err();
        assert!(err.to_string().contains("learns from the labels"), "{err}");
        assert_eq!(err.field(), crate::settings::Field::Dataset);
        config.classes = 3;
        assert!(CvaeAe::<DenseNet>::check(&config, shape).is_ok());
        let m = CvaeAe::<DenseNet>::init(&config, shape, &Device::flex());
        assert_eq!((m.latent_dim(), m.content_dim()), (5, 3));
        assert_eq!(m.class_content(1), Some(vec![0.0, 1.0, 0.0]));
        assert_eq!(m.class_content(3), None);
    }
}
