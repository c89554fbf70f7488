//! The IDX file format (MNIST's): a big-endian header, then raw `u8` values.
//!
//! Reads gzip-compressed or raw files, from disk or from bytes embedded in the binary.
//! Owns nothing but parsing; it never touches tensors.

use std::io::Read;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// An error reading an IDX file. Every variant names the file it came from.
#[derive(Debug, Error)]
pub enum IdxError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is empty")]
    Empty { path: PathBuf },
    #[error("{path} is not a valid gzip stream (truncated or corrupt): {source}")]
    Gzip {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} has magic number 0x{magic:08x}, expected an unsigned-byte IDX file (0x00000801 labels or 0x00000803 images)"
    )]
    Magic { path: PathBuf, magic: u32 },
    #[error("{path}: {what}")]
    Header { path: PathBuf, what: String },
    #[error(
        "{path}: header promises {dims:?} values ({bytes} bytes), more than the limit of {limit} bytes; refused before reading (raise it with --max-data-mb if the data is real)"
    )]
    TooLarge {
        path: PathBuf,
        dims: Vec<usize>,
        bytes: usize,
        limit: usize,
    },
    #[error("{path}: header promises {expected} bytes of data but the file holds {actual}")]
    Truncated {
        path: PathBuf,
        expected: usize,
        actual: usize,
    },
}

/// One parsed IDX file: its dimensions and its `u8` payload (row-major).
#[derive(Debug, Clone)]
pub struct IdxArray {
    /// Dimensions from the header, e.g. `[N, 28, 28]` for images or `[N]` for labels.
    pub dims: Vec<usize>,
    pub data: Vec<u8>,
}

/// Reads an IDX file from disk, gzip or raw (detected by the gzip magic bytes).
/// Streams the file: nothing past the header is read when the header promises too much.
pub fn read_file(path: &Path) -> Result<IdxArray, IdxError> {
    let io = |source| IdxError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    read_any(std::io::BufReader::new(file), path)
}

/// Parses IDX bytes, gzip or raw; `path` only labels errors.
///
/// The header is read first and the data it promises is checked against
/// [`super::max_data_bytes`] before any of it is decompressed, so a small gzip file claiming
/// millions of images (a decompression bomb) is refused at once; the data is then read up to
/// exactly what the header promised.
pub fn parse(bytes: &[u8], path: &Path) -> Result<IdxArray, IdxError> {
    read_any(bytes, path)
}

