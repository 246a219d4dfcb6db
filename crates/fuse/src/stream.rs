//! Read-ahead in the server for files opened with direct I/O.
//!
//! With `FOPEN_DIRECT_IO` the kernel sends every `read(2)` of the client as READ requests
//! of its own size, one after the other, and does no read-ahead: the client waits while we
//! read the bytes from the disc model and while the kernel copies our reply into its
//! buffer. When a handle reads sequentially, [`Stream`] reads the next window (1 MiB) on a
//! worker thread while the current reply is copied, so the next request usually finds its
//! bytes ready and the two copies (image → our buffer, our buffer → the client) run on two
//! cores at once instead of one after the other. It is also what lets a slow decoder (CHD,
//! encrypted MDX) work ahead of a streaming reader.
//!
//! Each sequential stream holds a few window buffers (the window served, the one being
//! read, up to two spare), reused, so no allocation per request (which, with the daemon's
//! fixed malloc thresholds, would be an mmap and munmap of 1 MiB each time); they go with
//! the handle. At most [`MAX_BUFFERS`] exist in the process; beyond that, streams read
//! synchronously.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Condvar, Mutex, OnceLock};

/// Bytes read ahead at a time: the largest READ request the kernel sends (`max_pages_limit`).
pub(crate) const WINDOW: usize = 1 << 20;

/// Window buffers alive in the process at most (64 MiB).
pub(crate) const MAX_BUFFERS: usize = 64;

static BUFFERS: AtomicUsize = AtomicUsize::new(0);

/// Reads the file's bytes at an offset (short only at the end).
pub(crate) type Reader = Arc<dyn Fn(u64, &mut [u8]) -> io::Result<usize> + Send + Sync>;

/// One window buffer, counted in [`BUFFERS`] while it lives.
struct Buf(Vec<u8>);

