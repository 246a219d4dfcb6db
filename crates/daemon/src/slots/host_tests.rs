//! The system's side of a drive at the slot level, with the real drive model: commands sent
//! to it as the kernel sends them (PREVENT ALLOW MEDIUM REMOVAL, START STOP UNIT with LoEj,
//! GET EVENT STATUS NOTIFICATION, INQUIRY), and the identity saved and restored.

use super::*;
use crate::state::SavedState;
use spindle_mmc::events::MediaEvent;
use spindle_mmc::{EmulatedDrive, Mmc};
use spindle_protocol::{DriveIdentity, EjectTarget};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn sample(name: &str) -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/samples/"
    ))
    .join(name)
    .canonicalize()
    .unwrap()
}

/// Takes the unit attentions and the media event a fresh or changed drive has, as the
/// kernel's first TEST UNIT READYs and its media poll do.
fn settle(drive: &EmulatedDrive) {
    let mut m = Mmc::new(drive);
    for _ in 0..4 {
        if m.test_unit_ready().is_ok() {
            m.media_event().unwrap();
            return;
        }
    }
    panic!("the drive never became ready");
}

fn media_event(drive: &EmulatedDrive) -> MediaEvent {
    Mmc::new(drive).media_event().unwrap().media.unwrap().event
}

fn drives(dir: &Path) -> Drives {
    Drives::new(2, dir.join("media"), Some(dir.join("drives.json")))
}

#[test]
fn a_locked_drive_refuses_eject_and_swap_and_asks_the_host() {
    let dir = tempfile::tempdir().unwrap();
    let me = User::current();
    let mut d = drives(dir.path());
    let img = open_image(&me, &sample("libcdio/joliet.iso"), None).unwrap();
    let n = d.mount(&me, img, &LoadRequest::default()).unwrap();
    let mp = d.report()[n as usize].mountpoints[0].clone();
    let model = d.model(n).unwrap().clone();
    settle(&model);
    // What sr_mod does when a filesystem on /dev/srN is mounted.
    Mmc::new(&*model).prevent_removal(true).unwrap();
    assert!(d.report()[n as usize].locked);
    let e = d.eject(&me, &EjectTarget::Drive(n)).unwrap_err();
    assert_eq!(e.code(), spindle_protocol::ErrorCode::DriveLocked);
    assert_eq!(
        e.to_string(),
        format!(
            "drive {n} is locked by the system (mounted or in use): asked it to eject; unmount it first"
        )
    );
    // The host was asked to let go, and the disc stayed in, mounted.
    assert_eq!(media_event(&model), MediaEvent::EjectRequest);
    assert!(d.report()[n as usize].image.is_some());
    assert!(spindle_fuse::find_mount(&mp).is_some());
    Mmc::new(&*model).test_unit_ready().unwrap();
    // A swap is refused the same way.
    let other = open_image(&me, &sample("libcdio/joliet.iso"), None).unwrap();
    let e = d.load(&me, n, other).unwrap_err();
    assert!(matches!(e, crate::DaemonError::DriveLocked { drive, .. } if drive == n));
    // `eject --all`: the locked drive is listed apart; another drive is ejected.
    let img = open_image(&me, &sample("libcdio/joliet.iso"), None).unwrap();
    let m = d.mount(&me, img, &LoadRequest::default()).unwrap();
    let out = d.eject(&me, &EjectTarget::All).unwrap();
    assert_eq!((out.ejected, out.locked), (vec![m], vec![n]));
    // Once the host allows removal, the eject goes through.
    Mmc::new(&*model).prevent_removal(false).unwrap();
    assert_eq!(d.eject(&me, &EjectTarget::Drive(n)).unwrap().ejected, [n]);
    assert!(d.report()[n as usize].image.is_none());
    assert!(spindle_fuse::find_mount(&mp).is_none());
    assert!(Mmc::new(&*model).test_unit_ready().is_err(), "no medium");
}

