//! Mutation fuzzing of every reader of user files: IDX, CSV series, WAV, checkpoint
//! descriptions, settings files and images (the image-folder loader's decoder). Not libFuzzer: cargo-fuzz needs a nightly compiler and this project builds on
//! stable, so this is a seeded mutator in the AFL style (bit flips, interesting bytes and
//! integers, cuts, deletions, insertions, duplications, splices, and for text the tokens a
//! parser trips on) over the small corpus of valid files in `tests/fuzz-corpus/`, each input
//! run under `catch_unwind`. A panic is a finding: its input is printed as hex with the seed
//! that made it, and the test fails. Inputs that once crashed are kept in the corpus.
//!
//! `cargo test` runs 50 000 inputs per reader (seconds); the ignored test runs each reader for
//! five minutes: `cargo test --release --test it fuzz_every_reader_for_five_minutes -- --ignored --nocapture`
//! (`LATENTLAB_FUZZ=settings,image` picks readers by name).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::time::{Duration, Instant};

use latentlab::data::{FolderOptions, audio, csv, folder, idx};
use latentlab::settings;
use latentlab::train::checkpoint;

/// One reader under test and its seeds.
struct Target {
    name: &'static str,
    corpus: Vec<&'static [u8]>,
    /// Text formats also get token insertions.
    text: bool,
    run: fn(&[u8]),
    /// Whether the reader accepts an input (every seed must be accepted).
    accepts: fn(&[u8]) -> bool,
}

fn targets() -> Vec<Target> {
    vec![
        Target {
            name: "idx",
            corpus: vec![
                include_bytes!("../fuzz-corpus/idx/images.idx"),
                include_bytes!("../fuzz-corpus/idx/labels.idx"),
                include_bytes!("../fuzz-corpus/idx/images.idx.gz"),
            ],
            text: false,
            run: |b| {
                let _ = idx::parse(b, Path::new("fuzz.idx"));
            },
            accepts: |b| idx::parse(b, Path::new("fuzz.idx")).is_ok(),
        },
        Target {
            name: "csv",
            corpus: vec![
                include_bytes!("../fuzz-corpus/csv/ucr.csv"),
                include_bytes!("../fuzz-corpus/csv/padded.csv"),
            ],
            text: true,
            run: |b| {
                let text = String::from_utf8_lossy(b);
                let path = Path::new("fuzz.csv");
                for opts in [
                    csv::CsvOptions::default(),
                    csv::CsvOptions {
                        label_column: csv::LabelColumn::None,
                        znorm: true,
                        length: Some(7),
                    },
                ] {
                    let _ = csv::from_text(&text, path, &opts);
                }
            },
            accepts: |b| {
                let text = String::from_utf8_lossy(b);
                csv::from_text(&text, Path::new("fuzz.csv"), &Default::default()).is_ok()
            },
        },
        Target {
            name: "wav",
            corpus: vec![
                include_bytes!("../fuzz-corpus/wav/pcm16.wav"),
                include_bytes!("../fuzz-corpus/wav/float-stereo-8k.wav"),
            ],
            text: false,
            run: |b| {
                // As `convert` uses it: read, then cut into spectrograms.
                if let Ok(x) = audio::read_wav(b) {
                    let _ = audio::spectrogram_chunks(&x, 64);
                }
            },
            accepts: |b| audio::read_wav(b).is_ok(),
        },
        Target {
            name: "checkpoint",
            corpus: vec![
                include_bytes!("../fuzz-corpus/checkpoint/dense.json"),
                include_bytes!("../fuzz-corpus/checkpoint/voice-legacy.json"),
            ],
            text: true,
            run: |b| {
                let _ = checkpoint::parse_meta(b, Path::new("checkpoint.json"));
            },
            accepts: |b| checkpoint::parse_meta(b, Path::new("checkpoint.json")).is_ok(),
        },
        Target {
            name: "settings",
            corpus: vec![
                include_bytes!("../fuzz-corpus/settings/saved.toml"),
                include_bytes!("../fuzz-corpus/settings/short.toml"),
            ],
            text: true,
            run: |b| {
                let _ = settings::file::parse(&String::from_utf8_lossy(b), "fuzz.toml");
            },
            accepts: |b| settings::file::parse(&String::from_utf8_lossy(b), "fuzz.toml").is_ok(),
        },
        Target {
            name: "image",
            corpus: vec![
                include_bytes!("../fuzz-corpus/image/grey16.png"),
                include_bytes!("../fuzz-corpus/image/palette.gif"),
                include_bytes!("../fuzz-corpus/image/rgb.jpg"),
                include_bytes!("../fuzz-corpus/image/rgba.webp"),
                include_bytes!("../fuzz-corpus/image/rgb.bmp"),
                include_bytes!("../fuzz-corpus/image/grey.tiff"),
            ],
            text: false,
            run: |b| {
                for fit in [latentlab::data::Fit::Crop, latentlab::data::Fit::Letterbox] {
                    let options = FolderOptions {
                        size: 8,
                        fit,
                        ..Default::default()
                    };
                    let _ = folder::decode_bytes(b, &options);
                }
            },
            accepts: |b| folder::decode_bytes(b, &FolderOptions::default()).is_ok(),
        },
    ]
}

/// xorshift64*: the mutator's own generator, so a finding's seed reproduces it.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const BYTES: [u8; 6] = [0, 1, 0x7f, 0x80, 0xfe, 0xff];
const INTS: [u32; 9] = [
    0,
    1,
    2,
    0x7f,
    0xffff,
    65_536,
    3_000_000,
    0x7fff_ffff,
    0xffff_ffff,
];
const TOKENS: [&str; 16] = [
    ",",
    "\n",
    "\r\n",
    "\"",
    "NaN",
    "inf",
    "-inf",
    "1e999",
    "-0",
    "",
    " ",
    "1e-45",
    "0x10",
    "9999999999",
    "[",
    "{\"a\":",
];

