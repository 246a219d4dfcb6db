//! The client side of the protocol: connect, send a request, read its reply; start a
//! daemon on demand when none listens.

use serde_json::Value;
use spindle_protocol::{
    self as protocol, CountReply, DiscArgs, DiscReply, DrivesReply, EjectReply, EjectTarget,
    ErrorCode, ErrorReply, IdentityArgs, IdentityReply, LoadArgs, LoadReply, MountArgs, MountReply,
    PingReply, Reply, Request, ShareArgs, ShareReply, ShutdownReply, UnshareReply,
};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long a started daemon has to answer `ping`.
pub const START_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a client waits for one reply.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(120);

/// What can go wrong talking to the daemon.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No daemon to connect to on the socket.
    #[error("{}: {source}", path.display())]
    Connect {
        /// The socket.
        path: PathBuf,
        /// Why not.
        #[source]
        source: std::io::Error,
    },
    /// Reading or writing the connection.
    #[error("talking to the daemon: {0}")]
    Io(#[from] std::io::Error),
    /// The daemon refused the request (or the connection).
    #[error("{message}")]
    Daemon {
        /// Why.
        code: ErrorCode,
        /// Its message.
        message: String,
    },
    /// A reply this client cannot read.
    #[error("bad reply from the daemon: {0}")]
    Protocol(String),
    /// A daemon started on demand did not answer in time.
    #[error("started a daemon ({}), but it did not answer on {} within {} s{}", exe.display(), socket.display(), START_TIMEOUT.as_secs(), log_tail)]
    NotReady {
        /// The executable started.
        exe: PathBuf,
        /// The socket it should have answered on.
        socket: PathBuf,
        /// The end of its log.
        log_tail: String,
    },
}

impl ClientError {
    /// The daemon's error code (`PasswordNeeded`, `Denied`...), for a daemon error.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ClientError::Daemon { code, .. } => Some(*code),
            _ => None,
        }
    }
}

impl From<ErrorReply> for ClientError {
    fn from(e: ErrorReply) -> ClientError {
        ClientError::Daemon {
            code: e.code,
            message: e.error,
        }
    }
}

/// A connection to the daemon.
pub struct Client {
    r: BufReader<UnixStream>,
    w: UnixStream,
    next_id: u64,
}

/// A typed call: the request, and the reply variant that answers it.
macro_rules! calls {
    ($($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*) -> $out:ty = $req:expr, $variant:ident;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(&mut self $(, $arg: $ty)*) -> Result<$out, ClientError> {
                match self.call(&$req)? {
                    Reply::$variant(r) => Ok(r),
                    other => Err(ClientError::Protocol(format!(
                        "a {} reply to {}",
                        reply_name(&other),
                        stringify!($name)
                    ))),
                }
            }
        )*
    };
}

impl Client {
    /// Connects to the daemon listening on `socket`.
    pub fn connect(socket: &Path) -> Result<Client, ClientError> {
        let w = UnixStream::connect(socket).map_err(|source| ClientError::Connect {
            path: socket.to_path_buf(),
            source,
        })?;
        w.set_read_timeout(Some(REPLY_TIMEOUT))?;
        w.set_write_timeout(Some(REPLY_TIMEOUT))?;
        Ok(Client {
            r: BufReader::new(w.try_clone()?),
            w,
            next_id: 1,
        })
    }

    /// Sends `request` and returns its successful reply.
    pub fn call(&mut self, request: &Request) -> Result<Reply, ClientError> {
        let id = self.next_id;
        self.next_id += 1;
        let v = protocol::request_value(id, request)
            .map_err(|e| ClientError::Protocol(format!("encoding the request: {e}")))?;
        let mut line = v.to_string();
        line.push('\n');
        if let Err(e) = self.w.write_all(line.as_bytes()) {
            // The daemon may have refused the connection (one `busy` line, then closed)
            // before the request went out: say why, not "broken pipe" (which the CLI would
            // take for a reader gone away).
            let mut reply = String::new();
            if self.r.read_line(&mut reply).is_ok_and(|n| n > 0)
                && let Ok(protocol::ReplyLine {
                    outcome: Err(refusal),
                    ..
                }) = protocol::decode_reply(&reply)
            {
                return Err(refusal.into());
            }
            return Err(ClientError::Protocol(format!(
                "sending a request to the daemon: {e}"
            )));
        }
        let mut reply = String::new();
        if self.r.read_line(&mut reply)? == 0 {
            return Err(ClientError::Protocol(
                "the daemon closed the connection".into(),
            ));
        }
        let got = protocol::decode_reply(&reply).map_err(ClientError::Protocol)?;
        // A refusal of the connection or of the line (`busy`, `timeout`...) carries no id.
        let refusal = got.id == Value::Null && got.outcome.is_err();
        if got.id != id && !refusal {
            return Err(ClientError::Protocol(format!(
                "reply to another request: {reply}"
            )));
        }
        let fields = got.outcome?;
        Reply::decode(request, fields)
            .map_err(|e| ClientError::Protocol(format!("{} reply: {e}", request.name())))
    }

