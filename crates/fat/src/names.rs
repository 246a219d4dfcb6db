//! Long names (VFAT LFN entries) and their 8.3 aliases.
//!
//! A name that is already a valid upper-case 8.3 name is stored as a short entry alone. Any
//! other name gets long-name entries (UTF-16, case kept) plus a generated short alias: the
//! name upper-cased, characters a short name cannot hold replaced by `_`, spaces and inner
//! dots dropped, cut to 8 + 3, and given a `~N` tail when anything was lost. The tails are
//! numbered per directory in the order the names are given, so the same list of files always
//! gives the same aliases.

use std::collections::{HashMap, HashSet};

/// Characters no FAT name may hold (besides control characters).
const FORBIDDEN: &[char] = &['"', '*', '/', ':', '<', '>', '?', '\\', '|'];

/// Why a name cannot be stored, or `None` when it can.
pub fn invalid(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("empty name");
    }
    if name == "." || name == ".." {
        return Some("'.' and '..' are not names");
    }
    if name
        .chars()
        .any(|c| (c as u32) < 0x20 || FORBIDDEN.contains(&c))
    {
        return Some("holds a control character or one of \" * / : < > ? \\ | (FAT forbids them)");
    }
    if name.ends_with('.') || name.ends_with(' ') {
        return Some("ends with a dot or a space (FAT drops them, so the name would change)");
    }
    if name.encode_utf16().count() > 255 {
        return Some("longer than 255 UTF-16 units (the VFAT limit)");
    }
    None
}

/// The key names are compared by: FAT names are case-insensitive.
pub fn fold(name: &str) -> String {
    name.to_uppercase()
}

/// Whether `c` may appear in a short name as it is.
fn short_char(c: u8) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit() || b"!#$%&'()-@^_`{}~".contains(&c)
}

/// The 11-byte short form of `name` when `name` is exactly a valid upper-case 8.3 name.
pub fn exact_short(name: &str) -> Option<[u8; 11]> {
    let b = name.as_bytes();
    let (base, ext) = match name.find('.') {
        Some(i) => (&b[..i], &b[i + 1..]),
        None => (b, &b[..0]),
    };
    let ok = |p: &[u8], max| p.len() <= max && p.iter().all(|&c| short_char(c));
    if base.is_empty() || !ok(base, 8) || !ok(ext, 3) || (name.contains('.') && ext.is_empty()) {
        return None;
    }
    let mut out = [b' '; 11];
    out[..base.len()].copy_from_slice(base);
    out[8..8 + ext.len()].copy_from_slice(ext);
    // 0xE5 marks a deleted entry; a name may not start with it (0x05 stands for it). ASCII
    // names never do.
    Some(out)
}

/// One character of a name as a short-name byte: itself upper-cased, or `_` (lossy).
fn map_char(c: char, lossy: &mut bool) -> u8 {
    let u = c.to_ascii_uppercase();
    if u.is_ascii() && short_char(u as u8) {
        u as u8
    } else {
        *lossy = true;
        b'_'
    }
}

/// The basis of an alias: (base, extension, lossy).
fn basis(name: &str) -> (Vec<u8>, Vec<u8>, bool) {
    let mut lossy = false;
    let trimmed = name.trim_start_matches('.');
    if trimmed.len() != name.len() {
        lossy = true;
    }
    let (b, e) = match trimmed.rfind('.') {
        Some(i) => (&trimmed[..i], &trimmed[i + 1..]),
        None => (trimmed, ""),
    };
    let mut base = Vec::new();
    for c in b.chars() {
        if c == ' ' || c == '.' {
            lossy = true;
            continue;
        }
        base.push(map_char(c, &mut lossy));
    }
    let mut ext = Vec::new();
    for c in e.chars() {
        if c == ' ' {
            lossy = true;
            continue;
        }
        ext.push(map_char(c, &mut lossy));
    }
    if base.len() > 8 || ext.len() > 3 {
        lossy = true;
    }
    base.truncate(8);
    ext.truncate(3);
    if base.is_empty() {
        base.push(b'_');
        lossy = true;
    }
    (base, ext, lossy)
}

/// Short names handed out in one directory.
#[derive(Default)]
pub struct ShortNames {
    used: HashSet<[u8; 11]>,
    /// The next `~N` to try for each basis (a name's base and extension).
    next: HashMap<[u8; 11], u32>,
}

impl ShortNames {
    /// Reserves an exact short name (one stored without long-name entries).
    pub fn reserve(&mut self, short: [u8; 11]) {
        self.used.insert(short);
    }

