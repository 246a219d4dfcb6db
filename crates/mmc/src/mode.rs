//! MODE SENSE / MODE SELECT parameter data: the 6- and 10-byte headers, the read/write
//! error recovery page (0x01) and the MM capabilities and mechanical status page (0x2A).
//!
//! Page 0x2A is written in the 20-byte (page length 0x14) layout of MMC-2, which every
//! host reads (later MMC revisions append write speed descriptors this read-only drive
//! has none of); parsing accepts the longer layouts too.

use crate::error::{ParseError, need};

/// Page code of the read/write error recovery page.
pub const PAGE_ERROR_RECOVERY: u8 = 0x01;
/// Page code of the MM capabilities and mechanical status page.
pub const PAGE_CAPABILITIES: u8 = 0x2A;
/// MODE SENSE page code asking for every page.
pub const PAGE_ALL: u8 = 0x3F;

/// Read/write error recovery parameters (page 0x01).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorRecovery {
    /// Byte 2: AWRE, ARRE, TB, RC, (obsolete), PER, DTE, DCR.
    pub flags: u8,
    /// Read retry count (byte 3).
    pub read_retries: u8,
    /// Write retry count (byte 8).
    pub write_retries: u8,
    /// Recovery time limit (ms).
    pub time_limit: u16,
}

impl ErrorRecovery {
    /// Length of the page in bytes, header included (page length 0x0A).
    pub const LEN: usize = 12;

    /// The 12-byte page; `savable` sets the PS bit.
    pub fn to_bytes(&self, savable: bool) -> [u8; 12] {
        let mut b = [0u8; 12];
        b[0] = PAGE_ERROR_RECOVERY | if savable { 0x80 } else { 0 };
        b[1] = 0x0A;
        b[2] = self.flags;
        b[3] = self.read_retries;
        b[8] = self.write_retries;
        b[10..12].copy_from_slice(&self.time_limit.to_be_bytes());
        b
    }

    /// Decodes the page (from its code byte on); [`ParseError::Short`] under 4 bytes, fields
    /// past its end read as 0.
    pub fn parse(b: &[u8]) -> Result<ErrorRecovery, ParseError> {
        need("mode page 0x01", b, 4)?;
        let at = |i: usize| b.get(i).copied().unwrap_or(0);
        Ok(ErrorRecovery {
            flags: b[2],
            read_retries: b[3],
            write_retries: at(8),
            time_limit: u16::from_be_bytes([at(10), at(11)]),
        })
    }
}

/// How the disc is loaded (page 0x2A byte 6 bits 7-5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadingMechanism {
    /// Code 0: caddy or slot.
    Caddy,
    /// Code 1: tray.
    Tray,
    /// Code 2: pop-up.
    PopUp,
    /// Any other code (changers, reserved), 3 bits.
    Other(u8),
}

impl LoadingMechanism {
    /// The 3-bit code.
    pub fn code(self) -> u8 {
        match self {
            LoadingMechanism::Caddy => 0,
            LoadingMechanism::Tray => 1,
            LoadingMechanism::PopUp => 2,
            LoadingMechanism::Other(c) => c & 7,
        }
    }
    /// The mechanism for a code (its low 3 bits).
    pub fn from_code(c: u8) -> LoadingMechanism {
        match c & 7 {
            0 => LoadingMechanism::Caddy,
            1 => LoadingMechanism::Tray,
            2 => LoadingMechanism::PopUp,
            c => LoadingMechanism::Other(c),
        }
    }
}

