//! Datasets: the built-in MNIST and Fashion-MNIST subsets, users' IDX files, built-in synthetic
//! sequences, users' CSV files of series, seeded mini-batches, and input corruption.
//!
//! Everything here is plain host data: images read from 8-bit files are held as those bytes
//! (value = byte / 255) and turned into f32 one batch at a time, everything else as f32 (images
//! in [0, 1], series real-valued); tensors are made by the trainer. Never imports egui or burn.

pub mod audio;
pub mod csv;
pub mod folder;
pub mod idx;
pub mod noise;
pub mod rng;
pub mod sample;
pub mod series;
pub mod shapes;
pub mod spoken;
mod spoken_files;

use std::borrow::Cow;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use csv::{CsvOptions, LabelColumn};
pub use folder::{Fit, FolderOptions};
pub use idx::IdxError;
pub use noise::{Noise, NoiseKind};
pub use rng::Rng;
pub use sample::{ImageShape, SampleShape, SeriesShape, SpectrogramShape, ValueRange};

/// An error loading a dataset. Messages name the file at fault.
#[derive(Debug, Error)]
pub enum LoadError {
    #[error(transparent)]
    Idx(#[from] IdxError),
    #[error("{path}: expected images with 3 dimensions [N, H, W], found {dims:?}")]
    ImageDims { path: PathBuf, dims: Vec<usize> },
    #[error("{path}: expected labels with 1 dimension [N], found {dims:?}")]
    LabelDims { path: PathBuf, dims: Vec<usize> },
    #[error("labels file has {labels} entries but images file has {images}: {path}")]
    CountMismatch {
        path: PathBuf,
        labels: usize,
        images: usize,
    },
    #[error("{path}: label {label} at index {index} is out of range for {classes} classes")]
    LabelRange {
        path: PathBuf,
        label: u32,
        index: usize,
        classes: usize,
    },
    #[error("{path}: holds {count} samples, need at least 2 to split into train and test")]
    TooFew { path: PathBuf, count: usize },
    #[error(
        "unknown dataset {0:?}: use mnist, fashion, synthetic-seq, shapes, spoken-digits, idx:IMAGES[,LABELS[,NAMES]], csv:TRAIN[,TEST], wav:DIR or folder:DIR"
    )]
    UnknownSpec(String),
    #[error("{path}: {why}")]
    Audio { path: PathBuf, why: String },
    #[error("{path}: {why}")]
    Folder { path: PathBuf, why: String },
    #[error("loading was cancelled")]
    Cancelled,
    #[error(
        "{path} holds {bytes} bytes, more than the limit of {limit} bytes; refused before reading (raise it with --max-data-mb if the data is real)"
    )]
    TooLarge {
        path: PathBuf,
        bytes: u64,
        limit: usize,
    },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no series in {path}")]
    NoSeries { path: PathBuf },
    #[error("{path}:{line}:{column}: {cell:?} is not a number")]
    CsvNotANumber {
        path: PathBuf,
        line: usize,
        column: usize,
        cell: String,
    },
    #[error(
        "{path}:{line}:{column}: {cell:?} is not a finite number (values must lie within ±3.4e38)"
    )]
    CsvNotFinite {
        path: PathBuf,
        line: usize,
        column: usize,
        cell: String,
    },
    #[error(
        "{path}:{line}:{column}: missing value inside a series (only the end of a row may be empty or NaN)"
    )]
    CsvMissing {
        path: PathBuf,
        line: usize,
        column: usize,
    },
    #[error("{path}:{line}:1: empty class label")]
    CsvEmptyLabel { path: PathBuf, line: usize },
    #[error("{path}:{line}: series has {count} values, need at least 2")]
    CsvShortSeries {
        path: PathBuf,
        line: usize,
        count: usize,
    },
    #[error("{path}:{line}: label {label:?} is not a class of the training file ({known})")]
    CsvUnseenLabel {
        path: PathBuf,
        line: usize,
        label: String,
        known: String,
    },
    #[error("{path}: cannot resample series to {length} steps, need at least 2")]
    CsvLength { path: PathBuf, length: usize },
    #[error("{path}: {series} series of {steps} steps is too many values to hold")]
    CsvTooLarge {
        path: PathBuf,
        series: usize,
        steps: usize,
    },
}

