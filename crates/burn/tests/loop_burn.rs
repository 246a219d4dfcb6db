//! The writer and the checks on real loop devices (we run as root; `losetup` on sparse files).

use spindle_burn::{
    Boot, BurnError, Options, Outcome, Phase, Policy, Source, Target, Transport, device, safety,
};
use spindle_testkit::loopdev::{Loop, Mount, make_iso};
use spindle_testkit::tools::tool as sh;
use std::collections::BTreeSet;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

const FIXED: Policy = Policy {
    allow_fixed: true,
    unmount: false,
};

fn target(l: &Loop, src: &Source) -> Target {
    let d = device::open_device(&l.dev).unwrap();
    safety::check(&d, src.len(), &src.reads, FIXED).unwrap();
    Target::open(d).unwrap()
}

fn no_progress(_: &spindle_burn::Progress) {}

/// Burns `src` to `l` with the default options; the device must verify and start with `want`.
fn burn_verified(l: &Loop, src: &Source, want: &[u8], what: &str) {
    let report = spindle_burn::burn(
        src,
        vec![target(l, src)],
        &Options::default(),
        &AtomicBool::new(false),
        &no_progress,
    );
    assert_eq!(report.targets[0].outcome, Outcome::Verified, "{what}");
    assert!(
        l.head(want.len()) == want,
        "{what}: {} does not start with the image",
        l.path()
    );
}

#[test]
fn an_iso_written_to_three_loop_devices_at_once_verifies_on_each() {
    let dir = tempfile::tempdir().unwrap();
    let iso = make_iso(dir.path(), "three.iso", 18);
    let want = std::fs::read(&iso).unwrap();
    let loops: Vec<Loop> = (0..3)
        .map(|i| Loop::new(dir.path(), &format!("l{i}.img"), 32 << 20, &[]))
        .collect();
    let src = Source::open(&iso, None).unwrap();
    assert_eq!(src.len(), want.len() as u64);
    let targets = loops.iter().map(|l| target(l, &src)).collect();
    let seen = std::sync::Mutex::new(BTreeSet::new());
    let report = spindle_burn::burn(
        &src,
        targets,
        &Options::default(),
        &AtomicBool::new(false),
        &|p| {
            seen.lock().unwrap().insert((p.target, p.phase));
        },
    );
    assert_eq!(report.targets.len(), 3);
    for (t, l) in report.targets.iter().zip(&loops) {
        assert_eq!(t.outcome, Outcome::Verified, "{}", t.path.display());
        assert!(t.direct, "loop devices take O_DIRECT");
        assert!(l.head(want.len()) == want, "{} holds the image", l.path());
    }
    let seen = seen.into_inner().unwrap();
    for i in 0..3 {
        assert!(
            seen.contains(&(i, Phase::Writing)) && seen.contains(&(i, Phase::Verifying)),
            "{seen:?}"
        );
    }
}

#[test]
fn an_odd_sized_raw_image_on_a_4k_sector_device_keeps_its_tail() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("odd.img");
    let data = spindle_testkit::pattern::bytes((5 << 20) + 1234, 4);
    std::fs::write(&raw, &data).unwrap();
    let l = Loop::new(dir.path(), "l4k.img", 16 << 20, &["-b", "4096"]);
    let d = device::open_device(&l.dev).unwrap();
    assert_eq!(d.logical_block_size, 4096);
    let src = Source::open(&raw, None).unwrap();
    assert!(
        src.disc.is_none(),
        "not a disc image: written as raw bytes ({})",
        src.description
    );
    burn_verified(&l, &src, &data, "odd-sized raw image");
}

/// An ISO of `mib` MiB written to a new 16 MiB loop device with `--no-verify`.
fn written_unverified(dir: &Path, name: &str, mib: usize) -> (Loop, Source) {
    let iso = make_iso(dir, &format!("{name}.iso"), mib);
    let l = Loop::new(dir, &format!("{name}.img"), 16 << 20, &[]);
    let src = Source::open(&iso, None).unwrap();
    let opts = Options {
        verify: false,
        ..Options::default()
    };
    let report = spindle_burn::burn(
        &src,
        vec![target(&l, &src)],
        &opts,
        &AtomicBool::new(false),
        &no_progress,
    );
    assert_eq!(report.targets[0].outcome, Outcome::Written);
    (l, src)
}

