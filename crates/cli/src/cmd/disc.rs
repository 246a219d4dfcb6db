//! `spindle disc DRIVE next|prev|N|LABEL`: change the disc of a drive holding a set, as a
//! person would: tray open, the drive empty a while, the new disc in.

use super::daemon::connect;
use anyhow::Result;
use clap::Parser;
use spindle_daemon::protocol::DiscArgs;
use std::process::ExitCode;

#[derive(Parser)]
pub struct Args {
    /// The drive.
    drive: u32,
    /// `next`, `prev`, a disc number (from 1), or a disc's label.
    which: String,
    /// Seconds the drive stays empty between discs (programs polling the drive see the
    /// tray open; at most 60).
    #[arg(long, default_value_t = 2.0, value_name = "SECS")]
    empty_for: f64,
}

pub fn run(a: Args) -> Result<ExitCode> {
    if !(0.0..=60.0).contains(&a.empty_for) {
        anyhow::bail!("--empty-for: {} is not 0 to 60 seconds", a.empty_for);
    }
    let reply = connect()?.disc(DiscArgs {
        drive: a.drive,
        which: a.which,
        empty_for_ms: Some((a.empty_for * 1000.0).round() as u64),
    })?;
    for m in &reply.mountpoints {
        println!("{}", m.display());
    }
    eprintln!(
        "drive {}: disc {} of {} ({})",
        reply.drive, reply.set.disc, reply.set.count, reply.set.label
    );
    Ok(ExitCode::SUCCESS)
}
