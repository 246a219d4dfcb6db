//! Drive state through the emulated drive: power-on and medium-change unit attentions,
//! NOT READY without a medium, the tray, media events, PREVENT ALLOW MEDIUM REMOVAL.

mod common;

use common::*;
use spindle_mmc::events::{MediaEvent, class};
use spindle_mmc::sense::Asc;
use spindle_mmc::{EmulatedDrive, Mmc, SenseKey};

fn check(e: spindle_mmc::MmcError) -> (SenseKey, Asc) {
    let s = e
        .sense()
        .copied()
        .unwrap_or_else(|| panic!("no sense: {e}"));
    (s.key, s.asc)
}

#[test]
fn power_on_unit_attention() {
    let drive = EmulatedDrive::new(Some(sample("libcdio/isofs-m1.cue")));
    let mut m = Mmc::new(&drive);
    // INQUIRY, GET CONFIGURATION and GESN run with the attention pending and leave it.
    assert_eq!(m.inquiry().unwrap().peripheral_type(), 5);
    assert_eq!(
        m.get_configuration(spindle_mmc::cdb::ConfigRequest::All, 0)
            .unwrap()
            .current_profile,
        0x0008
    );
    let ev = m.media_event().unwrap();
    assert_eq!(ev.media.unwrap().event, MediaEvent::NewMedia);
    // REQUEST SENSE returns it and clears it.
    let s = m.request_sense().unwrap();
    assert_eq!(
        (s.key, s.asc),
        (SenseKey::UnitAttention, Asc::POWER_ON_RESET)
    );
    m.test_unit_ready().unwrap();
    // A reset raises it again; any other command reports it once.
    drive.reset();
    assert_eq!(
        check(m.read_capacity().unwrap_err()),
        (SenseKey::UnitAttention, Asc::POWER_ON_RESET)
    );
    m.read_capacity().unwrap();
    // After a CHECK CONDITION, REQUEST SENSE returns that sense once.
    let _ = m.read10(1_000_000, 1, &mut vec![0u8; 2048]).unwrap_err();
    let s = m.request_sense().unwrap();
    assert_eq!(
        (s.key, s.asc),
        (SenseKey::IllegalRequest, Asc::LBA_OUT_OF_RANGE)
    );
    assert_eq!(m.request_sense().unwrap().key, SenseKey::NoSense);
}

#[test]
fn no_medium_and_tray() {
    let drive = EmulatedDrive::new(None);
    let mut m = Mmc::new(&drive);
    let _ = m.test_unit_ready();
    assert_eq!(
        check(m.test_unit_ready().unwrap_err()),
        (SenseKey::NotReady, Asc::MEDIUM_NOT_PRESENT_TRAY_CLOSED)
    );
    assert_eq!(
        check(m.read_toc(false, 0).unwrap_err()).1,
        Asc::MEDIUM_NOT_PRESENT_TRAY_CLOSED
    );
    let s = m.request_sense().unwrap();
    assert_eq!(
        (s.key, s.asc),
        (SenseKey::NotReady, Asc::MEDIUM_NOT_PRESENT_TRAY_CLOSED)
    );
    assert_eq!(
        m.get_configuration(spindle_mmc::cdb::ConfigRequest::All, 0)
            .unwrap()
            .current_profile,
        0
    );
    let ev = m.media_event().unwrap().media.unwrap();
    assert!(!ev.present && !ev.tray_open && ev.event == MediaEvent::NoChange);
    // The host opens the tray: 3A/02.
    m.start_stop(true, false).unwrap();
    assert!(drive.tray_open());
    assert_eq!(
        check(m.test_unit_ready().unwrap_err()).1,
        Asc::MEDIUM_NOT_PRESENT_TRAY_OPEN
    );
    assert!(m.media_event().unwrap().media.unwrap().tray_open);
    // The emulator puts a disc in: NewMedia and UNIT ATTENTION 28/00, then ready.
    drive.insert(sample("libcdio/cdda.cue"));
    assert!(!drive.tray_open());
    let ev = m.media_event().unwrap().media.unwrap();
    assert_eq!(
        (ev.event, ev.present, ev.tray_open),
        (MediaEvent::NewMedia, true, false)
    );
    assert_eq!(
        m.media_event().unwrap().media.unwrap().event,
        MediaEvent::NoChange,
        "events are consumed"
    );
    assert_eq!(
        check(m.test_unit_ready().unwrap_err()),
        (SenseKey::UnitAttention, Asc::MEDIUM_MAY_HAVE_CHANGED)
    );
    m.test_unit_ready().unwrap();
    assert_eq!(m.read_toc(false, 0).unwrap().last_track, 1);
}