#[test]
fn a_changed_byte_on_the_device_is_named_by_its_offset() {
    let dir = tempfile::tempdir().unwrap();
    let (l, src) = written_unverified(dir.path(), "bad", 9);
    // What a failing stick does: one byte reads back different.
    let at = 5_000_003u64;
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&l.dev)
        .unwrap();
    let mut b = [0u8; 1];
    std::fs::File::open(&l.dev)
        .unwrap()
        .read_exact_at(&mut b, at)
        .unwrap();
    f.write_all_at(&[b[0] ^ 0x5A], at).unwrap();
    f.sync_all().unwrap();
    let t = target(&l, &src);
    let out = spindle_burn::verify(
        &src,
        &t,
        &Options::default(),
        &AtomicBool::new(false),
        &no_progress,
    );
    assert_eq!(out, Outcome::Mismatch { offset: at });
    assert!(
        out.state(src.len()).contains("5000003"),
        "{}",
        out.state(src.len())
    );
}

#[test]
fn cancelling_stops_writing_and_says_how_far_it_got() {
    let dir = tempfile::tempdir().unwrap();
    let iso = make_iso(dir.path(), "cancel.iso", 24);
    let l = Loop::new(dir.path(), "cancel.img", 32 << 20, &[]);
    let src = Source::open(&iso, None).unwrap();
    let cancel = AtomicBool::new(false);
    let opts = Options {
        chunk: 1 << 20,
        depth: 2,
        verify: true,
    };
    let report = spindle_burn::burn(&src, vec![target(&l, &src)], &opts, &cancel, &|p| {
        if p.done >= 3 << 20 {
            cancel.store(true, Ordering::Relaxed);
        }
    });
    match &report.targets[0].outcome {
        Outcome::Cancelled {
            phase: Phase::Writing,
            written,
        } => {
            assert!(*written >= 3 << 20 && *written < src.len(), "{written}");
            assert!(
                report.targets[0]
                    .outcome
                    .state(src.len())
                    .contains("INCOMPLETE")
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_checks_refuse_each_unsafe_target_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let iso = make_iso(dir.path(), "check.iso", 3);
    let src = Source::open(&iso, None).unwrap();
    let check = |l: &Loop, p: Policy| {
        safety::check(
            &device::open_device(&l.dev).unwrap(),
            src.len(),
            &src.reads,
            p,
        )
    };

    let ok = Loop::new(dir.path(), "ok.img", 8 << 20, &[]);
    assert!(matches!(
        check(&ok, Policy::default()),
        Err(BurnError::Fixed { .. })
    ));
    check(&ok, FIXED).unwrap();

    let small = Loop::new(dir.path(), "small.img", 1 << 20, &[]);
    let e = check(&small, FIXED).unwrap_err();
    assert!(matches!(e, BurnError::TooSmall { .. }), "{e}");
    assert!(e.to_string().contains(small.path()), "{e}");

    let ro = Loop::new(dir.path(), "ro.img", 8 << 20, &["-r"]);
    assert!(matches!(check(&ro, FIXED), Err(BurnError::ReadOnly { .. })));

    let m = Loop::new(dir.path(), "mounted.img", 8 << 20, &[]);
    let _mnt = Mount::ext4(&m.dev, &dir.path().join("mnt"));
    let e = check(&m, FIXED).unwrap_err();
    assert!(matches!(e, BurnError::Mounted { .. }), "{e}");
    assert!(e.to_string().contains("mnt"), "{e}");
    check(
        &m,
        Policy {
            allow_fixed: true,
            unmount: true,
        },
    )
    .unwrap();
    // O_EXCL is the second line: a mounted device cannot be opened exclusively.
    assert!(matches!(
        Target::open(device::open_device(&m.dev).unwrap()),
        Err(BurnError::Busy { .. })
    ));

    // The image on a filesystem on the target.
    let inner = _mnt.dir.join("inner.iso");
    std::fs::copy(&iso, &inner).unwrap();
    let src2 = Source::open(&inner, None).unwrap();
    let disks = src2.reads.disks();
    assert!(disks.contains(&m.name()), "{disks:?}");
    let e = safety::check(
        &device::open_device(&m.dev).unwrap(),
        src2.len(),
        &src2.reads,
        FIXED,
    )
    .unwrap_err();
    assert!(matches!(e, BurnError::HoldsImage { .. }), "{e}");

    // The disk holding / (this machine's root) is refused whatever the flags.
    let root = device::list().into_iter().find(|d| d.system.is_some());
    if let Some(root) = root {
        let e = safety::check(
            &root,
            1,
            &src.reads,
            Policy {
                allow_fixed: true,
                unmount: true,
            },
        )
        .unwrap_err();
        assert!(matches!(e, BurnError::SystemDisk { .. }), "{e}");
    } else {
        panic!(
            "no disk found holding /: {:?}",
            device::list().iter().map(|d| &d.name).collect::<Vec<_>>()
        );
    }
}

#[test]
fn loop_devices_are_listed_as_fixed_loop_disks_with_their_backing_file() {
    let dir = tempfile::tempdir().unwrap();
    let l = Loop::new(dir.path(), "list.img", 4 << 20, &[]);
    let d = device::list()
        .into_iter()
        .find(|d| d.name == l.name())
        .expect("listed");
    assert_eq!(d.transport, Transport::Loop);
    assert!(!d.removable && !d.is_removable_kind());
    assert_eq!(d.size, 4 << 20);
    assert_eq!(d.backing_file.as_deref(), Some(l.file.as_path()));
    let part = Path::new("/dev").join(format!("{}p1", l.name()));
    assert!(!part.exists());
}

#[test]
fn bootability_hybrid_plain_and_windows_isos() {
    let dir = tempfile::tempdir().unwrap();
    let ipxe = spindle_testkit::sample("debian-ipxe/ipxe.iso");
    let b = spindle_burn::boot::check(&Source::open(&ipxe, None).unwrap());
    assert!(matches!(b, Boot::HybridIso { mbr: true, .. }), "{b:?}");
    assert!(b.bootable());

    let plain = make_iso(dir.path(), "plain.iso", 1);
    let b = spindle_burn::boot::check(&Source::open(&plain, None).unwrap());
    assert_eq!(b, Boot::PlainIso);
    assert!(b.message().contains("NOT boot"));

    let win = dir.path().join("win");
    std::fs::create_dir_all(win.join("sources")).unwrap();
    std::fs::write(win.join("sources/install.wim"), b"MSWIM").unwrap();
    std::fs::write(win.join("bootmgr"), b"x").unwrap();
    let wiso = dir.path().join("win.iso");
    // UDF bridge like the real ones (genisoimage writes UDF 1.02 beside ISO 9660).
    sh(
        "genisoimage",
        &[
            "-quiet",
            "-J",
            "-udf",
            "-o",
            wiso.to_str().unwrap(),
            win.to_str().unwrap(),
        ],
    );
    let b = spindle_burn::boot::check(&Source::open(&wiso, None).unwrap());
    assert_eq!(b, Boot::WindowsIso, "{}", b.message());
    assert!(b.message().contains("Windows"));
}

#[test]
fn thousands_of_small_chunks_through_one_fast_target_never_stall() {
    // Regression: buffers the writer returned while the reader still held its own reference
    // fell out of the pool, and after `2 * depth + 1` of them the reader waited forever.
    let done = std::sync::Arc::new(AtomicBool::new(false));
    let flag = done.clone();
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(120));
        if !flag.load(Ordering::Relaxed) {
            eprintln!("the burn stalled");
            std::process::exit(1);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..48u32 << 20)
        .map(|i| (i.wrapping_mul(2_246_822_519) >> 11) as u8)
        .collect();
    let src = Source::from_memory(&dir.path().join("mem.img"), data.clone());
    let l = Loop::new(dir.path(), "fast.img", 48 << 20, &[]);
    for depth in [1, 2, 4] {
        let opts = Options {
            chunk: 16 << 10,
            depth,
            verify: true,
        };
        let report = spindle_burn::burn(
            &src,
            vec![target(&l, &src)],
            &opts,
            &AtomicBool::new(false),
            &no_progress,
        );
        assert_eq!(
            report.targets[0].outcome,
            Outcome::Verified,
            "depth {depth}"
        );
    }
    done.store(true, Ordering::Relaxed);
    assert!(l.head(data.len()) == data);
}

#[test]
fn zstd_images_stream_when_their_frames_declare_sizes_and_fall_back_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let iso = make_iso(dir.path(), "z.iso", 5);
    let data = std::fs::read(&iso).unwrap();
    let p = |n: &str| dir.path().join(n);
    let s = |x: &Path| x.to_str().unwrap().to_string();
    // One frame, as `zstd FILE` writes it (content size declared).
    sh("zstd", &["-q", &s(&iso), "-o", &s(&p("one.iso.zst"))]);
    // Two frames with a skippable frame between them.
    let half = data.len() / 2;
    std::fs::write(p("a.part"), &data[..half]).unwrap();
    std::fs::write(p("b.part"), &data[half..]).unwrap();
    sh("zstd", &["-q", &s(&p("a.part")), "-o", &s(&p("a.zst"))]);
    sh("zstd", &["-q", &s(&p("b.part")), "-o", &s(&p("b.zst"))]);
    let mut two = std::fs::read(p("a.zst")).unwrap();
    two.extend_from_slice(&[0x50, 0x2A, 0x4D, 0x18, 3, 0, 0, 0, 1, 2, 3]);
    two.extend(std::fs::read(p("b.zst")).unwrap());
    std::fs::write(p("two.iso.zst"), two).unwrap();
    // From a pipe: no declared size, so the random-access reader takes it.
    let piped = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "zstd -q -c < '{}' > '{}'",
            s(&iso),
            s(&p("piped.iso.zst"))
        ))
        .status()
        .unwrap();
    assert!(piped.success());
    for (name, streamed) in [
        ("one.iso.zst", true),
        ("two.iso.zst", true),
        ("piped.iso.zst", false),
    ] {
        let src = Source::open(&p(name), None).unwrap();
        assert_eq!(src.len(), data.len() as u64, "{name}");
        assert_eq!(
            src.description.contains("decoded while it is written"),
            streamed,
            "{name}: {}",
            src.description
        );
        let l = Loop::new(dir.path(), &format!("{name}.loop"), 8 << 20, &[]);
        burn_verified(&l, &src, &data, name);
        // Reads elsewhere restart the decoder and still see the right bytes.
        let mut b = vec![0u8; 4096];
        src.bytes.read_exact_at(&mut b, 3 << 20).unwrap();
        assert!(b[..] == data[3 << 20..(3 << 20) + 4096], "{name}");
        src.bytes.read_exact_at(&mut b, 4096).unwrap();
        assert!(b[..] == data[4096..8192], "{name}");
    }
}

