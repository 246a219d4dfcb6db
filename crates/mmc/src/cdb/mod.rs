//! Typed command descriptor blocks for the MMC-6 / SPC-4 subset drives and hosts use.
//!
//! [`Command::encode`] builds the CDB bytes a host sends (the ripper side);
//! [`Command::parse`] turns CDB bytes into a typed command (the drive side), failing with
//! the sense data a drive would return: 05/20/00 for an unknown operation code, 05/24/00
//! with a field pointer for a bad field.

use crate::readcd::{ReadCdFields, SectorType};
use crate::sense::Sense;

/// Operation codes (byte 0 of a CDB) of the commands in the subset: SPC-4 for the generic ones,
/// MMC-6 for the multimedia ones.
pub mod op {
    /// TEST UNIT READY (SPC-4): is the medium ready?
    pub const TEST_UNIT_READY: u8 = 0x00;
    /// REQUEST SENSE (SPC-4): the sense data of the last command.
    pub const REQUEST_SENSE: u8 = 0x03;
    /// INQUIRY (SPC-4): standard inquiry data or a vital product data page.
    pub const INQUIRY: u8 = 0x12;
    /// MODE SELECT(6) (SPC-4): set mode parameters, 6-byte CDB.
    pub const MODE_SELECT_6: u8 = 0x15;
    /// MODE SENSE(6) (SPC-4): read mode pages, 6-byte CDB.
    pub const MODE_SENSE_6: u8 = 0x1A;
    /// START STOP UNIT (MMC-6): spin up or down, load or eject.
    pub const START_STOP_UNIT: u8 = 0x1B;
    /// PREVENT ALLOW MEDIUM REMOVAL (SPC-4, MMC-6): lock or unlock the tray.
    pub const PREVENT_ALLOW: u8 = 0x1E;
    /// READ CAPACITY (MMC-6): last LBA and block length.
    pub const READ_CAPACITY: u8 = 0x25;
    /// READ(10): user data of 2048-byte blocks, 16-bit block count.
    pub const READ_10: u8 = 0x28;
    /// READ SUB-CHANNEL (MMC-6 §6.29): current position, MCN or ISRC.
    pub const READ_SUB_CHANNEL: u8 = 0x42;
    /// READ TOC/PMA/ATIP (MMC-6 §6.26).
    pub const READ_TOC: u8 = 0x43;
    /// GET CONFIGURATION (MMC-6 §6.6): profiles and features.
    pub const GET_CONFIGURATION: u8 = 0x46;
    /// GET EVENT STATUS NOTIFICATION (MMC-6): media and operational events.
    pub const GET_EVENT_STATUS: u8 = 0x4A;
    /// READ DISC INFORMATION (MMC-6 §6.22).
    pub const READ_DISC_INFORMATION: u8 = 0x51;
    /// READ TRACK INFORMATION (MMC-6 §6.27).
    pub const READ_TRACK_INFORMATION: u8 = 0x52;
    /// MODE SELECT(10) (SPC-4): set mode parameters, 10-byte CDB.
    pub const MODE_SELECT_10: u8 = 0x55;
    /// MODE SENSE(10) (SPC-4): read mode pages, 10-byte CDB.
    pub const MODE_SENSE_10: u8 = 0x5A;
    /// READ(12): user data of 2048-byte blocks, 32-bit block count.
    pub const READ_12: u8 = 0xA8;
    /// GET PERFORMANCE (MMC-6): performance or write speed descriptors.
    pub const GET_PERFORMANCE: u8 = 0xAC;
    /// READ DISC STRUCTURE (MMC-6 §6.23): DVD/BD structures.
    pub const READ_DISC_STRUCTURE: u8 = 0xAD;
    /// SET CD SPEED (MMC-6): read and write speeds in kB/s.
    pub const SET_CD_SPEED: u8 = 0xBB;
    /// READ CD (MMC-6 §6.19): CD sectors with a choice of fields.
    pub const READ_CD: u8 = 0xBE;
    /// READ FORMAT CAPACITIES (MMC-6): the capacity of the medium as formatted.
    pub const READ_FORMAT_CAPACITIES: u8 = 0x23;
    /// SEEK(10) (MMC-6): move the head to an LBA.
    pub const SEEK_10: u8 = 0x2B;
    /// PLAY AUDIO(10) (MMC-6): play audio sectors from an LBA, 16-bit length.
    pub const PLAY_AUDIO_10: u8 = 0x45;
    /// PLAY AUDIO MSF (MMC-6): play audio between two MSF addresses.
    pub const PLAY_AUDIO_MSF: u8 = 0x47;
    /// PAUSE/RESUME (MMC-6): hold or continue audio play.
    pub const PAUSE_RESUME: u8 = 0x4B;
    /// STOP PLAY/SCAN (MMC-6): end audio play.
    pub const STOP_PLAY_SCAN: u8 = 0x4E;
    /// READ BUFFER CAPACITY (MMC-6): size and free space of the drive's buffer.
    pub const READ_BUFFER_CAPACITY: u8 = 0x5C;
    /// PLAY AUDIO(12) (MMC-6): play audio sectors from an LBA, 32-bit length.
    pub const PLAY_AUDIO_12: u8 = 0xA5;
    /// SET STREAMING (MMC-6): the host's performance wishes, as a parameter list.
    pub const SET_STREAMING: u8 = 0xB6;
    /// READ CD MSF (MMC-6): READ CD with the range as start and end MSF addresses.
    pub const READ_CD_MSF: u8 = 0xB9;
    /// MECHANISM STATUS (MMC-6): changer and mechanism state, current LBA.
    pub const MECHANISM_STATUS: u8 = 0xBD;
}

