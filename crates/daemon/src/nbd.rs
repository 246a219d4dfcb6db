//! The drives as NBD exports, named from each disc's [`Catalogue`] (so FUSE's
//! `drives/<N>/` files and these exports are the same bytes under the same names):
//!
//! - `drive<N>/<entry>` for every entry of the disc in drive N: `drive0/disc.iso`,
//!   `drive0/disc.cue`, `drive0/disc.bin`, `drive0/disc.raw`, `drive0/toc.json`,
//!   `drive0/tracks/02.wav`...;
//! - `drive<N>`: an alias of `drive<N>/disc.iso` (user data of the first data track, 2048-byte
//!   blocks);
//! - `drive<N>.raw`: an alias of `drive<N>/disc.raw` (every sector of a CD as 2352 raw bytes,
//!   addressed linearly from the first track's start: byte `(lba - start) * 2352` is sector
//!   `lba`; the gaps between sessions read as zeros);
//! - the default export (`""`): the first loaded drive's `drive<N>`.
//!
//! A connection keeps the disc it opened until it closes: swapping or ejecting a drive does
//! not pull the bytes from under a client (a reconnect sees the new disc).

use crate::slots::Table;
use spindle_bytes::ByteSource;
use spindle_disc::{Catalogue, Disc, Entry, EntryKind};
use spindle_nbd::{Catalog, ExportInfo};
use std::sync::Arc;

/// The user data of the first data track, `disc.iso` of the catalogue, as `drive<N>` serves
/// it (`None`: an audio-only disc).
pub fn data_export(disc: Arc<Disc>) -> Option<Arc<dyn ByteSource>> {
    Catalogue::of(disc)
        .by_kind(EntryKind::DiscIso)
        .map(|e| e.bytes().clone())
}

/// Every sector of a CD, raw, `disc.raw` of the catalogue, as `drive<N>.raw` serves it
/// (`None`: not a CD, or no tracks).
pub fn raw_export(disc: Arc<Disc>) -> Option<Arc<dyn ByteSource>> {
    Catalogue::of(disc)
        .by_kind(EntryKind::DiscRaw)
        .map(|e| e.bytes().clone())
}

/// The NBD description of catalogue entry `e` named `name`: its preferred block size is the
/// entry's sector size (text and WAVE files have none: 512, the NBD minimum).
fn export_info(name: String, description: String, e: &Entry) -> ExportInfo {
    ExportInfo::new(name, description).with_block_size(e.kind().sector_size().unwrap_or(512))
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

    /// Whether `drive`, holding a disc `owner` loaded, is served.
    fn serves(&self, drive: u32, owner: Option<u32>) -> bool {
        match self.only {
            None => true,
            Some((d, uid)) => d == drive && (uid == 0 || owner == Some(uid)),
        }
    }

    /// The drive an export name belongs to.
    pub fn drive_of(name: &str) -> Option<u32> {
        parse_name(name).map(|(n, _)| n)
    }

    /// Whether `name` is one of a drive's two short aliases (`drive<N>`, `drive<N>.raw`),
    /// the exports `spindle drives` reports.
    pub fn is_alias(name: &str) -> bool {
        matches!(parse_name(name), Some((_, Name::Data | Name::Raw)))
    }

    fn loaded(&self) -> Vec<(u32, Arc<Disc>)> {
        // One snapshot: each disc with the owner that loaded it.
        self.table
            .entries()
            .iter()
            .filter(|e| self.serves(e.drive, e.owner))
            .filter_map(|e| e.disc.clone().map(|d| (e.drive, d)))
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

fn describe(drive: u32, disc: &Disc, entry: &Entry) -> String {
    format!(
        "drive {drive}: {} ({}, {}), {}: {}",
        disc.source.path.display(),
        disc.source.format,
        disc.medium,
        entry.name(),
        entry.kind().describe()
    )
}

/// What an export name asks of a drive.
#[derive(Debug, PartialEq, Eq)]
enum Name<'a> {
    /// `drive<N>`: `disc.iso`.
    Data,
    /// `drive<N>.raw`: `disc.raw`.
    Raw,
    /// `drive<N>/<entry>`.
    Entry(&'a str),
}

/// `drive<N>`, `drive<N>.raw` or `drive<N>/<entry>`: the drive number and what of it.
fn parse_name(name: &str) -> Option<(u32, Name<'_>)> {
    let rest = name.strip_prefix("drive")?;
    let (num, what) = if let Some((n, entry)) = rest.split_once('/') {
        (n, Name::Entry(entry))
    } else if let Some(n) = rest.strip_suffix(".raw") {
        (n, Name::Raw)
    } else {
        (rest, Name::Data)
    };
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) || num.len() > 3 {
        return None;
    }
    Some((num.parse().ok()?, what))
}

impl Catalog for DriveCatalog {
    fn list(&self) -> Vec<ExportInfo> {
        let mut out = Vec::new();
        for (n, disc) in self.loaded() {
            let c = Catalogue::of(disc.clone());
            let mut add =
                |name: String, e: &Entry| out.push(export_info(name, describe(n, &disc, e), e));
            if let Some(e) = c.by_kind(EntryKind::DiscIso) {
                add(format!("drive{n}"), e);
            }
            if let Some(e) = c.by_kind(EntryKind::DiscRaw) {
                add(format!("drive{n}.raw"), e);
            }
            for e in c.entries() {
                add(format!("drive{n}/{}", e.name()), e);
            }
        }
        out
    }

    fn open(&self, name: &str) -> Option<(ExportInfo, Arc<dyn ByteSource>)> {
        let loaded = self.loaded();
        let (drive, what, disc) = if name.is_empty() {
            let (n, d) = loaded
                .into_iter()
                .find(|(_, d)| d.first_data_track().is_some())?;
            (n, Name::Data, d)
        } else {
            let (n, what) = parse_name(name)?;
            let (_, d) = loaded.into_iter().find(|(m, _)| *m == n)?;
            (n, what, d)
        };
        let c = Catalogue::of(disc.clone());
        let entry = match what {
            Name::Data => c.by_kind(EntryKind::DiscIso),
            Name::Raw => c.by_kind(EntryKind::DiscRaw),
            Name::Entry(e) => c.get(e),
        }?;
        let name = if name.is_empty() {
            format!("drive{drive}")
        } else {
            name.to_string()
        };
        let info = export_info(name, describe(drive, &disc, entry), entry);
        Some((info, entry.bytes().clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_names() {
        assert_eq!(parse_name("drive0"), Some((0, Name::Data)));
        assert_eq!(parse_name("drive12.raw"), Some((12, Name::Raw)));
        assert_eq!(
            parse_name("drive3/tracks/02.wav"),
            Some((3, Name::Entry("tracks/02.wav")))
        );
        assert_eq!(
            parse_name("drive3/disc.raw"),
            Some((3, Name::Entry("disc.raw")))
        );
        for bad in [
            "drive",
            "drive.raw",
            "drivex",
            "drive-1",
            "drive1.iso",
            "drive99999",
            "Drive1",
            "drive/disc.iso",
            "drivex/disc.iso",
            "",
        ] {
            assert_eq!(parse_name(bad), None, "{bad}");
        }
        assert!(DriveCatalog::is_alias("drive1") && DriveCatalog::is_alias("drive1.raw"));
        assert!(!DriveCatalog::is_alias("drive1/disc.iso"));
    }
}