/// Where a dataset comes from, as the CLI's `--data` spells it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DataSpec {
    /// The built-in MNIST subset (9000 train, 1000 test).
    Mnist,
    /// The built-in Fashion-MNIST subset (9000 train, 1000 test).
    Fashion,
    /// A user's IDX images file, optional labels file and optional class-names file (one name
    /// per line, by label), split 90/10 with the run's seed.
    Idx {
        images: PathBuf,
        labels: Option<PathBuf>,
        names: Option<PathBuf>,
    },
    /// The built-in synthetic sequences (six families, 3000 train, 600 test), generated from a
    /// fixed seed, so every run sees the same data.
    SyntheticSeq,
    /// The built-in shapes with known factors (20 000 train, 2 000 test), from a fixed seed.
    Shapes,
    /// The built-in spoken digits (8 voices, 240 train, 80 test), as log-mel spectrograms.
    SpokenDigits,
    /// A user's CSV/TSV file of series (see [`csv`] for the rules), split 90/10 with the run's
    /// seed, or a training and a test file. The test file is resampled to the training length
    /// and its labels must all occur in the training file. Spelled `csv:TRAIN[,TEST]`: parsing
    /// gives default options, printing shows the paths only.
    Csv {
        train: PathBuf,
        #[serde(default)]
        test: Option<PathBuf>,
        #[serde(default)]
        options: CsvOptions,
    },
    /// A user's folder of WAV recordings, one subfolder per speaker (see
    /// [`spoken::wav_folder`]), split 90/10 with the run's seed. Spelled `wav:DIR`.
    Wav { dir: PathBuf },
    /// A user's folder of images, one subfolder per class or flat (see [`folder`]), split
    /// 90/10 with the run's seed. Spelled `folder:DIR`: parsing gives default options.
    Folder {
        dir: PathBuf,
        #[serde(default)]
        options: FolderOptions,
    },
}

impl FromStr for DataSpec {
    type Err = LoadError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "mnist" => Ok(DataSpec::Mnist),
            "fashion" | "fashion-mnist" => Ok(DataSpec::Fashion),
            "synthetic-seq" => Ok(DataSpec::SyntheticSeq),
            "shapes" => Ok(DataSpec::Shapes),
            "spoken-digits" => Ok(DataSpec::SpokenDigits),
            _ if s.starts_with("wav:") && s.len() > 4 => Ok(DataSpec::Wav {
                dir: PathBuf::from(&s[4..]),
            }),
            _ if s.starts_with("folder:") && s.len() > 7 => Ok(DataSpec::Folder {
                dir: PathBuf::from(&s[7..]),
                options: FolderOptions::default(),
            }),
            _ if s.starts_with("csv:") => {
                let rest = s.strip_prefix("csv:").unwrap_or_default();
                let (train, test) = rest.split_once(',').unwrap_or((rest, ""));
                if train.is_empty() || test.contains(',') {
                    return Err(LoadError::UnknownSpec(s.to_string()));
                }
                Ok(DataSpec::Csv {
                    train: PathBuf::from(train),
                    test: (!test.is_empty()).then(|| PathBuf::from(test)),
                    options: CsvOptions::default(),
                })
            }
            _ => match s.strip_prefix("idx:") {
                Some(rest) if !rest.is_empty() => {
                    let mut parts = rest.splitn(3, ',');
                    let images = PathBuf::from(parts.next().unwrap_or_default());
                    let mut next = || parts.next().filter(|l| !l.is_empty()).map(PathBuf::from);
                    let labels = next();
                    let names = next();
                    Ok(DataSpec::Idx {
                        images,
                        labels,
                        names,
                    })
                }
                _ => Err(LoadError::UnknownSpec(s.to_string())),
            },
        }
    }
}

impl DataSpec {
    /// True for sources of series (real-valued samples), known without loading them.
    pub fn is_series(&self) -> bool {
        matches!(
            self,
            DataSpec::SyntheticSeq
                | DataSpec::Csv { .. }
                | DataSpec::SpokenDigits
                | DataSpec::Wav { .. }
        )
    }
}

