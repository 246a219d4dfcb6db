//! Where a run of sectors lives: nowhere (synthesised zeros), in a byte range of a file with
//! a given sector layout, or in a custom decoder.

use crate::model::TrackMode;
use std::fmt;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use spindle_bytes::ByteSource;

/// Whether [`FileSource::open`] also opens each file for direct reads (see
/// [`prefer_direct_reads`]).
static DIRECT_READS: AtomicBool = AtomicBool::new(false);

/// What a direct read needs: the buffer's address, the offset and the length multiples of
/// this (the 512-byte logical block of most disks and files; a device with larger blocks
/// refuses with EINVAL and the source reads through the page cache from then on).
const DIRECT_ALIGN: usize = 512;
/// The buffer's address: a page, which the TCMU ring's data area always is.
const DIRECT_MEM_ALIGN: usize = 4096;

/// Makes every [`FileSource`] opened from now on read aligned runs with `O_DIRECT`, past the
/// page cache, falling back to ordinary reads for anything unaligned or refused. For a
/// process whose reads land in memory the kernel caches itself (the daemon's emulated drives:
/// the kernel keeps what `/dev/srN` read in that device's page cache), so the image's bytes
/// are not cached a second time and not copied by the CPU once more (docs/tcmu.md "Speed").
pub fn prefer_direct_reads(on: bool) {
    DIRECT_READS.store(on, Ordering::Relaxed);
}

/// A second descriptor of the open `file` for direct reads, when wanted and possible: opened
/// again through `/proc/self/fd`, so it is the same file even if its name changed since.
fn open_direct(file: &File) -> Option<File> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    if !DIRECT_READS.load(Ordering::Relaxed) {
        return None;
    }
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECT | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(format!("/proc/self/fd/{}", file.as_raw_fd()))
        .ok()
}

/// A plain file read with positioned reads (`pread`), shareable between threads. The whole
/// file backs it byte for byte ([`ByteSource::backing`]).
pub struct FileSource {
    file: File,
    len: u64,
    path: PathBuf,
    /// The same file opened with `O_DIRECT` ([`prefer_direct_reads`]).
    direct: Option<File>,
    /// Set when the kernel refused a direct read (EINVAL: alignment or file system).
    direct_refused: AtomicBool,
}

impl FileSource {
    /// Opens a regular file or block device; anything else (a FIFO, `/dev/zero`, a
    /// directory) is a [`crate::open::NotAFile`] error (see [`crate::open`]).
    pub fn open(path: &Path) -> io::Result<FileSource> {
        let (file, len) = crate::open::open_image_file(path)?;
        Ok(FileSource {
            direct: open_direct(&file),
            file,
            len,
            path: path.to_path_buf(),
            direct_refused: AtomicBool::new(false),
        })
    }

    /// An already-open file whose first `len` bytes this source reads, named `path` in
    /// errors: the very file someone opened and checked before, not the name opened again.
    pub fn from_file(file: File, len: u64, path: &Path) -> FileSource {
        FileSource {
            direct: open_direct(&file),
            file,
            len,
            path: path.to_path_buf(),
            direct_refused: AtomicBool::new(false),
        }
    }

    /// Whether aligned reads go past the page cache: opened with [`prefer_direct_reads`], and
    /// the kernel took `O_DIRECT` for this file so far.
    pub fn reads_directly(&self) -> bool {
        self.direct.is_some() && !self.direct_refused.load(Ordering::Relaxed)
    }

    /// One direct read of all of `buf` at `offset`, when the source has a direct descriptor
    /// and everything is aligned: how many bytes it read (0: none, read normally).
    fn read_direct(&self, buf: &mut [u8], offset: u64) -> usize {
        let Some(d) = &self.direct else { return 0 };
        if self.direct_refused.load(Ordering::Relaxed)
            || !(buf.as_ptr() as usize).is_multiple_of(DIRECT_MEM_ALIGN)
            || !buf.len().is_multiple_of(DIRECT_ALIGN)
            || !offset.is_multiple_of(DIRECT_ALIGN as u64)
        {
            return 0;
        }
        match FileExt::read_at(d, buf, offset) {
            Ok(n) => n,
            Err(e) => {
                if e.raw_os_error() == Some(libc::EINVAL) {
                    self.direct_refused.store(true, Ordering::Relaxed);
                }
                // Anything else (a buffer the kernel cannot pin, an I/O error) is tried
                // again through the page cache, which reports a real error itself.
                0
            }
        }
    }

    /// The open file.
    pub fn file(&self) -> &File {
        &self.file
    }
}

