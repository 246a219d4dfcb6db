//! The sample images: `../shared/samples` beside the repository, read in place.

use std::path::PathBuf;

/// The samples folder as a string, for `format!` paths.
pub const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/samples");

/// The samples folder (`../shared/samples` beside the repository root).
pub fn samples() -> PathBuf {
    PathBuf::from(SAMPLES)
}

/// `rel` inside the samples folder (not checked: opening a missing one fails the test).
pub fn sample(rel: &str) -> PathBuf {
    samples().join(rel)
}

/// `rel` inside the samples folder; fails the test at once when it is not a file.
pub fn existing_sample(rel: &str) -> PathBuf {
    let path = sample(rel);
    assert!(path.is_file(), "sample {} is missing", path.display());
    path
}
