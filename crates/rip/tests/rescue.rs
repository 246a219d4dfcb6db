//! The rescue against the emulated drive: unreadable sectors end up exactly in the map (as
//! GNU ddrescuelog reads it), a resume after the drive "recovers" completes the image, an
//! interrupted rescue resumes to the same result, hanging sectors time out and are retried.

use spindle_mmc::readcd::SubSelect;
use spindle_mmc::{EmulatedDrive, Faults, Mmc};
use spindle_rip::drive::{DriveSource, ReadMode};
use spindle_rip::rescue::{FileSink, Rescue, RescueOptions};
use spindle_rip::{RescueMap, RipError, Status};
use spindle_testkit::samples;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

fn drive(rel: &str) -> EmulatedDrive {
    let disc = Arc::new(spindle_image::open(&samples().join(rel)).unwrap());
    let d = EmulatedDrive::new(Some(disc));
    let mut m = Mmc::new(&d);
    let _ = m.test_unit_ready();
    m.test_unit_ready().unwrap();
    d
}

/// Rescues `sectors` from `base` in `mode` into `out`, with the map at `map_path` (loaded
/// when it exists). `cancel_after`: set the cancel flag after that many progress ticks.
fn rescue(
    d: &EmulatedDrive,
    mode: ReadMode,
    base: i64,
    sectors: u64,
    out: &Path,
    map_path: &Path,
    cancel_after: Option<u64>,
) -> Result<Vec<u64>, RipError> {
    let mut mmc = Mmc::new(d);
    mmc.timeout = Duration::from_millis(200);
    let ss = mode.sector_size();
    let mut map = if map_path.exists() {
        let m = RescueMap::load(map_path)?;
        m.check_matches(base, sectors, ss, map_path)?;
        m
    } else {
        RescueMap::new(base, sectors, ss)
    };
    let mut source = DriveSource {
        mmc: &mut mmc,
        base,
        mode,
    };
    let mut sink = FileSink::open(out, ss, 0)?;
    sink.set_sectors(sectors)?;
    let cancel = AtomicBool::new(false);
    let mut ticks = 0u64;
    let mut progress = |_: &spindle_rip::rescue::Progress| {
        ticks += 1;
        if cancel_after.is_some_and(|n| ticks >= n) {
            cancel.store(true, Ordering::Relaxed);
        }
    };
    let summary = Rescue {
        source: &mut source,
        sink: &mut sink,
        map: &mut map,
        map_path: Some(map_path),
        options: RescueOptions {
            cluster: 16,
            skip_min: 8,
            skip_max: 64,
            retries: 1,
            map_interval: Duration::from_millis(0),
        },
        cancel: Some(&cancel),
        progress: Some(&mut progress),
    }
    .run()?;
    Ok(summary.bad)
}

