//! latentlab addition (not in upstream burn-flex 0.22.1): 2-D convolutions, transposed
//! convolutions and their input and weight gradients, computed straight from NCHW as
//! `im2col`/`col2im` plus one matrix product per block of batch items, with the blocks spread
//! over the rayon pool. f32, f64 and f16 run natively, bf16 through f32; groups run one at a
//! time.
//!
//! Upstream runs every 2-D convolution through its 3-D path, which converts the whole batch to
//! NHWC and flattens the weights in serial loops on the calling thread, and it computes the
//! backward passes through the default decompositions (transposed convolutions over swapped
//! axes), each with its own layout copies. In a small conv autoencoder's training step that was
//! most of the time, and on a 2-core machine one core sat idle.
//!
//! Six operations share three kernels. A "big" plane is a convolution's input, a "small" plane
//! its output; small position `(i, j)` and kernel tap `(ki, kj)` read big position
//! `(i·stride − pad + ki·dilation, j·stride − pad + kj·dilation)`:
//! - [`direct`]: `out[n][p][small] = W[p][q·kk] · im2col(in[n][q][big])`: a convolution's
//!   forward pass, and a transposed convolution's input gradient.
//! - [`transposed`]: `out[n][q][big] = col2im(Wᵀ · in[n][p][small])`: the adjoint of `direct`
//!   in its input: a convolution's input gradient, and a transposed convolution's forward pass.
//! - [`weight_grad`]: `dW[p][q·kk] = Σₙ a[n][p][small] · im2col(b[n][q][big])ᵀ`: both weight
//!   gradients.
//!
//! The gathers work on a zero-bordered copy of each plane, so every tap of every position is
//! in bounds and `im2col` is one indexed copy per row (no per-row edge cases).

use alloc::vec;
use alloc::vec::Vec;

/// The element types the kernels run on: f32, f64 and f16 (gemm has kernels for all three).
pub trait Elem: num_traits::Float + Send + Sync + 'static {}
impl<T: num_traits::Float + Send + Sync + 'static> Elem for T {}

/// How a big plane and a small plane line up (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    pub big: [usize; 2],
    pub small: [usize; 2],
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub pad: [usize; 2],
    pub dilation: [usize; 2],
}

impl Geometry {
    fn taps(&self) -> usize {
        self.kernel[0] * self.kernel[1]
    }

    fn big_len(&self) -> usize {
        self.big[0] * self.big[1]
    }

    fn small_len(&self) -> usize {
        self.small[0] * self.small[1]
    }

    /// The plane with `pad` zeros before and enough after that every tap of every small
    /// position lands inside it: padded position = small·stride + tap·dilation.
    fn padded(&self) -> [usize; 2] {
        core::array::from_fn(|a| {
            let reach = (self.small[a].max(1) - 1) * self.stride[a]
                + (self.kernel[a] - 1) * self.dilation[a]
                + 1;
            reach.max(self.big[a] + self.pad[a])
        })
    }
}

/// Per-geometry index tables: where each small position and each tap start in a padded plane.
struct Taps {
    padded: [usize; 2],
    /// Offset of small position `s` (tap 0) in a padded plane.
    positions: Vec<usize>,
    /// Offset of tap `(ki, kj)` from a position's tap 0.
    taps: Vec<usize>,
}

impl Taps {
    fn new(g: &Geometry) -> Self {
        let padded = g.padded();
        let pw = padded[1];
        let positions = (0..g.small[0])
            .flat_map(|i| (0..g.small[1]).map(move |j| i * g.stride[0] * pw + j * g.stride[1]))
            .collect();
        let taps = (0..g.kernel[0])
            .flat_map(|ki| {
                (0..g.kernel[1]).map(move |kj| ki * g.dilation[0] * pw + kj * g.dilation[1])
            })
            .collect();
        Self {
            padded,
            positions,
            taps,
        }
    }

    fn plane(&self) -> usize {
        self.padded[0] * self.padded[1]
    }
}

