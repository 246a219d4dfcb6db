//! libcdio's `cd-info` as an oracle: running it on an image (CUE, NRG, TOC or BIN by the
//! extension) and reading its track list and MCN. A missing `cd-info` fails the test.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, ExitStatus};

/// The track number cd-info gives the lead-out row.
pub const LEADOUT: u32 = 170;

/// What cd-info printed about one image.
#[derive(Debug)]
pub struct Report {
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
    /// How it exited.
    pub status: ExitStatus,
}

/// One row of cd-info's "CD-ROM Track List".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Track {
    /// The track number ([`LEADOUT`] for the lead-out row).
    pub number: u32,
    /// The MSF column, as printed.
    pub msf: String,
    /// The LSN column.
    pub lsn: i32,
    /// The type column: "audio", "data", "XA", or "leadout".
    pub kind: String,
    /// The "Green?" column (None on the lead-out row).
    pub green: Option<bool>,
    /// The "Copy?" column (None on the lead-out row).
    pub copy: Option<bool>,
}

/// Runs `cd-info` on `image`, its kind chosen by the extension (`.cue`, `.nrg`, `.toc`, else
/// a BIN).
pub fn run(image: &Path) -> Report {
    output(Command::new("cd-info").args(args(image)).arg(image))
}

/// Runs `cd-info` on `image` (a name relative to `dir`) inside `dir`.
pub fn run_in(dir: &Path, image: &str) -> Report {
    output(
        Command::new("cd-info")
            .args(args(Path::new(image)))
            .arg(image)
            .current_dir(dir),
    )
}

fn args(image: &Path) -> [&'static str; 3] {
    let kind = match image.extension().and_then(|e| e.to_str()) {
        Some("cue") => "--cue-file",
        Some("nrg") => "--nrg-file",
        Some("toc") => "--toc-file",
        _ => "--bin-file",
    };
    ["--no-device-info", "--no-cddb", kind]
}

fn output(cmd: &mut Command) -> Report {
    let out = cmd
        .output()
        .expect("cd-info (Debian package libcdio-utils) must be installed: scripts/setup does it");
    Report {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        status: out.status,
    }
}

