//! The transport a command travels over: send a CDB with data in, out or none, within a
//! timeout, and get the SCSI status, the sense data and the bytes moved.

use crate::error::TransportError;
use crate::sense::Sense;
use std::time::Duration;

/// SCSI status codes (SAM).
pub mod status {
    /// The command completed.
    pub const GOOD: u8 = 0x00;
    /// The command failed; sense data says why.
    pub const CHECK_CONDITION: u8 = 0x02;
    /// A condition the command tested for was met.
    pub const CONDITION_MET: u8 = 0x04;
    /// The drive is busy; the host may retry.
    pub const BUSY: u8 = 0x08;
    /// Another initiator holds a reservation.
    pub const RESERVATION_CONFLICT: u8 = 0x18;
    /// The drive's task set is full.
    pub const TASK_SET_FULL: u8 = 0x28;
    /// An auto contingent allegiance condition is active.
    pub const ACA_ACTIVE: u8 = 0x30;
    /// The command was aborted.
    pub const TASK_ABORTED: u8 = 0x40;
}

/// The data phase of a command.
#[derive(Debug)]
pub enum DataBuffer<'a> {
    /// No data phase.
    None,
    /// Data from the drive into this buffer (its length is the transfer length).
    In(&'a mut [u8]),
    /// Data from this buffer to the drive.
    Out(&'a [u8]),
}

impl DataBuffer<'_> {
    /// Length of the data phase in bytes (0 for none).
    pub fn len(&self) -> usize {
        match self {
            DataBuffer::None => 0,
            DataBuffer::In(b) => b.len(),
            DataBuffer::Out(b) => b.len(),
        }
    }
    /// True when there is no data to move.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How a command ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// SCSI status byte (see [`status`]).
    pub status: u8,
    /// Sense bytes as the drive returned them (empty unless CHECK CONDITION).
    pub sense: Vec<u8>,
    /// Bytes moved in the data phase.
    pub transferred: usize,
}

impl Outcome {
    /// Status GOOD with `transferred` bytes moved.
    pub fn good(transferred: usize) -> Outcome {
        Outcome {
            status: status::GOOD,
            sense: Vec::new(),
            transferred,
        }
    }
    /// Status CHECK CONDITION with `sense` in fixed format, after `transferred` bytes.
    pub fn check(sense: &Sense, transferred: usize) -> Outcome {
        Outcome {
            status: status::CHECK_CONDITION,
            sense: sense.to_fixed().to_vec(),
            transferred,
        }
    }
    /// True for status GOOD.
    pub fn is_good(&self) -> bool {
        self.status == status::GOOD
    }
    /// Decoded sense data, when there is any.
    pub fn sense(&self) -> Option<Sense> {
        if self.status == status::CHECK_CONDITION {
            Sense::parse(&self.sense)
        } else {
            None
        }
    }
}

/// Something that carries CDBs to a drive.
pub trait Transport {
    /// A name for messages (the device path, "emulated drive"...).
    fn name(&self) -> &str;

    /// Sends `cdb` with its data phase. `Err` when the command did not complete (I/O
    /// error, timeout, host adapter failure); a drive's CHECK CONDITION is an `Ok` outcome.
    fn execute(
        &mut self,
        cdb: &[u8],
        data: DataBuffer<'_>,
        timeout: Duration,
    ) -> Result<Outcome, TransportError>;

    /// True when data-in reaches the buffer by the kernel's hand (DMA, or the kernel's
    /// copy), never by stores from this process: a buffer mapped from a file may then be
    /// given, since a page the kernel cannot fill fails the command instead of raising
    /// SIGBUS. The default: false.
    fn reads_by_dma(&self) -> bool {
        false
    }
}

impl<T: Transport + ?Sized> Transport for &mut T {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn execute(
        &mut self,
        cdb: &[u8],
        data: DataBuffer<'_>,
        timeout: Duration,
    ) -> Result<Outcome, TransportError> {
        (**self).execute(cdb, data, timeout)
    }
    fn reads_by_dma(&self) -> bool {
        (**self).reads_by_dma()
    }
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn execute(
        &mut self,
        cdb: &[u8],
        data: DataBuffer<'_>,
        timeout: Duration,
    ) -> Result<Outcome, TransportError> {
        (**self).execute(cdb, data, timeout)
    }
    fn reads_by_dma(&self) -> bool {
        (**self).reads_by_dma()
    }
}
