//! A user's folder of images (`--data folder:DIR`).
//!
//! The rules, each tested below:
//! - **Labels.** Every subfolder of `DIR` that holds images is a class, named by the folder and
//!   ordered by name; images deeper inside a class folder belong to it. Without such subfolders
//!   the images directly in `DIR` load unlabelled. When there are classes, images lying directly
//!   in `DIR` belong to none and are skipped (and listed).
//! - **Formats.** PNG, JPEG, BMP, GIF (first frame), WebP and TIFF, recognised by their content,
//!   not their name; any bit depth, palette or alpha (transparent pixels become black).
//! - **Size.** Each image is resized to `size × size`: the largest centred square is cut out
//!   ([`Fit::Crop`]), or the whole image is scaled to fit and centred on black ([`Fit::Letterbox`]).
//! - **Colour.** The set is RGB when any image has colour (a pixel whose channels differ), else
//!   grey; [`FolderOptions::grey`] asks for grey whatever the images (luma, BT.709).
//! - **Refusals before allocation.** A file over the data limit ([`super::max_data_bytes`]) is not
//!   read; a header promising more than [`MAX_SIDE`] pixels a side, or a decoder needing more than
//!   [`MAX_DECODE_BYTES`], is refused by the `image` crate's limits before any pixel buffer exists.
//! - **Never silent.** A file that cannot be used (not an image, damaged, empty, too large, a link
//!   loop) is skipped and listed with its reason in the split's warnings; a folder with no usable
//!   image at all is an error that lists them.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{DataSplit, Dataset, ImageShape, LoadError, SampleShape};

/// The longest image side accepted, in pixels.
pub const MAX_SIDE: u32 = 16_384;
/// The most memory one image's decoder may ask for.
pub const MAX_DECODE_BYTES: u64 = 256 << 20;
/// How deep class folders are searched, so a cycle the link check misses still ends.
const MAX_DEPTH: usize = 32;
/// Images decoded between two progress reports.
const CHUNK: usize = 64;

/// How an image is brought to a square.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Fit {
    /// The largest centred square, scaled: fills the tile, loses the edges of long images.
    #[default]
    Crop,
    /// The whole image scaled to fit, centred on black: keeps everything, wastes some tile.
    Letterbox,
}

/// How a folder of images is read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FolderOptions {
    /// The side of the square every image is resized to.
    pub size: usize,
    /// Grey even when the images have colour.
    pub grey: bool,
    pub fit: Fit,
}

impl Default for FolderOptions {
    fn default() -> Self {
        Self {
            size: 32,
            grey: false,
            fit: Fit::Crop,
        }
    }
}

/// One image file and the class it belongs to.
struct Entry {
    path: PathBuf,
    label: Option<u32>,
}

