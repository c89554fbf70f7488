//! A whole sequence through a recurrent cell as one operation, on the Flex CPU backend.
//!
//! As tensor operations, one LSTM step is about a dozen kernels forward (a product, adds,
//! slices, a sigmoid, tanhs, products) and as many backward, each with its own allocation and
//! autodiff node: thousands of operations per training step of the reference `lstm` model,
//! which trained at 0.59× PyTorch's rate that way. Here a whole sequence is one operation with
//! a hand-written backward pass (backpropagation through time): forward, one gemm per step for
//! the hidden-to-gates product and one pass over the gates; backward, one gemm per step for the
//! hidden state's gradient and one gemm over all steps for the weight's.
//!
//! It is a burn backend extension, [`RecurrentBackend`], implemented for Flex (inference) and
//! for autodiff over Flex (training). Callers check [`super::host_f32`] first: on every other
//! device [`super::seq::Recurrent`] runs the same cell as tensor operations, and the tests
//! below check that the two agree in values and gradients.
//!
//! Layout: `xp` `[T, B, G·H]` is each step's input projection (input bias included), `h0`
//! `[B, H]` the initial hidden state, `weight` `[H, G·H]` and `bias` `[G·H]` the hidden-to-gates
//! product, and the result `[T, B, H]` every step's hidden state in time order (for a reverse
//! pass, step `T−1` is read first). Gates are ordered LSTM `[i, f, o, g]`, GRU `[r, z, n]`, with
//! PyTorch's GRU (the reset gate scales the hidden product, bias included). An LSTM's cell
//! state starts at zero.

use std::ops::Range;
use std::sync::Arc;

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::flex::ops::fast_math::{sigmoid, tanh};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, TensorMetadata, backend_extension};
use burn::tensor::{Tensor, TensorData};
use rayon::prelude::*;

use crate::settings::CellKind;

/// Runs `cell` over a whole sequence; see the module doc for the shapes. Only for f32 tensors
/// on the Flex device ([`super::host_f32`]).
pub fn sequence(
    xp: Tensor<3>,
    h0: Tensor<2>,
    weight: Tensor<2>,
    bias: Tensor<1>,
    cell: CellKind,
    reverse: bool,
) -> Tensor<3> {
    Tensor::from_dispatch(<Dispatch as RecurrentBackend>::recurrent_sequence(
        xp.into_dispatch(),
        h0.into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
        cell == CellKind::Lstm,
        reverse,
    ))
}

/// The extension: one recurrent pass over a sequence. `lstm` picks the cell (else a GRU).
#[backend_extension(Flex, Autodiff)]
pub trait RecurrentBackend: Backend {
    fn recurrent_sequence(
        xp: FloatTensor<Self>,
        h0: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        lstm: bool,
        reverse: bool,
    ) -> FloatTensor<Self>;
}

impl RecurrentBackend for Flex {
    fn recurrent_sequence(
        xp: FlexTensor,
        h0: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
        lstm: bool,
        reverse: bool,
    ) -> FlexTensor {
        let dims = Dims::of(&xp, &h0);
        let saved = forward(
            &host(xp),
            host(h0),
            host(weight),
            &host(bias),
            dims,
            lstm,
            reverse,
        );
        dims.states_tensor(saved.hidden_states())
    }
}

impl<C: CheckpointStrategy> RecurrentBackend for Autodiff<Flex, C> {
    fn recurrent_sequence(
        xp: FloatTensor<Self>,
        h0: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        lstm: bool,
        reverse: bool,
    ) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct Sequence;

        impl Backward<Flex, 4> for Sequence {
            type State = Arc<Saved>;

