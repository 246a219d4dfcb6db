//! A run of MDS v2/MDX track sectors that must be decoded: compressed in groups
//! ([`crate::groups`]), encrypted with AES-256 LRW ([`crate::crypto`]), or both.
//!
//! Encryption comes after compression (decrypt, then inflate). The unit of encryption is one
//! sector of uncompressed data, or one group's stored bytes; its first AES block takes the
//! tweak index `1 + first_sector × (S & !15) / 16`, and the `len % 16` trailing bytes of a
//! unit are left in clear (formats.md §1.7). Fill groups store nothing and are not encrypted.
//!
//! Random access: a group's stored bytes are found through the table's prefix sums; the
//! last few decoded groups are kept (several reader threads each get hits), so sequential
//! reads inflate every group once.

use crate::crypto::{Lrw, first_tweak};
use crate::groups::{Group, GroupTable, inflate_group};
use spindle_disc::{ByteSource, MainLayout, SectorSource, SubLayout};
use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Mutex};

/// Decoded groups kept per fragment.
const CACHE_GROUPS: usize = 8;

/// One stored run of an MDX track's sectors, decoded on read: decrypted with the track
/// data cipher and inflated group by group when the image is compressed.
pub struct MdxFragment {
    /// The file holding the run.
    pub file: Arc<dyn ByteSource>,
    /// Offset of the fragment's first stored byte.
    pub start: u64,
    /// What each stored sector's main channel holds.
    pub main: MainLayout,
    /// What its subchannel holds.
    pub sub: SubLayout,
    /// Bytes per stored sector (main plus subchannel).
    pub stride: usize,
    /// Sectors in the run.
    pub sectors: u64,
    /// The track data cipher, when the image is encrypted.
    pub cipher: Option<Arc<Lrw>>,
    /// The group table, when the run is compressed.
    pub table: Option<GroupTable>,
    cache: Mutex<VecDeque<(u64, Arc<Vec<u8>>)>>,
}

impl MdxFragment {
    /// A fragment with an empty cache of decoded groups.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        file: Arc<dyn ByteSource>,
        start: u64,
        main: MainLayout,
        sub: SubLayout,
        stride: usize,
        sectors: u64,
        cipher: Option<Arc<Lrw>>,
        table: Option<GroupTable>,
    ) -> MdxFragment {
        MdxFragment {
            file,
            start,
            main,
            sub,
            stride,
            sectors,
            cipher,
            table,
            cache: Mutex::new(VecDeque::new()),
        }
    }

    fn bad(&self, what: String) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {what}", self.file.path().display()),
        )
    }

    /// Decodes group `g` of a compressed fragment.
    fn group(&self, t: &GroupTable, g: u64) -> io::Result<Arc<Vec<u8>>> {
        if let Some((_, v)) = self.cache.lock().unwrap().iter().find(|(i, _)| *i == g) {
            return Ok(v.clone());
        }
        let len = t.group_len(g) as usize;
        let first_sector = g * t.group_sectors as u64;
        let at = self.start + t.offsets[g as usize];
        let out = match t.groups[g as usize] {
            Group::Fill(v) => vec![v; len],
            Group::Raw => {
                let mut out = vec![0u8; len];
                self.file.read_exact_at(&mut out, at)?;
                if let Some(c) = &self.cipher {
                    c.decrypt(&mut out, first_tweak(first_sector, self.stride));
                }
                out
            }
            Group::Deflate(n) => {
                let mut stored = vec![0u8; n as usize];
                self.file.read_exact_at(&mut stored, at)?;
                if let Some(c) = &self.cipher {
                    c.decrypt(&mut stored, first_tweak(first_sector, self.stride));
                }
                let mut out = vec![0u8; len];
                inflate_group(&stored, &mut out)
                    .map_err(|e| self.bad(format!("group {g} at offset {at}: {e}")))?;
                out
            }
        };
        let out = Arc::new(out);
        let mut cache = self.cache.lock().unwrap();
        if cache.len() == CACHE_GROUPS {
            cache.pop_front();
        }
        cache.push_back((g, out.clone()));
        Ok(out)
    }
}

impl SectorSource for MdxFragment {
    fn main_layout(&self) -> MainLayout {
        self.main
    }
    fn sub_layout(&self) -> SubLayout {
        self.sub
    }
    fn read_sectors(&self, first: u64, count: u32, buf: &mut [u8]) -> io::Result<()> {
        let s = self.stride;
        if first + count as u64 > self.sectors || buf.len() < count as usize * s {
            return Err(self.bad(format!(
                "sectors {first}+{count} outside a fragment of {}",
                self.sectors
            )));
        }
        let buf = &mut buf[..count as usize * s];
        match &self.table {
            None => {
                self.file
                    .read_exact_at(buf, self.start + first * s as u64)?;
                if let Some(c) = &self.cipher {
                    for (i, sector) in buf.chunks_exact_mut(s).enumerate() {
                        c.decrypt(sector, first_tweak(first + i as u64, s));
                    }
                }
            }
            Some(t) => {
                let g_sectors = t.group_sectors as u64;
                let mut sector = first;
                let mut done = 0usize;
                while done < buf.len() {
                    let g = sector / g_sectors;
                    let data = self.group(t, g)?;
                    let from = ((sector - g * g_sectors) as usize) * s;
                    let n = (data.len() - from).min(buf.len() - done);
                    buf[done..done + n].copy_from_slice(&data[from..from + n]);
                    done += n;
                    sector += (n / s) as u64;
                }
            }
        }
        Ok(())
    }
    fn describe(&self) -> String {
        let what = match (&self.table, &self.cipher) {
            (Some(_), Some(_)) => "compressed and encrypted",
            (Some(_), None) => "compressed",
            (None, _) => "encrypted",
        };
        format!(
            "{} ({what} track data at offset {})",
            self.file.path().display(),
            self.start
        )
    }
}
