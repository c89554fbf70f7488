//! The vendored burn-flex's 2-D convolution kernels (`vendor/burn-flex/src/ops/conv2d_fast.rs`),
//! reached through burn's public API with autodiff on the CPU device: forward values and the
//! gradients of input, weight and bias, for convolutions and transposed convolutions, against
//! a direct six-loop evaluation in f64. Geometries cover stride, padding, dilation, groups,
//! output padding and uneven sizes, and the conv autoencoder's own four layers.

use burn::tensor::module::{conv_transpose2d, conv2d};
use burn::tensor::ops::{ConvOptions, ConvTransposeOptions};
use burn::tensor::{Device, Tensor, TensorData};
use latentlab::model::to_vec;

#[derive(Clone, Copy, Debug)]
struct Case {
    n: usize,
    /// Channels on the small side (a convolution's output, a transposed one's input) and on
    /// the big side; the weight is `[small_ch, big_ch / groups, kh, kw]` for both.
    small_ch: usize,
    big_ch: usize,
    big: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
    pad: [usize; 2],
    dilation: [usize; 2],
    groups: usize,
    /// Extra output rows/columns of a transposed convolution (its `padding_out`).
    pad_out: [usize; 2],
}

impl Case {
    fn small(&self) -> [usize; 2] {
        std::array::from_fn(|a| {
            (self.big[a] + 2 * self.pad[a] - self.dilation[a] * (self.kernel[a] - 1) - 1)
                / self.stride[a]
                + 1
        })
    }