            fn backward(
                self,
                ops: Ops<Self::State, 4>,
                grads: &mut Gradients,
                _checkpointer: &mut Checkpointer,
            ) {
                let saved = ops.state;
                let d_hs = host(grads.consume::<Flex>(&ops.node));
                let d = saved.dims;
                let [d_xp, d_h0, d_weight, d_bias] = saved.backward(&d_hs);
                let shapes = [
                    vec![d.steps, d.batch, d.gh()],
                    vec![d.batch, d.hidden],
                    vec![d.hidden, d.gh()],
                    vec![d.gh()],
                ];
                let results = [d_xp, d_h0, d_weight, d_bias].into_iter().zip(shapes);
                for (parent, (grad, shape)) in ops.parents.iter().zip(results) {
                    if let Some(node) = parent {
                        let grad = FlexTensor::from_data(TensorData::new(grad, shape));
                        grads.register::<Flex>(node.id, grad);
                    }
                }
            }
        }

        let dims = Dims::of(xp.primitive(), h0.primitive());
        let prep = Sequence
            .prepare::<C>([xp.node(), h0.node(), weight.node(), bias.node()])
            .compute_bound()
            .stateful();
        let saved = forward(
            &host(xp.into_primitive()),
            host(h0.into_primitive()),
            host(weight.into_primitive()),
            &host(bias.into_primitive()),
            dims,
            lstm,
            reverse,
        );
        let hs = dims.states_tensor(saved.hidden_states());
        match prep {
            OpsKind::Tracked(prep) => prep.finish(Arc::new(saved), hs),
            OpsKind::UnTracked(prep) => prep.finish(hs),
        }
    }
}

/// A Flex tensor's values, in row-major order.
fn host(t: FlexTensor) -> Vec<f32> {
    t.into_data()
        .try_into_vec::<f32>()
        .expect("the recurrent extension runs on f32 tensors (callers check host_f32)")
}

/// The sizes of one pass.
#[derive(Clone, Copy, Debug)]
struct Dims {
    steps: usize,
    batch: usize,
    hidden: usize,
    gates: usize,
}

impl Dims {
    fn of(xp: &FlexTensor, h0: &FlexTensor) -> Self {
        let [steps, batch, gh] = xp.shape().dims::<3>();
        let [_, hidden] = h0.shape().dims::<2>();
        Self {
            steps,
            batch,
            hidden,
            gates: gh / hidden.max(1),
        }
    }

    fn gh(self) -> usize {
        self.gates * self.hidden
    }

    /// The time index of the `k`-th step taken.
    fn time(self, k: usize, reverse: bool) -> usize {
        if reverse { self.steps - 1 - k } else { k }
    }

    fn states_tensor(self, hs: Vec<f32>) -> FlexTensor {
        FlexTensor::from_data(TensorData::new(hs, [self.steps, self.batch, self.hidden]))
    }
}

/// What the backward pass needs from the forward pass.
#[derive(Debug)]
struct Saved {
    dims: Dims,
    lstm: bool,
    reverse: bool,
    /// `[H, G·H]`
    weight: Vec<f32>,
    /// The batch in row blocks, each run on its own thread.
    chunks: Vec<Chunk>,
}

/// One block of the batch's rows through the whole sequence. Rows of a batch never interact
/// in a recurrent pass, so blocks run in parallel with no synchronisation between steps (one
/// step's product alone is too small to split).
#[derive(Debug)]
struct Chunk {
    /// The block's rows of the batch.
    rows: Range<usize>,
    /// `[b, H]`, b the block's rows.
    h0: Vec<f32>,
    /// `[T, b, G·H]`: the gates after their nonlinearities (LSTM i, f, o, g; GRU r, z, n).
    gates: Vec<f32>,
    /// `[T, b, H]`: an LSTM's cell state; a GRU's hidden product in the candidate's slot.
    extra: Vec<f32>,
    /// `[T, b, H]`: the hidden states.
    hs: Vec<f32>,
}

/// Rows per block: enough that a step's product stays worth a gemm call.
const MIN_ROWS: usize = 16;

