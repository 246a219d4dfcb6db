//! One module per subcommand.

pub mod boot;
pub mod cat;
pub mod convert;
pub mod extract;
mod fsview;
pub mod info;
pub mod ls;
pub mod verify;

use anyhow::Result;
use spindle_image::Disc;
use std::path::Path;
use std::sync::Arc;

/// Opens an image through the registry.
pub fn open(path: &Path) -> Result<Arc<Disc>> {
    Ok(Arc::new(spindle_image::open(path)?))
}
