//! What one client may take of the daemon: connections, time to send a request, and file
//! opens in flight, per user and in all (docs/daemon.md, "Limits").
//!
//! Root and the daemon's own user are "privileged": no per-user cap, and a reserve of
//! connections and opens above the global caps that only they may use, so that other users
//! filling the daemon never lock its owner out.
//!
//! Opening an image (or a TLS file) runs on a worker thread that holds an open permit; the
//! client's thread waits for a permit and for the open at most [`Limits::open_timeout`]. An open that blocks for good
//! (a FIFO, a hung NFS server, a device that never answers) therefore costs one worker thread
//! and one permit of its user until it returns, never the accept loop, the drives lock or
//! another user's permits.

use crate::creds::User;
use crate::{DaemonError, Result};
use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// The daemon's limits (`spindle daemon --max-clients...`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Connections at once, all users but the privileged together.
    pub max_clients: usize,
    /// Connections at once of one (unprivileged) user.
    pub max_clients_per_user: usize,
    /// Connections above `max_clients` kept for root and the daemon's user.
    pub reserved_clients: usize,
    /// How long a connection may wait between requests (no byte of a next request).
    pub idle_timeout: Duration,
    /// How long one request line may take from its first byte to its newline.
    pub line_timeout: Duration,
    /// File opens in flight (image or TLS files), all unprivileged users together.
    pub max_opens: usize,
    /// File opens in flight of one (unprivileged) user.
    pub max_opens_per_user: usize,
    /// How long a request waits for its open before answering `timeout`.
    pub open_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_clients: 1024,
            max_clients_per_user: 32,
            reserved_clients: 32,
            idle_timeout: Duration::from_secs(120),
            line_timeout: Duration::from_secs(10),
            max_opens: 32,
            max_opens_per_user: 4,
            open_timeout: Duration::from_secs(60),
        }
    }
}

/// True for root and the daemon's own user.
pub fn privileged(uid: u32) -> bool {
    uid == 0 || uid == User::current().uid
}

/// Counted permits per uid, with a per-user and a global cap.
#[derive(Debug)]
pub struct Budget {
    what: &'static str,
    per_user: usize,
    total: usize,
    reserve: usize,
    held: Mutex<(HashMap<u32, usize>, usize)>,
    /// Signalled when a permit is given back.
    freed: Condvar,
}

/// One permit of a [`Budget`]; given back when dropped.
#[derive(Debug)]
pub struct Permit {
    budget: Arc<Budget>,
    uid: u32,
}

impl Budget {
    /// A budget of `what` (for messages): `per_user` permits per user and `total` for all
    /// users together; root and the daemon's own user have no per-user cap and `reserve`
    /// more beyond `total`.
    pub fn new(what: &'static str, per_user: usize, total: usize, reserve: usize) -> Arc<Budget> {
        Arc::new(Budget {
            what,
            per_user,
            total,
            reserve,
            held: Mutex::new((HashMap::new(), 0)),
            freed: Condvar::new(),
        })
    }

    /// A permit for `uid`, or why not (a message for the `busy` reply).
    pub fn take(self: &Arc<Budget>, uid: u32) -> std::result::Result<Permit, String> {
        self.take_by(uid, Instant::now())
    }

    /// A permit for `uid`, waiting for one to be given back until `deadline`.
    pub fn take_by(
        self: &Arc<Budget>,
        uid: u32,
        deadline: Instant,
    ) -> std::result::Result<Permit, String> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let why = match self.refusal(&held, uid) {
                None => break,
                Some(why) => why,
            };
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(why);
            }
            held = self
                .freed
                .wait_timeout(held, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        let (per, total) = &mut *held;
        *per.entry(uid).or_default() += 1;
        *total += 1;
        Ok(Permit {
            budget: self.clone(),
            uid,
        })
    }

    /// Why `uid` may not have another permit now, if so.
    fn refusal(&self, held: &(HashMap<u32, usize>, usize), uid: u32) -> Option<String> {
        let (per, total) = (&held.0, held.1);
        let mine = per.get(&uid).copied().unwrap_or(0);
        if privileged(uid) {
            (total >= self.total + self.reserve)
                .then(|| format!("{total} {} in progress at once; try again later", self.what))
        } else if mine >= self.per_user {
            Some(format!(
                "uid {uid} already has {mine} {} in progress (at most {} per user); try again later",
                self.what, self.per_user
            ))
        } else {
            (total >= self.total).then(|| {
                format!(
                    "{total} {} in progress at once (at most {}); try again later",
                    self.what, self.total
                )
            })
        }
    }

    /// Permits held: by `uid`, and in all.
    #[cfg(test)]
    pub fn held(&self, uid: u32) -> (usize, usize) {
        let held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        (held.0.get(&uid).copied().unwrap_or(0), held.1)
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut held = self.budget.held.lock().unwrap_or_else(|e| e.into_inner());
        let (per, total) = &mut *held;
        if let Some(n) = per.get_mut(&self.uid) {
            *n -= 1;
            if *n == 0 {
                per.remove(&self.uid);
            }
        }
        *total -= 1;
        drop(held);
        self.budget.freed.notify_all();
    }
}