/// Which values MODE SENSE returns (byte 2 bits 7-6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageControl {
    /// The current values (code 0).
    Current,
    /// A mask of the values that MODE SELECT may change (code 1).
    Changeable,
    /// The power-on default values (code 2).
    Default,
    /// The saved values (code 3).
    Saved,
}

impl PageControl {
    fn code(self) -> u8 {
        match self {
            PageControl::Current => 0,
            PageControl::Changeable => 1,
            PageControl::Default => 2,
            PageControl::Saved => 3,
        }
    }
    fn from_code(c: u8) -> PageControl {
        match c & 3 {
            0 => PageControl::Current,
            1 => PageControl::Changeable,
            2 => PageControl::Default,
            _ => PageControl::Saved,
        }
    }
}

/// GET CONFIGURATION's RT field: which features to return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigRequest {
    /// All features from the starting feature on.
    All,
    /// Only the current ones from the starting feature on.
    Current,
    /// Only the starting feature.
    One,
}

/// READ TOC/PMA/ATIP formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TocFormat {
    /// Format 0: the TOC, one descriptor a track plus the lead-out.
    Toc,
    /// Format 1: session information (first track of the last session).
    SessionInfo,
    /// Format 2: the full TOC, raw Q sub-channel entries of the lead-in (points A0-A2, tracks).
    FullToc,
    /// Format 3: the program memory area of a recordable disc.
    Pma,
    /// Format 4: the absolute time in pregroove of a recordable disc.
    Atip,
    /// Format 5: CD-TEXT packs from the lead-in.
    CdText,
}

impl TocFormat {
    /// The format code (CDB byte 2 bits 3-0).
    pub fn code(self) -> u8 {
        match self {
            TocFormat::Toc => 0,
            TocFormat::SessionInfo => 1,
            TocFormat::FullToc => 2,
            TocFormat::Pma => 3,
            TocFormat::Atip => 4,
            TocFormat::CdText => 5,
        }
    }
    /// The format for a code; `None` for codes outside 0-5.
    pub fn from_code(c: u8) -> Option<TocFormat> {
        Some(match c {
            0 => TocFormat::Toc,
            1 => TocFormat::SessionInfo,
            2 => TocFormat::FullToc,
            3 => TocFormat::Pma,
            4 => TocFormat::Atip,
            5 => TocFormat::CdText,
            _ => return None,
        })
    }
}

