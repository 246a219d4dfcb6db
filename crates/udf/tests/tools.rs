//! Images made by real tools: genisoimage (UDF 1.02), mkudffs (empty 2.01 to 2.60 volumes
//! on hard disk, CD-RW (sparable), CD-R/DVD-R/BD-R (VAT, metadata partition) media types)
//! and pycdlib (UDF 2.60 with files, a symlink and a hard link). Trees with files are
//! compared with an outside reader: `7z x` (genisoimage, pycdlib without symlinks, which 7z
//! refuses as "Unsupported feature") and pycdlib's own listing of its image.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use spindle_fs::{FileKind, FsKind, resolve};

/// A small tree of files: nested directories, sizes around sector boundaries, an empty file,
/// a non-ASCII name.
fn make_tree(root: &Path) {
    std::fs::create_dir_all(root.join("a/b/c")).unwrap();
    std::fs::create_dir_all(root.join("empty dir")).unwrap();
    std::fs::write(root.join("empty"), b"").unwrap();
    std::fs::write(root.join("one"), b"1").unwrap();
    let pattern = spindle_testkit::pattern::bytes;
    std::fs::write(root.join("a/sector"), pattern(2048, 1)).unwrap();
    std::fs::write(root.join("a/sector+1"), pattern(2049, 2)).unwrap();
    std::fs::write(root.join("a/b/big.bin"), pattern(3 << 20, 3)).unwrap();
    std::fs::write(root.join("a/b/c/Février ж.txt"), b"non-ascii name\n").unwrap();
    for i in 0..40 {
        std::fs::write(
            root.join(format!("a/b/many-{i:03}.txt")),
            format!("file {i}\n"),
        )
        .unwrap();
    }
}

#[test]
fn genisoimage_udf102_matches_source() {
    if !have("genisoimage") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    make_tree(&src);
    // A known modification time, recorded by genisoimage as local time at UTC+5:30.
    let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_614_834_367);
    std::fs::File::options()
        .write(true)
        .open(src.join("one"))
        .unwrap()
        .set_modified(when)
        .unwrap();
    let img = tmp.path().join("g.iso");
    run(Command::new("genisoimage")
        .env("TZ", "Asia/Kolkata")
        .args(["-quiet", "-udf", "-R", "-J", "-V", "GENUDF", "-o"])
        .arg(&img)
        .arg(&src));
    let data = std::fs::read(&img).unwrap();
    let fs = open_bytes(data).unwrap();
    assert_eq!(fs.kind(), FsKind::Udf);
    assert_eq!(fs.label(), "GENUDF");
    assert_eq!(
        fs.metadata(resolve(&*fs, "one").unwrap())
            .unwrap()
            .mtime
            .secs,
        1_614_834_367
    );
    let ours = walk_fs(&*fs).unwrap();
    assert_eq!(ours, walk_dir(&src));
    // Reads at odd offsets return the right bytes.
    let node = resolve(&*fs, "a/b/big.bin").unwrap();
    let mut buf = vec![0u8; 5000];
    assert_eq!(fs.read(node, 1_000_001, &mut buf).unwrap(), 5000);
    let want = std::fs::read(src.join("a/b/big.bin")).unwrap();
    assert_eq!(buf, want[1_000_001..1_005_001]);
    assert_eq!(fs.read(node, want.len() as u64, &mut buf).unwrap(), 0);
    // 7z must read the UDF side (not the ISO 9660 one) and see the same tree.
    assert!(have("7z"));
    assert_eq!(type_7z(&img), "Udf", "7z does not read this image as UDF");
    assert_eq!(
        ours,
        walk_dir(&extract_7z(&img, tmp.path())),
        "spindle and 7z differ"
    );
}

/// Makes an empty mkudffs volume; for write-once media the image ends at the last recorded
/// sector (where the VAT is), as a disc image would.
fn mkudffs(dir: &Path, media: &str, rev: &str, label: &str, extra: &[&str]) -> Vec<u8> {
    let img = dir.join(format!("{media}-{rev}-{}.img", extra.join("")));
    std::fs::File::create(&img)
        .unwrap()
        .set_len(32 << 20)
        .unwrap();
    let blocksize = if extra.iter().any(|a| a.starts_with("--blocksize")) {
        ""
    } else {
        "--blocksize=2048"
    };
    run(Command::new("mkudffs")
        .arg(format!("--media-type={media}"))
        .arg(format!("--udfrev={rev}"))
        .args([blocksize].into_iter().filter(|a| !a.is_empty()))
        .arg(format!("--label={label}"))
        .args(extra)
        .arg(&img));
    let mut data = std::fs::read(&img).unwrap();
    let last = data
        .chunks(2048)
        .rposition(|s| s.iter().any(|&b| b != 0))
        .unwrap();
    // (With 4096-byte blocks this cuts the last block in half, leaving its anchor in the last
    // 2048 bytes: the reader must not take it for a 2048-byte-block anchor.)
    data.truncate((last + 1) * 2048);
    data
}

