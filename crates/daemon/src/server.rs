//! Serving clients: one thread per connection, each line a request, each answered in order.
//!
//! A line longer than [`MAX_LINE`] is answered `too_long` and skipped to its newline; bad
//! JSON, unknown commands and bad arguments get an error reply and the connection goes on;
//! a client that closes in the middle of a line gets an `incomplete` reply (if it still
//! reads) and its thread ends. A connection waits at most [`Limits::idle_timeout`] between
//! requests and [`Limits::line_timeout`] from a line's first byte to its newline (a deadline
//! for the whole line, not per read), so idle or trickling clients cost a sleeping thread
//! each, for a bounded time, and never hold the drives lock. How many connections each user
//! may hold, and file opens in flight, is [`crate::limits`]'s business.

use crate::DaemonError;
use crate::creds::User;
use crate::limits::{self, Budget, Limits, Permit};
use crate::nbd::DriveCatalog;
use crate::sharing::{LocalNbd, Share};
use crate::slots::{self, Drives};
use crate::state::SavedShare;
use serde_json::Value;
use spindle_nbd::Catalog;
use spindle_protocol::DriveReport;
use spindle_protocol::{
    self as protocol, CountReply, DrivesReply, EjectReply, ErrorCode, LoadReply, MAX_LINE,
    MountReply, PingReply, Reply, Request, ShareArgs, ShareReply, ShutdownReply, UnshareReply,
};
use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// What every client thread shares.
pub struct Shared {
    pub drives: Mutex<Drives>,
    /// Where the raw views are mounted (`None`: that mount failed).
    pub raw: Option<PathBuf>,
    pub last_request: Mutex<Instant>,
    pub stop: Arc<AtomicBool>,
    pub limits: Limits,
    /// Connections being served, per uid.
    pub clients: Arc<Budget>,
    /// File opens in flight (images, TLS files), per uid.
    pub opens: Arc<Budget>,
    /// The NBD socket of every drive (`None`: it could not be bound).
    pub nbd: Mutex<Option<LocalNbd>>,
}

impl Shared {
    pub fn drives(&self) -> MutexGuard<'_, Drives> {
        self.drives.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn touch(&self) {
        *self.last_request.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }

    /// The drives with their NBD URIs filled in.
    fn report(&self, d: &Drives) -> Vec<DriveReport> {
        let shares = d.shares();
        let mut r = d.report();
        let table = d.table();
        let catalog = DriveCatalog::all(table);
        let exports = catalog.list();
        for rep in &mut r {
            let mine: Vec<String> = exports
                .iter()
                .filter(|e| DriveCatalog::drive_of(&e.name) == Some(rep.drive))
                .map(|e| e.name.clone())
                .collect();
            if let Some(n) = &*self.nbd.lock().unwrap_or_else(|e| e.into_inner()) {
                rep.nbd.extend(mine.iter().map(|e| n.uri(e)));
            }
            for (_, s) in shares
                .iter()
                .filter(|(spec, _)| spec.share.drive == rep.drive)
            {
                rep.nbd.extend(s.uris(&mine));
            }
        }
        r
    }

    pub fn idle_for(&self) -> Duration {
        self.last_request
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .elapsed()
    }
}

enum Line {
    Request(Vec<u8>),
    TooLong,
    /// The peer closed in the middle of a line.
    Partial,
    Eof,
    Timeout,
    Failed,
}

/// When a line must be complete: [`Limits::idle_timeout`] after `since` (the previous reply,
/// or the connection), and [`Limits::line_timeout`] after its first byte, whichever is first.
struct Deadlines {
    since: Instant,
    idle: Duration,
    line: Duration,
}

impl Deadlines {
    fn deadline(&self, first_byte: Option<Instant>) -> Instant {
        let idle = self.since + self.idle;
        first_byte.map_or(idle, |f| idle.min(f + self.line))
    }
}

