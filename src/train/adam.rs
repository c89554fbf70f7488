//! Adam with one fused pass per parameter on the CPU.
//!
//! burn's `Adam` updates a parameter with about a dozen whole-tensor operations (scale the
//! moments, square the gradient, square root, divide, …), each a separate pass over memory
//! with a fresh allocation, all on the training thread. On the Flex CPU backend that was the
//! largest share of a dense step after the matrix products (bench/NOTES.md). [`FusedAdam`]
//! does the same arithmetic, in the same order, in one pass over parameter, gradient and both
//! moments, split across the rayon pool. On any other device (wgpu) it hands the step to
//! burn's `Adam`, so GPU tensors never make a round trip to the host.
//!
//! The state is burn's own `AdamState`, so optimizer files stay interchangeable with `Adam`'s.

use burn::optim::{
    Adam, AdamConfig, AdamState, AdaptiveMomentumState, LearningRate, ModuleOptimizer, Optimizer,
};
use burn::tensor::{Device, Tensor, TensorData};
use rayon::prelude::*;

use crate::model::host_f32;

/// Elements per parallel work item: large enough that scheduling costs nothing next to the
/// arithmetic, small enough that a 400 k-element weight splits across the cores.
const CHUNK: usize = 1 << 14;

/// Adam (no weight decay, no AMSGrad), fused on the CPU.
#[derive(Clone)]
pub struct FusedAdam {
    beta_1: f32,
    beta_2: f32,
    epsilon: f32,
    /// burn's Adam with the same settings, for tensors that do not live on the Flex backend.
    fallback: Adam,
}

impl FusedAdam {
    pub fn new(beta_1: f32, beta_2: f32, epsilon: f32) -> Self {
        let fallback = AdamConfig::new()
            .with_beta_1(beta_1)
            .with_beta_2(beta_2)
            .with_epsilon(epsilon)
            .build();
        Self {
            beta_1,
            beta_2,
            epsilon,
            fallback,
        }
    }

    /// The optimizer for a whole module.
    pub fn init(self) -> ModuleOptimizer {
        ModuleOptimizer::from(self)
    }
}

/// The moments of one parameter and the step they have seen, on the host.
struct Moments {
    time: usize,
    m: TensorData,
    v: TensorData,
}

impl Optimizer for FusedAdam {
    type State<const D: usize> = AdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        if !(host_f32(&tensor) && host_f32(&grad)) {
            return self.fallback.step(lr, tensor, grad, state);
        }
        let device = tensor.device();
        let shape = tensor.shape();
        let mut moments = match state {
            Some(s) => Moments {
                time: s.momentum.time,
                m: s.momentum.moment_1.into_data(),
                v: s.momentum.moment_2.into_data(),
            },
            None => {
                let zeros = TensorData::new(vec![0.0f32; shape.num_elements()], shape.clone());
                Moments {
                    time: 0,
                    m: zeros.clone(),
                    v: zeros,
                }
            }
        };
        // The training loop keeps the pre-update weights (for its divergence rule), so the
        // parameter's buffer is shared and `into_data` would copy it twice (to a byte vector,
        // then again to realign it). Scaling by one writes a fresh, unshared copy in one
        // vectorised pass, which `into_data` then hands over without copying.
        let mut param = tensor.mul_scalar(1.0).into_data();
        let grad = grad.into_data();
        moments.time += 1;
        let done = self.update(lr as f32, &mut param, &grad, &mut moments);
        if done.is_err() {
            // Only reachable with a state of another dtype: let burn's Adam deal with it.
            let tensor = Tensor::from_data(param, &device);
            let grad = Tensor::from_data(grad, &device);
            return self.fallback.step(lr, tensor, grad, None);
        }
        let momentum = AdaptiveMomentumState::new(
            moments.time,
            Tensor::from_data(moments.m, &device),
            Tensor::from_data(moments.v, &device),
        );
        (
            Tensor::from_data(param, &device),
            Some(AdamState::new(momentum)),
        )
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        Adam::to_device(state, device)
    }
}

