//! Opening an image the way the registry does (the tests' other helpers are in
//! spindle-testkit).

#![allow(dead_code)]

use spindle_disc::{DirCompanions, Disc, OpenContext};
use spindle_format_nrg::NrgError;
use std::path::Path;

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
