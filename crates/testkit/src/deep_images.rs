//! Images whose directories nest as deep as the test likes (xorriso and genisoimage refuse such
//! depth), built here byte by byte and written sector by sector: ISO 9660 (plain, Rock Ridge,
//! Rock Ridge with every level relocated through `CL`/`RE`), UDF, and directory cycles.
//!
//! Each image is one chain: the root holds a directory, which holds a directory, ... `depth`
//! levels down, where the deepest directory holds one file, `F` (ISO 9660 name `F.TXT;1`,
//! Rock Ridge and UDF name `f`), holding [`CONTENT`]. Every directory takes one sector, so
//! 100,000 levels make an image of about 200 MB. Used by the tests of crates/fs, crates/udf,
//! crates/fuse and crates/cli.

use crate::udf_build::{dstring, long_ad, put, regid, set_tag};
use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::Path;

/// What the deepest file holds.
pub const CONTENT: &[u8] = b"at the bottom\n";
const BS: usize = 2048;
/// Block of the root directory; directory `i` (0 = the root) is at `DIR0 + i`.
const DIR0: usize = 20;

/// The shape of an ISO 9660 image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Iso {
    /// ISO 9660 names only: the chain is `/D/D/.../F.TXT` (plain view: `/D/D/.../F.TXT`).
    Plain,
    /// Rock Ridge `NM` and `PX` on every record: `/d/d/.../f`.
    RockRidge,
    /// Rock Ridge with every level but the root relocated (RRIP 4.1.5): the directory of level
    /// `i` is listed in `/RR_MOVED` (with `RE`), and level `i - 1` holds a file record `d`
    /// whose `CL` entry names it.
    Relocated,
    /// A plain chain whose deepest directory holds `D`, a directory record pointing at the
    /// extent of level 1 (an ancestor): a loop.
    Cycle,
    /// Rock Ridge relocation whose deepest `CL` names level 1's directory: a loop.
    CycleCl,
}

/// The path of the deepest file in the view a reader shows first (Rock Ridge when present).
pub fn deep_path(kind: Iso, depth: usize) -> String {
    let (dir, file) = match kind {
        Iso::Plain | Iso::Cycle => ("/D", "/F.TXT"),
        _ => ("/d", "/f"),
    };
    let mut p = dir.repeat(depth);
    p.push_str(file);
    p
}

fn both16(v: u16) -> [u8; 4] {
    let (l, b) = (v.to_le_bytes(), v.to_be_bytes());
    [l[0], l[1], b[0], b[1]]
}

fn both32(v: u32) -> [u8; 8] {
    let (l, b) = (v.to_le_bytes(), v.to_be_bytes());
    [l[0], l[1], l[2], l[3], b[0], b[1], b[2], b[3]]
}

/// A directory record: `dir` sets the directory flag; `su` is its system use area.
fn record(name: &[u8], extent: usize, size: usize, dir: bool, su: &[u8]) -> Vec<u8> {
    let mut r = vec![0u8; 33];
    r[2..10].copy_from_slice(&both32(extent as u32));
    r[10..18].copy_from_slice(&both32(size as u32));
    r[18..25].copy_from_slice(&[120, 6, 1, 12, 0, 0, 0]); // 2020-06-01 12:00:00 UTC
    r[25] = if dir { 2 } else { 0 };
    r[28..32].copy_from_slice(&both16(1));
    r[32] = name.len() as u8;
    r.extend_from_slice(name);
    if name.len().is_multiple_of(2) {
        r.push(0);
    }
    r.extend_from_slice(su);
    r[0] = r.len() as u8;
    r
}

fn px(mode: u32) -> Vec<u8> {
    let mut e = b"PX\x24\x01".to_vec();
    for v in [mode, 1, 0, 0] {
        e.extend_from_slice(&both32(v));
    }
    e
}

