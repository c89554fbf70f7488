//! Atomic file writes: a temporary file beside the target, flushed, then renamed over it and
//! the folder synced, so a crash or a full disk never leaves a half-written file where a good
//! one was.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

/// Writes `bytes` to `path` atomically, creating parent folders.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_atomic_with(path, |f| f.write_all(bytes))
}

/// [`write_atomic`] with the writing itself given: `write` fills the temporary file. Tests
/// pass one that fails part-way, as a full disk does.
fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create folder {}", dir.display()))?;
    let name = path
        .file_name()
        .with_context(|| format!("{} is not a file path", path.display()))?;
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        write(&mut f)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        // The rename is durable once the folder is synced, so files written one after another
        // reach the disk in that order (a checkpoint's weights before its description).
        #[cfg(unix)]
        std::fs::File::open(dir)?.sync_all()?;
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write {}", path.display()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_files_and_leaves_no_temporaries() {
        let dir = std::env::temp_dir().join(format!("ll-atomic-{}", std::process::id()));
        let path = dir.join("sub/a.txt");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.join("sub")).unwrap().collect();
        assert_eq!(names.len(), 1);
        // A target inside a path that is a file cannot be written: an error, not a panic.
        assert!(write_atomic(&path.join("x"), b"").is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// A disk that fills half-way through a write: a clear error naming the file, the file
    /// that was there is untouched and no partial file is left behind.
    #[test]
    fn a_full_disk_keeps_the_old_file_and_leaves_no_partial_one() {
        let dir = std::env::temp_dir().join(format!("ll-full-{}", std::process::id()));
        let path = dir.join("metrics.csv");
        write_atomic(&path, b"the good contents").unwrap();
        let e = write_atomic_with(&path, |f| {
            f.write_all(b"half of the new")?;
            Err(std::io::Error::new(
                std::io::ErrorKind::StorageFull,
                "No space left on device",
            ))
        })
        .unwrap_err();
        let message = format!("{e:#}");
        assert!(
            message.contains("cannot write") && message.contains("metrics.csv"),
            "{message}"
        );
        assert!(message.contains("No space left"), "{message}");
        assert_eq!(std::fs::read(&path).unwrap(), b"the good contents");
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(names.len(), 1, "only the original file");
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// A folder the process may not write into, even as root (`/sys` on Linux): the error names
    /// the path and the system's reason.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_folder_that_cannot_be_written_is_a_clear_error() {
        let path = Path::new("/sys/latentlab-test/out.png");
        let message = format!("{:#}", write_atomic(path, b"x").unwrap_err());
        assert!(message.contains("/sys/latentlab-test"), "{message}");
        assert!(!path.exists());
    }
}
