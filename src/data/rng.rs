//! A tiny seeded random generator (SplitMix64) for shuffling and corruption.
//!
//! Our own, so that a seed means the same numbers on every platform and every dependency version.

/// SplitMix64: fast, statistically fine for shuffling and noise, and reproducible from a seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Uniform integer in [0, n).
    pub fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }

    /// Standard normal, by Box-Muller.
    pub fn normal(&mut self) -> f32 {
        self.normal_pair().0
    }

    /// Two independent standard normals from one Box-Muller draw.
    pub fn normal_pair(&mut self) -> (f32, f32) {
        let u1 = 1.0 - self.uniform(); // (0, 1]: keeps ln finite
        let u2 = self.uniform();
        let r = (-2.0 * u1.ln()).sqrt();
        let (sin, cos) = (std::f32::consts::TAU * u2).sin_cos();
        (r * cos, r * sin)
    }

    /// Fisher-Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_has_unit_moments() {
        let mut r = Rng::new(3);
        let xs: Vec<f32> = (0..20000).map(|_| r.normal()).collect();
        let mean = xs.iter().sum::<f32>() / xs.len() as f32;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / xs.len() as f32;
        assert!(mean.abs() < 0.03, "{mean}");
        assert!((var - 1.0).abs() < 0.05, "{var}");
    }

    #[test]
    fn both_values_of_a_pair_are_unit_normals_and_uncorrelated() {
        let mut r = Rng::new(4);
        let pairs: Vec<(f32, f32)> = (0..20000).map(|_| r.normal_pair()).collect();
        let n = pairs.len() as f32;
        let var_b = pairs.iter().map(|p| p.1 * p.1).sum::<f32>() / n;
        let mean_b = pairs.iter().map(|p| p.1).sum::<f32>() / n;
        let cov = pairs.iter().map(|p| p.0 * p.1).sum::<f32>() / n;
        assert!(mean_b.abs() < 0.03, "{mean_b}");
        assert!((var_b - 1.0).abs() < 0.05, "{var_b}");
        assert!(cov.abs() < 0.03, "{cov}");
    }

    #[test]
    fn shuffle_is_a_seeded_permutation() {
        let mut a: Vec<usize> = (0..100).collect();
        let mut b = a.clone();
        Rng::new(7).shuffle(&mut a);
        Rng::new(7).shuffle(&mut b);
        assert_eq!(a, b);
        assert_ne!(a, (0..100).collect::<Vec<_>>());
        a.sort();
        assert_eq!(a, (0..100).collect::<Vec<_>>());
    }
}
