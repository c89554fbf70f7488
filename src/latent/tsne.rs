//! t-SNE (van der Maaten and Hinton, 2008) for the latent views, in 2-D and 3-D: sparse
//! affinities over each point's 3·perplexity nearest neighbours for the attraction, and
//! Barnes-Hut (van der Maaten, 2014) for the repulsion: a space-partitioning tree (a quadtree
//! in 2-D, an octree in 3-D) rebuilt every iteration, whose far cells act as one point at
//! their centre of mass when they look smaller than `theta` from the point. The tree is walked
//! once per leaf of up to 32 points, not once per point: a cell far from the box around a
//! leaf's points is far from each of them (10 000 points: 6-7 s on 2 cores; `bench/tsne.sh`). `theta = 0`
//! summarises nothing: the exact gradient, the reference the approximation is checked
//! against. Both loops over points run in parallel. It reports progress and stops when asked:
//! cancellation is checked for every point of the neighbour search, the calibration and the
//! forces, so a cancelled run ends within about one point's work, not one iteration's.

use rayon::prelude::*;

use crate::data::Rng;
use crate::jobs::Progress;

/// t-SNE settings.
#[derive(Debug, Clone, Copy)]
pub struct TsneParams {
    pub perplexity: f32,
    pub iterations: usize,
    pub seed: u64,
    /// The Barnes-Hut accuracy: a cell is summarised when its width is below `theta` times
    /// its distance. 0 is exact (quadratic in the points); 0.5 is the usual choice.
    pub theta: f32,
}

impl Default for TsneParams {
    fn default() -> Self {
        Self {
            perplexity: 30.0,
            iterations: 750,
            seed: 0,
            theta: 0.5,
        }
    }
}

/// Embeds `points` (`[n, dim]`) in 2-D. Reports through `progress` after the neighbour search
/// and after every iteration; returns `None` once `progress` is cancelled.
pub fn tsne(
    points: &[f32],
    dim: usize,
    params: TsneParams,
    progress: &Progress,
) -> Option<Vec<[f32; 2]>> {
    embed::<2>(points, dim, params, progress)
}

/// As [`tsne`], in 3-D (for the orbiting view).
pub fn tsne_3d(
    points: &[f32],
    dim: usize,
    params: TsneParams,
    progress: &Progress,
) -> Option<Vec<[f32; 3]>> {
    embed::<3>(points, dim, params, progress)
}

/// The symmetric affinities P as rows: for each point, its neighbours and `p_ij` (both
/// directions of every neighbour pair, summing to 1 over the matrix).
type Affinities = Vec<Vec<(u32, f32)>>;

/// Nearest neighbours by brute force and per-point bandwidths matching the perplexity, both in
/// parallel; `None` when cancelled.
fn affinities(
    points: &[f32],
    dim: usize,
    perplexity: f32,
    progress: &Progress,
) -> Option<Affinities> {
    let n = points.len() / dim;
    let k = ((3.0 * perplexity) as usize).clamp(1, n - 1);
    let row = |i: usize| &points[i * dim..(i + 1) * dim];
    let target_entropy = perplexity.ln();
    // Conditional affinities p(j|i) over each point's k nearest. A cancelled search skips the
    // points left (an empty list each) and returns below.
    let conditional: Vec<Vec<(u32, f32)>> = (0..n)
        .into_par_iter()
        .map(|i| {
            if progress.is_cancelled() {
                return Vec::new();
            }
            let mut nb: Vec<(u32, f32)> = (0..n)
                .filter(|&j| j != i)
                .map(|j| (j as u32, squared_distance(row(i), row(j))))
                .collect();
            nb.select_nth_unstable_by(k - 1, |a, b| a.1.total_cmp(&b.1));
            nb.truncate(k);
            let (mut lo, mut hi, mut beta) = (0.0f32, f32::INFINITY, 1.0f32);
            let min_d = nb.iter().map(|x| x.1).fold(f32::INFINITY, f32::min);
            let mut p = vec![0.0f32; nb.len()];
            for _ in 0..64 {
                let mut sum = 0.0;
                for (pj, (_, d)) in p.iter_mut().zip(&nb) {
                    *pj = (-(d - min_d) * beta).exp();
                    sum += *pj;
                }
                let sum = sum.max(1e-12);
                let mut entropy = 0.0;
                for (pj, (_, d)) in p.iter_mut().zip(&nb) {
                    *pj /= sum;
                    entropy += beta * (d - min_d) * *pj;
                }
                entropy += sum.ln();
                if (entropy - target_entropy).abs() < 1e-4 {
                    break;
                }
                if entropy > target_entropy {
                    lo = beta;
                    beta = if hi.is_finite() {
                        (beta + hi) / 2.0
                    } else {
                        beta * 2.0
                    };
                } else {
                    hi = beta;
                    beta = (beta + lo) / 2.0;
                }
            }
            nb.iter().zip(p).map(|(&(j, _), pj)| (j, pj)).collect()
        })
        .collect();
    if progress.is_cancelled() {
        return None;
    }
    // Symmetrised P = (p(j|i) + p(i|j)) / 2n, kept in both rows.
    let scale = 1.0 / (2.0 * n as f32);
    let mut rows: Affinities = vec![Vec::new(); n];
    for (i, nb) in conditional.iter().enumerate() {
        for &(j, p) in nb {
            rows[i].push((j, p * scale));
            rows[j as usize].push((i as u32, p * scale));
        }
    }
    // A pair that is a neighbour both ways appears twice in a row: merged into one entry.
    rows.par_iter_mut().for_each(|r| {
        r.sort_unstable_by_key(|e| e.0);
        r.dedup_by(|b, a| {
            let same = a.0 == b.0;
            if same {
                a.1 += b.1;
            }
            same
        });
    });
    Some(rows)
}

