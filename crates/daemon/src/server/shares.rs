//! `share` and `unshare`: a drive's NBD exports on a TCP address, and the checks before.

use super::Shared;
use crate::DaemonError;
use crate::creds::User;
use crate::limits;
use crate::sharing::Share;
use crate::state::SavedShare;
use spindle_protocol::{ShareArgs, ShareReply, UnshareReply};

pub(super) fn share(a: ShareArgs, user: &User, shared: &Shared) -> crate::Result<ShareReply> {
    {
        let d = shared.drives();
        if a.drive >= d.count() {
            return Err(DaemonError::NoDrive {
                drive: a.drive,
                count: d.count(),
            });
        }
        let privileged = user.uid == 0 || user.uid == User::current().uid;
        match d.report_of(a.drive).uid {
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
/// again when a client asks for it: [`crate::nbd::DriveCatalog::public_only`].)
fn refuse_private(shared: &Shared, user: &User, drive: u32) -> crate::Result<()> {
    let table = shared.drives().table();
    let disc = table
        .entries()
        .iter()
        .find(|e| e.drive == drive)
        .and_then(|e| e.disc.clone());
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

pub(super) fn unshare(drive: u32, user: &User, shared: &Shared) -> crate::Result<UnshareReply> {
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
