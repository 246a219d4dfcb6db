//! The transmission phase: a reader thread takes requests off the socket and hands reads
//! and block-status queries to a few worker threads; replies are written whole under a
//! lock (header and data in one writev, or the header then sendfile). In-flight requests
//! and bytes are bounded per connection, so a client that floods requests and never reads
//! replies stops being read from (TCP/Unix back-pressure) instead of growing our memory.

use std::io::{self, BufReader, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use spindle_bytes::ByteSource;

use crate::handshake::Negotiated;
use crate::proto::*;
use crate::server::Inner;
use crate::socket::{Channel, Socket, TlsStream, send_file, write_all_vectored};

/// Largest buffer a worker keeps between requests.
const KEEP_BUFFER: usize = 1 << 20;
/// Reads are served in pieces of at most this (one structured chunk or one write each),
/// except structured reads with NBD_CMD_FLAG_DF, which must be one chunk.
const PIECE: usize = 1 << 20;
/// Most extents in one BLOCK_STATUS reply.
const MAX_EXTENTS: usize = 1 << 16;

enum Out {
    Plain(Mutex<Socket>),
    Tls(Mutex<Box<dyn TlsStream>>),
}

struct Budget {
    bytes: usize,
    count: usize,
}

struct Conn<'a> {
    export: Arc<dyn ByteSource>,
    size: u64,
    structured: bool,
    base_allocation: bool,
    out: Out,
    ctl: &'a Socket,
    zero_copy: bool,
    /// Zero-copy on a plain socket: file-backed reads are sent by the reader thread.
    zero_copy_plain: bool,
    max_bytes: usize,
    max_requests: usize,
    budget: Mutex<Budget>,
    freed: Condvar,
    broken: AtomicBool,
}

struct Job {
    req: Request,
    weight: usize,
}

/// How much reply data is gathered before one TLS write.
const RECORD_BATCH: usize = 256 * 1024;

/// Gathers a reply's small writes (headers, offsets) with its data, so that TLS sends full
/// records instead of one tiny record per header.
struct RecordBatcher<'a> {
    stream: &'a mut dyn TlsStream,
    buf: Vec<u8>,
}

impl io::Write for RecordBatcher<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= RECORD_BATCH {
            self.stream.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            self.stream.write_all(&self.buf)?;
            self.buf.clear();
        }
        self.stream.flush()
    }
}

/// Reads through the TLS stream's lock (TLS connections have no workers, so the lock is
/// never contended; it only lets the reply code share one path with plain connections).
struct LockedReader<'a>(&'a Mutex<Box<dyn TlsStream>>);

impl Read for LockedReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).read(buf)
    }
}

