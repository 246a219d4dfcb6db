//! Hostile clients written with raw sockets: each gets a protocol error or is dropped, a
//! well-behaved client keeps working, and the server's memory stays bounded.

mod common;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use spindle_nbd::ServerConfig;
use spindle_nbd::client;
use spindle_nbd::proto::*;

const SIZE: usize = 4 << 20;

struct Raw(UnixStream);

impl Raw {
    /// Connects and reads the greeting; `None` when the server hung up at once.
    fn try_open(srv: &TestServer) -> Option<Raw> {
        let s = UnixStream::connect(&srv.sock).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut r = Raw(s);
        let mut hello = [0; 18];
        r.0.read_exact(&mut hello).ok()?;
        assert_eq!(&hello[0..8], &NBDMAGIC.to_be_bytes());
        assert_eq!(&hello[8..16], &IHAVEOPT.to_be_bytes());
        Some(r)
    }
    fn open(srv: &TestServer) -> Raw {
        let mut r = Raw::try_open(srv).expect("greeting");
        r.send(&(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES).to_be_bytes());
        r
    }
    fn send(&mut self, b: &[u8]) {
        // A server that hung up makes writes fail: that shows in `closed`.
        let _ = self.0.write_all(b);
    }
    fn opt(&mut self, option: u32, data: &[u8]) {
        let mut m = IHAVEOPT.to_be_bytes().to_vec();
        m.extend_from_slice(&option.to_be_bytes());
        m.extend_from_slice(&(data.len() as u32).to_be_bytes());
        m.extend_from_slice(data);
        self.send(&m);
    }
    fn u32(&mut self) -> u32 {
        let mut b = [0; 4];
        self.0.read_exact(&mut b).unwrap();
        u32::from_be_bytes(b)
    }
    /// One option reply: (option, type, data).
    fn reply(&mut self) -> (u32, u32, Vec<u8>) {
        let mut b = [0; 8];
        self.0.read_exact(&mut b).unwrap();
        assert_eq!(u64::from_be_bytes(b), REPLY_MAGIC);
        let option = self.u32();
        let kind = self.u32();
        let len = self.u32();
        let mut d = vec![0; len as usize];
        self.0.read_exact(&mut d).unwrap();
        (option, kind, d)
    }
    /// Replies up to the final one; returns the final type.
    fn final_reply(&mut self) -> u32 {
        loop {
            let (_, kind, _) = self.reply();
            if kind != REP_INFO && kind != REP_SERVER && kind != REP_META_CONTEXT {
                return kind;
            }
        }
    }
    fn go(&mut self, name: &str) {
        let mut d = (name.len() as u32).to_be_bytes().to_vec();
        d.extend_from_slice(name.as_bytes());
        d.extend_from_slice(&0u16.to_be_bytes());
        self.opt(OPT_GO, &d);
        assert_eq!(self.final_reply(), REP_ACK);
    }
    fn request(&mut self, kind: u16, flags: u16, cookie: u64, offset: u64, length: u32) {
        let r = Request {
            flags,
            kind,
            cookie,
            offset,
            length,
        };
        self.send(&r.encode());
    }
    /// A simple reply: (error, cookie).
    fn simple(&mut self) -> (u32, u64) {
        let mut b = [0; 16];
        self.0.read_exact(&mut b).unwrap();
        assert_eq!(
            u32::from_be_bytes(b[0..4].try_into().unwrap()),
            SIMPLE_REPLY_MAGIC
        );
        (
            u32::from_be_bytes(b[4..8].try_into().unwrap()),
            u64::from_be_bytes(b[8..16].try_into().unwrap()),
        )
    }
    /// A structured chunk: (flags, type, cookie, payload).
    fn chunk(&mut self) -> (u16, u16, u64, Vec<u8>) {
        let mut b = [0; 20];
        self.0.read_exact(&mut b).unwrap();
        assert_eq!(
            u32::from_be_bytes(b[0..4].try_into().unwrap()),
            STRUCTURED_REPLY_MAGIC
        );
        let len = u32::from_be_bytes(b[16..20].try_into().unwrap());
        let mut d = vec![0; len as usize];
        self.0.read_exact(&mut d).unwrap();
        (
            u16::from_be_bytes([b[4], b[5]]),
            u16::from_be_bytes([b[6], b[7]]),
            u64::from_be_bytes(b[8..16].try_into().unwrap()),
            d,
        )
    }
    /// True when the server has hung up (EOF or reset within 10 s).
    fn closed(&mut self) -> bool {
        let mut b = [0; 1024];
        loop {
            match self.0.read(&mut b) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
                Err(_) => return true,
            }
        }
    }
}

