//! Export to TensorBoard's Embedding Projector: `tensors.tsv`, `metadata.tsv`, `sprite.png`,
//! `projector_config.pbtxt`, plus our own `projection.csv` (PCA coordinates), all written
//! atomically. Plain host data in; no burn, no egui.

use std::fmt::Write as _;
use std::path::Path;

use crate::render;
use anyhow::Context;

use super::Pca;
use crate::files::write_atomic;
use crate::protocol::SampleGrid;

/// The largest sprite side the Projector accepts.
pub const MAX_SPRITE_PX: usize = 8192;

/// Points to export: codes with their images and labels.
pub struct Embedding<'a> {
    /// `[n, dim]`, row-major.
    pub codes: &'a [f32],
    pub dim: usize,
    pub labels: Option<&'a [u32]>,
    pub class_names: &'a [String],
    /// The points' samples, in the same order.
    pub samples: &'a SampleGrid,
}

/// What was written, and anything the user should know.
#[derive(Debug)]
pub struct ExportSummary {
    pub points: usize,
    pub thumb_px: usize,
    pub sprite_px: usize,
    pub warnings: Vec<String>,
}

/// Writes the Projector files and `projection.csv` into `dir`.
pub fn write_projector(dir: &Path, e: &Embedding<'_>) -> anyhow::Result<ExportSummary> {
    let n = e.codes.len() / e.dim.max(1);
    anyhow::ensure!(n > 0, "nothing to export: no latent codes");
    anyhow::ensure!(
        e.samples.len() == n,
        "{} samples for {n} codes",
        e.samples.len()
    );
    let class = |i: usize| -> (String, String) {
        match e.labels {
            Some(l) => (
                l[i].to_string(),
                e.class_names
                    .get(l[i] as usize)
                    .cloned()
                    .unwrap_or_else(|| l[i].to_string()),
            ),
            None => (String::new(), String::new()),
        }
    };

    let mut tensors = String::with_capacity(n * e.dim * 10);
    for row in e.codes.chunks_exact(e.dim) {
        for (j, v) in row.iter().enumerate() {
            if j > 0 {
                tensors.push('\t');
            }
            let _ = write!(tensors, "{v}");
        }
        tensors.push('\n');
    }
    write_atomic(&dir.join("tensors.tsv"), tensors.as_bytes())?;

    let mut meta = String::from("label\tclass\n");
    for i in 0..n {
        let (label, name) = class(i);
        let _ = writeln!(meta, "{label}\t{}", name.replace(['\t', '\n'], " "));
    }
    write_atomic(&dir.join("metadata.tsv"), meta.as_bytes())?;

    let (sprite, thumb, side) = sprite_png(e.samples)?;
    write_atomic(&dir.join("sprite.png"), &sprite)?;

    let config = format!(
        "embeddings {{\n  tensor_name: \"latent codes\"\n  tensor_path: \"tensors.tsv\"\n  metadata_path: \"metadata.tsv\"\n  sprite {{\n    image_path: \"sprite.png\"\n    single_image_dim: {thumb}\n    single_image_dim: {thumb}\n  }}\n}}\n"
    );
    write_atomic(&dir.join("projector_config.pbtxt"), config.as_bytes())?;

    let pca = Pca::fit(e.codes, e.dim, 3, None);
    let axes = pca.as_ref().map_or(0, |p| p.components.len());
    let mut csv = String::from("index,label,class");
    for a in 0..axes {
        let _ = write!(csv, ",pc{}", a + 1);
    }
    csv.push('\n');
    for i in 0..n {
        let (label, name) = class(i);
        let _ = write!(csv, "{i},{label},{}", quote(&name));
        if let Some(p) = &pca {
            for v in p.project(&e.codes[i * e.dim..(i + 1) * e.dim]) {
                let _ = write!(csv, ",{v}");
            }
        }
        csv.push('\n');
    }
    write_atomic(&dir.join("projection.csv"), csv.as_bytes())?;

    let mut warnings = Vec::new();
    if n > 100_000 {
        warnings.push(format!(
            "{n} points: the Projector handles up to about 100 000 well"
        ));
    } else if n > 10_000 {
        warnings.push(format!(
            "{n} points: the Projector's t-SNE handles up to about 10 000 well"
        ));
    } else if n > 5_000 {
        warnings.push(format!(
            "{n} points: the Projector's UMAP handles up to about 5 000 well"
        ));
    }
    Ok(ExportSummary {
        points: n,
        thumb_px: thumb,
        sprite_px: side,
        warnings,
    })
}

