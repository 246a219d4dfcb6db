//! What the emulated drive answers to the commands that describe a disc (everything but
//! the sector reads), built from the disc model.

use crate::cdb::{TocFormat, TrackAddress};
use crate::config::{self, Configuration, Feature, FeatureDescriptor, feature, profile};
use crate::discinfo::{Capacity, DiscInformation, TrackInformation, disc_status, session_state};
use crate::events::{BD_1X_KBS, CD_1X_KBS, DVD_1X_KBS, Performance, PerformanceDescriptor};
use crate::sense::{Asc, Sense, SenseKey};
use crate::structure::{self, Copyright, PhysicalFormat};
use crate::subq::{SubChannel, SubChannelData, audio_status};
use crate::toc::{Address, CdTextPacks, FullToc, LEADOUT, SessionInfo, Toc, TocTrack};
use spindle_disc::{Disc, Lba, Medium, MediumFamily, Track};

fn bad_field(byte: u16) -> Sense {
    Sense::invalid_cdb_field(byte, None)
}

fn incompatible() -> Sense {
    Sense::new(SenseKey::IllegalRequest, Asc::INCOMPATIBLE_FORMAT)
}

/// The fastest read speed of the drive for a medium family, kB/s (48x CD, 16x DVD, 12x BD).
pub fn max_speed(family: MediumFamily) -> u32 {
    match family {
        MediumFamily::Cd => CD_1X_KBS * 48,
        MediumFamily::Dvd => DVD_1X_KBS * 16,
        MediumFamily::Bd => BD_1X_KBS * 12,
    }
}

/// The last addressable block.
pub fn capacity(disc: &Disc) -> Capacity {
    Capacity {
        last_lba: (disc.leadout().0 - 1).max(0) as u32,
        block_size: 2048,
    }
}

/// Profiles a read-only multi-format drive lists, highest number first.
const PROFILES: [u16; 13] = [
    profile::BD_RE,
    profile::BD_R_SRM,
    profile::BD_ROM,
    profile::DVD_PLUS_R,
    profile::DVD_PLUS_RW,
    profile::DVD_RW,
    profile::DVD_RAM,
    profile::DVD_R,
    profile::DVD_ROM,
    profile::CD_RW,
    profile::CD_R,
    profile::CD_ROM,
    profile::NONE,
];

/// Every feature of the drive, with its current bit for the loaded medium.
pub fn configuration(medium: Option<Medium>, interface: u32) -> Configuration {
    let current = medium.map(config::profile_of).unwrap_or(profile::NONE);
    let family = medium.map(Medium::family);
    let d = |feature: Feature, version: u8, persistent: bool, current: bool| FeatureDescriptor {
        feature,
        version,
        persistent,
        current,
    };
    let profiles = PROFILES
        .iter()
        .filter(|&&p| p != profile::NONE)
        .map(|&p| (p, p == current))
        .collect();
    let blocking = match family {
        Some(MediumFamily::Dvd) => 16,
        Some(MediumFamily::Bd) => 32,
        _ => 1,
    };
    let some = medium.is_some();
    Configuration {
        current_profile: current,
        features: vec![
            d(Feature::ProfileList(profiles), 0, true, true),
            d(
                Feature::Core {
                    interface,
                    dbe: true,
                    inq2: false,
                },
                2,
                true,
                true,
            ),
            d(
                Feature::Morphing {
                    asynchronous: false,
                    oc_event: true,
                },
                1,
                true,
                true,
            ),
            d(
                Feature::RemovableMedium {
                    mechanism: 1,
                    load: true,
                    eject: true,
                    prevent_jumper: false,
                    lock: true,
                },
                2,
                true,
                true,
            ),
            d(
                Feature::RandomReadable {
                    block_size: 2048,
                    blocking,
                    page_present: true,
                },
                0,
                false,
                some,
            ),
            d(
                Feature::MultiRead,
                0,
                false,
                family == Some(MediumFamily::Cd),
            ),
            d(
                Feature::CdRead {
                    cd_text: true,
                    c2: true,
                    dap: true,
                },
                2,
                false,
                family == Some(MediumFamily::Cd),
            ),
            d(
                Feature::DvdRead {
                    multi110: true,
                    dual_r: true,
                    dual_rw: false,
                },
                2,
                false,
                family == Some(MediumFamily::Dvd),
            ),
            d(
                Feature::BdRead {
                    re: [0, 0, 0, 0],
                    r: [0x0002, 0, 0, 0],
                    rom: [0x0002, 0, 0, 0],
                },
                1,
                false,
                family == Some(MediumFamily::Bd),
            ),
            d(
                Feature::Other {
                    code: feature::POWER_MANAGEMENT,
                    data: Vec::new(),
                },
                0,
                true,
                true,
            ),
            d(
                Feature::Other {
                    code: feature::TIMEOUT,
                    data: vec![0, 0, 0, 0],
                },
                0,
                true,
                true,
            ),
            d(
                Feature::Other {
                    code: feature::REAL_TIME_STREAMING,
                    // SCS: SET CD SPEED is supported.
                    data: vec![0x08, 0, 0, 0],
                },
                3,
                false,
                some,
            ),
        ],
    }
}