/// `dst` `[m, n]` (row-major) becomes `lhs · rhs`, plus its old value when `accumulate`. The
/// operands are read through strides: `lhs(i, p) = lhs[i·l.0 + p·l.1]`,
/// `rhs(p, j) = rhs[p·r.0 + j·r.1]`.
fn gemm_into(
    dst: &mut [f32],
    (m, n, k): (usize, usize, usize),
    accumulate: bool,
    (lhs, l): (&[f32], (usize, usize)),
    (rhs, r): (&[f32], (usize, usize)),
) {
    if m == 0 || n == 0 {
        return;
    }
    let last = |rows: usize, cols: usize, (rs, cs): (usize, usize)| {
        (rows.max(1) - 1) * rs + (cols.max(1) - 1) * cs
    };
    assert!(dst.len() >= m * n, "gemm: destination too small");
    if k > 0 {
        assert!(last(m, k, l) < lhs.len(), "gemm: left operand too small");
        assert!(last(k, n, r) < rhs.len(), "gemm: right operand too small");
    }
    // SAFETY: the asserts above keep every index that gemm reads or writes inside the slices.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            lhs.as_ptr(),
            l.1 as isize,
            l.0 as isize,
            rhs.as_ptr(),
            r.1 as isize,
            r.0 as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// The slices of a `[T, B, width]` array that hold the rows `rows`, one `[b, width]` slice per
/// step.
fn rows_of<'a>(values: &'a [f32], dims: Dims, width: usize, rows: &Range<usize>) -> Vec<&'a [f32]> {
    values
        .chunks_exact(dims.batch * width)
        .map(|step| &step[rows.start * width..rows.end * width])
        .collect()
}

/// A `[T, B, width]` array cut into each block's rows, mutably: per block, one `[b, width]`
/// slice per step.
fn rows_of_mut<'a>(
    values: &'a mut [f32],
    dims: Dims,
    width: usize,
    blocks: &[Chunk],
) -> Vec<Vec<&'a mut [f32]>> {
    let mut per_block: Vec<Vec<&mut [f32]>> = blocks.iter().map(|_| Vec::new()).collect();
    for step in values.chunks_exact_mut(dims.batch * width) {
        let mut rest = step;
        for (block, slices) in blocks.iter().zip(&mut per_block) {
            let (head, tail) = rest.split_at_mut(block.rows.len() * width);
            slices.push(head);
            rest = tail;
        }
    }
    per_block
}

fn forward(
    xp: &[f32],
    h0: Vec<f32>,
    weight: Vec<f32>,
    bias: &[f32],
    dims: Dims,
    lstm: bool,
    reverse: bool,
) -> Saved {
    let blocks = rayon::current_num_threads()
        .min(dims.batch / MIN_ROWS)
        .max(1);
    let per = dims.batch.div_ceil(blocks).max(1);
    let ranges: Vec<Range<usize>> = (0..dims.batch)
        .step_by(per)
        .map(|start| start..(start + per).min(dims.batch))
        .collect();
    let chunks = ranges
        .into_par_iter()
        .map(|rows| {
            let xp = rows_of(xp, dims, dims.gh(), &rows);
            let h0 = h0[rows.start * dims.hidden..rows.end * dims.hidden].to_vec();
            let pass = Pass {
                dims,
                batch: rows.len(),
                lstm,
                reverse,
            };
            pass.forward(rows, &xp, h0, &weight, bias)
        })
        .collect();
    Saved {
        dims,
        lstm,
        reverse,
        weight,
        chunks,
    }
}

impl Saved {
    fn pass(&self, chunk: &Chunk) -> Pass {
        Pass {
            dims: self.dims,
            batch: chunk.rows.len(),
            lstm: self.lstm,
            reverse: self.reverse,
        }
    }

    /// Every step's hidden state, `[T, B, H]`.
    fn hidden_states(&self) -> Vec<f32> {
        let h = self.dims.hidden;
        let mut hs = vec![0.0f32; self.dims.steps * self.dims.batch * h];
        let per_block = rows_of_mut(&mut hs, self.dims, h, &self.chunks);
        for (chunk, slices) in self.chunks.iter().zip(per_block) {
            for (dst, src) in slices
                .into_iter()
                .zip(chunk.hs.chunks_exact(chunk.rows.len() * h))
            {
                dst.copy_from_slice(src);
            }
        }
        hs
    }

