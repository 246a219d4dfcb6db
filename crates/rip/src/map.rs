//! The rescue map: which sectors of a rip are read, which failed and how far the rescue got,
//! in GNU ddrescue's mapfile format so that `ddrescuelog` can read it.
//!
//! A map covers the sectors `0..sectors` of one read area (index 0 is the LBA `base`), each
//! with a status. On disk, positions and sizes are bytes (`index * sector_size`) in hex, as
//! ddrescue writes them; a comment line names the base LBA and the sector size so that a map
//! is not resumed against another disc or read mode.

use crate::error::{Result, RipError};
use std::fmt::Write as _;
use std::path::Path;

/// The status of a run of sectors (ddrescue's block status characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// `?`: not tried yet.
    NonTried,
    /// `*`: failed in the copy pass; its edges have not been trimmed.
    NonTrimmed,
    /// `/`: trimmed; the sectors inside wait for the scraping pass.
    NonScraped,
    /// `-`: failed on its own, after the retries so far.
    Bad,
    /// `+`: read.
    Finished,
}

impl Status {
    /// The ddrescue map character of this status.
    pub fn symbol(self) -> char {
        match self {
            Status::NonTried => '?',
            Status::NonTrimmed => '*',
            Status::NonScraped => '/',
            Status::Bad => '-',
            Status::Finished => '+',
        }
    }
    /// The status of a ddrescue map character, `None` for another character.
    pub fn from_symbol(c: char) -> Option<Status> {
        Some(match c {
            '?' => Status::NonTried,
            '*' => Status::NonTrimmed,
            '/' => Status::NonScraped,
            '-' => Status::Bad,
            '+' => Status::Finished,
            _ => return None,
        })
    }
}

/// What the rescue is doing (ddrescue's current status characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// First pass: clusters in order, skipping ahead after failures.
    Copying,
    /// Reading the edges of the non-trimmed areas.
    Trimming,
    /// Reading the non-scraped sectors one by one.
    Scraping,
    /// Reading bad sectors again.
    Retrying,
    /// Nothing left to do.
    Finished,
}

impl Phase {
    /// The ddrescue map character of this phase (as the map's current-status line writes it).
    pub fn symbol(self) -> char {
        match self {
            Phase::Copying => '?',
            Phase::Trimming => '*',
            Phase::Scraping => '/',
            Phase::Retrying => '-',
            Phase::Finished => '+',
        }
    }
    fn from_symbol(c: char) -> Option<Phase> {
        Some(match c {
            '?' => Phase::Copying,
            '*' => Phase::Trimming,
            '/' => Phase::Scraping,
            '-' => Phase::Retrying,
            '+' => Phase::Finished,
            _ => return None,
        })
    }
}

/// A run of sectors with one status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    /// First sector index of the run.
    pub start: u64,
    /// Sectors in the run.
    pub len: u64,
    /// What is known of them.
    pub status: Status,
}

impl Run {
    /// The index just after the run.
    pub fn end(&self) -> u64 {
        self.start + self.len
    }
}

/// The map of one read area.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RescueMap {
    /// The LBA of sector index 0.
    pub base: i64,
    /// Bytes per sector in the work file.
    pub sector_size: u32,
    /// Sectors in the read area.
    pub sectors: u64,
    /// Where the rescue was (sector index) and in what phase and pass.
    pub position: u64,
    /// The phase the rescue was in.
    pub phase: Phase,
    /// The pass of that phase, from 1.
    pub pass: u32,
    runs: Vec<Run>,
}

const TAG: &str = "# spindle-rip map:";

impl RescueMap {
    /// A map with every sector not tried.
    pub fn new(base: i64, sectors: u64, sector_size: u32) -> RescueMap {
        let runs = if sectors == 0 {
            Vec::new()
        } else {
            vec![Run {
                start: 0,
                len: sectors,
                status: Status::NonTried,
            }]
        };
        RescueMap {
            base,
            sector_size,
            sectors,
            position: 0,
            phase: Phase::Copying,
            pass: 1,
            runs,
        }
    }

