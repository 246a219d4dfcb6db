//! # spindle-mmc: SCSI MMC both ways
//!
//! Typed CDBs ([`cdb::Command`]: build for a host, parse for a drive) and typed answers
//! (each with `to_bytes` for a drive and `parse` for a host) for the MMC-6 / SPC-4 subset
//! that CD/DVD/BD drives and their hosts use; fixed-format sense data ([`sense`]); a
//! [`Transport`] trait with the Linux SG_IO implementation ([`sgio::SgIo`]) and an emulated
//! drive ([`emu::EmulatedDrive`]) that answers from a [`spindle_disc::Disc`] and injects
//! faults; and [`client::Mmc`], typed calls over any transport (the ripper's side).

pub mod cdb;
pub mod client;
pub mod config;
pub mod discinfo;
pub mod emu;
mod error;
pub mod events;
pub mod inquiry;
pub mod mode;
pub mod readcd;
pub mod sense;
#[cfg(target_os = "linux")]
pub mod sgio;
pub mod structure;
pub mod subq;
pub mod toc;
pub mod transport;

pub use cdb::Command;
pub use client::Mmc;
pub use emu::{EmulatedDrive, Faults, HostEvent, Identity};
pub use error::{MmcError, ParseError, TransportError};
pub use sense::{Asc, Sense, SenseKey};
pub use transport::{DataBuffer, Outcome, Transport};