    /// Gradients of `xp`, `h0`, `weight` and `bias` from the hidden states' gradient `d_hs`.
    fn backward(&self, d_hs: &[f32]) -> [Vec<f32>; 4] {
        let dims = self.dims;
        let (h, gh) = (dims.hidden, dims.gh());
        let mut d_xp = vec![0.0f32; dims.steps * dims.batch * gh];
        let parts: Vec<[Vec<f32>; 3]> = rows_of_mut(&mut d_xp, dims, gh, &self.chunks)
            .into_par_iter()
            .zip(&self.chunks)
            .map(|(d_xp, chunk)| {
                let d_hs = rows_of(d_hs, dims, h, &chunk.rows);
                self.pass(chunk).backward(chunk, &d_hs, d_xp, &self.weight)
            })
            .collect();
        let mut d_h0 = Vec::with_capacity(dims.batch * h);
        let mut d_weight = vec![0.0f32; h * gh];
        let mut d_bias = vec![0.0f32; gh];
        for [dh0, dw, db] in parts {
            d_h0.extend_from_slice(&dh0);
            add_to(&mut d_weight, &dw);
            add_to(&mut d_bias, &db);
        }
        [d_xp, d_h0, d_weight, d_bias]
    }
}

fn add_to(sum: &mut [f32], part: &[f32]) {
    for (s, &v) in sum.iter_mut().zip(part) {
        *s += v;
    }
}

/// One block's pass: the sizes and the cell.
#[derive(Clone, Copy)]
struct Pass {
    dims: Dims,
    /// The block's rows.
    batch: usize,
    lstm: bool,
    reverse: bool,
}

impl Pass {
    /// Runs the block's rows through the sequence; `xp` holds its rows of each step.
    fn forward(
        self,
        rows: Range<usize>,
        xp: &[&[f32]],
        h0: Vec<f32>,
        weight: &[f32],
        bias: &[f32],
    ) -> Chunk {
        let (steps, h, gh) = (self.dims.steps, self.dims.hidden, self.dims.gh());
        let (bh, bg) = (self.batch * h, self.batch * gh);
        let mut gates = vec![0.0f32; steps * bg];
        let mut extra = vec![0.0f32; steps * bh];
        let mut hs = vec![0.0f32; steps * bh];
        let mut prev_h = h0.clone();
        let mut c = vec![0.0f32; bh];
        let mut product = vec![0.0f32; if self.lstm { 0 } else { bg }];
        for k in 0..steps {
            let t = self.dims.time(k, self.reverse);
            let g_t = &mut gates[t * bg..(t + 1) * bg];
            let e_t = &mut extra[t * bh..(t + 1) * bh];
            let h_t = &mut hs[t * bh..(t + 1) * bh];
            // An LSTM's gates are input + bias + h·W; a GRU keeps the hidden product h·W + bias
            // apart, as the reset gate scales part of it.
            let target = if self.lstm {
                &mut *g_t
            } else {
                &mut product[..]
            };
            for (row, x) in target.chunks_exact_mut(gh).zip(xp[t].chunks_exact(gh)) {
                if self.lstm {
                    for ((g, &x), &b) in row.iter_mut().zip(x).zip(bias) {
                        *g = x + b;
                    }
                } else {
                    row.copy_from_slice(bias);
                }
            }
            gemm_into(
                target,
                (self.batch, gh, h),
                true,
                (&prev_h, (h, 1)),
                (weight, (gh, 1)),
            );
            if self.lstm {
                lstm_forward(g_t, &mut c, h_t, h);
                e_t.copy_from_slice(&c);
            } else {
                gru_forward(xp[t], &product, &prev_h, g_t, h_t, h);
                for (e, p) in e_t.chunks_exact_mut(h).zip(product.chunks_exact(gh)) {
                    e.copy_from_slice(&p[2 * h..]);
                }
            }
            prev_h.copy_from_slice(h_t);
        }
        Chunk {
            rows,
            h0,
            gates,
            extra,
            hs,
        }
    }