impl ByteSource for FileSource {
    fn len(&self) -> u64 {
        self.len
    }
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        if offset >= self.len {
            return Ok(0);
        }
        let want = buf
            .len()
            .min((self.len - offset).min(usize::MAX as u64) as usize);
        // Direct when possible; what it left (a short read at the end) reads normally.
        let mut done = self.read_direct(&mut buf[..want], offset).min(want);
        while done < want {
            match FileExt::read_at(&self.file, &mut buf[done..want], offset + done as u64) {
                // The file shrank under us: what is left reads short, as at the end.
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }
    fn path(&self) -> &Path {
        &self.path
    }
    fn backing(&self, offset: u64, len: u64) -> Option<spindle_bytes::Backing<'_>> {
        (offset < self.len && len > 0).then(|| spindle_bytes::Backing {
            file: &self.file,
            offset,
            len: len.min(self.len - offset),
        })
    }
    /// The file, even when empty (no range of it backs anything then).
    fn plain_file(&self) -> Option<&File> {
        Some(&self.file)
    }
}

/// Which parts of a CD sector's main channel an image stored, in sector order.
///
/// Audio sectors are always 2352 bytes of samples; `audio_big_endian` says the samples are
/// byte-swapped (CUE `MOTOROLA`, CHD). For data sectors the stored size follows from the
/// fields and the track mode (see [`MainLayout::size`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MainLayout {
    /// The 12-byte sync pattern is stored.
    pub sync: bool,
    /// The 4-byte header (address and mode) is stored.
    pub header: bool,
    /// The 8-byte Mode 2 subheader is stored (ignored for Mode 1).
    pub subheader: bool,
    /// The user data (2048 bytes, or 2324/2336 for Mode 2 Form 2 and formless Mode 2) is stored.
    pub user: bool,
    /// The bytes after the user data are stored: EDC and ECC (288 bytes in Mode 1, its 8 zero
    /// bytes included; 280 in Form 1; the 4-byte EDC in Form 2).
    pub edc_ecc: bool,
    /// Audio samples are stored big-endian (byte-swapped relative to the Red Book order).
    pub audio_big_endian: bool,
}

impl MainLayout {
    /// Full 2352-byte raw sectors (audio samples in little-endian order).
    pub const RAW: MainLayout = MainLayout {
        sync: true,
        header: true,
        subheader: true,
        user: true,
        edc_ecc: true,
        audio_big_endian: false,
    };
    /// User data only: 2048 (Mode 1, Form 1), 2324 (Form 2) or 2336 (formless).
    pub const USER: MainLayout = MainLayout {
        sync: false,
        header: false,
        subheader: false,
        user: true,
        edc_ecc: false,
        audio_big_endian: false,
    };
    /// Mode 2 without sync and header: 2336 bytes (subheader, data, EDC/ECC).
    pub const MODE2_2336: MainLayout = MainLayout {
        sync: false,
        header: false,
        subheader: true,
        user: true,
        edc_ecc: true,
        audio_big_endian: false,
    };
    /// Raw audio with big-endian samples.
    pub const RAW_BIG_ENDIAN: MainLayout = MainLayout {
        audio_big_endian: true,
        ..MainLayout::RAW
    };

    /// Stored bytes per sector for a track of `mode`.
    pub fn size(&self, mode: TrackMode) -> usize {
        if mode.is_audio() {
            return 2352;
        }
        let fields = SectorFields::of(mode);
        let mut n = 0;
        if self.sync {
            n += 12;
        }
        if self.header {
            n += 4;
        }
        if self.subheader {
            n += fields.subheader;
        }
        if self.user {
            n += fields.user;
        }
        if self.edc_ecc {
            n += fields.tail;
        }
        n
    }

    /// True when the stored bytes are the whole 2352-byte sector.
    pub fn is_raw(&self) -> bool {
        self.sync && self.header && self.subheader && self.user && self.edc_ecc
    }

    /// Offset of the user data inside a stored sector of `mode`.
    pub fn user_offset(&self, mode: TrackMode) -> usize {
        if mode.is_audio() {
            return 0;
        }
        let f = SectorFields::of(mode);
        (if self.sync { 12 } else { 0 })
            + (if self.header { 4 } else { 0 })
            + (if self.subheader { f.subheader } else { 0 })
    }

    /// The layout a plain sector size denotes for `mode` (2048, 2324, 2336, 2352).
    pub fn from_sector_size(mode: TrackMode, size: usize) -> Option<MainLayout> {
        [MainLayout::RAW, MainLayout::USER, MainLayout::MODE2_2336]
            .into_iter()
            .find(|l| l.size(mode) == size && (mode.is_data() || size == 2352))
    }
}

/// Byte counts of the parts of a data sector after sync and header.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SectorFields {
    pub subheader: usize,
    pub user: usize,
    pub tail: usize,
}

impl SectorFields {
    pub fn of(mode: TrackMode) -> SectorFields {
        match mode {
            TrackMode::Audio => SectorFields {
                subheader: 0,
                user: 2352,
                tail: 0,
            },
            TrackMode::Mode0 | TrackMode::Mode2Formless => SectorFields {
                subheader: 0,
                user: 2336,
                tail: 0,
            },
            TrackMode::Mode1 => SectorFields {
                subheader: 0,
                user: 2048,
                tail: 288,
            },
            TrackMode::Mode2Form1 => SectorFields {
                subheader: 8,
                user: 2048,
                tail: 280,
            },
            TrackMode::Mode2Form2 => SectorFields {
                subheader: 8,
                user: 2324,
                tail: 4,
            },
            // Both forms take 2328 bytes after the subheader; the user/tail split is per sector.
            TrackMode::Mode2Mixed => SectorFields {
                subheader: 8,
                user: 2048,
                tail: 280,
            },
        }
    }
}