fn valid_error(e: u32) -> bool {
    [
        EPERM, EIO, ENOMEM, EINVAL, ENOSPC, EOVERFLOW, ENOTSUP, ESHUTDOWN,
    ]
    .contains(&e)
}

/// A well-behaved client reads the right bytes.
fn still_works(srv: &TestServer, data: &[u8]) {
    let (mut s, info) = client::connect_unix(&srv.sock, "disc").unwrap();
    assert_eq!(info.size, data.len() as u64);
    assert_eq!(client::read(&mut s, 1000, 5000).unwrap(), &data[1000..6000]);
}

fn setup(config: ServerConfig) -> (tempfile::TempDir, TestServer, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let (cat, _, data) = catalog(dir.path(), SIZE);
    let srv = TestServer::unix(dir.path(), cat, config);
    (dir, srv, data)
}

#[test]
fn bad_magic_and_bad_flags_are_dropped() {
    let (_d, srv, data) = setup(ServerConfig::default());
    let mut r = Raw::open(&srv);
    r.send(b"GARBAGE!\0\0\0\x07\0\0\0\0");
    assert!(r.closed());
    let mut r = Raw::try_open(&srv).unwrap();
    r.send(&0xffff_ffffu32.to_be_bytes());
    assert!(r.closed());
    // Not even a client flags word: the handshake timeout is the backstop (tested below).
    still_works(&srv, &data);
}

#[test]
fn unknown_and_out_of_order_options_get_errors() {
    let (_d, srv, data) = setup(ServerConfig::default());
    let mut r = Raw::open(&srv);
    r.opt(99, b"whatever");
    assert_eq!(r.reply().1, REP_ERR_UNSUP);
    // SET_META_CONTEXT before STRUCTURED_REPLY.
    let mut meta = 4u32.to_be_bytes().to_vec();
    meta.extend_from_slice(b"disc");
    meta.extend_from_slice(&1u32.to_be_bytes());
    meta.extend_from_slice(&(BASE_ALLOCATION.len() as u32).to_be_bytes());
    meta.extend_from_slice(BASE_ALLOCATION.as_bytes());
    r.opt(OPT_SET_META_CONTEXT, &meta);
    assert_eq!(r.final_reply(), REP_ERR_INVALID);
    // STRUCTURED_REPLY twice, and with data.
    r.opt(OPT_STRUCTURED_REPLY, &[]);
    assert_eq!(r.reply().1, REP_ACK);
    r.opt(OPT_STRUCTURED_REPLY, &[]);
    assert_eq!(r.reply().1, REP_ERR_INVALID);
    r.opt(OPT_STRUCTURED_REPLY, b"x");
    assert_eq!(r.reply().1, REP_ERR_INVALID);
    // LIST with data; GO of an unknown export; GO whose length does not add up.
    r.opt(OPT_LIST, b"x");
    assert_eq!(r.reply().1, REP_ERR_INVALID);
    let mut go = 4u32.to_be_bytes().to_vec();
    go.extend_from_slice(b"nope");
    go.extend_from_slice(&0u16.to_be_bytes());
    r.opt(OPT_GO, &go);
    assert_eq!(r.final_reply(), REP_ERR_UNKNOWN);
    r.opt(OPT_GO, &[0, 0, 0, 200, b'd']);
    assert_eq!(r.final_reply(), REP_ERR_INVALID);
    r.opt(OPT_INFO, &[0, 0, 0, 4, b'd', b'i', b's', b'c', 0, 5, 0, 1]);
    assert_eq!(r.final_reply(), REP_ERR_INVALID);
    // STARTTLS on a server without TLS.
    r.opt(OPT_STARTTLS, &[]);
    assert_eq!(r.reply().1, REP_ERR_POLICY);
    // The connection still negotiates: meta context now works, then GO.
    r.opt(OPT_SET_META_CONTEXT, &meta);
    let (_, kind, d) = r.reply();
    assert_eq!(kind, REP_META_CONTEXT);
    assert_eq!(&d[0..4], &BASE_ALLOCATION_ID.to_be_bytes());
    assert_eq!(r.reply().1, REP_ACK);
    r.go("disc");
    r.request(CMD_BLOCK_STATUS, 0, 7, 0, 65536);
    let (flags, kind, cookie, payload) = r.chunk();
    assert_eq!(
        (flags, kind, cookie),
        (REPLY_FLAG_DONE, REPLY_TYPE_BLOCK_STATUS, 7)
    );
    assert_eq!(&payload[0..4], &BASE_ALLOCATION_ID.to_be_bytes());
    // Options after GO are not requests: dropped.
    r.opt(OPT_INFO, &go);
    r.opt(OPT_INFO, &go);
    assert!(r.closed());
    still_works(&srv, &data);
}

