//! The kernel nbd driver's generic-netlink interface (family "nbd", linux/nbd-netlink.h):
//! NBD_CMD_CONNECT hands connected sockets to the kernel, which then owns them (no process has
//! to stay behind, unlike NBD_DO_IT); NBD_CMD_DISCONNECT ends a device's connection.
//!
//! Four small messages with fixed layouts, written here with libc. The nbd-netlink crate (0.3)
//! builds them through neli, with proc macros and anyhow errors in a library, and its connect
//! builder cannot name the device index, pass the server's transmission flags as they are, or
//! set the backend identifier that `spindle detach DRIVE` finds devices by. It has no status
//! query either.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

// netlink(7) and genetlink.
const NETLINK_GENERIC: i32 = 16;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_ACK: u16 = 4;
const NLA_F_NESTED: u16 = 1 << 15;
const GENL_ID_CTRL: u16 = 0x10;
const CTRL_CMD_GETFAMILY: u8 = 3;
const CTRL_ATTR_FAMILY_ID: u16 = 1;
const CTRL_ATTR_FAMILY_NAME: u16 = 2;

// linux/nbd-netlink.h
const NBD_GENL_VERSION: u8 = 1;
const NBD_CMD_CONNECT: u8 = 1;
const NBD_CMD_DISCONNECT: u8 = 2;
const NBD_CMD_STATUS: u8 = 5;
const NBD_ATTR_INDEX: u16 = 1;
const NBD_ATTR_SIZE_BYTES: u16 = 2;
const NBD_ATTR_BLOCK_SIZE_BYTES: u16 = 3;
const NBD_ATTR_SERVER_FLAGS: u16 = 5;
const NBD_ATTR_SOCKETS: u16 = 7;
const NBD_ATTR_DEVICE_LIST: u16 = 9;
const NBD_ATTR_BACKEND_IDENTIFIER: u16 = 10;
const NBD_SOCK_ITEM: u16 = 1;
const NBD_SOCK_FD: u16 = 1;
const NBD_DEVICE_ITEM: u16 = 1;
const NBD_DEVICE_INDEX: u16 = 1;
const NBD_DEVICE_CONNECTED: u16 = 2;

/// What a kernel nbd connect is given.
pub(crate) struct Connect<'a> {
    /// The device index (`/dev/nbd<index>`); `None` lets the kernel pick a free one.
    pub index: Option<u32>,
    /// The export's size in bytes.
    pub size: u64,
    /// The device's logical block size.
    pub block_size: u64,
    /// NBD transmission flags as the server sent them (read-only forced by the caller).
    pub server_flags: u64,
    /// Sockets in the transmission phase.
    pub sockets: &'a [BorrowedFd<'a>],
    /// Shown in /sys/block/nbdN/backend (kernels from 5.18; older ones ignore it).
    pub backend: &'a str,
}

/// A generic-netlink socket bound to the nbd family.
pub(crate) struct Netlink {
    fd: OwnedFd,
    family: u16,
    seq: u32,
}

/// One attribute: (type without the nested flag, payload).
type Attr<'a> = (u16, &'a [u8]);

fn put_attr(buf: &mut Vec<u8>, kind: u16, payload: &[u8]) {
    let len = 4 + payload.len();
    buf.extend_from_slice(&(len as u16).to_ne_bytes());
    buf.extend_from_slice(&kind.to_ne_bytes());
    buf.extend_from_slice(payload);
    // Attributes are padded to 4 bytes (written without is_multiple_of: rust-version 1.85).
    buf.resize((buf.len() + 3) & !3, 0);
}

fn attrs(mut data: &[u8]) -> Vec<Attr<'_>> {
    let mut out = Vec::new();
    while data.len() >= 4 {
        let len = u16::from_ne_bytes([data[0], data[1]]) as usize;
        let kind = u16::from_ne_bytes([data[2], data[3]]) & !NLA_F_NESTED;
        if len < 4 || len > data.len() {
            break;
        }
        out.push((kind, &data[4..len]));
        let next = (len + 3) & !3;
        data = data.get(next..).unwrap_or(&[]);
    }
    out
}

