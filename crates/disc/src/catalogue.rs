//! The catalogue of a disc's files: every named view a disc offers, built once from the disc
//! alone, so that every frontend that shows files of a disc (the FUSE `drives/<N>/` tree, the
//! daemon's NBD exports, later the SCSI drive and network shares) lists the same names with
//! the same bytes.
//!
//! | name             | bytes                                                            |
//! |------------------|------------------------------------------------------------------|
//! | `disc.iso`       | user data (2048-byte blocks) of the first data track              |
//! | `disc.cue`       | a CUE sheet naming `disc.bin` (CDs)                               |
//! | `disc.bin`       | the raw sectors that sheet describes ([`bin_plan`]) (CDs)         |
//! | `disc.raw`       | every sector of a CD, raw, in the layout below (CDs)              |
//! | `toc.json`       | the summary `spindle info --json` prints ([`DiscInfo`])           |
//! | `tracks/NN.wav`  | an audio track from index 1, behind a 44-byte RIFF/WAVE header    |
//! | `tracks/NN.iso`  | user data of a Mode 1, Mode 2 Form 1 or Mode 2 XA track           |
//! | `tracks/NN.bin`  | raw 2352-byte sectors of a track, pregap included (CDs)           |
//!
//! **`disc.raw`** addresses the disc linearly from the start of its first track (the pregap
//! of track 1, LBA −150 on a disc laid out like a pressed CD): byte `(lba − start) × 2352` is
//! the first byte of sector `lba`, every sector 2352 bytes (sync, header, data, EDC/ECC as
//! [`SectorFormat::RAW`] reads them; no subchannel), up to the end of the last track. The
//! sectors between sessions (lead-out, lead-in and pregap of the next session) that no track
//! holds read as zeros and are reported as unstored zero runs. `disc.bin` differs: it is what
//! `disc.cue` describes, which leaves out the leading 150 sectors and unstored gaps a CUE
//! sheet expresses as `PREGAP`/`POSTGAP`, and has no bytes for the gaps between sessions.
//!
//! A view that cannot be built is left out; [`Catalogue::skipped`] says which and why.

use crate::cuesheet::{bin_plan, cue_sheet};
use crate::model::{Disc, TrackMode};
use crate::read::{SectorFormat, SubFormat};
use crate::summary::DiscInfo;
use crate::views::{SectorView, wav_header};
use spindle_bytes::{ByteSource, Concat, MemSource, Piece};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// The directory of the per-track entries (`tracks/01.bin`).
pub const TRACKS_DIR: &str = "tracks";

/// What an entry of a [`Catalogue`] holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// `disc.iso`: user data of the first data track.
    DiscIso,
    /// `disc.cue`: the CUE sheet of `disc.bin`.
    DiscCue,
    /// `disc.bin`: the raw sectors `disc.cue` describes.
    DiscBin,
    /// `disc.raw`: every sector, raw, from the first track's start (see the module docs).
    DiscRaw,
    /// `toc.json`: the disc's summary.
    Toc,
    /// `tracks/NN.iso`: user data of a data track.
    TrackIso(u8),
    /// `tracks/NN.bin`: raw sectors of a track, pregap included.
    TrackBin(u8),
    /// `tracks/NN.wav`: an audio track with a RIFF/WAVE header.
    TrackWav(u8),
}

impl EntryKind {
    /// The size of the sectors the entry is made of (2048 user data, 2352 raw), if it is
    /// made of sectors.
    pub fn sector_size(self) -> Option<u32> {
        match self {
            EntryKind::DiscIso | EntryKind::TrackIso(_) => Some(2048),
            EntryKind::DiscBin | EntryKind::DiscRaw | EntryKind::TrackBin(_) => Some(2352),
            _ => None,
        }
    }