/// `|a − b|²`, summed in eight lanes so that the compiler can keep them in one vector
/// register (a plain fold is one sequential chain of additions).
fn squared_distance(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| (x - y) * (x - y))
        .sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            let d = x[l] - y[l];
            lanes[l] += d * d;
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// A cell of the Barnes-Hut tree.
#[derive(Clone, Copy)]
struct Cell<const D: usize> {
    /// Where its points' mass sits.
    centre_of_mass: [f32; D],
    /// Its width, squared.
    width2: f32,
    count: u32,
    /// The first of its `2^D` children in the node list; 0 for a leaf.
    children: u32,
    /// Its points: `order[start..end]`.
    start: u32,
    end: u32,
}

/// The space-partitioning tree over the current embedding: each cell splits in two along
/// every axis until it holds at most [`LEAF`] points.
struct Tree<const D: usize> {
    cells: Vec<Cell<D>>,
    /// Point indices, grouped by leaf.
    order: Vec<u32>,
}

/// Points a leaf holds at most (more only where points coincide past the depth limit).
const LEAF: usize = 32;
const MAX_DEPTH: usize = 32;

impl<const D: usize> Tree<D> {
    fn build(y: &[[f32; D]]) -> Self {
        const {
            assert!(
                D >= 1 && D <= 3,
                "maps of 1 to 3 dimensions: a cell has 2^D <= 8 children"
            )
        };
        let mut lo = [f32::INFINITY; D];
        let mut hi = [f32::NEG_INFINITY; D];
        for p in y {
            for c in 0..D {
                lo[c] = lo[c].min(p[c]);
                hi[c] = hi[c].max(p[c]);
            }
        }
        let half = (0..D)
            .map(|c| (hi[c] - lo[c]) / 2.0)
            .fold(1e-6f32, f32::max)
            * 1.0001;
        let centre: [f32; D] = std::array::from_fn(|c| (lo[c] + hi[c]) / 2.0);
        let mut tree = Tree {
            cells: Vec::with_capacity(2 * y.len() / LEAF * (1 << D) + 1),
            order: (0..y.len() as u32).collect(),
        };
        let mut scratch = vec![0u32; y.len()];
        tree.cells.push(Cell {
            centre_of_mass: [0.0; D],
            width2: 0.0,
            count: 0,
            children: 0,
            start: 0,
            end: 0,
        });
        tree.fill(0, y, 0, y.len(), centre, half, 0, &mut scratch);
        tree
    }