    /// Calls `f(item, small channel, small index, big channel, big index, weight index)` for
    /// every product a convolution of this geometry forms.
    fn for_each_link(&self, mut f: impl FnMut(usize, usize, usize, usize, usize, usize)) {
        let [sh, sw] = self.small();
        let [bh, bw] = self.big;
        let (sg, bg) = (self.small_ch / self.groups, self.big_ch / self.groups);
        let [kh, kw] = self.kernel;
        for b in 0..self.n {
            for o in 0..self.small_ch {
                let group = o / sg;
                for i in 0..sh {
                    for j in 0..sw {
                        for c in 0..bg {
                            for ki in 0..kh {
                                for kj in 0..kw {
                                    let y = (i * self.stride[0] + ki * self.dilation[0]) as isize
                                        - self.pad[0] as isize;
                                    let x = (j * self.stride[1] + kj * self.dilation[1]) as isize
                                        - self.pad[1] as isize;
                                    if y < 0 || x < 0 || y >= bh as isize || x >= bw as isize {
                                        continue;
                                    }
                                    let cb = group * bg + c;
                                    f(
                                        b,
                                        o,
                                        i * sw + j,
                                        cb,
                                        y as usize * bw + x as usize,
                                        ((o * bg + c) * kh + ki) * kw + kj,
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
        })
        .collect()
}

fn assert_close(what: &str, case: &Case, got: &[f32], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what} length, {case:?}");
    let err: f64 = got
        .iter()
        .zip(want)
        .map(|(g, w)| (f64::from(*g) - w).powi(2))
        .sum();
    let norm: f64 = want.iter().map(|w| w * w).sum();
    let rel = (err / norm.max(1e-30)).sqrt();
    assert!(rel < 1e-5, "{what}: relative error {rel:e}, {case:?}");
}

fn tensor(data: Vec<f32>, shape: [usize; 4], device: &Device) -> Tensor<4> {
    Tensor::from_data(TensorData::new(data, shape), device).require_grad()
}

/// `y = conv2d(x, w, b)`, loss `Σ y·r`: checks y, dL/dx = convᵀ(r), dL/dw and dL/db.
fn check_conv(case: &Case) {
    let device = Device::flex().autodiff();
    let [sh, sw] = case.small();
    let (small, big) = (sh * sw, case.big[0] * case.big[1]);
    let kk = case.kernel[0] * case.kernel[1];
    let xs = values(case.n * case.big_ch * big, 1);
    let ws = values(case.small_ch * case.big_ch / case.groups * kk, 2);
    let bs = values(case.small_ch, 3);
    let rs = values(case.n * case.small_ch * small, 4);
    let x = tensor(
        xs.clone(),
        [case.n, case.big_ch, case.big[0], case.big[1]],
        &device,
    );
    let w = tensor(
        ws.clone(),
        [
            case.small_ch,
            case.big_ch / case.groups,
            case.kernel[0],
            case.kernel[1],
        ],
        &device,
    );
    let b = Tensor::<1>::from_data(TensorData::new(bs.clone(), [case.small_ch]), &device)
        .require_grad();
    let r = Tensor::<4>::from_data(
        TensorData::new(rs.clone(), [case.n, case.small_ch, sh, sw]),
        &device,
    );
    let options = ConvOptions::new(case.stride, case.pad, case.dilation, case.groups);
    let y = conv2d(x.clone(), w.clone(), Some(b.clone()), options);
    let grads = (y.clone() * r).sum().backward();

    let mut y_ref = vec![0.0f64; rs.len()];
    let mut dx_ref = vec![0.0f64; xs.len()];
    let mut dw_ref = vec![0.0f64; ws.len()];
    case.for_each_link(|n, o, s, c, p, k| {
        let (si, bi) = (
            (n * case.small_ch + o) * small + s,
            (n * case.big_ch + c) * big + p,
        );
        y_ref[si] += f64::from(ws[k]) * f64::from(xs[bi]);
        dx_ref[bi] += f64::from(ws[k]) * f64::from(rs[si]);
        dw_ref[k] += f64::from(rs[si]) * f64::from(xs[bi]);
    });
    let mut db_ref = vec![0.0f64; bs.len()];
    for (i, v) in y_ref.iter_mut().enumerate() {
        let o = (i / small) % case.small_ch;
        *v += f64::from(bs[o]);
        db_ref[o] += f64::from(rs[i]);
    }
    assert_close("conv2d forward", case, &to_vec(y), &y_ref);
    assert_close(
        "conv2d dx",
        case,
        &to_vec(x.grad(&grads).expect("dx")),
        &dx_ref,
    );
    assert_close(
        "conv2d dw",
        case,
        &to_vec(w.grad(&grads).expect("dw")),
        &dw_ref,
    );
    assert_close(
        "conv2d db",
        case,
        &to_vec(b.grad(&grads).expect("db")),
        &db_ref,
    );
}

/// `y = conv_transpose2d(x, w, b)` (x on the small side), loss `Σ y·r`.
fn check_conv_transpose(case: &Case) {
    let device = Device::flex().autodiff();
    let [sh, sw] = case.small();
    // The transposed convolution's own output size, which maps back onto the same small plane.
    let out: [usize; 2] = std::array::from_fn(|a| {
        ([sh, sw][a] - 1) * case.stride[a] + case.dilation[a] * (case.kernel[a] - 1) + 1
            - 2 * case.pad[a]
            + case.pad_out[a]
    });
    let case = Case { big: out, ..*case };
    let (small, big) = (sh * sw, out[0] * out[1]);
    let kk = case.kernel[0] * case.kernel[1];
    let xs = values(case.n * case.small_ch * small, 5);
    let ws = values(case.small_ch * case.big_ch / case.groups * kk, 6);
    let bs = values(case.big_ch, 7);
    let rs = values(case.n * case.big_ch * big, 8);
    let x = tensor(xs.clone(), [case.n, case.small_ch, sh, sw], &device);
    let w = tensor(
        ws.clone(),
        [
            case.small_ch,
            case.big_ch / case.groups,
            case.kernel[0],
            case.kernel[1],
        ],
        &device,
    );
    let b =
        Tensor::<1>::from_data(TensorData::new(bs.clone(), [case.big_ch]), &device).require_grad();
    let r = Tensor::<4>::from_data(
        TensorData::new(rs.clone(), [case.n, case.big_ch, out[0], out[1]]),
        &device,
    );
    let options = ConvTransposeOptions::new(
        case.stride,
        case.pad,
        case.pad_out,
        case.dilation,
        case.groups,
    );
    let y = conv_transpose2d(x.clone(), w.clone(), Some(b.clone()), options);
    assert_eq!(y.dims(), [case.n, case.big_ch, out[0], out[1]], "{case:?}");
    let grads = (y.clone() * r).sum().backward();

    // The links of the small plane are those of the convolution over the unpadded big plane.
    let mut y_ref = vec![0.0f64; rs.len()];
    let mut dx_ref = vec![0.0f64; xs.len()];
    let mut dw_ref = vec![0.0f64; ws.len()];
    case.for_each_link(|n, o, s, c, p, k| {
        let (si, bi) = (
            (n * case.small_ch + o) * small + s,
            (n * case.big_ch + c) * big + p,
        );
        y_ref[bi] += f64::from(ws[k]) * f64::from(xs[si]);
        dx_ref[si] += f64::from(ws[k]) * f64::from(rs[bi]);
        dw_ref[k] += f64::from(xs[si]) * f64::from(rs[bi]);
    });
    let mut db_ref = vec![0.0f64; bs.len()];
    for (i, v) in y_ref.iter_mut().enumerate() {
        let c = (i / big) % case.big_ch;
        *v += f64::from(bs[c]);
        db_ref[c] += f64::from(rs[i]);
    }
    assert_close("conv_transpose2d forward", &case, &to_vec(y), &y_ref);
    assert_close(
        "conv_transpose2d dx",
        &case,
        &to_vec(x.grad(&grads).expect("dx")),
        &dx_ref,
    );
    assert_close(
        "conv_transpose2d dw",
        &case,
        &to_vec(w.grad(&grads).expect("dw")),
        &dw_ref,
    );
    assert_close(
        "conv_transpose2d db",
        &case,
        &to_vec(b.grad(&grads).expect("db")),
        &db_ref,
    );
}

fn cases() -> Vec<Case> {
    let base = Case {
        n: 2,
        small_ch: 4,
        big_ch: 3,
        big: [9, 8],
        kernel: [3, 3],
        stride: [2, 2],
        pad: [1, 1],
        dilation: [1, 1],
        groups: 1,
        pad_out: [1, 1],
    };
    vec![
        // The conv autoencoder's layers (batch 3 for speed): 28→14, 14→7 and back.
        Case {
            n: 3,
            small_ch: 32,
            big_ch: 1,
            big: [28, 28],
            ..base
        },
        Case {
            n: 3,
            small_ch: 64,
            big_ch: 32,
            big: [14, 14],
            ..base
        },
        Case {
            stride: [1, 1],
            pad: [0, 0],
            pad_out: [0, 0],
            ..base
        },
        Case {
            stride: [1, 2],
            pad: [2, 0],
            kernel: [3, 2],
            pad_out: [0, 1],
            ..base
        },
        Case {
            dilation: [2, 1],
            kernel: [2, 3],
            pad: [1, 2],
            ..base
        },
        Case {
            groups: 2,
            small_ch: 4,
            big_ch: 6,
            pad_out: [0, 0],
            ..base
        },
        Case {
            stride: [3, 3],
            kernel: [1, 1],
            pad: [0, 0],
            pad_out: [2, 0],
            ..base
        },
        // More items than a block holds, so several blocks and tasks take part.
        Case {
            n: 40,
            big: [6, 6],
            ..base
        },
    ]
}

#[test]
fn conv2d_forward_and_gradients_match_a_direct_evaluation() {
    for case in cases() {
        check_conv(&case);
    }
}

#[test]
fn conv_transpose2d_forward_and_gradients_match_a_direct_evaluation() {
    for case in cases() {
        check_conv_transpose(&case);
    }
}
