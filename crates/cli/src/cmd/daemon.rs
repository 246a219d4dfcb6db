//! `spindle daemon`: the drive daemon in the foreground; and the connection every
//! drive command makes to it (starting one on demand).

use anyhow::{Context, Result};
use clap::Parser;
use spindle_daemon::client::{self, Client};
use spindle_daemon::limits::Limits;
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
    /// Connections at once of all users but root and the daemon's own user (who have 32 more).
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_clients, value_parser = count)]
    max_clients: usize,
    /// Connections at once of one user (root and the daemon's own user: no cap of their own).
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_clients_per_user, value_parser = count)]
    max_clients_per_user: usize,
    /// Close a connection that sends no request for SECS.
    #[arg(long, value_name = "SECS", default_value_t = Limits::default().idle_timeout.as_secs_f64(), value_parser = seconds)]
    idle_timeout: f64,
    /// Close a connection whose request line is not complete SECS after its first byte.
    #[arg(long, value_name = "SECS", default_value_t = Limits::default().line_timeout.as_secs_f64(), value_parser = seconds)]
    line_timeout: f64,
    /// Image and TLS-file opens in flight at once, all users but root and the daemon's own
    /// user together.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_opens, value_parser = count)]
    max_opens: usize,
    /// Opens in flight at once of one user.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_opens_per_user, value_parser = count)]
    max_opens_per_user: usize,
    /// Answer `timeout` to a request whose open has not returned after SECS.
    #[arg(long, value_name = "SECS", default_value_t = Limits::default().open_timeout.as_secs_f64(), value_parser = seconds)]
    open_timeout: f64,
}

/// A count of at least 1.
fn count(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("{s}: give a whole number of at least 1")),
    }
}

/// A positive number of seconds (fractions allowed), at most a day.
fn seconds(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|e| format!("{s:?}: {e}"))?;
    if v.is_finite() && v > 0.0 && v <= 86_400.0 {
        Ok(v)
    } else {
        Err(format!("{s}: give seconds between 0 and 86400"))
    }
}

pub fn run(a: Args) -> Result<ExitCode> {
    let limits = Limits {
        max_clients: a.max_clients,
        max_clients_per_user: a.max_clients_per_user,
        reserved_clients: Limits::default().reserved_clients,
        idle_timeout: Duration::from_secs_f64(a.idle_timeout),
        line_timeout: Duration::from_secs_f64(a.line_timeout),
        max_opens: a.max_opens,
        max_opens_per_user: a.max_opens_per_user,
        open_timeout: Duration::from_secs_f64(a.open_timeout),
    };
    let cfg = spindle_daemon::service::Config {
        socket: a.socket,
        idle_exit: a.idle_exit.map(Duration::from_secs),
        limits,
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
