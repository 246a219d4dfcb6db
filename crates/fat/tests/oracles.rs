//! FAT volumes written by spindle-fat, read by tools nobody here wrote: `fsck.fat -n`
//! (dosfstools) must find them clean, and mtools must read every file back with its name
//! (long names, Unicode, case) and its bytes.

mod common;

use common::*;
use spindle_bytes::ByteSource;
use spindle_fat::{Disk, DiskOptions, FatType, Options, Tree, Volume, write_to};
use std::collections::BTreeMap;
use std::fs::File;
use std::process::Command;

const T: i64 = 1_700_000_000; // 2023-11-14 22:13:20 UTC

/// A tree with names that need long entries, Unicode, case, collisions of aliases, a deep
/// path and several file sizes around the cluster size; the expected files by path.
fn mixed_tree(cluster: usize) -> (Tree, BTreeMap<String, Vec<u8>>) {
    let mut tree = Tree::new(T);
    let mut want = BTreeMap::new();
    let mut add = |tree: &mut Tree, path: &str, seed: u64, len: usize| {
        let (src, data) = file(seed, len);
        tree.add_file(path, src, T + seed as i64).unwrap();
        want.insert(path.to_string(), data);
    };
    add(&mut tree, "bootmgr", 1, 400_000);
    add(&mut tree, "BOOTMGR.EFI", 2, cluster);
    add(&mut tree, "setup.exe", 3, cluster + 1);
    add(&mut tree, "EMPTY.TXT", 4, 0);
    add(&mut tree, "efi/boot/bootx64.efi", 5, cluster - 1);
    add(&mut tree, "efi/microsoft/boot/BCD", 6, 3 * cluster + 17);
    add(&mut tree, "sources/Ünïcode ✓名前.txt", 7, 1000);
    add(&mut tree, "sources/Program Files/a b c.dat", 8, 10);
    add(&mut tree, "sources/Program Filez/MiXeD.CaSe", 9, 11);
    add(&mut tree, "sources/.hidden", 10, 12);
    add(&mut tree, &format!("sources/{}", "L".repeat(200)), 11, 13);
    for i in 0..40 {
        add(
            &mut tree,
            &format!("sources/long file name number {i}.manifest"),
            100 + i,
            50,
        );
    }
    let deep: String = (0..40).map(|i| format!("level{i}/")).collect();
    add(&mut tree, &format!("{deep}bottom.bin"), 12, 5000);
    tree.add_dir("empty dir", T).unwrap();
    (tree, want)
}

fn check_files(got: &BTreeMap<String, Vec<u8>>, want: &BTreeMap<String, Vec<u8>>) {
    let g: Vec<_> = got.keys().collect();
    let w: Vec<_> = want.keys().collect();
    assert_eq!(g, w, "mtools lists other names than were written");
    for (p, data) in want {
        assert!(
            got[p] == *data,
            "{p}: mtools reads other bytes than were written"
        );
    }
}

#[test]
fn fat32_volume_reads_back_with_fsck_and_mtools() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("vol.img");
    let (tree, want) = mixed_tree(4096);
    let opts = Options {
        fat_type: Some(FatType::Fat32),
        cluster_bytes: Some(4096),
        serial: 0x1234_ABCD,
        label: Some("SPINDLE".into()),
        ..Options::default()
    };
    let vol = Volume::build(&tree, &opts, 300 << 20).unwrap();
    assert_eq!(vol.geometry.fat_type, FatType::Fat32);
    assert_eq!(
        vol.geometry.data_start() % 8,
        0,
        "data area on a 4 KiB boundary"
    );
    let f = File::create(&img).unwrap();
    f.set_len(vol.len()).unwrap();
    write_to(&vol, &f, 0, 512, true).unwrap();
    drop(f);
    fsck_clean(&img);
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let got = mtools_files(img.to_str().unwrap(), &out);
    check_files(&got, &want);
    assert!(
        dirs_under(&out)
            .iter()
            .any(|d| d.to_str() == Some("empty dir"))
    );
    // Short names as mtools sees them; label and serial in the boot sector.
    let listing = run(Command::new("mdir").args(["-i", img.to_str().unwrap(), "::/sources"]));
    assert!(listing.contains("PROGRA~1"), "{listing}");
    assert!(listing.contains("PROGRA~2"), "{listing}");
    let info = run(Command::new("minfo").args(["-i", img.to_str().unwrap(), "::"]));
    assert!(info.contains("serial number: 1234ABCD"), "{info}");
    assert!(info.contains("SPINDLE"), "{info}");
    // Timestamps: bootmgr was given T + 1 (2023-11-14 22:13:21, stored to 2 s).
    let l = run(Command::new("mdir").args(["-i", img.to_str().unwrap(), "::/BOOTMGR"]));
    assert!(l.contains("2023-11-14") && l.contains("22:13"), "{l}");
}