    /// The runs, in order, covering `0..sectors` with no two neighbours of one status.
    pub fn runs(&self) -> &[Run] {
        &self.runs
    }

    /// The status of sector `i`.
    pub fn status(&self, i: u64) -> Option<Status> {
        let k = self.runs.partition_point(|r| r.end() <= i);
        self.runs.get(k).filter(|r| r.start <= i).map(|r| r.status)
    }

    /// Sets `start..start+len` (clipped to the map) to `status`.
    pub fn set(&mut self, start: u64, len: u64, status: Status) {
        let end = (start + len).min(self.sectors);
        if start >= end {
            return;
        }
        let new = Run {
            start,
            len: end - start,
            status,
        };
        let mut out = Vec::with_capacity(self.runs.len() + 2);
        let mut inserted = false;
        for r in &self.runs {
            if r.end() <= start {
                out.push(*r);
                continue;
            }
            if r.start >= end {
                if !inserted {
                    out.push(new);
                    inserted = true;
                }
                out.push(*r);
                continue;
            }
            if r.start < start {
                out.push(Run {
                    start: r.start,
                    len: start - r.start,
                    status: r.status,
                });
            }
            if !inserted {
                out.push(new);
                inserted = true;
            }
            if r.end() > end {
                out.push(Run {
                    start: end,
                    len: r.end() - end,
                    status: r.status,
                });
            }
        }
        if !inserted {
            out.push(new);
        }
        self.runs = merge(out);
    }

    /// The runs with `status`.
    pub fn runs_with(&self, status: Status) -> Vec<Run> {
        self.runs
            .iter()
            .filter(|r| r.status == status)
            .copied()
            .collect()
    }

    /// Number of sectors with `status`.
    pub fn count(&self, status: Status) -> u64 {
        self.runs
            .iter()
            .filter(|r| r.status == status)
            .map(|r| r.len)
            .sum()
    }

    /// True when every sector is read.
    pub fn is_finished(&self) -> bool {
        self.count(Status::Finished) == self.sectors
    }

    /// The sector indexes that are bad.
    pub fn bad_sectors(&self) -> Vec<u64> {
        self.runs_with(Status::Bad)
            .iter()
            .flat_map(|r| r.start..r.end())
            .collect()
    }

    /// The mapfile text.
    pub fn to_text(&self) -> String {
        let ss = self.sector_size as u64;
        let mut t = String::new();
        let _ = writeln!(
            t,
            "# Mapfile. Created by spindle rip (GNU ddrescue mapfile format)"
        );
        let _ = writeln!(
            t,
            "{TAG} base {} sector-size {} sectors {}",
            self.base, self.sector_size, self.sectors
        );
        let _ = writeln!(t, "# current_pos  current_status  current_pass");
        let _ = writeln!(
            t,
            "{:#010x}     {}               {}",
            self.position * ss,
            self.phase.symbol(),
            self.pass
        );
        let _ = writeln!(t, "#      pos        size  status");
        for r in &self.runs {
            let _ = writeln!(
                t,
                "{:#010x}  {:#010x}  {}",
                r.start * ss,
                r.len * ss,
                r.status.symbol()
            );
        }
        t
    }

