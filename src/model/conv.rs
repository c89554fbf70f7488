//! The convolutional network: stride-2 3×3 convolutions with ReLU, a linear code, and mirrored
//! transposed convolutions back to logits. As an autoencoder ([`ConvAe`]) its default is the
//! reference model (1→32→64 channels, 28→14→7, 3136→16). Any channel count; image sides
//! divisible by 2^layers.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use super::{Basic, Network};
use crate::data::{ImageShape, SampleShape};
use crate::settings::{Field, ModelConfig, unusable};

/// The convolutional autoencoder.
pub type ConvAe = Basic<ConvNet>;

#[derive(Module, Debug)]
pub struct ConvNet {
    down: Vec<Conv2d>,
    to_latent: Linear,
    from_latent: Linear,
    up: Vec<ConvTranspose2d>,
    #[module(skip)]
    shape: ImageShape,
    /// `[channels, height, width]` of the innermost feature map.
    #[module(skip)]
    inner: [usize; 3],
}

/// Layers beyond this would need images more than 65 536 pixels on a side.
const MAX_LAYERS: usize = 16;

/// How much `layers` stride-2 layers shrink each side; `None` beyond [`MAX_LAYERS`].
fn reduction(layers: usize) -> Option<usize> {
    (layers <= MAX_LAYERS).then(|| 1usize << layers)
}

impl Network for ConvNet {
    fn check(
        config: &ModelConfig,
        shape: SampleShape,
    ) -> Result<(), crate::settings::SettingsError> {
        let Some(shape) = shape.image() else {
            return Err(unusable(
                Field::Network,
                format!(
                    "the convolutional model takes images; these samples are {}",
                    shape.modality()
                ),
            ));
        };
        let layers = config.hidden.len();
        if layers == 0 {
            return Err(unusable(
                Field::HiddenWidths,
                "the convolutional model needs at least one channel width",
            ));
        }
        let Some(f) = reduction(layers) else {
            return Err(unusable(
                Field::HiddenWidths,
                format!(
                    "the convolutional model takes at most {MAX_LAYERS} layers (each halves the image); {layers} were given"
                ),
            ));
        };
        if !shape.height.is_multiple_of(f) || !shape.width.is_multiple_of(f) {
            return Err(unusable(
                Field::HiddenWidths,
                format!(
                    "the convolutional model with {layers} layers needs image sides divisible by {f}; these images are {}x{}",
                    shape.height, shape.width
                ),
            ));
        }
        Ok(())
    }

    fn build(
        config: &ModelConfig,
        shape: SampleShape,
        code_out: usize,
        code_in: usize,
        device: &Device,
    ) -> Self {
        // `check` refused non-images; a 1-pixel-high image of the values stands in otherwise.
        let shape = shape.image().unwrap_or(ImageShape {
            channels: 1,
            height: 1,
            width: shape.len(),
        });
        // `check` bounded the layers; more would have no image left to halve.
        let f = reduction(config.hidden.len()).unwrap_or(1 << MAX_LAYERS);
        let mut channels = vec![shape.channels];
        channels.extend(&config.hidden);
        let down = channels
            .windows(2)
            .map(|c| {
                Conv2dConfig::new([c[0], c[1]], [3, 3])
                    .with_stride([2, 2])
                    .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                    .init(device)
            })
            .collect();
        let up = channels
            .windows(2)
            .rev()
            .map(|c| {
                ConvTranspose2dConfig::new([c[1], c[0]], [3, 3])
                    .with_stride([2, 2])
                    .with_padding([1, 1])
                    .with_padding_out([1, 1])
                    .init(device)
            })
            .collect();
        let inner = [
            *channels.last().unwrap_or(&shape.channels),
            shape.height / f,
            shape.width / f,
        ];
        let flat = inner[0] * inner[1] * inner[2];
        Self {
            down,
            to_latent: LinearConfig::new(flat, code_out).init(device),
            from_latent: LinearConfig::new(code_in, flat).init(device),
            up,
            shape,
            inner,
        }
    }

    fn sample_shape(&self) -> SampleShape {
        self.shape.into()
    }

    fn encode(&self, samples: Tensor<2>) -> Tensor<2> {
        let batch = samples.dims()[0];
        let s = self.shape;
        let mut x = samples.reshape([batch, s.channels, s.height, s.width]);
        for conv in &self.down {
            x = relu(conv.forward(x));
        }
        let [c, h, w] = self.inner;
        self.to_latent.forward(x.reshape([batch, c * h * w]))
    }

    fn decode(&self, codes: Tensor<2>) -> Tensor<2> {
        let batch = codes.dims()[0];
        let [c, h, w] = self.inner;
        let mut x = relu(self.from_latent.forward(codes)).reshape([batch, c, h, w]);
        for (i, deconv) in self.up.iter().enumerate() {
            x = deconv.forward(x);
            if i + 1 < self.up.len() {
                x = relu(x);
            }
        }
        x.reshape([batch, self.shape.pixels()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Autoencoder;
    use crate::model::tests_support::check_kind;

    #[test]
    fn conv_shapes_gradients_and_learning() {
        let config = ModelConfig {
            kind: crate::settings::ModelKind::Conv,
            hidden: vec![4, 8],
            latent: 4,
            ..Default::default()
        };
        check_kind::<ConvAe>(&config);
    }

    #[test]
    fn reference_shapes_and_rgb_and_size_checks() {
        let device = Device::flex();
        let config = crate::settings::ModelKind::Conv.default_model();
        let mnist = SampleShape::Image(crate::data::ImageShape {
            channels: 1,
            height: 28,
            width: 28,
        });
        let m = ConvAe::init(&config, mnist, &device);
        // 32·9+32 + 64·32·9+64 + 3136·16+16 + 16·3136+3136 + 64·32·9+32 + 32·9+1
        let params = 320 + 18_496 + 50_192 + 53_312 + 18_464 + 289;
        assert_eq!(m.num_params(), params);
        let rgb = SampleShape::Image(crate::data::ImageShape {
            channels: 3,
            height: 32,
            width: 20,
        });
        let m = ConvAe::init(&config, rgb, &device);
        let out = m.decode(m.encode(Tensor::zeros([2, 3 * 32 * 20], &device)));
        assert_eq!(out.dims(), [2, 3 * 32 * 20]);
        let odd = SampleShape::Image(crate::data::ImageShape {
            channels: 1,
            height: 30,
            width: 28,
        });
        let e = ConvAe::check(&config, odd).unwrap_err();
        assert!(e.to_string().contains("divisible by 4"), "{e}");
        assert_eq!(e.field(), crate::settings::Field::HiddenWidths);
        // 64 layers would shift 1 by 64 bits (a panic in debug, a wrong size in release).
        let deep = ModelConfig {
            hidden: vec![1; 64],
            ..config
        };
        let e = ConvAe::check(&deep, mnist).unwrap_err().to_string();
        assert!(e.contains("at most 16 layers") && e.contains("64"), "{e}");
    }
}
