//! The cditools sample (`samples/cditools/test.cdi`, written by Conkwer/cditools'
//! `cdibuilder`, not by DiscJuggler).
//!
//! Expected layout, from `cdibuilder.cpp` of Conkwer/cditools (the source that wrote the
//! sample): `main()` in its default "audio" image type writes session 1 as one audio track
//! of 2352-byte sectors (`AS`): a 150-sector pregap (`PG`) and silence, and session 2 as one
//! Mode 2 data track of 2336-byte sectors (`DS`, "Mode2/2336"): the 150-sector pregap, then
//! the ISO made with `mkisofs -C 0,11702` (`-l` default `lba = 11702`), each sector an
//! all-zero 8-byte subheader, 2048 bytes of ISO and 280 zero bytes. Lengths and start
//! addresses are those of `build_header_audio`'s 665-byte template, which the source says
//! is "from test.cdi": track 1 pregap 150 + length 302 (total 0x1C4 = 452) at start 0;
//! track 2 pregap 150 + length 335 (total 0x1E5 = 485) at start 0xB6 0x2D = 11702, read mode
//! ("ssv") 1 = 2336 bytes. The footer is version 0x80000006 with the header offset counted
//! from the end (`hdr_offset = 665 + 8`).

use spindle_disc::{
    ByteSource, DirCompanions, Lba, OpenContext, SectorFormat, SectorView, SubLayout, TrackMode,
};
use spindle_fs::FileSystem;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn sample() -> PathBuf {
    spindle_testkit::sample("cditools/test.cdi")
}

fn open(path: &Path) -> Result<spindle_disc::Disc, spindle_format_cdi::CdiError> {
    spindle_format_cdi::open(
        path,
        &OpenContext {
            companions: &DirCompanions::beside(path),
            password: None,
        },
    )
}

#[test]
fn layout_matches_cdibuilder() {
    let path = sample();
    let disc = open(&path).expect("test.cdi opens");
    disc.validate().unwrap();
    assert_eq!(disc.source.format, "cdi");
    assert!(
        disc.source.variant.contains("3.5"),
        "{}",
        disc.source.variant
    );
    assert_eq!(disc.sessions.len(), 2);

    let s1 = &disc.sessions[0];
    assert_eq!(s1.number, 1);
    assert_eq!(s1.tracks.len(), 1);
    let t1 = &s1.tracks[0];
    assert_eq!(t1.number, 1);
    assert_eq!(t1.mode, TrackMode::Audio);
    assert_eq!(t1.start, Lba(-150));
    assert_eq!(t1.pregap, 150);
    assert_eq!(t1.index1(), Lba(0));
    assert_eq!(t1.length, 452);
    assert_eq!(t1.program_length(), 302);
    assert!(t1.pregap_stored());
    assert_eq!(s1.leadout, Lba(302));

    let s2 = &disc.sessions[1];
    assert_eq!(s2.number, 2);
    assert_eq!(s2.tracks.len(), 1);
    let t2 = &s2.tracks[0];
    assert_eq!(t2.number, 2);
    assert_eq!(t2.mode, TrackMode::Mode2Mixed);
    assert_eq!(t2.pregap, 150);
    assert_eq!(t2.index1(), Lba(11702));
    assert_eq!(t2.start, Lba(11552));
    assert_eq!(t2.length, 485);
    assert_eq!(t2.program_length(), 335);
    assert_eq!(s2.leadout, Lba(12037));
    // 11552 = 302 + 11250: the usual gap after a first session (lead-out 6750 + lead-in 4500).
    assert_eq!(t2.start.0 - s1.leadout.0, 11250);

    // Data offsets accumulate: track 2 starts after track 1's 452 × 2352 bytes.
    match &t2.extents[0].data {
        spindle_disc::ExtentData::Stored(st) => {
            assert_eq!(st.offset, 452 * 2352);
            assert_eq!(st.stride(t2.mode), 2336);
            assert_eq!(st.sub, SubLayout::None);
        }
        _ => panic!("track 2 is not stored in the image"),
    }
    // 452 × 2352 + 485 × 2336 bytes of tracks, then the 665-byte descriptor and the footer.
    let len = std::fs::metadata(&path).unwrap().len();
    assert_eq!(len, 452 * 2352 + 485 * 2336 + 665 + 8);
}

