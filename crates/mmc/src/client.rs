//! The host side: typed MMC calls over any [`Transport`] (what a ripper uses).
//!
//! Answers of variable length are read twice, as careful hosts do: once for the header's
//! length field, then with an allocation length that holds it all.

use crate::cdb::{
    Command, ConfigRequest, PageControl, ReadCd, SubChannelFormat, TocFormat, TrackAddress,
};
use crate::config::Configuration;
use crate::discinfo::{Capacity, DiscInformation, TrackInformation};
use crate::error::{MmcError, ParseError};
use crate::events::{EventStatus, Performance, class};
use crate::inquiry::{InquiryData, VpdPage};
use crate::mode::ModeData;
use crate::readcd::{ReadCdFields, SectorType};
use crate::sense::Sense;
use crate::subq::SubChannel;
use crate::toc::{CdTextPacks, FullToc, SessionInfo, Toc};
use crate::transport::{DataBuffer, Transport, status};
use std::time::Duration;

/// Default command timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Typed MMC commands over a transport.
pub struct Mmc<T: Transport> {
    transport: T,
    /// Timeout for each command; [`DEFAULT_TIMEOUT`] unless changed.
    pub timeout: Duration,
}

fn be16_len(b: &[u8]) -> usize {
    u16::from_be_bytes([b[0], b[1]]) as usize + 2
}

fn be32_len(b: &[u8]) -> usize {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize + 4
}