fn nm(name: &str) -> Vec<u8> {
    let mut e = vec![b'N', b'M', 5 + name.len() as u8, 1, 0];
    e.extend_from_slice(name.as_bytes());
    e
}

fn entry32(sig: &[u8; 2], block: usize) -> Vec<u8> {
    let mut e = vec![sig[0], sig[1], 12, 1];
    e.extend_from_slice(&both32(block as u32));
    e
}

const DIR_MODE: u32 = 0o40755;
const FILE_MODE: u32 = 0o100644;

/// Packs records into sectors (none crosses a sector boundary): the directory's bytes.
fn pack(records: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in records {
        let room = BS - out.len() % BS;
        if r.len() > room {
            out.resize(out.len() + room, 0);
        }
        out.extend_from_slice(r);
    }
    out.resize(out.len().div_ceil(BS) * BS, 0);
    out
}

/// Writes an ISO 9660 image of a `depth`-level chain to `path`.
pub fn write_iso(path: &Path, kind: Iso, depth: usize) -> io::Result<()> {
    assert!(depth >= 2);
    let rr = kind != Iso::Plain && kind != Iso::Cycle;
    let relocated = kind == Iso::Relocated || kind == Iso::CycleCl;
    let file_block = DIR0 + depth + 1;
    // RR_MOVED (relocated kinds): one record per level 1..=depth, after the file block.
    let moved_block = file_block + 1;
    let moved: Vec<u8> = if relocated {
        let mut recs = vec![
            record(&[0], moved_block, 0, true, &px(DIR_MODE)),
            record(&[1], DIR0, BS, true, &px(DIR_MODE)),
        ];
        for i in 1..=depth {
            let su = [b"RE\x04\x01".to_vec(), nm(&format!("r{i}")), px(DIR_MODE)].concat();
            recs.push(record(format!("R{i}").as_bytes(), DIR0 + i, BS, true, &su));
        }
        let mut bytes = pack(&recs);
        // The '.' record's size is the directory's.
        let len = bytes.len();
        bytes[10..18].copy_from_slice(&both32(len as u32));
        bytes
    } else {
        Vec::new()
    };
    let total = moved_block + moved.len() / BS;
    let mut w = BufWriter::with_capacity(1 << 20, File::create(path)?);
    w.write_all(&vec![0u8; 16 * BS])?;
    // Primary volume descriptor, terminator, two (empty) path table sectors.
    let mut pvd = vec![0u8; BS];
    pvd[0] = 1;
    pvd[1..6].copy_from_slice(b"CD001");
    pvd[6] = 1;
    pvd[8..40].fill(b' ');
    pvd[40..72].fill(b' ');
    pvd[40..44].copy_from_slice(b"DEEP");
    pvd[80..88].copy_from_slice(&both32(total as u32));
    pvd[120..124].copy_from_slice(&both16(1));
    pvd[124..128].copy_from_slice(&both16(1));
    pvd[128..132].copy_from_slice(&both16(BS as u16));
    pvd[132..140].copy_from_slice(&both32(10));
    pvd[140..144].copy_from_slice(&18u32.to_le_bytes());
    pvd[148..152].copy_from_slice(&19u32.to_be_bytes());
    let root = record(&[0], DIR0, BS, true, &[]);
    pvd[156..156 + root.len()].copy_from_slice(&root);
    for at in [813, 830, 847, 864] {
        pvd[at..at + 16].fill(b'0');
    }
    pvd[881] = 1;
    w.write_all(&pvd)?;
    let mut term = vec![0u8; BS];
    term[0] = 255;
    term[1..6].copy_from_slice(b"CD001");
    term[6] = 1;
    w.write_all(&term)?;
    let mut pt = vec![0u8; 2 * BS];
    pt[0] = 1;
    pt[2..6].copy_from_slice(&(DIR0 as u32).to_le_bytes());
    pt[6] = 1;
    pt[BS] = 1;
    pt[BS + 2..BS + 6].copy_from_slice(&(DIR0 as u32).to_be_bytes());
    pt[BS + 7] = 1;
    w.write_all(&pt)?;
    // Directories: level i at DIR0 + i.
    for i in 0..=depth {
        let me = DIR0 + i;
        let parent = if i == 0 {
            DIR0
        } else if relocated {
            moved_block
        } else {
            me - 1
        };
        let mut dot_su = if rr { px(DIR_MODE) } else { Vec::new() };
        if i == 0 && rr {
            // SP first, then the extension reference.
            let mut sp = b"SP\x07\x01\xBE\xEF\x00".to_vec();
            let mut er = vec![b'E', b'R', 8 + 10, 1, 10, 0, 0, 1];
            er.extend_from_slice(b"RRIP_1991A");
            sp.extend(er);
            sp.extend(dot_su);
            dot_su = sp;
        }
        let mut dotdot_su = if rr { px(DIR_MODE) } else { Vec::new() };
        if relocated && i > 0 {
            dotdot_su.extend(entry32(b"PL", me - 1));
        }
        let mut recs = vec![
            record(&[0], me, BS, true, &dot_su),
            record(&[1], parent, BS, true, &dotdot_su),
        ];
        if i < depth {
            let child = match kind {
                Iso::Plain | Iso::Cycle => record(b"D", me + 1, BS, true, &[]),
                Iso::RockRidge => record(b"D", me + 1, BS, true, &[nm("d"), px(DIR_MODE)].concat()),
                Iso::Relocated | Iso::CycleCl => record(
                    b"D",
                    0,
                    0,
                    false,
                    &[nm("d"), px(DIR_MODE), entry32(b"CL", me + 1)].concat(),
                ),
            };
            recs.push(child);
        } else {
            let su = if rr {
                [nm("f"), px(FILE_MODE)].concat()
            } else {
                Vec::new()
            };
            recs.push(record(b"F.TXT;1", file_block, CONTENT.len(), false, &su));
            match kind {
                Iso::Cycle => recs.push(record(b"LOOP", DIR0 + 1, BS, true, &[])),
                Iso::CycleCl => recs.push(record(
                    b"LOOP",
                    0,
                    0,
                    false,
                    &[nm("loop"), px(DIR_MODE), entry32(b"CL", DIR0 + 1)].concat(),
                )),
                _ => {}
            }
        }
        w.write_all(&pack(&recs))?;
    }
    let mut data = CONTENT.to_vec();
    data.resize(BS, 0);
    w.write_all(&data)?;
    w.write_all(&moved)?;
    if relocated {
        // Root's RR_MOVED record: rewrite the root sector with it added.
        let root_su = {
            let mut sp = b"SP\x07\x01\xBE\xEF\x00".to_vec();
            let mut er = vec![b'E', b'R', 8 + 10, 1, 10, 0, 0, 1];
            er.extend_from_slice(b"RRIP_1991A");
            sp.extend(er);
            sp.extend(px(DIR_MODE));
            sp
        };
        let recs = vec![
            record(&[0], DIR0, BS, true, &root_su),
            record(&[1], DIR0, BS, true, &px(DIR_MODE)),
            record(
                b"D",
                0,
                0,
                false,
                &[nm("d"), px(DIR_MODE), entry32(b"CL", DIR0 + 1)].concat(),
            ),
            record(
                b"RR_MOVED",
                moved_block,
                moved.len(),
                true,
                &[nm("rr_moved"), px(DIR_MODE)].concat(),
            ),
        ];
        w.seek(SeekFrom::Start((DIR0 * BS) as u64))?;
        w.write_all(&pack(&recs))?;
    }
    w.flush()
}