/// Reads one line; `set_timeout` arms the next read's timeout (the time left before the
/// deadline).
fn read_line<R: BufRead>(
    r: &mut R,
    d: &Deadlines,
    mut set_timeout: impl FnMut(&mut R, Duration),
) -> Line {
    let mut line = Vec::new();
    let mut too_long = false;
    let mut first_byte = None;
    loop {
        let left = d
            .deadline(first_byte)
            .saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Line::Timeout;
        }
        set_timeout(r, left.max(Duration::from_millis(1)));
        let buf = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Line::Timeout;
            }
            Err(_) => return Line::Failed,
        };
        if buf.is_empty() {
            return if line.is_empty() && !too_long {
                Line::Eof
            } else {
                Line::Partial
            };
        }
        first_byte.get_or_insert_with(Instant::now);
        let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        if !too_long {
            if line.len() + chunk.len() > MAX_LINE {
                too_long = true;
                line = Vec::new();
            } else {
                line.extend_from_slice(chunk);
            }
        }
        let used = done.unwrap_or(buf.len());
        r.consume(used);
        if done.is_some() {
            return if too_long {
                Line::TooLong
            } else {
                Line::Request(line)
            };
        }
    }
}

fn send(w: &mut UnixStream, v: &Value) -> bool {
    let mut s = v.to_string();
    s.push('\n');
    w.write_all(s.as_bytes()).is_ok()
}

/// Serves one connection of `user` (holding its connection `permit`) until it closes.
pub fn serve(stream: UnixStream, user: User, permit: Permit, shared: Arc<Shared>) {
    let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
    let mut w = match stream.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let mut r = BufReader::with_capacity(64 * 1024, stream);
    // Declared after the streams, so dropped before them: when the client sees the
    // connection close, its slot is free again.
    let _permit = permit;
    let mut d = Deadlines {
        since: Instant::now(),
        idle: shared.limits.idle_timeout,
        line: shared.limits.line_timeout,
    };
    let set = |r: &mut BufReader<UnixStream>, t: Duration| {
        let _ = r.get_ref().set_read_timeout(Some(t));
    };
    loop {
        match read_line(&mut r, &d, set) {
            // Blank lines are no request: they do not restart the idle time.
            Line::Request(line) if line.iter().all(u8::is_ascii_whitespace) => continue,
            Line::Request(line) => {
                shared.touch();
                let reply = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    handle(&line, &user, &shared)
                }))
                .unwrap_or_else(|_| {
                    protocol::error_value(
                        &Value::Null,
                        ErrorCode::Failed,
                        "internal error (logged by the daemon)",
                    )
                });
                shared.touch();
                if !send(&mut w, &reply) {
                    return;
                }
                d.since = Instant::now();
            }
            Line::TooLong => {
                shared.touch();
                let msg = format!("request line longer than {MAX_LINE} bytes");
                if !send(
                    &mut w,
                    &protocol::error_value(&Value::Null, ErrorCode::TooLong, &msg),
                ) {
                    return;
                }
                d.since = Instant::now();
            }
            Line::Partial => {
                send(
                    &mut w,
                    &protocol::error_value(
                        &Value::Null,
                        ErrorCode::Incomplete,
                        "connection closed in the middle of a request",
                    ),
                );
                return;
            }
            Line::Timeout => {
                let msg = format!(
                    "no complete request in time (at most {} s between requests, {} s for one line); closing",
                    d.idle.as_secs_f64(),
                    d.line.as_secs_f64()
                );
                send(
                    &mut w,
                    &protocol::error_value(&Value::Null, ErrorCode::Timeout, &msg),
                );
                return;
            }
            Line::Eof | Line::Failed => return,
        }
    }
}

fn failure(id: &Value, e: &DaemonError) -> Value {
    protocol::error_value(id, e.code(), &e.full_message())
}

