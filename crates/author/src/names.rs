//! Names in the two namespaces besides Rock Ridge's: ISO 9660 identifiers (d-characters,
//! made unique per directory with a counter, as Rock Ridge and Joliet carry the real names)
//! and Joliet names (UTF-16 big-endian, at most 103 units; a collision after mapping is an
//! error, since Joliet is what Windows shows).

use std::collections::{HashMap, HashSet};

/// Longest ISO 9660 file identifier without the `;1` version (levels 2 and 3: 30 for
/// name, dot and extension; 31 for a directory).
const ISO_FILE_MAX: usize = 30;
const ISO_DIR_MAX: usize = 31;
/// Longest extension kept.
const ISO_EXT_MAX: usize = 8;
/// Joliet names: 103 UTF-16 units (206 bytes), what `xorriso -joliet-long` allows.
pub const JOLIET_MAX: usize = 103;

fn d_chars(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match c {
            'a'..='z' => c.to_ascii_uppercase() as u8,
            'A'..='Z' | '0'..='9' | '_' => c as u8,
            _ => b'_',
        })
        .collect()
}

/// ISO 9660 identifiers for the entries of one directory, in the order given: `(name,
/// is_dir)`. Files are `NAME.EXT;1` (`NAME.;1` without an extension), directories `NAME`.
pub fn iso_names<'a>(entries: impl Iterator<Item = (&'a str, bool)>) -> Vec<Vec<u8>> {
    let mut used = HashSet::new();
    // The next counter to try for a base that collided (so many alike names stay linear).
    let mut next: HashMap<(Vec<u8>, Vec<u8>), u32> = HashMap::new();
    let mut out = Vec::new();
    for (name, dir) in entries {
        let (base, ext) = if dir {
            (d_chars(name), Vec::new())
        } else {
            match name.rfind('.').filter(|&i| i > 0) {
                Some(i) => {
                    let mut ext = d_chars(&name[i + 1..]);
                    ext.truncate(ISO_EXT_MAX);
                    (d_chars(&name[..i]), ext)
                }
                None => (d_chars(name), Vec::new()),
            }
        };
        let room = if dir {
            ISO_DIR_MAX
        } else {
            ISO_FILE_MAX - 1 - ext.len()
        };
        let mut base = base;
        if base.is_empty() && (dir || ext.is_empty()) {
            base.push(b'_');
        }
        let key = (base[..base.len().min(room)].to_vec(), ext.clone());
        let mut n = next.get(&key).copied().unwrap_or(0);
        let id = loop {
            let mut b = base.clone();
            if n == 0 {
                b.truncate(room);
            } else {
                let tag = n.to_string().into_bytes();
                b.truncate(room.saturating_sub(tag.len()));
                b.extend_from_slice(&tag);
            }
            let mut id = b;
            if !dir {
                id.push(b'.');
                id.extend_from_slice(&ext);
                id.extend_from_slice(b";1");
            }
            if used.insert(id.clone()) {
                break id;
            }
            n += 1;
        };
        next.insert(key, n + 1);
        out.push(id);
    }
    out
}

/// The order of ISO 9660 directory records (ECMA-119 9.3): by name, then extension, each
/// padded with spaces (which sort below every d-character, so slice order does it).
pub fn iso_order(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    fn split(id: &[u8]) -> (&[u8], &[u8]) {
        let id = id.split(|&c| c == b';').next().unwrap_or(id);
        match id.iter().position(|&c| c == b'.') {
            Some(i) => (&id[..i], &id[i + 1..]),
            None => (id, &[][..]),
        }
    }
    split(a).cmp(&split(b))
}

/// A Joliet name: UTF-16 big-endian, with `* / : ; ? \` and control characters as `_`,
/// cut to [`JOLIET_MAX`] units (never inside a surrogate pair).
pub fn joliet_name(name: &str) -> Vec<u8> {
    let mut units: Vec<u16> = Vec::new();
    for c in name.chars() {
        let c = match c {
            '*' | '/' | ':' | ';' | '?' | '\\' => '_',
            c if (c as u32) < 0x20 => '_',
            c => c,
        };
        let mut buf = [0u16; 2];
        let enc = c.encode_utf16(&mut buf);
        if units.len() + enc.len() > JOLIET_MAX {
            break;
        }
        units.extend_from_slice(enc);
    }
    units.iter().flat_map(|u| u.to_be_bytes()).collect()
}

/// A Joliet string field (volume identifier and the like): UTF-16 big-endian, cut to
/// `bytes` and padded with UCS-2 spaces.
pub fn joliet_field(s: &str, bytes: usize) -> Vec<u8> {
    let mut out: Vec<u8> = s
        .encode_utf16()
        .take(bytes / 2)
        .flat_map(|u| u.to_be_bytes())
        .collect();
    while out.len() + 2 <= bytes {
        out.extend_from_slice(&[0, 0x20]);
    }
    out.resize(bytes, 0);
    out
}

/// An ISO 9660 a-character field (volume identifier and the like): ASCII graphic characters
/// kept (lower case raised), others `_`, cut to `bytes` and padded with spaces.
pub fn a_field(s: &str, bytes: usize) -> Vec<u8> {
    let mut out: Vec<u8> = s
        .chars()
        .map(|c| match c {
            ' ' => b' ',
            c if c.is_ascii_graphic() => c.to_ascii_uppercase() as u8,
            _ => b'_',
        })
        .take(bytes)
        .collect();
    out.resize(bytes, b' ');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_identifiers() {
        let ids = iso_names(
            [
                ("readme.txt", false),
                ("README.TXT", false),
                ("a.tar.gz", false),
                (".bashrc", false),
                ("lib", true),
                ("x.y", true),
            ]
            .into_iter(),
        );
        let ids: Vec<String> = ids
            .into_iter()
            .map(|i| String::from_utf8(i).unwrap())
            .collect();
        assert_eq!(
            ids,
            [
                "README.TXT;1",
                "README1.TXT;1",
                "A_TAR.GZ;1",
                "_BASHRC.;1",
                "LIB",
                "X_Y"
            ]
        );
        let long = "x".repeat(200);
        let ids = iso_names([(long.as_str(), false), (long.as_str(), false)].into_iter());
        assert_eq!(ids[0].len(), 30 + 2);
        assert_ne!(ids[0], ids[1]);
        // 20,000 names alike in their first 30 characters: all distinct, quickly.
        let names: Vec<String> = (0..20_000)
            .map(|i| format!("{}{i}", "p".repeat(40)))
            .collect();
        let ids = iso_names(names.iter().map(|n| (n.as_str(), false)));
        let set: HashSet<&Vec<u8>> = ids.iter().collect();
        assert_eq!(set.len(), 20_000);
        assert!(ids.iter().all(|i| i.len() <= 32));
    }

    #[test]
    fn joliet_cut() {
        let n = joliet_name(&"é".repeat(200));
        assert_eq!(n.len(), 206);
        // A character outside the BMP is never cut in half.
        let n = joliet_name(&format!("{}😀", "a".repeat(102)));
        assert_eq!(n.len(), 204);
        assert_eq!(joliet_name("a:b"), [0, b'a', 0, b'_', 0, b'b']);
    }
}
