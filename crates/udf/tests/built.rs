//! A UDF 2.50 volume built here byte by byte, for what the tools do not write: a metadata
//! partition (with its mirror), extended file entries, a file over 4 GiB with sparse
//! extents, allocation extent descriptor chains (and a loop), extended allocation
//! descriptors, embedded data, 16-bit CS0 names, deleted and hidden FIDs, hard links,
//! symlinks, timestamps with a time zone, uid 0xFFFFFFFF, and directory cycles.

mod common;

use std::sync::Arc;

use spindle_fs::{FileKind, FileSystem, FsError, resolve};
use spindle_testkit::pattern::bytes as pattern;
use spindle_testkit::udf_build::{cs0, dstring, long_ad, put, regid, set_tag};

const BS: usize = 2048;
/// First sector of the partition.
const P0: usize = 300;
const SECTORS: usize = 600;
/// Metadata block m is at partition block META + m (mirror: MIRROR + m).
const META: usize = 10;
const MIRROR: usize = 40;
const BIG: u64 = 5 * (1 << 30) + 100;

#[derive(Default)]
struct Opts {
    cycle: bool,
    aed_loop: bool,
    break_metadata: bool,
    break_mirror: bool,
    /// Damage the root directory's entry and the sub directory's data in the metadata file's
    /// copy only.
    break_main_copies: bool,
}

fn short_ad(len: u32, lbn: u32) -> Vec<u8> {
    [len.to_le_bytes(), lbn.to_le_bytes()].concat()
}

/// 2020-06-01 12:00:00 at UTC+1.
const MTIME: i64 = 1_591_009_200;

struct Fe {
    extended: bool,
    file_type: u8,
    form: u16,
    info_len: u64,
    ads: Vec<u8>,
    links: u16,
    perm: u32,
    ea: Vec<u8>,
}

fn fe(f: Fe, loc: u32) -> Vec<u8> {
    let base = if f.extended { 216 } else { 176 };
    let mut v = vec![0u8; base];
    put(&mut v, 20, &4u16.to_le_bytes());
    put(&mut v, 24, &1u16.to_le_bytes());
    v[27] = f.file_type;
    put(&mut v, 34, &f.form.to_le_bytes());
    put(&mut v, 36, &u32::MAX.to_le_bytes());
    put(&mut v, 40, &100u32.to_le_bytes());
    put(&mut v, 44, &f.perm.to_le_bytes());
    put(&mut v, 48, &f.links.to_le_bytes());
    put(&mut v, 56, &f.info_len.to_le_bytes());
    let mut ts = [0u8; 12];
    put(&mut ts, 0, &(0x1000u16 | 60).to_le_bytes());
    put(&mut ts, 2, &2020i16.to_le_bytes());
    ts[4..9].copy_from_slice(&[6, 1, 12, 0, 0]);
    put(&mut v, if f.extended { 92 } else { 84 }, &ts);
    if f.extended {
        put(&mut v, 64, &f.info_len.to_le_bytes());
    }
    put(
        &mut v,
        if f.extended { 208 } else { 168 },
        &(f.ea.len() as u32).to_le_bytes(),
    );
    put(
        &mut v,
        if f.extended { 212 } else { 172 },
        &(f.ads.len() as u32).to_le_bytes(),
    );
    v.extend_from_slice(&f.ea);
    v.extend_from_slice(&f.ads);
    set_tag(&mut v, if f.extended { 266 } else { 261 }, loc);
    v
}

fn file(extended: bool, form: u16, info_len: u64, ads: Vec<u8>) -> Fe {
    Fe {
        extended,
        file_type: 5,
        form,
        info_len,
        ads,
        links: 1,
        perm: (6 << 10) | (4 << 5),
        ea: vec![],
    }
}

fn fid(chars: u8, name: &str, lbn: u32) -> Vec<u8> {
    let n = if name.is_empty() { vec![] } else { cs0(name) };
    let mut v = vec![0u8; (38 + n.len() + 3) & !3];
    v[18] = chars;
    v[19] = n.len() as u8;
    put(&mut v, 20, &long_ad(BS as u32, lbn, 1));
    put(&mut v, 38, &n);
    set_tag(&mut v, 257, 0);
    v
}

