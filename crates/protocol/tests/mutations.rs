//! The fuzz target's properties (fuzz/fuzz_targets/control_request.rs) over a deterministic
//! stream of mutated request lines, so that `cargo test` checks them too: whatever
//! `decode_request` accepts, a plain JSON reader reads the same `v`, `id` and `cmd`, and the
//! request encodes back to a line that decodes to the same request; whatever it refuses has
//! one of the codes a line can get.

use serde_json::Value;
use spindle_protocol::{ErrorCode, VERSION, decode_request, request_value};

const SEEDS: [&str; 10] = [
    r#"{"v":1,"id":1,"cmd":"ping"}"#,
    r#"{"v":1,"id":"x","cmd":"version"}"#,
    r#"{"v":1,"id":2,"cmd":"mount","image":"/a.iso","drive":null,"at":"/m","password":"p","allow_other":true}"#,
    r#"{"v":1,"cmd":"load","drive":3,"image":"/b.cue","password":null}"#,
    r#"{"v":1,"cmd":"eject","drive":1,"all":false}"#,
    r#"{"v":1,"cmd":"eject","path":"/media/X"}"#,
    r#"{"v":1,"cmd":"count","n":8}"#,
    r#"{"v":1,"cmd":"share","drive":0,"listen":"127.0.0.1:0","tls_cert":"/c","tls_key":"/k","public":false}"#,
    r#"{"v":1,"id":[1,{"a":2}],"cmd":"unshare","drive":0}"#,
    r#"{"v":1,"cmd":"shutdown"}"#,
];

/// Pieces a mutation inserts.
const DICT: [&str; 24] = [
    "\"cmd\":",
    "\"v\":",
    "\"id\":",
    "\"drive\":",
    "\"all\":true",
    "\"path\":\"/p\"",
    "null",
    "true",
    "false",
    "-1",
    "1.5",
    "4294967296",
    "\"\"",
    "{}",
    "[]",
    ",",
    ":",
    "\\u0063",
    "\"ping\"",
    "\"shutdown\"",
    "\"tls_psk\":\"/k\"",
    "\"n\":0",
    "}",
    "{",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn mutate(rng: &mut Rng, line: &mut Vec<u8>) {
    for _ in 0..1 + rng.below(3) {
        let at = rng.below(line.len() + 1);
        match rng.below(4) {
            0 if !line.is_empty() => {
                let end = (at + 1 + rng.below(8)).min(line.len());
                line.drain(at.min(end)..end);
            }
            1 => {
                let piece = DICT[rng.below(DICT.len())].as_bytes();
                line.splice(at..at, piece.iter().copied());
            }
            2 if at < line.len() => line[at] = rng.next() as u8,
            _ => {
                // A field copied from elsewhere in the line (duplicates, moved keys).
                let from = rng.below(line.len() + 1);
                let len = rng.below(12).min(line.len() - from);
                let piece: Vec<u8> = line[from..from + len].to_vec();
                line.splice(at..at, piece);
            }
        }
    }
}

#[test]
fn mutated_lines_keep_the_fuzz_targets_properties() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let (mut accepted, mut refused) = (0u32, 0u32);
    for i in 0..60_000 {
        let mut line = SEEDS[i % SEEDS.len()].as_bytes().to_vec();
        mutate(&mut rng, &mut line);
        match decode_request(&line) {
            Ok((id, req)) => {
                accepted += 1;
                let lax: Value = serde_json::from_slice(&line).expect("accepted, yet not JSON");
                let cmd = lax["cmd"].as_str().unwrap_or("");
                assert!(
                    cmd == req.name() || (cmd == "version" && req.name() == "ping"),
                    "{req:?} vs {lax}"
                );
                assert_eq!(lax["v"].as_u64(), Some(VERSION));
                assert_eq!(lax.get("id").cloned().unwrap_or(Value::Null), id);
                let again = request_value(1, &req).unwrap().to_string();
                assert_eq!(decode_request(again.as_bytes()).unwrap().1, req, "{again}");
            }
            Err(r) => {
                refused += 1;
                assert!(
                    [
                        ErrorCode::BadRequest,
                        ErrorCode::UnknownCommand,
                        ErrorCode::UnsupportedVersion,
                        ErrorCode::DuplicateField,
                        ErrorCode::UnknownField,
                    ]
                    .contains(&r.code),
                    "{r:?}"
                );
                assert!(!r.message.is_empty());
            }
        }
    }
    // Both sides of the decoder were exercised.
    assert!(
        accepted > 1_000 && refused > 1_000,
        "{accepted} / {refused}"
    );
}
