//! Built-in procedural shapes with known factors of variation, in the manner of dSprites
//! (Matthey et al. 2017): a white square, ellipse or heart on black, at one of several scales,
//! orientations and positions. Every image's factors are kept with it ([`Factors`]), so every
//! latent dimension can be scored against every factor (`latent::disentangle`).
//!
//! dSprites is 64×64 with 737 280 images (the full grid of its factors). Here the images are
//! 32×32 and 20 000 of them are drawn at random from a grid of 3 × 6 × 10 × 16 × 16, so that a
//! CPU trains on them in minutes. Edges are anti-aliased (3 × 3 samples per pixel). Owns
//! generation only; never imports egui or burn.

use std::f32::consts::TAU;

use super::{DataSplit, Dataset, Factors, ImageShape, Rng, SampleShape};

/// Image side, pixels.
pub const SIDE: usize = 32;
/// The seed of the built-in set (`DataSpec::Shapes`): the same images in every run.
pub const BUILTIN_SEED: u64 = 0;
pub const TRAIN_SIZE: usize = 20_000;
pub const TEST_SIZE: usize = 2_000;
/// The shapes, in label order (the shape is also the class label).
pub const SHAPE_NAMES: [&str; 3] = ["square", "ellipse", "heart"];
/// The factors, in [`Factors`] order, and their numbers of levels.
pub const FACTOR_NAMES: [&str; 5] = ["shape", "scale", "rotation", "x", "y"];
pub const LEVELS: [usize; 5] = [3, 6, 10, 16, 16];

/// The shapes dataset: [`TRAIN_SIZE`] training and [`TEST_SIZE`] test images, labelled by
/// shape, with all five factors.
pub fn shapes(seed: u64) -> DataSplit {
    let mut rng = Rng::new(seed);
    let train = generate(&mut rng, TRAIN_SIZE);
    let test = generate(&mut rng, TEST_SIZE);
    DataSplit {
        name: "Shapes (known factors)".to_string(),
        train,
        test,
        warnings: Vec::new(),
    }
}

fn generate(rng: &mut Rng, n: usize) -> Dataset {
    let mut values = Vec::with_capacity(n * SIDE * SIDE);
    let mut levels = Vec::with_capacity(n * LEVELS.len());
    for _ in 0..n {
        let factors = LEVELS.map(|count| rng.below(count) as u32);
        values.extend(draw(factors));
        levels.extend(factors);
    }
    Dataset {
        shape: SampleShape::Image(ImageShape {
            channels: 1,
            height: SIDE,
            width: SIDE,
        }),
        labels: Some(levels.iter().step_by(LEVELS.len()).copied().collect()),
        values: values.into(),
        class_names: SHAPE_NAMES.iter().map(|s| s.to_string()).collect(),
        factors: Some(Factors {
            names: FACTOR_NAMES.iter().map(|s| s.to_string()).collect(),
            levels: LEVELS.to_vec(),
            values: levels,
        }),
    }
}

