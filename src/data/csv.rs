//! Time series from CSV or TSV files in the style of the UCR archive: one series per row,
//! the class label first. Owns parsing and the repairs listed below; never imports egui or burn.
//!
//! The rules a file must follow:
//!
//! - **Rows.** One series per row. Blank lines (nothing but whitespace and delimiters) are
//!   skipped. Unix and Windows line endings both work; a UTF-8 byte-order mark is ignored.
//! - **Delimiter.** Tab if the first non-blank line contains a tab, else comma. Cells are
//!   trimmed, and one pair of surrounding double quotes is removed (quoted cells must not
//!   contain the delimiter).
//! - **Label.** With [`LabelColumn::First`] (the default) the first cell of each row is the class
//!   label: any non-empty text, e.g. `1`, `-1`, `2.0` or `cat`. Labels become classes sorted
//!   numerically when every label is a number, else sorted as text. Class names are the labels
//!   as written; numeric labels equal as numbers (`1`, `1.0`, `1e0`) are one class, named by the
//!   first spelling in the file. With [`LabelColumn::None`] every cell is a value and the data
//!   is unlabelled.
//! - **Header.** If the value cells of the first non-blank line are not all numbers, that line
//!   is a header and is skipped (empty, `NaN` and `inf` cells count as numbers here). A header
//!   whose value cells are numbers, e.g. `label,1,2,3`, reads as a series.
//! - **Values.** Every other value cell must be a finite number (`12`, `-0.5`, `1e-3`).
//!   Anything else is an error naming the file, line and column, 1-based, counting the label
//!   column: `data.csv:12:5: "abc" is not a number`; `inf` is an error the same way.
//! - **Missing values.** Empty cells and `NaN` (any case) at the end of a row are padding, as
//!   the UCR archive pads its shorter series, and are dropped. An empty or `NaN` cell before the
//!   last value of a row is an error (`missing value inside a series`) with line and column.
//! - **Lengths.** Every series needs at least 2 values. Series are linearly resampled (first and
//!   last values kept) to one length: [`CsvOptions::length`] if set, else the longest series in
//!   the file; a test file is resampled to its training file's length. One warning says how
//!   many series were resampled.
//! - **Normalisation.** With [`CsvOptions::znorm`] each series is shifted and scaled to mean 0
//!   and standard deviation 1 after resampling; a constant series becomes all zeros.
//!   Values are otherwise kept as they are, not clamped.
//! - **Errors.** A file with no series (empty, blank, or only a header) is an error, as is an
//!   unreadable one. Nothing in a file can make the loader panic.

use std::cmp::Ordering;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Dataset, LoadError, SampleShape, SeriesShape};

/// The most values one file may hold after resampling (4 GiB of `f32`).
const MAX_VALUES: usize = 1 << 30;

/// Which column, if any, holds the class label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
pub enum LabelColumn {
    /// The first cell of each row is the label (the UCR layout).
    #[default]
    First,
    /// No labels: every cell is a value.
    None,
}

/// How to read a CSV file of series.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CsvOptions {
    pub label_column: LabelColumn,
    /// Z-normalise each series (mean 0, standard deviation 1) after resampling.
    pub znorm: bool,
    /// Resample every series to this many steps (at least 2); `None` uses the longest series.
    pub length: Option<usize>,
}

/// Reads a file of series (see the module documentation for the rules). Returns the dataset,
/// `[N, 1, T]`, and warnings describing the repairs made, for the user to see.
pub fn read(path: &Path, opts: &CsvOptions) -> Result<(Dataset, Vec<String>), LoadError> {
    from_text(&read_text(path)?, path, opts)
}

/// [`read`] on text already in memory; `path` only labels errors.
pub fn from_text(
    text: &str,
    path: &Path,
    opts: &CsvOptions,
) -> Result<(Dataset, Vec<String>), LoadError> {
    let rows = parse(text, path, opts.label_column)?;
    let classes = rows
        .iter()
        .map(|r| r.label.as_deref())
        .collect::<Option<Vec<&str>>>()
        .map(|labels| class_names(&labels));
    build(path, rows, opts.length, classes.as_deref(), opts.znorm)
}

