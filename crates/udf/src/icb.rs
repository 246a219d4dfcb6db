//! ICBs: file entries (ECMA-167 4/14.9, tag 261) and extended file entries (4/14.17, tag
//! 266), their ICB tag (4/14.6), allocation descriptors (4/14.14: short, long, extended) and
//! allocation extent descriptors (4/14.5), permissions (4/14.9.5) and symbolic link path
//! components (4/14.16).

use spindle_fs::{FileKind, Result, Time};

use crate::cs0::decode_cs0;
use crate::descriptors::{LbAddr, parse_timestamp};
use crate::tag::{corrupt, ident, u16le, u32le, u64le, verify_tag};

/// File types of the ICB tag (ECMA-167 4/14.6.6, UDF 2.60 2.3.5.2).
pub mod file_type {
    /// Unspecified.
    pub const UNSPECIFIED: u8 = 0;
    /// A directory.
    pub const DIRECTORY: u8 = 4;
    /// A regular file (random-access bytes).
    pub const FILE: u8 = 5;
    /// A block device.
    pub const BLOCK_DEVICE: u8 = 6;
    /// A character device.
    pub const CHAR_DEVICE: u8 = 7;
    /// A FIFO.
    pub const FIFO: u8 = 9;
    /// A socket.
    pub const SOCKET: u8 = 10;
    /// A symbolic link.
    pub const SYMLINK: u8 = 12;
    /// A stream directory (named streams).
    pub const STREAM_DIRECTORY: u8 = 13;
    /// UDF's virtual allocation table.
    pub const VAT: u8 = 248;
    /// UDF's real-time file.
    pub const REAL_TIME: u8 = 249;
    /// UDF's metadata file.
    pub const METADATA: u8 = 250;
    /// UDF's metadata mirror file.
    pub const METADATA_MIRROR: u8 = 251;
}

/// How a file's data is described: ICB flags bits 0-2 (ECMA-167 4/14.6.8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdForm {
    /// `short_ad`s (8 bytes), in the ICB's partition.
    Short,
    /// `long_ad`s (16 bytes), with their partition.
    Long,
    /// `ext_ad`s (20 bytes), with their partition and a recorded length.
    Extended,
    /// The data is in the entry itself, in place of allocation descriptors.
    Embedded,
}

/// Extent types: the top two bits of an extent length (ECMA-167 4/14.14.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExtentKind {
    /// Allocated and recorded: read from the disc.
    Recorded,
    /// Allocated but not recorded: reads as zeros.
    Unrecorded,
    /// Neither allocated nor recorded (a hole): reads as zeros.
    Sparse,
    /// The next extent of allocation descriptors (an allocation extent descriptor).
    Continuation,
}

/// One allocation descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extent {
    /// Length in bytes.
    pub len: u32,
    /// What the extent holds.
    pub kind: ExtentKind,
    /// Where it starts.
    pub loc: LbAddr,
}

/// A file entry or extended file entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileEntry {
    /// True for an extended file entry (tag 266).
    pub extended: bool,
    /// ICB strategy type (4, or 4096 for write-once media).
    pub strategy: u16,
    /// File type (see [`file_type`]).
    pub file_type: u8,
    /// ICB tag flags: allocation descriptor form (bits 0-2), setuid, setgid, sticky (bits 6-8).
    pub icb_flags: u16,
    /// Owner's user ID (0xFFFFFFFF: not set).
    pub uid: u32,
    /// Owner's group ID (0xFFFFFFFF: not set).
    pub gid: u32,
    /// UDF permission bits (see [`FileEntry::mode`]).
    pub permissions: u32,
    /// Number of FIDs naming this entry.
    pub link_count: u16,
    /// Information length: the file's size in bytes.
    pub info_len: u64,
    /// Access time.
    pub atime: Time,
    /// Modification time.
    pub mtime: Time,
    /// Attribute (status change) time.
    pub ctime: Time,
    /// Unique ID of the entry.
    pub unique_id: u64,
    /// How the data is described.
    pub form: AdForm,
    /// Major and minor device numbers of a device node (device specification extended
    /// attribute).
    pub device: Option<(u32, u32)>,
    /// The allocation descriptor bytes (or the embedded data).
    pub ad_bytes: Vec<u8>,
}

