//! The one integration-test binary: trainer lifecycle, CLI, and tidy checks.

mod cli;
mod conv_grads;
mod folder;
mod fuzz;
mod tidy;
mod trainer;
mod ui;

use std::path::PathBuf;

use latentlab::data::{self, DataSpec, DataSplit};
use latentlab::protocol::Event;

/// A fresh, empty folder under the system temp dir, unique to this test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("latentlab-it-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A small slice of MNIST: `train` and `test` images, same classes.
pub fn small_mnist(train: usize, test: usize) -> DataSplit {
    let full = data::load(&DataSpec::Mnist, 0).expect("built-in MNIST");
    DataSplit {
        name: "MNIST (small)".into(),
        train: full.train.subset(&(0..train).collect::<Vec<_>>()),
        test: full.test.subset(&(0..test).collect::<Vec<_>>()),
        warnings: Vec::new(),
    }
}

/// Writes the first `n` MNIST training images (and labels) as raw IDX files; returns their paths.
pub fn write_mnist_idx(dir: &std::path::Path, n: usize) -> (PathBuf, PathBuf) {
    let d = small_mnist(n, 1).train;
    let data::Values::Bytes(bytes) = &d.values else {
        panic!("MNIST is held as the bytes of its files");
    };
    let labels: Vec<u8> = d
        .labels
        .as_ref()
        .unwrap()
        .iter()
        .map(|&l| l as u8)
        .collect();
    let (img, lbl) = (dir.join("images.idx"), dir.join("labels.idx"));
    std::fs::write(&img, data::idx::encode(&[n, 28, 28], bytes)).unwrap();
    std::fs::write(&lbl, data::idx::encode(&[n], &labels)).unwrap();
    (img, lbl)
}

/// Counts the events that end a run.
pub fn ends(events: &[Event]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, Event::Finished(_) | Event::Failed { .. }))
        .count()
}
