//! The control protocol: one JSON object per line each way, over a Unix stream socket
//! (docs/protocol.md is the reference).
//!
//! A request is `{"v":1,"id":ID,"cmd":NAME,...}`; the reply carries the same `v` and `id`,
//! `"ok":true` and the command's fields, or `"ok":false`, an `error` message and a short
//! `code`. Requests on one connection are answered in order.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::path::PathBuf;

/// The protocol version this daemon speaks.
pub const VERSION: u64 = 1;
/// The longest request line accepted (without its newline).
pub const MAX_LINE: usize = 1 << 20;

/// Error codes of failed replies.
pub mod code {
    pub const BAD_REQUEST: &str = "bad_request";
    pub const TOO_LONG: &str = "too_long";
    pub const UNKNOWN_COMMAND: &str = "unknown_command";
    pub const VERSION: &str = "unsupported_version";
    pub const PASSWORD_NEEDED: &str = "password_needed";
    pub const DENIED: &str = "denied";
    pub const FAILED: &str = "failed";
    pub const INCOMPLETE: &str = "incomplete";
    pub const TIMEOUT: &str = "timeout";
    pub const BUSY: &str = "busy";
    /// A mount point refused: a link, not an empty directory of the caller's, a system path.
    pub const MOUNT_POINT: &str = "bad_mount_point";
}

/// A parsed request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Ping,
    Mount(MountArgs),
    Load(LoadArgs),
    Eject(EjectArgs),
    Drives,
    Count { n: u32 },
    Share(ShareArgs),
    Unshare { drive: u32 },
    Shutdown,
}

/// `share`: serve one drive's exports over TCP.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct ShareArgs {
    pub drive: u32,
    /// `HOST:PORT` to listen on.
    pub listen: String,
    /// X.509: the certificate chain and private key (PEM files the user can read).
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
    /// A pre-shared key file (`identity:hexkey` lines, as `psktool` writes them).
    #[serde(default)]
    pub tls_psk: Option<PathBuf>,
}

