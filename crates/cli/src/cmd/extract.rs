//! `spindle extract`: copies files out of an image, keeping modes, times, symlinks and hard
//! links. The work is done by `spindle-extract`, which creates everything relative to
//! directory descriptors it opened itself, so no name or link in the image reaches outside
//! the output folder; files appear only when complete. Ctrl-C (SIGINT) or SIGTERM removes
//! the unfinished files, says which, and exits 130; a second signal ends it at once.

use super::fsview::{self, FsChoice};
use anyhow::Result;
use spindle_extract::{Error, Options, Report, name::Shown};
use spindle_fs::resolve;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

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
    /// Replace files and symbolic links already in the output folder (the names are
    /// replaced; nothing is written through a link or into an existing file).
    #[arg(long)]
    overwrite: bool,
    /// Keep setuid, setgid and sticky bits (dropped by default).
    #[arg(long = "keep-special-bits")]
    keep_special_bits: bool,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let fs = fsview::open(&a.image, a.fs)?;
    let node = resolve(fs.as_ref(), &a.path)?;
    let name = a.path.rsplit('/').find(|s| !s.is_empty()).unwrap_or("file");
    let cancel = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // A second signal while stopping ends the process at once.
        signal_hook::flag::register_conditional_shutdown(sig, 130, cancel.clone())?;
        signal_hook::flag::register(sig, cancel.clone())?;
    }
    let opts = Options {
        overwrite: a.overwrite,
        keep_special_bits: a.keep_special_bits,
        umask: caller_umask(),
        ..Options::default()
    };
    let warn = |w: &str| eprintln!("spindle: warning: {w}");
    let report =
        spindle_extract::extract(fs.as_ref(), node, name, &a.output, &opts, &cancel, &warn);
    // The process ends here: leave the reader's caches to the OS.
    std::mem::forget(fs);
    finish(report, &a.output)
}

/// Prints the summary (and, after a stop, what was removed); the exit status.
fn finish(r: Report, output: &Path) -> Result<ExitCode> {
    let s = &r.stats;
    let mut notes = Vec::new();
    if s.skipped > 0 {
        notes.push(format!("skipped {} (see the warnings)", s.skipped));
    }
    if s.special > 0 {
        notes.push(format!(
            "{} device nodes, FIFOs or sockets not created",
            s.special
        ));
    }
    if s.bits_dropped > 0 {
        notes.push(format!(
            "setuid/setgid/sticky bits dropped from {} (--keep-special-bits keeps them)",
            s.bits_dropped
        ));
    }
    let done = format!(
        "{} files ({} bytes), {} directories, {} symlinks, {} hard links",
        s.files, s.bytes, s.dirs, s.symlinks, s.hardlinks
    );
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!("; {}", notes.join("; "))
    };
    match r.result {
        Ok(()) => {
            eprintln!("extracted {done} to {}{notes}", Shown(output));
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            for p in &r.removed {
                eprintln!("spindle: removed the unfinished {}", Shown(p));
            }
            if s.files + s.dirs + s.symlinks + s.hardlinks > 0 {
                eprintln!(
                    "spindle: completed before stopping: {done} in {}{notes}",
                    Shown(output)
                );
            }
            if matches!(e, Error::Interrupted) {
                eprintln!("spindle: interrupted");
                return Ok(ExitCode::from(130));
            }
            Err(e.into())
        }
    }
}

/// The umask extract applies to the image's modes: the process's for an ordinary user (as
/// tar does), none for root (who gets the image's modes, as with `tar -p`).
fn caller_umask() -> u32 {
    if rustix::process::geteuid().is_root() {
        return 0;
    }
    // Linux 4.7+ shows it without changing it (umask(2) can only be read by setting it).
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Umask:"))
                .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        })
        .unwrap_or(0o022)
}
