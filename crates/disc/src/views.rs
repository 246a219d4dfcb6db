//! Byte-addressed views over a disc that frontends share: the user-data block view of a data
//! track (what ISO files, NBD exports, the USB writer and filesystem readers read), the raw
//! sector view, and per-track audio. Views own an `Arc<Disc>` so they can move to threads.

use crate::addr::Lba;
use crate::error::{DiscError, Result};
use crate::model::{Disc, Track};
use crate::read::{CHUNK_SECTORS, MainFormat, SectorFormat, SubFormat};
use std::sync::Arc;

/// A run of sectors read in one fixed-size format, addressed by byte offset.
#[derive(Clone)]
pub struct SectorView {
    disc: Arc<Disc>,
    start: Lba,
    sectors: u32,
    format: SectorFormat,
    sector_size: usize,
    /// Sectors outside data tracks (audio, session gaps) read as zeros instead of failing.
    fill_gaps: bool,
}

impl SectorView {
    /// A view of `sectors` sectors from `start`. The format must have a fixed size
    /// (`User2048` or `Raw`, with any subchannel).
    pub fn new(
        disc: Arc<Disc>,
        start: Lba,
        sectors: u32,
        format: SectorFormat,
    ) -> Result<SectorView> {
        let sector_size = match format.main {
            MainFormat::User2048 => 2048,
            MainFormat::Raw => 2352,
            MainFormat::None => 0,
            MainFormat::User => {
                return Err(DiscError::Invalid(
                    "a byte view needs a fixed sector size (User2048 or Raw)".into(),
                ));
            }
        } + format.sub.size();
        if sector_size == 0 {
            return Err(DiscError::Invalid(
                "a byte view needs some data per sector".into(),
            ));
        }
        Ok(SectorView {
            disc,
            start,
            sectors,
            format,
            sector_size,
            fill_gaps: false,
        })
    }

    /// The user data of every data track addressed by disc LBA: byte `lba * 2048` is sector
    /// `lba`, from LBA 0 to the end of the last data track. Audio tracks and the gaps between
    /// sessions read as zeros. Filesystems use this view: ISO 9660 in a later session (CD-Extra,
    /// multisession discs) addresses its extents by absolute LBA.
    pub fn disc_user_data(disc: Arc<Disc>) -> Result<SectorView> {
        let end = disc
            .tracks()
            .filter(|t| t.mode.is_data())
            .map(|t| t.end())
            .max()
            .ok_or_else(|| DiscError::Invalid("the disc has no data track".into()))?;
        let sectors = end.0.max(0) as u32;
        let mut v = SectorView::new(disc, Lba(0), sectors, SectorFormat::USER_2048)?;
        v.fill_gaps = true;
        Ok(v)
    }

    /// The user data (2048-byte blocks) of a data track, from its index 1 to its end.
    pub fn user_data(disc: Arc<Disc>, track: u8) -> Result<SectorView> {
        let t = find_track(&disc, track)?;
        if t.mode.is_audio() {
            return Err(DiscError::NotData { track });
        }
        let (start, len) = (t.index1(), t.program_length());
        SectorView::new(disc, start, len, SectorFormat::USER_2048)
    }

    /// The user-data view of the disc's first data track.
    pub fn first_data_track(disc: Arc<Disc>) -> Result<SectorView> {
        let n = disc
            .first_data_track()
            .map(|t| t.number)
            .ok_or_else(|| DiscError::Invalid("the disc has no data track".into()))?;
        SectorView::user_data(disc, n)
    }

    /// Raw 2352-byte sectors (plus `sub`) of a whole track, pregap included.
    pub fn raw_track(disc: Arc<Disc>, track: u8, sub: SubFormat) -> Result<SectorView> {
        let t = find_track(&disc, track)?;
        let (start, len) = (t.start, t.length);
        SectorView::new(
            disc,
            start,
            len,
            SectorFormat {
                main: MainFormat::Raw,
                sub,
            },
        )
    }

    /// The samples of an audio track from index 1 to its end (2352 bytes per sector,
    /// 16-bit little-endian stereo at 44.1 kHz).
    pub fn audio(disc: Arc<Disc>, track: u8) -> Result<SectorView> {
        let t = find_track(&disc, track)?;
        if !t.mode.is_audio() {
            return Err(DiscError::Invalid(format!(
                "track {track} is not an audio track"
            )));
        }
        let (start, len) = (t.index1(), t.program_length());
        SectorView::new(disc, start, len, SectorFormat::RAW)
    }

