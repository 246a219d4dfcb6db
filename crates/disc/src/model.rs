//! The disc model: plain data that formats build and every consumer reads.
//!
//! A [`Disc`] holds [`Session`]s, a session holds [`Track`]s, and a track's sectors are
//! described by [`Extent`]s that say where each run of sectors lives. Addresses are
//! absolute [`Lba`]s; track 1 of session 1 starts at LBA −150 with its 150-sector pregap,
//! so that its index 1 is LBA 0, as on a real CD.

use crate::addr::Lba;
use crate::cdtext::CdText;
use crate::extent::Extent;
use crate::medium::{DiscStructures, Dpm, Medium, TocEntry};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;

/// How the sectors of a track are encoded on the disc.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TrackMode {
    /// CD-DA: 2352 bytes of 16-bit stereo samples.
    Audio,
    /// Mode 0: sync + header + 2336 zero bytes (seen only in gaps).
    Mode0,
    /// Mode 1: 2048 bytes of user data with EDC and ECC.
    Mode1,
    /// Mode 2 without XA structure: 2336 bytes of user data, no EDC/ECC.
    Mode2Formless,
    /// Mode 2 XA Form 1: subheader, 2048 bytes of data, EDC, ECC.
    Mode2Form1,
    /// Mode 2 XA Form 2: subheader, 2324 bytes of data, optional EDC.
    Mode2Form2,
    /// Mode 2 XA with the form chosen per sector by its subheader (CD-ROM XA, VCD, CD-i).
    Mode2Mixed,
}

impl TrackMode {
    /// True for CD-DA tracks.
    pub fn is_audio(self) -> bool {
        self == TrackMode::Audio
    }
    /// True for every mode but audio.
    pub fn is_data(self) -> bool {
        !self.is_audio()
    }
    /// The CD sector mode byte (header byte 3).
    pub fn mode_byte(self) -> u8 {
        match self {
            TrackMode::Audio | TrackMode::Mode0 => 0,
            TrackMode::Mode1 => 1,
            _ => 2,
        }
    }
    /// True for the modes whose sectors carry an XA subheader.
    pub fn has_subheader(self) -> bool {
        matches!(
            self,
            TrackMode::Mode2Form1 | TrackMode::Mode2Form2 | TrackMode::Mode2Mixed
        )
    }
    /// User data bytes per sector (for mixed XA: the Form 1 size).
    pub fn user_size(self) -> usize {
        match self {
            TrackMode::Audio => 2352,
            TrackMode::Mode0 | TrackMode::Mode2Formless => 2336,
            TrackMode::Mode1 | TrackMode::Mode2Form1 | TrackMode::Mode2Mixed => 2048,
            TrackMode::Mode2Form2 => 2324,
        }
    }
    /// The mode's short name (`audio`, `mode1`, `mode2-form1`...), as the [`Display`](fmt::Display)
    /// impl shows it.
    pub fn name(self) -> &'static str {
        match self {
            TrackMode::Audio => "audio",
            TrackMode::Mode0 => "mode0",
            TrackMode::Mode1 => "mode1",
            TrackMode::Mode2Formless => "mode2",
            TrackMode::Mode2Form1 => "mode2-form1",
            TrackMode::Mode2Form2 => "mode2-form2",
            TrackMode::Mode2Mixed => "mode2-xa",
        }
    }
}

impl fmt::Display for TrackMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Track flags carried in the Q subchannel CONTROL field (plus SCMS, which CUE sheets carry).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackFlags {
    /// Audio recorded with pre-emphasis (PRE).
    pub pre_emphasis: bool,
    /// Digital copy permitted (DCP).
    pub copy_permitted: bool,
    /// Four-channel audio (4CH).
    pub four_channel: bool,
    /// Serial copy management system (SCMS); not part of CONTROL.
    pub scms: bool,
}