impl std::fmt::Display for DataSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DataSpec::Mnist => write!(f, "mnist"),
            DataSpec::Fashion => write!(f, "fashion"),
            DataSpec::Idx {
                images,
                labels,
                names,
            } => {
                write!(f, "idx:{}", images.display())?;
                for p in [labels, names].into_iter().flatten() {
                    write!(f, ",{}", p.display())?;
                }
                Ok(())
            }
            DataSpec::SyntheticSeq => write!(f, "synthetic-seq"),
            DataSpec::Shapes => write!(f, "shapes"),
            DataSpec::SpokenDigits => write!(f, "spoken-digits"),
            DataSpec::Wav { dir } => write!(f, "wav:{}", dir.display()),
            DataSpec::Folder { dir, .. } => write!(f, "folder:{}", dir.display()),
            DataSpec::Csv { train, test, .. } => {
                write!(f, "csv:{}", train.display())?;
                if let Some(test) = test {
                    write!(f, ",{}", test.display())?;
                }
                Ok(())
            }
        }
    }
}

/// Samples of one shape (images or series) with optional labels, all in memory.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub shape: SampleShape,
    /// `[N, ...shape]` row-major (images `[N, C, H, W]` in [0, 1], series `[N, C, T]`).
    pub values: Values,
    /// One label per sample, each below `class_names.len()`; `None` for unlabelled data.
    pub labels: Option<Vec<u32>>,
    pub class_names: Vec<String>,
    /// Known factors of variation per sample (the shapes set), `None` for most data.
    pub factors: Option<Factors>,
}

/// The ground-truth factors of a generated dataset: each sample's level of each factor.
#[derive(Debug, Clone, PartialEq)]
pub struct Factors {
    /// `[F]`: "shape", "scale", ...
    pub names: Vec<String>,
    /// `[F]`: how many levels each factor has.
    pub levels: Vec<usize>,
    /// `[N, F]`: sample i's level of factor f at `i·F + f`.
    pub values: Vec<u32>,
}

impl Factors {
    /// Sample `i`'s levels, one per factor.
    pub fn of(&self, i: usize) -> &[u32] {
        let f = self.names.len();
        &self.values[i * f..(i + 1) * f]
    }

    /// Factor `f`'s level for every sample.
    pub fn column(&self, f: usize) -> Vec<u32> {
        self.values
            .iter()
            .skip(f)
            .step_by(self.names.len().max(1))
            .copied()
            .collect()
    }

    /// The factors of the given samples, in that order.
    pub fn subset(&self, indices: &[usize]) -> Factors {
        Factors {
            names: self.names.clone(),
            levels: self.levels.clone(),
            values: indices.iter().flat_map(|&i| self.of(i)).copied().collect(),
        }
    }
}

/// How a dataset holds its values. Images read from 8-bit files stay the bytes they were stored
/// in, a quarter of their f32 size, so a data set of 100 000 images costs what its files hold;
/// the trainer turns one batch at a time into f32 ([`Dataset::extend_sample`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// Values in [0, 1] as `byte / 255`.
    Bytes(Vec<u8>),
    Floats(Vec<f32>),
}

/// `byte / 255` for every byte, computed once.
static BYTE_VALUES: std::sync::LazyLock<[f32; 256]> =
    std::sync::LazyLock::new(|| std::array::from_fn(|b| b as f32 / 255.0));

