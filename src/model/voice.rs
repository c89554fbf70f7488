//! The voice model, in the spirit of AdaIN-VC (Chou, Yeh and Lee 2019), sized to train in
//! minutes on two CPU cores. Samples are log-mel spectrograms `[bands, frames]`.
//!
//! - The content encoder (1-D convolutions over time, halving it once) normalises every channel
//!   of every utterance over time (instance normalisation, no learnt scale): a voice's
//!   time-invariant colouring, where most of the speaker lives, is removed at each layer.
//! - The speaker encoder (1-D convolutions, then the mean over time) gives one vector per
//!   utterance.
//! - The decoder upsamples the content and re-applies the speaker through adaptive instance
//!   normalisation: each layer's channels are normalised, then scaled and shifted by values
//!   computed from the speaker vector.
//!
//! Every statistic over time (the norms, the speaker's mean) is taken over the frames where
//! the utterance sounds, never over the silence that pads a short one to the sample's length.
//! Taken over the whole sample, the same voice's colouring came out louder from a short source
//! and quieter from a long one (kal16 speaks for 0.28 s on average, rms for 0.45 s), and
//! conversions were named as their target voice for 73–79 % of them; over the sounding frames,
//! 88–91 % (three seeds, `bench/results/issue13/README.md`). The content code carries the
//! sounding mask as its last channel, so a conversion sounds exactly as long as its source and
//! is silent after.
//!
//! The code the rest of the app sees is `[speaker | content]`: the speaker part first, because
//! the data is labelled by voice and the label's part is the one a swap replaces
//! ([`Autoencoder::content_dim`]). Converting an utterance to another voice is decoding its
//! content with that voice's speaker vector. The loss is the reconstruction alone (MSE on
//! normalised log-mels, the trait's default); AutoVC's one-hot speaker bottleneck was the
//! alternative, but it cannot take a voice it never heard, and one-shot conversion is the
//! point.

use burn::module::Module;
use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig1d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use super::Autoencoder;
use crate::data::SampleShape;
use crate::settings::{Field, ModelConfig, unusable};

/// Channels of the content code, per (halved) frame: a tight bottleneck, so that little room
/// is left for the voice. Conversions the voice judge names as the target voice, after 100
/// epochs: 8 channels, 63 %; 4, 69 %; 4 with the global-variance post-filter, 73 %; 2 with it
/// and a 32-D speaker code, 77 %. Coarser content in time (a quarter of the frames instead of
/// half, as AutoVC downsamples) measured worse: 72 % after 200 epochs against 79 %; so did a
/// speaker adversary on the content code behind gradient reversal (72 % at weight 0.02; at 0.2
/// the content code told the voice less, 30 % against 39 %, but conversions kept 57 % of the
/// words and reached 71 % of the target voices). (Figures from before the statistics were
/// taken over the sounding frames only.)
pub const CONTENT_CHANNELS: usize = 2;
/// Channels of the content code as the decoder reads it: the content channels and the mask of
/// the frames where the utterance sounds.
pub const CODE_CHANNELS: usize = CONTENT_CHANNELS + 1;
const KERNEL: usize = 5;

fn conv(i: usize, o: usize, stride: usize, device: &Device) -> Conv1d {
    Conv1dConfig::new(i, o, KERNEL)
        .with_stride(stride)
        .with_padding(PaddingConfig1d::Explicit(KERNEL / 2, KERNEL / 2))
        .init(device)
}

/// Each channel of each sample normalised over its sounding frames (`mask`, `[B, 1, T]`, 1
/// where the utterance sounds): `[B, C, T]`. Statistics over the silence that pads a short
/// utterance would mix how long it is with how it sounds.
fn instance_norm(x: Tensor<3>, mask: &Tensor<3>) -> Tensor<3> {
    let sounding = mask.clone().sum_dim(2);
    // A silent sample has no statistics: it is left unscaled rather than blown up by the ε.
    let silent = sounding.clone().equal_elem(0.0).float();
    let n = sounding.clamp_min(1.0);
    let mean = (x.clone() * mask.clone()).sum_dim(2) / n.clone();
    let centred = x - mean;
    let var = (centred.clone().square() * mask.clone()).sum_dim(2) / n + silent;
    centred / var.add_scalar(1e-5).sqrt()
}