#[test]
fn mkudffs_empty_volumes() {
    if !have("mkudffs") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // hd: plain type 1 partition; cdrw: sparable; cdr/dvdr/bdr: VAT, with a metadata
    // partition never (mkudffs 2.3 refuses revisions above 2.01 for hd and writes no metadata
    // partition: tests/built.rs covers those).
    let cases = [
        ("hd", "2.01"),
        ("hd", "1.02"),
        ("hd", "1.50"),
        ("cdrw", "2.01"),
        ("cdrw", "1.50"),
        ("cdr", "1.50"),
        ("cdr", "2.01"),
        ("dvdr", "2.50"),
        ("bdr", "2.50"),
        ("bdr", "2.60"),
        ("cdr", "2.60"),
    ];
    let strategy_4096: &[&str] = &["--strategy=4096"];
    let (b512, b1024, b4096): (&[&str], &[&str], &[&str]) = (
        &["--blocksize=512"],
        &["--blocksize=1024"],
        &["--blocksize=4096"],
    );
    let blocksizes = [
        ("hd", "2.01", b512),
        ("hd", "2.01", b1024),
        ("hd", "2.01", b4096),
    ];
    let variants = cases
        .iter()
        .map(|&(m, r)| (m, r, &[][..]))
        .chain([
            ("hd", "2.01", strategy_4096),
            ("cdrw", "2.01", strategy_4096),
        ])
        .chain(blocksizes);
    for (media, rev, extra) in variants {
        let label = format!("V{media}{rev}");
        let data = mkudffs(tmp.path(), media, rev, &label, extra);
        assert!(
            spindle_udf::detect(std::sync::Arc::new(spindle_bytes::MemSource::new(
                data.clone(),
                "udf.img"
            ))),
            "{media} {rev}"
        );
        let udf = spindle_udf::Udf::open(std::sync::Arc::new(spindle_bytes::MemSource::new(
            data.clone(),
            "udf.img",
        )))
        .unwrap_or_else(|e| panic!("{media} {rev}: {e}"));
        let kinds = udf.partition_kinds();
        let want = match media {
            "hd" => "physical",
            "cdrw" => "sparable",
            _ => "virtual",
        };
        assert!(kinds.contains(&want), "{media} {rev}: {kinds:?}");
        eprintln!("{media} {rev}: {kinds:?}");
        let fs = open_bytes(data).unwrap();
        assert_eq!(fs.label(), label);
        let root = fs.metadata(fs.root()).unwrap();
        assert_eq!(root.kind, FileKind::Dir);
        assert_eq!(root.mode, 0o755, "{media} {rev}");
        let entries = fs.read_dir(fs.root()).unwrap();
        // mkudffs may make a "lost+found"; nothing else.
        assert!(
            entries.iter().all(|e| e.name == "lost+found"),
            "{media} {rev}: {entries:?}"
        );
    }
}

const PYCDLIB_SCRIPT: &str = r#"
import io, os, sys, pycdlib
src, out, rev = sys.argv[1], sys.argv[2], sys.argv[3]
iso = pycdlib.PyCdlib()
iso.new(udf=rev, interchange_level=4, vol_ident='PYC')
seen = {}
for dirpath, dirnames, filenames in os.walk(src):
    rel = os.path.relpath(dirpath, src)
    base = '' if rel == '.' else '/' + rel
    for d in sorted(dirnames):
        if os.path.islink(os.path.join(dirpath, d)):
            filenames.append(d)
        else:
            iso.add_directory(udf_path=base + '/' + d)
    for f in sorted(filenames):
        p = os.path.join(dirpath, f)
        if os.path.islink(p):
            iso.add_symlink(udf_symlink_path=base + '/' + f, udf_target=os.readlink(p))
            continue
        st = os.stat(p)
        if st.st_ino in seen:
            iso.add_hard_link(udf_old_path=seen[st.st_ino], udf_new_path=base + '/' + f)
            continue
        seen[st.st_ino] = base + '/' + f
        data = open(p, 'rb').read()
        iso.add_fp(io.BytesIO(data), len(data), udf_path=base + '/' + f)
iso.write(out)
iso.close()
"#;

