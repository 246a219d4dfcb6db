//! The sample images: `../shared/samples` beside the repository, read in place.

use std::path::{Path, PathBuf};

/// The samples folder (`../shared/samples` beside the repository root).
pub fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/samples")
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
