//! The reconstruction loss in one host pass on the Flex CPU backend.
//!
//! As tensor operations, BCE on logits is nine element-wise kernels forward (abs, neg, exp,
//! log1p, relu, mul, sub, add, mean) and about as many backward, each a pass over the batch
//! with a fresh allocation, and three transcendental functions per pixel; it was the largest
//! element-wise cost of a dense step (bench/NOTES.md). Here one pass (split across the rayon
//! pool) computes the loss value and its gradient with respect to the logits, using one
//! `exp` and one `ln` per pixel. The gradient enters autodiff through a linear surrogate:
//! `sum(logits · g) − detach(…) + value` has the loss as its value and `g` as its gradient.
//!
//! Only for f32 tensors on the Flex device; [`super::reconstruction_loss`] keeps the tensor
//! formulation for every other device, so GPU tensors never come to the host.

use burn::tensor::{DType, Device, Tensor, TensorData};
use rayon::prelude::*;

use crate::settings::LossKind;

/// Pixels per parallel work item.
const CHUNK: usize = 1 << 13;

/// Whether `t` is an f32 tensor on the Flex CPU device: where the host fast paths (this
/// loss, `train::adam`) apply.
pub fn host_f32<const D: usize>(t: &Tensor<D>) -> bool {
    t.device() == Device::flex() && t.dtype() == DType::F32
}

/// Whether [`loss`] applies to these tensors.
pub fn applies<const D: usize>(logits: &Tensor<D>, target: &Tensor<D>) -> bool {
    host_f32(logits) && host_f32(target) && logits.shape() == target.shape()
}

/// Mean reconstruction loss over all elements, with autodiff gradient, computed on the host.
/// Callers check [`applies`] first.
pub fn loss<const D: usize>(logits: Tensor<D>, target: Tensor<D>, kind: LossKind) -> Tensor<1> {
    let device = logits.device();
    let shape = logits.shape();
    let x = logits.clone().detach().into_data();
    let t = target.into_data();
    let (Ok(x), Ok(t)) = (x.as_slice::<f32>(), t.as_slice::<f32>()) else {
        unreachable!("applies() checked the dtype")
    };
    let (value, grad) = value_and_grad(x, t, kind);
    let grad = Tensor::<D>::from_data(TensorData::new(grad, shape), &device);
    let linear = (logits * grad).sum();
    let value = Tensor::<1>::from_data(TensorData::new(vec![value], [1]), &device);
    linear.clone() - linear.detach() + value
}

/// The mean loss and its gradient with respect to each logit.
fn value_and_grad(x: &[f32], t: &[f32], kind: LossKind) -> (f32, Vec<f32>) {
    let n = x.len().max(1) as f32;
    let mut grad = vec![0.0f32; x.len()];
    let kernel = |x: &[f32], t: &[f32], g: &mut [f32]| -> f64 {
        let mut sum = 0.0f64;
        for ((&x, &t), g) in x.iter().zip(t).zip(g.iter_mut()) {
            // e = exp(−|x|) never overflows; σ(x) and softplus(−|x|) = ln(1 + e) = −ln r both
            // follow from it. `ln` instead of `ln_1p`: glibc's log1pf cost 8 % of a dense step,
            // and for e < 2⁻²⁴, where 1 + e rounds to 1, the term it drops is below 6e-8.
            let e = (-x.abs()).exp();
            let r = 1.0 / (1.0 + e);
            let s = if x >= 0.0 { r } else { e * r };
            match kind {
                LossKind::Bce => {
                    sum += f64::from(x.max(0.0) - x * t - r.ln());
                    *g = (s - t) / n;
                }
                LossKind::Mse => {
                    let d = s - t;
                    sum += f64::from(d * d);
                    *g = 2.0 * d * s * (1.0 - s) / n;
                }
            }
        }
        sum
    };
    let sum: f64 = if x.len() <= CHUNK {
        kernel(x, t, &mut grad)
    } else {
        x.par_chunks(CHUNK)
            .zip(t.par_chunks(CHUNK))
            .zip(grad.par_chunks_mut(CHUNK))
            .map(|((x, t), g)| kernel(x, t, g))
            .sum()
    };
    ((sum / f64::from(n)) as f32, grad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{tensor_loss, to_vec};

    /// The fused loss against the tensor formulation (value) and the analytic derivative in
    /// f64 (gradient; the tensor formulation's subgradient at x = 0 is off by ½), on logits
    /// from −60 to 60 and targets in [0, 1], for both kinds, over more than one chunk.
    #[test]
    fn agrees_with_the_tensor_formulation_and_the_analytic_gradient() {
        let device = Device::flex().autodiff();
        let n = CHUNK * 2 + 101;
        let xs: Vec<f32> = (0..n)
            .map(|i| ((i * 7919) % 12001) as f32 / 100.0 - 60.0)
            .collect();
        let ts: Vec<f32> = (0..n)
            .map(|i| ((i * 104_729) % 1001) as f32 / 1000.0)
            .collect();
        for kind in [LossKind::Bce, LossKind::Mse] {
            let x =
                Tensor::<2>::from_data(TensorData::new(xs.clone(), [1, n]), &device).require_grad();
            let t = Tensor::<2>::from_data(TensorData::new(ts.clone(), [1, n]), &device);
            assert!(applies(&x, &t));
            let fused = loss(x.clone(), t.clone(), kind);
            let value = to_vec(fused.clone())[0];
            let want = to_vec(tensor_loss(x.clone().detach(), t, kind))[0];
            assert!(
                (value - want).abs() <= 1e-5 * want.abs().max(1.0),
                "{kind:?} value {value} vs {want}"
            );
            let grads = fused.backward();
            let got = to_vec(x.grad(&grads).expect("a gradient"));
            for (i, (&g, (&x, &t))) in got.iter().zip(xs.iter().zip(&ts)).enumerate() {
                let (x, t) = (f64::from(x), f64::from(t));
                let s = 1.0 / (1.0 + (-x).exp());
                let want = match kind {
                    LossKind::Bce => s - t,
                    LossKind::Mse => 2.0 * (s - t) * s * (1.0 - s),
                } / n as f64;
                assert!(
                    (f64::from(g) - want).abs() <= 1e-6 / n as f64,
                    "{kind:?} gradient {i} (x = {x}): {g} vs {want}"
                );
            }
        }
    }

    /// A NaN logit makes the loss NaN (the training loop's divergence check relies on it).
    #[test]
    fn a_nan_logit_gives_a_nan_loss() {
        let device = Device::flex();
        for kind in [LossKind::Bce, LossKind::Mse] {
            let x = Tensor::<1>::from_floats([0.5f32, f32::NAN], &device);
            let t = Tensor::<1>::from_floats([1.0f32, 0.0], &device);
            assert!(to_vec(loss(x, t, kind))[0].is_nan(), "{kind:?}");
        }
    }
}