/// An IDX stream, gzip or raw (told by the gzip magic bytes at its start).
fn read_any(mut r: impl std::io::BufRead, path: &Path) -> Result<IdxArray, IdxError> {
    let head = r.fill_buf().map_err(|source| IdxError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if head.is_empty() {
        return Err(IdxError::Empty {
            path: path.to_path_buf(),
        });
    }
    if head.starts_with(&[0x1f, 0x8b]) {
        read_from(flate2::bufread::GzDecoder::new(r), path, true)
    } else {
        read_from(r, path, false)
    }
}

/// Reads up to `n` bytes (fewer only at the end of the stream); a failure is the gzip
/// stream's when `gz`.
fn read_up_to(r: &mut impl Read, n: usize, path: &Path, gz: bool) -> Result<Vec<u8>, IdxError> {
    let mut out = Vec::with_capacity(n.min(1 << 26));
    r.take(n as u64).read_to_end(&mut out).map_err(|source| {
        let path = path.to_path_buf();
        if gz {
            IdxError::Gzip { path, source }
        } else {
            IdxError::Io { path, source }
        }
    })?;
    Ok(out)
}

fn read_from(mut r: impl Read, path: &Path, gz: bool) -> Result<IdxArray, IdxError> {
    let path_buf = || path.to_path_buf();
    let head = read_up_to(&mut r, 4, path, gz)?;
    if head.len() < 4 {
        return Err(IdxError::Header {
            path: path_buf(),
            what: format!("only {} bytes, too short for an IDX header", head.len()),
        });
    }
    let magic = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
    // Magic: two zero bytes, a type code (0x08 = unsigned byte), and the number of dimensions.
    let ndims = (magic & 0xff) as usize;
    if magic >> 8 != 0x08 || ndims == 0 || ndims > 4 {
        return Err(IdxError::Magic {
            path: path_buf(),
            magic,
        });
    }
    let header_len = 4 + 4 * ndims;
    let sizes = read_up_to(&mut r, 4 * ndims, path, gz)?;
    if sizes.len() < 4 * ndims {
        return Err(IdxError::Header {
            path: path_buf(),
            what: format!(
                "header needs {header_len} bytes for {ndims} dimensions, file has {}",
                4 + sizes.len()
            ),
        });
    }
    let dims: Vec<usize> = sizes
        .chunks_exact(4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .collect();
    let expected = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| IdxError::Header {
            path: path_buf(),
            what: format!("dimensions {dims:?} overflow"),
        })?;
    let limit = super::max_data_bytes();
    if expected > limit {
        return Err(IdxError::TooLarge {
            path: path_buf(),
            dims,
            bytes: expected,
            limit,
        });
    }
    let data = read_up_to(&mut r, expected, path, gz)?;
    if data.len() < expected {
        return Err(IdxError::Truncated {
            path: path_buf(),
            expected,
            actual: data.len(),
        });
    }
    Ok(IdxArray { dims, data })
}

/// Writes an IDX array (raw, not gzipped). Used by tests and tools that make fixtures.
pub fn encode(dims: &[usize], data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + 4 * dims.len() + data.len());
    out.extend_from_slice(&[0, 0, 0x08, dims.len() as u8]);
    for &d in dims {
        out.extend_from_slice(&(d as u32).to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("x.idx")
    }

    #[test]
    fn round_trip_raw_and_gzip() {
        let bytes = encode(&[2, 2, 3], &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        let a = parse(&bytes, p()).unwrap();
        assert_eq!(a.dims, vec![2, 2, 3]);
        assert_eq!(a.data[11], 12);

        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &bytes).unwrap();
        let a = parse(&gz.finish().unwrap(), p()).unwrap();
        assert_eq!(a.dims, vec![2, 2, 3]);
    }

    #[test]
    fn rejects_bad_inputs_with_the_file_name() {
        let e = parse(&[], p()).unwrap_err().to_string();
        assert!(e.contains("x.idx") && e.contains("empty"), "{e}");
        let e = parse(&[0, 0, 9, 1, 0, 0, 0, 1, 0], p())
            .unwrap_err()
            .to_string();
        assert!(e.contains("magic"), "{e}");
        let e = parse(&encode(&[5], &[1, 2]), p()).unwrap_err().to_string();
        assert!(
            e.contains("promises 5 bytes") && e.contains("holds 2"),
            "{e}"
        );
        // A gzip stream cut in half.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &encode(&[100], &[7; 100])).unwrap();
        let full = gz.finish().unwrap();
        let e = parse(&full[..full.len() / 2], p()).unwrap_err().to_string();
        assert!(e.contains("gzip"), "{e}");
    }

    /// A decompression bomb: a small gzip file whose header promises 3 000 000 images of 28×28
    /// (2.35 GB; the whole file would inflate to that). Refused from its header, naming the
    /// limit and the flag that raises it, after reading 16 bytes of it; and even under a limit
    /// raised past it, the short stream is an error, read no further than it goes.
    #[test]
    fn a_header_promising_more_than_the_limit_is_refused_before_reading() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let header = encode(&[3_000_000, 28, 28], &[]);
        std::io::Write::write_all(&mut gz, &header).unwrap();
        std::io::Write::write_all(&mut gz, &vec![0u8; 50 << 20]).unwrap();
        let bomb = gz.finish().unwrap();
        assert!(bomb.len() < 1 << 20, "{} bytes", bomb.len());
        let e = parse(&bomb, p()).unwrap_err().to_string();
        assert!(
            e.contains("x.idx")
                && e.contains("2352000000 bytes")
                && e.contains("--max-data-mb")
                && e.contains(&super::super::max_data_bytes().to_string()),
            "{e}"
        );
        // The reader stops at the header: counted through a reader that records what it gave.
        struct Counting<'a>(&'a [u8], usize);
        impl Read for Counting<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = self.0.read(buf)?;
                self.1 += n;
                Ok(n)
            }
        }
        let mut raw = header.clone();
        raw.extend(vec![0u8; 1 << 20]);
        let mut counting = Counting(&raw, 0);
        assert!(matches!(
            read_from(&mut counting, p(), false),
            Err(IdxError::TooLarge { .. })
        ));
        assert!(counting.1 <= 16 + 8192, "read {} bytes", counting.1);
    }
}