/// Copies `channels` big planes into zero-bordered padded planes.
fn pad_planes<T: Elem>(src: &[T], channels: usize, g: &Geometry, t: &Taps, dst: &mut [T]) {
    let (bh, bw, pw) = (g.big[0], g.big[1], t.padded[1]);
    dst.fill(T::zero());
    for (c, plane) in dst.chunks_exact_mut(t.plane()).take(channels).enumerate() {
        for i in 0..bh {
            let row = (i + g.pad[0]) * pw + g.pad[1];
            plane[row..row + bw].copy_from_slice(&src[(c * bh + i) * bw..][..bw]);
        }
    }
}

/// `cols[(c, ki, kj)][off + small] = padded[c][position + tap]`; `cols` rows are `ld` apart, so
/// several items' columns sit side by side.
fn im2col<T: Elem>(padded: &[T], channels: usize, t: &Taps, cols: &mut [T], ld: usize, off: usize) {
    let mut rows = cols.chunks_exact_mut(ld);
    for plane in padded.chunks_exact(t.plane()).take(channels) {
        for &tap in &t.taps {
            let Some(row) = rows.next() else { return };
            let window = &plane[tap..];
            for (d, &pos) in row[off..off + t.positions.len()]
                .iter_mut()
                .zip(&t.positions)
            {
                *d = window[pos];
            }
        }
    }
}

/// `padded[c][position + tap] += cols[(c, ki, kj)][off + small]`: the adjoint of [`im2col`].
fn col2im_add<T: Elem>(
    cols: &[T],
    channels: usize,
    t: &Taps,
    padded: &mut [T],
    ld: usize,
    off: usize,
) {
    let mut rows = cols.chunks_exact(ld);
    for plane in padded.chunks_exact_mut(t.plane()).take(channels) {
        for &tap in &t.taps {
            let Some(row) = rows.next() else { return };
            let window = &mut plane[tap..];
            for (v, &pos) in row[off..off + t.positions.len()].iter().zip(&t.positions) {
                window[pos] = window[pos] + *v;
            }
        }
    }
}

/// `dst[c][big] += padded[c][interior]`: the inverse of [`pad_planes`].
fn unpad_add<T: Elem>(padded: &[T], channels: usize, g: &Geometry, t: &Taps, dst: &mut [T]) {
    let (bh, bw, pw) = (g.big[0], g.big[1], t.padded[1]);
    for (c, plane) in padded.chunks_exact(t.plane()).take(channels).enumerate() {
        for i in 0..bh {
            let row = (i + g.pad[0]) * pw + g.pad[1];
            let d = &mut dst[(c * bh + i) * bw..][..bw];
            d.iter_mut()
                .zip(&plane[row..row + bw])
                .for_each(|(d, v)| *d = *d + *v);
        }
    }
}

/// Copies `items` consecutive `[rows][len]` blocks of `src` into `dst[rows][items·len]`, item
/// `i` at column offset `i·len`.
fn interleave<T: Elem>(src: &[T], items: usize, rows: usize, len: usize, dst: &mut [T]) {
    let ld = items * len;
    for i in 0..items {
        for r in 0..rows {
            let s = &src[(i * rows + r) * len..][..len];
            dst[r * ld + i * len..][..len].copy_from_slice(s);
        }
    }
}

/// Items per block: enough columns side by side that each matrix product is wide.
fn block_items(small: usize) -> usize {
    (256 / small.max(1)).max(1)
}

