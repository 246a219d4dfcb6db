//! The emulated drive's mode pages: 0x01 (read error recovery), 0x0D (CD device
//! parameters), 0x0E (CD audio control), 0x2A (capabilities and mechanical status), and
//! MODE SELECT of the changeable ones.

use super::answers::max_speed;
use super::mechanism::BUFFER_BYTES;
use super::state::{DEFAULT_AUDIO_PAGE, DEFAULT_RECOVERY, State};
use crate::cdb::PageControl;
use crate::mode::{self, Capabilities, ErrorRecovery, LoadingMechanism, ModeData, RawPage};
use crate::sense::{Asc, Sense, SenseKey};
use spindle_disc::MediumFamily;

/// Page 0x0D: CD device parameters (MMC-6 appendix; page length 6): inactivity timer
/// multiplier 0 (vendor default), 60 S units per M and 75 F units per S.
pub(super) const CD_PARAMETERS: u8 = 0x0D;
/// Page 0x0E: CD audio control (page length 14).
pub(super) const CD_AUDIO_CONTROL: u8 = 0x0E;

/// Bytes of page 0x0E that MODE SELECT may change: IMMED/SOTC (byte 2), then the channel
/// selection (low nibble) and volume of the four output ports (bytes 8-15).
const AUDIO_CHANGEABLE: [u8; 16] = [
    0, 0, 0x06, 0, 0, 0, 0, 0, 0x0F, 0xFF, 0x0F, 0xFF, 0x0F, 0xFF, 0x0F, 0xFF,
];

fn capabilities(s: &State) -> Capabilities {
    let family = s
        .medium()
        .map(|d| d.medium.family())
        .unwrap_or(MediumFamily::Cd);
    let max = max_speed(MediumFamily::Cd).min(0xFFFF) as u16;
    let current = if s.read_speed == 0 {
        max_speed(family)
    } else {
        s.read_speed
    };
    Capabilities {
        read_cd_r: true,
        read_cd_rw: true,
        method2: true,
        read_dvd_rom: true,
        read_dvd_r: true,
        read_dvd_ram: true,
        write_cd_r: false,
        write_cd_rw: false,
        audio_play: true,
        mode2_form1: true,
        mode2_form2: true,
        multi_session: true,
        cdda: true,
        cdda_accurate: true,
        rw_supported: true,
        rw_deinterleaved: false,
        c2_pointers: true,
        isrc: true,
        upc: true,
        read_bar_code: false,
        lock: true,
        locked: s.prevent,
        prevent_jumper: false,
        eject: true,
        loading: LoadingMechanism::Tray,
        max_read_speed: max,
        volume_levels: 256,
        buffer_size: (BUFFER_BYTES / 1024) as u16,
        current_read_speed: current.min(0xFFFF) as u16,
    }
}

fn page(code: u8, bytes: Vec<u8>) -> RawPage {
    RawPage {
        code,
        savable: false,
        bytes,
    }
}

/// MODE SENSE: `page` (or all of them for 0x3F) with the values `pc` asks for.
pub(super) fn mode_data(s: &State, pc: PageControl, code: u8) -> Result<ModeData, Sense> {
    if pc == PageControl::Saved {
        return Err(Sense::new(
            SenseKey::IllegalRequest,
            Asc::SAVING_NOT_SUPPORTED,
        ));
    }
    let changeable = pc == PageControl::Changeable;
    let recovery = match pc {
        PageControl::Current => s.error_recovery,
        PageControl::Default => DEFAULT_RECOVERY,
        // Changeable: the flags and the read retry count.
        _ => ErrorRecovery {
            flags: 0xFF,
            read_retries: 0xFF,
            write_retries: 0,
            time_limit: 0,
        },
    };
    let audio = match pc {
        PageControl::Current => s.audio_page,
        PageControl::Default => DEFAULT_AUDIO_PAGE,
        _ => AUDIO_CHANGEABLE,
    };
    let mut parameters = [CD_PARAMETERS, 6, 0, 0, 0, 60, 0, 75];
    let mut caps = capabilities(s).to_bytes();
    if changeable {
        parameters[2..].fill(0);
        caps[2..].fill(0);
    }
    let mut audio = audio.to_vec();
    audio[0] = CD_AUDIO_CONTROL;
    audio[1] = 14;
    let all = [
        page(mode::PAGE_ERROR_RECOVERY, recovery.to_bytes(false).to_vec()),
        page(CD_PARAMETERS, parameters.to_vec()),
        page(CD_AUDIO_CONTROL, audio),
        page(mode::PAGE_CAPABILITIES, caps.to_vec()),
    ];
    let pages = match code {
        mode::PAGE_ALL => all.to_vec(),
        c => match all.into_iter().find(|p| p.code == c) {
            Some(p) => vec![p],
            None => return Err(Sense::invalid_cdb_field(2, Some(5))),
        },
    };
    Ok(ModeData {
        medium_type: 0,
        device_specific: 0,
        pages,
    })
}

fn bad_list() -> Sense {
    Sense::new(SenseKey::IllegalRequest, Asc::PARAMETER_LIST_LENGTH)
}

fn bad_parameter() -> Sense {
    Sense::new(SenseKey::IllegalRequest, Asc::INVALID_FIELD_IN_PARAMETERS)
}

/// MODE SELECT(6) (`ten` clear) or (10): the read retries and flags of page 0x01 and the
/// changeable bytes of page 0x0E may change; any other page, or a change to a byte that
/// is not changeable, is 05/26/00 and nothing changes.
pub(super) fn mode_select(s: &mut State, list: &[u8], ten: bool, save: bool) -> Result<(), Sense> {
    if save {
        return Err(Sense::new(
            SenseKey::IllegalRequest,
            Asc::SAVING_NOT_SUPPORTED,
        ));
    }
    let md = ModeData::parse(list, ten, true).map_err(|_| bad_list())?;
    let mut recovery = s.error_recovery;
    let mut audio = s.audio_page;
    for p in &md.pages {
        match p.code {
            mode::PAGE_ERROR_RECOVERY if p.bytes.len() >= 4 => {
                let er = ErrorRecovery::parse(&p.bytes).map_err(|_| bad_list())?;
                recovery.flags = er.flags;
                recovery.read_retries = er.read_retries;
            }
            CD_AUDIO_CONTROL if p.bytes.len() >= 16 => {
                for (i, (&new, &mask)) in p.bytes.iter().zip(&AUDIO_CHANGEABLE).enumerate().skip(2)
                {
                    if (new ^ audio[i]) & !mask != 0 {
                        return Err(bad_parameter());
                    }
                    audio[i] = new;
                }
            }
            _ => return Err(bad_parameter()),
        }
    }
    s.error_recovery = recovery;
    s.audio_page = audio;
    Ok(())
}