/// Runs `f` (a file open for `user`) on a worker thread holding one of `opens`' permits, and
/// waits for it until `timeout` from now. When the user, or everyone, has too many opens in
/// flight, it first waits for a permit (a burst of quick opens queues), within the same
/// time, then answers `busy`; `timeout` when the open takes longer (the worker goes on, and
/// keeps its permit, until the open returns; its result is then dropped).
pub fn bounded<T: Send + 'static>(
    opens: &Arc<Budget>,
    timeout: Duration,
    user: &User,
    what: &str,
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    let deadline = Instant::now() + timeout;
    let permit = opens
        .take_by(user.uid, deadline)
        .map_err(|m| DaemonError::Limit(format!("{what}: {m}")))?;
    let (tx, rx) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("spindle-open".into())
        .spawn(move || {
            let r = f();
            drop(permit);
            // The requester may have given up (timeout): then the result is dropped here.
            let _ = tx.send(r);
        })
        .map_err(|e| DaemonError::io(format!("{what}: starting a worker thread"), e))?;
    match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Ok(r) => r,
        Err(mpsc::RecvTimeoutError::Timeout) => Err(DaemonError::TimedOut(format!(
            "{what}: no answer from the filesystem within {} s (the open goes on in the background, counted against your open limit, until it returns)",
            timeout.as_secs_f64()
        ))),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(DaemonError::Invalid(format!(
            "{what}: the worker thread failed"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(uid: u32) -> User {
        User {
            uid,
            gid: uid,
            groups: Vec::new(),
        }
    }

    /// A uid that is neither root nor us.
    fn other(n: u32) -> u32 {
        let me = User::current().uid;
        let u = 50_000 + n;
        if u == me { u + 1000 } else { u }
    }

    #[test]
    fn per_user_and_global_caps_with_a_reserve() {
        let b = Budget::new("connections", 2, 3, 1);
        let (a, c) = (other(1), other(2));
        let p1 = b.take(a).unwrap();
        let _p2 = b.take(a).unwrap();
        assert!(b.take(a).unwrap_err().contains("at most 2 per user"));
        let _p3 = b.take(c).unwrap();
        // The global cap is reached for unprivileged users...
        assert!(b.take(other(3)).unwrap_err().contains("at most 3"));
        // ...and root has its reserve.
        let r = b.take(0).unwrap();
        assert!(b.take(0).is_err());
        drop(r);
        drop(p1);
        assert_eq!(b.held(a), (1, 2));
        let _again = b.take(a).unwrap();
    }

    #[test]
    fn a_burst_waits_for_permits_given_back() {
        let b = Budget::new("opens", 1, 8, 0);
        let u = other(6);
        let p = b.take(u).unwrap();
        let giver = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            drop(p);
        });
        let again = b.take_by(u, Instant::now() + Duration::from_secs(30));
        assert!(again.is_ok(), "{again:?}");
        giver.join().unwrap();
        // Not given back in time: refused with the reason.
        let e = b
            .take_by(u, Instant::now() + Duration::from_millis(50))
            .unwrap_err();
        assert!(e.contains("at most 1 per user"), "{e}");
    }

    #[test]
    fn a_blocked_open_times_out_and_keeps_its_permit_until_it_returns() {
        let opens = Budget::new("opens", 1, 8, 0);
        let u = user(other(4));
        let (release, wait) = mpsc::channel::<()>();
        let r = bounded(
            &opens,
            Duration::from_millis(100),
            &u,
            "/x.iso",
            move || {
                let _ = wait.recv();
                Ok(1)
            },
        );
        assert!(matches!(r, Err(DaemonError::TimedOut(_))), "{r:?}");
        // Still blocked: the user's next open is refused at once.
        let r = bounded(&opens, Duration::from_millis(200), &u, "/y.iso", || Ok(2));
        assert!(matches!(r, Err(DaemonError::Limit(_))), "{r:?}");
        // Another user is not held up.
        let r = bounded(
            &opens,
            Duration::from_secs(5),
            &user(other(5)),
            "/z.iso",
            || Ok(3),
        );
        assert_eq!(r.unwrap(), 3);
        release.send(()).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while opens.held(u.uid).0 > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(
            bounded(&opens, Duration::from_secs(5), &u, "/y.iso", || Ok(4)).unwrap(),
            4
        );
    }
}