    /// Parses mapfile text written by [`RescueMap::to_text`] (`path` names it in errors).
    pub fn parse(text: &str, path: &Path) -> Result<RescueMap> {
        let bad = |line: usize, why: String| RipError::Map {
            path: path.to_path_buf(),
            line,
            why,
        };
        let num = |s: &str, line: usize| -> Result<u64> {
            let v = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"));
            match v {
                Some(h) => u64::from_str_radix(h, 16),
                None => s.parse(),
            }
            .map_err(|_| bad(line, format!("{s:?} is not a number")))
        };
        let mut header: Option<(i64, u32, u64)> = None;
        let mut status_line: Option<(u64, Phase, u32)> = None;
        let mut raw = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            if let Some(rest) = line.strip_prefix(TAG) {
                let f: Vec<&str> = rest.split_whitespace().collect();
                if f.len() != 6 || f[0] != "base" || f[2] != "sector-size" || f[4] != "sectors" {
                    return Err(bad(n, "a malformed spindle-rip header".into()));
                }
                let base = f[1].parse().map_err(|_| bad(n, "bad base".into()))?;
                let ss = f[3].parse().map_err(|_| bad(n, "bad sector size".into()))?;
                let sectors = f[5]
                    .parse()
                    .map_err(|_| bad(n, "bad sector count".into()))?;
                header = Some((base, ss, sectors));
                continue;
            }
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let f: Vec<&str> = line.split_whitespace().collect();
            if status_line.is_none() {
                if f.len() < 2 {
                    return Err(bad(
                        n,
                        "the status line needs a position and a status".into(),
                    ));
                }
                let ph = f[1]
                    .chars()
                    .next()
                    .and_then(Phase::from_symbol)
                    .ok_or_else(|| bad(n, format!("unknown status {:?}", f[1])))?;
                let pass = f
                    .get(2)
                    .map(|p| p.parse().map_err(|_| bad(n, "bad pass".into())))
                    .transpose()?
                    .unwrap_or(1);
                status_line = Some((num(f[0], n)?, ph, pass));
                continue;
            }
            if f.len() != 3 || f[2].chars().count() != 1 {
                return Err(bad(n, "a block line is: pos size status".into()));
            }
            let st = Status::from_symbol(f[2].chars().next().unwrap())
                .ok_or_else(|| bad(n, format!("unknown block status {:?}", f[2])))?;
            raw.push((n, num(f[0], n)?, num(f[1], n)?, st));
        }
        let (base, ss, sectors) =
            header.ok_or_else(|| bad(0, "no spindle-rip header line".into()))?;
        if ss == 0 {
            return Err(bad(0, "sector size 0".into()));
        }
        let (pos, phase, pass) = status_line.ok_or_else(|| bad(0, "no status line".into()))?;
        let ss64 = ss as u64;
        let mut runs = Vec::new();
        let mut at = 0u64;
        for (n, p, s, st) in raw {
            if p % ss64 != 0 || s % ss64 != 0 || s == 0 {
                return Err(bad(
                    n,
                    format!("block {p:#x}+{s:#x} is not whole sectors of {ss} bytes"),
                ));
            }
            if p / ss64 != at {
                return Err(bad(
                    n,
                    format!(
                        "block at {p:#x} does not follow the previous one (expected {:#x})",
                        at * ss64
                    ),
                ));
            }
            runs.push(Run {
                start: at,
                len: s / ss64,
                status: st,
            });
            at += s / ss64;
        }
        if at != sectors {
            return Err(bad(
                0,
                format!("blocks cover {at} sectors, the header says {sectors}"),
            ));
        }
        Ok(RescueMap {
            base,
            sector_size: ss,
            sectors,
            position: (pos / ss64).min(sectors),
            phase,
            pass,
            runs: merge(runs),
        })
    }

    /// Loads a map file.
    pub fn load(path: &Path) -> Result<RescueMap> {
        let text = std::fs::read_to_string(path).map_err(|source| RipError::Io {
            path: path.to_path_buf(),
            what: "reading the map",
            source,
        })?;
        RescueMap::parse(&text, path)
    }

    /// Writes the map next to `path` and renames it into place, so that an interruption
    /// leaves the old map or the new one, never half of one.
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = std::path::PathBuf::from(tmp);
        let io = |what, source| RipError::Io {
            path: path.to_path_buf(),
            what,
            source,
        };
        std::fs::write(&tmp, self.to_text()).map_err(|e| io("writing the map", e))?;
        std::fs::rename(&tmp, path).map_err(|e| io("replacing the map", e))
    }

    /// Checks that a loaded map belongs to this read area.
    pub fn check_matches(
        &self,
        base: i64,
        sectors: u64,
        sector_size: u32,
        path: &Path,
    ) -> Result<()> {
        if (self.base, self.sectors, self.sector_size) != (base, sectors, sector_size) {
            return Err(RipError::MapMismatch {
                path: path.to_path_buf(),
                ours: format!("{sectors} sectors of {sector_size} bytes from LBA {base}"),
                theirs: format!(
                    "{} sectors of {} bytes from LBA {}",
                    self.sectors, self.sector_size, self.base
                ),
            });
        }
        Ok(())
    }
}

