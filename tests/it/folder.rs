//! Image folders (`--data folder:DIR`): every case of the loader's documented rules, on folders
//! these tests create.

use std::path::Path;

use image::{DynamicImage, ImageBuffer, ImageFormat, Luma, Rgb, Rgba};
use latentlab::data::{self, DataSpec, Fit, FolderOptions, LoadError, SampleShape};

use super::temp_dir;

fn read(dir: &Path, options: &FolderOptions) -> Result<data::DataSplit, LoadError> {
    data::folder::read(dir, options, 0, &mut |_, _| true)
}

fn opts(size: usize) -> FolderOptions {
    FolderOptions {
        size,
        ..Default::default()
    }
}

fn rgb(w: u32, h: u32, colour: [u8; 3]) -> DynamicImage {
    DynamicImage::ImageRgb8(ImageBuffer::from_pixel(w, h, Rgb(colour)))
}

fn grey(w: u32, h: u32, v: u8) -> DynamicImage {
    DynamicImage::ImageLuma8(ImageBuffer::from_pixel(w, h, Luma([v])))
}

fn save(image: &DynamicImage, path: &Path, format: ImageFormat) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("folder");
    image
        .save_with_format(path, format)
        .expect("write test image");
}

fn image_shape(split: &data::DataSplit) -> (usize, usize, usize) {
    match split.train.shape {
        SampleShape::Image(s) => (s.channels, s.height, s.width),
        other => panic!("not an image: {other:?}"),
    }
}

fn total(split: &data::DataSplit) -> usize {
    split.train.len() + split.test.len()
}

fn warnings(split: &data::DataSplit) -> String {
    split.warnings.join("\n")
}

#[test]
fn class_subfolders_become_labels_named_by_their_folders_and_nested_images_join_them() {
    let dir = temp_dir("folder-classes");
    for i in 0..6 {
        save(
            &grey(10, 10, 20),
            &dir.join(format!("circles/c{i}.png")),
            ImageFormat::Png,
        );
        save(
            &grey(12, 8, 230),
            &dir.join(format!("squares/deep/er/s{i}.bmp")),
            ImageFormat::Bmp,
        );
    }
    let split = read(&dir, &opts(8)).expect("loads");
    assert_eq!(split.train.class_names, ["circles", "squares"]);
    assert_eq!(total(&split), 12);
    assert_eq!(image_shape(&split), (1, 8, 8), "grey images load grey");
    // Each label's images keep their own brightness: the labels follow the folders.
    for d in [&split.train, &split.test] {
        for i in 0..d.len() {
            let mean = d.sample(i).iter().sum::<f32>() / 64.0;
            let label = d.label(i).expect("labelled");
            let expected = if label == 0 { 20.0 } else { 230.0 } / 255.0;
            assert!((mean - expected).abs() < 0.01, "label {label}: mean {mean}");
        }
    }
    assert!(split.warnings.is_empty(), "{}", warnings(&split));
}

#[test]
fn a_flat_folder_loads_unlabelled_and_the_spec_reads_as_the_cli_spells_it() {
    let dir = temp_dir("folder-flat");
    for i in 0..5 {
        save(
            &grey(16, 16, 100),
            &dir.join(format!("{i}.png")),
            ImageFormat::Png,
        );
    }
    let spec: DataSpec = format!("folder:{}", dir.display()).parse().expect("spec");
    assert_eq!(spec.to_string(), format!("folder:{}", dir.display()));
    let split = data::load(&spec, 0).expect("loads");
    assert!(split.train.labels.is_none() && split.train.class_names.is_empty());
    assert_eq!(total(&split), 5);
    assert_eq!(image_shape(&split), (1, 32, 32), "default size 32");
}

