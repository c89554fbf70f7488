//! Working with latent codes on the host: projections for display, grids of decodes.
//!
//! Plain `f32` math, no burn, no egui; the studio calls it from its UI thread.

pub mod export;
pub mod pca;

pub use pca::Pca;

use crate::data::Rng;
use crate::protocol::{ImageGrid, LatentDecoder};

/// Decodes an `n`×`n` grid of codes spanning [-r, r]² in the first two latent dimensions (the
/// others 0): row-major, the first dimension growing rightwards and the second upwards, as in
/// the classic VAE manifold figure.
pub fn manifold_grid(decoder: &dyn LatentDecoder, n: usize, r: f32) -> ImageGrid {
    let dim = decoder.latent_dim();
    let mut codes = vec![0.0f32; n * n * dim];
    let at = |i: usize| -r + 2.0 * r * i as f32 / (n - 1).max(1) as f32;
    for row in 0..n {
        for col in 0..n {
            let code = &mut codes[(row * n + col) * dim..(row * n + col + 1) * dim];
            code[0] = at(col);
            if dim > 1 {
                code[1] = at(n - 1 - row);
            }
        }
    }
    decoder.decode(&codes)
}

/// Decodes `count` codes drawn from the prior N(0, I).
pub fn prior_samples(decoder: &dyn LatentDecoder, count: usize, rng: &mut Rng) -> ImageGrid {
    let codes: Vec<f32> = (0..count * decoder.latent_dim())
        .map(|_| rng.normal())
        .collect();
    decoder.decode(&codes)
}