fn dir(entries: &[(u8, &str, u32)], parent: u32) -> Vec<u8> {
    let mut v = fid(0x0A, "", parent);
    for (c, n, l) in entries {
        v.extend(fid(*c, n, *l));
    }
    v
}

fn aed(ads: &[Vec<u8>], loc: u32) -> Vec<u8> {
    let body = ads.concat();
    let mut v = vec![0u8; 24];
    put(&mut v, 20, &(body.len() as u32).to_le_bytes());
    v.extend(body);
    set_tag(&mut v, 258, loc);
    v
}

fn build(o: &Opts) -> Vec<u8> {
    let mut img = vec![0u8; SECTORS * BS];
    for (i, id) in [b"BEA01", b"NSR03", b"TEA01"].iter().enumerate() {
        put(&mut img, (16 + i) * BS + 1, *id);
        img[(16 + i) * BS + 6] = 1;
    }
    let mut pvd = vec![0u8; 512];
    put(&mut pvd, 16, &1u32.to_le_bytes());
    set_tag(&mut pvd, 1, 32);
    let mut pd = vec![0u8; 512];
    put(&mut pd, 16, &2u32.to_le_bytes());
    put(&mut pd, 24, &regid("+NSR03"));
    put(&mut pd, 184, &1u32.to_le_bytes());
    put(&mut pd, 188, &(P0 as u32).to_le_bytes());
    put(&mut pd, 192, &200u32.to_le_bytes());
    set_tag(&mut pd, 5, 33);
    let mut lvd = vec![0u8; 440 + 6 + 64];
    put(&mut lvd, 16, &3u32.to_le_bytes());
    put(&mut lvd, 84, &dstring("Fé€ UDF", 128));
    put(&mut lvd, 212, &(BS as u32).to_le_bytes());
    put(&mut lvd, 216, &regid("*OSTA UDF Compliant"));
    put(&mut lvd, 248, &long_ad(BS as u32, 0, 1));
    put(&mut lvd, 264, &70u32.to_le_bytes());
    put(&mut lvd, 268, &2u32.to_le_bytes());
    put(&mut lvd, 440, &[1, 6, 1, 0, 0, 0]);
    let mut map = vec![2u8, 64, 0, 0];
    map.extend(regid("*UDF Metadata Partition"));
    map.extend([1, 0, 0, 0]); // volume sequence number, partition number
    map.extend(0u32.to_le_bytes());
    map.extend(1u32.to_le_bytes());
    map.extend(u32::MAX.to_le_bytes());
    map.extend(32u32.to_le_bytes());
    map.extend([1, 0, 0]);
    map.resize(64, 0);
    put(&mut lvd, 446, &map);
    set_tag(&mut lvd, 6, 34);
    let mut td = vec![0u8; 512];
    set_tag(&mut td, 8, 35);
    for (s, d) in [(32, pvd), (33, pd), (34, lvd), (35, td)] {
        put(&mut img, s * BS, &d);
    }
    for s in [256, SECTORS - 1] {
        let mut a = vec![0u8; 512];
        put(
            &mut a,
            16,
            &[(4 * BS as u32).to_le_bytes(), 32u32.to_le_bytes()].concat(),
        );
        put(
            &mut a,
            24,
            &[(4 * BS as u32).to_le_bytes(), 32u32.to_le_bytes()].concat(),
        );
        set_tag(&mut a, 2, s as u32);
        put(&mut img, s * BS, &a);
    }
    let phys = |img: &mut Vec<u8>, lbn: usize, b: &[u8]| put(img, (P0 + lbn) * BS, b);
    // The metadata file and its mirror: 20 blocks each.
    let mut mfe = fe(
        Fe {
            file_type: 250,
            ..file(
                true,
                0,
                20 * BS as u64,
                short_ad(20 * BS as u32, META as u32),
            )
        },
        0,
    );
    if o.break_metadata {
        mfe[100] ^= 1;
    }
    phys(&mut img, 0, &mfe);
    let mut mirror = fe(
        Fe {
            file_type: 251,
            ..file(
                true,
                0,
                20 * BS as u64,
                short_ad(20 * BS as u32, MIRROR as u32),
            )
        },
        1,
    );
    if o.break_mirror {
        mirror[100] ^= 1;
    }
    phys(&mut img, 1, &mirror);
    let meta = |img: &mut Vec<u8>, m: usize, b: &[u8]| {
        put(img, (P0 + META + m) * BS, b);
        put(img, (P0 + MIRROR + m) * BS, b);
    };
    let mut fsd = vec![0u8; 512];
    put(&mut fsd, 304, &dstring("files", 32));
    put(&mut fsd, 400, &long_ad(BS as u32, 1, 1));
    set_tag(&mut fsd, 256, 0);
    meta(&mut img, 0, &fsd);
    // Root directory (meta 1), FIDs embedded in its extended file entry.
    let mut entries = vec![
        (0, "big", 2),
        (0, "hard", 2),
        (0, "chain", 3),
        (2, "sub", 4),
        (0, "emb", 5),
        (0, "link", 6),
        (0, "ext", 7),
        (4, "gone", 2),
        (1, "Fé€", 5),
        (0, "null", 11),
        (0, "..", 5),
        (0, "a/b", 5),
    ];
    if o.aed_loop {
        entries.push((0, "loop", 9));
    }
    let root = dir(&entries, 1);
    meta(
        &mut img,
        1,
        &fe(
            Fe {
                file_type: 4,
                perm: 0x7FFF,
                ..file(true, 3, root.len() as u64, root)
            },
            1,
        ),
    );
    // big: 4096 bytes, 5 GiB of holes, 100 bytes.
    let mut ads = long_ad(4096, 100, 0);
    for _ in 0..5 {
        ads.extend(long_ad(0x3FFF_F800 | 2 << 30, 0, 0));
    }
    ads.extend(long_ad(6144 | 1 << 30, 0, 0));
    ads.extend(long_ad(100, 102, 0));
    meta(
        &mut img,
        2,
        &fe(
            Fe {
                links: 2,
                ..file(false, 1, BIG, ads)
            },
            2,
        ),
    );
    phys(&mut img, 100, &pattern(4096, 1));
    phys(&mut img, 102, &pattern(100, 2));
    // chain: one extent in the entry, two more through allocation extent descriptors.
    let ads = [long_ad(2048, 110, 0), long_ad(2048 | 3 << 30, 111, 0)].concat();
    meta(&mut img, 3, &fe(file(true, 1, 5096, ads), 3));
    phys(&mut img, 110, &pattern(2048, 3));
    phys(
        &mut img,
        111,
        &aed(
            &[long_ad(2048, 112, 0), long_ad(2048 | 3 << 30, 113, 0)],
            111,
        ),
    );
    phys(&mut img, 112, &pattern(2048, 4));
    phys(&mut img, 113, &aed(&[long_ad(1000, 114, 0)], 113));
    phys(&mut img, 114, &pattern(1000, 5));
    // sub (meta 4): a short_ad directory whose data is metadata block 8.
    let sub = dir(&[(0, "inner", 5), (2, "deep", 10)], 1);
    meta(
        &mut img,
        4,
        &fe(
            Fe {
                file_type: 4,
                ..file(false, 0, sub.len() as u64, short_ad(sub.len() as u32, 8))
            },
            4,
        ),
    );
    meta(&mut img, 8, &sub);
    // deep (meta 10): with `cycle`, it contains its parent sub.
    let deep = if o.cycle {
        dir(&[(2, "back", 4)], 4)
    } else {
        dir(&[], 4)
    };
    meta(
        &mut img,
        10,
        &fe(
            Fe {
                file_type: 4,
                ..file(true, 3, deep.len() as u64, deep)
            },
            10,
        ),
    );
    // emb: embedded data; link: a symlink to /etc/passwd.
    meta(
        &mut img,
        5,
        &fe(
            Fe {
                links: 2,
                ..file(false, 3, 16, b"embedded content".to_vec())
            },
            5,
        ),
    );
    let mut path = vec![1, 0, 0, 0, 5, 4, 0, 0];
    path.extend(cs0("etc"));
    path.extend([5, 7, 0, 0]);
    path.extend(cs0("passwd"));
    meta(
        &mut img,
        6,
        &fe(
            Fe {
                file_type: 12,
                ..file(true, 3, path.len() as u64, path)
            },
            6,
        ),
    );
    // ext: an extended_ad of 4096 bytes of which 2048 are recorded.
    let mut ead = vec![0u8; 20];
    put(&mut ead, 0, &4096u32.to_le_bytes());
    put(&mut ead, 4, &2048u32.to_le_bytes());
    put(&mut ead, 8, &4096u32.to_le_bytes());
    put(&mut ead, 12, &120u32.to_le_bytes());
    meta(&mut img, 7, &fe(file(true, 2, 4096, ead), 7));
    phys(&mut img, 120, &pattern(2048, 6));
    // null: a character device 1,3 (device specification extended attribute).
    let mut ea = vec![0u8; 24];
    put(&mut ea, 16, &48u32.to_le_bytes());
    put(&mut ea, 20, &48u32.to_le_bytes());
    set_tag(&mut ea, 262, 11);
    // type 12, subtype 1 (and 3 reserved bytes), length 24, implementation use length 0.
    for x in [12u32, 1, 24, 0, 1, 3] {
        ea.extend(x.to_le_bytes());
    }
    meta(
        &mut img,
        11,
        &fe(
            Fe {
                file_type: 7,
                ea,
                ..file(false, 3, 0, vec![])
            },
            11,
        ),
    );
    // loop: an allocation extent descriptor that continues with itself.
    let ads = [long_ad(2048, 110, 0), long_ad(2048 | 3 << 30, 115, 0)].concat();
    meta(&mut img, 9, &fe(file(true, 1, 1 << 40, ads), 9));
    phys(
        &mut img,
        115,
        &aed(
            &[long_ad(2048, 110, 0), long_ad(2048 | 3 << 30, 115, 0)],
            115,
        ),
    );
    if o.break_main_copies {
        // Metadata blocks 1 (root) and 8 (sub's FIDs), main copy only.
        img[(P0 + META + 1) * BS + 40] ^= 0x55;
        img[(P0 + META + 8) * BS + 100] ^= 0x55;
    }
    img
}

