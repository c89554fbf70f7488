//! Datasets: the built-in MNIST and Fashion-MNIST subsets, users' IDX files, seeded mini-batches,
//! and input corruption.
//!
//! Everything here is plain host data (`Vec<f32>` in [0, 1]); tensors are made by the trainer.
//! Never imports egui or burn.

pub mod idx;
pub mod noise;
pub mod rng;
pub mod sample;

use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use idx::IdxError;
pub use noise::{Noise, NoiseKind};
pub use rng::Rng;
pub use sample::{ImageShape, SampleShape, SeriesShape, ValueRange};

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
    #[error("{path}: holds {count} images, need at least 2 to split into train and test")]
    TooFew { path: PathBuf, count: usize },
    #[error("unknown dataset {0:?}: use mnist, fashion or idx:IMAGES[,LABELS[,NAMES]]")]
    UnknownSpec(String),
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
}

impl FromStr for DataSpec {
    type Err = LoadError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "mnist" => Ok(DataSpec::Mnist),
            "fashion" | "fashion-mnist" => Ok(DataSpec::Fashion),
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
        }
    }
}

/// Samples of one shape (images or series) with optional labels, all in memory.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub shape: SampleShape,
    /// `[N, ...shape]` row-major (images `[N, C, H, W]` in [0, 1], series `[N, C, T]`).
    pub values: Vec<f32>,
    /// One label per sample, each below `class_names.len()`; `None` for unlabelled data.
    pub labels: Option<Vec<u32>>,
    pub class_names: Vec<String>,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.values.len() / self.shape.len().max(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values of sample `i`.
    pub fn sample(&self, i: usize) -> &[f32] {
        let n = self.shape.len();
        &self.values[i * n..(i + 1) * n]
    }

    /// The label of sample `i`, if the data is labelled.
    pub fn label(&self, i: usize) -> Option<u32> {
        self.labels.as_ref().map(|l| l[i])
    }

    /// A new dataset holding the given samples, in that order.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        let mut values = Vec::with_capacity(indices.len() * self.shape.len());
        for &i in indices {
            values.extend_from_slice(self.sample(i));
        }
        Dataset {
            shape: self.shape,
            values,
            labels: self
                .labels
                .as_ref()
                .map(|l| indices.iter().map(|&i| l[i]).collect()),
            class_names: self.class_names.clone(),
        }
    }

    /// The mean sample: the baseline a reconstruction must beat.
    pub fn mean_sample(&self) -> Vec<f32> {
        let n = self.shape.len();
        let mut mean = vec![0.0f32; n];
        for i in 0..self.len() {
            for (m, v) in mean.iter_mut().zip(self.sample(i)) {
                *m += v;
            }
        }
        let count = self.len().max(1) as f32;
        mean.iter_mut().for_each(|m| *m /= count);
        mean
    }
}

/// A named train/test pair.
#[derive(Debug, Clone)]
pub struct DataSplit {
    pub name: String,
    pub train: Dataset,
    pub test: Dataset,
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

/// Loads a dataset; `seed` drives the train/test split of user data.
pub fn load(spec: &DataSpec, seed: u64) -> Result<DataSplit, LoadError> {
    match spec {
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
    let pixels: Vec<f32> = images.data.iter().map(|&b| b as f32 / 255.0).collect();
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
        values: pixels,
        labels,
        class_names,
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
    let name = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    Ok(DataSplit {
        name,
        test: data.subset(&order[..n_test]),
        train: data.subset(&order[n_test..]),
    })
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
    fn builtin_sets_have_the_documented_sizes_and_classes() {
        for (spec, first_class) in [(DataSpec::Mnist, "0"), (DataSpec::Fashion, "T-shirt/top")] {
            let d = load(&spec, 0).unwrap();
            assert_eq!(d.train.len(), 9000);
            assert_eq!(d.test.len(), 1000);
            assert_eq!(d.train.shape.len(), 784);
            assert_eq!(d.train.class_names[0], first_class);
            assert!(d.train.values.iter().all(|v| (0.0..=1.0).contains(v)));
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