    /// What the entry holds, for people.
    pub fn describe(self) -> String {
        match self {
            EntryKind::DiscIso => "user data of the first data track, 2048-byte blocks".into(),
            EntryKind::DiscCue => "CUE sheet of disc.bin".into(),
            EntryKind::DiscBin => "raw 2352-byte sectors as disc.cue describes them".into(),
            EntryKind::DiscRaw => {
                "raw 2352-byte sectors from the first track's start, gaps as zeros".into()
            }
            EntryKind::Toc => "sessions and tracks as JSON (spindle info --json)".into(),
            EntryKind::TrackIso(n) => format!("user data of track {n}, 2048-byte blocks"),
            EntryKind::TrackBin(n) => format!("raw 2352-byte sectors of track {n}"),
            EntryKind::TrackWav(n) => format!("audio of track {n} as WAVE"),
        }
    }
}

/// One named view of a disc.
#[derive(Clone)]
pub struct Entry {
    name: String,
    kind: EntryKind,
    bytes: Arc<dyn ByteSource>,
}

impl Entry {
    /// The name, `/`-separated from the disc's directory (`disc.iso`, `tracks/02.wav`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The name without its directory (`02.wav`).
    pub fn file_name(&self) -> &str {
        self.name.rsplit('/').next().unwrap_or(&self.name)
    }

    /// Whether the entry lies in [`TRACKS_DIR`].
    pub fn in_tracks(&self) -> bool {
        matches!(
            self.kind,
            EntryKind::TrackIso(_) | EntryKind::TrackBin(_) | EntryKind::TrackWav(_)
        )
    }

    /// What it holds.
    pub fn kind(&self) -> EntryKind {
        self.kind
    }

    /// Its bytes, read on the fly (nothing is materialised but headers, the CUE sheet and
    /// `toc.json`).
    pub fn bytes(&self) -> &Arc<dyn ByteSource> {
        &self.bytes
    }

    /// Length in bytes.
    pub fn len(&self) -> u64 {
        self.bytes.len()
    }

    /// Whether it holds no byte.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An entry the disc would offer but that could not be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// The entry's name.
    pub name: String,
    /// Why it is not there.
    pub reason: String,
}

/// The named views of one disc (see the module docs).
#[derive(Clone)]
pub struct Catalogue {
    disc: Arc<Disc>,
    entries: Vec<Entry>,
    skipped: Vec<Skipped>,
}

impl Catalogue {
    /// Every view `disc` offers, in listing order: `disc.iso`, `disc.cue`, `disc.bin`,
    /// `disc.raw`, `toc.json`, then each track's `NN.wav` or `NN.iso` and `NN.bin`.
    pub fn of(disc: Arc<Disc>) -> Catalogue {
        let mut c = Catalogue {
            disc: disc.clone(),
            entries: Vec::new(),
            skipped: Vec::new(),
        };
        let image = disc.source.path.display().to_string();
        // Errors name the image and the entry: `game.cue [disc.bin]`.
        let at = |name: &str| PathBuf::from(format!("{image} [{name}]"));
        // An audio-only disc has no disc.iso, and says nothing about it.
        if let Ok(view) = SectorView::first_data_track(disc.clone()) {
            c.push(
                "disc.iso".into(),
                EntryKind::DiscIso,
                Ok(one(view, at("disc.iso"))),
            );
        }
        if disc.medium.is_cd() {
            let cue = cue_sheet(&disc, &|_| "disc.bin".to_string());
            let cue = MemSource::new(cue.into_bytes(), at("disc.cue"));
            c.push("disc.cue".into(), EntryKind::DiscCue, Ok(Arc::new(cue)));
            c.push(
                "disc.bin".into(),
                EntryKind::DiscBin,
                bin(&disc, at("disc.bin")),
            );
            c.push(
                "disc.raw".into(),
                EntryKind::DiscRaw,
                raw(&disc, at("disc.raw")),
            );
        }
        let toc = TocSource {
            disc: disc.clone(),
            path: at("toc.json"),
            json: OnceLock::new(),
        };
        c.push("toc.json".into(), EntryKind::Toc, Ok(Arc::new(toc)));
        for t in disc.tracks() {
            let n = t.number;
            let name = |ext: &str| format!("{TRACKS_DIR}/{n:02}.{ext}");
            if t.mode.is_audio() {
                let wav_path = at(&name("wav"));
                let wav = SectorView::audio(disc.clone(), n).map(|v| {
                    let h = wav_header(v.len().min(u32::MAX as u64 - 36) as u32);
                    concat(
                        [Piece::Data(Arc::from(&h[..])), Piece::Source(Arc::new(v))],
                        wav_path,
                    )
                });
                c.push(
                    name("wav"),
                    EntryKind::TrackWav(n),
                    wav.map_err(|e| e.to_string()),
                );
            } else if matches!(
                t.mode,
                TrackMode::Mode1 | TrackMode::Mode2Form1 | TrackMode::Mode2Mixed
            ) {
                let iso = SectorView::user_data(disc.clone(), n).map(|v| one(v, at(&name("iso"))));
                c.push(
                    name("iso"),
                    EntryKind::TrackIso(n),
                    iso.map_err(|e| e.to_string()),
                );
            }
            if disc.medium.is_cd() {
                let bin = SectorView::raw_track(disc.clone(), n, SubFormat::None)
                    .map(|v| one(v, at(&name("bin"))));
                c.push(
                    name("bin"),
                    EntryKind::TrackBin(n),
                    bin.map_err(|e| e.to_string()),
                );
            }
        }
        c
    }