#[test]
fn every_format_bit_depth_and_mode_loads_and_one_coloured_image_makes_the_set_rgb() {
    let dir = temp_dir("folder-modes");
    let c = dir.join("all");
    save(&grey(30, 20, 50), &c.join("grey.png"), ImageFormat::Png);
    save(
        &rgb(20, 30, [200, 30, 30]),
        &c.join("red.jpg"),
        ImageFormat::Jpeg,
    );
    let rgba = DynamicImage::ImageRgba8(ImageBuffer::from_pixel(9, 9, Rgba([0, 0, 255, 255])));
    save(&rgba, &c.join("blue.webp"), ImageFormat::WebP);
    let deep = DynamicImage::ImageLuma16(ImageBuffer::from_pixel(7, 7, Luma([65535u16])));
    save(&deep, &c.join("white16.tiff"), ImageFormat::Tiff);
    save(&deep, &c.join("white16.png"), ImageFormat::Png);
    // GIF stores a palette: the palette path of the decoder.
    save(
        &rgb(5, 5, [0, 200, 0]),
        &c.join("green.gif"),
        ImageFormat::Gif,
    );
    save(
        &rgb(64, 64, [10, 10, 10]),
        &c.join("dark.bmp"),
        ImageFormat::Bmp,
    );
    // Half transparent red: transparent pixels become black, so half its red stays.
    let half = DynamicImage::ImageRgba8(ImageBuffer::from_pixel(4, 4, Rgba([255, 0, 0, 128])));
    save(&half, &c.join("half.png"), ImageFormat::Png);
    let split = read(&dir, &opts(6)).expect("loads");
    assert_eq!(total(&split), 8, "{}", warnings(&split));
    assert!(split.warnings.is_empty(), "{}", warnings(&split));
    assert_eq!(image_shape(&split), (3, 6, 6));
    // Find each image by its colour: planar [3, 6, 6], all pixels alike.
    let colours: Vec<[f32; 3]> = [&split.train, &split.test]
        .iter()
        .flat_map(|d| (0..d.len()).map(|i| d.sample(i)))
        .map(|s| [s[0], s[36], s[72]])
        .collect();
    let has = |want: [f32; 3]| {
        colours
            .iter()
            .any(|c| c.iter().zip(want).all(|(a, b)| (a - b).abs() < 0.03))
    };
    for (name, want) in [
        ("grey", [50.0 / 255.0; 3]),
        ("red jpeg", [200.0 / 255.0, 30.0 / 255.0, 30.0 / 255.0]),
        ("blue webp", [0.0, 0.0, 1.0]),
        ("16-bit white", [1.0; 3]),
        ("palette green", [0.0, 200.0 / 255.0, 0.0]),
        ("half-transparent red", [128.0 / 255.0, 0.0, 0.0]),
    ] {
        assert!(has(want), "{name} {want:?} not among {colours:?}");
    }
    let grey_split = read(
        &dir,
        &FolderOptions {
            size: 6,
            grey: true,
            ..Default::default()
        },
    )
    .expect("loads grey");
    assert_eq!(image_shape(&grey_split), (1, 6, 6), "grey on request");
}

#[test]
fn crop_fills_the_square_and_letterbox_keeps_the_whole_image_on_black() {
    let dir = temp_dir("folder-fit");
    save(
        &grey(40, 20, 255),
        &dir.join("wide-1.png"),
        ImageFormat::Png,
    );
    save(
        &grey(40, 20, 255),
        &dir.join("wide-2.png"),
        ImageFormat::Png,
    );
    let crop = read(&dir, &opts(8)).expect("crop");
    assert!(
        crop.train.sample(0).iter().all(|&v| v > 0.99),
        "crop is all image"
    );
    let letterbox = read(
        &dir,
        &FolderOptions {
            size: 8,
            fit: Fit::Letterbox,
            ..Default::default()
        },
    )
    .expect("letterbox");
    let s = letterbox.train.sample(0);
    // A 2:1 image in an 8×8 square: rows 2..6 are image, the two above and below black.
    for row in 0..8 {
        let mean = s[row * 8..row * 8 + 8].iter().sum::<f32>() / 8.0;
        let inside = (2..6).contains(&row);
        assert!(
            if inside { mean > 0.99 } else { mean < 0.01 },
            "row {row}: mean {mean}"
        );
    }
}

