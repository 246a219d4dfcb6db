//! Building CDB bytes from typed commands (the host side).

use super::*;

impl Command {
    /// Builds the CDB bytes.
    pub fn encode(&self) -> Cdb {
        use Command::*;
        let mut c;
        match *self {
            TestUnitReady => c = Cdb::new(6, op::TEST_UNIT_READY),
            RequestSense { descriptor, alloc } => {
                c = Cdb::new(6, op::REQUEST_SENSE);
                c.bytes[1] = descriptor as u8;
                c.bytes[4] = alloc;
            }
            Inquiry { evpd, page, alloc } => {
                c = Cdb::new(6, op::INQUIRY);
                c.bytes[1] = evpd as u8;
                c.bytes[2] = page;
                c.put16(3, alloc);
            }
            ModeSense6 {
                dbd,
                pc,
                page,
                subpage,
                alloc,
            } => {
                c = Cdb::new(6, op::MODE_SENSE_6);
                c.bytes[1] = (dbd as u8) << 3;
                c.bytes[2] = (pc.code() << 6) | (page & 0x3F);
                c.bytes[3] = subpage;
                c.bytes[4] = alloc;
            }
            ModeSense10 {
                dbd,
                llbaa,
                pc,
                page,
                subpage,
                alloc,
            } => {
                c = Cdb::new(10, op::MODE_SENSE_10);
                c.bytes[1] = ((llbaa as u8) << 4) | ((dbd as u8) << 3);
                c.bytes[2] = (pc.code() << 6) | (page & 0x3F);
                c.bytes[3] = subpage;
                c.put16(7, alloc);
            }
            ModeSelect10 { pf, save, length } => {
                c = Cdb::new(10, op::MODE_SELECT_10);
                c.bytes[1] = ((pf as u8) << 4) | save as u8;
                c.put16(7, length);
            }
            GetConfiguration { rt, start, alloc } => {
                c = Cdb::new(10, op::GET_CONFIGURATION);
                c.bytes[1] = match rt {
                    ConfigRequest::All => 0,
                    ConfigRequest::Current => 1,
                    ConfigRequest::One => 2,
                };
                c.put16(2, start);
                c.put16(7, alloc);
            }
            ReadToc {
                msf,
                format,
                number,
                alloc,
            } => {
                c = Cdb::new(10, op::READ_TOC);
                c.bytes[1] = (msf as u8) << 1;
                c.bytes[2] = format.code();
                c.bytes[6] = number;
                c.put16(7, alloc);
            }
            ReadCapacity => c = Cdb::new(10, op::READ_CAPACITY),
            Read10 { lba, blocks, fua } => {
                c = Cdb::new(10, op::READ_10);
                c.bytes[1] = (fua as u8) << 3;
                c.put32(2, lba);
                c.put16(7, blocks);
            }
            Read12 {
                lba,
                blocks,
                fua,
                streaming,
            } => {
                c = Cdb::new(12, op::READ_12);
                c.bytes[1] = (fua as u8) << 3;
                c.put32(2, lba);
                c.put32(6, blocks);
                c.bytes[10] = (streaming as u8) << 7;
            }
            ReadCd(r) => {
                c = Cdb::new(12, op::READ_CD);
                c.bytes[1] = (r.sector_type.code() << 2) | ((r.dap as u8) << 1);
                c.put32(2, r.lba as u32);
                c.bytes[6..9].copy_from_slice(&r.blocks.to_be_bytes()[1..]);
                c.bytes[9] = r.fields.byte9();
                c.bytes[10] = r.fields.sub.code();
            }
            ReadSubChannel {
                msf,
                subq,
                format,
                track,
                alloc,
            } => {
                c = Cdb::new(10, op::READ_SUB_CHANNEL);
                c.bytes[1] = (msf as u8) << 1;
                c.bytes[2] = (subq as u8) << 6;
                c.bytes[3] = format.code();
                c.bytes[6] = track;
                c.put16(7, alloc);
            }
            ReadDiscInformation { data_type, alloc } => {
                c = Cdb::new(10, op::READ_DISC_INFORMATION);
                c.bytes[1] = data_type & 7;
                c.put16(7, alloc);
            }
            ReadTrackInformation {
                open,
                address,
                alloc,
            } => {
                c = Cdb::new(10, op::READ_TRACK_INFORMATION);
                let (ty, v) = match address {
                    TrackAddress::Lba(v) => (0, v),
                    TrackAddress::Track(v) => (1, v),
                    TrackAddress::Session(v) => (2, v),
                };
                c.bytes[1] = ((open as u8) << 2) | ty;
                c.put32(2, v);
                c.put16(7, alloc);
            }
            ReadDiscStructure {
                media_type,
                address,
                layer,
                format,
                alloc,
                agid,
            } => {
                c = Cdb::new(12, op::READ_DISC_STRUCTURE);
                c.bytes[1] = media_type & 0xF;
                c.put32(2, address);
                c.bytes[6] = layer;
                c.bytes[7] = format;
                c.put16(8, alloc);
                c.bytes[10] = (agid & 3) << 6;
            }
            GetEventStatus {
                polled,
                classes,
                alloc,
            } => {
                c = Cdb::new(10, op::GET_EVENT_STATUS);
                c.bytes[1] = polled as u8;
                c.bytes[4] = classes;
                c.put16(7, alloc);
            }
            StartStopUnit {
                immed,
                power_condition,
                load_eject,
                start,
            } => {
                c = Cdb::new(6, op::START_STOP_UNIT);
                c.bytes[1] = immed as u8;
                c.bytes[4] = (power_condition << 4) | ((load_eject as u8) << 1) | start as u8;
            }
            PreventAllow { prevent } => {
                c = Cdb::new(6, op::PREVENT_ALLOW);
                c.bytes[4] = prevent & 3;
            }
            SetCdSpeed {
                rotation,
                read_speed,
                write_speed,
            } => {
                c = Cdb::new(12, op::SET_CD_SPEED);
                c.bytes[1] = rotation & 3;
                c.put16(2, read_speed);
                c.put16(4, write_speed);
            }
            GetPerformance {
                data_type,
                lba,
                max_descriptors,
                kind,
            } => {
                c = Cdb::new(12, op::GET_PERFORMANCE);
                c.bytes[1] = data_type & 0x1F;
                c.put32(2, lba);
                c.put16(8, max_descriptors);
                c.bytes[10] = kind;
            }
            ModeSelect6 { pf, save, length } => {
                c = Cdb::new(6, op::MODE_SELECT_6);
                c.bytes[1] = ((pf as u8) << 4) | save as u8;
                c.bytes[4] = length;
            }
            ReadCdMsf(r) => {
                c = Cdb::new(12, op::READ_CD_MSF);
                c.bytes[1] = (r.sector_type.code() << 2) | ((r.dap as u8) << 1);
                let start = (r.lba + 150).max(0) as u32;
                c.bytes[3..6].copy_from_slice(&msf_bytes(start));
                c.bytes[6..9].copy_from_slice(&msf_bytes(start + r.blocks));
                c.bytes[9] = r.fields.byte9();
                c.bytes[10] = r.fields.sub.code();
            }
            ReadFormatCapacities { alloc } => {
                c = Cdb::new(10, op::READ_FORMAT_CAPACITIES);
                c.put16(7, alloc);
            }
            ReadBufferCapacity { block, alloc } => {
                c = Cdb::new(10, op::READ_BUFFER_CAPACITY);
                c.bytes[1] = block as u8;
                c.put16(7, alloc);
            }
            SetStreaming { kind, length } => {
                c = Cdb::new(12, op::SET_STREAMING);
                c.bytes[8] = kind;
                c.put16(9, length);
            }
            Seek10 { lba } => {
                c = Cdb::new(10, op::SEEK_10);
                c.put32(2, lba);
            }
            PlayAudio {
                lba,
                blocks,
                twelve: false,
            } => {
                c = Cdb::new(10, op::PLAY_AUDIO_10);
                c.put32(2, lba as u32);
                c.put16(7, blocks.min(0xFFFF) as u16);
            }
            PlayAudio {
                lba,
                blocks,
                twelve: true,
            } => {
                c = Cdb::new(12, op::PLAY_AUDIO_12);
                c.put32(2, lba as u32);
                c.put32(6, blocks);
            }
            PlayAudioMsf { start, end } => {
                c = Cdb::new(10, op::PLAY_AUDIO_MSF);
                c.bytes[3..6].copy_from_slice(&start);
                c.bytes[6..9].copy_from_slice(&end);
            }
            PauseResume { resume } => {
                c = Cdb::new(10, op::PAUSE_RESUME);
                c.bytes[8] = resume as u8;
            }
            StopPlayScan => c = Cdb::new(10, op::STOP_PLAY_SCAN),
            MechanismStatus { alloc } => {
                c = Cdb::new(12, op::MECHANISM_STATUS);
                c.put16(8, alloc);
            }
        }
        c
    }
}

/// Binary M, S, F of an absolute frame count (frames from 00:00:00). Minutes are not wrapped
/// at 100 (a CDB's M byte goes to 255, and parsing takes it as it is).
fn msf_bytes(frames: u32) -> [u8; 3] {
    [
        (frames / 4500).min(255) as u8,
        (frames / 75 % 60) as u8,
        (frames % 75) as u8,
    ]
}
