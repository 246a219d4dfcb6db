//! The meaning of a CloneCD control file's sections: [`Ccd`], as written, with every value
//! range-checked and every error naming its line. [`crate::build`] turns it into a disc.
//!
//! Sections (psx-spx "CDROM Disk Images CCD/IMG/SUB", libmirage `image-ccd/parser.c`):
//! - `[CloneCD] Version=3`;
//! - `[Disc] TocEntries Sessions DataTracksScrambled CDTextLength CATALOG`;
//! - `[CDText] Entries=n`, `Entry k=` 16 hex bytes (a CD-TEXT pack without its CRC);
//! - `[Session n] PreGapMode PreGapSubC` (read and ignored);
//! - `[Entry n]`: one raw full-TOC entry: `Session Point ADR Control TrackNo AMin ASec AFrame
//!   ALBA Zero PMin PSec PFrame PLBA` (numbers decimal or `0x` hex; PLBA is the P field as an
//!   LBA, so the index-1 address of a track entry and the lead-out of an A2 entry);
//! - `[TRACK n] MODE INDEX 0 INDEX 1 (INDEX 2...) ISRC FLAGS`.
//!
//! Unknown sections and keys are ignored (later CloneCD versions add some).

use crate::error::{CcdError, Result};
use crate::ini::{Key, Section, parse_ini};
use spindle_disc::{Isrc, Mcn, TrackFlags};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Most `[Entry]` sections taken (a full TOC has A0/A1/A2 + 99 tracks + B0/C0 per session).
pub const MAX_ENTRIES: usize = 1000;
/// Most CD-TEXT packs taken (8 blocks of 256).
pub const MAX_CDTEXT_PACKS: usize = 2048;

/// One `[Entry n]`: a raw full-TOC entry (MSF fields binary).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// `n` of the section name `[Entry n]`.
    pub number: u32,
    /// The line of the section header, from 1.
    pub line: usize,
    /// `Session=`: the session the entry belongs to.
    pub session: u8,
    /// `Point=`: the track number, or a lead-in pointer (A0, A1, A2, B0, C0...).
    pub point: u8,
    /// `ADR=`: the Q mode of the entry (1 for track and lead-in pointers).
    pub adr: u8,
    /// `Control=`: the Q CONTROL nibble (bit 2: data track).
    pub control: u8,
    /// `TrackNo=`: 0 in the lead-in, where every entry is stored.
    pub track_no: u8,
    /// `AMin=`: minutes of the running time in the lead-in.
    pub amin: u8,
    /// `ASec=`: seconds of the running time in the lead-in.
    pub asec: u8,
    /// `AFrame=`: frames of the running time in the lead-in.
    pub aframe: u8,
    /// `ALBA=`: the running time as an LBA, when given.
    pub alba: Option<i32>,
    /// `Zero=`: the byte between the two times, as stored.
    pub zero: u8,
    /// `PMin=`: minutes of the pointed-to address.
    pub pmin: u8,
    /// `PSec=`: seconds of the pointed-to address.
    pub psec: u8,
    /// `PFrame=`: frames of the pointed-to address.
    pub pframe: u8,
    /// `PLBA=`: the pointed-to address as an LBA, when given.
    pub plba: Option<i32>,
}

impl Entry {
    /// The P address as an LBA: PLBA when given, else from PMin/PSec/PFrame
    /// (`(M*60+S)*75+F-150`, CloneCD's formula).
    pub fn p_lba(&self) -> i32 {
        self.plba.unwrap_or_else(|| {
            (self.pmin as i32 * 60 + self.psec as i32) * 75 + self.pframe as i32 - 150
        })
    }
    /// A track entry: ADR 1, point 1..=99.
    pub fn is_track(&self) -> bool {
        self.adr == 1 && (1..=99).contains(&self.point)
    }
}

/// One `[TRACK n]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrackSection {
    /// `n` of the section name `[TRACK n]`.
    pub number: u8,
    /// The line of the section header, from 1.
    pub line: usize,
    /// 0 audio, 1 Mode 1, 2 Mode 2 (unreliable: CloneCD images exist where it lies).
    pub mode: Option<u8>,
    /// `INDEX n=` values, as written (absolute LBAs from CloneCD; see `build`).
    pub indexes: BTreeMap<u8, i32>,
    /// `ISRC=`, when given.
    pub isrc: Option<Isrc>,
    /// Flags named by `FLAGS=` (DCP, 4CH, PRE, SCMS).
    pub flags: TrackFlags,
}