/// Row-major matrix product `dst (m×n) = lhs · rhs (+ dst when accumulate)`, one thread, with
/// each operand given by its (row, column) strides.
#[allow(clippy::too_many_arguments)]
fn matmul<T: Elem>(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [T],
    accumulate: bool,
    lhs: &[T],
    lhs_strides: [usize; 2],
    rhs: &[T],
    rhs_strides: [usize; 2],
) {
    assert!(dst.len() >= m * n, "matmul: destination too small");
    assert!(
        m == 0 || k == 0 || lhs.len() > (m - 1) * lhs_strides[0] + (k - 1) * lhs_strides[1],
        "matmul: left operand too small"
    );
    assert!(
        n == 0 || k == 0 || rhs.len() > (k - 1) * rhs_strides[0] + (n - 1) * rhs_strides[1],
        "matmul: right operand too small"
    );
    // SAFETY: the asserts above keep every index gemm forms inside the three slices, and
    // `dst` does not alias the operands (it is a unique borrow).
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
            lhs_strides[1] as isize,
            lhs_strides[0] as isize,
            rhs.as_ptr(),
            rhs_strides[1] as isize,
            rhs_strides[0] as isize,
            T::one(),
            T::one(),
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// Calls `f(block, out_chunk, scratch)` for each `chunk` of `out` (a block of batch items), in
/// parallel when rayon is on; `scratch` is a per-task buffer of `scratch_len` values.
fn for_each_block<T: Elem, F>(out: &mut [T], chunk: usize, scratch_len: usize, f: F)
where
    F: Fn(usize, &mut [T], &mut Vec<T>) + Send + Sync,
{
    if chunk == 0 {
        return;
    }
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        out.par_chunks_mut(chunk).enumerate().for_each_init(
            || vec![T::zero(); scratch_len],
            |scratch, (i, o)| f(i, o, scratch),
        );
    }
    #[cfg(not(feature = "rayon"))]
    {
        let mut scratch = vec![T::zero(); scratch_len];
        for (i, o) in out.chunks_mut(chunk).enumerate() {
            f(i, o, &mut scratch);
        }
    }
}

/// `out[n][p][small] = W[p][q·kk] · im2col(input[n][q][big])`, plus `bias[p]` when given.
pub fn direct<T: Elem>(
    input: &[T],
    batch: usize,
    q: usize,
    weight: &[T],
    p: usize,
    bias: Option<&[T]>,
    g: &Geometry,
) -> Vec<T> {
    let (k, small, big) = (q * g.taps(), g.small_len(), g.big_len());
    let (nb, t) = (block_items(small), Taps::new(g));
    let mut out = vec![T::zero(); batch * p * small];
    let scratch_len = (k + p) * nb * small + q * t.plane();
    for_each_block(&mut out, nb * p * small, scratch_len, |blk, o, scratch| {
        let items = o.len() / (p * small);
        let ld = items * small;
        let (cols, rest) = scratch.split_at_mut(k * nb * small);
        let (tmp, pads) = rest.split_at_mut(p * nb * small);
        let (cols, tmp) = (&mut cols[..k * ld], &mut tmp[..p * ld]);
        for i in 0..items {
            let n = blk * nb + i;
            pad_planes(&input[n * q * big..(n + 1) * q * big], q, g, &t, pads);
            im2col(pads, q, &t, cols, ld, i * small);
        }
        matmul(p, ld, k, tmp, false, weight, [k, 1], cols, [ld, 1]);
        for i in 0..items {
            for r in 0..p {
                let dst = &mut o[(i * p + r) * small..][..small];
                dst.copy_from_slice(&tmp[r * ld + i * small..][..small]);
                if let Some(bias) = bias {
                    dst.iter_mut().for_each(|x| *x = *x + bias[r]);
                }
            }
        }
    });
    out
}

/// `out[n][q][big] = col2im(W[p][q·kk]ᵀ · input[n][p][small])`, plus `bias[q]` when given.
pub fn transposed<T: Elem>(
    input: &[T],
    batch: usize,
    p: usize,
    weight: &[T],
    q: usize,
    bias: Option<&[T]>,
    g: &Geometry,
) -> Vec<T> {
    let (k, small, big) = (q * g.taps(), g.small_len(), g.big_len());
    let (nb, t) = (block_items(small), Taps::new(g));
    let mut out = vec![T::zero(); batch * q * big];
    let scratch_len = (k + p) * nb * small + q * t.plane();
    for_each_block(&mut out, nb * q * big, scratch_len, |blk, o, scratch| {
        let items = o.len() / (q * big);
        let ld = items * small;
        let (cols, rest) = scratch.split_at_mut(k * nb * small);
        let (xs, pads) = rest.split_at_mut(p * nb * small);
        let (cols, xs) = (&mut cols[..k * ld], &mut xs[..p * ld]);
        let first = blk * nb * p * small;
        interleave(
            &input[first..first + items * p * small],
            items,
            p,
            small,
            xs,
        );
        matmul(k, ld, p, cols, false, weight, [1, k], xs, [ld, 1]);
        for i in 0..items {
            pads.fill(T::zero());
            col2im_add(cols, q, &t, pads, ld, i * small);
            unpad_add(pads, q, g, &t, &mut o[i * q * big..(i + 1) * q * big]);
        }
        if let Some(bias) = bias {
            for (plane, &v) in o.chunks_exact_mut(big).zip(bias.iter().cycle()) {
                plane.iter_mut().for_each(|x| *x = *x + v);
            }
        }
    });
    out
}

