//! GET CONFIGURATION (MMC-6 §5.2, §6.6): profiles and feature descriptors.

use crate::error::{ParseError, need};
use spindle_disc::Medium;

/// Profile numbers (MMC-6 table 89).
pub mod profile {
    /// No current profile (no medium).
    pub const NONE: u16 = 0x0000;
    /// CD-ROM: read-only CD.
    pub const CD_ROM: u16 = 0x0008;
    /// CD-R: write-once CD.
    pub const CD_R: u16 = 0x0009;
    /// CD-RW: rewritable CD.
    pub const CD_RW: u16 = 0x000A;
    /// DVD-ROM: read-only DVD.
    pub const DVD_ROM: u16 = 0x0010;
    /// DVD-R sequential recording.
    pub const DVD_R: u16 = 0x0011;
    /// DVD-RAM.
    pub const DVD_RAM: u16 = 0x0012;
    /// DVD-RW restricted overwrite.
    pub const DVD_RW_RO: u16 = 0x0013;
    /// DVD-RW sequential recording.
    pub const DVD_RW: u16 = 0x0014;
    /// DVD-R dual layer, sequential recording.
    pub const DVD_R_DL: u16 = 0x0015;
    /// DVD+RW.
    pub const DVD_PLUS_RW: u16 = 0x001A;
    /// DVD+R.
    pub const DVD_PLUS_R: u16 = 0x001B;
    /// DVD+R dual layer.
    pub const DVD_PLUS_R_DL: u16 = 0x002B;
    /// BD-ROM: read-only Blu-ray.
    pub const BD_ROM: u16 = 0x0040;
    /// BD-R in sequential recording mode (SRM).
    pub const BD_R_SRM: u16 = 0x0041;
    /// BD-R in random recording mode (RRM).
    pub const BD_R_RRM: u16 = 0x0042;
    /// BD-RE: rewritable Blu-ray.
    pub const BD_RE: u16 = 0x0043;
}

/// The profile a drive reports as current for a medium.
pub fn profile_of(m: Medium) -> u16 {
    use Medium::*;
    match m {
        CdRom => profile::CD_ROM,
        CdR => profile::CD_R,
        CdRw => profile::CD_RW,
        DvdRom => profile::DVD_ROM,
        DvdR => profile::DVD_R,
        DvdRw => profile::DVD_RW,
        DvdPlusR => profile::DVD_PLUS_R,
        DvdPlusRw => profile::DVD_PLUS_RW,
        DvdRam => profile::DVD_RAM,
        BdRom => profile::BD_ROM,
        BdR => profile::BD_R_SRM,
        BdRe => profile::BD_RE,
    }
}

/// A profile's name, as tools print it.
pub fn profile_name(p: u16) -> &'static str {
    match p {
        profile::NONE => "none",
        profile::CD_ROM => "CD-ROM",
        profile::CD_R => "CD-R",
        profile::CD_RW => "CD-RW",
        profile::DVD_ROM => "DVD-ROM",
        profile::DVD_R => "DVD-R",
        profile::DVD_RAM => "DVD-RAM",
        profile::DVD_RW_RO | profile::DVD_RW => "DVD-RW",
        profile::DVD_R_DL => "DVD-R DL",
        profile::DVD_PLUS_RW => "DVD+RW",
        profile::DVD_PLUS_R => "DVD+R",
        profile::DVD_PLUS_R_DL => "DVD+R DL",
        profile::BD_ROM => "BD-ROM",
        profile::BD_R_SRM | profile::BD_R_RRM => "BD-R",
        profile::BD_RE => "BD-RE",
        _ => "unknown",
    }
}

