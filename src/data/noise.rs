//! Input corruption for the denoising autoencoder: Gaussian, salt-and-pepper and masking noise.
//!
//! Works on plain value slices on the host, before a batch is uploaded. For images (values in
//! [0, 1]) the results stay in [0, 1]; for real-valued series Gaussian noise is not clamped,
//! salt and pepper sets values to ±2 (two standard deviations of normalised data) and masking
//! to 0 (their mean).

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::ValueRange;
use super::rng::Rng;

/// Pixels per work item. Each item draws from its own generator, seeded in order from the
/// caller's, so the result depends on the seed alone, not on the number of threads.
const CHUNK: usize = 1 << 12;

/// Which corruption to apply; the level is σ for Gaussian and a probability for the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
pub enum NoiseKind {
    /// No corruption.
    #[default]
    None,
    /// Adds N(0, σ²) to each pixel, then clamps to [0, 1].
    Gaussian,
    /// Sets each pixel to 0 or 1 (half each) with probability p.
    SaltPepper,
    /// Sets each pixel to 0 with probability p.
    Mask,
}

impl NoiseKind {
    pub const ALL: [NoiseKind; 4] = [
        NoiseKind::None,
        NoiseKind::Gaussian,
        NoiseKind::SaltPepper,
        NoiseKind::Mask,
    ];

    pub fn label(self) -> &'static str {
        match self {
            NoiseKind::None => "none",
            NoiseKind::Gaussian => "Gaussian (σ)",
            NoiseKind::SaltPepper => "salt & pepper (p)",
            NoiseKind::Mask => "masking (p)",
        }
    }
}

/// A corruption and its level.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Noise {
    pub kind: NoiseKind,
    pub level: f32,
}

impl Noise {
    /// The denoising model's reference corruption: Gaussian, σ = 0.3.
    pub const REFERENCE: Noise = Noise {
        kind: NoiseKind::Gaussian,
        level: 0.3,
    };

    /// True when applying it would change nothing.
    pub fn is_identity(&self) -> bool {
        self.kind == NoiseKind::None || self.level <= 0.0
    }

    /// Corrupts `pixels` in place, in parallel chunks (a 128-image batch of Gaussian noise
    /// took about a third of a denoising step when drawn one pixel at a time on one thread).
    pub fn apply(&self, pixels: &mut [f32], range: ValueRange, rng: &mut Rng) {
        if self.is_identity() {
            return;
        }
        let seeds: Vec<u64> = (0..pixels.len().div_ceil(CHUNK))
            .map(|_| rng.next_u64())
            .collect();
        pixels
            .par_chunks_mut(CHUNK)
            .zip(seeds)
            .for_each(|(chunk, seed)| self.apply_chunk(chunk, range, &mut Rng::new(seed)));
    }

