//! The protocol of `spindle-drive-helper` and its client, [`Helper`].
//!
//! One request per line over a Unix stream socket; one reply line per request:
//!
//! | request | reply |
//! |---|---|
//! | `create NAME SIZE` | `ok` with the `/dev/uioN` descriptor attached (`SCM_RIGHTS`) |
//! | `reopen NAME` | `ok` with the descriptor attached |
//! | `attach NAME TIMEOUT_MS` | `ok SR SG ADDRESS` (`-` for a node that is missing) |
//! | `remove NAME` | `ok` |
//! | `list` | `ok NAME...` (the caller's devices) |
//!
//! Any failure is `err MESSAGE`. The helper takes the caller's uid from `SO_PEERCRED` and
//! only touches devices named `spindle_u<that uid>_d<N>` (root may name any).

use crate::configfs::Nodes;
use crate::error::{Error, Result};
use crate::names::DeviceSpec;
use crate::provision::Provisioner;
use rustix::net::{
    RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags,
};
use std::fs::File;
use std::io::{IoSlice, IoSliceMut, Write};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

/// The longest request or reply line.
pub const MAX_LINE: usize = 4096;

/// The default socket path of the helper (systemd's `spindle-drive-helper.socket`).
pub const DEFAULT_SOCKET: &str = "/run/spindle-drive-helper.sock";

/// A parsed request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// Create and enable a backstore, pass its uio descriptor.
    Create {
        /// Device name.
        name: String,
        /// `dev_size` in bytes.
        size: u64,
    },
    /// Pass the uio descriptor of an existing device.
    Reopen {
        /// Device name.
        name: String,
    },
    /// Attach, wait for the nodes, hand them to the caller.
    Attach {
        /// Device name.
        name: String,
        /// How long to wait for the nodes.
        timeout: Duration,
    },
    /// Tear down.
    Remove {
        /// Device name.
        name: String,
    },
    /// The caller's devices.
    List,
}

impl Request {
    /// Parses one request line (without its newline).
    pub fn parse(line: &str) -> Result<Request> {
        let bad = || Error::BadRequest(line.chars().take(80).collect());
        let w: Vec<&str> = line.split(' ').collect();
        let name = |i: usize| -> Result<String> {
            let n = *w.get(i).ok_or_else(bad)?;
            DeviceSpec::check_name(n)?;
            Ok(n.to_string())
        };
        let num =
            |i: usize| -> Result<u64> { w.get(i).and_then(|s| s.parse().ok()).ok_or_else(bad) };
        let r = match (w[0], w.len()) {
            ("create", 3) => Request::Create {
                name: name(1)?,
                size: num(2)?,
            },
            ("reopen", 2) => Request::Reopen { name: name(1)? },
            ("attach", 3) => Request::Attach {
                name: name(1)?,
                timeout: Duration::from_millis(num(2)?),
            },
            ("remove", 2) => Request::Remove { name: name(1)? },
            ("list", 1) => Request::List,
            _ => return Err(bad()),
        };
        Ok(r)
    }

    /// The request as a line (with its newline).
    pub fn line(&self) -> String {
        match self {
            Request::Create { name, size } => format!("create {name} {size}\n"),
            Request::Reopen { name } => format!("reopen {name}\n"),
            Request::Attach { name, timeout } => format!("attach {name} {}\n", timeout.as_millis()),
            Request::Remove { name } => format!("remove {name}\n"),
            Request::List => "list\n".into(),
        }
    }

    /// The device the request names, if any.
    pub fn device(&self) -> Option<&str> {
        match self {
            Request::Create { name, .. }
            | Request::Reopen { name }
            | Request::Attach { name, .. }
            | Request::Remove { name } => Some(name),
            Request::List => None,
        }
    }
}

/// Sends `line` on `sock`, with `fd` attached when given.
pub fn send_line(sock: BorrowedFd<'_>, line: &str, fd: Option<BorrowedFd<'_>>) -> Result<()> {
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    let fds;
    if let Some(fd) = fd {
        fds = [fd];
        control.push(SendAncillaryMessage::ScmRights(&fds));
    }
    let bytes = line.as_bytes();
    let n = rustix::net::sendmsg(
        sock,
        &[IoSlice::new(bytes)],
        &mut control,
        SendFlags::NOSIGNAL,
    )
    .map_err(|e| Error::io("sending to the helper socket", e))?;
    if n < bytes.len() {
        // The descriptor went with the first part; the rest is plain data.
        let mut s = UnixStream::from(sock.try_clone_to_owned().map_err(|e| Error::io("dup", e))?);
        s.write_all(&bytes[n..])
            .map_err(|e| Error::io("sending to the helper socket", e))?;
    }
    Ok(())
}