/// `dW[p][q·kk] = Σₙ a[n][p][small] · im2col(b[n][q][big])ᵀ`.
pub fn weight_grad<T: Elem>(
    a: &[T],
    b: &[T],
    batch: usize,
    p: usize,
    q: usize,
    g: &Geometry,
) -> Vec<T> {
    let (k, small, big) = (q * g.taps(), g.small_len(), g.big_len());
    let (nb, t) = (block_items(small), Taps::new(g));
    let partial = |items: core::ops::Range<usize>| {
        let mut dw = vec![T::zero(); p * k];
        let mut cols = vec![T::zero(); k * nb * small];
        let mut pads = vec![T::zero(); q * t.plane()];
        let mut as_ = vec![T::zero(); p * nb * small];
        let mut first = true;
        let mut start = items.start;
        while start < items.end {
            let count = nb.min(items.end - start);
            let ld = count * small;
            let (cols, as_) = (&mut cols[..k * ld], &mut as_[..p * ld]);
            for i in 0..count {
                let n = start + i;
                pad_planes(&b[n * q * big..(n + 1) * q * big], q, g, &t, &mut pads);
                im2col(&pads, q, &t, cols, ld, i * small);
            }
            interleave(
                &a[start * p * small..(start + count) * p * small],
                count,
                p,
                small,
                as_,
            );
            matmul(p, k, ld, &mut dw, !first, as_, [ld, 1], cols, [1, ld]);
            first = false;
            start += count;
        }
        dw
    };
    #[cfg(feature = "rayon")]
    let parts: Vec<Vec<T>> = {
        use rayon::prelude::*;
        let tasks = rayon::current_num_threads().clamp(1, batch.max(1));
        (0..tasks)
            .into_par_iter()
            .map(|t| partial(batch * t / tasks..batch * (t + 1) / tasks))
            .collect()
    };
    #[cfg(not(feature = "rayon"))]
    let parts: Vec<Vec<T>> = vec![partial(0..batch)];
    let mut parts = parts.into_iter();
    let mut dw = parts.next().unwrap_or_else(|| vec![T::zero(); p * k]);
    for part in parts {
        dw.iter_mut().zip(&part).for_each(|(d, v)| *d = *d + *v);
    }
    dw
}

// ---------------------------------------------------------------------------------------------
// The six ModuleOps entry points on Flex tensors. Each returns `None` for what it does not
// cover (other ranks or dtypes, inconsistent shapes), and the caller keeps upstream's path.

use crate::ops::conv_common::{convert_bf16_to_f32, convert_f32_to_bf16};
use crate::{FlexTensor, Layout};
use burn_backend::{
    DType, Element,
    ops::{ConvOptions, ConvTransposeOptions},
};
use burn_std::{Bytes, Shape, f16};

#[derive(Clone, Copy)]
enum Kind {
    Direct,
    Transposed,
    WeightGrad,
}

/// One kernel call: `first` is the kernel's input (`a` for a weight gradient), `second` the
/// weight (`b` for a weight gradient). Channel counts are totals over the groups.
struct Call<'a> {
    kind: Kind,
    first: &'a FlexTensor,
    second: &'a FlexTensor,
    bias: Option<&'a FlexTensor>,
    batch: usize,
    p: usize,
    q: usize,
    groups: usize,
    g: Geometry,
    out: [usize; 4],
}

