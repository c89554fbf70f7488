//! How well a latent space separates known factors of variation (the shapes set's shape,
//! scale, rotation, x and y): the mutual information of every (dimension, factor) pair and the
//! Mutual Information Gap (Chen et al. 2018), and traversals that show what each dimension
//! does. Plain `f32` math; no burn, no egui.
//!
//! Each latent dimension is discretised into [`BINS`] equal-width bins over its range, as in
//! disentanglement_lib (Locatello et al. 2019), and its mutual information with each factor is
//! computed from the joint histogram. A factor's gap is the difference between the two largest
//! mutual informations any dimensions have with it, divided by the factor's entropy: 1 when one
//! dimension holds the factor and no other does, 0 when two hold it equally or none does. MIG is
//! the mean gap over the factors.

use serde::Serialize;

use crate::data::Factors;
use crate::protocol::{LatentDecoder, SampleGrid};

/// Bins per latent dimension.
pub const BINS: usize = 20;

#[derive(Debug, Clone, Serialize)]
pub struct Disentanglement {
    /// The Mutual Information Gap, in [0, 1].
    pub mig: f32,
    pub factor_names: Vec<String>,
    /// `[F]`: each factor's normalised gap.
    pub gaps: Vec<f32>,
    /// `[F]`: each factor's entropy, nats.
    pub factor_entropy: Vec<f32>,
    /// `[D][F]`: the mutual information of dimension d with factor f, nats.
    pub mutual_information: Vec<Vec<f32>>,
    /// `[D]`: the factor each dimension holds most of (by mutual information over the factor's
    /// entropy), with that share; `None` for a dimension that holds none (share below 0.05).
    pub captures: Vec<Option<(String, f32)>>,
    /// Codes scored.
    pub points: usize,
}

/// Scores `codes` (`[N, dim]`, row-major) against the factors of the same `N` samples.
/// `None` when there are no codes or no factors.
pub fn score(codes: &[f32], dim: usize, factors: &Factors) -> Option<Disentanglement> {
    let n = codes.len() / dim.max(1);
    let count = factors.names.len();
    if n == 0 || dim == 0 || count == 0 || factors.values.len() != n * count {
        return None;
    }
    let columns: Vec<Vec<u32>> = (0..count).map(|f| factors.column(f)).collect();
    let entropy: Vec<f32> = columns
        .iter()
        .zip(&factors.levels)
        .map(|(c, &levels)| entropy_of(c, levels))
        .collect();
    let mutual_information: Vec<Vec<f32>> = (0..dim)
        .map(|d| {
            let bins = discretise(codes.iter().skip(d).step_by(dim).copied());
            columns
                .iter()
                .zip(&factors.levels)
                .map(|(c, &levels)| mutual_information(&bins, c, levels))
                .collect()
        })
        .collect();
    let gaps: Vec<f32> = (0..count)
        .map(|f| {
            let mut mi: Vec<f32> = mutual_information.iter().map(|row| row[f]).collect();
            mi.sort_by(|a, b| b.total_cmp(a));
            let second = mi.get(1).copied().unwrap_or(0.0);
            if entropy[f] > 0.0 {
                (mi[0] - second) / entropy[f]
            } else {
                0.0
            }
        })
        .collect();
    let captures = mutual_information
        .iter()
        .map(|row| {
            row.iter()
                .zip(&entropy)
                .map(|(mi, h)| if *h > 0.0 { mi / h } else { 0.0 })
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .filter(|(_, share)| *share >= 0.05)
                .map(|(f, share)| (factors.names[f].clone(), share))
        })
        .collect();
    Some(Disentanglement {
        mig: gaps.iter().sum::<f32>() / count as f32,
        factor_names: factors.names.clone(),
        gaps,
        factor_entropy: entropy,
        mutual_information,
        captures,
        points: n,
    })
}

/// Each value's bin among [`BINS`] equal-width bins over the values' range.
fn discretise(values: impl Iterator<Item = f32> + Clone) -> Vec<usize> {
    let (lo, hi) = values
        .clone()
        .filter(|v| v.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    let width = (hi - lo) / BINS as f32;
    values
        .map(|v| {
            if width > 0.0 && v.is_finite() {
                (((v - lo) / width) as usize).min(BINS - 1)
            } else {
                0
            }
        })
        .collect()
}

fn entropy_of(levels_of: &[u32], levels: usize) -> f32 {
    let mut counts = vec![0usize; levels.max(1)];
    for &v in levels_of {
        counts[(v as usize).min(levels.max(1) - 1)] += 1;
    }
    let n = levels_of.len().max(1) as f64;
    -counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            p * p.ln()
        })
        .sum::<f64>() as f32
}