fn handle(line: &[u8], user: &User, shared: &Shared) -> Value {
    let (id, request) = match protocol::decode_request(line) {
        Ok(x) => x,
        Err(r) => return protocol::error_value(&r.id, r.code, &r.message),
    };
    match run(request, user, shared) {
        Ok(reply) => protocol::ok_value(&id, &reply).unwrap_or_else(|e| {
            // A path that is not UTF-8 has no JSON string.
            protocol::error_value(&id, ErrorCode::Failed, &format!("the reply: {e}"))
        }),
        Err(e) => failure(&id, &e),
    }
}

fn raw_of(shared: &Shared, drive: u32) -> Option<PathBuf> {
    shared
        .raw
        .as_ref()
        .map(|r| r.join("drives").join(drive.to_string()))
}

fn run(request: Request, user: &User, shared: &Shared) -> crate::Result<Reply> {
    Ok(match request {
        Request::Ping => Reply::Ping(PingReply {
            version: env!("CARGO_PKG_VERSION").into(),
            protocol: protocol::VERSION,
            pid: std::process::id(),
        }),
        Request::Mount(a) => {
            let img = open_image(shared, user, &a.image, a.password)?;
            // Resolved and checked before the drives lock: a slow path holds up this request
            // alone.
            let at =
                a.at.as_deref()
                    .map(|p| crate::mountpoint::resolve(user, p))
                    .transpose()?;
            let mut d = shared.drives();
            let drive = d.mount_at(user, img, a.drive, a.allow_other, at)?;
            let r = d.report().swap_remove(drive as usize);
            eprintln!(
                "spindle-daemon: uid {}: drive {drive}: {} at {:?}",
                user.uid,
                a.image.display(),
                r.mountpoints
            );
            Reply::Mount(MountReply {
                drive,
                mountpoint: r.mountpoints.into_iter().next(),
                label: r.label,
                format: r.format.unwrap_or_default(),
                medium: r.medium.unwrap_or_default(),
                raw: raw_of(shared, drive),
            })
        }
        Request::Load(a) => {
            let img = open_image(shared, user, &a.image, a.password)?;
            let mut d = shared.drives();
            d.load(user, a.drive, img)?;
            let r = d.report().swap_remove(a.drive as usize);
            eprintln!(
                "spindle-daemon: uid {}: drive {}: loaded {}",
                user.uid,
                a.drive,
                a.image.display()
            );
            Reply::Load(LoadReply {
                drive: a.drive,
                mountpoints: r.mountpoints,
                label: r.label,
                raw: raw_of(shared, a.drive),
            })
        }
        Request::Eject(target) => {
            let ejected = shared.drives().eject(user, &target)?;
            eprintln!("spindle-daemon: uid {}: ejected {ejected:?}", user.uid);
            Reply::Eject(EjectReply { ejected })
        }
        Request::Drives => {
            // In its own statement: the NBD lock is let go before `report` takes it again.
            let nbd = shared
                .nbd
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_ref()
                .map(|n| n.path().to_path_buf());
            let d = shared.drives();
            Reply::Drives(DrivesReply {
                count: d.count(),
                raw: shared.raw.clone(),
                nbd,
                drives: shared.report(&d),
            })
        }
        Request::Count { n } => {
            if !limits::privileged(user.uid) {
                return Err(DaemonError::Denied(format!(
                    "only root or the daemon's own user (uid {}) may change the drive count",
                    User::current().uid
                )));
            }
            let mut d = shared.drives();
            d.set_count(n)?;
            Reply::Count(CountReply { count: d.count() })
        }
        Request::Share(a) => Reply::Share(share(a, user, shared)?),
        Request::Unshare { drive } => Reply::Unshare(unshare(drive, user, shared)?),
        Request::Shutdown => {
            let me = User::current();
            if user.uid != 0 && user.uid != me.uid {
                return Err(DaemonError::Denied(format!(
                    "only uid {} or root may stop this daemon",
                    me.uid
                )));
            }
            eprintln!("spindle-daemon: shutdown asked by uid {}", user.uid);
            shared.stop.store(true, Ordering::SeqCst);
            Reply::Shutdown(ShutdownReply {})
        }
    })
}

