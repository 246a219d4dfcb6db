//! Every request and reply encodes to the JSON docs/protocol.md documents and decodes back
//! to itself; every error code keeps its wire string.

use serde_json::{Value, json};
use spindle_protocol::*;

/// Each request, and its line as the client sends it (id 7).
fn requests() -> Vec<(Request, Value)> {
    vec![
        (Request::Ping, json!({"v":1,"id":7,"cmd":"ping"})),
        (
            Request::Mount(MountArgs {
                image: "/home/me/game.mds".into(),
                ..Default::default()
            }),
            json!({"v":1,"id":7,"cmd":"mount","image":"/home/me/game.mds","drive":null,"at":null,"password":null,"allow_other":false}),
        ),
        (
            Request::Mount(MountArgs {
                image: "/a.iso".into(),
                drive: Some(2),
                at: Some("/home/me/cd".into()),
                password: Some("pw".into()),
                allow_other: true,
            }),
            json!({"v":1,"id":7,"cmd":"mount","image":"/a.iso","drive":2,"at":"/home/me/cd","password":"pw","allow_other":true}),
        ),
        (
            Request::Load(LoadArgs {
                drive: 1,
                image: "/b.cue".into(),
                password: None,
            }),
            json!({"v":1,"id":7,"cmd":"load","drive":1,"image":"/b.cue","password":null}),
        ),
        (
            Request::Eject(EjectTarget::Drive(3)),
            json!({"v":1,"id":7,"cmd":"eject","drive":3}),
        ),
        (
            Request::Eject(EjectTarget::Path("/media/X".into())),
            json!({"v":1,"id":7,"cmd":"eject","path":"/media/X"}),
        ),
        (
            Request::Eject(EjectTarget::All),
            json!({"v":1,"id":7,"cmd":"eject","all":true}),
        ),
        (Request::Drives, json!({"v":1,"id":7,"cmd":"drives"})),
        (
            Request::Count { n: 8 },
            json!({"v":1,"id":7,"cmd":"count","n":8}),
        ),
        (
            Request::Share(ShareArgs {
                drive: 0,
                listen: "127.0.0.1:0".into(),
                ..Default::default()
            }),
            json!({"v":1,"id":7,"cmd":"share","drive":0,"listen":"127.0.0.1:0","tls_cert":null,"tls_key":null,"tls_psk":null,"public":false}),
        ),
        (
            Request::Share(ShareArgs {
                drive: 1,
                listen: "[::]:10809".into(),
                tls_cert: Some("/c.pem".into()),
                tls_key: Some("/k.pem".into()),
                tls_psk: None,
                public: true,
            }),
            json!({"v":1,"id":7,"cmd":"share","drive":1,"listen":"[::]:10809","tls_cert":"/c.pem","tls_key":"/k.pem","tls_psk":null,"public":true}),
        ),
        (
            Request::Unshare { drive: 2 },
            json!({"v":1,"id":7,"cmd":"unshare","drive":2}),
        ),
        (Request::Shutdown, json!({"v":1,"id":7,"cmd":"shutdown"})),
        (
            Request::Identity(IdentityArgs {
                drive: 1,
                vendor: "PLEXTOR".into(),
                product: "DVDR   PX-716A".into(),
                revision: "1.11".into(),
            }),
            json!({"v":1,"id":7,"cmd":"identity","drive":1,"vendor":"PLEXTOR","product":"DVDR   PX-716A","revision":"1.11"}),
        ),
        (
            Request::Disc(DiscArgs {
                drive: 0,
                which: "next".into(),
                empty_for_ms: Some(2000),
            }),
            json!({"v":1,"id":7,"cmd":"disc","drive":0,"which":"next","empty_for_ms":2000}),
        ),
    ]
}

