//! One connection: requests in, replies out, for the credentials the socket carries.

use crate::authz::{self, Limits};
use crate::nodes;
use spindle_tcmu::helper::{Request, nodes_line, recv_request, send_line};
use spindle_tcmu::{Device, DeviceSpec};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::sync::Mutex;
use std::time::Duration;

/// The longest a caller may make the helper wait for nodes.
const MAX_ATTACH_WAIT: Duration = Duration::from_secs(60);
/// How long a connection may sit idle.
const IDLE: Duration = Duration::from_secs(120);
/// How long a request line may take from its first byte to its newline.
const REQUEST_DEADLINE: Duration = Duration::from_secs(10);
/// How long a reply may wait for the caller to read.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of a bad request line goes to the log.
const LOGGED_CHARS: usize = 80;

/// Serialises configfs work: two callers never interleave their steps.
static CONFIGFS: Mutex<()> = Mutex::new(());

/// What the helper answers: a line after `ok`, and a descriptor to pass.
struct Reply {
    text: String,
    fd: Option<std::fs::File>,
}

/// Serves requests on `stream` from the caller `peer` until the caller hangs up.
pub fn connection(stream: UnixStream, peer: spindle_sys::creds::PeerCred, limits: Limits) {
    let _ = stream.set_read_timeout(Some(IDLE));
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    loop {
        let line = match recv_request(stream.as_fd(), REQUEST_DEADLINE) {
            Ok(Some(line)) => line,
            Ok(None) => return,
            Err(e) => {
                let _ = send_line(stream.as_fd(), &format!("err {e}\n"), None);
                return;
            }
        };
        let reply = Request::parse(&line)
            .map_err(|e| e.to_string())
            .and_then(|req| execute(&req, peer.uid, peer.gid, limits));
        let sent = match reply {
            Ok(r) => {
                let text = if r.text.is_empty() {
                    "ok\n".to_string()
                } else {
                    format!("ok {}\n", r.text)
                };
                send_line(stream.as_fd(), &text, r.fd.as_ref().map(|f| f.as_fd()))
            }
            Err(msg) => {
                let shown: String = line.chars().take(LOGGED_CHARS).collect();
                eprintln!("spindle-drive-helper: uid {}: {shown:?}: {msg}", peer.uid);
                send_line(
                    stream.as_fd(),
                    &format!("err {}\n", msg.replace('\n', " ")),
                    None,
                )
            }
        };
        if sent.is_err() {
            return;
        }
    }
}

fn execute(req: &Request, uid: u32, gid: u32, limits: Limits) -> Result<Reply, String> {
    if let Some(name) = req.device() {
        authz::may_use(uid, name, limits)?;
    }
    let guard = CONFIGFS.lock().unwrap_or_else(|p| p.into_inner());
    let s = |e: spindle_tcmu::Error| e.to_string();
    let plain = |text: String| Reply { text, fd: None };
    match req {
        Request::Create { name, size } => {
            authz::size_ok(*size)?;
            let dev = Device::create(&DeviceSpec {
                name: name.clone(),
                size: *size,
            })
            .map_err(s)?;
            match dev.open_uio() {
                Ok(f) => Ok(Reply {
                    text: String::new(),
                    fd: Some(f),
                }),
                Err(e) => {
                    let _ = dev.remove();
                    Err(s(e))
                }
            }
        }
        Request::Reopen { name } => {
            let dev = Device::named(name).map_err(s)?;
            if !dev.exists() {
                return Err(format!("no TCMU device named {name}"));
            }
            Ok(Reply {
                text: String::new(),
                fd: Some(dev.open_uio().map_err(s)?),
            })
        }
        Request::Attach { name, timeout } => {
            let dev = Device::named(name).map_err(s)?;
            dev.attach().map_err(s)?;
            let address = dev.address().map_err(s)?;
            // Waiting for the scan and the nodes needs no configfs change: let others go.
            drop(guard);
            let wait = (*timeout).min(MAX_ATTACH_WAIT);
            if let Err(e) = nodes::require_cdrom(&address, wait) {
                let _g = CONFIGFS.lock().unwrap_or_else(|p| p.into_inner());
                if dev.is_attached() && dev.address().ok().as_deref() == Some(&address) {
                    let _ = dev.remove();
                }
                return Err(format!("{name}: {e:#}"));
            }
            dev.nodes(wait).map_err(s)?;
            nodes::settle();
            // Under the lock `remove` takes: the LUN is still this caller's, and the nodes
            // are recomputed and checked to be its own before they change hands.
            let _g = CONFIGFS.lock().unwrap_or_else(|p| p.into_inner());
            if !dev.is_attached() || dev.address().ok().as_deref() != Some(&address) {
                return Err(format!("{name} was removed or moved while attaching"));
            }
            let n = dev.nodes_now().map_err(s)?;
            nodes::hand_over(&n, uid, gid).map_err(|e| format!("{e:#}"))?;
            Ok(plain(nodes_line(&n)))
        }
        Request::Remove { name } => {
            Device::named(name).map_err(s)?.remove().map_err(s)?;
            Ok(plain(String::new()))
        }
        Request::List => {
            let devs = Device::list(&DeviceSpec::user_prefix(uid)).map_err(s)?;
            Ok(plain(
                devs.iter().map(|d| d.name()).collect::<Vec<_>>().join(" "),
            ))
        }
    }
}