fn dims4(t: &FlexTensor) -> Option<[usize; 4]> {
    let s = t.layout().shape();
    (s.num_dims() == 4).then(|| [s[0], s[1], s[2], s[3]])
}

/// The channels `c0..c0 + count` of every item of `[n][channels][plane]`, as `[n][count][plane]`.
fn take_channels<T: Elem>(
    src: &[T],
    n: usize,
    channels: usize,
    c0: usize,
    count: usize,
    plane: usize,
) -> Vec<T> {
    let mut out = Vec::with_capacity(n * count * plane);
    for b in 0..n {
        out.extend_from_slice(&src[(b * channels + c0) * plane..][..count * plane]);
    }
    out
}

/// Writes `[n][count][plane]` into the channels `c0..c0 + count` of `[n][channels][plane]`.
fn put_channels<T: Elem>(
    dst: &mut [T],
    n: usize,
    channels: usize,
    c0: usize,
    count: usize,
    plane: usize,
    src: &[T],
) {
    for b in 0..n {
        dst[(b * channels + c0) * plane..][..count * plane]
            .copy_from_slice(&src[b * count * plane..][..count * plane]);
    }
}

impl Call<'_> {
    fn run(&self) -> Option<FlexTensor> {
        let dtypes_match = self.second.dtype() == self.first.dtype()
            && self.bias.is_none_or(|b| b.dtype() == self.first.dtype());
        if !dtypes_match
            || self.groups == 0
            || self.p % self.groups != 0
            || self.q % self.groups != 0
        {
            return None;
        }
        match self.first.dtype() {
            DType::F32 => Some(self.typed::<f32>()),
            DType::F64 => Some(self.typed::<f64>()),
            DType::F16 => Some(self.typed::<f16>()),
            DType::BF16 => {
                let first = convert_bf16_to_f32(self.first);
                let second = convert_bf16_to_f32(self.second);
                let bias = self.bias.map(convert_bf16_to_f32);
                let call = Call {
                    first: &first,
                    second: &second,
                    bias: bias.as_ref(),
                    ..*self
                };
                Some(convert_f32_to_bf16(&call.typed::<f32>()))
            }
            _ => None,
        }
    }

    fn typed<T: Elem + bytemuck::Pod + Element>(&self) -> FlexTensor {
        let first = self.first.to_contiguous();
        let second = self.second.to_contiguous();
        let bias = self.bias.map(|b| b.to_contiguous());
        let first: &[T] = contiguous(&first);
        let second: &[T] = contiguous(&second);
        let bias: Option<&[T]> = bias.as_ref().map(|b| contiguous(b));
        let (n, g, groups) = (self.batch, &self.g, self.groups);
        let (pg, qg) = (self.p / groups, self.q / groups);
        let (small, big, k) = (g.small_len(), g.big_len(), qg * g.taps());
        let out = if groups == 1 {
            match self.kind {
                Kind::Direct => direct(first, n, qg, second, pg, bias, g),
                Kind::Transposed => transposed(first, n, pg, second, qg, bias, g),
                Kind::WeightGrad => weight_grad(first, second, n, pg, qg, g),
            }
        } else {
            let mut out = vec![T::zero(); self.out.iter().product()];
            for gi in 0..groups {
                let w = || &second[gi * pg * k..(gi + 1) * pg * k];
                match self.kind {
                    Kind::Direct => {
                        let x = take_channels(first, n, self.q, gi * qg, qg, big);
                        let b = bias.map(|b| &b[gi * pg..(gi + 1) * pg]);
                        let o = direct(&x, n, qg, w(), pg, b, g);
                        put_channels(&mut out, n, self.p, gi * pg, pg, small, &o);
                    }
                    Kind::Transposed => {
                        let x = take_channels(first, n, self.p, gi * pg, pg, small);
                        let b = bias.map(|b| &b[gi * qg..(gi + 1) * qg]);
                        let o = transposed(&x, n, pg, w(), qg, b, g);
                        put_channels(&mut out, n, self.q, gi * qg, qg, big, &o);
                    }
                    Kind::WeightGrad => {
                        let a = take_channels(first, n, self.p, gi * pg, pg, small);
                        let b = take_channels(second, n, self.q, gi * qg, qg, big);
                        let o = weight_grad(&a, &b, n, pg, qg, g);
                        out[gi * pg * k..(gi + 1) * pg * k].copy_from_slice(&o);
                    }
                }
            }
            out
        };
        FlexTensor::new(
            Bytes::from_elems(out),
            Layout::contiguous(Shape::from(self.out.to_vec())),
            T::dtype(),
        )
    }
}

