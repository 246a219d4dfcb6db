//! The server: listeners, connection limits, stopping.

use std::collections::HashMap;
use std::io;
use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixListener;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::export::Catalog;
use crate::handshake;
use crate::socket;
use crate::socket::Socket;
use crate::tls::TlsConfig;
use crate::transmission;

/// Whether and how clients must use NBD_OPT_STARTTLS.
#[derive(Clone, Default)]
pub enum TlsMode {
    /// No TLS: STARTTLS is refused (NBD_REP_ERR_POLICY).
    #[default]
    None,
    /// Clients may upgrade with STARTTLS; plain clients are served too.
    Optional(TlsConfig),
    /// Every option but STARTTLS and ABORT gets NBD_REP_ERR_TLS_REQD until TLS is on.
    Required(TlsConfig),
}

/// Limits and modes. Exports are always read-only.
#[derive(Clone)]
pub struct ServerConfig {
    /// Whether STARTTLS is offered or required, and with which keys.
    pub tls: TlsMode,
    /// Connections served at once; more are accepted and closed at once.
    pub max_connections: usize,
    /// The whole option haggling (and each read in it) must finish within this.
    pub handshake_timeout: Duration,
    /// Bytes of reads in flight per connection (one request may exceed it when it is
    /// the only one in flight, up to the 32 MiB maximum block size).
    pub max_inflight_bytes: usize,
    /// Requests in flight per connection.
    pub max_inflight_requests: usize,
    /// Worker threads per connection (the reader thread comes on top). TLS connections
    /// are served by their reader thread alone.
    pub workers: usize,
    /// Use sendfile(2) for ranges of an export that a plain file backs
    /// ([`spindle_bytes::ByteSource::backing`]).
    pub zero_copy: bool,
    /// A reply the client does not drain within this ends the connection.
    pub write_timeout: Duration,
    /// SO_SNDBUF for transmission (the kernel caps it at net.core.wmem_max). 2 MiB by
    /// default: fewer wake-ups per reply than the 208 KiB Unix-socket default.
    pub send_buffer: Option<usize>,
    /// TCP congestion control for loopback listeners: the first of these the kernel
    /// accepts (empty: the system's default). See docs/nbd.md: BBR, a common default, paces
    /// every reply to its bandwidth estimate, which on loopback only costs time.
    pub loopback_congestion: Vec<String>,
    /// TCP_NOTSENT_LOWAT for TCP transmission: the sender sleeps while more than this is
    /// queued unsent, so it is the sender's own thread that puts the next data on the wire
    /// when the window opens, not the receiver's ACK in the receiver's time (loopback:
    /// +10 % for one connection, docs/nbd.md). 16 KiB by default.
    pub tcp_notsent_lowat: Option<u32>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            tls: TlsMode::None,
            max_connections: 64,
            handshake_timeout: Duration::from_secs(10),
            max_inflight_bytes: 32 << 20,
            max_inflight_requests: 128,
            workers: 2,
            zero_copy: true,
            write_timeout: Duration::from_secs(120),
            send_buffer: Some(2 << 20),
            loopback_congestion: vec!["cubic".into(), "reno".into()],
            tcp_notsent_lowat: Some(16 << 10),
        }
    }
}

pub(crate) struct Inner {
    pub catalog: Arc<dyn Catalog>,
    pub config: ServerConfig,
    pub stopping: AtomicBool,
    next_id: AtomicU64,
    /// Control clones of the live connections' sockets, to shut them down on stop.
    live: Mutex<HashMap<u64, Socket>>,
    gone: Condvar,
}

/// An NBD server over a [`Catalog`]. Cheap to clone: clones share connections and the stop flag.
#[derive(Clone)]
pub struct Server {
    inner: Arc<Inner>,
}

/// Ends a connection's registration when its thread ends.
struct Registration<'a> {
    inner: &'a Inner,
    id: u64,
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        let mut live = self.inner.live.lock().unwrap_or_else(|p| p.into_inner());
        live.remove(&self.id);
        self.inner.gone.notify_all();
    }
}

impl Server {
    /// A server of the exports `catalog` names, with `config`'s limits; nothing listens until
    /// one of its serve methods runs.
    pub fn new(catalog: Arc<dyn Catalog>, config: ServerConfig) -> Server {
        Server {
            inner: Arc::new(Inner {
                catalog,
                config,
                stopping: AtomicBool::new(false),
                next_id: AtomicU64::new(0),
                live: Mutex::new(HashMap::new()),
                gone: Condvar::new(),
            }),
        }
    }

    /// Stops the server: listeners return, live connections are shut down.
    pub fn stop(&self) {
        self.inner.stopping.store(true, Ordering::SeqCst);
        let live = self.inner.live.lock().unwrap_or_else(|p| p.into_inner());
        for s in live.values() {
            s.shutdown();
        }
    }

    /// True once [`stop`](Server::stop) was called.
    pub fn is_stopping(&self) -> bool {
        self.inner.stopping.load(Ordering::SeqCst)
    }

    /// Connections being served now.
    pub fn connections(&self) -> usize {
        self.inner.live.lock().map(|l| l.len()).unwrap_or(0)
    }

