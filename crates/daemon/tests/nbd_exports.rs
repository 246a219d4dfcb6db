//! The NBD exports of a disc, in process: sizes, bytes and `base:allocation` runs against the
//! disc model and `spindle convert`-style views of real samples.

use spindle_daemon::nbd::{data_export, raw_export};
use spindle_disc::{ByteSource, Run, SectorFormat, SectorView};
use spindle_testkit::sample;
use std::sync::Arc;

fn open(rel: &str) -> Arc<spindle_disc::Disc> {
    Arc::new(spindle_image::open(&sample(rel)).unwrap_or_else(|e| panic!("{rel}: {e}")))
}

#[test]
fn iso_export_is_the_image_and_all_data() {
    let path = sample("kdomanski-iso9660/test.iso");
    let image = std::fs::read(&path).unwrap();
    let disc = open("kdomanski-iso9660/test.iso");
    let e = data_export(disc.clone()).unwrap();
    assert_eq!(e.len(), image.len() as u64);
    let mut buf = vec![0; image.len()];
    e.read_exact_at(&mut buf, 0).unwrap();
    assert!(buf == image, "export bytes differ from the ISO");
    assert_eq!(
        e.runs(0, e.len()),
        [Run {
            len: e.len(),
            stored: true,
            zero: false
        }]
    );
    // A plain ISO's user-data view is the file itself, from offset 0.
    use std::os::unix::fs::MetadataExt;
    let v = SectorView::first_data_track(disc.clone()).unwrap();
    let file = v.plain_file().expect("a plain ISO has a plain file");
    let (got, want) = (file.metadata().unwrap(), std::fs::metadata(&path).unwrap());
    assert_eq!((got.dev(), got.ino()), (want.dev(), want.ino()));
    assert!(
        e.plain_file().is_some(),
        "the data export is the plain file too"
    );
    // An ISO is no CD image with raw sectors... but it is a CD-ROM medium if small: the raw
    // export then synthesises headers for every sector, none of them stored as raw.
    if disc.medium.is_cd() {
        let raw = raw_export(disc).unwrap();
        assert_eq!(raw.len() % 2352, 0);
    }
}

#[test]
fn unstored_audio_pregap_is_a_zero_hole_in_the_raw_export() {
    let disc = open("generated-chd/mixed-mode1-audio.chd");
    let raw = raw_export(disc.clone()).unwrap();
    let t1 = disc.track(1).unwrap();
    let t2 = disc.track(2).unwrap();
    assert_eq!(raw.len(), t2.end().since(t1.start) as u64 * 2352);
    let map = raw.runs(0, raw.len());
    assert_eq!(map.iter().map(|a| a.len).sum::<u64>(), raw.len());
    // The audio track's 150-sector pregap is not stored and reads as zeros.
    let pregap_at = t2.start.since(t1.start) as u64 * 2352;
    let mut at = 0;
    let mut found = false;
    for a in &map {
        if at == pregap_at {
            assert_eq!(
                *a,
                Run {
                    len: t2.pregap as u64 * 2352,
                    stored: false,
                    zero: true
                }
            );
            found = true;
        }
        at += a.len;
    }
    assert!(found, "no run starts at the audio pregap: {map:?}");
    let mut buf = vec![0xAA; t2.pregap as usize * 2352];
    raw.read_exact_at(&mut buf, pregap_at).unwrap();
    assert!(
        buf.iter().all(|&b| b == 0),
        "the pregap does not read as zeros"
    );
    // Bytes after it equal the model's raw sectors.
    let v = SectorView::new(disc.clone(), t2.index1(), 4, SectorFormat::RAW).unwrap();
    let mut want = vec![0; 4 * 2352];
    v.read_exact_at(&mut want, 0).unwrap();
    let mut got = vec![0; 4 * 2352];
    raw.read_exact_at(&mut got, pregap_at + t2.pregap as u64 * 2352)
        .unwrap();
    assert!(got == want);
    // The data export is the first track's user data.
    let data = data_export(disc.clone()).unwrap();
    assert_eq!(data.len(), t1.program_length() as u64 * 2048);
    assert!(data.runs(0, data.len()).iter().all(|a| a.stored));
}

#[test]
fn allocation_of_a_window_is_clipped_and_starts_at_the_offset() {
    let disc = open("generated-chd/mixed-mode1-audio.chd");
    let raw = raw_export(disc.clone()).unwrap();
    let map = raw.runs(1000, 5000);
    assert_eq!(map.iter().map(|a| a.len).sum::<u64>(), 5000);
    let end = raw.runs(raw.len() - 10, 1 << 30);
    assert_eq!(end.iter().map(|a| a.len).sum::<u64>(), 10);
    let mut buf = [0u8; 16];
    assert!(
        raw.read_exact_at(&mut buf, raw.len() - 8).is_err(),
        "a read past the end must fail"
    );
}

#[test]
fn a_share_serves_only_its_sharers_discs() {
    use spindle_daemon::creds::User;
    use spindle_daemon::nbd::DriveCatalog;
    use spindle_daemon::{Drives, EjectTarget, open_image};
    use spindle_nbd::Catalog;
    let alice = User {
        uid: 1000,
        gid: 1000,
        groups: vec![],
    };
    let bob = User {
        uid: 1001,
        gid: 1001,
        groups: vec![],
    };
    let media = tempfile::tempdir().unwrap();
    let mut d = Drives::new(2, media.path().to_path_buf(), None);
    let iso = sample("kdomanski-iso9660/test.iso").canonicalize().unwrap();
    d.load(&alice, 0, open_image(&alice, &iso, None).unwrap())
        .unwrap();
    let alices = DriveCatalog::shared(d.table(), 0, alice.uid);
    let roots = DriveCatalog::shared(d.table(), 0, 0);
    // The two aliases, besides `drive0/<entry>` for each catalogue entry.
    let aliases = |c: &DriveCatalog| {
        c.list()
            .into_iter()
            .filter(|e| DriveCatalog::is_alias(&e.name))
            .count()
    };
    assert_eq!(aliases(&alices), 2, "drive0 and drive0.raw");
    let names: Vec<String> = alices.list().into_iter().map(|e| e.name).collect();
    assert!(names.iter().all(|n| n.starts_with("drive0")), "{names:?}");
    assert!(names.iter().any(|n| n == "drive0/disc.iso"), "{names:?}");
    assert!(alices.open("drive0").is_some());
    assert!(alices.open("drive0/toc.json").is_some());
    assert!(alices.open("drive1").is_none(), "only the shared drive");
    d.eject(&alice, &EjectTarget::Drive(0)).unwrap();
    d.load(&bob, 0, open_image(&bob, &iso, None).unwrap())
        .unwrap();
    assert!(
        alices.list().is_empty(),
        "bob's disc went out on alice's share"
    );
    assert!(alices.open("drive0").is_none());
    assert!(alices.open("").is_none());
    assert_eq!(aliases(&roots), 2, "a root share serves any disc");
    assert_eq!(aliases(&DriveCatalog::all(d.table())), 2);
}