/// Reads a test file to match `train` (read from a training file with the same `opts`): its
/// series are resampled to the training length and its labels mapped to the training classes;
/// a label the training file lacks is an error naming the line.
pub fn read_matching(
    path: &Path,
    opts: &CsvOptions,
    train: &Dataset,
) -> Result<(Dataset, Vec<String>), LoadError> {
    let rows = parse(&read_text(path)?, path, opts.label_column)?;
    let length = train.shape.series().map(|s| s.steps).or(opts.length);
    let classes = train.labels.as_ref().map(|_| train.class_names.as_slice());
    build(path, rows, length, classes, opts.znorm)
}

fn read_text(path: &Path) -> Result<String, LoadError> {
    super::check_file_size(path)?;
    std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// One data row: its 1-based line number, its label (when there is a label column) and its
/// values with the end padding dropped.
struct Row {
    line: usize,
    label: Option<String>,
    values: Vec<f32>,
}

/// What one value cell holds.
enum Cell {
    Value(f32),
    Missing,
    NotANumber,
    NotFinite,
}

fn cell(text: &str) -> Cell {
    if text.is_empty() || text.eq_ignore_ascii_case("nan") {
        return Cell::Missing;
    }
    match text.parse::<f64>() {
        Err(_) => Cell::NotANumber,
        Ok(v) if v.is_nan() => Cell::Missing,
        Ok(v) if !v.is_finite() || !(v as f32).is_finite() => Cell::NotFinite,
        Ok(v) => Cell::Value(v as f32),
    }
}

fn unquote(text: &str) -> &str {
    let t = text.trim();
    t.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .map_or(t, str::trim)
}

fn parse(text: &str, path: &Path, label_column: LabelColumn) -> Result<Vec<Row>, LoadError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .split('\n')
        .enumerate()
        .map(|(i, line)| (i + 1, line))
        .filter(|(_, line)| {
            line.chars()
                .any(|c| !c.is_whitespace() && c != ',' && c != '\t')
        })
        .peekable();
    let delimiter = match lines.peek() {
        Some((_, first)) if first.contains('\t') => '\t',
        Some(_) => ',',
        None => return Err(no_series(path)),
    };
    let skip = usize::from(label_column == LabelColumn::First);
    let mut rows = Vec::new();
    for (index, (line, raw)) in lines.enumerate() {
        let cells: Vec<&str> = raw.split(delimiter).map(unquote).collect();
        let value_cells = cells.get(skip..).unwrap_or_default();
        if index == 0
            && value_cells
                .iter()
                .any(|c| matches!(cell(c), Cell::NotANumber))
        {
            continue; // a header
        }
        let label = match label_column {
            LabelColumn::None => None,
            LabelColumn::First => match cells.first() {
                Some(l) if !l.is_empty() => Some(l.to_string()),
                _ => {
                    return Err(LoadError::CsvEmptyLabel {
                        path: path.to_path_buf(),
                        line,
                    });
                }
            },
        };
        // Padding: missing cells after the last value.
        let used = value_cells
            .iter()
            .rposition(|c| !matches!(cell(c), Cell::Missing))
            .map_or(0, |i| i + 1);
        let mut values = Vec::with_capacity(used);
        for (i, text) in value_cells[..used].iter().enumerate() {
            let value = cell(text);
            if let Cell::Value(v) = value {
                values.push(v);
                continue;
            }
            let (path, column, cell) = (path.to_path_buf(), i + skip + 1, text.to_string());
            return Err(match value {
                Cell::Missing => LoadError::CsvMissing { path, line, column },
                Cell::NotFinite => LoadError::CsvNotFinite {
                    path,
                    line,
                    column,
                    cell,
                },
                _ => LoadError::CsvNotANumber {
                    path,
                    line,
                    column,
                    cell,
                },
            });
        }
        if values.len() < 2 {
            return Err(LoadError::CsvShortSeries {
                path: path.to_path_buf(),
                line,
                count: values.len(),
            });
        }
        rows.push(Row {
            line,
            label,
            values,
        });
    }
    if rows.is_empty() {
        return Err(no_series(path));
    }
    Ok(rows)
}

