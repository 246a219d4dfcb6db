//! `spindle daemon`: the drive daemon in the foreground; and the connection every
//! drive command makes to it (starting one on demand).

use anyhow::{Context, Result};
use clap::Parser;
use spindle_daemon::client::{self, Client};
use spindle_daemon::paths;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
pub struct Args {
    /// The control socket (default: $SPINDLE_SOCKET, else $XDG_RUNTIME_DIR/spindle/control.sock,
    /// /run/spindle/control.sock for root). Ignored when systemd or launchd passes a socket.
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// Exit after SECS without loaded drives or requests (never sooner than 10 s after start).
    #[arg(long, value_name = "SECS")]
    idle_exit: Option<u64>,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let cfg = spindle_daemon::service::Config {
        socket: a.socket,
        idle_exit: a.idle_exit.map(Duration::from_secs),
    };
    spindle_daemon::service::run(&cfg)?;
    Ok(ExitCode::SUCCESS)
}

/// A connection to the daemon, starting `spindle daemon` first when none listens (its log
/// goes to `daemon.log` beside the socket).
pub fn connect() -> Result<Client> {
    let socket = paths::socket_path();
    let exe = std::env::current_exe().context("finding the spindle executable")?;
    let log = socket.parent().unwrap_or(Path::new("/")).join("daemon.log");
    Ok(client::connect_or_start(&socket, &exe, &log)?)
}

/// An absolute, canonical path for the daemon (which does not share our working directory).
/// A path we may not resolve (a directory we cannot search) is sent as it is, made absolute:
/// the daemon, which opens it with our rights, then says what is wrong.
pub fn absolute(p: &Path) -> Result<PathBuf> {
    match p.canonicalize() {
        Ok(c) => Ok(c),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Ok(std::path::absolute(p)?),
        Err(e) => Err(e).with_context(|| format!("{}", p.display())),
    }
}