impl TrackFlags {
    /// The 4-bit CONTROL value for a track of `mode`.
    pub fn control(self, mode: TrackMode) -> u8 {
        let mut c = 0;
        if self.pre_emphasis && mode.is_audio() {
            c |= 0x1;
        }
        if self.copy_permitted {
            c |= 0x2;
        }
        if mode.is_data() {
            c |= 0x4;
        }
        if self.four_channel && mode.is_audio() {
            c |= 0x8;
        }
        c
    }
    /// The flags that are set, by their CUE sheet names (DCP, 4CH, PRE, SCMS).
    pub fn names(self) -> Vec<&'static str> {
        [
            (self.copy_permitted, "DCP"),
            (self.four_channel, "4CH"),
            (self.pre_emphasis, "PRE"),
            (self.scms, "SCMS"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect()
    }
    /// Sets a flag by its CUE sheet name (any case); false for an unknown name.
    pub fn set_by_name(&mut self, name: &str) -> bool {
        let flag = match name.to_ascii_uppercase().as_str() {
            "DCP" => &mut self.copy_permitted,
            "4CH" => &mut self.four_channel,
            "PRE" => &mut self.pre_emphasis,
            "SCMS" => &mut self.scms,
            _ => return false,
        };
        *flag = true;
        true
    }
    /// The flags a 4-bit CONTROL value carries (the inverse of [`TrackFlags::control`]; SCMS is
    /// never set).
    pub fn from_control(control: u8) -> TrackFlags {
        TrackFlags {
            pre_emphasis: control & 0x1 != 0 && control & 0x4 == 0,
            copy_permitted: control & 0x2 != 0,
            four_channel: control & 0x8 != 0,
            scms: false,
        }
    }
}

/// An International Standard Recording Code: 12 characters `CCOOOYYSSSSS`
/// (country and owner alphanumeric, year and serial digits).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Isrc(String);

impl Isrc {
    /// Checks the 12-character form; `None` when `text` is not an ISRC.
    pub fn parse(text: &str) -> Option<Isrc> {
        let b = text.as_bytes();
        let ok = b.len() == 12
            && b[..5]
                .iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            && b[5..].iter().all(u8::is_ascii_digit);
        ok.then(|| Isrc(text.to_string()))
    }
    /// The 12 characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A Media Catalog Number (UPC/EAN): 13 decimal digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Mcn(String);

impl Mcn {
    /// Checks for 13 ASCII digits; `None` otherwise.
    pub fn parse(text: &str) -> Option<Mcn> {
        (text.len() == 13 && text.bytes().all(|c| c.is_ascii_digit()))
            .then(|| Mcn(text.to_string()))
    }
    /// The 13 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One track: its addresses and where its sectors live.
///
/// `start` is the first sector of the track, its pregap (index 0) included; index 1 is at
/// `start + pregap`. `extents` cover exactly `length` sectors from `start`, pregap and
/// postgap included.
#[derive(Clone, Debug)]
pub struct Track {
    /// Track number (1..=99), unique across the disc.
    pub number: u8,
    /// How the track's sectors are encoded.
    pub mode: TrackMode,
    /// The CONTROL flags (and SCMS).
    pub flags: TrackFlags,
    /// The track's ISRC, when the image stores one.
    pub isrc: Option<Isrc>,
    /// First sector, index 0 included.
    pub start: Lba,
    /// Sectors of pregap (index 0) before index 1.
    pub pregap: u32,
    /// Absolute addresses of index 2 and later (index 1 is `start + pregap`).
    pub extra_indexes: Vec<Lba>,
    /// Every sector of the track: pregap + program + postgap.
    pub length: u32,
    /// Sectors at the end of `length` that are postgap.
    pub postgap: u32,
    /// Where the track's sectors live, in order; their lengths add up to `length`.
    pub extents: Vec<Extent>,
}

impl Track {
    /// Index 1: where the track's program area starts (what a TOC reports).
    pub fn index1(&self) -> Lba {
        self.start.offset(self.pregap as i64)
    }
    /// One past the last sector.
    pub fn end(&self) -> Lba {
        self.start.offset(self.length as i64)
    }
    /// Sectors from index 1 to the end of the track.
    pub fn program_length(&self) -> u32 {
        self.length - self.pregap
    }
    /// True when `lba` lies in the track (pregap and postgap included).
    pub fn contains(&self, lba: Lba) -> bool {
        lba >= self.start && lba < self.end()
    }
    /// The index (0, 1, 2...) that `lba` lies in.
    pub fn index_at(&self, lba: Lba) -> u8 {
        if lba < self.index1() {
            return 0;
        }
        1 + self.extra_indexes.iter().take_while(|&&i| i <= lba).count() as u8
    }
    /// The 4-bit CONTROL value.
    pub fn control(&self) -> u8 {
        self.flags.control(self.mode)
    }
    /// True when every pregap sector is stored in the image (not synthesised zeros).
    pub fn pregap_stored(&self) -> bool {
        let mut left = self.pregap;
        for e in &self.extents {
            if left == 0 {
                break;
            }
            if e.is_zero() {
                return false;
            }
            left = left.saturating_sub(e.sectors);
        }
        true
    }
}

/// The disc type a session reports in its A0 TOC entry (PSEC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SessionFormat {
    /// CD-DA or CD-ROM (0x00).
    CdDaOrCdRom,
    /// CD-i (0x10).
    CdI,
    /// CD-ROM XA (0x20).
    CdRomXa,
}

impl SessionFormat {
    /// The code the A0 TOC entry carries in PSEC.
    pub fn code(self) -> u8 {
        match self {
            SessionFormat::CdDaOrCdRom => 0x00,
            SessionFormat::CdI => 0x10,
            SessionFormat::CdRomXa => 0x20,
        }
    }
}

/// One session: its tracks, and where its lead-out starts.
#[derive(Clone, Debug)]
pub struct Session {
    /// Session number (1-based).
    pub number: u8,
    /// The session's tracks, sorted by start address.
    pub tracks: Vec<Track>,
    /// First sector of the lead-out (= end of the last track).
    pub leadout: Lba,
}

impl Session {
    /// The session's first track, if it has any.
    pub fn first_track(&self) -> Option<&Track> {
        self.tracks.first()
    }
    /// The session's last track, if it has any.
    pub fn last_track(&self) -> Option<&Track> {
        self.tracks.last()
    }
    /// The disc type of this session, from its track modes.
    pub fn format(&self) -> SessionFormat {
        if self.tracks.iter().any(|t| {
            matches!(
                t.mode,
                TrackMode::Mode2Formless
                    | TrackMode::Mode2Form1
                    | TrackMode::Mode2Form2
                    | TrackMode::Mode2Mixed
            )
        }) {
            SessionFormat::CdRomXa
        } else {
            SessionFormat::CdDaOrCdRom
        }
    }
}

/// Where a disc came from: the format that parsed it and the files it reads.
#[derive(Clone, Debug, Default)]
pub struct SourceInfo {
    /// Format id (`iso`, `cue`, `mds`...).
    pub format: String,
    /// A human description of the variant (`ISO 2048`, `raw 2352 ISO`, `CUE/BIN`...).
    pub variant: String,
    /// The descriptor or image file the user named.
    pub path: PathBuf,
    /// Every file the disc reads sectors from.
    pub files: Vec<PathBuf>,
}

/// A whole disc: what a drive would hold.
#[derive(Clone, Debug)]
pub struct Disc {
    /// What kind of disc this is.
    pub medium: Medium,
    /// The sessions, in order.
    pub sessions: Vec<Session>,
    /// The disc's Media Catalog Number, when the image stores one.
    pub mcn: Option<Mcn>,
    /// CD-TEXT, when the image stores or describes it.
    pub cdtext: Option<CdText>,
    /// DVD/BD structures (empty for CDs).
    pub structures: DiscStructures,
    /// The raw full TOC when the image stored one (empty: generated from the tracks).
    pub full_toc: Vec<TocEntry>,
    /// Data position measurement blocks, as stored by the image (MDS).
    pub dpm: Vec<Dpm>,
    /// The format and files the disc was read from.
    pub source: SourceInfo,
    /// Finds what only readers above the disc model know of it (its UDF label, what data
    /// with no known filesystem looks like, the compressed file it came from), for its
    /// summary ([`crate::summary`]). Set by the opener (spindle-image's registry); `None`
    /// for discs built otherwise.
    pub volume_probe: Option<crate::summary::VolumeProbe>,
}

impl Disc {
    /// An empty CD to fill in.
    pub fn new(medium: Medium, source: SourceInfo) -> Disc {
        Disc {
            medium,
            sessions: Vec::new(),
            mcn: None,
            cdtext: None,
            structures: DiscStructures::default(),
            full_toc: Vec::new(),
            dpm: Vec::new(),
            source,
            volume_probe: None,
        }
    }

