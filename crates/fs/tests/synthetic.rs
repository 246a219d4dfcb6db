//! Hand-built volumes for what no tool here writes: interleaved files, associated and hidden
//! files, High Sierra, over-long Joliet names, a later-session volume (`base_lba`), hostile
//! extents, and a 100 000-entry directory.

use spindle_bytes::MemSource;
use spindle_fs::iso::fs::IsoFs;
use spindle_fs::{
    Device, FileKind, FileSystem, FsError, FsKind, NodeId, detect, open_iso, resolve,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

const S: usize = 2048;

/// A directory record (ISO 9660 layout; `hsf`: High Sierra, flags at byte 24).
fn record(name: &[u8], extent: u32, size: u32, flags: u8, unit: u8, gap: u8, hsf: bool) -> Vec<u8> {
    let mut r = vec![0u8; 33];
    r.extend_from_slice(name);
    if name.len() & 1 == 0 {
        r.push(0);
    }
    r[0] = r.len() as u8;
    r[2..6].copy_from_slice(&extent.to_le_bytes());
    r[6..10].copy_from_slice(&extent.to_be_bytes());
    r[10..14].copy_from_slice(&size.to_le_bytes());
    r[14..18].copy_from_slice(&size.to_be_bytes());
    r[18..25].copy_from_slice(&[120, 6, 15, 12, 0, 0, 0]);
    if hsf {
        r[24] = flags;
    } else {
        r[25] = flags;
    }
    r[26] = unit;
    r[27] = gap;
    r[28] = 1;
    r[32] = name.len() as u8;
    r
}

/// Lays `records` into directory sectors (records never cross a sector end).
fn dir_bytes(records: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in records {
        let used = out.len() % S;
        if used + r.len() > S {
            out.resize(out.len() + (S - used), 0);
        }
        out.extend_from_slice(r);
    }
    out.resize(out.len().div_ceil(S) * S, 0);
    out
}

struct Builder {
    img: Vec<u8>,
    hsf: bool,
}

impl Builder {
    fn new(blocks: usize, hsf: bool) -> Builder {
        Builder {
            img: vec![0u8; blocks * S],
            hsf,
        }
    }
    fn put(&mut self, block: u32, data: &[u8]) {
        let at = block as usize * S;
        self.img[at..at + data.len()].copy_from_slice(data);
    }
    /// A primary (or Joliet, `joliet`) descriptor at `block` with root at `root`.
    fn descriptor(
        &mut self,
        block: u32,
        kind: u8,
        root: u32,
        root_size: u32,
        label: &[u8],
        joliet: bool,
    ) {
        let mut d = vec![0u8; S];
        let (sig_at, label_at, bs_at, root_at) = if self.hsf {
            (8, 48, 136, 180)
        } else {
            (0, 40, 128, 156)
        };
        d[sig_at] = kind;
        d[sig_at + 1..sig_at + 6].copy_from_slice(if self.hsf { b"CDROM" } else { b"CD001" });
        d[sig_at + 6] = 1;
        for i in 0..32 {
            // Joliet pads with UCS-2 spaces (00 20).
            d[label_at + i] = if joliet && i % 2 == 0 { 0 } else { b' ' };
        }
        d[label_at..label_at + label.len()].copy_from_slice(label);
        d[bs_at..bs_at + 2].copy_from_slice(&2048u16.to_le_bytes());
        if joliet {
            d[88..91].copy_from_slice(b"%/E");
        }
        let r = record(&[0], root, root_size, 2, 0, 0, self.hsf);
        d[root_at..root_at + 34].copy_from_slice(&r[..34]);
        self.put(block, &d);
    }
    fn terminator(&mut self, block: u32) {
        let mut d = vec![0u8; S];
        if self.hsf {
            d[8] = 255;
            d[9..14].copy_from_slice(b"CDROM");
        } else {
            d[0] = 255;
            d[1..6].copy_from_slice(b"CD001");
        }
        self.put(block, &d);
    }
    /// A directory at `block` holding `.`, `..` (both `block`) and `entries`.
    fn dir(&mut self, block: u32, entries: &[Vec<u8>]) -> u32 {
        let mut recs = vec![
            record(&[0], block, 0, 2, 0, 0, self.hsf),
            record(&[1], block, 0, 2, 0, 0, self.hsf),
        ];
        recs.extend_from_slice(entries);
        let bytes = dir_bytes(&recs);
        let size = bytes.len() as u32;
        // Patch the '.' size.
        let mut bytes = bytes;
        bytes[10..14].copy_from_slice(&size.to_le_bytes());
        self.put(block, &bytes);
        size
    }
    fn device(self) -> Device {
        Arc::new(MemSource::new(self.img, "synthetic.iso"))
    }
}

fn ucs2(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(|u| u.to_be_bytes()).collect()
}

fn read_all(fs: &dyn FileSystem, n: NodeId) -> spindle_fs::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 3000];
    loop {
        let k = fs.read(n, out.len() as u64, &mut buf)?;
        if k == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..k]);
    }
}

