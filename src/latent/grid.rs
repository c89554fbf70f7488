//! A uniform grid over a view's points, so hover and clicks find the point under the pointer by
//! looking at a few cells instead of every point: the cost of a pick depends on how crowded the
//! pointer's neighbourhood is, not on how many points the view holds.
//!
//! Built once per projection (each snapshot, each map), queried every frame. Plain `f32` math,
//! no egui: the views pass their own screen mapping as a closure.

/// Points of `D` dimensions binned into cells of one size; points outside the box they were
/// built from cannot exist (the box is theirs), non-finite ones are left out.
#[derive(Debug, Clone)]
pub struct PointGrid<const D: usize> {
    min: [f32; D],
    max: [f32; D],
    cell: f32,
    cells: [usize; D],
    /// `starts[c]..starts[c + 1]` indexes `items` for cell `c`.
    starts: Vec<u32>,
    /// Point indices, cell by cell.
    items: Vec<u32>,
}

impl<const D: usize> Default for PointGrid<D> {
    /// A grid of no points.
    fn default() -> Self {
        Self {
            min: [0.0; D],
            max: [0.0; D],
            cell: 1.0,
            cells: [1; D],
            starts: Vec::new(),
            items: Vec::new(),
        }
    }
}

/// About this many points per cell on average.
const PER_CELL: usize = 4;

impl<const D: usize> PointGrid<D> {
    /// Bins `points`; a grid of at most `max_cells_per_axis` cells along each axis.
    pub fn new(points: &[[f32; D]], max_cells_per_axis: usize) -> Self {
        let finite = |p: &[f32; D]| p.iter().all(|v| v.is_finite());
        let mut min = [f32::INFINITY; D];
        let mut max = [f32::NEG_INFINITY; D];
        for p in points.iter().filter(|p| finite(p)) {
            for k in 0..D {
                min[k] = min[k].min(p[k]);
                max[k] = max[k].max(p[k]);
            }
        }
        if min[0] > max[0] {
            return Self::default();
        }
        let extent = (0..D).map(|k| max[k] - min[k]).fold(0.0f32, f32::max);
        let per_axis = ((points.len() / PER_CELL).max(1) as f32)
            .powf(1.0 / D as f32)
            .ceil()
            .clamp(1.0, max_cells_per_axis.max(1) as f32);
        let cell = (extent / per_axis).max(1e-6);
        let cells = std::array::from_fn(|k| (((max[k] - min[k]) / cell) as usize + 1).min(1 << 12));
        let mut grid = Self {
            min,
            max,
            cell,
            cells,
            starts: Vec::new(),
            items: Vec::new(),
        };
        let total: usize = cells.iter().product();
        let of: Vec<u32> = points
            .iter()
            .map(|p| {
                if finite(p) {
                    grid.cell_of(p) as u32
                } else {
                    u32::MAX
                }
            })
            .collect();
        let mut counts = vec![0u32; total + 1];
        for &c in of.iter().filter(|&&c| c != u32::MAX) {
            counts[c as usize + 1] += 1;
        }
        for c in 0..total {
            counts[c + 1] += counts[c];
        }
        let mut next = counts.clone();
        let mut items = vec![0u32; counts[total] as usize];
        for (i, &c) in of.iter().enumerate() {
            if c != u32::MAX {
                items[next[c as usize] as usize] = i as u32;
                next[c as usize] += 1;
            }
        }
        grid.starts = counts;
        grid.items = items;
        grid
    }

    /// The smallest and largest coordinates of the points, `None` without points.
    pub fn bounds(&self) -> Option<([f32; D], [f32; D])> {
        (!self.items.is_empty()).then_some((self.min, self.max))
    }

    /// The side of a cell, in the points' units.
    pub fn cell_size(&self) -> f32 {
        self.cell
    }

    /// How many points the grid holds (the finite ones).
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    fn coord(&self, v: f32, k: usize) -> usize {
        (((v - self.min[k]) / self.cell).max(0.0) as usize).min(self.cells[k] - 1)
    }

