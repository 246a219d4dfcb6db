use super::*;
use crate::readcd::{C2Mode, HeaderCodes, SubSelect};

#[test]
fn read_cd_raw_pw_bytes() {
    let cmd = Command::ReadCd(ReadCd {
        lba: 16,
        blocks: 27,
        sector_type: SectorType::Any,
        dap: false,
        fields: ReadCdFields {
            sync: true,
            headers: HeaderCodes::All,
            user_data: true,
            edc_ecc: true,
            c2: C2Mode::None,
            sub: SubSelect::RawPw,
        },
    });
    let cdb = cmd.encode();
    assert_eq!(
        cdb.as_slice(),
        &[0xBE, 0, 0, 0, 0, 16, 0, 0, 27, 0xF8, 0x01, 0]
    );
    assert_eq!(Command::parse(&cdb).unwrap(), cmd);
    assert_eq!(cmd.transfer_length(), 27 * 2448);
}

#[test]
fn every_command_round_trips() {
    let cmds = [
        Command::TestUnitReady,
        Command::RequestSense {
            descriptor: false,
            alloc: 18,
        },
        Command::Inquiry {
            evpd: true,
            page: 0x83,
            alloc: 255,
        },
        Command::ModeSense6 {
            dbd: true,
            pc: PageControl::Current,
            page: 0x2A,
            subpage: 0,
            alloc: 128,
        },
        Command::ModeSense10 {
            dbd: true,
            llbaa: false,
            pc: PageControl::Changeable,
            page: 0x01,
            subpage: 0,
            alloc: 512,
        },
        Command::ModeSelect10 {
            pf: true,
            save: false,
            length: 20,
        },
        Command::GetConfiguration {
            rt: ConfigRequest::One,
            start: 0x1E,
            alloc: 64,
        },
        Command::ReadToc {
            msf: true,
            format: TocFormat::FullToc,
            number: 1,
            alloc: 4096,
        },
        Command::ReadCapacity,
        Command::Read10 {
            lba: 100,
            blocks: 32,
            fua: false,
        },
        Command::Read12 {
            lba: 1 << 20,
            blocks: 64,
            fua: true,
            streaming: true,
        },
        Command::ReadSubChannel {
            msf: false,
            subq: true,
            format: SubChannelFormat::Isrc,
            track: 2,
            alloc: 24,
        },
        Command::ReadDiscInformation {
            data_type: 0,
            alloc: 34,
        },
        Command::ReadTrackInformation {
            open: false,
            address: TrackAddress::Track(2),
            alloc: 48,
        },
        Command::ReadDiscStructure {
            media_type: 0,
            address: 0,
            layer: 0,
            format: 0,
            alloc: 2052,
            agid: 0,
        },
        Command::GetEventStatus {
            polled: true,
            classes: 0x10,
            alloc: 8,
        },
        Command::StartStopUnit {
            immed: false,
            power_condition: 0,
            load_eject: true,
            start: false,
        },
        Command::PreventAllow { prevent: 1 },
        Command::SetCdSpeed {
            rotation: 0,
            read_speed: 0xFFFF,
            write_speed: 0xFFFF,
        },
        Command::GetPerformance {
            data_type: 0,
            lba: 0,
            max_descriptors: 1,
            kind: 0,
        },
    ];
    for c in cmds {
        let cdb = c.encode();
        assert_eq!(cdb.len(), cdb_length(cdb[0]).unwrap(), "{c:?}");
        assert_eq!(Command::parse(&cdb), Ok(c), "{c:?}");
    }
}

#[test]
fn bad_fields() {
    assert_eq!(
        Command::parse(&[0xFF; 12]).unwrap_err(),
        Sense::invalid_opcode()
    );
    assert_eq!(
        Command::parse(&[0x43, 0, 7, 0, 0, 0, 0, 0, 4, 0])
            .unwrap_err()
            .field
            .unwrap()
            .byte,
        2
    );
    // The old form of READ TOC format 1 in the control byte.
    assert!(matches!(
        Command::parse(&[0x43, 0, 0, 0, 0, 0, 0, 0, 12, 0x40]),
        Ok(Command::ReadToc {
            format: TocFormat::SessionInfo,
            ..
        })
    ));
    // Short CDBs.
    assert!(Command::parse(&[0x28, 0, 0]).is_err());
    assert!(Command::parse(&[]).is_err());
}