#[test]
fn small_fat12_and_fat16_images() {
    for (size, t) in [(1_474_560u64, FatType::Fat12), (40 << 20, FatType::Fat16)] {
        let dir = tempfile::tempdir().unwrap();
        let img = dir.path().join("efi.img");
        let mut tree = Tree::new(T);
        let mut want = BTreeMap::new();
        for (i, p) in [
            "EFI/BOOT/BOOTX64.EFI",
            "EFI/BOOT/grubx64.efi",
            "EFI/debian/grub.cfg",
        ]
        .iter()
        .enumerate()
        {
            let (src, data) = file(i as u64 + 50, 100_000 + i * 777);
            tree.add_file(p, src, T).unwrap();
            want.insert(p.to_string(), data);
        }
        // More root entries than the default 512 slots hold: the root grows.
        for i in 0..300 {
            let (src, data) = file(1000 + i, 3);
            let p = format!("root file {i}.cfg");
            tree.add_file(&p, src, T).unwrap();
            want.insert(p, data);
        }
        let vol = Volume::build(&tree, &Options::default(), size).unwrap();
        assert_eq!(vol.geometry.fat_type, t);
        assert!(
            vol.geometry.root_entries > 300 * 2,
            "root entries: 300 long names and short entries"
        );
        let f = File::create(&img).unwrap();
        write_to(vol.whole(), &f, 0, 512, false).unwrap();
        drop(f);
        assert_eq!(std::fs::metadata(&img).unwrap().len(), size);
        fsck_clean(&img);
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        check_files(&mtools_files(img.to_str().unwrap(), &out), &want);
    }
}

#[test]
fn mbr_disk_has_one_active_partition_at_1mib() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("stick.img");
    let (tree, want) = mixed_tree(512);
    let disk_bytes = 200u64 << 20;
    let disk = Disk::build(
        &tree,
        &Options {
            fat_type: Some(FatType::Fat32),
            serial: 7,
            ..Options::default()
        },
        &DiskOptions {
            signature: 0xC0FFEE,
            ..DiskOptions::default()
        },
        disk_bytes,
    )
    .unwrap();
    let f = File::create(&img).unwrap();
    f.set_len(disk_bytes).unwrap();
    write_to(&disk, &f, 0, 1 << 20, true).unwrap();
    drop(f);
    let json = run(Command::new("sfdisk").arg("--json").arg(&img));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let t = &v["partitiontable"];
    assert_eq!(t["label"], "dos");
    assert_eq!(t["id"], "0x00c0ffee");
    let parts = t["partitions"].as_array().unwrap();
    assert_eq!(parts.len(), 1);
    assert_eq!(parts[0]["start"], 2048);
    assert_eq!(parts[0]["size"], disk_bytes / 512 - 2048);
    assert_eq!(parts[0]["type"], "c");
    assert_eq!(parts[0]["bootable"], true);
    // The partition alone, through a read-only loop device at its offset, for fsck.fat.
    let lo = run(Command::new("losetup")
        .args(["-f", "--show", "-r", "-o", "1048576"])
        .arg(&img));
    let lo = lo.trim().to_string();
    struct Detach(String);
    impl Drop for Detach {
        fn drop(&mut self) {
            let _ = Command::new("losetup").args(["-d", &self.0]).status();
        }
    }
    let _guard = Detach(lo.clone());
    fsck_clean(std::path::Path::new(&lo));
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    check_files(
        &mtools_files(&format!("{}@@1048576", img.display()), &out),
        &want,
    );
}

#[test]
fn many_files_in_one_directory() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("many.img");
    let mut tree = Tree::new(T);
    let mut want = BTreeMap::new();
    for i in 0..5000u64 {
        let p = format!("many/Setup Resource {i:05}.mui");
        let (src, data) = file(i, (i % 700) as usize);
        tree.add_file(&p, src, T).unwrap();
        want.insert(p, data);
    }
    let vol = Volume::build(
        &tree,
        &Options {
            fat_type: Some(FatType::Fat32),
            ..Options::default()
        },
        100 << 20,
    )
    .unwrap();
    let f = File::create(&img).unwrap();
    write_to(vol.whole(), &f, 0, 512, false).unwrap();
    drop(f);
    fsck_clean(&img);
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    check_files(&mtools_files(img.to_str().unwrap(), &out), &want);
}

#[test]
fn same_input_same_bytes() {
    let build = || {
        let (tree, _) = mixed_tree(4096);
        let opts = Options {
            serial: 42,
            ..Options::default()
        };
        let d = Disk::build(&tree, &opts, &DiskOptions::default(), 300 << 20).unwrap();
        let mut all = vec![0u8; d.len() as usize];
        d.read_exact_at(&mut all, 0).unwrap();
        all
    };
    assert!(build() == build());
}

#[test]
fn refusals_name_the_problem() {
    let mut tree = Tree::new(T);
    let (src, _) = file(1, 10);
    tree.add_file("a/Readme.TXT", src.clone(), T).unwrap();
    let e = tree
        .add_file("A/README.txt", src.clone(), T)
        .unwrap_err()
        .to_string();
    assert!(e.contains("A/README.txt") && e.contains("case"), "{e}");
    let e = tree
        .add_file("a/Readme.TXT/x", src.clone(), T)
        .unwrap_err()
        .to_string();
    assert!(e.contains("file of that name"), "{e}");
    let e = tree
        .add_file("bad:name", src.clone(), T)
        .unwrap_err()
        .to_string();
    assert!(e.contains("bad:name"), "{e}");
    let e = Volume::build(
        &tree,
        &Options {
            fat_type: Some(FatType::Fat32),
            ..Options::default()
        },
        8 << 20,
    )
    .map(|_| ())
    .unwrap_err()
    .to_string();
    assert!(e.contains("FAT32") && e.contains("65525"), "{e}");
    // Files that do not fit.
    let mut big = Tree::new(T);
    let (src, _) = file(2, 3 << 20);
    big.add_file("big", src, T).unwrap();
    let e = Volume::build(&big, &Options::default(), 2 << 20)
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(e.contains("clusters"), "{e}");
}
