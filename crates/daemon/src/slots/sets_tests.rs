//! A set in a slot with the real drive model: the kernel's view of a disc change (no
//! medium and a removal event with the tray open, then a new medium), the saved state, and
//! a drive the system holds locked keeping its disc.

use super::*;
use crate::state::SavedState;
use spindle_mmc::events::MediaEvent;
use spindle_mmc::{EmulatedDrive, Mmc};
use std::path::{Path, PathBuf};

fn sample(name: &str) -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/samples/"
    ))
    .join(name)
    .canonicalize()
    .unwrap()
}

fn ready(drive: &EmulatedDrive) -> bool {
    let mut m = Mmc::new(drive);
    (0..4).any(|_| m.test_unit_ready().is_ok())
}

fn media_event(drive: &EmulatedDrive) -> MediaEvent {
    Mmc::new(drive).media_event().unwrap().media.unwrap().event
}

fn playlist(dir: &Path) -> PathBuf {
    let p = dir.join("set.m3u");
    let text = format!(
        "#EXTM3U\n#EXTINF:0,First\n{}\n{}|Second\n",
        sample("libcdio/joliet.iso").display(),
        sample("kdomanski-iso9660/test.iso").display()
    );
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn a_disc_change_is_removal_then_new_media_to_the_kernel() {
    let dir = tempfile::tempdir().unwrap();
    let me = User::current();
    let state = dir.path().join("drives.json");
    let mut d = Drives::new(2, dir.path().join("media"), Some(state.clone()));
    let set = open_set(&me, &playlist(dir.path())).unwrap();
    assert_eq!(set.len(), 2);
    let n = d
        .mount_set(&me, set, &LoadRequest::default(), None)
        .unwrap();
    let model = d.model(n).unwrap().clone();
    assert!(ready(&model));
    media_event(&model);
    let first = model.disc().unwrap();
    assert_eq!(d.report()[n as usize].set.as_ref().unwrap().label, "First");

    let target = d.begin_change(&me, n, "next").unwrap();
    assert_eq!(target, 1);
    assert!(
        model.disc().is_none(),
        "a disc in the drive with the tray open"
    );
    assert!(!ready(&model), "TEST UNIT READY passes with the tray open");
    assert_eq!(media_event(&model), MediaEvent::MediaRemoval);
    assert!(d.table().entries()[n as usize].disc.is_none());
    let r = &d.report()[n as usize];
    assert!(r.image.is_none());
    assert_eq!(r.set.as_ref().unwrap().changing, Some(2));
    // A second change while the tray is open is refused.
    assert!(d.begin_change(&me, n, "next").is_err());

    d.finish_change(n, target).unwrap();
    let second = model.disc().unwrap();
    assert!(!Arc::ptr_eq(&first, &second));
    assert_eq!(media_event(&model), MediaEvent::NewMedia);
    assert!(ready(&model));
    let r = &d.report()[n as usize];
    let s = r.set.as_ref().unwrap();
    assert_eq!((s.disc, s.count, s.label.as_str()), (2, 2, "Second"));

    // Saved: the set with disc 2 in, and disc 2 as the set's last used.
    let saved = SavedState::load(&state).unwrap().unwrap();
    assert_eq!(saved.drives[0].set.as_ref().unwrap().disc, 1);
    assert_eq!(saved.last_discs[0].disc, 1);
    let mut again = Drives::new(2, dir.path().join("media2"), None);
    again.restore(&saved);
    let s = again.report()[n as usize].set.clone().unwrap();
    assert_eq!(s.disc, 2);
    again.shutdown();

    // Labels and numbers; a number past the end is refused.
    assert!(d.begin_change(&me, n, "3").is_err());
    assert!(d.begin_change(&me, n, "Nope").is_err());
    let t = d.begin_change(&me, n, "First").unwrap();
    d.finish_change(n, t).unwrap();
    assert!(Arc::ptr_eq(&model.disc().unwrap(), &first));

    // Ejected while the tray is open: the change finds the drive empty.
    let t = d.begin_change(&me, n, "prev").unwrap();
    d.eject(&me, &spindle_protocol::EjectTarget::Drive(n))
        .unwrap();
    assert!(d.finish_change(n, t).is_err());
    assert!(model.disc().is_none());
}

#[test]
fn a_locked_drive_keeps_its_disc_and_asks_the_host() {
    let dir = tempfile::tempdir().unwrap();
    let me = User::current();
    let mut d = Drives::new(1, dir.path().join("media"), None);
    let set = open_set(&me, &playlist(dir.path())).unwrap();
    let n = d
        .mount_set(&me, set, &LoadRequest::default(), None)
        .unwrap();
    let model = d.model(n).unwrap().clone();
    assert!(ready(&model));
    media_event(&model);
    Mmc::new(&*model).prevent_removal(true).unwrap();
    let e = d.begin_change(&me, n, "next").unwrap_err();
    assert_eq!(e.code(), spindle_protocol::ErrorCode::DriveLocked);
    assert_eq!(media_event(&model), MediaEvent::EjectRequest);
    assert!(model.disc().is_some());
    assert_eq!(d.report()[n as usize].set.as_ref().unwrap().disc, 1);
    Mmc::new(&*model).prevent_removal(false).unwrap();
    d.shutdown();
}
