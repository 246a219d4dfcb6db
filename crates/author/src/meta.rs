//! The metadata sectors (system area to the last directory) as bytes, from a [`Plan`].

use crate::dates;
use crate::eltorito;
use crate::layout::{Dir, MAX_EXTENT, Rec, Role, SECTOR};
use crate::names;
use crate::plan::Plan;
use crate::rrip;
use crate::tree::{Kind, Tree};

fn both16(out: &mut [u8], v: u16) {
    out[..2].copy_from_slice(&v.to_le_bytes());
    out[2..4].copy_from_slice(&v.to_be_bytes());
}

fn both32(out: &mut [u8], v: u32) {
    out[..4].copy_from_slice(&v.to_le_bytes());
    out[4..8].copy_from_slice(&v.to_be_bytes());
}

/// One directory record.
fn record(lba: u32, size: u32, date: [u8; 7], flags: u8, ident: &[u8], su: &[u8]) -> Vec<u8> {
    let fi = ident.len();
    let pad = usize::from(fi.is_multiple_of(2));
    let mut len = 33 + fi + pad + su.len();
    len += len % 2;
    let mut r = vec![0u8; len];
    r[0] = len as u8;
    both32(&mut r[2..10], lba);
    both32(&mut r[10..18], size);
    r[18..25].copy_from_slice(&date);
    r[25] = flags;
    both16(&mut r[28..32], 1);
    r[32] = fi as u8;
    r[33..33 + fi].copy_from_slice(ident);
    r[33 + fi + pad..33 + fi + pad + su.len()].copy_from_slice(su);
    r
}

/// The sections of a record: (first sector, bytes, flags).
fn sections(tree: &Tree, plan: &Plan, dirs: &[Dir], d: &Dir, r: &Rec) -> Vec<(u32, u32, u8)> {
    match r.role {
        Role::Dot => vec![(d.lba, d.size as u32, 2)],
        Role::DotDot => {
            let p = &dirs[d.parent as usize];
            vec![(p.lba, p.size as u32, 2)]
        }
        Role::Child(Some(i)) => {
            let s = &dirs[i as usize];
            vec![(s.lba, s.size as u32, 2)]
        }
        Role::Child(None) => match tree.nodes[r.node as usize].kind {
            Kind::File(f) => {
                let size = tree.files[f as usize].size;
                let lba = plan.file_lba[f as usize];
                let n = crate::layout::extents(size);
                (0..n)
                    .map(|k| {
                        let off = k * MAX_EXTENT;
                        let len = (size - off).min(MAX_EXTENT);
                        let flags = if k + 1 < n { 0x80 } else { 0 };
                        (lba + (off / SECTOR) as u32, len as u32, flags)
                    })
                    .collect()
            }
            _ => vec![(0, 0, 0)],
        },
    }
}

/// Writes a namespace's directories (and, for the primary one, the continuation areas).
fn directories(tree: &Tree, plan: &Plan, dirs: &[Dir], out: &mut [u8]) {
    for d in dirs {
        let base = d.lba as usize * SECTOR as usize;
        let mut pos = 0usize;
        for r in &d.recs {
            let mut su = r.inline.clone();
            if let Some(a) = r.chain.first() {
                su.extend(rrip::ce(
                    plan.ce_start + a.sector,
                    a.offset,
                    area_len(&r.chain, 0) as u32,
                ));
            }
            for (i, a) in r.chain.iter().enumerate() {
                let at = (plan.ce_start + a.sector) as usize * SECTOR as usize + a.offset as usize;
                out[at..at + a.bytes.len()].copy_from_slice(&a.bytes);
                if let Some(n) = r.chain.get(i + 1) {
                    let ce = rrip::ce(
                        plan.ce_start + n.sector,
                        n.offset,
                        area_len(&r.chain, i + 1) as u32,
                    );
                    out[at + a.bytes.len()..at + a.bytes.len() + ce.len()].copy_from_slice(&ce);
                }
            }
            let date = dates::short(tree.nodes[r.node as usize].mtime);
            for (lba, size, flags) in sections(tree, plan, dirs, d, r) {
                let rec = record(lba, size, date, flags, &r.ident, &su);
                if pos % SECTOR as usize + rec.len() > SECTOR as usize {
                    pos = pos.next_multiple_of(SECTOR as usize);
                }
                out[base + pos..base + pos + rec.len()].copy_from_slice(&rec);
                pos += rec.len();
            }
        }
    }
}

fn area_len(chain: &[crate::layout::Area], i: usize) -> usize {
    chain[i].bytes.len() + if i + 1 < chain.len() { rrip::CE_LEN } else { 0 }
}

/// A path table (little- or big-endian).
fn path_table(dirs: &[Dir], big: bool, out: &mut [u8]) {
    let mut pos = 0;
    for d in dirs {
        let fi = d.ident.len();
        out[pos] = fi as u8;
        let (lba, parent) = if big {
            (d.lba.to_be_bytes(), (d.parent as u16 + 1).to_be_bytes())
        } else {
            (d.lba.to_le_bytes(), (d.parent as u16 + 1).to_le_bytes())
        };
        out[pos + 2..pos + 6].copy_from_slice(&lba);
        out[pos + 6..pos + 8].copy_from_slice(&parent);
        out[pos + 8..pos + 8 + fi].copy_from_slice(&d.ident);
        pos += 8 + fi + fi % 2;
    }
}