    fn cell_of(&self, p: &[f32; D]) -> usize {
        let mut c = 0;
        for k in (0..D).rev() {
            c = c * self.cells[k] + self.coord(p[k], k);
        }
        c
    }

    /// Calls `visit` with every point in the cells that overlap the box `centre ± radius`
    /// (a superset of the points within `radius`); each cell once.
    pub fn for_each_near(&self, centre: [f32; D], radius: f32, mut visit: impl FnMut(usize)) {
        if self.starts.is_empty() {
            return;
        }
        let lo: [usize; D] = std::array::from_fn(|k| self.coord(centre[k] - radius, k));
        let hi: [usize; D] = std::array::from_fn(|k| self.coord(centre[k] + radius, k));
        // Odometer over the cells of the box.
        let mut at = lo;
        loop {
            let mut c = 0;
            for k in (0..D).rev() {
                c = c * self.cells[k] + at[k];
            }
            for &i in &self.items[self.starts[c] as usize..self.starts[c + 1] as usize] {
                visit(i as usize);
            }
            let mut k = 0;
            loop {
                if k == D {
                    return;
                }
                if at[k] < hi[k] {
                    at[k] += 1;
                    break;
                }
                at[k] = lo[k];
                k += 1;
            }
        }
    }

    /// The point nearest `centre` within `radius` (Euclidean) among those `keep` accepts.
    pub fn nearest(
        &self,
        points: &[[f32; D]],
        centre: [f32; D],
        radius: f32,
        keep: impl Fn(usize) -> bool,
    ) -> Option<usize> {
        let mut best: Option<(usize, f32)> = None;
        self.for_each_near(centre, radius, |i| {
            let d2: f32 = (0..D).map(|k| (points[i][k] - centre[k]).powi(2)).sum();
            if d2 <= radius * radius && best.is_none_or(|(_, b)| d2 < b) && keep(i) {
                best = Some((i, d2));
            }
        });
        best.map(|(i, _)| i)
    }
}

