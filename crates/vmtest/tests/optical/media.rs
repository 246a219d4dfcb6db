//! The three discs the optical-drive VM tests load, generated on the host (never stored in the
//! repository) and cached under target/vmtest/optical-media/:
//!
//! - a mixed-mode CD as CUE/BIN: track 1 Mode 1 (libcdio's isofs-m1 data, an ISO 9660 tree),
//!   tracks 2 and 3 audio (two tones with seeded noise), each behind a stored pregap (INDEX 00), with an MCN,
//!   CD-TEXT (TITLE/PERFORMER for the disc and the tracks) and an ISRC per audio track;
//! - a DVD-sized UDF image (genisoimage's UDF bridge, padded with a hole to 1.2 GB);
//! - a BD-sized ISO 9660 image (xorriso, padded with a hole to 9.2 GB).
//!
//! The big images are sparse files: the guest gets them as read-only virtio disks, so no guest
//! RAM holds them, and spindle guesses their medium from their size (`Medium::guess_from_size`:
//! above 900 MB a DVD, above 8.55 GB a BD).

use spindle_testkit::{pattern, sample};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Sectors of track 1 (isofs-m1.bin: 302 raw Mode 1 sectors).
pub const DATA_SECTORS: u32 = 302;
/// Each audio track: (pregap sectors stored as INDEX 00, sectors from INDEX 01).
pub const AUDIO: [(u32, u32); 2] = [(150, 400), (75, 300)];
/// The CD's catalogue number.
pub const MCN: &str = "0123456789012";
/// The ISRC of each audio track (tracks 2 and 3).
pub const ISRC: [&str; 2] = ["USXYZ2600001", "USXYZ2600002"];
/// The DVD image's size: 600,000 sectors (above the 900 MB a CD can hold).
pub const DVD_BYTES: u64 = 600_000 * 2048;
/// The BD image's size: 4,500,000 sectors (above a dual-layer DVD).
pub const BD_BYTES: u64 = 4_500_000 * 2048;

/// Where the generated discs are.
pub struct Media {
    /// The mixed-mode CD's sheet (mixed.bin beside it).
    pub cue: PathBuf,
    /// The BIN the sheet names: raw 2352-byte sectors, track 1's data then the audio.
    pub bin: PathBuf,
    /// Track 1's user data as a plain ISO (what QEMU's own drive can carry).
    pub cd_iso: PathBuf,
    /// The DVD-sized UDF image.
    pub dvd: PathBuf,
    /// Bytes of the DVD image that hold its filesystem (the rest is a hole).
    pub dvd_fs_bytes: u64,
    /// The BD-sized ISO 9660 image.
    pub bd: PathBuf,
    /// Bytes of the BD image that hold its filesystem.
    pub bd_fs_bytes: u64,
}

/// LBA (track 1 at 0) where audio track `n` (2 or 3) has its INDEX 00 and its INDEX 01.
pub fn audio_start(n: u8) -> (u32, u32) {
    let mut at = DATA_SECTORS;
    for (i, (pre, len)) in AUDIO.iter().enumerate() {
        if i + 2 == n as usize {
            return (at, at + pre);
        }
        at += pre + len;
    }
    panic!("no audio track {n}");
}

/// The lead-out's LBA.
pub fn leadout() -> u32 {
    DATA_SECTORS + AUDIO.iter().map(|(p, l)| p + l).sum::<u32>()
}

fn msf(s: u32) -> String {
    format!("{:02}:{:02}:{:02}", s / 4500, s / 75 % 60, s % 75)
}

fn sheet() -> String {
    let (p2, i2) = audio_start(2);
    let (p3, i3) = audio_start(3);
    format!(
        "CATALOG {MCN}\nPERFORMER \"Spindle Test Band\"\nTITLE \"Drive Check\"\n\
         FILE \"mixed.bin\" BINARY\n\
         \x20 TRACK 01 MODE1/2352\n    TITLE \"Data\"\n    INDEX 01 00:00:00\n\
         \x20 TRACK 02 AUDIO\n    TITLE \"First Tone\"\n    PERFORMER \"Ann Example\"\n\
         \x20   ISRC {}\n    INDEX 00 {}\n    INDEX 01 {}\n\
         \x20 TRACK 03 AUDIO\n    TITLE \"Second Tone\"\n    PERFORMER \"Bo Example\"\n\
         \x20   ISRC {}\n    INDEX 00 {}\n    INDEX 01 {}\n",
        ISRC[0],
        msf(p2),
        msf(i2),
        ISRC[1],
        msf(p3),
        msf(i3)
    )
}

fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e} (scripts/setup installs it)"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A small tree of seeded files (sizes across sector and extent boundaries, a subfolder).
fn tree(dir: &Path, seed: u64) {
    std::fs::create_dir_all(dir.join("sub/deeper")).unwrap();
    let files: [(&str, u64); 5] = [
        ("a.bin", 1),
        ("b.bin", 2048 * 37 + 5),
        ("sub/c.bin", 3 << 20),
        ("sub/deeper/d.bin", 700_001),
        ("e.txt", 0),
    ];
    for (i, (name, len)) in files.iter().enumerate() {
        pattern::write_file(&dir.join(name), *len, seed + i as u64);
    }
}

/// `frames` stereo frames of 16-bit little-endian audio: two tones with seeded noise in the low
/// bits. Music-like, not noise: cdparanoia guesses a drive's byte order from the samples' shape,
/// and white noise makes that guess a coin toss.
fn tones(frames: usize) -> Vec<u8> {
    let noise = pattern::bytes(frames * 2, 0x05EE_D017);
    let mut out = Vec::with_capacity(frames * 4);
    for i in 0..frames {
        let t = i as f64 / 44_100.0;
        let left = (t * 440.0 * std::f64::consts::TAU).sin() * 9000.0;
        let right = (t * 661.0 * std::f64::consts::TAU).sin() * 7000.0;
        for (ch, v) in [left, right].into_iter().enumerate() {
            let s = v as i16 + (noise[i * 2 + ch] as i16 - 128) / 8;
            out.extend_from_slice(&s.to_le_bytes());
        }
    }
    out
}

/// Pads `image` with a hole up to `size` bytes; the filesystem's own size before.
fn pad(image: &Path, size: u64) -> u64 {
    let f = std::fs::OpenOptions::new().write(true).open(image).unwrap();
    let fs = f.metadata().unwrap().len();
    assert!(fs < size, "{} is already {fs} bytes", image.display());
    f.set_len(size).unwrap();
    fs
}

fn build(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let data = std::fs::read(sample("libcdio/isofs-m1.bin")).unwrap();
    assert_eq!(data.len(), DATA_SECTORS as usize * 2352, "isofs-m1.bin");
    let audio_sectors: u32 = AUDIO.iter().map(|(p, l)| p + l).sum();
    let audio = tones(audio_sectors as usize * 588);
    std::fs::write(dir.join("mixed.bin"), [&data[..], &audio[..]].concat()).unwrap();
    std::fs::write(dir.join("mixed.cue"), sheet()).unwrap();
    let user: Vec<u8> = data
        .chunks(2352)
        .flat_map(|s| s[16..2064].iter().copied())
        .collect();
    std::fs::write(dir.join("cd-data.iso"), user).unwrap();

    let t = dir.join("tree-dvd");
    tree(&t, 100);
    let dvd = dir.join("dvd.iso");
    run(Command::new("genisoimage")
        .args(["-quiet", "-udf", "-R", "-V", "SPINDLE_DVD", "-o"])
        .arg(&dvd)
        .arg(&t));
    let dvd_fs = pad(&dvd, DVD_BYTES);
    std::fs::write(dir.join("dvd.fs-bytes"), dvd_fs.to_string()).unwrap();

    let t = dir.join("tree-bd");
    tree(&t, 200);
    let bd = dir.join("bd.iso");
    run(Command::new("xorriso")
        .args(["-as", "mkisofs", "-quiet", "-R", "-V", "SPINDLE_BD", "-o"])
        .arg(&bd)
        .arg(&t));
    let bd_fs = pad(&bd, BD_BYTES);
    std::fs::write(dir.join("bd.fs-bytes"), bd_fs.to_string()).unwrap();
    std::fs::remove_dir_all(dir.join("tree-dvd")).unwrap();
    std::fs::remove_dir_all(dir.join("tree-bd")).unwrap();
}

/// Generates the discs once (a folder per content version, renamed into place whole, so that
/// tests in parallel binaries never see half of it) and says where they are.
pub fn media() -> Media {
    let root = spindle_vmtest::target_dir().join("vmtest/optical-media");
    let dir = root.join("v3");
    if !dir.join("bd.fs-bytes").is_file() {
        std::fs::create_dir_all(&root).unwrap();
        let tmp = tempfile::tempdir_in(&root).unwrap();
        build(tmp.path());
        let tmp = tmp.keep();
        if std::fs::rename(&tmp, &dir).is_err() {
            // Another test built it first.
            std::fs::remove_dir_all(&tmp).unwrap();
        }
    }
    let num = |name: &str| -> u64 {
        std::fs::read_to_string(dir.join(name))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    Media {
        cue: dir.join("mixed.cue"),
        bin: dir.join("mixed.bin"),
        cd_iso: dir.join("cd-data.iso"),
        dvd: dir.join("dvd.iso"),
        dvd_fs_bytes: num("dvd.fs-bytes"),
        bd: dir.join("bd.iso"),
        bd_fs_bytes: num("bd.fs-bytes"),
    }
}