/// MM capabilities and mechanical status (page 0x2A).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// Reads CD-R media (byte 2 bit 0).
    pub read_cd_r: bool,
    /// Reads CD-RW media (byte 2 bit 1).
    pub read_cd_rw: bool,
    /// Reads fixed packet tracks written with addressing method 2 (byte 2 bit 2).
    pub method2: bool,
    /// Reads DVD-ROM media (byte 2 bit 3).
    pub read_dvd_rom: bool,
    /// Reads DVD-R media (byte 2 bit 4).
    pub read_dvd_r: bool,
    /// Reads DVD-RAM media (byte 2 bit 5).
    pub read_dvd_ram: bool,
    /// Writes CD-R media (byte 3 bit 0).
    pub write_cd_r: bool,
    /// Writes CD-RW media (byte 3 bit 1).
    pub write_cd_rw: bool,
    /// Plays audio to an analogue output (byte 4 bit 0).
    pub audio_play: bool,
    /// Reads Mode 2 Form 1 sectors (byte 4 bit 4).
    pub mode2_form1: bool,
    /// Reads Mode 2 Form 2 sectors (byte 4 bit 5).
    pub mode2_form2: bool,
    /// Reads multi-session discs (byte 4 bit 6).
    pub multi_session: bool,
    /// READ CD of audio sectors.
    pub cdda: bool,
    /// Audio reads restart exactly where they stopped.
    pub cdda_accurate: bool,
    /// Returns R-W sub-channel data (byte 5 bit 2).
    pub rw_supported: bool,
    /// R-W data comes de-interleaved and corrected (byte 5 bit 3).
    pub rw_deinterleaved: bool,
    /// Returns C2 error pointers (byte 5 bit 4).
    pub c2_pointers: bool,
    /// Returns ISRCs (byte 5 bit 5).
    pub isrc: bool,
    /// Returns the media catalog number (byte 5 bit 6).
    pub upc: bool,
    /// Reads the disc bar code (byte 5 bit 7).
    pub read_bar_code: bool,
    /// PREVENT ALLOW MEDIUM REMOVAL can lock the medium in (byte 6 bit 0).
    pub lock: bool,
    /// The drive is locked now (PREVENT ALLOW MEDIUM REMOVAL).
    pub locked: bool,
    /// State of the prevent/allow jumper (byte 6 bit 2).
    pub prevent_jumper: bool,
    /// START STOP UNIT can eject the medium (byte 6 bit 3).
    pub eject: bool,
    /// Loading mechanism type (byte 6 bits 7-5).
    pub loading: LoadingMechanism,
    /// kB/s (obsolete in MMC-6 but still read by hosts).
    pub max_read_speed: u16,
    /// Number of discrete volume levels of the audio output (bytes 10-11).
    pub volume_levels: u16,
    /// KiB.
    pub buffer_size: u16,
    /// Current read speed in kB/s (bytes 14-15).
    pub current_read_speed: u16,
}

impl Capabilities {
    /// Length of the page in bytes as written: 2 header bytes and page length 0x14.
    pub const LEN: usize = 22;

    /// The 22-byte page (MMC-2 layout).
    pub fn to_bytes(&self) -> [u8; 22] {
        let mut b = [0u8; 22];
        let f = |bits: &[bool]| {
            bits.iter()
                .enumerate()
                .fold(0u8, |a, (i, &on)| a | ((on as u8) << i))
        };
        b[0] = PAGE_CAPABILITIES;
        b[1] = 0x14;
        b[2] = f(&[
            self.read_cd_r,
            self.read_cd_rw,
            self.method2,
            self.read_dvd_rom,
            self.read_dvd_r,
            self.read_dvd_ram,
        ]);
        b[3] = f(&[self.write_cd_r, self.write_cd_rw]);
        b[4] = f(&[
            self.audio_play,
            false,
            false,
            false,
            self.mode2_form1,
            self.mode2_form2,
            self.multi_session,
        ]);
        b[5] = f(&[
            self.cdda,
            self.cdda_accurate,
            self.rw_supported,
            self.rw_deinterleaved,
            self.c2_pointers,
            self.isrc,
            self.upc,
            self.read_bar_code,
        ]);
        b[6] = f(&[self.lock, self.locked, self.prevent_jumper, self.eject])
            | (self.loading.code() << 5);
        b[8..10].copy_from_slice(&self.max_read_speed.to_be_bytes());
        b[10..12].copy_from_slice(&self.volume_levels.to_be_bytes());
        b[12..14].copy_from_slice(&self.buffer_size.to_be_bytes());
        b[14..16].copy_from_slice(&self.current_read_speed.to_be_bytes());
        b
    }

    /// Decodes the page (from its code byte on); [`ParseError::Short`] under 7 bytes, fields
    /// past its end read as 0.
    pub fn parse(b: &[u8]) -> Result<Capabilities, ParseError> {
        need("mode page 0x2A", b, 7)?;
        let at = |i: usize| b.get(i).copied().unwrap_or(0);
        let w = |i: usize| u16::from_be_bytes([at(i), at(i + 1)]);
        let bit = |i: usize, n: u8| at(i) & (1 << n) != 0;
        Ok(Capabilities {
            read_cd_r: bit(2, 0),
            read_cd_rw: bit(2, 1),
            method2: bit(2, 2),
            read_dvd_rom: bit(2, 3),
            read_dvd_r: bit(2, 4),
            read_dvd_ram: bit(2, 5),
            write_cd_r: bit(3, 0),
            write_cd_rw: bit(3, 1),
            audio_play: bit(4, 0),
            mode2_form1: bit(4, 4),
            mode2_form2: bit(4, 5),
            multi_session: bit(4, 6),
            cdda: bit(5, 0),
            cdda_accurate: bit(5, 1),
            rw_supported: bit(5, 2),
            rw_deinterleaved: bit(5, 3),
            c2_pointers: bit(5, 4),
            isrc: bit(5, 5),
            upc: bit(5, 6),
            read_bar_code: bit(5, 7),
            lock: bit(6, 0),
            locked: bit(6, 1),
            prevent_jumper: bit(6, 2),
            eject: bit(6, 3),
            loading: LoadingMechanism::from_code(at(6) >> 5),
            max_read_speed: w(8),
            volume_levels: w(10),
            buffer_size: w(12),
            current_read_speed: w(14),
        })
    }
}

