//! # spindle-rip: the ripper library
//!
//! Reads physical discs through any [`spindle_mmc::Transport`] (Linux SG_IO, or the emulated
//! drive in tests): the disc layout from the drive ([`layout`]), sectors rescued in
//! ddrescue's phases with a map file that lets a rip resume ([`rescue`], [`map`]), and the
//! hashes redump datfiles list ([`hash`], [`datfile`]).

pub mod buffers;
pub mod chosen;
pub mod crc32;
pub mod datfile;
pub mod devices;
pub mod drive;
mod error;
pub mod fast_sha1;
pub mod hash;
pub mod hashing_sink;
pub mod image;
pub mod layout;
pub mod map;
pub mod rescue;
pub mod rip;

pub use error::{Result, RipError};
pub use map::{RescueMap, Status};

/// Reproducible pseudo-random bytes for the unit tests (xorshift64).
#[cfg(test)]
pub(crate) fn test_bytes(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect()
}