/// Feature codes.
pub mod feature {
    /// Profile List: every profile the drive supports.
    pub const PROFILE_LIST: u16 = 0x0000;
    /// Core: the physical interface and basic command set.
    pub const CORE: u16 = 0x0001;
    /// Morphing: the drive reports operational changes.
    pub const MORPHING: u16 = 0x0002;
    /// Removable Medium: loading mechanism, eject and lock.
    pub const REMOVABLE_MEDIUM: u16 = 0x0003;
    /// Random Readable: logical block size and blocking.
    pub const RANDOM_READABLE: u16 = 0x0010;
    /// Multi-Read: reads CD-R and CD-RW as OSTA Multi-Read asks.
    pub const MULTI_READ: u16 = 0x001D;
    /// CD Read: READ CD and its options.
    pub const CD_READ: u16 = 0x001E;
    /// DVD Read: reads DVD media.
    pub const DVD_READ: u16 = 0x001F;
    /// BD Read: reads BD media.
    pub const BD_READ: u16 = 0x0040;
    /// Power Management: the drive has power conditions.
    pub const POWER_MANAGEMENT: u16 = 0x0100;
    /// Timeout: commands complete within the times the timeout mode page sets.
    pub const TIMEOUT: u16 = 0x0105;
    /// Real Time Streaming: streaming reads, GET PERFORMANCE, SET CD SPEED.
    pub const REAL_TIME_STREAMING: u16 = 0x0107;
}

/// Physical interface standards (core feature).
pub mod interface {
    /// SCSI family (SPI, FC, SAS...).
    pub const SCSI: u32 = 1;
    /// ATAPI.
    pub const ATAPI: u32 = 2;
    /// Serial ATAPI.
    pub const SERIAL_ATAPI: u32 = 7;
    /// USB.
    pub const USB: u32 = 8;
}

/// The content of one feature descriptor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Feature {
    /// Profiles the drive supports, each with its CurrentP bit.
    ProfileList(Vec<(u16, bool)>),
    /// Core (0x0001).
    Core {
        /// Physical interface standard (see [`interface`]).
        interface: u32,
        /// DBE: the drive reports device busy events.
        dbe: bool,
        /// INQ2: INQUIRY is supported as SPC defines it.
        inq2: bool,
    },
    /// Morphing (0x0002).
    Morphing {
        /// Async: GET EVENT STATUS NOTIFICATION in asynchronous mode.
        asynchronous: bool,
        /// OCEvent: operational change events are reported.
        oc_event: bool,
    },
    /// Removable Medium (0x0003).
    RemovableMedium {
        /// Loading mechanism type (0 caddy/slot, 1 tray, 2 pop-up, 4-5 changers).
        mechanism: u8,
        /// Load: START STOP UNIT can load the medium.
        load: bool,
        /// Eject: START STOP UNIT can eject the medium.
        eject: bool,
        /// Pvnt Jmpr: the state of the prevent/allow jumper.
        prevent_jumper: bool,
        /// Lock: PREVENT ALLOW MEDIUM REMOVAL can lock the medium in.
        lock: bool,
    },
    /// Random Readable (0x0010).
    RandomReadable {
        /// Logical block size in bytes (2048 for CD, DVD and BD data).
        block_size: u32,
        /// Blocking: logical blocks in one readable unit (1 on CD, 16 on DVD, 32 on BD).
        blocking: u16,
        /// PP: the read/write error recovery mode page is present.
        page_present: bool,
    },
    /// Multi-Read (0x001D).
    MultiRead,
    /// CD Read (0x001E).
    CdRead {
        /// CD-Text: CD-TEXT is read from the lead-in (READ TOC format 5).
        cd_text: bool,
        /// C2 Flags: READ CD returns C2 error pointers.
        c2: bool,
        /// DAP: READ CD honours the digital audio play bit.
        dap: bool,
    },
    /// DVD Read (0x001F).
    DvdRead {
        /// MULTI110: the drive meets DVD Multi Drive Read-only specification version 1.1.
        multi110: bool,
        /// Dual-R: reads DVD-R dual layer.
        dual_r: bool,
        /// Dual-RW: reads DVD-RW dual layer.
        dual_rw: bool,
    },
    /// BD read: class bit maps of BD-RE, BD-R and BD-ROM versions (4 classes each).
    BdRead {
        /// BD-RE class 0-3 version bit maps.
        re: [u16; 4],
        /// BD-R class 0-3 version bit maps.
        r: [u16; 4],
        /// BD-ROM class 0-3 version bit maps.
        rom: [u16; 4],
    },
    /// Any other feature, its bytes after the 4-byte descriptor header.
    Other {
        /// Feature code.
        code: u16,
        /// The descriptor's additional data.
        data: Vec<u8>,
    },
}