/// Receives one line (up to [`MAX_LINE`]) from `sock`, and a descriptor if one came with it.
/// `None` at end of stream before any byte. For clients: the helper's replies carry
/// descriptors.
pub fn recv_line(sock: BorrowedFd<'_>) -> Result<Option<(String, Option<OwnedFd>)>> {
    read_line(sock, true, None)
}

/// Receives one request line (up to [`MAX_LINE`]) for the server: without a control buffer,
/// so the kernel discards any descriptor a caller passes (the server never holds, and never
/// has to close, a caller's file). Once the line's first byte is in, the rest must come
/// within `deadline`. `None` at end of stream before any byte.
pub fn recv_request(sock: BorrowedFd<'_>, deadline: Duration) -> Result<Option<String>> {
    Ok(read_line(sock, false, Some(deadline))?.map(|(l, _)| l))
}

fn read_line(
    sock: BorrowedFd<'_>,
    take_fds: bool,
    deadline: Option<Duration>,
) -> Result<Option<(String, Option<OwnedFd>)>> {
    let mut line = Vec::new();
    let mut passed: Option<OwnedFd> = None;
    let mut first_byte: Option<std::time::Instant> = None;
    let before = match deadline {
        Some(_) => rustix::net::sockopt::socket_timeout(sock, rustix::net::sockopt::Timeout::Recv)
            .map_err(|e| Error::io("reading the socket timeout", e))?,
        None => None,
    };
    let result = (|| loop {
        if let (Some(limit), Some(t0)) = (deadline, first_byte) {
            let left = limit
                .checked_sub(t0.elapsed())
                .filter(|d| !d.is_zero())
                .ok_or_else(|| {
                    Error::Helper(format!("request line not complete within {limit:?}"))
                })?;
            rustix::net::sockopt::set_socket_timeout(
                sock,
                rustix::net::sockopt::Timeout::Recv,
                Some(left),
            )
            .map_err(|e| Error::io("setting the socket timeout", e))?;
        }
        let mut buf = [0u8; 512];
        // Read no further than a newline could be: peek, then take exactly up to it.
        let peek = rustix::net::recv(sock, &mut buf, RecvFlags::PEEK)
            .map_err(|e| Error::io("reading the helper socket", e))?;
        if peek.0 == 0 {
            return if line.is_empty() {
                Ok(None)
            } else {
                Err(Error::Helper("connection closed mid-line".into()))
            };
        }
        first_byte.get_or_insert_with(std::time::Instant::now);
        let want = buf[..peek.0]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(peek.0, |p| p + 1);
        let got = if take_fds {
            let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
            let mut control = RecvAncillaryBuffer::new(&mut space);
            let msg = rustix::net::recvmsg(
                sock,
                &mut [IoSliceMut::new(&mut buf[..want])],
                &mut control,
                RecvFlags::CMSG_CLOEXEC,
            )
            .map_err(|e| Error::io("reading the helper socket", e))?;
            for m in control.drain() {
                if let RecvAncillaryMessage::ScmRights(fds) = m {
                    for fd in fds {
                        // Keep the first; any extra is closed as it drops.
                        passed.get_or_insert(fd);
                    }
                }
            }
            msg.bytes
        } else {
            rustix::net::recv(sock, &mut buf[..want], RecvFlags::empty())
                .map_err(|e| Error::io("reading the helper socket", e))?
                .0
        };
        line.extend_from_slice(&buf[..got]);
        if line.ends_with(b"\n") {
            line.pop();
            let s = String::from_utf8(line.clone())
                .map_err(|_| Error::Helper("line is not UTF-8".into()))?;
            return Ok(Some((s, passed.take())));
        }
        if line.len() > MAX_LINE || got == 0 {
            return Err(Error::Helper("line too long or cut short".into()));
        }
    })();
    if deadline.is_some() && first_byte.is_some() {
        let _ = rustix::net::sockopt::set_socket_timeout(
            sock,
            rustix::net::sockopt::Timeout::Recv,
            before,
        );
    }
    result
}

/// Formats [`Nodes`] for an `attach` reply (after `ok `).
pub fn nodes_line(n: &Nodes) -> String {
    let p = |o: &Option<PathBuf>| {
        o.as_ref()
            .map_or("-".to_string(), |p| p.display().to_string())
    };
    format!("{} {} {}", p(&n.sr), p(&n.sg), n.address)
}

fn parse_nodes(s: &str) -> Result<Nodes> {
    let w: Vec<&str> = s.split(' ').collect();
    let p = |x: &str| (x != "-").then(|| PathBuf::from(x));
    match w.as_slice() {
        [sr, sg, addr] => Ok(Nodes {
            sr: p(sr),
            sg: p(sg),
            address: addr.to_string(),
        }),
        _ => Err(Error::Helper(format!("bad attach reply {s:?}"))),
    }
}