    /// The hidden state the step at time `t` started from.
    fn previous<'a>(&self, chunk: &'a Chunk, t: usize) -> &'a [f32] {
        let bh = self.batch * self.dims.hidden;
        let before = if self.reverse {
            (t + 1 < self.dims.steps).then_some(t + 1)
        } else {
            t.checked_sub(1)
        };
        match before {
            Some(p) => &chunk.hs[p * bh..(p + 1) * bh],
            None => &chunk.h0,
        }
    }

    /// The block's gradients: writes its rows of `xp`'s gradient (one slice per step) and
    /// returns those of `h0`, and its parts of `weight`'s and `bias`'s.
    fn backward(
        self,
        chunk: &Chunk,
        d_hs: &[&[f32]],
        mut d_xp: Vec<&mut [f32]>,
        weight: &[f32],
    ) -> [Vec<f32>; 3] {
        let (h, gh) = (self.dims.hidden, self.dims.gh());
        let (bh, bg) = (self.batch * h, self.batch * gh);
        // A GRU's hidden product has its own gradient; an LSTM's is the gates' (d_xp).
        let mut d_product = vec![0.0f32; if self.lstm { 0 } else { bg }];
        // The gradient reaching the current step's hidden (and cell) state from later steps.
        let mut d_h = vec![0.0f32; bh];
        let mut d_c = vec![0.0f32; bh];
        let zeros = vec![0.0f32; bh];
        let mut d_weight = vec![0.0f32; h * gh];
        let mut d_bias = vec![0.0f32; gh];
        for k in (0..self.dims.steps).rev() {
            let t = self.dims.time(k, self.reverse);
            let g_t = &chunk.gates[t * bg..(t + 1) * bg];
            let e_t = &chunk.extra[t * bh..(t + 1) * bh];
            let prev_h = self.previous(chunk, t);
            let dx_t = &mut *d_xp[t];
            if self.lstm {
                let prev_c = if k == 0 {
                    &zeros[..]
                } else {
                    let p = self.dims.time(k - 1, self.reverse);
                    &chunk.extra[p * bh..(p + 1) * bh]
                };
                lstm_backward(g_t, e_t, prev_c, d_hs[t], &d_h, &mut d_c, dx_t, h);
            } else {
                gru_backward(g_t, e_t, prev_h, d_hs[t], &mut d_h, dx_t, &mut d_product, h);
            }
            let d_gates: &[f32] = if self.lstm { dx_t } else { &d_product };
            // d_h ← (the direct path, for a GRU) + d_gates · Wᵀ: [b, G·H] · [G·H, H].
            gemm_into(
                &mut d_h,
                (self.batch, h, gh),
                !self.lstm,
                (d_gates, (gh, 1)),
                (weight, (1, gh)),
            );
            // d_W += h_prevᵀ · d_gates: [H, b] · [b, G·H].
            gemm_into(
                &mut d_weight,
                (h, gh, self.batch),
                true,
                (prev_h, (1, h)),
                (d_gates, (gh, 1)),
            );
            for row in d_gates.chunks_exact(gh) {
                add_to(&mut d_bias, row);
            }
        }
        [d_h, d_weight, d_bias]
    }
}