impl Conn<'_> {
    fn fail(&self) {
        self.broken.store(true, Ordering::SeqCst);
        self.ctl.shutdown();
        self.freed.notify_all();
    }

    /// The plain file and the offset there that hold all of `[offset, offset + length)`
    /// as it reads, for sendfile(2) and readahead advice.
    fn file_range(&self, offset: u64, length: u64) -> Option<(&std::fs::File, u64)> {
        let b = self.export.backing(offset, length)?;
        (b.len == length).then_some((b.file, b.offset))
    }

    fn is_broken(&self) -> bool {
        self.broken.load(Ordering::Relaxed)
    }

    /// Runs `f` with the reply stream locked (a reply written in several writes).
    fn with_writer(&self, f: impl FnOnce(&mut dyn io::Write) -> io::Result<()>) -> io::Result<()> {
        match &self.out {
            Out::Plain(s) => f(&mut *s.lock().unwrap_or_else(|p| p.into_inner())),
            Out::Tls(s) => {
                let mut s = s.lock().unwrap_or_else(|p| p.into_inner());
                let mut w = RecordBatcher {
                    stream: &mut **s,
                    buf: Vec::with_capacity(RECORD_BATCH),
                };
                f(&mut w)?;
                io::Write::flush(&mut w)
            }
        }
    }

    /// Writes one whole reply; a failed write ends the connection.
    fn send(&self, parts: &[&[u8]]) {
        if self.with_writer(|w| write_all_vectored(w, parts)).is_err() {
            self.fail();
        }
    }

    fn send_ok(&self, cookie: u64) {
        self.send(&[&simple_reply(0, cookie)]);
    }

    fn send_error(&self, cookie: u64, error: u32, message: &str) {
        if self.structured {
            let msg = truncate_utf8(message, MAX_STRING).as_bytes();
            let head = chunk_header(
                REPLY_FLAG_DONE,
                REPLY_TYPE_ERROR,
                cookie,
                6 + msg.len() as u32,
            );
            let mut body = [0; 6];
            body[0..4].copy_from_slice(&error.to_be_bytes());
            body[4..6].copy_from_slice(&(msg.len() as u16).to_be_bytes());
            self.send(&[&head, &body, msg]);
        } else {
            self.send(&[&simple_reply(error, cookie)]);
        }
    }

    /// Checks that `[offset, offset + length)` lies in the export.
    fn in_range(&self, req: &Request) -> bool {
        req.length > 0
            && req
                .offset
                .checked_add(req.length as u64)
                .is_some_and(|end| end <= self.size)
    }

    fn acquire(&self, weight: usize) -> bool {
        let mut b = self.budget.lock().unwrap_or_else(|p| p.into_inner());
        while !self.is_broken()
            && (b.count >= self.max_requests || (b.count > 0 && b.bytes + weight > self.max_bytes))
        {
            b = self
                .freed
                .wait_timeout(b, Duration::from_millis(200))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        if self.is_broken() {
            return false;
        }
        b.bytes += weight;
        b.count += 1;
        true
    }

    fn release(&self, weight: usize) {
        let mut b = self.budget.lock().unwrap_or_else(|p| p.into_inner());
        b.bytes -= weight;
        b.count -= 1;
        drop(b);
        self.freed.notify_one();
    }

    fn process(&self, job: &Job, buf: &mut Vec<u8>) {
        let req = job.req;
        match req.kind {
            CMD_READ => self.read(&req, buf),
            CMD_BLOCK_STATUS => self.block_status(&req),
            _ => unreachable!("only reads and block status are queued"),
        }
        self.release(job.weight);
    }

    /// The bytes a queued read holds while a worker serves it: whole only when the reply
    /// must be one chunk of structured data (NBD_CMD_FLAG_DF), else one piece.
    fn read_weight(&self, req: &Request) -> usize {
        let len = req.length as usize;
        if self.structured && req.flags & CMD_FLAG_DF != 0 {
            len
        } else {
            len.min(PIECE)
        }
    }

    /// sendfile for file-backed ranges on plain sockets; true when it handled the read.
    fn read_zero_copy(&self, req: &Request) -> bool {
        if !self.zero_copy {
            return false;
        }
        let len = req.length as u64;
        let (Out::Plain(sock), Some((file, at))) = (&self.out, self.file_range(req.offset, len))
        else {
            return false;
        };
        let mut h = [0u8; CHUNK_HEADER_LEN + 8];
        let n = if self.structured {
            h[..CHUNK_HEADER_LEN].copy_from_slice(&chunk_header(
                REPLY_FLAG_DONE,
                REPLY_TYPE_OFFSET_DATA,
                req.cookie,
                8 + req.length,
            ));
            h[CHUNK_HEADER_LEN..].copy_from_slice(&req.offset.to_be_bytes());
            CHUNK_HEADER_LEN + 8
        } else {
            h[..SIMPLE_REPLY_LEN].copy_from_slice(&simple_reply(0, req.cookie));
            SIMPLE_REPLY_LEN
        };
        let sock = sock.lock().unwrap_or_else(|p| p.into_inner());
        let r = send_more(&sock, &h[..n]).and_then(|_| send_file(&sock, file, at, len));
        drop(sock);
        if r.is_err() {
            self.fail();
        }
        true
    }

    fn read(&self, req: &Request, buf: &mut Vec<u8>) {
        if self.read_zero_copy(req) {
            return;
        }
        let len = req.length as usize;
        let piece = self.read_weight(req);
        if buf.len() < piece {
            buf.resize(piece, 0);
        }
        let error = |at: u64, e: io::Error| (wire_error(&e), format!("read at {at}: {e}"));
        if self.structured {
            // One OFFSET_DATA chunk per piece (the last one DONE), so that a big read holds
            // one piece of memory; an error ends the reply with an ERROR chunk.
            let mut done = 0;
            while done < len {
                let n = piece.min(len - done);
                let at = req.offset + done as u64;
                if let Err(e) = self.export.read_exact_at(&mut buf[..n], at) {
                    let (code, msg) = error(at, e);
                    self.send_error(req.cookie, code, &msg);
                    break;
                }
                let last = done + n == len;
                let flags = if last { REPLY_FLAG_DONE } else { 0 };
                let head = chunk_header(flags, REPLY_TYPE_OFFSET_DATA, req.cookie, 8 + n as u32);
                self.send(&[&head, &at.to_be_bytes(), &buf[..n]]);
                done += n;
                if self.is_broken() {
                    break;
                }
            }
        } else {
            // Simple replies: the first piece is read before the header, so that its error
            // can still be reported; a later error leaves no way to say so but hanging up.
            let n = piece.min(len);
            match self.export.read_exact_at(&mut buf[..n], req.offset) {
                Err(e) => {
                    let (code, msg) = error(req.offset, e);
                    self.send_error(req.cookie, code, &msg);
                }
                Ok(()) => {
                    let head = simple_reply(0, req.cookie);
                    let r = self.with_writer(|w| {
                        write_all_vectored(w, &[&head, &buf[..n]])?;
                        let mut done = n;
                        while done < len {
                            let m = piece.min(len - done);
                            self.export
                                .read_exact_at(&mut buf[..m], req.offset + done as u64)?;
                            write_all_vectored(w, &[&buf[..m]])?;
                            done += m;
                        }
                        Ok(())
                    });
                    if r.is_err() {
                        self.fail();
                    }
                }
            }
        }
        if buf.len() > KEEP_BUFFER {
            buf.truncate(KEEP_BUFFER);
            buf.shrink_to(KEEP_BUFFER);
        }
    }

    fn block_status(&self, req: &Request) {
        let runs = self.export.runs(req.offset, req.length as u64);
        let want = req.length as u64;
        let mut extents: Vec<(u32, u32)> = Vec::new();
        let mut covered = 0u64;
        for r in runs {
            if covered >= want || extents.len() >= MAX_EXTENTS {
                break;
            }
            if r.len == 0 {
                continue;
            }
            let len = r.len.min(want - covered);
            let flags = if r.stored { 0 } else { STATE_HOLE } | if r.zero { STATE_ZERO } else { 0 };
            match extents.last_mut() {
                Some((l, f)) if *f == flags => *l += len as u32,
                _ => extents.push((len as u32, flags)),
            }
            covered += len;
        }
        if extents.is_empty() {
            extents.push((req.length, 0));
        }
        if req.flags & CMD_FLAG_REQ_ONE != 0 {
            extents.truncate(1);
        }
        let mut body = Vec::with_capacity(4 + 8 * extents.len());
        body.extend_from_slice(&BASE_ALLOCATION_ID.to_be_bytes());
        for (l, f) in &extents {
            body.extend_from_slice(&l.to_be_bytes());
            body.extend_from_slice(&f.to_be_bytes());
        }
        let head = chunk_header(
            REPLY_FLAG_DONE,
            REPLY_TYPE_BLOCK_STATUS,
            req.cookie,
            body.len() as u32,
        );
        self.send(&[&head, &body]);
    }

    /// Advice to read ahead; the data stays in the page cache for the reads to come.
    fn cache(&self, req: &Request) {
        if let Some((file, at)) = self.file_range(req.offset, req.length as u64) {
            use std::os::fd::AsRawFd;
            // SAFETY: a valid fd; the call only gives advice.
            unsafe {
                libc::posix_fadvise(
                    file.as_raw_fd(),
                    at as libc::off_t,
                    req.length as libc::off_t,
                    libc::POSIX_FADV_WILLNEED,
                );
            }
        }
    }
}