/// The client of `spindle-drive-helper`: each call is one connection.
#[derive(Clone, Debug)]
pub struct Helper {
    socket: PathBuf,
}

impl Helper {
    /// A client of the helper listening on `socket`.
    pub fn new(socket: impl Into<PathBuf>) -> Helper {
        Helper {
            socket: socket.into(),
        }
    }

    /// The socket path.
    pub fn socket(&self) -> &std::path::Path {
        &self.socket
    }

    fn call(&self, req: &Request) -> Result<(String, Option<OwnedFd>)> {
        let s = UnixStream::connect(&self.socket)
            .map_err(|e| Error::Helper(format!("connecting to {}: {e}", self.socket.display())))?;
        // Attach waits for the nodes (up to its timeout); everything else is quick.
        let wait = match req {
            Request::Attach { timeout, .. } => timeout.saturating_add(Duration::from_secs(30)),
            _ => Duration::from_secs(30),
        };
        let _ = s.set_read_timeout(Some(wait));
        send_line(s.as_fd(), &req.line(), None)?;
        let (line, fd) = recv_line(s.as_fd())?
            .ok_or_else(|| Error::Helper("the helper closed the connection".into()))?;
        if let Some(msg) = line.strip_prefix("err ") {
            return Err(Error::Helper(msg.to_string()));
        }
        match line.strip_prefix("ok") {
            Some(rest) => Ok((rest.trim_start().to_string(), fd)),
            None => Err(Error::Helper(format!("bad reply {line:?}"))),
        }
    }

    fn call_fd(&self, req: &Request) -> Result<File> {
        match self.call(req)? {
            (_, Some(fd)) => Ok(File::from(fd)),
            (_, None) => Err(Error::Helper("the reply carried no descriptor".into())),
        }
    }
}

impl Provisioner for Helper {
    fn create(&self, spec: &DeviceSpec) -> Result<File> {
        self.call_fd(&Request::Create {
            name: spec.name.clone(),
            size: spec.size,
        })
    }

    fn reopen(&self, name: &str) -> Result<File> {
        self.call_fd(&Request::Reopen { name: name.into() })
    }

    fn attach(&self, name: &str, timeout: Duration) -> Result<Nodes> {
        let (rest, _) = self.call(&Request::Attach {
            name: name.into(),
            timeout,
        })?;
        parse_nodes(&rest)
    }

    fn remove(&self, name: &str) -> Result<()> {
        self.call(&Request::Remove { name: name.into() })
            .map(|_| ())
    }

    fn list(&self) -> Result<Vec<String>> {
        let (rest, _) = self.call(&Request::List)?;
        Ok(rest.split_whitespace().map(String::from).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip() {
        for r in [
            Request::Create {
                name: "spindle_u1_d0".into(),
                size: 42,
            },
            Request::Reopen {
                name: "spindle_u1_d0".into(),
            },
            Request::Attach {
                name: "spindle_u1_d2".into(),
                timeout: Duration::from_millis(1500),
            },
            Request::Remove {
                name: "spindle_u0_d9".into(),
            },
            Request::List,
        ] {
            let line = r.line();
            assert_eq!(Request::parse(line.trim_end()).unwrap(), r);
        }
        for bad in [
            "",
            "create",
            "create spindle_u1_d0",
            "create ../x 1",
            "reopen a b",
            "list x",
        ] {
            assert!(Request::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_descriptor_crosses_a_socket_pair() {
        let (a, b) = UnixStream::pair().unwrap();
        let f = tempfile::tempfile().unwrap();
        send_line(a.as_fd(), "ok\n", Some(f.as_fd())).unwrap();
        send_line(a.as_fd(), "ok /dev/sr0 - 3:0:1:0\n", None).unwrap();
        let (line, fd) = recv_line(b.as_fd()).unwrap().unwrap();
        assert_eq!(line, "ok");
        let got = File::from(fd.expect("descriptor"));
        let (st1, st2) = (got.metadata().unwrap(), f.metadata().unwrap());
        use std::os::unix::fs::MetadataExt;
        assert_eq!((st1.ino(), st1.dev()), (st2.ino(), st2.dev()));
        let (line, fd) = recv_line(b.as_fd()).unwrap().unwrap();
        assert!(fd.is_none());
        let n = parse_nodes(line.strip_prefix("ok ").unwrap()).unwrap();
        assert_eq!(n.sr.as_deref(), Some(std::path::Path::new("/dev/sr0")));
        assert_eq!(n.sg, None);
        drop(a);
        assert!(recv_line(b.as_fd()).unwrap().is_none());
    }
}
