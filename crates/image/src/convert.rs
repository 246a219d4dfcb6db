//! Converting a disc to another image format, refusing targets that would drop content.

use crate::{ImageError, registry};
use spindle_disc::{Disc, ExtentData, SubLayout, WriteOptions, WriterCaps};
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Default)]
pub struct ConvertOptions {
    /// Writer id; `None` picks by the output extension.
    pub format: Option<String>,
    /// Keep only the first data track when the target cannot hold audio or sessions.
    pub data_only: bool,
    /// Password and compression choices of the target (MDX).
    pub write: WriteOptions,
}

#[derive(Clone, Debug)]
pub struct ConvertOutcome {
    pub writer: &'static str,
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
        refuse.push(format!("the disc has {audio} audio track(s), which this format cannot store"));
    }
    if disc.sessions.len() > 1 && !caps.multisession {
        refuse.push(format!("the disc has {} sessions; only one can be kept", disc.sessions.len()));
    }
    if data > 1 && !caps.multisession {
        refuse.push(format!("the disc has {data} data tracks; only the first can be kept"));
    }
    if data == 0 && !caps.audio {
        refuse.push("the disc has no data track".into());
    }
    if let Some(t) = disc.first_data_track().filter(|t| t.index1().0 != 0 && !caps.multisession) {
        warn.push(format!(
            "the data track starts at sector {}: a filesystem mastered for that address (CD-Extra, multisession) will not mount from a standalone image",
            t.index1()
        ));
    }
    if disc.cdtext.is_some() && !caps.cdtext {
        warn.push("CD-TEXT is not kept".into());
    }
    if (disc.mcn.is_some() || disc.tracks().any(|t| t.isrc.is_some())) && !caps.cdtext && !caps.raw_sectors {
        warn.push("MCN/ISRC codes are not kept".into());
    }
    let has_sub = disc.tracks().flat_map(|t| &t.extents).any(|e| match &e.data {
        ExtentData::Stored(s) => s.sub != SubLayout::None || s.sub_stream.is_some(),
        ExtentData::Custom(c) => c.sub_layout() != SubLayout::None,
        ExtentData::Zero => false,
    });
    if has_sub && !caps.subchannel {
        warn.push("stored subchannel data is not kept".into());
    }
    (refuse, warn)
}

/// Writes `disc` to `out`. `progress` gets (bytes done, bytes total).
pub fn convert(disc: &Disc, out: &Path, opts: &ConvertOptions, progress: &mut dyn FnMut(u64, u64)) -> Result<ConvertOutcome, ImageError> {
    let writer = registry::writer_for(out, opts.format.as_deref())?;
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
    if writer.outputs(out).iter().any(|o| same_file(&disc.source.files, o)) {
        return Err(ImageError::Write {
            path: out.to_path_buf(),
            source: "the output would overwrite the image being read".into(),
        });
    }
    let files = writer
        .write_with(disc, out, &opts.write, progress)
        .map_err(|source| ImageError::Write {
            path: out.to_path_buf(),
            source,
        })?;
    Ok(ConvertOutcome {
        writer: writer.id(),
        files,
        warnings,
    })
}

fn same_file(inputs: &[PathBuf], out: &Path) -> bool {
    let Ok(o) = out.canonicalize() else { return false };
    inputs.iter().filter_map(|p| p.canonicalize().ok()).any(|p| p == o)
}