fn contiguous<T: bytemuck::Pod + Element>(t: &FlexTensor) -> &[T] {
    let (start, end) = t
        .layout()
        .contiguous_offsets()
        .expect("to_contiguous gives a contiguous layout");
    &t.storage::<T>()[start..end]
}

/// The output length of a convolution along one axis, or `None` when the kernel does not fit.
fn conv_out(big: usize, k: usize, stride: usize, pad: (usize, usize), dil: usize) -> Option<usize> {
    let span = dil * k.checked_sub(1)? + 1;
    let padded = big + pad.0 + pad.1;
    (padded >= span).then(|| (padded - span) / stride + 1)
}

/// The input length of a transposed convolution whose output is `big` long along one axis.
fn conv_transpose_in(
    big: usize,
    k: usize,
    stride: usize,
    pad: usize,
    pad_out: usize,
    dil: usize,
) -> Option<usize> {
    // big = (small − 1)·stride − 2·pad + dil·(k − 1) + pad_out + 1
    let rest = (big + 2 * pad).checked_sub(dil * (k.checked_sub(1)?) + pad_out + 1)?;
    (rest % stride == 0).then(|| rest / stride + 1)
}

/// A 2-D convolution's forward pass: `x [n, q, h, w]`, `weight [p, q/groups, kh, kw]`.
pub fn conv2d(
    x: &FlexTensor,
    weight: &FlexTensor,
    bias: Option<&FlexTensor>,
    o: &ConvOptions<2>,
) -> Option<FlexTensor> {
    let [n, q, h, w] = dims4(x)?;
    let [p, qg, kh, kw] = dims4(weight)?;
    if qg * o.groups != q {
        return None;
    }
    let oh = conv_out(h, kh, o.stride[0], o.padding[0], o.dilation[0])?;
    let ow = conv_out(w, kw, o.stride[1], o.padding[1], o.dilation[1])?;
    let g = Geometry {
        big: [h, w],
        small: [oh, ow],
        kernel: [kh, kw],
        stride: o.stride,
        pad: o.padding_begin(),
        dilation: o.dilation,
    };
    Call {
        kind: Kind::Direct,
        first: x,
        second: weight,
        bias,
        batch: n,
        p,
        q,
        groups: o.groups,
        g,
        out: [n, p, oh, ow],
    }
    .run()
}

/// The gradient of a 2-D convolution with respect to its input.
pub fn conv2d_x_backward(
    x: &FlexTensor,
    weight: &FlexTensor,
    grad: &FlexTensor,
    o: &ConvOptions<2>,
) -> Option<FlexTensor> {
    conv2d_backward(false, x, weight, grad, o)
}

/// The gradient of a 2-D convolution with respect to its weight.
pub fn conv2d_weight_backward(
    x: &FlexTensor,
    weight: &FlexTensor,
    grad: &FlexTensor,
    o: &ConvOptions<2>,
) -> Option<FlexTensor> {
    conv2d_backward(true, x, weight, grad, o)
}

/// Either gradient of a 2-D convolution: both check the same shapes and share one geometry.
fn conv2d_backward(
    wrt_weight: bool,
    x: &FlexTensor,
    weight: &FlexTensor,
    grad: &FlexTensor,
    o: &ConvOptions<2>,
) -> Option<FlexTensor> {
    let [n, q, h, w] = dims4(x)?;
    let [p, qg, kh, kw] = dims4(weight)?;
    let [gn, gp, oh, ow] = dims4(grad)?;
    if qg * o.groups != q || gn != n || gp != p {
        return None;
    }
    let (kind, second, out) = if wrt_weight {
        (Kind::WeightGrad, x, [p, qg, kh, kw])
    } else {
        (Kind::Transposed, weight, [n, q, h, w])
    };
    Call {
        kind,
        first: grad,
        second,
        bias: None,
        batch: n,
        p,
        q,
        groups: o.groups,
        g: Geometry {
            big: [h, w],
            small: [oh, ow],
            kernel: [kh, kw],
            stride: o.stride,
            pad: o.padding_begin(),
            dilation: o.dilation,
        },
        out,
    }
    .run()
}