#[test]
fn every_request_encodes_to_its_documented_line_and_back() {
    let mut seen = std::collections::BTreeSet::new();
    for (req, wire) in requests() {
        seen.insert(req.name());
        let v = request_value(7, &req).unwrap();
        assert_eq!(v, wire, "{req:?}");
        assert_eq!(v["cmd"], req.name());
        // The daemon's strict decoder reads it back...
        let line = v.to_string();
        let (id, back) = decode_request(line.as_bytes()).unwrap();
        assert_eq!((id, &back), (json!(7), &req), "{line}");
        // ...and so does plain serde (without the envelope).
        let mut plain = wire.clone();
        plain.as_object_mut().unwrap().remove("v");
        plain.as_object_mut().unwrap().remove("id");
        assert_eq!(serde_json::from_value::<Request>(plain).unwrap(), req);
        // Every field sent is one the command takes.
        let takes = fields_of(req.name()).unwrap();
        for k in wire.as_object().unwrap().keys() {
            assert!(
                COMMON.contains(&k.as_str()) || takes.contains(&k.as_str()),
                "{}: {k}",
                req.name()
            );
        }
    }
    assert_eq!(
        seen.len(),
        11,
        "a command without a round-trip case: {seen:?}"
    );
}

/// Each reply, the request it answers, and its line (id 7).
fn replies() -> Vec<(Request, Reply, Value)> {
    let drive = DriveReport {
        drive: 0,
        image: Some("/srv/iso/debian.iso".into()),
        format: Some("iso".into()),
        medium: Some("CD-ROM".into()),
        label: Some("Debian 12".into()),
        mountpoints: vec!["/run/user/1000/spindle/media/Debian 12".into()],
        encrypted: false,
        uid: Some(1000),
        nbd: vec!["nbd+unix:///drive0?socket=/run/user/1000/spindle/nbd.sock".into()],
        device: Some("/dev/sr0".into()),
        sg: Some("/dev/sg1".into()),
        locked: true,
        identity: Some(DriveIdentity {
            vendor: "SPINDLE".into(),
            product: "Virtual BD-ROM".into(),
            revision: "0001".into(),
        }),
        set: None,
    };
    vec![
        (
            Request::Ping,
            Reply::Ping(PingReply {
                version: "0.1.0".into(),
                protocol: 1,
                pid: 42,
            }),
            json!({"v":1,"id":7,"ok":true,"version":"0.1.0","protocol":1,"pid":42}),
        ),
        (
            Request::Mount(MountArgs::default()),
            Reply::Mount(MountReply {
                drive: 0,
                mountpoint: Some("/run/user/1000/spindle/media/GAME".into()),
                label: Some("GAME".into()),
                format: "mds".into(),
                medium: "DVD-ROM".into(),
                raw: Some("/run/user/1000/spindle/raw/drives/0".into()),
            }),
            json!({"v":1,"id":7,"ok":true,"drive":0,"mountpoint":"/run/user/1000/spindle/media/GAME","label":"GAME","format":"mds","medium":"DVD-ROM","raw":"/run/user/1000/spindle/raw/drives/0"}),
        ),
        (
            Request::Mount(MountArgs::default()),
            Reply::Mount(MountReply {
                drive: 1,
                mountpoint: None,
                label: None,
                format: "cue".into(),
                medium: "CD-DA".into(),
                raw: None,
            }),
            json!({"v":1,"id":7,"ok":true,"drive":1,"mountpoint":null,"label":null,"format":"cue","medium":"CD-DA","raw":null}),
        ),
        (
            Request::Load(LoadArgs::default()),
            Reply::Load(LoadReply {
                drive: 0,
                mountpoints: vec!["/m/A".into()],
                label: Some("A".into()),
                raw: Some("/r/drives/0".into()),
            }),
            json!({"v":1,"id":7,"ok":true,"drive":0,"mountpoints":["/m/A"],"label":"A","raw":"/r/drives/0"}),
        ),
        (
            Request::Eject(EjectTarget::All),
            Reply::Eject(EjectReply {
                ejected: vec![0, 2],
                locked: Vec::new(),
            }),
            json!({"v":1,"id":7,"ok":true,"ejected":[0,2]}),
        ),
        (
            Request::Eject(EjectTarget::All),
            Reply::Eject(EjectReply {
                ejected: vec![2],
                locked: vec![0],
            }),
            json!({"v":1,"id":7,"ok":true,"ejected":[2],"locked":[0]}),
        ),
        (
            Request::Drives,
            Reply::Drives(DrivesReply {
                count: 2,
                raw: Some("/r".into()),
                nbd: None,
                drives: vec![drive, DriveReport::empty(1)],
                scsi: ScsiStatus {
                    available: true,
                    reason: None,
                    hint: None,
                },
            }),
            json!({"v":1,"id":7,"ok":true,"count":2,"raw":"/r","nbd":null,"drives":[
                {"drive":0,"image":"/srv/iso/debian.iso","format":"iso","medium":"CD-ROM","label":"Debian 12",
                 "mountpoints":["/run/user/1000/spindle/media/Debian 12"],"encrypted":false,"uid":1000,
                 "nbd":["nbd+unix:///drive0?socket=/run/user/1000/spindle/nbd.sock"],
                 "device":"/dev/sr0","sg":"/dev/sg1","locked":true,
                 "identity":{"vendor":"SPINDLE","product":"Virtual BD-ROM","revision":"0001"}},
                {"drive":1,"image":null,"format":null,"medium":null,"label":null,"mountpoints":[],"encrypted":false,"uid":null,
                 "device":null,"sg":null,"locked":false,"identity":null}
            ],"scsi":{"available":true,"reason":null,"hint":null}}),
        ),
        (
            Request::Drives,
            Reply::Drives(DrivesReply {
                count: 1,
                raw: None,
                nbd: None,
                drives: vec![DriveReport::empty(0)],
                scsi: ScsiStatus {
                    available: false,
                    reason: Some("the kernel has no target_core_user module".into()),
                    hint: Some("install linux-modules-extra".into()),
                },
            }),
            json!({"v":1,"id":7,"ok":true,"count":1,"raw":null,"nbd":null,"drives":[
                {"drive":0,"image":null,"format":null,"medium":null,"label":null,"mountpoints":[],"encrypted":false,"uid":null,
                 "device":null,"sg":null,"locked":false,"identity":null}
            ],"scsi":{"available":false,"reason":"the kernel has no target_core_user module","hint":"install linux-modules-extra"}}),
        ),
        (
            Request::Count { n: 4 },
            Reply::Count(CountReply { count: 4 }),
            json!({"v":1,"id":7,"ok":true,"count":4}),
        ),
        (
            Request::Share(ShareArgs::default()),
            Reply::Share(ShareReply {
                drive: 0,
                address: "127.0.0.1:40000".into(),
                tls: false,
                uris: vec![
                    "nbd://127.0.0.1:40000/drive0".into(),
                    "nbd://127.0.0.1:40000/drive0.raw".into(),
                ],
            }),
            json!({"v":1,"id":7,"ok":true,"drive":0,"address":"127.0.0.1:40000","tls":false,"uris":["nbd://127.0.0.1:40000/drive0","nbd://127.0.0.1:40000/drive0.raw"]}),
        ),
        (
            Request::Unshare { drive: 0 },
            Reply::Unshare(UnshareReply { drive: 0 }),
            json!({"v":1,"id":7,"ok":true,"drive":0}),
        ),
        (
            Request::Shutdown,
            Reply::Shutdown(ShutdownReply {}),
            json!({"v":1,"id":7,"ok":true}),
        ),
        (
            Request::Identity(IdentityArgs::default()),
            Reply::Identity(IdentityReply {
                drive: 1,
                identity: DriveIdentity {
                    vendor: "PLEXTOR".into(),
                    product: "DVDR   PX-716A".into(),
                    revision: "1.11".into(),
                },
            }),
            json!({"v":1,"id":7,"ok":true,"drive":1,"identity":{"vendor":"PLEXTOR","product":"DVDR   PX-716A","revision":"1.11"}}),
        ),
        (
            Request::Disc(DiscArgs::default()),
            Reply::Disc(DiscReply {
                drive: 0,
                set: SetReport {
                    playlist: "/games/set.m3u".into(),
                    disc: 2,
                    count: 3,
                    label: "Disc Two".into(),
                    changing: None,
                },
                mountpoints: vec!["/run/user/1000/spindle/media/DISC_B".into()],
            }),
            json!({"v":1,"id":7,"ok":true,"drive":0,"set":{"playlist":"/games/set.m3u","disc":2,"count":3,"label":"Disc Two"},"mountpoints":["/run/user/1000/spindle/media/DISC_B"]}),
        ),
    ]
}

