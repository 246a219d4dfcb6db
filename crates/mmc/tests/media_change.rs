//! Media changes as the Linux sr driver checks them: every poll sends GET EVENT STATUS
//! NOTIFICATION (media class) and then TEST UNIT READY, and counts the polls where GESN
//! reports a change that TUR does not show (drivers/scsi/sr.c, `sr_check_events`: more than
//! eight in a row and GESN is ignored for good). Here a model of that poll runs after each
//! way the medium can change, and the two must always agree.

mod common;

use common::raw::{gesn_media, no_data};
use common::*;
use spindle_mmc::EmulatedDrive;
use spindle_mmc::sense::{Asc, SenseKey};

/// What one sr poll finds.
#[derive(Debug, PartialEq, Eq)]
struct Poll {
    /// GESN reported NewMedia or MediaRemoval (sr: DISK_EVENT_MEDIA_CHANGE).
    gesn_change: bool,
    /// GESN reported an eject request (sr: DISK_EVENT_EJECT_REQUEST).
    eject_request: bool,
    /// TUR showed a change: a unit attention, or "medium present" flipped.
    tur_change: bool,
    present: bool,
}

/// The kernel side: remembers whether the medium was present at the last poll.
struct Sr {
    present: bool,
}

impl Sr {
    fn poll(&mut self, d: &EmulatedDrive) -> Poll {
        let code = gesn_media(d);
        // scsi_test_unit_ready: up to three tries to eat unit attentions; any one marks
        // the device changed.
        let mut changed = false;
        let mut last = Ok(());
        for _ in 0..3 {
            last = no_data(d, &[0, 0, 0, 0, 0, 0]);
            match last {
                Err(s) if s.key == SenseKey::UnitAttention => changed = true,
                _ => break,
            }
        }
        let present = match last {
            Ok(()) => true,
            Err(s) => s.asc.0 != 0x3A,
        };
        let flipped = present != self.present;
        self.present = present;
        Poll {
            gesn_change: code == 2 || code == 3,
            eject_request: code == 1,
            tur_change: changed || flipped,
            present,
        }
    }

    /// A poll after a change: GESN and TUR both show it.
    fn sees_change(&mut self, d: &EmulatedDrive, present: bool, what: &str) {
        let p = self.poll(d);
        assert_eq!(
            p,
            Poll {
                gesn_change: true,
                eject_request: false,
                tur_change: true,
                present
            },
            "{what}"
        );
        self.quiet(d, present, what);
    }

    /// A poll with nothing new: neither shows a change.
    fn quiet(&mut self, d: &EmulatedDrive, present: bool, what: &str) {
        let p = self.poll(d);
        assert_eq!(
            p,
            Poll {
                gesn_change: false,
                eject_request: false,
                tur_change: false,
                present
            },
            "after {what}"
        );
    }
}

#[test]
fn gesn_and_tur_agree_on_every_change() {
    let drive = EmulatedDrive::new(Some(sample("libcdio/isofs-m1.cue")));
    let mut sr = Sr { present: false };
    sr.sees_change(&drive, true, "power-on with a disc");
    // The daemon swaps the disc under a loaded drive.
    drive.insert(sample("libcdio/cdda.cue"));
    sr.sees_change(&drive, true, "swap");
    // The daemon ejects (no lock), then loads.
    assert!(drive.press_eject());
    sr.sees_change(&drive, false, "eject button");
    drive.close_tray();
    sr.sees_change(&drive, true, "tray pushed in");
    drive.remove();
    sr.sees_change(&drive, false, "remove");
    drive.insert(sample("libcdio/isofs-m1.cue"));
    sr.sees_change(&drive, true, "insert");
    // A removal and an insertion between two polls still read as one change.
    drive.remove();
    drive.insert(sample("libcdio/cdda.cue"));
    sr.sees_change(&drive, true, "remove + insert between polls");
    // The host ejects and loads (START STOP UNIT): no unit attention on the load, but
    // TUR shows the medium going and coming back.
    no_data(&drive, &[0x1B, 0, 0, 0, 2, 0]).unwrap();
    sr.sees_change(&drive, false, "host eject");
    no_data(&drive, &[0x1B, 0, 0, 0, 3, 0]).unwrap();
    sr.sees_change(&drive, true, "host load");
    // A reset: the power-on attention, no media event; TUR shows a change, GESN does
    // not (sr counts only the other way round).
    drive.reset();
    let p = sr.poll(&drive);
    assert!(!p.gesn_change && p.tur_change && p.present);
    sr.quiet(&drive, true, "reset");
    // The one case they can disagree in: another command (here READ CAPACITY) takes the
    // unit attention of a swap before sr polls. That is a single mismatch, not the run of
    // more than eight that makes sr ignore GESN, and the next poll agrees again.
    drive.insert(sample("libcdio/isofs-m1.cue"));
    let s = common::raw::data_in(&drive, &[0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0], 8)
        .unwrap_err()
        .0;
    assert_eq!(s.asc, Asc::MEDIUM_MAY_HAVE_CHANGED);
    let p = sr.poll(&drive);
    assert!(p.gesn_change && !p.tur_change);
    sr.quiet(&drive, true, "a swap whose attention another command took");
}

#[test]
fn locked_eject_button_is_one_request_and_the_disc_stays() {
    let drive = EmulatedDrive::new(Some(sample("libcdio/isofs-m1.cue")));
    let mut sr = Sr { present: false };
    sr.sees_change(&drive, true, "power-on");
    // PREVENT (what cdrom_id --lock-media does), then the user presses eject.
    no_data(&drive, &[0x1E, 0, 0, 0, 1, 0]).unwrap();
    assert!(!drive.press_eject());
    let p = sr.poll(&drive);
    assert!(p.eject_request && !p.gesn_change && !p.tur_change && p.present);
    sr.quiet(&drive, true, "eject request");
    assert!(drive.disc().is_some() && !drive.tray_open());
    // A plain host eject is refused while locked: 05/53/02.
    let s = no_data(&drive, &[0x1B, 0, 0, 0, 2, 0]).unwrap_err();
    assert_eq!(
        (s.key, s.asc),
        (SenseKey::IllegalRequest, Asc::REMOVAL_PREVENTED)
    );
    // udev's answer (cdrom_id --eject-media): allow, then eject.
    no_data(&drive, &[0x1E, 0, 0, 0, 0, 0]).unwrap();
    no_data(&drive, &[0x1B, 0, 0, 0, 2, 0]).unwrap();
    sr.sees_change(&drive, false, "eject after allow");
    // A swap while an eject request is pending: the change is reported first.
    drive.close_tray();
    sr.sees_change(&drive, true, "tray pushed in");
    no_data(&drive, &[0x1E, 0, 0, 0, 1, 0]).unwrap();
    assert!(!drive.press_eject());
    drive.insert(sample("libcdio/cdda.cue"));
    let p = sr.poll(&drive);
    assert!(p.gesn_change && p.tur_change && !p.eject_request);
    let p = sr.poll(&drive);
    assert!(p.eject_request && !p.tur_change);
    sr.quiet(&drive, true, "the request");
}
