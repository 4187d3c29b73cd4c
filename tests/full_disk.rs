//! A real full disk: a 64 KiB tmpfs (needs root and `mount`; skipped with a
//! message where either is missing). The case: a complete
//! summary.json, then a write that does not fit, must leave the complete
//! file, no temporary file, and an error naming the file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use meshdrill::results::write_atomic;

/// Unmounts the tmpfs however the test ends.
struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn tiny_tmpfs(dir: &Path) -> Option<Mounted> {
    let status = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(dir)
        .stderr(std::process::Stdio::null())
        .status();
    match status {
        Ok(s) if s.success() => Some(Mounted(dir.to_path_buf())),
        _ => {
            eprintln!("skipped: cannot mount a tmpfs here (needs root)");
            None
        }
    }
}

/// Fills the file system until it refuses a byte more (bounded by its size).
fn fill(dir: &Path) {
    let mut filler = std::fs::File::create(dir.join("filler")).unwrap();
    let block = [0u8; 4096];
    for _ in 0..64 {
        match filler.write_all(&block) {
            Ok(()) => {}
            Err(e) => {
                assert_eq!(e.raw_os_error(), Some(28), "{e}");
                return;
            }
        }
    }
    panic!("a 64 KiB tmpfs took 256 KiB");
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_full_disk_keeps_the_complete_summary_and_names_the_file() {
    let root = tempfile::tempdir().unwrap();
    let Some(_mounted) = tiny_tmpfs(root.path()) else {
        return;
    };
    let summary = root.path().join("summary.json");
    let complete = format!(
        "{{\"verdict\": \"pass\", \"pad\": \"{}\"}}",
        "x".repeat(16_000)
    );
    write_atomic(&summary, complete.as_bytes()).unwrap();
    fill(root.path());

    let larger = format!(
        "{{\"verdict\": \"fail\", \"pad\": \"{}\"}}",
        "y".repeat(30_000)
    );
    let err = write_atomic(&summary, larger.as_bytes()).unwrap_err();
    assert_eq!(err.source.raw_os_error(), Some(28), "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "writing {}: No space left on device (os error 28)",
            summary.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&summary).unwrap(), complete);
    assert_eq!(entries(root.path()), ["filler", "summary.json"]);
}
