//! Writing MDX (DAEMON Tools' single-file format), compressed by default and optionally
//! encrypted with a password.
//!
//! Layout (formats.md §1): the 64-byte file header (its encryption header offset set to
//! 0xFFFFFFFF, then the footer's offset and length), every track's data from offset 0x40,
//! then the "footer": the descriptor, zlib-compressed and encrypted with AES-256 CBC with
//! de-whitening under a random key, followed by the 512-byte encryption header holding that
//! key (sealed with the password derived from its random salt).
//!
//! Track data of a compressed track is stored in groups of 16 sectors: a group whose bytes
//! are all equal is a fill entry, a group that deflates below 32 KiB is stored deflated, any
//! other is stored raw; the zlib-compressed group table follows the track's groups. With a
//! password, a random data key is sealed (AES-LRW) into a data encryption header at the end of
//! the descriptor, and every sector (uncompressed) or stored group (compressed) is encrypted
//! with AES-LRW under it. Groups are compressed on every core.

use crate::crypto::{self, HeaderCipher, HeaderKeys, Lrw, first_tweak};
use crate::error::{MdsError, Result};
use crate::groups::Group;
use crate::layout::{self, v2_codes};
use crate::le::PutLe;
use crate::plan::{self, TrackPlan, check_medium, lead_in_entries};
use crate::v2::{MDX_MARKER, PREFIX};
use crate::write_mds::{append_tail, toc_block, track_entry};
use flate2::Compression;
use flate2::write::{DeflateEncoder, ZlibEncoder};
use spindle_disc::{BoxError, Disc, ImageWriter, Progress, TocEntry, WriteOptions, WriterCaps};
use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Sectors per compression group (what DAEMON Tools uses).
pub const GROUP_SECTORS: u32 = 16;
/// Groups compressed per batch (spread over the cores).
const BATCH_GROUPS: u32 = 128;
/// The file header's copyright field of version 2.1 (0xA9 is the Latin-1 copyright sign).
const COPYRIGHT: &[u8; 26] = b"\xA9 2000-2015 Disc Soft Ltd.";

/// Writes `<name>.mdx` (registry id `mdx`).
pub struct MdxWriter;

impl ImageWriter for MdxWriter {
    fn id(&self) -> &'static str {
        "mdx"
    }
    fn extensions(&self) -> &'static [&'static str] {
        &["mdx"]
    }
    fn caps(&self) -> WriterCaps {
        // Neither MDS version has a field for the MCN, ISRCs or index 2 and later (the track
        // block holds the TOC entry of index 1, the extra block the pregap and length).
        WriterCaps {
            codes: false,
            indexes: false,
            ..WriterCaps::ALL
        }
    }
    fn write(&self, disc: &Disc, out: &Path, progress: Progress) -> Result<Vec<PathBuf>, BoxError> {
        self.write_with(disc, out, &WriteOptions::default(), progress)
    }
    fn write_with(
        &self,
        disc: &Disc,
        out: &Path,
        options: &WriteOptions,
        progress: Progress,
    ) -> Result<Vec<PathBuf>, BoxError> {
        write_mdx(disc, out, options, progress)?;
        Ok(vec![out.to_path_buf()])
    }
    fn encrypts(&self) -> bool {
        true
    }
    fn compresses(&self) -> bool {
        true
    }
}

fn random<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b)
        .map_err(|e| MdsError::Unrepresentable(format!("no random numbers for the keys: {e}")))?;
    Ok(b)
}

/// Where a track's data went: first byte, group table offset (from the first byte).
struct Written {
    start: u64,
    table_offset: u64,
}

