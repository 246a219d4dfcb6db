//! The daemon's control protocol: one request line from the fuzzer through
//! `spindle_daemon::protocol::parse`. It must return a request or a refusal with a code,
//! never panic; and what it accepts must mean the same to a plain JSON reader (no key given
//! twice, so no "last one wins" disagreement such as `{"cmd":"ping","cmd":"shutdown"}`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use spindle_daemon::protocol::{self, Command, code};

fn name(c: &Command) -> &'static [&'static str] {
    match c {
        Command::Ping => &["ping", "version"],
        Command::Mount(_) => &["mount"],
        Command::Load(_) => &["load"],
        Command::Eject(_) => &["eject"],
        Command::Drives => &["drives"],
        Command::Count { .. } => &["count"],
        Command::Share(_) => &["share"],
        Command::Unshare { .. } => &["unshare"],
        Command::Shutdown => &["shutdown"],
    }
}

fuzz_target!(|line: &[u8]| {
    match protocol::parse(line) {
        Ok((id, cmd)) => {
            let lax: serde_json::Value =
                serde_json::from_slice(line).expect("accepted, yet not JSON");
            assert!(
                name(&cmd).contains(&lax["cmd"].as_str().unwrap_or("")),
                "{cmd:?} vs {lax}"
            );
            assert_eq!(lax["v"].as_u64(), Some(protocol::VERSION));
            assert_eq!(
                lax.get("id").cloned().unwrap_or(serde_json::Value::Null),
                id
            );
        }
        Err(r) => {
            let codes = [
                code::BAD_REQUEST,
                code::UNKNOWN_COMMAND,
                code::VERSION,
                code::DUPLICATE_FIELD,
                code::UNKNOWN_FIELD,
            ];
            assert!(codes.contains(&r.code), "{r:?}");
            assert!(!r.message.is_empty());
        }
    }
});
