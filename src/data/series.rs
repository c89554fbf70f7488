//! Built-in synthetic sequences: six labelled families of one-channel series, generated from a
//! seed, so sequence models have data without any files.
//!
//! Each series has its own random frequency (about 1.5 to 4 cycles over the series), phase,
//! amplitude (0.6 to 1.2) and additive Gaussian noise (σ 0.03 to 0.08). Every family is roughly
//! zero-mean, so the classes differ in shape, not in offset. Owns generation only; never imports
//! egui or burn.

use std::f32::consts::TAU;

use super::{DataSplit, Dataset, Rng, SampleShape, SeriesShape};

/// Time steps per series when nothing else is asked for.
pub const DEFAULT_STEPS: usize = 64;
/// The seed of the built-in set (`DataSpec::SyntheticSeq`).
pub const BUILTIN_SEED: u64 = 0;
/// Training series (balanced: an equal number per family).
pub const TRAIN_SIZE: usize = 3000;
/// Test series (balanced).
pub const TEST_SIZE: usize = 600;
/// The families, in label order.
pub const CLASS_NAMES: [&str; 6] = ["sine", "square", "sawtooth", "damped", "chirp", "bump"];

/// The synthetic-sequence dataset: [`TRAIN_SIZE`] train and [`TEST_SIZE`] test series of
/// `steps` steps (at least 2; smaller values are raised to 2), stored `[N, 1, steps]`.
/// The same seed gives the same numbers; sample `i` has label `i % 6`.
pub fn synthetic(seed: u64, steps: usize) -> DataSplit {
    let steps = steps.max(2);
    let mut rng = Rng::new(seed);
    let train = generate(&mut rng, TRAIN_SIZE, steps);
    let test = generate(&mut rng, TEST_SIZE, steps);
    DataSplit {
        name: "Synthetic sequences".to_string(),
        train,
        test,
        warnings: Vec::new(),
    }
}

fn generate(rng: &mut Rng, n: usize, steps: usize) -> Dataset {
    let mut values = Vec::with_capacity(n * steps);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let label = i % CLASS_NAMES.len();
        values.extend(one_series(rng, label, steps));
        labels.push(label as u32);
    }
    Dataset {
        shape: SampleShape::Series(SeriesShape { channels: 1, steps }),
        values: values.into(),
        labels: Some(labels),
        class_names: CLASS_NAMES.iter().map(|s| s.to_string()).collect(),
        factors: None,
    }
}

/// Uniform in [lo, hi).
fn between(rng: &mut Rng, lo: f32, hi: f32) -> f32 {
    lo + (hi - lo) * rng.uniform()
}