/// A primary (`joliet` false) or Joliet supplementary volume descriptor.
fn descriptor(tree: &Tree, plan: &Plan, joliet: bool) -> Vec<u8> {
    let mut v = vec![0u8; SECTOR as usize];
    v[0] = if joliet { 2 } else { 1 };
    v[1..6].copy_from_slice(b"CD001");
    v[6] = 1;
    let text = |s: &str, n: usize| {
        if joliet {
            names::joliet_field(s, n)
        } else {
            names::a_field(s, n)
        }
    };
    v[8..40].copy_from_slice(&text("", 32));
    v[40..72].copy_from_slice(&text(&plan.options.label, 32));
    both32(&mut v[80..88], plan.sectors);
    if joliet {
        v[88..91].copy_from_slice(b"%/E");
    }
    both16(&mut v[120..124], 1);
    both16(&mut v[124..128], 1);
    both16(&mut v[128..132], SECTOR as u16);
    let (pt, dirs, tables) = if joliet {
        (
            plan.path_table_bytes[1],
            &plan.joliet,
            &plan.path_tables[2..4],
        )
    } else {
        (
            plan.path_table_bytes[0],
            &plan.primary,
            &plan.path_tables[0..2],
        )
    };
    both32(&mut v[132..140], pt as u32);
    v[140..144].copy_from_slice(&tables[0].to_le_bytes());
    v[148..152].copy_from_slice(&tables[1].to_be_bytes());
    let root = &dirs[0];
    let date = dates::short(tree.nodes[0].mtime);
    let rec = record(root.lba, root.size as u32, date, 2, &[0], &[]);
    v[156..190].copy_from_slice(&rec);
    v[190..318].copy_from_slice(&text("", 128));
    v[318..446].copy_from_slice(&text("", 128));
    v[446..574].copy_from_slice(&text("", 128));
    v[574..702].copy_from_slice(&text("SPINDLE", 128));
    for at in [702, 739, 776] {
        v[at..at + 37].copy_from_slice(&text("", 37));
    }
    let t = dates::long(plan.volume_time);
    v[813..830].copy_from_slice(&t);
    v[830..847].copy_from_slice(&t);
    v[847..864].copy_from_slice(&dates::UNSET);
    v[864..881].copy_from_slice(&t);
    v[881] = 1;
    v
}

/// The image's first `plan.data_start` sectors.
pub fn metadata(tree: &Tree, plan: &Plan) -> Vec<u8> {
    let mut out = vec![0u8; plan.data_start as usize * SECTOR as usize];
    let s = |lba: u32| lba as usize * SECTOR as usize;
    let mut at = 16;
    out[s(at)..s(at + 1)].copy_from_slice(&descriptor(tree, plan, false));
    at += 1;
    if !plan.boot.is_empty() {
        out[s(at)..s(at + 1)].copy_from_slice(&eltorito::boot_record(plan.catalog));
        at += 1;
        let c = eltorito::catalog(&plan.boot, |f| plan.file_lba[f as usize]);
        out[s(plan.catalog)..s(plan.catalog + 1)].copy_from_slice(&c);
    }
    if plan.options.joliet {
        out[s(at)..s(at + 1)].copy_from_slice(&descriptor(tree, plan, true));
        at += 1;
    }
    out[s(at)] = 255;
    out[s(at) + 1..s(at) + 6].copy_from_slice(b"CD001");
    out[s(at) + 6] = 1;
    let t = plan.path_tables;
    path_table(&plan.primary, false, &mut out[s(t[0])..]);
    path_table(&plan.primary, true, &mut out[s(t[1])..]);
    directories(tree, plan, &plan.primary, &mut out);
    if plan.options.joliet {
        path_table(&plan.joliet, false, &mut out[s(t[2])..]);
        path_table(&plan.joliet, true, &mut out[s(t[3])..]);
        directories(tree, plan, &plan.joliet, &mut out);
    }
    if plan.hybrid() {
        let id = eltorito::disk_id(&out[s(16)..]);
        let code = plan.options.hybrid_mbr.as_deref();
        // The MBR code loads the default entry (a BIOS one whenever there is code).
        let boot_lba = match (code, plan.boot.first()) {
            (Some(_), Some(first)) => plan.file_lba[first.file as usize],
            _ => 0,
        };
        let mut mbr =
            eltorito::hybrid_mbr(code.unwrap_or(&[]), boot_lba, u64::from(plan.sectors), id);
        if let Some(g) = gpt(plan, &out) {
            crate::gpt::protect(&mut mbr, g.blocks);
            let p = g.primary();
            out[512..512 + p.len()].copy_from_slice(&p);
        }
        out[..512].copy_from_slice(&mbr);
    }
    out
}

/// The GPT of a hybrid image with an EFI boot image, its GUIDs derived from the metadata
/// `meta` (what [`metadata`] returns; sectors from 16 on are hashed).
pub fn gpt(plan: &Plan, meta: &[u8]) -> Option<crate::gpt::Gpt> {
    let esp = plan.esp()?;
    let first = u64::from(plan.file_lba[esp.file as usize]) * (SECTOR / 512);
    let hashed = &meta[(16 * SECTOR) as usize..];
    Some(crate::gpt::Gpt {
        blocks: u64::from(plan.sectors) * (SECTOR / 512),
        esp: (first, first + esp.size.div_ceil(512) - 1),
        disk: crate::gpt::guid(hashed, 1),
        part: crate::gpt::guid(hashed, 2),
    })
}