/// One LSTM step's gate arithmetic over a block: `gates` `[b, 4H]` in, activated in place;
/// the cell state `c` `[b, H]` updated; the hidden state written to `h_out` `[b, H]`.
#[inline(always)]
fn lstm_forward_rows(gates: &mut [f32], c: &mut [f32], h_out: &mut [f32], h: usize) {
    let rows = gates
        .chunks_exact_mut(4 * h)
        .zip(c.chunks_exact_mut(h))
        .zip(h_out.chunks_exact_mut(h));
    for ((g, c), h_out) in rows {
        let (ifo, cand) = g.split_at_mut(3 * h);
        ifo.iter_mut().for_each(|v| *v = sigmoid(*v));
        cand.iter_mut().for_each(|v| *v = tanh(*v));
        let (i, rest) = ifo.split_at(h);
        let (f, o) = rest.split_at(h);
        let cells = c.iter_mut().zip(h_out.iter_mut());
        let inputs = i.iter().zip(f).zip(o.iter().zip(cand.iter()));
        for ((c, h_out), ((&i, &f), (&o, &g))) in cells.zip(inputs) {
            *c = f * *c + i * g;
            *h_out = o * tanh(*c);
        }
    }
}

/// One GRU step over a block: inputs `x` and hidden product `p` `[b, 3H]`, previous hidden
/// state `prev` `[b, H]`; writes the activated gates `[b, 3H]` and the hidden state `[b, H]`.
#[inline(always)]
fn gru_forward_rows(
    x: &[f32],
    p: &[f32],
    prev: &[f32],
    gates: &mut [f32],
    h_out: &mut [f32],
    h: usize,
) {
    let rows = gates
        .chunks_exact_mut(3 * h)
        .zip(h_out.chunks_exact_mut(h))
        .zip(
            x.chunks_exact(3 * h)
                .zip(p.chunks_exact(3 * h))
                .zip(prev.chunks_exact(h)),
        );
    for ((g, h_out), ((x, p), prev)) in rows {
        let (rz, n) = g.split_at_mut(2 * h);
        for ((g, &x), &p) in rz.iter_mut().zip(&x[..2 * h]).zip(&p[..2 * h]) {
            *g = sigmoid(x + p);
        }
        let (r, z) = rz.split_at(h);
        let (xn, pn) = (&x[2 * h..], &p[2 * h..]);
        let outs = n.iter_mut().zip(h_out.iter_mut());
        let ins = r.iter().zip(z).zip(xn.iter().zip(pn).zip(prev));
        for ((n, h_out), ((&r, &z), ((&xn, &pn), &prev))) in outs.zip(ins) {
            *n = tanh(xn + r * pn);
            *h_out = *n + z * (prev - *n);
        }
    }
}

/// One LSTM step backward over a block: from the saved gates `[b, 4H]`, cell states `c` and
/// `c_prev` `[b, H]`, the gradient reaching the hidden state from the output (`dh_out`) and from
/// the next step (`dh_in`), and the cell state's (`dc`, updated to the previous step's), writes
/// the gates' pre-activation gradient `dx` `[b, 4H]`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn lstm_backward_rows(
    gates: &[f32],
    c: &[f32],
    c_prev: &[f32],
    dh_out: &[f32],
    dh_in: &[f32],
    dc: &mut [f32],
    dx: &mut [f32],
    h: usize,
) {
    let rows = gates
        .chunks_exact(4 * h)
        .zip(dx.chunks_exact_mut(4 * h))
        .zip(c.chunks_exact(h).zip(c_prev.chunks_exact(h)))
        .zip(dh_out.chunks_exact(h).zip(dh_in.chunks_exact(h)))
        .zip(dc.chunks_exact_mut(h));
    for ((((g, dx), (c, c_prev)), (dh_out, dh_in)), dc) in rows {
        let (i, f) = (&g[..h], &g[h..2 * h]);
        let (o, cand) = (&g[2 * h..3 * h], &g[3 * h..4 * h]);
        let (di, rest) = dx.split_at_mut(h);
        let (df, rest) = rest.split_at_mut(h);
        let (d_o, dg) = rest.split_at_mut(h);
        // Every slice cut to length h, so that the loop below has no bounds checks and
        // vectorises.
        let (c, c_prev, dh_out, dh_in) = (&c[..h], &c_prev[..h], &dh_out[..h], &dh_in[..h]);
        let (dc, dg) = (&mut dc[..h], &mut dg[..h]);
        for j in 0..h {
            let dh = dh_out[j] + dh_in[j];
            let tc = tanh(c[j]);
            let dct = dc[j] + dh * o[j] * (1.0 - tc * tc);
            di[j] = dct * cand[j] * i[j] * (1.0 - i[j]);
            df[j] = dct * c_prev[j] * f[j] * (1.0 - f[j]);
            d_o[j] = dh * tc * o[j] * (1.0 - o[j]);
            dg[j] = dct * i[j] * (1.0 - cand[j] * cand[j]);
            dc[j] = dct * f[j];
        }
    }
}