#[test]
fn data_track_bytes_match_the_file() {
    // Independent reading: user data at byte 8 of each 2336-byte sector after track 1 and
    // the pregap, straight from the file.
    let path = sample();
    let raw = std::fs::read(&path).unwrap();
    let disc = open(&path).unwrap();
    let mut buf = vec![0u8; 335 * 2048];
    disc.read_sectors(Lba(11702), 335, SectorFormat::USER_2048, &mut buf)
        .unwrap();
    let base = 452 * 2352 + 150 * 2336;
    for i in 0..335 {
        let o = base + i * 2336 + 8;
        assert_eq!(
            &buf[i * 2048..(i + 1) * 2048],
            &raw[o..o + 2048],
            "sector {i}"
        );
    }
    assert_eq!(
        &buf[..16],
        b"SEGA SEGAKATANA ",
        "IP.BIN at the start of the data track"
    );
    assert_eq!(&buf[16 * 2048..16 * 2048 + 6], b"\x01CD001");
    // Audio: silence, raw 2352.
    let mut a = vec![0xAAu8; 2352];
    disc.read_sectors(Lba(0), 1, SectorFormat::RAW, &mut a)
        .unwrap();
    assert_eq!(&a[..], &raw[150 * 2352..151 * 2352]);
}

fn fs_names(disc: spindle_disc::Disc) -> Vec<String> {
    let disc = Arc::new(disc);
    let base = disc.last_data_track().unwrap().index1().0 as u32;
    let dev: spindle_fs::Device = Arc::new(SectorView::disc_user_data(disc).unwrap());
    let fs: Arc<dyn FileSystem> =
        spindle_fs::open_iso(dev, spindle_fs::FsKind::Iso9660, base).unwrap();
    let mut names: Vec<String> = fs
        .read_dir(fs.root())
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    names.sort();
    names
}

#[test]
fn filesystem_lists_files() {
    let names = fs_names(open(&sample()).unwrap());
    assert!(names.iter().any(|n| n == "1ST_READ.BIN"), "{names:?}");
    assert!(names.iter().any(|n| n == "TEST.TXT"), "{names:?}");
}

#[test]
fn isoinfo_lists_the_same_names() {
    // isoinfo (Debian genisoimage) reads the data track's user data, written to a temporary
    // .iso, as a session starting at 11702 (-N), as mkisofs -C 0,11702 made it.
    let disc = Arc::new(open(&sample()).unwrap());
    let view = SectorView::user_data(disc.clone(), 2).unwrap();
    let mut iso = vec![0u8; view.len() as usize];
    assert_eq!(view.read_at(&mut iso, 0).unwrap(), iso.len());
    let dir = tempfile::tempdir().unwrap();
    let iso_path = dir.path().join("track2.iso");
    std::fs::write(&iso_path, &iso).unwrap();
    let out = std::process::Command::new("isoinfo")
        .args(["-N", "11702", "-f", "-i"])
        .arg(&iso_path)
        .output()
        .expect("isoinfo (Debian package genisoimage) must be installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut theirs: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim_start_matches('/').trim_end_matches(";1").to_string())
        .filter(|l| !l.is_empty())
        .collect();
    theirs.sort();
    let ours = fs_names((*disc).clone());
    assert_eq!(ours, theirs);
    assert_eq!(theirs, ["1ST_READ.BIN", "TEST.TXT"]);
}

#[test]
fn probe_claims_cdi_names() {
    let path = sample();
    let head = std::fs::read(&path).unwrap();
    let len = head.len() as u64;
    assert!(spindle_format_cdi::probe(&path, &head[..65536], len));
    assert!(spindle_format_cdi::probe(
        Path::new("X.CDI"),
        &head[..65536],
        len
    ));
    assert!(!spindle_format_cdi::probe(
        Path::new("x.iso"),
        &head[..65536],
        len
    ));
    // A whole small file in the head: its footer decides.
    assert!(!spindle_format_cdi::probe(
        Path::new("x.cdi"),
        &[0u8; 100],
        100
    ));
}