impl Values {
    /// How many values are held.
    pub fn len(&self) -> usize {
        match self {
            Values::Bytes(b) => b.len(),
            Values::Floats(f) => f.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values in `range` as f32: borrowed where they are held as f32.
    pub fn f32s(&self, range: Range<usize>) -> Cow<'_, [f32]> {
        match self {
            Values::Bytes(_) => {
                let mut out = Vec::with_capacity(range.len());
                self.extend_f32(range, &mut out);
                Cow::Owned(out)
            }
            Values::Floats(f) => Cow::Borrowed(&f[range]),
        }
    }

    /// Appends the values in `range` as f32 to `out`.
    pub fn extend_f32(&self, range: Range<usize>, out: &mut Vec<f32>) {
        match self {
            Values::Bytes(b) => out.extend(b[range].iter().map(|&v| BYTE_VALUES[v as usize])),
            Values::Floats(f) => out.extend_from_slice(&f[range]),
        }
    }

    /// Every value as f32: a full copy for bytes, so only for sets known to be small (a test
    /// split shown in the studio) or one chunk at a time.
    pub fn to_f32(&self) -> Vec<f32> {
        self.f32s(0..self.len()).into_owned()
    }

    /// The values at `ranges`, in that order, held the same way.
    fn gather(&self, ranges: impl Iterator<Item = Range<usize>>) -> Values {
        match self {
            Values::Bytes(b) => Values::Bytes(ranges.flat_map(|r| b[r].iter().copied()).collect()),
            Values::Floats(f) => {
                Values::Floats(ranges.flat_map(|r| f[r].iter().copied()).collect())
            }
        }
    }

    /// Appends `other`'s values; bytes stay bytes only when both are bytes.
    pub fn append(&mut self, other: Values) {
        match (&mut *self, other) {
            (Values::Bytes(a), Values::Bytes(b)) => a.extend(b),
            (Values::Floats(a), Values::Floats(b)) => a.extend(b),
            (a, b) => {
                let mut floats = a.to_f32();
                floats.extend(b.to_f32());
                *a = Values::Floats(floats);
            }
        }
    }
}

impl From<Vec<f32>> for Values {
    fn from(values: Vec<f32>) -> Values {
        Values::Floats(values)
    }
}

impl From<Vec<u8>> for Values {
    fn from(values: Vec<u8>) -> Values {
        Values::Bytes(values)
    }
}

impl Dataset {
    /// How many classes the labels can name: 0 for unlabelled data.
    pub fn classes(&self) -> usize {
        match &self.labels {
            Some(_) => self.class_names.len(),
            None => 0,
        }
    }

    pub fn len(&self) -> usize {
        self.values.len() / self.shape.len().max(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values of sample `i`.
    pub fn sample(&self, i: usize) -> Cow<'_, [f32]> {
        let n = self.shape.len();
        self.values.f32s(i * n..(i + 1) * n)
    }

    /// Appends sample `i`'s values, as f32, to `out`: how batches are made.
    pub fn extend_sample(&self, i: usize, out: &mut Vec<f32>) {
        let n = self.shape.len();
        self.values.extend_f32(i * n..(i + 1) * n, out);
    }

    /// The values of samples `range` as f32.
    pub fn samples(&self, range: Range<usize>) -> Cow<'_, [f32]> {
        let n = self.shape.len();
        self.values.f32s(range.start * n..range.end * n)
    }

    /// The label of sample `i`, if the data is labelled.
    pub fn label(&self, i: usize) -> Option<u32> {
        self.labels.as_ref().map(|l| l[i])
    }

    /// A new dataset holding the given samples, in that order.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        let n = self.shape.len();
        let values = self
            .values
            .gather(indices.iter().map(|&i| i * n..(i + 1) * n));
        Dataset {
            shape: self.shape,
            values,
            labels: self
                .labels
                .as_ref()
                .map(|l| indices.iter().map(|&i| l[i]).collect()),
            class_names: self.class_names.clone(),
            factors: self.factors.as_ref().map(|f| f.subset(indices)),
        }
    }

    /// The mean sample: the baseline a reconstruction must beat.
    pub fn mean_sample(&self) -> Vec<f32> {
        let n = self.shape.len();
        let mut mean = vec![0.0f32; n];
        for i in 0..self.len() {
            for (m, v) in mean.iter_mut().zip(self.sample(i).iter()) {
                *m += v;
            }
        }
        let count = self.len().max(1) as f32;
        mean.iter_mut().for_each(|m| *m /= count);
        mean
    }
}

/// What a run's settings are checked against before it starts (`train::preflight`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DataFacts {
    pub shape: SampleShape,
    pub train_len: usize,
    /// 0 for unlabelled data.
    pub classes: usize,
}

impl DataFacts {
    /// The facts of a built-in set, known without loading it (a test checks them against a
    /// load); `None` for a user's files.
    pub fn of_builtin(spec: &DataSpec) -> Option<DataFacts> {
        let image = |side: usize| {
            SampleShape::Image(ImageShape {
                channels: 1,
                height: side,
                width: side,
            })
        };
        let (shape, train_len, classes) = match spec {
            DataSpec::Mnist | DataSpec::Fashion => (image(28), 9000, 10),
            DataSpec::Shapes => (
                image(shapes::SIDE),
                shapes::TRAIN_SIZE,
                shapes::SHAPE_NAMES.len(),
            ),
            DataSpec::SyntheticSeq => (
                SampleShape::Series(SeriesShape {
                    channels: 1,
                    steps: series::DEFAULT_STEPS,
                }),
                series::TRAIN_SIZE,
                series::CLASS_NAMES.len(),
            ),
            DataSpec::SpokenDigits => (spoken::SHAPE, spoken::train_len(), spoken::voices().len()),
            _ => return None,
        };
        Some(DataFacts {
            shape,
            train_len,
            classes,
        })
    }
}