/// pycdlib's own reading of the UDF tree of `image`: directories, files (size and FNV-1a of the
/// content pycdlib reads back) and symlinks (kind only: pycdlib gives no target).
const PYCDLIB_LIST: &str = r#"
import io, sys, pycdlib
iso = pycdlib.PyCdlib()
iso.open(sys.argv[1])
def fnv(b):
    h = 0xcbf29ce484222325
    for x in b:
        h = ((h ^ x) * 0x100000001b3) & 0xffffffffffffffff
    return h
for dirpath, dirnames, filenames in iso.walk(udf_path='/'):
    base = '' if dirpath == '/' else dirpath.lstrip('/') + '/'
    for d in dirnames:
        print('D\t' + base + d)
    for f in filenames:
        p = dirpath.rstrip('/') + '/' + f
        if iso.get_record(udf_path=p).is_symlink():
            print('L\t' + base + f)
            continue
        out = io.BytesIO()
        iso.get_file_from_iso_fp(out, udf_path=p)
        data = out.getvalue()
        print('F\t%s%s\t%d\t%d' % (base, f, len(data), fnv(data)))
iso.close()
"#;

fn pycdlib_listing(image: &Path) -> std::collections::BTreeMap<String, Node> {
    let out = Command::new("python3")
        .arg("-c")
        .arg(PYCDLIB_LIST)
        .arg(image)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pycdlib listing: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let node = match f[0] {
                "D" => Node::Dir,
                "L" => Node::Link(String::new()),
                _ => Node::File {
                    size: f[2].parse().unwrap(),
                    hash: f[3].parse().unwrap(),
                },
            };
            (f[1].to_string(), node)
        })
        .collect()
}

fn make_pycdlib(src: &Path, img: &Path) {
    run(Command::new("python3")
        .arg("-c")
        .arg(PYCDLIB_SCRIPT)
        .arg(src)
        .arg(img)
        .arg("2.60"));
}

/// The pycdlib UDF 2.60 image with files, a hard link (extracted as a second copy) and no
/// symlink: the tree we read equals `7z x`'s extraction, and pycdlib's own listing.
#[test]
fn pycdlib_udf260_matches_7z() {
    assert!(have_pycdlib() && have("7z"));
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    make_tree(&src);
    std::fs::hard_link(src.join("a/sector"), src.join("a/b/hard")).unwrap();
    let img = tmp.path().join("p.iso");
    make_pycdlib(&src, &img);
    let fs = open_bytes(std::fs::read(&img).unwrap()).unwrap();
    let ours = walk_fs(&*fs).unwrap();
    assert_eq!(ours.len(), walk_dir(&src).len());
    assert_eq!(type_7z(&img), "Udf", "7z does not read this image as UDF");
    assert_eq!(
        ours,
        walk_dir(&extract_7z(&img, tmp.path())),
        "spindle and 7z differ"
    );
    assert_eq!(ours, pycdlib_listing(&img), "spindle and pycdlib differ");
}