    /// Makes cell `at` hold `order[start..end]`, a cube around `centre` of half-width `half`.
    #[allow(clippy::too_many_arguments)]
    fn fill(
        &mut self,
        at: usize,
        y: &[[f32; D]],
        start: usize,
        end: usize,
        centre: [f32; D],
        half: f32,
        depth: usize,
        scratch: &mut [u32],
    ) {
        let mut com = [0.0f32; D];
        for &i in &self.order[start..end] {
            for c in 0..D {
                com[c] += y[i as usize][c];
            }
        }
        let count = end - start;
        for v in &mut com {
            *v /= count.max(1) as f32;
        }
        self.cells[at] = Cell {
            centre_of_mass: com,
            width2: (2.0 * half) * (2.0 * half),
            count: count as u32,
            children: 0,
            start: start as u32,
            end: end as u32,
        };
        if count <= LEAF || depth >= MAX_DEPTH {
            return;
        }
        // Counting sort of the cell's points into its 2^D orthants.
        let orthant =
            |p: &[f32; D]| (0..D).fold(0, |o, c| o | (usize::from(p[c] >= centre[c]) << c));
        let mut counts = [0usize; 8];
        for &i in &self.order[start..end] {
            counts[orthant(&y[i as usize])] += 1;
        }
        let mut offsets = [0usize; 8];
        for o in 1..1 << D {
            offsets[o] = offsets[o - 1] + counts[o - 1];
        }
        let mut next = offsets;
        for &i in &self.order[start..end] {
            let o = orthant(&y[i as usize]);
            scratch[start + next[o]] = i;
            next[o] += 1;
        }
        self.order[start..end].copy_from_slice(&scratch[start..end]);
        let first = self.cells.len();
        self.cells[at].children = first as u32;
        let empty = self.cells[at];
        self.cells.extend(std::iter::repeat_n(empty, 1 << D));
        for o in 0..1 << D {
            let child_centre: [f32; D] = std::array::from_fn(|c| {
                centre[c]
                    + if o >> c & 1 == 1 {
                        half / 2.0
                    } else {
                        -half / 2.0
                    }
            });
            let (s, e) = (start + offsets[o], start + offsets[o] + counts[o]);
            self.fill(
                first + o,
                y,
                s,
                e,
                child_centre,
                half / 2.0,
                depth + 1,
                scratch,
            );
        }
    }

    /// The repulsion on every point: `Σ_j q_ij² (y_i − y_j)` and `Σ_j q_ij` with
    /// `q_ij = 1 / (1 + |y_i − y_j|²)`, cells narrower than `theta` times their distance taken
    /// as one point at their centre of mass. The tree is walked once per leaf, not per point:
    /// a cell is far for all of a leaf's points when it is far from the box around them, so
    /// the walk yields one list of summaries and of near points that each of the leaf's
    /// points then sums in a tight loop. Leaves run in parallel; `None` when cancelled.
    fn repulsion(
        &self,
        y: &[[f32; D]],
        theta2: f32,
        progress: &Progress,
    ) -> Option<Vec<([f32; D], f32)>> {
        let leaves: Vec<&Cell<D>> = self
            .cells
            .iter()
            .filter(|c| c.children == 0 && c.count > 0)
            .collect();
        let per_leaf: Vec<Vec<(u32, [f32; D], f32)>> = leaves
            .par_iter()
            .map_init(
                || (Vec::new(), Vec::new(), Vec::new()),
                |(stack, far, near), leaf| {
                    if progress.is_cancelled() {
                        return Vec::new();
                    }
                    let members = &self.order[leaf.start as usize..leaf.end as usize];
                    let mut lo = [f32::INFINITY; D];
                    let mut hi = [f32::NEG_INFINITY; D];
                    for &i in members {
                        for c in 0..D {
                            lo[c] = lo[c].min(y[i as usize][c]);
                            hi[c] = hi[c].max(y[i as usize][c]);
                        }
                    }
                    // The walk: far cells as (centre of mass, count); near points one by one.
                    far.clear();
                    near.clear();
                    stack.clear();
                    stack.push(0u32);
                    while let Some(at) = stack.pop() {
                        let cell = &self.cells[at as usize];
                        if cell.count == 0 {
                            continue;
                        }
                        let mut gap2 = 0.0;
                        for c in 0..D {
                            let g = (lo[c] - cell.centre_of_mass[c])
                                .max(cell.centre_of_mass[c] - hi[c])
                                .max(0.0);
                            gap2 += g * g;
                        }
                        if cell.width2 < theta2 * gap2 {
                            far.push((cell.centre_of_mass, cell.count as f32));
                        } else if cell.children == 0 {
                            near.extend_from_slice(
                                &self.order[cell.start as usize..cell.end as usize],
                            );
                        } else {
                            stack.extend(cell.children..cell.children + (1 << D));
                        }
                    }
                    members
                        .iter()
                        .map(|&i| {
                            let yi = y[i as usize];
                            let mut force = [0.0f32; D];
                            let mut z = 0.0f32;
                            for (com, m) in far.iter() {
                                let mut d = [0.0f32; D];
                                let mut d2 = 0.0;
                                for c in 0..D {
                                    d[c] = yi[c] - com[c];
                                    d2 += d[c] * d[c];
                                }
                                let q = 1.0 / (1.0 + d2);
                                let mq = m * q;
                                z += mq;
                                for c in 0..D {
                                    force[c] += mq * q * d[c];
                                }
                            }
                            for &j in near.iter() {
                                let yj = y[j as usize];
                                let mut d = [0.0f32; D];
                                let mut d2 = 0.0;
                                for c in 0..D {
                                    d[c] = yi[c] - yj[c];
                                    d2 += d[c] * d[c];
                                }
                                // The point itself (d = 0) would add q = 1 to Z: left out.
                                let q = if j == i { 0.0 } else { 1.0 / (1.0 + d2) };
                                z += q;
                                for c in 0..D {
                                    force[c] += q * q * d[c];
                                }
                            }
                            (i, force, z)
                        })
                        .collect()
                },
            )
            .collect();
        if progress.is_cancelled() {
            return None;
        }
        let mut out = vec![([0.0f32; D], 0.0f32); y.len()];
        for (i, force, z) in per_leaf.into_iter().flatten() {
            out[i as usize] = (force, z);
        }
        Some(out)
    }
}

