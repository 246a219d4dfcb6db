//! The guest's root filesystem: a staging folder packed as a `newc` cpio archive with `cpio`.

use crate::{Error, Result};
use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

/// A staging folder that becomes the initramfs.
#[derive(Debug)]
pub struct Initramfs {
    root: PathBuf,
    libraries: BTreeSet<PathBuf>,
}

/// Joins a guest path (absolute or not) under `root`, refusing `..`.
fn under(root: &Path, guest: &str) -> Result<PathBuf> {
    let rel = Path::new(guest.trim_start_matches('/'));
    if rel.as_os_str().is_empty() || rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Err(Error::io(
            guest,
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a plain guest path"),
        ));
    }
    Ok(root.join(rel))
}

impl Initramfs {
    /// A fresh (emptied) staging folder at `root`.
    pub fn new(root: &Path) -> Result<Initramfs> {
        if root.exists() {
            std::fs::remove_dir_all(root).map_err(|e| Error::io(root, e))?;
        }
        std::fs::create_dir_all(root).map_err(|e| Error::io(root, e))?;
        Ok(Initramfs {
            root: root.to_path_buf(),
            libraries: BTreeSet::new(),
        })
    }

    /// The staging folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn prepare(&self, guest: &str) -> Result<PathBuf> {
        let dest = under(&self.root, guest)?;
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        Ok(dest)
    }

    /// Makes folder `guest`.
    pub fn dir(&mut self, guest: &str) -> Result<()> {
        let dest = under(&self.root, guest)?;
        std::fs::create_dir_all(&dest).map_err(|e| Error::io(&dest, e))
    }

    /// Writes `bytes` to `guest` with permission bits `mode`.
    pub fn bytes(&mut self, guest: &str, bytes: &[u8], mode: u32) -> Result<()> {
        let dest = self.prepare(guest)?;
        std::fs::write(&dest, bytes).map_err(|e| Error::io(&dest, e))?;
        std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(mode))
            .map_err(|e| Error::io(&dest, e))
    }

    /// Copies host file `host` (following symlinks) to `guest`, keeping its permission bits.
    pub fn file(&mut self, host: &Path, guest: &str) -> Result<()> {
        let dest = self.prepare(guest)?;
        if dest.exists() {
            std::fs::remove_file(&dest).map_err(|e| Error::io(&dest, e))?;
        }
        // A hard link costs nothing for big data files; copy across filesystems or when the
        // source is not ours to link. Link the file a symlink names, not the symlink.
        let host = &std::fs::canonicalize(host).map_err(|e| Error::io(host, e))?;
        if std::fs::hard_link(host, &dest).is_err() {
            std::fs::copy(host, &dest).map_err(|e| Error::io(host, e))?;
        }
        Ok(())
    }

    /// Copies executable `host` to `guest` without its debug sections (`strip --strip-debug`
    /// when `strip` exists), with the shared libraries `ldd` lists at their host paths.
    pub fn binary(&mut self, host: &Path, guest: &str) -> Result<()> {
        let dest = self.prepare(guest)?;
        let stripped = Command::new("strip")
            .arg("--strip-debug")
            .arg("-o")
            .arg(&dest)
            .arg(host)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !stripped {
            std::fs::copy(host, &dest).map_err(|e| Error::io(host, e))?;
        }
        std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| Error::io(&dest, e))?;
        for lib in shared_libraries(host)? {
            if self.libraries.insert(lib.clone()) {
                let guest_lib = lib.to_string_lossy().into_owned();
                self.file(&lib, &guest_lib)?;
            }
        }
        Ok(())
    }

    /// Packs the staging folder into an uncompressed `newc` archive at `out` (the kernel
    /// unpacks it as is; skipping gzip saves seconds per test for a large debug binary).
    pub fn pack(&self, out: &Path) -> Result<()> {
        let list = Command::new("find")
            .arg(".")
            .current_dir(&self.root)
            .output()
            .map_err(|e| Error::Command {
                command: "find".into(),
                detail: e.to_string(),
            })?;
        if !list.status.success() {
            return Err(Error::Command {
                command: format!("find {}", self.root.display()),
                detail: list.status.to_string(),
            });
        }
        let file = std::fs::File::create(out).map_err(|e| Error::io(out, e))?;
        let mut child = Command::new("cpio")
            .args(["--quiet", "-o", "-H", "newc", "-R", "0:0"])
            .current_dir(&self.root)
            .stdin(Stdio::piped())
            .stdout(file)
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => Error::MissingTool {
                    tool: "cpio".into(),
                    hint: "apt-get install cpio (scripts/setup installs it)".into(),
                },
                _ => Error::Command {
                    command: "cpio".into(),
                    detail: e.to_string(),
                },
            })?;
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().expect("piped stdin");
            stdin.write_all(&list.stdout).map_err(|e| Error::Command {
                command: "cpio".into(),
                detail: e.to_string(),
            })?;
        }
        let out = child.wait_with_output().map_err(|e| Error::Command {
            command: "cpio".into(),
            detail: e.to_string(),
        })?;
        if !out.status.success() {
            return Err(Error::Command {
                command: "cpio -o -H newc".into(),
                detail: format!(
                    "{}: {}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
            });
        }
        Ok(())
    }
}

/// The shared libraries (and the dynamic loader) `ldd` lists for `binary`; none for a static one.
pub fn shared_libraries(binary: &Path) -> Result<Vec<PathBuf>> {
    let out = Command::new("ldd")
        .arg(binary)
        .output()
        .map_err(|e| Error::Command {
            command: "ldd".into(),
            detail: e.to_string(),
        })?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        // "not a dynamic executable" (a static binary) is the only failure we accept.
        let err = String::from_utf8_lossy(&out.stderr);
        if text.contains("not a dynamic executable") || err.contains("not a dynamic executable") {
            return Ok(Vec::new());
        }
        return Err(Error::Command {
            command: format!("ldd {}", binary.display()),
            detail: err.trim().to_string(),
        });
    }
    let mut libs = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.contains("not found") {
            return Err(Error::Command {
                command: format!("ldd {}", binary.display()),
                detail: format!("missing library: {line}"),
            });
        }
        // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)".
        let path = match line.split_once("=>") {
            Some((_, rest)) => rest.split_whitespace().next(),
            None => line.split_whitespace().next(),
        };
        if let Some(p) = path.filter(|p| p.starts_with('/')) {
            libs.push(PathBuf::from(p));
        }
    }
    Ok(libs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_paths_stay_inside() {
        let root = Path::new("/stage");
        assert_eq!(
            under(root, "/bin/spindle").unwrap(),
            Path::new("/stage/bin/spindle")
        );
        assert!(under(root, "/../etc/passwd").is_err());
        assert!(under(root, "/").is_err());
    }

    #[test]
    fn ldd_lists_the_loader_and_libc() {
        let libs = shared_libraries(Path::new("/bin/sh")).unwrap();
        assert!(
            libs.iter()
                .any(|l| l.to_string_lossy().contains("ld-linux")),
            "{libs:?}"
        );
        assert!(
            libs.iter().any(|l| l.to_string_lossy().contains("libc.so")),
            "{libs:?}"
        );
    }
}