#[test]
fn a_disk_replaced_under_the_same_name_after_the_checks_is_not_opened() {
    let dir = tempfile::tempdir().unwrap();
    let iso = make_iso(dir.path(), "swap.iso", 2);
    let mut l = Loop::new(dir.path(), "first.img", 8 << 20, &[]);
    let src = Source::open(&iso, None).unwrap();
    let d = device::open_device(&l.dev).unwrap();
    safety::check(&d, src.len(), &src.reads, FIXED).unwrap();
    // Checked (and, in the CLI, confirmed); then the "stick" is swapped: same name, same
    // device number, same size, another disk.
    l.replace_backing("second.img");
    let before = l.hash();
    match Target::open(d) {
        Err(e @ BurnError::Changed { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.contains(l.path()) && msg.contains("no longer the disk"),
                "{msg}"
            );
        }
        Err(e) => panic!("refused for another reason: {e}"),
        Ok(_) => panic!("opened a disk that was never checked"),
    }
    assert_eq!(l.hash(), before, "the replacement disk was touched");
}

/// 64 MiB of a pattern, counting the bytes asked for.
struct Counted(std::sync::atomic::AtomicU64);

impl spindle_disc::ByteSource for Counted {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        let n = buf.len().min((64u64 << 20).saturating_sub(offset) as usize);
        self.0.fetch_add(n as u64, Ordering::Relaxed);
        for (i, b) in buf[..n].iter_mut().enumerate() {
            *b = ((offset + i as u64) % 251) as u8;
        }
        Ok(n)
    }
    fn len(&self) -> u64 {
        64 << 20
    }
}

