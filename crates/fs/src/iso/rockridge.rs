//! Rock Ridge (RRIP 1.09/1.10/1.12) entries interpreted: POSIX attributes (PX), device numbers
//! (PN), symbolic links (SL), alternate names (NM), timestamps (TF), relocated directories
//! (CL/PL/RE) and zisofs compression (ZF).
//!
//! [`RockRidge::from_entries`] is pure (fuzzable): it takes entries from
//! [`parse_susp`](crate::iso::susp::parse_susp) and never fails; out-of-range fields are ignored,
//! except a `ZF` entry too short to hold its parameters, which is reported in
//! [`RockRidge::bad_zf`]: ignoring it would hand out a compressed file's stored bytes as its
//! content.

use crate::api::Time;
use crate::iso::record::{decode_dec_time, decode_record_time, le32};
use crate::iso::susp::SuspEntry;

/// zisofs parameters from a `ZF` entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ZfInfo {
    /// Header size in bytes (the entry stores 4-byte words).
    pub header_size: u32,
    /// Log2 of the uncompressed block size (15..=17).
    pub log2_block: u8,
    /// The file's uncompressed size in bytes.
    pub uncompressed_size: u32,
}

/// Everything Rock Ridge says about one directory record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RockRidge {
    /// `PX` seen.
    pub has_px: bool,
    /// Full `st_mode` (type bits included).
    pub mode: u32,
    /// `PX` number of links.
    pub nlink: u32,
    /// `PX` user id.
    pub uid: u32,
    /// `PX` group id.
    pub gid: u32,
    /// `PX` file serial number (RRIP 1.12), if given.
    pub ino: Option<u32>,
    /// `PN` device number in Linux `makedev` encoding.
    pub rdev: Option<u64>,
    /// `NM` name, continuations joined; `None` when there is no NM.
    pub name: Option<Vec<u8>>,
    /// `NM` with the CURRENT or PARENT flag.
    pub name_is_dot: bool,
    /// `SL` target, components and continuations joined.
    pub symlink: Option<Vec<u8>>,
    /// `TF` modification time.
    pub mtime: Option<Time>,
    /// `TF` access time.
    pub atime: Option<Time>,
    /// `TF` attribute change time.
    pub ctime: Option<Time>,
    /// `TF` creation time.
    pub birth: Option<Time>,
    /// `CL`: this entry stands for a directory relocated to this block.
    pub child_link: Option<u32>,
    /// `PL`: the `..` of a relocated directory points to this block.
    pub parent_link: Option<u32>,
    /// `RE`: this is the relocated directory itself (hidden; reached through its `CL`).
    pub relocated: bool,
    /// `ZF`: the file's content is zisofs-compressed with these parameters.
    pub zf: Option<ZfInfo>,
    /// Total length of a `ZF` entry too short for its 12 parameter bytes (the entry is 16
    /// bytes long; libarchive's `test_read_format_iso_rockridge_zf_overflow` has one of 5).
    pub bad_zf: Option<usize>,
    /// Any Rock Ridge entry at all (PX, NM, SL, TF, PN, CL, PL, RE, ZF, RR).
    pub any: bool,
}

/// Mask of the file type bits of a POSIX `st_mode`.
pub const S_IFMT: u32 = 0o170000;
/// File type bits of a directory.
pub const S_IFDIR: u32 = 0o040000;
/// File type bits of a symbolic link.
pub const S_IFLNK: u32 = 0o120000;
/// File type bits of a character device.
pub const S_IFCHR: u32 = 0o020000;
/// File type bits of a block device.
pub const S_IFBLK: u32 = 0o060000;
/// File type bits of a FIFO.
pub const S_IFIFO: u32 = 0o010000;
/// File type bits of a socket.
pub const S_IFSOCK: u32 = 0o140000;

impl RockRidge {
    /// Interprets the SUSP entries of one directory record (continuations already followed);
    /// unknown entries and out-of-range fields are ignored.
    pub fn from_entries(entries: &[SuspEntry]) -> RockRidge {
        let mut b = RrBuilder::default();
        for e in entries {
            b.push(e.sig, &e.data);
        }
        b.rr
    }
}

/// Builds a [`RockRidge`] one SUSP entry at a time (state for continued `NM` and `SL`).
#[derive(Default)]
pub(crate) struct RrBuilder {
    /// What the entries pushed so far say.
    pub rr: RockRidge,
    name_cont: bool,
    sl_state: SlState,
}