/// A DVD or BD has one data track covering the whole disc in its TOC.
fn is_cd(disc: &Disc) -> bool {
    disc.medium.is_cd()
}

fn toc_track(t: &Track, msf: bool) -> TocTrack {
    TocTrack {
        adr: 1,
        control: t.control(),
        track: t.number,
        address: Address::new(t.index1(), msf),
    }
}

fn leadout_entry(disc: &Disc, msf: bool) -> TocTrack {
    let last = disc.tracks().last();
    TocTrack {
        adr: 1,
        control: last.map(|t| t.control()).unwrap_or(4),
        track: LEADOUT,
        address: Address::new(disc.leadout(), msf),
    }
}

/// READ TOC/PMA/ATIP.
pub fn read_toc(disc: &Disc, format: TocFormat, msf: bool, number: u8) -> Result<Vec<u8>, Sense> {
    let (Some(first), Some(last)) = (disc.tracks().next(), disc.tracks().last()) else {
        return Err(incompatible());
    };
    match format {
        TocFormat::Toc => {
            if number > last.number && number != LEADOUT {
                return Err(bad_field(6));
            }
            let mut tracks: Vec<TocTrack> = disc
                .tracks()
                .filter(|t| t.number >= number)
                .map(|t| toc_track(t, msf))
                .collect();
            tracks.push(leadout_entry(disc, msf));
            Ok(Toc {
                first_track: first.number,
                last_track: last.number,
                tracks,
            }
            .to_bytes())
        }
        TocFormat::SessionInfo => {
            let s = disc.sessions.last().ok_or_else(incompatible)?;
            let t = s.first_track().ok_or_else(incompatible)?;
            Ok(SessionInfo {
                first_session: disc.sessions.first().map(|s| s.number).unwrap_or(1),
                last_session: s.number,
                first_track_last_session: toc_track(t, msf),
            }
            .to_bytes())
        }
        TocFormat::FullToc if is_cd(disc) => {
            let last_session = disc.sessions.last().map(|s| s.number).unwrap_or(1);
            if number > last_session {
                return Err(bad_field(6));
            }
            let entries = disc
                .full_toc_entries()
                .into_iter()
                .filter(|e| e.session >= number)
                .collect();
            Ok(FullToc {
                first_session: disc.sessions.first().map(|s| s.number).unwrap_or(1),
                last_session,
                entries,
            }
            .to_bytes())
        }
        TocFormat::CdText if is_cd(disc) => {
            let packs = match &disc.cdtext {
                Some(t) => t.to_packs(first.number, last.number).unwrap_or_default(),
                None => Vec::new(),
            };
            Ok(CdTextPacks { packs }.to_bytes())
        }
        // PMA and ATIP exist only on recordable media, and this drive keeps neither.
        _ => Err(bad_field(2)),
    }
}

fn erasable(m: Medium) -> bool {
    matches!(
        m,
        Medium::CdRw | Medium::DvdRw | Medium::DvdPlusRw | Medium::DvdRam | Medium::BdRe
    )
}

