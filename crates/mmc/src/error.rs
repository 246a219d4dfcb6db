//! Errors of this crate: responses that do not parse, and transports that fail.

use crate::sense::Sense;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// A response (or parameter list) that cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Fewer bytes than the structure needs.
    #[error("{what}: {got} bytes, need at least {need}")]
    Short {
        /// The structure being decoded.
        what: &'static str,
        /// Bytes it needs at least.
        need: usize,
        /// Bytes there were.
        got: usize,
    },
    /// A field with a value the structure does not allow.
    #[error("{what}: {why}")]
    Invalid {
        /// The structure being decoded.
        what: &'static str,
        /// What is wrong with it.
        why: String,
    },
}

pub(crate) fn need(what: &'static str, b: &[u8], n: usize) -> Result<(), ParseError> {
    if b.len() < n {
        Err(ParseError::Short {
            what,
            need: n,
            got: b.len(),
        })
    } else {
        Ok(())
    }
}

/// A command that could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// A system call on the device failed.
    #[error("{}: {what}", path.display())]
    Io {
        /// The device's path.
        path: PathBuf,
        /// What was being done ("opening the device", "ioctl SG_IO").
        what: &'static str,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The command did not complete within its timeout.
    #[error("{device}: command {opcode:#04x} timed out after {timeout:?}")]
    Timeout {
        /// The device's name.
        device: String,
        /// Operation code of the command.
        opcode: u8,
        /// The timeout it was given.
        timeout: Duration,
    },
    /// The host adapter or the driver failed the command (no sense data from the drive).
    #[error(
        "{device}: command {opcode:#04x} failed in the host adapter or driver (host status {host:#x}, driver status {driver:#x})"
    )]
    Host {
        /// The device's name.
        device: String,
        /// Operation code of the command.
        opcode: u8,
        /// Host status of the SG_IO header (`DID_*`).
        host: u16,
        /// Driver status of the SG_IO header (`DRIVER_*`).
        driver: u16,
    },
    /// The command could not be sent as given (e.g. a CDB longer than 16 bytes).
    #[error("{device}: {why}")]
    Invalid {
        /// The device's name.
        device: String,
        /// What is wrong with the command.
        why: String,
    },
}

/// A typed command that failed: the transport, the drive (CHECK CONDITION and its sense),
/// or the response.
#[derive(Debug, thiserror::Error)]
pub enum MmcError {
    /// The transport failed; the drive never answered.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The drive answered CHECK CONDITION.
    #[error("{device}: {command} failed: {sense}")]
    Check {
        /// The device's name.
        device: String,
        /// The command's name ("READ CD"...).
        command: &'static str,
        /// The sense data the drive returned (NO SENSE when it returned none that parses).
        sense: Sense,
        /// Bytes the drive sent before it stopped (a read that failed part way).
        transferred: usize,
    },
    /// The drive answered a status other than GOOD or CHECK CONDITION (BUSY...).
    #[error("{device}: {command} ended with SCSI status {status:#04x}")]
    Status {
        /// The device's name.
        device: String,
        /// The command's name.
        command: &'static str,
        /// The SCSI status byte (see [`crate::transport::status`]).
        status: u8,
    },
    /// The command succeeded but its answer does not decode.
    #[error("{device}: {command}: {source}")]
    Parse {
        /// The device's name.
        device: String,
        /// The command's name.
        command: &'static str,
        /// What is wrong with the answer.
        #[source]
        source: ParseError,
    },
}

impl MmcError {
    /// The sense data when the drive answered CHECK CONDITION.
    pub fn sense(&self) -> Option<&Sense> {
        match self {
            MmcError::Check { sense, .. } => Some(sense),
            _ => None,
        }
    }

    /// Bytes received before a CHECK CONDITION (0 for other errors).
    pub fn transferred(&self) -> usize {
        match self {
            MmcError::Check { transferred, .. } => *transferred,
            _ => 0,
        }
    }

    /// True when the command timed out in the transport.
    pub fn is_timeout(&self) -> bool {
        matches!(self, MmcError::Transport(TransportError::Timeout { .. }))
    }
}