fn mutate(rng: &mut Rng, seed: &[u8], corpus: &[&[u8]], text: bool) -> Vec<u8> {
    let mut x = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(x.len() + 1);
        match rng.below(if text { 9 } else { 8 }) {
            0 if !x.is_empty() => {
                let i = at.min(x.len() - 1);
                x[i] ^= 1 << rng.below(8);
            }
            1 if !x.is_empty() => {
                let i = at.min(x.len() - 1);
                x[i] = BYTES[rng.below(BYTES.len())];
            }
            2 if x.len() >= 4 => {
                let i = at.min(x.len() - 4);
                let v = INTS[rng.below(INTS.len())];
                let bytes = if rng.below(2) == 0 {
                    v.to_be_bytes()
                } else {
                    v.to_le_bytes()
                };
                x[i..i + 4].copy_from_slice(&bytes);
            }
            3 => x.truncate(at),
            4 => {
                let end = (at + 1 + rng.below(16)).min(x.len());
                x.drain(at.min(end)..end);
            }
            5 => {
                let n = 1 + rng.below(16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                x.splice(at..at, bytes);
            }
            6 if !x.is_empty() => {
                let start = rng.below(x.len());
                let end = (start + 1 + rng.below(64)).min(x.len());
                let chunk = x[start..end].to_vec();
                x.splice(at..at, chunk);
            }
            7 => {
                let other = corpus[rng.below(corpus.len())];
                let from = rng.below(other.len() + 1);
                x.truncate(at);
                x.extend_from_slice(&other[from..]);
            }
            8 => {
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                x.splice(at..at, token.iter().copied());
            }
            _ => {}
        }
    }
    x
}

/// Runs `target` on mutated inputs until `execs` inputs or `time` have gone; returns the
/// executions and the crashing inputs found (with their seeds).
fn fuzz(target: &Target, execs: u64, time: Duration, seed: u64) -> (u64, Vec<(u64, Vec<u8>)>) {
    let start = Instant::now();
    let mut findings = Vec::new();
    let mut done = 0;
    // The seeds themselves first: they must pass.
    for input in &target.corpus {
        if catch_unwind(AssertUnwindSafe(|| (target.run)(input))).is_err() {
            findings.push((0, input.to_vec()));
        }
    }
    while done < execs && start.elapsed() < time {
        let input_seed = seed.wrapping_add(done).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let mut rng = Rng(input_seed);
        let base = target.corpus[rng.below(target.corpus.len())];
        let input = mutate(&mut rng, base, &target.corpus, target.text);
        if catch_unwind(AssertUnwindSafe(|| (target.run)(&input))).is_err() {
            findings.push((input_seed, input));
        }
        done += 1;
    }
    (done, findings)
}

fn report(name: &str, execs: u64, secs: f64, findings: &[(u64, Vec<u8>)]) {
    eprintln!(
        "fuzz {name}: {execs} inputs in {secs:.1} s ({:.0}/s), {} crashing",
        execs as f64 / secs.max(1e-9),
        findings.len()
    );
    for (seed, input) in findings.iter().take(3) {
        let hex: String = input.iter().take(256).map(|b| format!("{b:02x}")).collect();
        eprintln!("  seed {seed:#x}, {} bytes: {hex}", input.len());
    }
}

/// Fuzzes every reader, or those `LATENTLAB_FUZZ` names (comma-separated).
fn fuzz_all(execs: u64, time: Duration) {
    let only = std::env::var("LATENTLAB_FUZZ").unwrap_or_default();
    let chosen = |name: &str| only.is_empty() || only.split(',').any(|n| n.trim() == name);
    let mut crashed = Vec::new();
    for target in targets().into_iter().filter(|t| chosen(t.name)) {
        let t0 = Instant::now();
        let (done, findings) = fuzz(&target, execs, time, 0x5eed);
        report(target.name, done, t0.elapsed().as_secs_f64(), &findings);
        if !findings.is_empty() {
            crashed.push(target.name);
        }
    }
    assert!(crashed.is_empty(), "readers that panicked: {crashed:?}");
}

#[test]
fn no_reader_panics_on_fifty_thousand_mutated_inputs_each() {
    fuzz_all(50_000, Duration::from_secs(600));
}

#[test]
#[ignore = "five minutes per reader: run with --ignored"]
fn fuzz_every_reader_for_five_minutes() {
    fuzz_all(u64::MAX, Duration::from_secs(300));
}

/// Every seed of the corpus is a valid input (mutations of garbage would test little).
#[test]
fn the_corpus_holds_valid_inputs() {
    for target in targets() {
        for (i, input) in target.corpus.iter().enumerate() {
            assert!(
                (target.accepts)(input),
                "{} seed {i} is refused",
                target.name
            );
        }
    }
}

/// The mutator changes its inputs (a fuzzer that handed back the seeds would test nothing).
#[test]
fn the_mutator_makes_new_inputs() {
    let seed: &[u8] = b"1,0.5,0.25,0.125\n2,1,2,3\n";
    let mut changed = 0;
    for s in 1..200u64 {
        let mut rng = Rng(s);
        if mutate(&mut rng, seed, &[seed], true) != seed {
            changed += 1;
        }
    }
    assert!(changed > 180, "{changed} of 199 changed");
}