#[test]
fn huge_option_lengths_are_dropped() {
    let (_d, srv, data) = setup(ServerConfig::default());
    let mut r = Raw::open(&srv);
    let mut m = IHAVEOPT.to_be_bytes().to_vec();
    m.extend_from_slice(&OPT_GO.to_be_bytes());
    m.extend_from_slice(&u32::MAX.to_be_bytes());
    r.send(&m);
    assert!(r.closed());
    // EXPORT_NAME of an unknown export hangs up (the protocol has no error for it).
    let mut r = Raw::open(&srv);
    r.opt(OPT_EXPORT_NAME, b"nope");
    assert!(r.closed());
    still_works(&srv, &data);
}

#[test]
fn bad_requests_get_valid_nbd_errors_simple_replies() {
    let (_d, srv, data) = setup(ServerConfig::default());
    let mut r = Raw::open(&srv);
    r.go("disc");
    let size = SIZE as u64;
    let cases: &[(u16, u16, u64, u32, u32)] = &[
        (CMD_READ, 0, size - 10, 11, EINVAL),     // past the end
        (CMD_READ, 0, size, 1, EINVAL),           // at the end
        (CMD_READ, 0, u64::MAX - 5, 100, EINVAL), // offset overflow
        (CMD_READ, 0, 0, 0, EINVAL),              // empty
        (CMD_READ, 0, 0, u32::MAX, EINVAL),       // 4 GiB
        (CMD_READ, 0, 0, (32 << 20) + 1, EINVAL), // over the maximum block size
        (CMD_TRIM, 0, 0, 4096, EPERM),
        (CMD_WRITE_ZEROES, 0, 0, 4096, EPERM),
        (CMD_BLOCK_STATUS, 0, 0, 4096, EINVAL), // not negotiated
        (42, 0, 0, 0, EINVAL),                  // unknown command
        (CMD_CACHE, 0, size, 4096, EINVAL),
        (CMD_CACHE, 0, 0, 4096, 0),
        (CMD_FLUSH, 0, 0, 0, 0),
    ];
    for (i, &(kind, flags, offset, length, want)) in cases.iter().enumerate() {
        r.request(kind, flags, i as u64, offset, length);
        let (err, cookie) = r.simple();
        assert_eq!((err, cookie), (want, i as u64), "case {i}");
        assert!(err == 0 || valid_error(err));
    }
    // A write: its payload is skipped and refused with EPERM; the stream stays in step.
    r.request(CMD_WRITE, 0, 100, 0, 4096);
    r.send(&[0xaa; 4096]);
    assert_eq!(r.simple(), (EPERM, 100));
    r.request(CMD_READ, 0, 101, 4096, 4096);
    assert_eq!(r.simple(), (0, 101));
    let mut d = vec![0; 4096];
    r.0.read_exact(&mut d).unwrap();
    assert_eq!(d, &data[4096..8192]);
    // A 4 GiB write payload cannot be skipped cheaply: dropped.
    r.request(CMD_WRITE, 0, 102, 0, u32::MAX);
    assert!(r.closed());
    still_works(&srv, &data);
}