/// A 2-D transposed convolution's forward pass: `x [n, p, h, w]`, `weight [p, q/groups, kh, kw]`.
pub fn conv_transpose2d(
    x: &FlexTensor,
    weight: &FlexTensor,
    bias: Option<&FlexTensor>,
    o: &ConvTransposeOptions<2>,
) -> Option<FlexTensor> {
    let [n, p, h, w] = dims4(x)?;
    let [wp, qg, kh, kw] = dims4(weight)?;
    if wp != p || [h, w, kh, kw].contains(&0) {
        return None;
    }
    let q = qg * o.groups;
    let out = |a: usize, len: usize, k: usize| {
        ((len - 1) * o.stride[a] + o.dilation[a] * (k - 1) + o.padding_out[a] + 1)
            .checked_sub(2 * o.padding[a])
    };
    let (oh, ow) = (out(0, h, kh)?, out(1, w, kw)?);
    let g = Geometry {
        big: [oh, ow],
        small: [h, w],
        kernel: [kh, kw],
        stride: o.stride,
        pad: o.padding,
        dilation: o.dilation,
    };
    Call {
        kind: Kind::Transposed,
        first: x,
        second: weight,
        bias,
        batch: n,
        p,
        q,
        groups: o.groups,
        g,
        out: [n, q, oh, ow],
    }
    .run()
}

/// The gradient of a 2-D transposed convolution with respect to its input.
pub fn conv_transpose2d_x_backward(
    weight: &FlexTensor,
    grad: &FlexTensor,
    o: &ConvTransposeOptions<2>,
) -> Option<FlexTensor> {
    let [p, qg, kh, kw] = dims4(weight)?;
    let [n, q, oh, ow] = dims4(grad)?;
    if qg * o.groups != q {
        return None;
    }
    let h = conv_transpose_in(
        oh,
        kh,
        o.stride[0],
        o.padding[0],
        o.padding_out[0],
        o.dilation[0],
    )?;
    let w = conv_transpose_in(
        ow,
        kw,
        o.stride[1],
        o.padding[1],
        o.padding_out[1],
        o.dilation[1],
    )?;
    let g = Geometry {
        big: [oh, ow],
        small: [h, w],
        kernel: [kh, kw],
        stride: o.stride,
        pad: o.padding,
        dilation: o.dilation,
    };
    Call {
        kind: Kind::Direct,
        first: grad,
        second: weight,
        bias: None,
        batch: n,
        p,
        q,
        groups: o.groups,
        g,
        out: [n, p, h, w],
    }
    .run()
}

/// The gradient of a 2-D transposed convolution with respect to its weight.
pub fn conv_transpose2d_weight_backward(
    x: &FlexTensor,
    weight: &FlexTensor,
    grad: &FlexTensor,
    o: &ConvTransposeOptions<2>,
) -> Option<FlexTensor> {
    let [n, p, h, w] = dims4(x)?;
    let [wp, qg, kh, kw] = dims4(weight)?;
    let [gn, q, oh, ow] = dims4(grad)?;
    if wp != p || gn != n || qg * o.groups != q {
        return None;
    }
    let g = Geometry {
        big: [oh, ow],
        small: [h, w],
        kernel: [kh, kw],
        stride: o.stride,
        pad: o.padding,
        dilation: o.dilation,
    };
    Call {
        kind: Kind::WeightGrad,
        first: x,
        second: grad,
        bias: None,
        batch: n,
        p,
        q,
        groups: o.groups,
        g,
        out: [p, qg, kh, kw],
    }
    .run()
}