impl Feature {
    /// The feature code (see [`feature`]).
    pub fn code(&self) -> u16 {
        match self {
            Feature::ProfileList(_) => feature::PROFILE_LIST,
            Feature::Core { .. } => feature::CORE,
            Feature::Morphing { .. } => feature::MORPHING,
            Feature::RemovableMedium { .. } => feature::REMOVABLE_MEDIUM,
            Feature::RandomReadable { .. } => feature::RANDOM_READABLE,
            Feature::MultiRead => feature::MULTI_READ,
            Feature::CdRead { .. } => feature::CD_READ,
            Feature::DvdRead { .. } => feature::DVD_READ,
            Feature::BdRead { .. } => feature::BD_READ,
            Feature::Other { code, .. } => *code,
        }
    }

    fn data(&self) -> Vec<u8> {
        match self {
            Feature::ProfileList(ps) => ps
                .iter()
                .flat_map(|&(p, cur)| {
                    let [a, b] = p.to_be_bytes();
                    [a, b, cur as u8, 0]
                })
                .collect(),
            Feature::Core {
                interface,
                dbe,
                inq2,
            } => {
                let mut d = interface.to_be_bytes().to_vec();
                d.extend_from_slice(&[(*dbe as u8) | ((*inq2 as u8) << 1), 0, 0, 0]);
                d
            }
            Feature::Morphing {
                asynchronous,
                oc_event,
            } => vec![(*asynchronous as u8) | ((*oc_event as u8) << 1), 0, 0, 0],
            Feature::RemovableMedium {
                mechanism,
                load,
                eject,
                prevent_jumper,
                lock,
            } => vec![
                (mechanism << 5)
                    | ((*load as u8) << 4)
                    | ((*eject as u8) << 3)
                    | ((*prevent_jumper as u8) << 2)
                    | (*lock as u8),
                0,
                0,
                0,
            ],
            Feature::RandomReadable {
                block_size,
                blocking,
                page_present,
            } => {
                let mut d = block_size.to_be_bytes().to_vec();
                d.extend_from_slice(&blocking.to_be_bytes());
                d.extend_from_slice(&[*page_present as u8, 0]);
                d
            }
            Feature::MultiRead => Vec::new(),
            Feature::CdRead { cd_text, c2, dap } => vec![
                (*cd_text as u8) | ((*c2 as u8) << 1) | ((*dap as u8) << 7),
                0,
                0,
                0,
            ],
            Feature::DvdRead {
                multi110,
                dual_r,
                dual_rw,
            } => vec![
                *multi110 as u8,
                0,
                (*dual_r as u8) | ((*dual_rw as u8) << 1),
                0,
            ],
            Feature::BdRead { re, r, rom } => {
                let mut d = vec![0u8; 4];
                for v in re.iter().chain(r).chain(rom) {
                    d.extend_from_slice(&v.to_be_bytes());
                }
                d
            }
            Feature::Other { data, .. } => data.clone(),
        }
    }

    fn parse(code: u16, d: &[u8]) -> Feature {
        let at = |i: usize| d.get(i).copied().unwrap_or(0);
        let w = |i: usize| u16::from_be_bytes([at(i), at(i + 1)]);
        match code {
            feature::PROFILE_LIST => Feature::ProfileList(
                d.chunks_exact(4)
                    .map(|c| (u16::from_be_bytes([c[0], c[1]]), c[2] & 1 != 0))
                    .collect(),
            ),
            feature::CORE => Feature::Core {
                interface: u32::from_be_bytes([at(0), at(1), at(2), at(3)]),
                dbe: at(4) & 1 != 0,
                inq2: at(4) & 2 != 0,
            },
            feature::MORPHING => Feature::Morphing {
                asynchronous: at(0) & 1 != 0,
                oc_event: at(0) & 2 != 0,
            },
            feature::REMOVABLE_MEDIUM => Feature::RemovableMedium {
                mechanism: at(0) >> 5,
                load: at(0) & 0x10 != 0,
                eject: at(0) & 0x08 != 0,
                prevent_jumper: at(0) & 0x04 != 0,
                lock: at(0) & 1 != 0,
            },
            feature::RANDOM_READABLE => Feature::RandomReadable {
                block_size: u32::from_be_bytes([at(0), at(1), at(2), at(3)]),
                blocking: w(4),
                page_present: at(6) & 1 != 0,
            },
            feature::MULTI_READ => Feature::MultiRead,
            feature::CD_READ => Feature::CdRead {
                cd_text: at(0) & 1 != 0,
                c2: at(0) & 2 != 0,
                dap: at(0) & 0x80 != 0,
            },
            feature::DVD_READ => Feature::DvdRead {
                multi110: at(0) & 1 != 0,
                dual_r: at(2) & 1 != 0,
                dual_rw: at(2) & 2 != 0,
            },
            feature::BD_READ if d.len() >= 28 => {
                let four = |o: usize| [w(o), w(o + 2), w(o + 4), w(o + 6)];
                Feature::BdRead {
                    re: four(4),
                    r: four(12),
                    rom: four(20),
                }
            }
            _ => Feature::Other {
                code,
                data: d.to_vec(),
            },
        }
    }
}

