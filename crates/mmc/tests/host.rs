//! What a daemon serving the drive to a kernel (TCMU) relies on: host events told to a
//! listener that calls back into the drive, a settable identity, and the data direction of
//! a CDB.

mod common;

use common::*;
use spindle_mmc::cdb::is_data_out;
use spindle_mmc::emu::Identity;
use spindle_mmc::sense::Asc;
use spindle_mmc::{EmulatedDrive, HostEvent, Mmc, SenseKey};
use std::sync::{Arc, Mutex};

#[test]
fn host_eject_and_load_reach_the_listener_which_may_call_back() {
    let drive = Arc::new(ready(sample("libcdio/isofs-m1.cue")));
    let seen = Arc::new(Mutex::new(Vec::new()));
    {
        let (seen, weak) = (seen.clone(), Arc::downgrade(&drive));
        drive.set_host_listener(Box::new(move |e| {
            seen.lock().unwrap().push(e);
            // The daemon's reaction to an eject: the disc leaves the drive. This takes the
            // drive's state lock, so it would deadlock if the lock were still held.
            if e == HostEvent::TrayOpened {
                weak.upgrade().unwrap().remove();
            }
        }));
    }
    let mut m = Mmc::new(&*drive);
    // Locked: the eject is refused and nobody is told.
    m.prevent_removal(true).unwrap();
    let e = m.start_stop(true, false).unwrap_err();
    let s = e.sense().unwrap();
    assert_eq!(
        (s.key, s.asc),
        (SenseKey::IllegalRequest, Asc::REMOVAL_PREVENTED)
    );
    assert!(seen.lock().unwrap().is_empty());
    assert!(drive.disc().is_some());
    m.prevent_removal(false).unwrap();
    m.start_stop(true, false).unwrap();
    assert_eq!(*seen.lock().unwrap(), [HostEvent::TrayOpened]);
    assert!(drive.disc().is_none(), "the listener removed the disc");
    // Ejecting an open tray again changes nothing a user sees: no event.
    m.start_stop(true, false).unwrap();
    m.start_stop(true, true).unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        [HostEvent::TrayOpened, HostEvent::TrayClosed]
    );
    assert!(!drive.tray_open());
}

#[test]
fn identity_is_settable_while_the_drive_runs() {
    let drive = ready(sample("libcdio/isofs-m1.cue"));
    let mut m = Mmc::new(&drive);
    assert_eq!(m.inquiry().unwrap().vendor, "SPINDLE");
    drive.set_identity(Identity {
        vendor: "PLEXTOR".into(),
        product: "DVDR   PX-716A".into(),
        revision: "1.11".into(),
        ..drive.identity()
    });
    let inq = m.inquiry().unwrap();
    assert_eq!(
        (
            inq.vendor.as_str(),
            inq.product.as_str(),
            inq.revision.as_str()
        ),
        ("PLEXTOR", "DVDR   PX-716A", "1.11")
    );
    assert_eq!(drive.identity().vendor, "PLEXTOR");
    let _ = EmulatedDrive::new(None);
}

#[test]
fn data_direction_of_cdbs() {
    for out in [
        &[0x15u8, 0x10, 0, 0, 12, 0][..],
        &[0x55, 0x10, 0, 0, 0, 0, 0, 0, 20, 0],
        &[0xB6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 28, 0],
        &[0xA3, 0, 0, 0, 0, 0, 0, 0, 0, 12, 0, 0],
        &[0xBF, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        &[0x2A, 0, 0, 0, 0, 0, 0, 0, 1, 0],
        &[0x5D, 0, 0, 0, 0, 0, 0, 0, 8, 0],
        &[0x04, 0x11, 0, 0, 0, 0],
    ] {
        assert!(is_data_out(out), "{out:02x?}");
    }
    for other in [
        &[][..],
        &[0x28u8, 0, 0, 0, 0, 0, 0, 0, 1, 0],
        &[0x1A, 0, 0x2A, 0, 128, 0],
        &[0x5A, 0, 0x3F, 0, 0, 0, 0, 1, 0, 0],
        &[0xBE, 0, 0, 0, 0, 0, 0, 0, 1, 0xF8, 0, 0],
        &[0x42, 0, 0x40, 1, 0, 0, 0, 0, 16, 0],
        &[0x04, 0x00, 0, 0, 0, 0],
        &[0x1B, 0, 0, 0, 2, 0],
    ] {
        assert!(!is_data_out(other), "{other:02x?}");
    }
}
