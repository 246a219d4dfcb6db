use super::fsview::{self, FsChoice};
use anyhow::Context;
use anyhow::Result;
use spindle_fs::{FileKind, FileSystem, Metadata, NodeId, Subdirs, resolve, walk_tree};
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
    let in_image = || {
        format!(
            "listing {} in {}",
            spindle_fs::short_path(&a.path),
            a.image.display()
        )
    };
    let node = resolve(fs.as_ref(), &a.path).with_context(in_image)?;
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out.lock());
    let meta = fs.metadata(node)?;
    if meta.kind != FileKind::Dir {
        let name = a
            .path
            .rsplit('/')
            .find(|s| !s.is_empty())
            .unwrap_or("/")
            .to_string();
        Lines::default()
            .line(&mut out, fs.as_ref(), node, &name, a.long)
            .with_context(in_image)?;
    } else {
        list(
            &mut out,
            &mut Lines::default(),
            fs.as_ref(),
            node,
            &a.path,
            a.long,
            a.recursive,
        )
        .with_context(in_image)?;
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
    fn line(
        &mut self,
        out: &mut impl Write,
        fs: &dyn FileSystem,
        node: NodeId,
        name: &str,
        long: bool,
    ) -> Result<()> {
        if !long {
            out.write_all(name.as_bytes())?;
            out.write_all(b"\n")?;
            return Ok(());
        }
        let m = fs.metadata(node)?;
        let target = if m.kind == FileKind::Symlink {
            Some(fs.read_link(node)?)
        } else {
            None
        };
        let mut l = Vec::with_capacity(64 + name.len());
        self.format(&mut l, &m, name, target.as_deref());
        out.write_all(&l)?;
        Ok(())
    }

    /// Appends the long-listing line of an entry (newline included) to `l`.
    fn format(&mut self, l: &mut Vec<u8>, m: &Metadata, name: &str, target: Option<&str>) {
        let minute = m.mtime.secs.div_euclid(60);
        if self.last_time.as_ref().is_none_or(|(k, _)| *k != minute) {
            self.last_time = Some((minute, fsview::time_string(m.mtime)));
        }
        let time = &self.last_time.as_ref().expect("just set").1;
        l.extend_from_slice(&fsview::mode_bytes(m));
        for (v, width) in [
            (m.nlink as u64, 3),
            (m.uid as u64, 5),
            (m.gid as u64, 5),
            (m.size, 12),
        ] {
            l.push(b' ');
            push_right(l, v, width);
        }
        l.push(b' ');
        l.extend_from_slice(time.as_bytes());
        l.push(b' ');
        l.extend_from_slice(name.as_bytes());
        if let Some(t) = target {
            l.extend_from_slice(b" -> ");
            l.extend_from_slice(t.as_bytes());
        }
        l.push(b'\n');
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

/// One directory's lines, gathered before sorting: names and formatted lines in two byte
/// buffers reused from directory to directory (no allocation per entry).
#[derive(Default)]
struct DirLines {
    names: Vec<u8>,
    text: Vec<u8>,
    /// (name range, line range) of each entry.
    items: Vec<(std::ops::Range<usize>, std::ops::Range<usize>)>,
}

/// Lists `dir` (named `path`); with `recursive`, every directory below it too, each after its
/// parent, in name order. The walk is [`walk_tree`]'s: no recursion, at most
/// [`spindle_fs::MAX_DEPTH`] levels, no directory twice.
#[allow(clippy::too_many_arguments)]
fn list(
    out: &mut impl Write,
    lines: &mut Lines,
    fs: &dyn FileSystem,
    dir: NodeId,
    path: &str,
    long: bool,
    recursive: bool,
) -> Result<()> {
    let mut buf = DirLines::default();
    if !recursive {
        return list_into(
            out,
            lines,
            &mut buf,
            fs,
            dir,
            path,
            long,
            false,
            true,
            &mut Subdirs::new(),
        );
    }
    let mut first = true;
    walk_tree(fs, dir, path, &mut |path,
                                   _depth,
                                   dir,
                                   subdirs|
     -> Result<()> {
        list_into(
            out, lines, &mut buf, fs, dir, path, long, true, first, subdirs,
        )
        .with_context(|| format!("listing {}", spindle_fs::short_path(path)))?;
        first = false;
        Ok(())
    })
}

/// Lists one directory; with `recursive`, under a `path:` header, and fills `subdirs` with its
/// subdirectories in name order.
#[allow(clippy::too_many_arguments)]
fn list_into(
    out: &mut impl Write,
    lines: &mut Lines,
    buf: &mut DirLines,
    fs: &dyn FileSystem,
    dir: NodeId,
    path: &str,
    long: bool,
    recursive: bool,
    first: bool,
    subdirs: &mut Subdirs,
) -> Result<()> {
    buf.names.clear();
    buf.text.clear();
    buf.items.clear();
    fs.walk_dir(dir, &mut |e| {
        let n0 = buf.names.len();
        buf.names.extend_from_slice(e.name.as_bytes());
        let t0 = buf.text.len();
        if long {
            let target = match (e.meta.kind, e.symlink) {
                (FileKind::Symlink, Some(t)) => Some(std::borrow::Cow::Borrowed(t)),
                (FileKind::Symlink, None) => Some(std::borrow::Cow::Owned(fs.read_link(e.node)?)),
                _ => None,
            };
            lines.format(&mut buf.text, e.meta, e.name, target.as_deref());
        } else {
            buf.text.extend_from_slice(e.name.as_bytes());
            buf.text.push(b'\n');
        }
        buf.items.push((n0..buf.names.len(), t0..buf.text.len()));
        if recursive && e.meta.kind == FileKind::Dir {
            subdirs.push((e.name.to_string(), e.node));
        }
        Ok(())
    })?;
    let names = &buf.names;
    // Stable, and linear on the (usual) already sorted order.
    buf.items
        .sort_by(|a, b| names[a.0.clone()].cmp(&names[b.0.clone()]));
    if recursive {
        if !first {
            writeln!(out)?;
        }
        writeln!(out, "{path}:")?;
    }
    for (_, line) in &buf.items {
        out.write_all(&buf.text[line.clone()])?;
    }
    subdirs.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(())
}
