//! The summary of a disc that `spindle info --json` prints and the catalogue serves as
//! `toc.json`: sessions, tracks, modes, addresses, CD-TEXT, and what its volume is called.
//!
//! Everything here is read from the [`Disc`] alone, except four facts only readers above
//! the disc model can find: the compressed file an image was read from, the labels of its
//! ISO 9660 and UDF volumes (read by the filesystem readers, not by a second parser here),
//! and what data holding no known filesystem looks like ([`VolumeFacts`]). The opener of a
//! disc (spindle-image's registry) attaches a [`VolumeProbe`] to the disc that finds them
//! when a summary is made; without one, the summary names the image path as opened and no
//! label.

use crate::cdtext::CdTextField;
use crate::model::{Disc, Track};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// One track of a [`DiscInfo`].
#[derive(Clone, Debug, Serialize)]
pub struct TrackInfo {
    /// Track number.
    pub number: u8,
    /// Track mode (`audio`, `mode1`, `mode2-xa`...).
    pub mode: String,
    /// Index 1 (what a TOC reports).
    pub start: i32,
    /// Index 1 as MSF.
    pub start_msf: String,
    /// Sectors from index 1 to the end of the track.
    pub length: u32,
    /// Sectors of pregap before index 1.
    pub pregap: u32,
    /// Whether the image stores the pregap.
    pub pregap_stored: bool,
    /// Pregap sectors at LBA 0 or later that the image does not store (spindle makes them
    /// up); the 150 sectors before LBA 0 of track 1 are stored by no image and not counted.
    pub pregap_synthesised: u32,
    /// Sectors of postgap.
    pub postgap: u32,
    /// The Q subchannel CONTROL nibble.
    pub control: u8,
    /// Track flags by their CUE names.
    pub flags: Vec<&'static str>,
    /// The track's ISRC.
    pub isrc: Option<String>,
    /// Index 2 and later.
    pub indexes: Vec<i32>,
    /// CD-TEXT of the track (first block), by lower-case CUE keyword.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub cdtext: BTreeMap<String, String>,
}

/// One session of a [`DiscInfo`].
#[derive(Clone, Debug, Serialize)]
pub struct SessionInfo {
    /// Session number.
    pub number: u8,
    /// LBA of the session's lead-out.
    pub leadout: i32,
    /// The lead-out as MSF.
    pub leadout_msf: String,
    /// The session's tracks.
    pub tracks: Vec<TrackInfo>,
}

/// A description of a disc, in a shape that serialises to stable JSON.
#[derive(Clone, Debug, Serialize)]
pub struct DiscInfo {
    /// The image file as it is on disk (`game.iso.xz`, not the `game.iso` inside).
    pub path: String,
    /// The compression container the image is read from (`gzip`, `xz`, `zstd`), if any.
    pub container: Option<&'static str>,
    /// Format id.
    pub format: String,
    /// The format's variant, for people.
    pub variant: String,
    /// The medium (CD-ROM, DVD-ROM...).
    pub medium: String,
    /// Every file the disc reads.
    pub files: Vec<String>,
    /// The media catalogue number.
    pub mcn: Option<String>,
    /// Disc-wide CD-TEXT (first block), by lower-case CUE keyword.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub cdtext: BTreeMap<String, String>,
    /// Volume label: of the ISO9660 filesystem in the first data track, else of the UDF
    /// volume, if there is one.
    pub label: Option<String>,
    /// Set when the data holds no known filesystem: what it looks like instead.
    pub content: Option<String>,
    /// The sessions.
    pub sessions: Vec<SessionInfo>,
}

/// What only readers above the disc model can tell about a disc (see the module docs).
#[derive(Clone, Debug, Default)]
pub struct VolumeFacts {
    /// The file as stored and its compression container, when the image was decompressed
    /// from one (`None`: the image path as opened).
    pub stored: Option<(PathBuf, &'static str)>,
    /// The ISO 9660 (or High Sierra) volume's label.
    pub iso_label: Option<String>,
    /// The UDF volume's label (used when there is no ISO 9660 label).
    pub udf_label: Option<String>,
    /// What the data looks like when it holds no known filesystem.
    pub content: Option<String>,
}

/// Finds a disc's [`VolumeFacts`]; attached to a disc by whoever opened it
/// ([`Disc::volume_probe`]).
pub type VolumeProbe = fn(&Arc<Disc>) -> VolumeFacts;

impl DiscInfo {
    /// The summary of `disc`, with the facts its [`Disc::volume_probe`] finds (none
    /// without one).
    pub fn of(disc: &Arc<Disc>) -> DiscInfo {
        let facts = disc.volume_probe.map(|p| p(disc)).unwrap_or_default();
        DiscInfo::with_facts(disc, facts)
    }

    /// The summary of `disc` with `facts` found by the caller.
    pub fn with_facts(disc: &Arc<Disc>, facts: VolumeFacts) -> DiscInfo {
        let sessions = disc
            .sessions
            .iter()
            .map(|s| SessionInfo {
                number: s.number,
                leadout: s.leadout.0,
                leadout_msf: s.leadout.to_msf().to_string(),
                tracks: s.tracks.iter().map(|t| track_info(disc, t)).collect(),
            })
            .collect();
        let (path, container) = match facts.stored {
            Some((p, kind)) => (p, Some(kind)),
            None => (disc.source.path.clone(), None),
        };
        DiscInfo {
            path: path.display().to_string(),
            container,
            format: disc.source.format.clone(),
            variant: disc.source.variant.clone(),
            medium: disc.medium.to_string(),
            files: disc
                .source
                .files
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
            mcn: disc.mcn.as_ref().map(|m| m.as_str().to_string()),
            cdtext: text_of(disc, 0),
            label: facts.iso_label.or(facts.udf_label),
            content: facts.content,
            sessions,
        }
    }

    /// The summary as pretty JSON with a final newline (`toc.json`).
    pub fn to_json(&self) -> Vec<u8> {
        let mut j = serde_json::to_vec_pretty(self).expect("a summary always serialises");
        j.push(b'\n');
        j
    }
}

fn track_info(disc: &Disc, t: &Track) -> TrackInfo {
    TrackInfo {
        number: t.number,
        mode: t.mode.to_string(),
        start: t.index1().0,
        start_msf: t.index1().to_msf().to_string(),
        length: t.program_length(),
        pregap: t.pregap,
        pregap_stored: t.pregap_stored(),
        pregap_synthesised: synthesised_pregap(t),
        postgap: t.postgap,
        control: t.control(),
        flags: t.flags.names(),
        isrc: t.isrc.as_ref().map(|i| i.as_str().to_string()),
        indexes: t.extra_indexes.iter().map(|l| l.0).collect(),
        cdtext: text_of(disc, t.number),
    }
}

fn text_of(disc: &Disc, track: u8) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    if let Some(b) = disc.cdtext.as_ref().and_then(|c| c.first()) {
        for f in CdTextField::ALL {
            if let Some(v) = b.get(track, f) {
                m.insert(f.cue_keyword().to_lowercase(), v.to_string());
            }
        }
    }
    m
}

/// Pregap sectors of `t` at LBA 0 or later that the image does not store.
fn synthesised_pregap(t: &Track) -> u32 {
    let (from, to) = (t.start.0.max(0) as i64, t.index1().0 as i64);
    let mut at = t.start.0 as i64;
    let mut n = 0;
    for e in &t.extents {
        let end = at + e.sectors as i64;
        if e.is_zero() {
            n += (end.min(to) - at.max(from)).max(0);
        }
        at = end;
        if at >= to {
            break;
        }
    }
    n as u32
}