#[derive(Deserialize)]
struct DriveArg {
    drive: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct MountArgs {
    pub image: PathBuf,
    #[serde(default)]
    pub drive: Option<u32>,
    #[serde(default)]
    pub at: Option<PathBuf>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub allow_other: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct LoadArgs {
    pub drive: u32,
    pub image: PathBuf,
    #[serde(default)]
    pub password: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct EjectArgs {
    #[serde(default)]
    pub drive: Option<u32>,
    #[serde(default)]
    pub path: Option<PathBuf>,
    #[serde(default)]
    pub all: bool,
}

#[derive(Deserialize)]
struct CountArgs {
    n: u32,
}

/// Why a line is not a request: the error reply's code and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejected {
    pub id: Value,
    pub code: &'static str,
    pub message: String,
}

/// Parses one request line.
pub fn parse(line: &[u8]) -> Result<(Value, Command), Rejected> {
    let reject = |id: &Value, code, message: String| Rejected {
        id: id.clone(),
        code,
        message,
    };
    let value: Value =
        serde_json::from_slice(line).map_err(|e| reject(&Value::Null, code::BAD_REQUEST, format!("not a JSON request: {e}")))?;
    let Value::Object(obj) = value else {
        return Err(reject(&Value::Null, code::BAD_REQUEST, "a request is a JSON object".into()));
    };
    let id = obj.get("id").cloned().unwrap_or(Value::Null);
    match obj.get("v").and_then(Value::as_u64) {
        Some(VERSION) => {}
        Some(v) => {
            return Err(reject(
                &id,
                code::VERSION,
                format!("protocol version {v} unsupported (this daemon speaks {VERSION})"),
            ));
        }
        None => return Err(reject(&id, code::BAD_REQUEST, "missing protocol version \"v\"".into())),
    }
    let Some(cmd) = obj.get("cmd").and_then(Value::as_str) else {
        return Err(reject(&id, code::BAD_REQUEST, "missing \"cmd\"".into()));
    };
    let args = |o: &Map<String, Value>| Value::Object(o.clone());
    let bad = |e: serde_json::Error| reject(&id, code::BAD_REQUEST, format!("{cmd}: {e}"));
    let command = match cmd {
        "ping" | "version" => Command::Ping,
        "mount" => Command::Mount(serde_json::from_value(args(&obj)).map_err(bad)?),
        "load" => Command::Load(serde_json::from_value(args(&obj)).map_err(bad)?),
        "eject" => {
            let a: EjectArgs = serde_json::from_value(args(&obj)).map_err(bad)?;
            let named = a.drive.is_some() as u8 + a.path.is_some() as u8 + a.all as u8;
            if named != 1 {
                return Err(reject(
                    &id,
                    code::BAD_REQUEST,
                    "eject: give exactly one of \"drive\", \"path\", \"all\"".into(),
                ));
            }
            Command::Eject(a)
        }
        "drives" => Command::Drives,
        "count" => Command::Count {
            n: serde_json::from_value::<CountArgs>(args(&obj)).map_err(bad)?.n,
        },
        "share" => {
            let a: ShareArgs = serde_json::from_value(args(&obj)).map_err(bad)?;
            if a.tls_cert.is_some() != a.tls_key.is_some() {
                return Err(reject(
                    &id,
                    code::BAD_REQUEST,
                    "share: give both \"tls_cert\" and \"tls_key\"".into(),
                ));
            }
            if a.tls_cert.is_some() && a.tls_psk.is_some() {
                return Err(reject(
                    &id,
                    code::BAD_REQUEST,
                    "share: give a certificate or a PSK file, not both".into(),
                ));
            }
            Command::Share(a)
        }
        "unshare" => Command::Unshare {
            drive: serde_json::from_value::<DriveArg>(args(&obj)).map_err(bad)?.drive,
        },
        "shutdown" => Command::Shutdown,
        other => {
            let shown: String = other.chars().take(64).collect();
            return Err(reject(&id, code::UNKNOWN_COMMAND, format!("unknown command {shown:?}")));
        }
    };
    Ok((id, command))
}

/// A successful reply with `fields` (an object) merged in.
pub fn ok(id: &Value, fields: Value) -> Value {
    let mut m = Map::new();
    m.insert("v".into(), json!(VERSION));
    m.insert("id".into(), id.clone());
    m.insert("ok".into(), json!(true));
    if let Value::Object(f) = fields {
        m.extend(f);
    }
    Value::Object(m)
}

/// A failed reply.
pub fn error(id: &Value, code: &str, message: &str) -> Value {
    json!({"v": VERSION, "id": id, "ok": false, "code": code, "error": message})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_requests() {
        let (id, c) = parse(br#"{"v":1,"id":7,"cmd":"mount","image":"/a.iso","drive":null,"at":null,"password":null}"#).unwrap();
        assert_eq!(id, json!(7));
        assert_eq!(
            c,
            Command::Mount(MountArgs {
                image: "/a.iso".into(),
                ..Default::default()
            })
        );
        assert_eq!(
            parse(br#"{"v":1,"id":1,"cmd":"count","n":64}"#).unwrap().1,
            Command::Count { n: 64 }
        );
        assert_eq!(
            parse(br#"{"v":1,"cmd":"eject","all":true}"#).unwrap().1,
            Command::Eject(EjectArgs {
                all: true,
                ..Default::default()
            })
        );
    }

    #[test]
    fn rejects_with_codes() {
        assert_eq!(parse(b"garbage").unwrap_err().code, code::BAD_REQUEST);
        assert_eq!(parse(b"[1,2]").unwrap_err().code, code::BAD_REQUEST);
        assert_eq!(parse(br#"{"v":2,"id":1,"cmd":"ping"}"#).unwrap_err().code, code::VERSION);
        let r = parse(br#"{"v":1,"id":"x","cmd":"frobnicate"}"#).unwrap_err();
        assert_eq!((r.code, r.id), (code::UNKNOWN_COMMAND, json!("x")));
        assert_eq!(parse(br#"{"v":1,"id":1,"cmd":"eject"}"#).unwrap_err().code, code::BAD_REQUEST);
        assert_eq!(parse(br#"{"v":1,"id":1,"cmd":"mount"}"#).unwrap_err().code, code::BAD_REQUEST);
        assert_eq!(
            parse(br#"{"v":1,"id":1,"cmd":"count","n":-1}"#).unwrap_err().code,
            code::BAD_REQUEST
        );
    }
}
