//! Rock Ridge (RRIP 1.12 over SUSP 1.12) entries for one directory record: `SP` and `ER` on
//! the root's `.`, then `PX` (mode, links, owner, a serial number derived from the tree),
//! `TF` (modification, access and attribute change, all the modification time, so the image
//! does not depend on when the files were read), `NM` and `SL`.

use crate::dates;
use crate::tree::{Kind, Node, Stamp};

/// One encoded SUSP entry (signature, length, version, data).
pub type Entry = Vec<u8>;

fn entry(sig: &[u8; 2], data: &[u8]) -> Entry {
    let mut e = Vec::with_capacity(4 + data.len());
    e.extend_from_slice(sig);
    e.push((4 + data.len()) as u8);
    e.push(1);
    e.extend_from_slice(data);
    e
}

fn both32(v: u32) -> [u8; 8] {
    let mut b = [0u8; 8];
    b[..4].copy_from_slice(&v.to_le_bytes());
    b[4..].copy_from_slice(&v.to_be_bytes());
    b
}

/// `SP`: the SUSP indicator, first in the root's `.` record.
pub fn sp() -> Entry {
    entry(b"SP", &[0xBE, 0xEF, 0])
}

/// `ER`: names the extension (RRIP, as ECMA/IEEE P1282 words it), on the root's `.`.
pub fn er() -> Entry {
    const ID: &[u8] = b"RRIP_1991A";
    const DES: &[u8] =
        b"THE ROCK RIDGE INTERCHANGE PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS";
    const SRC: &[u8] = b"PLEASE CONTACT DISC PUBLISHER FOR SPECIFICATION SOURCE.  SEE PUBLISHER IDENTIFIER IN PRIMARY VOLUME DESCRIPTOR FOR CONTACT INFORMATION.";
    let mut d = vec![ID.len() as u8, DES.len() as u8, SRC.len() as u8, 1];
    d.extend_from_slice(ID);
    d.extend_from_slice(DES);
    d.extend_from_slice(SRC);
    entry(b"ER", &d)
}

/// `PX` for a node: type and permission bits, link count, owner and serial.
pub fn px(node: &Node, nlink: u32, serial: u32) -> Entry {
    let ty = match node.kind {
        Kind::Dir(_) => 0o040000,
        Kind::File(_) => 0o100000,
        Kind::Symlink(_) => 0o120000,
    };
    let mut d = Vec::with_capacity(40);
    for v in [ty | node.mode, nlink, node.uid, node.gid, serial] {
        d.extend_from_slice(&both32(v));
    }
    entry(b"PX", &d)
}

/// `TF` with the modification time as modify, access and attribute change (the 17-byte
/// form when a year falls outside 1900-2155).
pub fn tf(t: Stamp) -> Entry {
    let mut d = Vec::with_capacity(52);
    if dates::fits_short(t) {
        d.push(0x02 | 0x04 | 0x08);
        for _ in 0..3 {
            d.extend_from_slice(&dates::short(t));
        }
    } else {
        d.push(0x80 | 0x02 | 0x04 | 0x08);
        for _ in 0..3 {
            d.extend_from_slice(&dates::long(t));
        }
    }
    entry(b"TF", &d)
}

/// `NM` entries for a name (continued in pieces of 250 bytes).
pub fn nm(name: &[u8]) -> Vec<Entry> {
    let chunks: Vec<&[u8]> = name.chunks(250).collect();
    let n = chunks.len();
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let mut d = vec![u8::from(i + 1 < n)];
            d.extend_from_slice(c);
            entry(b"NM", &d)
        })
        .collect()
}

/// `SL` entries for a symlink target: components (`/` at the start is ROOT, `.` CURRENT,
/// `..` PARENT, long ones split with CONTINUE), packed into entries of at most 255 bytes.
pub fn sl(target: &[u8]) -> Vec<Entry> {
    // Component records: flags, length, text.
    let mut comps: Vec<Vec<u8>> = Vec::new();
    let rest = match target.strip_prefix(b"/") {
        Some(r) => {
            comps.push(vec![0x08, 0]);
            r
        }
        None => target,
    };
    if !rest.is_empty() || comps.is_empty() {
        for part in rest.split(|&c| c == b'/') {
            match part {
                b"." => comps.push(vec![0x02, 0]),
                b".." => comps.push(vec![0x04, 0]),
                _ => {
                    let pieces: Vec<&[u8]> = if part.is_empty() {
                        vec![part]
                    } else {
                        part.chunks(248).collect()
                    };
                    let n = pieces.len();
                    for (i, p) in pieces.into_iter().enumerate() {
                        let mut c = vec![u8::from(i + 1 < n), p.len() as u8];
                        c.extend_from_slice(p);
                        comps.push(c);
                    }
                }
            }
        }
    }
    // Entries: 4 header bytes, a flags byte, then whole components.
    let mut groups: Vec<Vec<u8>> = vec![Vec::new()];
    for c in comps {
        if 5 + groups.last().expect("one group").len() + c.len() > 255 {
            groups.push(Vec::new());
        }
        groups.last_mut().expect("one group").extend_from_slice(&c);
    }
    let n = groups.len();
    groups
        .into_iter()
        .enumerate()
        .map(|(i, g)| {
            let mut d = vec![u8::from(i + 1 < n)];
            d.extend_from_slice(&g);
            entry(b"SL", &d)
        })
        .collect()
}

/// `CE` pointing at a continuation area (`lba`, byte `offset` in it, `len` bytes).
pub fn ce(lba: u32, offset: u32, len: u32) -> Entry {
    let mut d = Vec::with_capacity(24);
    for v in [lba, offset, len] {
        d.extend_from_slice(&both32(v));
    }
    entry(b"CE", &d)
}

/// The length of a `CE` entry.
pub const CE_LEN: usize = 28;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlink_encoding() {
        let e = sl(b"/usr/../lib");
        assert_eq!(e.len(), 1);
        assert_eq!(&e[0][4..], b"\x00\x08\x00\x00\x03usr\x04\x00\x00\x03lib");
        let long = vec![b'x'; 600];
        let e = sl(&long);
        assert!(e.iter().all(|e| e.len() <= 255));
        let text: usize = e.iter().map(|e| e.len() - 5).sum();
        assert_eq!(text, 600 + 3 * 2);
    }
}
