//! Reading sectors from a [`Disc`] in the format a consumer asks for.
//!
//! Reads go extent run by extent run: the stored bytes of up to [`CHUNK_SECTORS`] sectors are
//! fetched with one positioned read, then each sector is turned into the requested format
//! (user data, raw 2352, plus subchannel). When the stored layout already is the requested
//! one, bytes go straight into the caller's buffer.

use crate::addr::Lba;
use crate::error::{DiscError, Result};
use crate::extent::{ExtentData, MainLayout, SubLayout};
use crate::model::{Disc, Session, Track, TrackMode};
use crate::sector::{RawSector, build_raw, effective_mode};
use crate::subchannel;
use std::cell::RefCell;

/// Sectors fetched per positioned read.
pub const CHUNK_SECTORS: u32 = 448;

/// What to return of a sector's main channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MainFormat {
    /// Nothing (subchannel only).
    None,
    /// The user data of the sector's mode: 2048 (Mode 1, Form 1), 2324 (Form 2), 2336
    /// (formless), 2352 (audio). Mixed XA tracks give 2048 or 2324 per sector.
    User,
    /// Exactly 2048 bytes per sector: Form 2 sectors are cut to their first 2048 bytes.
    /// What block views (ISO, NBD, filesystems) read. Audio is refused.
    User2048,
    /// The whole 2352-byte sector.
    Raw,
}

/// What to return of a sector's subchannel, after the main channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubFormat {
    /// No subchannel.
    None,
    /// 16 bytes: the Q channel (12 bytes, CRC included) and 4 zero bytes.
    Q16,
    /// 96 bytes of P-W, interleaved (READ CD raw).
    Pw96,
}

impl SubFormat {
    /// Bytes of subchannel per sector (0, 16 or 96).
    pub fn size(self) -> usize {
        match self {
            SubFormat::None => 0,
            SubFormat::Q16 => 16,
            SubFormat::Pw96 => 96,
        }
    }
}

/// The format a consumer reads sectors in: what of the main channel, then what of the
/// subchannel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SectorFormat {
    /// What of the main channel.
    pub main: MainFormat,
    /// What of the subchannel, after the main channel.
    pub sub: SubFormat,
}

impl SectorFormat {
    /// The user data of each sector's mode, no subchannel.
    pub const USER: SectorFormat = SectorFormat {
        main: MainFormat::User,
        sub: SubFormat::None,
    };
    /// Exactly 2048 bytes of user data per sector, no subchannel (block views).
    pub const USER_2048: SectorFormat = SectorFormat {
        main: MainFormat::User2048,
        sub: SubFormat::None,
    };
    /// Whole 2352-byte sectors, no subchannel.
    pub const RAW: SectorFormat = SectorFormat {
        main: MainFormat::Raw,
        sub: SubFormat::None,
    };
    /// Whole 2352-byte sectors, each followed by 96 bytes of interleaved P-W subchannel (2448).
    pub const RAW_PW96: SectorFormat = SectorFormat {
        main: MainFormat::Raw,
        sub: SubFormat::Pw96,
    };
    /// Whole 2352-byte sectors, each followed by 16 bytes of Q subchannel (2368).
    pub const RAW_Q16: SectorFormat = SectorFormat {
        main: MainFormat::Raw,
        sub: SubFormat::Q16,
    };

    /// Bytes per sector for a track of `mode` (for mixed XA with `User`, the largest: 2324).
    pub fn max_size(self, mode: TrackMode) -> usize {
        let main = match self.main {
            MainFormat::None => 0,
            MainFormat::User if mode == TrackMode::Mode2Mixed => 2324,
            MainFormat::User => mode.user_size(),
            MainFormat::User2048 => 2048,
            MainFormat::Raw => 2352,
        };
        main + self.sub.size()
    }
}