#[test]
fn the_systems_eject_empties_the_slot() {
    let dir = tempfile::tempdir().unwrap();
    let me = User::current();
    let mut d = drives(dir.path());
    let events = d.host_events().unwrap();
    let img = open_image(&me, &sample("libcdio/joliet.iso"), None).unwrap();
    let n = d.mount(&me, img, &LoadRequest::default()).unwrap();
    let mp = d.report()[n as usize].mountpoints[0].clone();
    let model = d.model(n).unwrap().clone();
    settle(&model);
    let mut host = Mmc::new(&*model);
    // Locked, the system's own eject is refused by the drive and nothing reaches the slot.
    host.prevent_removal(true).unwrap();
    assert!(host.start_stop(true, false).is_err());
    assert!(events.try_recv().is_err());
    host.prevent_removal(false).unwrap();
    // `eject /dev/srN`: START STOP UNIT, LoEj, Start clear. The drive number arrives on the
    // channel (sent from the command's thread, with no lock of the daemon's held).
    host.start_stop(true, false).unwrap();
    let got = events.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(got, n);
    assert!(d.host_ejected(got));
    let r = &d.report()[n as usize];
    assert!(r.image.is_none() && r.mountpoints.is_empty(), "{r:?}");
    assert!(spindle_fuse::find_mount(&mp).is_none());
    assert!(model.disc().is_none());
    assert!(
        SavedState::load(&dir.path().join("drives.json"))
            .unwrap()
            .unwrap()
            .drives
            .is_empty()
    );
    // A disc loaded between the system's eject and the daemon's turn stays in.
    let img = open_image(&me, &sample("libcdio/joliet.iso"), None).unwrap();
    d.load(&me, n, img).unwrap();
    settle(&model);
    host.start_stop(true, false).unwrap();
    let got = events.recv_timeout(Duration::from_secs(5)).unwrap();
    let img = open_image(&me, &sample("libcdio/joliet.iso"), None).unwrap();
    d.load(&me, n, img).unwrap();
    assert!(!d.host_ejected(got));
    assert!(d.report()[n as usize].image.is_some());
    assert!(!model.tray_open());
}

#[test]
fn identity_is_answered_saved_and_restored() {
    let dir = tempfile::tempdir().unwrap();
    let me = User::current();
    let plextor = DriveIdentity {
        vendor: "PLEXTOR".into(),
        product: "DVDR   PX-716A".into(),
        revision: "1.11".into(),
    };
    let saved = {
        let mut d = drives(dir.path());
        let img = open_image(&me, &sample("libcdio/joliet.iso"), None).unwrap();
        d.mount(&me, img, &LoadRequest::default()).unwrap();
        d.set_identity(1, plextor.clone()).unwrap();
        assert!(d.set_identity(2, plextor.clone()).is_err(), "no drive 2");
        let inq = Mmc::new(&**d.model(1).unwrap()).inquiry().unwrap();
        assert_eq!(
            (
                inq.vendor.as_str(),
                inq.product.as_str(),
                inq.revision.as_str()
            ),
            ("PLEXTOR", "DVDR   PX-716A", "1.11")
        );
        assert_eq!(d.report()[1].identity.as_ref(), Some(&plextor));
        assert_eq!(
            Mmc::new(&**d.model(0).unwrap()).inquiry().unwrap().vendor,
            "SPINDLE"
        );
        d.shutdown();
        SavedState::load(&dir.path().join("drives.json"))
            .unwrap()
            .unwrap()
    };
    assert_eq!(saved.identities.len(), 1);
    let mut d = drives(dir.path());
    d.restore(&saved);
    assert_eq!(d.report()[1].identity.as_ref(), Some(&plextor));
    assert_eq!(d.report()[0].identity.as_ref().unwrap().vendor, "SPINDLE");
    let model = d.model(1).unwrap();
    assert_eq!(
        Mmc::new(&**model).inquiry().unwrap().product,
        "DVDR   PX-716A"
    );
    // The restored disc is in drive 0's model too.
    assert!(d.model(0).unwrap().disc().is_some());
    d.shutdown();
}