#[test]
fn a_drives_reply_of_a_daemon_before_scsi_drives_still_reads() {
    let line = r#"{"v":1,"id":1,"ok":true,"count":1,"raw":null,"nbd":null,"drives":[{"drive":0,"image":null,"format":null,"medium":null,"label":null,"mountpoints":[],"encrypted":false,"uid":null}]}"#;
    let fields = decode_reply(line).unwrap().outcome.unwrap();
    let Reply::Drives(d) = Reply::decode(&Request::Drives, fields).unwrap() else {
        panic!("not a drives reply");
    };
    assert_eq!(d.drives, vec![DriveReport::empty(0)]);
    assert_eq!(d.scsi, ScsiStatus::default());
}

#[test]
fn every_reply_encodes_to_its_documented_line_and_back() {
    let mut seen = std::collections::BTreeSet::new();
    for (req, reply, wire) in replies() {
        seen.insert(req.name());
        let v = ok_value(&json!(7), &reply).unwrap();
        assert_eq!(v, wire, "{reply:?}");
        let line = decode_reply(&v.to_string()).unwrap();
        assert_eq!(line.id, json!(7));
        let back = Reply::decode(&req, line.outcome.unwrap()).unwrap();
        assert_eq!(back, reply);
    }
    assert_eq!(seen.len(), 11, "a command without a reply case: {seen:?}");
}

