//! Which answer each command gets: the state machine of the tray and the unit attentions
//! first, then the commands that work without a medium, then those that need one.

use super::state::State;
use super::{Answer, EmulatedDrive, HostEvent, answers, mechanism, pages, reads};
use crate::cdb::{Command, ConfigRequest, op};
use crate::events::{EventStatus, MediaStatus, class};
use crate::inquiry::{DEVICE_TYPE_MMC, Designator, VpdPage, vpd};
use crate::sense::{Asc, Sense, SenseKey};
use crate::transport::DataBuffer;
use spindle_disc::{Lba, Msf};

fn copy_out(answer: &[u8], alloc: usize, buf: &mut [u8]) -> usize {
    let n = answer.len().min(alloc).min(buf.len());
    buf[..n].copy_from_slice(&answer[..n]);
    n
}

/// The frames from 00:00:00 of a binary MSF in a CDB, as an LBA (`None` when S or F is out
/// of range).
fn msf_lba(m: [u8; 3]) -> Option<i64> {
    Msf::new(m[0], m[1], m[2]).map(|m| m.frames() as i64 - 150)
}

impl EmulatedDrive {
    pub(super) fn answer(
        &self,
        s: &mut State,
        opcode: u8,
        parsed: Result<Command, Sense>,
        data: DataBuffer<'_>,
    ) -> Answer {
        // INQUIRY, REQUEST SENSE, GET CONFIGURATION and GET EVENT STATUS NOTIFICATION run
        // while a unit attention is pending; everything else reports (and clears) it.
        let exempt = matches!(
            opcode,
            op::INQUIRY | op::REQUEST_SENSE | op::GET_CONFIGURATION | op::GET_EVENT_STATUS
        );
        if !exempt && let Some(asc) = s.take_attention() {
            return Err((Sense::new(SenseKey::UnitAttention, asc), 0));
        }
        let cmd = parsed.map_err(|e| (e, 0))?;
        let (buf, out): (&mut [u8], &[u8]) = match data {
            DataBuffer::In(b) => (b, &[]),
            DataBuffer::Out(b) => (&mut [], b),
            DataBuffer::None => (&mut [], &[]),
        };
        let alloc = cmd.transfer_length();
        let reply = |bytes: &[u8], buf: &mut [u8]| Ok(copy_out(bytes, alloc, buf));
        let list = &out[..alloc.min(out.len())];
        match cmd {
            Command::Inquiry { evpd: false, .. } => reply(&self.inquiry_data().to_bytes(), buf),
            Command::Inquiry { page, .. } => {
                let id = self.identity();
                let p = match page {
                    vpd::SUPPORTED_PAGES => VpdPage::SupportedPages(vec![0x00, 0x80, 0x83]),
                    vpd::UNIT_SERIAL_NUMBER => VpdPage::SerialNumber(id.serial.clone()),
                    vpd::DEVICE_IDENTIFICATION => {
                        VpdPage::DeviceIdentification(vec![Designator::t10_vendor(
                            &id.vendor,
                            &format!("{} {}", id.product, id.serial),
                        )])
                    }
                    _ => return Err((Sense::invalid_cdb_field(2, None), 0)),
                };
                reply(&p.to_bytes(DEVICE_TYPE_MMC), buf)
            }
            Command::RequestSense {
                descriptor: true, ..
            } => Err((Sense::invalid_cdb_field(1, Some(0)), 0)),
            Command::RequestSense { .. } => {
                let sense = if let Some(asc) = s.take_attention() {
                    Sense::new(SenseKey::UnitAttention, asc)
                } else if let Some(l) = s.last_sense.take() {
                    l
                } else if s.medium().is_none() {
                    s.not_ready()
                } else {
                    Sense::NO_SENSE
                };
                reply(&sense.to_fixed(), buf)
            }
            Command::GetConfiguration { rt, start, .. } => {
                let mut c =
                    answers::configuration(s.medium().map(|d| d.medium), self.identity().interface);
                c.features.retain(|f| {
                    let code = f.feature.code();
                    match rt {
                        ConfigRequest::All => code >= start,
                        ConfigRequest::Current => code >= start && f.current,
                        ConfigRequest::One => code == start,
                    }
                });
                reply(&c.to_bytes(), buf)
            }
            Command::GetEventStatus { polled: false, .. } => {
                Err((Sense::invalid_cdb_field(1, Some(0)), 0))
            }
            Command::GetEventStatus { classes, .. } => {
                // Only the media class is supported: asked for among others, it is the one
                // answered; asked for none of it, "no event available".
                let supported = class::bit(class::MEDIA);
                let e = if classes & supported != 0 {
                    EventStatus {
                        nea: false,
                        class: class::MEDIA,
                        supported,
                        media: Some(MediaStatus {
                            event: s.take_media_event(),
                            tray_open: s.tray_open,
                            present: s.disc.is_some(),
                        }),
                    }
                } else {
                    EventStatus {
                        nea: true,
                        class: 0,
                        supported,
                        media: None,
                    }
                };
                reply(&e.to_bytes(), buf)
            }
            Command::ModeSense6 { pc, page, .. } | Command::ModeSense10 { pc, page, .. } => {
                let ten = matches!(cmd, Command::ModeSense10 { .. });
                let md = pages::mode_data(s, pc, page).map_err(|e| (e, 0))?;
                reply(&md.to_bytes(ten), buf)
            }
            Command::ModeSelect10 { save, .. } => {
                pages::mode_select(s, list, true, save).map_err(|e| (e, 0))?;
                Ok(0)
            }
            Command::ModeSelect6 { save, .. } => {
                pages::mode_select(s, list, false, save).map_err(|e| (e, 0))?;
                Ok(0)
            }
            Command::StartStopUnit {
                load_eject: true,
                start,
                ..
            } => {
                if start {
                    // Host-initiated load: a NewMedia event, no unit attention (see
                    // shared/notes/tcmu.md: a UA here fails the mount that loaded it).
                    if s.tray_open {
                        s.tray_open = false;
                        if s.disc.is_some() {
                            s.medium_changed(false);
                        }
                        s.host_event = Some(HostEvent::TrayClosed);
                    }
                } else {
                    if s.prevent {
                        return Err((
                            Sense::new(SenseKey::IllegalRequest, Asc::REMOVAL_PREVENTED),
                            0,
                        ));
                    }
                    if !s.tray_open {
                        s.tray_open = true;
                        if s.disc.is_some() {
                            s.medium_changed(false);
                        }
                        s.host_event = Some(HostEvent::TrayOpened);
                    }
                }
                Ok(0)
            }
            Command::StartStopUnit { start, .. } => {
                if start && s.medium().is_none() {
                    return Err((s.not_ready(), 0));
                }
                Ok(0)
            }
            Command::PreventAllow { prevent } => {
                s.prevent = prevent & 1 != 0;
                Ok(0)
            }
            Command::SetCdSpeed { read_speed, .. } => {
                s.read_speed = if read_speed == 0xFFFF {
                    0
                } else {
                    read_speed as u32
                };
                Ok(0)
            }
            Command::SetStreaming { kind, .. } => {
                // A performance descriptor sets the read speed; other types (DBI cache
                // zone...) are accepted and change nothing.
                if kind == 0 {
                    if list.len() < 28 {
                        return Err((
                            Sense::new(SenseKey::IllegalRequest, Asc::PARAMETER_LIST_LENGTH),
                            0,
                        ));
                    }
                    // RDD (byte 0 bit 2): back to the drive's defaults.
                    s.read_speed = if list[0] & 4 != 0 {
                        0
                    } else {
                        mechanism::streaming_read_speed(list).unwrap_or(s.read_speed)
                    };
                }
                Ok(0)
            }
            Command::MechanismStatus { .. } => {
                let playing = s.player.playing();
                let at = s.player.position().unwrap_or(s.position);
                reply(&mechanism::mechanism_status(playing, s.tray_open, at), buf)
            }
            Command::ReadFormatCapacities { .. } => {
                reply(&mechanism::format_capacities(s.medium().map(|d| &**d)), buf)
            }
            Command::ReadBufferCapacity { block, .. } => {
                reply(&mechanism::buffer_capacity(block), buf)
            }
            Command::StopPlayScan => {
                if let Some(at) = s.player.stop() {
                    s.position = at;
                }
                Ok(0)
            }
            _ => self.medium_command(s, cmd, buf, alloc),
        }
    }

