//! Reading the layout of a disc from a drive: what is loaded (profile), the sessions and
//! tracks (READ TOC formats 0, 1 and 2), CD-TEXT (format 5), MCN and ISRCs (READ
//! SUB-CHANNEL), the capacity, and DVD structures (READ DISC STRUCTURE).
//!
//! Optional answers a drive may not give (full TOC, CD-TEXT, sub-channel, structures: QEMU's
//! drive has none of READ TRACK INFORMATION or features beyond the profile list) leave their
//! field empty; the layout falls back to what the basic TOC says.

use crate::error::{Result, RipError};
use spindle_disc::TocEntry;
use spindle_mmc::cdb::{ConfigRequest, SubChannelFormat};
use spindle_mmc::config::profile;
use spindle_mmc::subq::SubChannelData;
use spindle_mmc::toc::LEADOUT;
use spindle_mmc::{Mmc, SenseKey, Transport};
use std::time::Duration;

/// The family of the loaded medium, from the current profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// A CD (CD-ROM, CD-R, CD-RW profiles).
    Cd,
    /// A DVD (profiles 0x10 to 0x2F).
    Dvd,
    /// A Blu-ray disc (profiles 0x40 to 0x4F).
    Bd,
    /// Any other profile (none, or a medium spindle does not rip).
    Unknown,
}

/// The family of MMC profile number `profile`.
pub fn family_of(profile: u16) -> Family {
    match profile {
        profile::CD_ROM | profile::CD_R | profile::CD_RW => Family::Cd,
        0x0010..=0x002F => Family::Dvd,
        0x0040..=0x004F => Family::Bd,
        _ => Family::Unknown,
    }
}

/// One track as the drive reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackLayout {
    /// Track number, 1 to 99.
    pub number: u8,
    /// Number of the session the track is in, from 1.
    pub session: u8,
    /// CONTROL nibble (bit 2: data).
    pub control: u8,
    /// Index 1.
    pub start: i64,
    /// Sectors from index 1 to the next track's index 1 in the session, or to the lead-out.
    pub length: u64,
    /// The track's ISRC, when the drive reports one (12 characters).
    pub isrc: Option<String>,
}

impl TrackLayout {
    /// True for a data track (CONTROL bit 2).
    pub fn is_data(&self) -> bool {
        self.control & 4 != 0
    }
    /// The LBA just after the track (its start plus its length).
    pub fn end(&self) -> i64 {
        self.start + self.length as i64
    }
}

/// One session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionLayout {
    /// Session number, from 1.
    pub number: u8,
    /// Number of the session's first track.
    pub first_track: u8,
    /// Number of the session's last track.
    pub last_track: u8,
    /// LBA of the session's lead-out.
    pub leadout: i64,
}

/// What a drive says about its disc.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiscLayout {
    /// The current MMC profile number (GET CONFIGURATION).
    pub profile: u16,
    /// The family of that profile.
    pub family: Family,
    /// READ CAPACITY: blocks (last LBA + 1).
    pub capacity: u64,
    /// The sessions, in order.
    pub sessions: Vec<SessionLayout>,
    /// The tracks of every session, in order.
    pub tracks: Vec<TrackLayout>,
    /// The full TOC, when the drive gives one (CD).
    pub full_toc: Vec<TocEntry>,
    /// CD-TEXT packs (18 bytes each), when there are any.
    pub cd_text: Vec<u8>,
    /// The disc's media catalogue number (13 digits), when the drive reports one.
    pub mcn: Option<String>,
    /// DVD physical format information per layer, disc manufacturing information, BCA.
    pub pfi: Vec<Vec<u8>>,
    /// Disc manufacturing information (DVD), 2048 bytes per layer.
    pub dmi: Vec<Vec<u8>>,
    /// Burst cutting area (DVD, BD), when the disc has one.
    pub bca: Option<Vec<u8>>,
}