/// Embeds `points` (`[n, dim]`) in `D` dimensions; see [`tsne`].
pub fn embed<const D: usize>(
    points: &[f32],
    dim: usize,
    params: TsneParams,
    progress: &Progress,
) -> Option<Vec<[f32; D]>> {
    let n = points.len() / dim.max(1);
    if n < 3 {
        return Some(vec![[0.0; D]; n]);
    }
    let perplexity = params.perplexity.min((n - 1) as f32 / 3.0).max(1.0);
    let p = affinities(points, dim, perplexity, progress)?;
    if !progress.report(0.05) {
        return None;
    }

    let mut rng = Rng::new(params.seed);
    let mut y: Vec<[f32; D]> = (0..n)
        .map(|_| std::array::from_fn(|_| 1e-2 * rng.normal()))
        .collect();
    let mut velocity = vec![[0.0f32; D]; n];
    let mut gains = vec![[1.0f32; D]; n];
    let exaggeration_iters = params.iterations.min(250);
    // The learning rate n / exaggeration (Belkina et al., 2019), of the gradient below / 4.
    let lr = (n as f32 / 12.0 / 4.0).max(50.0);
    let theta2 = params.theta * params.theta;
    for it in 0..params.iterations {
        let exaggeration = if it < exaggeration_iters { 12.0 } else { 1.0 };
        let momentum = if it < exaggeration_iters { 0.5 } else { 0.8 };
        let tree = Tree::build(&y);
        let repulsion = tree.repulsion(&y, theta2, progress)?;
        // Per point: the repulsion (unnormalised) and its share of Z, and the attraction.
        let forces: Vec<([f32; D], f32, [f32; D])> = repulsion
            .into_par_iter()
            .enumerate()
            .map(|(i, (rep, z))| {
                let mut att = [0.0f32; D];
                for &(j, pij) in &p[i] {
                    let yj = y[j as usize];
                    let mut d = [0.0f32; D];
                    let mut d2 = 0.0;
                    for c in 0..D {
                        d[c] = y[i][c] - yj[c];
                        d2 += d[c] * d[c];
                    }
                    let a = pij / (1.0 + d2);
                    for c in 0..D {
                        att[c] += a * d[c];
                    }
                }
                (rep, z, att)
            })
            .collect();
        let z: f32 = forces.iter().map(|f| f.1).sum::<f32>().max(1e-12);
        // Gradient descent with momentum and per-coordinate gains, as in the reference code.
        for (i, (rep, _, att)) in forces.iter().enumerate() {
            for c in 0..D {
                let g = 4.0 * (exaggeration * att[c] - rep[c] / z);
                let same = (g > 0.0) == (velocity[i][c] > 0.0);
                gains[i][c] = if same {
                    gains[i][c] * 0.8
                } else {
                    gains[i][c] + 0.2
                }
                .max(0.01);
                velocity[i][c] = momentum * velocity[i][c] - lr * gains[i][c] * g;
                y[i][c] += velocity[i][c];
            }
        }
        if !progress.report(0.05 + 0.95 * (it + 1) as f32 / params.iterations as f32) {
            return None;
        }
    }
    Some(y)
}