/// One GRU step backward over a block: from the saved gates `[b, 3H]`, the hidden product's
/// candidate part `pn` and the previous hidden state `[b, H]`, and the gradient reaching the
/// hidden state from the output (`dh_out`) and from the next step (`dh`, replaced by the direct
/// path's share of the previous step's), writes the gradients of the input projection `dx` and
/// of the hidden product `dp` `[b, 3H]`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn gru_backward_rows(
    gates: &[f32],
    pn: &[f32],
    prev: &[f32],
    dh_out: &[f32],
    dh: &mut [f32],
    dx: &mut [f32],
    dp: &mut [f32],
    h: usize,
) {
    let rows = gates
        .chunks_exact(3 * h)
        .zip(dx.chunks_exact_mut(3 * h).zip(dp.chunks_exact_mut(3 * h)))
        .zip(pn.chunks_exact(h).zip(prev.chunks_exact(h)))
        .zip(dh_out.chunks_exact(h).zip(dh.chunks_exact_mut(h)));
    for (((g, (dx, dp)), (pn, prev)), (dh_out, dh_in)) in rows {
        let (r, z, n) = (&g[..h], &g[h..2 * h], &g[2 * h..3 * h]);
        let (dxr, rest) = dx.split_at_mut(h);
        let (dxz, dxn) = rest.split_at_mut(h);
        let (dpr, rest) = dp.split_at_mut(h);
        let (dpz, dpn) = rest.split_at_mut(h);
        // Every slice cut to length h, as in `lstm_backward_rows`.
        let (pn, prev, dh_out, dh_in) = (&pn[..h], &prev[..h], &dh_out[..h], &mut dh_in[..h]);
        let (dxn, dpn) = (&mut dxn[..h], &mut dpn[..h]);
        for j in 0..h {
            let dh = dh_out[j] + dh_in[j];
            let dn = dh * (1.0 - z[j]) * (1.0 - n[j] * n[j]);
            let dr = dn * pn[j] * r[j] * (1.0 - r[j]);
            let dz = dh * (prev[j] - n[j]) * z[j] * (1.0 - z[j]);
            (dxr[j], dxz[j], dxn[j]) = (dr, dz, dn);
            (dpr[j], dpz[j], dpn[j]) = (dr, dz, dn * r[j]);
            // The direct path h_prev → h; the product's path is added by the caller.
            dh_in[j] = dh * z[j];
        }
    }
}

/// Defines each `name` as a call of `body` compiled twice: for baseline x86-64 (SSE2, four
/// lanes), as the crate is built, and for AVX2 with FMA (eight lanes), chosen at run time when
/// the CPU has them. The gate loops are a large share of a recurrent training step, and the
/// wider copy takes about half the time.
macro_rules! multiversion {
    ($(fn $name:ident($($arg:ident: $ty:ty),* $(,)?) => $body:ident;)*) => {$(
        #[allow(clippy::too_many_arguments)]
        fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                fn wide($($arg: $ty),*) {
                    $body($($arg),*)
                }
                if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                    // SAFETY: the CPU has the features `wide` is compiled for.
                    return unsafe { wide($($arg),*) };
                }
            }
            $body($($arg),*)
        }
    )*};
}

