//! Identification and settings through the emulated drive: INQUIRY and VPD, MODE SENSE /
//! MODE SELECT, GET CONFIGURATION per medium, SET CD SPEED and GET PERFORMANCE, and the
//! answers to malformed CDBs.

mod common;

use common::*;
use spindle_disc::Medium;
use spindle_mmc::cdb::{ConfigRequest, PageControl};
use spindle_mmc::config::{Feature, feature, profile};
use spindle_mmc::inquiry::VpdPage;
use spindle_mmc::mode::{Capabilities, ErrorRecovery, ModeData, RawPage};
use spindle_mmc::sense::Asc;
use spindle_mmc::transport::status;
use spindle_mmc::{DataBuffer, EmulatedDrive, Mmc, SenseKey, Transport};
use std::sync::Arc;
use std::time::Duration;

#[test]
fn inquiry_and_vpd() {
    let drive = ready(sample("libcdio/isofs-m1.cue"));
    let mut m = Mmc::new(&drive);
    let i = m.inquiry().unwrap();
    assert_eq!((i.peripheral_type(), i.removable), (5, true));
    assert_eq!(
        (i.vendor.as_str(), i.product.as_str()),
        ("SPINDLE", "Virtual BD-ROM")
    );
    assert_eq!(
        m.vpd(0x00).unwrap(),
        VpdPage::SupportedPages(vec![0, 0x80, 0x83])
    );
    assert_eq!(
        m.vpd(0x80).unwrap(),
        VpdPage::SerialNumber("SPD00000001".into())
    );
    let VpdPage::DeviceIdentification(ids) = m.vpd(0x83).unwrap() else {
        panic!()
    };
    assert_eq!((ids[0].kind, ids[0].code_set), (1, 2));
    assert!(ids[0].value.starts_with(b"SPINDLE "));
    let e = m.vpd(0xB0).unwrap_err();
    assert_eq!(e.sense().unwrap().asc, Asc::INVALID_FIELD_IN_CDB);
    // A short allocation length cuts the answer.
    let mut buf = [0u8; 8];
    let n = m
        .run(
            "INQUIRY",
            &spindle_mmc::Command::Inquiry {
                evpd: false,
                page: 0,
                alloc: 8,
            },
            DataBuffer::In(&mut buf),
        )
        .unwrap();
    assert_eq!(n, 8);
    assert_eq!(buf[0], 5);
}

#[test]
fn mode_pages() {
    let drive = ready(sample("libcdio/isofs-m1.cue"));
    let mut m = Mmc::new(&drive);
    for md in [
        m.mode_sense6(0x2A).unwrap(),
        m.mode_sense(0x2A, PageControl::Current).unwrap(),
    ] {
        let c = Capabilities::parse(&md.page(0x2A).unwrap().bytes).unwrap();
        assert!(
            c.cdda
                && c.c2_pointers
                && c.read_dvd_rom
                && c.eject
                && c.multi_session
                && c.isrc
                && c.upc
        );
        assert!(!c.write_cd_r);
        assert_eq!(c.max_read_speed, 176 * 48);
    }
    let all = m.mode_sense(0x3F, PageControl::Current).unwrap();
    assert_eq!(
        all.pages.iter().map(|p| p.code).collect::<Vec<_>>(),
        vec![0x01, 0x0D, 0x0E, 0x2A]
    );
    let er = ErrorRecovery::parse(&all.page(1).unwrap().bytes).unwrap();
    assert_eq!(er.read_retries, 16);
    // Change the read retry count; MODE SENSE shows it, defaults do not change.
    let list = ModeData {
        medium_type: 0,
        device_specific: 0,
        pages: vec![RawPage {
            code: 1,
            savable: false,
            bytes: ErrorRecovery {
                flags: 0x01,
                read_retries: 3,
                write_retries: 0,
                time_limit: 0,
            }
            .to_bytes(false)
            .to_vec(),
        }],
    };
    m.mode_select(&list).unwrap();
    let cur = ErrorRecovery::parse(
        &m.mode_sense(1, PageControl::Current)
            .unwrap()
            .page(1)
            .unwrap()
            .bytes,
    )
    .unwrap();
    assert_eq!((cur.flags, cur.read_retries), (0x01, 3));
    let def = ErrorRecovery::parse(
        &m.mode_sense(1, PageControl::Default)
            .unwrap()
            .page(1)
            .unwrap()
            .bytes,
    )
    .unwrap();
    assert_eq!(def.read_retries, 16);
    let ch = ErrorRecovery::parse(
        &m.mode_sense(1, PageControl::Changeable)
            .unwrap()
            .page(1)
            .unwrap()
            .bytes,
    )
    .unwrap();
    assert_eq!(ch.read_retries, 0xFF);
    let e = m.mode_sense(1, PageControl::Saved).unwrap_err();
    assert_eq!(e.sense().unwrap().asc, Asc::SAVING_NOT_SUPPORTED);
    let e = m.mode_sense(0x05, PageControl::Current).unwrap_err();
    assert_eq!(e.sense().unwrap().asc, Asc::INVALID_FIELD_IN_CDB);
    // Page 0x2A is not changeable.
    let caps = m.mode_sense(0x2A, PageControl::Current).unwrap();
    let e = m.mode_select(&caps).unwrap_err();
    assert_eq!(e.sense().unwrap().asc, Asc::INVALID_FIELD_IN_PARAMETERS);
    // A reset brings the defaults back.
    drive.reset();
    let _ = m.test_unit_ready();
    let cur = ErrorRecovery::parse(
        &m.mode_sense(1, PageControl::Current)
            .unwrap()
            .page(1)
            .unwrap()
            .bytes,
    )
    .unwrap();
    assert_eq!(cur.read_retries, 16);
}

