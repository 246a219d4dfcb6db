//! PLAY AUDIO without sound: the position moves at 75 sectors a second while "playing",
//! READ SUB-CHANNEL and MECHANISM STATUS report it, PAUSE/RESUME and STOP PLAY/SCAN act on
//! it, and plays over data or past the disc are refused. Timing bounds are generous (a
//! loaded machine may stall a thread), but each would fail on a drive that does not move.

mod common;

use common::raw::{data_in, no_data, position};
use common::*;
use spindle_mmc::EmulatedDrive;
use spindle_mmc::sense::Asc;
use std::thread::sleep;
use std::time::Duration;

const PLAYING: u8 = 0x11;
const PAUSED: u8 = 0x12;
const COMPLETED: u8 = 0x13;
const NO_STATUS: u8 = 0x15;

fn mechanism_state(d: &EmulatedDrive) -> (u8, u32) {
    let m = data_in(d, &[0xBD, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0], 8).unwrap();
    (m[1] >> 5, u32::from_be_bytes([0, m[2], m[3], m[4]]))
}

#[test]
fn play_pause_resume_stop() {
    // libcdio's cdda.cue: one audio track of 302 sectors (about 4 s).
    let drive = ready(sample("libcdio/cdda.cue"));
    assert_eq!(position(&drive).0, NO_STATUS);
    // PLAY AUDIO(10) from LBA 0, 300 sectors.
    no_data(&drive, &[0x45, 0, 0, 0, 0, 0, 0, 0x01, 0x2C, 0]).unwrap();
    sleep(Duration::from_millis(400));
    let (status, at) = position(&drive);
    assert_eq!(status, PLAYING);
    assert!((10..300).contains(&at), "position {at} after 0.4 s");
    let (state, lba) = mechanism_state(&drive);
    assert_eq!(state, 1, "mechanism: playing");
    assert!(lba as i32 >= at);
    // Pause: the position stands still.
    no_data(&drive, &[0x4B, 0, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap();
    let (status, held) = position(&drive);
    assert_eq!(status, PAUSED);
    sleep(Duration::from_millis(150));
    assert_eq!(position(&drive), (PAUSED, held));
    assert_eq!(mechanism_state(&drive).0, 0);
    // Resume: it moves on from there.
    no_data(&drive, &[0x4B, 0, 0, 0, 0, 0, 0, 0, 1, 0]).unwrap();
    sleep(Duration::from_millis(200));
    let (status, later) = position(&drive);
    assert_eq!(status, PLAYING);
    assert!(later > held, "{later} > {held}");
    // Stop: no audio status any more; PAUSE then is a sequence error.
    no_data(&drive, &[0x4E, 0, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap();
    assert_eq!(position(&drive).0, NO_STATUS);
    let s = no_data(&drive, &[0x4B, 0, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap_err();
    assert_eq!(s.asc, Asc::COMMAND_SEQUENCE_ERROR);
}

#[test]
fn a_play_completes_once() {
    let drive = ready(sample("libcdio/cdda.cue"));
    // PLAY AUDIO MSF 00:02:10 to 00:02:14: four sectors from LBA 10.
    no_data(&drive, &[0x47, 0, 0, 0, 2, 10, 0, 2, 14, 0]).unwrap();
    sleep(Duration::from_millis(300));
    assert_eq!(position(&drive).0, COMPLETED);
    assert_eq!(position(&drive).0, NO_STATUS);
    // PLAY AUDIO(12) from the current position (LBA FFFFFFFF), and a read ends a play.
    no_data(
        &drive,
        &[0xA5, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 100, 0, 0],
    )
    .unwrap();
    assert_eq!(position(&drive).0, PLAYING);
    data_in(&drive, &[0xBE, 0, 0, 0, 0, 50, 0, 0, 1, 0x10, 0, 0], 2352).unwrap();
    assert_eq!(position(&drive), (NO_STATUS, 50));
    // A zero length plays nothing and is no error.
    no_data(&drive, &[0x45, 0, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap();
    assert_eq!(position(&drive).0, NO_STATUS);
}

#[test]
fn plays_over_data_or_past_the_disc_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let drive = ready(open(&mixed_cue(dir.path())));
    // From the data track: 05/64/00 at its first sector.
    let s = no_data(&drive, &[0x45, 0, 0, 0, 0, 0, 0, 0, 10, 0]).unwrap_err();
    assert_eq!(
        (s.asc, s.information),
        (Asc::ILLEGAL_MODE_FOR_TRACK, Some(0))
    );
    // Into the audio track from its pregap: fine. (Track 2 starts at LBA 302.)
    no_data(&drive, &[0x45, 0, 0, 0, 0x01, 0x40, 0, 0, 10, 0]).unwrap();
    // Past the lead-out: 05/21/00.
    let s = no_data(&drive, &[0x45, 0, 0, 0, 0x02, 0xE0, 0, 0x01, 0, 0]).unwrap_err();
    assert_eq!(s.asc, Asc::LBA_OUT_OF_RANGE);
    // Without a medium: NOT READY.
    no_data(&drive, &[0x1B, 0, 0, 0, 2, 0]).unwrap();
    let s = no_data(&drive, &[0x45, 0, 0, 0, 0x01, 0x40, 0, 0, 10, 0]).unwrap_err();
    assert_eq!(s.asc, Asc::MEDIUM_NOT_PRESENT_TRAY_OPEN);
}