// ---- UDF ----

/// A FID: `chars` 2 = directory, 8 = parent; names the ICB at partition block `lbn`.
fn fid(chars: u8, name: &str, lbn: u32) -> Vec<u8> {
    let n: Vec<u8> = if name.is_empty() {
        vec![]
    } else {
        std::iter::once(8).chain(name.bytes()).collect()
    };
    let mut v = vec![0u8; (38 + n.len() + 3) & !3];
    v[18] = chars;
    v[19] = n.len() as u8;
    put(&mut v, 20, &long_ad(BS as u32, lbn, 0));
    put(&mut v, 38, &n);
    set_tag(&mut v, 257, lbn);
    v
}

/// A file entry (tag 261) with its data embedded; `file_type` 4 = directory, 5 = file.
fn file_entry(file_type: u8, data: &[u8], loc: u32) -> Vec<u8> {
    let mut v = vec![0u8; 176];
    put(&mut v, 20, &4u16.to_le_bytes());
    put(&mut v, 24, &1u16.to_le_bytes());
    v[27] = file_type;
    put(&mut v, 34, &3u16.to_le_bytes()); // embedded data
    put(&mut v, 44, &0x14A5u32.to_le_bytes()); // r-x for all, w for the owner
    put(&mut v, 48, &1u16.to_le_bytes());
    put(&mut v, 56, &(data.len() as u64).to_le_bytes());
    put(&mut v, 172, &(data.len() as u32).to_le_bytes());
    v.extend_from_slice(data);
    set_tag(&mut v, 261, loc);
    v.resize(BS, 0);
    v
}