/// A plain volume at `base` (descriptors at base+16) with a few special files; extents are
/// absolute, as on a later session.
fn special_volume(base: u32) -> Device {
    let mut b = Builder::new(base as usize + 40, false);
    let (root, jroot) = (base + 20, base + 21);
    // Interleaved: unit 1 block, gap 1 block: data in blocks 30, 32, 34.
    for (i, blk) in [30u32, 32, 34].into_iter().enumerate() {
        b.put(base + blk, &vec![b'a' + i as u8; S]);
        b.put(base + blk + 1, &vec![b'X'; S]);
    }
    b.put(base + 25, b"main data");
    b.put(base + 26, b"associated data");
    b.put(base + 27, b"hidden data");
    let entries = vec![
        record(b"INTER.BIN;1", base + 30, 5000, 0, 1, 1, false),
        record(b"MAIN.TXT;1", base + 26, 15, 0x04, 0, 0, false), // associated: sorted first
        record(b"MAIN.TXT;1", base + 25, 9, 0, 0, 0, false),
        record(b"HIDDEN.;1", base + 27, 11, 0x01, 0, 0, false),
        record(b"PAST.END;1", base + 1000, 10, 0, 0, 0, false),
    ];
    let size = b.dir(root, &entries);
    let long = "a Joliet name longer than sixty-four characters, as Nero writes them.txt;1";
    let jentries = vec![
        record(&ucs2(long), base + 25, 9, 0, 0, 0, false),
        record(
            &[0xD8, 0x00, 0x00, 0x41, 0x00],
            base + 25,
            9,
            0,
            0,
            0,
            false,
        ), // lone surrogate, odd length
    ];
    let jsize = b.dir(jroot, &jentries);
    b.descriptor(base + 16, 1, root, size, b"SPECIAL", false);
    b.descriptor(base + 17, 2, jroot, jsize, &ucs2("Spécial"), true);
    b.terminator(base + 18);
    b.device()
}

#[test]
fn interleaved_associated_hidden_and_past_end() {
    let dev = special_volume(0);
    let fs = open_iso(dev, FsKind::Iso9660, 0).unwrap();
    assert_eq!(fs.label(), "SPECIAL");
    let names: Vec<String> = fs
        .read_dir(fs.root())
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, ["INTER.BIN", "MAIN.TXT", "HIDDEN", "PAST.END"]);
    let inter = read_all(&*fs, resolve(&*fs, "INTER.BIN").unwrap()).unwrap();
    assert_eq!(inter.len(), 5000);
    assert!(inter[..S].iter().all(|&c| c == b'a'));
    assert!(inter[S..2 * S].iter().all(|&c| c == b'b'));
    assert!(inter[2 * S..].iter().all(|&c| c == b'c'));
    assert_eq!(
        read_all(&*fs, resolve(&*fs, "MAIN.TXT").unwrap()).unwrap(),
        b"main data"
    );
    assert_eq!(
        read_all(&*fs, resolve(&*fs, "HIDDEN").unwrap()).unwrap(),
        b"hidden data"
    );
    let err = read_all(&*fs, resolve(&*fs, "PAST.END").unwrap()).unwrap_err();
    assert!(
        matches!(err, FsError::Corrupt { .. }) && err.to_string().contains("past the end"),
        "{err}"
    );
}

#[test]
fn joliet_long_and_malformed_names() {
    let dev = special_volume(0);
    let v = detect(&*dev, 0).unwrap();
    assert!(v.has_joliet && !v.has_rock_ridge && !v.has_udf_marker);
    assert_eq!(
        (v.label.as_str(), v.joliet_label.as_deref(), v.joliet_level),
        ("SPECIAL", Some("Spécial"), Some(3))
    );
    let fs = open_iso(dev, FsKind::Joliet, 0).unwrap();
    assert_eq!(fs.label(), "Spécial");
    let names: Vec<String> = fs
        .read_dir(fs.root())
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(
        names[0],
        "a Joliet name longer than sixty-four characters, as Nero writes them.txt"
    );
    assert_eq!(names[1], "\u{FFFD}A");
}