impl DataSplit {
    pub fn facts(&self) -> DataFacts {
        DataFacts {
            shape: self.train.shape,
            train_len: self.train.len(),
            classes: self.train.classes(),
        }
    }
}

/// A named train/test pair.
#[derive(Debug, Clone)]
pub struct DataSplit {
    pub name: String,
    pub train: Dataset,
    pub test: Dataset,
    /// Repairs made while loading (e.g. series resampled), for the user to see; empty when the
    /// data was read as it is.
    pub warnings: Vec<String>,
}

/// The most sample bytes a file may promise before it is read, unless raised: well below this
/// machine class's memory (8-bit images are held as these bytes; real-valued data as f32).
pub const DEFAULT_MAX_DATA_BYTES: usize = 1 << 30;

static MAX_DATA_BYTES: AtomicUsize = AtomicUsize::new(DEFAULT_MAX_DATA_BYTES);

/// The limit every loader checks a file's promised size against before reading its data
/// (`--max-data-mb`).
pub fn max_data_bytes() -> usize {
    MAX_DATA_BYTES.load(Ordering::Relaxed)
}

/// Refuses a file larger than [`max_data_bytes`] before it is read.
pub fn check_file_size(path: &Path) -> Result<(), LoadError> {
    let bytes = std::fs::metadata(path)
        .map_err(|source| LoadError::Io {
            path: path.to_path_buf(),
            source,
        })?
        .len();
    let limit = max_data_bytes();
    if bytes > limit as u64 {
        return Err(LoadError::TooLarge {
            path: path.to_path_buf(),
            bytes,
            limit,
        });
    }
    Ok(())
}

/// Sets [`max_data_bytes`] for this process.
pub fn set_max_data_bytes(bytes: usize) {
    MAX_DATA_BYTES.store(bytes, Ordering::Relaxed);
}

const MNIST_CLASSES: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
const FASHION_CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

macro_rules! embedded {
    ($name:literal) => {
        (
            concat!("assets/datasets/", $name),
            include_bytes!(concat!("../../assets/datasets/", $name)).as_slice(),
        )
    };
}

/// Loads a dataset; `seed` drives the train/test split of user data and the synthetic
/// sequences.
pub fn load(spec: &DataSpec, seed: u64) -> Result<DataSplit, LoadError> {
    load_with_progress(spec, seed, &mut |_, _| true)
}