/// A directory's file entry whose `len` bytes of FIDs are in an extent at partition block
/// `lbn` (one short_ad).
fn dir_entry_with_extent(len: usize, lbn: u32, loc: u32) -> Vec<u8> {
    let mut v = vec![0u8; 176];
    put(&mut v, 20, &4u16.to_le_bytes());
    put(&mut v, 24, &1u16.to_le_bytes());
    v[27] = 4;
    put(&mut v, 44, &0x14A5u32.to_le_bytes());
    put(&mut v, 48, &1u16.to_le_bytes());
    put(&mut v, 56, &(len as u64).to_le_bytes());
    put(&mut v, 172, &8u32.to_le_bytes());
    v.extend_from_slice(&(len as u32).to_le_bytes());
    v.extend_from_slice(&lbn.to_le_bytes());
    set_tag(&mut v, 261, loc);
    v.resize(BS, 0);
    v
}

/// First sector of the UDF partition; partition block 0 holds the file set descriptor,
/// block `1 + i` the file entry of directory `i` (0 = the root), then the file's entry.
const P0: usize = 272;

/// The shape of a UDF image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Udf {
    /// `/d/d/.../f`.
    Chain,
    /// The chain, and the deepest directory also holds `loop`, a FID naming level 1's
    /// directory (an ancestor).
    Cycle,
    /// Every directory holds `a` and `b`, two FIDs naming the same next directory: no loop,
    /// but 2^depth paths (a walk that lists a directory once per path never ends).
    Dag,
    /// The chain, and the deepest directory also holds this many FIDs `w0`, `w1`, ... of
    /// subdirectories whose entries lie past the end of the image (each reads as a
    /// directory that cannot be opened). Its FIDs take an extent of their own.
    Wide(usize),
}