/// Reads a folder of images (see the module documentation), split 90/10 with `seed`.
/// `progress(done, total)` is called between chunks of images; it returns false to cancel, and
/// the load then ends with [`LoadError::Cancelled`].
pub fn read(
    dir: &Path,
    options: &FolderOptions,
    seed: u64,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<DataSplit, LoadError> {
    if !(1..=1024).contains(&options.size) {
        return Err(LoadError::Folder {
            path: dir.to_path_buf(),
            why: format!("image size {} is outside 1..=1024 pixels", options.size),
        });
    }
    let mut skipped: Vec<String> = Vec::new();
    let (entries, class_names) = list(dir, &mut skipped)?;
    let size = options.size;
    check_budget(dir, entries.len(), size, super::max_data_bytes())?;
    let mut rgb: Vec<u8> = Vec::with_capacity(entries.len() * 3 * size * size);
    let mut labels: Vec<u32> = Vec::new();
    let mut coloured = false;
    for (c, chunk) in entries.chunks(CHUNK).enumerate() {
        if !progress(c * CHUNK, entries.len()) {
            return Err(LoadError::Cancelled);
        }
        let decoded: Vec<Result<(Vec<u8>, bool), String>> =
            chunk.par_iter().map(|e| decode(&e.path, options)).collect();
        for (entry, result) in chunk.iter().zip(decoded) {
            match result {
                Ok((pixels, colour)) => {
                    coloured |= colour;
                    rgb.extend(pixels);
                    labels.extend(entry.label);
                }
                Err(why) => skipped.push(format!("{}: {why}", entry.path.display())),
            }
        }
    }
    progress(entries.len(), entries.len());
    let count = rgb.len() / (3 * size * size);
    if count == 0 {
        return Err(LoadError::Folder {
            path: dir.to_path_buf(),
            why: format!("no readable images{}", super::skipped_in_error(&skipped)),
        });
    }
    let channels = if coloured && !options.grey { 3 } else { 1 };
    let values = if channels == 3 {
        planar(&rgb, size * size)
    } else {
        luma(&rgb)
    };
    let data = Dataset {
        shape: SampleShape::Image(ImageShape {
            channels,
            height: size,
            width: size,
        }),
        values: values.into(),
        labels: (!class_names.is_empty()).then_some(labels),
        class_names,
        factors: None,
    };
    let mut split = super::split(data, seed, dir)?;
    if !skipped.is_empty() {
        split.warnings.push(super::skipped_warning(&skipped));
    }
    Ok(split)
}

/// Refuses, before decoding anything, a folder whose images at `size` would hold more sample
/// bytes (one byte per pixel and channel, as in an IDX file) than `limit`.
fn check_budget(dir: &Path, count: usize, size: usize, limit: usize) -> Result<(), LoadError> {
    let bytes = (count as u64).saturating_mul(3 * (size * size) as u64);
    if bytes > limit as u64 {
        return Err(LoadError::Folder {
            path: dir.to_path_buf(),
            why: format!(
                "{count} images of {size}×{size} in colour are {bytes} bytes of samples, more than the limit of {limit}; choose a smaller --image-size or raise --max-data-mb"
            ),
        });
    }
    Ok(())
}

/// The image files under `dir` with their classes, and the class names (empty when flat).
fn list(dir: &Path, skipped: &mut Vec<String>) -> Result<(Vec<Entry>, Vec<String>), LoadError> {
    let mut visited = HashSet::new();
    visited.insert(canonical(dir)?);
    let top = super::list_dir(dir)?;
    let mut classes: Vec<(String, Vec<PathBuf>)> = Vec::new();
    let mut loose = Vec::new();
    for path in top {
        if path.is_dir() {
            let mut files = Vec::new();
            walk(&path, 1, &mut visited, &mut files, skipped);
            if !files.is_empty() {
                let name = path
                    .file_name()
                    .map_or(String::new(), |n| n.to_string_lossy().into_owned());
                classes.push((name, files));
            }
        } else if path.is_file() {
            loose.push(path);
        } else {
            skipped.push(format!(
                "{}: not a file or a folder (a broken link?)",
                path.display()
            ));
        }
    }
    if classes.is_empty() {
        if loose.is_empty() {
            return Err(LoadError::Folder {
                path: dir.to_path_buf(),
                why: format!("holds no files{}", super::skipped_in_error(skipped)),
            });
        }
        let entries = loose
            .into_iter()
            .map(|path| Entry { path, label: None })
            .collect();
        return Ok((entries, Vec::new()));
    }
    for path in loose {
        skipped.push(format!(
            "{}: lies beside the class folders, in none of them",
            path.display()
        ));
    }
    let names = classes.iter().map(|(n, _)| n.clone()).collect();
    let entries = classes
        .into_iter()
        .enumerate()
        .flat_map(|(label, (_, files))| {
            files.into_iter().map(move |path| Entry {
                path,
                label: Some(label as u32),
            })
        })
        .collect();
    Ok((entries, names))
}

/// Collects the files under `dir`, depth first in name order; a folder seen before (a link
/// loop or a second link to it) is skipped and listed.
fn walk(
    dir: &Path,
    depth: usize,
    visited: &mut HashSet<PathBuf>,
    files: &mut Vec<PathBuf>,
    skipped: &mut Vec<String>,
) {
    let seen = match canonical(dir) {
        Ok(c) => !visited.insert(c),
        Err(e) => {
            skipped.push(format!("{}: {e}", dir.display()));
            return;
        }
    };
    if seen {
        skipped.push(format!(
            "{}: a folder already read (a link loop?), read once",
            dir.display()
        ));
        return;
    }
    if depth > MAX_DEPTH {
        skipped.push(format!(
            "{}: more than {MAX_DEPTH} folders deep",
            dir.display()
        ));
        return;
    }
    let entries = match super::list_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            skipped.push(e.to_string());
            return;
        }
    };
    for path in entries {
        if path.is_dir() {
            walk(&path, depth + 1, visited, files, skipped);
        } else if path.is_file() {
            files.push(path);
        } else {
            skipped.push(format!(
                "{}: not a file or a folder (a broken link?)",
                path.display()
            ));
        }
    }
}

