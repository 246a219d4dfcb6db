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

mod lines;
mod shares;

use lines::{Deadlines, Line, read_line};

pub use shares::start_share;

use crate::DaemonError;
use crate::creds::User;
use crate::limits::{self, Budget, Limits, Permit};
use crate::nbd::DriveCatalog;
use crate::sharing::LocalNbd;
use crate::slots::{self, Drives};
use serde_json::Value;
use spindle_nbd::Catalog;
use spindle_protocol::DriveReport;
use spindle_protocol::{
    self as protocol, CountReply, DiscReply, DrivesReply, EjectReply, ErrorCode, IdentityReply,
    LoadReply, MAX_LINE, MountReply, PingReply, Reply, Request, ShutdownReply,
};
use std::io::{BufReader, Write};
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
                .filter(|e| DriveCatalog::is_alias(&e.name))
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

/// The reply to a mount (of an image or a set) that went into `drive`, reported as `r`.
fn mount_reply(shared: &Shared, drive: u32, r: DriveReport) -> Reply {
    Reply::Mount(MountReply {
        drive,
        mountpoint: r.mountpoints.into_iter().next(),
        label: r.label,
        format: r.format.unwrap_or_default(),
        medium: r.medium.unwrap_or_default(),
        raw: raw_of(shared, drive),
    })
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
        Request::Mount(a) if spindle_image::playlist::is_playlist(&a.image) => {
            let set = open_set(shared, user, &a.image)?;
            let at =
                a.at.as_deref()
                    .map(|p| crate::mountpoint::resolve(user, p))
                    .transpose()?;
            let mut d = shared.drives();
            let req = slots::LoadRequest {
                drive: a.drive,
                at: None,
                allow_other: a.allow_other,
            };
            let drive = d.mount_set(user, set, &req, at)?;
            let r = d.report_of(drive);
            eprintln!(
                "spindle-daemon: uid {}: drive {drive}: set {} at {:?}",
                user.uid,
                a.image.display(),
                r.mountpoints
            );
            mount_reply(shared, drive, r)
        }
        Request::Load(a) if spindle_image::playlist::is_playlist(&a.image) => {
            let set = open_set(shared, user, &a.image)?;
            let mut d = shared.drives();
            d.load_set(user, a.drive, set)?;
            let r = d.report_of(a.drive);
            eprintln!(
                "spindle-daemon: uid {}: drive {}: loaded set {}",
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
        Request::Disc(a) => {
            let target = shared.drives().begin_change(user, a.drive, &a.which)?;
            // The tray stays open (the drive empty) with the drives lock let go.
            let ms = a.empty_for_ms.unwrap_or(2000).min(60_000);
            std::thread::sleep(std::time::Duration::from_millis(ms));
            let mut d = shared.drives();
            d.finish_change(a.drive, target)?;
            let r = d.report_of(a.drive);
            eprintln!(
                "spindle-daemon: uid {}: drive {}: disc {} of the set",
                user.uid,
                a.drive,
                target + 1
            );
            Reply::Disc(DiscReply {
                drive: a.drive,
                set: r.set.ok_or_else(|| {
                    DaemonError::Invalid(format!("drive {}: its set is gone", a.drive))
                })?,
                mountpoints: r.mountpoints,
            })
        }
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
            let r = d.report_of(drive);
            eprintln!(
                "spindle-daemon: uid {}: drive {drive}: {} at {:?}",
                user.uid,
                a.image.display(),
                r.mountpoints
            );
            mount_reply(shared, drive, r)
        }
        Request::Load(a) => {
            let img = open_image(shared, user, &a.image, a.password)?;
            let mut d = shared.drives();
            d.load(user, a.drive, img)?;
            let r = d.report_of(a.drive);
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
            // In its own statement: the drives lock is let go before the wait below.
            let ejected = shared.drives().eject(user, &target);
            let e = match ejected {
                // The system may honour the eject request itself (udev runs `cdrom_id
                // --eject-media` on it, which allows removal and ejects): then the slot
                // empties through the host's eject; wait a little for that.
                Err(DaemonError::DriveLocked {
                    drive,
                    device: Some(device),
                }) => {
                    if !host_ejects(shared, drive) {
                        return Err(DaemonError::DriveLocked {
                            drive,
                            device: Some(device),
                        });
                    }
                    slots::Ejected {
                        ejected: vec![drive],
                        locked: Vec::new(),
                    }
                }
                r => r?,
            };
            eprintln!(
                "spindle-daemon: uid {}: ejected {:?}{}",
                user.uid,
                e.ejected,
                if e.locked.is_empty() {
                    String::new()
                } else {
                    format!(", locked by the system: {:?}", e.locked)
                }
            );
            Reply::Eject(EjectReply {
                ejected: e.ejected,
                locked: e.locked,
            })
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
                scsi: d.scsi_status(),
            })
        }
        Request::Identity(a) => {
            if !limits::privileged(user.uid) {
                return Err(DaemonError::Denied(format!(
                    "only root or the daemon's own user (uid {}) may change a drive's identity",
                    User::current().uid
                )));
            }
            let identity = spindle_protocol::DriveIdentity {
                vendor: a.vendor,
                product: a.product,
                revision: a.revision,
            };
            shared.drives().set_identity(a.drive, identity.clone())?;
            eprintln!(
                "spindle-daemon: uid {}: drive {}: identity {:?} {:?} {:?}",
                user.uid, a.drive, identity.vendor, identity.product, identity.revision
            );
            Reply::Identity(IdentityReply {
                drive: a.drive,
                identity,
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
        Request::Share(a) => Reply::Share(shares::share(a, user, shared)?),
        Request::Unshare { drive } => Reply::Unshare(shares::unshare(drive, user, shared)?),
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

/// How long a refused eject waits for the system to eject the drive itself.
const HOST_EJECT_WAIT: Duration = Duration::from_secs(5);

/// True when drive `n` empties within [`HOST_EJECT_WAIT`] (with the drives lock let go
/// between looks, so the host eject thread can empty it).
fn host_ejects(shared: &Shared, n: u32) -> bool {
    let start = Instant::now();
    while start.elapsed() < HOST_EJECT_WAIT {
        std::thread::sleep(Duration::from_millis(100));
        if !shared.drives().is_loaded(n) {
            return true;
        }
    }
    false
}

/// Opens an image for `user` on a bounded worker (see [`crate::limits`]).
fn open_set(
    shared: &Shared,
    user: &User,
    playlist: &std::path::Path,
) -> crate::Result<slots::OpenedSet> {
    let (u, p) = (user.clone(), playlist.to_path_buf());
    let what = playlist.display().to_string();
    limits::bounded(
        &shared.opens,
        shared.limits.open_timeout,
        user,
        &what,
        move || slots::open_set(&u, &p),
    )
}

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