#[test]
fn unusable_files_are_skipped_and_listed_with_their_reasons() {
    let dir = temp_dir("folder-bad");
    let c = dir.join("ok");
    save(&grey(8, 8, 10), &c.join("a.png"), ImageFormat::Png);
    save(&grey(8, 8, 10), &c.join("b.png"), ImageFormat::Png);
    std::fs::write(c.join("notes.png"), "this is text, not a picture\n").expect("write");
    std::fs::write(c.join("zero.jpg"), b"").expect("write");
    // A real PNG cut short in its pixel data.
    let mut png = Vec::new();
    grey(64, 64, 7)
        .write_to(&mut std::io::Cursor::new(&mut png), ImageFormat::Png)
        .expect("encode");
    std::fs::write(c.join("cut.png"), &png[..png.len() / 2]).expect("write");
    std::fs::write(dir.join("loose.png"), &png).expect("write");
    let split = read(&dir, &opts(8)).expect("the good files load");
    assert_eq!(total(&split), 2);
    let w = warnings(&split);
    assert!(
        w.starts_with("skipped 4 files that could not be used:"),
        "{w}"
    );
    for (file, why) in [
        ("notes.png", "not an image in a known format"),
        ("zero.jpg", "empty file"),
        ("cut.png", ""),
        ("loose.png", "lies beside the class folders"),
    ] {
        let line = w.lines().find(|l| l.contains(file)).unwrap_or_default();
        assert!(line.contains(why), "{file}: {w}");
    }
}

#[test]
fn an_empty_folder_or_one_without_a_usable_image_is_an_error_naming_it() {
    let dir = temp_dir("folder-empty");
    let e = read(&dir, &opts(8)).expect_err("empty").to_string();
    assert!(
        e.contains(&dir.display().to_string()) && e.contains("holds no files"),
        "{e}"
    );
    std::fs::write(dir.join("a.png"), "text").expect("write");
    let e = read(&dir, &opts(8))
        .expect_err("nothing usable")
        .to_string();
    assert!(
        e.contains("no readable images") && e.contains("a.png"),
        "{e}"
    );
    let e = read(&dir.join("missing"), &opts(8))
        .expect_err("missing")
        .to_string();
    assert!(e.contains("missing"), "{e}");
    let e = read(&dir, &opts(0)).expect_err("size 0").to_string();
    assert!(e.contains("image size 0"), "{e}");
}

#[test]
fn a_symlink_loop_is_read_once_and_named() {
    let dir = temp_dir("folder-loop");
    let c = dir.join("cls");
    save(&grey(8, 8, 10), &c.join("a.png"), ImageFormat::Png);
    save(&grey(8, 8, 10), &c.join("b.png"), ImageFormat::Png);
    std::os::unix::fs::symlink(&c, c.join("again")).expect("symlink");
    std::os::unix::fs::symlink(&dir, c.join("up")).expect("symlink");
    std::os::unix::fs::symlink(dir.join("nowhere"), c.join("broken")).expect("symlink");
    let split = read(&dir, &opts(8)).expect("loads");
    assert_eq!(total(&split), 2, "each image once");
    let w = warnings(&split);
    assert!(w.contains("again: a folder already read"), "{w}");
    assert!(w.contains("up: a folder already read"), "{w}");
    assert!(w.contains("broken: not a file or a folder"), "{w}");
}

#[test]
fn cancelling_ends_the_load() {
    let dir = temp_dir("folder-cancel");
    for i in 0..3 {
        save(
            &grey(8, 8, 10),
            &dir.join(format!("{i}.png")),
            ImageFormat::Png,
        );
    }
    let mut calls = Vec::new();
    let result = data::folder::read(&dir, &opts(8), 0, &mut |done, total| {
        calls.push((done, total));
        false
    });
    assert!(matches!(result, Err(LoadError::Cancelled)), "{result:?}");
    assert_eq!(calls, [(0, 3)]);
}

/// A PNG whose header claims 100 000 × 100 000 pixels (30 GB of RGB) and holds none.
fn giant_png() -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], body: &[u8]| {
        png.extend((body.len() as u32).to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(body);
        png.extend(kind);
        png.extend(body);
        png.extend(crc.sum().to_be_bytes());
    };
    let mut ihdr = Vec::new();
    ihdr.extend(100_000u32.to_be_bytes());
    ihdr.extend(100_000u32.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]); // 8-bit RGB
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    chunk(b"IEND", &[]);
    png
}

/// Run alone in a child process by the test below, so its peak memory is its own.
#[test]
#[ignore = "run as a child process by a_header_promising_giant_images_is_refused_before_allocating"]
fn giant_header_child() {
    let dir = std::path::PathBuf::from(std::env::var("LATENTLAB_GIANT_DIR").expect("dir"));
    let split = read(&dir, &opts(8)).expect("the small image loads");
    let status = std::fs::read_to_string("/proc/self/status").expect("status");
    let peak_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM");
    println!("PEAK_KB={peak_kb}");
    println!("WARNINGS={}", warnings(&split).replace('\n', " | "));
}

