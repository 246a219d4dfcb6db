//! Errors of this crate: responses that do not parse, and transports that fail.

use crate::sense::Sense;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// A response (or parameter list) that cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("{what}: {got} bytes, need at least {need}")]
    Short {
        what: &'static str,
        need: usize,
        got: usize,
    },
    #[error("{what}: {why}")]
    Invalid { what: &'static str, why: String },
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
    #[error("{}: {what}", path.display())]
    Io {
        path: PathBuf,
        what: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("{device}: command {opcode:#04x} timed out after {timeout:?}")]
    Timeout {
        device: String,
        opcode: u8,
        timeout: Duration,
    },
    #[error(
        "{device}: command {opcode:#04x} failed in the host adapter or driver (host status {host:#x}, driver status {driver:#x})"
    )]
    Host {
        device: String,
        opcode: u8,
        host: u16,
        driver: u16,
    },
    #[error("{device}: {why}")]
    Invalid { device: String, why: String },
}

/// A typed command that failed: the transport, the drive (CHECK CONDITION and its sense),
/// or the response.
#[derive(Debug, thiserror::Error)]
pub enum MmcError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("{device}: {command} failed: {sense}")]
    Check {
        device: String,
        command: &'static str,
        sense: Sense,
        /// Bytes the drive sent before it stopped (a read that failed part way).
        transferred: usize,
    },
    #[error("{device}: {command} ended with SCSI status {status:#04x}")]
    Status {
        device: String,
        command: &'static str,
        status: u8,
    },
    #[error("{device}: {command}: {source}")]
    Parse {
        device: String,
        command: &'static str,
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
