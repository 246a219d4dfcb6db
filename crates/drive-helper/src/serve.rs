//! One connection: requests in, replies out, for the credentials the socket carries.

use crate::authz::{self, Limits};
use crate::nodes;
use spindle_tcmu::helper::{Request, nodes_line, recv_line, send_line};
use spindle_tcmu::{Device, DeviceSpec};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::sync::Mutex;
use std::time::Duration;

/// The longest a caller may make the helper wait for nodes.
const MAX_ATTACH_WAIT: Duration = Duration::from_secs(60);
/// How long a connection may sit idle.
const IDLE: Duration = Duration::from_secs(120);

/// Serialises configfs work: two callers never interleave their steps.
static CONFIGFS: Mutex<()> = Mutex::new(());

/// What the helper answers: a line after `ok`, and a descriptor to pass.
struct Reply {
    text: String,
    fd: Option<std::fs::File>,
}

/// Serves requests on `stream` until the caller hangs up.
pub fn connection(stream: UnixStream, limits: Limits) {
    let peer = match spindle_sys::creds::peer_credentials(stream.as_fd()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("spindle-drive-helper: no peer credentials: {e}");
            return;
        }
    };
    let _ = stream.set_read_timeout(Some(IDLE));
    loop {
        let line = match recv_line(stream.as_fd()) {
            Ok(Some((line, _))) => line,
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
                eprintln!("spindle-drive-helper: uid {}: {line:?}: {msg}", peer.uid);
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
            // Waiting for the nodes needs no configfs change: let others go meanwhile.
            drop(guard);
            let n = dev.nodes((*timeout).min(MAX_ATTACH_WAIT)).map_err(s)?;
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
