//! [`attach`] and [`detach`]: the netlink interface when the kernel has it, else the ioctls.

use super::netlink::{self, Netlink};
use super::{NbdError, device_path, devices, driver_loaded, exists, ioctl, is_attached, users};
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, Instant};

/// NBD transmission flags (the NBD protocol document).
const NBD_FLAG_HAS_FLAGS: u64 = 1 << 0;
const NBD_FLAG_READ_ONLY: u64 = 1 << 1;

/// How to hand the sockets to the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// Netlink when the kernel has it, else the ioctls.
    Auto,
    /// The nbd generic-netlink family only.
    Netlink,
    /// The NBD ioctls only (a background process stays in `NBD_DO_IT`).
    Ioctl,
}

/// What [`attach`] puts on a device: sockets past the NBD handshake, and what the handshake
/// said of the export.
pub struct Attach<'a> {
    /// The device index (`/dev/nbd<index>`); `None`: the first free one (the kernel picks it
    /// through netlink).
    pub index: Option<u32>,
    /// The export's size in bytes.
    pub size: u64,
    /// The device's logical block size ([`super::block_size`]).
    pub block_size: u64,
    /// The transmission flags the server sent (`NBD_FLAG_HAS_FLAGS` is added).
    pub flags: u64,
    /// Sockets in the transmission phase, all to the same export; more than one needs
    /// netlink. The kernel takes its own reference: the caller may close them afterwards.
    pub sockets: &'a [BorrowedFd<'a>],
    /// Shown in `/sys/block/nbdN/backend` (netlink, Linux 5.18+): what [`super::backend`]
    /// reads back to find the devices of one export.
    pub backend: &'a str,
    /// Read-only: the flag goes to the kernel and the device is made read-only (`BLKROSET`).
    pub read_only: bool,
    /// Which interface.
    pub via: Via,
}

/// What [`attach`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attached {
    /// The device: `/dev/nbd<index>`.
    pub index: u32,
    /// The interface that attached it ([`Via::Netlink`] or [`Via::Ioctl`]).
    pub via: Via,
}

