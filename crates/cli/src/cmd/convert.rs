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
    /// Output format: iso or cue.
    #[arg(long)]
    format: Option<String>,
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
