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
use std::collections::HashMap;
use std::os::fd::AsFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Connections served at once, at most (more wait in the listen queue).
const MAX_CONNECTIONS: usize = 32;
/// Connections served at once for one uid, at most: one user cannot take every slot.
const MAX_PER_UID: usize = 4;

/// The connections being served: in all and per uid.
#[derive(Default)]
struct Slots {
    total: usize,
    per_uid: HashMap<u32, usize>,
}

/// One connection's slot; freed when dropped, also when its thread panics.
struct Slot {
    slots: Arc<Mutex<Slots>>,
    uid: u32,
}

impl Slot {
    /// Takes a slot for `uid`, or says why there is none.
    fn take(slots: &Arc<Mutex<Slots>>, uid: u32) -> Result<Slot, &'static str> {
        let mut s = slots.lock().unwrap_or_else(|p| p.into_inner());
        if s.total >= MAX_CONNECTIONS {
            return Err("err busy: too many connections\n");
        }
        let mine = s.per_uid.entry(uid).or_insert(0);
        if *mine >= MAX_PER_UID {
            return Err("err busy: too many connections for this uid\n");
        }
        *mine += 1;
        s.total += 1;
        Ok(Slot {
            slots: slots.clone(),
            uid,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut s = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        s.total -= 1;
        if let Some(n) = s.per_uid.get_mut(&self.uid) {
            *n -= 1;
            if *n == 0 {
                s.per_uid.remove(&self.uid);
            }
        }
    }
}

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
    let slots = Arc::new(Mutex::new(Slots::default()));
    for conn in listener.incoming() {
        let stream = match conn {
            Ok(s) => s,
            Err(e) => {
                eprintln!("spindle-drive-helper: accept: {e}");
                continue;
            }
        };
        let peer = match spindle_sys::creds::peer_credentials(stream.as_fd()) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("spindle-drive-helper: no peer credentials: {e}");
                continue;
            }
        };
        let slot = match Slot::take(&slots, peer.uid) {
            Ok(s) => s,
            Err(busy) => {
                let _ = stream.set_write_timeout(Some(std::time::Duration::from_secs(1)));
                let _ = spindle_tcmu::helper::send_line(stream.as_fd(), busy, None);
                continue;
            }
        };
        let spawned = std::thread::Builder::new()
            .name(format!("uid {}", peer.uid))
            .spawn(move || {
                let _slot = slot;
                serve::connection(stream, peer, limits);
            });
        if let Err(e) = spawned {
            // The closure (stream, slot) is dropped with the error: the caller sees the
            // connection close and the slot is free again.
            eprintln!("spindle-drive-helper: cannot start a thread: {e}");
        }
    }
    Ok(())
}