fn open(o: &Opts) -> spindle_fs::Result<Arc<dyn FileSystem>> {
    spindle_udf::open_udf(Arc::new(spindle_bytes::MemSource::new(
        build(o),
        "built.udf",
    )))
}

fn read_at(fs: &dyn FileSystem, path: &str, off: u64, len: usize) -> Vec<u8> {
    let node = resolve(fs, path).unwrap();
    let mut buf = vec![0xAAu8; len];
    let n = fs.read(node, off, &mut buf).unwrap();
    buf.truncate(n);
    buf
}

#[test]
fn metadata_partition_volume() {
    let udf = spindle_udf::Udf::open(Arc::new(spindle_bytes::MemSource::new(
        build(&Opts::default()),
        "built.udf",
    )))
    .unwrap();
    assert_eq!(udf.partition_kinds(), ["physical", "metadata"]);
    let fs: &dyn FileSystem = &udf;
    assert_eq!(fs.label(), "Fé€ UDF");
    let mut names: Vec<String> = fs
        .read_dir(fs.root())
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "Fé€", "_..", "a_b", "big", "chain", "emb", "ext", "hard", "link", "null", "sub"
        ]
    );
    let null = fs.metadata(resolve(fs, "null").unwrap()).unwrap();
    assert_eq!((null.kind, null.rdev), (FileKind::CharDevice, (1 << 8) | 3));
    let tree = common::walk_fs(fs).unwrap();
    assert!(tree.contains_key("sub/inner") && tree.contains_key("sub/deep"));

    let big = fs.metadata(resolve(fs, "big").unwrap()).unwrap();
    assert_eq!(big.size, BIG);
    assert_eq!((big.uid, big.gid, big.mode, big.nlink), (0, 100, 0o640, 2));
    assert_eq!(big.mtime.secs, MTIME);
    assert_eq!(
        big.ino,
        fs.metadata(resolve(fs, "hard").unwrap()).unwrap().ino
    );
    assert_ne!(
        big.ino,
        fs.metadata(resolve(fs, "emb").unwrap()).unwrap().ino
    );
    assert_eq!(read_at(fs, "big", 0, 4096), pattern(4096, 1));
    assert_eq!(read_at(fs, "big", 3 << 30, 10000), vec![0; 10000]);
    let mut tail = vec![0u8; 50];
    tail.extend(pattern(100, 2));
    assert_eq!(read_at(fs, "big", BIG - 150, 1000), tail);
    assert_eq!(read_at(fs, "big", BIG, 10), b"");

    let chain = [pattern(2048, 3), pattern(2048, 4), pattern(1000, 5)].concat();
    assert_eq!(read_at(fs, "chain", 0, 10000), chain);
    assert_eq!(read_at(fs, "chain", 2000, 100), chain[2000..2100]);
    assert_eq!(read_at(fs, "emb", 0, 100), b"embedded content");
    assert_eq!(read_at(fs, "Fé€", 9, 100), b"content");
    assert_eq!(
        read_at(fs, "ext", 0, 5000),
        [pattern(2048, 6), vec![0; 2048]].concat()
    );
    let link = resolve(fs, "link").unwrap();
    assert_eq!(fs.metadata(link).unwrap().kind, FileKind::Symlink);
    assert_eq!(fs.read_link(link).unwrap(), "/etc/passwd");
    assert_eq!(fs.metadata(link).unwrap().size, 11);
    let root = fs.metadata(fs.root()).unwrap();
    assert_eq!((root.kind, root.mode), (FileKind::Dir, 0o777));
}