#[test]
fn bad_requests_get_error_chunks_with_structured_replies() {
    let (_d, srv, data) = setup(ServerConfig::default());
    let mut r = Raw::open(&srv);
    r.opt(OPT_STRUCTURED_REPLY, &[]);
    assert_eq!(r.reply().1, REP_ACK);
    r.go("disc");
    for (cookie, flags, offset, length, want) in [
        (1u64, 0u16, SIZE as u64 - 1, 2u32, EINVAL),
        (2, 0, 0, u32::MAX, EINVAL),
        (3, CMD_FLAG_DF, 0, u32::MAX, EOVERFLOW),
    ] {
        r.request(CMD_READ, flags, cookie, offset, length);
        let (f, kind, c, payload) = r.chunk();
        assert_eq!((f, kind, c), (REPLY_FLAG_DONE, REPLY_TYPE_ERROR, cookie));
        assert_eq!(u32::from_be_bytes(payload[0..4].try_into().unwrap()), want);
        let mlen = u16::from_be_bytes([payload[4], payload[5]]) as usize;
        assert_eq!(payload.len(), 6 + mlen);
    }
    // A good read: one OFFSET_DATA chunk with the offset first.
    r.request(CMD_READ, 0, 9, 70000, 3000);
    let (f, kind, c, payload) = r.chunk();
    assert_eq!((f, kind, c), (REPLY_FLAG_DONE, REPLY_TYPE_OFFSET_DATA, 9));
    assert_eq!(&payload[0..8], &70000u64.to_be_bytes());
    assert_eq!(&payload[8..], &data[70000..73000]);
    // A read bigger than a piece (1 MiB) from memory: several OFFSET_DATA chunks, only the
    // last one DONE, that together cover the range.
    let mut r = Raw::open(&srv);
    r.opt(OPT_STRUCTURED_REPLY, &[]);
    assert_eq!(r.reply().1, REP_ACK);
    r.go("mem");
    let (off, len) = (12345u64, (3 << 20) + 777);
    r.request(CMD_READ, 0, 11, off, len);
    let mut got = vec![0; len as usize];
    let mut chunks = 0;
    loop {
        let (f, kind, c, payload) = r.chunk();
        assert_eq!((kind, c), (REPLY_TYPE_OFFSET_DATA, 11));
        let at = u64::from_be_bytes(payload[0..8].try_into().unwrap()) - off;
        got[at as usize..at as usize + payload.len() - 8].copy_from_slice(&payload[8..]);
        chunks += 1;
        if f & REPLY_FLAG_DONE != 0 {
            break;
        }
    }
    assert!(chunks >= 4, "{chunks} chunks");
    assert_eq!(got, &data[off as usize..(off + len as u64) as usize]);
    // With DF: one chunk.
    r.request(CMD_READ, CMD_FLAG_DF, 12, off, len);
    let (f, kind, _, payload) = r.chunk();
    assert_eq!((f, kind), (REPLY_FLAG_DONE, REPLY_TYPE_OFFSET_DATA));
    assert_eq!(
        &payload[8..],
        &data[off as usize..(off + len as u64) as usize]
    );
    // DISC: the server hangs up.
    r.request(CMD_DISC, 0, 10, 0, 0);
    assert!(r.closed());
}

