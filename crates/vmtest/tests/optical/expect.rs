//! What the guest's tools must see of each disc, made on the host from the image files with
//! tools other than the drive under test: libcdio's `cd-info` and `cd-paranoia` on the CUE
//! sheet, slices of the BIN, `spindle extract` for the file trees, and spindle's own sector
//! reader (the disc model's raw + subchannel view) for the READ CD bytes. Each is a file the
//! guest finds under /data/expect/ (see checks.sh).

use super::media::{self, Media};
use spindle_disc::{Lba, SectorFormat};
use spindle_testkit::vm;
use std::path::Path;
use std::process::Command;

/// The cd-info normaliser (the host and the guest run the same program).
pub const CDINFO_AWK: &str = include_str!("cdinfo.awk");
/// Reads one drive's value out of `spindle drives --json` in the guest.
pub const DRIVES_AWK: &str = include_str!("drives.awk");

/// Sectors whose READ CD bytes the guest compares: (LBA, count); the PVD, the last data
/// sector, audio in track 2's pregap and in its body, track 3's INDEX 00 and the last sector.
pub fn readcd_sectors() -> Vec<(u32, u32)> {
    let (p2, i2) = media::audio_start(2);
    let (p3, _) = media::audio_start(3);
    vec![
        (16, 2),
        (media::DATA_SECTORS - 1, 1),
        (p2 + 10, 1),
        (i2 + 100, 3),
        (p3, 1),
        (media::leadout() - 1, 1),
    ]
}

/// One expectation file: its guest path and bytes.
pub type File = (String, Vec<u8>);

fn file(name: &str, text: String) -> File {
    (format!("/data/expect/{name}"), text.into_bytes())
}

/// `cd-info` on the sheet, normalised by cdinfo.awk.
fn cd_info(media: &Media) -> String {
    let dir = media.cue.parent().unwrap();
    let report = spindle_testkit::cd_info::run_in(dir, "mixed.cue");
    report.assert_success(&media.cue);
    let tmp = tempfile::tempdir().unwrap();
    let awk = tmp.path().join("cdinfo.awk");
    let txt = tmp.path().join("report.txt");
    std::fs::write(&awk, CDINFO_AWK).unwrap();
    std::fs::write(&txt, &report.stdout).unwrap();
    let out = vm::run(Command::new("awk").arg("-f").arg(&awk).arg(&txt));
    let text = String::from_utf8(out).unwrap();
    for needle in ["CD-TEXT for Track 3:", "audio", "170:", media::MCN] {
        assert!(
            text.contains(needle),
            "no {needle:?} in cd-info's report:\n{text}"
        );
    }
    text
}

/// The audio of tracks 2 and 3 as cdparanoia rips them: from INDEX 01 to the next track's
/// INDEX 01 (the next track's pregap belongs to this one), the last to the lead-out; checked
/// against libcdio's `cd-paranoia` reading the sheet. Lines "TRACK SECTORS SHA256".
fn paranoia(media: &Media) -> String {
    let bin = std::fs::read(&media.bin).unwrap();
    let (_, i2) = media::audio_start(2);
    let (_, i3) = media::audio_start(3);
    let spans = [(2u8, i2, i3), (3, i3, media::leadout())];
    let dir = media.cue.parent().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for (track, from, to) in spans {
        // The BIN holds every sector from LBA 0 (no unstored gaps).
        let slice = &bin[from as usize * 2352..to as usize * 2352];
        let out = tmp.path().join(format!("{track}.raw"));
        vm::run(
            Command::new("cd-paranoia")
                .args(["-q", "-d", "mixed.cue", "-r", &track.to_string()])
                .arg(&out)
                .current_dir(dir),
        );
        let ripped = std::fs::read(&out).unwrap();
        assert!(
            ripped == slice,
            "cd-paranoia's track {track} of {} is not the BIN's sectors {from}..{to}",
            media.cue.display()
        );
        text.push_str(&format!("{track} {} {}\n", to - from, vm::sha256(slice)));
    }
    text
}

/// READ CD bytes of [`readcd_sectors`] from spindle's disc model: lines "LBA COUNT SUB
/// SHA256" for SUB 0 (2352 raw), 1 (+ 96 bytes raw P-W) and 2 (+ 16 bytes formatted Q).
fn readcd(media: &Media) -> (String, String) {
    let disc = spindle_image::open(&media.cue).unwrap();
    let mut text = String::new();
    let mut prefix = String::new();
    for (lba, count) in readcd_sectors() {
        for (sub, format) in [
            (0, SectorFormat::RAW),
            (1, SectorFormat::RAW_PW96),
            (2, SectorFormat::RAW_Q16),
        ] {
            let size = 2352 + format.sub.size();
            let mut buf = vec![0u8; size * count as usize];
            let n = disc
                .read_sectors(Lba(lba as i32), count, format, &mut buf)
                .unwrap();
            assert_eq!(n, buf.len(), "sector {lba}");
            text.push_str(&format!("{lba} {count} {sub} {}\n", vm::sha256(&buf)));
            if sub == 0 && lba < media::DATA_SECTORS {
                // Sync, mode byte and user data: what QEMU's drive gets right (it leaves
                // EDC/ECC zero and writes the header's address in binary).
                let heads: Vec<u8> = buf
                    .chunks(2352)
                    .flat_map(|s| s[..12].iter().chain(&s[15..2064]).copied())
                    .collect();
                prefix.push_str(&format!("{lba} {count} {}\n", vm::sha256(&heads)));
            }
        }
    }
    (text, prefix)
}

/// "BLOCKS SHA256" of the first `bytes` of `image`.
fn data_sum(image: &Path, bytes: u64) -> String {
    use std::io::Read;
    let mut buf = vec![0u8; bytes as usize];
    std::fs::File::open(image)
        .unwrap()
        .read_exact(&mut buf)
        .unwrap();
    format!("{} {}\n", bytes / 2048, vm::sha256(&buf))
}

/// Every expectation file for the three discs.
pub fn files(media: &Media) -> Vec<File> {
    let spindle = spindle_vmtest::spindle_binary().unwrap_or_else(|e| panic!("{e}"));
    let (readcd, readcd_prefix) = readcd(media);
    let isrc: String = media::ISRC
        .iter()
        .enumerate()
        .map(|(i, code)| format!("{} {code}\n", i + 2))
        .collect();
    vec![
        (
            "/data/cdinfo.awk".to_string(),
            CDINFO_AWK.as_bytes().to_vec(),
        ),
        (
            "/data/drives.awk".to_string(),
            DRIVES_AWK.as_bytes().to_vec(),
        ),
        file("cd.cdinfo", cd_info(media)),
        file("cd.paranoia", paranoia(media)),
        file("cd.readcd", readcd),
        file("cd.readcd-prefix", readcd_prefix),
        file("cd.isrc", isrc),
        file(
            "cd.tree.sha256",
            vm::tree_sums(&spindle, &media.cue, None, "/mnt"),
        ),
        file(
            "cd.data",
            data_sum(&media.cd_iso, media::DATA_SECTORS as u64 * 2048),
        ),
        file(
            "dvd.tree.sha256",
            vm::tree_sums(&spindle, &media.dvd, Some("udf"), "/mnt"),
        ),
        file("dvd.data", data_sum(&media.dvd, media.dvd_fs_bytes)),
        file(
            "bd.tree.sha256",
            vm::tree_sums(&spindle, &media.bd, None, "/mnt"),
        ),
        file("bd.data", data_sum(&media.bd, media.bd_fs_bytes)),
    ]
}