/// One page of mode parameter data, as found in a MODE SENSE answer or a MODE SELECT list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawPage {
    /// Page code (bits 5-0 of the first byte).
    pub code: u8,
    /// PS (bit 7 of the first byte): the page can be saved.
    pub savable: bool,
    /// The whole page, code and length bytes included.
    pub bytes: Vec<u8>,
}

/// Mode parameter data: header values and pages (block descriptors are skipped).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ModeData {
    /// Medium type byte of the header.
    pub medium_type: u8,
    /// Device-specific parameter byte of the header.
    pub device_specific: u8,
    /// The pages, in the order they came; the last may be cut short by the allocation length.
    pub pages: Vec<RawPage>,
}

impl ModeData {
    /// The page with `code`, if present.
    pub fn page(&self, code: u8) -> Option<&RawPage> {
        self.pages.iter().find(|p| p.code == code)
    }

    /// Builds MODE SENSE(6) (`ten = false`) or MODE SENSE(10) data / a MODE SELECT(10)
    /// parameter list.
    pub fn to_bytes(&self, ten: bool) -> Vec<u8> {
        let mut b = if ten {
            vec![0, 0, self.medium_type, self.device_specific, 0, 0, 0, 0]
        } else {
            vec![0, self.medium_type, self.device_specific, 0]
        };
        for p in &self.pages {
            b.extend_from_slice(&p.bytes);
        }
        if ten {
            let len = (b.len() - 2).min(0xFFFF) as u16;
            b[0..2].copy_from_slice(&len.to_be_bytes());
        } else {
            b[0] = (b.len() - 1).min(0xFF) as u8;
        }
        b
    }

    /// Parses MODE SENSE(6/10) data or a MODE SELECT parameter list. For MODE SELECT the
    /// mode data length field is reserved, so `select` makes it ignored.
    pub fn parse(b: &[u8], ten: bool, select: bool) -> Result<ModeData, ParseError> {
        let (hdr, total, bdl) = if ten {
            need("mode parameter header(10)", b, 8)?;
            (
                8,
                u16::from_be_bytes([b[0], b[1]]) as usize + 2,
                u16::from_be_bytes([b[6], b[7]]) as usize,
            )
        } else {
            need("mode parameter header(6)", b, 4)?;
            (4, b[0] as usize + 1, b[3] as usize)
        };
        let end = if select { b.len() } else { total.min(b.len()) };
        let (medium_type, device_specific) = if ten { (b[2], b[3]) } else { (b[1], b[2]) };
        let mut pages = Vec::new();
        let mut at = hdr + bdl;
        while at + 2 <= end {
            let code = b[at] & 0x3F;
            let len = b[at + 1] as usize + 2;
            if at + len > end {
                // A page cut by the allocation length: keep what arrived.
                pages.push(RawPage {
                    code,
                    savable: b[at] & 0x80 != 0,
                    bytes: b[at..end].to_vec(),
                });
                break;
            }
            pages.push(RawPage {
                code,
                savable: b[at] & 0x80 != 0,
                bytes: b[at..at + len].to_vec(),
            });
            at += len;
        }
        Ok(ModeData {
            medium_type,
            device_specific,
            pages,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_round_trip() {
        let caps = Capabilities {
            read_cd_r: true,
            read_cd_rw: true,
            method2: true,
            read_dvd_rom: true,
            read_dvd_r: true,
            read_dvd_ram: false,
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
            locked: false,
            prevent_jumper: false,
            eject: true,
            loading: LoadingMechanism::Tray,
            max_read_speed: 7056,
            volume_levels: 256,
            buffer_size: 2048,
            current_read_speed: 7056,
        };
        let er = ErrorRecovery {
            flags: 0x80,
            read_retries: 16,
            write_retries: 0,
            time_limit: 0,
        };
        let md = ModeData {
            medium_type: 0,
            device_specific: 0,
            pages: vec![
                RawPage {
                    code: 1,
                    savable: false,
                    bytes: er.to_bytes(false).to_vec(),
                },
                RawPage {
                    code: 0x2A,
                    savable: false,
                    bytes: caps.to_bytes().to_vec(),
                },
            ],
        };
        for ten in [false, true] {
            let back = ModeData::parse(&md.to_bytes(ten), ten, false).unwrap();
            assert_eq!(back, md);
            assert_eq!(
                Capabilities::parse(&back.page(0x2A).unwrap().bytes).unwrap(),
                caps
            );
            assert_eq!(
                ErrorRecovery::parse(&back.page(1).unwrap().bytes).unwrap(),
                er
            );
        }
    }
}