#[test]
fn pycdlib_udf260_matches_source() {
    if !have_pycdlib() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    make_tree(&src);
    std::os::unix::fs::symlink("a/b/c/Février ж.txt", src.join("rel-link")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", src.join("a/abs-link")).unwrap();
    std::fs::hard_link(src.join("a/sector"), src.join("a/b/hard")).unwrap();
    let img = tmp.path().join("p.iso");
    make_pycdlib(&src, &img);
    let fs = open_bytes(std::fs::read(&img).unwrap()).unwrap();
    assert_eq!(fs.kind(), FsKind::Udf);
    assert_eq!(fs.label(), "PYC");
    let ours = walk_fs(&*fs).unwrap();
    assert_eq!(ours, walk_dir(&src));
    // pycdlib reading its own image back (symlink targets aside) sees the same tree.
    let no_targets = |t: &std::collections::BTreeMap<String, Node>| {
        t.iter()
            .map(|(k, v)| match v {
                Node::Link(_) => (k.clone(), Node::Link(String::new())),
                v => (k.clone(), v.clone()),
            })
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    assert_eq!(
        no_targets(&ours),
        pycdlib_listing(&img),
        "spindle and pycdlib differ"
    );
    let a = fs.metadata(resolve(&*fs, "a/sector").unwrap()).unwrap();
    let b = fs.metadata(resolve(&*fs, "a/b/hard").unwrap()).unwrap();
    assert_eq!(a.ino, b.ino, "hard links share an inode number");
    let c = fs.metadata(resolve(&*fs, "a/sector+1").unwrap()).unwrap();
    assert_ne!(a.ino, c.ino);
    assert!(a.mtime.secs > 1_500_000_000, "{:?}", a.mtime);
    let link = resolve(&*fs, "rel-link").unwrap();
    let meta = fs.metadata(link).unwrap();
    assert_eq!(
        (meta.kind, meta.size),
        (FileKind::Symlink, "a/b/c/Février ж.txt".len() as u64)
    );
    let mut buf = [0u8; 100];
    assert_eq!(fs.read(link, 0, &mut buf).unwrap(), meta.size as usize);
    assert!(fs.read_link(resolve(&*fs, "a").unwrap()).is_err());
    assert!(fs.read_dir(resolve(&*fs, "one").unwrap()).is_err());
    assert!(
        fs.read(resolve(&*fs, "a").unwrap(), 0, &mut [0u8; 4])
            .is_err()
    );
}

/// A directory of 3000 files and 100 subdirectories lists quickly, and a second listing
/// comes from the cache.
#[test]
fn genisoimage_large_tree() {
    if !have("genisoimage") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    for i in 0..3000 {
        std::fs::write(src.join(format!("file-{i:05}.txt")), format!("{i}")).unwrap();
    }
    for i in 0..100 {
        let d = src.join(format!("dir-{i:03}"));
        std::fs::create_dir(&d).unwrap();
        std::fs::write(d.join("x"), b"x").unwrap();
    }
    let img = tmp.path().join("big.iso");
    run(Command::new("genisoimage")
        .args(["-quiet", "-udf", "-o"])
        .arg(&img)
        .arg(&src));
    let fs = open_bytes(std::fs::read(&img).unwrap()).unwrap();
    let t = std::time::Instant::now();
    assert_eq!(walk_fs(&*fs).unwrap(), walk_dir(&src));
    let first = t.elapsed();
    let t = std::time::Instant::now();
    assert_eq!(fs.read_dir(fs.root()).unwrap().len(), 3100);
    assert!(fs.lookup(fs.root(), "file-02999.txt").unwrap().is_some());
    let again = t.elapsed();
    eprintln!("walk of 3200 nodes: {first:?}; cached listing and lookup: {again:?}");
    assert!(
        first < std::time::Duration::from_secs(5) && again < std::time::Duration::from_millis(200)
    );
}

/// A CD-RW volume (sparable partition) where the packet holding the file set descriptor and
/// the root directory has been relocated through the sparing tables, as a drive does for a
/// defective packet: the original sectors are wiped, so reading works only through the map.
#[test]
fn mkudffs_sparable_relocated_packet() {
    if !have("mkudffs") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut data = mkudffs(tmp.path(), "cdrw", "2.01", "SPARED", &[]);
    let sector = |d: &[u8], s: u64| d[s as usize * 2048..s as usize * 2048 + 2048].to_vec();
    let anchor = spindle_udf::parse_anchor(&sector(&data, 256)).unwrap();
    let (mut lvd, mut pd) = (None, None);
    for s in anchor.main.loc as u64..(anchor.main.loc + anchor.main.len / 2048) as u64 {
        let b = sector(&data, s);
        lvd = lvd.or(spindle_udf::parse_logical_volume(&b).ok());
        pd = pd.or(spindle_udf::parse_partition_desc(&b).ok());
    }
    let (lvd, pd) = (lvd.unwrap(), pd.unwrap());
    let spindle_udf::PartitionMap::Sparable {
        packet_len,
        table_size,
        tables,
        ..
    } = &lvd.maps[0]
    else {
        panic!("{:?}", lvd.maps)
    };
    let packet = *packet_len as u64;
    let orig = lvd.fsd.loc.lbn as u64 / packet * packet;
    let mut spare = None;
    for &t in tables {
        let at = t as usize * 2048;
        let table = &mut data[at..at + *table_size as usize];
        let n = u16::from_le_bytes([table[48], table[49]]) as usize;
        // The first available entry (original location 0xFFFFFFFF, UDF 2.60 2.2.12) gets the
        // packet.
        let e = (0..n)
            .map(|i| 56 + 8 * i)
            .find(|&e| table[e..e + 4] == [0xFF; 4])
            .unwrap();
        table[e..e + 4].copy_from_slice(&(orig as u32).to_le_bytes());
        let mapped = u32::from_le_bytes(table[e + 4..e + 8].try_into().unwrap()) as u64;
        assert!(spare.is_none_or(|s| s == mapped));
        spare = Some(mapped);
        let crc_len = u16::from_le_bytes([table[10], table[11]]) as usize;
        let crc = spindle_udf::crc16(&table[16..16 + crc_len]);
        table[8..10].copy_from_slice(&crc.to_le_bytes());
        table[4] = 0;
        table[4] = table[..16].iter().fold(0u8, |s, b| s.wrapping_add(*b));
    }
    let spare = spare.unwrap();
    let from = (pd.start as u64 + orig) as usize * 2048;
    let len = packet as usize * 2048;
    let moved = data[from..from + len].to_vec();
    assert!(moved.iter().any(|&b| b != 0));
    let to = spare as usize * 2048;
    if data.len() < to + len {
        data.resize(to + len, 0);
    }
    data[to..to + len].copy_from_slice(&moved);
    data[from..from + len].fill(0);
    let fs = open_bytes(data).unwrap();
    assert_eq!(fs.label(), "SPARED");
    assert_eq!(fs.metadata(fs.root()).unwrap().mode, 0o755);
    assert!(
        fs.read_dir(fs.root())
            .unwrap()
            .iter()
            .all(|e| e.name == "lost+found")
    );
}

/// On write-once media the label is the VAT's logical volume identifier (UDF 2.60 2.2.11),
/// which udflabel rewrites, not the logical volume descriptor's.
#[test]
fn mkudffs_vat_label_wins() {
    if !have("mkudffs") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut data = mkudffs(tmp.path(), "cdr", "2.01", "OLDLABEL", &[]);
    // The VAT is the extended file entry in the last sector, its data embedded.
    let at = data.len() - 2048;
    let efe = &mut data[at..];
    assert_eq!(u16::from_le_bytes([efe[0], efe[1]]), 266);
    assert_eq!(efe[27], 248);
    let l_ea = u32::from_le_bytes(efe[208..212].try_into().unwrap()) as usize;
    let lvi = 216 + l_ea + 4;
    efe[lvi..lvi + 128].fill(0);
    efe[lvi..lvi + 9].copy_from_slice(b"\x08NEWLABEL");
    efe[lvi + 127] = 9;
    let crc_len = u16::from_le_bytes([efe[10], efe[11]]) as usize;
    let crc = spindle_udf::crc16(&efe[16..16 + crc_len]);
    efe[8..10].copy_from_slice(&crc.to_le_bytes());
    efe[4] = 0;
    efe[4] = efe[..16].iter().fold(0u8, |s, b| s.wrapping_add(*b));
    assert_eq!(open_bytes(data).unwrap().label(), "NEWLABEL");
}

/// Seeded random byte changes in the structures of VAT (CD-R) and sparable (CD-RW) volumes:
/// never a panic, always quick.
#[test]
fn mkudffs_mutations() {
    if !have("mkudffs") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut seed = 0x0DDB_1A5E_5BAD_5EEDu64;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let n = std::env::var("UDF_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(800);
    for (media, rev) in [("cdr", "2.01"), ("cdr", "1.50"), ("cdrw", "2.01")] {
        let data = mkudffs(tmp.path(), media, rev, "M", &[]);
        // Sectors holding something, except long runs of file system space.
        let hot: Vec<u64> = data
            .chunks(2048)
            .enumerate()
            .filter(|(i, s)| (*i < 400 || *i + 4 >= data.len() / 2048) && s.iter().any(|&b| b != 0))
            .map(|(i, _)| i as u64)
            .collect();
        let base = std::sync::Arc::new(data);
        for _ in 0..n {
            let mut patches = Vec::new();
            for _ in 0..1 + rand() % 3 {
                let s = hot[(rand() % hot.len() as u64) as usize];
                patches.push((s * 2048 + rand() % 512, rand() as u8));
            }
            let t = std::time::Instant::now();
            if let Ok(fs) = spindle_udf::open_udf(std::sync::Arc::new(Patched {
                base: base.clone(),
                patches,
            })) {
                let _ = walk_fs(&*fs);
            }
            assert!(t.elapsed().as_secs() < 1, "{media} {rev}");
        }
    }
}

/// A plain ISO 9660 image is not UDF: `detect` says no and opening gives `NotFound`.
#[test]
fn iso9660_only_is_not_udf() {
    if !have("genisoimage") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("a"), b"a").unwrap();
    let img = tmp.path().join("plain.iso");
    run(Command::new("genisoimage")
        .args(["-quiet", "-R", "-J", "-o"])
        .arg(&img)
        .arg(&src));
    let data = std::fs::read(&img).unwrap();
    assert!(!spindle_udf::detect(std::sync::Arc::new(
        spindle_bytes::MemSource::new(data.clone(), "udf.img")
    )));
    assert!(matches!(
        open_bytes(data),
        Err(spindle_fs::FsError::NotFound("udf"))
    ));
}