#[test]
fn when_every_target_has_failed_the_source_is_not_read_to_its_end() {
    let dir = tempfile::tempdir().unwrap();
    let l = Loop::new(dir.path(), "fails.img", 80 << 20, &[]);
    let counted = std::sync::Arc::new(Counted(std::sync::atomic::AtomicU64::new(0)));
    let src = Source {
        path: dir.path().join("counted.img"),
        bytes: counted.clone(),
        description: "counted".into(),
        disc: None,
        files: vec![],
        reads: Default::default(),
        head_last: 0,
        wims: Vec::new(),
    };
    let t = target(&l, &src);
    // Write-protected after the open (a stick's switch, a dying stick): every write fails.
    sh("blockdev", &["--setro", l.path()]);
    let opts = Options {
        chunk: 1 << 20,
        depth: 2,
        verify: true,
    };
    let report = spindle_burn::burn(&src, vec![t], &opts, &AtomicBool::new(false), &no_progress);
    sh("blockdev", &["--setrw", l.path()]);
    match &report.targets[0].outcome {
        Outcome::Failed {
            phase: Phase::Writing,
            error,
            ..
        } => assert!(error.contains("writing at byte 0"), "{error}"),
        other => panic!("{other:?}"),
    }
    let read = counted.0.load(Ordering::Relaxed);
    assert!(
        read <= 16 << 20,
        "{read} bytes of the source read for a target that failed at its first write"
    );
}