    /// The disc this view reads.
    pub fn disc(&self) -> &Arc<Disc> {
        &self.disc
    }
    /// The view's first sector.
    pub fn start(&self) -> Lba {
        self.start
    }
    /// Number of sectors in the view.
    pub fn sectors(&self) -> u32 {
        self.sectors
    }
    /// Bytes per sector in the view's [`format`](SectorView::format) (2048, 2352, 2368 or 2448...).
    pub fn sector_size(&self) -> usize {
        self.sector_size
    }
    /// The sector format every sector is read in.
    pub fn format(&self) -> SectorFormat {
        self.format
    }
    /// Sectors outside data tracks read as zeros (the whole-disc user-data view).
    pub(crate) fn fills_gaps(&self) -> bool {
        self.fill_gaps
    }
    /// Length in bytes.
    pub fn len(&self) -> u64 {
        self.sectors as u64 * self.sector_size as u64
    }
    /// True when the view has no sectors.
    pub fn is_empty(&self) -> bool {
        self.sectors == 0
    }

    /// Reads at a byte offset; returns the bytes read (short only at the end of the view).
    /// Callers use [`ByteSource::read_at`](spindle_bytes::ByteSource::read_at).
    pub(crate) fn read_bytes(&self, buf: &mut [u8], offset: u64) -> Result<usize> {
        let len = self.len();
        if offset >= len || buf.is_empty() {
            return Ok(0);
        }
        let want = buf.len().min((len - offset) as usize);
        let ss = self.sector_size as u64;
        let mut pos = 0usize;
        let mut bounce: Vec<u8> = Vec::new();
        while pos < want {
            let off = offset + pos as u64;
            let sector = (off / ss) as u32;
            let within = (off % ss) as usize;
            let lba = self.start.offset(sector as i64);
            let left = want - pos;
            if within == 0 && left >= self.sector_size {
                // Whole sectors straight into the caller's buffer.
                let n = ((left / self.sector_size) as u32).min(CHUNK_SECTORS * 4);
                let bytes = n as usize * self.sector_size;
                self.read_run(lba, n, &mut buf[pos..pos + bytes])?;
                pos += bytes;
            } else {
                bounce.resize(self.sector_size, 0);
                self.read_run(lba, 1, &mut bounce)?;
                let take = (self.sector_size - within).min(left);
                buf[pos..pos + take].copy_from_slice(&bounce[within..within + take]);
                pos += take;
            }
        }
        Ok(want)
    }
}

impl SectorView {
    /// Reads whole sectors; with `fill_gaps`, sectors outside data tracks are zeros.
    fn read_run(&self, lba: Lba, n: u32, buf: &mut [u8]) -> Result<()> {
        if !self.fill_gaps {
            self.disc.read_sectors(lba, n, self.format, buf)?;
            return Ok(());
        }
        let ss = self.sector_size;
        let mut done = 0u32;
        while done < n {
            let at = lba.offset(done as i64);
            let left = n - done;
            let out = &mut buf[done as usize * ss..];
            let run = match self.disc.locate(at) {
                Some((_, t)) if t.mode.is_data() => {
                    let m = left.min(t.end().since(at) as u32);
                    self.disc
                        .read_sectors(at, m, self.format, &mut out[..m as usize * ss])?;
                    m
                }
                found => {
                    // Zeros up to the end of this audio track, or to the next track.
                    let next = match found {
                        Some((_, t)) => t.end(),
                        None => self
                            .disc
                            .tracks()
                            .map(|t| t.start)
                            .filter(|&s| s > at)
                            .min()
                            .unwrap_or(at.offset(left as i64)),
                    };
                    let m = left.min(next.since(at).max(1) as u32);
                    out[..m as usize * ss].fill(0);
                    m
                }
            };
            done += run;
        }
        Ok(())
    }
}

fn find_track(disc: &Disc, track: u8) -> Result<&Track> {
    disc.track(track)
        .ok_or_else(|| DiscError::Invalid(format!("the disc has no track {track}")))
}

/// A 44-byte RIFF/WAVE header for `data_len` bytes of CD audio (16-bit stereo, 44.1 kHz).
pub fn wav_header(data_len: u32) -> [u8; 44] {
    let mut h = [0u8; 44];
    h[0..4].copy_from_slice(b"RIFF");
    h[4..8].copy_from_slice(&(36u32.wrapping_add(data_len)).to_le_bytes());
    h[8..16].copy_from_slice(b"WAVEfmt ");
    h[16..20].copy_from_slice(&16u32.to_le_bytes());
    h[20..22].copy_from_slice(&1u16.to_le_bytes()); // PCM
    h[22..24].copy_from_slice(&2u16.to_le_bytes()); // channels
    h[24..28].copy_from_slice(&44_100u32.to_le_bytes());
    h[28..32].copy_from_slice(&(44_100u32 * 4).to_le_bytes());
    h[32..34].copy_from_slice(&4u16.to_le_bytes());
    h[34..36].copy_from_slice(&16u16.to_le_bytes());
    h[36..40].copy_from_slice(b"data");
    h[40..44].copy_from_slice(&data_len.to_le_bytes());
    h
}