fn wait_for(what: impl Fn() -> bool, limit: Duration) -> bool {
    let start = Instant::now();
    while !what() {
        if start.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// Opens the netlink family, trying `modprobe nbd` once when it is missing.
fn open_netlink() -> Result<Option<Netlink>, NbdError> {
    if let Some(n) = Netlink::open().map_err(NbdError::Netlink)? {
        return Ok(Some(n));
    }
    if !driver_loaded() {
        let _ = std::process::Command::new("modprobe")
            .arg("nbd")
            .stderr(std::process::Stdio::null())
            .status();
    }
    Netlink::open().map_err(NbdError::Netlink)
}

/// Attaches `socket` to `/dev/nbd<index>` (or the first free device) with the ioctls.
fn attach_ioctl(index: Option<u32>, a: &Attach<'_>, flags: u64) -> Result<u32, NbdError> {
    let [socket] = a.sockets else {
        return Err(NbdError::OneSocketOnly);
    };
    let no_driver = |e| {
        if driver_loaded() {
            e
        } else {
            NbdError::NoDriver
        }
    };
    let i = match index {
        Some(i) => i,
        None => devices()
            .map_err(NbdError::Sysfs)?
            .into_iter()
            .find(|&i| !is_attached(i))
            .ok_or_else(|| no_driver(NbdError::NoFreeDevice))?,
    };
    let dev = device_path(i);
    let shown = dev.display().to_string();
    if !dev.exists() {
        return Err(no_driver(NbdError::NoSuchDevice {
            dev: shown,
            source: None,
        }));
    }
    if is_attached(i) {
        return Err(NbdError::Busy { dev: shown });
    }
    ioctl::connect(&dev, *socket, a.size, a.block_size, flags)
        .map_err(|e| NbdError::kernel(e, &shown, "NBD ioctls"))?;
    if !wait_for(|| is_attached(i), Duration::from_secs(10)) {
        return Err(NbdError::NotStarted { dev: shown });
    }
    Ok(i)
}

/// Makes the block device `dev` read-only.
fn set_read_only(index: u32) -> Result<(), NbdError> {
    let dev = device_path(index);
    let shown = dev.display().to_string();
    let f = std::fs::File::open(&dev).map_err(|source| NbdError::Kernel {
        dev: shown.clone(),
        op: "opening",
        source,
    })?;
    crate::block::set_read_only(f.as_fd(), true).map_err(|source| NbdError::Kernel {
        dev: shown,
        op: "BLKROSET",
        source,
    })
}

/// Puts the sockets of `a` on an nbd device: through netlink when the kernel has it (with
/// [`Via::Auto`], falling back to the ioctls for one socket when netlink refuses the request
/// with `EINVAL`, after calling `on_fallback` with its error), else through the ioctls.
/// Needs `CAP_SYS_ADMIN`. Returns once the device node exists (and is read-only when asked).
pub fn attach(a: &Attach<'_>, on_fallback: impl FnOnce(&io::Error)) -> Result<Attached, NbdError> {
    let mut flags = a.flags | NBD_FLAG_HAS_FLAGS;
    if a.read_only {
        flags |= NBD_FLAG_READ_ONLY;
    }
    let shown = a.index.map_or("an nbd device".to_string(), |i| {
        device_path(i).display().to_string()
    });
    let nl = match a.via {
        Via::Ioctl => None,
        Via::Netlink => Some(open_netlink()?.ok_or(NbdError::NoDriver)?),
        Via::Auto => open_netlink()?,
    };
    let mut attached = None;
    if let Some(mut nl) = nl {
        let c = netlink::Connect {
            index: a.index,
            size: a.size,
            block_size: a.block_size,
            server_flags: flags,
            sockets: a.sockets,
            backend: a.backend,
        };
        match nl.connect(&c) {
            Ok(i) => attached = Some((i, Via::Netlink)),
            // A kernel whose netlink side refuses what we send may still take the ioctls.
            Err(e)
                if a.via == Via::Auto
                    && a.sockets.len() == 1
                    && e.raw_os_error() == Some(libc::EINVAL) =>
            {
                on_fallback(&e);
            }
            Err(e) => return Err(NbdError::kernel(e, &shown, "NBD_CMD_CONNECT")),
        }
    }
    let (index, via) = match attached {
        Some(x) => x,
        None => (attach_ioctl(a.index, a, flags)?, Via::Ioctl),
    };
    let dev = device_path(index);
    wait_for(|| dev.exists(), Duration::from_secs(5));
    if a.read_only {
        set_read_only(index)?;
    }
    Ok(Attached { index, via })
}

/// Ends the connection of `/dev/nbd<index>` (netlink `NBD_CMD_DISCONNECT`, else the ioctl,
/// which works on netlink-connected devices too) and waits until the kernel shows it free.
/// When `refuse_in_use`, a device that is mounted or held ([`users`]) is left alone
/// ([`NbdError::InUse`]).
pub fn detach(index: u32, refuse_in_use: bool) -> Result<(), NbdError> {
    let dev = device_path(index);
    let shown = dev.display().to_string();
    if !exists(index) {
        return Err(NbdError::NoSuchDevice {
            dev: shown,
            source: None,
        });
    }
    let mut nl = Netlink::open().ok().flatten();
    let connected = nl
        .as_mut()
        .and_then(|n| n.connected(index).ok().flatten())
        .unwrap_or(false);
    if !is_attached(index) && !connected {
        return Err(NbdError::NotAttached { dev: shown });
    }
    let users = users(index);
    if !users.is_empty() && refuse_in_use {
        return Err(NbdError::InUse { dev: shown, users });
    }
    let via_netlink = match nl.as_mut() {
        Some(n) => match n.disconnect(index) {
            Ok(()) => true,
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => false,
            Err(e) => return Err(NbdError::kernel(e, &shown, "NBD_CMD_DISCONNECT")),
        },
        None => false,
    };
    if !via_netlink {
        ioctl::disconnect(&dev).map_err(|e| NbdError::kernel(e, &shown, "NBD_DISCONNECT"))?;
    }
    if !wait_for(|| !is_attached(index), Duration::from_secs(10)) {
        return Err(NbdError::StillAttached { dev: shown });
    }
    Ok(())
}