    /// Commands that need a medium.
    fn medium_command(&self, s: &mut State, cmd: Command, buf: &mut [u8], alloc: usize) -> Answer {
        let disc = s.medium().cloned().ok_or_else(|| (s.not_ready(), 0))?;
        let spin_up = self.faults.lock().spin_up;
        if !spin_up.is_zero() && s.loaded_at.elapsed() < spin_up {
            return Err((Sense::new(SenseKey::NotReady, Asc::BECOMING_READY), 0));
        }
        let reply = |r: Result<Vec<u8>, Sense>, buf: &mut [u8]| {
            r.map(|b| copy_out(&b, alloc, buf)).map_err(|e| (e, 0))
        };
        let here = |s: &State| s.player.position().unwrap_or(s.position).0 as i64;
        match cmd {
            Command::TestUnitReady => Ok(0),
            Command::ReadCapacity => reply(Ok(answers::capacity(&disc).to_bytes().to_vec()), buf),
            Command::ReadToc {
                msf,
                format,
                number,
                ..
            } => reply(answers::read_toc(&disc, format, msf, number), buf),
            Command::ReadDiscInformation { data_type, .. } => {
                if data_type != 0 {
                    return Err((Sense::invalid_cdb_field(1, Some(0)), 0));
                }
                reply(
                    Ok(answers::disc_information(&disc).to_bytes().to_vec()),
                    buf,
                )
            }
            Command::ReadTrackInformation { address, .. } => reply(
                answers::track_information(&disc, address).map(|t| t.to_bytes().to_vec()),
                buf,
            ),
            Command::ReadSubChannel { subq: false, .. } => reply(
                Ok(crate::subq::SubChannel {
                    audio_status: s.player.take_status(),
                    data: crate::subq::SubChannelData::HeaderOnly,
                }
                .to_bytes()),
                buf,
            ),
            Command::ReadSubChannel {
                msf, format, track, ..
            } => {
                let at = Lba(here(s) as i32);
                let mut a = answers::sub_channel(&disc, format, track, msf, at);
                if let Ok(a) = &mut a {
                    a.audio_status = s.player.take_status();
                }
                reply(a.map(|a| a.to_bytes()), buf)
            }
            Command::ReadDiscStructure {
                media_type,
                layer,
                format,
                ..
            } => reply(
                answers::disc_structure(&disc, media_type, layer, format),
                buf,
            ),
            Command::GetPerformance { kind, .. } => {
                if kind != 0 {
                    return Err((Sense::invalid_cdb_field(10, None), 0));
                }
                let max = answers::max_speed(disc.medium.family());
                let speed = if s.read_speed == 0 {
                    max
                } else {
                    s.read_speed.min(max)
                };
                reply(Ok(answers::performance(&disc, speed).to_bytes()), buf)
            }
            Command::Seek10 { lba } => {
                if lba as i64 >= disc.leadout().0 as i64 {
                    return Err((
                        Sense::new(SenseKey::IllegalRequest, Asc::LBA_OUT_OF_RANGE)
                            .with_information(lba),
                        0,
                    ));
                }
                s.player.stop();
                s.position = Lba(lba as i32);
                Ok(0)
            }
            Command::PlayAudio { lba, blocks, .. } => {
                // LBA FFFFFFFF: from the current position.
                let from = if lba == -1 { here(s) } else { lba as i64 };
                s.player
                    .play(&disc, from, from + blocks as i64)
                    .map_err(|e| (e, 0))?;
                Ok(0)
            }
            Command::PlayAudioMsf { start, end } => {
                let from = if start == [0xFF; 3] {
                    here(s)
                } else {
                    msf_lba(start).ok_or_else(|| (Sense::invalid_cdb_field(3, None), 0))?
                };
                let to = msf_lba(end).ok_or_else(|| (Sense::invalid_cdb_field(6, None), 0))?;
                if to < from {
                    return Err((Sense::invalid_cdb_field(6, None), 0));
                }
                s.player.play(&disc, from, to).map_err(|e| (e, 0))?;
                Ok(0)
            }
            Command::PauseResume { resume } => {
                s.player.pause_resume(resume).map_err(|e| (e, 0))?;
                Ok(0)
            }
            Command::Read10 { lba, blocks, .. } => self.read(
                s,
                lba as i32,
                blocks as u32,
                reads::read_user(&disc, &self.faults, lba, blocks as u32, buf),
            ),
            Command::Read12 { lba, blocks, .. } => self.read(
                s,
                lba as i32,
                blocks,
                reads::read_user(&disc, &self.faults, lba, blocks, buf),
            ),
            Command::ReadCd(r) | Command::ReadCdMsf(r) => self.read(
                s,
                r.lba,
                r.blocks,
                reads::read_cd(&disc, &self.faults, &r, buf),
            ),
            _ => Err((Sense::invalid_opcode(), 0)),
        }
    }

    /// A read ends any audio play and moves the head to its last sector.
    fn read(&self, s: &mut State, lba: i32, blocks: u32, r: Answer) -> Answer {
        s.player.stop();
        if blocks > 0 && r.is_ok() {
            s.position = Lba(lba + blocks as i32 - 1);
        }
        r
    }
}
