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
pub fn read_file(path: &Path) -> Result<IdxArray, IdxError> {
    let bytes = std::fs::read(path).map_err(|source| IdxError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&bytes, path)
}

/// Parses IDX bytes, gzip or raw; `path` only labels errors.
pub fn parse(bytes: &[u8], path: &Path) -> Result<IdxArray, IdxError> {
    let path_buf = || path.to_path_buf();
    if bytes.is_empty() {
        return Err(IdxError::Empty { path: path_buf() });
    }
    let raw;
    let body: &[u8] = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::with_capacity(bytes.len() * 4);
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut out)
            .map_err(|source| IdxError::Gzip {
                path: path_buf(),
                source,
            })?;
        raw = out;
        &raw
    } else {
        bytes
    };
    if body.len() < 4 {
        return Err(IdxError::Header {
            path: path_buf(),
            what: format!("only {} bytes, too short for an IDX header", body.len()),
        });
    }
    let magic = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
    // Magic: two zero bytes, a type code (0x08 = unsigned byte), and the number of dimensions.
    let ndims = (magic & 0xff) as usize;
    if magic >> 8 != 0x08 || ndims == 0 || ndims > 4 {
        return Err(IdxError::Magic {
            path: path_buf(),
            magic,
        });
    }
    let header_len = 4 + 4 * ndims;
    if body.len() < header_len {
        return Err(IdxError::Header {
            path: path_buf(),
            what: format!(
                "header needs {header_len} bytes for {ndims} dimensions, file has {}",
                body.len()
            ),
        });
    }
    let dims: Vec<usize> = (0..ndims)
        .map(|i| {
            let o = 4 + 4 * i;
            u32::from_be_bytes([body[o], body[o + 1], body[o + 2], body[o + 3]]) as usize
        })
        .collect();
    let expected = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| IdxError::Header {
            path: path_buf(),
            what: format!("dimensions {dims:?} overflow"),
        })?;
    let actual = body.len() - header_len;
    if actual < expected {
        return Err(IdxError::Truncated {
            path: path_buf(),
            expected,
            actual,
        });
    }
    Ok(IdxArray {
        dims,
        data: body[header_len..header_len + expected].to_vec(),
    })
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
}