/// Quotes a CSV field when it holds a comma, a quote or a newline.
pub fn quote(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Columns (= rows) of a square sprite of `n` images and the thumbnail side that fits.
fn sprite_layout(n: usize, native_px: usize) -> (usize, usize) {
    let cols = ((n as f64).sqrt().ceil() as usize).max(1);
    (cols, native_px.min(MAX_SPRITE_PX / cols).max(1))
}

/// A square sprite of all samples, row-major, each drawn by `render` as a thumbnail shrunk
/// (box filter) to fit 8192 px a side. Returns the PNG, the thumbnail side and the sprite side.
fn sprite_png(samples: &SampleGrid) -> anyhow::Result<(Vec<u8>, usize, usize)> {
    let shape = samples.shape.context("samples without a shape")?;
    let n = samples.len();
    let [tw, th] = render::thumbnail_size(shape);
    let (cols, thumb) = sprite_layout(n, tw.max(th));
    let tiles: Vec<render::Canvas> = (0..n)
        .map(|i| render::single(shape, samples.sample(i), 1).fit_square(thumb))
        .collect();
    let mut sprite = render::compose(&tiles, cols, 0).context("nothing to draw")?;
    // The Projector wants a square sprite; a last short row leaves the rest of it empty.
    let side = cols * thumb;
    if sprite.height < side {
        let mut square = render::Canvas::filled(side, side, [0, 0, 0]);
        square.blit(&sprite, 0, 0);
        sprite = square;
    }
    Ok((
        sprite.png().context("cannot encode the sprite")?,
        thumb,
        side,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::ImageShape;

    #[test]
    fn files_parse_and_agree() {
        let dir = std::env::temp_dir().join(format!("ll-export-{}", std::process::id()));
        let shape = ImageShape {
            channels: 1,
            height: 4,
            width: 4,
        };
        let n = 10;
        // Image i is uniformly i/9 bright, so the sprite order can be checked.
        let pixels: Vec<f32> = (0..n).flat_map(|i| vec![i as f32 / 9.0; 16]).collect();
        let images = SampleGrid::new(shape, pixels);
        let codes: Vec<f32> = (0..n * 3).map(|i| (i as f32 * 0.7).sin()).collect();
        let labels: Vec<u32> = (0..n as u32).map(|i| i % 3).collect();
        let names = vec!["a".to_string(), "b, c".to_string(), "d".to_string()];
        let s = write_projector(
            &dir,
            &Embedding {
                codes: &codes,
                dim: 3,
                labels: Some(&labels),
                class_names: &names,
                samples: &images,
            },
        )
        .unwrap();
        assert_eq!(s.points, 10);
        let tensors = std::fs::read_to_string(dir.join("tensors.tsv")).unwrap();
        assert_eq!(tensors.lines().count(), 10);
        assert!(tensors.lines().all(|l| l.split('\t').count() == 3));
        let meta = std::fs::read_to_string(dir.join("metadata.tsv")).unwrap();
        assert_eq!(meta.lines().count(), 11);
        assert_eq!(meta.lines().nth(2).unwrap(), "1\tb, c");
        let sprite = image::open(dir.join("sprite.png")).unwrap().to_rgb8();
        // 10 points → a 4×4 grid of 4-px thumbnails.
        assert_eq!(sprite.dimensions(), (16, 16));
        assert_eq!(s.thumb_px, 4);
        let config = std::fs::read_to_string(dir.join("projector_config.pbtxt")).unwrap();
        assert_eq!(config.matches("single_image_dim: 4").count(), 2);
        // Row-major: image 5 sits in row 1, column 1.
        assert_eq!(
            sprite.get_pixel(5, 5).0[0],
            (5.0f32 / 9.0 * 255.0).round() as u8
        );
        let proj = std::fs::read_to_string(dir.join("projection.csv")).unwrap();
        assert!(proj.starts_with("index,label,class,pc1,pc2,pc3\n"));
        assert_eq!(proj.lines().count(), 11);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn large_sprites_shrink_their_thumbnails_to_fit() {
        // 400 columns × 28 px would be 11 200 px.
        let (cols, thumb) = sprite_layout(400 * 400, 28);
        assert_eq!((cols, thumb), (400, 20));
        assert!(cols * thumb <= MAX_SPRITE_PX);
        assert_eq!(sprite_layout(1000, 28), (32, 28));
    }
}
