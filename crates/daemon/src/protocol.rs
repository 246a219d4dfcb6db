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
    pub const DUPLICATE_FIELD: &str = "duplicate_field";
    pub const UNKNOWN_FIELD: &str = "unknown_field";
    /// `share` without TLS of a disc other local users cannot read.
    pub const PRIVATE_DISC: &str = "private_disc";
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
/// (No `deny_unknown_fields`: the saved state flattens it; [`parse`] checks the fields.)
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
    /// Serve without TLS even a disc other local users cannot read (loopback only).
    #[serde(default)]
    pub public: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DriveArg {
    drive: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
pub struct LoadArgs {
    pub drive: u32,
    pub image: PathBuf,
    #[serde(default)]
    pub password: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EjectArgs {
    #[serde(default)]
    pub drive: Option<u32>,
    #[serde(default)]
    pub path: Option<PathBuf>,
    #[serde(default)]
    pub all: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
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

/// The fields every request may carry.
const COMMON: [&str; 3] = ["v", "id", "cmd"];

/// The fields of each command (besides [`COMMON`]); `None`: no such command.
fn fields_of(cmd: &str) -> Option<&'static [&'static str]> {
    Some(match cmd {
        "ping" | "version" | "drives" | "shutdown" => &[],
        "mount" => &["image", "drive", "at", "password", "allow_other"],
        "load" => &["drive", "image", "password"],
        "eject" => &["drive", "path", "all"],
        "count" => &["n"],
        "share" => &[
            "drive", "listen", "tls_cert", "tls_key", "tls_psk", "public",
        ],
        "unshare" => &["drive"],
        _ => return None,
    })
}

/// Parses one request line. Refused: anything but one JSON object, a key given twice
/// (`duplicate_field`, at any depth), a field the command does not take (`unknown_field`), a
/// field of the wrong type (`bad_request`).
pub fn parse(line: &[u8]) -> Result<(Value, Command), Rejected> {
    let reject = |id: &Value, code, message: String| Rejected {
        id: id.clone(),
        code,
        message,
    };
    let value = crate::strict_json::parse(line).map_err(|e| {
        let msg = e.to_string();
        if msg.starts_with(crate::strict_json::DUPLICATE) {
            reject(
                &Value::Null,
                code::DUPLICATE_FIELD,
                format!("refused: {msg}"),
            )
        } else {
            reject(
                &Value::Null,
                code::BAD_REQUEST,
                format!("not a JSON request: {msg}"),
            )
        }
    })?;
    let Value::Object(mut obj) = value else {
        return Err(reject(
            &Value::Null,
            code::BAD_REQUEST,
            "a request is a JSON object".into(),
        ));
    };
    let id = obj.get("id").cloned().unwrap_or(Value::Null);
    match obj.get("v") {
        Some(v) if v.as_u64() == Some(VERSION) => {}
        Some(Value::Number(n)) => {
            return Err(reject(
                &id,
                code::VERSION,
                format!("protocol version {n} unsupported (this daemon speaks {VERSION})"),
            ));
        }
        Some(other) => {
            return Err(reject(
                &id,
                code::BAD_REQUEST,
                format!("\"v\" must be the number {VERSION}, not {}", shown(other)),
            ));
        }
        None => {
            return Err(reject(
                &id,
                code::BAD_REQUEST,
                "missing protocol version \"v\"".into(),
            ));
        }
    }
    let cmd = match obj.get("cmd") {
        Some(Value::String(c)) => c.clone(),
        Some(other) => {
            return Err(reject(
                &id,
                code::BAD_REQUEST,
                format!("\"cmd\" must be a string, not {}", shown(other)),
            ));
        }
        None => return Err(reject(&id, code::BAD_REQUEST, "missing \"cmd\"".into())),
    };
    let Some(fields) = fields_of(&cmd) else {
        let name: String = cmd.chars().take(64).collect();
        return Err(reject(
            &id,
            code::UNKNOWN_COMMAND,
            format!("unknown command {name:?}"),
        ));
    };
    if let Some(k) = obj
        .keys()
        .find(|k| !COMMON.contains(&k.as_str()) && !fields.contains(&k.as_str()))
    {
        let name: String = k.chars().take(64).collect();
        let takes = if fields.is_empty() {
            "no fields".to_string()
        } else {
            fields.join(", ")
        };
        return Err(reject(
            &id,
            code::UNKNOWN_FIELD,
            format!("{cmd}: unknown field {name:?} (it takes {takes})"),
        ));
    }
    for k in COMMON {
        obj.remove(k);
    }
    let args = Value::Object(obj);
    let bad = |e: serde_json::Error| reject(&id, code::BAD_REQUEST, format!("{cmd}: {e}"));
    let command = match cmd.as_str() {
        "ping" | "version" => Command::Ping,
        "mount" => Command::Mount(serde_json::from_value(args).map_err(bad)?),
        "load" => Command::Load(serde_json::from_value(args).map_err(bad)?),
        "eject" => {
            let a: EjectArgs = serde_json::from_value(args).map_err(bad)?;
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
            n: serde_json::from_value::<CountArgs>(args).map_err(bad)?.n,
        },
        "share" => {
            let a: ShareArgs = serde_json::from_value(args).map_err(bad)?;
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
            drive: serde_json::from_value::<DriveArg>(args).map_err(bad)?.drive,
        },
        "shutdown" => Command::Shutdown,
        // A command in `fields_of` without its arm here: refused, never taken for another.
        other => {
            let name: String = other.chars().take(64).collect();
            return Err(reject(
                &id,
                code::UNKNOWN_COMMAND,
                format!("unknown command {name:?}"),
            ));
        }
    };
    Ok((id, command))
}

/// A value for an error message, cut short.
fn shown(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 64 {
        format!("{}...", s.chars().take(64).collect::<String>())
    } else {
        s
    }
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
        assert_eq!(
            parse(br#"{"v":2,"id":1,"cmd":"ping"}"#).unwrap_err().code,
            code::VERSION
        );
        let r = parse(br#"{"v":1,"id":"x","cmd":"frobnicate"}"#).unwrap_err();
        assert_eq!((r.code, r.id), (code::UNKNOWN_COMMAND, json!("x")));
        assert_eq!(
            parse(br#"{"v":1,"id":1,"cmd":"eject"}"#).unwrap_err().code,
            code::BAD_REQUEST
        );
        assert_eq!(
            parse(br#"{"v":1,"id":1,"cmd":"mount"}"#).unwrap_err().code,
            code::BAD_REQUEST
        );
        assert_eq!(
            parse(br#"{"v":1,"id":1,"cmd":"count","n":-1}"#)
                .unwrap_err()
                .code,
            code::BAD_REQUEST
        );
    }

    #[test]
    fn duplicate_keys_unknown_fields_and_wrong_types_are_refused() {
        let code_of = |l: &[u8]| parse(l).unwrap_err().code;
        // The last key would win in a plain serde_json::Value: a ping that shuts down.
        assert_eq!(
            code_of(br#"{"v":1,"id":1,"cmd":"ping","cmd":"shutdown"}"#),
            code::DUPLICATE_FIELD
        );
        assert_eq!(
            code_of(br#"{"v":1,"v":1,"cmd":"ping"}"#),
            code::DUPLICATE_FIELD
        );
        assert_eq!(
            code_of(br#"{"v":1,"cmd":"count","n":4,"n":1}"#),
            code::DUPLICATE_FIELD
        );
        assert_eq!(
            code_of(br#"{"v":1,"id":{"a":1,"a":2},"cmd":"ping"}"#),
            code::DUPLICATE_FIELD
        );
        // Unknown fields, for every command (and the reply names the field and what it takes).
        let r = parse(br#"{"v":1,"id":3,"cmd":"ping","drive":1}"#).unwrap_err();
        assert_eq!((r.code, r.id), (code::UNKNOWN_FIELD, json!(3)));
        assert!(r.message.contains("\"drive\""), "{}", r.message);
        for l in [
            &br#"{"v":1,"cmd":"mount","image":"/a.iso","force":true}"#[..],
            br#"{"v":1,"cmd":"load","drive":0,"image":"/a.iso","at":"/x"}"#,
            br#"{"v":1,"cmd":"eject","all":true,"every":true}"#,
            br#"{"v":1,"cmd":"drives","count":1}"#,
            br#"{"v":1,"cmd":"count","n":1,"uid":0}"#,
            br#"{"v":1,"cmd":"share","drive":0,"listen":"127.0.0.1:0","tls":false}"#,
            br#"{"v":1,"cmd":"unshare","drive":0,"all":true}"#,
            br#"{"v":1,"cmd":"shutdown","now":true}"#,
        ] {
            assert_eq!(
                code_of(l),
                code::UNKNOWN_FIELD,
                "{}",
                String::from_utf8_lossy(l)
            );
        }
        // Wrong types.
        for l in [
            &br#"{"v":"1","cmd":"ping"}"#[..],
            br#"{"v":1,"cmd":7}"#,
            br#"{"v":1,"cmd":"mount","image":"/a.iso","drive":"0"}"#,
            br#"{"v":1,"cmd":"mount","image":"/a.iso","allow_other":"yes"}"#,
            br#"{"v":1,"cmd":"mount","image":"/a.iso","allow_other":null}"#,
            br#"{"v":1,"cmd":"count","n":1.5}"#,
            br#"{"v":1,"cmd":"share","drive":0,"listen":"127.0.0.1:0","public":1}"#,
            br#"{"v":1,"cmd":"eject","drive":-1}"#,
        ] {
            assert_eq!(
                code_of(l),
                code::BAD_REQUEST,
                "{}",
                String::from_utf8_lossy(l)
            );
        }
        // What the CLI sends still parses.
        assert!(parse(br#"{"v":1,"id":1,"cmd":"share","drive":0,"listen":"127.0.0.1:0","tls_cert":null,"tls_key":null,"tls_psk":null,"public":false}"#).is_ok());
        assert!(
            parse(br#"{"v":1,"id":1,"cmd":"load","drive":0,"image":"/a.iso","password":null}"#)
                .is_ok()
        );
    }
}
