//! File identifier descriptors (ECMA-167 4/14.4): the entries of a directory's data.

use spindle_fs::Result;

use crate::cs0::decode_cs0;
use crate::descriptors::LongAd;
use crate::tag::{corrupt, ident, u16le, verify_tag};

/// File characteristics bits (ECMA-167 4/14.4.3).
pub mod characteristics {
    /// Existence bit: the entry is hidden from the user.
    pub const HIDDEN: u8 = 0x01;
    /// The entry is a directory.
    pub const DIRECTORY: u8 = 0x02;
    /// The entry is deleted.
    pub const DELETED: u8 = 0x04;
    /// The entry names the parent directory.
    pub const PARENT: u8 = 0x08;
    /// The entry is implementation metadata (ECMA-167 4/14.4.3 bit 4).
    pub const METADATA: u8 = 0x10;
}

/// One file identifier descriptor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fid {
    /// File characteristics (see [`characteristics`]).
    pub characteristics: u8,
    /// The file's ICB.
    pub icb: LongAd,
    /// The decoded name (empty for the parent entry).
    pub name: String,
}

impl Fid {
    /// True when the entry is deleted.
    pub fn is_deleted(&self) -> bool {
        self.characteristics & characteristics::DELETED != 0
    }
    /// True when the entry names the parent directory.
    pub fn is_parent(&self) -> bool {
        self.characteristics & characteristics::PARENT != 0
    }
    /// True when the entry is a directory.
    pub fn is_dir(&self) -> bool {
        self.characteristics & characteristics::DIRECTORY != 0
    }
    /// True when the entry is hidden.
    pub fn is_hidden(&self) -> bool {
        self.characteristics & characteristics::HIDDEN != 0
    }
}

/// Parses the FID at the start of `b`; returns it and its padded length (a multiple of 4).
pub fn parse_fid(b: &[u8]) -> Result<(Fid, usize)> {
    if b.len() < 38 {
        return Err(corrupt("file identifier descriptor: truncated"));
    }
    let l_fi = b[19] as usize;
    let l_iu = u16le(b, 36) as usize;
    let used = 38 + l_iu + l_fi;
    let padded = (used + 3) & !3;
    let Some(desc) = b.get(..used) else {
        return Err(corrupt(
            "file identifier descriptor: runs past the directory",
        ));
    };
    // The CRC covers the padding too (ECMA-167 4/14.4.10; 3/7.2.6).
    let tag = verify_tag(&b[..padded.min(b.len())], "file identifier descriptor")?;
    if tag.ident != ident::FILE_IDENTIFIER {
        return Err(corrupt(format!(
            "file identifier descriptor: tag identifier {}",
            tag.ident
        )));
    }
    let fid = Fid {
        characteristics: b[18],
        icb: LongAd::parse(b, 20),
        name: decode_cs0(&desc[38 + l_iu..]),
    };
    Ok((fid, padded.min(b.len())))
}

/// Parses all the FIDs of a directory's data. Trailing zero bytes (padding some writers
/// leave) end the list; anything else that is not a FID is an error.
pub fn parse_fids(mut b: &[u8]) -> Result<Vec<Fid>> {
    let mut out = Vec::new();
    while !b.is_empty() {
        if b.iter().all(|&c| c == 0) {
            break;
        }
        let (fid, len) = parse_fid(b)?;
        out.push(fid);
        b = &b[len..];
    }
    Ok(out)
}
