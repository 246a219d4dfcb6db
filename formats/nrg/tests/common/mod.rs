//! Helpers shared by the integration tests: where the samples are, and opening an image the
//! way the registry does.

#![allow(dead_code)]

use spindle_disc::{DirCompanions, Disc, OpenContext};
use spindle_format_nrg::NrgError;
use std::path::{Path, PathBuf};

pub const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/samples");

pub fn sample(rel: &str) -> PathBuf {
    Path::new(SAMPLES).join(rel)
}

/// Opens an NRG image through the crate's API, as the registry will.
pub fn open(path: &Path) -> Result<Disc, NrgError> {
    spindle_format_nrg::open(
        path,
        &OpenContext {
            companions: &DirCompanions::beside(path),
            password: None,
        },
    )
}
