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
        line(&mut out, fs.as_ref(), node, &name, a.long)?;
    } else {
        list(&mut out, fs.as_ref(), node, &a.path, a.long, a.recursive, true)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn line(out: &mut impl Write, fs: &dyn FileSystem, node: NodeId, name: &str, long: bool) -> Result<()> {
    if !long {
        writeln!(out, "{name}")?;
        return Ok(());
    }
    let m = fs.metadata(node)?;
    let target = if m.kind == FileKind::Symlink {
        format!(" -> {}", fs.read_link(node)?)
    } else {
        String::new()
    };
    writeln!(
        out,
        "{} {:>3} {:>5} {:>5} {:>12} {} {name}{target}",
        fsview::mode_string(&m),
        m.nlink,
        m.uid,
        m.gid,
        m.size,
        fsview::time_string(m.mtime)
    )?;
    Ok(())
}

fn list(out: &mut impl Write, fs: &dyn FileSystem, dir: NodeId, path: &str, long: bool, recursive: bool, first: bool) -> Result<()> {
    let mut entries = fs.read_dir(dir)?;
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    if recursive {
        if !first {
            writeln!(out)?;
        }
        writeln!(out, "{path}:")?;
    }
    for e in &entries {
        line(out, fs, e.node, &e.name, long)?;
    }
    if recursive {
        for e in entries.iter().filter(|e| e.kind == FileKind::Dir) {
            let sub = format!("{}/{}", path.trim_end_matches('/'), e.name);
            list(out, fs, e.node, &sub, long, recursive, false)?;
        }
    }
    Ok(())
}
