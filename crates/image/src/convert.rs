//! Converting a disc to another image format, refusing targets that would drop content.
//!
//! Nothing is written before every check has passed: the target can hold the disc (or
//! `--data-only` says what to drop), it can honour the options (a password, no compression),
//! and no output is an input. The writer then writes into a work folder beside the target
//! ([`crate::staging`]); the result is read back and compared with the source
//! ([`crate::readback`]), and only then renamed into place, the descriptor last. A failure or
//! a cancel (through [`WriteOptions::cancel`]) removes everything written and leaves previous
//! outputs as they were.

use crate::staging::Staging;
use crate::{ImageError, readback, registry};
use spindle_disc::{Disc, ExtentData, ImageWriter, SubLayout, WriteOptions, WriterCaps};
use std::path::{Path, PathBuf};

/// How to convert: which writer, whether to drop what the target cannot hold, and the
/// writer's options.
#[derive(Clone, Debug, Default)]
pub struct ConvertOptions {
    /// Writer id; `None` picks by the output extension.
    pub format: Option<String>,
    /// Keep only the first data track when the target cannot hold audio or sessions.
    pub data_only: bool,
    /// Password and compression choices of the target (MDX).
    pub write: WriteOptions,
}

/// What a conversion wrote.
#[derive(Clone, Debug)]
pub struct ConvertOutcome {
    /// The id of the writer used (`iso`, `cue`, `mds`...).
    pub writer: &'static str,
    /// Every file written, at its final name.
    pub files: Vec<PathBuf>,
    /// What the target dropped that was allowed to go (CD-TEXT, subchannel...).
    pub warnings: Vec<String>,
}

/// What writing `disc` to a target with `caps` would lose: (refusals, warnings).
pub fn losses(disc: &Disc, caps: WriterCaps) -> (Vec<String>, Vec<String>) {
    let mut refuse = Vec::new();
    let mut warn = Vec::new();
    let audio = disc.tracks().filter(|t| t.mode.is_audio()).count();
    let data = disc.tracks().filter(|t| t.mode.is_data()).count();
    if audio > 0 && !caps.audio {
        refuse.push(format!(
            "the disc has {audio} audio track(s), which this format cannot store"
        ));
    }
    if disc.sessions.len() > 1 && !caps.multisession {
        refuse.push(format!(
            "the disc has {} sessions; only one can be kept",
            disc.sessions.len()
        ));
    }
    if data > 1 && !caps.multisession {
        refuse.push(format!(
            "the disc has {data} data tracks; only the first can be kept"
        ));
    }
    if data == 0 && !caps.audio {
        refuse.push("the disc has no data track".into());
    }
    if let Some(t) = disc
        .first_data_track()
        .filter(|t| t.index1().0 != 0 && !caps.multisession)
    {
        warn.push(format!(
            "the data track starts at sector {}: a filesystem mastered for that address (CD-Extra, multisession) will not mount from a standalone image",
            t.index1()
        ));
    }
    if disc.cdtext.is_some() && !caps.cdtext {
        warn.push("CD-TEXT is not kept".into());
    }
    if (disc.mcn.is_some() || disc.tracks().any(|t| t.isrc.is_some())) && !caps.codes {
        warn.push("MCN/ISRC codes are not kept".into());
    }
    let indexed: Vec<String> = disc
        .tracks()
        .filter(|t| !t.extra_indexes.is_empty())
        .map(|t| t.number.to_string())
        .collect();
    if !indexed.is_empty() && !caps.indexes && caps.audio {
        warn.push(format!(
            "index 2 and later (of track {}) are not kept: the format has no place for them",
            indexed.join(", ")
        ));
    }
    let st = &disc.structures;
    if !caps.structures {
        if !st.pfi.is_empty()
            || !st.dmi.is_empty()
            || !st.copyright.is_empty()
            || st.bca.is_some()
            || st.bd_disc_info.is_some()
        {
            warn.push("the disc structures (PFI, DMI, copyright, BCA) are not kept".into());
        }
        if !disc.dpm.is_empty() {
            warn.push(format!(
                "the DPM data ({} block(s)) is not kept",
                disc.dpm.len()
            ));
        }
    }
    let has_sub = disc
        .tracks()
        .flat_map(|t| &t.extents)
        .any(|e| match &e.data {
            ExtentData::Stored(s) => s.sub != SubLayout::None || s.sub_stream.is_some(),
            ExtentData::Custom(c) => c.sub_layout() != SubLayout::None,
            ExtentData::Zero => false,
        });
    if has_sub && !caps.subchannel {
        warn.push("stored subchannel data is not kept".into());
    }
    (refuse, warn)
}

/// Refuses options the writer cannot honour.
fn check_options(writer: &dyn ImageWriter, opts: &WriteOptions) -> Result<(), ImageError> {
    let supported = |f: fn(&dyn ImageWriter) -> bool| {
        let ids: Vec<&str> = registry::writers()
            .iter()
            .filter(|w| f(w.as_ref()))
            .map(|w| w.id())
            .collect();
        ids.join(", ")
    };
    if opts.password.is_some() && !writer.encrypts() {
        return Err(ImageError::Unsupported {
            target: writer.id(),
            option: "a password (--encrypt)",
            supported: supported(|w| w.encrypts()),
        });
    }
    if opts.uncompressed && !writer.compresses() {
        return Err(ImageError::Unsupported {
            target: writer.id(),
            option: "--uncompressed (it never compresses)",
            supported: supported(|w| w.compresses()),
        });
    }
    Ok(())
}

