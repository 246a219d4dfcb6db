//! Typed commands from CDB bytes (the drive side); errors are the sense a drive answers with.

use super::*;

impl Command {
    /// Parses CDB bytes. Errors are the sense a drive answers with.
    pub fn parse(b: &[u8]) -> Result<Command, Sense> {
        let opcode = *b.first().ok_or_else(Sense::invalid_opcode)?;
        let need = cdb_length(opcode).ok_or_else(Sense::invalid_opcode)?;
        if b.len() < need {
            return Err(Sense::invalid_cdb_field(0, None));
        }
        let bad = |byte: u16, bit: Option<u8>| Err(Sense::invalid_cdb_field(byte, bit));
        Ok(match opcode {
            op::TEST_UNIT_READY => Command::TestUnitReady,
            op::REQUEST_SENSE => Command::RequestSense {
                descriptor: bit(b[1], 0),
                alloc: b[4],
            },
            op::INQUIRY => {
                let evpd = bit(b[1], 0);
                if !evpd && b[2] != 0 {
                    return bad(2, None);
                }
                Command::Inquiry {
                    evpd,
                    page: b[2],
                    alloc: be16(b, 3),
                }
            }
            op::MODE_SENSE_6 => Command::ModeSense6 {
                dbd: bit(b[1], 3),
                pc: PageControl::from_code(b[2] >> 6),
                page: b[2] & 0x3F,
                subpage: b[3],
                alloc: b[4],
            },
            op::MODE_SENSE_10 => Command::ModeSense10 {
                dbd: bit(b[1], 3),
                llbaa: bit(b[1], 4),
                pc: PageControl::from_code(b[2] >> 6),
                page: b[2] & 0x3F,
                subpage: b[3],
                alloc: be16(b, 7),
            },
            op::MODE_SELECT_10 => Command::ModeSelect10 {
                pf: bit(b[1], 4),
                save: bit(b[1], 0),
                length: be16(b, 7),
            },
            op::GET_CONFIGURATION => Command::GetConfiguration {
                rt: match b[1] & 3 {
                    0 => ConfigRequest::All,
                    1 => ConfigRequest::Current,
                    2 => ConfigRequest::One,
                    _ => return bad(1, Some(1)),
                },
                start: be16(b, 2),
                alloc: be16(b, 7),
            },
            op::READ_TOC => {
                let mut code = b[2] & 0xF;
                // Before MMC, the format sat in the top bits of the control byte.
                if code == 0 && b[9] >> 6 != 0 {
                    code = b[9] >> 6;
                }
                let Some(format) = TocFormat::from_code(code) else {
                    return bad(2, Some(3));
                };
                Command::ReadToc {
                    msf: bit(b[1], 1),
                    format,
                    number: b[6],
                    alloc: be16(b, 7),
                }
            }
            op::READ_CAPACITY => Command::ReadCapacity,
            op::READ_10 => Command::Read10 {
                lba: be32(b, 2),
                blocks: be16(b, 7),
                fua: bit(b[1], 3),
            },
            op::READ_12 => Command::Read12 {
                lba: be32(b, 2),
                blocks: be32(b, 6),
                fua: bit(b[1], 3),
                streaming: bit(b[10], 7),
            },
            op::READ_CD => {
                let Some(sector_type) = SectorType::from_code((b[1] >> 2) & 7) else {
                    return bad(1, Some(4));
                };
                let fields = ReadCdFields::from_bytes(b[9], b[10])
                    .ok_or_else(|| Sense::invalid_cdb_field(10, Some(2)))?;
                fields
                    .check()
                    .map_err(|bit| Sense::invalid_cdb_field(9, Some(bit)))?;
                Command::ReadCd(ReadCd {
                    lba: be32(b, 2) as i32,
                    blocks: u32::from_be_bytes([0, b[6], b[7], b[8]]),
                    sector_type,
                    dap: bit(b[1], 1),
                    fields,
                })
            }
            op::READ_SUB_CHANNEL => {
                let Some(format) = SubChannelFormat::from_code(b[3]) else {
                    return bad(3, None);
                };
                Command::ReadSubChannel {
                    msf: bit(b[1], 1),
                    subq: bit(b[2], 6),
                    format,
                    track: b[6],
                    alloc: be16(b, 7),
                }
            }
            op::READ_DISC_INFORMATION => Command::ReadDiscInformation {
                data_type: b[1] & 7,
                alloc: be16(b, 7),
            },
            op::READ_TRACK_INFORMATION => {
                let v = be32(b, 2);
                let address = match b[1] & 3 {
                    0 => TrackAddress::Lba(v),
                    1 => TrackAddress::Track(v),
                    2 => TrackAddress::Session(v),
                    _ => return bad(1, Some(1)),
                };
                Command::ReadTrackInformation {
                    open: bit(b[1], 2),
                    address,
                    alloc: be16(b, 7),
                }
            }
            op::READ_DISC_STRUCTURE => Command::ReadDiscStructure {
                media_type: b[1] & 0xF,
                address: be32(b, 2),
                layer: b[6],
                format: b[7],
                alloc: be16(b, 8),
                agid: b[10] >> 6,
            },
            op::GET_EVENT_STATUS => Command::GetEventStatus {
                polled: bit(b[1], 0),
                classes: b[4],
                alloc: be16(b, 7),
            },
            op::START_STOP_UNIT => Command::StartStopUnit {
                immed: bit(b[1], 0),
                power_condition: b[4] >> 4,
                load_eject: bit(b[4], 1),
                start: bit(b[4], 0),
            },
            op::PREVENT_ALLOW => Command::PreventAllow { prevent: b[4] & 3 },
            op::SET_CD_SPEED => Command::SetCdSpeed {
                rotation: b[1] & 3,
                read_speed: be16(b, 2),
                write_speed: be16(b, 4),
            },
            op::GET_PERFORMANCE => Command::GetPerformance {
                data_type: b[1] & 0x1F,
                lba: be32(b, 2),
                max_descriptors: be16(b, 8),
                kind: b[10],
            },
            op::MODE_SELECT_6 => Command::ModeSelect6 {
                pf: bit(b[1], 4),
                save: bit(b[1], 0),
                length: b[4],
            },
            op::READ_CD_MSF => {
                let Some(sector_type) = SectorType::from_code((b[1] >> 2) & 7) else {
                    return bad(1, Some(4));
                };
                let fields = ReadCdFields::from_bytes(b[9], b[10])
                    .ok_or_else(|| Sense::invalid_cdb_field(10, Some(2)))?;
                fields
                    .check()
                    .map_err(|bit| Sense::invalid_cdb_field(9, Some(bit)))?;
                let start =
                    msf_frames(&b[3..6]).ok_or_else(|| Sense::invalid_cdb_field(3, None))?;
                let end = msf_frames(&b[6..9]).ok_or_else(|| Sense::invalid_cdb_field(6, None))?;
                if end < start {
                    return bad(6, None);
                }
                Command::ReadCdMsf(ReadCd {
                    lba: start as i32 - 150,
                    blocks: end - start,
                    sector_type,
                    dap: bit(b[1], 1),
                    fields,
                })
            }
            op::READ_FORMAT_CAPACITIES => Command::ReadFormatCapacities { alloc: be16(b, 7) },
            op::READ_BUFFER_CAPACITY => Command::ReadBufferCapacity {
                block: bit(b[1], 0),
                alloc: be16(b, 7),
            },
            op::SET_STREAMING => Command::SetStreaming {
                kind: b[8],
                length: be16(b, 9),
            },
            op::SEEK_10 => Command::Seek10 { lba: be32(b, 2) },
            op::PLAY_AUDIO_10 => Command::PlayAudio {
                lba: be32(b, 2) as i32,
                blocks: be16(b, 7) as u32,
                twelve: false,
            },
            op::PLAY_AUDIO_12 => Command::PlayAudio {
                lba: be32(b, 2) as i32,
                blocks: be32(b, 6),
                twelve: true,
            },
            op::PLAY_AUDIO_MSF => Command::PlayAudioMsf {
                start: [b[3], b[4], b[5]],
                end: [b[6], b[7], b[8]],
            },
            op::PAUSE_RESUME => Command::PauseResume {
                resume: bit(b[8], 0),
            },
            op::STOP_PLAY_SCAN => Command::StopPlayScan,
            op::MECHANISM_STATUS => Command::MechanismStatus { alloc: be16(b, 8) },
            _ => return Err(Sense::invalid_opcode()),
        })
    }
}

/// Frames from 00:00:00 of a binary M, S, F in a CDB; `None` when S or F is out of range.
fn msf_frames(b: &[u8]) -> Option<u32> {
    (b[1] < 60 && b[2] < 75).then(|| b[0] as u32 * 4500 + b[1] as u32 * 75 + b[2] as u32)
}