/// Parses a file entry or extended file entry from its logical block.
pub fn parse_file_entry(b: &[u8]) -> Result<FileEntry> {
    let tag = verify_tag(b, "file entry")?;
    let extended = match tag.ident {
        ident::FILE_ENTRY => false,
        ident::EXTENDED_FILE_ENTRY => true,
        other => {
            return Err(corrupt(format!(
                "file entry: tag identifier {other} is not a (extended) file entry"
            )));
        }
    };
    let base = if extended { 216 } else { 176 };
    if b.len() < base {
        return Err(corrupt("file entry: truncated"));
    }
    let (l_ea, l_ad) = if extended {
        (u32le(b, 208), u32le(b, 212))
    } else {
        (u32le(b, 168), u32le(b, 172))
    };
    let ad_start = base as u64 + l_ea as u64;
    let ad_end = ad_start + l_ad as u64;
    if ad_end > b.len() as u64 {
        return Err(corrupt(format!(
            "file entry: extended attributes ({l_ea}) and allocation descriptors ({l_ad}) overrun the block"
        )));
    }
    let icb_flags = u16le(b, 34);
    let form = match icb_flags & 7 {
        0 => AdForm::Short,
        1 => AdForm::Long,
        2 => AdForm::Extended,
        3 => AdForm::Embedded,
        f => {
            return Err(corrupt(format!(
                "file entry: unknown allocation descriptor form {f}"
            )));
        }
    };
    let t =
        |off_fe: usize, off_efe: usize| parse_timestamp(b, if extended { off_efe } else { off_fe });
    Ok(FileEntry {
        extended,
        strategy: u16le(b, 20),
        file_type: b[27],
        icb_flags,
        uid: u32le(b, 36),
        gid: u32le(b, 40),
        permissions: u32le(b, 44),
        link_count: u16le(b, 48),
        info_len: u64le(b, 56),
        atime: t(72, 80),
        mtime: t(84, 92),
        ctime: t(96, 116),
        unique_id: u64le(b, if extended { 200 } else { 160 }),
        form,
        device: device_numbers(&b[base..ad_start as usize]),
        ad_bytes: b[ad_start as usize..ad_end as usize].to_vec(),
    })
}

/// Finds the device specification extended attribute (ECMA-167 4/14.10.7, type 12) in an
/// entry's extended attribute space: an extended attribute header descriptor (4/14.10.1,
/// tag 262, 24 bytes), then attributes of type (4 bytes), subtype (1), reserved (3), length
/// (4, the whole attribute). Malformed space is ignored.
fn device_numbers(ea: &[u8]) -> Option<(u32, u32)> {
    let tag = verify_tag(ea.get(..24)?, "extended attribute header").ok()?;
    if tag.ident != ident::EA_HEADER {
        return None;
    }
    let mut at = 24usize;
    while at + 12 <= ea.len() {
        let (ty, len) = (u32le(ea, at), u32le(ea, at + 8) as usize);
        if len < 12 || at + len > ea.len() {
            return None;
        }
        if ty == 12 && len >= 24 {
            return Some((u32le(ea, at + 16), u32le(ea, at + 20)));
        }
        at += len;
    }
    None
}

impl FileEntry {
    /// The file kind for the file type (stream directories are directories, unknown types
    /// regular files).
    pub fn kind(&self) -> FileKind {
        match self.file_type {
            file_type::DIRECTORY | file_type::STREAM_DIRECTORY => FileKind::Dir,
            file_type::SYMLINK => FileKind::Symlink,
            file_type::BLOCK_DEVICE => FileKind::BlockDevice,
            file_type::CHAR_DEVICE => FileKind::CharDevice,
            file_type::FIFO => FileKind::Fifo,
            file_type::SOCKET => FileKind::Socket,
            _ => FileKind::File,
        }
    }

    /// Unix permission bits from the UDF permissions (ECMA-167 4/14.9.5: per class, bit 0
    /// execute, 1 write, 2 read, 3 change attributes, 4 delete; classes other, group,
    /// owner at bits 0, 5, 10) and the setuid/setgid/sticky ICB flags (4/14.6.8 bits 6-8).
    pub fn mode(&self) -> u32 {
        let p = self.permissions;
        let class = |shift: u32| (p >> shift) & 7;
        let mut mode = class(10) << 6 | class(5) << 3 | class(0);
        if self.icb_flags & 0x40 != 0 {
            mode |= 0o4000;
        }
        if self.icb_flags & 0x80 != 0 {
            mode |= 0o2000;
        }
        if self.icb_flags & 0x100 != 0 {
            mode |= 0o1000;
        }
        mode
    }

    /// The allocation descriptors recorded in the entry itself (not for embedded data).
    pub fn extents(&self, part: u16) -> Result<Vec<Extent>> {
        parse_allocation_descriptors(&self.ad_bytes, self.form, part)
    }
}