/// `[B, 1, frames]`: 1 for the first `sounding` frames of each sample (`[B, 1, 1]`), 0 after.
fn prefix_mask(sounding: Tensor<3>, frames: usize) -> Tensor<3> {
    let device = sounding.device();
    let index = Tensor::<1, burn::tensor::Int>::arange(0..frames as i64, &device)
        .float()
        .reshape([1, 1, frames]);
    (sounding - index).greater_elem(0.0).float()
}

/// How many frames each spectrogram `[B, bands, T]` sounds for, `[B, 1, 1]`: up to its last
/// frame with a band above the silence that pads it (as `data::audio::sounding_frames` reads
/// a stored one), 0 for a silent one, which then decodes to silence.
fn sounding_length(x: Tensor<3>) -> Tensor<3> {
    use crate::data::audio::{SOUNDING_ABOVE_SILENCE, silence};
    let [_, _, frames] = x.dims();
    let device = x.device();
    let loud = x
        .max_dim(1)
        .greater_elem(silence() + SOUNDING_ABOVE_SILENCE)
        .float();
    let position = Tensor::<1, burn::tensor::Int>::arange(1..frames as i64 + 1, &device)
        .float()
        .reshape([1, 1, frames]);
    (loud * position).max_dim(2)
}

#[derive(Module, Debug)]
pub struct VoiceAe {
    content: Vec<Conv1d>,
    speaker: Vec<Conv1d>,
    speaker_out: Linear,
    decoder: Vec<Conv1d>,
    /// Per decoder layer but the last: speaker → (scale, shift) of each channel.
    adain: Vec<Linear>,
    #[module(skip)]
    shape: SampleShape,
    #[module(skip)]
    bands: usize,
    #[module(skip)]
    frames: usize,
    #[module(skip)]
    speaker_dim: usize,
}

impl VoiceAe {
    fn content_frames(&self) -> usize {
        self.frames.div_ceil(2)
    }

    fn spectrograms(&self, samples: Tensor<2>) -> Tensor<3> {
        let [batch, _] = samples.dims();
        samples.reshape([batch, self.bands, self.frames])
    }

    /// Whether samples are spectrograms, padded with silence where the sound ends; series
    /// (which the model also takes) sound throughout, whatever their values.
    fn padded_with_silence(&self) -> bool {
        self.shape.spectrogram().is_some()
    }

    /// [`sounding_length`] where samples are padded with silence, else all their frames.
    fn sounding_length(&self, x: Tensor<3>) -> Tensor<3> {
        if self.padded_with_silence() {
            return sounding_length(x);
        }
        let [batch, _, frames] = x.dims();
        Tensor::full([batch, 1, 1], frames as f32, &x.device())
    }

    /// `[B, CODE_CHANNELS, frames / 2]`: the learnt content channels, zero where the utterance
    /// is silent, and last the sounding mask itself (1 while it sounds, 0 after), which tells
    /// the decoder where to draw.
    fn content_code(&self, x: Tensor<3>) -> Tensor<3> {
        let sounding = self.sounding_length(x.clone());
        let mut mask = prefix_mask(sounding.clone(), self.frames);
        let mut h = x;
        for (i, layer) in self.content.iter().enumerate() {
            h = layer.forward(h);
            let [_, _, frames] = h.dims();
            if frames != self.frames {
                // Halved in time: a pair of frames sounds when its first does.
                mask = prefix_mask((sounding.clone() / 2.0).ceil(), frames);
            }
            h = instance_norm(h, &mask);
            if i + 1 < self.content.len() {
                h = relu(h);
            }
        }
        Tensor::cat(vec![h * mask.clone(), mask], 1)
    }

    /// `[B, speaker]`: the mean over the sounding frames.
    fn speaker_code(&self, x: Tensor<3>) -> Tensor<2> {
        let mask = prefix_mask(self.sounding_length(x.clone()), self.frames);
        let mut h = x;
        for layer in &self.speaker {
            h = relu(layer.forward(h));
        }
        let [batch, channels, _] = h.dims();
        let pooled = (h * mask.clone()).sum_dim(2) / mask.sum_dim(2).clamp_min(1.0);
        self.speaker_out.forward(pooled.reshape([batch, channels]))
    }

