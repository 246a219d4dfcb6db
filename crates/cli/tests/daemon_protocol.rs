//! Protocol abuse: garbage, a 10 MiB line, unknown commands, 100 clients at once, clients
//! that leave in the middle of a request. Each gets an error; everyone else is served.

mod daemon_common;

use daemon_common::{Env, sample};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

struct Conn {
    r: BufReader<UnixStream>,
    w: UnixStream,
}

impl Conn {
    fn new(env: &Env) -> Conn {
        let w = UnixStream::connect(env.socket()).unwrap();
        w.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        w.set_write_timeout(Some(Duration::from_secs(20))).unwrap();
        Conn {
            r: BufReader::new(w.try_clone().unwrap()),
            w,
        }
    }
    fn send(&mut self, line: &[u8]) -> Value {
        self.w.write_all(line).unwrap();
        self.w.write_all(b"\n").unwrap();
        self.reply()
    }
    fn reply(&mut self) -> Value {
        let mut s = String::new();
        self.r.read_line(&mut s).unwrap();
        serde_json::from_str(&s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }
    fn ping(&mut self, id: u64) {
        let r = self.send(json!({"v":1,"id":id,"cmd":"ping"}).to_string().as_bytes());
        assert_eq!(
            (r["ok"].clone(), r["id"].clone()),
            (json!(true), json!(id)),
            "{r}"
        );
    }
}

fn assert_error(r: &Value, code: &str) {
    assert_eq!(r["ok"], false, "{r}");
    assert_eq!(r["v"], 1, "{r}");
    assert_eq!(r["code"], code, "{r}");
    assert!(r["error"].as_str().is_some_and(|e| !e.is_empty()), "{r}");
}

#[test]
fn abuse_gets_errors_and_others_are_served() {
    let mut env = Env::new(120);
    env.start_daemon(&[]);
    let mut c = Conn::new(&env);
    assert_error(&c.send(b"garbage \x00\xff"), "bad_request");
    assert_error(&c.send(b"[1,2,3]"), "bad_request");
    assert_error(&c.send(br#"{"id":1,"cmd":"ping"}"#), "bad_request");
    assert_error(
        &c.send(br#"{"v":99,"id":1,"cmd":"ping"}"#),
        "unsupported_version",
    );
    let r = c.send(br#"{"v":1,"id":"x","cmd":"format-my-disk"}"#);
    assert_error(&r, "unknown_command");
    assert_eq!(r["id"], "x");
    assert_error(
        &c.send(br#"{"v":1,"id":2,"cmd":"mount","image":42}"#),
        "bad_request",
    );
    assert_error(
        &c.send(br#"{"v":1,"id":3,"cmd":"mount","image":"relative.iso"}"#),
        "bad_request",
    );
    assert_error(
        &c.send(br#"{"v":1,"id":4,"cmd":"mount","image":"/nonexistent.iso"}"#),
        "failed",
    );
    assert_error(
        &c.send(br#"{"v":1,"id":5,"cmd":"load","drive":9999,"image":"/x"}"#),
        "failed",
    );
    assert_error(
        &c.send(br#"{"v":1,"id":6,"cmd":"count","n":100000}"#),
        "bad_request",
    );
    c.ping(7);

    // A 10 MiB line: one error, and the same connection goes on.
    let mut big = br#"{"v":1,"id":8,"cmd":"ping","pad":""#.to_vec();
    big.extend(std::iter::repeat_n(b'a', 10 << 20));
    big.extend(br#""}"#);
    let writer = {
        let mut w = c.w.try_clone().unwrap();
        std::thread::spawn(move || {
            w.write_all(&big).unwrap();
            w.write_all(b"\n").unwrap();
        })
    };
    assert_error(&c.reply(), "too_long");
    writer.join().unwrap();
    c.ping(9);

    // 100 idle clients hold connections; another is served at once.
    let mut idle: Vec<Conn> = (0..100).map(|_| Conn::new(&env)).collect();
    let mut other = Conn::new(&env);
    other.ping(10);
    let img = sample("libcdio/joliet.iso");
    let r = other.send(
        json!({"v":1,"id":11,"cmd":"mount","image":img})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(r["ok"], true, "{r}");
    // Then all 100 speak at once (half garbage, half pings), from their own threads.
    std::thread::scope(|s| {
        for (i, c) in idle.iter_mut().enumerate() {
            s.spawn(move || {
                if i % 2 == 0 {
                    assert_error(&c.send(b"{not json"), "bad_request");
                } else {
                    c.ping(i as u64);
                }
            });
        }
    });
    drop(idle);

    // A client that stops writing in the middle of a line and shuts its side: told so.
    let mut half = Conn::new(&env);
    half.w.write_all(br#"{"v":1,"id":12,"cmd":"dri"#).unwrap();
    half.w.shutdown(std::net::Shutdown::Write).unwrap();
    assert_error(&half.reply(), "incomplete");
    // One that vanishes entirely in the middle of a request (and of a reply).
    for _ in 0..10 {
        let mut gone = UnixStream::connect(env.socket()).unwrap();
        gone.write_all(br#"{"v":1,"id":13,"cmd":"drives"}"#)
            .unwrap();
        gone.write_all(b"\n{\"v\":1,").unwrap();
        drop(gone);
    }
    // Everyone else is still served.
    other.ping(14);
    let d = env.drives();
    assert_eq!(d["drives"][0]["image"], img.to_str().unwrap());
    env.ok(&["eject", "--all"]);
    assert!(env.tree_mounts().is_empty());
}