    fn apply_chunk(&self, pixels: &mut [f32], range: ValueRange, rng: &mut Rng) {
        let level = self.level;
        let (lo, hi) = match range {
            ValueRange::Unit => (0.0, 1.0),
            ValueRange::Real => (-2.0, 2.0),
        };
        let unit = range == ValueRange::Unit;
        match self.kind {
            NoiseKind::None => {}
            NoiseKind::Gaussian => {
                // Both values of each Box-Muller draw.
                for pair in pixels.chunks_mut(2) {
                    let (a, b) = rng.normal_pair();
                    for (p, n) in pair.iter_mut().zip([a, b]) {
                        *p += level * n;
                        if unit {
                            *p = p.clamp(0.0, 1.0);
                        }
                    }
                }
            }
            NoiseKind::SaltPepper => {
                for p in pixels {
                    if rng.uniform() < level {
                        *p = if rng.uniform() < 0.5 { lo } else { hi };
                    }
                }
            }
            NoiseKind::Mask => {
                for p in pixels {
                    if rng.uniform() < level {
                        *p = 0.0;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grey(n: usize) -> Vec<f32> {
        vec![0.5; n]
    }

    #[test]
    fn gaussian_has_the_requested_spread_and_stays_in_range() {
        let mut x = grey(20000);
        let noise = Noise {
            kind: NoiseKind::Gaussian,
            level: 0.1,
        };
        noise.apply(&mut x, ValueRange::Unit, &mut Rng::new(1));
        let var = x.iter().map(|v| (v - 0.5).powi(2)).sum::<f32>() / x.len() as f32;
        assert!((var.sqrt() - 0.1).abs() < 0.005, "std {}", var.sqrt());
        let mut y = grey(1000);
        Noise {
            kind: NoiseKind::Gaussian,
            level: 3.0,
        }
        .apply(&mut y, ValueRange::Unit, &mut Rng::new(1));
        assert!(y.iter().all(|v| (0.0..=1.0).contains(v)));
    }

    #[test]
    fn salt_and_pepper_hits_the_requested_fraction() {
        let mut x = grey(20000);
        let noise = Noise {
            kind: NoiseKind::SaltPepper,
            level: 0.2,
        };
        noise.apply(&mut x, ValueRange::Unit, &mut Rng::new(2));
        let hit = x.iter().filter(|&&v| v != 0.5).count() as f32 / x.len() as f32;
        let salt = x.iter().filter(|&&v| v == 1.0).count() as f32 / x.len() as f32;
        assert!((hit - 0.2).abs() < 0.01, "{hit}");
        assert!((salt - 0.1).abs() < 0.01, "{salt}");
    }

    #[test]
    fn masking_zeroes_the_requested_fraction() {
        let mut x = grey(20000);
        let noise = Noise {
            kind: NoiseKind::Mask,
            level: 0.3,
        };
        noise.apply(&mut x, ValueRange::Unit, &mut Rng::new(3));
        let zero = x.iter().filter(|&&v| v == 0.0).count() as f32 / x.len() as f32;
        assert!((zero - 0.3).abs() < 0.01, "{zero}");
        assert!(x.iter().all(|&v| v == 0.0 || v == 0.5));
    }

    /// The same seed gives the same corruption whatever the number of threads, and a
    /// different seed a different one.
    #[test]
    fn a_seed_means_the_same_noise_on_any_number_of_threads() {
        let noise = Noise {
            kind: NoiseKind::Gaussian,
            level: 0.3,
        };
        let on = |threads: usize, seed: u64| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let mut x = grey(3 * CHUNK + 77);
            pool.install(|| noise.apply(&mut x, ValueRange::Unit, &mut Rng::new(seed)));
            x
        };
        let one = on(1, 5);
        assert_eq!(one, on(2, 5));
        assert_ne!(one, on(2, 6));
        // The chunks do not repeat one another.
        assert_ne!(one[..CHUNK], one[CHUNK..2 * CHUNK]);
    }

    #[test]
    fn none_or_zero_level_changes_nothing() {
        let mut x = grey(100);
        Noise {
            kind: NoiseKind::Gaussian,
            level: 0.0,
        }
        .apply(&mut x, ValueRange::Unit, &mut Rng::new(4));
        Noise {
            kind: NoiseKind::None,
            level: 0.5,
        }
        .apply(&mut x, ValueRange::Unit, &mut Rng::new(4));
        assert_eq!(x, grey(100));
    }

    #[test]
    fn real_valued_series_are_not_clamped_to_the_unit_range() {
        let mut x = vec![0.5f32; 4000];
        Noise::REFERENCE.apply(&mut x, ValueRange::Real, &mut Rng::new(5));
        assert!(x.iter().any(|&v| v < 0.0) && x.iter().any(|&v| v > 1.0));
        let mut y = vec![0.5f32; 4000];
        Noise {
            kind: NoiseKind::SaltPepper,
            level: 0.5,
        }
        .apply(&mut y, ValueRange::Real, &mut Rng::new(6));
        assert!(y.iter().all(|&v| v == 0.5 || v == -2.0 || v == 2.0));
        assert!(y.contains(&-2.0) && y.contains(&2.0));
    }
}