/// One image from its factor levels `[shape, scale, rotation, x, y]`.
pub fn draw([shape, scale, rotation, x, y]: [u32; 5]) -> Vec<f32> {
    let level = |v: u32, count: usize| v as f32 / (count - 1).max(1) as f32;
    // Radius 3.5 to 7 pixels; centres 8 to 24 pixels, so that the largest shape stays inside.
    let radius = 3.5 + 3.5 * level(scale, LEVELS[1]);
    let angle = TAU * rotation as f32 / LEVELS[2] as f32;
    let (cx, cy) = (
        8.0 + 16.0 * level(x, LEVELS[3]),
        8.0 + 16.0 * level(y, LEVELS[4]),
    );
    let (sin, cos) = angle.sin_cos();
    let inside = |px: f32, py: f32| {
        // Into the shape's frame: centred, unrotated, unit radius.
        let (dx, dy) = ((px - cx) / radius, (py - cy) / radius);
        let (u, v) = (cos * dx + sin * dy, -sin * dx + cos * dy);
        match shape {
            0 => u.abs() <= 0.8 && v.abs() <= 0.8,
            1 => u * u + 4.0 * v * v <= 1.0,
            _ => {
                // (x² + y² − 1)³ ≤ x² y³, pointing up on screen (y grows downwards).
                let (hx, hy) = (1.15 * u, 0.15 - 1.15 * v);
                let r = hx * hx + hy * hy - 1.0;
                r * r * r <= hx * hx * hy * hy * hy
            }
        }
    };
    const SUB: usize = 3;
    let mut image = vec![0.0f32; SIDE * SIDE];
    for (i, pixel) in image.iter_mut().enumerate() {
        let (row, col) = ((i / SIDE) as f32, (i % SIDE) as f32);
        let mut hits = 0;
        for sy in 0..SUB {
            for sx in 0..SUB {
                let px = col + (sx as f32 + 0.5) / SUB as f32;
                let py = row + (sy as f32 + 0.5) / SUB as f32;
                hits += usize::from(inside(px, py));
            }
        }
        *pixel = hits as f32 / (SUB * SUB) as f32;
    }
    image
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mass(image: &[f32]) -> f32 {
        image.iter().sum()
    }

    /// Centre of mass, (x, y) in pixels.
    fn centre(image: &[f32]) -> (f32, f32) {
        let m = mass(image);
        let (mut x, mut y) = (0.0, 0.0);
        for (i, v) in image.iter().enumerate() {
            x += v * ((i % SIDE) as f32 + 0.5);
            y += v * ((i / SIDE) as f32 + 0.5);
        }
        (x / m, y / m)
    }

    #[test]
    fn each_factor_changes_the_image_the_way_its_name_says() {
        let base = [0, 2, 0, 7, 7];
        let image = draw(base);
        assert!(image.iter().all(|v| (0.0..=1.0).contains(v)));
        // Scale: a larger shape covers more pixels.
        assert!(mass(&draw([0, 5, 0, 7, 7])) > 1.5 * mass(&image));
        // x and y move the centre of mass by about the step in pixels (16 px over 15 levels).
        let (x0, y0) = centre(&image);
        let (x1, y1) = centre(&draw([0, 2, 0, 12, 7]));
        assert!((x1 - x0 - 5.0 * 16.0 / 15.0).abs() < 0.3, "{x0} → {x1}");
        assert!((y1 - y0).abs() < 0.1);
        let (_, y2) = centre(&draw([0, 2, 0, 7, 2]));
        assert!((y0 - y2 - 5.0 * 16.0 / 15.0).abs() < 0.3, "{y0} → {y2}");
        // Rotation turns an ellipse; a quarter turn of a square is the same square.
        let ellipse = draw([1, 5, 0, 7, 7]);
        let turned = draw([1, 5, 2, 7, 7]);
        let diff = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f32>();
        assert!(diff(&ellipse, &turned) > 0.2 * mass(&ellipse));
        // The three shapes differ.
        let shapes: Vec<Vec<f32>> = (0..3).map(|s| draw([s, 5, 0, 7, 7])).collect();
        assert!(diff(&shapes[0], &shapes[1]) > 10.0 && diff(&shapes[1], &shapes[2]) > 10.0);
        // Even the largest shape at the edge stays inside the frame (no mass cut off).
        let centred = mass(&draw([2, 5, 3, 7, 7]));
        let corner = mass(&draw([2, 5, 3, 0, 15]));
        assert!(
            (centred - corner).abs() < 0.02 * centred,
            "{centred} vs {corner}"
        );
    }

    #[test]
    fn the_set_is_seeded_labelled_by_shape_and_carries_its_factors() {
        let a = generate(&mut Rng::new(3), 50);
        let b = generate(&mut Rng::new(3), 50);
        assert_eq!(a.values, b.values);
        let factors = a.factors.as_ref().expect("factors");
        assert_eq!(factors.values.len(), 50 * 5);
        assert_eq!(factors.levels, LEVELS.to_vec());
        for i in 0..50 {
            assert_eq!(a.label(i), Some(factors.of(i)[0]));
            let f: [u32; 5] = factors.of(i).try_into().expect("five factors");
            assert_eq!(*a.sample(i), *draw(f));
        }
        // A subset keeps each sample's factors.
        let sub = a.subset(&[4, 2]);
        assert_eq!(sub.factors.as_ref().map(|f| f.of(1)), Some(factors.of(2)));
    }
}