/// The longest string the protocol allows (error messages included).
const MAX_STRING: usize = 4096;

/// `s` cut to at most `max` bytes on a character boundary (protocol strings are UTF-8).
fn truncate_utf8(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Sends a reply header with MSG_MORE, so that it leaves in one segment with the data
/// sendfile adds after it.
fn send_more(sock: &Socket, mut buf: &[u8]) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    while !buf.is_empty() {
        // SAFETY: buf is valid for reads of its length; the fd is open.
        let n = unsafe {
            libc::send(
                sock.as_raw_fd(),
                buf.as_ptr().cast(),
                buf.len(),
                libc::MSG_MORE | libc::MSG_NOSIGNAL,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        buf = &buf[n as usize..];
    }
    Ok(())
}

/// Serves requests until the client disconnects, breaks the protocol, or the server stops.
pub fn run(inner: &Inner, n: Negotiated, ctl: &Socket) -> io::Result<()> {
    let cfg = &inner.config;
    let (out, plain_reader) = match n.channel {
        Channel::Plain(sock) => {
            let reader = sock.try_clone()?;
            (Out::Plain(Mutex::new(sock)), Some(reader))
        }
        Channel::Tls(stream) => (Out::Tls(Mutex::new(stream)), None),
    };
    let conn = Conn {
        size: n.export.len(),
        export: n.export,
        structured: n.structured,
        base_allocation: n.base_allocation,
        out,
        ctl,
        zero_copy: cfg.zero_copy,
        zero_copy_plain: cfg.zero_copy && plain_reader.is_some(),
        max_bytes: cfg.max_inflight_bytes.max(1),
        max_requests: cfg.max_inflight_requests.max(1),
        budget: Mutex::new(Budget { bytes: 0, count: 0 }),
        freed: Condvar::new(),
        broken: AtomicBool::new(false),
    };
    let workers = if plain_reader.is_some() {
        cfg.workers
    } else {
        0
    };
    let (tx, rx) = mpsc::channel::<Job>();
    let rx = Mutex::new(rx);
    std::thread::scope(|scope| {
        // Owned by this closure: if spawning a worker fails, returning drops the sender, so
        // the workers already started see the channel close and the scope can join them.
        let tx = tx;
        for _ in 0..workers {
            let conn = &conn;
            let rx = &rx;
            std::thread::Builder::new()
                .name("nbd-worker".into())
                .spawn_scoped(scope, move || {
                    let mut buf = Vec::new();
                    loop {
                        let job = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                        let Ok(job) = job else { break };
                        if conn.is_broken() {
                            conn.release(job.weight);
                            continue;
                        }
                        conn.process(&job, &mut buf);
                    }
                })
                .map_err(|e| io::Error::other(format!("spawning an NBD worker: {e}")))?;
        }
        let mut inline_buf = Vec::new();
        let result = {
            let mut reader: Box<dyn Read + '_> = match (&plain_reader, &conn.out) {
                (Some(sock), _) => Box::new(BufReader::with_capacity(64 * 1024, SockRead(sock))),
                (None, Out::Tls(s)) => Box::new(LockedReader(s)),
                (None, Out::Plain(_)) => unreachable!(),
            };
            let dispatch = |job: Job, buf: &mut Vec<u8>| {
                if workers == 0 {
                    conn.process(&job, buf);
                } else if let Err(mpsc::SendError(job)) = tx.send(job) {
                    conn.release(job.weight);
                }
            };
            reader_loop(&conn, &mut *reader, &mut inline_buf, dispatch, inner)
        };
        drop(tx);
        result
    })
}

struct SockRead<'a>(&'a Socket);

