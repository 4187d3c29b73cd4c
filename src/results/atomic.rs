//! Whole-file writes that never leave a partial file behind: the bytes go to
//! a temporary file in the target's folder, are synced, and the temporary
//! file is renamed over the target (then the folder is synced, so the rename
//! itself survives a crash). A full disk or any other error leaves an earlier
//! complete file as it was, removes the temporary file, and names the file.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A whole file that could not be written; the message names it, because a
/// results folder holds a dozen files and "No space left on device" alone
/// does not say which one is now missing or stale.
#[derive(Debug, thiserror::Error)]
#[error("writing {}: {source}", path.display())]
pub struct WriteError {
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

/// Replaces `path` with exactly `bytes`, or leaves it as it was.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    write_atomic_with(path, bytes, |mut file, bytes| file.write_all(bytes))
}

/// [`write_atomic`] with the temporary file filled by `fill`, so a test can
/// make the write fail part-way, the way a full disk does.
fn write_atomic_with(
    path: &Path,
    bytes: &[u8],
    fill: impl FnOnce(&File, &[u8]) -> io::Result<()>,
) -> Result<(), WriteError> {
    let named = |source: io::Error| WriteError {
        path: path.to_path_buf(),
        source,
    };
    let temporary = temporary_path(path).map_err(named)?;
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temporary)
        .map_err(named)?;
    let written = fill(&file, bytes).and_then(|()| file.sync_all());
    drop(file);
    if let Err(e) = written.and_then(|()| std::fs::rename(&temporary, path)) {
        let _ = std::fs::remove_file(&temporary);
        return Err(named(e));
    }
    sync_folder(path).map_err(named)
}

/// `.<name>.tmp-<pid>-<n>` beside the target: same file system, so the
/// rename is atomic; unique per process and write, so two writers never
/// share one.
fn temporary_path(path: &Path) -> io::Result<PathBuf> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?;
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let mut temporary = std::ffi::OsString::from(".");
    temporary.push(name);
    temporary.push(format!(".tmp-{}-{n}", std::process::id()));
    Ok(path.with_file_name(temporary))
}

/// Makes the rename durable: on Unix a rename is only on disk once its
/// folder is synced.
#[cfg(unix)]
fn sync_folder(path: &Path) -> io::Result<()> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(folder)?.sync_all()
}

#[cfg(not(unix))]
fn sync_folder(_path: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes the first `room` bytes, then fails as a full disk does.
    fn disk_full_after(room: usize) -> impl FnOnce(&File, &[u8]) -> io::Result<()> {
        move |mut file, bytes| {
            file.write_all(&bytes[..room.min(bytes.len())])?;
            Err(io::Error::from_raw_os_error(28)) // ENOSPC
        }
    }

    fn folder_entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn replaces_the_file_with_exactly_the_new_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.json");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second, longer").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second, longer");
        assert_eq!(folder_entries(dir.path()), ["summary.json"]);
    }

    #[test]
    fn a_write_cut_by_a_full_disk_leaves_the_complete_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.json");
        let complete = vec![b'a'; 20_000];
        write_atomic(&path, &complete).unwrap();

        let err = write_atomic_with(&path, &[b'b'; 30_000], disk_full_after(8192)).unwrap_err();
        assert_eq!(err.path, path);
        assert_eq!(err.source.raw_os_error(), Some(28));
        let message = err.to_string();
        assert!(
            message.starts_with(&format!("writing {}: ", path.display())),
            "{message}"
        );
        assert!(message.contains("No space left on device"), "{message}");
        assert_eq!(std::fs::read(&path).unwrap(), complete);
        assert_eq!(folder_entries(dir.path()), ["summary.json"]);
    }

    #[test]
    fn a_failed_first_write_leaves_no_file_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("availability.png");
        write_atomic_with(&path, &[0; 100], disk_full_after(10)).unwrap_err();
        assert!(folder_entries(dir.path()).is_empty());
    }

    #[test]
    fn a_folder_that_does_not_exist_is_named_in_the_error() {
        let path = Path::new("/nonexistent/meshdrill/report.html");
        let err = write_atomic(path, b"x").unwrap_err();
        assert_eq!(err.source.kind(), io::ErrorKind::NotFound);
        assert_eq!(
            err.to_string(),
            format!("writing /nonexistent/meshdrill/report.html: {}", err.source)
        );
    }
}
