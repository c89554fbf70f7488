//! Statistics of a latent cloud, computed once per snapshot on the trainer thread and shared by
//! every view: per-dimension mean and spread, code activity (mean |z|, near-zero fractions), and
//! the principal axes the scatters and the manifold project on.
//!
//! Plain `f32` data and math; no burn, no egui.

use super::{DISPLAY_FIT_POINTS, Pca};

/// Below this magnitude an activation counts as zero.
pub const NEAR_ZERO: f32 = 0.01;

/// Principal axes fitted, at most: the 3-D scatter's three. Deflation finds the axes in order,
/// so the first two are the ones a 2-axis fit would find, for the 2-D scatter and the manifold.
pub const PCA_AXES: usize = 3;

/// What every view needs to know about a cloud of `[n, dim]` codes; vectors are `[dim]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LatentStats {
    /// Mean per dimension.
    pub mean: Vec<f32>,
    /// Standard deviation per dimension (population: divided by n).
    pub std: Vec<f32>,
    /// Mean |z| per dimension.
    pub mean_abs: Vec<f32>,
    /// Fraction of the points with |z| < [`NEAR_ZERO`], per dimension.
    pub zero_frac: Vec<f32>,
    /// Fraction of all activations (every point, every dimension) with |z| < [`NEAR_ZERO`].
    pub overall_zero: f32,
    /// Up to [`PCA_AXES`] principal axes, fitted on at most [`DISPLAY_FIT_POINTS`] points, for a
    /// latent of more than two dimensions (and at least two points); `None` otherwise.
    pub pca: Option<Pca>,
    /// Every point on the principal axes (`[n]`, missing axes 0), when `pca` is there:
    /// projected once with the cloud, on the trainer's thread, so a view of 200 000 points
    /// does not redo it on the UI thread.
    pub projected: Vec<[f32; PCA_AXES]>,
}

