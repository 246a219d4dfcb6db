//! The client side of the protocol: connect, send a request, read its reply; start a
//! daemon on demand when none listens.

use crate::protocol;
use serde_json::{Map, Value, json};
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

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{}: {source}", path.display())]
    Connect {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("talking to the daemon: {0}")]
    Io(#[from] std::io::Error),
    #[error("{message}")]
    Daemon { code: String, message: String },
    #[error("bad reply from the daemon: {0}")]
    Protocol(String),
    #[error("started a daemon ({}), but it did not answer on {} within {} s{}", exe.display(), socket.display(), START_TIMEOUT.as_secs(), log_tail)]
    NotReady {
        exe: PathBuf,
        socket: PathBuf,
        log_tail: String,
    },
}

impl ClientError {
    /// The daemon's error code (`password_needed`, `denied`...), for a daemon error.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Daemon { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// A connection to the daemon.
pub struct Client {
    r: BufReader<UnixStream>,
    w: UnixStream,
    next_id: u64,
}

impl Client {
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

    /// Sends `cmd` with `fields` (an object) and returns the successful reply.
    pub fn request(&mut self, cmd: &str, fields: Value) -> Result<Value, ClientError> {
        let id = self.next_id;
        self.next_id += 1;
        let mut m = Map::new();
        m.insert("v".into(), json!(protocol::VERSION));
        m.insert("id".into(), json!(id));
        m.insert("cmd".into(), json!(cmd));
        if let Value::Object(f) = fields {
            m.extend(f);
        }
        let mut line = Value::Object(m).to_string();
        line.push('\n');
        if let Err(e) = self.w.write_all(line.as_bytes()) {
            // The daemon may have refused the connection (one `busy` line, then closed)
            // before the request went out: say why, not "broken pipe" (which the CLI would
            // take for a reader gone away).
            let mut reply = String::new();
            if self.r.read_line(&mut reply).is_ok_and(|n| n > 0)
                && let Ok(v) = serde_json::from_str::<Value>(&reply)
                && v.get("ok") == Some(&Value::Bool(false))
            {
                return Err(daemon_error(&v));
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
        let v: Value =
            serde_json::from_str(&reply).map_err(|e| ClientError::Protocol(e.to_string()))?;
        let refusal = v.get("id") == Some(&Value::Null) && v.get("ok") == Some(&Value::Bool(false));
        if v.get("id") != Some(&json!(id)) && !refusal {
            return Err(ClientError::Protocol(format!(
                "reply to another request: {reply}"
            )));
        }
        // A refusal of the connection or of the line (`busy`, `timeout`...) carries no id.
        if v.get("ok") == Some(&Value::Bool(true)) {
            Ok(v)
        } else {
            Err(daemon_error(&v))
        }
    }
}

/// The error a failed reply carries.
fn daemon_error(v: &Value) -> ClientError {
    ClientError::Daemon {
        code: v
            .get("code")
            .and_then(Value::as_str)
            .unwrap_or("failed")
            .into(),
        message: v
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("unknown error")
            .into(),
    }
}

/// True when a daemon answers `ping` on `socket`.
pub fn ping(socket: &Path) -> bool {
    Client::connect(socket)
        .and_then(|mut c| c.request("ping", json!({})))
        .is_ok()
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
            && c.request("ping", json!({})).is_ok()
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
            let v = protocol::error(&Value::Null, protocol::code::BUSY, "too many connections");
            s.write_all(format!("{v}\n").as_bytes()).unwrap();
        });
        let mut c = Client::connect(&path).unwrap();
        server.join().unwrap();
        // Closed before the request went out: the write fails with EPIPE.
        let e = c.request("drives", json!({})).unwrap_err();
        assert_eq!(e.code(), Some("busy"), "{e:?}");
        assert!(e.to_string().contains("too many connections"), "{e}");
    }
}