/// Refuses to replace a file the user did not name: a companion the writer would make
/// (`X.bin` of `X.cue`, `X.img`/`X.sub` of `X.ccd`, `X.mdf` of `X.mds`) that already exists
/// while the named descriptor does not (it is then not part of an image being replaced).
fn check_companions(writer: &dyn ImageWriter, out: &Path) -> Result<(), ImageError> {
    if std::fs::symlink_metadata(out).is_ok() {
        return Ok(());
    }
    let taken: Vec<String> = writer
        .outputs(out)
        .iter()
        .filter(|o| o.as_path() != out && std::fs::symlink_metadata(o).is_ok())
        .map(|o| o.display().to_string())
        .collect();
    if taken.is_empty() {
        return Ok(());
    }
    Err(ImageError::Write {
        path: out.to_path_buf(),
        source: format!(
            "{} would be written too, but already exist(s) and belong(s) to no image at {}: move it away or choose another name",
            taken.join(", "),
            out.display()
        )
        .into(),
    })
}

/// Refuses a target of 2048-byte sectors (ISO) for data sectors that hold more: Mode 2
/// Form 2 (XA audio, video) and formless Mode 2 would be cut. With `--data-only` (the user
/// asked for the data as 2048-byte blocks) it is a warning, returned.
fn check_xa_forms(
    disc: &std::sync::Arc<Disc>,
    target: &'static str,
    opts: &ConvertOptions,
) -> Result<Option<String>, ImageError> {
    let Some(track) = disc.first_data_track().map(|t| t.number) else {
        return Ok(None);
    };
    let cancel = opts.write.cancel.as_deref();
    let n = match crate::xa_forms::oversized_sectors(disc, track, cancel) {
        None => {
            return Err(ImageError::Cancelled {
                removed: Vec::new(),
            });
        }
        Some(0) => return Ok(None),
        Some(n) => n,
    };
    let what = format!(
        "track {track} holds {n} Mode 2 Form 2 or formless sectors (XA audio or video: more than 2048 bytes each), which this format cuts to 2048 bytes"
    );
    if opts.data_only {
        return Ok(Some(format!("dropped: {what}")));
    }
    Err(ImageError::Lossy {
        target,
        reasons: vec![
            what,
            "convert to .cue or .ccd to keep them, or use --data-only to take the 2048-byte blocks"
                .into(),
        ],
    })
}

/// Writes `disc` to `out`. `progress` gets (bytes done, bytes total). Outputs appear only
/// when complete and read back; on any error, and when `opts.write.cancel` is set, every file
/// written is removed ([`ImageError::Cancelled`] lists them) and previous outputs stay.
pub fn convert(
    disc: &Disc,
    out: &Path,
    opts: &ConvertOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ConvertOutcome, ImageError> {
    let writer = registry::writer_for(out, opts.format.as_deref())?;
    check_options(writer.as_ref(), &opts.write)?;
    let (refuse, mut warnings) = losses(disc, writer.caps());
    if !refuse.is_empty() {
        if !opts.data_only || disc.first_data_track().is_none() {
            let mut reasons = refuse;
            if disc.first_data_track().is_some() {
                reasons.push("use --data-only to keep just the first data track".into());
            }
            return Err(ImageError::Lossy {
                target: writer.id(),
                reasons,
            });
        }
        warnings.extend(refuse.into_iter().map(|r| format!("dropped: {r}")));
    }
    if writer
        .outputs(out)
        .iter()
        .any(|o| same_file(&disc.source.files, o))
    {
        return Err(ImageError::Write {
            path: out.to_path_buf(),
            source: "the output would overwrite the image being read".into(),
        });
    }
    check_companions(writer.as_ref(), out)?;
    let shared = std::sync::Arc::new(disc.clone());
    if !writer.caps().raw_sectors
        && let Some(cut) = check_xa_forms(&shared, writer.id(), opts)?
    {
        warnings.push(cut);
    }
    // A cut image converts to an equally cut one: say so (verify fails both).
    for m in crate::completeness::missing_data(&shared) {
        warnings.push(format!(
            "the image is incomplete, and so will be the output: {m}"
        ));
    }
    let stage = Staging::beside(out)?;
    let staged = stage.path_for(out);
    let cancelled = || {
        opts.write
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(std::sync::atomic::Ordering::Relaxed))
    };
    let written = writer
        .write_with(disc, &staged, &opts.write, progress)
        .and_then(|files| {
            // An image that cannot hold audio holds one data track: nothing to compare.
            if writer.caps().audio {
                let problems = match registry::open_with(&staged, opts.write.password.clone()) {
                    Ok(back) => readback::differences(disc, &back, writer.caps()),
                    Err(e) => vec![format!(
                        "it cannot be opened: {}",
                        error_chain(&e).replace(&*staged.to_string_lossy(), &out.to_string_lossy())
                    )],
                };
                if !problems.is_empty() {
                    return Err(ImageError::ReadBack {
                        path: out.to_path_buf(),
                        target: writer.id(),
                        problems,
                    }
                    .into());
                }
            }
            Ok(files)
        });
    if cancelled() {
        return Err(ImageError::Cancelled {
            removed: stage.discard(),
        });
    }
    let files = match written {
        Ok(files) => files,
        Err(source) => {
            stage.discard();
            return Err(match source.downcast::<ImageError>() {
                Ok(e) => *e,
                Err(source) => ImageError::Write {
                    path: out.to_path_buf(),
                    source,
                },
            });
        }
    };
    let files = stage.commit(&files, &staged)?;
    Ok(ConvertOutcome {
        writer: writer.id(),
        files,
        warnings,
    })
}

/// An error and its causes on one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

fn same_file(inputs: &[PathBuf], out: &Path) -> bool {
    let Ok(o) = out.canonicalize() else {
        return false;
    };
    inputs
        .iter()
        .filter_map(|p| p.canonicalize().ok())
        .any(|p| p == o)
}