/// A parsed control file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ccd {
    /// The control file, for messages.
    pub path: PathBuf,
    /// `[CloneCD] Version=`, when given.
    pub version: Option<u32>,
    /// `[Disc] TocEntries=` and its line: how many `[Entry]` sections follow.
    pub toc_entries: Option<(u32, usize)>,
    /// `[Disc] Sessions=` and its line.
    pub sessions: Option<(u32, usize)>,
    /// `[Disc] DataTracksScrambled=1`: data sectors are stored scrambled.
    pub data_tracks_scrambled: bool,
    /// `[Disc] CDTextLength=` and its line: bytes of CD-TEXT packs.
    pub cdtext_length: Option<(u32, usize)>,
    /// `[Disc] CATALOG=`: the media catalogue number, when given.
    pub catalog: Option<Mcn>,
    /// CD-TEXT packs, 18 bytes each, CRC bytes zero (CloneCD does not store them).
    pub cdtext: Vec<u8>,
    /// Entries in file order.
    pub entries: Vec<Entry>,
    /// The `[TRACK n]` sections, by track number.
    pub tracks: BTreeMap<u8, TrackSection>,
}

struct Ctx<'a> {
    path: &'a Path,
}

impl Ctx<'_> {
    fn err(&self, line: usize, message: String) -> CcdError {
        CcdError::Syntax {
            path: self.path.to_path_buf(),
            line,
            message,
        }
    }
    /// A signed number, decimal or `0x` hex.
    fn int(&self, k: &Key) -> Result<i64> {
        let v = k.value.as_str();
        let (neg, digits) = match v.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, v.strip_prefix('+').unwrap_or(v)),
        };
        let parsed = match digits
            .strip_prefix("0x")
            .or_else(|| digits.strip_prefix("0X"))
        {
            Some(hex) if !hex.is_empty() && hex.len() <= 8 => i64::from_str_radix(hex, 16).ok(),
            Some(_) => None,
            None if !digits.is_empty()
                && digits.len() <= 10
                && digits.bytes().all(|b| b.is_ascii_digit()) =>
            {
                digits.parse().ok()
            }
            None => None,
        };
        let n =
            parsed.ok_or_else(|| self.err(k.line, format!("{}={v:?} is not a number", k.name)))?;
        Ok(if neg { -n } else { n })
    }
    fn ranged(&self, k: &Key, lo: i64, hi: i64) -> Result<i64> {
        let n = self.int(k)?;
        if n < lo || n > hi {
            return Err(self.err(
                k.line,
                format!("{}={} is out of range ({lo}..={hi})", k.name, k.value),
            ));
        }
        Ok(n)
    }
    fn byte(&self, k: &Key) -> Result<u8> {
        Ok(self.ranged(k, 0, 255)? as u8)
    }
    fn lba(&self, k: &Key) -> Result<i32> {
        // Lead-in start to far past any CD; keeps arithmetic inside i32.
        Ok(self.ranged(
            k,
            spindle_disc::MIN_LBA.0 as i64,
            spindle_disc::MAX_LBA.0 as i64,
        )? as i32)
    }
}

/// `"Entry 3"` → 3 when the section name is `word` followed by a number.
fn numbered(name: &str, word: &str) -> Option<Option<u32>> {
    let rest = name
        .get(..word.len())
        .filter(|p| p.eq_ignore_ascii_case(word))
        .map(|_| &name[word.len()..])?;
    let rest = rest.trim();
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) || rest.len() > 6 {
        return Some(None);
    }
    Some(rest.parse().ok())
}