impl PointGrid<3> {
    /// The point whose screen position (`screen(i)`, `None` when not drawn) lies nearest
    /// `target` within `pixels`, for points on a ray through the view: `along(t)` gives the
    /// ray's point at `t` in `0..=1` (in the points' space) and `reach(t)` how far from it, in
    /// the points' units, a point may lie and still be drawn within `pixels` of the target.
    /// Only the cells near the ray are looked at.
    pub fn pick_on_ray(
        &self,
        along: impl Fn(f32) -> [f32; 3],
        reach: impl Fn(f32) -> f32,
        screen: impl Fn(usize) -> Option<[f32; 2]>,
        target: [f32; 2],
        pixels: f32,
    ) -> Option<usize> {
        if self.starts.is_empty() {
            return None;
        }
        let (a, b) = (along(0.0), along(1.0));
        let length = (0..3).map(|k| (b[k] - a[k]).powi(2)).sum::<f32>().sqrt();
        let steps = ((length / (self.cell * 0.5)).ceil() as usize).clamp(1, 4096);
        let mut seen = vec![false; self.starts.len()];
        let mut best: Option<(usize, f32)> = None;
        for s in 0..=steps {
            let t = s as f32 / steps as f32;
            let p = along(t);
            let r = reach(t) + self.cell;
            let lo: [usize; 3] = std::array::from_fn(|k| self.coord(p[k] - r, k));
            let hi: [usize; 3] = std::array::from_fn(|k| self.coord(p[k] + r, k));
            for z in lo[2]..=hi[2] {
                for y in lo[1]..=hi[1] {
                    for x in lo[0]..=hi[0] {
                        let c = (z * self.cells[1] + y) * self.cells[0] + x;
                        if std::mem::replace(&mut seen[c], true) {
                            continue;
                        }
                        for &i in &self.items[self.starts[c] as usize..self.starts[c + 1] as usize]
                        {
                            let i = i as usize;
                            let Some(q) = screen(i) else { continue };
                            let d =
                                ((q[0] - target[0]).powi(2) + (q[1] - target[1]).powi(2)).sqrt();
                            if d <= pixels && best.is_none_or(|(_, e)| d < e) {
                                best = Some((i, d));
                            }
                        }
                    }
                }
            }
        }
        best.map(|(i, _)| i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Rng;

    fn cloud<const D: usize>(n: usize, seed: u64) -> Vec<[f32; D]> {
        let mut rng = Rng::new(seed);
        (0..n)
            .map(|_| std::array::from_fn(|_| rng.normal()))
            .collect()
    }

    /// The grid finds the same nearest point as looking at every point, including the misses.
    #[test]
    fn nearest_agrees_with_a_full_scan() {
        let points = cloud::<2>(5000, 1);
        let grid = PointGrid::new(&points, 256);
        assert_eq!(grid.len(), 5000);
        let mut rng = Rng::new(2);
        let mut found = 0;
        for _ in 0..500 {
            let c = [rng.normal() * 1.5, rng.normal() * 1.5];
            let r = 0.05;
            let scan = points
                .iter()
                .enumerate()
                .map(|(i, p)| (i, (p[0] - c[0]).powi(2) + (p[1] - c[1]).powi(2)))
                .filter(|(_, d)| *d <= r * r)
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(i, _)| i);
            assert_eq!(grid.nearest(&points, c, r, |_| true), scan);
            found += scan.is_some() as usize;
        }
        assert!(found > 50 && found < 450, "{found} of 500 queries hit");
        // A filter skips points: the nearest odd one.
        let odd = grid.nearest(&points, points[10], 0.5, |i| i % 2 == 1);
        assert!(odd.is_some_and(|i| i % 2 == 1));
    }

    /// Non-finite points are left out, and an empty or all-NaN cloud answers nothing.
    #[test]
    fn non_finite_points_are_left_out() {
        let points = vec![[f32::NAN, 0.0], [1.0, 1.0], [f32::INFINITY, 2.0]];
        let grid = PointGrid::new(&points, 16);
        assert_eq!(grid.len(), 1);
        assert_eq!(grid.nearest(&points, [1.0, 1.0], 0.1, |_| true), Some(1));
        let none = PointGrid::<2>::new(&[[f32::NAN, f32::NAN]], 16);
        assert!(none.is_empty());
        assert_eq!(none.nearest(&points, [0.0, 0.0], 10.0, |_| true), None);
    }

    /// A pick along a ray finds the point drawn nearest the pointer under an orthographic
    /// look down the z axis: the same as projecting every point.
    #[test]
    fn a_ray_pick_agrees_with_projecting_every_point() {
        let points = cloud::<3>(20_000, 3);
        let grid = PointGrid::new(&points, 64);
        let scale = 100.0;
        let screen = |i: usize| Some([points[i][0] * scale, points[i][1] * scale]);
        let mut rng = Rng::new(4);
        let mut hits = 0;
        for _ in 0..200 {
            let target = [rng.normal() * 100.0, rng.normal() * 100.0];
            let (x, y) = (target[0] / scale, target[1] / scale);
            let picked = grid.pick_on_ray(
                |t| [x, y, -6.0 + 12.0 * t],
                |_| 3.0 / scale,
                screen,
                target,
                3.0,
            );
            let scan = (0..points.len())
                .map(|i| {
                    let q = screen(i).unwrap();
                    (
                        i,
                        ((q[0] - target[0]).powi(2) + (q[1] - target[1]).powi(2)).sqrt(),
                    )
                })
                .filter(|(_, d)| *d <= 3.0)
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(i, _)| i);
            assert_eq!(picked, scan, "at {target:?}");
            hits += scan.is_some() as usize;
        }
        assert!(hits > 20, "only {hits} of 200 picks hit a point");
    }
}