/// One series of family `label`; `t` runs from 0 to 1 over the series.
fn one_series(rng: &mut Rng, label: usize, steps: usize) -> Vec<f32> {
    let cycles = between(rng, 1.5, 4.0);
    let phase = between(rng, 0.0, TAU);
    let amp = between(rng, 0.6, 1.2);
    let sigma = between(rng, 0.03, 0.08);
    let times: Vec<f32> = (0..steps).map(|i| i as f32 / (steps - 1) as f32).collect();
    let clean: Vec<f32> = match CLASS_NAMES[label] {
        "sine" => times
            .iter()
            .map(|t| amp * (TAU * cycles * t + phase).sin())
            .collect(),
        "square" => times
            .iter()
            .map(|t| amp * (TAU * cycles * t + phase).sin().signum())
            .collect(),
        "sawtooth" => times
            .iter()
            .map(|t| amp * (2.0 * (cycles * t + phase / TAU).fract() - 1.0))
            .collect(),
        "damped" => {
            let decay = between(rng, 2.5, 5.0);
            times
                .iter()
                .map(|t| amp * (-decay * t).exp() * (TAU * cycles * t + phase).sin())
                .collect()
        }
        "chirp" => {
            // Instantaneous frequency rises linearly from f0 to f1 cycles per series; the
            // phase is its integral. About 2.3 to 4.3 cycles in all.
            let f0 = between(rng, 0.5, 1.5);
            let f1 = between(rng, 4.0, 7.0);
            times
                .iter()
                .map(|t| amp * (TAU * (f0 * t + 0.5 * (f1 - f0) * t * t) + phase).sin())
                .collect()
        }
        _ => {
            let centre = between(rng, 0.25, 0.75);
            let width = between(rng, 0.05, 0.12);
            let bump: Vec<f32> = times
                .iter()
                .map(|t| amp * (-(t - centre).powi(2) / (2.0 * width * width)).exp())
                .collect();
            // The flat baseline sits below zero by the bump's mean, so the series is zero-mean.
            let baseline = bump.iter().sum::<f32>() / steps as f32;
            bump.iter().map(|b| b - baseline).collect()
        }
    };
    clean.iter().map(|v| v + sigma * rng.normal()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_shape_and_balanced_classes() {
        let d = synthetic(1, DEFAULT_STEPS);
        assert_eq!(d.name, "Synthetic sequences");
        assert_eq!(d.train.len(), TRAIN_SIZE);
        assert_eq!(d.test.len(), TEST_SIZE);
        assert_eq!(
            d.train.shape,
            SampleShape::Series(SeriesShape {
                channels: 1,
                steps: 64
            })
        );
        assert_eq!(d.train.values.len(), TRAIN_SIZE * 64);
        assert_eq!(d.train.class_names, CLASS_NAMES);
        assert!(d.warnings.is_empty());
        for (set, per_class) in [(&d.train, 500), (&d.test, 100)] {
            let labels = set.labels.as_ref().unwrap();
            assert_eq!(labels.len(), set.len());
            for c in 0..6 {
                assert_eq!(labels.iter().filter(|&&l| l == c).count(), per_class);
            }
            assert!(set.values.to_f32().iter().all(|v| v.is_finite()));
        }
        assert_eq!(synthetic(1, 0).train.shape.len(), 2);
    }

    #[test]
    fn deterministic_per_seed_and_different_across_seeds() {
        let a = synthetic(5, 32);
        let b = synthetic(5, 32);
        let c = synthetic(6, 32);
        assert_eq!(a.train.values, b.train.values);
        assert_eq!(a.test.values, b.test.values);
        assert_ne!(a.train.values, c.train.values);
    }

    #[test]
    fn values_are_roughly_zero_mean_and_not_clamped() {
        let d = synthetic(2, DEFAULT_STEPS);
        let n = d.train.len();
        for c in 0..6u32 {
            let idx: Vec<usize> = (0..n).filter(|&i| d.train.label(i) == Some(c)).collect();
            let mean = idx
                .iter()
                .map(|&i| d.train.sample(i).iter().sum::<f32>())
                .sum::<f32>()
                / (idx.len() * 64) as f32;
            assert!(mean.abs() < 0.1, "{}: mean {mean}", CLASS_NAMES[c as usize]);
        }
        assert!(d.train.values.to_f32().iter().any(|&v| v < -0.5));
        assert!(d.train.values.to_f32().iter().any(|&v| v > 1.0));
    }

    /// Phase- and amplitude-free features: jumps, flatness, where the energy and the zero
    /// crossings sit, and how peaked the series is.
    fn features(x: &[f32]) -> Vec<f32> {
        let n = x.len();
        let rms = (x.iter().map(|v| v * v).sum::<f32>() / n as f32)
            .sqrt()
            .max(1e-6);
        let diffs: Vec<f32> = x.windows(2).map(|w| (w[1] - w[0]) / rms).collect();
        let max_up = diffs.iter().cloned().fold(0.0, f32::max);
        let max_down = -diffs.iter().cloned().fold(0.0, f32::min);
        let mean_abs = x.iter().map(|v| v.abs()).sum::<f32>() / n as f32 / rms;
        let half = n / 2;
        let energy = |s: &[f32]| s.iter().map(|v| v * v).sum::<f32>();
        let late_energy = energy(&x[half..]) / (energy(x) + 1e-6);
        let crossings = |s: &[f32]| s.windows(2).filter(|w| w[0] * w[1] < 0.0).count() as f32;
        let late_crossings = crossings(&x[half..]) / (crossings(x) + 1.0);
        let peak = x.iter().cloned().fold(f32::MIN, f32::max) / rms;
        let trough = -x.iter().cloned().fold(f32::MAX, f32::min) / rms;
        vec![
            max_up,
            max_down,
            mean_abs,
            late_energy,
            late_crossings,
            peak,
            trough,
        ]
    }

    #[test]
    fn families_are_distinguishable_by_a_nearest_centroid_classifier() {
        let d = synthetic(3, DEFAULT_STEPS);
        let feats = |set: &Dataset| -> Vec<Vec<f32>> {
            (0..set.len()).map(|i| features(&set.sample(i))).collect()
        };
        let (train, test) = (feats(&d.train), feats(&d.test));
        let k = train[0].len();
        let n = train.len() as f32;
        let mean: Vec<f32> = (0..k)
            .map(|j| train.iter().map(|f| f[j]).sum::<f32>() / n)
            .collect();
        let std: Vec<f32> = (0..k)
            .map(|j| {
                let v = train.iter().map(|f| (f[j] - mean[j]).powi(2)).sum::<f32>() / n;
                v.sqrt().max(1e-6)
            })
            .collect();
        let z = |f: &[f32]| -> Vec<f32> { (0..k).map(|j| (f[j] - mean[j]) / std[j]).collect() };
        let mut centroids = vec![vec![0.0f32; k]; 6];
        for (i, f) in train.iter().enumerate() {
            let c = d.train.label(i).unwrap() as usize;
            for (m, v) in centroids[c].iter_mut().zip(z(f)) {
                *m += v / 500.0;
            }
        }
        let mut correct = [0usize; 6];
        for (i, f) in test.iter().enumerate() {
            let zf = z(f);
            let dist = |c: &Vec<f32>| c.iter().zip(&zf).map(|(a, b)| (a - b).powi(2)).sum::<f32>();
            let guess = (0..6)
                .min_by(|&a, &b| dist(&centroids[a]).total_cmp(&dist(&centroids[b])))
                .unwrap();
            let truth = d.test.label(i).unwrap() as usize;
            if guess == truth {
                correct[truth] += 1;
            }
        }
        let accuracy = correct.iter().sum::<usize>() as f32 / test.len() as f32;
        // Chance is 1/6; each family must also be recognised well above chance.
        assert!(accuracy > 0.8, "accuracy {accuracy}, per class {correct:?}");
        for (c, &hits) in correct.iter().enumerate() {
            assert!(hits > 50, "{}: {hits}/100 {correct:?}", CLASS_NAMES[c]);
        }
    }
}