/// Parses a control file's bytes (pure: no file is opened).
pub fn parse_ccd(bytes: &[u8], path: &Path) -> Result<Ccd> {
    let sections = parse_ini(bytes, path)?;
    let c = Ctx { path };
    let mut ccd = Ccd {
        path: path.to_path_buf(),
        ..Ccd::default()
    };
    let mut seen_clonecd = false;
    let mut cdtext_entries: Option<(usize, usize)> = None;
    let mut cdtext_seen: Vec<bool> = Vec::new();
    for s in &sections {
        let name = s.name.as_str();
        if name.eq_ignore_ascii_case("CloneCD") {
            seen_clonecd = true;
            for k in &s.keys {
                if k.name.eq_ignore_ascii_case("Version") {
                    ccd.version = Some(c.ranged(k, 0, 1000)? as u32);
                }
            }
        } else if name.eq_ignore_ascii_case("Disc") {
            for k in &s.keys {
                match k.name.to_ascii_lowercase().as_str() {
                    "tocentries" => {
                        ccd.toc_entries = Some((c.ranged(k, 0, MAX_ENTRIES as i64)? as u32, k.line))
                    }
                    "sessions" => ccd.sessions = Some((c.ranged(k, 1, 99)? as u32, k.line)),
                    "datatracksscrambled" => ccd.data_tracks_scrambled = c.ranged(k, 0, 1)? == 1,
                    "cdtextlength" => {
                        ccd.cdtext_length = Some((
                            c.ranged(k, 0, (MAX_CDTEXT_PACKS * 18) as i64)? as u32,
                            k.line,
                        ));
                    }
                    "catalog" => {
                        let mcn = Mcn::parse(&k.value).ok_or_else(|| {
                            c.err(
                                k.line,
                                format!("CATALOG={:?} is not a 13-digit catalog number", k.value),
                            )
                        })?;
                        ccd.catalog = Some(mcn);
                    }
                    _ => {}
                }
            }
        } else if name.eq_ignore_ascii_case("CDText") {
            for k in &s.keys {
                if k.name.eq_ignore_ascii_case("Entries") {
                    let n = c.ranged(k, 0, MAX_CDTEXT_PACKS as i64)? as usize;
                    cdtext_entries = Some((n, k.line));
                    ccd.cdtext = vec![0; n * 18];
                    cdtext_seen = vec![false; n];
                } else if let Some(num) = numbered(&k.name, "Entry") {
                    let (n, _) = cdtext_entries
                        .ok_or_else(|| c.err(k.line, "a CD-TEXT entry before Entries=".into()))?;
                    let i = num.filter(|&i| (i as usize) < n).ok_or_else(|| {
                        c.err(
                            k.line,
                            format!("{} is not one of the {n} entries Entries= declares", k.name),
                        )
                    })? as usize;
                    let bytes: Vec<&str> = k.value.split_ascii_whitespace().collect();
                    if bytes.is_empty() || bytes.len() > 18 {
                        return Err(c.err(
                            k.line,
                            format!(
                                "{} has {} bytes; a CD-TEXT pack has 16 (18 with CRC)",
                                k.name,
                                bytes.len()
                            ),
                        ));
                    }
                    for (j, b) in bytes.iter().enumerate() {
                        let v = (b.len() <= 2)
                            .then(|| u8::from_str_radix(b, 16).ok())
                            .flatten();
                        ccd.cdtext[i * 18 + j] =
                            v.ok_or_else(|| c.err(k.line, format!("{b:?} is not a hex byte")))?;
                    }
                    cdtext_seen[i] = true;
                }
            }
        } else if let Some(num) = numbered(name, "Entry") {
            let number = num.ok_or_else(|| c.err(s.line, format!("[{name}] needs a number")))?;
            if ccd.entries.len() >= MAX_ENTRIES {
                return Err(c.err(s.line, format!("more than {MAX_ENTRIES} [Entry] sections")));
            }
            if ccd.entries.iter().any(|e| e.number == number) {
                return Err(c.err(s.line, format!("[Entry {number}] appears twice")));
            }
            ccd.entries.push(parse_entry(&c, s, number)?);
        } else if let Some(num) = numbered(name, "TRACK") {
            let number = num
                .filter(|n| (1..=99).contains(n))
                .ok_or_else(|| c.err(s.line, format!("[{name}]: track numbers run from 1 to 99")))?
                as u8;
            if ccd.tracks.contains_key(&number) {
                return Err(c.err(s.line, format!("[TRACK {number}] appears twice")));
            }
            ccd.tracks.insert(number, parse_track(&c, s, number)?);
        }
        // [Session n] (PreGapMode, PreGapSubC) and unknown sections carry nothing we use.
    }
    if !seen_clonecd {
        return Err(CcdError::Corrupt {
            path: path.to_path_buf(),
            message: "no [CloneCD] section: not a CloneCD control file".into(),
        });
    }
    if let Some((n, line)) = cdtext_entries {
        if let Some(missing) = cdtext_seen.iter().position(|s| !s) {
            return Err(c.err(
                line,
                format!("Entries={n} but CD-TEXT entry {missing} is missing"),
            ));
        }
        // libmirage: CDTextLength counts 18-byte packs.
        if let Some((len, len_line)) = ccd.cdtext_length
            && len as usize != n * 18
        {
            return Err(c.err(
                len_line,
                format!("CDTextLength={len} but [CDText] has {n} entries of 18 bytes"),
            ));
        }
    } else if let Some((len, line)) = ccd.cdtext_length
        && len > 0
    {
        return Err(c.err(
            line,
            format!("CDTextLength={len} but there is no [CDText] section"),
        ));
    }
    if let Some((n, line)) = ccd.toc_entries
        && n as usize != ccd.entries.len()
    {
        return Err(c.err(
            line,
            format!(
                "TocEntries={n} but the file has {} [Entry] sections",
                ccd.entries.len()
            ),
        ));
    }
    ccd.entries.sort_by_key(|e| e.number);
    Ok(ccd)
}