/// READ DISC INFORMATION (standard).
pub fn disc_information(disc: &Disc) -> DiscInformation {
    let last = disc.sessions.last();
    let first_track = disc.tracks().next().map(|t| t.number).unwrap_or(1);
    DiscInformation {
        erasable: erasable(disc.medium),
        last_session_state: session_state::COMPLETE,
        disc_status: disc_status::FINALIZED,
        first_track,
        sessions: disc.sessions.len() as u16,
        first_track_last_session: last
            .and_then(|s| s.first_track())
            .map(|t| t.number as u16)
            .unwrap_or(1),
        last_track_last_session: last
            .and_then(|s| s.last_track())
            .map(|t| t.number as u16)
            .unwrap_or(1),
        disc_type: if is_cd(disc) {
            disc.sessions
                .first()
                .map(|s| s.format().code())
                .unwrap_or(0)
        } else {
            0
        },
        disc_id: None,
        last_session_lead_in: 0xFFFF_FFFF,
        last_possible_lead_out: 0xFFFF_FFFF,
        bar_code: None,
        unrestricted: false,
    }
}

/// Where a track ends in TOC terms: the next track's index 1 in its session, else the
/// session's lead-out.
fn toc_end(disc: &Disc, t: &Track) -> Lba {
    for s in &disc.sessions {
        if let Some(i) = s.tracks.iter().position(|x| x.number == t.number) {
            return s.tracks.get(i + 1).map(|n| n.index1()).unwrap_or(s.leadout);
        }
    }
    t.end()
}

/// READ TRACK INFORMATION.
pub fn track_information(disc: &Disc, address: TrackAddress) -> Result<TrackInformation, Sense> {
    let (session, track) = match address {
        TrackAddress::Lba(lba) => {
            let (s, t) = disc.locate(Lba(lba as i32)).ok_or_else(|| bad_field(2))?;
            (s, t)
        }
        TrackAddress::Track(n) => disc
            .sessions
            .iter()
            .find_map(|s| {
                s.tracks
                    .iter()
                    .find(|t| t.number as u32 == n)
                    .map(|t| (s, t))
            })
            .ok_or_else(|| bad_field(2))?,
        TrackAddress::Session(n) => disc
            .sessions
            .iter()
            .find(|s| s.number as u32 == n)
            .and_then(|s| s.first_track().map(|t| (s, t)))
            .ok_or_else(|| bad_field(2))?,
    };
    let start = track.index1();
    let size = toc_end(disc, track).since(start).max(0) as u32;
    Ok(TrackInformation {
        track: track.number as u16,
        session: session.number as u16,
        track_mode: track.control(),
        data_mode: match track.mode.mode_byte() {
            _ if track.mode.is_audio() => 0xF,
            1 | 0 => 1,
            _ => 2,
        },
        start: start.0.max(0) as u32,
        size,
        ..Default::default()
    })
}

/// READ SUB-CHANNEL at the head position `pos`.
pub fn sub_channel(
    disc: &Disc,
    format: crate::cdb::SubChannelFormat,
    track: u8,
    msf: bool,
    pos: Lba,
) -> Result<SubChannel, Sense> {
    use crate::cdb::SubChannelFormat as F;
    let data = match format {
        F::CurrentPosition => {
            let t = disc
                .locate(pos)
                .map(|(_, t)| t)
                .or_else(|| disc.tracks().next())
                .ok_or_else(incompatible)?;
            let lba = if t.contains(pos) { pos } else { t.index1() };
            SubChannelData::Position {
                adr: 1,
                control: t.control(),
                track: t.number,
                index: t.index_at(lba),
                absolute: Address::new(lba, msf),
                relative: if msf {
                    Address::Msf(spindle_disc::Msf::from_frames(
                        lba.since(t.index1()).unsigned_abs() as u32,
                    ))
                } else {
                    Address::Lba(lba.since(t.index1()) as i32)
                },
            }
        }
        F::Mcn => SubChannelData::Mcn(disc.mcn.as_ref().map(|m| m.as_str().to_string())),
        F::Isrc => {
            let t = disc.track(track).ok_or_else(|| bad_field(6))?;
            SubChannelData::Isrc {
                adr: 3,
                control: t.control(),
                track: t.number,
                isrc: t.isrc.as_ref().map(|i| i.as_str().to_string()),
            }
        }
    };
    Ok(SubChannel {
        audio_status: audio_status::NO_STATUS,
        data,
    })
}

