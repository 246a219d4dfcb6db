//! The list of formats and writers, and opening an image by probing them in order.

use crate::ImageError;
use spindle_container::{BudgetExceeded, ContainerCompanions, DecodeBudget};
use spindle_disc::format::PROBE_BYTES;
use spindle_disc::{Disc, ImageFormat, ImageWriter, OpenContext, OpenErrorKind};
use spindle_disc::{FileSource, NotAFile};
use std::path::Path;

/// Every readable format, in probe order. ISO comes last: it is the fallback for any file
/// that is a whole number of sectors.
pub fn formats() -> Vec<Box<dyn ImageFormat>> {
    vec![
        Box::new(spindle_format_mds::MdsFormat),
        Box::new(spindle_format_ccd::CcdFormat),
        Box::new(spindle_format_nrg::NrgFormat),
        Box::new(spindle_format_cdi::CdiFormat),
        Box::new(spindle_format_chd::ChdFormat),
        Box::new(spindle_format_cue::CueFormat),
        Box::new(spindle_format_iso::IsoFormat),
    ]
}

/// Every writable format.
pub fn writers() -> Vec<Box<dyn ImageWriter>> {
    vec![
        Box::new(spindle_format_iso::IsoWriter),
        Box::new(spindle_format_cue::BinCueWriter),
        Box::new(spindle_format_mds::MdsWriter),
        Box::new(spindle_format_mds::MdxWriter),
        Box::new(spindle_format_ccd::CcdWriter),
    ]
}

/// How to open an image: a password for encrypted ones, and the budget for temporary
/// decompressed copies (per user in the daemon: `DecodeBudget::new().for_uid(uid)`).
#[derive(Clone, Debug, Default)]
pub struct OpenOptions {
    /// The password of an encrypted image (MDX); `None` to open only unencrypted ones.
    pub password: Option<String>,
    /// The limit on temporary space for decompressed copies of compressed images.
    pub budget: DecodeBudget,
}

/// Opens an image with no password.
pub fn open(path: &Path) -> Result<Disc, ImageError> {
    open_with(path, None)
}

/// Opens an image with the default decompression budget (see [`open_with_options`]).
pub fn open_with(path: &Path, password: Option<String>) -> Result<Disc, ImageError> {
    open_with_options(
        path,
        &OpenOptions {
            password,
            ..OpenOptions::default()
        },
    )
}

/// Opens an image: the first format whose probe claims it parses it. A `.gz`, `.xz` or
/// `.zst` image is opened as the file inside it (`game.iso.zst` as `game.iso`), and every
/// companion it names may be compressed too (`disc.bin.xz` for `disc.bin`).
///
/// The image is opened once, by name, and only a regular file or a block device is read
/// (a FIFO, a character device or a directory is [`ImageError::NotAFile`]); its format
/// reads the same open file. Decompressed temporary copies stay within `options.budget`
/// ([`ImageError::Budget`] when they would not).
pub fn open_with_options(path: &Path, options: &OpenOptions) -> Result<Disc, ImageError> {
    let io = |source: std::io::Error| match source.get_ref() {
        Some(e) if e.is::<NotAFile>() || e.is::<BudgetExceeded>() => {
            let inner = source.into_inner().expect("checked above");
            match inner.downcast::<NotAFile>() {
                Ok(n) => ImageError::NotAFile(*n),
                Err(other) => {
                    ImageError::Budget(*other.downcast::<BudgetExceeded>().expect("checked above"))
                }
            }
        }
        _ => ImageError::Io {
            path: path.to_path_buf(),
            source,
        },
    };
    let companions = ContainerCompanions::beside(path).with_budget(options.budget.clone());
    let plain = FileSource::open(path).map_err(io)?;
    let src = companions.adopt(path, plain).map_err(io)?;
    let compressed = src.plain_file().is_none();
    let inner = if compressed {
        spindle_container::inner_path(path)
    } else {
        path.to_path_buf()
    };
    // The format opens the image by the (inner) name: make that name the file opened here.
    if let Some(name) = inner.file_name() {
        companions.alias(&name.to_string_lossy(), path);
    }
    let len = src.len();
    let mut head = vec![0u8; (PROBE_BYTES as u64).min(len) as usize];
    src.read_exact_at(&mut head, 0).map_err(io)?;
    let ctx = OpenContext {
        companions: &companions,
        password: options.password.clone(),
    };
    let all = formats();
    for format in &all {
        if format.probe(&inner, &head, len) {
            let mut disc = format.open(&inner, &ctx).map_err(|e| {
                let (path, format) = (path.to_path_buf(), format.id());
                match e.kind() {
                    OpenErrorKind::PasswordNeeded => ImageError::PasswordNeeded {
                        path,
                        format,
                        source: e.into_source(),
                    },
                    _ => ImageError::Open {
                        path,
                        format,
                        source: e.into_source(),
                    },
                }
            })?;
            // Its summary (`toc.json` of the catalogue) can then say all `info` says.
            disc.volume_probe = Some(crate::info::volume_facts);
            return Ok(disc);
        }
    }
    Err(ImageError::Unrecognised {
        path: path.to_path_buf(),
        tried: all.iter().map(|f| f.id()).collect::<Vec<_>>().join(", "),
    })
}

/// The writer with this id.
pub fn writer_by_id(id: &str) -> Option<Box<dyn ImageWriter>> {
    writers()
        .into_iter()
        .find(|w| w.id().eq_ignore_ascii_case(id))
}

/// The writer for an output path: `format` when given, else the path's extension.
pub fn writer_for(out: &Path, format: Option<&str>) -> Result<Box<dyn ImageWriter>, ImageError> {
    let found = match format {
        Some(id) => writer_by_id(id),
        None => {
            let ext = out
                .extension()
                .map(|e| e.to_string_lossy().to_lowercase())
                .unwrap_or_default();
            writers()
                .into_iter()
                .find(|w| w.extensions().contains(&ext.as_str()))
        }
    };
    found.ok_or_else(|| ImageError::NoWriter {
        path: out.to_path_buf(),
        known: writers()
            .iter()
            .map(|w| w.id())
            .collect::<Vec<_>>()
            .join(", "),
    })
}