#[test]
fn metadata_mirror_fallback() {
    let fs = open(&Opts {
        break_metadata: true,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(read_at(&*fs, "emb", 0, 100), b"embedded content");
    assert!(
        open(&Opts {
            break_mirror: true,
            ..Default::default()
        })
        .is_ok()
    );
    match open(&Opts {
        break_metadata: true,
        break_mirror: true,
        ..Default::default()
    }) {
        Err(FsError::Corrupt { what, .. }) => assert!(what.contains("file entry"), "{what}"),
        other => panic!("{:?}", other.map(|_| ())),
    }
}

#[test]
fn metadata_mirror_serves_damaged_blocks() {
    let good = common::walk_fs(&*open(&Opts::default()).unwrap()).unwrap();
    let fs = open(&Opts {
        break_main_copies: true,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(common::walk_fs(&*fs).unwrap(), good);
    // Without a usable mirror the damage shows.
    let fs = open(&Opts {
        break_main_copies: true,
        break_mirror: true,
        ..Default::default()
    })
    .unwrap();
    assert!(matches!(
        fs.read_dir(fs.root()),
        Err(FsError::Corrupt { .. })
    ));
}

#[test]
fn allocation_extent_loop() {
    let fs = open(&Opts {
        aed_loop: true,
        ..Default::default()
    })
    .unwrap();
    let node = resolve(&*fs, "loop").unwrap();
    match fs.metadata(node) {
        Err(FsError::Corrupt { what, .. }) => assert!(what.contains("loop"), "{what}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn directory_cycle() {
    let fs = open(&Opts {
        cycle: true,
        ..Default::default()
    })
    .unwrap();
    let t = std::time::Instant::now();
    match common::walk_fs(&*fs) {
        Err(FsError::Corrupt { what, .. }) => assert!(what.contains("cycle"), "{what}"),
        other => panic!("{other:?}"),
    }
    assert!(t.elapsed().as_secs() < 1);
}

/// Seeded random byte changes in the built volume's structures (descriptors, metadata file
/// and mirror, ICBs, allocation extent descriptors): never a panic, always quick.
#[test]
fn mutated_built_volume() {
    let base = Arc::new(build(&Opts {
        aed_loop: true,
        ..Default::default()
    }));
    let mut seed = 0x1234_5678_9ABC_DEF1u64;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let sectors: Vec<u64> = [16, 17, 18, 32, 33, 34, 35, 256, 599]
        .into_iter()
        .chain((P0 as u64..P0 as u64 + 22).chain([
            P0 as u64 + 40,
            P0 as u64 + 41,
            P0 as u64 + 111,
            P0 as u64 + 113,
            P0 as u64 + 115,
        ]))
        .collect();
    // UDF_MUTATIONS=N for a longer run (in a release build).
    let n = std::env::var("UDF_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500);
    for _ in 0..n {
        let mut patches = Vec::new();
        for _ in 0..1 + rand() % 3 {
            let s = sectors[(rand() % sectors.len() as u64) as usize];
            patches.push((s * BS as u64 + rand() % 600, rand() as u8));
        }
        let t = std::time::Instant::now();
        if let Ok(fs) = spindle_udf::open_udf(Arc::new(common::Patched {
            base: base.clone(),
            patches,
        })) {
            let _ = common::walk_fs(&*fs);
        }
        assert!(t.elapsed().as_secs() < 1);
    }
}