    calls! {
        /// `ping`: who answers.
        ping() -> PingReply = Request::Ping, Ping;
        /// `mount`: an image into a drive, its tree mounted.
        mount(args: MountArgs) -> MountReply = Request::Mount(args), Mount;
        /// `load`: swap the disc of a drive.
        load(args: LoadArgs) -> LoadReply = Request::Load(args), Load;
        /// `eject`: the drives `target` names.
        eject(target: EjectTarget) -> EjectReply = Request::Eject(target), Eject;
        /// `drives`: every drive.
        drives() -> DrivesReply = Request::Drives, Drives;
        /// `count`: set the number of drives.
        count(n: u32) -> CountReply = Request::Count { n }, Count;
        /// `share`: serve a drive's NBD exports over TCP.
        share(args: ShareArgs) -> ShareReply = Request::Share(args), Share;
        /// `unshare`: stop serving a drive over TCP.
        unshare(drive: u32) -> UnshareReply = Request::Unshare { drive }, Unshare;
        /// `shutdown`: stop the daemon.
        shutdown() -> ShutdownReply = Request::Shutdown, Shutdown;
        /// `identity`: set what a drive answers to INQUIRY.
        identity(args: IdentityArgs) -> IdentityReply = Request::Identity(args), Identity;
        /// `disc`: change the disc of a drive holding a set.
        disc(args: DiscArgs) -> DiscReply = Request::Disc(args), Disc;
    }
}

/// The command a reply answers, for messages.
fn reply_name(r: &Reply) -> &'static str {
    match r {
        Reply::Ping(_) => "ping",
        Reply::Mount(_) => "mount",
        Reply::Load(_) => "load",
        Reply::Eject(_) => "eject",
        Reply::Drives(_) => "drives",
        Reply::Count(_) => "count",
        Reply::Share(_) => "share",
        Reply::Unshare(_) => "unshare",
        Reply::Shutdown(_) => "shutdown",
        Reply::Identity(_) => "identity",
        Reply::Disc(_) => "disc",
    }
}

/// True when a daemon answers `ping` on `socket`.
pub fn ping(socket: &Path) -> bool {
    Client::connect(socket).and_then(|mut c| c.ping()).is_ok()
}

/// Connects to the daemon on `socket`; when none listens there, starts `exe daemon --socket
/// SOCKET` in a new session (detached: `setsid`, stdio to `log`) and waits up to
/// [`START_TIMEOUT`] for it to answer `ping`. The daemon itself never forks.
pub fn connect_or_start(socket: &Path, exe: &Path, log: &Path) -> Result<Client, ClientError> {
    match Client::connect(socket) {
        Ok(c) => return Ok(c),
        Err(ClientError::Connect { source, .. })
            if matches!(
                source.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
            ) => {}
        Err(e) => return Err(e),
    }
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    let mut cmd = Command::new(exe);
    cmd.arg("daemon")
        .arg("--socket")
        .arg(socket)
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out);
    // SAFETY: setsid is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn()?;
    let deadline = Instant::now() + START_TIMEOUT;
    while Instant::now() < deadline {
        if let Ok(mut c) = Client::connect(socket)
            && c.ping().is_ok()
        {
            // Reap it if it already exited (lost a start race to another daemon).
            let _ = child.try_wait();
            return Ok(c);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.try_wait();
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let tail: Vec<&str> = text.lines().rev().take(5).collect();
    let log_tail = if tail.is_empty() {
        String::new()
    } else {
        format!(
            "; {}: {}",
            log.display(),
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        )
    };
    Err(ClientError::NotReady {
        exe: exe.to_path_buf(),
        socket: socket.to_path_buf(),
        log_tail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;

    #[test]
    fn a_refused_connection_is_the_daemons_error_not_a_broken_pipe() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        let l = UnixListener::bind(&path).unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let v = protocol::error_value(&Value::Null, ErrorCode::Busy, "too many connections");
            s.write_all(format!("{v}\n").as_bytes()).unwrap();
        });
        let mut c = Client::connect(&path).unwrap();
        server.join().unwrap();
        // Closed before the request went out: the write fails with EPIPE.
        let e = c.drives().unwrap_err();
        assert_eq!(e.code(), Some(ErrorCode::Busy), "{e:?}");
        assert!(e.to_string().contains("too many connections"), "{e}");
    }
}
