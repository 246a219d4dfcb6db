//! JSON parsing for requests that refuses an object with the same key twice, at any depth
//! (`serde_json::Value` keeps the last one silently: `{"cmd":"ping","cmd":"shutdown"}` would be
//! a shutdown).

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::fmt;

/// Parses `bytes` as one JSON value; a repeated key in any object is an error whose message
/// starts with [`DUPLICATE`].
pub(crate) fn parse(bytes: &[u8]) -> serde_json::Result<Value> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let v = Strict.deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

/// The start of the error message for a repeated key.
pub(crate) const DUPLICATE: &str = "duplicate field";

struct Strict;

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(Strict)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }
    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Value, E> {
        Number::from_f64(n)
            .map(Value::Number)
            .ok_or_else(|| E::custom("not a finite number"))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Strict.deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(Strict)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            if out.contains_key(&k) {
                let shown: String = k.chars().take(64).collect();
                return Err(de::Error::custom(format!("{DUPLICATE} {shown:?}")));
            }
            let v = map.next_value_seed(Strict)?;
            out.insert(k, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_are_refused_at_any_depth() {
        // What serde_json's own Value does: the last one wins.
        let lax: Value = serde_json::from_slice(br#"{"cmd":"ping","cmd":"shutdown"}"#).unwrap();
        assert_eq!(lax["cmd"], "shutdown");
        for bad in [
            &br#"{"cmd":"ping","cmd":"shutdown"}"#[..],
            br#"{"a":1,"b":2,"a":1}"#,
            br#"{"id":{"x":1,"x":2}}"#,
            br#"{"id":[{"x":1,"x":2}]}"#,
            // The same key spelt with an escape is the same key.
            br#"{"cmd":"ping","c\u006dd":"shutdown"}"#,
        ] {
            let e = parse(bad).unwrap_err().to_string();
            assert!(
                e.starts_with(DUPLICATE),
                "{}: {e}",
                String::from_utf8_lossy(bad)
            );
        }
        let v = parse(br#"{"v":1,"id":[1,-2,3.5,"x",null,true,{"a":{}}],"cmd":"ping"}"#).unwrap();
        assert_eq!(v["id"][6]["a"], serde_json::json!({}));
        assert!(parse(b"{} x").is_err());
        // Deep nesting stops at serde_json's depth limit, not at the end of the stack.
        let deep = format!("{{\"id\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(
            parse(deep.as_bytes())
                .unwrap_err()
                .to_string()
                .contains("recursion limit")
        );
        assert!(parse(b"{\"a\":1").is_err());
    }
}
