//! Debian's stock kernel: found in the cache under target/vm-kernel (or `$SPINDLE_VM_KERNEL`),
//! fetched there with scripts/vm/fetch-kernel (`apt-get download` + `dpkg -x`) when missing.

use crate::paths::{target_dir, workspace_root};
use crate::{Error, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// An unpacked kernel package: the kernel image and its module tree.
#[derive(Debug, Clone)]
pub struct Kernel {
    /// The kernel release (`6.1.0-57-amd64`).
    pub release: String,
    /// `boot/vmlinuz-<release>`.
    pub vmlinuz: PathBuf,
    /// `lib/modules/<release>`.
    pub modules: PathBuf,
}

impl Kernel {
    /// The kernel to boot: `$SPINDLE_VM_KERNEL` (a folder with `boot/` and `lib/modules/`, as
    /// `dpkg -x` leaves it) when set, else the newest one cached in target/vm-kernel, else the
    /// package `linux-image-amd64` depends on, fetched into that cache now.
    pub fn get() -> Result<Kernel> {
        if let Some(dir) = std::env::var_os("SPINDLE_VM_KERNEL").filter(|v| !v.is_empty()) {
            return Kernel::from_dir(Path::new(&dir));
        }
        let cache = Kernel::cache_dir();
        // One fetch at a time within this process; the script locks against other processes.
        static FETCH: Mutex<()> = Mutex::new(());
        let _guard = FETCH.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(k) = Kernel::cached(&cache) {
            return Ok(k);
        }
        let script = workspace_root().join("scripts/vm/fetch-kernel");
        let out = Command::new("bash")
            .arg(&script)
            .arg(&cache)
            .output()
            .map_err(|e| Error::Kernel(format!("cannot run {}: {e}", script.display())))?;
        if !out.status.success() {
            return Err(Error::Kernel(format!(
                "{} {} failed ({}): {}",
                script.display(),
                cache.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
        Kernel::from_dir(Path::new(&dir))
    }

    /// Where fetched kernels are kept: `<target>/vm-kernel/<release>/`.
    pub fn cache_dir() -> PathBuf {
        target_dir().join("vm-kernel")
    }

    fn cached(cache: &Path) -> Option<Kernel> {
        let mut found: Vec<Kernel> = std::fs::read_dir(cache)
            .ok()?
            .filter_map(|e| e.ok())
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .filter_map(|e| Kernel::from_dir(&e.path()).ok())
            .collect();
        found.sort_by(|a, b| natural_cmp(&a.release, &b.release));
        found.pop()
    }

    /// A kernel unpacked in `dir` (`boot/vmlinuz-*` and `lib/modules/<release>/`).
    pub fn from_dir(dir: &Path) -> Result<Kernel> {
        let boot = dir.join("boot");
        let entries = std::fs::read_dir(&boot)
            .map_err(|e| Error::Kernel(format!("{}: {e}", boot.display())))?;
        let mut releases: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                e.file_name()
                    .to_str()
                    .and_then(|n| n.strip_prefix("vmlinuz-"))
                    .map(str::to_string)
            })
            .filter(|r| dir.join("lib/modules").join(r).is_dir())
            .collect();
        releases.sort_by(|a, b| natural_cmp(a, b));
        let release = releases.pop().ok_or_else(|| {
            Error::Kernel(format!(
                "{}: no boot/vmlinuz-R with a lib/modules/R beside it",
                dir.display()
            ))
        })?;
        Ok(Kernel {
            vmlinuz: boot.join(format!("vmlinuz-{release}")),
            modules: dir.join("lib/modules").join(&release),
            release,
        })
    }
}

/// Compares version strings with their digit runs as numbers (`6.1.0-9` < `6.1.0-57`).
fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn parts(s: &str) -> Vec<(u64, String)> {
        let mut out = Vec::new();
        let mut chars = s.chars().peekable();
        while chars.peek().is_some() {
            let mut digits = String::new();
            while let Some(c) = chars.next_if(char::is_ascii_digit) {
                digits.push(c);
            }
            let mut rest = String::new();
            while let Some(c) = chars.next_if(|c| !c.is_ascii_digit()) {
                rest.push(c);
            }
            out.push((digits.parse().unwrap_or(0), rest));
        }
        out
    }
    parts(a).cmp(&parts(b))
}

#[cfg(test)]
mod tests {
    use super::natural_cmp;
    use std::cmp::Ordering;

    #[test]
    fn versions_compare_by_number() {
        assert_eq!(
            natural_cmp("6.1.0-9-amd64", "6.1.0-57-amd64"),
            Ordering::Less
        );
        assert_eq!(
            natural_cmp("6.10.0-1-amd64", "6.9.0-3-amd64"),
            Ordering::Greater
        );
        assert_eq!(
            natural_cmp("6.1.0-57-amd64", "6.1.0-57-amd64"),
            Ordering::Equal
        );
    }
}