multiversion! {
    fn lstm_forward(gates: &mut [f32], c: &mut [f32], h_out: &mut [f32], h: usize)
        => lstm_forward_rows;
    fn gru_forward(
        x: &[f32], p: &[f32], prev: &[f32], gates: &mut [f32], h_out: &mut [f32], h: usize,
    ) => gru_forward_rows;
    fn lstm_backward(
        gates: &[f32], c: &[f32], c_prev: &[f32], dh_out: &[f32], dh_in: &[f32],
        dc: &mut [f32], dx: &mut [f32], h: usize,
    ) => lstm_backward_rows;
    fn gru_backward(
        gates: &[f32], pn: &[f32], prev: &[f32], dh_out: &[f32], dh: &mut [f32],
        dx: &mut [f32], dp: &mut [f32], h: usize,
    ) => gru_backward_rows;
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Distribution};

    use super::*;
    use crate::model::seq::Recurrent;
    use crate::model::to_vec;

    fn max_diff<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
        to_vec((a - b).abs().max())[0]
    }

    /// The fused pass against the same cell run step by step as tensor operations: the hidden
    /// states, and the gradients of a random weighting of them with respect to every input.
    #[test]
    fn the_fused_pass_matches_the_cell_step_by_step_in_values_and_gradients() {
        let device = Device::flex().autodiff();
        let (steps, h) = (6, 5);
        // 35 rows on three threads run as two blocks of unequal size.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .expect("a thread pool");
        let cases = [CellKind::Lstm, CellKind::Gru]
            .into_iter()
            .flat_map(|cell| {
                [
                    (cell, false, 3),
                    (cell, true, 3),
                    (cell, false, 35),
                    (cell, true, 35),
                ]
            });
        for (cell, reverse, batch) in cases {
            pool.install(|| {
                let rec = Recurrent::new(cell, h, &device);
                let width = rec.width();
                let normal = Distribution::Normal(0.0, 1.0);
                let xp = Tensor::<3>::random([steps, batch, width], normal, &device).require_grad();
                let h0 = Tensor::<2>::random([batch, h], normal, &device).require_grad();
                let mix = Tensor::<3>::random([steps, batch, h], normal, &device);

                let per_step = |t: usize| xp.clone().narrow(0, t, 1).reshape([batch, width]);
                let init = rec.initial(batch, Some(h0.clone()), &device);
                let (hs, _) = rec.run(steps, per_step, init, reverse, true);
                let theirs = Tensor::stack::<3>(hs, 0);
                let ours = rec.run_fused(xp.clone(), h0.clone(), reverse);
                let what = format!("{cell:?}, reverse {reverse}, batch {batch}");
                assert!(
                    max_diff(ours.clone(), theirs.clone()) < 1e-5,
                    "{what}: values"
                );

                let g_theirs = (theirs * mix.clone()).sum().backward();
                let g_ours = (ours * mix).sum().backward();
                let weight = rec.hidden_weight();
                let bias = rec.hidden_bias();
                let pairs = [
                    (
                        "xp",
                        xp.grad(&g_ours).map(|g| g.reshape([-1])),
                        xp.grad(&g_theirs).map(|g| g.reshape([-1])),
                    ),
                    (
                        "h0",
                        h0.grad(&g_ours).map(|g| g.reshape([-1])),
                        h0.grad(&g_theirs).map(|g| g.reshape([-1])),
                    ),
                    (
                        "weight",
                        weight.grad(&g_ours).map(|g| g.reshape([-1])),
                        weight.grad(&g_theirs).map(|g| g.reshape([-1])),
                    ),
                    ("bias", bias.grad(&g_ours), bias.grad(&g_theirs)),
                ];
                for (name, ours, theirs) in pairs {
                    let (Some(ours), Some(theirs)) = (ours, theirs) else {
                        panic!("{what}: no gradient for {name}");
                    };
                    let scale = to_vec(theirs.clone().abs().max())[0].max(1.0);
                    let diff = max_diff(ours, theirs);
                    assert!(
                        diff < 1e-4 * scale,
                        "{what}: gradient of {name} differs by {diff}"
                    );
                }
            });
        }
    }
}
