//! Principal component analysis of latent codes, for drawing them in 2-D or 3-D.
//!
//! Power iteration with deflation on the covariance matrix: the codes are low-dimensional
//! (a few to a few hundred), so this is cheap and needs no linear-algebra crate.

/// The top principal axes of a point cloud.
#[derive(Debug, Clone, PartialEq)]
pub struct Pca {
    pub dim: usize,
    pub mean: Vec<f32>,
    /// Unit axes, `components[k]` of length `dim`, by decreasing variance.
    pub components: Vec<Vec<f32>>,
    /// Variance along each axis.
    pub variances: Vec<f32>,
    /// Fraction of the total variance each axis explains.
    pub explained: Vec<f32>,
    /// How many points the axes were fitted on (fewer than were projected when sampled).
    pub fitted_on: usize,
}

impl Pca {
    /// Fits `k` axes to `points` (`[n, dim]`, row-major). `previous` (a fit of the same
    /// dimension) seeds the iteration and fixes each axis's sign, so a live view does not flip.
    pub fn fit(points: &[f32], dim: usize, k: usize, previous: Option<&Pca>) -> Option<Pca> {
        let n = points.len() / dim.max(1);
        if n < 2 || dim == 0 {
            return None;
        }
        let k = k.min(dim);
        let mut mean = vec![0.0f64; dim];
        for p in points.chunks_exact(dim) {
            for (m, v) in mean.iter_mut().zip(p) {
                *m += *v as f64;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        let mut cov = vec![0.0f64; dim * dim];
        let mut centred = vec![0.0f64; dim];
        for p in points.chunks_exact(dim) {
            for (c, (v, m)) in centred.iter_mut().zip(p.iter().zip(&mean)) {
                *c = *v as f64 - m;
            }
            for i in 0..dim {
                let ci = centred[i];
                let row = &mut cov[i * dim..(i + 1) * dim];
                for (r, cj) in row[i..].iter_mut().zip(&centred[i..]) {
                    *r += ci * cj;
                }
            }
        }
        for i in 0..dim {
            for j in i..dim {
                let v = cov[i * dim + j] / (n - 1) as f64;
                cov[i * dim + j] = v;
                cov[j * dim + i] = v;
            }
        }
        let total: f64 = (0..dim).map(|i| cov[i * dim + i]).sum();
        let prev = previous.filter(|p| p.dim == dim);
        let mut components = Vec::with_capacity(k);
        let mut variances = Vec::with_capacity(k);
        for c in 0..k {
            let mut v: Vec<f64> = match prev.and_then(|p| p.components.get(c)) {
                Some(axis) => axis.iter().map(|&x| x as f64).collect(),
                None => (0..dim)
                    .map(|i| 1.0 + ((i * 7 + c * 13) % 11) as f64 * 0.1)
                    .collect(),
            };
            let mut lambda = 0.0;
            for _ in 0..300 {
                let mut w = mat_vec(&cov, &v, dim);
                // Deflate: remove the axes found so far.
                for axis in &components {
                    let axis: &Vec<f64> = axis;
                    let d = dot(&w, axis);
                    w.iter_mut().zip(axis).for_each(|(x, a)| *x -= d * a);
                }
                let norm = dot(&w, &w).sqrt();
                if norm < 1e-30 {
                    break;
                }
                w.iter_mut().for_each(|x| *x /= norm);
                let change = 1.0 - dot(&w, &v).abs() / dot(&v, &v).sqrt().max(1e-30);
                v = w;
                lambda = norm;
                if change < 1e-10 {
                    break;
                }
            }
            if let Some(p) = prev.and_then(|p| p.components.get(c)) {
                let same_sign: f64 = v.iter().zip(p).map(|(a, b)| a * *b as f64).sum();
                if same_sign < 0.0 {
                    v.iter_mut().for_each(|x| *x = -*x);
                }
            }
            components.push(v);
            variances.push(lambda);
        }
        Some(Pca {
            dim,
            fitted_on: n,
            mean: mean.iter().map(|&m| m as f32).collect(),
            explained: variances
                .iter()
                .map(|v| if total > 0.0 { (v / total) as f32 } else { 0.0 })
                .collect(),
            variances: variances.iter().map(|&v| v as f32).collect(),
            components: components
                .into_iter()
                .map(|c| c.into_iter().map(|x| x as f32).collect())
                .collect(),
        })
    }

    /// Like [`Pca::fit`], on at most `max_points` of the points (an even stride through them):
    /// the axes of a few thousand points are as good for display, and a live view refits often.
    pub fn fit_sampled(
        points: &[f32],
        dim: usize,
        k: usize,
        previous: Option<&Pca>,
        max_points: usize,
    ) -> Option<Pca> {
        let n = points.len() / dim.max(1);
        if n <= max_points || max_points == 0 {
            return Pca::fit(points, dim, k, previous);
        }
        let stride = n.div_ceil(max_points);
        let sample: Vec<f32> = points
            .chunks_exact(dim)
            .step_by(stride)
            .flatten()
            .copied()
            .collect();
        Pca::fit(&sample, dim, k, previous)
    }

    /// What a view's title adds when the axes were fitted on a sample of its `n` points
    /// (every point is still projected): never silently.
    pub fn sample_note(&self, n: usize) -> String {
        if self.fitted_on < n {
            format!("; fitted on {} of the {n} points", self.fitted_on)
        } else {
            String::new()
        }
    }

    /// Coordinates of `point` along the axes.
    pub fn project(&self, point: &[f32]) -> Vec<f32> {
        self.components
            .iter()
            .map(|axis| {
                axis.iter()
                    .zip(point.iter().zip(&self.mean))
                    .map(|(a, (p, m))| a * (p - m))
                    .sum()
            })
            .collect()
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn mat_vec(m: &[f64], v: &[f64], dim: usize) -> Vec<f64> {
    (0..dim)
        .map(|i| dot(&m[i * dim..(i + 1) * dim], v))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Rng;

    /// Points spread 5 : 2 : 0.5 along three known orthogonal axes in 6-D, plus an offset.
    fn cloud() -> (Vec<f32>, [[f32; 6]; 3]) {
        let s = 0.5f32.sqrt();
        let axes = [
            [s, s, 0.0, 0.0, 0.0, 0.0],
            [0.0, 0.0, 1.0, 0.0, 0.0, 0.0],
            [s, -s, 0.0, 0.0, 0.0, 0.0],
        ];
        let mut rng = Rng::new(9);
        let mut pts = Vec::new();
        for _ in 0..3000 {
            let coef = [5.0 * rng.normal(), 2.0 * rng.normal(), 0.5 * rng.normal()];
            for d in 0..6 {
                let v: f32 = coef.iter().zip(&axes).map(|(c, axis)| c * axis[d]).sum();
                pts.push(v + 0.01 * rng.normal() + d as f32);
            }
        }
        (pts, axes)
    }

    #[test]
    fn recovers_known_axes_and_their_variance() {
        let (pts, axes) = cloud();
        let pca = Pca::fit(&pts, 6, 3, None).unwrap();
        for (c, axis) in pca.components.iter().zip(&axes) {
            let cos: f32 = c.iter().zip(axis).map(|(a, b)| a * b).sum();
            assert!(cos.abs() > 0.999, "axis off by cos {cos}");
        }
        assert!((pca.variances[0] - 25.0).abs() < 2.0, "{:?}", pca.variances);
        assert!((pca.variances[1] - 4.0).abs() < 0.4, "{:?}", pca.variances);
        let sum: f32 = pca.explained.iter().sum();
        assert!(sum > 0.99 && sum <= 1.0001, "{sum}");
        assert!((pca.mean[3] - 3.0).abs() < 0.01);
    }

    #[test]
    fn a_sample_finds_the_same_axes() {
        let (pts, axes) = cloud();
        let pca = Pca::fit_sampled(&pts, 6, 2, None, 500).unwrap();
        for (c, axis) in pca.components.iter().zip(&axes) {
            let cos: f32 = c.iter().zip(axis).map(|(a, b)| a * b).sum();
            assert!(cos.abs() > 0.995, "axis off by cos {cos}");
        }
        // The title says the axes come from a sample; a full fit says nothing.
        let n = pts.len() / 6;
        assert!(pca.fitted_on <= 500, "{}", pca.fitted_on);
        assert_eq!(
            pca.sample_note(n),
            format!("; fitted on {} of the {n} points", pca.fitted_on)
        );
        assert_eq!(Pca::fit(&pts, 6, 2, None).unwrap().sample_note(n), "");
    }

    #[test]
    fn a_warm_start_keeps_the_signs() {
        let (pts, _) = cloud();
        let first = Pca::fit(&pts, 6, 2, None).unwrap();
        let flipped = Pca {
            components: first
                .components
                .iter()
                .map(|c| c.iter().map(|x| -x).collect())
                .collect(),
            ..first.clone()
        };
        let again = Pca::fit(&pts, 6, 2, Some(&flipped)).unwrap();
        let dot: f32 = again.components[0]
            .iter()
            .zip(&flipped.components[0])
            .map(|(a, b)| a * b)
            .sum();
        assert!(dot > 0.999);
        let p = again.project(&pts[..6]);
        assert_eq!(p.len(), 2);
    }
}