fn canonical(dir: &Path) -> Result<PathBuf, LoadError> {
    dir.canonicalize().map_err(|source| LoadError::Io {
        path: dir.to_path_buf(),
        source,
    })
}

/// One image file as `size × size` RGB bytes (interleaved, 255 for 1.0), and whether it has
/// colour; the error says why it cannot be used.
fn decode(path: &Path, options: &FolderOptions) -> Result<(Vec<u8>, bool), String> {
    super::check_file_size(path).map_err(|e| match e {
        LoadError::TooLarge { bytes, limit, .. } => {
            format!("{bytes} bytes, over the data limit of {limit} (--max-data-mb)")
        }
        other => other.to_string(),
    })?;
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read it: {e}"))?;
    decode_bytes(&bytes, options)
}

/// [`decode`] of a file's bytes: the format is recognised by content, never by name.
pub fn decode_bytes(bytes: &[u8], options: &FolderOptions) -> Result<(Vec<u8>, bool), String> {
    if bytes.is_empty() {
        return Err("empty file".into());
    }
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| format!("cannot read it: {e}"))?;
    if reader.format().is_none() {
        return Err("not an image in a known format (PNG, JPEG, BMP, GIF, WebP, TIFF)".into());
    }
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let image = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => format!(
            "refused before decoding: larger than {MAX_SIDE} pixels a side or {} MiB to decode ({e})",
            MAX_DECODE_BYTES >> 20
        ),
        other => other.to_string(),
    })?;
    let (w, h) = (image.width(), image.height());
    if w == 0 || h == 0 {
        return Err("the image has no pixels".into());
    }
    let side = options.size as u32;
    let filter = image::imageops::FilterType::Triangle;
    let square = match options.fit {
        Fit::Crop => {
            let s = w.min(h);
            image
                .crop_imm((w - s) / 2, (h - s) / 2, s, s)
                .resize_exact(side, side, filter)
                .into_rgba32f()
        }
        Fit::Letterbox => {
            let scaled = image.resize(side, side, filter).into_rgba32f();
            let mut canvas = image::Rgba32FImage::new(side, side);
            let (x, y) = ((side - scaled.width()) / 2, (side - scaled.height()) / 2);
            image::imageops::replace(&mut canvas, &scaled, x as i64, y as i64);
            canvas
        }
    };
    let mut rgb = Vec::with_capacity(3 * options.size * options.size);
    let mut colour = false;
    for p in square.pixels() {
        let [r, g, b, a] = p.0.map(|v| v.clamp(0.0, 1.0));
        let [r, g, b] = [r * a, g * a, b * a].map(to_byte);
        colour |= r.abs_diff(g) > 2 || g.abs_diff(b) > 2;
        rgb.extend([r, g, b]);
    }
    Ok((rgb, colour))
}

/// A value in [0, 1] as the byte that holds it (images are kept as bytes, 8 bits a channel).
fn to_byte(v: f32) -> u8 {
    (v * 255.0).round() as u8
}

/// Interleaved RGB images to planar `[N, 3, H, W]`.
fn planar(rgb: &[u8], area: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(rgb.len());
    for image in rgb.chunks_exact(3 * area) {
        for c in 0..3 {
            out.extend(image.chunks_exact(3).map(|p| p[c]));
        }
    }
    out
}

/// Interleaved RGB to grey (BT.709 luma).
fn luma(rgb: &[u8]) -> Vec<u8> {
    rgb.chunks_exact(3)
        .map(|p| (0.2126 * p[0] as f32 + 0.7152 * p[1] as f32 + 0.0722 * p[2] as f32).round() as u8)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_too_large_at_its_image_size_is_refused_before_decoding() {
        let dir = Path::new("photos");
        assert!(check_budget(dir, 100_000, 32, 1 << 30).is_ok());
        let e = check_budget(dir, 100_000, 256, 1 << 30)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("100000 images of 256×256") && e.contains("--image-size"),
            "{e}"
        );
    }
}