impl FusedAdam {
    /// One Adam update in place, with burn's `Adam` arithmetic in the same order (so the
    /// results agree to the last bit on the same inputs).
    fn update(
        &self,
        lr: f32,
        param: &mut TensorData,
        grad: &TensorData,
        moments: &mut Moments,
    ) -> Result<(), burn::tensor::DataError> {
        let (b1, b2, eps) = (self.beta_1, self.beta_2, self.epsilon);
        let time = moments.time as i32;
        let bias_correction2_sqrt = (1.0 - b2.powi(time)).sqrt();
        let combined = bias_correction2_sqrt / (1.0 - b1.powi(time));
        let eps_hat = eps * bias_correction2_sqrt;
        let (f1, f2) = (1.0 - b1, 1.0 - b2);
        let p = param.as_mut_slice::<f32>()?;
        let g = grad.as_slice::<f32>()?;
        let m = moments.m.as_mut_slice::<f32>()?;
        let v = moments.v.as_mut_slice::<f32>()?;
        let kernel = |p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]| {
            for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
                *m = *m * b1 + g * f1;
                *v = *v * b2 + (g * g) * f2;
                let step = (*m * combined) / (v.sqrt() + eps_hat);
                *p -= step * lr;
            }
        };
        if p.len() <= CHUNK {
            kernel(p, g, m, v);
        } else {
            p.par_chunks_mut(CHUNK)
                .zip(g.par_chunks(CHUNK))
                .zip(m.par_chunks_mut(CHUNK))
                .zip(v.par_chunks_mut(CHUNK))
                .for_each(|(((p, g), m), v)| kernel(p, g, m, v));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Module;
    use burn::nn::{Linear, LinearConfig};
    use burn::optim::GradientsParams;

    fn weights(model: &Linear) -> Vec<f32> {
        let mut out = crate::model::to_vec(model.weight.val());
        if let Some(b) = &model.bias {
            out.extend(crate::model::to_vec(b.val()));
        }
        out
    }

    /// Five steps of the fused optimizer and of burn's Adam from the same start and the same
    /// gradients land on the same weights; both moved away from the start.
    #[test]
    fn matches_burns_adam() {
        let device = Device::flex().autodiff();
        device.seed(3);
        let start: Linear = LinearConfig::new(40, 30).init(&device);
        let input = Tensor::<2>::random(
            [8, 40],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            &device,
        );
        let run = |mut optim: ModuleOptimizer| {
            let mut model = start.clone();
            for step in 0..5 {
                let loss = model
                    .forward(input.clone())
                    .mul_scalar(1.0 + step as f32)
                    .square()
                    .mean();
                let grads = GradientsParams::from_grads(loss.backward(), &model);
                model = optim.step(1e-2, model, grads);
            }
            weights(&model)
        };
        let ours = run(FusedAdam::new(0.9, 0.999, 1e-8).init());
        let burns = run(AdamConfig::new().with_epsilon(1e-8).init());
        let before = weights(&start);
        let moved = ours
            .iter()
            .zip(&before)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(moved > 1e-2, "the weights hardly moved: {moved}");
        let diff = ours
            .iter()
            .zip(&burns)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(diff <= 1e-6, "fused and burn's Adam differ by {diff}");
        // The whole module was visited, big and small tensors alike.
        assert_eq!(ours.len(), start.num_params());
    }

    /// A tensor larger than one chunk goes through the parallel path and gets the same
    /// update as through the sequential one.
    #[test]
    fn parallel_chunks_agree_with_one_pass() {
        let n = CHUNK * 3 + 17;
        let adam = FusedAdam::new(0.9, 0.999, 1e-8);
        let g: Vec<f32> = (0..n)
            .map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0)
            .collect();
        let grad = TensorData::new(g.clone(), [n]);
        let fresh = || Moments {
            time: 1,
            m: TensorData::new(vec![0.0f32; n], [n]),
            v: TensorData::new(vec![0.0f32; n], [n]),
        };
        let mut whole = TensorData::new(vec![1.0f32; n], [n]);
        let mut moments = fresh();
        adam.update(1e-3, &mut whole, &grad, &mut moments).unwrap();
        // The sequential reference: the same formula element by element.
        let (b1, b2) = (0.9f32, 0.999f32);
        let bc2 = (1.0 - b2).sqrt();
        let combined = bc2 / (1.0 - b1);
        let got = whole.as_slice::<f32>().unwrap();
        for (i, &gi) in g.iter().enumerate() {
            let m = gi * (1.0 - b1);
            let v = (gi * gi) * (1.0 - b2);
            let want = 1.0 - ((m * combined) / (v.sqrt() + 1e-8 * bc2)) * 1e-3;
            assert_eq!(got[i], want, "element {i}");
        }
    }
}