    /// Every track of every session, in disc order.
    pub fn tracks(&self) -> impl Iterator<Item = &Track> {
        self.sessions.iter().flat_map(|s| s.tracks.iter())
    }

    /// The track numbered `number`, in any session.
    pub fn track(&self, number: u8) -> Option<&Track> {
        self.tracks().find(|t| t.number == number)
    }

    /// The session and track holding `lba`.
    pub fn locate(&self, lba: Lba) -> Option<(&Session, &Track)> {
        for s in &self.sessions {
            if let (Some(first), Some(last)) = (s.first_track(), s.last_track())
                && lba >= first.start
                && lba < last.end()
            {
                // Tracks are sorted: binary search by start.
                let i = s.tracks.partition_point(|t| t.start <= lba);
                let t = &s.tracks[i.saturating_sub(1)];
                return t.contains(lba).then_some((s, t));
            }
        }
        None
    }

    /// The lead-out of the last session: one past the last addressable sector.
    pub fn leadout(&self) -> Lba {
        self.sessions.last().map(|s| s.leadout).unwrap_or(Lba::ZERO)
    }

    /// The first data track (what an ISO view or a filesystem reads by default). On a
    /// multisession disc this is the first data track of the first session that has one.
    pub fn first_data_track(&self) -> Option<&Track> {
        self.tracks().find(|t| t.mode.is_data())
    }

    /// The last data track of the disc (where a multisession filesystem's newest volume lives).
    pub fn last_data_track(&self) -> Option<&Track> {
        self.tracks().filter(|t| t.mode.is_data()).last()
    }

    /// True when any track is an audio track.
    pub fn has_audio(&self) -> bool {
        self.tracks().any(|t| t.mode.is_audio())
    }

    /// Number of tracks over all sessions.
    pub fn track_count(&self) -> usize {
        self.sessions.iter().map(|s| s.tracks.len()).sum()
    }
}
