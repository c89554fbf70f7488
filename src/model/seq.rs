//! The sequence-to-sequence network: a recurrent encoder (LSTM or GRU, optionally
//! bidirectional) whose final hidden state maps to the code, and a recurrent decoder that
//! starts from the code (its initial hidden state) and reads it again at every step, with a
//! linear read-out per step. As an autoencoder ([`SeqAe`]) its default is the reference
//! `lstm` model: hidden 64, latent 8.
//!
//! The cells are fused: one matrix product per step for all gates on the hidden state (burn's
//! own `Lstm` runs eight). On the Flex CPU device a whole pass is one operation
//! ([`super::rnn`]), with every step's input projected in one product and the decoder's
//! inputs (code projection plus clock) added once for all steps. On other devices the cell
//! runs step by step as tensor operations ([`Recurrent::run`]): there each step's input is
//! projected on its own, because one large product sliced per step was four times slower under
//! autodiff (each slice's gradient is a zero-filled copy of the whole tensor).
//!
//! The decoder's input at each step is the code plus a *clock*: sines and cosines of the step's
//! position. The plain repeat-vector decoder of the reference gets the same input at every
//! step, so it has to learn to count time in its state before it can draw a curve, and it learns
//! sines slowly; with the clock it knows where in the series it is from the first step.
//! Teacher forcing was the other choice; it needs the true previous value, so decoding from a
//! slider would be autoregressive (slow, and drifting), where this decodes a whole curve in one
//! pass.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::{sigmoid, tanh};
use burn::tensor::{Device, Tensor, TensorData};

use super::{Basic, Network, host_f32, rnn};
use crate::data::{SampleShape, SeriesShape};
use crate::settings::{CellKind, Field, ModelConfig, unusable};

/// The sequence autoencoder.
pub type SeqAe = Basic<SeqNet>;

/// Sine/cosine pairs of the decoder's clock.
const CLOCK_PAIRS: usize = 4;

/// The recurrent part of one fused cell: the hidden-to-gates product and the gate arithmetic.
/// The input-to-gates projection is its caller's (so that it can be hoisted).
#[derive(Module, Debug)]
pub struct Recurrent {
    /// `[H] → [G·H]` with bias; gates in the order LSTM `[i, f, o, g]`, GRU `[r, z, n]`.
    hidden: Linear,
    #[module(skip)]
    cell: CellKind,
    #[module(skip)]
    size: usize,
}

/// The state carried between steps: `h`, and `c` for an LSTM. `[batch, H]` each.
#[derive(Clone, Debug)]
pub struct State {
    pub h: Tensor<2>,
    pub c: Option<Tensor<2>>,
}

impl CellKind {
    /// Gates per cell.
    pub fn gates(self) -> usize {
        match self {
            CellKind::Lstm => 4,
            CellKind::Gru => 3,
        }
    }
}

impl Recurrent {
    pub fn new(cell: CellKind, size: usize, device: &Device) -> Self {
        Self {
            hidden: LinearConfig::new(size, cell.gates() * size).init(device),
            cell,
            size,
        }
    }

    /// The input projection this cell expects: `[d_input] → [G·H]` with bias.
    pub fn input_projection(
        cell: CellKind,
        d_input: usize,
        size: usize,
        device: &Device,
    ) -> Linear {
        LinearConfig::new(d_input, cell.gates() * size).init(device)
    }

    /// A zero state for `batch` sequences, `h` replaced by `h0` when given.
    pub fn initial(&self, batch: usize, h0: Option<Tensor<2>>, device: &Device) -> State {
        let zeros = || Tensor::<2>::zeros([batch, self.size], device);
        State {
            h: h0.unwrap_or_else(zeros),
            c: (self.cell == CellKind::Lstm).then(zeros),
        }
    }

    /// One step from the input projection `xp` (`[batch, G·H]`, bias included).
    pub fn step(&self, xp: Tensor<2>, state: State) -> State {
        let h = self.size;
        match self.cell {
            CellKind::Lstm => {
                let gates = xp + self.hidden.forward(state.h);
                // i, f, o are contiguous, so one sigmoid covers them.
                let ifo = sigmoid(gates.clone().narrow(1, 0, 3 * h));
                let candidate = tanh(gates.narrow(1, 3 * h, h));
                let c_prev = state.c.unwrap_or_else(|| candidate.zeros_like());
                let c =
                    ifo.clone().narrow(1, h, h) * c_prev + ifo.clone().narrow(1, 0, h) * candidate;
                State {
                    h: ifo.narrow(1, 2 * h, h) * tanh(c.clone()),
                    c: Some(c),
                }
            }
            CellKind::Gru => {
                // PyTorch's formulation: the reset gate scales the hidden product, bias included.
                let hp = self.hidden.forward(state.h.clone());
                let rz = sigmoid(xp.clone().narrow(1, 0, 2 * h) + hp.clone().narrow(1, 0, 2 * h));
                let r = rz.clone().narrow(1, 0, h);
                let z = rz.narrow(1, h, h);
                let n = tanh(xp.narrow(1, 2 * h, h) + r * hp.narrow(1, 2 * h, h));
                State {
                    h: n.clone() + z * (state.h - n),
                    c: None,
                }
            }
        }
    }

