//! The daemon's control protocol: one request line from the fuzzer through
//! `spindle_protocol::decode_request`. It must return a request or a refusal with a code,
//! never panic; and what it accepts must mean the same to a plain JSON reader (no key given
//! twice, so no "last one wins" disagreement such as `{"cmd":"ping","cmd":"shutdown"}`), and
//! encode back to a line it accepts again as the same request.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spindle_protocol::{ErrorCode, Request, VERSION, decode_request, request_value};

/// The `cmd` strings a request may have been read from.
fn names(r: &Request) -> &'static [&'static str] {
    match r {
        Request::Ping => &["ping", "version"],
        Request::Mount(_) => &["mount"],
        Request::Load(_) => &["load"],
        Request::Eject(_) => &["eject"],
        Request::Drives => &["drives"],
        Request::Count { .. } => &["count"],
        Request::Share(_) => &["share"],
        Request::Unshare { .. } => &["unshare"],
        Request::Shutdown => &["shutdown"],
        Request::Identity(_) => &["identity"],
        Request::Disc(_) => &["disc"],
    }
}

fuzz_target!(|line: &[u8]| {
    match decode_request(line) {
        Ok((id, req)) => {
            let lax: serde_json::Value =
                serde_json::from_slice(line).expect("accepted, yet not JSON");
            assert!(
                names(&req).contains(&lax["cmd"].as_str().unwrap_or("")),
                "{req:?} vs {lax}"
            );
            assert_eq!(lax["v"].as_u64(), Some(VERSION));
            assert_eq!(
                lax.get("id").cloned().unwrap_or(serde_json::Value::Null),
                id
            );
            // What a client would send for it reads back as the same request (a path
            // that is not UTF-8 cannot be in an accepted line, so it always encodes).
            let again = request_value(1, &req).expect("an accepted request encodes");
            let (_, back) = decode_request(again.to_string().as_bytes())
                .expect("the encoded request is accepted");
            assert_eq!(back, req);
        }
        Err(r) => {
            let codes = [
                ErrorCode::BadRequest,
                ErrorCode::UnknownCommand,
                ErrorCode::UnsupportedVersion,
                ErrorCode::DuplicateField,
                ErrorCode::UnknownField,
            ];
            assert!(codes.contains(&r.code), "{r:?}");
            assert!(!r.message.is_empty());
        }
    }
});