impl LatentStats {
    /// Computes the statistics of `codes` (`[n, dim]`, row-major). `previous` (the last
    /// snapshot's axes) warm-starts the PCA and fixes each axis's sign, so a live view does not
    /// flip between snapshots.
    pub fn compute(codes: &[f32], dim: usize, previous: Option<&Pca>) -> Self {
        if dim == 0 {
            return Self::default();
        }
        let n = codes.len() / dim;
        let mut sum = vec![0.0f64; dim];
        let mut abs = vec![0.0f64; dim];
        let mut zeros = vec![0usize; dim];
        for p in codes.chunks_exact(dim) {
            for (d, &v) in p.iter().enumerate() {
                sum[d] += v as f64;
                abs[d] += v.abs() as f64;
                if v.abs() < NEAR_ZERO {
                    zeros[d] += 1;
                }
            }
        }
        let per_point = 1.0 / n.max(1) as f64;
        let mean: Vec<f64> = sum.iter().map(|s| s * per_point).collect();
        // A second pass about the mean: no cancellation when the spread is small beside the mean.
        let mut sq = vec![0.0f64; dim];
        for p in codes.chunks_exact(dim) {
            for ((s, &v), m) in sq.iter_mut().zip(p).zip(&mean) {
                *s += (v as f64 - m).powi(2);
            }
        }
        let total_zeros: usize = zeros.iter().sum();
        let pca = if dim > 2 {
            Pca::fit_sampled(codes, dim, PCA_AXES.min(dim), previous, DISPLAY_FIT_POINTS)
        } else {
            None
        };
        let projected = pca.as_ref().map_or_else(Vec::new, |p| {
            codes
                .chunks_exact(dim)
                .map(|c| {
                    let v = p.project(c);
                    std::array::from_fn(|k| v.get(k).copied().unwrap_or(0.0))
                })
                .collect()
        });
        Self {
            mean: mean.iter().map(|&m| m as f32).collect(),
            std: sq.iter().map(|s| (s * per_point).sqrt() as f32).collect(),
            mean_abs: abs.iter().map(|a| (a * per_point) as f32).collect(),
            zero_frac: zeros
                .iter()
                .map(|&z| (z as f64 * per_point) as f32)
                .collect(),
            overall_zero: (total_zeros as f64 * per_point / dim as f64) as f32,
            pca,
            projected,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Rng;

    #[test]
    fn known_cloud_gives_known_moments_and_activity() {
        // Four points in 2-D: dimension 0 is 0, 0.005, 0.5, -0.001; dimension 1 is 1, -2, 0, 3.
        let codes = [0.0, 1.0, 0.005, -2.0, 0.5, 0.0, -0.001, 3.0];
        let s = LatentStats::compute(&codes, 2, None);
        let close = |a: f32, b: f32| (a - b).abs() < 1e-6;
        assert!(
            close(s.mean[0], 0.126) && close(s.mean[1], 0.5),
            "{:?}",
            s.mean
        );
        // Population variance of dimension 1: (0.25 + 6.25 + 0.25 + 6.25) / 4 = 3.25.
        assert!(close(s.std[1], 3.25f32.sqrt()), "{:?}", s.std);
        let var0 = [0.0f32, 0.005, 0.5, -0.001]
            .iter()
            .map(|v| (v - 0.126).powi(2))
            .sum::<f32>()
            / 4.0;
        assert!(close(s.std[0], var0.sqrt()), "{:?}", s.std);
        assert!(close(s.mean_abs[0], 0.506 / 4.0) && close(s.mean_abs[1], 1.5));
        assert_eq!(s.zero_frac, vec![0.75, 0.25]);
        assert!(close(s.overall_zero, 0.5), "{}", s.overall_zero);
    }

    #[test]
    fn an_empty_cloud_has_zero_statistics_of_the_right_length() {
        let s = LatentStats::compute(&[], 3, None);
        assert_eq!(s.mean, vec![0.0; 3]);
        assert_eq!(s.std, vec![0.0; 3]);
        assert_eq!(s.overall_zero, 0.0);
        assert!(s.pca.is_none());
    }

    fn gaussian_cloud(n: usize, dim: usize, seed: u64) -> Vec<f32> {
        let mut rng = Rng::new(seed);
        (0..n * dim)
            .map(|i| (1.0 + (i % dim) as f32) * rng.normal())
            .collect()
    }

    #[test]
    fn principal_axes_come_only_for_more_than_two_dimensions() {
        for dim in 1..=5 {
            let codes = gaussian_cloud(200, dim, 3);
            let s = LatentStats::compute(&codes, dim, None);
            assert_eq!(s.pca.is_some(), dim > 2, "dim {dim}");
            // Every point comes projected on the axes, as the views would project it.
            assert_eq!(s.projected.len(), if dim > 2 { 200 } else { 0 });
            if let Some(p) = &s.pca {
                assert_eq!(p.components.len(), PCA_AXES.min(dim), "dim {dim}");
                for (c, q) in codes.chunks_exact(dim).zip(&s.projected) {
                    assert_eq!(&q[..], &p.project(c)[..], "dim {dim}");
                }
            }
        }
    }

    #[test]
    fn a_warm_start_keeps_the_axes_pointing_the_same_way() {
        let dim = 6;
        let codes = gaussian_cloud(1500, dim, 11);
        let first = LatentStats::compute(&codes, dim, None).pca.unwrap();
        // Every axis flipped: a cold fit would land on the unflipped ones.
        let flipped = Pca {
            components: first
                .components
                .iter()
                .map(|c| c.iter().map(|x| -x).collect())
                .collect(),
            ..first.clone()
        };
        let mut rng = Rng::new(5);
        let perturbed: Vec<f32> = codes.iter().map(|v| v + 0.05 * rng.normal()).collect();
        for previous in [&first, &flipped] {
            let again = LatentStats::compute(&perturbed, dim, Some(previous))
                .pca
                .unwrap();
            for (a, b) in again.components.iter().zip(&previous.components) {
                let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
                assert!(dot > 0.9, "axis turned away from the previous one: {dot}");
            }
        }
    }
}