/// `ddrescuelog -l-`: the bad blocks of a map, as GNU ddrescue reads the file.
fn ddrescue_bad(map: &Path, ss: u32) -> Vec<u64> {
    let out = Command::new("ddrescuelog")
        .args(["-b", &ss.to_string(), "-l-"])
        .arg(map)
        .output()
        .expect("ddrescuelog (Debian gddrescue) must be installed: scripts/setup installs it");
    assert!(
        out.status.success(),
        "ddrescuelog: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect()
}

fn ddrescue_done(map: &Path) -> bool {
    Command::new("ddrescuelog")
        .arg("-D")
        .arg(map)
        .status()
        .expect("ddrescuelog")
        .success()
}

#[test]
fn bad_sectors_in_the_map_then_resume_completes() {
    let iso = samples().join("debian-ipxe/ipxe.iso");
    let src = std::fs::read(&iso).unwrap();
    let sectors = (src.len() / 2048) as u64;
    let d = drive("debian-ipxe/ipxe.iso");
    let bad: Vec<u64> = [100, 101, 102, 103, 500, 900, 901, 902, 903, 904, 1023].to_vec();
    d.faults().set(Faults {
        unreadable: bad.iter().map(|&b| b as i32).collect(),
        flaky: [(300, 1)].into_iter().collect(),
        ..Faults::none()
    });
    let dir = tempfile::tempdir().unwrap();
    let (out, map) = (dir.path().join("x.iso"), dir.path().join("x.iso.map"));
    let got_bad = rescue(&d, ReadMode::User, 0, sectors, &out, &map, None).unwrap();
    assert_eq!(got_bad, bad, "the flaky sector 300 is read on a later try");
    assert_eq!(ddrescue_bad(&map, 2048), bad);
    assert!(!ddrescue_done(&map));
    let img = std::fs::read(&out).unwrap();
    assert_eq!(img.len(), src.len());
    for s in 0..sectors as usize {
        let (a, b) = (
            &img[s * 2048..(s + 1) * 2048],
            &src[s * 2048..(s + 1) * 2048],
        );
        if bad.contains(&(s as u64)) {
            assert!(a.iter().all(|&x| x == 0), "bad sector {s} is zeros");
        } else {
            assert_eq!(a, b, "sector {s}");
        }
    }
    // The drive recovers; the resumed rescue reads only what is missing.
    d.faults().recover();
    let before = d.commands();
    assert!(
        rescue(&d, ReadMode::User, 0, sectors, &out, &map, None)
            .unwrap()
            .is_empty()
    );
    assert!(
        d.commands() - before <= bad.len() as u64 + 2,
        "resume re-reads only the bad sectors"
    );
    assert!(
        std::fs::read(&out).unwrap() == src,
        "the image equals the source"
    );
    assert!(ddrescue_done(&map));
    let m = RescueMap::load(&map).unwrap();
    assert!(m.is_finished());
}

#[test]
fn interrupted_rescue_resumes_to_the_same_image() {
    let d = drive("libcdio/isofs-m1.cue");
    let bad = [40i32, 41, 200];
    let dir = tempfile::tempdir().unwrap();
    let mode = ReadMode::Raw(SubSelect::RawPw);
    // Uninterrupted.
    d.faults().set(Faults {
        unreadable: bad.into_iter().collect(),
        ..Faults::none()
    });
    let (a, amap) = (dir.path().join("a.bin"), dir.path().join("a.map"));
    let bad_a = rescue(&d, mode, 0, 302, &a, &amap, None).unwrap();
    assert_eq!(bad_a, vec![40, 41, 200]);
    // Interrupted three times, then run to the end.
    let (b, bmap) = (dir.path().join("b.bin"), dir.path().join("b.map"));
    for stop in [3, 5, 7] {
        match rescue(&d, mode, 0, 302, &b, &bmap, Some(stop)) {
            Err(RipError::Cancelled) => {}
            other => panic!("expected a cancel, got {other:?}"),
        }
        let m = RescueMap::load(&bmap).unwrap();
        assert!(!m.is_finished());
    }
    let bad_b = rescue(&d, mode, 0, 302, &b, &bmap, None).unwrap();
    assert_eq!(bad_b, bad_a);
    assert!(std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap());
    assert_eq!(ddrescue_bad(&bmap, 2448), vec![40, 41, 200]);
    // The main channel of good sectors equals the source BIN.
    let src = std::fs::read(samples().join("libcdio/isofs-m1.bin")).unwrap();
    let img = std::fs::read(&b).unwrap();
    for s in [0usize, 39, 42, 199, 201, 301] {
        assert_eq!(
            &img[s * 2448..s * 2448 + 2352],
            &src[s * 2352..(s + 1) * 2352],
            "sector {s}"
        );
    }
    // A map of another read area is refused.
    let wrong = rescue(&d, ReadMode::User, 0, 302, &b, &bmap, None).unwrap_err();
    assert!(matches!(wrong, RipError::MapMismatch { .. }), "{wrong}");
}

#[test]
fn hanging_sector_times_out_then_resumes() {
    let d = drive("libcdio/copying.iso");
    d.faults().update(|f| {
        f.hang_sectors.insert(20);
    });
    let dir = tempfile::tempdir().unwrap();
    let (out, map) = (dir.path().join("c.iso"), dir.path().join("c.map"));
    let bad = rescue(&d, ReadMode::User, 0, 64, &out, &map, None).unwrap();
    assert_eq!(bad, vec![20]);
    let m = RescueMap::load(&map).unwrap();
    assert_eq!(m.status(20), Some(Status::Bad));
    assert_eq!(m.count(Status::Finished), 63);
    d.faults().recover();
    assert!(
        rescue(&d, ReadMode::User, 0, 64, &out, &map, None)
            .unwrap()
            .is_empty()
    );
    let src = std::fs::read(samples().join("libcdio/copying.iso")).unwrap();
    assert!(std::fs::read(&out).unwrap() == src[..64 * 2048]);
}

/// A source that says only the kernel writes its buffers (as SG_IO does), and scribbles on
/// whatever a failed read leaves, as a half-finished DMA would.
struct DmaLike<'a, 'm>(DriveSource<'m, &'a EmulatedDrive>);

impl spindle_rip::rescue::RescueSource for DmaLike<'_, '_> {
    fn sector_size(&self) -> u32 {
        self.0.sector_size()
    }
    fn read(
        &mut self,
        first: u64,
        count: u32,
        buf: &mut [u8],
    ) -> spindle_rip::Result<spindle_rip::rescue::ReadOutcome> {
        let r = self.0.read(first, count, buf)?;
        if let spindle_rip::rescue::ReadOutcome::FailedAt(k) = r {
            buf[k as usize * self.sector_size() as usize..].fill(0xee);
        }
        Ok(r)
    }
    fn reads_by_dma(&self) -> bool {
        true
    }
}

/// Counts how the rescue handed sectors to the file.
struct Counting<'a> {
    file: &'a mut FileSink,
    direct: u32,
    shared: u32,
}

