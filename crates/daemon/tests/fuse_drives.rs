//! Real FUSE mounts of the raw views: `drives/<N>/disc.iso` against `spindle_image::convert`,
//! `disc.cue` + `disc.bin` through cd-info, `tracks/NN.wav` through sox, loads and ejects.

mod fuse_common;

use fuse_common::*;
use spindle_disc::{ByteSource, Disc};
use spindle_fuse::{DriveTable, MountOptions, mount_drives};
use spindle_testkit::tree::names;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Table(Mutex<Vec<(u32, Option<Arc<Disc>>)>>);

impl DriveTable for Table {
    fn drives(&self) -> Vec<(u32, Option<Arc<Disc>>)> {
        self.0.lock().unwrap().clone()
    }
}

impl Table {
    fn with(discs: Vec<Option<Arc<Disc>>>) -> Arc<Table> {
        Arc::new(Table(Mutex::new(
            discs
                .into_iter()
                .enumerate()
                .map(|(i, d)| (i as u32, d))
                .collect(),
        )))
    }
    fn load(&self, n: u32, d: Option<Arc<Disc>>) {
        let mut v = self.0.lock().unwrap();
        v.iter_mut().find(|(m, _)| *m == n).unwrap().1 = d;
    }
}

fn converted_iso(disc: &Disc) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.iso");
    let opts = spindle_image::ConvertOptions {
        format: None,
        data_only: true,
        write: Default::default(),
    };
    spindle_image::convert(disc, &out, &opts, &mut |_, _| {}).unwrap();
    std::fs::read(&out).unwrap()
}

#[test]
fn disc_iso_equals_convert() {
    let _w = watchdog(120);
    let list = [
        ("libcdio/joliet.iso", None),
        ("libcdio/isofs-m1.cue", None),
        ("mdsx/test_pass_compress.mdx", Some("pass")),
        ("libcdio/videocd.nrg", None),
        ("cditools/test.cdi", None),
        ("generated-chd/isofs-m1.chd", None),
    ];
    let discs: Vec<Arc<Disc>> = list.iter().map(|(r, p)| disc(r, *p)).collect();
    let table = Table::with(discs.iter().cloned().map(Some).collect());
    let mp = MountPoint::new();
    let m = mount_drives(table, &mp.path(), &MountOptions::default()).unwrap();
    assert_eq!(names(&mp.path()), ["drives"]);
    assert_eq!(
        names(&mp.path().join("drives")),
        ["0", "1", "2", "3", "4", "5"]
    );
    for (i, (rel, _)) in list.iter().enumerate() {
        let d = mp.path().join(format!("drives/{i}"));
        let iso = std::fs::read(d.join("disc.iso")).unwrap();
        assert_eq!(
            sha1(&iso),
            sha1(&converted_iso(&discs[i])),
            "{rel}: disc.iso differs from convert"
        );
        assert!(
            names(&d).contains(&"toc.json".to_string()),
            "{rel}: {:?}",
            names(&d)
        );
        let toc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(d.join("toc.json")).unwrap()).unwrap();
        let tracks: usize = toc["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["tracks"].as_array().unwrap().len())
            .sum();
        assert_eq!(tracks, discs[i].track_count(), "{rel}: toc.json tracks");
        // Every track file has the size of its view and reads to the end.
        for t in names(&d.join("tracks")) {
            let p = d.join("tracks").join(&t);
            let len = std::fs::metadata(&p).unwrap().len();
            assert_eq!(std::fs::read(&p).unwrap().len() as u64, len, "{rel}: {t}");
        }
    }
    // A plain ISO: disc.iso is the image file itself (served by passthrough when allowed).
    let plain = std::fs::read(samples().join("libcdio/joliet.iso")).unwrap();
    assert_eq!(
        sha1(&std::fs::read(mp.path().join("drives/0/disc.iso")).unwrap()),
        sha1(&plain)
    );
    // This machine (root, kernel >= 6.9) allows passthrough; elsewhere reads serve it.
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        assert!(
            m.stats().passthrough_opens > 0,
            "disc.iso of a plain ISO went through passthrough: {:?}",
            m.stats()
        );
    }
    m.unmount().unwrap();
    assert!(!mounted(&mp.path()));
}

/// cd-info's track list: (track number, LSN) for every track line.
fn cd_info_tracks(cue: &Path) -> Vec<(u32, i64)> {
    let report = spindle_testkit::cd_info::run(cue);
    report.assert_success(cue);
    let rows = report.tracks().into_iter();
    rows.map(|t| (t.number, i64::from(t.lsn))).collect()
}