/// How subchannel data is stored with each sector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SubLayout {
    /// No subchannel stored.
    #[default]
    None,
    /// 16 bytes: the 12-byte Q channel and 4 bytes of padding.
    Q16,
    /// 96 bytes, P-W interleaved: byte i holds bit P..W of symbol i (READ CD "raw").
    Pw96Interleaved,
    /// 96 bytes, one channel after another: 12 bytes P, 12 Q, ... 12 W (CloneCD `.sub`).
    Pw96Linear,
}

impl SubLayout {
    /// Bytes of subchannel stored per sector (0, 16 or 96).
    pub fn size(self) -> usize {
        match self {
            SubLayout::None => 0,
            SubLayout::Q16 => 16,
            SubLayout::Pw96Interleaved | SubLayout::Pw96Linear => 96,
        }
    }
}

/// Subchannel kept in a file of its own (CloneCD `.sub`), one record per sector.
#[derive(Clone)]
pub struct SubStream {
    /// The file holding the records.
    pub file: Arc<dyn ByteSource>,
    /// Offset of the first sector's record.
    pub offset: u64,
    /// How each record is laid out.
    pub layout: SubLayout,
}

/// Sectors stored in a byte source, one after another.
#[derive(Clone)]
pub struct Stored {
    /// The file (or decoded stream) holding the sectors.
    pub file: Arc<dyn ByteSource>,
    /// Offset of the first sector.
    pub offset: u64,
    /// Which parts of each sector's main channel are stored.
    pub main: MainLayout,
    /// Subchannel stored after each sector's main channel.
    pub sub: SubLayout,
    /// Data sectors are stored scrambled (ECMA-130 Annex B), as raw dumps may be.
    pub scrambled: bool,
    /// Subchannel in a separate stream (used when `sub` is `None`).
    pub sub_stream: Option<SubStream>,
}

impl Stored {
    /// A plain run of sectors with no subchannel.
    pub fn new(file: Arc<dyn ByteSource>, offset: u64, main: MainLayout) -> Stored {
        Stored {
            file,
            offset,
            main,
            sub: SubLayout::None,
            scrambled: false,
            sub_stream: None,
        }
    }
    /// Bytes from one sector to the next for a track of `mode`.
    pub fn stride(&self, mode: TrackMode) -> usize {
        self.main.size(mode) + self.sub.size()
    }
}

/// A decoder that yields sectors in a declared layout (MDX, CHD, CSO...).
pub trait SectorSource: Send + Sync {
    /// The layout of the bytes `read_sectors` returns, per sector.
    fn main_layout(&self) -> MainLayout;
    /// The layout of any subchannel bytes that follow each sector's main channel; none by default.
    fn sub_layout(&self) -> SubLayout {
        SubLayout::None
    }
    /// Reads `count` sectors from `first` (counted from the start of the extent) into `buf`,
    /// `count * stride` bytes.
    fn read_sectors(&self, first: u64, count: u32, buf: &mut [u8]) -> io::Result<()>;
    /// Name for errors (the image file).
    fn describe(&self) -> String;
}

/// Where a run of sectors lives.
#[derive(Clone)]
pub enum ExtentData {
    /// Not stored: synthesised (zero samples for audio, zero-filled sectors with valid
    /// headers and EDC/ECC for data).
    Zero,
    /// Stored one after another in a byte source.
    Stored(Stored),
    /// Produced by a format's own decoder.
    Custom(Arc<dyn SectorSource>),
}

/// A run of `sectors` consecutive sectors of one track.
#[derive(Clone)]
pub struct Extent {
    /// Number of sectors in the run.
    pub sectors: u32,
    /// Where the sectors come from.
    pub data: ExtentData,
}

impl Extent {
    /// A run of `sectors` unstored sectors, synthesised when read (see [`ExtentData::Zero`]).
    pub fn zero(sectors: u32) -> Extent {
        Extent {
            sectors,
            data: ExtentData::Zero,
        }
    }
    /// A run of `sectors` sectors stored as `stored` describes.
    pub fn stored(sectors: u32, stored: Stored) -> Extent {
        Extent {
            sectors,
            data: ExtentData::Stored(stored),
        }
    }
    /// True when the run is unstored ([`ExtentData::Zero`]).
    pub fn is_zero(&self) -> bool {
        matches!(self.data, ExtentData::Zero)
    }
}

impl fmt::Debug for Extent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.data {
            ExtentData::Zero => write!(f, "Zero({})", self.sectors),
            ExtentData::Stored(s) => write!(
                f,
                "Stored({} @ {}+{:#x} {:?} sub {:?})",
                self.sectors,
                s.file.path().display(),
                s.offset,
                s.main,
                s.sub
            ),
            ExtentData::Custom(c) => write!(f, "Custom({} from {})", self.sectors, c.describe()),
        }
    }
}