#[test]
fn disconnecting_mid_request_leaves_the_server_serving() {
    let (_d, srv, data) = setup(ServerConfig::default());
    for i in 0..20 {
        let mut r = Raw::open(&srv);
        r.go(if i % 2 == 0 { "disc" } else { "mem" });
        match i % 4 {
            0 => r.send(
                &Request {
                    flags: 0,
                    kind: CMD_READ,
                    cookie: 1,
                    offset: 0,
                    length: 4096,
                }
                .encode()[..13],
            ),
            1 => {
                // Many big reads, then go away without reading the replies.
                for c in 0..16 {
                    r.request(CMD_READ, 0, c, 0, 4 << 20);
                }
            }
            2 => {
                r.request(CMD_WRITE, 0, 1, 0, 1 << 20);
                r.send(&[0; 1000]);
            }
            _ => {
                r.opt(OPT_LIST, &[]); // mid-option in the wrong phase
            }
        }
        drop(r);
    }
    // Mid-handshake too.
    for _ in 0..10 {
        let mut r = Raw::open(&srv);
        r.send(&IHAVEOPT.to_be_bytes()[..5]);
    }
    still_works(&srv, &data);
    let start = Instant::now();
    while srv.server.connections() > 0 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "connections linger"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn two_hundred_connections_at_once() {
    let config = ServerConfig {
        max_connections: 64,
        handshake_timeout: Duration::from_secs(2),
        ..ServerConfig::default()
    };
    let (_d, srv, data) = setup(config);
    // A client in transmission before the storm.
    let (mut good, _) = client::connect_unix(&srv.sock, "disc").unwrap();
    let mut held = Vec::new();
    let mut refused = 0;
    for _ in 0..200 {
        match Raw::try_open(&srv) {
            Some(r) => held.push(r),
            None => refused += 1,
        }
    }
    assert!(held.len() <= 63, "{} connections past the cap", held.len());
    assert!(refused >= 137, "only {refused} refused");
    // The established client keeps working while the storm holds every slot.
    for i in 0..50u64 {
        let off = i * 65536;
        assert_eq!(
            client::read(&mut good, off, 65536).unwrap(),
            &data[off as usize..off as usize + 65536]
        );
    }
    // The handshake timeout frees the slots of clients that never finish the handshake.
    let start = Instant::now();
    for r in &mut held {
        assert!(r.closed(), "an idle handshake was kept");
    }
    assert!(start.elapsed() < Duration::from_secs(8));
    still_works(&srv, &data);
}

#[test]
fn a_client_trickling_bytes_cannot_stretch_the_handshake() {
    let config = ServerConfig {
        handshake_timeout: Duration::from_secs(1),
        ..ServerConfig::default()
    };
    let (_d, srv, data) = setup(config);
    let mut r = Raw::open(&srv);
    // A GO with a 4 KiB name, one byte every 200 ms: it would take 14 minutes.
    let mut m = IHAVEOPT.to_be_bytes().to_vec();
    m.extend_from_slice(&OPT_GO.to_be_bytes());
    m.extend_from_slice(&4102u32.to_be_bytes());
    r.send(&m);
    let start = Instant::now();
    let mut dropped = false;
    while start.elapsed() < Duration::from_secs(5) {
        if r.0.write_all(&[0]).is_err() {
            dropped = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        dropped,
        "the trickling client was kept past the handshake timeout"
    );
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    still_works(&srv, &data);
}

fn vm_rss_kib(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap()
}

#[test]
fn memory_stays_bounded_when_clients_flood_reads_and_never_read_replies() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.img");
    std::fs::write(&file, pattern(64 << 20)).unwrap();
    let sock = dir.path().join("s.sock");
    let mut child = Command::new(nbd_serve_bin())
        .arg("--unix")
        .arg(&sock)
        .arg("--no-zero-copy")
        .arg(format!("disc={}", file.display()))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = [0; 5];
    child.stdout.take().unwrap().read_exact(&mut ready).unwrap();
    let pid = child.id();
    let idle = vm_rss_kib(pid);
    let srv_sock = sock.clone();
    let fake = TestServer::unix_path_only(srv_sock);
    let mut floods = Vec::new();
    for _ in 0..8 {
        let mut r = Raw::open(&fake);
        r.go("disc");
        for c in 0..200 {
            r.request(CMD_READ, 0, c, (c % 2) * (32 << 20), 32 << 20);
        }
        floods.push(r);
    }
    std::thread::sleep(Duration::from_secs(3));
    let peak = vm_rss_kib(pid);
    // Reads are served in 1 MiB pieces by 2 workers per connection: 8 x 2 MiB of buffers
    // (plus code and stacks) is the bound; unbounded queueing would be 8 x 200 x 32 MiB,
    // and whole-request buffers 8 x 32 MiB.
    let bound = idle + 64 * 1024;
    eprintln!("nbd-serve VmRSS idle {idle} KiB, flooded by 8 clients {peak} KiB");
    assert!(
        peak < bound,
        "server VmRSS {peak} KiB (idle {idle} KiB) over {bound} KiB"
    );
    // The server still serves others meanwhile.
    let (mut s, _) = client::connect_unix(&sock, "disc").unwrap();
    assert_eq!(client::read(&mut s, 0, 16).unwrap().len(), 16);
    drop(floods);
    // SAFETY: a signal to the child this test started.
    unsafe {
        libc::kill(pid as i32, libc::SIGTERM);
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "nbd-serve on SIGTERM: {status}");
}

/// SET_META_CONTEXT base:allocation for `name`; returns the context id.
fn set_base_allocation(r: &mut Raw, name: &str) -> u32 {
    let mut d = (name.len() as u32).to_be_bytes().to_vec();
    d.extend_from_slice(name.as_bytes());
    d.extend_from_slice(&1u32.to_be_bytes());
    d.extend_from_slice(&(BASE_ALLOCATION.len() as u32).to_be_bytes());
    d.extend_from_slice(BASE_ALLOCATION.as_bytes());
    r.opt(OPT_SET_META_CONTEXT, &d);
    let (_, kind, ctx) = r.reply();
    assert_eq!(kind, REP_META_CONTEXT);
    assert_eq!(r.reply().1, REP_ACK);
    u32::from_be_bytes(ctx[0..4].try_into().unwrap())
}

#[test]
fn edges_of_names_reads_and_block_status() {
    let (_d, srv, data) = setup(ServerConfig::default());
    let mut r = Raw::open(&srv);
    // An export name of 4096 bytes is a name (unknown here); 4097 is malformed.
    for (len, want) in [(4096usize, REP_ERR_UNKNOWN), (4097, REP_ERR_INVALID)] {
        let mut d = (len as u32).to_be_bytes().to_vec();
        d.extend(std::iter::repeat_n(b'n', len));
        d.extend_from_slice(&0u16.to_be_bytes());
        r.opt(OPT_INFO, &d);
        assert_eq!(r.final_reply(), want, "name of {len} bytes");
    }
    // A query count far beyond the data is malformed, not a long loop.
    let mut d = 4u32.to_be_bytes().to_vec();
    d.extend_from_slice(b"disc");
    d.extend_from_slice(&u32::MAX.to_be_bytes());
    r.opt(OPT_LIST_META_CONTEXT, &d);
    assert_eq!(r.final_reply(), REP_ERR_INVALID);

    for name in ["disc", "mem"] {
        let mut r = Raw::open(&srv);
        r.opt(OPT_STRUCTURED_REPLY, &[]);
        assert_eq!(r.reply().1, REP_ACK);
        let id = set_base_allocation(&mut r, name);
        r.go(name);
        let size = SIZE as u64;
        // A read that ends exactly at the end (the file one goes by sendfile).
        r.request(CMD_READ, 0, 1, size - 100, 100);
        let (f, kind, c, payload) = r.chunk();
        assert_eq!(
            (f, kind, c),
            (REPLY_FLAG_DONE, REPLY_TYPE_OFFSET_DATA, 1),
            "{name}"
        );
        assert_eq!(&payload[8..], &data[SIZE - 100..], "{name}");
        // Zero-length reads and block status past the end: EINVAL in an error chunk.
        for (cookie, kind, offset, length) in [
            (2u64, CMD_READ, 0u64, 0u32),
            (3, CMD_BLOCK_STATUS, size, 1),
            (4, CMD_BLOCK_STATUS, size - 1, 2),
            (5, CMD_BLOCK_STATUS, 0, 0),
        ] {
            r.request(kind, 0, cookie, offset, length);
            let (f, t, c, payload) = r.chunk();
            assert_eq!(
                (f, t, c),
                (REPLY_FLAG_DONE, REPLY_TYPE_ERROR, cookie),
                "{name} request {cookie}"
            );
            assert_eq!(
                u32::from_be_bytes(payload[0..4].try_into().unwrap()),
                EINVAL
            );
        }
        // Block status of the last byte, with REQ_ONE: one extent of that one byte.
        r.request(CMD_BLOCK_STATUS, CMD_FLAG_REQ_ONE, 6, size - 1, 1);
        let (f, t, c, payload) = r.chunk();
        assert_eq!(
            (f, t, c),
            (REPLY_FLAG_DONE, REPLY_TYPE_BLOCK_STATUS, 6),
            "{name}"
        );
        assert_eq!(payload.len(), 4 + 8, "{name}: one extent");
        assert_eq!(u32::from_be_bytes(payload[0..4].try_into().unwrap()), id);
        assert_eq!(
            u32::from_be_bytes(payload[4..8].try_into().unwrap()),
            1,
            "{name}: extent length"
        );
    }
    // Holes with REQ_ONE: only the first extent, no longer than asked.
    let mut r = Raw::open(&srv);
    r.opt(OPT_STRUCTURED_REPLY, &[]);
    assert_eq!(r.reply().1, REP_ACK);
    set_base_allocation(&mut r, "holes");
    r.go("holes");
    for (flags, want) in [
        (
            0u16,
            vec![
                (1u32 << 20, 0u32),
                (2 << 20, STATE_HOLE | STATE_ZERO),
                (4096, 0),
            ],
        ),
        (CMD_FLAG_REQ_ONE, vec![(1 << 20, 0)]),
    ] {
        r.request(CMD_BLOCK_STATUS, flags, 7, 0, (3 << 20) + 4096);
        let (_, t, _, payload) = r.chunk();
        assert_eq!(t, REPLY_TYPE_BLOCK_STATUS);
        let got: Vec<(u32, u32)> = payload[4..]
            .chunks_exact(8)
            .map(|e| {
                (
                    u32::from_be_bytes(e[0..4].try_into().unwrap()),
                    u32::from_be_bytes(e[4..8].try_into().unwrap()),
                )
            })
            .collect();
        assert_eq!(got, want, "flags {flags:#x}");
    }
    still_works(&srv, &data);
}