    /// Serves one accepted connection on the calling thread until it ends.
    pub fn serve_stream(&self, sock: impl Into<Socket>) -> io::Result<()> {
        let sock = sock.into();
        let Some(id) = self.register(&sock) else {
            return Ok(());
        };
        let reg = Registration {
            inner: &self.inner,
            id,
        };
        let r = serve_connection(&self.inner, sock);
        drop(reg);
        r
    }

    /// Adds a connection to the live ones and returns its id; `None` (the socket shut down)
    /// once stopping or at the connection cap.
    fn register(&self, sock: &Socket) -> Option<u64> {
        let mut live = self.inner.live.lock().unwrap_or_else(|p| p.into_inner());
        if self.is_stopping() || live.len() >= self.inner.config.max_connections {
            drop(live);
            sock.shutdown();
            return None;
        }
        let ctl = sock.try_clone().ok()?;
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        live.insert(id, ctl);
        Some(id)
    }

    fn spawn(&self, sock: Socket) {
        // Register on the accepting thread, so that the cap holds before threads start.
        let Some(id) = self.register(&sock) else {
            return;
        };
        let inner = Arc::clone(&self.inner);
        let spawned = std::thread::Builder::new()
            .name("nbd-conn".into())
            .spawn(move || {
                let reg = Registration { inner: &inner, id };
                let _ = serve_connection(&inner, sock);
                drop(reg);
            });
        if spawned.is_err() {
            let mut live = self.inner.live.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(s) = live.remove(&id) {
                s.shutdown();
            }
        }
    }

    /// Waits until the listener is readable or the server stops; true when readable.
    fn wait_readable(&self, fd: i32) -> bool {
        while !self.is_stopping() {
            let mut p = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            let n = unsafe { libc::poll(&mut p, 1, 100) };
            if n > 0 {
                return true;
            }
        }
        false
    }

    /// After the accept loop ends: waits for the connections to go.
    fn drain(&self) {
        let mut live = self.inner.live.lock().unwrap_or_else(|p| p.into_inner());
        while !live.is_empty() {
            for s in live.values() {
                s.shutdown();
            }
            live = self
                .inner
                .gone
                .wait_timeout(live, Duration::from_millis(100))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Accepts connections on a Unix socket until [`Server::stop`].
    pub fn serve_unix(&self, listener: UnixListener) -> io::Result<()> {
        self.serve_listener(listener.as_raw_fd(), || {
            listener.accept().map(|(s, _)| s.into())
        })
    }

    /// Accepts connections over TCP until [`Server::stop`].
    pub fn serve_tcp(&self, listener: TcpListener) -> io::Result<()> {
        // Only on a loopback listener: its sockets inherit the choice from their start.
        // (Set on an accepted socket, it comes too late: a connection that began under BBR
        // stays paced.) Other listeners keep the system's choice, loopback peers included.
        let loopback = listener
            .local_addr()
            .map(|a| a.ip().to_canonical().is_loopback())
            .unwrap_or(false);
        if loopback {
            socket::set_congestion(listener.as_raw_fd(), &self.inner.config.loopback_congestion);
        }
        self.serve_listener(listener.as_raw_fd(), || {
            listener.accept().map(|(s, _)| s.into())
        })
    }

    /// The accept loop of either listener; waits for the connections to end once stopped.
    fn serve_listener(&self, fd: i32, accept: impl Fn() -> io::Result<Socket>) -> io::Result<()> {
        while self.wait_readable(fd) {
            match accept() {
                Ok(s) => self.spawn(s),
                Err(e) if transient(&e) => std::thread::sleep(Duration::from_millis(10)),
                Err(e) => return Err(e),
            }
        }
        self.drain();
        Ok(())
    }
}

/// Accept errors that do not end the listener (a peer that went away, fd exhaustion).
fn transient(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ECONNABORTED)
            | Some(libc::EINTR)
            | Some(libc::EAGAIN)
            | Some(libc::EMFILE)
            | Some(libc::ENFILE)
            | Some(libc::ENOBUFS)
            | Some(libc::ENOMEM)
            | Some(libc::EPROTO)
            | Some(libc::EPERM)
    )
}

fn serve_connection(inner: &Inner, sock: Socket) -> io::Result<()> {
    let ctl = sock.try_clone()?;
    ctl.set_read_timeout(Some(inner.config.handshake_timeout))?;
    ctl.set_write_timeout(Some(inner.config.handshake_timeout))?;
    let negotiated = match handshake::negotiate(inner, sock, &ctl) {
        Ok(Some(n)) => n,
        Ok(None) => {
            ctl.shutdown();
            return Ok(());
        }
        Err(e) => {
            ctl.shutdown();
            return Err(e);
        }
    };
    ctl.set_read_timeout(None)?;
    ctl.set_write_timeout(Some(inner.config.write_timeout))?;
    if let Some(bytes) = inner.config.send_buffer {
        ctl.set_send_buffer(bytes);
    }
    if let Some(bytes) = inner.config.tcp_notsent_lowat {
        ctl.set_notsent_lowat(bytes);
    }
    let r = transmission::run(inner, negotiated, &ctl);
    ctl.shutdown();
    r
}
