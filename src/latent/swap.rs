//! Style swaps and attribute vectors: drawing one sample's style as another class, on plain
//! codes through a [`LatentDecoder`].
//!
//! A kind that separates content from style ([`CodeParts`]) swaps the content part of the
//! code. Any other kind can only move the whole code by the difference of the two classes'
//! mean codes (an attribute vector, as in latent space cartography); that is the baseline a
//! two-code model has to beat.

use crate::protocol::{CodeParts, LatentCloud, LatentDecoder, SampleGrid};

/// How a code is redrawn as another class.
#[derive(Debug, Clone, PartialEq)]
pub enum Swap {
    /// Replace the content part.
    Content(CodeParts),
    /// Add the difference of class means, `[classes, dim]`.
    MeanShift { means: Vec<f32>, dim: usize },
}

impl Swap {
    /// The swap a cloud allows: by content when the kind has parts, else by class means;
    /// `None` for unlabelled codes.
    pub fn for_cloud(
        parts: Option<&CodeParts>,
        cloud: &LatentCloud,
        classes: usize,
    ) -> Option<Self> {
        if let Some(parts) = parts {
            return Some(Swap::Content(parts.clone()));
        }
        let labels = cloud.labels.as_ref()?;
        Some(Swap::MeanShift {
            means: class_means(&cloud.codes, cloud.dim, labels, classes),
            dim: cloud.dim,
        })
    }

    pub fn classes(&self) -> usize {
        match self {
            Swap::Content(p) => p.classes(),
            Swap::MeanShift { means, dim } => means.len() / (*dim).max(1),
        }
    }

    /// `code` (a sample of class `own`, when known) redrawn as class `class`.
    pub fn code(&self, code: &[f32], own: Option<u32>, class: usize) -> Vec<f32> {
        match self {
            Swap::Content(parts) => parts.swap(code, parts.class_content(class)),
            Swap::MeanShift { means, dim } => {
                let mean = |c: usize| &means[c * dim..(c + 1) * dim];
                let Some(own) = own.map(|o| o as usize).filter(|&o| o < self.classes()) else {
                    return code.to_vec();
                };
                code.iter()
                    .zip(mean(class))
                    .zip(mean(own))
                    .map(|((z, to), from)| z + to - from)
                    .collect()
            }
        }
    }

    /// `code` (class `own`) redrawn with the content of `other` (class `other_own`): its
    /// content part, or for a mean shift its class.
    pub fn code_from(
        &self,
        code: &[f32],
        own: Option<u32>,
        other: &[f32],
        other_own: Option<u32>,
    ) -> Vec<f32> {
        match self {
            Swap::Content(parts) => parts.swap(code, other),
            Swap::MeanShift { .. } => match other_own {
                Some(c) => self.code(code, own, c as usize),
                None => code.to_vec(),
            },
        }
    }

    /// A grid of decodes, row r the style of `codes`' r-th code (`dim` wide, class `labels[r]`
    /// when known), column c drawn as class c.
    pub fn grid(
        &self,
        decoder: &dyn LatentDecoder,
        codes: &[f32],
        dim: usize,
        labels: Option<&[u32]>,
    ) -> SampleGrid {
        let mut all = Vec::new();
        for (r, code) in codes.chunks_exact(dim.max(1)).enumerate() {
            let own = labels.and_then(|l| l.get(r).copied());
            for c in 0..self.classes() {
                all.extend(self.code(code, own, c));
            }
        }
        decoder.decode(&all)
    }
}

/// The mean code of each class, `[classes, dim]` (zeros for a class with no points).
pub fn class_means(codes: &[f32], dim: usize, labels: &[u32], classes: usize) -> Vec<f32> {
    let mut sums = vec![0.0f32; classes * dim];
    let mut counts = vec![0usize; classes];
    for (code, &label) in codes.chunks_exact(dim.max(1)).zip(labels) {
        let c = label as usize;
        if c < classes {
            counts[c] += 1;
            for (s, v) in sums[c * dim..(c + 1) * dim].iter_mut().zip(code) {
                *s += v;
            }
        }
    }
    for (c, n) in counts.iter().enumerate() {
        sums[c * dim..(c + 1) * dim]
            .iter_mut()
            .for_each(|v| *v /= (*n).max(1) as f32);
    }
    sums
}

/// The mean of the codes at `points` (indices into `codes`, `dim` wide each).
pub fn mean_of(codes: &[f32], dim: usize, points: &[usize]) -> Vec<f32> {
    let mut mean = vec![0.0f32; dim];
    let mut n = 0;
    for &i in points {
        if let Some(code) = codes.get(i * dim..(i + 1) * dim) {
            n += 1;
            for (m, v) in mean.iter_mut().zip(code) {
                *m += v;
            }
        }
    }
    mean.iter_mut().for_each(|m| *m /= n.max(1) as f32);
    mean
}

/// `code` moved `amount` of the way along `to − from` (0: unchanged, 1: by the whole
/// difference of the two means).
pub fn along(code: &[f32], from: &[f32], to: &[f32], amount: f32) -> Vec<f32> {
    code.iter()
        .zip(from.iter().zip(to))
        .map(|(z, (a, b))| z + amount * (b - a))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_content_swap_replaces_the_content_and_a_mean_shift_moves_between_class_means() {
        let parts = CodeParts {
            content_dim: 2,
            class_contents: vec![1.0, 0.0, 0.0, 1.0],
            names: ["content", "style"].map(String::from),
        };
        let swap = Swap::Content(parts);
        assert_eq!(swap.classes(), 2);
        assert_eq!(swap.code(&[0.3, 0.7, 5.0], None, 0), vec![1.0, 0.0, 5.0]);
        assert_eq!(
            swap.code_from(&[0.3, 0.7, 5.0], None, &[0.1, 0.2, 9.0], None),
            vec![0.1, 0.2, 5.0]
        );

        // Two classes at x = 0 and x = 10.
        let codes = [0.0, 1.0, 0.0, 3.0, 10.0, 2.0];
        let means = class_means(&codes, 2, &[0, 0, 1], 2);
        assert_eq!(means, vec![0.0, 2.0, 10.0, 2.0]);
        let shift = Swap::MeanShift { means, dim: 2 };
        assert_eq!(shift.code(&[1.0, 1.0], Some(0), 1), vec![11.0, 1.0]);
        assert_eq!(shift.code(&[1.0, 1.0], None, 1), vec![1.0, 1.0]);
        assert_eq!(
            shift.code_from(&[1.0, 1.0], Some(0), &[0.0, 0.0], Some(1)),
            vec![11.0, 1.0]
        );
        assert_eq!(mean_of(&codes, 2, &[0, 2, 99]), vec![5.0, 1.5]);
        assert_eq!(along(&[1.0], &[0.0], &[4.0], 0.5), vec![3.0]);
    }
}
