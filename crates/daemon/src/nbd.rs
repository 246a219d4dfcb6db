//! The drives as NBD exports: `drive<N>` is the user data of the disc's first data track in
//! 2048-byte blocks (what `drives/<N>/disc.iso` shows), `drive<N>.raw` every sector of a CD
//! as 2352 raw bytes, addressed linearly from the first track's start (byte
//! `(lba - start) * 2352` is sector `lba`; the gaps between sessions read as zeros). The
//! default export (`""`) is the first loaded drive's `drive<N>`.
//!
//! A connection keeps the disc it opened until it closes: swapping or ejecting a drive does
//! not pull the bytes from under a client (a reconnect sees the new disc).

use crate::slots::Table;
use spindle_disc::{ByteSource, Concat, Disc, Piece, SectorFormat, SectorView};
use spindle_fuse::DriveTable;
use spindle_nbd::{Catalog, ExportInfo};
use std::sync::Arc;

/// The user data of the first data track (`None`: an audio-only disc), as `drive<N>`.
pub fn data_export(disc: Arc<Disc>) -> Option<Concat> {
    let v = SectorView::first_data_track(disc).ok()?;
    Some(Concat::new([Piece::Source(Arc::new(v))], "drive.iso"))
}

/// Every sector of a CD, raw, the gaps between sessions as zeros (`None`: not a CD, or no
/// tracks), as `drive<N>.raw`.
pub fn raw_export(disc: Arc<Disc>) -> Option<Concat> {
    if !disc.medium.is_cd() {
        return None;
    }
    let mut pieces = Vec::new();
    let mut prev_end = None;
    for s in &disc.sessions {
        let (Some(first), Some(last)) = (s.first_track(), s.last_track()) else {
            continue;
        };
        if let Some(end) = prev_end {
            let gap = first.start.since(end).max(0) as u64;
            pieces.push(Piece::Zeros(gap * 2352));
        }
        let sectors = last.end().since(first.start).max(0) as u32;
        let view = SectorView::new(disc.clone(), first.start, sectors, SectorFormat::RAW).ok()?;
        pieces.push(Piece::Source(Arc::new(view)));
        prev_end = Some(last.end());
    }
    (!pieces.is_empty()).then(|| Concat::new(pieces, "drive.raw"))
}

/// The NBD exports of the daemon's drives.
pub struct DriveCatalog {
    table: Arc<Table>,
    /// Only this drive, and only while it holds a disc this uid loaded (root: any disc):
    /// a `spindle share` of one drive. `None`: every drive (the daemon's private socket).
    only: Option<(u32, u32)>,
    /// Serve only discs every local user could read ([`crate::sharing::readable_by_all`]): a
    /// share that authenticates no client, not said `--public`.
    public_only: bool,
}

impl DriveCatalog {
    /// Every drive.
    pub fn all(table: Arc<Table>) -> DriveCatalog {
        DriveCatalog {
            table,
            only: None,
            public_only: false,
        }
    }

    /// One drive, for the user who shared it: after an eject, a disc someone else loads
    /// into that drive is not served.
    pub fn shared(table: Arc<Table>, drive: u32, uid: u32) -> DriveCatalog {
        DriveCatalog {
            table,
            only: Some((drive, uid)),
            public_only: false,
        }
    }

    /// The same, serving only discs every local user could read.
    pub fn public_only(self) -> DriveCatalog {
        DriveCatalog {
            public_only: true,
            ..self
        }
    }

    fn serves(&self, drive: u32) -> bool {
        match self.only {
            None => true,
            Some((d, uid)) => d == drive && (uid == 0 || self.table.owner(drive) == Some(uid)),
        }
    }

    /// The drive an export name belongs to.
    pub fn drive_of(name: &str) -> Option<u32> {
        parse_name(name).map(|(n, _)| n)
    }

    fn loaded(&self) -> Vec<(u32, Arc<Disc>)> {
        self.table
            .drives()
            .into_iter()
            .filter(|(n, _)| self.serves(*n))
            .filter_map(|(n, d)| d.map(|d| (n, d)))
            .filter(|(n, d)| !self.public_only || self.readable_by_all(*n, d))
            .collect()
    }

    fn readable_by_all(&self, drive: u32, disc: &Disc) -> bool {
        match crate::sharing::readable_by_all(disc) {
            Ok(()) => true,
            Err(why) => {
                eprintln!(
                    "spindle-daemon: drive {drive}: not served on its share without TLS-PSK: {why}"
                );
                false
            }
        }
    }
}

fn describe(drive: u32, disc: &Disc, raw: bool) -> String {
    let what = if raw {
        "raw 2352-byte sectors"
    } else {
        "user data, 2048-byte blocks"
    };
    format!(
        "drive {drive}: {} ({}, {}), {what}",
        disc.source.path.display(),
        disc.source.format,
        disc.medium
    )
}

/// `drive<N>` or `drive<N>.raw`: the drive number and whether raw.
fn parse_name(name: &str) -> Option<(u32, bool)> {
    let rest = name.strip_prefix("drive")?;
    let (num, raw) = match rest.strip_suffix(".raw") {
        Some(n) => (n, true),
        None => (rest, false),
    };
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) || num.len() > 3 {
        return None;
    }
    Some((num.parse().ok()?, raw))
}

impl Catalog for DriveCatalog {
    fn list(&self) -> Vec<ExportInfo> {
        let mut out = Vec::new();
        for (n, disc) in self.loaded() {
            if disc.first_data_track().is_some() {
                out.push(ExportInfo::new(
                    format!("drive{n}"),
                    describe(n, &disc, false),
                ));
            }
            if disc.medium.is_cd() {
                out.push(
                    ExportInfo::new(format!("drive{n}.raw"), describe(n, &disc, true))
                        .with_block_size(2352),
                );
            }
        }
        out
    }

    fn open(&self, name: &str) -> Option<(ExportInfo, Arc<dyn ByteSource>)> {
        let loaded = self.loaded();
        let (drive, raw, disc) = if name.is_empty() {
            let (n, d) = loaded
                .into_iter()
                .find(|(_, d)| d.first_data_track().is_some())?;
            (n, false, d)
        } else {
            let (n, raw) = parse_name(name)?;
            let (_, d) = loaded.into_iter().find(|(m, _)| *m == n)?;
            (n, raw, d)
        };
        let name = if name.is_empty() {
            format!("drive{drive}")
        } else {
            name.to_string()
        };
        let info = ExportInfo::new(name, describe(drive, &disc, raw));
        let (info, export) = if raw {
            (info.with_block_size(2352), raw_export(disc)?)
        } else {
            (info, data_export(disc)?)
        };
        Some((info, Arc::new(export)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_names() {
        assert_eq!(parse_name("drive0"), Some((0, false)));
        assert_eq!(parse_name("drive12.raw"), Some((12, true)));
        for bad in [
            "drive",
            "drive.raw",
            "drivex",
            "drive-1",
            "drive1.iso",
            "drive99999",
            "Drive1",
            "",
        ] {
            assert_eq!(parse_name(bad), None, "{bad}");
        }
    }
}
