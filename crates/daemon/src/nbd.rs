//! The drives as NBD exports: `drive<N>` is the user data of the disc's first data track in
//! 2048-byte blocks (what `drives/<N>/disc.iso` shows), `drive<N>.raw` every sector of a CD
//! as 2352 raw bytes, addressed linearly from the first track's start (byte
//! `(lba - start) * 2352` is sector `lba`; the gaps between sessions read as zeros). The
//! default export (`""`) is the first loaded drive's `drive<N>`.
//!
//! A connection keeps the disc it opened until it closes: swapping or ejecting a drive does
//! not pull the bytes from under a client (a reconnect sees the new disc).

use crate::slots::Table;
use spindle_disc::{ByteSource, Disc, SectorFormat, SectorView};
use spindle_nbd::{Allocation, Catalog, Export, ExportInfo};
use std::io;
use std::sync::Arc;

/// A piece of an export.
enum Piece {
    View(SectorView),
    /// Bytes that no track holds (between sessions): zeros, not stored.
    Gap(u64),
}

impl Piece {
    fn len(&self) -> u64 {
        match self {
            Piece::View(v) => v.len(),
            Piece::Gap(n) => *n,
        }
    }
}

/// An export made of sector views laid end to end.
pub struct DiscExport {
    /// (start offset, piece), in order.
    pieces: Vec<(u64, Piece)>,
    size: u64,
    block: u32,
    /// The plain file holding the whole export as is, and where (zero-copy sends).
    plain: Option<(Arc<dyn ByteSource>, u64)>,
}

impl DiscExport {
    fn new(pieces: Vec<Piece>, block: u32) -> DiscExport {
        let mut at = 0;
        let pieces: Vec<(u64, Piece)> = pieces
            .into_iter()
            .filter(|p| p.len() > 0)
            .map(|p| {
                let start = at;
                at += p.len();
                (start, p)
            })
            .collect();
        DiscExport {
            pieces,
            size: at,
            block,
            plain: None,
        }
    }

    /// The user data of the first data track (`None`: an audio-only disc).
    pub fn data(disc: Arc<Disc>) -> Option<DiscExport> {
        let v = SectorView::first_data_track(disc).ok()?;
        let plain = v.plain_source();
        let mut e = DiscExport::new(vec![Piece::View(v)], 2048);
        e.plain = plain;
        Some(e)
    }

    /// Every sector of a CD, raw (`None`: not a CD, or no tracks).
    pub fn raw(disc: Arc<Disc>) -> Option<DiscExport> {
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
                pieces.push(Piece::Gap(gap * 2352));
            }
            let sectors = last.end().since(first.start).max(0) as u32;
            pieces.push(Piece::View(
                SectorView::new(disc.clone(), first.start, sectors, SectorFormat::RAW).ok()?,
            ));
            prev_end = Some(last.end());
        }
        (!pieces.is_empty()).then(|| DiscExport::new(pieces, 2352))
    }

    fn piece_at(&self, offset: u64) -> usize {
        self.pieces
            .partition_point(|(s, _)| *s <= offset)
            .saturating_sub(1)
    }
}

impl Export for DiscExport {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let mut pos = 0usize;
        while pos < buf.len() {
            let off = offset + pos as u64;
            let (start, piece) = self
                .pieces
                .get(self.piece_at(off))
                .filter(|(s, p)| off >= *s && off < s + p.len())
                .ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("offset {off} is past the end"),
                    )
                })?;
            let within = off - start;
            let want = (buf.len() - pos).min((piece.len() - within) as usize);
            let out = &mut buf[pos..pos + want];
            match piece {
                Piece::Gap(_) => out.fill(0),
                Piece::View(v) => {
                    let n = v.read_at(within, out).map_err(io::Error::other)?;
                    if n < want {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "short read from the disc",
                        ));
                    }
                }
            }
            pos += want;
        }
        Ok(())
    }

    fn allocation(&self, offset: u64, length: u64) -> io::Result<Vec<Allocation>> {
        let end = offset.saturating_add(length).min(self.size);
        let mut out: Vec<Allocation> = Vec::new();
        let mut push = |a: Allocation| match out.last_mut() {
            Some(l) if l.hole == a.hole && l.zero == a.zero => l.length += a.length,
            _ => out.push(a),
        };
        let mut off = offset;
        while off < end {
            let (start, piece) = &self.pieces[self.piece_at(off)];
            let within = off - start;
            let take = (piece.len() - within).min(end - off);
            match piece {
                Piece::Gap(_) => push(Allocation {
                    length: take,
                    hole: true,
                    zero: true,
                }),
                Piece::View(v) => {
                    for r in v.runs(within, take) {
                        push(Allocation {
                            length: r.len,
                            hole: !r.stored,
                            zero: r.zero,
                        });
                    }
                }
            }
            off += take;
        }
        Ok(out)
    }

    fn preferred_block_size(&self) -> u32 {
        self.block
    }

    fn file_range(&self, offset: u64, length: u64) -> Option<(&std::fs::File, u64)> {
        let (src, base) = self.plain.as_ref()?;
        (offset.checked_add(length)? <= self.size).then_some(())?;
        Some((src.plain_file()?, base + offset))
    }
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
                out.push(ExportInfo {
                    name: format!("drive{n}"),
                    description: describe(n, &disc, false),
                });
            }
            if disc.medium.is_cd() {
                out.push(ExportInfo {
                    name: format!("drive{n}.raw"),
                    description: describe(n, &disc, true),
                });
            }
        }
        out
    }

    fn open(&self, name: &str) -> Option<(ExportInfo, Arc<dyn Export>)> {
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
        let info = ExportInfo {
            name: if name.is_empty() {
                format!("drive{drive}")
            } else {
                name.to_string()
            },
            description: describe(drive, &disc, raw),
        };
        let export = if raw {
            DiscExport::raw(disc)?
        } else {
            DiscExport::data(disc)?
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
