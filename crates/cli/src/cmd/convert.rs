use crate::progress;
use anyhow::{Context, Result};
use spindle_image::ConvertOptions;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The image to read.
    input: PathBuf,
    /// The image to write; its extension picks the format (.iso, .cue) unless --format is given.
    output: PathBuf,
    /// Output format: iso, cue, mds (MDS v1 + MDF) or mdx.
    #[arg(long)]
    format: Option<String>,
    /// Encrypt the output with this password (MDX).
    #[arg(long, value_name = "PASSWORD")]
    encrypt: Option<String>,
    /// Store MDX track data uncompressed.
    #[arg(long)]
    uncompressed: bool,
    /// Keep only the first data track when the target cannot hold audio tracks or sessions.
    #[arg(long)]
    data_only: bool,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let disc = super::open(&a.input)?;
    let bar = progress::bytes("converting");
    let opts = ConvertOptions {
        format: a.format,
        data_only: a.data_only,
        write: spindle_image::WriteOptions {
            password: a.encrypt,
            uncompressed: a.uncompressed,
        },
    };
    let outcome = spindle_image::convert(&disc, &a.output, &opts, &mut progress::updater(&bar))
        .with_context(|| format!("converting {} to {}", a.input.display(), a.output.display()))?;
    bar.finish_and_clear();
    for w in &outcome.warnings {
        eprintln!("spindle: warning: {w}");
    }
    for f in &outcome.files {
        println!("wrote {}", f.display());
    }
    Ok(ExitCode::SUCCESS)
}
