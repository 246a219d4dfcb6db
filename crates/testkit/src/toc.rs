//! A comparable table of contents of a disc: every field of every track a TOC can show, and
//! each session's lead-out. Suites that compare fewer fields (a format that cannot store a
//! postgap, say) blank them in both rows before comparing.

use spindle_disc::Disc;

/// Everything of one track a table of contents shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackRow {
    /// The session's number.
    pub session: u8,
    /// The track's number.
    pub number: u8,
    /// The track mode's name (`TrackMode::name`).
    pub mode: String,
    /// The first sector, index 0 included.
    pub start: i32,
    /// Sectors of pregap.
    pub pregap: u32,
    /// Index 1.
    pub index1: i32,
    /// Sectors, the pregap included.
    pub length: u32,
    /// One past the last sector.
    pub end: i32,
    /// Sectors of postgap.
    pub postgap: u32,
    /// Indexes 2 and on.
    pub extra_indexes: Vec<i32>,
    /// The Q subchannel's control nibble.
    pub control: u8,
    /// The SCMS flag.
    pub scms: bool,
    /// The ISRC.
    pub isrc: Option<String>,
}

/// A disc's TOC: its tracks and the lead-out of every session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Toc {
    /// Every track, in order.
    pub tracks: Vec<TrackRow>,
    /// Every session's lead-out LBA.
    pub leadouts: Vec<i32>,
}

/// The TOC of `disc`.
pub fn toc(disc: &Disc) -> Toc {
    let mut tracks = Vec::new();
    for s in &disc.sessions {
        for t in &s.tracks {
            tracks.push(TrackRow {
                session: s.number,
                number: t.number,
                mode: t.mode.name().to_string(),
                start: t.start.0,
                pregap: t.pregap,
                index1: t.index1().0,
                length: t.length,
                end: t.end().0,
                postgap: t.postgap,
                extra_indexes: t.extra_indexes.iter().map(|l| l.0).collect(),
                control: t.control(),
                scms: t.flags.scms,
                isrc: t.isrc.as_ref().map(|i| i.as_str().to_string()),
            });
        }
    }
    Toc {
        tracks,
        leadouts: disc.sessions.iter().map(|s| s.leadout.0).collect(),
    }
}

impl Toc {
    /// The same TOC with every track row passed through `f` (to blank what a suite does not
    /// compare).
    pub fn map(self, f: impl Fn(TrackRow) -> TrackRow) -> Toc {
        Toc {
            tracks: self.tracks.into_iter().map(f).collect(),
            leadouts: self.leadouts,
        }
    }
}

/// Fails the test unless `back` (a disc written and read again) has the MCN and the first
/// CD-TEXT block's items of `disc`; `what` names the case.
pub fn assert_same_codes(back: &Disc, disc: &Disc, what: &str) {
    assert_eq!(back.mcn, disc.mcn, "{what}: MCN");
    let items = |d: &Disc| {
        d.cdtext
            .as_ref()
            .and_then(|c| c.first())
            .map(|b| b.items.clone())
    };
    assert_eq!(items(back), items(disc), "{what}: CD-TEXT");
}