impl Read for SockRead<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use std::os::fd::AsRawFd;
        loop {
            // SAFETY: buf is valid for writes of its length; the fd is open.
            let n = unsafe { libc::read(self.0.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }
}

fn reader_loop(
    conn: &Conn<'_>,
    reader: &mut dyn Read,
    buf: &mut Vec<u8>,
    dispatch: impl Fn(Job, &mut Vec<u8>),
    inner: &Inner,
) -> io::Result<()> {
    loop {
        let mut h = [0; REQUEST_LEN];
        match reader.read_exact(&mut h) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        }
        if conn.is_broken() || inner.stopping.load(Ordering::Relaxed) {
            return Ok(());
        }
        let Some(req) = Request::decode(&h) else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "bad request magic",
            ));
        };
        match req.kind {
            CMD_DISC => return Ok(()),
            CMD_READ => {
                if req.length as usize > MAX_PAYLOAD {
                    let e = if req.flags & CMD_FLAG_DF != 0 && conn.structured {
                        EOVERFLOW
                    } else {
                        EINVAL
                    };
                    conn.send_error(
                        req.cookie,
                        e,
                        "read longer than the 32 MiB maximum block size",
                    );
                } else if !conn.in_range(&req) {
                    conn.send_error(req.cookie, EINVAL, "read outside the export");
                } else if conn.zero_copy_plain
                    && conn.file_range(req.offset, req.length as u64).is_some()
                {
                    // sendfile needs no buffer and is over in the time a hand-off to a
                    // worker takes: the reader sends it itself.
                    conn.read(&req, buf);
                } else {
                    let weight = conn.read_weight(&req);
                    if !conn.acquire(weight) {
                        return Ok(());
                    }
                    dispatch(Job { req, weight }, buf);
                }
            }
            CMD_BLOCK_STATUS => {
                if !conn.structured || !conn.base_allocation {
                    conn.send_error(req.cookie, EINVAL, "base:allocation was not negotiated");
                } else if !conn.in_range(&req) {
                    conn.send_error(req.cookie, EINVAL, "block status outside the export");
                } else {
                    if !conn.acquire(4096) {
                        return Ok(());
                    }
                    dispatch(Job { req, weight: 4096 }, buf);
                }
            }
            CMD_CACHE => {
                if conn.in_range(&req) {
                    conn.cache(&req);
                    conn.send_ok(req.cookie);
                } else {
                    conn.send_error(req.cookie, EINVAL, "cache outside the export");
                }
            }
            CMD_FLUSH => conn.send_ok(req.cookie),
            CMD_WRITE => {
                // Skip the payload to stay in step; one larger than any block we allow is a
                // client we cannot stay in step with cheaply: hang up.
                if req.length as usize > MAX_PAYLOAD {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "write payload over 32 MiB",
                    ));
                }
                io::copy(
                    &mut Read::take(&mut *reader, req.length as u64),
                    &mut io::sink(),
                )?;
                conn.send_error(req.cookie, EPERM, "the export is read-only");
            }
            CMD_TRIM | CMD_WRITE_ZEROES => {
                conn.send_error(req.cookie, EPERM, "the export is read-only")
            }
            _ => conn.send_error(req.cookie, EINVAL, "unknown command"),
        }
        if conn.is_broken() {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::truncate_utf8;

    #[test]
    fn error_messages_are_cut_on_a_character_boundary() {
        let s = format!("{}é", "x".repeat(4095));
        assert_eq!(s.len(), 4097);
        let cut = truncate_utf8(&s, 4096);
        assert_eq!(cut.len(), 4095, "the two-byte é must not be split");
        assert!(std::str::from_utf8(cut.as_bytes()).is_ok());
        assert_eq!(truncate_utf8("short", 4096), "short");
    }
}