impl Buf {
    fn new() -> Option<Buf> {
        if BUFFERS.fetch_add(1, Ordering::Relaxed) >= MAX_BUFFERS {
            BUFFERS.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        Some(Buf(vec![0; WINDOW]))
    }
}

impl Drop for Buf {
    fn drop(&mut self) {
        BUFFERS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Bytes `[start, start + len)` of the file, read (`len` short only at the end of the file).
struct Window {
    start: u64,
    len: usize,
    buf: Buf,
}

impl Window {
    fn covers(&self, offset: u64, end: u64) -> bool {
        offset >= self.start && end <= self.start + self.len as u64
    }
}

/// A window being read by a worker: `None` until done; `Err` when the read failed (the
/// request then reads synchronously, which logs and answers the error).
struct Ahead {
    start: u64,
    done: Mutex<Option<Result<Window, Buf>>>,
    cv: Condvar,
}

impl Ahead {
    fn wait(&self) -> Result<Window, Buf> {
        let mut d = self.done.lock().unwrap();
        loop {
            if let Some(r) = d.take() {
                return r;
            }
            d = self.cv.wait(d).unwrap();
        }
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// The worker threads, shared by every mount of the process, started at the first use.
fn workers() -> &'static Mutex<Sender<Job>> {
    static POOL: OnceLock<Mutex<Sender<Job>>> = OnceLock::new();
    POOL.get_or_init(|| {
        let (tx, rx) = channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let n = std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .clamp(2, 4);
        for i in 0..n {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("spindle-ahead-{i}"))
                .spawn(move || {
                    loop {
                        let job = rx.lock().unwrap().recv();
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                eprintln!("spindle-fuse: cannot start a read-ahead thread: {e}");
            }
        }
        Mutex::new(tx)
    })
}

#[derive(Default)]
struct State {
    /// Where the next request of a sequential reader starts.
    next: u64,
    /// The window the reader is in (shared with the replies being sent from it).
    cur: Option<Arc<Window>>,
    /// The window after it, being read.
    ahead: Option<Arc<Ahead>>,
    /// Buffers to read the next windows into (at most two: one may still be in a reply
    /// when the next window is needed).
    spare: Vec<Buf>,
}

impl State {
    /// Keeps `buf` for a next window (two spares at most; more are freed).
    fn keep(&mut self, buf: Buf) {
        if self.spare.len() < 2 {
            self.spare.push(buf);
        }
    }

    /// Lets go of the current window; its buffer is kept unless a reply still sends from
    /// it (then [`Stream::done`] keeps it).
    fn retire(&mut self) {
        if let Some(w) = self.cur.take()
            && let Ok(w) = Arc::try_unwrap(w)
        {
            self.keep(w.buf);
        }
    }
}

/// The read-ahead state of one open file.
pub(crate) struct Stream {
    size: u64,
    read: Reader,
    state: Mutex<State>,
}

/// What a request is answered from.
pub(crate) enum Served {
    /// These bytes: hand them to `reply.data`, then give the window back with [`Stream::done`].
    Window(WindowRef),
    /// Nothing ready: read synchronously.
    Miss,
}

pub(crate) struct WindowRef {
    window: Arc<Window>,
    from: usize,
    to: usize,
}

impl WindowRef {
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.window.buf.0[self.from..self.to]
    }
}

impl Stream {
    pub(crate) fn new(size: u64, read: Reader) -> Stream {
        Stream {
            size,
            read,
            state: Mutex::new(State::default()),
        }
    }

    /// Looks for `[offset, offset + size)` in the windows read ahead, and starts reading the
    /// next window when the handle reads sequentially. Random reads are misses and leave
    /// the windows alone.
    pub(crate) fn serve(&self, offset: u64, size: u32) -> Served {
        let end = (offset + size as u64).min(self.size);
        if offset >= end {
            return Served::Miss;
        }
        let mut st = self.state.lock().unwrap();
        let sequential = offset == st.next;
        st.next = offset + size as u64;
        if !sequential {
            return Served::Miss;
        }
        if !st.cur.as_ref().is_some_and(|w| w.covers(offset, end)) {
            st.retire();
            match st.ahead.take() {
                // The window this request starts in: wait for it.
                Some(a) if a.start <= offset => match a.wait() {
                    Ok(w) if w.covers(offset, end) => st.cur = Some(Arc::new(w)),
                    Ok(w) => st.keep(w.buf),
                    Err(b) => st.keep(b),
                },
                // The window right after this request (the reply that read the window
                // before it has not given it back yet): keep reading it.
                Some(a) if a.start == end => st.ahead = Some(a),
                // Elsewhere: reclaim its buffer.
                Some(a) => match a.wait() {
                    Ok(w) => st.keep(w.buf),
                    Err(b) => st.keep(b),
                },
                None => {}
            }
        }
        // Read the window after the one being served (or after this request, on a miss).
        let next = st.cur.as_ref().map_or(end, |w| w.start + w.len as u64);
        if st.ahead.is_none() && next < self.size {
            self.start_ahead(&mut st, next);
        }
        match &st.cur {
            Some(w) => Served::Window(WindowRef {
                window: w.clone(),
                from: (offset - w.start) as usize,
                to: (end - w.start) as usize,
            }),
            None => Served::Miss,
        }
    }

    /// Gives back a window after its bytes were sent.
    pub(crate) fn done(&self, w: WindowRef) {
        let mut st = self.state.lock().unwrap();
        // Retired while we sent from it: we hold the last reference, keep the buffer.
        if let Ok(w) = Arc::try_unwrap(w.window) {
            st.keep(w.buf);
        }
    }

    fn start_ahead(&self, st: &mut State, start: u64) {
        let Some(mut buf) = st.spare.pop().or_else(Buf::new) else {
            return;
        };
        let ahead = Arc::new(Ahead {
            start,
            done: Mutex::new(None),
            cv: Condvar::new(),
        });
        let len = WINDOW.min((self.size - start) as usize);
        let read = self.read.clone();
        let a = ahead.clone();
        let job: Job = Box::new(move || {
            // A panicking reader must not leave the request waiting for this window.
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                crate::tree::fill(&mut buf.0[..len], start, &*read)
            }));
            let out = match r.unwrap_or_else(|_| Err(io::Error::other("reader panicked"))) {
                Ok(n) if n == len => Ok(Window { start, len, buf }),
                // Short or failed: the request reads itself and reports what is wrong.
                _ => Err(buf),
            };
            *a.done.lock().unwrap() = Some(out);
            a.cv.notify_all();
        });
        if workers().lock().unwrap().send(job).is_ok() {
            st.ahead = Some(ahead);
        }
    }
}