impl Report {
    /// Standard output and standard error, one after the other.
    pub fn text(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// Fails the test unless cd-info exited with success; says what it printed.
    pub fn assert_success(&self, what: &Path) {
        assert!(
            self.status.success(),
            "cd-info failed on {}: {}",
            what.display(),
            self.text()
        );
    }

    /// Every row of the track list, the lead-out row included ([`tracks`]).
    pub fn tracks(&self) -> Vec<Track> {
        tracks(&self.stdout)
    }

    /// The track rows without the lead-out and the lead-out's LSN ([`table`]).
    pub fn table(&self) -> (Vec<Track>, i32) {
        table(&self.stdout)
    }

    /// The MCN line's value ([`mcn_line`]).
    pub fn mcn_line(&self) -> Option<&str> {
        mcn_line(&self.stdout)
    }

    /// The MCN, when cd-info shows one ([`mcn`]).
    pub fn mcn(&self) -> Option<String> {
        mcn(&self.stdout)
    }
}

/// Every row of the track list in a cd-info report (or in libcdio's expected outputs), the
/// lead-out row included; empty when there is no list.
pub fn tracks(report: &str) -> Vec<Track> {
    let Some(start) = report.find("CD-ROM Track List") else {
        return Vec::new();
    };
    let mut rows = Vec::new();
    // The heading, then the column names, then the rows.
    for line in report[start..].lines().skip(2) {
        let w: Vec<&str> = line.split_whitespace().collect();
        let Some(Ok(number)) = w.first().map(|n| n.trim_end_matches(':').parse::<u32>()) else {
            break;
        };
        if w.len() < 4 || !w[0].ends_with(':') {
            break;
        }
        let lsn = w[2]
            .parse()
            .unwrap_or_else(|_| panic!("an LSN in cd-info's row {line:?}"));
        let column =
            |i: usize, yes: &str| w.get(i).filter(|_| number != LEADOUT).map(|v| *v == yes);
        rows.push(Track {
            number,
            msf: w[1].to_string(),
            lsn,
            kind: w[3].to_string(),
            green: column(4, "true"),
            copy: column(5, "yes"),
        });
        if number == LEADOUT {
            break;
        }
    }
    rows
}

/// The track rows of a report without the lead-out, and the lead-out's LSN; fails the test
/// when there is no lead-out row.
pub fn table(report: &str) -> (Vec<Track>, i32) {
    let mut rows = tracks(report);
    match rows.pop() {
        Some(last) if last.number == LEADOUT => (rows, last.lsn),
        _ => panic!("no lead-out row in cd-info's report\n{report}"),
    }
}

/// The "Media Catalog Number (MCN):" line's value, trimmed; None when the line is missing.
pub fn mcn_line(report: &str) -> Option<&str> {
    report
        .lines()
        .find_map(|l| l.strip_prefix("Media Catalog Number (MCN):"))
        .map(str::trim)
}

/// The MCN, when the report shows one (not empty, not "not available").
pub fn mcn(report: &str) -> Option<String> {
    mcn_line(report)
        .filter(|m| !m.is_empty() && *m != "not available")
        .map(String::from)
}

/// Track lengths as a TOC gives them: from each track's index 1 (`starts`, in order) to the
/// next one's, the last to the lead-out.
pub fn lengths(starts: &[i32], leadout: i32) -> Vec<i32> {
    let ends = starts.iter().skip(1).chain([&leadout]);
    starts.iter().zip(ends).map(|(s, e)| e - s).collect()
}

/// The CD-TEXT a report lists ("CD-TEXT for Disc:" / "CD-TEXT for Track  1:", then
/// "\tFIELD: text" lines): (track, 0 for the disc; field) → text.
pub fn cdtext(report: &str) -> BTreeMap<(u8, String), String> {
    let mut out = BTreeMap::new();
    let mut track = None;
    for line in report.lines() {
        if line.starts_with("CD-TEXT for Disc:") {
            track = Some(0u8);
        } else if let Some(n) = line.strip_prefix("CD-TEXT for Track") {
            track = n.trim().trim_end_matches(':').parse().ok();
        } else if let (Some(t), Some(item)) = (track, line.strip_prefix('\t')) {
            let (k, v) = item
                .split_once(": ")
                .unwrap_or_else(|| panic!("a CD-TEXT line {line:?}"));
            out.insert((t, k.to_string()), v.to_string());
        } else if !line.starts_with("CD-TEXT") {
            track = None;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "\
CD-ROM Track List (1 - 2)
  #: MSF       LSN    Type   Green? Copy? Channels Premphasis?
  1: 00:02:00  000000 data   false  no
  2: 00:06:00  000300 audio  false  yes   2        no
170: 00:09:00  000525 leadout (693 KB raw, 693 KB formatted)
Media Catalog Number (MCN): not available
Language 0 'English':
CD-TEXT for Disc:
\tTITLE: Join us
CD-TEXT for Track  2:
\tPERFORMER: Someone
audio status: not implemented
\tnot: CD-TEXT
";

    #[test]
    fn track_list_and_mcn() {
        let (rows, leadout) = table(REPORT);
        assert_eq!(leadout, 525);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].number, 2);
        assert_eq!(rows[1].msf, "00:06:00");
        assert_eq!((rows[1].lsn, rows[1].kind.as_str()), (300, "audio"));
        assert_eq!((rows[0].green, rows[0].copy), (Some(false), Some(false)));
        assert_eq!(rows[1].copy, Some(true));
        assert_eq!(tracks(REPORT).last().unwrap().green, None);
        assert_eq!(mcn_line(REPORT), Some("not available"));
        assert_eq!(mcn(REPORT), None);
        assert_eq!(lengths(&[0, 300], leadout), [300, 225]);
        assert!(tracks("no list here").is_empty());
        let text = cdtext(REPORT);
        assert_eq!(text.len(), 2, "{text:?}");
        assert_eq!(text[&(0, "TITLE".to_string())], "Join us");
        assert_eq!(text[&(2, "PERFORMER".to_string())], "Someone");
    }
}