/// Each point's class as the majority of its `k` nearest neighbours in `points` (`[n, dim]`)
/// votes, ties to the lower class: how well a map keeps the classes apart, as the fraction of
/// votes equal to the points' own labels.
pub fn knn_votes(points: &[f32], dim: usize, labels: &[u32], k: usize) -> Vec<u32> {
    let n = points.len() / dim.max(1);
    let classes = labels.iter().max().map_or(0, |&m| m as usize + 1);
    let row = |i: usize| &points[i * dim..(i + 1) * dim];
    (0..n)
        .into_par_iter()
        .map(|i| {
            let mut d: Vec<(usize, f32)> = (0..n)
                .filter(|&j| j != i)
                .map(|j| (j, squared_distance(row(i), row(j))))
                .collect();
            let k = k.min(d.len());
            if k == 0 {
                return labels[i];
            }
            d.select_nth_unstable_by(k - 1, |a, b| a.1.total_cmp(&b.1));
            let mut votes = vec![0u32; classes];
            for (j, _) in &d[..k] {
                votes[labels[*j] as usize] += 1;
            }
            (0..classes)
                .max_by_key(|&c| (votes[c], std::cmp::Reverse(c)))
                .unwrap_or(0) as u32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::jobs::{Job, eventually};

    /// Fraction of points whose 5 nearest neighbours in the embedding share their cluster.
    fn purity(y: &[[f32; 2]], labels: &[usize]) -> f32 {
        let n = y.len();
        let mut good = 0;
        for i in 0..n {
            let mut d: Vec<(usize, f32)> = (0..n)
                .filter(|&j| j != i)
                .map(|j| (j, (y[i][0] - y[j][0]).powi(2) + (y[i][1] - y[j][1]).powi(2)))
                .collect();
            d.sort_by(|a, b| a.1.total_cmp(&b.1));
            good += d[..5]
                .iter()
                .filter(|(j, _)| labels[*j] == labels[i])
                .count();
        }
        good as f32 / (5 * n) as f32
    }

    /// Barnes-Hut against the exact gradient on 1000 real images (the MNIST test digits, 784-D):
    /// the 5-NN class votes agree for at least 90 % of the points, and the embeddings keep the
    /// classes apart as well as each other.
    #[test]
    fn barnes_hut_agrees_with_the_exact_gradient_on_digits() {
        let data = crate::data::load(&crate::data::DataSpec::Mnist, 0).expect("built-in MNIST");
        let test = &data.test;
        let n = 1000.min(test.len());
        let points = &test.samples(0..n);
        let labels = &test.labels.as_ref().expect("labelled")[..n];
        let params = TsneParams::default();
        let exact = TsneParams {
            theta: 0.0,
            ..params
        };
        let dim = test.shape.len();
        for (name, agree_at_least) in [("2-D", 0.9), ("3-D", 0.9)] {
            let (bh, ex) = if name == "2-D" {
                let bh = tsne(points, dim, params, &Progress::default()).unwrap();
                let ex = tsne(points, dim, exact, &Progress::default()).unwrap();
                (
                    knn_votes(bh.as_flattened(), 2, labels, 5),
                    knn_votes(ex.as_flattened(), 2, labels, 5),
                )
            } else {
                let bh = tsne_3d(points, dim, params, &Progress::default()).unwrap();
                let ex = tsne_3d(points, dim, exact, &Progress::default()).unwrap();
                (
                    knn_votes(bh.as_flattened(), 3, labels, 5),
                    knn_votes(ex.as_flattened(), 3, labels, 5),
                )
            };
            let agree = bh.iter().zip(&ex).filter(|(a, b)| a == b).count() as f32 / n as f32;
            let accuracy =
                |v: &[u32]| v.iter().zip(labels).filter(|(a, b)| a == b).count() as f32 / n as f32;
            let (acc_bh, acc_ex) = (accuracy(&bh), accuracy(&ex));
            eprintln!(
                "{name}: 5-NN votes agree {agree:.3}; 5-NN accuracy Barnes-Hut {acc_bh:.3}, exact {acc_ex:.3}"
            );
            assert!(agree >= agree_at_least, "{name}: agreement {agree}");
            assert!(
                acc_bh >= acc_ex - 0.03 && acc_bh > 0.8,
                "{name}: {acc_bh} vs {acc_ex}"
            );
        }
    }

    #[test]
    fn separated_clusters_stay_separate() {
        let mut rng = Rng::new(4);
        let (dim, per) = (10, 60);
        let mut points = Vec::new();
        let mut labels = Vec::new();
        for c in 0..3 {
            for _ in 0..per {
                for d in 0..dim {
                    let centre = if d == c { 8.0 } else { 0.0 };
                    points.push(centre + rng.normal());
                }
                labels.push(c);
            }
        }
        let params = TsneParams {
            perplexity: 15.0,
            iterations: 400,
            seed: 1,
            ..TsneParams::default()
        };
        let y = tsne(&points, dim, params, &Progress::default()).unwrap();
        let p = purity(&y, &labels);
        assert!(p > 0.95, "nearest-neighbour purity {p}");
        assert!(y.iter().all(|v| v[0].is_finite() && v[1].is_finite()));
    }

    #[test]
    fn cancelling_returns_none() {
        let points: Vec<f32> = (0..200).map(|i| (i as f32 * 0.37).sin()).collect();
        assert!(tsne(&points, 2, TsneParams::default(), &Progress::default()).is_some());
        let progress = Progress::default();
        progress.cancel();
        assert!(tsne(&points, 2, TsneParams::default(), &progress).is_none());
        assert!(tsne_3d(&points, 2, TsneParams::default(), &progress).is_none());
        let at = progress.fraction();
        assert!(at <= 0.05, "the cancelled run went on to {at}");
    }

    fn tsne_job(n: usize, dim: usize) -> Job<Vec<[f32; 2]>> {
        let mut rng = Rng::new(3);
        let points: Vec<f32> = (0..n * dim).map(|_| rng.normal()).collect();
        Job::spawn("test-tsne", Box::new(|| {}), move |p| {
            tsne(&points, dim, TsneParams::default(), p)
        })
        .unwrap()
    }

    /// Drops a running `job` and returns how long the drop took, once its detached thread has
    /// ended (given ten seconds: the machine may be busy).
    fn drop_and_wait(job: Job<Vec<[f32; 2]>>) -> Duration {
        let alive = job.liveness();
        assert!(alive.upgrade().is_some(), "the job ended before the drop");
        let t0 = Instant::now();
        drop(job);
        let took = t0.elapsed();
        assert!(
            eventually(10, || alive.upgrade().is_none()),
            "the detached t-SNE thread still runs 10 s after the drop"
        );
        eprintln!(
            "the detached thread ended {:?} after the drop",
            t0.elapsed()
        );
        took
    }

    /// The studio's case: switching away from a large t-SNE must not freeze the window.
    #[test]
    fn dropping_a_job_in_the_neighbour_search_returns_at_once() {
        // 20 000² distances take seconds: the search is still running after 100 ms.
        let job = tsne_job(20_000, 32);
        std::thread::sleep(Duration::from_millis(100));
        let phase = job.progress();
        let took = drop_and_wait(job);
        eprintln!("dropping a 20 000-point t-SNE at progress {phase}: {took:?}");
        assert!(took < Duration::from_millis(50), "drop took {took:?}");
    }

    #[test]
    fn dropping_a_job_in_the_iterations_returns_at_once() {
        let job = tsne_job(3000, 8);
        assert!(
            eventually(60, || job.progress() > 0.05),
            "no iteration within a minute"
        );
        let took = drop_and_wait(job);
        eprintln!("dropping a 3000-point t-SNE in its iterations: {took:?}");
        assert!(took < Duration::from_millis(50), "drop took {took:?}");
    }

    #[test]
    fn cancellation_is_seen_at_the_next_iteration() {
        let job = tsne_job(3000, 8);
        assert!(
            eventually(60, || job.progress() >= 0.3),
            "not at 30 % within a minute"
        );
        job.cancel();
        let at_cancel = job.progress();
        assert!(
            eventually(10, || job.is_finished()),
            "cancel did not end it"
        );
        assert_eq!(job.try_take(), None);
        // Each iteration reports 0.95 / 750; the iteration running when cancelled may be the
        // last to report.
        let step = 0.95 / TsneParams::default().iterations as f32;
        let end = job.progress();
        assert!(
            end <= at_cancel + 2.0 * step,
            "cancelled at {at_cancel}, stopped at {end}"
        );
    }
}