impl RrBuilder {
    /// Interprets one entry: its signature and its data after the 4-byte header.
    pub fn push(&mut self, sig: [u8; 2], d: &[u8]) {
        let rr = &mut self.rr;
        let name_cont = &mut self.name_cont;
        let sl_state = &mut self.sl_state;
        {
            match &sig {
                b"PX" if d.len() >= 32 => {
                    rr.any = true;
                    rr.has_px = true;
                    rr.mode = le32(&d[0..4]);
                    rr.nlink = le32(&d[8..12]);
                    rr.uid = le32(&d[16..20]);
                    rr.gid = le32(&d[24..28]);
                    if d.len() >= 40 {
                        rr.ino = Some(le32(&d[32..36]));
                    }
                }
                b"PN" if d.len() >= 16 => {
                    rr.any = true;
                    let (hi, lo) = (le32(&d[0..4]) as u64, le32(&d[8..12]) as u64);
                    // glibc makedev(major, minor).
                    rr.rdev = Some(
                        ((hi & 0xffff_f000) << 32)
                            | ((hi & 0xfff) << 8)
                            | ((lo & 0xffff_ff00) << 12)
                            | (lo & 0xff),
                    );
                }
                b"NM" if !d.is_empty() => {
                    rr.any = true;
                    let flags = d[0];
                    if flags & 0x06 != 0 {
                        rr.name_is_dot = true;
                        return;
                    }
                    let name = rr.name.get_or_insert_with(Vec::new);
                    if !*name_cont {
                        // A fresh NM after a finished one replaces nothing: RRIP says one
                        // name; the first complete one wins (libisofs behaves the same).
                        if !name.is_empty() {
                            return;
                        }
                    }
                    name.extend_from_slice(&d[1..]);
                    *name_cont = flags & 0x01 != 0;
                }
                b"SL" if !d.is_empty() => {
                    rr.any = true;
                    let target = rr.symlink.get_or_insert_with(Vec::new);
                    sl_state.push(target, d);
                }
                b"TF" if !d.is_empty() => {
                    rr.any = true;
                    let flags = d[0];
                    let long = flags & 0x80 != 0;
                    let size = if long { 17 } else { 7 };
                    let mut pos = 1;
                    for bit in 0..7 {
                        if flags & (1 << bit) == 0 {
                            continue;
                        }
                        let Some(b) = d.get(pos..pos + size) else {
                            break;
                        };
                        pos += size;
                        let t = if long {
                            decode_dec_time(b)
                        } else {
                            decode_record_time(b)
                        };
                        match bit {
                            0 => rr.birth = Some(t),
                            1 => rr.mtime = Some(t),
                            2 => rr.atime = Some(t),
                            3 => rr.ctime = Some(t),
                            _ => {} // backup, expiration, effective
                        }
                    }
                }
                b"CL" if d.len() >= 8 => {
                    rr.any = true;
                    rr.child_link = Some(le32(&d[0..4]));
                }
                b"PL" if d.len() >= 8 => {
                    rr.any = true;
                    rr.parent_link = Some(le32(&d[0..4]));
                }
                b"RE" => {
                    rr.any = true;
                    rr.relocated = true;
                }
                b"RR" => rr.any = true,
                // "pz" is zisofs; header size in 4-byte words, log2 block size, size both-endian.
                b"ZF" if d.len() >= 12 && &d[0..2] == b"pz" => {
                    rr.any = true;
                    rr.zf = Some(ZfInfo {
                        header_size: d[2] as u32 * 4,
                        log2_block: d[3],
                        uncompressed_size: le32(&d[4..8]),
                    });
                }
                b"ZF" if d.len() < 12 => {
                    rr.any = true;
                    rr.bad_zf.get_or_insert(d.len() + 4);
                }
                _ => {}
            }
        }
    }
}

/// Joins `SL` components across entries (RRIP §4.1.3.1), as Linux `get_symlink_chunk` does:
/// components are separated by `/` unless a component has the CONTINUE flag; ROOT is `/`,
/// CURRENT `.`, PARENT `..`.
#[derive(Default)]
struct SlState {
    /// The previous SL entry ended with an unfinished component or asked for more.
    pending_sep: bool,
}