    fn decode_parts(&self, content: Tensor<3>, speaker: Tensor<2>) -> Tensor<2> {
        let [batch, channels, half] = content.dims();
        let mut h = content
            .reshape([batch, channels, half, 1])
            .repeat_dim(3, 2)
            .reshape([batch, channels, 2 * half])
            .narrow(2, 0, self.frames);
        // The code's last channel says where the utterance sounds; a code from a slider or a
        // blend sounds where it is above one half. Series sound throughout.
        let mask = if self.padded_with_silence() {
            h.clone()
                .narrow(1, channels - 1, 1)
                .greater_elem(0.5)
                .float()
        } else {
            Tensor::ones([batch, 1, self.frames], &h.device())
        };
        for (i, layer) in self.decoder.iter().enumerate() {
            h = layer.forward(h);
            if let Some(adain) = self.adain.get(i) {
                let [_, width, _] = h.dims();
                let style = adain.forward(speaker.clone());
                let scale = style.clone().narrow(1, 0, width).reshape([batch, width, 1]);
                let shift = style.narrow(1, width, width).reshape([batch, width, 1]);
                h = relu(instance_norm(h, &mask) * scale.add_scalar(1.0) + shift);
            }
        }
        // Where the utterance is silent the output is the silence the data is padded with.
        let silence = (mask.clone().neg().add_scalar(1.0)) * crate::data::audio::silence();
        (h * mask + silence).reshape([batch, self.bands * self.frames])
    }
}

impl Autoencoder for VoiceAe {
    fn init(config: &ModelConfig, shape: SampleShape, device: &Device) -> Self {
        let series = shape.series().unwrap_or(crate::data::SeriesShape {
            channels: 1,
            steps: shape.len(),
        });
        let (bands, frames) = (series.channels, series.steps);
        let width = config.hidden.first().copied().unwrap_or(128);
        let speaker_dim = config.latent;
        Self {
            content: vec![
                conv(bands, width, 1, device),
                conv(width, width, 2, device),
                conv(width, CONTENT_CHANNELS, 1, device),
            ],
            speaker: vec![conv(bands, width, 1, device), conv(width, width, 1, device)],
            speaker_out: LinearConfig::new(width, speaker_dim).init(device),
            decoder: vec![
                conv(CODE_CHANNELS, width, 1, device),
                conv(width, width, 1, device),
                conv(width, bands, 1, device),
            ],
            adain: vec![
                LinearConfig::new(speaker_dim, 2 * width).init(device),
                LinearConfig::new(speaker_dim, 2 * width).init(device),
            ],
            shape,
            bands,
            frames,
            speaker_dim,
        }
    }

    fn check(
        _config: &ModelConfig,
        shape: SampleShape,
    ) -> Result<(), crate::settings::SettingsError> {
        match shape.series() {
            Some(s) if s.steps >= 2 => Ok(()),
            _ => Err(unusable(
                Field::Dataset,
                format!(
                    "the voice model takes spectrograms or series; these samples are {}",
                    shape.modality()
                ),
            )),
        }
    }

    fn latent_dim(&self) -> usize {
        self.speaker_dim + CODE_CHANNELS * self.content_frames()
    }

    fn sample_shape(&self) -> SampleShape {
        self.shape
    }

    fn encode(&self, samples: Tensor<2>) -> Tensor<2> {
        let x = self.spectrograms(samples);
        let [batch, _, _] = x.dims();
        let speaker = self.speaker_code(x.clone());
        let content = self.content_code(x);
        let content_len = CODE_CHANNELS * self.content_frames();
        Tensor::cat(vec![speaker, content.reshape([batch, content_len])], 1)
    }

    fn decode(&self, codes: Tensor<2>) -> Tensor<2> {
        let [batch, _] = codes.dims();
        let speaker = codes.clone().narrow(1, 0, self.speaker_dim);
        let content = codes
            .narrow(1, self.speaker_dim, CODE_CHANNELS * self.content_frames())
            .reshape([batch, CODE_CHANNELS, self.content_frames()]);
        self.decode_parts(content, speaker)
    }

    fn content_dim(&self) -> usize {
        self.speaker_dim
    }

