//! The NBD server fed hostile clients: option haggling and transmission requests from the
//! fuzzer over a real socket pair. It must answer or drop the client, never panic or hang.
//!
//! The first byte picks how the rest is read: raw bytes after the greeting (mode 0), a list
//! of options the target frames with the IHAVEOPT magic (mode 1), or requests the target
//! frames with the request magic after a well-formed NBD_OPT_GO (mode 2), so that the
//! fuzzer reaches both phases without having to find the magics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spindle_nbd::{ByteSource, Catalog, ExportInfo, Run, Server, ServerConfig};
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

struct Mem(Vec<u8>);

impl ByteSource for Mem {
    fn len(&self) -> u64 {
        self.0.len() as u64
    }
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let at = (offset as usize).min(self.0.len());
        let n = buf.len().min(self.0.len() - at);
        buf[..n].copy_from_slice(&self.0[at..at + n]);
        Ok(n)
    }
    fn runs(&self, offset: u64, length: u64) -> Vec<Run> {
        // Alternating 4 KiB data and hole runs from offset 0.
        let mut out = Vec::new();
        let (mut at, end) = (offset, offset.saturating_add(length).min(self.len()));
        while at < end {
            let run_end = ((at / 4096) + 1) * 4096;
            let hole = (at / 4096) % 2 == 1;
            out.push(Run {
                len: run_end.min(end) - at,
                stored: !hole,
                zero: hole,
            });
            at = run_end;
        }
        out
    }
}

struct One(Arc<Mem>);

impl Catalog for One {
    fn list(&self) -> Vec<ExportInfo> {
        vec![ExportInfo::new("disc", "fuzz")]
    }
    fn open(&self, name: &str) -> Option<(ExportInfo, Arc<dyn ByteSource>)> {
        (name.is_empty() || name == "disc")
            .then(|| (self.list().remove(0), self.0.clone() as Arc<dyn ByteSource>))
    }
}

fn server() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(|| {
        let config = ServerConfig {
            handshake_timeout: Duration::from_millis(500),
            write_timeout: Duration::from_millis(500),
            ..ServerConfig::default()
        };
        Server::new(Arc::new(One(Arc::new(Mem(vec![0x5a; 64 << 10])))), config)
    })
}

fn option(out: &mut Vec<u8>, opt: u32, data: &[u8]) {
    out.extend_from_slice(b"IHAVEOPT");
    out.extend_from_slice(&opt.to_be_bytes());
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(data);
}

fn frame(data: &[u8]) -> Vec<u8> {
    let Some((&mode, rest)) = data.split_first() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    match mode % 3 {
        0 => out.extend_from_slice(rest),
        1 => {
            out.extend_from_slice(&3u32.to_be_bytes()); // FIXED_NEWSTYLE | NO_ZEROES
            for chunk in rest.chunks(9) {
                let (opt, body) = chunk.split_first().unwrap();
                option(&mut out, (*opt % 12) as u32, body);
            }
        }
        _ => {
            out.extend_from_slice(&3u32.to_be_bytes());
            option(&mut out, 8, &[]); // STRUCTURED_REPLY
            let mut ctx = Vec::new();
            ctx.extend_from_slice(&4u32.to_be_bytes());
            ctx.extend_from_slice(b"disc");
            ctx.extend_from_slice(&1u32.to_be_bytes());
            ctx.extend_from_slice(&15u32.to_be_bytes());
            ctx.extend_from_slice(b"base:allocation");
            option(&mut out, 10, &ctx); // SET_META_CONTEXT
            let mut go = Vec::new();
            go.extend_from_slice(&4u32.to_be_bytes());
            go.extend_from_slice(b"disc");
            go.extend_from_slice(&0u16.to_be_bytes());
            option(&mut out, 7, &go); // GO
            for chunk in rest.chunks(16) {
                let mut c = [0u8; 16];
                c[..chunk.len()].copy_from_slice(chunk);
                out.extend_from_slice(&0x2560_9513u32.to_be_bytes());
                out.extend_from_slice(&(u16::from_be_bytes([c[0], c[1]]) & 0x1f).to_be_bytes());
                out.extend_from_slice(&((c[2] % 9) as u16).to_be_bytes());
                out.extend_from_slice(&[c[3]; 8]); // cookie
                // Offsets and lengths near the export's end, or anything.
                let offset = if c[4] & 1 == 0 {
                    u64::from(u32::from_be_bytes([c[5], c[6], c[7], c[8]])) % (80 << 10)
                } else {
                    u64::from_be_bytes([c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11]])
                };
                let len = if c[12] & 1 == 0 {
                    u32::from_be_bytes([0, c[13], c[14], c[15]]) % (70 << 10)
                } else {
                    u32::from_be_bytes([c[12], c[13], c[14], c[15]])
                };
                out.extend_from_slice(&offset.to_be_bytes());
                out.extend_from_slice(&len.to_be_bytes());
            }
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let input = frame(data);
    let (client, serving) = UnixStream::pair().unwrap();
    let s = server().clone();
    let t = std::thread::spawn(move || {
        let _ = s.serve_stream(serving);
    });
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut reader = client.try_clone().unwrap();
    // Drain replies while writing, so that the server never blocks on a full socket.
    let drain = std::thread::spawn(move || {
        let mut buf = vec![0u8; 1 << 16];
        let mut total = 0usize;
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            total += n;
        }
        total
    });
    let mut w = &client;
    let _ = w.write_all(&input);
    let _ = client.shutdown(std::net::Shutdown::Write);
    let _ = drain.join();
    t.join().unwrap();
});