/// READ SUB-CHANNEL data formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubChannelFormat {
    /// Format 1: the current position (track, index, relative and absolute address).
    CurrentPosition,
    /// Format 2: the media catalog number (UPC/EAN).
    Mcn,
    /// Format 3: a track's international standard recording code.
    Isrc,
}

impl SubChannelFormat {
    /// The format code (CDB byte 3).
    pub fn code(self) -> u8 {
        match self {
            SubChannelFormat::CurrentPosition => 1,
            SubChannelFormat::Mcn => 2,
            SubChannelFormat::Isrc => 3,
        }
    }
    /// The format for a code; `None` for codes other than 1-3.
    pub fn from_code(c: u8) -> Option<SubChannelFormat> {
        Some(match c {
            1 => SubChannelFormat::CurrentPosition,
            2 => SubChannelFormat::Mcn,
            3 => SubChannelFormat::Isrc,
            _ => return None,
        })
    }
}

/// How READ TRACK INFORMATION's address field is meant (byte 1 bits 1-0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrackAddress {
    /// The track holding this LBA.
    Lba(u32),
    /// Track number (0 = lead-in, 0xFF = invisible/incomplete track).
    Track(u32),
    /// The first track of this session.
    Session(u32),
}

/// READ CD: sectors by LBA with a choice of fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadCd {
    /// Signed: the pregap of track 1 and the lead-in are negative.
    pub lba: i32,
    /// Number of sectors (24 bits).
    pub blocks: u32,
    /// The sector type the host expects (byte 1 bits 4-2); a mismatch fails the command.
    pub sector_type: SectorType,
    /// Digital audio play: error concealment for audio (recorded, not acted on).
    pub dap: bool,
    /// Which parts of each sector to return (bytes 9 and 10).
    pub fields: ReadCdFields,
}

