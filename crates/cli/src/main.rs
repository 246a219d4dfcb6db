//! `spindle`: mount, convert, verify and describe optical disc images.

mod cmd;
mod progress;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "spindle",
    version,
    about = "Virtual optical drives: read, convert and verify CD/DVD/BD images"
)]
struct Cli {
    /// Password of an encrypted image (MDX/MDS v2); else SPINDLE_PASSWORD, else asked on a terminal.
    #[arg(long, global = true, value_name = "PASSWORD")]
    password: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show an image's format, medium, sessions, tracks, MCN/ISRC/CD-TEXT and volume label.
    Info(cmd::info::Args),
    /// Convert an image to ISO or BIN/CUE.
    Convert(cmd::convert::Args),
    /// Make an ISO image (Rock Ridge, Joliet) of folders, reproducibly, and check it.
    Create(cmd::create::Args),
    /// Check stored EDC/ECC and print per-track hashes like a redump datfile.
    Verify(cmd::verify::Args),
    /// List the files on a disc image (ISO 9660, Joliet, Rock Ridge, UDF).
    Ls(cmd::ls::Args),
    /// Write a file from a disc image to standard output.
    Cat(cmd::cat::Args),
    /// Copy files out of a disc image, keeping modes, times, symlinks and hard links.
    Extract(cmd::extract::Args),
    /// List the El Torito boot entries of an image and optionally write out the boot images.
    Boot(cmd::boot::Args),
    /// Load an image into a virtual drive and mount its files (starts the daemon if needed).
    Mount(cmd::mount::Args),
    /// Eject a drive (by number, mount point or image), or every drive with --all.
    Eject(cmd::eject::Args),
    /// List the virtual drives (image, format, medium, label, mount points); set their count.
    Drives(cmd::drives::Args),
    /// Swap the disc in a drive: its mount points then show the new disc's files.
    Load(cmd::load::Args),
    /// Change the disc of a drive holding a set (an M3U playlist): next, prev, N or LABEL.
    Disc(cmd::disc::Args),
    /// Run the drive daemon in the foreground (what systemd and launchd start).
    Daemon(cmd::daemon::Args),
    /// Serve a drive over NBD on a TCP address (TLS required off loopback).
    Share(cmd::share::Args),
    /// Attach a drive's NBD export to the kernel's nbd client (/dev/nbdN).
    Attach(cmd::attach::Args),
    /// Detach a kernel nbd device attached with `spindle attach`.
    Detach(cmd::attach::detach::Args),
    /// List removable and USB block devices (and optical drives with --optical).
    Devices(cmd::devices::Args),
    /// Write an image to one or more USB sticks, then verify them.
    Burn(cmd::burn::Args),
    /// Back up a physical disc from an optical drive to ISO, MDS/MDF, CUE/BIN or CCD.
    Rip(cmd::rip::Args),
}

/// Commands that print listings die quietly when their reader goes away (`spindle info X |
/// head`), as Unix tools do, instead of failing on EPIPE inside `println!`. The daemon, and
/// the commands that talk to devices and sockets, keep Rust's ignored SIGPIPE and handle
/// write errors themselves.
fn default_sigpipe(command: &Command) {
    let quiet = !matches!(
        command,
        Command::Daemon(_)
            | Command::Attach(_)
            | Command::Detach(_)
            | Command::Burn(_)
            | Command::Rip(_)
    );
    if quiet {
        // SAFETY: setting a signal's disposition to the default, before any thread starts.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    default_sigpipe(&cli.command);
    cmd::set_password(cli.password.clone());
    let result = match cli.command {
        Command::Info(a) => cmd::info::run(a),
        Command::Convert(a) => cmd::convert::run(a),
        Command::Create(a) => cmd::create::run(a),
        Command::Verify(a) => cmd::verify::run(a),
        Command::Ls(a) => cmd::ls::run(a),
        Command::Cat(a) => cmd::cat::run(a),
        Command::Extract(a) => cmd::extract::run(a),
        Command::Boot(a) => cmd::boot::run(a),
        Command::Mount(a) => cmd::mount::run(a),
        Command::Eject(a) => cmd::eject::run(a),
        Command::Drives(a) => cmd::drives::run(a),
        Command::Load(a) => cmd::load::run(a),
        Command::Disc(a) => cmd::disc::run(a),
        Command::Daemon(a) => cmd::daemon::run(a),
        Command::Share(a) => cmd::share::run(a),
        Command::Attach(a) => cmd::attach::run(a),
        Command::Detach(a) => cmd::attach::detach::run(a),
        Command::Devices(a) => cmd::devices::run(a),
        Command::Burn(a) => cmd::burn::run(a),
        Command::Rip(a) => cmd::rip::run(a),
    };
    match result {
        Ok(code) => code,
        // A reader that went away (`spindle ls -R X | head`) is not an error.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("spindle: error: {e}");
            // Some errors already quote their source in their own message: print each
            // cause only when the line above does not say it already.
            let mut above = e.to_string();
            for cause in e.chain().skip(1) {
                let text = cause.to_string();
                if !above.contains(&text) {
                    eprintln!("  caused by: {text}");
                    above = text;
                }
            }
            ExitCode::from(1)
        }
    }
}