/// Writes `disc` as an MDX at `out`.
pub fn write_mdx(
    disc: &Disc,
    out: &Path,
    options: &WriteOptions,
    progress: Progress,
) -> Result<()> {
    check_medium(disc, "MDX")?;
    let io = |source| MdsError::Io {
        path: out.to_path_buf(),
        source,
    };
    let plans = plan::plan(disc);
    let compress = !options.uncompressed;
    let data_key = match &options.password {
        Some(pw) if pw.is_empty() => {
            return Err(MdsError::Unrepresentable(
                "an empty password encrypts nothing".into(),
            ));
        }
        Some(_) => Some(random::<256>()?),
        None => None,
    };
    let cipher = data_key.as_ref().map(crypto::track_cipher);
    let mut w = BufWriter::with_capacity(4 << 20, File::create(out).map_err(io)?);
    w.write_all(&[0u8; 0x40]).map_err(io)?;
    let total: u64 = plans
        .iter()
        .map(|p| p.stored_sectors() * p.stride() as u64)
        .sum();
    let mut done = 0u64;
    let mut pos = 0x40u64;
    let mut written = Vec::new();
    progress(0, total);
    for p in &plans {
        let start = pos;
        let table_offset = if compress {
            let table = write_groups(
                disc,
                p,
                options,
                cipher.as_ref(),
                &mut w,
                &mut pos,
                &mut done,
                total,
                progress,
            )?;
            let table_offset = pos - start;
            let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
            for g in &table {
                z.write_all(&g.entry().to_le_bytes()).map_err(io)?;
            }
            let z = z.finish().map_err(io)?;
            w.write_all(&z).map_err(io)?;
            pos += z.len() as u64;
            table_offset
        } else {
            write_plain(
                disc,
                p,
                options,
                cipher.as_ref(),
                &mut w,
                &mut pos,
                &mut done,
                total,
                progress,
            )?;
            0
        };
        written.push(Written {
            start,
            table_offset,
        });
    }
    let desc = descriptor(
        disc,
        &plans,
        &written,
        compress,
        options.password.as_deref(),
        data_key.as_ref(),
    )?;
    // Compress and encrypt the descriptor under a random key; seal the key.
    let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
    z.write_all(&desc[PREFIX..]).map_err(io)?;
    let mut enc = z.finish().map_err(io)?;
    let keys = HeaderKeys {
        key_data: random::<256>()?,
        compressed_size: enc.len() as u32,
        decompressed_size: (desc.len() - PREFIX) as u32,
    };
    enc.resize(enc.len().div_ceil(16) * 16, 0);
    crypto::encrypt_descriptor(&keys.key_data, &mut enc);
    let salt = random::<64>()?;
    let header = crypto::seal_header(
        &keys,
        &crypto::salt_password(&salt),
        &salt,
        HeaderCipher::CbcWhitened,
    );
    let footer_off = pos;
    w.write_all(&enc).map_err(io)?;
    w.write_all(&header).map_err(io)?;
    let mut head = [0u8; 0x40];
    head[..16].copy_from_slice(crate::SIGNATURE);
    head[16] = 2;
    head[17] = 1;
    head[18..44].copy_from_slice(COPYRIGHT);
    head.put_u32(0x2C, MDX_MARKER);
    head.put_u64(0x30, footer_off);
    head.put_u64(0x38, enc.len() as u64 + 64);
    w.seek(SeekFrom::Start(0)).map_err(io)?;
    w.write_all(&head).map_err(io)?;
    w.flush().map_err(io)?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn write_plain(
    disc: &Disc,
    p: &TrackPlan,
    options: &WriteOptions,
    cipher: Option<&Lrw>,
    w: &mut dyn Write,
    pos: &mut u64,
    done: &mut u64,
    total: u64,
    progress: Progress,
) -> Result<()> {
    let stride = p.stride();
    plan::for_each_batch(disc, p, options, |first, buf| {
        if let Some(c) = cipher {
            for (i, s) in buf.chunks_exact_mut(stride).enumerate() {
                c.encrypt(s, first_tweak(first + i as u64, stride));
            }
        }
        w.write_all(buf).map_err(plan::write_err)?;
        *pos += buf.len() as u64;
        *done += buf.len() as u64;
        progress(*done, total);
        Ok(())
    })
}

/// Compresses one group: (kind, stored bytes).
fn pack_group(data: &[u8]) -> (Group, Vec<u8>) {
    if data.iter().all(|&b| b == data[0]) {
        return (Group::Fill(data[0]), Vec::new());
    }
    let mut e = DeflateEncoder::new(Vec::with_capacity(data.len() / 2), Compression::default());
    e.write_all(data).expect("in-memory deflate");
    let z = e.finish().expect("in-memory deflate");
    if z.len() < 0x8000 && z.len() < data.len() {
        (Group::Deflate(z.len() as u16), z)
    } else {
        (Group::Raw, data.to_vec())
    }
}

#[allow(clippy::too_many_arguments)]
fn write_groups(
    disc: &Disc,
    p: &TrackPlan,
    options: &WriteOptions,
    cipher: Option<&Lrw>,
    w: &mut dyn Write,
    pos: &mut u64,
    done: &mut u64,
    total: u64,
    progress: Progress,
) -> Result<Vec<Group>> {
    let stride = p.stride();
    let sectors = p.stored_sectors();
    let groups = sectors.div_ceil(GROUP_SECTORS as u64);
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut table = Vec::with_capacity(groups as usize);
    let mut buf = Vec::new();
    let mut g = 0u64;
    while g < groups {
        options.check_cancel()?;
        let batch = (groups - g).min(BATCH_GROUPS as u64);
        let first = g * GROUP_SECTORS as u64;
        let n = (sectors - first).min(batch * GROUP_SECTORS as u64);
        buf.resize(n as usize * stride, 0);
        plan::read_stored(disc, p, first, &mut buf)?;
        let chunks: Vec<&[u8]> = buf.chunks(GROUP_SECTORS as usize * stride).collect();
        let per = chunks.len().div_ceil(workers).max(1);
        let mut packed: Vec<(Group, Vec<u8>)> = std::thread::scope(|s| {
            let handles: Vec<_> = chunks
                .chunks(per)
                .map(|part| s.spawn(move || part.iter().map(|c| pack_group(c)).collect::<Vec<_>>()))
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("compression worker"))
                .collect()
        });
        for (i, (kind, bytes)) in packed.iter_mut().enumerate() {
            if let (Some(c), false) = (cipher, matches!(kind, Group::Fill(_))) {
                c.encrypt(
                    bytes,
                    first_tweak((g + i as u64) * GROUP_SECTORS as u64, stride),
                );
            }
            w.write_all(bytes).map_err(plan::write_err)?;
            *pos += bytes.len() as u64;
            table.push(*kind);
        }
        *done += buf.len() as u64;
        progress(*done, total);
        g += batch;
    }
    Ok(table)
}