/// Waits for the drive to be ready: unit attentions and "becoming ready" pass, no medium
/// is an error.
pub fn wait_ready<T: Transport>(m: &mut Mmc<T>, patience: Duration) -> Result<()> {
    let start = std::time::Instant::now();
    loop {
        match m.test_unit_ready() {
            Ok(()) => return Ok(()),
            Err(e) => {
                let s = e.sense().copied();
                let retry = match s.map(|s| (s.key, s.asc.0)) {
                    Some((SenseKey::UnitAttention, _)) => true,
                    Some((SenseKey::NotReady, 0x04)) => true,
                    Some((SenseKey::NotReady, 0x3A)) => {
                        return Err(RipError::Drive(format!("no disc in the drive: {e}")));
                    }
                    _ => false,
                };
                if !retry || start.elapsed() > patience {
                    return Err(e.into());
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// Reads the layout.
pub fn read_layout<T: Transport>(m: &mut Mmc<T>) -> Result<DiscLayout> {
    wait_ready(m, Duration::from_secs(30))?;
    let profile = m
        .get_configuration(ConfigRequest::Current, 0)
        .map(|c| c.current_profile)
        .unwrap_or(profile::NONE);
    let family = family_of(profile);
    let capacity = m.read_capacity()?.blocks();
    let toc = m.read_toc(false, 0)?;
    let leadout = toc
        .leadout()
        .map(|t| t.address.lba().0 as i64)
        .ok_or_else(|| RipError::Drive("the TOC has no lead-out".into()))?;
    let full_toc = if family == Family::Cd || family == Family::Unknown {
        m.full_toc(0).map(|f| f.entries).unwrap_or_default()
    } else {
        Vec::new()
    };
    // Sessions: from the full TOC's A0/A1/A2 points; else one session, or two from the
    // session information.
    let mut sessions: Vec<SessionLayout> = Vec::new();
    for e in full_toc
        .iter()
        .filter(|e| e.point == 0xA0 && e.adr_ctl & 0xF == 1)
    {
        let find = |p: u8| {
            full_toc
                .iter()
                .find(|x| x.session == e.session && x.point == p)
        };
        let (Some(a1), Some(a2)) = (find(0xA1), find(0xA2)) else {
            continue;
        };
        sessions.push(SessionLayout {
            number: e.session,
            first_track: e.pmin,
            last_track: a1.pmin,
            leadout: spindle_disc::Msf {
                m: a2.pmin,
                s: a2.psec,
                f: a2.pframe,
            }
            .to_lba()
            .0 as i64,
        });
    }
    let numbers: Vec<u8> = toc
        .tracks
        .iter()
        .filter(|t| t.track != LEADOUT)
        .map(|t| t.track)
        .collect();
    if sessions.is_empty() {
        let (first, last) = (toc.first_track, toc.last_track);
        match m.session_info(false) {
            Ok(si) if si.last_session > 1 && si.first_track_last_session.track > first => {
                let split = si.first_track_last_session.track;
                let before = numbers
                    .iter()
                    .copied()
                    .filter(|&n| n < split)
                    .max()
                    .unwrap_or(first);
                sessions.push(SessionLayout {
                    number: si.first_session,
                    first_track: first,
                    last_track: before,
                    // Unknown without a full TOC: the usual gap before the next session.
                    leadout: si.first_track_last_session.address.lba().0 as i64 - 11400,
                });
                sessions.push(SessionLayout {
                    number: si.last_session,
                    first_track: split,
                    last_track: last,
                    leadout,
                });
            }
            _ => sessions.push(SessionLayout {
                number: 1,
                first_track: first,
                last_track: last,
                leadout,
            }),
        }
    }
    let session_of = |n: u8| {
        sessions
            .iter()
            .find(|s| (s.first_track..=s.last_track).contains(&n))
    };
    let mut tracks = Vec::new();
    for (i, t) in toc
        .tracks
        .iter()
        .enumerate()
        .filter(|(_, t)| t.track != LEADOUT)
    {
        let s = session_of(t.track);
        let start = t.address.lba().0 as i64;
        let next_in_session = toc
            .tracks
            .get(i + 1)
            .filter(|n| {
                n.track != LEADOUT && session_of(n.track).map(|x| x.number) == s.map(|x| x.number)
            })
            .map(|n| n.address.lba().0 as i64);
        let end = next_in_session.or(s.map(|s| s.leadout)).unwrap_or(leadout);
        tracks.push(TrackLayout {
            number: t.track,
            session: s.map(|s| s.number).unwrap_or(1),
            control: t.control,
            start,
            length: (end - start).max(0) as u64,
            isrc: None,
        });
    }
    let mut layout = DiscLayout {
        profile,
        family,
        capacity,
        sessions,
        tracks,
        full_toc,
        cd_text: Vec::new(),
        mcn: None,
        pfi: Vec::new(),
        dmi: Vec::new(),
        bca: None,
    };
    if family != Family::Dvd && family != Family::Bd {
        layout.cd_text = m.cd_text().map(|c| c.packs).unwrap_or_default();
        if let Ok(sc) = m.read_subchannel(SubChannelFormat::Mcn, 0, false)
            && let SubChannelData::Mcn(mcn) = sc.data
        {
            layout.mcn = mcn.filter(|s| !s.is_empty());
        }
        for t in layout.tracks.iter_mut().filter(|t| !t.is_data()) {
            if let Ok(sc) = m.read_subchannel(SubChannelFormat::Isrc, t.number, false)
                && let SubChannelData::Isrc { isrc, .. } = sc.data
            {
                t.isrc = isrc.filter(|s| !s.is_empty());
            }
        }
    }
    if family == Family::Dvd {
        for layer in 0..2u8 {
            match m.disc_structure(0, layer, 0x00) {
                Ok(p) => layout.pfi.push(p),
                Err(_) => break,
            }
            if let Ok(d) = m.disc_structure(0, layer, 0x04) {
                layout.dmi.push(d);
            }
            // The layer count is in the first PFI's byte 2.
            if layout
                .pfi
                .first()
                .is_some_and(|p| p.len() > 2 && (p[2] >> 5) & 3 == 0)
            {
                break;
            }
        }
        layout.bca = m.disc_structure(0, 0, 0x03).ok();
    }
    Ok(layout)
}