impl spindle_rip::rescue::RescueSink for Counting<'_> {
    fn write(&mut self, first: u64, data: &[u8]) -> spindle_rip::Result<()> {
        self.file.write(first, data)
    }
    fn write_shared(
        &mut self,
        first: u64,
        data: &spindle_rip::buffers::SharedBuf,
    ) -> spindle_rip::Result<()> {
        self.shared += 1;
        self.file.write_shared(first, data)
    }
    fn direct(&mut self, first: u64, count: u32) -> Option<spindle_rip::rescue::Direct<'_>> {
        self.file.direct(first, count)
    }
    fn wrote_direct(
        &mut self,
        first: u64,
        data: &spindle_rip::buffers::SharedBuf,
    ) -> spindle_rip::Result<()> {
        self.direct += 1;
        self.file.wrote_direct(first, data)
    }
}

/// Reading straight into the mapped work file gives the file a buffered rescue gives: the
/// sectors read, and zeros (not what a failed read left) where sectors failed.
#[test]
fn direct_reads_into_the_mapped_file_match_buffered_ones() {
    let d = drive("libarchive/test_read_format_iso_rockridge.iso");
    // The work file is mapped only on a memory filesystem.
    let dir = tempfile::tempdir_in("/dev/shm").unwrap();
    let sectors = 400u64;
    let buffered = dir.path().join("buffered.iso");
    d.faults().set(
        Faults::none()
            .unreadable_range(100, 3)
            .unreadable_range(250, 1),
    );
    let bad = rescue(
        &d,
        ReadMode::User,
        0,
        sectors,
        &buffered,
        &dir.path().join("b.map"),
        None,
    )
    .unwrap();
    assert_eq!(bad, vec![100, 101, 102, 250]);

    let out = dir.path().join("direct.iso");
    let mut mmc = Mmc::new(&d);
    let mut source = DmaLike(DriveSource {
        mmc: &mut mmc,
        base: 0,
        mode: ReadMode::User,
    });
    let mut file = FileSink::open(&out, 2048, 0).unwrap();
    file.set_sectors(sectors).unwrap();
    assert!(file.map());
    // On a disk filesystem (the target directory here, when it is one) it stays unmapped.
    let disk = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("unmapped.iso");
    let mut other = FileSink::open(&disk, 2048, 0).unwrap();
    other.set_sectors(16).unwrap();
    let fs = Command::new("stat")
        .args(["-f", "-c", "%T"])
        .arg(&disk)
        .output()
        .unwrap();
    let fs = String::from_utf8_lossy(&fs.stdout).trim().to_string();
    assert_eq!(
        other.map(),
        fs == "tmpfs" || fs == "ramfs",
        "filesystem {fs}"
    );
    drop(other);
    let _ = std::fs::remove_file(&disk);
    let mut sink = Counting {
        file: &mut file,
        direct: 0,
        shared: 0,
    };
    let mut map = RescueMap::new(0, sectors, 2048);
    let summary = Rescue {
        source: &mut source,
        sink: &mut sink,
        map: &mut map,
        map_path: None,
        options: RescueOptions {
            cluster: 16,
            ..RescueOptions::default()
        },
        cancel: None,
        progress: None,
    }
    .run()
    .unwrap();
    assert_eq!(summary.bad, vec![100, 101, 102, 250]);
    // Single-sector reads at odd sectors (trimming, scraping) are not page-aligned: buffered.
    assert!(
        sink.direct > 20 && sink.shared < 10,
        "direct {} shared {}",
        sink.direct,
        sink.shared
    );
    file.sync().unwrap();
    drop(file);
    let (a, b) = (
        std::fs::read(&buffered).unwrap(),
        std::fs::read(&out).unwrap(),
    );
    assert!(a == b, "the mapped file differs from the buffered one");
    assert!(b[100 * 2048..103 * 2048].iter().all(|&x| x == 0));
    let src =
        std::fs::read(samples().join("libarchive/test_read_format_iso_rockridge.iso")).unwrap();
    assert!(b[..100 * 2048] == src[..100 * 2048]);
}