/// Opens an image for `user` on a bounded worker (see [`crate::limits`]).
fn open_image(
    shared: &Shared,
    user: &User,
    image: &std::path::Path,
    password: Option<String>,
) -> crate::Result<slots::Opened> {
    let (u, p) = (user.clone(), image.to_path_buf());
    let what = image.display().to_string();
    limits::bounded(
        &shared.opens,
        shared.limits.open_timeout,
        user,
        &what,
        move || slots::open_image(&u, &p, password),
    )
}

fn share(a: ShareArgs, user: &User, shared: &Shared) -> crate::Result<ShareReply> {
    {
        let d = shared.drives();
        if a.drive >= d.count() {
            return Err(DaemonError::NoDrive {
                drive: a.drive,
                count: d.count(),
            });
        }
        let privileged = user.uid == 0 || user.uid == User::current().uid;
        match d.report()[a.drive as usize].uid {
            Some(owner) if !privileged && user.uid != owner => {
                return Err(DaemonError::Denied(format!(
                    "drive {} belongs to uid {owner}",
                    a.drive
                )));
            }
            // An empty drive's one share slot would otherwise go to whoever asks first (and be
            // saved): only root and the daemon's user may share a drive nobody has loaded.
            None if !privileged => {
                return Err(DaemonError::Denied(format!(
                    "drive {} is empty: load a disc into it before sharing it",
                    a.drive
                )));
            }
            _ => {}
        }
    }
    if a.tls_psk.is_none() && !a.public {
        refuse_private(shared, user, a.drive)?;
    }
    let spec = SavedShare {
        share: a,
        owner: user.clone(),
    };
    let s = start_share(shared, spec)?;
    Ok(ShareReply {
        drive: s.drive,
        address: s.addr.to_string(),
        tls: s.tls,
        uris: s.uris,
    })
}

/// Refuses a share that authenticates no client (no TLS, or an X.509 certificate only) of a
/// drive holding a disc other local users cannot read. (A disc loaded later is checked
/// again when a client asks for it: [`DriveCatalog::public_only`].)
fn refuse_private(shared: &Shared, user: &User, drive: u32) -> crate::Result<()> {
    use spindle_fuse::DriveTable;
    let table = shared.drives().table();
    let disc = table
        .drives()
        .into_iter()
        .find(|(n, _)| *n == drive)
        .and_then(|(_, d)| d);
    let Some(disc) = disc else { return Ok(()) };
    let image = disc.source.path.clone();
    let checked = limits::bounded(
        &shared.opens,
        shared.limits.open_timeout,
        user,
        &image.display().to_string(),
        move || Ok(crate::sharing::readable_by_all(&disc)),
    )?;
    match checked {
        Ok(()) => Ok(()),
        Err(why) => Err(DaemonError::PrivateDisc(format!(
            "drive {drive} holds {}, which other local users cannot read ({why}): a share without TLS-PSK would hand it to any of them; give --tls-psk FILE (`spindle share` makes one when no TLS option is given) or --public",
            image.display()
        ))),
    }
}

/// What a started share reports.
pub struct Started {
    drive: u32,
    addr: std::net::SocketAddr,
    tls: bool,
    uris: Vec<String>,
}

/// Refuses a second share of one drive.
fn not_shared(shares: &[(SavedShare, Share)], drive: u32) -> crate::Result<()> {
    if shares.iter().any(|(s, _)| s.share.drive == drive) {
        return Err(DaemonError::Invalid(format!(
            "drive {drive} is already shared (spindle share {drive} --stop first)"
        )));
    }
    Ok(())
}