/// The host ejects and loads (START STOP UNIT): MediaRemoval, then NewMedia with no unit
/// attention (a UA on a host-initiated load makes the kernel's first read fail).
#[test]
fn host_eject_and_load() {
    let drive = ready(sample("libcdio/isofs-m1.cue"));
    let mut m = Mmc::new(&drive);
    m.start_stop(true, false).unwrap();
    let ev = m.media_event().unwrap().media.unwrap();
    assert_eq!(
        (ev.event, ev.tray_open, ev.present),
        (MediaEvent::MediaRemoval, true, true)
    );
    assert_eq!(
        check(m.read_capacity().unwrap_err()).1,
        Asc::MEDIUM_NOT_PRESENT_TRAY_OPEN
    );
    m.start_stop(true, true).unwrap();
    assert_eq!(
        m.media_event().unwrap().media.unwrap().event,
        MediaEvent::NewMedia
    );
    m.test_unit_ready().unwrap();
    let mut buf = vec![0u8; 2048];
    m.read10(16, 1, &mut buf).unwrap();
    assert_eq!(&buf[1..6], b"CD001");
    // Spin up / stop without the tray bits.
    m.start_stop(false, true).unwrap();
    m.start_stop(false, false).unwrap();
    // A user pushing the tray in after taking the disc out: nothing to load.
    let old = drive.remove().unwrap();
    drive.close_tray();
    assert_eq!(
        check(m.test_unit_ready().unwrap_err()).1,
        Asc::MEDIUM_NOT_PRESENT_TRAY_CLOSED
    );
    assert_eq!(
        m.media_event().unwrap().media.unwrap().event,
        MediaEvent::MediaRemoval
    );
    assert_eq!(
        check(m.start_stop(false, true).unwrap_err()).0,
        SenseKey::NotReady
    );
    drive.insert(old);
    let _ = m.test_unit_ready();
    m.test_unit_ready().unwrap();
}

#[test]
fn prevent_medium_removal() {
    let drive = ready(sample("libcdio/isofs-m1.cue"));
    let mut m = Mmc::new(&drive);
    m.prevent_removal(true).unwrap();
    assert!(drive.removal_prevented());
    let caps = m.mode_sense6(0x2A).unwrap();
    assert!(
        spindle_mmc::mode::Capabilities::parse(&caps.page(0x2A).unwrap().bytes)
            .unwrap()
            .locked
    );
    assert_eq!(
        check(m.start_stop(true, false).unwrap_err()),
        (SenseKey::IllegalRequest, Asc::REMOVAL_PREVENTED)
    );
    // The power-on NewMedia is still pending: it comes first, the eject request after it.
    assert_eq!(
        m.media_event().unwrap().media.unwrap().event,
        MediaEvent::NewMedia
    );
    // The eject button asks the host instead of opening, once; the disc stays ready.
    assert!(!drive.press_eject());
    assert!(!drive.tray_open());
    let ev = m.media_event().unwrap();
    assert_eq!(ev.class, class::MEDIA);
    let media = ev.media.unwrap();
    assert_eq!(media.event, MediaEvent::EjectRequest);
    assert!(media.present && !media.tray_open);
    assert_eq!(
        m.media_event().unwrap().media.unwrap().event,
        MediaEvent::NoChange
    );
    m.test_unit_ready().unwrap();
    assert!(drive.disc().is_some());
    m.prevent_removal(false).unwrap();
    m.start_stop(true, false).unwrap();
    assert!(drive.tray_open());
    // With removal allowed the button opens the tray.
    m.start_stop(true, true).unwrap();
    assert!(drive.press_eject());
    assert!(drive.tray_open());
}

/// GESN without the polled bit, and a request for a class the drive lacks.
#[test]
fn event_status_fields() {
    let drive = ready(sample("libcdio/isofs-m1.cue"));
    let mut m = Mmc::new(&drive);
    let cmd = spindle_mmc::Command::GetEventStatus {
        polled: false,
        classes: 0x10,
        alloc: 8,
    };
    let e = m
        .run("GESN", &cmd, spindle_mmc::DataBuffer::In(&mut [0u8; 8]))
        .unwrap_err();
    assert_eq!(e.sense().unwrap().field.unwrap().byte, 1);
    let mut buf = [0u8; 8];
    let cmd = spindle_mmc::Command::GetEventStatus {
        polled: true,
        classes: class::bit(class::POWER_MANAGEMENT),
        alloc: 8,
    };
    let n = m
        .run("GESN", &cmd, spindle_mmc::DataBuffer::In(&mut buf))
        .unwrap();
    let ev = spindle_mmc::events::EventStatus::parse(&buf[..n]).unwrap();
    assert!(ev.nea);
    assert_eq!(ev.supported, 0x10);
    assert_eq!(n, 4);
}