#[test]
fn configuration_per_medium() {
    let iso = sample("libcdio/copying.iso");
    for (medium, prof, current_feature) in [
        (Medium::CdRom, profile::CD_ROM, feature::CD_READ),
        (Medium::CdR, profile::CD_R, feature::CD_READ),
        (Medium::DvdRom, profile::DVD_ROM, feature::DVD_READ),
        (Medium::DvdPlusR, profile::DVD_PLUS_R, feature::DVD_READ),
        (Medium::DvdR, profile::DVD_R, feature::DVD_READ),
        (Medium::BdRom, profile::BD_ROM, feature::BD_READ),
        (Medium::BdR, profile::BD_R_SRM, feature::BD_READ),
    ] {
        let mut d = (*iso).clone();
        d.medium = medium;
        let drive = ready(Arc::new(d));
        let mut m = Mmc::new(&drive);
        let c = m.get_configuration(ConfigRequest::All, 0).unwrap();
        assert_eq!(c.current_profile, prof, "{medium}");
        let Feature::ProfileList(ps) = &c.feature(feature::PROFILE_LIST).unwrap().feature else {
            panic!()
        };
        assert!(ps.contains(&(prof, true)), "{medium}: {ps:?}");
        assert_eq!(ps.iter().filter(|p| p.1).count(), 1);
        assert!(
            ps.windows(2).all(|w| w[0].0 > w[1].0),
            "descending profile numbers"
        );
        for code in [
            feature::CORE,
            feature::MORPHING,
            feature::REMOVABLE_MEDIUM,
            feature::RANDOM_READABLE,
        ] {
            assert!(c.feature(code).unwrap().current, "{medium} {code:#x}");
        }
        for code in [feature::CD_READ, feature::DVD_READ, feature::BD_READ] {
            assert_eq!(
                c.feature(code).unwrap().current,
                code == current_feature,
                "{medium} {code:#x}"
            );
        }
        let Feature::RandomReadable { block_size, .. } =
            c.feature(feature::RANDOM_READABLE).unwrap().feature
        else {
            panic!()
        };
        assert_eq!(block_size, 2048);
        // RT = 1: current features only; RT = 2: the one asked for.
        let cur = m.get_configuration(ConfigRequest::Current, 0).unwrap();
        assert!(cur.features.iter().all(|f| f.current));
        let one = m
            .get_configuration(ConfigRequest::One, current_feature)
            .unwrap();
        assert_eq!(one.features.len(), 1);
        assert_eq!(one.features[0].feature.code(), current_feature);
        // The sr driver asks for MRW (0x28) and random writable (0x20): header only.
        assert!(
            m.get_configuration(ConfigRequest::One, 0x28)
                .unwrap()
                .features
                .is_empty()
        );
        // Disc information: the medium decides erasable.
        assert!(!m.disc_information().unwrap().erasable);
    }
    let Feature::CdRead { cd_text, c2, dap } =
        ready(sample("libcdio/cdda.cue")).execute_config_cd_read()
    else {
        panic!()
    };
    assert!(cd_text && c2 && dap);
}

trait CdRead {
    fn execute_config_cd_read(&self) -> Feature;
}

impl CdRead for EmulatedDrive {
    fn execute_config_cd_read(&self) -> Feature {
        Mmc::new(self)
            .get_configuration(ConfigRequest::One, feature::CD_READ)
            .unwrap()
            .features
            .remove(0)
            .feature
    }
}

