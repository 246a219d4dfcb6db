//! The NBD servers of the daemon: every loaded drive on the Unix socket beside the control
//! socket, and `spindle share`'s TCP listeners (one drive each, TLS required off loopback).

use crate::nbd::DriveCatalog;
use crate::slots::Table;
use crate::state::SavedShare;
use crate::{DaemonError, Result};
use spindle_nbd::{Server, ServerConfig, TlsConfig, TlsMode};
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

/// A running server and the thread accepting its connections.
struct Running {
    server: Server,
    thread: Option<JoinHandle<()>>,
}

impl Running {
    fn stop(&mut self) {
        self.server.stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The Unix-socket server of every drive.
pub struct LocalNbd {
    path: PathBuf,
    _running: Running,
}

impl LocalNbd {
    /// Binds `path` (replacing a stale socket; private to the daemon's user: the exports
    /// give every loaded disc's bytes) and serves it.
    pub fn start(table: Arc<Table>, path: &Path) -> Result<LocalNbd> {
        let io = |e| DaemonError::io(format!("NBD socket {}", path.display()), e);
        if path.exists() {
            std::fs::remove_file(path).map_err(io)?;
        }
        let listener = UnixListener::bind(path).map_err(io)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
        let server = Server::new(Arc::new(DriveCatalog::all(table)), ServerConfig::default());
        let s = server.clone();
        let thread = std::thread::Builder::new()
            .name("spindle-nbd".into())
            .spawn(move || {
                if let Err(e) = s.serve_unix(listener) {
                    eprintln!("spindle-daemon: NBD socket: {e}");
                }
            })
            .map_err(io)?;
        Ok(LocalNbd {
            path: path.to_path_buf(),
            _running: Running {
                server,
                thread: Some(thread),
            },
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The NBD URI of an export on this socket.
    pub fn uri(&self, export: &str) -> String {
        format!("nbd+unix:///{export}?socket={}", self.path.display())
    }
}

impl Drop for LocalNbd {
    fn drop(&mut self) {
        self._running.stop();
        let _ = std::fs::remove_file(&self.path);
    }
}

/// One `spindle share`.
pub struct Share {
    pub addr: SocketAddr,
    pub tls: bool,
    _running: Running,
}

impl Share {
    /// The URIs of the drive's exports.
    pub fn uris(&self, exports: &[String]) -> Vec<String> {
        let scheme = if self.tls { "nbds" } else { "nbd" };
        exports
            .iter()
            .map(|e| format!("{scheme}://{}/{e}", self.addr))
            .collect()
    }
}

/// Starts serving a share's drive on TCP, for the user who shared it.
pub fn start_share(table: Arc<Table>, saved: &SavedShare, tls: Option<TlsMode>) -> Result<Share> {
    let spec = &saved.share;
    let addrs: Vec<SocketAddr> = spec
        .listen
        .to_socket_addrs()
        .map_err(|e| {
            DaemonError::Invalid(format!("{}: not a HOST:PORT address ({e})", spec.listen))
        })?
        .collect();
    let addr = *addrs
        .first()
        .ok_or_else(|| DaemonError::Invalid(format!("{}: no address", spec.listen)))?;
    if tls.is_none() && !addrs.iter().all(|a| a.ip().is_loopback()) {
        return Err(DaemonError::Invalid(format!(
            "{}: not a loopback address: sharing off this machine needs TLS (--tls-cert/--tls-key or --tls-psk)",
            spec.listen
        )));
    }
    let listener =
        TcpListener::bind(addr).map_err(|e| DaemonError::io(format!("listening on {addr}"), e))?;
    let addr = listener.local_addr().unwrap_or(addr);
    let tls_on = tls.is_some();
    let config = ServerConfig {
        tls: tls.unwrap_or(TlsMode::None),
        ..ServerConfig::default()
    };
    let mut catalog = DriveCatalog::shared(table, spec.drive, saved.owner.uid);
    if spec.tls_psk.is_none() && !spec.public {
        catalog = catalog.public_only();
    }
    let server = Server::new(Arc::new(catalog), config);
    let s = server.clone();
    let thread = std::thread::Builder::new()
        .name(format!("spindle-share-{}", spec.drive))
        .spawn(move || {
            if let Err(e) = s.serve_tcp(listener) {
                eprintln!("spindle-daemon: share on {addr}: {e}");
            }
        })
        .map_err(|e| DaemonError::io("starting a share", e))?;
    Ok(Share {
        addr,
        tls: tls_on,
        _running: Running {
            server,
            thread: Some(thread),
        },
    })
}

/// Whether every local user could read the disc's files: each file the disc reads (and the
/// one named) readable by others (`o+r`), and every directory above it searchable by others
/// (`o+x`), after resolving symbolic links. `Err`: the first that is not, and why. A share
/// that authenticates no client serves only such discs, unless the sharer said `--public`.
pub fn readable_by_all(disc: &spindle_disc::Disc) -> std::result::Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let mut files = vec![disc.source.path.clone()];
    files.extend(disc.source.files.iter().cloned());
    files.sort();
    files.dedup();
    for f in &files {
        let real = f
            .canonicalize()
            .map_err(|e| format!("{}: {e}", f.display()))?;
        let meta = std::fs::metadata(&real).map_err(|e| format!("{}: {e}", real.display()))?;
        if meta.mode() & 0o004 == 0 {
            return Err(format!(
                "{}: mode {:o}, not readable by others",
                real.display(),
                meta.mode() & 0o7777
            ));
        }
        for dir in real.ancestors().skip(1) {
            let meta = std::fs::metadata(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            if meta.mode() & 0o001 == 0 {
                return Err(format!(
                    "directory {}: mode {:o}, not searchable by others",
                    dir.display(),
                    meta.mode() & 0o7777
                ));
            }
        }
    }
    Ok(())
}

/// The TLS configuration a `share` asks for, its files read with the user's rights (a root
/// daemon must not hand out a key file the user could not read).
pub fn load_tls(saved: &SavedShare) -> Result<Option<TlsMode>> {
    let a = &saved.share;
    let (cert, key, psk) = (a.tls_cert.clone(), a.tls_key.clone(), a.tls_psk.clone());
    if cert.is_none() && psk.is_none() {
        return Ok(None);
    }
    let loaded = crate::creds::as_user(&saved.owner, move || match (cert, key, psk) {
        (Some(c), Some(k), _) => TlsConfig::from_cert_files(c, k),
        (_, _, Some(p)) => TlsConfig::from_psk_file(p),
        _ => unreachable!("checked by the protocol parser"),
    })
    .map_err(|e| DaemonError::io("reading the TLS files", e))?;
    let config = loaded.map_err(|e| DaemonError::Invalid(format!("TLS: {e}")))?;
    Ok(Some(TlsMode::Required(config)))
}