/// The commands of the subset, typed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// TEST UNIT READY: no data; a drive without a ready medium answers with sense.
    TestUnitReady,
    /// REQUEST SENSE: the sense data of the previous command.
    RequestSense {
        /// DESC (byte 1 bit 0): descriptor format sense wanted.
        descriptor: bool,
        /// Allocation length in bytes (byte 4).
        alloc: u8,
    },
    /// INQUIRY: standard data, or a vital product data page when `evpd`.
    Inquiry {
        /// EVPD (byte 1 bit 0): return the vital product data page `page`.
        evpd: bool,
        /// VPD page code (byte 2); must be 0 without `evpd`.
        page: u8,
        /// Allocation length in bytes (bytes 3-4).
        alloc: u16,
    },
    /// MODE SENSE(6): mode pages behind a 4-byte header.
    ModeSense6 {
        /// DBD (byte 1 bit 3): no block descriptors.
        dbd: bool,
        /// Which values to return (byte 2 bits 7-6).
        pc: PageControl,
        /// Page code (byte 2 bits 5-0); 0x3F for all pages.
        page: u8,
        /// Subpage code (byte 3).
        subpage: u8,
        /// Allocation length in bytes (byte 4).
        alloc: u8,
    },
    /// MODE SENSE(10): mode pages behind an 8-byte header.
    ModeSense10 {
        /// DBD (byte 1 bit 3): no block descriptors.
        dbd: bool,
        /// LLBAA (byte 1 bit 4): long LBA block descriptors accepted.
        llbaa: bool,
        /// Which values to return (byte 2 bits 7-6).
        pc: PageControl,
        /// Page code (byte 2 bits 5-0); 0x3F for all pages.
        page: u8,
        /// Subpage code (byte 3).
        subpage: u8,
        /// Allocation length in bytes (bytes 7-8).
        alloc: u16,
    },
    /// MODE SELECT(10): the host sends mode pages behind an 8-byte header.
    ModeSelect10 {
        /// PF (byte 1 bit 4): the pages follow the page format.
        pf: bool,
        /// SP (byte 1 bit 0): save the pages.
        save: bool,
        /// Parameter list length in bytes (bytes 7-8).
        length: u16,
    },
    /// GET CONFIGURATION: the current profile and feature descriptors.
    GetConfiguration {
        /// RT (byte 1 bits 1-0): which features.
        rt: ConfigRequest,
        /// Starting feature number (bytes 2-3).
        start: u16,
        /// Allocation length in bytes (bytes 7-8).
        alloc: u16,
    },
    /// READ TOC/PMA/ATIP in one of its formats.
    ReadToc {
        /// MSF (byte 1 bit 1): addresses as minute/second/frame instead of LBAs.
        msf: bool,
        /// Format (byte 2 bits 3-0).
        format: TocFormat,
        /// Track (format 0), session (format 2) number.
        number: u8,
        /// Allocation length in bytes (bytes 7-8).
        alloc: u16,
    },
    /// READ CAPACITY: the last LBA and the block length (8 bytes).
    ReadCapacity,
    /// READ(10): user data, 2048 bytes a block.
    Read10 {
        /// First LBA (bytes 2-5).
        lba: u32,
        /// Number of blocks (bytes 7-8).
        blocks: u16,
        /// FUA (byte 1 bit 3): force unit access, bypass the cache.
        fua: bool,
    },
    /// READ(12): user data, 2048 bytes a block.
    Read12 {
        /// First LBA (bytes 2-5).
        lba: u32,
        /// Number of blocks (bytes 6-9).
        blocks: u32,
        /// FUA (byte 1 bit 3): force unit access, bypass the cache.
        fua: bool,
        /// Streaming (byte 10 bit 7): favour throughput over error recovery.
        streaming: bool,
    },
    /// READ CD: CD sectors by LBA with a choice of fields.
    ReadCd(ReadCd),
    /// READ SUB-CHANNEL: Q sub-channel data in one of its formats.
    ReadSubChannel {
        /// MSF (byte 1 bit 1): addresses as minute/second/frame instead of LBAs.
        msf: bool,
        /// SubQ (byte 2 bit 6): return the sub-channel data, not only the header.
        subq: bool,
        /// Format (byte 3).
        format: SubChannelFormat,
        /// Track number (byte 6), for the ISRC format.
        track: u8,
        /// Allocation length in bytes (bytes 7-8).
        alloc: u16,
    },
    /// READ DISC INFORMATION.
    ReadDiscInformation {
        /// Data type (byte 1 bits 2-0): 0 is standard disc information.
        data_type: u8,
        /// Allocation length in bytes (bytes 7-8).
        alloc: u16,
    },
    /// READ TRACK INFORMATION for a track named by LBA, number or session.
    ReadTrackInformation {
        /// Open (byte 1 bit 2): ask for an open (incomplete) track.
        open: bool,
        /// What the address field (bytes 2-5) names (byte 1 bits 1-0).
        address: TrackAddress,
        /// Allocation length in bytes (bytes 7-8).
        alloc: u16,
    },
    /// READ DISC STRUCTURE: a DVD or BD structure.
    ReadDiscStructure {
        /// 0: DVD/HD DVD, 1: BD.
        media_type: u8,
        /// Address (bytes 2-5); its meaning depends on the format.
        address: u32,
        /// Layer number (byte 6).
        layer: u8,
        /// Format code (byte 7), e.g. 0x00 physical format information.
        format: u8,
        /// Allocation length in bytes (bytes 8-9).
        alloc: u16,
        /// Authentication grant ID (byte 10 bits 7-6).
        agid: u8,
    },
    /// GET EVENT STATUS NOTIFICATION.
    GetEventStatus {
        /// Polled (byte 1 bit 0): report at once; the emulated drive rejects asynchronous (clear) requests.
        polled: bool,
        /// Notification class request bit mask (0x10: media).
        classes: u8,
        /// Allocation length in bytes (bytes 7-8).
        alloc: u16,
    },
    /// START STOP UNIT: spin up or down, load or eject.
    StartStopUnit {
        /// IMMED (byte 1 bit 0): return before the operation completes.
        immed: bool,
        /// Power condition (byte 4 bits 7-4); 0 to act on `start` and `load_eject`.
        power_condition: u8,
        /// LoEj (byte 4 bit 1): load (with `start`) or eject (without).
        load_eject: bool,
        /// Start (byte 4 bit 0): spin up (set) or stop (clear).
        start: bool,
    },
    /// PREVENT ALLOW MEDIUM REMOVAL: lock or unlock the tray.
    PreventAllow {
        /// 0 allow, 1 prevent (persistent prevent bits 2 and 3 are the others).
        prevent: u8,
    },
    /// SET CD SPEED: the host's wanted read and write speeds.
    SetCdSpeed {
        /// Rotational control (byte 1 bits 1-0): 0 CLV, 1 pure CAV.
        rotation: u8,
        /// kB/s (1000 bytes), 0xFFFF = the drive's maximum.
        read_speed: u16,
        /// Write speed in kB/s (1000 bytes), 0xFFFF = the drive's maximum.
        write_speed: u16,
    },
    /// MODE SELECT(6): the host sends mode pages behind a 4-byte header.
    ModeSelect6 {
        /// PF (byte 1 bit 4): the pages follow the page format.
        pf: bool,
        /// SP (byte 1 bit 0): save the pages.
        save: bool,
        /// Parameter list length in bytes (byte 4).
        length: u8,
    },
    /// READ CD MSF: READ CD over `[start, end)` given as MSF addresses (bytes 3-5 and 6-8,
    /// binary); kept here as the LBA of the start (MSF − 150 frames) and the block count.
    ReadCdMsf(ReadCd),
    /// READ FORMAT CAPACITIES: the capacity list.
    ReadFormatCapacities {
        /// Allocation length in bytes (bytes 7-8).
        alloc: u16,
    },
    /// READ BUFFER CAPACITY: the buffer's size and free space, in bytes or blocks.
    ReadBufferCapacity {
        /// Block (byte 1 bit 0): the free space in blocks.
        block: bool,
        /// Allocation length in bytes (bytes 7-8).
        alloc: u16,
    },
    /// SET STREAMING: a performance descriptor (or another type) as a parameter list.
    SetStreaming {
        /// Type (byte 8): 0 performance descriptor, 5 DBI cache zone.
        kind: u8,
        /// Parameter list length in bytes (bytes 9-10).
        length: u16,
    },
    /// SEEK(10): move to an LBA (ends audio play).
    Seek10 {
        /// LBA (bytes 2-5).
        lba: u32,
    },
    /// PLAY AUDIO(10) or (12): play `blocks` audio sectors from `lba`.
    PlayAudio {
        /// Starting LBA (bytes 2-5, signed; 0xFFFFFFFF: the current position).
        lba: i32,
        /// Number of sectors (bytes 7-8 of the 10-byte CDB, 6-9 of the 12-byte one).
        blocks: u32,
        /// The 12-byte form (PLAY AUDIO(12)).
        twelve: bool,
    },
    /// PLAY AUDIO MSF: play from `start` up to `end` (exclusive); binary M, S, F.
    PlayAudioMsf {
        /// Start address (bytes 3-5); FF FF FF: the current position.
        start: [u8; 3],
        /// End address (bytes 6-8).
        end: [u8; 3],
    },
    /// PAUSE/RESUME: hold (`resume` clear) or continue audio play.
    PauseResume {
        /// Resume (byte 8 bit 0).
        resume: bool,
    },
    /// STOP PLAY/SCAN: end audio play.
    StopPlayScan,
    /// MECHANISM STATUS: the mechanism header (no changer slots).
    MechanismStatus {
        /// Allocation length in bytes (bytes 8-9).
        alloc: u16,
    },
    /// GET PERFORMANCE: performance or write speed descriptors.
    GetPerformance {
        /// Data type (byte 1 bits 4-0): for type 0, tolerance (bits 4-3), write (bit 2) and
        /// except (bits 1-0).
        data_type: u8,
        /// Starting LBA (bytes 2-5).
        lba: u32,
        /// Maximum number of descriptors (bytes 8-9), 16 bytes each.
        max_descriptors: u16,
        /// Type (byte 10): 0x00 performance, 0x03 write speed.
        kind: u8,
    },
}

