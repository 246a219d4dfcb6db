//! The helper's protocol on this host, through the real binary and the real client: requests
//! parse, bad ones get a clear `err`, and on a kernel without TCMU (this build machine's) a
//! `create` says what is missing instead of failing obscurely. The VM test
//! (crates/tcmu/tests/vm_smoke.rs) checks the rest against a kernel that has TCMU.

use spindle_tcmu::helper::{recv_line, send_line};
use spindle_tcmu::{DeviceSpec, Helper, Provisioner, Support};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(sock: &std::path::Path) -> Running {
    let child = Command::new(env!("CARGO_BIN_EXE_spindle-drive-helper"))
        .arg("--socket")
        .arg(sock)
        .arg("--max-per-user")
        .arg("2")
        .spawn()
        .expect("starting spindle-drive-helper");
    let start = Instant::now();
    while !sock.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the helper never listened"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Running(child)
}

fn ask(sock: &std::path::Path, line: &str) -> String {
    let s = UnixStream::connect(sock).unwrap();
    send_line(s.as_fd(), line, None).unwrap();
    recv_line(s.as_fd()).unwrap().expect("a reply").0
}

#[test]
fn the_helper_answers_and_refuses_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("h.sock");
    let _helper = start(&sock);
    let uid = rustix::process::geteuid().as_raw();

    assert!(ask(&sock, "bogus\n").starts_with("err bad request"));
    assert!(ask(&sock, "create ../../etc 1\n").starts_with("err bad device name"));
    let over = ask(&sock, &format!("reopen {}\n", DeviceSpec::name_for(uid, 2)));
    assert!(over.contains("at most 2 drives per user"), "{over}");
    let huge = ask(
        &sock,
        &format!("create {} {}\n", DeviceSpec::name_for(uid, 0), u64::MAX),
    );
    assert!(huge.contains("is not between 1 and"), "{huge}");

    let client = Helper::new(&sock);
    let name = DeviceSpec::name_for(uid, 1);
    let missing = client.reopen(&name).unwrap_err().to_string();
    assert!(missing.contains(&name), "{missing}");
    match spindle_tcmu::support() {
        Support::Unavailable { reason, .. } => {
            // No TCMU here: nothing is listed and a create names what is missing.
            assert_eq!(client.list().unwrap(), Vec::<String>::new());
            let e = client
                .create(&DeviceSpec::for_user(uid, 1))
                .unwrap_err()
                .to_string();
            assert!(e.contains(&reason), "{e:?} does not say {reason:?}");
        }
        Support::Available => {
            // A kernel with TCMU: a device comes and goes through the helper.
            let f = client.create(&DeviceSpec::for_user(uid, 1)).unwrap();
            assert!(spindle_tcmu::uio_sysfs(&f).is_ok());
            assert!(client.list().unwrap().contains(&name));
            client.remove(&name).unwrap();
            assert!(!client.list().unwrap().contains(&name));
        }
    }
}

/// One uid gets at most 4 connections at once; a request line must be complete within 10 s
/// of its first byte; a descriptor a caller passes is discarded, and the request still served.
#[test]
fn the_helper_limits_a_callers_connections_and_time_and_takes_no_descriptor() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("h.sock");
    let _helper = start(&sock);

    // A passed descriptor (here a file of ours) changes nothing: the request is answered.
    let s = UnixStream::connect(&sock).unwrap();
    let f = std::fs::File::open("/dev/null").unwrap();
    send_line(s.as_fd(), "list\n", Some(f.as_fd())).unwrap();
    let (reply, fd) = recv_line(s.as_fd()).unwrap().expect("a reply");
    assert!(reply.starts_with("ok"), "{reply}");
    assert!(fd.is_none());
    drop(s);

    // Four idle connections hold this uid's slots; a fifth is told so.
    let held: Vec<UnixStream> = (0..4)
        .map(|_| {
            let s = UnixStream::connect(&sock).unwrap();
            // A round trip: the helper has taken this connection's slot.
            send_line(s.as_fd(), "list\n", None).unwrap();
            assert!(recv_line(s.as_fd()).unwrap().unwrap().0.starts_with("ok"));
            s
        })
        .collect();
    let fifth = ask(&sock, "list\n");
    assert!(
        fifth.contains("too many connections for this uid"),
        "{fifth}"
    );
    drop(held);
    // Slots come back as connections end.
    let start = Instant::now();
    loop {
        let r = ask(&sock, "list\n");
        if r.starts_with("ok") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "slots not freed: {r}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // Half a line, then silence: the helper gives up 10 s after the first byte.
    let s = UnixStream::connect(&sock).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let t0 = Instant::now();
    send_line(s.as_fd(), "lis", None).unwrap();
    let r = recv_line(s.as_fd());
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_secs(9) && took < Duration::from_secs(20),
        "{took:?} {r:?}"
    );
    // The helper says so, or just hangs up.
    if let Ok(Some((line, _))) = r {
        assert!(line.starts_with("err"), "{line}");
    }
}
