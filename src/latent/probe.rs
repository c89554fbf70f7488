//! Linear probes: how well a straight cut through some code dimensions tells the classes
//! apart. A softmax regression on standardised features, fitted on one half of the codes and
//! scored on the other, so a high score means the class is linearly readable from those
//! dimensions, not memorised.

use std::ops::Range;

/// Gradient steps of the fit; full-batch on at most a few thousand points, so milliseconds.
const STEPS: usize = 400;
const LR: f32 = 0.5;
/// L2 weight decay, so separable data does not run the weights to infinity.
const DECAY: f32 = 1e-3;

/// Codes `[n, dim]` (row-major) with their labels.
#[derive(Debug, Clone, Copy)]
pub struct Labelled<'a> {
    pub codes: &'a [f32],
    pub labels: &'a [u32],
}

impl<'a> Labelled<'a> {
    /// Dimensions `dims` of each code with its label.
    fn rows(&self, dim: usize, dims: &Range<usize>) -> Vec<(&'a [f32], u32)> {
        let n = (self.codes.len() / dim.max(1)).min(self.labels.len());
        (0..n)
            .map(|i| {
                (
                    &self.codes[i * dim + dims.start..i * dim + dims.end],
                    self.labels[i],
                )
            })
            .collect()
    }
}

/// Held-out accuracy of a linear classifier of `labels` from dimensions `dims` of `codes`
/// (`[n, dim]`, row-major). Even points fit it, odd points score it. `None` with fewer than
/// four points or an empty range.
pub fn accuracy(
    codes: &[f32],
    dim: usize,
    dims: Range<usize>,
    labels: &[u32],
    classes: usize,
) -> Option<f32> {
    if dims.is_empty() || dims.end > dim {
        return None;
    }
    let rows = Labelled { codes, labels }.rows(dim, &dims);
    let fit: Vec<_> = rows.iter().step_by(2).copied().collect();
    let held: Vec<_> = rows.iter().skip(1).step_by(2).copied().collect();
    fit_and_score(&fit, &held, classes)
}

/// Accuracy on `held` of a linear classifier fitted on `fit`, both read at dimensions `dims`:
/// for small data sets, where half of the test codes is too few to fit on, the probe is fitted
/// on the training codes and scored on the test codes. `None` with fewer than two points on
/// either side or an empty range.
pub fn transfer(
    fit: Labelled,
    held: Labelled,
    dim: usize,
    dims: Range<usize>,
    classes: usize,
) -> Option<f32> {
    if dims.is_empty() || dims.end > dim {
        return None;
    }
    fit_and_score(&fit.rows(dim, &dims), &held.rows(dim, &dims), classes)
}

fn fit_and_score(fit: &[(&[f32], u32)], held: &[(&[f32], u32)], classes: usize) -> Option<f32> {
    let d = fit.first()?.0.len();
    if fit.len() < 2 || held.len() < 2 || d == 0 || classes < 2 {
        return None;
    }
    // Standardise by the fitting side's mean and spread.
    let mut mean = vec![0.0f32; d];
    let mut var = vec![0.0f32; d];
    for (f, _) in fit {
        for (m, v) in mean.iter_mut().zip(*f) {
            *m += v / fit.len() as f32;
        }
    }
    for (f, _) in fit {
        for ((s, v), m) in var.iter_mut().zip(*f).zip(&mean) {
            *s += (v - m).powi(2) / fit.len() as f32;
        }
    }
    let scale: Vec<f32> = var.iter().map(|v| 1.0 / v.sqrt().max(1e-6)).collect();
    let x = |f: &[f32]| -> Vec<f32> {
        f.iter()
            .zip(&mean)
            .zip(&scale)
            .map(|((v, m), s)| (v - m) * s)
            .collect()
    };
    let fit_x: Vec<Vec<f32>> = fit.iter().map(|(f, _)| x(f)).collect();
    // Weights [classes, d + 1], the last column the bias.
    let mut w = vec![0.0f32; classes * (d + 1)];
    let logits = |w: &[f32], xi: &[f32]| -> Vec<f32> {
        (0..classes)
            .map(|c| {
                let row = &w[c * (d + 1)..(c + 1) * (d + 1)];
                row[d] + row[..d].iter().zip(xi).map(|(a, b)| a * b).sum::<f32>()
            })
            .collect()
    };
    for _ in 0..STEPS {
        let mut grad = vec![0.0f32; w.len()];
        for (xi, (_, label)) in fit_x.iter().zip(fit) {
            let mut p = logits(&w, xi);
            let max = p.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
            let mut sum = 0.0;
            for v in &mut p {
                *v = (*v - max).exp();
                sum += *v;
            }
            for (c, pc) in p.iter().enumerate() {
                let err = pc / sum - if *label as usize == c { 1.0 } else { 0.0 };
                let row = &mut grad[c * (d + 1)..(c + 1) * (d + 1)];
                for (g, v) in row[..d].iter_mut().zip(xi) {
                    *g += err * v;
                }
                row[d] += err;
            }
        }
        let m = fit.len() as f32;
        for (wi, g) in w.iter_mut().zip(&grad) {
            *wi -= LR * (g / m + DECAY * *wi);
        }
    }
    let right = held
        .iter()
        .filter(|(f, label)| {
            let p = logits(&w, &x(f));
            let best = (0..classes).fold(0, |b, c| if p[c] > p[b] { c } else { b });
            best == *label as usize
        })
        .count();
    Some(right as f32 / held.len() as f32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Rng;

    /// Three classes whose means differ in dimension 0 only; dimension 1 is noise. A probe
    /// on dimension 0 reads the class, one on dimension 1 stays near chance.
    #[test]
    fn a_probe_reads_the_class_where_it_is_and_not_where_it_is_not() {
        let mut rng = Rng::new(3);
        let n = 600;
        let labels: Vec<u32> = (0..n).map(|i| (i % 3) as u32).collect();
        let codes: Vec<f32> = labels
            .iter()
            .flat_map(|&l| [3.0 * l as f32 + 0.5 * rng.normal(), rng.normal()])
            .collect();
        let on = accuracy(&codes, 2, 0..1, &labels, 3).unwrap();
        let off = accuracy(&codes, 2, 1..2, &labels, 3).unwrap();
        assert!(on > 0.95, "class dimension: {on}");
        assert!(off < 0.5, "noise dimension: {off}");
        assert_eq!(accuracy(&codes, 2, 2..3, &labels, 3), None);
        // Fitted on the first 400, scored on the last 200: the same verdicts.
        let (fit, held) = (
            Labelled {
                codes: &codes[..800],
                labels: &labels[..400],
            },
            Labelled {
                codes: &codes[800..],
                labels: &labels[400..],
            },
        );
        assert!(transfer(fit, held, 2, 0..1, 3).unwrap() > 0.95);
        assert!(transfer(fit, held, 2, 1..2, 3).unwrap() < 0.5);
    }
}