#[test]
fn speed_and_performance() {
    let drive = ready(sample("libcdio/isofs-m1.cue"));
    let mut m = Mmc::new(&drive);
    let p = m.read_performance().unwrap();
    assert_eq!(p.descriptors.len(), 1);
    assert_eq!(
        (p.descriptors[0].start_lba, p.descriptors[0].end_lba),
        (0, 301)
    );
    assert_eq!(p.descriptors[0].end_performance, 176 * 48);
    m.set_cd_speed(176 * 8).unwrap();
    assert_eq!(
        m.read_performance().unwrap().descriptors[0].start_performance,
        176 * 8
    );
    let c = Capabilities::parse(&m.mode_sense6(0x2A).unwrap().page(0x2A).unwrap().bytes).unwrap();
    assert_eq!(c.current_read_speed, 176 * 8);
    m.set_cd_speed(0xFFFF).unwrap();
    assert_eq!(
        m.read_performance().unwrap().descriptors[0].start_performance,
        176 * 48
    );
}

/// Malformed CDBs reach the drive as raw bytes: the sense says which byte is wrong.
#[test]
fn malformed_cdbs() {
    let drive = ready(sample("libcdio/isofs-m1.cue"));
    let mut t = &drive;
    let to = Duration::from_secs(5);
    let mut buf = vec![0u8; 4096];
    let mut sense = |cdb: &[u8], buf: &mut [u8]| {
        let o = t.execute(cdb, DataBuffer::In(buf), to).unwrap();
        assert_eq!(o.status, status::CHECK_CONDITION, "{cdb:02x?}");
        let s = o.sense().unwrap();
        (s.key, s.asc, s.field.map(|f| f.byte))
    };
    assert_eq!(
        sense(&[0xE5, 0, 0, 0, 0, 0, 0, 0, 0, 0], &mut buf),
        (SenseKey::IllegalRequest, Asc::INVALID_OPCODE, Some(0))
    );
    assert_eq!(
        sense(&[0x2F, 0, 0, 0, 0, 0, 0, 0, 0, 0], &mut buf).1,
        Asc::INVALID_OPCODE
    );
    // READ CD: reserved subchannel code 3, reserved C2 code 3, sector type 7.
    assert_eq!(
        sense(&[0xBE, 0, 0, 0, 0, 0, 0, 0, 1, 0x10, 3, 0], &mut buf).2,
        Some(10)
    );
    assert_eq!(
        sense(&[0xBE, 0, 0, 0, 0, 0, 0, 0, 1, 0x16, 0, 0], &mut buf).2,
        Some(10)
    );
    assert_eq!(
        sense(&[0xBE, 7 << 2, 0, 0, 0, 0, 0, 0, 1, 0x10, 0, 0], &mut buf).2,
        Some(1)
    );
    // READ TOC format 3 (PMA) of a pressed disc, format 7.
    assert_eq!(
        sense(&[0x43, 0, 3, 0, 0, 0, 0, 0x10, 0, 0], &mut buf).1,
        Asc::INVALID_FIELD_IN_CDB
    );
    assert_eq!(
        sense(&[0x43, 0, 7, 0, 0, 0, 0, 0x10, 0, 0], &mut buf).2,
        Some(2)
    );
    // READ CD past the lead-out, and before the first track's pregap.
    assert_eq!(
        sense(&[0xBE, 0, 0, 0, 0x01, 0x2E, 0, 0, 1, 0x10, 0, 0], &mut buf).1,
        Asc::LBA_OUT_OF_RANGE
    );
    assert_eq!(
        sense(
            &[0xBE, 0, 0xFF, 0xFF, 0xFF, 0x00, 0, 0, 1, 0x10, 0, 0],
            &mut buf
        )
        .1,
        Asc::LBA_OUT_OF_RANGE
    );
    // READ DISC INFORMATION of another data type, READ TRACK INFORMATION of track 9.
    assert_eq!(
        sense(&[0x51, 1, 0, 0, 0, 0, 0, 0, 34, 0], &mut buf).2,
        Some(1)
    );
    assert_eq!(
        sense(&[0x52, 1, 0, 0, 0, 9, 0, 0, 48, 0], &mut buf).2,
        Some(2)
    );
    // A CDB shorter than its group says.
    assert_eq!(sense(&[0x28, 0, 0], &mut buf).1, Asc::INVALID_FIELD_IN_CDB);
    // Zero blocks read nothing and succeed.
    let o = t
        .execute(
            &[0x28, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            DataBuffer::In(&mut buf),
            to,
        )
        .unwrap();
    assert_eq!((o.status, o.transferred), (status::GOOD, 0));
}
