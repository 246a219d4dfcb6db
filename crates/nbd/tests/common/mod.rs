//! Shared test helpers: a server in this process over a Unix socket or TCP port, test
//! exports (files, and memory with holes), and running real client tools (spindle-testkit's).
#![allow(dead_code, unused_imports)]

use std::io;
use std::net::TcpListener;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};

use std::sync::Arc;
use std::thread::JoinHandle;

use spindle_nbd::files::{SparseFile, StaticCatalog};
use spindle_nbd::{ByteSource, ExportInfo, Run, Server, ServerConfig};
pub use spindle_testkit::tools::{require, run, stdout};

pub struct TestServer {
    pub server: Server,
    pub sock: PathBuf,
    pub port: u16,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl TestServer {
    pub fn unix(dir: &Path, catalog: StaticCatalog, config: ServerConfig) -> TestServer {
        let sock = dir.join(format!("nbd-{}.sock", std::process::id() ^ rand_u32()));
        let l = UnixListener::bind(&sock).unwrap();
        let server = Server::new(Arc::new(catalog), config);
        let s = server.clone();
        let thread = std::thread::spawn(move || s.serve_unix(l));
        TestServer {
            server,
            sock,
            port: 0,
            thread: Some(thread),
        }
    }

    pub fn tcp(catalog: StaticCatalog, config: ServerConfig) -> TestServer {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let server = Server::new(Arc::new(catalog), config);
        let s = server.clone();
        let thread = std::thread::spawn(move || s.serve_tcp(l));
        TestServer {
            server,
            sock: PathBuf::new(),
            port,
            thread: Some(thread),
        }
    }

    /// A handle on a server run elsewhere (a subprocess), for the socket path only.
    pub fn unix_path_only(sock: PathBuf) -> TestServer {
        TestServer {
            server: Server::new(Arc::new(StaticCatalog::new()), ServerConfig::default()),
            sock,
            port: 0,
            thread: None,
        }
    }

    /// `nbd+unix:///NAME?socket=...`
    pub fn uri(&self, name: &str) -> String {
        if self.port != 0 {
            format!("nbd://127.0.0.1:{}/{name}", self.port)
        } else {
            format!("nbd+unix:///{name}?socket={}", self.sock.display())
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.server.stop();
        if let Some(t) = self.thread.take() {
            t.join().unwrap().unwrap();
        }
    }
}

fn rand_u32() -> u32 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now()) as u32
}

/// A deterministic pattern: every 64 KiB block `i` is filled with byte `block_byte(i)`
/// except its first 8 bytes, which hold the block's offset (so shifted reads show).
pub fn block_byte(i: u64) -> u8 {
    (i % 251 + 1) as u8
}

pub fn pattern(len: usize) -> Vec<u8> {
    let mut v = vec![0; len];
    for (i, block) in v.chunks_mut(65536).enumerate() {
        block.fill(block_byte(i as u64));
    }
    v
}

/// A memory export whose allocation is given as runs (length, hole, zero); hole and zero
/// runs read as zeros.
pub struct MemExport {
    pub data: Vec<u8>,
    pub runs: Vec<Run>,
}

impl MemExport {
    pub fn new(runs: &[(u64, bool, bool)]) -> MemExport {
        let total: u64 = runs.iter().map(|r| r.0).sum();
        let mut data = pattern(total as usize);
        let mut at = 0usize;
        for &(len, hole, zero) in runs {
            if hole || zero {
                data[at..at + len as usize].fill(0);
            }
            at += len as usize;
        }
        MemExport {
            data,
            runs: runs
                .iter()
                .map(|&(len, hole, zero)| Run {
                    len,
                    stored: !hole,
                    zero,
                })
                .collect(),
        }
    }
}

impl ByteSource for MemExport {
    fn len(&self) -> u64 {
        self.data.len() as u64
    }
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let o = (offset as usize).min(self.data.len());
        let n = buf.len().min(self.data.len() - o);
        buf[..n].copy_from_slice(&self.data[o..o + n]);
        Ok(n)
    }
    fn runs(&self, offset: u64, length: u64) -> Vec<Run> {
        let mut out = Vec::new();
        let mut start = 0;
        for r in &self.runs {
            let end = start + r.len;
            if end > offset && start < offset + length {
                let s = start.max(offset);
                out.push(Run { len: end - s, ..*r });
            }
            start = end;
        }
        out
    }
}

/// A catalog with `disc` (a pattern file, zero-copy capable), `mem` (the same bytes from
/// memory, no zero-copy), `raw` (2352-byte preferred blocks) and `holes` (a MemExport
/// with holes and zero runs).
pub fn catalog(dir: &Path, size: usize) -> (StaticCatalog, PathBuf, Vec<u8>) {
    let data = pattern(size);
    let file = dir.join("disc.iso");
    std::fs::write(&file, &data).unwrap();
    let mut c = StaticCatalog::new();
    c.add(
        ExportInfo::new("disc", "a test disc"),
        Arc::new(SparseFile::open(&file).unwrap()),
    );
    c.add(
        ExportInfo::new("raw", "raw sectors").with_block_size(2352),
        Arc::new(SparseFile::open(&file).unwrap()),
    );
    let mut mem = MemExport::new(&[(size as u64, false, false)]);
    mem.data = data.clone();
    c.add(ExportInfo::new("mem", ""), Arc::new(mem));
    c.add(
        ExportInfo::new("holes", "an export with holes"),
        Arc::new(holes_export()),
    );
    (c, file, data)
}

pub fn holes_export() -> MemExport {
    const M: u64 = 1 << 20;
    MemExport::new(&[
        (M, false, false),
        (2 * M, true, true),
        (M, false, false),
        (M, false, true),
        (M, false, false),
    ])
}

/// The example server binary (built by `cargo test` with the examples).
pub fn nbd_serve_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let bin = dir.join("examples").join("nbd-serve");
    assert!(
        bin.is_file(),
        "no {} (cargo test builds examples)",
        bin.display()
    );
    bin
}