    /// The hidden-to-gates weight `[H, G·H]` (for tests of the fused pass).
    #[cfg(test)]
    pub fn hidden_weight(&self) -> Tensor<2> {
        self.hidden.weight.val()
    }

    #[cfg(test)]
    pub fn hidden_bias(&self) -> Tensor<1> {
        self.hidden.bias.as_ref().expect("cells have a bias").val()
    }

    /// Gates times width: the input projection's size.
    pub fn width(&self) -> usize {
        self.cell.gates() * self.size
    }

    /// The whole pass as one fused operation ([`super::rnn`]; Flex f32 tensors only): input
    /// projections `xp` `[T, B, G·H]` and initial hidden state `h0` `[B, H]` → every step's
    /// hidden state `[T, B, H]`, in time order.
    pub fn run_fused(&self, xp: Tensor<3>, h0: Tensor<2>, reverse: bool) -> Tensor<3> {
        let weight = self.hidden.weight.val();
        let bias = match &self.hidden.bias {
            Some(bias) => bias.val(),
            None => Tensor::zeros([self.width()], &weight.device()),
        };
        rnn::sequence(xp, h0, weight, bias, self.cell, reverse)
    }

    /// Runs `steps` steps on the input projections `xp(t)` (`[batch, G·H]`), forwards or in
    /// reverse; returns each step's hidden state in time order when `keep` and the final state.
    ///
    /// Each step's projection is its own small tensor: slicing one large `[T, batch, G·H]`
    /// tensor per step costs, under autodiff, a zero-filled gradient of the whole tensor per
    /// slice (measured: 0.98 s a step for the reference model, 13× slower than PyTorch).
    pub fn run(
        &self,
        steps: usize,
        xp: impl Fn(usize) -> Tensor<2>,
        state: State,
        reverse: bool,
        keep: bool,
    ) -> (Vec<Tensor<2>>, State) {
        let mut state = state;
        let mut outputs = Vec::with_capacity(if keep { steps } else { 0 });
        for i in 0..steps {
            let t = if reverse { steps - 1 - i } else { i };
            state = self.step(xp(t), state);
            if keep {
                outputs.push(state.h.clone());
            }
        }
        if reverse {
            outputs.reverse();
        }
        (outputs, state)
    }
}

#[derive(Module, Debug)]
pub struct SeqNet {
    encoder_in: Linear,
    encoder: Recurrent,
    /// The reverse direction of a bidirectional encoder.
    backward_in: Option<Linear>,
    backward: Option<Recurrent>,
    /// Final hidden state(s) → code.
    to_code: Linear,
    /// Code → the decoder's initial hidden state.
    from_code: Linear,
    /// Code → the decoder's input projection (the repeat vector, projected once).
    decoder_code: Linear,
    /// Clock → the decoder's input projection, without bias.
    decoder_clock: Linear,
    decoder: Recurrent,
    /// Hidden state → one value per channel, at every step.
    readout: Linear,
    #[module(skip)]
    shape: SeriesShape,
}

/// The decoder's clock for `steps` steps: `[steps, 2·CLOCK_PAIRS]`, sines and cosines of
/// `π·k·t/(steps−1)` for k = 1..=CLOCK_PAIRS.
fn clock(steps: usize, device: &Device) -> Tensor<2> {
    let span = (steps.max(2) - 1) as f32;
    let values: Vec<f32> = (0..steps)
        .flat_map(|t| {
            (1..=CLOCK_PAIRS).flat_map(move |k| {
                let a = std::f32::consts::PI * k as f32 * t as f32 / span;
                [a.sin(), a.cos()]
            })
        })
        .collect();
    Tensor::from_data(TensorData::new(values, [steps, 2 * CLOCK_PAIRS]), device)
}

