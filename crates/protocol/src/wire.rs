//! The lines on the wire: a request with its envelope, a successful or failed reply.

use crate::VERSION;
use crate::code::ErrorCode;
use crate::reply::ErrorReply;
use crate::request::Request;
use serde::Serialize;
use serde_json::{Map, Value};

/// The JSON object of a request: `v`, `id` and the request's own fields (`cmd`...).
pub fn request_value(id: u64, request: &Request) -> serde_json::Result<Value> {
    let mut v = serde_json::to_value(request)?;
    if let Value::Object(m) = &mut v {
        m.insert("v".into(), Value::from(VERSION));
        m.insert("id".into(), Value::from(id));
    }
    Ok(v)
}

/// A successful reply to the request `id`: `v`, `id`, `"ok":true` and the reply's fields.
pub fn ok_value<T: Serialize>(id: &Value, reply: &T) -> serde_json::Result<Value> {
    let mut m = Map::new();
    m.insert("v".into(), Value::from(VERSION));
    m.insert("id".into(), id.clone());
    m.insert("ok".into(), Value::Bool(true));
    if let Value::Object(f) = serde_json::to_value(reply)? {
        m.extend(f);
    }
    Ok(Value::Object(m))
}

/// A failed reply to the request `id` (null: a line that could not be read that far, or a
/// refused connection).
pub fn error_value(id: &Value, code: ErrorCode, message: &str) -> Value {
    let mut m = Map::new();
    m.insert("v".into(), Value::from(VERSION));
    m.insert("id".into(), id.clone());
    m.insert("ok".into(), Value::Bool(false));
    m.insert("code".into(), Value::from(code.as_str()));
    m.insert("error".into(), Value::from(message));
    Value::Object(m)
}

/// A reply line as a client reads it.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplyLine {
    /// The `id` it answers (null: a refusal of a line or of the connection).
    pub id: Value,
    /// The reply's fields (without `v`, `id`, `ok`) when it succeeded, else why not.
    pub outcome: Result<Value, ErrorReply>,
}

/// Reads a reply line. A failed reply's unknown code reads as [`ErrorCode::Failed`]
/// ([`ErrorCode::from_wire`]).
pub fn decode_reply(line: &str) -> Result<ReplyLine, String> {
    let v: Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let Value::Object(mut m) = v else {
        return Err(format!("not a JSON object: {}", line.trim_end()));
    };
    let id = m.remove("id").unwrap_or(Value::Null);
    let outcome = match m.remove("ok") {
        Some(Value::Bool(true)) => {
            m.remove("v");
            Ok(Value::Object(m))
        }
        Some(Value::Bool(false)) => Err(ErrorReply {
            code: ErrorCode::from_wire(m.get("code").and_then(Value::as_str).unwrap_or("")),
            error: m
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("unknown error")
                .into(),
        }),
        _ => return Err(format!("no \"ok\" in the reply: {}", line.trim_end())),
    };
    Ok(ReplyLine { id, outcome })
}