/// [`load`], reporting `progress(done, total)` where loading takes long (image folders: images
/// decoded of all found); the callback returns false to cancel ([`LoadError::Cancelled`]).
pub fn load_with_progress(
    spec: &DataSpec,
    seed: u64,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<DataSplit, LoadError> {
    match spec {
        DataSpec::Folder { dir, options } => folder::read(dir, options, seed, progress),
        DataSpec::Mnist => builtin(
            "MNIST",
            &MNIST_CLASSES,
            [
                embedded!("mnist-train-images-idx3-ubyte.gz"),
                embedded!("mnist-train-labels-idx1-ubyte.gz"),
                embedded!("mnist-test-images-idx3-ubyte.gz"),
                embedded!("mnist-test-labels-idx1-ubyte.gz"),
            ],
        ),
        DataSpec::Fashion => builtin(
            "Fashion-MNIST",
            &FASHION_CLASSES,
            [
                embedded!("fashion-train-images-idx3-ubyte.gz"),
                embedded!("fashion-train-labels-idx1-ubyte.gz"),
                embedded!("fashion-test-images-idx3-ubyte.gz"),
                embedded!("fashion-test-labels-idx1-ubyte.gz"),
            ],
        ),
        DataSpec::Idx {
            images,
            labels,
            names,
        } => {
            let images_arr = idx::read_file(images)?;
            let labels_arr = labels.as_deref().map(idx::read_file).transpose()?;
            let names = names.as_deref().map(read_names).transpose()?;
            let data = from_idx(
                images_arr,
                images,
                labels_arr.zip(labels.as_deref()),
                names.as_deref(),
            )?;
            split(data, seed, images)
        }
        // Like the other built-in sets, the same data for every run, whatever its seed.
        DataSpec::SyntheticSeq => Ok(series::synthetic(
            series::BUILTIN_SEED,
            series::DEFAULT_STEPS,
        )),
        DataSpec::Shapes => Ok(shapes::shapes(shapes::BUILTIN_SEED)),
        DataSpec::SpokenDigits => spoken::spoken_digits(),
        DataSpec::Wav { dir } => spoken::wav_folder(dir, seed),
        DataSpec::Csv {
            train,
            test: None,
            options,
        } => {
            let (data, warnings) = csv::read(train, options)?;
            Ok(DataSplit {
                warnings,
                ..split(data, seed, train)?
            })
        }
        DataSpec::Csv {
            train,
            test: Some(test),
            options,
        } => {
            let (train_data, mut warnings) = csv::read(train, options)?;
            let (test_data, test_warnings) = csv::read_matching(test, options, &train_data)?;
            warnings.extend(test_warnings);
            Ok(DataSplit {
                name: file_name(train),
                train: train_data,
                test: test_data,
                warnings,
            })
        }
    }
}

/// Reads class names, one per line (blank lines at the end ignored).
fn read_names(path: &Path) -> Result<Vec<String>, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| {
        LoadError::Idx(IdxError::Io {
            path: path.to_path_buf(),
            source,
        })
    })?;
    let names: Vec<String> = text.lines().map(|l| l.trim().to_string()).collect();
    let used = names
        .iter()
        .rposition(|n| !n.is_empty())
        .map_or(0, |i| i + 1);
    if used == 0 {
        return Err(LoadError::Idx(IdxError::Empty {
            path: path.to_path_buf(),
        }));
    }
    Ok(names[..used].to_vec())
}

fn builtin(
    name: &str,
    classes: &[&str],
    files: [(&str, &[u8]); 4],
) -> Result<DataSplit, LoadError> {
    let class_names: Vec<String> = classes.iter().map(|s| s.to_string()).collect();
    let part = |img: (&str, &[u8]), lbl: (&str, &[u8])| -> Result<Dataset, LoadError> {
        let (ip, lp) = (Path::new(img.0), Path::new(lbl.0));
        from_idx(
            idx::parse(img.1, ip)?,
            ip,
            Some((idx::parse(lbl.1, lp)?, lp)),
            Some(&class_names),
        )
    };
    Ok(DataSplit {
        name: name.to_string(),
        train: part(files[0], files[1])?,
        test: part(files[2], files[3])?,
        warnings: Vec::new(),
    })
}

/// Builds a dataset from parsed IDX arrays, checking that they fit together.
/// Without `class_names`, labels are named by their number (0..=max label).
fn from_idx(
    images: idx::IdxArray,
    images_path: &Path,
    labels: Option<(idx::IdxArray, &Path)>,
    class_names: Option<&[String]>,
) -> Result<Dataset, LoadError> {
    let (n, h, w) = match images.dims[..] {
        [n, h, w] => (n, h, w),
        _ => {
            return Err(LoadError::ImageDims {
                path: images_path.to_path_buf(),
                dims: images.dims,
            });
        }
    };
    let shape = SampleShape::Image(ImageShape {
        channels: 1,
        height: h,
        width: w,
    });
    let (labels, class_names) = match labels {
        None => (None, Vec::new()),
        Some((arr, path)) => {
            if arr.dims.len() != 1 {
                return Err(LoadError::LabelDims {
                    path: path.to_path_buf(),
                    dims: arr.dims,
                });
            }
            if arr.dims[0] != n {
                return Err(LoadError::CountMismatch {
                    path: path.to_path_buf(),
                    labels: arr.dims[0],
                    images: n,
                });
            }
            let labels: Vec<u32> = arr.data.iter().map(|&b| b as u32).collect();
            let names: Vec<String> = match class_names {
                Some(names) => names.to_vec(),
                None => {
                    let max = labels.iter().copied().max().unwrap_or(0);
                    (0..=max).map(|l| l.to_string()).collect()
                }
            };
            if let Some((index, &label)) = labels
                .iter()
                .enumerate()
                .find(|(_, l)| **l as usize >= names.len())
            {
                return Err(LoadError::LabelRange {
                    path: path.to_path_buf(),
                    label,
                    index,
                    classes: names.len(),
                });
            }
            (Some(labels), names)
        }
    };
    Ok(Dataset {
        shape,
        values: Values::Bytes(images.data),
        labels,
        class_names,
        factors: None,
    })
}