    fn part_names(&self) -> [&'static str; 2] {
        ["speaker", "content"]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests_support::check_kind_on;
    use crate::model::{samples_tensor, to_vec};
    use crate::settings::ModelKind;

    #[test]
    fn voice_shapes_gradients_and_learning() {
        let config = ModelConfig {
            hidden: vec![16],
            latent: 4,
            ..ModelKind::Voice.default_model()
        };
        let shape = SampleShape::Spectrogram(crate::data::SpectrogramShape {
            bands: 6,
            frames: 10,
        });
        check_kind_on::<VoiceAe>(&config, shape);
    }

    /// Statistics come from the sounding frames alone: the normalised prefix is what
    /// normalising the prefix on its own gives, whatever the frames after it hold.
    #[test]
    fn instance_norm_reads_only_the_sounding_frames() {
        let device = Device::flex();
        let prefix: Vec<f32> = (0..6).map(|i| (i as f32 * 0.7).sin() * 3.0 + 1.0).collect();
        let mut padded = prefix.clone();
        padded.extend([-2.0, 50.0, -7.0, 0.0]);
        let x = Tensor::<1>::from_floats(padded.as_slice(), &device).reshape([1, 1, 10]);
        let six = Tensor::<1>::from_floats([6.0], &device).reshape([1, 1, 1]);
        let mask = prefix_mask(six, 10);
        assert_eq!(
            to_vec(mask.clone().reshape([10])),
            [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]
        );
        let got = to_vec(instance_norm(x, &mask).reshape([10]));
        let alone = Tensor::<1>::from_floats(prefix.as_slice(), &device).reshape([1, 1, 6]);
        let want = to_vec(instance_norm(alone, &Tensor::ones([1, 1, 6], &device)).reshape([6]));
        for (g, w) in got[..6].iter().zip(&want) {
            assert!((g - w).abs() < 1e-5, "{got:?} against {want:?}");
        }
    }

    /// An utterance that sounds for its first 7 of 10 frames: the code's last channel marks the
    /// first 4 of its 5 halved frames, the content channels are zero after them, and the
    /// decoder draws exactly the padding's silence after the 8 frames those 4 cover.
    #[test]
    fn the_code_carries_where_the_utterance_sounds_and_silence_is_drawn_after() {
        let device = Device::flex();
        let (bands, frames) = (6, 10);
        let shape = SampleShape::Spectrogram(crate::data::SpectrogramShape { bands, frames });
        let config = ModelConfig {
            hidden: vec![16],
            latent: 4,
            ..ModelKind::Voice.default_model()
        };
        let model = VoiceAe::init(&config, shape, &device);
        let silence = crate::data::audio::silence();
        let values: Vec<f32> = (0..bands * frames)
            .map(|i| {
                let (b, f) = (i / frames, i % frames);
                if f < 7 { (b + f) as f32 * 0.1 } else { silence }
            })
            .collect();
        let code = to_vec(model.encode(samples_tensor(values, shape, &device)));
        let content = &code[config.latent..];
        assert_eq!(content.len(), CODE_CHANNELS * 5);
        assert_eq!(&content[CONTENT_CHANNELS * 5..], [1.0, 1.0, 1.0, 1.0, 0.0]);
        for c in 0..CONTENT_CHANNELS {
            assert_eq!(content[c * 5 + 4], 0.0, "channel {c}");
        }
        let code = Tensor::<1>::from_floats(code.as_slice(), &device).reshape([1, code.len()]);
        let drawn = to_vec(model.decode(code));
        for b in 0..bands {
            assert_eq!(&drawn[b * frames + 8..(b + 1) * frames], [silence, silence]);
            assert!(
                drawn[b * frames..b * frames + 8]
                    .iter()
                    .all(|v| v.is_finite())
            );
        }
        // A silent spectrogram (a pause in a long recording) has no sounding frame and stays
        // silent.
        let quiet = vec![silence; bands * frames];
        let code = to_vec(model.encode(samples_tensor(quiet, shape, &device)));
        assert!(code[config.latent..].iter().all(|&v| v == 0.0));
        assert!(
            code.iter().all(|v| v.is_finite() && v.abs() < 1e3),
            "{code:?}"
        );
        let code = Tensor::<1>::from_floats(code.as_slice(), &device).reshape([1, code.len()]);
        assert!(to_vec(model.decode(code)).iter().all(|&v| v == silence));
        // Series have no silence: one that ends far below it still sounds throughout.
        let series = SampleShape::Series(crate::data::SeriesShape {
            channels: bands,
            steps: frames,
        });
        let model = VoiceAe::init(&config, series, &device);
        let falling: Vec<f32> = (0..bands * frames)
            .map(|i| if i % frames < 4 { 0.0 } else { silence - 3.0 })
            .collect();
        let code = to_vec(model.encode(samples_tensor(falling, series, &device)));
        assert_eq!(&code[config.latent + CONTENT_CHANNELS * 5..], [1.0; 5]);
        // Nor does a code whose mask channel a slider moved down make a series silent.
        let zeros = Tensor::<2>::zeros([1, code.len()], &device);
        assert!(to_vec(model.decode(zeros)).iter().all(|&v| v != silence));
    }
}
