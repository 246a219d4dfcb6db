//! A Windows-like ISO whose `sources/install.wim` must be split (the threshold lowered so
//! that a small WIM made by wimlib stands for one of over 4 GiB) burned to a loop device by
//! the library: the stick holds `install.swm`, `install2.swm`, ... and no `install.wim`;
//! the parts read back by mtools pass `wimlib-imagex verify` and list the source's tree;
//! every other file is equal. Tools nobody here wrote: genisoimage, wimlib-imagex, mtools,
//! fsck.fat.

use spindle_burn::stick::{self, StickOptions};
use spindle_burn::{Options, Outcome, Policy, Source, Target, device, safety};
use spindle_testkit::loopdev::Loop;
use spindle_testkit::tools::{run, stdout};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::AtomicBool;

fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn mtools(args: &[&str]) -> Command {
    let mut c = Command::new(args[0]);
    c.args(&args[1..])
        .env("MTOOLS_SKIP_CHECK", "1")
        .env("LC_ALL", "C.UTF-8");
    c
}

#[test]
fn install_wim_is_split_into_swm_parts_on_the_stick() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The WIM: incompressible files, captured without compression by wimlib.
    let payload = d.join("payload");
    std::fs::create_dir_all(payload.join("Windows")).unwrap();
    for i in 0..5u64 {
        std::fs::write(
            payload.join(format!("Windows/part{i}.bin")),
            pattern(i, 1_200_000),
        )
        .unwrap();
    }
    let tree = d.join("iso");
    std::fs::create_dir_all(tree.join("sources")).unwrap();
    std::fs::create_dir_all(tree.join("efi/boot")).unwrap();
    let wim = tree.join("sources/install.wim");
    run(Command::new("wimlib-imagex")
        .arg("capture")
        .arg(&payload)
        .arg(&wim)
        .arg("Windows Test")
        .arg("--compress=none"));
    std::fs::write(tree.join("bootmgr"), pattern(9, 400_000)).unwrap();
    std::fs::write(tree.join("efi/boot/bootx64.efi"), pattern(10, 50_000)).unwrap();
    std::fs::write(tree.join("sources/boot.wim"), pattern(11, 300_000)).unwrap();
    let iso = d.join("win.iso");
    run(Command::new("genisoimage")
        .args(["-quiet", "-J", "-udf", "-o"])
        .arg(&iso)
        .arg(&tree));

    let src = Source::open(&iso, None).unwrap();
    let l = Loop::new(d, "stick.img", 128 << 20, &[]);
    let dev = device::open_device(&l.dev).unwrap();
    let opts = StickOptions {
        split_over: 1 << 20,
        part_limit: 2 << 20,
    };
    let stick = stick::layout_with(&src, dev.size, &opts).unwrap();
    assert_eq!(stick.split.len(), 1, "{:?}", stick.split);
    assert_eq!(stick.split[0].0, "sources/install.wim");
    assert!(stick.split[0].1 >= 3);
    let stick_parts = stick.split[0].1;
    let src = stick::source(&src, stick);
    assert!(
        src.description.contains("split into"),
        "{}",
        src.description
    );
    let policy = Policy {
        allow_fixed: true,
        unmount: false,
    };
    safety::check(&dev, src.len(), &src.reads, policy).unwrap();
    let report = spindle_burn::burn(
        &src,
        vec![Target::open(dev).unwrap()],
        &Options::default(),
        &AtomicBool::new(false),
        &|_| {},
    );
    assert_eq!(report.targets[0].outcome, Outcome::Verified);

    // The partition: fsck.fat clean.
    let part = Loop::over(&l.file, &["-r", "-o", "1048576"]);
    let out = Command::new("fsck.fat")
        .args(["-n", part.path()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    drop(part);

    // Copy the stick's files out with mtools.
    let image = format!("{}@@1048576", l.file.display());
    let back = d.join("back");
    std::fs::create_dir(&back).unwrap();
    run(mtools(&["mcopy", "-s", "-n", "-i", &image, "::/"]).arg(&back));
    assert!(
        !back.join("sources/install.wim").exists(),
        "install.wim was copied whole"
    );
    for f in ["bootmgr", "efi/boot/bootx64.efi", "sources/boot.wim"] {
        assert!(
            std::fs::read(back.join(f)).unwrap() == std::fs::read(tree.join(f)).unwrap(),
            "{f}"
        );
    }
    let mut parts: Vec<_> = std::fs::read_dir(back.join("sources"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".swm"))
        .collect();
    parts.sort();
    assert!(
        parts.len() >= 3
            && parts.contains(&"install.swm".into())
            && parts.contains(&"install2.swm".into()),
        "{parts:?}"
    );
    for p in &parts {
        let n = std::fs::metadata(back.join("sources").join(p))
            .unwrap()
            .len();
        assert!(n <= (2 << 20) + 100_000, "{p} is {n} bytes");
    }
    let first = back.join("sources/install.swm");
    let refs = format!("--ref={}/install*.swm", back.join("sources").display());
    run(Command::new("wimlib-imagex")
        .arg("verify")
        .arg(&first)
        .arg(&refs));
    let list = |w: &Path, r: Option<&str>| {
        stdout(
            Command::new("wimlib-imagex")
                .arg("dir")
                .arg(w)
                .arg("1")
                .args(r),
        )
    };
    let a = list(&wim, None);
    assert!(a.contains("/Windows/part4.bin"), "{a}");
    assert_eq!(a, list(&first, Some(&refs)));

    // The parts on the stick against the source WIM, alone: they pass; then the stored
    // bytes of one resource of install2.swm, or its lookup-table entry, changed behind the
    // filesystem's back on the loop device's file: the check fails naming the part.
    let check = || {
        let f = std::fs::File::open(&l.dev).unwrap();
        spindle_burn::wimcheck::check(&f, false, &src.wims)
    };
    assert_eq!(src.wims.len(), 1);
    assert_eq!(src.wims[0].parts.len(), stick_parts);
    check().unwrap();
    let (name, start, _) = src.wims[0].parts[1].clone();
    assert!(name.ends_with("install2.swm"), "{name}");
    let img = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&l.file)
        .unwrap();
    let mut h = [0u8; 208];
    img.read_exact_at(&mut h, start).unwrap();
    let table = start + u64::from_le_bytes(h[56..64].try_into().unwrap());
    let mut e = [0u8; 50];
    img.read_exact_at(&mut e, table).unwrap();
    let res = start + u64::from_le_bytes(e[8..16].try_into().unwrap());
    let flip = |at: u64| {
        let mut b = [0u8; 1];
        img.read_exact_at(&mut b, at).unwrap();
        b[0] ^= 0x5A;
        img.write_all_at(&b, at).unwrap();
        img.sync_all().unwrap();
    };
    flip(res + 100);
    let err = check().unwrap_err().to_string();
    assert!(
        err.contains("install2.swm") && err.contains("stored bytes differ"),
        "{err}"
    );
    flip(res + 100);
    check().unwrap();
    flip(table + 49); // the last byte of the entry's SHA-1
    let err = check().unwrap_err().to_string();
    assert!(
        err.contains("install2.swm") && err.contains("not in the source WIM"),
        "{err}"
    );
    // The whole verify (read-back, then the parts) fails too.
    let dev = device::open_device(&l.dev).unwrap();
    let out = spindle_burn::verify(
        &src,
        &Target::open(dev).unwrap(),
        &Options::default(),
        &AtomicBool::new(false),
        &|_| {},
    );
    assert_ne!(out, Outcome::Verified);
}
