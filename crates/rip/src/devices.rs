//! Optical drives of this machine, from sysfs: every block device `sr*` (SCSI type 5), with
//! its SCSI generic node and the INQUIRY strings the kernel keeps.

use std::path::{Path, PathBuf};

/// One optical drive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpticalDrive {
    /// `/dev/srN`.
    pub device: PathBuf,
    /// `/dev/sgM`, when the sg driver is loaded.
    pub generic: Option<PathBuf>,
    /// INQUIRY vendor identification (8 characters at most, trimmed).
    pub vendor: String,
    /// INQUIRY product identification (16 characters at most, trimmed).
    pub model: String,
    /// INQUIRY product revision (firmware version, trimmed).
    pub revision: String,
}

fn attr(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name))
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// The optical drives under `sysfs` (normally `/sys`), sorted by device number.
pub fn optical_drives(sysfs: &Path) -> Vec<OpticalDrive> {
    let Ok(dir) = std::fs::read_dir(sysfs.join("class/block")) else {
        return Vec::new();
    };
    let mut out: Vec<(u32, OpticalDrive)> = Vec::new();
    for e in dir.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let Some(n) = name.strip_prefix("sr").and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let dev = e.path().join("device");
        if attr(&dev, "type") != "5" {
            continue;
        }
        let generic = std::fs::read_dir(dev.join("scsi_generic"))
            .ok()
            .and_then(|mut d| d.next())
            .and_then(|e| e.ok())
            .map(|e| PathBuf::from("/dev").join(e.file_name()));
        out.push((
            n,
            OpticalDrive {
                device: PathBuf::from("/dev").join(&name),
                generic,
                vendor: attr(&dev, "vendor"),
                model: attr(&dev, "model"),
                revision: attr(&dev, "rev"),
            },
        ));
    }
    out.sort_by_key(|(n, _)| *n);
    out.into_iter().map(|(_, d)| d).collect()
}

/// What a drive says about its medium (TEST UNIT READY, then GET CONFIGURATION's current
/// profile).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MediumState {
    /// A disc is loaded; its current profile (`spindle_mmc::config::profile`).
    Loaded {
        /// The current profile number.
        profile: u16,
        /// That profile's name (`CD-ROM`, `DVD+R`...).
        name: &'static str,
    },
    /// No disc (sense 02/3A), with the tray open when the drive says so (3A/02).
    NoDisc {
        /// The drive reports its tray open.
        tray_open: bool,
    },
    /// The drive is spinning up or otherwise not ready.
    NotReady(String),
    /// The drive could not be asked (opening it or the command failed).
    Unknown(String),
}

impl MediumState {
    /// A short description for listings ("CD-ROM", "no disc", ...).
    pub fn describe(&self) -> String {
        match self {
            MediumState::Loaded { name, .. } => (*name).to_string(),
            MediumState::NoDisc { tray_open: true } => "no disc (tray open)".into(),
            MediumState::NoDisc { tray_open: false } => "no disc".into(),
            MediumState::NotReady(why) => format!("not ready ({why})"),
            MediumState::Unknown(why) => format!("unknown ({why})"),
        }
    }
}

/// Asks the drive behind `m` for its medium. A unit attention (a disc was just changed) is
/// passed over a few times.
pub fn medium_state<T: spindle_mmc::Transport>(m: &mut spindle_mmc::Mmc<T>) -> MediumState {
    use spindle_mmc::sense::SenseKey;
    let mut tries = 0;
    loop {
        match m.test_unit_ready() {
            Ok(()) => break,
            Err(e) => {
                let s = e.sense().copied();
                match s.map(|s| (s.key, s.asc.0, s.asc.1)) {
                    Some((SenseKey::UnitAttention, _, _)) if tries < 4 => tries += 1,
                    Some((SenseKey::NotReady, 0x3A, q)) => {
                        return MediumState::NoDisc {
                            tray_open: q == 0x02,
                        };
                    }
                    Some((SenseKey::NotReady, _, _)) => {
                        return MediumState::NotReady(e.to_string());
                    }
                    _ => return MediumState::Unknown(e.to_string()),
                }
            }
        }
    }
    match m.get_configuration(spindle_mmc::cdb::ConfigRequest::Current, 0) {
        Ok(c) => MediumState::Loaded {
            profile: c.current_profile,
            name: spindle_mmc::config::profile_name(c.current_profile),
        },
        Err(e) => MediumState::Unknown(e.to_string()),
    }
}

/// Opens `device` over SG_IO and asks for its medium.
pub fn probe_medium(device: &Path) -> MediumState {
    match spindle_mmc::sgio::SgIo::open(device) {
        Ok(t) => medium_state(&mut spindle_mmc::Mmc::new(t)),
        Err(e) => MediumState::Unknown(e.to_string()),
    }
}
