//! The `latentlab` binary, run as a user would: outputs, bad input, device errors.

use std::path::Path;
use std::process::{Command, Output};

use latentlab::data::idx;

use super::{temp_dir, write_mnist_idx};

fn latentlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_latentlab"))
        .args(args)
        .output()
        .expect("run latentlab")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Trains on `data` for one tiny epoch; `extra` flags (`--flag value` pairs) override the
/// defaults. Returns the process output.
fn train_on(data: &str, out: &Path, extra: &[&str]) -> Output {
    let defaults = [
        ("--epochs", "1"),
        ("--batch", "32"),
        ("--hidden", "64"),
        ("--latent", "4"),
        ("--device", "cpu"),
    ];
    let mut args = vec!["train", "--data", data, "--out", out.to_str().unwrap()];
    for (flag, value) in defaults {
        if !extra.contains(&flag) {
            args.extend([flag, value]);
        }
    }
    args.extend_from_slice(extra);
    latentlab(&args)
}

#[test]
fn train_writes_metrics_checkpoint_pictures_and_latents() {
    let dir = temp_dir("cli-train");
    let (img, lbl) = write_mnist_idx(&dir, 400);
    let out = dir.join("run");
    let spec = format!("idx:{},{}", img.display(), lbl.display());
    let o = train_on(&spec, &out, &["--eval-every", "5"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("device: CPU (Flex backend)"),
        "{}",
        stderr(&o)
    );

    // 360 train images / 32 = 11 steps; evaluations at 5, 10 and the epoch end, 11.
    let metrics = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    let mut lines = metrics.lines();
    assert_eq!(
        lines.next().unwrap(),
        "step,epoch,train_loss,train_reconstruction,test_mse,test_reconstruction,elapsed_secs"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 11);
    let evals: Vec<&str> = rows
        .iter()
        .filter(|r| !r[4].is_empty())
        .map(|r| r[0])
        .collect();
    assert_eq!(evals, ["5", "10", "11"]);

    let latents = std::fs::read_to_string(out.join("latents.csv")).unwrap();
    assert!(latents.starts_with("index,label,class,z0,z1,z2,z3\n"));
    assert_eq!(latents.lines().count(), 1 + 40);

    let png = image::open(out.join("reconstructions.png")).unwrap();
    assert!(png.width() > 28 * 4 && png.height() > 2 * 28 * 4);
    assert!(out.join("checkpoint/checkpoint.json").exists());
    let meta = std::fs::read_to_string(out.join("checkpoint/checkpoint.json")).unwrap();
    let meta: serde_json::Value = serde_json::from_str(&meta).unwrap();
    let weights = meta["model_file"]
        .as_str()
        .expect("the weights file is named");
    assert!(out.join("checkpoint").join(weights).exists());
    // No known factors and not variational: nothing to traverse or score.
    assert!(!out.join("traversals.png").exists());
    assert!(!out.join("disentanglement.json").exists());

    // Resuming with the same architecture continues; a different one is refused by name.
    let o = train_on(
        &spec,
        &out,
        &["--epochs", "2", "--resume", out.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("at step 22"));
    let o = train_on(
        &spec,
        &dir.join("other"),
        &["--latent", "3", "--resume", out.to_str().unwrap()],
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("latent 4`") && stderr(&o).contains("latent 3`"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// Each broken input: a non-zero exit, the file named, no panic.
/// The shapes set's factors reach the run folder: a β-TCVAE run scores its test codes against
/// all five and draws one traversal row per latent dimension.
/// Mean squared difference of two equal-sized rows of grey pixels at `a` and `b` pixels down.
fn row_distance(img: &image::RgbaImage, a: u32, b: u32, height: u32) -> f64 {
    let mut sum = 0.0;
    for y in 0..height {
        for x in 0..img.width() {
            let d = img.get_pixel(x, a + y)[0] as f64 - img.get_pixel(x, b + y)[0] as f64;
            sum += d * d;
        }
    }
    sum / (height * img.width()) as f64
}

#[test]
fn train_writes_the_run_over_time_as_a_gif_and_a_png_strip() {
    let dir = temp_dir("cli-history");
    let (img, lbl) = write_mnist_idx(&dir, 400);
    let out = dir.join("run");
    let spec = format!("idx:{},{}", img.display(), lbl.display());
    // 3 epochs of 12 steps, an evaluation (and so a kept moment) every 3 steps.
    let o = train_on(&spec, &out, &["--epochs", "3", "--eval-every", "3"]);
    assert!(o.status.success(), "{}", stderr(&o));

    // Each frame: the inputs (28 px at scale 2), a 1 px gap, the outputs, a gap, the bar.
    let tile = 56;
    let file = std::io::BufReader::new(std::fs::File::open(out.join("history.gif")).unwrap());
    let decoder = image::codecs::gif::GifDecoder::new(file).expect("a GIF");
    let frames = image::AnimationDecoder::into_frames(decoder)
        .collect_frames()
        .expect("readable frames");
    assert!(frames.len() >= 12, "{} frames", frames.len());
    let (first, last) = (frames[0].buffer(), frames[frames.len() - 1].buffer());
    assert_eq!(first.height(), 2 * tile + 1 + 1 + 4);
    let (early, late) = (
        row_distance(first, 0, tile + 1, tile),
        row_distance(last, 0, tile + 1, tile),
    );
    assert!(
        late < early * 0.7,
        "outputs to inputs: {early:.0} at first, {late:.0} at last"
    );
    // The bar under the last frame is full, under the first empty.
    let bar = 2 * tile + 2;
    let filled = |f: &image::RgbaImage| f.get_pixel(f.width() - 1, bar + 1)[2] > 200;
    assert!(filled(last) && !filled(first));

    // The strip: the inputs, then a row of outputs for each of a dozen moments, oldest first.
    let strip = image::open(out.join("history.png")).unwrap().to_rgba8();
    assert_eq!(strip.height(), tile + 12 * (tile + 3));
    let row = |k: u32| (tile + 3) * (k + 1);
    let (early, late) = (
        row_distance(&strip, 0, row(0), tile),
        row_distance(&strip, 0, row(11), tile),
    );
    assert!(
        late < early * 0.7,
        "outputs to inputs: {early:.0} at first, {late:.0} at last"
    );
}

#[test]
fn export_all_then_tsne_maps_every_code_and_bad_codes_are_named() {
    let dir = temp_dir("cli-tsne");
    let (img, lbl) = write_mnist_idx(&dir, 400);
    let run = dir.join("run");
    let spec = format!("idx:{},{}", img.display(), lbl.display());
    let o = train_on(&spec, &run, &["--epochs", "20", "--latent", "8"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let codes = dir.join("codes");
    let o = latentlab(&[
        "export",
        "--run",
        run.to_str().unwrap(),
        "--split",
        "all",
        "--out",
        codes.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // 360 training and 40 test images, in one file.
    let tensors = std::fs::read_to_string(codes.join("tensors.tsv")).unwrap();
    assert_eq!(tensors.lines().count(), 400);

    for dims in ["2", "3"] {
        let out = dir.join(format!("map{dims}.csv"));
        let o = latentlab(&[
            "tsne",
            "--input",
            codes.to_str().unwrap(),
            "--dims",
            dims,
            "--iterations",
            "300",
            "--perplexity",
            "20",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
        // The map keeps the digits apart: its 5-NN votes are right three times as often as
        // chance (0.1) would be, from a small model of 400 digits (0.48 when written).
        let accuracy: f32 = stdout
            .lines()
            .find_map(|l| l.strip_prefix("5-NN label accuracy in the map: "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no accuracy in {stdout}"));
        assert!(accuracy > 0.3, "{dims}-D: {accuracy}");
        let csv = std::fs::read_to_string(&out).unwrap();
        let header = if dims == "2" {
            "index,label,x,y"
        } else {
            "index,label,x,y,z"
        };
        assert_eq!(csv.lines().next(), Some(header));
        assert_eq!(csv.lines().count(), 401);
    }

    // A damaged code is named by line and column; nothing is written.
    let mut lines: Vec<String> = tensors.lines().map(String::from).collect();
    lines[6] = lines[6].replacen('\t', "\tNaN?\t", 1);
    std::fs::write(codes.join("tensors.tsv"), lines.join("\n")).unwrap();
    let out = dir.join("bad.csv");
    let o = latentlab(&[
        "tsne",
        "--input",
        codes.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("line 7, column 2"), "{}", stderr(&o));
    assert!(!out.exists());
}

#[test]
fn a_btcvae_on_shapes_writes_traversals_and_its_disentanglement_scores() {
    let dir = temp_dir("cli-shapes");
    let out = dir.join("run");
    let o = train_on(
        "shapes",
        &out,
        &["--model", "btcvae", "--batch", "256", "--beta", "6"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("MIG "));
    let header = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    assert!(header.starts_with(
        "step,epoch,train_loss,train_reconstruction,train_mutual information,\
         train_total correlation,train_dimension-wise KL,"
    ));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("disentanglement.json")).unwrap()).unwrap();
    let mig = json["mig"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&mig), "{mig}");
    let names: Vec<&str> = json["factor_names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(names, ["shape", "scale", "rotation", "x", "y"]);
    let mi = json["mutual_information"].as_array().unwrap();
    assert_eq!(mi.len(), 4);
    assert!(mi.iter().all(|row| row.as_array().unwrap().len() == 5));
    // Four rows (one per latent dimension) of nine 32-pixel tiles at scale 2.
    let png = image::open(out.join("traversals.png")).unwrap();
    assert!(png.width() >= 9 * 64 && png.height() >= 4 * 64 && png.height() < 5 * 64);
    std::fs::remove_dir_all(dir).unwrap();
}

/// A content/style split on MNIST for 4 epochs draws every test image as every class:
/// `style_swap.png` (a style image then ten swaps per row), `traversals.png`, and figures in
/// `disentanglement.json`: the project's classifier names most swaps as the class they asked
/// for, and a linear probe reads the class better from the content code than from the style.
#[test]
fn a_content_style_split_writes_style_swaps_and_their_figures() {
    let dir = temp_dir("cli-split");
    let out = dir.join("run");
    let extra = [
        "--model", "split", "--epochs", "4", "--batch", "128", "--hidden", "128",
    ];
    let o = train_on("mnist", &out, &extra);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("style swap (content swap)"));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("disentanglement.json")).unwrap()).unwrap();
    let figure = |key: &str| {
        json[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} in {json}"))
    };
    assert_eq!(json["style_swap_method"], "content swap");
    assert_eq!(figure("style_swap_count"), 2000.0);
    assert!(figure("classifier_test_accuracy") > 0.85, "{json}");
    assert!(figure("style_swap_accuracy") > 0.5, "{json}");
    assert!(
        figure("probe_content_accuracy") > figure("probe_style_accuracy") + 0.1,
        "{json}"
    );
    // Eight rows of eleven 28-pixel tiles at scale 2; one traversal row per code dimension
    // (10 content + 4 style).
    let png = image::open(out.join("style_swap.png")).unwrap();
    assert_eq!((png.width(), png.height()), (11 * 56 + 10, 8 * 56 + 7));
    let png = image::open(out.join("traversals.png")).unwrap();
    assert_eq!(png.height(), 14 * 56 + 13);
    std::fs::remove_dir_all(dir).unwrap();
}

/// A voice model on the spoken digits writes reconstructions and conversions as WAV with the
/// judge's manifest; `convert` turns a WAV into the voice of an unseen speaker's WAVs, and
/// refuses a run that is not a voice model.
#[test]
fn a_voice_run_writes_conversions_and_convert_speaks_in_an_unseen_voice() {
    let dir = temp_dir("cli-voice");
    let out = dir.join("run");
    let extra = [
        "--model", "voice", "--epochs", "3", "--batch", "16", "--hidden", "32", "--latent", "8",
    ];
    let o = train_on("spoken-digits", &out, &extra);
    assert!(o.status.success(), "{}", stderr(&o));
    let manifest = std::fs::read_to_string(out.join("conversions/conversions.csv")).unwrap();
    let rows: Vec<&str> = manifest.lines().collect();
    assert_eq!(rows[0], "path,source_speaker,word,target_speaker");
    // Every test utterance (8 voices x 10 words) in two other voices.
    assert_eq!(rows.len(), 1 + 160);
    let first: Vec<&str> = rows[1].split(',').collect();
    assert_ne!(first[1], first[3], "{}", rows[1]);
    let wav = std::fs::read(out.join("conversions").join(first[0])).unwrap();
    let sound = latentlab::data::audio::read_wav(&wav).unwrap();
    // Cut back to the source's sounding frames, at most the model's 64.
    assert!(
        sound.len() >= 1024 && sound.len() <= (64 - 1) * 160 + 1024,
        "{}",
        sound.len()
    );
    assert_eq!((sound.len() - 1024) % 160, 0);
    assert!(sound.iter().any(|v| v.abs() > 0.01), "a silent conversion");
    assert!(
        std::fs::read_dir(out.join("reconstructions"))
            .unwrap()
            .count()
            >= 8
    );

    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/datasets/spoken-digits");
    let converted = dir.join("seven.wav");
    let source = assets.join("train/awb/seven-4.wav");
    let o = convert(
        &out,
        &source,
        &[
            &assets.join("unseen/en-gb_f2/one-1.wav"),
            &assets.join("unseen/en-gb_f2/four-1.wav"),
        ],
        &converted,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let got = latentlab::data::audio::read_wav(&std::fs::read(&converted).unwrap()).unwrap();
    let want = latentlab::data::audio::read_wav(&std::fs::read(&source).unwrap()).unwrap();
    // Whole frames of the source's length.
    assert!(
        got.len() >= want.len() - 160 && got.len() <= want.len() + 1024,
        "{} vs {}",
        got.len(),
        want.len()
    );

    let o = convert(
        &out,
        &dir.join("missing.wav"),
        &[&source],
        &dir.join("x.wav"),
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("missing.wav"), "{}", stderr(&o));

    // A voice example of silence holds no voice: a clear error, no output.
    let quiet = dir.join("quiet.wav");
    std::fs::write(&quiet, latentlab::data::audio::write_wav(&[0.0; 16_000])).unwrap();
    let o = convert(&out, &source, &[&quiet], &dir.join("y.wav"));
    assert!(!o.status.success());
    assert!(stderr(&o).contains("no sound"), "{}", stderr(&o));
    assert!(!dir.join("y.wav").exists());
    std::fs::remove_dir_all(dir).unwrap();
}

/// `latentlab convert` of `source` into the voice of `voices`, written to `out`.
fn convert(run: &Path, source: &Path, voices: &[&Path], out: &Path) -> Output {
    let mut args = vec![
        "convert",
        "--run",
        run.to_str().unwrap(),
        "--source",
        source.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    for voice in voices {
        args.extend(["--voice", voice.to_str().unwrap()]);
    }
    latentlab(&args)
}

#[test]
fn bad_idx_inputs_are_clear_errors_naming_the_file() {
    let dir = temp_dir("cli-bad");
    let (img, lbl) = write_mnist_idx(&dir, 20);
    let good_images = std::fs::read(&img).unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &good_images).unwrap();
    let gz = gz.finish().unwrap();

    let missing = dir.join("missing.idx");
    let empty = write("empty.idx", b"");
    let truncated_gz = write("truncated.idx.gz", &gz[..gz.len() / 2]);
    let mut bad_magic_bytes = good_images.clone();
    bad_magic_bytes[2] = 0x0D;
    let bad_magic = write("magic.idx", &bad_magic_bytes);
    let short = write("short.idx", &good_images[..good_images.len() - 100]);
    let few_labels = write("few-labels.idx", &idx::encode(&[19], &[1; 19]));
    let names = write("names.txt", b"zero\none\ntwo\n");

    let cases: Vec<(String, &Path, &str)> = vec![
        (
            format!("idx:{}", missing.display()),
            &missing,
            "cannot read",
        ),
        (format!("idx:{}", empty.display()), &empty, "empty"),
        (
            format!("idx:{}", truncated_gz.display()),
            &truncated_gz,
            "gzip",
        ),
        (format!("idx:{}", bad_magic.display()), &bad_magic, "magic"),
        (format!("idx:{}", short.display()), &short, "promises"),
        (
            format!("idx:{},{}", img.display(), few_labels.display()),
            &few_labels,
            "19 entries but images file has 20",
        ),
        (
            format!(
                "idx:{},{},{}",
                img.display(),
                lbl.display(),
                names.display()
            ),
            &lbl,
            "out of range for 3 classes",
        ),
    ];
    for (spec, file, what) in cases {
        let o = train_on(&spec, &dir.join("out"), &[]);
        let err = stderr(&o);
        assert!(!o.status.success(), "{spec} should fail");
        assert!(!err.contains("panicked"), "{spec}: {err}");
        assert!(err.contains(&file.display().to_string()), "{spec}: {err}");
        assert!(err.contains(what), "{spec}: expected {what:?} in {err}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn gpu_without_a_gpu_is_a_clear_error_and_auto_reports_the_cpu() {
    // This check is about machines without a usable GPU, like CI's; elsewhere it has nothing to say.
    let dir = temp_dir("cli-device");
    let (img, _) = write_mnist_idx(&dir, 40);
    let spec = format!("idx:{}", img.display());
    let auto = train_on(&spec, &dir.join("auto"), &["--device", "auto"]);
    assert!(auto.status.success(), "{}", stderr(&auto));
    if stderr(&auto).contains("device: CPU (Flex backend)") {
        let o = train_on(&spec, &dir.join("gpu"), &["--device", "gpu"]);
        assert!(!o.status.success());
        let err = stderr(&o);
        assert!(err.contains("no GPU is usable"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    } else {
        assert!(stderr(&auto).contains("device: GPU"), "{}", stderr(&auto));
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// A remote device names what is wrong: a malformed one is refused by clap, and without the
/// `remote` feature the build says how to get it; with it, an unreachable server is named.
#[test]
fn a_remote_device_that_cannot_be_used_is_a_clear_error() {
    let dir = temp_dir("cli-remote-error");
    let (img, _) = write_mnist_idx(&dir, 40);
    let spec = format!("idx:{}", img.display());
    let o = train_on(&spec, &dir.join("bad"), &["--device", "remote:http://x"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("auto, cpu, gpu or remote:ws://HOST:PORT"),
        "{}",
        stderr(&o)
    );
    // Port 9 (discard) on this machine: nothing listens there.
    let o = train_on(
        &spec,
        &dir.join("none"),
        &["--device", "remote:ws://127.0.0.1:9"],
    );
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("cannot train on the remote server ws://127.0.0.1:9"),
        "{e}"
    );
    if cfg!(not(feature = "remote")) {
        assert!(e.contains("--features remote"), "{e}");
    }
    assert!(!e.contains("panicked"), "{e}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// `latentlab serve` on this machine's CPU, and a run with `--device remote:ws://…`: it trains
/// through burn's remote backend (the autodiff graph here, the operations in the server) and
/// learns; a wrong token is refused by name.
#[cfg(feature = "remote")]
#[test]
fn a_run_trains_on_a_latentlab_server() {
    let dir = temp_dir("cli-remote");
    let (img, lbl) = write_mnist_idx(&dir, 600);
    let spec = format!("idx:{},{}", img.display(), lbl.display());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_latentlab"))
        .args(["serve", "--port", &port.to_string(), "--device", "cpu"])
        .env("LATENTLAB_REMOTE_TOKEN", "s3cret")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("serve");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the server never listened"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let device = format!("remote:ws://127.0.0.1:{port}");
    let run = |token: &str, out: &str| {
        Command::new(env!("CARGO_BIN_EXE_latentlab"))
            .args([
                "train",
                "--data",
                &spec,
                "--out",
                dir.join(out).to_str().unwrap(),
            ])
            .args([
                "--epochs", "8", "--batch", "64", "--hidden", "64", "--latent", "4",
            ])
            .args(["--device", &device])
            .env("LATENTLAB_REMOTE_TOKEN", token)
            .output()
            .expect("train")
    };
    let wrong = run("wrong", "wrong");
    let good = run("s3cret", "good");
    let _ = server.kill();
    let _ = server.wait();
    assert!(!wrong.status.success());
    assert!(
        stderr(&wrong).contains("cannot train on the remote server"),
        "{}",
        stderr(&wrong)
    );
    let e = stderr(&good);
    assert!(good.status.success(), "{e}");
    assert!(
        e.contains(&format!("device: remote: ws://127.0.0.1:{port}")),
        "{e}"
    );
    let metrics = std::fs::read_to_string(dir.join("good/metrics.csv")).unwrap();
    let loss: Vec<f32> = metrics
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(2)?.parse().ok())
        .collect();
    assert!(loss.len() >= 50, "{metrics}");
    assert!(
        loss[loss.len() - 1] < 0.8 * loss[0],
        "did not learn: {} to {}",
        loss[0],
        loss[loss.len() - 1]
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn help_explains_every_train_flag() {
    let o = latentlab(&["train", "--help"]);
    assert!(o.status.success());
    let help = String::from_utf8_lossy(&o.stdout);
    for flag in [
        "--data",
        "--model",
        "--epochs",
        "--latent",
        "--hidden",
        "--lr",
        "--batch",
        "--loss",
        "--seed",
        "--device",
        "--out",
        "--resume",
        "--noise",
        "--noise-level",
        "--eval-every",
    ] {
        assert!(help.contains(flag), "{flag} missing from train --help");
    }
}

/// A CSV of `n` labelled series (sines and square waves), `steps` values each; every fifth row
/// two values shorter, padded with trailing empty cells as the UCR archive does.
fn write_series_csv(path: &Path, n: usize, steps: usize) {
    let mut text = String::from("label,values\n");
    for i in 0..n {
        let label = if i % 2 == 0 { "sine" } else { "square" };
        let len = if i % 5 == 0 { steps - 2 } else { steps };
        let phase = i as f32 * 0.37;
        let cells: Vec<String> = (0..steps)
            .map(|t| {
                if t >= len {
                    return String::new();
                }
                let s = (std::f32::consts::TAU * 2.0 * t as f32 / steps as f32 + phase).sin();
                let v = if i % 2 == 0 { s } else { s.signum() };
                format!("{v:.4}")
            })
            .collect();
        text.push_str(&format!("{label},{}\n", cells.join(",")));
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn train_on_csv_series_writes_the_run_folder_with_curves() {
    let dir = temp_dir("cli-seq");
    let csv = dir.join("waves.csv");
    write_series_csv(&csv, 60, 32);
    let out = dir.join("run");
    let spec = format!("csv:{}", csv.display());
    let extra = ["--model", "seq", "--hidden", "16", "--eval-every", "5"];
    let o = train_on(&spec, &out, &extra);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("1x32 series"), "{err}");
    // The padded rows were resampled to the longest length, and the run said so.
    assert!(
        err.contains("12 of 60 series had another length and were linearly resampled to 32 steps"),
        "{err}"
    );
    for file in [
        "metrics.csv",
        "latents.csv",
        "reconstructions.png",
        "checkpoint/checkpoint.json",
    ] {
        assert!(out.join(file).exists(), "{file} missing");
    }
    let latents = std::fs::read_to_string(out.join("latents.csv")).unwrap();
    assert!(
        latents
            .lines()
            .skip(1)
            .all(|l| l.contains(",sine,") || l.contains(",square,"))
    );
    // Reconstructions are line plots on a dark background: mostly dark, with coloured curves.
    let png = image::open(out.join("reconstructions.png"))
        .unwrap()
        .to_rgb8();
    let blue = png
        .pixels()
        .filter(|p| p.0[2] > 200 && p.0[0] < 150)
        .count();
    assert!(blue > 100, "{blue} curve pixels");
}

#[test]
fn a_bad_csv_cell_is_refused_with_file_line_and_column() {
    let dir = temp_dir("cli-bad-csv");
    let csv = dir.join("bad.csv");
    std::fs::write(&csv, "a,1,2,3\nb,4,x5,6\n").unwrap();
    let out = dir.join("run");
    let o = train_on(&format!("csv:{}", csv.display()), &out, &["--model", "seq"]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("bad.csv:2:3") && err.contains("x5"), "{err}");
    // And binary cross-entropy on real-valued series is refused, naming the way out.
    let good = dir.join("good.csv");
    write_series_csv(&good, 20, 16);
    let o = train_on(&format!("csv:{}", good.display()), &out, &["--loss", "bce"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("use the MSE loss"), "{}", stderr(&o));
}

/// A run that saves a checkpoint every few milliseconds (each epoch), killed with SIGKILL at
/// moments spread over its saves, always leaves a checkpoint that loads and decodes: the
/// description is replaced last and names complete files of one save, whose hashes it checks
/// (overwriting in place left new weights beside an old description).
#[test]
fn a_run_killed_at_any_moment_leaves_a_checkpoint_that_loads() {
    use latentlab::train::checkpoint;
    let dir = temp_dir("cli-kill");
    let (img, lbl) = write_mnist_idx(&dir, 200);
    let spec = format!("idx:{},{}", img.display(), lbl.display());
    let device = burn::tensor::Device::flex();
    for (i, delay_ms) in [0u64, 7, 19, 31, 53, 97].into_iter().enumerate() {
        let out = dir.join(format!("run{i}"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_latentlab"))
            .args(["train", "--data", &spec, "--out", out.to_str().unwrap()])
            .args([
                "--epochs", "100000", "--batch", "32", "--hidden", "64", "--latent", "4",
            ])
            .args(["--device", "cpu"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("run latentlab");
        let meta = out.join("checkpoint").join(checkpoint::META_FILE);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while !meta.exists() {
            assert!(std::time::Instant::now() < deadline, "no checkpoint");
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        let decoder = checkpoint::load_decoder(&out, &device)
            .unwrap_or_else(|e| panic!("killed after {delay_ms} ms: {e:#}"));
        let decoded = decoder.decode(&[0.0; 4]);
        assert!(decoded.values.iter().all(|v| v.is_finite()));
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// A damaged checkpoint is refused by name, and a foreign file in its place too: truncated
/// weights, one flipped bit, a PNG renamed to the weights, a description asking for an absurd
/// model, a description naming a file outside the folder.
#[test]
fn damaged_checkpoints_are_clear_errors() {
    use latentlab::train::checkpoint;
    let dir = temp_dir("cli-damaged");
    let (img, lbl) = write_mnist_idx(&dir, 200);
    let spec = format!("idx:{},{}", img.display(), lbl.display());
    let out = dir.join("run");
    let o = train_on(&spec, &out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let device = burn::tensor::Device::flex();
    let ck = out.join("checkpoint");
    let meta_path = ck.join(checkpoint::META_FILE);
    let meta_text = std::fs::read_to_string(&meta_path).unwrap();
    let meta: serde_json::Value = serde_json::from_str(&meta_text).unwrap();
    let weights = ck.join(meta["model_file"].as_str().unwrap());
    let good = std::fs::read(&weights).unwrap();
    let load = || checkpoint::load_decoder(&out, &device).map(|_| ());
    load().expect("the checkpoint as written loads");

    let mut damaged: Vec<(&str, Vec<u8>)> = Vec::new();
    damaged.push(("truncated", good[..good.len() / 2].to_vec()));
    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x10;
    damaged.push(("a flipped bit", flipped));
    let png = std::fs::read(out.join("reconstructions.png")).unwrap();
    damaged.push(("a PNG", png));
    for (what, bytes) in damaged {
        std::fs::write(&weights, &bytes).unwrap();
        let e = format!("{:#}", load().expect_err(what));
        assert!(
            e.contains(weights.file_name().unwrap().to_str().unwrap()) && e.contains("damaged"),
            "{what}: {e}"
        );
    }
    std::fs::write(&weights, &good).unwrap();

    for (what, edit) in [
        (
            "a layer of 10^9 units",
            ("\"hidden\": [", "\"hidden\": [1000000000, "),
        ),
        (
            "a file elsewhere",
            ("\"model_file\": \"", "\"model_file\": \"../"),
        ),
    ] {
        assert!(meta_text.contains(edit.0), "{what}: {meta_text}");
        std::fs::write(&meta_path, meta_text.replacen(edit.0, edit.1, 1)).unwrap();
        let e = format!("{:#}", load().expect_err(what));
        assert!(
            e.contains("not a valid checkpoint description"),
            "{what}: {e}"
        );
    }
    std::fs::write(&meta_path, &meta_text).unwrap();
    load().expect("restored");
    std::fs::remove_dir_all(dir).unwrap();
}

/// `--max-data-mb` is the limit a file's header is checked against before its data is read:
/// 2 000 MNIST images (1.5 MB) are refused under 1 MB, naming the file, the limit and the flag.
#[test]
fn data_over_the_size_limit_is_refused_by_its_header() {
    let dir = temp_dir("cli-limit");
    let (img, lbl) = write_mnist_idx(&dir, 2000);
    let spec = format!("idx:{},{}", img.display(), lbl.display());
    let o = train_on(&spec, &dir.join("run"), &["--max-data-mb", "1"]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains(img.file_name().unwrap().to_str().unwrap())
            && e.contains("1568000 bytes")
            && e.contains("limit of 1048576 bytes")
            && e.contains("--max-data-mb"),
        "{e}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// Runs `latentlab train` on `spec` (one epoch at batch 1024) and returns whether it
/// succeeded and its peak resident memory in KiB, read by `wait4` for that child alone (other
/// tests' children run beside it).
#[cfg(target_os = "linux")]
#[allow(clippy::zombie_processes)] // reaped by `wait4`, which std's `Child` does not know of
fn train_peak_kib(spec: &str, out: &Path) -> (bool, i64) {
    let child = Command::new(env!("CARGO_BIN_EXE_latentlab"))
        .args(["train", "--data", spec, "--out", out.to_str().unwrap()])
        .args(["--epochs", "1", "--batch", "1024", "--device", "cpu"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("run latentlab");
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value, and `wait4` reaps the child we spawned.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as i32, "wait4");
    (
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        usage.ru_maxrss,
    )
}

/// 100 000 images train with memory near their stored bytes: they are held as bytes and turned
/// into f32 one batch at a time. Held as f32 (before), this run peaked 550 MB above a 2 000-image
/// run, seven times the file's 78 MB; now about 1.8 times.
#[cfg(target_os = "linux")]
#[test]
fn a_hundred_thousand_images_train_in_memory_near_their_stored_bytes() {
    let dir = temp_dir("cli-100k");
    let (img, lbl) = write_mnist_idx(&dir, 2000);
    let small = format!("idx:{},{}", img.display(), lbl.display());
    let (ok, small_peak) = train_peak_kib(&small, &dir.join("small"));
    assert!(ok, "the 2 000-image run failed");
    // The same 2 000 images fifty times over.
    let n = 100_000;
    let pixels = latentlab::data::idx::read_file(&img).unwrap().data;
    let labels = latentlab::data::idx::read_file(&lbl).unwrap().data;
    let big_img = dir.join("big-images.idx");
    let big_lbl = dir.join("big-labels.idx");
    let repeat = |v: &[u8], len: usize| v.iter().copied().cycle().take(len).collect::<Vec<u8>>();
    std::fs::write(
        &big_img,
        latentlab::data::idx::encode(&[n, 28, 28], &repeat(&pixels, n * 784)),
    )
    .unwrap();
    std::fs::write(
        &big_lbl,
        latentlab::data::idx::encode(&[n], &repeat(&labels, n)),
    )
    .unwrap();
    let stored_kib = (n * 784 / 1024) as i64;
    let big = format!("idx:{},{}", big_img.display(), big_lbl.display());
    let (ok, big_peak) = train_peak_kib(&big, &dir.join("big"));
    assert!(ok, "the 100 000-image run failed");
    let extra = big_peak - small_peak;
    assert!(
        extra < 5 * stored_kib / 2,
        "100 000 images ({stored_kib} KiB stored) took {extra} KiB more at peak than 2 000 \
         ({big_peak} against {small_peak} KiB)"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// An output path that is a file, or lies under one, is refused by name before any training,
/// and the file is left as it was.
#[test]
fn an_output_path_that_is_a_file_or_unwritable_is_a_clear_error() {
    let dir = temp_dir("cli-out-file");
    let (img, lbl) = write_mnist_idx(&dir, 200);
    let spec = format!("idx:{},{}", img.display(), lbl.display());
    let file = dir.join("notes.txt");
    std::fs::write(&file, "keep me").unwrap();
    // A file, a path under a file, and (on Linux) a folder nobody may write into, root
    // included: refused before training.
    let mut outs = vec![file.clone(), file.join("run")];
    if cfg!(target_os = "linux") {
        outs.push(std::path::PathBuf::from("/sys/latentlab-test-run"));
    }
    for out in outs {
        let o = train_on(&spec, &out, &[]);
        assert!(!o.status.success());
        let e = stderr(&o);
        assert!(
            e.contains("cannot create") && e.contains(&out.display().to_string()),
            "{e}"
        );
        assert!(!e.contains("panicked"), "{e}");
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");
    std::fs::remove_dir_all(dir).unwrap();
}

/// A folder made read-only by its permission bits: the run is refused naming it and the
/// system's reason, and nothing is left in it. Root ignores permission bits, so as root the
/// binary runs as `nobody` (from a copy inside the test's folder: root's home is closed to it).
#[cfg(target_os = "linux")]
#[test]
fn a_read_only_output_folder_is_a_clear_error_by_its_permissions() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let dir = temp_dir("cli-read-only");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (img, lbl) = write_mnist_idx(&dir, 200);
    let read_only = dir.join("read-only");
    std::fs::create_dir(&read_only).unwrap();
    std::fs::set_permissions(&read_only, std::fs::Permissions::from_mode(0o555)).unwrap();
    let out = read_only.join("run");
    let mut cmd = if unsafe { libc::geteuid() } == 0 {
        let binary = dir.join("latentlab");
        if std::fs::hard_link(env!("CARGO_BIN_EXE_latentlab"), &binary).is_err() {
            std::fs::copy(env!("CARGO_BIN_EXE_latentlab"), &binary).unwrap();
        }
        let mut cmd = Command::new(&binary);
        cmd.uid(65534).gid(65534).env("HOME", &dir);
        cmd
    } else {
        Command::new(env!("CARGO_BIN_EXE_latentlab"))
    };
    let spec = format!("idx:{},{}", img.display(), lbl.display());
    let o = cmd
        .args(["train", "--data", &spec, "--out", out.to_str().unwrap()])
        .args(["--epochs", "1", "--device", "cpu"])
        .output()
        .expect("run latentlab");
    let e = stderr(&o);
    assert!(!o.status.success(), "{e}");
    assert!(
        e.contains("cannot create")
            && e.contains(&out.display().to_string())
            && e.contains("Permission denied"),
        "{e}"
    );
    assert!(!e.contains("panicked"), "{e}");
    assert_eq!(std::fs::read_dir(&read_only).unwrap().count(), 0);
    std::fs::set_permissions(&read_only, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::remove_dir_all(dir).unwrap();
}

/// A real full disk: a 256 KiB tmpfs as the run folder, too small for the checkpoint. Needs root
/// (to mount it), so it is run by hand: `cargo test --release full_disk -- --ignored`.
#[test]
#[ignore = "mounts a small tmpfs: needs root"]
fn a_full_disk_is_a_clear_error_and_leaves_no_partial_files() {
    let dir = temp_dir("cli-full-disk");
    let (img, lbl) = write_mnist_idx(&dir, 200);
    let spec = format!("idx:{},{}", img.display(), lbl.display());
    let disk = dir.join("disk");
    std::fs::create_dir_all(&disk).unwrap();
    let mount = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
        .arg(&disk)
        .status()
        .expect("run mount");
    assert!(mount.success(), "mounting a tmpfs needs root");
    let o = train_on(&spec, &disk.join("run"), &["--hidden", "256"]);
    let listing: Vec<String> = walk(&disk);
    let _ = Command::new("umount").arg(&disk).status();
    let e = stderr(&o);
    assert!(!o.status.success(), "{e}");
    assert!(e.contains("No space left on device"), "{e}");
    assert!(!e.contains("panicked"), "{e}");
    assert!(
        listing.iter().all(|f| !f.contains(".tmp")),
        "partial files left: {listing:?}"
    );
}

/// Every file under `dir`, as paths.
fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path.display().to_string());
        }
    }
    out
}

/// `--data wav:DIR` trains the voice model on a folder of recordings in speaker subfolders
/// (here the spoken digits' own training folder, read as a user's), and the run writes its
/// conversions between those speakers.
#[test]
fn a_folder_of_recordings_trains_a_voice_model() {
    let dir = temp_dir("cli-wav-folder");
    let out = dir.join("run");
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/datasets/spoken-digits/train");
    let spec = format!("wav:{}", folder.display());
    let extra = [
        "--model", "voice", "--epochs", "2", "--batch", "16", "--hidden", "32", "--latent", "8",
    ];
    let o = train_on(&spec, &out, &extra);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("(288 train, 32 test, 80x64 spectrogram)"),
        "{}",
        stderr(&o)
    );
    let manifest = std::fs::read_to_string(out.join("conversions/conversions.csv")).unwrap();
    let rows: Vec<&str> = manifest.lines().collect();
    assert_eq!(rows.len(), 1 + 2 * 32, "{manifest}");
    assert!(rows[1].contains(",unknown,"), "{}", rows[1]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_colour_image_folder_trains_the_conv_model_and_reconstructs_in_colour() {
    let dir = temp_dir("cli-colour");
    let images = dir.join("shapes");
    super::folder::colour_shapes(&images, 80);
    let out = dir.join("run");
    let spec = format!("folder:{}", images.display());
    let o = train_on(
        &spec,
        &out,
        &[
            "--model",
            "conv",
            "--image-size",
            "32",
            "--epochs",
            "50",
            "--hidden",
            "16,32",
            "--latent",
            "16",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("(216 train, 24 test, 3x32x32)"),
        "{}",
        stderr(&o)
    );

    // Learned: the final test MSE is well below that of predicting the training mean image.
    let split: latentlab::data::DataSplit =
        latentlab::data::load(&spec.parse().unwrap(), 0).unwrap();
    let mean = split.train.mean_sample();
    let baseline = split
        .test
        .values
        .to_f32()
        .chunks(mean.len())
        .flat_map(|s| s.iter().zip(&mean).map(|(a, b)| (a - b).powi(2)))
        .sum::<f32>()
        / (split.test.len() * mean.len()) as f32;
    let metrics = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    let last_mse: f32 = metrics
        .lines()
        .rev()
        .find_map(|l| l.split(',').nth(4).and_then(|v| v.parse().ok()))
        .expect("an evaluation");
    assert!(
        last_mse < 0.4 * baseline,
        "test MSE {last_mse} vs mean image {baseline}"
    );

    // The reconstructions row is in colour: many of its pixels have channels far apart.
    let png = image::open(out.join("reconstructions.png"))
        .unwrap()
        .to_rgb8();
    let (w, h) = png.dimensions();
    let coloured = (0..w)
        .flat_map(|x| (h / 2..h).map(move |y| (x, y)))
        .filter(|&(x, y)| {
            let p = png.get_pixel(x, y).0;
            p.iter().max().unwrap() - p.iter().min().unwrap() > 60
        })
        .count();
    assert!(
        coloured as u32 > w * (h / 2) / 4,
        "{coloured} coloured pixels of {}",
        w * h / 2
    );
}

/// A Python with PyTorch: `LATENTLAB_TORCH_PYTHON`, the bench's `../.venv-torch`, or `python3`.
fn python_with_torch() -> Option<std::path::PathBuf> {
    let candidates = [
        std::env::var_os("LATENTLAB_TORCH_PYTHON").map(Into::into),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv-torch/bin/python")),
        Some("python3".into()),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|py: &std::path::PathBuf| {
            Command::new(py)
                .args(["-c", "import torch"])
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

/// `latentlab export --format safetensors` of run folder `run` into `out`.
fn export_safetensors(run: &Path, out: &Path) -> Output {
    latentlab(&[
        "export",
        "--run",
        run.to_str().unwrap(),
        "--format",
        "safetensors",
        "--out",
        out.to_str().unwrap(),
    ])
}

#[test]
fn safetensors_exports_rebuild_in_pytorch_and_reconstruct_as_latent_lab_does() {
    let dir = temp_dir("cli-torch");
    let (img, lbl) = write_mnist_idx(&dir, 200);
    let mnist = format!("idx:{},{}", img.display(), lbl.display());
    let cases: [(&str, &[&str]); 4] = [
        ("dense", &["--model", "dense", "--hidden", "32,16"]),
        ("conv", &["--model", "conv", "--hidden", "4,8"]),
        (
            "vae",
            &["--model", "vae", "--base", "conv", "--hidden", "4,8"],
        ),
        (
            "sparse",
            &["--model", "sparse", "--sparsity", "kl", "--hidden", "32"],
        ),
    ];
    let python = python_with_torch();
    for (name, flags) in cases {
        let run = dir.join(format!("run-{name}"));
        let o = train_on(&mnist, &run, flags);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let out = dir.join(format!("torch-{name}"));
        let o = export_safetensors(&run, &out);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        for file in ["model.safetensors", "model.json", "check.safetensors"] {
            assert!(out.join(file).is_file(), "{name}: {file}");
        }
        let Some(python) = &python else {
            eprintln!("skipped the PyTorch half of {name}: no Python with torch here");
            continue;
        };
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/load_in_torch.py");
        let o = Command::new(python)
            .arg(&script)
            .arg(&out)
            .args(["--tolerance", "1e-5"])
            .output()
            .expect("python runs");
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "{name}: {text}{}", stderr(&o));
        assert!(text.contains("OK: within 1e-05"), "{name}: {text}");
    }
    // A kind the script cannot rebuild is refused by name.
    let run = dir.join("run-cvae");
    let o = train_on(&mnist, &run, &["--model", "cvae"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = export_safetensors(&run, &dir.join("torch-cvae"));
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("PyTorch export covers"),
        "{}",
        stderr(&o)
    );
}