/// READ DISC STRUCTURE.
pub fn disc_structure(
    disc: &Disc,
    media_type: u8,
    layer: u8,
    format: u8,
) -> Result<Vec<u8>, Sense> {
    let st = &disc.structures;
    let family = disc.medium.family();
    let layers = st.pfi.len().max(1) as u8;
    let per_layer = |v: &Vec<Vec<u8>>| v.get(layer as usize).cloned();
    match (family, media_type) {
        (MediumFamily::Dvd, structure::MEDIA_DVD) => {
            if layer >= layers && format != structure::format::LIST {
                return Err(bad_field(6));
            }
            let sectors = capacity(disc).blocks() as u32;
            match format {
                structure::format::PHYSICAL => {
                    Ok(structure::wrap(&per_layer(&st.pfi).unwrap_or_else(|| {
                        PhysicalFormat::dvd_rom(sectors).to_bytes()
                    })))
                }
                structure::format::COPYRIGHT => Ok(structure::wrap(
                    &per_layer(&st.copyright).unwrap_or_else(|| {
                        Copyright {
                            protection: 0,
                            region_mask: 0,
                        }
                        .to_bytes()
                        .to_vec()
                    }),
                )),
                structure::format::BCA => st
                    .bca
                    .as_ref()
                    .map(|b| structure::wrap(b))
                    .ok_or_else(|| bad_field(7)),
                structure::format::MANUFACTURING => Ok(structure::wrap(
                    &per_layer(&st.dmi).unwrap_or_else(|| vec![0; 2048]),
                )),
                structure::format::LIST => {
                    let mut list = Vec::new();
                    let mut put = |code: u8, len: usize| {
                        list.push(code);
                        list.push(0x40); // readable (RDS)
                        list.extend_from_slice(&(len as u16).to_be_bytes());
                    };
                    put(structure::format::PHYSICAL, 2048);
                    put(structure::format::COPYRIGHT, 4);
                    if let Some(b) = &st.bca {
                        put(structure::format::BCA, b.len());
                    }
                    put(structure::format::MANUFACTURING, 2048);
                    put(structure::format::LIST, 0);
                    Ok(structure::wrap(&list))
                }
                _ => Err(bad_field(7)),
            }
        }
        (MediumFamily::Bd, structure::MEDIA_BD) => {
            let stored = |v: &Option<Vec<u8>>| {
                v.as_ref()
                    .map(|b| structure::wrap(b))
                    .ok_or_else(|| bad_field(7))
            };
            match format {
                structure::format::BD_DISC_INFORMATION => stored(&st.bd_disc_info),
                structure::format::BCA => stored(&st.bca),
                structure::format::LIST => {
                    let mut list = Vec::new();
                    let mut put = |code: u8, len: usize| {
                        list.push(code);
                        list.push(0x40); // readable (RDS)
                        list.extend_from_slice(&(len as u16).to_be_bytes());
                    };
                    if let Some(d) = &st.bd_disc_info {
                        put(structure::format::BD_DISC_INFORMATION, d.len());
                    }
                    if let Some(b) = &st.bca {
                        put(structure::format::BCA, b.len());
                    }
                    put(structure::format::LIST, 0);
                    Ok(structure::wrap(&list))
                }
                _ => Err(bad_field(7)),
            }
        }
        _ => Err(incompatible()),
    }
}

/// GET PERFORMANCE (type 0): one descriptor over the whole disc at full speed.
pub fn performance(disc: &Disc, speed: u32) -> Performance {
    let last = capacity(disc).last_lba;
    Performance {
        write: false,
        except: false,
        descriptors: vec![PerformanceDescriptor {
            start_lba: 0,
            start_performance: speed,
            end_lba: last,
            end_performance: speed,
        }],
    }
}