fn merge(runs: Vec<Run>) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::with_capacity(runs.len());
    for r in runs {
        if r.len == 0 {
            continue;
        }
        match out.last_mut() {
            Some(l) if l.status == r.status && l.end() == r.start => l.len += r.len,
            _ => out.push(r),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_splits_and_merges() {
        let mut m = RescueMap::new(0, 100, 2048);
        m.set(10, 5, Status::Finished);
        m.set(15, 5, Status::Finished);
        m.set(50, 10, Status::Bad);
        m.set(55, 1, Status::Finished);
        m.set(0, 10, Status::Finished);
        let r: Vec<_> = m
            .runs()
            .iter()
            .map(|r| (r.start, r.len, r.status))
            .collect();
        assert_eq!(
            r,
            vec![
                (0, 20, Status::Finished),
                (20, 30, Status::NonTried),
                (50, 5, Status::Bad),
                (55, 1, Status::Finished),
                (56, 4, Status::Bad),
                (60, 40, Status::NonTried)
            ]
        );
        assert_eq!(m.status(55), Some(Status::Finished));
        assert_eq!(m.status(99), Some(Status::NonTried));
        assert_eq!(m.status(100), None);
        assert_eq!(m.bad_sectors(), vec![50, 51, 52, 53, 54, 56, 57, 58, 59]);
        m.set(0, 1000, Status::Finished);
        assert!(m.is_finished());
        assert_eq!(m.runs().len(), 1);
    }

    #[test]
    fn text_round_trip_and_errors() {
        let mut m = RescueMap::new(-150, 1000, 2352);
        m.set(0, 400, Status::Finished);
        m.set(400, 3, Status::Bad);
        m.set(403, 20, Status::NonTrimmed);
        m.position = 403;
        m.phase = Phase::Trimming;
        m.pass = 2;
        let t = m.to_text();
        let p = Path::new("x.map");
        assert_eq!(RescueMap::parse(&t, p).unwrap(), m);
        let first = format!("{:#010x}  +", 400 * 2352);
        assert!(t.contains(&first));
        let odd = format!("{:#010x}  +", 400 * 2352 + 1);
        assert!(RescueMap::parse(&t.replace(&first, &odd), p).is_err());
        assert!(RescueMap::parse(&t.replace("  -\n", "  X\n"), p).is_err());
        assert!(RescueMap::parse("", p).is_err());
        assert!(m.check_matches(-150, 1000, 2352, p).is_ok());
        assert!(m.check_matches(0, 1000, 2048, p).is_err());
    }

    #[test]
    fn random_sets_keep_the_invariants() {
        let mut m = RescueMap::new(0, 500, 2048);
        let mut model = vec![Status::NonTried; 500];
        let mut x: u64 = 12345;
        for _ in 0..2000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let start = (x >> 33) % 520;
            let len = (x >> 20) % 40;
            let st = [
                Status::NonTried,
                Status::NonTrimmed,
                Status::NonScraped,
                Status::Bad,
                Status::Finished,
            ][(x >> 10) as usize % 5];
            m.set(start, len, st);
            for i in start..(start + len).min(500) {
                model[i as usize] = st;
            }
            let mut at = 0;
            for w in m.runs().windows(2) {
                assert!(w[0].status != w[1].status);
            }
            for r in m.runs() {
                assert_eq!(r.start, at);
                at = r.end();
            }
            assert_eq!(at, 500);
        }
        for (i, s) in model.iter().enumerate() {
            assert_eq!(m.status(i as u64), Some(*s), "sector {i}");
        }
    }
}