/// Starts a share (a request's, or a saved one at restore) and saves the shares.
pub fn start_share(shared: &Shared, mut spec: SavedShare) -> crate::Result<Started> {
    // Checked before the listener is bound (the usual refusal), and again below under the
    // lock, where a share of the same drive started meanwhile is caught.
    let drive = spec.share.drive;
    not_shared(shared.drives().shares(), drive)?;
    let tls = {
        let (owner, what) = (
            spec.owner.clone(),
            format!("drive {drive}: the share's TLS files"),
        );
        let loaded = spec.clone();
        limits::bounded(
            &shared.opens,
            shared.limits.open_timeout,
            &owner,
            &what,
            move || crate::sharing::load_tls(&loaded),
        )?
    };
    let table = shared.drives().table();
    let s = crate::sharing::start_share(table, &spec, tls)?;
    // Saved with the port bound, so that a port-0 share comes back on the same port.
    spec.share.listen = s.addr.to_string();
    let exports = [format!("drive{drive}"), format!("drive{drive}.raw")];
    let started = Started {
        drive,
        addr: s.addr,
        tls: s.tls,
        uris: s.uris(&exports),
    };
    let owner = spec.owner.uid;
    {
        let mut d = shared.drives();
        if let Err(e) = not_shared(d.shares(), drive) {
            drop(d);
            drop(s); // stops the listener just started, outside the lock
            return Err(e);
        }
        d.add_share(spec, s);
    }
    eprintln!(
        "spindle-daemon: uid {owner}: drive {drive}: shared on {} (tls: {})",
        started.addr, started.tls
    );
    Ok(started)
}

fn unshare(drive: u32, user: &User, shared: &Shared) -> crate::Result<UnshareReply> {
    let gone = {
        let mut d = shared.drives();
        let owner = d
            .shares()
            .iter()
            .find(|(spec, _)| spec.share.drive == drive)
            .map(|(spec, _)| spec.owner.uid)
            .ok_or_else(|| DaemonError::Invalid(format!("drive {drive} is not shared")))?;
        if user.uid != 0 && user.uid != owner {
            return Err(DaemonError::Denied(format!(
                "drive {drive} was shared by uid {owner}"
            )));
        }
        d.remove_share(drive)
            .expect("found above, under the same lock")
    };
    eprintln!(
        "spindle-daemon: uid {}: drive {drive}: no longer shared on {}",
        user.uid, gone.1.addr
    );
    // Stops the server (waits for its connections) with no lock held.
    drop(gone);
    Ok(UnshareReply { drive })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8]) -> Vec<String> {
        let mut r = BufReader::with_capacity(16, input);
        let mut out = Vec::new();
        let d = Deadlines {
            since: Instant::now(),
            idle: Duration::from_secs(60),
            line: Duration::from_secs(60),
        };
        loop {
            match read_line(&mut r, &d, |_, _| {}) {
                Line::Request(l) => out.push(String::from_utf8(l).unwrap()),
                Line::TooLong => out.push("<long>".into()),
                Line::Partial => out.push("<partial>".into()),
                Line::Eof => return out,
                Line::Timeout | Line::Failed => out.push("<err>".into()),
            }
            if out.last().is_some_and(|l| l == "<partial>") {
                return out;
            }
        }
    }

    #[test]
    fn the_line_deadline_counts_from_the_first_byte_and_the_idle_one_from_the_reply() {
        let now = Instant::now();
        let d = Deadlines {
            since: now,
            idle: Duration::from_secs(120),
            line: Duration::from_secs(10),
        };
        assert_eq!(d.deadline(None), now + Duration::from_secs(120));
        assert_eq!(
            d.deadline(Some(now + Duration::from_secs(5))),
            now + Duration::from_secs(15)
        );
        assert_eq!(
            d.deadline(Some(now + Duration::from_secs(115))),
            now + Duration::from_secs(120)
        );
        // A reader past its deadline is not read again.
        let past = Deadlines {
            since: now - Duration::from_secs(200),
            ..d
        };
        let mut r = BufReader::new(&b"{}\n"[..]);
        assert!(matches!(read_line(&mut r, &past, |_, _| {}), Line::Timeout));
    }

    #[test]
    fn splits_lines_and_skips_long_ones() {
        let mut input = b"a\nbc\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', MAX_LINE + 10));
        input.extend(b"\nd\npart");
        assert_eq!(lines(&input), ["a", "bc", "<long>", "d", "<partial>"]);
    }
}