thread_local! {
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static SUB_SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl Disc {
    /// Reads `count` sectors from `lba` into `buf` and returns the bytes written. All
    /// sectors must be on the disc (gaps between sessions are not). `buf` must hold
    /// `count * format.max_size(mode)` bytes.
    pub fn read_sectors(
        &self,
        lba: Lba,
        count: u32,
        format: SectorFormat,
        buf: &mut [u8],
    ) -> Result<usize> {
        if !self.medium.is_cd() && (format.main == MainFormat::Raw || format.sub != SubFormat::None)
        {
            return Err(DiscError::NotCd {
                medium: self.medium.name(),
            });
        }
        let mut written = 0;
        let mut done = 0u32;
        while done < count {
            let at = lba.offset(done as i64);
            let (session, track) = self.locate(at).ok_or(DiscError::OutOfRange { lba: at })?;
            if track.mode.is_audio() && format.main == MainFormat::User2048 {
                return Err(DiscError::NotData {
                    track: track.number,
                });
            }
            let mut ext_start = track.start;
            let mut found = None;
            for e in &track.extents {
                let end = ext_start.offset(e.sectors as i64);
                if at < end {
                    found = Some((e, ext_start));
                    break;
                }
                ext_start = end;
            }
            let (extent, ext_start) = found.ok_or_else(|| {
                DiscError::Invalid(format!(
                    "track {} extents end before sector {at}",
                    track.number
                ))
            })?;
            let in_extent = at.since(ext_start) as u64;
            let n = (count - done)
                .min((extent.sectors as u64 - in_extent) as u32)
                .min(CHUNK_SECTORS);
            let out = &mut buf[written..];
            written += match &extent.data {
                ExtentData::Zero => synth_run(self, session, track, at, n, format, None, out)?,
                ExtentData::Stored(s) => {
                    let stride = s.stride(track.mode);
                    let file_off = s.offset + in_extent * stride as u64;
                    let len = n as usize * stride;
                    let direct = s.sub == SubLayout::None
                        && format.sub == SubFormat::None
                        && !s.scrambled
                        && stored_is_requested(&s.main, track.mode, format.main);
                    if direct {
                        need(out, len)?;
                        s.file
                            .read_exact_at(&mut out[..len], file_off)
                            .map_err(|e| io_err(s.file.path(), file_off, len, e))?;
                        len
                    } else {
                        SCRATCH.with(|cell| -> Result<usize> {
                            let mut scratch = cell.borrow_mut();
                            scratch.resize(len, 0);
                            s.file
                                .read_exact_at(&mut scratch[..len], file_off)
                                .map_err(|e| io_err(s.file.path(), file_off, len, e))?;
                            let sub = match &s.sub_stream {
                                Some(ss)
                                    if s.sub == SubLayout::None
                                        && format.sub != SubFormat::None =>
                                {
                                    let rec = ss.layout.size() as u64;
                                    let off = ss.offset + in_extent * rec;
                                    let mut v =
                                        SUB_SCRATCH.with(|c| std::mem::take(&mut *c.borrow_mut()));
                                    v.resize(n as usize * rec as usize, 0);
                                    ss.file
                                        .read_exact_at(&mut v, off)
                                        .map_err(|e| io_err(ss.file.path(), off, v.len(), e))?;
                                    Some((v, ss.layout))
                                }
                                _ => None,
                            };
                            let src = StoredRun {
                                bytes: &scratch,
                                stride,
                                main: s.main,
                                sub: s.sub,
                                scrambled: s.scrambled,
                                sub_stream: sub.as_ref().map(|(v, l)| (&v[..], *l)),
                            };
                            let r = synth_run(self, session, track, at, n, format, Some(&src), out);
                            if let Some((v, _)) = sub {
                                SUB_SCRATCH.with(|c| *c.borrow_mut() = v);
                            }
                            r
                        })?
                    }
                }
                ExtentData::Custom(c) => {
                    let (main, sub) = (c.main_layout(), c.sub_layout());
                    let stride = main.size(track.mode) + sub.size();
                    let len = n as usize * stride;
                    SCRATCH.with(|cell| -> Result<usize> {
                        let mut scratch = cell.borrow_mut();
                        scratch.resize(len, 0);
                        c.read_sectors(in_extent, n, &mut scratch[..len])
                            .map_err(|e| DiscError::Decode {
                                what: c.describe(),
                                source: e,
                            })?;
                        let src = StoredRun {
                            bytes: &scratch,
                            stride,
                            main,
                            sub,
                            scrambled: false,
                            sub_stream: None,
                        };
                        synth_run(self, session, track, at, n, format, Some(&src), out)
                    })?
                }
            };
            done += n;
        }
        Ok(written)
    }

    /// Reads one sector; returns the bytes written.
    pub fn read_sector(&self, lba: Lba, format: SectorFormat, buf: &mut [u8]) -> Result<usize> {
        self.read_sectors(lba, 1, format, buf)
    }
}

fn io_err(path: &std::path::Path, offset: u64, len: usize, source: std::io::Error) -> DiscError {
    DiscError::Io {
        path: path.to_path_buf(),
        offset,
        len,
        source,
    }
}

fn need(out: &[u8], n: usize) -> Result<()> {
    if out.len() < n {
        Err(DiscError::BufferTooSmall {
            need: n,
            got: out.len(),
        })
    } else {
        Ok(())
    }
}

/// True when the stored main channel is byte for byte what `want` asks for.
fn stored_is_requested(main: &MainLayout, mode: TrackMode, want: MainFormat) -> bool {
    match want {
        MainFormat::Raw => main.is_raw() && !main.audio_big_endian,
        MainFormat::User => mode != TrackMode::Mode2Mixed && *main == MainLayout::USER,
        MainFormat::User2048 => {
            *main == MainLayout::USER && mode.user_size() == 2048 && mode != TrackMode::Mode2Mixed
        }
        MainFormat::None => false,
    }
}

/// Stored bytes of a run of sectors.
struct StoredRun<'a> {
    bytes: &'a [u8],
    stride: usize,
    main: MainLayout,
    sub: SubLayout,
    scrambled: bool,
    /// Subchannel records from a separate stream, with their layout.
    sub_stream: Option<(&'a [u8], SubLayout)>,
}

/// Produces `n` sectors from `at` in `format`, from stored bytes or from nothing.
#[allow(clippy::too_many_arguments)]
fn synth_run(
    disc: &Disc,
    session: &Session,
    track: &Track,
    at: Lba,
    n: u32,
    format: SectorFormat,
    src: Option<&StoredRun>,
    out: &mut [u8],
) -> Result<usize> {
    let mode = track.mode;
    let mut pos = 0;
    let mut raw: RawSector = [0; 2352];
    for i in 0..n as usize {
        let lba = at.offset(i as i64);
        let stored = src.map(|s| &s.bytes[i * s.stride..(i + 1) * s.stride]);
        let main_layout = src.map(|s| s.main).unwrap_or(MainLayout::RAW);
        let main_len = main_layout.size(mode);
        // Fast path: user data copied straight from stored bytes that hold it.
        let user_direct = matches!(format.main, MainFormat::User | MainFormat::User2048)
            && mode.is_data()
            && !src.is_some_and(|s| s.scrambled)
            && stored.is_some()
            && main_layout.user
            && (mode != TrackMode::Mode2Mixed || main_layout.subheader);
        // Room for the smallest this sector can be (mixed XA user data varies by form);
        // the exact size is checked again once it is known.
        let least = if mode == TrackMode::Mode2Mixed && format.main == MainFormat::User {
            2048 + format.sub.size()
        } else {
            format.max_size(mode)
        };
        need(&out[pos..], least)?;
        let size = if user_direct {
            let s = stored.unwrap();
            let off = main_layout.user_offset(mode);
            let user = match format.main {
                MainFormat::User2048 => 2048,
                _ if mode == TrackMode::Mode2Mixed => {
                    let sh_at = off - 8;
                    if crate::sector::is_form2(&s[sh_at..sh_at + 8]) {
                        2324
                    } else {
                        2048
                    }
                }
                _ => mode.user_size(),
            };
            need(&out[pos..], user + format.sub.size())?;
            out[pos..pos + user].copy_from_slice(&s[off..off + user]);
            user
        } else if format.main == MainFormat::None {
            0
        } else if stored.is_none() && mode.is_data() && matches!(format.main, MainFormat::User2048)
        {
            // Unstored data sectors hold zeros: no need to build them.
            out[pos..pos + 2048].fill(0);
            2048
        } else {
            build_raw(
                &mut raw,
                lba,
                mode,
                &main_layout,
                stored.map(|s| &s[..main_len]),
            );
            if src.is_some_and(|s| s.scrambled) && mode.is_data() {
                crate::edc_ecc::scramble(&mut raw);
            }
            let (from, len) = match format.main {
                MainFormat::Raw => (0, 2352),
                MainFormat::User2048 => (if mode.has_subheader() { 24 } else { 16 }, 2048),
                _ => match effective_mode(&raw, mode) {
                    TrackMode::Audio => (0, 2352),
                    TrackMode::Mode1 => (16, 2048),
                    TrackMode::Mode2Form1 => (24, 2048),
                    TrackMode::Mode2Form2 => (24, 2324),
                    _ => (16, 2336),
                },
            };
            need(&out[pos..], len + format.sub.size())?;
            out[pos..pos + len].copy_from_slice(&raw[from..from + len]);
            len
        };
        pos += size;
        if format.sub != SubFormat::None {
            let dst = &mut out[pos..pos + format.sub.size()];
            let stored_sub = src.and_then(|s| {
                if s.sub != SubLayout::None {
                    Some((&s.bytes[i * s.stride + main_len..(i + 1) * s.stride], s.sub))
                } else {
                    s.sub_stream
                        .map(|(b, l)| (&b[i * l.size()..(i + 1) * l.size()], l))
                }
            });
            write_sub(disc, session, track, lba, stored_sub, format.sub, dst);
            pos += format.sub.size();
        }
    }
    Ok(pos)
}

/// Writes the requested subchannel from stored bytes, or synthesises it.
fn write_sub(
    disc: &Disc,
    session: &Session,
    track: &Track,
    lba: Lba,
    stored: Option<(&[u8], SubLayout)>,
    want: SubFormat,
    dst: &mut [u8],
) {
    let mut pw = [0u8; 96];
    let have_pw = match stored {
        Some((b, SubLayout::Pw96Interleaved)) => {
            pw.copy_from_slice(&b[..96]);
            true
        }
        Some((b, SubLayout::Pw96Linear)) => {
            subchannel::interleave(b, &mut pw);
            true
        }
        _ => false,
    };
    let q: [u8; 12] = match stored {
        Some((b, SubLayout::Q16)) => b[..12].try_into().unwrap(),
        _ if have_pw => subchannel::q_of_interleaved(&pw),
        _ => subchannel::q_for(disc, session, track, lba),
    };
    match want {
        SubFormat::None => {}
        SubFormat::Q16 => {
            dst[..12].copy_from_slice(&q);
            dst[12..16].fill(0);
        }
        SubFormat::Pw96 => {
            if have_pw {
                dst.copy_from_slice(&pw);
            } else {
                subchannel::interleave_pq(subchannel::p_for(track, lba), &q, dst);
            }
        }
    }
}
