//! `spindle-drive-helper`: the privileged half of spindle's TCMU drives (docs/tcmu.md).
//!
//! It listens on a Unix socket (passed by systemd, `LISTEN_FDS`, or `--socket PATH`) and, for
//! each caller, does the configfs work on the devices named for the caller's uid
//! (`SO_PEERCRED`; root may name any): create, reopen, attach, remove, list. It passes the
//! `/dev/uioN` descriptor back (`SCM_RIGHTS`) and gives the drive's `/dev/srN` and `/dev/sgN`
//! to the caller (mode 0600). It parses no image and answers no SCSI command: the caller's
//! own unprivileged process serves the ring.

mod authz;
mod nodes;
mod serve;

use anyhow::{Context, Result, bail};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Connections served at once, at most (more wait in the listen queue).
const MAX_CONNECTIONS: usize = 32;

const USAGE: &str = "usage: spindle-drive-helper [--socket PATH] [--max-per-user N]

Runs as root. Without --socket it expects the socket from systemd (LISTEN_FDS);
with neither it listens on /run/spindle-drive-helper.sock.";

fn main() -> Result<()> {
    // SAFETY: first thing in main, before any thread exists; nothing else owns fds 3+.
    let passed = unsafe { spindle_sys::activation::take_listen_fds() };
    let mut socket: Option<PathBuf> = None;
    let mut limits = authz::Limits { per_user: 8 };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--socket" => socket = Some(args.next().context("--socket needs a path")?.into()),
            "--max-per-user" => {
                limits.per_user = args
                    .next()
                    .context("--max-per-user needs a number")?
                    .parse()?;
                if limits.per_user == 0 {
                    bail!("--max-per-user must be at least 1");
                }
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => bail!("unknown argument {other:?}\n{USAGE}"),
        }
    }
    let listener = match (socket, passed.into_iter().next()) {
        (None, Some(fd)) => UnixListener::from(fd),
        (path, _) => {
            let path = path.unwrap_or_else(|| spindle_tcmu::helper::DEFAULT_SOCKET.into());
            if path.exists() {
                std::fs::remove_file(&path)
                    .with_context(|| format!("removing the stale {}", path.display()))?;
            }
            let l = UnixListener::bind(&path)
                .with_context(|| format!("listening on {}", path.display()))?;
            // Anyone may connect: what a caller may do is decided by its uid.
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666))?;
            l
        }
    };
    if let spindle_tcmu::Support::Unavailable { reason, hint } = spindle_tcmu::support() {
        eprintln!("spindle-drive-helper: warning: no TCMU yet: {reason} ({hint})");
    }
    let active = Arc::new(AtomicUsize::new(0));
    for conn in listener.incoming() {
        let stream = match conn {
            Ok(s) => s,
            Err(e) => {
                eprintln!("spindle-drive-helper: accept: {e}");
                continue;
            }
        };
        if active.load(Ordering::Acquire) >= MAX_CONNECTIONS {
            let _ = spindle_tcmu::helper::send_line(
                std::os::fd::AsFd::as_fd(&stream),
                "err busy: too many connections\n",
                None,
            );
            continue;
        }
        active.fetch_add(1, Ordering::AcqRel);
        let a = active.clone();
        std::thread::spawn(move || {
            serve::connection(stream, limits);
            a.fetch_sub(1, Ordering::AcqRel);
        });
    }
    Ok(())
}