#[test]
fn disc_cue_shows_the_source_toc() {
    let _w = watchdog(60);
    let srcs = [
        "libcdio/isofs-m1.cue",
        "libcdio/cdda.cue",
        "generated-chd/mixed-mode1-audio.chd",
    ];
    let table = Table::with(srcs.iter().map(|r| Some(disc(r, None))).collect());
    let mp = MountPoint::new();
    let m = mount_drives(table, &mp.path(), &MountOptions::default()).unwrap();
    for (i, rel) in srcs.iter().enumerate() {
        let ours = cd_info_tracks(&mp.path().join(format!("drives/{i}/disc.cue")));
        // The source's own TOC as cd-info reads it: the CUE itself, or the BIN/CUE that
        // `spindle_image::convert` writes of a CHD (libcdio ignores `PREGAP`, so a CUE
        // that declares an unstored pregap shows the tracks after it that much earlier
        // than the disc model does; both sheets declare the same ones).
        let expect = if rel.ends_with(".cue") {
            cd_info_tracks(&samples().join(rel))
        } else {
            let dir = tempfile::tempdir().unwrap();
            let cue = dir.path().join("x.cue");
            let opts = spindle_image::ConvertOptions {
                format: None,
                data_only: false,
                write: Default::default(),
            };
            spindle_image::convert(&disc(rel, None), &cue, &opts, &mut |_, _| {}).unwrap();
            cd_info_tracks(&cue)
        };
        assert_eq!(
            ours.len(),
            disc(rel, None).track_count() + 1,
            "{rel}: tracks + lead-out"
        );
        assert!(!ours.is_empty(), "{rel}: cd-info shows no tracks");
        assert_eq!(ours, expect, "{rel}: TOC through drives/{i}/disc.cue");
        // disc.bin holds what the sheet says: its size is a whole number of raw sectors.
        let bin = std::fs::metadata(mp.path().join(format!("drives/{i}/disc.bin")))
            .unwrap()
            .len();
        assert_eq!(bin % 2352, 0);
    }
    // The BIN of a BIN/CUE source is the source BIN, byte for byte.
    let src_bin = std::fs::read(samples().join("libcdio/isofs-m1.bin")).unwrap();
    assert_eq!(
        sha1(&std::fs::read(mp.path().join("drives/0/disc.bin")).unwrap()),
        sha1(&src_bin)
    );
    m.unmount().unwrap();
}

#[test]
fn audio_tracks_are_wav_files() {
    let _w = watchdog(60);
    let cdda = disc("libcdio/cdda.cue", None);
    let table = Table::with(vec![Some(cdda.clone()), Some(disc("libcdio/p1.nrg", None))]);
    let mp = MountPoint::new();
    let m = mount_drives(table, &mp.path(), &MountOptions::default()).unwrap();
    let t = cdda.tracks().next().unwrap();
    let wav = mp.path().join("drives/0/tracks/01.wav");
    let o = Command::new("sox")
        .arg("--i")
        .arg(&wav)
        .output()
        .expect("sox must be installed");
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "sox --i: {text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(text.contains("Channels       : 2"), "{text}");
    assert!(text.contains("Sample Rate    : 44100"), "{text}");
    // 588 samples per sector.
    let samples_expected = t.program_length() as u64 * 588;
    assert!(
        text.contains(&format!("= {samples_expected} samples")),
        "{text} (want {samples_expected} samples)"
    );
    let o = Command::new("sox")
        .arg("--i")
        .arg("-D")
        .arg(&wav)
        .output()
        .unwrap();
    let secs: f64 = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap();
    assert!(
        (secs - samples_expected as f64 / 44100.0).abs() < 0.001,
        "duration {secs}"
    );
    // The samples after the header are the audio view's bytes.
    let bytes = std::fs::read(&wav).unwrap();
    let view = spindle_disc::SectorView::audio(cdda.clone(), t.number).unwrap();
    let mut direct = vec![0u8; view.len() as usize];
    assert_eq!(view.read_at(&mut direct, 0).unwrap(), direct.len());
    assert_eq!(&bytes[..4], b"RIFF");
    assert_eq!(sha1(&bytes[44..]), sha1(&direct));
    // The NRG audio disc: every track a WAV that sox accepts.
    for t in names(&mp.path().join("drives/1/tracks"))
        .iter()
        .filter(|t| t.ends_with(".wav"))
    {
        let o = Command::new("sox")
            .arg("--i")
            .arg(mp.path().join("drives/1/tracks").join(t))
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "p1.nrg {t}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    assert!(
        !names(&mp.path().join("drives/1")).contains(&"disc.iso".to_string()),
        "an audio disc has no disc.iso"
    );
    m.unmount().unwrap();
}

#[test]
fn loads_and_ejects_show_at_once() {
    let _w = watchdog(60);
    let table = Table::with(vec![None, None]);
    let mp = MountPoint::new();
    let m = mount_drives(table.clone(), &mp.path(), &MountOptions::default()).unwrap();
    let d0 = mp.path().join("drives/0");
    assert!(
        names(&d0).is_empty(),
        "an empty drive is an empty directory"
    );
    assert!(!d0.join("disc.iso").exists());
    table.load(0, Some(disc("libcdio/joliet.iso", None)));
    let a = std::fs::read(d0.join("disc.iso")).unwrap();
    assert_eq!(
        sha1(&a),
        sha1(&std::fs::read(samples().join("libcdio/joliet.iso")).unwrap())
    );
    let ino_a =
        std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(d0.join("disc.iso")).unwrap());
    // An open file keeps reading its disc after an eject and a new load.
    let held = std::fs::File::open(d0.join("disc.iso")).unwrap();
    table.load(0, None);
    assert!(names(&d0).is_empty(), "ejected: {:?}", names(&d0));
    table.load(0, Some(disc("libcdio/copying.iso", None)));
    let b = std::fs::read(d0.join("disc.iso")).unwrap();
    assert_eq!(
        sha1(&b),
        sha1(&std::fs::read(samples().join("libcdio/copying.iso")).unwrap())
    );
    let ino_b =
        std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(d0.join("disc.iso")).unwrap());
    assert_ne!(ino_a, ino_b, "a new disc gets new inode numbers");
    let mut old = Vec::new();
    std::io::Read::read_to_end(&mut &held, &mut old).unwrap();
    assert_eq!(sha1(&old), sha1(&a));
    drop(held);
    // Drive 1 appears and goes with the table.
    table.0.lock().unwrap().push((7, None));
    assert_eq!(names(&mp.path().join("drives")), ["0", "1", "7"]);
    m.unmount().unwrap();
}