#[test]
fn a_reply_with_fields_this_side_does_not_know_still_reads() {
    let line = r#"{"v":1,"id":1,"ok":true,"count":3,"added_later":true}"#;
    let fields = decode_reply(line).unwrap().outcome.unwrap();
    assert_eq!(
        Reply::decode(&Request::Count { n: 3 }, fields).unwrap(),
        Reply::Count(CountReply { count: 3 })
    );
    // A reply that lacks a field its request's reply has is an error, not a default.
    let fields = decode_reply(r#"{"v":1,"id":1,"ok":true}"#)
        .unwrap()
        .outcome
        .unwrap();
    assert!(Reply::decode(&Request::Count { n: 3 }, fields).is_err());
}

#[test]
fn error_codes_keep_their_wire_strings() {
    let wire = [
        (ErrorCode::BadRequest, "bad_request"),
        (ErrorCode::DuplicateField, "duplicate_field"),
        (ErrorCode::UnknownField, "unknown_field"),
        (ErrorCode::TooLong, "too_long"),
        (ErrorCode::UnknownCommand, "unknown_command"),
        (ErrorCode::UnsupportedVersion, "unsupported_version"),
        (ErrorCode::PasswordNeeded, "password_needed"),
        (ErrorCode::Denied, "denied"),
        (ErrorCode::PrivateDisc, "private_disc"),
        (ErrorCode::BadMountPoint, "bad_mount_point"),
        (ErrorCode::DriveLocked, "drive_locked"),
        (ErrorCode::Failed, "failed"),
        (ErrorCode::Incomplete, "incomplete"),
        (ErrorCode::Timeout, "timeout"),
        (ErrorCode::Busy, "busy"),
    ];
    assert_eq!(wire.len(), ErrorCode::ALL.len());
    for (code, s) in wire {
        assert_eq!(code.as_str(), s);
        assert_eq!(code.to_string(), s);
        assert_eq!(serde_json::to_value(code).unwrap(), json!(s));
        assert_eq!(serde_json::from_value::<ErrorCode>(json!(s)).unwrap(), code);
        assert_eq!(ErrorCode::from_wire(s), code);
        let v = error_value(&json!(7), code, "why");
        assert_eq!(v, json!({"v":1,"id":7,"ok":false,"code":s,"error":"why"}));
        let line = decode_reply(&v.to_string()).unwrap();
        assert_eq!(
            line.outcome,
            Err(ErrorReply {
                code,
                error: "why".into()
            })
        );
    }
    // A newer daemon's code reads as `failed`; the message is kept.
    let line =
        decode_reply(r#"{"v":1,"id":null,"ok":false,"code":"frobbed","error":"x"}"#).unwrap();
    assert_eq!(line.id, Value::Null);
    assert_eq!(line.outcome.unwrap_err().code, ErrorCode::Failed);
    assert!(decode_reply("not json").is_err());
    assert!(decode_reply(r#"{"v":1,"id":1}"#).is_err());
}
