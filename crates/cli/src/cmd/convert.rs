//! `spindle convert IN OUT`: write an image in another format. Outputs appear only when
//! complete; Ctrl-C (SIGINT) or SIGTERM stops the writer, removes what it wrote, says so and
//! exits with 130, leaving any previous outputs as they were.

use crate::progress;
use anyhow::{Context, Result};
use spindle_image::{ConvertOptions, ImageError};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

#[derive(clap::Args)]
pub struct Args {
    /// The image to read.
    input: PathBuf,
    /// The image to write; its extension picks the format (.iso, .cue, .mds, .mdx, .ccd) unless --format is given.
    output: PathBuf,
    /// Output format: iso, cue, mds (MDS v1 + MDF), mdx or ccd.
    #[arg(long)]
    format: Option<String>,
    /// Encrypt the output with this password (MDX only; refused for other formats).
    #[arg(long, value_name = "PASSWORD")]
    encrypt: Option<String>,
    /// Store MDX track data uncompressed (MDX only; refused for other formats).
    #[arg(long)]
    uncompressed: bool,
    /// Keep only the first data track when the target cannot hold audio tracks or sessions.
    #[arg(long)]
    data_only: bool,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let disc = super::open(&a.input)?;
    let cancel = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // A second signal while stopping ends the process at once (the work folder,
        // `.spindle-convert-*` beside the output, may then stay behind).
        signal_hook::flag::register_conditional_shutdown(sig, 130, cancel.clone())?;
        signal_hook::flag::register(sig, cancel.clone())?;
    }
    let bar = progress::bytes("converting");
    let opts = ConvertOptions {
        format: a.format,
        data_only: a.data_only,
        write: spindle_image::WriteOptions {
            password: a.encrypt,
            uncompressed: a.uncompressed,
            cancel: Some(cancel),
        },
    };
    let outcome = spindle_image::convert(&disc, &a.output, &opts, &mut progress::updater(&bar));
    bar.finish_and_clear();
    let outcome = match outcome {
        Err(e @ ImageError::Cancelled { .. }) => {
            eprintln!("spindle: {e}; previous outputs were left as they were");
            return Ok(ExitCode::from(130));
        }
        other => other.with_context(|| {
            format!("converting {} to {}", a.input.display(), a.output.display())
        })?,
    };
    for w in &outcome.warnings {
        eprintln!("spindle: warning: {w}");
    }
    for f in &outcome.files {
        println!("wrote {}", f.display());
    }
    Ok(ExitCode::SUCCESS)
}