/// One feature descriptor with its header bits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeatureDescriptor {
    /// The feature and its data.
    pub feature: Feature,
    /// Version of the feature descriptor (4 bits).
    pub version: u8,
    /// Persistent: the feature stays current whatever the medium.
    pub persistent: bool,
    /// Current: the feature is usable now.
    pub current: bool,
}

/// A GET CONFIGURATION answer.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Configuration {
    /// The profile of the medium in the drive (see [`profile`]); 0 without one.
    pub current_profile: u16,
    /// Feature descriptors, in ascending feature code.
    pub features: Vec<FeatureDescriptor>,
}

impl Configuration {
    /// The answer's bytes: an 8-byte header (data length, current profile), then each descriptor.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = vec![0u8; 8];
        b[6..8].copy_from_slice(&self.current_profile.to_be_bytes());
        for f in &self.features {
            let data = f.feature.data();
            b.extend_from_slice(&f.feature.code().to_be_bytes());
            b.push(((f.version & 0xF) << 2) | ((f.persistent as u8) << 1) | f.current as u8);
            b.push(data.len() as u8);
            b.extend_from_slice(&data);
        }
        let len = (b.len() - 4) as u32;
        b[0..4].copy_from_slice(&len.to_be_bytes());
        b
    }

    /// Parses an answer (possibly cut by the allocation length: whole descriptors only).
    pub fn parse(b: &[u8]) -> Result<Configuration, ParseError> {
        need("GET CONFIGURATION header", b, 8)?;
        let total = (u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
            .saturating_add(4)
            .min(b.len());
        let mut features = Vec::new();
        let mut at = 8;
        while at + 4 <= total {
            let code = u16::from_be_bytes([b[at], b[at + 1]]);
            let len = b[at + 3] as usize;
            if at + 4 + len > total {
                break;
            }
            features.push(FeatureDescriptor {
                feature: Feature::parse(code, &b[at + 4..at + 4 + len]),
                version: (b[at + 2] >> 2) & 0xF,
                persistent: b[at + 2] & 2 != 0,
                current: b[at + 2] & 1 != 0,
            });
            at += 4 + len;
        }
        Ok(Configuration {
            current_profile: u16::from_be_bytes([b[6], b[7]]),
            features,
        })
    }

    /// The first descriptor of feature `code`, if the answer has it.
    pub fn feature(&self, code: u16) -> Option<&FeatureDescriptor> {
        self.features.iter().find(|f| f.feature.code() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let c = Configuration {
            current_profile: profile::CD_ROM,
            features: vec![
                FeatureDescriptor {
                    feature: Feature::ProfileList(vec![
                        (profile::BD_ROM, false),
                        (profile::CD_ROM, true),
                    ]),
                    version: 0,
                    persistent: true,
                    current: true,
                },
                FeatureDescriptor {
                    feature: Feature::Core {
                        interface: interface::ATAPI,
                        dbe: true,
                        inq2: false,
                    },
                    version: 2,
                    persistent: true,
                    current: true,
                },
                FeatureDescriptor {
                    feature: Feature::CdRead {
                        cd_text: true,
                        c2: true,
                        dap: true,
                    },
                    version: 2,
                    persistent: false,
                    current: true,
                },
                FeatureDescriptor {
                    feature: Feature::BdRead {
                        re: [0, 0, 0, 0],
                        r: [2, 0, 0, 0],
                        rom: [2, 0, 0, 0],
                    },
                    version: 1,
                    persistent: false,
                    current: false,
                },
            ],
        };
        let b = c.to_bytes();
        assert_eq!(&b[8..12], &[0, 0, 0x03, 8]);
        assert_eq!(Configuration::parse(&b).unwrap(), c);
    }
}