fn no_series(path: &Path) -> LoadError {
    LoadError::NoSeries {
        path: path.to_path_buf(),
    }
}

/// A label's value when it is a finite number (`-0` counts as `0`).
fn numeric(label: &str) -> Option<f64> {
    label
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .map(|v| v + 0.0)
}

/// The classes of a file's labels: numeric order when all are numbers (equal numbers are one
/// class, named by the first spelling), else text order.
fn class_names(labels: &[&str]) -> Vec<String> {
    let numbers: Option<Vec<f64>> = labels.iter().map(|l| numeric(l)).collect();
    match numbers {
        Some(numbers) => {
            let mut classes: Vec<(f64, &str)> = Vec::new();
            for (&v, &l) in numbers.iter().zip(labels) {
                if !classes.iter().any(|(c, _)| *c == v) {
                    classes.push((v, l));
                }
            }
            classes.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(Ordering::Equal));
            classes.into_iter().map(|(_, l)| l.to_string()).collect()
        }
        None => {
            let mut classes: Vec<String> = labels.iter().map(|l| l.to_string()).collect();
            classes.sort();
            classes.dedup();
            classes
        }
    }
}

/// The index of `label` among `classes`: the same text, or failing that the same number when
/// the classes are all numbers.
fn class_index(classes: &[String], label: &str) -> Option<u32> {
    let found = classes.iter().position(|c| c == label).or_else(|| {
        let v = numeric(label)?;
        let values: Option<Vec<f64>> = classes.iter().map(|c| numeric(c)).collect();
        values?.iter().position(|&c| c == v)
    });
    found.and_then(|i| u32::try_from(i).ok())
}

/// Resamples, labels and normalises the parsed rows into a dataset.
fn build(
    path: &Path,
    rows: Vec<Row>,
    length: Option<usize>,
    classes: Option<&[String]>,
    znorm: bool,
) -> Result<(Dataset, Vec<String>), LoadError> {
    let steps = match length {
        Some(n) if n < 2 => {
            return Err(LoadError::CsvLength {
                path: path.to_path_buf(),
                length: n,
            });
        }
        Some(n) => n,
        None => rows.iter().map(|r| r.values.len()).max().unwrap_or(2),
    };
    if rows.len().checked_mul(steps).is_none_or(|n| n > MAX_VALUES) {
        return Err(LoadError::CsvTooLarge {
            path: path.to_path_buf(),
            series: rows.len(),
            steps,
        });
    }
    let labels = match classes {
        None => None,
        Some(classes) => {
            let mut labels = Vec::with_capacity(rows.len());
            for row in &rows {
                let label = row.label.as_deref().unwrap_or_default();
                let index =
                    class_index(classes, label).ok_or_else(|| LoadError::CsvUnseenLabel {
                        path: path.to_path_buf(),
                        line: row.line,
                        label: label.to_string(),
                        known: summary(classes),
                    })?;
                labels.push(index);
            }
            Some(labels)
        }
    };
    let mut values = Vec::with_capacity(rows.len() * steps);
    let mut resampled = 0;
    for row in &rows {
        let start = values.len();
        if row.values.len() == steps {
            values.extend_from_slice(&row.values);
        } else {
            resampled += 1;
            values.extend(resample(&row.values, steps));
        }
        if znorm {
            z_normalise(&mut values[start..]);
        }
    }
    let mut warnings = Vec::new();
    if resampled > 0 {
        warnings.push(format!(
            "{}: {resampled} of {} series had another length and were linearly resampled to {steps} steps",
            path.display(),
            rows.len()
        ));
    }
    let dataset = Dataset {
        shape: SampleShape::Series(SeriesShape { channels: 1, steps }),
        values: values.into(),
        class_names: match (&labels, classes) {
            (Some(_), Some(c)) => c.to_vec(),
            _ => Vec::new(),
        },
        labels,
        factors: None,
    };
    Ok((dataset, warnings))
}