fn u32_of(p: &[u8]) -> Option<u32> {
    Some(u32::from_ne_bytes(p.get(..4)?.try_into().ok()?))
}

impl Netlink {
    /// Opens a generic-netlink socket and looks up the "nbd" family. `Ok(None)`: the kernel
    /// has no nbd family (the module is not loaded, or too old for netlink).
    pub fn open() -> io::Result<Option<Netlink>> {
        // SAFETY: plain socket(2) call; the result is checked.
        let raw = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                NETLINK_GENERIC,
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: raw is a descriptor we just opened and own.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // Never wait forever for the kernel's answer.
        let tv = libc::timeval {
            tv_sec: 10,
            tv_usec: 0,
        };
        // SAFETY: SO_RCVTIMEO reads one timeval through the pointer, valid for the call.
        // Best effort: without the timeout a reply is still awaited.
        unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&tv as *const libc::timeval).cast(),
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            )
        };
        let mut nl = Netlink {
            fd,
            family: GENL_ID_CTRL,
            seq: 0,
        };
        let mut payload = Vec::new();
        put_attr(&mut payload, CTRL_ATTR_FAMILY_NAME, b"nbd\0");
        let replies = match nl.request(CTRL_CMD_GETFAMILY, 1, &payload) {
            Ok(r) => r,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(None),
            Err(e) => return Err(e),
        };
        let id = replies
            .iter()
            .flat_map(|r| attrs(r))
            .find(|(k, _)| *k == CTRL_ATTR_FAMILY_ID)
            .and_then(|(_, p)| p.get(..2).map(|b| u16::from_ne_bytes([b[0], b[1]])));
        match id {
            Some(family) => {
                nl.family = family;
                Ok(Some(nl))
            }
            None => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the kernel's reply names no nbd family id",
            )),
        }
    }

    /// Sends one request with NLM_F_ACK and returns the payloads (after the genl header) of
    /// the replies that came before the acknowledgement. A negative ack is the error.
    fn request(&mut self, cmd: u8, version: u8, attrs_payload: &[u8]) -> io::Result<Vec<Vec<u8>>> {
        self.seq = self.seq.wrapping_add(1);
        let len = 16 + 4 + attrs_payload.len();
        let mut msg = Vec::with_capacity(len);
        msg.extend_from_slice(&(len as u32).to_ne_bytes());
        msg.extend_from_slice(&self.family.to_ne_bytes());
        msg.extend_from_slice(&(NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
        msg.extend_from_slice(&self.seq.to_ne_bytes());
        msg.extend_from_slice(&0u32.to_ne_bytes());
        msg.extend_from_slice(&[cmd, version, 0, 0]);
        msg.extend_from_slice(attrs_payload);
        // SAFETY: sending a buffer we own on a socket we own.
        let sent = unsafe { libc::send(self.fd.as_raw_fd(), msg.as_ptr().cast(), msg.len(), 0) };
        if sent < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut replies = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            // SAFETY: receiving into a buffer we own.
            let n =
                unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            let mut data = &buf[..n as usize];
            while data.len() >= 16 {
                let mlen = u32::from_ne_bytes(data[0..4].try_into().unwrap()) as usize;
                let mtype = u16::from_ne_bytes([data[4], data[5]]);
                let mseq = u32::from_ne_bytes(data[8..12].try_into().unwrap());
                if mlen < 16 || mlen > data.len() {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "truncated netlink message",
                    ));
                }
                let body = &data[16..mlen];
                data = data.get((mlen + 3) & !3..).unwrap_or(&[]);
                if mseq != self.seq {
                    continue;
                }
                match mtype {
                    NLMSG_ERROR => {
                        let err = body
                            .get(..4)
                            .map_or(0, |b| i32::from_ne_bytes(b.try_into().unwrap()));
                        return if err == 0 {
                            Ok(replies)
                        } else {
                            Err(io::Error::from_raw_os_error(-err))
                        };
                    }
                    NLMSG_DONE => return Ok(replies),
                    _ => replies.push(body.get(4..).unwrap_or(&[]).to_vec()),
                }
            }
        }
    }

    /// NBD_CMD_CONNECT: returns the index of the device the kernel connected.
    pub fn connect(&mut self, c: &Connect) -> io::Result<u32> {
        let mut p = Vec::new();
        if let Some(i) = c.index {
            put_attr(&mut p, NBD_ATTR_INDEX, &i.to_ne_bytes());
        }
        put_attr(&mut p, NBD_ATTR_SIZE_BYTES, &c.size.to_ne_bytes());
        put_attr(
            &mut p,
            NBD_ATTR_BLOCK_SIZE_BYTES,
            &c.block_size.to_ne_bytes(),
        );
        put_attr(&mut p, NBD_ATTR_SERVER_FLAGS, &c.server_flags.to_ne_bytes());
        let mut items = Vec::new();
        for fd in c.sockets {
            let mut item = Vec::new();
            put_attr(
                &mut item,
                NBD_SOCK_FD,
                &(fd.as_raw_fd() as u32).to_ne_bytes(),
            );
            put_attr(&mut items, NBD_SOCK_ITEM | NLA_F_NESTED, &item);
        }
        put_attr(&mut p, NBD_ATTR_SOCKETS | NLA_F_NESTED, &items);
        let mut backend = c.backend.as_bytes().to_vec();
        backend.push(0);
        put_attr(&mut p, NBD_ATTR_BACKEND_IDENTIFIER, &backend);
        let replies = self.request(NBD_CMD_CONNECT, NBD_GENL_VERSION, &p)?;
        replies
            .iter()
            .flat_map(|r| attrs(r))
            .find(|(k, _)| *k == NBD_ATTR_INDEX)
            .and_then(|(_, v)| u32_of(v))
            .or(c.index)
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    "the kernel did not say which nbd device it connected",
                )
            })
    }

    /// NBD_CMD_DISCONNECT of device `index`.
    pub fn disconnect(&mut self, index: u32) -> io::Result<()> {
        let mut p = Vec::new();
        put_attr(&mut p, NBD_ATTR_INDEX, &index.to_ne_bytes());
        self.request(NBD_CMD_DISCONNECT, NBD_GENL_VERSION, &p)
            .map(drop)
    }

    /// NBD_CMD_STATUS: whether device `index` is connected (`None`: no such device).
    pub fn connected(&mut self, index: u32) -> io::Result<Option<bool>> {
        let mut p = Vec::new();
        put_attr(&mut p, NBD_ATTR_INDEX, &index.to_ne_bytes());
        let replies = match self.request(NBD_CMD_STATUS, NBD_GENL_VERSION, &p) {
            Ok(r) => r,
            Err(e)
                if e.raw_os_error() == Some(libc::EINVAL)
                    || e.raw_os_error() == Some(libc::ENODEV) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        for reply in &replies {
            for (_, list) in attrs(reply)
                .into_iter()
                .filter(|(k, _)| *k == NBD_ATTR_DEVICE_LIST)
            {
                for (_, item) in attrs(list)
                    .into_iter()
                    .filter(|(k, _)| *k == NBD_DEVICE_ITEM)
                {
                    let fields = attrs(item);
                    let idx = fields
                        .iter()
                        .find(|(k, _)| *k == NBD_DEVICE_INDEX)
                        .and_then(|(_, v)| u32_of(v));
                    let conn = fields
                        .iter()
                        .find(|(k, _)| *k == NBD_DEVICE_CONNECTED)
                        .and_then(|(_, v)| v.first().copied());
                    if idx == Some(index) {
                        return Ok(Some(conn.unwrap_or(0) != 0));
                    }
                }
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_round_trip_with_padding() {
        let mut buf = Vec::new();
        put_attr(&mut buf, 2, b"nbd\0x");
        put_attr(&mut buf, 1 | NLA_F_NESTED, &7u32.to_ne_bytes());
        assert_eq!(buf.len() % 4, 0);
        let got = attrs(&buf);
        assert_eq!(got, vec![(2, &b"nbd\0x"[..]), (1, &7u32.to_ne_bytes()[..])]);
        // A length past the end stops the walk instead of panicking.
        assert!(attrs(&[200, 0, 1, 0, 9]).is_empty());
    }
}