#[test]
fn later_session_volume_at_base_lba() {
    let dev = special_volume(300);
    assert!(detect(&*dev, 0).is_err());
    let fs = open_iso(dev, FsKind::Iso9660, 300).unwrap();
    assert_eq!(
        read_all(&*fs, resolve(&*fs, "MAIN.TXT").unwrap()).unwrap(),
        b"main data"
    );
}

#[test]
fn node_ids_survive_a_fresh_reader() {
    let dev = special_volume(0);
    let a = open_iso(dev.clone(), FsKind::Iso9660, 0).unwrap();
    let id = resolve(&*a, "INTER.BIN").unwrap();
    let b = IsoFs::open(dev, FsKind::Iso9660, 0).unwrap();
    // Never listed in `b`: re-read from the record position.
    assert_eq!(b.metadata(id).unwrap(), a.metadata(id).unwrap());
    assert_eq!(read_all(&b, id).unwrap().len(), 5000);
    assert!(b.metadata(NodeId(12345)).is_err());
    assert!(b.metadata(NodeId(u64::MAX - 5)).is_err());
}

#[test]
fn high_sierra() {
    let mut b = Builder::new(30, true);
    b.put(25, b"sierra");
    let size = b.dir(
        20,
        &[
            record(b"FILE.TXT;1", 25, 6, 0, 0, 0, true),
            record(b"SUB", 21, 2048, 2, 0, 0, true),
        ],
    );
    b.dir(21, &[]);
    b.descriptor(16, 1, 20, size, b"HSFVOL", false);
    b.terminator(17);
    let dev = b.device();
    let v = detect(&*dev, 0).unwrap();
    assert!(v.high_sierra);
    assert_eq!(v.label, "HSFVOL");
    let fs = open_iso(dev, FsKind::Iso9660, 0).unwrap();
    let e = fs.read_dir(fs.root()).unwrap();
    assert_eq!(
        e.iter()
            .map(|e| (e.name.as_str(), e.kind))
            .collect::<Vec<_>>(),
        [("FILE.TXT", FileKind::File), ("SUB", FileKind::Dir)]
    );
    assert_eq!(read_all(&*fs, e[0].node).unwrap(), b"sierra");
}

#[test]
fn hostile_directories() {
    // A record crossing its sector end, a directory extent past the device, a zero-length
    // record padding the rest of a sector.
    let mut b = Builder::new(30, false);
    let size = b.dir(
        20,
        &[
            record(b"BIGDIR", 25, 1 << 30, 2, 0, 0, false),
            record(b"BAD", 21, 60, 2, 0, 0, false),
        ],
    );
    // BAD's extent is 60 bytes: '.' (34) and a 40-byte record that runs past it.
    let mut bad = record(&[0], 21, 60, 2, 0, 0, false);
    bad.extend_from_slice(&record(b"X.TXT;1", 25, 1, 0, 0, 0, false));
    b.put(21, &bad);
    b.descriptor(16, 1, 20, size, b"HOSTILE", false);
    b.terminator(17);
    let fs = open_iso(b.device(), FsKind::Iso9660, 0).unwrap();
    let big = resolve(&*fs, "BIGDIR").unwrap();
    let err = fs.read_dir(big).unwrap_err().to_string();
    assert!(
        err.contains("past the end") || err.contains("limit"),
        "{err}"
    );
    let err = fs
        .read_dir(resolve(&*fs, "BAD").unwrap())
        .unwrap_err()
        .to_string();
    assert!(err.contains("past the end of its sector"), "{err}");
}

#[test]
fn hundred_thousand_entries_list_fast() {
    const N: u32 = 100_000;
    let data = 5u32;
    let recs: Vec<Vec<u8>> = (0..N)
        .map(|i| record(format!("F{i:06}.TXT;1").as_bytes(), data, 1, 0, 0, 0, false))
        .collect();
    let bytes = dir_bytes(&recs);
    let blocks = bytes.len() / S + 40;
    let mut b = Builder::new(blocks, false);
    b.put(data, b"x");
    let size = b.dir(20, &recs);
    b.descriptor(16, 1, 20, size, b"MANY", false);
    b.terminator(17);
    let fs = open_iso(b.device(), FsKind::Iso9660, 0).unwrap();
    let t = Instant::now();
    let e = fs.read_dir(fs.root()).unwrap();
    assert_eq!(e.len(), N as usize);
    for i in (0..N).step_by(997) {
        let n = fs
            .lookup(fs.root(), &format!("F{i:06}.TXT"))
            .unwrap()
            .unwrap();
        assert_eq!(fs.metadata(n).unwrap().size, 1);
    }
    let took = t.elapsed();
    assert!(took < Duration::from_secs(5), "{took:?}");
}