impl SlState {
    fn push(&mut self, target: &mut Vec<u8>, d: &[u8]) {
        let entry_continues = d[0] & 1 != 0;
        let mut pos = 1;
        if self.pending_sep {
            target.push(b'/');
            self.pending_sep = false;
        }
        while pos + 2 <= d.len() {
            let flags = d[pos];
            let len = d[pos + 1] as usize;
            let Some(text) = d.get(pos + 2..pos + 2 + len) else {
                break;
            };
            pos += 2 + len;
            let mut root = false;
            match flags & !1 {
                0 => target.extend_from_slice(text),
                2 => target.push(b'.'),
                4 => target.extend_from_slice(b".."),
                8 => {
                    root = true;
                    target.push(b'/');
                }
                _ => target.extend_from_slice(text),
            }
            let last = pos + 2 > d.len();
            if last {
                if entry_continues && flags & 1 == 0 && !root {
                    self.pending_sep = true;
                }
                break;
            }
            if !root && flags & 1 == 0 {
                target.push(b'/');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(sig: &[u8; 2], data: &[u8]) -> SuspEntry {
        SuspEntry {
            sig: *sig,
            version: 1,
            data: data.to_vec(),
        }
    }

    #[test]
    fn symlink_components() {
        // "/usr/../lib" over two entries, the second component continued.
        let rr = RockRidge::from_entries(&[
            e(b"SL", b"\x01\x08\x00\x00\x03usr\x04\x00"),
            e(b"SL", b"\x00\x01\x02li\x00\x01b"),
        ]);
        assert_eq!(rr.symlink.unwrap(), b"/usr/../lib");
        let rr = RockRidge::from_entries(&[e(b"SL", b"\x00\x02\x00\x00\x01a")]);
        assert_eq!(rr.symlink.unwrap(), b"./a");
    }

    #[test]
    fn names_continue() {
        let rr = RockRidge::from_entries(&[e(b"NM", b"\x01abc"), e(b"NM", b"\x00def")]);
        assert_eq!(rr.name.unwrap(), b"abcdef");
        let rr = RockRidge::from_entries(&[e(b"NM", b"\x02")]);
        assert!(rr.name_is_dot && rr.name.is_none());
    }

    fn both(v: u32) -> Vec<u8> {
        [v.to_le_bytes(), v.to_be_bytes()].concat()
    }

    #[test]
    fn px_pn_tf_cl_re_zf() {
        let mut px = Vec::new();
        for v in [0o100644u32, 3, 1000, 100, 77] {
            px.extend(both(v));
        }
        let pn = [both(8), both(0x10001)].concat();
        // Long-form TF with MODIFY and ACCESS: 2000-01-02 03:04:05.06 at GMT+1 (4 quarters).
        let mut tf = vec![0x80 | 0x02 | 0x04];
        for _ in 0..2 {
            tf.extend_from_slice(b"2000010203040506\x04");
        }
        let zf = [&b"pz\x04\x0f"[..], &both(100_000)].concat();
        let rr = RockRidge::from_entries(&[
            e(b"PX", &px),
            e(b"PN", &pn),
            e(b"TF", &tf),
            e(b"CL", &both(40)),
            e(b"RE", b""),
            e(b"ZF", &zf),
        ]);
        assert!(rr.has_px && rr.any && rr.relocated);
        assert_eq!(
            (rr.mode, rr.nlink, rr.uid, rr.gid, rr.ino),
            (0o100644, 3, 1000, 100, Some(77))
        );
        // glibc makedev(8, 0x10001): minor bits 8.. move up by 12.
        assert_eq!(rr.rdev, Some((8 << 8) | 0x01 | (0x10000 << 12)));
        assert_eq!(rr.mtime.unwrap().secs, 946_782_245 - 3600);
        assert_eq!(rr.mtime.unwrap().nanos, 60_000_000);
        assert!(rr.atime.is_some() && rr.ctime.is_none() && rr.birth.is_none());
        assert_eq!(rr.child_link, Some(40));
        assert_eq!(
            rr.zf,
            Some(ZfInfo {
                header_size: 16,
                log2_block: 15,
                uncompressed_size: 100_000
            })
        );
    }

    #[test]
    fn short_fields_are_ignored() {
        let rr =
            RockRidge::from_entries(&[e(b"PX", b"\x01"), e(b"TF", b"\x0f\x01"), e(b"ZF", b"pz")]);
        assert!(!rr.has_px && rr.mtime.is_none() && rr.zf.is_none());
        // ...but a truncated ZF is reported, not ignored.
        assert_eq!(rr.bad_zf, Some(6));
        let rr = RockRidge::from_entries(&[e(b"ZF", b"p")]);
        assert_eq!((rr.zf, rr.bad_zf), (None, Some(5)));
        let zf = [&b"pz\x04\x0f"[..], &both(1)].concat();
        assert_eq!(RockRidge::from_entries(&[e(b"ZF", &zf)]).bad_zf, None);
    }
}
