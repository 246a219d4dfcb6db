//! The daemon's strict reading of request lines: what it accepts, and each refusal's code.

use serde_json::json;
use spindle_protocol::{
    EjectTarget, ErrorCode, MountArgs, Request, ShareArgs, decode_request as parse,
};

#[test]
fn parses_requests() {
    let (id, c) = parse(
        br#"{"v":1,"id":7,"cmd":"mount","image":"/a.iso","drive":null,"at":null,"password":null}"#,
    )
    .unwrap();
    assert_eq!(id, json!(7));
    assert_eq!(
        c,
        Request::Mount(MountArgs {
            image: "/a.iso".into(),
            ..Default::default()
        })
    );
    assert_eq!(
        parse(br#"{"v":1,"id":1,"cmd":"count","n":64}"#).unwrap().1,
        Request::Count { n: 64 }
    );
    assert_eq!(
        parse(br#"{"v":1,"cmd":"eject","all":true}"#).unwrap().1,
        Request::Eject(EjectTarget::All)
    );
    // `all: false` beside a drive names the drive alone.
    assert_eq!(
        parse(br#"{"v":1,"cmd":"eject","drive":2,"all":false}"#)
            .unwrap()
            .1,
        Request::Eject(EjectTarget::Drive(2))
    );
    assert_eq!(
        parse(br#"{"v":1,"cmd":"version"}"#).unwrap(),
        (json!(null), Request::Ping)
    );
}

#[test]
fn rejects_with_codes() {
    let code_of = |l: &[u8]| parse(l).unwrap_err().code;
    assert_eq!(code_of(b"garbage"), ErrorCode::BadRequest);
    assert_eq!(code_of(b"[1,2]"), ErrorCode::BadRequest);
    assert_eq!(
        code_of(br#"{"v":2,"id":1,"cmd":"ping"}"#),
        ErrorCode::UnsupportedVersion
    );
    let r = parse(br#"{"v":1,"id":"x","cmd":"frobnicate"}"#).unwrap_err();
    assert_eq!((r.code, r.id), (ErrorCode::UnknownCommand, json!("x")));
    let r = parse(br#"{"v":1,"id":1,"cmd":"eject"}"#).unwrap_err();
    assert_eq!(r.code, ErrorCode::BadRequest);
    assert_eq!(
        r.message,
        r#"eject: give exactly one of "drive", "path", "all""#
    );
    assert_eq!(
        code_of(br#"{"v":1,"id":1,"cmd":"eject","drive":1,"all":true}"#),
        ErrorCode::BadRequest
    );
    assert_eq!(
        code_of(br#"{"v":1,"id":1,"cmd":"mount"}"#),
        ErrorCode::BadRequest
    );
    assert_eq!(
        code_of(br#"{"v":1,"id":1,"cmd":"count","n":-1}"#),
        ErrorCode::BadRequest
    );
    let r =
        parse(br#"{"v":1,"cmd":"share","drive":0,"listen":"x:1","tls_cert":"/c"}"#).unwrap_err();
    assert_eq!(
        (r.code, r.message.as_str()),
        (
            ErrorCode::BadRequest,
            r#"share: give both "tls_cert" and "tls_key""#
        )
    );
    let r = parse(
        br#"{"v":1,"cmd":"share","drive":0,"listen":"x:1","tls_cert":"/c","tls_key":"/k","tls_psk":"/p"}"#,
    )
    .unwrap_err();
    assert_eq!(r.code, ErrorCode::BadRequest);
    assert!(r.message.contains("not both"), "{}", r.message);
}

#[test]
fn duplicate_keys_unknown_fields_and_wrong_types_are_refused() {
    let code_of = |l: &[u8]| parse(l).unwrap_err().code;
    // The last key would win in a plain serde_json::Value: a ping that shuts down.
    assert_eq!(
        code_of(br#"{"v":1,"id":1,"cmd":"ping","cmd":"shutdown"}"#),
        ErrorCode::DuplicateField
    );
    assert_eq!(
        code_of(br#"{"v":1,"v":1,"cmd":"ping"}"#),
        ErrorCode::DuplicateField
    );
    assert_eq!(
        code_of(br#"{"v":1,"cmd":"count","n":4,"n":1}"#),
        ErrorCode::DuplicateField
    );
    assert_eq!(
        code_of(br#"{"v":1,"id":{"a":1,"a":2},"cmd":"ping"}"#),
        ErrorCode::DuplicateField
    );
    assert_eq!(
        code_of(br#"{"v":1,"cmd":"ping","c\u006dd":"shutdown"}"#),
        ErrorCode::DuplicateField
    );
    // Unknown fields, for every command (and the reply names the field and what it takes).
    let r = parse(br#"{"v":1,"id":3,"cmd":"ping","drive":1}"#).unwrap_err();
    assert_eq!((r.code, r.id), (ErrorCode::UnknownField, json!(3)));
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
        br#"{"v":1,"cmd":"version","pid":1}"#,
    ] {
        assert_eq!(
            code_of(l),
            ErrorCode::UnknownField,
            "{}",
            String::from_utf8_lossy(l)
        );
    }
    // Wrong types.
    for l in [
        &br#"{"v":"1","cmd":"ping"}"#[..],
        br#"{"v":1,"cmd":7}"#,
        br#"{"v":1}"#,
        br#"{"cmd":"ping"}"#,
        br#"{"v":1,"cmd":"mount","image":"/a.iso","drive":"0"}"#,
        br#"{"v":1,"cmd":"mount","image":"/a.iso","allow_other":"yes"}"#,
        br#"{"v":1,"cmd":"mount","image":"/a.iso","allow_other":null}"#,
        br#"{"v":1,"cmd":"count","n":1.5}"#,
        br#"{"v":1,"cmd":"share","drive":0,"listen":"127.0.0.1:0","public":1}"#,
        br#"{"v":1,"cmd":"eject","drive":-1}"#,
        br#"{"v":1,"cmd":"eject","all":"yes"}"#,
        br#"{"v":1,"cmd":"unshare"}"#,
    ] {
        assert_eq!(
            code_of(l),
            ErrorCode::BadRequest,
            "{}",
            String::from_utf8_lossy(l)
        );
    }
    // What older CLIs sent still parses.
    assert_eq!(
        parse(br#"{"v":1,"id":1,"cmd":"share","drive":0,"listen":"127.0.0.1:0","tls_cert":null,"tls_key":null,"tls_psk":null,"public":false}"#).unwrap().1,
        Request::Share(ShareArgs { drive: 0, listen: "127.0.0.1:0".into(), ..Default::default() })
    );
    assert!(
        parse(br#"{"v":1,"id":1,"cmd":"load","drive":0,"image":"/a.iso","password":null}"#).is_ok()
    );
}

#[test]
fn every_command_listed_is_decoded_and_no_other() {
    for cmd in [
        "ping", "version", "mount", "load", "eject", "drives", "count", "share", "unshare",
        "shutdown", "identity", "disc",
    ] {
        assert!(spindle_protocol::fields_of(cmd).is_some(), "{cmd}");
        // Refused for its missing fields or accepted, never as an unknown command.
        let line = format!(r#"{{"v":1,"cmd":"{cmd}"}}"#);
        if let Err(r) = parse(line.as_bytes()) {
            assert_eq!(r.code, ErrorCode::BadRequest, "{cmd}: {}", r.message);
        }
    }
    assert_eq!(spindle_protocol::fields_of("Ping"), None);
}

#[test]
fn an_identity_inquiry_data_cannot_carry_is_refused() {
    let ok = br#"{"v":1,"cmd":"identity","drive":0,"vendor":"PLEXTOR","product":"DVDR   PX-716A","revision":"1.11"}"#;
    assert!(matches!(parse(ok).unwrap().1, Request::Identity(_)));
    for (line, names) in [
        (
            &br#"{"v":1,"cmd":"identity","drive":0,"vendor":"NINECHARS","product":"P","revision":"1"}"#[..],
            "\"vendor\" must be 1 to 8 characters, not 9",
        ),
        (
            br#"{"v":1,"cmd":"identity","drive":0,"vendor":"V","product":"","revision":"1"}"#,
            "\"product\" must be 1 to 16 characters, not 0",
        ),
        (
            br#"{"v":1,"cmd":"identity","drive":0,"vendor":"V","product":"P","revision":"12345"}"#,
            "\"revision\" must be 1 to 4 characters, not 5",
        ),
        (
            br#"{"v":1,"cmd":"identity","drive":0,"vendor":"V\u00e9","product":"P","revision":"1"}"#,
            "\"vendor\" must be printable ASCII",
        ),
        (
            br#"{"v":1,"cmd":"identity","drive":0,"vendor":"V","product":"P\n","revision":"1"}"#,
            "\"product\" must be printable ASCII",
        ),
    ] {
        let r = parse(line).unwrap_err();
        assert_eq!(r.code, ErrorCode::BadRequest, "{}", r.message);
        assert!(r.message.starts_with("identity: "), "{}", r.message);
        assert!(r.message.contains(names), "{}", r.message);
    }
    let r = parse(br#"{"v":1,"cmd":"identity","drive":0,"vendor":"V","product":"P","revision":"1","serial":"x"}"#)
        .unwrap_err();
    assert_eq!(r.code, ErrorCode::UnknownField);
}
