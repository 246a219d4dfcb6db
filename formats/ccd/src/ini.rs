//! The INI layer of a CloneCD control file: `[Section]` headers and `Key=Value` lines, each
//! with its line number, nothing interpreted yet.
//!
//! CloneCD writes ASCII with CRLF line ends (psx-spx, "CDROM Disk Images CCD/IMG/SUB"); LF,
//! a UTF-8 BOM, Latin-1 bytes, blank lines and `;` comments are accepted too. Section and key
//! names compare case-insensitively later; here they are kept as written, trimmed.

use crate::error::{CcdError, Result};
use std::path::Path;

/// One `Key=Value` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    /// The key, as written.
    pub name: String,
    /// The value, trimmed.
    pub value: String,
    /// The line, from 1.
    pub line: usize,
}

/// A `[Section]` and the keys under it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// The text between the brackets, trimmed (`Entry 3`, `TRACK 1`).
    pub name: String,
    /// The line of the `[Section]` header, from 1.
    pub line: usize,
    /// The keys under it, in file order.
    pub keys: Vec<Key>,
}

/// Text of the control file: UTF-8 when it is, else Latin-1 (one char per byte).
fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => bytes.iter().map(|&b| b as char).collect(),
    }
}

/// Splits the control file into sections. A key before the first section, a line that is
/// neither a section nor a key, and NUL bytes are errors naming the line.
pub fn parse_ini(bytes: &[u8], path: &Path) -> Result<Vec<Section>> {
    let text = decode(bytes);
    let mut sections: Vec<Section> = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let line = i + 1;
        let err = |message: String| CcdError::Syntax {
            path: path.to_path_buf(),
            line,
            message,
        };
        let l = raw.trim_end_matches('\r').trim();
        if l.is_empty() || l.starts_with(';') {
            continue;
        }
        if l.contains('\0') {
            return Err(err("a NUL byte: this is not a text file".into()));
        }
        if let Some(rest) = l.strip_prefix('[') {
            let name = rest
                .strip_suffix(']')
                .ok_or_else(|| err(format!("section header {l:?} has no closing ']'")))?;
            sections.push(Section {
                name: name.trim().to_string(),
                line,
                keys: Vec::new(),
            });
            continue;
        }
        let Some((k, v)) = l.split_once('=') else {
            return Err(err(format!(
                "expected [Section] or Key=Value, found {:?}",
                shorten(l)
            )));
        };
        let section = sections
            .last_mut()
            .ok_or_else(|| err(format!("{:?} comes before any [Section]", shorten(l))))?;
        section.keys.push(Key {
            name: k.trim().to_string(),
            value: v.trim().to_string(),
            line,
        });
    }
    Ok(sections)
}

/// At most 60 characters of a line, for messages.
pub fn shorten(s: &str) -> String {
    if s.chars().count() <= 60 {
        s.to_string()
    } else {
        format!("{}...", s.chars().take(60).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_keys_and_lines() {
        let s = parse_ini(
            b"\xEF\xBB\xBF[CloneCD]\r\nVersion=3\r\n\r\n; note\r\n[Entry 0]\r\n Point = 0xa0 \r\n",
            Path::new("x.ccd"),
        )
        .unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].name.as_str(), s[0].line), ("CloneCD", 1));
        assert_eq!(
            s[1].keys[0],
            Key {
                name: "Point".into(),
                value: "0xa0".into(),
                line: 6
            }
        );
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse_ini(b"[CloneCD]\nVersion=3\nrubbish\n", Path::new("x.ccd")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "x.ccd: line 3: expected [Section] or Key=Value, found \"rubbish\""
        );
        let e = parse_ini(b"Version=3\n", Path::new("x.ccd")).unwrap_err();
        assert!(e.to_string().contains("line 1"), "{e}");
        let e = parse_ini(b"[Disc\n", Path::new("x.ccd")).unwrap_err();
        assert!(e.to_string().contains("no closing"), "{e}");
    }
}