/// I(bin; factor) in nats, from the joint histogram.
fn mutual_information(bins: &[usize], factor: &[u32], levels: usize) -> f32 {
    let levels = levels.max(1);
    let mut joint = vec![0usize; BINS * levels];
    let (mut pb, mut pf) = (vec![0usize; BINS], vec![0usize; levels]);
    for (&b, &f) in bins.iter().zip(factor) {
        let f = (f as usize).min(levels - 1);
        joint[b * levels + f] += 1;
        pb[b] += 1;
        pf[f] += 1;
    }
    let n = bins.len().max(1) as f64;
    let mut mi = 0.0f64;
    for b in 0..BINS {
        for f in 0..levels {
            let c = joint[b * levels + f];
            if c > 0 {
                let p = c as f64 / n;
                mi += p * (p * n * n / (pb[b] as f64 * pf[f] as f64)).ln();
            }
        }
    }
    mi.max(0.0) as f32
}

/// Decodes one row per latent dimension: `steps` codes from `base` with that dimension moved
/// from −`span`·σ_d to +`span`·σ_d (σ_d its spread, `std[d]`), the others held. Row-major.
pub fn traversals(
    decoder: &dyn LatentDecoder,
    base: &[f32],
    std: &[f32],
    span: f32,
    steps: usize,
) -> SampleGrid {
    let dim = decoder.latent_dim();
    let mut codes = Vec::with_capacity(dim * steps * dim);
    for d in 0..dim {
        for s in 0..steps {
            let t = -span + 2.0 * span * s as f32 / (steps - 1).max(1) as f32;
            codes.extend((0..dim).map(|i| {
                let b = base.get(i).copied().unwrap_or(0.0);
                if i == d {
                    b + t * std.get(d).copied().unwrap_or(1.0)
                } else {
                    b
                }
            }));
        }
    }
    decoder.decode(&codes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Rng;

    fn factors(rng: &mut Rng, n: usize) -> Factors {
        let levels = vec![3, 16];
        Factors {
            names: vec!["shape".into(), "x".into()],
            values: (0..n)
                .flat_map(|_| [rng.below(3) as u32, rng.below(16) as u32])
                .collect(),
            levels,
        }
    }

    #[test]
    fn one_dimension_per_factor_scores_near_one_and_noise_near_zero() {
        let mut rng = Rng::new(2);
        let n = 3000;
        let f = factors(&mut rng, n);
        // Dimension 0 is the x level, dimension 1 the shape, dimension 2 noise.
        let separated: Vec<f32> = (0..n)
            .flat_map(|i| {
                let v = f.of(i);
                [v[1] as f32 + 0.01 * rng.normal(), v[0] as f32, rng.normal()]
            })
            .collect();
        let s = score(&separated, 3, &f).expect("a score");
        assert!(s.mig > 0.9, "separated: {s:?}");
        assert_eq!(s.captures[0].as_ref().map(|c| c.0.as_str()), Some("x"));
        assert_eq!(s.captures[1].as_ref().map(|c| c.0.as_str()), Some("shape"));
        assert!(s.captures[2].is_none(), "{:?}", s.captures[2]);
        // The same information in two dimensions each: no gap.
        let doubled: Vec<f32> = (0..n)
            .flat_map(|i| {
                let v = f.of(i);
                [v[1] as f32, v[1] as f32, v[0] as f32, v[0] as f32]
            })
            .collect();
        assert!(score(&doubled, 4, &f).expect("a score").mig < 0.05);
        // Codes unrelated to the factors: near zero.
        let noise: Vec<f32> = (0..3 * n).map(|_| rng.normal()).collect();
        assert!(score(&noise, 3, &f).expect("a score").mig < 0.05);
        // A rotation of the separated code mixes x and shape in both dimensions: lower.
        let mixed: Vec<f32> = separated
            .chunks(3)
            .flat_map(|c| [c[0] + 4.0 * c[1], c[0] - 4.0 * c[1]])
            .collect();
        let m = score(&mixed, 2, &f).expect("a score").mig;
        assert!(m < 0.5 * s.mig, "mixed {m} vs separated {}", s.mig);
    }

    #[test]
    fn nothing_to_score_gives_none() {
        let f = factors(&mut Rng::new(1), 0);
        assert!(score(&[], 2, &f).is_none());
    }
}