/// The direction data moves for a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// No data moves.
    None,
    /// From the drive to the host.
    In,
    /// From the host to the drive.
    Out,
}

/// Encoded CDB bytes (6, 10 or 12 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cdb {
    bytes: [u8; 16],
    len: usize,
}

impl Cdb {
    fn new(len: usize, opcode: u8) -> Cdb {
        let mut bytes = [0u8; 16];
        bytes[0] = opcode;
        Cdb { bytes, len }
    }
    /// The CDB bytes (6, 10 or 12 of them, by operation code).
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
    fn put16(&mut self, at: usize, v: u16) {
        self.bytes[at..at + 2].copy_from_slice(&v.to_be_bytes());
    }
    fn put32(&mut self, at: usize, v: u32) {
        self.bytes[at..at + 4].copy_from_slice(&v.to_be_bytes());
    }
}

impl std::ops::Deref for Cdb {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

/// Length of a CDB from its operation code's group (SPC-4 §4.2.5.1); `None` for groups
/// this crate has no use for (vendor specific, 16-byte...).
pub fn cdb_length(opcode: u8) -> Option<usize> {
    match opcode >> 5 {
        0 => Some(6),
        1 | 2 => Some(10),
        4 => Some(16),
        5 => Some(12),
        _ => None,
    }
}

/// True when the command with these CDB bytes moves data from the host to the drive (a
/// parameter list or sectors to write), so a transport that is only told the CDB (TCMU)
/// knows which way its buffer goes. Covers MODE SELECT(6)/(10), SET STREAMING, SEND KEY,
/// SEND DVD STRUCTURE, SEND CUE SHEET, SEND OPC INFORMATION, SEND EVENT, FORMAT UNIT with
/// FmtData, WRITE(6/10/12/16), WRITE AND VERIFY(10), WRITE BUFFER, SEND DIAGNOSTIC, LOG
/// SELECT, PERSISTENT RESERVE OUT and SECURITY PROTOCOL OUT; false for everything else
/// (including an empty CDB).
pub fn is_data_out(cdb: &[u8]) -> bool {
    let Some(&opcode) = cdb.first() else {
        return false;
    };
    match opcode {
        // FORMAT UNIT: a parameter list follows only with FmtData (byte 1 bit 4).
        0x04 => cdb.get(1).is_some_and(|b| b & 0x10 != 0),
        0x0A // WRITE(6)
        | 0x15 // MODE SELECT(6)
        | 0x1D // SEND DIAGNOSTIC
        | 0x2A // WRITE(10)
        | 0x2E // WRITE AND VERIFY(10)
        | 0x3B // WRITE BUFFER
        | 0x4C // LOG SELECT
        | 0x54 // SEND OPC INFORMATION
        | 0x55 // MODE SELECT(10)
        | 0x5D // SEND CUE SHEET
        | 0x5F // PERSISTENT RESERVE OUT
        | 0x8A // WRITE(16)
        | 0xA2 // SEND EVENT
        | 0xA3 // SEND KEY
        | 0xAA // WRITE(12)
        | 0xB5 // SECURITY PROTOCOL OUT
        | 0xB6 // SET STREAMING
        | 0xBF // SEND DVD STRUCTURE
        => true,
        _ => false,
    }
}

fn bit(b: u8, n: u8) -> bool {
    b & (1 << n) != 0
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

impl Command {
    /// The operation code (byte 0) of the command.
    pub fn opcode(&self) -> u8 {
        use Command::*;
        match self {
            TestUnitReady => op::TEST_UNIT_READY,
            RequestSense { .. } => op::REQUEST_SENSE,
            Inquiry { .. } => op::INQUIRY,
            ModeSense6 { .. } => op::MODE_SENSE_6,
            ModeSense10 { .. } => op::MODE_SENSE_10,
            ModeSelect10 { .. } => op::MODE_SELECT_10,
            GetConfiguration { .. } => op::GET_CONFIGURATION,
            ReadToc { .. } => op::READ_TOC,
            ReadCapacity => op::READ_CAPACITY,
            Read10 { .. } => op::READ_10,
            Read12 { .. } => op::READ_12,
            ReadCd(_) => op::READ_CD,
            ReadSubChannel { .. } => op::READ_SUB_CHANNEL,
            ReadDiscInformation { .. } => op::READ_DISC_INFORMATION,
            ReadTrackInformation { .. } => op::READ_TRACK_INFORMATION,
            ReadDiscStructure { .. } => op::READ_DISC_STRUCTURE,
            GetEventStatus { .. } => op::GET_EVENT_STATUS,
            StartStopUnit { .. } => op::START_STOP_UNIT,
            PreventAllow { .. } => op::PREVENT_ALLOW,
            SetCdSpeed { .. } => op::SET_CD_SPEED,
            GetPerformance { .. } => op::GET_PERFORMANCE,
            ModeSelect6 { .. } => op::MODE_SELECT_6,
            ReadCdMsf(_) => op::READ_CD_MSF,
            ReadFormatCapacities { .. } => op::READ_FORMAT_CAPACITIES,
            ReadBufferCapacity { .. } => op::READ_BUFFER_CAPACITY,
            SetStreaming { .. } => op::SET_STREAMING,
            Seek10 { .. } => op::SEEK_10,
            PlayAudio { twelve: false, .. } => op::PLAY_AUDIO_10,
            PlayAudio { twelve: true, .. } => op::PLAY_AUDIO_12,
            PlayAudioMsf { .. } => op::PLAY_AUDIO_MSF,
            PauseResume { .. } => op::PAUSE_RESUME,
            StopPlayScan => op::STOP_PLAY_SCAN,
            MechanismStatus { .. } => op::MECHANISM_STATUS,
        }
    }

    /// The direction of the command's data.
    pub fn direction(&self) -> Direction {
        use Command::*;
        match self {
            TestUnitReady
            | StartStopUnit { .. }
            | PreventAllow { .. }
            | SetCdSpeed { .. }
            | Seek10 { .. }
            | PlayAudio { .. }
            | PlayAudioMsf { .. }
            | PauseResume { .. }
            | StopPlayScan => Direction::None,
            ModeSelect10 { .. } | ModeSelect6 { .. } | SetStreaming { .. } => Direction::Out,
            _ => Direction::In,
        }
    }

    /// The number of bytes the command moves at most: the allocation length of data-in
    /// commands, the parameter list length of MODE SELECT; for READ(10/12) 2048 bytes a
    /// block, for READ CD the size of its fields (see [`ReadCdFields::size_for_type`]).
    pub fn transfer_length(&self) -> usize {
        use Command::*;
        match *self {
            TestUnitReady
            | StartStopUnit { .. }
            | PreventAllow { .. }
            | SetCdSpeed { .. }
            | Seek10 { .. }
            | PlayAudio { .. }
            | PlayAudioMsf { .. }
            | PauseResume { .. }
            | StopPlayScan => 0,
            RequestSense { alloc, .. } | ModeSense6 { alloc, .. } => alloc as usize,
            ModeSelect6 { length, .. } => length as usize,
            ReadFormatCapacities { alloc }
            | ReadBufferCapacity { alloc, .. }
            | MechanismStatus { alloc } => alloc as usize,
            SetStreaming { length, .. } => length as usize,
            ReadCdMsf(r) => r.blocks as usize * r.fields.size_for_type(r.sector_type),
            Inquiry { alloc, .. }
            | ModeSense10 { alloc, .. }
            | GetConfiguration { alloc, .. }
            | ReadToc { alloc, .. }
            | ReadSubChannel { alloc, .. }
            | ReadDiscInformation { alloc, .. }
            | ReadTrackInformation { alloc, .. }
            | ReadDiscStructure { alloc, .. }
            | GetEventStatus { alloc, .. } => alloc as usize,
            ModeSelect10 { length, .. } => length as usize,
            ReadCapacity => 8,
            Read10 { blocks, .. } => blocks as usize * 2048,
            Read12 { blocks, .. } => blocks as usize * 2048,
            ReadCd(r) => r.blocks as usize * r.fields.size_for_type(r.sector_type),
            // Performance and write speed descriptors are both 16 bytes.
            GetPerformance {
                max_descriptors, ..
            } => 8 + max_descriptors as usize * 16,
        }
    }
}

mod encode;
mod parse;
#[cfg(test)]
mod tests;