/// The first few class names, for an error message.
fn summary(classes: &[String]) -> String {
    const SHOWN: usize = 10;
    let mut s = classes
        .iter()
        .take(SHOWN)
        .map(|c| format!("{c:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    if classes.len() > SHOWN {
        s.push_str(&format!(", … ({} in all)", classes.len()));
    }
    s
}

/// Linear interpolation of `values` (at least 2) onto `steps` evenly spaced points spanning the
/// same interval, so the first and last values are kept.
fn resample(values: &[f32], steps: usize) -> Vec<f32> {
    let last = values.len().saturating_sub(1);
    if last == 0 || steps < 2 {
        return vec![values.first().copied().unwrap_or(0.0); steps];
    }
    (0..steps)
        .map(|j| {
            let x = j as f64 * last as f64 / (steps - 1) as f64;
            let i = (x.floor() as usize).min(last - 1);
            let frac = x - i as f64;
            let (a, b) = (values[i] as f64, values[i + 1] as f64);
            (a + (b - a) * frac) as f32
        })
        .collect()
}

/// Mean 0, standard deviation 1 (population); a constant series becomes zeros.
fn z_normalise(series: &mut [f32]) {
    let n = series.len().max(1) as f64;
    let mean = series.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = series
        .iter()
        .map(|&v| (v as f64 - mean).powi(2))
        .sum::<f64>()
        / n;
    let std = var.sqrt();
    // Rounding can leave a constant series a spread of about 1e-16 of its mean; don't blow
    // that up to unit scale. Real f32 differences are at least 1e-8 of the values.
    let constant = std == 0.0 || std <= 1e-10 * mean.abs();
    for v in series.iter_mut() {
        *v = if constant {
            0.0
        } else {
            ((*v as f64 - mean) / std) as f32
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Writes `text` to a fresh file under the temp dir; `name` ends the file name.
    fn file(name: &str, text: &str) -> PathBuf {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("latentlab-csv-{}-{n}-{name}", std::process::id()));
        std::fs::write(&path, text).unwrap();
        path
    }

    fn read_text(
        name: &str,
        text: &str,
        opts: &CsvOptions,
    ) -> Result<(Dataset, Vec<String>), LoadError> {
        let path = file(name, text);
        let result = read(&path, opts);
        let _ = std::fs::remove_file(&path);
        result
    }

    fn ok(name: &str, text: &str, opts: &CsvOptions) -> (Dataset, Vec<String>) {
        read_text(name, text, opts).unwrap_or_else(|e| panic!("{e}"))
    }

    fn err(name: &str, text: &str, opts: &CsvOptions) -> String {
        match read_text(name, text, opts) {
            Ok((d, _)) => panic!("{name} read as {} series", d.len()),
            Err(e) => e.to_string(),
        }
    }

    fn steps(d: &Dataset) -> usize {
        d.shape.series().map(|s| s.steps).unwrap_or(0)
    }

    #[test]
    fn label_first_comma_separated() {
        let (d, warnings) = ok(
            "labels.csv",
            "2,1.5,2,3\n-1,0,0,1\r\n\n10,4,5,-6e1\n2.0,7,8,9\n",
            &CsvOptions::default(),
        );
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(d.len(), 4);
        assert_eq!(
            d.shape,
            SampleShape::Series(SeriesShape {
                channels: 1,
                steps: 3
            })
        );
        // Numeric order, "2" and "2.0" one class named as first written.
        assert_eq!(d.class_names, ["-1", "2", "10"]);
        assert_eq!(d.labels, Some(vec![1, 0, 2, 1]));
        assert_eq!(*d.sample(2), [4.0, 5.0, -60.0]);
        assert_eq!(*d.sample(0), [1.5, 2.0, 3.0]);
    }

    #[test]
    fn text_labels_sort_lexically() {
        let (d, _) = ok(
            "text.csv",
            "dog,1,2\ncat,3,4\n\"bird\",5,6\n1,7,8\n",
            &CsvOptions::default(),
        );
        assert_eq!(d.class_names, ["1", "bird", "cat", "dog"]);
        assert_eq!(d.labels, Some(vec![3, 2, 1, 0]));
    }

    #[test]
    fn no_label_column() {
        let opts = CsvOptions {
            label_column: LabelColumn::None,
            ..CsvOptions::default()
        };
        let (d, _) = ok("nolabel.csv", "1,2,3\n4,5,6\n", &opts);
        assert_eq!(d.labels, None);
        assert!(d.class_names.is_empty());
        assert_eq!(d.values.to_f32(), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    }

    #[test]
    fn header_line_is_skipped() {
        let (d, _) = ok(
            "header.csv",
            "\n\"class\",t0,t1,t2\n1,1,2,3\n2,4,5,6\n",
            &CsvOptions::default(),
        );
        assert_eq!(d.len(), 2);
        assert_eq!(d.class_names, ["1", "2"]);
        // A header line later on is an error, not skipped.
        let e = err(
            "late.csv",
            "1,1,2,3\nclass,t0,t1,t2\n",
            &CsvOptions::default(),
        );
        assert!(e.contains("late.csv:2:2: \"t0\" is not a number"), "{e}");
    }

    #[test]
    fn tab_delimited() {
        let (d, _) = ok(
            "tabs.tsv",
            "1\t0.5\t 1.5\t2\n2\t3\t4\t5\n",
            &CsvOptions::default(),
        );
        assert_eq!(d.values.to_f32(), [0.5, 1.5, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(d.labels, Some(vec![0, 1]));
    }

    #[test]
    fn ragged_rows_are_resampled_with_a_warning() {
        let (d, warnings) = ok(
            "ragged.csv",
            "1,0,1,2,3,4\n2,0,4\n1,9,8,7,6,5\n",
            &CsvOptions::default(),
        );
        assert_eq!(steps(&d), 5);
        // 0, 4 over 5 steps: linear, ends kept.
        assert_eq!(*d.sample(1), [0.0, 1.0, 2.0, 3.0, 4.0]);
        assert_eq!(*d.sample(0), [0.0, 1.0, 2.0, 3.0, 4.0]);
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].ends_with(
                "ragged.csv: 1 of 3 series had another length and were linearly resampled to 5 steps"
            ),
            "{warnings:?}"
        );
    }

    #[test]
    fn explicit_length_resamples_every_series_of_another_length() {
        let opts = CsvOptions {
            length: Some(3),
            ..CsvOptions::default()
        };
        let (d, warnings) = ok("len.csv", "1,0,1,2,3,4\n2,0,4\n1,5,6,7\n", &opts);
        assert_eq!(steps(&d), 3);
        assert_eq!(*d.sample(0), [0.0, 2.0, 4.0]);
        assert_eq!(*d.sample(1), [0.0, 2.0, 4.0]);
        assert_eq!(*d.sample(2), [5.0, 6.0, 7.0]);
        assert!(
            warnings[0].contains(
                "2 of 3 series had another length and were linearly resampled to 3 steps"
            ),
            "{warnings:?}"
        );
        let e = err(
            "len1.csv",
            "1,2,3\n",
            &CsvOptions {
                length: Some(1),
                ..CsvOptions::default()
            },
        );
        assert!(e.contains("len1.csv") && e.contains("at least 2"), "{e}");
    }

    #[test]
    fn bad_cells_name_file_line_and_column() {
        let e = err("bad.csv", "1,1,2,3\n\n2,4,abc,6\n", &CsvOptions::default());
        assert!(e.contains("bad.csv:3:3: \"abc\" is not a number"), "{e}");
        let e = err("inf.csv", "1,1,2,3\n2,4,5,inf\n", &CsvOptions::default());
        assert!(
            e.contains("inf.csv:2:4: \"inf\" is not a finite number"),
            "{e}"
        );
        let e = err("big.csv", "1,1,2,3\n2,4,5,1e39\n", &CsvOptions::default());
        assert!(e.contains("big.csv:2:4:"), "{e}");
        let e = err("label.csv", "1,1,2,3\n ,4,5,6\n", &CsvOptions::default());
        assert!(e.contains("label.csv:2:1: empty class label"), "{e}");
        let e = err("short.csv", "1,1,2,3\n2,4,NaN\n", &CsvOptions::default());
        assert!(e.contains("short.csv:2: series has 1 values"), "{e}");
    }

    #[test]
    fn nan_inside_a_series_is_an_error() {
        let e = err("nan.csv", "1,1,2,3\n2,4,NaN,6\n", &CsvOptions::default());
        assert!(
            e.contains("nan.csv:2:3: missing value inside a series"),
            "{e}"
        );
        let e = err("gap.csv", "1,1,,3\n", &CsvOptions::default());
        assert!(e.contains("gap.csv:1:3: missing value"), "{e}");
    }

    #[test]
    fn nan_padding_at_the_end_is_dropped() {
        let (d, warnings) = ok(
            "pad.csv",
            "1,1,2,3,4\n2,5,6,NaN,nan\n1,7,8,9,\n",
            &CsvOptions::default(),
        );
        assert_eq!(steps(&d), 4);
        assert_eq!(*d.sample(0), [1.0, 2.0, 3.0, 4.0]);
        let expected = [5.0, 5.0 + 1.0 / 3.0, 6.0 - 1.0 / 3.0, 6.0];
        for (v, e) in d.sample(1).iter().zip(expected) {
            assert!((v - e).abs() < 1e-6, "{:?}", d.sample(1));
        }
        assert!(warnings[0].contains("2 of 3 series"), "{warnings:?}");
        assert!(d.values.to_f32().iter().all(|v| v.is_finite()));
    }

    #[test]
    fn empty_files_and_missing_files_are_errors() {
        for (name, text) in [
            ("empty.csv", ""),
            ("blank.csv", "\n  \n,,\n"),
            ("onlyheader.csv", "label,a,b\n"),
        ] {
            let e = err(name, text, &CsvOptions::default());
            assert!(e.starts_with("no series in ") && e.ends_with(name), "{e}");
        }
        let missing = std::env::temp_dir().join("latentlab-csv-does-not-exist.csv");
        let e = read(&missing, &CsvOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("cannot read ") && e.contains("does-not-exist"),
            "{e}"
        );
    }

    #[test]
    fn z_normalisation_gives_zero_mean_unit_std() {
        let opts = CsvOptions {
            znorm: true,
            ..CsvOptions::default()
        };
        let (d, _) = ok("z.csv", "1,10,12,15,11,30\n2,5,5,5,5,5\n1,1,2\n", &opts);
        for i in [0, 2] {
            let s = d.sample(i);
            let mean = s.iter().sum::<f32>() / s.len() as f32;
            let var = s.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / s.len() as f32;
            assert!(mean.abs() < 1e-5, "{mean}");
            assert!((var.sqrt() - 1.0).abs() < 1e-5, "{var}");
        }
        assert_eq!(*d.sample(1), [0.0; 5]);
    }

    #[test]
    fn test_file_matches_the_training_file() {
        let opts = CsvOptions::default();
        let train_path = file("train.csv", "1,0,1,2,3\n2,3,2,1,0\n");
        let (train, _) = read(&train_path, &opts).unwrap();
        let test_path = file("test.csv", "2.0,0,6\n1,1,1,1,1\n");
        let (test, warnings) = read_matching(&test_path, &opts, &train).unwrap();
        assert_eq!(steps(&test), 4);
        assert_eq!(test.labels, Some(vec![1, 0]));
        assert_eq!(test.class_names, train.class_names);
        assert_eq!(*test.sample(0), [0.0, 2.0, 4.0, 6.0]);
        assert!(warnings[0].contains("1 of 2 series"), "{warnings:?}");
        let unseen = file("unseen.csv", "1,0,1,2,3\n\n3,0,0,0,0\n");
        let e = read_matching(&unseen, &opts, &train)
            .unwrap_err()
            .to_string();
        assert!(e.contains("unseen.csv:3: label \"3\""), "{e}");
        for p in [train_path, test_path, unseen] {
            let _ = std::fs::remove_file(p);
        }
    }

    #[test]
    fn unparseable_bytes_do_not_panic() {
        let path = file("binary.csv", "");
        std::fs::write(&path, [0xff, 0xfe, 0x00, b',', b'1']).unwrap();
        assert!(read(&path, &CsvOptions::default()).is_err());
        let _ = std::fs::remove_file(&path);
        for text in [
            "\u{feff}1,2,3\n",
            ",,1\n",
            "1\n",
            "\"\n",
            "1,\"\"\n",
            "x\ty,z\n1\t2\t3\n",
        ] {
            let _ = read_text("odd.csv", text, &CsvOptions::default());
        }
    }
}
