//! A drive as a [`RescueSource`]: READ(10) of 2048-byte user data, or READ CD of raw
//! 2352-byte sectors with a subchannel selection, with the drive's errors sorted into "this
//! sector failed" (medium errors, timeouts: the rescue goes on) and "stop" (the medium is
//! gone or changed, the read mode does not fit the disc).

use crate::error::{Result, RipError};
use crate::rescue::{ReadOutcome, RescueSource};
use spindle_mmc::readcd::{ReadCdFields, SectorType, SubSelect};
use spindle_mmc::sense::Asc;
use spindle_mmc::{Mmc, MmcError, SenseKey, Transport};

/// How sectors are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadMode {
    /// READ(10): 2048 bytes of user data (data CDs, DVD, BD).
    User,
    /// READ CD: the raw 2352-byte sector, then the subchannel selected.
    Raw(SubSelect),
}

impl ReadMode {
    /// Bytes each sector read in this mode takes: 2048, or 2352 plus the subchannel selected.
    pub fn sector_size(self) -> u32 {
        match self {
            ReadMode::User => 2048,
            ReadMode::Raw(s) => 2352 + s.size() as u32,
        }
    }
}

/// Sectors `base..` of a drive in one read mode.
pub struct DriveSource<'m, T: Transport> {
    /// The drive.
    pub mmc: &'m mut Mmc<T>,
    /// The LBA of sector index 0.
    pub base: i64,
    /// How each sector is read.
    pub mode: ReadMode,
}

impl<T: Transport> RescueSource for DriveSource<'_, T> {
    fn sector_size(&self) -> u32 {
        self.mode.sector_size()
    }

    fn reads_by_dma(&self) -> bool {
        self.mmc.reads_by_dma()
    }

    fn read(&mut self, first: u64, count: u32, buf: &mut [u8]) -> Result<ReadOutcome> {
        let ss = self.sector_size() as usize;
        let lba = self.base + first as i64;
        let r = match self.mode {
            ReadMode::User => {
                let lba = u32::try_from(lba)
                    .map_err(|_| RipError::Drive(format!("READ(10) cannot address LBA {lba}")))?;
                let blocks = u16::try_from(count).map_err(|_| {
                    RipError::Drive(format!("READ(10) cannot read {count} blocks at once"))
                })?;
                self.mmc.read10(lba, blocks, buf)
            }
            ReadMode::Raw(sub) => self.mmc.read_cd(
                lba as i32,
                count,
                SectorType::Any,
                ReadCdFields::RAW.with_sub(sub),
                buf,
            ),
        };
        match r {
            Ok(n) if n >= count as usize * ss => Ok(ReadOutcome::All),
            Ok(n) => Ok(ReadOutcome::FailedAt((n / ss) as u32)),
            Err(e) => classify(e, lba, count, ss),
        }
    }
}

fn classify(e: MmcError, lba: i64, count: u32, ss: usize) -> Result<ReadOutcome> {
    if e.is_timeout() {
        return Ok(ReadOutcome::FailedAt(0));
    }
    let Some(s) = e.sense().copied() else {
        return Err(e.into());
    };
    let good = s
        .information
        .map(|i| i as i32 as i64 - lba)
        .filter(|&k| (0..count as i64).contains(&k))
        .map(|k| k as u32)
        .unwrap_or((e.transferred() / ss) as u32);
    match s.key {
        SenseKey::MediumError
        | SenseKey::HardwareError
        | SenseKey::AbortedCommand
        | SenseKey::RecoveredError => Ok(ReadOutcome::FailedAt(good)),
        // Some drives answer an unreadable sector as an illegal mode or a bad address.
        SenseKey::IllegalRequest if s.asc == Asc::ILLEGAL_MODE_FOR_TRACK && good > 0 => {
            Ok(ReadOutcome::FailedAt(good))
        }
        SenseKey::NotReady | SenseKey::UnitAttention => Err(RipError::Drive(format!(
            "the medium is gone or was changed: {e}"
        ))),
        _ => Err(e.into()),
    }
}
