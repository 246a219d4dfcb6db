//! A description of a disc for `spindle info`, in a shape that serialises to stable JSON.

use serde::Serialize;
use spindle_disc::{ByteSource, CdTextField, Disc, SectorView, Track};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Clone, Debug, Serialize)]
pub struct TrackInfo {
    pub number: u8,
    pub mode: String,
    /// Index 1 (what a TOC reports).
    pub start: i32,
    pub start_msf: String,
    /// Sectors from index 1 to the end of the track.
    pub length: u32,
    /// Sectors of pregap before index 1.
    pub pregap: u32,
    pub pregap_stored: bool,
    /// Pregap sectors at LBA 0 or later that the image does not store (spindle makes them
    /// up); the 150 sectors before LBA 0 of track 1 are stored by no image and not counted.
    pub pregap_synthesised: u32,
    pub postgap: u32,
    pub control: u8,
    pub flags: Vec<&'static str>,
    pub isrc: Option<String>,
    /// Index 2 and later.
    pub indexes: Vec<i32>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub cdtext: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SessionInfo {
    pub number: u8,
    pub leadout: i32,
    pub leadout_msf: String,
    pub tracks: Vec<TrackInfo>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DiscInfo {
    /// The image file as it is on disk (`game.iso.xz`, not the `game.iso` inside).
    pub path: String,
    /// The compression container the image is read from (`gzip`, `xz`, `zstd`), if any.
    pub container: Option<&'static str>,
    pub format: String,
    pub variant: String,
    pub medium: String,
    pub files: Vec<String>,
    pub mcn: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub cdtext: BTreeMap<String, String>,
    /// Volume label: of the ISO9660 filesystem in the first data track, else of the UDF
    /// volume, if there is one.
    pub label: Option<String>,
    /// Set when the data holds no known filesystem: what it looks like instead.
    pub content: Option<String>,
    pub sessions: Vec<SessionInfo>,
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

/// The volume identifier of an ISO9660 primary volume descriptor in the first data track.
pub fn iso_volume_label(disc: &Arc<Disc>) -> Option<String> {
    let view = SectorView::first_data_track(disc.clone()).ok()?;
    let mut pvd = [0u8; 2048];
    // Volume descriptors start at sector 16; the primary one has type 1.
    for sector in 16..32u64 {
        if view.read_at(&mut pvd, sector * 2048).ok()? != 2048
            || &pvd[1..6] != b"CD001"
            || pvd[0] == 0xFF
        {
            return None;
        }
        if pvd[0] == 1 {
            let label = String::from_utf8_lossy(&pvd[40..72])
                .trim_end_matches([' ', '\0'])
                .to_string();
            return Some(label);
        }
    }
    None
}

/// The label of the UDF volume, when there is one.
pub fn udf_volume_label(disc: &Arc<Disc>) -> Option<String> {
    let (dev, _) = crate::disc_device(disc).ok()?;
    if !spindle_udf::detect(dev.clone()) {
        return None;
    }
    spindle_udf::open_udf(dev).ok().map(|fs| fs.label())
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

pub fn info(disc: &Arc<Disc>) -> DiscInfo {
    let sessions = disc
        .sessions
        .iter()
        .map(|s| SessionInfo {
            number: s.number,
            leadout: s.leadout.0,
            leadout_msf: s.leadout.to_msf().to_string(),
            tracks: s
                .tracks
                .iter()
                .map(|t| TrackInfo {
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
                })
                .collect(),
        })
        .collect();
    let (on_disk, container) = crate::verify::stored_image(disc);
    DiscInfo {
        path: on_disk.display().to_string(),
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
        label: iso_volume_label(disc).or_else(|| udf_volume_label(disc)),
        content: crate::content::unrecognised_content(disc),
        sessions,
    }
}