    fn push(&mut self, name: String, kind: EntryKind, r: Result<Arc<dyn ByteSource>, String>) {
        match r {
            Ok(bytes) => self.entries.push(Entry { name, kind, bytes }),
            Err(reason) => self.skipped.push(Skipped { name, reason }),
        }
    }

    /// The disc.
    pub fn disc(&self) -> &Arc<Disc> {
        &self.disc
    }

    /// Every entry, in listing order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entry named `name` (`disc.raw`, `tracks/01.bin`).
    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.name == name)
    }

    /// The entry of `kind`.
    pub fn by_kind(&self, kind: EntryKind) -> Option<&Entry> {
        self.entries.iter().find(|e| e.kind == kind)
    }

    /// The entries the disc would offer that could not be built, and why.
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }
}

/// A view as a one-piece composite, named after the image in errors.
fn one(view: SectorView, path: PathBuf) -> Arc<dyn ByteSource> {
    concat([Piece::Source(Arc::new(view))], path)
}

fn concat(pieces: impl IntoIterator<Item = Piece>, path: PathBuf) -> Arc<dyn ByteSource> {
    Arc::new(Concat::new(pieces, path))
}

/// `disc.bin`: one raw view per run of [`bin_plan`].
fn bin(disc: &Arc<Disc>, path: PathBuf) -> Result<Arc<dyn ByteSource>, String> {
    let mut pieces = Vec::new();
    for p in bin_plan(disc) {
        let v = SectorView::new(disc.clone(), p.first, p.sectors(), SectorFormat::RAW)
            .map_err(|e| format!("track {}: {e}", p.track))?;
        pieces.push(Piece::Source(Arc::new(v)));
    }
    Ok(concat(pieces, path))
}

/// `disc.raw`: each session's tracks as one raw view, zeros between sessions.
fn raw(disc: &Arc<Disc>, path: PathBuf) -> Result<Arc<dyn ByteSource>, String> {
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
        let v = SectorView::new(disc.clone(), first.start, sectors, SectorFormat::RAW)
            .map_err(|e| format!("session {}: {e}", s.number))?;
        pieces.push(Piece::Source(Arc::new(v)));
        prev_end = Some(last.end());
    }
    if pieces.is_empty() {
        return Err("the disc has no tracks".into());
    }
    Ok(concat(pieces, path))
}

/// `toc.json`, made on first use: the summary may read the disc (volume labels), which
/// listing a catalogue to open one other entry should not.
struct TocSource {
    disc: Arc<Disc>,
    path: PathBuf,
    json: OnceLock<MemSource>,
}

impl TocSource {
    fn json(&self) -> &MemSource {
        self.json
            .get_or_init(|| MemSource::new(DiscInfo::of(&self.disc).to_json(), self.path.clone()))
    }
}

impl ByteSource for TocSource {
    fn len(&self) -> u64 {
        self.json().len()
    }
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        self.json().read_at(buf, offset)
    }
    fn path(&self) -> &Path {
        &self.path
    }
}