/// The plain descriptor (with its 18-byte prefix).
fn descriptor(
    disc: &Disc,
    plans: &[TrackPlan],
    written: &[Written],
    compress: bool,
    password: Option<&str>,
    data_key: Option<&[u8; 256]>,
) -> Result<Vec<u8>> {
    let dvd = !disc.medium.is_cd();
    let nsessions = disc.sessions.len();
    let per_session: Vec<(Vec<TocEntry>, Vec<TocEntry>)> = disc
        .sessions
        .iter()
        .map(|s| lead_in_entries(disc, s.number))
        .collect();
    let sessions_off = 0x60usize;
    let mut blocks_off = sessions_off + 32 * nsessions;
    let total_blocks: usize = per_session
        .iter()
        .map(|(a, b)| a.len() + b.len())
        .sum::<usize>()
        + plans.len();
    let extra_off = blocks_off + 80 * total_blocks;
    let footers_off = extra_off + if dvd { 0 } else { 8 * plans.len() };
    let mut at = footers_off + 32 * plans.len();
    let mut d = vec![0u8; at];
    d[..16].copy_from_slice(crate::SIGNATURE);
    d[16] = 2;
    d[17] = 1;
    d.put_u16(0x12, if dvd { 3 } else { 0 });
    d.put_u16(0x14, nsessions as u16);
    d.put_u16(0x16, 2);
    d.put_u32(0x50, sessions_off as u32);
    let mut pi = 0;
    for (si, s) in disc.sessions.iter().enumerate() {
        let (pre, post) = &per_session[si];
        let ntracks = s.tracks.len();
        let sb = sessions_off + 32 * si;
        d.put_u64(sb, s.tracks[0].start.0 as i64 as u64);
        d.put_u16(sb + 8, s.number as u16);
        d[sb + 10] = (pre.len() + ntracks + post.len()) as u8;
        d[sb + 11] = (pre.len() + post.len()) as u8;
        d.put_u16(sb + 12, s.tracks[0].number as u16);
        d.put_u16(sb + 14, s.tracks[ntracks - 1].number as u16);
        d.put_u32(sb + 0x14, blocks_off as u32);
        d.put_u64(sb + 0x18, s.leadout.0 as i64 as u64);
        for e in pre {
            d[blocks_off..blocks_off + 80].copy_from_slice(&toc_block(e));
            blocks_off += 80;
        }
        for _ in 0..ntracks {
            let p = &plans[pi];
            let mut b = toc_block(&track_entry(disc, p));
            let (mode, sub) = v2_codes(&p.format);
            b[0] = mode;
            b[1] = sub;
            debug_assert!(layout::v2(mode, sub, p.stride() as u16, dvd).is_ok());
            let length = p.end.since(p.index1) as u32;
            let extra = extra_off + 8 * pi;
            if !dvd {
                b.put_u32(0x0C, extra as u32);
                d.put_u32(extra, p.pregap);
                d.put_u32(extra + 4, length);
            }
            b.put_u16(0x10, p.stride() as u16);
            b.put_u32(0x24, p.index1.0 as u32);
            b.put_u64(0x28, written[pi].start);
            b.put_u32(0x30, 1);
            let f = footers_off + 32 * pi;
            b.put_u32(0x34, f as u32);
            b.put_u64(0x38, p.first_stored.0 as i64 as u64);
            b.put_u64(0x40, if dvd { length as u64 } else { 0 });
            d[blocks_off..blocks_off + 80].copy_from_slice(&b);
            blocks_off += 80;
            d[f + 4] = compress as u8;
            d.put_u32(f + 0x0C, if compress { GROUP_SECTORS } else { 0 });
            d.put_u64(f + 0x10, p.stored_sectors());
            d.put_u64(f + 0x18, written[pi].table_offset);
            pi += 1;
        }
        for e in post {
            d[blocks_off..blocks_off + 80].copy_from_slice(&toc_block(e));
            blocks_off += 80;
        }
    }
    append_tail(disc, &mut d, &mut at)?;
    if let (Some(pw), Some(key)) = (password, data_key) {
        let salt = random::<64>()?;
        let keys = HeaderKeys {
            key_data: *key,
            compressed_size: 0,
            decompressed_size: 0,
        };
        let off = d.len() as u32;
        d.put_u32(0x58, off);
        d.extend_from_slice(&crypto::seal_header(
            &keys,
            pw.as_bytes(),
            &salt,
            HeaderCipher::Lrw,
        ));
    }
    Ok(d)
}
