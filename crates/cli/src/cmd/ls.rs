use super::fsview::{self, FsChoice};
use anyhow::Result;
use spindle_fs::{FileKind, FileSystem, NodeId, resolve};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The image.
    image: PathBuf,
    /// A path inside the image (default: the root).
    #[arg(default_value = "/")]
    path: String,
    /// Long listing: mode, links, owner, size, time, symlink target.
    #[arg(short = 'l')]
    long: bool,
    /// List subdirectories recursively.
    #[arg(short = 'R')]
    recursive: bool,
    /// Which filesystem view to read.
    #[arg(long = "fs", value_enum)]
    fs: Option<FsChoice>,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let fs = fsview::open(&a.image, a.fs)?;
    let node = resolve(fs.as_ref(), &a.path)?;
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out.lock());
    let meta = fs.metadata(node)?;
    if meta.kind != FileKind::Dir {
        let name = a.path.rsplit('/').find(|s| !s.is_empty()).unwrap_or("/").to_string();
        Lines::default().line(&mut out, fs.as_ref(), node, &name, a.long)?;
    } else {
        list(
            &mut out,
            &mut Lines::default(),
            fs.as_ref(),
            node,
            &a.path,
            a.long,
            a.recursive,
            true,
        )?;
    }
    out.flush()?;
    drop(out);
    // The process ends here: leave the reader's caches to the OS instead of freeing them one
    // by one (measurable on trees of 100,000 entries).
    std::mem::forget(fs);
    Ok(ExitCode::SUCCESS)
}

/// Formats listing lines, remembering the last time string (most entries of a tree share
/// a few timestamps).
#[derive(Default)]
struct Lines {
    last_time: Option<(i64, String)>,
}

impl Lines {
    fn line(&mut self, out: &mut impl Write, fs: &dyn FileSystem, node: NodeId, name: &str, long: bool) -> Result<()> {
        if !long {
            out.write_all(name.as_bytes())?;
            out.write_all(b"\n")?;
            return Ok(());
        }
        let m = fs.metadata(node)?;
        let minute = m.mtime.secs.div_euclid(60);
        if self.last_time.as_ref().is_none_or(|(k, _)| *k != minute) {
            self.last_time = Some((minute, fsview::time_string(m.mtime)));
        }
        let time = &self.last_time.as_ref().expect("just set").1;
        let mut l = Vec::with_capacity(64 + name.len());
        l.extend_from_slice(&fsview::mode_bytes(&m));
        for (v, width) in [(m.nlink as u64, 3), (m.uid as u64, 5), (m.gid as u64, 5), (m.size, 12)] {
            l.push(b' ');
            push_right(&mut l, v, width);
        }
        l.push(b' ');
        l.extend_from_slice(time.as_bytes());
        l.push(b' ');
        l.extend_from_slice(name.as_bytes());
        out.write_all(&l)?;
        if m.kind == FileKind::Symlink {
            write!(out, " -> {}", fs.read_link(node)?)?;
        }
        out.write_all(b"\n")?;
        Ok(())
    }
}

/// Appends `v` in decimal, right-aligned in `width` columns (what `{:>width$}` does, without
/// the formatting machinery: this runs once per column per entry).
fn push_right(out: &mut Vec<u8>, mut v: u64, width: usize) {
    let mut digits = [0u8; 20];
    let mut n = 0;
    loop {
        digits[19 - n] = b'0' + (v % 10) as u8;
        n += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend(std::iter::repeat_n(b' ', width.saturating_sub(n)));
    out.extend_from_slice(&digits[20 - n..]);
}

#[allow(clippy::too_many_arguments)]
fn list(
    out: &mut impl Write,
    lines: &mut Lines,
    fs: &dyn FileSystem,
    dir: NodeId,
    path: &str,
    long: bool,
    recursive: bool,
    first: bool,
) -> Result<()> {
    let mut entries = fs.read_dir(dir)?;
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    if recursive {
        if !first {
            writeln!(out)?;
        }
        writeln!(out, "{path}:")?;
    }
    for e in &entries {
        lines.line(out, fs, e.node, &e.name, long)?;
    }
    if recursive {
        for e in entries.iter().filter(|e| e.kind == FileKind::Dir) {
            let sub = format!("{}/{}", path.trim_end_matches('/'), e.name);
            list(out, lines, fs, e.node, &sub, long, recursive, false)?;
        }
    }
    Ok(())
}
