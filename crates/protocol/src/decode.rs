//! Reading a request line as the daemon does: strictly (no key twice, no field the command
//! does not take, no field of the wrong type), each refusal with its code and a message
//! that says what is wrong.

use crate::code::ErrorCode;
use crate::request::Request;
use crate::{VERSION, strict_json};
use serde_json::Value;

/// Why a line is not a request: the error reply's id, code and message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Rejected {
    /// The request's `id` when the line was read far enough to find it, else null.
    pub id: Value,
    /// The error code.
    pub code: ErrorCode,
    /// What is wrong.
    pub message: String,
}

/// The fields every request may carry.
pub const COMMON: [&str; 3] = ["v", "id", "cmd"];

/// The fields `cmd` takes besides [`COMMON`]; `None`: no such command (`version` is
/// `ping`'s alias).
pub fn fields_of(cmd: &str) -> Option<&'static [&'static str]> {
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
        "identity" => &["drive", "vendor", "product", "revision"],
        "disc" => &["drive", "which", "empty_for_ms"],
        _ => return None,
    })
}

/// Reads one request line: its `id` (null when absent) and the request. Refused: anything
/// but one JSON object, a key given twice (`duplicate_field`, at any depth), a field the
/// command does not take (`unknown_field`), a field of the wrong type or a contradictory
/// set of fields (`bad_request`), another protocol version (`unsupported_version`), an
/// unknown command (`unknown_command`).
pub fn decode_request(line: &[u8]) -> Result<(Value, Request), Rejected> {
    let reject = |id: &Value, code, message: String| Rejected {
        id: id.clone(),
        code,
        message,
    };
    let value = strict_json::parse(line).map_err(|e| {
        let msg = e.to_string();
        if msg.starts_with(strict_json::DUPLICATE) {
            reject(
                &Value::Null,
                ErrorCode::DuplicateField,
                format!("refused: {msg}"),
            )
        } else {
            reject(
                &Value::Null,
                ErrorCode::BadRequest,
                format!("not a JSON request: {msg}"),
            )
        }
    })?;
    let Value::Object(mut obj) = value else {
        return Err(reject(
            &Value::Null,
            ErrorCode::BadRequest,
            "a request is a JSON object".into(),
        ));
    };
    let id = obj.get("id").cloned().unwrap_or(Value::Null);
    match obj.get("v") {
        Some(v) if v.as_u64() == Some(VERSION) => {}
        Some(Value::Number(n)) => {
            return Err(reject(
                &id,
                ErrorCode::UnsupportedVersion,
                format!("protocol version {n} unsupported (this daemon speaks {VERSION})"),
            ));
        }
        Some(other) => {
            return Err(reject(
                &id,
                ErrorCode::BadRequest,
                format!("\"v\" must be the number {VERSION}, not {}", shown(other)),
            ));
        }
        None => {
            return Err(reject(
                &id,
                ErrorCode::BadRequest,
                "missing protocol version \"v\"".into(),
            ));
        }
    }
    let cmd = match obj.get("cmd") {
        Some(Value::String(c)) => c.clone(),
        Some(other) => {
            return Err(reject(
                &id,
                ErrorCode::BadRequest,
                format!("\"cmd\" must be a string, not {}", shown(other)),
            ));
        }
        None => return Err(reject(&id, ErrorCode::BadRequest, "missing \"cmd\"".into())),
    };
    let Some(fields) = fields_of(&cmd) else {
        let name: String = cmd.chars().take(64).collect();
        return Err(reject(
            &id,
            ErrorCode::UnknownCommand,
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
            ErrorCode::UnknownField,
            format!("{cmd}: unknown field {name:?} (it takes {takes})"),
        ));
    }
    obj.remove("v");
    obj.remove("id");
    let request: Request = serde_json::from_value(Value::Object(obj))
        .map_err(|e| reject(&id, ErrorCode::BadRequest, format!("{cmd}: {e}")))?;
    if let Request::Share(a) = &request
        && let Err(why) = a.check()
    {
        return Err(reject(&id, ErrorCode::BadRequest, format!("share: {why}")));
    }
    if let Request::Identity(a) = &request
        && let Err(why) = a.check()
    {
        return Err(reject(
            &id,
            ErrorCode::BadRequest,
            format!("identity: {why}"),
        ));
    }
    Ok((id, request))
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