impl<T: Transport> Mmc<T> {
    /// Typed calls over `transport`, with [`DEFAULT_TIMEOUT`].
    pub fn new(transport: T) -> Mmc<T> {
        Mmc {
            transport,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The transport, for raw commands.
    pub fn transport(&mut self) -> &mut T {
        &mut self.transport
    }

    /// [`Transport::reads_by_dma`] of the transport.
    pub fn reads_by_dma(&self) -> bool {
        self.transport.reads_by_dma()
    }

    /// Gives the transport back.
    pub fn into_inner(self) -> T {
        self.transport
    }

    fn parse_err(&self, command: &'static str, source: ParseError) -> MmcError {
        MmcError::Parse {
            device: self.transport.name().to_string(),
            command,
            source,
        }
    }

    /// Sends one command; returns the bytes moved. CHECK CONDITION becomes
    /// [`MmcError::Check`].
    pub fn run(
        &mut self,
        name: &'static str,
        cmd: &Command,
        data: DataBuffer<'_>,
    ) -> Result<usize, MmcError> {
        let cdb = cmd.encode();
        let out = self.transport.execute(&cdb, data, self.timeout)?;
        match out.status {
            status::GOOD => Ok(out.transferred),
            status::CHECK_CONDITION => Err(MmcError::Check {
                device: self.transport.name().to_string(),
                command: name,
                sense: out.sense().unwrap_or(Sense::NO_SENSE),
                transferred: out.transferred,
            }),
            s => Err(MmcError::Status {
                device: self.transport.name().to_string(),
                command: name,
                status: s,
            }),
        }
    }

    /// A data-in command with a fixed allocation length; returns the bytes received.
    fn data_in(&mut self, name: &'static str, cmd: &Command) -> Result<Vec<u8>, MmcError> {
        let mut buf = vec![0u8; cmd.transfer_length()];
        let n = self.run(name, cmd, DataBuffer::In(&mut buf))?;
        buf.truncate(n);
        Ok(buf)
    }

    /// A data-in command whose answer says its own length: read the header, then all of it.
    fn sized(
        &mut self,
        name: &'static str,
        header: usize,
        make: impl Fn(u16) -> Command,
        len_of: fn(&[u8]) -> usize,
    ) -> Result<Vec<u8>, MmcError> {
        let first = self.data_in(name, &make(header as u16))?;
        if first.len() < header.min(2) {
            return Err(self.parse_err(
                name,
                ParseError::Short {
                    what: "answer header",
                    need: header,
                    got: first.len(),
                },
            ));
        }
        let total = len_of(&first).clamp(header, 0xFFFE);
        if total <= first.len() {
            return Ok(first);
        }
        self.data_in(name, &make(total as u16))
    }

    /// TEST UNIT READY: `Ok` when a medium is ready; [`MmcError::Check`] with the sense
    /// (e.g. 02/3A/00 medium not present) otherwise.
    pub fn test_unit_ready(&mut self) -> Result<(), MmcError> {
        self.run("TEST UNIT READY", &Command::TestUnitReady, DataBuffer::None)
            .map(|_| ())
    }

    /// REQUEST SENSE: the pending sense (NO SENSE when there is none).
    pub fn request_sense(&mut self) -> Result<Sense, MmcError> {
        let b = self.data_in(
            "REQUEST SENSE",
            &Command::RequestSense {
                descriptor: false,
                alloc: 18,
            },
        )?;
        Ok(Sense::parse(&b).unwrap_or(Sense::NO_SENSE))
    }

    /// INQUIRY: the standard inquiry data (96 bytes asked for).
    pub fn inquiry(&mut self) -> Result<InquiryData, MmcError> {
        let b = self.data_in(
            "INQUIRY",
            &Command::Inquiry {
                evpd: false,
                page: 0,
                alloc: 96,
            },
        )?;
        InquiryData::parse(&b).map_err(|e| self.parse_err("INQUIRY", e))
    }

    /// INQUIRY of vital product data page `page`; [`MmcError::Check`] when the drive lacks it.
    pub fn vpd(&mut self, page: u8) -> Result<VpdPage, MmcError> {
        let b = self.sized(
            "INQUIRY (VPD)",
            4,
            |alloc| Command::Inquiry {
                evpd: true,
                page,
                alloc: alloc.max(4),
            },
            |b| u16::from_be_bytes([b[2], b[3]]) as usize + 4,
        )?;
        VpdPage::parse(&b).map_err(|e| self.parse_err("INQUIRY (VPD)", e))
    }

    /// MODE SENSE(10) of one page (or [`crate::mode::PAGE_ALL`]).
    pub fn mode_sense(&mut self, page: u8, pc: PageControl) -> Result<ModeData, MmcError> {
        let b = self.sized(
            "MODE SENSE(10)",
            8,
            |alloc| Command::ModeSense10 {
                dbd: true,
                llbaa: false,
                pc,
                page,
                subpage: 0,
                alloc,
            },
            be16_len,
        )?;
        ModeData::parse(&b, true, false).map_err(|e| self.parse_err("MODE SENSE(10)", e))
    }

    /// MODE SENSE(6) of one page, as the Linux sr driver asks for page 0x2A.
    pub fn mode_sense6(&mut self, page: u8) -> Result<ModeData, MmcError> {
        let b = self.data_in(
            "MODE SENSE(6)",
            &Command::ModeSense6 {
                dbd: true,
                pc: PageControl::Current,
                page,
                subpage: 0,
                alloc: 0xFF,
            },
        )?;
        ModeData::parse(&b, false, false).map_err(|e| self.parse_err("MODE SENSE(6)", e))
    }

    /// MODE SELECT(10) of `data`, page format, not saved (the mode data length is sent as 0,
    /// as it is reserved in MODE SELECT).
    pub fn mode_select(&mut self, data: &ModeData) -> Result<(), MmcError> {
        let mut list = data.to_bytes(true);
        // The mode data length is reserved in MODE SELECT.
        list[0] = 0;
        list[1] = 0;
        let cmd = Command::ModeSelect10 {
            pf: true,
            save: false,
            length: list.len() as u16,
        };
        self.run("MODE SELECT(10)", &cmd, DataBuffer::Out(&list))
            .map(|_| ())
    }

    /// GET CONFIGURATION: the current profile and the features `rt` selects from feature
    /// number `start` on.
    pub fn get_configuration(
        &mut self,
        rt: ConfigRequest,
        start: u16,
    ) -> Result<Configuration, MmcError> {
        let b = self.sized(
            "GET CONFIGURATION",
            8,
            |alloc| Command::GetConfiguration { rt, start, alloc },
            be32_len,
        )?;
        Configuration::parse(&b).map_err(|e| self.parse_err("GET CONFIGURATION", e))
    }

    fn toc_bytes(&mut self, format: TocFormat, msf: bool, number: u8) -> Result<Vec<u8>, MmcError> {
        self.sized(
            "READ TOC",
            4,
            |alloc| Command::ReadToc {
                msf,
                format,
                number,
                alloc,
            },
            be16_len,
        )
    }

    /// READ TOC format 0 from track `first` (0 or 1: all tracks).
    pub fn read_toc(&mut self, msf: bool, first: u8) -> Result<Toc, MmcError> {
        let b = self.toc_bytes(TocFormat::Toc, msf, first)?;
        Toc::parse(&b, msf).map_err(|e| self.parse_err("READ TOC", e))
    }

    /// READ TOC format 1: the first and last complete session and the first track of the last.
    pub fn session_info(&mut self, msf: bool) -> Result<SessionInfo, MmcError> {
        let b = self.toc_bytes(TocFormat::SessionInfo, msf, 0)?;
        SessionInfo::parse(&b, msf).map_err(|e| self.parse_err("READ TOC", e))
    }

    /// READ TOC format 2 from session `first` (0 or 1: all sessions).
    pub fn full_toc(&mut self, first: u8) -> Result<FullToc, MmcError> {
        let b = self.toc_bytes(TocFormat::FullToc, true, first)?;
        FullToc::parse(&b).map_err(|e| self.parse_err("READ TOC", e))
    }

    /// READ TOC format 5: the CD-TEXT packs of the lead-in; [`MmcError::Check`] when the disc
    /// has none.
    pub fn cd_text(&mut self) -> Result<CdTextPacks, MmcError> {
        let b = self.toc_bytes(TocFormat::CdText, false, 0)?;
        CdTextPacks::parse(&b).map_err(|e| self.parse_err("READ TOC", e))
    }

    /// READ CAPACITY: the last LBA and the block length.
    pub fn read_capacity(&mut self) -> Result<Capacity, MmcError> {
        let b = self.data_in("READ CAPACITY", &Command::ReadCapacity)?;
        Capacity::parse(&b).map_err(|e| self.parse_err("READ CAPACITY", e))
    }

    /// READ(10) of 2048-byte blocks into `buf`; returns the bytes received.
    pub fn read10(&mut self, lba: u32, blocks: u16, buf: &mut [u8]) -> Result<usize, MmcError> {
        let cmd = Command::Read10 {
            lba,
            blocks,
            fua: false,
        };
        let n = cmd.transfer_length();
        self.run("READ(10)", &cmd, DataBuffer::In(&mut buf[..n]))
    }

    /// READ(12) of 2048-byte blocks into `buf`, which must hold them; returns the bytes received.
    pub fn read12(&mut self, lba: u32, blocks: u32, buf: &mut [u8]) -> Result<usize, MmcError> {
        let cmd = Command::Read12 {
            lba,
            blocks,
            fua: false,
            streaming: false,
        };
        let n = cmd.transfer_length();
        self.run("READ(12)", &cmd, DataBuffer::In(&mut buf[..n]))
    }

    /// READ CD into `buf`, which must hold `blocks` blocks of the selected fields.
    pub fn read_cd(
        &mut self,
        lba: i32,
        blocks: u32,
        sector_type: SectorType,
        fields: ReadCdFields,
        buf: &mut [u8],
    ) -> Result<usize, MmcError> {
        let cmd = Command::ReadCd(ReadCd {
            lba,
            blocks,
            sector_type,
            dap: false,
            fields,
        });
        // With an expected sector type of "any" the block size depends on each sector: the
        // whole buffer is offered and the drive says how much it sent.
        let n = if sector_type == SectorType::Any {
            buf.len()
        } else {
            cmd.transfer_length().min(buf.len())
        };
        self.run("READ CD", &cmd, DataBuffer::In(&mut buf[..n]))
    }

    /// READ SUB-CHANNEL with Q data in `format`; `track` names the track for an ISRC.
    pub fn read_subchannel(
        &mut self,
        format: SubChannelFormat,
        track: u8,
        msf: bool,
    ) -> Result<SubChannel, MmcError> {
        let cmd = Command::ReadSubChannel {
            msf,
            subq: true,
            format,
            track,
            alloc: 48,
        };
        let b = self.data_in("READ SUB-CHANNEL", &cmd)?;
        SubChannel::parse(&b, msf).map_err(|e| self.parse_err("READ SUB-CHANNEL", e))
    }

    /// READ DISC INFORMATION: the standard disc information.
    pub fn disc_information(&mut self) -> Result<DiscInformation, MmcError> {
        let b = self.data_in(
            "READ DISC INFORMATION",
            &Command::ReadDiscInformation {
                data_type: 0,
                alloc: DiscInformation::LEN as u16,
            },
        )?;
        DiscInformation::parse(&b).map_err(|e| self.parse_err("READ DISC INFORMATION", e))
    }

    /// READ TRACK INFORMATION of the track `address` names.
    pub fn track_information(
        &mut self,
        address: TrackAddress,
    ) -> Result<TrackInformation, MmcError> {
        let b = self.data_in(
            "READ TRACK INFORMATION",
            &Command::ReadTrackInformation {
                open: false,
                address,
                alloc: TrackInformation::LEN as u16,
            },
        )?;
        TrackInformation::parse(&b).map_err(|e| self.parse_err("READ TRACK INFORMATION", e))
    }

    /// READ DISC STRUCTURE: the structure bytes, header removed.
    pub fn disc_structure(
        &mut self,
        media_type: u8,
        layer: u8,
        format: u8,
    ) -> Result<Vec<u8>, MmcError> {
        let b = self.sized(
            "READ DISC STRUCTURE",
            4,
            |alloc| Command::ReadDiscStructure {
                media_type,
                address: 0,
                layer,
                format,
                alloc,
                agid: 0,
            },
            be16_len,
        )?;
        crate::structure::unwrap(&b)
            .map(<[u8]>::to_vec)
            .map_err(|e| self.parse_err("READ DISC STRUCTURE", e))
    }

    /// GET EVENT STATUS NOTIFICATION, polled, media class.
    pub fn media_event(&mut self) -> Result<EventStatus, MmcError> {
        let b = self.data_in(
            "GET EVENT STATUS NOTIFICATION",
            &Command::GetEventStatus {
                polled: true,
                classes: class::bit(class::MEDIA),
                alloc: 8,
            },
        )?;
        EventStatus::parse(&b).map_err(|e| self.parse_err("GET EVENT STATUS NOTIFICATION", e))
    }

    /// START STOP UNIT: `eject` opens the tray, `load` closes it, neither just spins.
    pub fn start_stop(&mut self, load_eject: bool, start: bool) -> Result<(), MmcError> {
        let cmd = Command::StartStopUnit {
            immed: false,
            power_condition: 0,
            load_eject,
            start,
        };
        self.run("START STOP UNIT", &cmd, DataBuffer::None)
            .map(|_| ())
    }

    /// PREVENT ALLOW MEDIUM REMOVAL: `true` locks the tray, `false` unlocks it.
    pub fn prevent_removal(&mut self, prevent: bool) -> Result<(), MmcError> {
        let cmd = Command::PreventAllow {
            prevent: prevent as u8,
        };
        self.run("PREVENT ALLOW MEDIUM REMOVAL", &cmd, DataBuffer::None)
            .map(|_| ())
    }

    /// SET CD SPEED in kB/s (0xFFFF: as fast as the drive can).
    pub fn set_cd_speed(&mut self, read_kbs: u16) -> Result<(), MmcError> {
        let cmd = Command::SetCdSpeed {
            rotation: 0,
            read_speed: read_kbs,
            write_speed: 0xFFFF,
        };
        self.run("SET CD SPEED", &cmd, DataBuffer::None).map(|_| ())
    }

    /// GET PERFORMANCE, read performance (type 0, data type 0).
    pub fn read_performance(&mut self) -> Result<Performance, MmcError> {
        let cmd = Command::GetPerformance {
            data_type: 0,
            lba: 0,
            max_descriptors: 8,
            kind: 0,
        };
        let b = self.data_in("GET PERFORMANCE", &cmd)?;
        Performance::parse(&b).map_err(|e| self.parse_err("GET PERFORMANCE", e))
    }
}