fn parse_entry(c: &Ctx, s: &Section, number: u32) -> Result<Entry> {
    let mut e = Entry {
        number,
        line: s.line,
        session: 0,
        point: 0,
        adr: 1,
        control: 0,
        track_no: 0,
        amin: 0,
        asec: 0,
        aframe: 0,
        alba: None,
        zero: 0,
        pmin: 0,
        psec: 0,
        pframe: 0,
        plba: None,
    };
    let (mut has_session, mut has_point) = (false, false);
    for k in &s.keys {
        match k.name.to_ascii_lowercase().as_str() {
            "session" => {
                e.session = c.ranged(k, 1, 99)? as u8;
                has_session = true;
            }
            "point" => {
                e.point = c.byte(k)?;
                has_point = true;
            }
            "adr" => e.adr = c.ranged(k, 0, 15)? as u8,
            "control" => e.control = c.ranged(k, 0, 15)? as u8,
            "trackno" => e.track_no = c.byte(k)?,
            "amin" => e.amin = c.byte(k)?,
            "asec" => e.asec = c.byte(k)?,
            "aframe" => e.aframe = c.byte(k)?,
            "alba" => e.alba = Some(c.lba(k)?),
            "zero" => e.zero = c.byte(k)?,
            "pmin" => e.pmin = c.byte(k)?,
            "psec" => e.psec = c.byte(k)?,
            "pframe" => e.pframe = c.byte(k)?,
            "plba" => e.plba = Some(c.lba(k)?),
            _ => {}
        }
    }
    if !has_session || !has_point {
        let what = if has_session { "Point" } else { "Session" };
        return Err(c.err(s.line, format!("[Entry {number}] has no {what}=")));
    }
    Ok(e)
}

fn parse_track(c: &Ctx, s: &Section, number: u8) -> Result<TrackSection> {
    let mut t = TrackSection {
        number,
        line: s.line,
        ..TrackSection::default()
    };
    for k in &s.keys {
        let lower = k.name.to_ascii_lowercase();
        if lower == "mode" {
            t.mode = Some(c.ranged(k, 0, 2)? as u8);
        } else if let Some(n) = numbered(&k.name, "INDEX") {
            let n = n.filter(|&n| n <= 99).ok_or_else(|| {
                c.err(
                    k.line,
                    format!("{}: index numbers run from 0 to 99", k.name),
                )
            })? as u8;
            t.indexes.insert(n, c.lba(k)?);
        } else if lower == "isrc" {
            t.isrc = Some(Isrc::parse(&k.value).ok_or_else(|| {
                c.err(
                    k.line,
                    format!("ISRC={:?} is not a 12-character ISRC", k.value),
                )
            })?);
        } else if lower == "flags" {
            for f in k.value.split_ascii_whitespace() {
                if !t.flags.set_by_name(f) {
                    return Err(c.err(
                        k.line,
                        format!("FLAGS: {f:?} is not one of DCP, 4CH, PRE, SCMS"),
                    ));
                }
            }
        }
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: &str = "[CloneCD]\nVersion=3\n[Disc]\nTocEntries=1\nSessions=1\n[Entry 0]\nSession=1\nPoint=0xa2\nADR=0x01\nControl=0x04\nPLBA=302\n";

    #[test]
    fn parses_numbers_in_both_bases() {
        let c = parse_ccd(MIN.as_bytes(), Path::new("x.ccd")).unwrap();
        assert_eq!(
            (
                c.entries[0].point,
                c.entries[0].control,
                c.entries[0].p_lba()
            ),
            (0xa2, 4, 302)
        );
    }

    #[test]
    fn errors_name_line_and_key() {
        let bad = MIN.replace("Point=0xa2", "Point=0x1a2");
        let e = parse_ccd(bad.as_bytes(), Path::new("x.ccd"))
            .unwrap_err()
            .to_string();
        assert_eq!(e, "x.ccd: line 8: Point=0x1a2 is out of range (0..=255)");
        let bad = MIN.replace("PLBA=302", "PLBA=abc");
        let e = parse_ccd(bad.as_bytes(), Path::new("x.ccd"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 11") && e.contains("not a number"), "{e}");
        let bad = MIN.replace("TocEntries=1", "TocEntries=2");
        let e = parse_ccd(bad.as_bytes(), Path::new("x.ccd"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 4"), "{e}");
        let e = parse_ccd(b"[Disc]\nSessions=1\n", Path::new("x.ccd"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("no [CloneCD] section"), "{e}");
    }
}
