use super::fsview::{self, FsChoice};
use anyhow::{Context, Result, bail};
use spindle_fs::{FileKind, resolve};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The image.
    image: PathBuf,
    /// The file inside the image.
    path: String,
    /// Which filesystem view to read.
    #[arg(long = "fs", value_enum)]
    fs: Option<FsChoice>,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let fs = fsview::open(&a.image, a.fs)?;
    let node = resolve(fs.as_ref(), &a.path).with_context(|| {
        format!(
            "reading {} in {}",
            spindle_fs::short_path(&a.path),
            a.image.display()
        )
    })?;
    let m = fs.metadata(node)?;
    if m.kind == FileKind::Dir {
        bail!("{}: is a directory", spindle_fs::short_path(&a.path));
    }
    if m.kind == FileKind::Symlink {
        bail!(
            "{}: is a symbolic link to {}",
            spindle_fs::short_path(&a.path),
            fs.read_link(node)?
        );
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut buf = vec![0u8; 1 << 20];
    let mut off = 0u64;
    loop {
        let n = fs.read(node, off, &mut buf)?;
        if n == 0 {
            break;
        }
        match out.write_all(&buf[..n]) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
            r => r?,
        }
        off += n as u64;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