/// Writes a UDF image of a `depth`-level chain of the given shape.
pub fn write_udf(path: &Path, depth: usize, shape: Udf) -> io::Result<()> {
    let file_lbn = 1 + depth + 1;
    // Wide: the deepest directory's FIDs, from the block after the file's entry on.
    let wide = match shape {
        Udf::Wide(n) => {
            let mut v = Vec::new();
            for i in 0..n {
                v.extend(fid(2, &format!("w{i}"), (1 << 24) + i as u32));
            }
            v
        }
        _ => Vec::new(),
    };
    let wide_lbn = file_lbn + 1;
    let mut deepest = Vec::new();
    // Wide: room for the FIDs' (absent) entries in the partition, past the image's end.
    let part_len = if wide.is_empty() {
        file_lbn + 1
    } else {
        1 << 25
    };
    let mut w = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let mut head = vec![0u8; P0 * BS];
    for (i, id) in [b"BEA01", b"NSR03", b"TEA01"].iter().enumerate() {
        put(&mut head, (16 + i) * BS + 1, *id);
        head[(16 + i) * BS + 6] = 1;
    }
    let mut pvd = vec![0u8; 512];
    put(&mut pvd, 16, &1u32.to_le_bytes());
    set_tag(&mut pvd, 1, 32);
    let mut pd = vec![0u8; 512];
    put(&mut pd, 16, &2u32.to_le_bytes());
    put(&mut pd, 24, &regid("+NSR03"));
    put(&mut pd, 184, &1u32.to_le_bytes());
    put(&mut pd, 188, &(P0 as u32).to_le_bytes());
    put(&mut pd, 192, &(part_len as u32).to_le_bytes());
    set_tag(&mut pd, 5, 33);
    let mut lvd = vec![0u8; 440 + 6];
    put(&mut lvd, 16, &3u32.to_le_bytes());
    put(&mut lvd, 84, &dstring("DEEP", 128));
    put(&mut lvd, 212, &(BS as u32).to_le_bytes());
    put(&mut lvd, 216, &regid("*OSTA UDF Compliant"));
    put(&mut lvd, 248, &long_ad(BS as u32, 0, 0));
    put(&mut lvd, 264, &6u32.to_le_bytes());
    put(&mut lvd, 268, &1u32.to_le_bytes());
    put(&mut lvd, 440, &[1, 6, 1, 0, 0, 0]);
    set_tag(&mut lvd, 6, 34);
    let mut td = vec![0u8; 512];
    set_tag(&mut td, 8, 35);
    for (s, d) in [(32, pvd), (33, pd), (34, lvd), (35, td)] {
        put(&mut head, s * BS, &d);
    }
    let mut anchor = vec![0u8; 512];
    put(
        &mut anchor,
        16,
        &[(4 * BS as u32).to_le_bytes(), 32u32.to_le_bytes()].concat(),
    );
    put(
        &mut anchor,
        24,
        &[(4 * BS as u32).to_le_bytes(), 32u32.to_le_bytes()].concat(),
    );
    set_tag(&mut anchor, 2, 256);
    put(&mut head, 256 * BS, &anchor);
    w.write_all(&head)?;
    let mut fsd = vec![0u8; 512];
    put(&mut fsd, 304, &dstring("DEEP", 32));
    put(&mut fsd, 400, &long_ad(BS as u32, 1, 0));
    set_tag(&mut fsd, 256, 0);
    fsd.resize(BS, 0);
    w.write_all(&fsd)?;
    for i in 0..=depth {
        let me = 1 + i as u32;
        let parent = if i == 0 { me } else { me - 1 };
        let mut fids = fid(0x0A, "", parent);
        if i < depth && shape == Udf::Dag {
            fids.extend(fid(2, "a", me + 1));
            fids.extend(fid(2, "b", me + 1));
        } else if i < depth {
            fids.extend(fid(2, "d", me + 1));
        } else {
            fids.extend(fid(0, "f", file_lbn as u32));
            if shape == Udf::Cycle {
                fids.extend(fid(2, "loop", 2));
            }
        }
        if i == depth && !wide.is_empty() {
            fids.extend_from_slice(&wide);
            w.write_all(&dir_entry_with_extent(fids.len(), wide_lbn as u32, me))?;
            deepest = fids;
        } else {
            w.write_all(&file_entry(4, &fids, me))?;
        }
    }
    w.write_all(&file_entry(5, CONTENT, file_lbn as u32))?;
    // Wide: the deepest directory's FIDs in their extent.
    deepest.resize(deepest.len().div_ceil(BS) * BS, 0);
    w.write_all(&deepest)?;
    w.flush()
}