    /// A fresh alias for `name`, or `None` when all 999999 tails of its basis are taken.
    pub fn alias(&mut self, name: &str) -> Option<[u8; 11]> {
        let (base, ext, lossy) = basis(name);
        let pack = |base: &[u8]| {
            let mut out = [b' '; 11];
            out[..base.len()].copy_from_slice(base);
            out[8..8 + ext.len()].copy_from_slice(&ext);
            out
        };
        if !lossy {
            let s = pack(&base);
            if self.used.insert(s) {
                return Some(s);
            }
        }
        let key = pack(&base);
        let mut n = *self.next.get(&key).unwrap_or(&1);
        while n <= 999_999 {
            let tail = format!("~{n}");
            let keep = base.len().min(8 - tail.len());
            let mut b = base[..keep].to_vec();
            b.extend_from_slice(tail.as_bytes());
            let s = pack(&b);
            n += 1;
            if self.used.insert(s) {
                self.next.insert(key, n);
                return Some(s);
            }
        }
        None
    }
}

/// The checksum of a short name that each of its long-name entries carries.
pub fn checksum(short: &[u8; 11]) -> u8 {
    short
        .iter()
        .fold(0u8, |sum, &c| sum.rotate_right(1).wrapping_add(c))
}

/// The long-name entries for `name`, in the order they are stored (the last part first),
/// each 32 bytes.
pub fn lfn_entries(name: &str, short: &[u8; 11]) -> Vec<[u8; 32]> {
    let mut units: Vec<u16> = name.encode_utf16().collect();
    let count = units.len().div_ceil(13);
    if !units.len().is_multiple_of(13) {
        units.push(0);
    }
    units.resize(count * 13, 0xFFFF);
    let sum = checksum(short);
    let mut out = Vec::with_capacity(count);
    for seq in (1..=count).rev() {
        let part = &units[(seq - 1) * 13..seq * 13];
        let mut e = [0u8; 32];
        e[0] = seq as u8 | if seq == count { 0x40 } else { 0 };
        e[11] = 0x0F;
        e[13] = sum;
        let slots = (1..11)
            .step_by(2)
            .chain((14..26).step_by(2))
            .chain((28..32).step_by(2));
        for (slot, u) in slots.zip(part) {
            e[slot..slot + 2].copy_from_slice(&u.to_le_bytes());
        }
        out.push(e);
    }
    out
}

/// How many 32-byte entries `name` takes: its long-name entries (if any) and the short one.
pub fn entry_count(name: &str) -> usize {
    if exact_short(name).is_some() {
        1
    } else {
        name.encode_utf16().count().div_ceil(13) + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &[u8; 11]) -> String {
        String::from_utf8_lossy(x).into_owned()
    }

    #[test]
    fn exact_names() {
        assert_eq!(
            exact_short("BOOTMGR").map(|x| s(&x)).as_deref(),
            Some("BOOTMGR    ")
        );
        assert_eq!(
            exact_short("A.TXT").map(|x| s(&x)).as_deref(),
            Some("A       TXT")
        );
        assert!(exact_short("a.txt").is_none());
        assert!(exact_short("TOOLONGNAME").is_none());
        assert!(exact_short("A.B.C").is_none());
        assert!(exact_short("A.").is_none());
        assert!(exact_short(".A").is_none());
        assert!(exact_short("A+B").is_none());
    }

    #[test]
    fn aliases_are_deterministic_and_unique() {
        let mut n = ShortNames::default();
        assert_eq!(s(&n.alias("readme.txt").unwrap()), "README  TXT");
        assert_eq!(s(&n.alias("install.wim.bak").unwrap()), "INSTAL~1BAK");
        assert_eq!(s(&n.alias("Program Files").unwrap()), "PROGRA~1   ");
        assert_eq!(s(&n.alias("Program Filez").unwrap()), "PROGRA~2   ");
        assert_eq!(s(&n.alias("Ünïcode ✓.txt").unwrap()), "_N_COD~1TXT");
        assert_eq!(s(&n.alias(".config").unwrap()), "CONFIG~1   ");
        let mut m = ShortNames::default();
        let all: HashSet<_> = (0..20_000)
            .map(|i| m.alias(&format!("longfilename {i}.data")).unwrap())
            .collect();
        assert_eq!(all.len(), 20_000);
    }

    #[test]
    fn lfn_layout() {
        let short = *b"READ    TXT";
        let e = lfn_entries("read.txt", &short);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0][0], 0x41);
        assert_eq!(e[0][11], 0x0F);
        assert_eq!(&e[0][1..3], &[b'r', 0]);
        // The terminator follows the 8 units, then 0xFFFF padding.
        assert_eq!(&e[0][18..20], &[b't', 0]);
        assert_eq!(&e[0][20..22], &[0, 0]);
        assert_eq!(&e[0][22..24], &[0xFF, 0xFF]);
        // 13 units exactly: no terminator, one entry.
        assert_eq!(lfn_entries("abcdefghijklm", &short).len(), 1);
        assert_eq!(lfn_entries("abcdefghijklmn", &short).len(), 2);
        assert_eq!(lfn_entries("abcdefghijklmn", &short)[0][0], 0x42);
    }

    #[test]
    fn invalid_names() {
        assert!(invalid("a:b").is_some());
        assert!(invalid("dot.").is_some());
        assert!(invalid(&"x".repeat(256)).is_some());
        assert!(invalid("fine name ✓.txt").is_none());
    }
}
