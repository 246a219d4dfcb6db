//! `spindle extract`: copies files out of an image, keeping modes, times, symlinks and hard
//! links. Names from the image are never trusted as paths: an entry named `..`, `.`, or with
//! a `/` or NUL in it is skipped with a warning, so nothing lands outside the output folder.

use super::fsview::{self, FsChoice};
use anyhow::{Context, Result};
use spindle_fs::{FileKind, FileSystem, Metadata, NodeId, Time, resolve};
use std::collections::HashMap;
use std::fs::{self, File, FileTimes};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(clap::Args)]
pub struct Args {
    /// The image.
    image: PathBuf,
    /// A file or directory inside the image (default: everything).
    #[arg(default_value = "/")]
    path: String,
    /// The folder to extract into (created if missing).
    #[arg(short = 'o', long = "output")]
    output: PathBuf,
    /// Which filesystem view to read.
    #[arg(long = "fs", value_enum)]
    fs: Option<FsChoice>,
}

#[derive(Default)]
struct Stats {
    files: u64,
    dirs: u64,
    symlinks: u64,
    hardlinks: u64,
    bytes: u64,
    skipped: u64,
}

struct Extractor<'a> {
    fs: &'a dyn FileSystem,
    buf: Vec<u8>,
    /// First path extracted for each file identity, for hard links.
    links: HashMap<u64, PathBuf>,
    /// Directories whose mode and times are set once their contents are in.
    dirs: Vec<(PathBuf, Metadata)>,
    stats: Stats,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let fs = fsview::open(&a.image, a.fs)?;
    let node = resolve(fs.as_ref(), &a.path)?;
    fs::create_dir_all(&a.output).with_context(|| format!("creating {}", a.output.display()))?;
    let mut x = Extractor {
        fs: fs.as_ref(),
        buf: vec![0u8; 4 << 20],
        links: HashMap::new(),
        dirs: Vec::new(),
        stats: Stats::default(),
    };
    let meta = fs.metadata(node)?;
    if meta.kind == FileKind::Dir {
        x.dir_contents(node, &a.output)?;
        x.dirs.push((a.output.clone(), meta));
    } else {
        let name = a.path.rsplit('/').find(|s| !s.is_empty()).unwrap_or("file").to_string();
        x.entry(node, &a.output.join(name))?;
    }
    // Deepest first, so that a read-only parent is locked only after its children are in.
    for (path, meta) in x.dirs.iter().rev() {
        set_mode_and_times(path, meta)?;
    }
    let s = &x.stats;
    eprintln!(
        "extracted {} files ({} bytes), {} directories, {} symlinks, {} hard links to {}{}",
        s.files,
        s.bytes,
        s.dirs,
        s.symlinks,
        s.hardlinks,
        a.output.display(),
        if s.skipped > 0 {
            format!("; skipped {}", s.skipped)
        } else {
            String::new()
        }
    );
    Ok(ExitCode::SUCCESS)
}

fn safe_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains('/') && !name.contains('\0')
}

fn to_system(t: Time) -> SystemTime {
    if t.secs >= 0 {
        UNIX_EPOCH + Duration::new(t.secs as u64, t.nanos.min(999_999_999))
    } else {
        UNIX_EPOCH - Duration::from_secs(t.secs.unsigned_abs()) + Duration::from_nanos(t.nanos.min(999_999_999) as u64)
    }
}

fn set_mode_and_times(path: &Path, m: &Metadata) -> Result<()> {
    let f = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    f.set_times(FileTimes::new().set_accessed(to_system(m.atime)).set_modified(to_system(m.mtime)))
        .with_context(|| format!("setting times of {}", path.display()))?;
    fs::set_permissions(path, fs::Permissions::from_mode(m.mode & 0o7777))
        .with_context(|| format!("setting the mode of {}", path.display()))?;
    Ok(())
}

impl Extractor<'_> {
    fn dir_contents(&mut self, dir: NodeId, to: &Path) -> Result<()> {
        for e in self.fs.read_dir(dir)? {
            if !safe_name(&e.name) {
                eprintln!("spindle: warning: skipping an entry named {:?} in {}", e.name, to.display());
                self.stats.skipped += 1;
                continue;
            }
            self.entry(e.node, &to.join(&e.name))?;
        }
        Ok(())
    }

    fn entry(&mut self, node: NodeId, to: &Path) -> Result<()> {
        let m = self.fs.metadata(node)?;
        match m.kind {
            FileKind::Dir => {
                match fs::create_dir(to) {
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && to.is_dir() => {}
                    r => r.with_context(|| format!("creating {}", to.display()))?,
                }
                self.stats.dirs += 1;
                self.dir_contents(node, to)?;
                self.dirs.push((to.to_path_buf(), m));
            }
            FileKind::Symlink => {
                let target = self.fs.read_link(node)?;
                let _ = fs::remove_file(to);
                std::os::unix::fs::symlink(&target, to).with_context(|| format!("creating symlink {}", to.display()))?;
                self.stats.symlinks += 1;
            }
            FileKind::File => {
                if m.nlink > 1
                    && let Some(first) = self.links.get(&m.ino)
                {
                    let _ = fs::remove_file(to);
                    fs::hard_link(first, to).with_context(|| format!("linking {} to {}", to.display(), first.display()))?;
                    self.stats.hardlinks += 1;
                    return Ok(());
                }
                self.file(node, &m, to)?;
                if m.nlink > 1 {
                    self.links.insert(m.ino, to.to_path_buf());
                }
            }
            other => {
                eprintln!(
                    "spindle: warning: skipping {} ({other:?}: device nodes, FIFOs and sockets are not created)",
                    to.display()
                );
                self.stats.skipped += 1;
            }
        }
        Ok(())
    }

    fn file(&mut self, node: NodeId, m: &Metadata, to: &Path) -> Result<()> {
        let mut f = File::create(to).with_context(|| format!("creating {}", to.display()))?;
        let mut off = 0u64;
        loop {
            let n = self
                .fs
                .read(node, off, &mut self.buf)
                .with_context(|| format!("reading {}", to.display()))?;
            if n == 0 {
                break;
            }
            f.write_all(&self.buf[..n]).with_context(|| format!("writing {}", to.display()))?;
            off += n as u64;
        }
        if off < m.size {
            // A sparse tail (or a reader that stops early) still gets the recorded size.
            f.set_len(m.size)?;
        }
        drop(f);
        set_mode_and_times(to, m)?;
        self.stats.files += 1;
        self.stats.bytes += off;
        Ok(())
    }
}
