//! Working with latent codes on the host: projections for display, grids of decodes.
//!
//! Plain `f32` math, no burn, no egui; the studio calls it from its UI thread, except
//! [`LatentStats`], which the trainer computes with each snapshot.

pub mod disentangle;
pub mod export;
pub mod grid;
pub mod pca;
pub mod probe;
pub mod stats;
pub mod swap;
pub mod tsne;

pub use pca::Pca;
pub use stats::{LatentStats, NEAR_ZERO};

/// Points a live view fits its projection on, at most (see [`Pca::fit_sampled`]).
pub const DISPLAY_FIT_POINTS: usize = 2000;

use crate::data::Rng;
use crate::protocol::{LatentDecoder, SampleGrid};

/// Decodes an `n`×`n` grid of codes spanning [-r, r]² in the first two latent dimensions (the
/// others 0): row-major, the first dimension growing rightwards and the second upwards, as in
/// the classic VAE manifold figure.
pub fn manifold_grid(decoder: &dyn LatentDecoder, n: usize, r: f32) -> SampleGrid {
    let dim = decoder.latent_dim();
    let v = if dim > 1 {
        axis(dim, 1)
    } else {
        vec![0.0; dim]
    };
    plane_grid(decoder, &vec![0.0; dim], (&axis(dim, 0), r), (&v, r), n)
}

/// The unit vector along latent dimension `d` of `dim`.
pub fn axis(dim: usize, d: usize) -> Vec<f32> {
    (0..dim).map(|i| if i == d { 1.0 } else { 0.0 }).collect()
}

/// Decodes an `n`×`n` grid of codes `center + a·u + b·v`, a ∈ [-ru, ru] growing rightwards and
/// b ∈ [-rv, rv] growing upwards; row-major.
pub fn plane_grid(
    decoder: &dyn LatentDecoder,
    center: &[f32],
    (u, ru): (&[f32], f32),
    (v, rv): (&[f32], f32),
    n: usize,
) -> SampleGrid {
    let dim = decoder.latent_dim();
    let at = |i: usize, r: f32| -r + 2.0 * r * i as f32 / (n - 1).max(1) as f32;
    let mut codes = Vec::with_capacity(n * n * dim);
    for row in 0..n {
        let b = at(n - 1 - row, rv);
        for col in 0..n {
            let a = at(col, ru);
            codes.extend((0..dim).map(|d| center[d] + a * u[d] + b * v[d]));
        }
    }
    decoder.decode(&codes)
}

/// `steps` codes from `a` to `b` inclusive: along the straight line, or along the great circle
/// (spherical interpolation, which keeps the norm typical of a Gaussian prior) when `spherical`.
pub fn interpolate(a: &[f32], b: &[f32], steps: usize, spherical: bool) -> Vec<f32> {
    let steps = steps.max(2);
    let norm = |x: &[f32]| x.iter().map(|v| v * v).sum::<f32>().sqrt();
    let (na, nb) = (norm(a), norm(b));
    let cos = if na > 0.0 && nb > 0.0 {
        (a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>() / (na * nb)).clamp(-1.0, 1.0)
    } else {
        1.0
    };
    let omega = cos.acos();
    let mut out = Vec::with_capacity(steps * a.len());
    for s in 0..steps {
        let t = s as f32 / (steps - 1) as f32;
        let (wa, wb) = if spherical && omega.sin().abs() > 1e-4 {
            (
                ((1.0 - t) * omega).sin() / omega.sin(),
                (t * omega).sin() / omega.sin(),
            )
        } else {
            (1.0 - t, t)
        };
        out.extend(a.iter().zip(b).map(|(x, y)| wa * x + wb * y));
    }
    out
}

/// Decodes `count` codes drawn from the prior N(0, I).
pub fn prior_samples(decoder: &dyn LatentDecoder, count: usize, rng: &mut Rng) -> SampleGrid {
    let codes: Vec<f32> = (0..count * decoder.latent_dim())
        .map(|_| rng.normal())
        .collect();
    decoder.decode(&codes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolation_ends_at_both_points() {
        let (a, b) = ([1.0f32, 0.0], [0.0f32, 2.0]);
        for spherical in [false, true] {
            let path = interpolate(&a, &b, 5, spherical);
            assert_eq!(path.len(), 10);
            assert!((path[0] - 1.0).abs() < 1e-6 && path[1].abs() < 1e-6);
            assert!(path[8].abs() < 1e-5 && (path[9] - 2.0).abs() < 1e-5);
        }
        // Linear: the midpoint is the mean. Spherical: it keeps a norm between the ends'.
        let lin = interpolate(&a, &b, 3, false);
        assert_eq!(&lin[2..4], &[0.5, 1.0]);
        let sph = interpolate(&a, &b, 3, true);
        let mid = (sph[2] * sph[2] + sph[3] * sph[3]).sqrt();
        assert!(mid > 1.2, "{mid}");
    }
}