/// Parses a run of allocation descriptors. `part` is the partition of short_ads (that of the
/// ICB). A descriptor whose length is 0 ends the run (ECMA-167 4/12.1).
pub fn parse_allocation_descriptors(b: &[u8], form: AdForm, part: u16) -> Result<Vec<Extent>> {
    let size = match form {
        AdForm::Short => 8,
        AdForm::Long => 16,
        AdForm::Extended => 20,
        AdForm::Embedded => {
            return Err(corrupt("allocation descriptors requested of embedded data"));
        }
    };
    let mut out = Vec::with_capacity(b.len() / size);
    for d in b.chunks_exact(size) {
        let raw = u32le(d, 0);
        let len = raw & 0x3FFF_FFFF;
        if len == 0 {
            break;
        }
        let kind = match raw >> 30 {
            0 => ExtentKind::Recorded,
            1 => ExtentKind::Unrecorded,
            2 => ExtentKind::Sparse,
            _ => ExtentKind::Continuation,
        };
        match form {
            AdForm::Short => out.push(Extent {
                len,
                kind,
                loc: LbAddr {
                    lbn: u32le(d, 4),
                    part,
                },
            }),
            AdForm::Long => out.push(Extent {
                len,
                kind,
                loc: LbAddr::parse(d, 4),
            }),
            _ => {
                // extended_ad: extent length, recorded length, information length, lb_addr.
                let recorded = (u32le(d, 4) & 0x3FFF_FFFF).min(len);
                let loc = LbAddr::parse(d, 12);
                if kind == ExtentKind::Recorded && recorded < len {
                    if recorded > 0 {
                        out.push(Extent {
                            len: recorded,
                            kind,
                            loc,
                        });
                    }
                    out.push(Extent {
                        len: len - recorded,
                        kind: ExtentKind::Unrecorded,
                        loc,
                    });
                } else {
                    out.push(Extent { len, kind, loc });
                }
            }
        }
    }
    Ok(out)
}

/// Parses an allocation extent descriptor (ECMA-167 4/14.5): returns its descriptor bytes.
pub fn parse_alloc_extent(b: &[u8]) -> Result<&[u8]> {
    let tag = verify_tag(b, "allocation extent descriptor")?;
    if tag.ident != ident::ALLOC_EXTENT {
        return Err(corrupt(format!(
            "allocation extent descriptor: tag identifier {}",
            tag.ident
        )));
    }
    let len = u32le(b, 20) as usize;
    b.get(24..24usize.saturating_add(len)).ok_or_else(|| {
        corrupt(format!(
            "allocation extent descriptor: {len} bytes of descriptors overrun the extent"
        ))
    })
}

/// Decodes a symbolic link's path component records (ECMA-167 4/14.16.1; UDF 2.60 2.3.12).
pub fn parse_symlink(b: &[u8]) -> Result<String> {
    let mut out = String::new();
    let mut at = 0usize;
    while at < b.len() {
        let (Some(&ty), Some(&len)) = (b.get(at), b.get(at + 1)) else {
            return Err(corrupt("symbolic link: truncated path component"));
        };
        let Some(name) = b.get(at + 4..at + 4 + len as usize) else {
            return Err(corrupt("symbolic link: path component runs past the data"));
        };
        let part = match ty {
            1 | 2 => {
                // Root (2: the root of this file system); an absolute path.
                out.clear();
                out.push('/');
                at += 4 + len as usize;
                continue;
            }
            3 => "..".to_string(),
            4 => ".".to_string(),
            5 => decode_cs0(name),
            _ => {
                return Err(corrupt(format!(
                    "symbolic link: unknown path component type {ty}"
                )));
            }
        };
        if !out.is_empty() && !out.ends_with('/') {
            out.push('/');
        }
        out.push_str(&part);
        at += 4 + len as usize;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlink_paths() {
        let mut b = vec![1, 0, 0, 0];
        b.extend_from_slice(&[5, 4, 0, 0, 8, b'u', b's', b'r']);
        b.extend_from_slice(&[3, 0, 0, 0]);
        assert_eq!(parse_symlink(&b).unwrap(), "/usr/..");
        assert!(parse_symlink(&[5, 9, 0, 0, 8]).is_err());
        assert_eq!(
            parse_symlink(&[4, 0, 0, 0, 5, 2, 0, 0, 8, b'a']).unwrap(),
            "./a"
        );
    }

    #[test]
    fn short_ads() {
        let mut b = vec![];
        b.extend_from_slice(&(2048u32 | 1 << 31).to_le_bytes());
        b.extend_from_slice(&7u32.to_le_bytes());
        b.extend_from_slice(&[0; 8]);
        let e = parse_allocation_descriptors(&b, AdForm::Short, 3).unwrap();
        assert_eq!(
            e,
            vec![Extent {
                len: 2048,
                kind: ExtentKind::Sparse,
                loc: LbAddr { lbn: 7, part: 3 }
            }]
        );
    }
}