/// Splits one dataset 90/10 into train and test, shuffled with `seed`.
fn split(data: Dataset, seed: u64, path: &Path) -> Result<DataSplit, LoadError> {
    let n = data.len();
    if n < 2 {
        return Err(LoadError::TooFew {
            path: path.to_path_buf(),
            count: n,
        });
    }
    let mut order: Vec<usize> = (0..n).collect();
    Rng::new(seed).shuffle(&mut order);
    let n_test = (n / 10).max(1);
    Ok(DataSplit {
        name: file_name(path),
        test: data.subset(&order[..n_test]),
        train: data.subset(&order[n_test..]),
        warnings: Vec::new(),
    })
}

/// A dataset's name from its file: the file name, or the whole path when it has none.
fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// A folder's entries in name order (the loaders of image and WAV folders).
fn list_dir(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| LoadError::Io {
            path: dir.to_path_buf(),
            source,
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    paths.sort();
    Ok(paths)
}

/// One load warning for all the files a folder loader skipped: a summary line, then one line
/// per file with its reason.
fn skipped_warning(skipped: &[String]) -> String {
    format!(
        "skipped {} file{} that could not be used:\n{}",
        skipped.len(),
        if skipped.len() == 1 { "" } else { "s" },
        skipped.join("\n")
    )
}

/// "; skipped a: why; b: why" for the error of a folder with nothing usable, at most five
/// named; empty when nothing was skipped.
fn skipped_in_error(skipped: &[String]) -> String {
    if skipped.is_empty() {
        return String::new();
    }
    let more = skipped.len().saturating_sub(5);
    format!(
        "; skipped {}{}",
        skipped[..skipped.len().min(5)].join("; "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    )
}

/// Shuffled mini-batches of indices for one epoch; the incomplete last batch is dropped,
/// as in the PyTorch reference. A dataset smaller than one batch gives one batch of all of it.
pub fn epoch_batches(n: usize, batch_size: usize, rng: &mut Rng) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut order);
    if n < batch_size {
        return vec![order];
    }
    order.chunks_exact(batch_size).map(|c| c.to_vec()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_facts_are_those_of_the_loaded_sets() {
        for spec in [
            DataSpec::Mnist,
            DataSpec::Fashion,
            DataSpec::Shapes,
            DataSpec::SyntheticSeq,
            DataSpec::SpokenDigits,
        ] {
            let loaded = load(&spec, 0).unwrap().facts();
            assert_eq!(DataFacts::of_builtin(&spec), Some(loaded), "{spec}");
        }
        assert_eq!(DataFacts::of_builtin(&"idx:a.idx".parse().unwrap()), None);
    }

    #[test]
    fn builtin_sets_have_the_documented_sizes_and_classes() {
        for (spec, first_class) in [(DataSpec::Mnist, "0"), (DataSpec::Fashion, "T-shirt/top")] {
            let d = load(&spec, 0).unwrap();
            assert_eq!(d.train.len(), 9000);
            assert_eq!(d.test.len(), 1000);
            assert_eq!(d.train.shape.len(), 784);
            assert_eq!(d.train.class_names[0], first_class);
            assert!(
                d.train
                    .values
                    .to_f32()
                    .iter()
                    .all(|v| (0.0..=1.0).contains(v))
            );
            // Every class is present in the test split.
            let labels = d.test.labels.as_ref().unwrap();
            for c in 0..10 {
                assert!(labels.contains(&c), "class {c} missing");
            }
        }
    }

    #[test]
    fn spec_parses_and_prints() {
        assert_eq!("mnist".parse::<DataSpec>().unwrap(), DataSpec::Mnist);
        let s: DataSpec = "idx:a.gz,b.gz".parse().unwrap();
        assert_eq!(s.to_string(), "idx:a.gz,b.gz");
        let s: DataSpec = "idx:a.gz".parse().unwrap();
        assert_eq!(
            s,
            DataSpec::Idx {
                images: "a.gz".into(),
                labels: None,
                names: None
            }
        );
        assert!("cifar".parse::<DataSpec>().is_err());
    }

    #[test]
    fn sequence_specs_parse_and_print() {
        let s: DataSpec = "synthetic-seq".parse().unwrap();
        assert_eq!(s, DataSpec::SyntheticSeq);
        assert_eq!(s.to_string(), "synthetic-seq");
        let s: DataSpec = "csv:a.csv,b.csv".parse().unwrap();
        assert_eq!(
            s,
            DataSpec::Csv {
                train: "a.csv".into(),
                test: Some("b.csv".into()),
                options: CsvOptions::default(),
            }
        );
        assert_eq!(s.to_string(), "csv:a.csv,b.csv");
        let s: DataSpec = "csv:a.tsv".parse().unwrap();
        assert_eq!(s.to_string(), "csv:a.tsv");
        assert!(matches!(s, DataSpec::Csv { test: None, .. }));
        for bad in ["csv:", "csv:,b.csv", "csv:a,b,c", "synthetic"] {
            let e = bad.parse::<DataSpec>().unwrap_err().to_string();
            assert!(
                e.contains("synthetic-seq") && e.contains("csv:TRAIN[,TEST]"),
                "{e}"
            );
        }
    }

    /// Writes `text` to a fresh file under the temp dir.
    fn temp_file(name: &str, text: &str) -> PathBuf {
        let path =
            std::env::temp_dir().join(format!("latentlab-data-{}-{name}", std::process::id()));
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn synthetic_sequences_load_from_their_spec() {
        let d = load(&DataSpec::SyntheticSeq, 4).unwrap();
        assert_eq!(d.train.len(), series::TRAIN_SIZE);
        assert_eq!(
            d.train.shape.series().map(|s| s.steps),
            Some(series::DEFAULT_STEPS)
        );
        // The run's seed does not change the built-in data.
        assert_eq!(
            d.train.values,
            load(&DataSpec::SyntheticSeq, 9).unwrap().train.values
        );
    }

    #[test]
    fn csv_loads_one_file_split_or_two_files_that_agree() {
        let rows: String = (0..20).map(|i| format!("{},{i},1,2\n", i % 2)).collect();
        let one = temp_file("one.csv", &format!("{rows}1,5,6\n"));
        let spec = DataSpec::Csv {
            train: one.clone(),
            test: None,
            options: CsvOptions::default(),
        };
        let d = load(&spec, 3).unwrap();
        assert_eq!((d.train.len(), d.test.len()), (19, 2));
        assert_eq!(d.warnings.len(), 1, "{:?}", d.warnings);
        assert!(d.warnings[0].contains("1 of 21 series"), "{:?}", d.warnings);

        let train = temp_file("train.csv", "a,1,2,3,4\nb,4,3,2,1\n");
        let test = temp_file("test.csv", "b,0,3\na,1,1,1,1\n");
        let spec = DataSpec::Csv {
            train: train.clone(),
            test: Some(test.clone()),
            options: CsvOptions::default(),
        };
        let d = load(&spec, 0).unwrap();
        assert_eq!(d.test.shape, d.train.shape);
        assert_eq!(d.test.labels, Some(vec![1, 0]));
        assert_eq!(d.test.class_names, ["a", "b"]);
        assert_eq!(d.warnings.len(), 1, "{:?}", d.warnings);
        assert!(
            d.warnings[0].contains("test.csv: 1 of 2"),
            "{:?}",
            d.warnings
        );

        let unseen = temp_file("unseen.csv", "a,1,2,3,4\nc,1,2,3,4\n");
        let spec = DataSpec::Csv {
            train: train.clone(),
            test: Some(unseen.clone()),
            options: CsvOptions::default(),
        };
        let e = load(&spec, 0).unwrap_err().to_string();
        assert!(e.contains("unseen.csv:2: label \"c\""), "{e}");
        for p in [one, train, test, unseen] {
            let _ = std::fs::remove_file(p);
        }
    }

    #[test]
    fn batches_cover_each_index_once_and_drop_the_remainder() {
        let b = epoch_batches(10, 3, &mut Rng::new(1));
        assert_eq!(b.len(), 3);
        let mut all: Vec<usize> = b.concat();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 9);
        assert_eq!(epoch_batches(2, 8, &mut Rng::new(1))[0].len(), 2);
    }
}