#[test]
fn a_target_failing_at_once_leaves_the_others_writing_and_verifying() {
    let dir = tempfile::tempdir().unwrap();
    let iso = make_iso(dir.path(), "mixed.iso", 12);
    let want = std::fs::read(&iso).unwrap();
    let src = Source::open(&iso, None).unwrap();
    let loops: Vec<Loop> = (0..3)
        .map(|i| Loop::new(dir.path(), &format!("mixed{i}.img"), 16 << 20, &[]))
        .collect();
    let targets: Vec<Target> = loops.iter().map(|l| target(l, &src)).collect();
    sh("blockdev", &["--setro", loops[1].path()]);
    // Small chunks and a shallow queue: the failed target's queued chunks must come back to
    // the reader's pool, or the others starve.
    let opts = Options {
        chunk: 64 << 10,
        depth: 1,
        verify: true,
    };
    let report = spindle_burn::burn(&src, targets, &opts, &AtomicBool::new(false), &no_progress);
    sh("blockdev", &["--setrw", loops[1].path()]);
    assert!(
        matches!(report.targets[1].outcome, Outcome::Failed { .. }),
        "{:?}",
        report.targets[1]
    );
    for i in [0, 2] {
        assert_eq!(
            report.targets[i].outcome,
            Outcome::Verified,
            "{}",
            loops[i].path()
        );
        assert!(loops[i].head(want.len()) == want);
    }
}

#[test]
fn verification_reads_the_device_not_the_page_cache() {
    let dir = tempfile::tempdir().unwrap();
    let (l, src) = written_unverified(dir.path(), "cache", 6);
    // The device's page cache holds the right bytes (a buffered read of all of it, with a
    // descriptor kept open: the last close of a block device drops its cache)...
    let keep = std::fs::File::open(&l.dev).unwrap();
    l.hash();
    // ...and then the medium changes under it: the loop device's backing file, written
    // directly, as a stick that loses a byte would.
    let at = 3_000_001u64;
    let mut b = [0u8; 1];
    let backing = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&l.file)
        .unwrap();
    backing.read_exact_at(&mut b, at).unwrap();
    backing.write_all_at(&[b[0] ^ 0xA5], at).unwrap();
    backing.sync_all().unwrap();
    let mut cached = [0u8; 1];
    keep.read_exact_at(&mut cached, at).unwrap();
    assert_eq!(
        cached, b,
        "premise: a buffered read of the device still sees the cached byte"
    );
    let t = target(&l, &src);
    let out = spindle_burn::verify(
        &src,
        &t,
        &Options::default(),
        &AtomicBool::new(false),
        &no_progress,
    );
    assert_eq!(
        out,
        Outcome::Mismatch { offset: at },
        "verify read the page cache"
    );
    drop(keep);
}