impl Network for SeqNet {
    fn check(
        config: &ModelConfig,
        shape: SampleShape,
    ) -> Result<(), crate::settings::SettingsError> {
        let Some(s) = shape.series() else {
            return Err(unusable(
                Field::Network,
                format!(
                    "the sequence model takes series; these samples are {}s",
                    shape.modality()
                ),
            ));
        };
        if s.steps < 2 {
            return Err(unusable(
                Field::Dataset,
                format!(
                    "the sequence model needs at least 2 steps; these have {}",
                    s.steps
                ),
            ));
        }
        if config.hidden.len() != 1 {
            return Err(unusable(
                Field::HiddenWidths,
                format!(
                    "the sequence model takes one hidden size (the cells' width); got {}",
                    config.hidden.len()
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
        // `check` refused other shapes; a one-channel series of the values stands in otherwise.
        let shape = shape.series().unwrap_or(SeriesShape {
            channels: 1,
            steps: shape.len(),
        });
        let cell = config.cell;
        let h = config.hidden.first().copied().unwrap_or(64);
        let directions = if config.bidirectional { 2 } else { 1 };
        let gates = cell.gates() * h;
        Self {
            encoder_in: Recurrent::input_projection(cell, shape.channels, h, device),
            encoder: Recurrent::new(cell, h, device),
            backward_in: config
                .bidirectional
                .then(|| Recurrent::input_projection(cell, shape.channels, h, device)),
            backward: config
                .bidirectional
                .then(|| Recurrent::new(cell, h, device)),
            to_code: LinearConfig::new(directions * h, code_out).init(device),
            from_code: LinearConfig::new(code_in, h).init(device),
            decoder_code: LinearConfig::new(code_in, gates).init(device),
            decoder_clock: LinearConfig::new(2 * CLOCK_PAIRS, gates)
                .with_bias(false)
                .init(device),
            decoder: Recurrent::new(cell, h, device),
            readout: LinearConfig::new(h, shape.channels).init(device),
            shape,
        }
    }

    fn sample_shape(&self) -> SampleShape {
        self.shape.into()
    }

    fn encode(&self, samples: Tensor<2>) -> Tensor<2> {
        let [batch, _] = samples.dims();
        let SeriesShape { channels, steps } = self.shape;
        let device = samples.device();
        // [B, C·T] (channel-major) → [B, C, T].
        let x = samples.reshape([batch, channels, steps]);
        // Fused: every step's input at once, time-major `[T·B, C]`, projected in one product.
        // Step by step: one `[B, C]` tensor per step, projected on its own.
        let fused = host_f32(&x);
        let x_all = fused.then(|| {
            x.clone()
                .permute([2, 0, 1])
                .reshape([steps * batch, channels])
        });
        let x_at: Vec<Tensor<2>> = if fused {
            Vec::new()
        } else {
            (0..steps)
                .map(|t| x.clone().narrow(2, t, 1).reshape([batch, channels]))
                .collect()
        };
        let final_state = |input: &Linear, cell: &Recurrent, reverse: bool| -> Tensor<2> {
            match &x_all {
                Some(x_all) => {
                    let xp = input
                        .forward(x_all.clone())
                        .reshape([steps, batch, cell.width()]);
                    let h0 = Tensor::zeros([batch, cell.size], &device);
                    let last = if reverse { 0 } else { steps - 1 };
                    cell.run_fused(xp, h0, reverse)
                        .narrow(0, last, 1)
                        .reshape([batch, cell.size])
                }
                None => {
                    let xp = |t: usize| input.forward(x_at[t].clone());
                    let init = cell.initial(batch, None, &device);
                    cell.run(steps, xp, init, reverse, false).1.h
                }
            }
        };
        let mut finals = vec![final_state(&self.encoder_in, &self.encoder, false)];
        if let (Some(input), Some(back)) = (&self.backward_in, &self.backward) {
            finals.push(final_state(input, back, true));
        }
        self.to_code.forward(Tensor::cat(finals, 1))
    }

    fn decode(&self, codes: Tensor<2>) -> Tensor<2> {
        let [batch, _] = codes.dims();
        let SeriesShape { channels, steps } = self.shape;
        let device = codes.device();
        let fused = host_f32(&codes);
        let h0 = self.from_code.forward(codes.clone());
        // The code's projection once, the clock's once; each step adds its clock row.
        let code_part = self.decoder_code.forward(codes);
        let clock_part = self.decoder_clock.forward(clock(steps, &device));
        let gates = clock_part.dims()[1];
        let hidden = if fused {
            let xp = code_part.reshape([1, batch, gates]) + clock_part.reshape([steps, 1, gates]);
            self.decoder.run_fused(xp, h0, false)
        } else {
            let clock_at: Vec<Tensor<2>> = (0..steps)
                .map(|t| clock_part.clone().narrow(0, t, 1).reshape([1, gates]))
                .collect();
            let xp = |t: usize| code_part.clone() + clock_at[t].clone();
            let init = self.decoder.initial(batch, Some(h0), &device);
            let (hs, _) = self.decoder.run(steps, xp, init, false, true);
            Tensor::stack::<3>(hs, 0)
        }; // [T, B, H]
        let h = self.decoder.size;
        let out = self
            .readout
            .forward(hidden.reshape([steps * batch, h]))
            .reshape([steps, batch, channels]);
        // Back to [B, C·T], channel-major.
        out.permute([1, 2, 0]).reshape([batch, channels * steps])
    }
}

#[cfg(test)]
mod tests {
    use burn::module::Param;
    use burn::nn::{LstmConfig, LstmState};

    use super::*;
    use crate::model::tests_support::check_kind_on;
    use crate::model::{Autoencoder, to_vec};
    use crate::settings::{BaseNet, ModelKind};

    fn config(cell: CellKind, bidirectional: bool) -> ModelConfig {
        ModelConfig {
            hidden: vec![16],
            latent: 4,
            cell,
            bidirectional,
            ..ModelKind::Seq.default_model()
        }
    }

    #[test]
    fn lstm_gru_and_bidirectional_have_shapes_gradients_and_learn() {
        let shape = SeriesShape {
            channels: 1,
            steps: 24,
        };
        for (cell, bi) in [
            (CellKind::Lstm, false),
            (CellKind::Gru, false),
            (CellKind::Lstm, true),
            (CellKind::Gru, true),
        ] {
            check_kind_on::<SeqAe>(&config(cell, bi), shape.into());
        }
        // Two channels come back as two channels, channel-major.
        let two = SeriesShape {
            channels: 2,
            steps: 10,
        };
        let device = Device::flex();
        let m = SeqAe::init(&config(CellKind::Gru, true), two.into(), &device);
        let x = Tensor::<2>::ones([3, 20], &device);
        assert_eq!(m.encode(x.clone()).dims(), [3, 4]);
        assert_eq!(m.decode(m.encode(x)).dims(), [3, 20]);
    }

    #[test]
    fn the_sequence_model_refuses_images_and_odd_sizes() {
        let image = crate::data::ImageShape {
            channels: 1,
            height: 8,
            width: 8,
        };
        let c = config(CellKind::Lstm, false);
        let e = SeqAe::check(&c, image.into()).unwrap_err();
        assert!(e.to_string().contains("series"), "{e}");
        assert_eq!(e.field(), crate::settings::Field::Network);
        let two_widths = ModelConfig {
            hidden: vec![8, 8],
            ..c
        };
        let series = SeriesShape {
            channels: 1,
            steps: 8,
        };
        assert!(SeqAe::check(&two_widths, series.into()).is_err());
        // The sequence base serves the other kinds too.
        let vae = ModelKind::Vae.model_on(BaseNet::Seq);
        assert_eq!(vae.base, BaseNet::Seq);
    }

    /// burn's `Lstm` with our fused cell's weights, gate by gate.
    #[test]
    fn the_fused_lstm_cell_matches_burns_lstm() {
        let device = Device::flex();
        let (d_in, h, batch, steps) = (3, 5, 4, 7);
        let lstm = LstmConfig::new(d_in, h, true)
            .with_batch_first(true)
            .init(&device);
        // Our gate order is [i, f, o, g].
        let gates = [
            &lstm.input_gate,
            lstm.forget_gate.as_ref().expect("a forget gate"),
            &lstm.output_gate,
            &lstm.cell_gate,
        ];
        let fuse = |pick: &dyn Fn(&burn::nn::GateController) -> &Linear| -> Linear {
            let weight = Tensor::cat(gates.iter().map(|g| pick(g).weight.val()).collect(), 1);
            let bias = Tensor::cat(
                gates
                    .iter()
                    .map(|g| pick(g).bias.as_ref().expect("a bias").val())
                    .collect(),
                0,
            );
            Linear {
                weight: Param::from_tensor(weight),
                bias: Some(Param::from_tensor(bias)),
            }
        };
        let input = fuse(&|g| &g.input_transform);
        let cell = Recurrent {
            hidden: fuse(&|g| &g.hidden_transform),
            cell: CellKind::Lstm,
            size: h,
        };

        let x = Tensor::<3>::random(
            [batch, steps, d_in],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            &device,
        );
        let h0 = Tensor::<2>::random([batch, h], burn::tensor::Distribution::Default, &device);
        let c0 = Tensor::<2>::random([batch, h], burn::tensor::Distribution::Default, &device);
        let (theirs, state) = lstm.forward(x.clone(), Some(LstmState::new(c0.clone(), h0.clone())));

        let xp = |t: usize| input.forward(x.clone().narrow(1, t, 1).reshape([batch, d_in]));
        let (ours, last) = cell.run(steps, xp, State { h: h0, c: Some(c0) }, false, true);
        let ours = Tensor::stack::<3>(ours, 1);
        let max_diff = |a: Tensor<3>, b: Tensor<3>| to_vec((a - b).abs().max())[0];
        assert!(max_diff(ours, theirs) < 1e-5);
        let last_c = last.c.expect("an LSTM keeps its cell state");
        assert!(to_vec((last_c - state.cell).abs().max())[0] < 1e-5);
        assert!(to_vec((last.h - state.hidden).abs().max())[0] < 1e-5);
    }
}