#[test]
fn a_header_promising_giant_images_is_refused_before_allocating() {
    let dir = temp_dir("folder-giant");
    std::fs::write(dir.join("giant.png"), giant_png()).expect("write");
    save(&grey(8, 8, 10), &dir.join("small-1.png"), ImageFormat::Png);
    save(&grey(8, 8, 10), &dir.join("small-2.png"), ImageFormat::Png);
    let out = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "folder::giant_header_child",
            "--ignored",
            "--nocapture",
        ])
        .env("LATENTLAB_GIANT_DIR", &dir)
        .output()
        .expect("child runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let peak_kb: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("PEAK_KB="))
        .and_then(|v| v.parse().ok())
        .expect("the child reports its peak");
    let w = text
        .lines()
        .find_map(|l| l.strip_prefix("WARNINGS="))
        .unwrap_or_default();
    assert!(
        w.contains("giant.png: refused before decoding: larger than 16384 pixels a side"),
        "{w}"
    );
    // The whole test process (its binary, the embedded data sets) stays far below the 30 GB
    // the header asks for.
    assert!(peak_kb < 400 * 1024, "peak {peak_kb} kB");
}

/// A folder of coloured shapes (circle, square, triangle) in random colours on random
/// backgrounds, `per_class` of each, 48 × 40 pixels: what a user's photos look like to the
/// loader (coloured, not square), made in a moment.
pub fn colour_shapes(dir: &Path, per_class: usize) {
    let mut rng = latentlab::data::Rng::new(7);
    let mut byte = || (rng.uniform() * 255.0) as u8;
    for (k, shape) in ["circle", "square", "triangle"].iter().enumerate() {
        for i in 0..per_class {
            let bg = [byte(), byte(), byte()];
            let fg = [byte(), byte(), byte()];
            let (cx, cy) = (18.0 + byte() as f32 / 20.0, 14.0 + byte() as f32 / 20.0);
            let r = 6.0 + byte() as f32 / 40.0;
            let image = ImageBuffer::from_fn(48, 40, |x, y| {
                let (dx, dy) = (x as f32 - cx, y as f32 - cy);
                let inside = match k {
                    0 => dx * dx + dy * dy < r * r,
                    1 => dx.abs() < r && dy.abs() < r,
                    _ => dy.abs() < r && dx.abs() < (dy + r) / 2.0,
                };
                Rgb(if inside { fg } else { bg })
            });
            save(
                &DynamicImage::ImageRgb8(image),
                &dir.join(format!("{shape}/{i:03}.png")),
                ImageFormat::Png,
            );
        }
    }
}

#[test]
#[ignore = "writes the image fuzz corpus once"]
fn write_fuzz_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-corpus/image");
    let grad = |w: u32, h: u32| {
        ImageBuffer::from_fn(w, h, |x, y| Rgb([(x * 40) as u8, (y * 40) as u8, 128]))
    };
    let deep = DynamicImage::ImageLuma16(ImageBuffer::from_fn(5, 4, |x, y| {
        Luma([(x * 9000 + y * 3000) as u16])
    }));
    save(&deep, &dir.join("grey16.png"), ImageFormat::Png);
    save(
        &DynamicImage::ImageRgb8(grad(6, 5)),
        &dir.join("palette.gif"),
        ImageFormat::Gif,
    );
    save(
        &DynamicImage::ImageRgb8(grad(6, 5)),
        &dir.join("rgb.jpg"),
        ImageFormat::Jpeg,
    );
    let rgba = DynamicImage::ImageRgba8(ImageBuffer::from_fn(5, 6, |x, y| {
        Rgba([(x * 50) as u8, 0, (y * 40) as u8, 200])
    }));
    save(&rgba, &dir.join("rgba.webp"), ImageFormat::WebP);
    save(
        &DynamicImage::ImageRgb8(grad(7, 3)),
        &dir.join("rgb.bmp"),
        ImageFormat::Bmp,
    );
    save(&grey(4, 4, 90), &dir.join("grey.tiff"), ImageFormat::Tiff);
}
