//! One module per subcommand.

pub mod attach;
pub mod boot;
pub mod burn;
pub mod cat;
pub mod convert;
pub mod create;
pub mod daemon;
pub mod devices;
pub mod disc;
pub mod drives;
pub mod eject;
pub mod extract;
mod fsview;
pub mod info;
pub mod load;
pub mod ls;
pub mod mount;
pub mod rip;
pub mod share;
pub mod verify;

use anyhow::Result;
use spindle_image::Disc;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// The password for encrypted images: `--password`, else `SPINDLE_PASSWORD`.
static PASSWORD: OnceLock<Option<String>> = OnceLock::new();

/// Sets the password given on the command line (called once, before any image is opened).
pub fn set_password(p: Option<String>) {
    let p = p.or_else(|| {
        std::env::var("SPINDLE_PASSWORD")
            .ok()
            .filter(|s| !s.is_empty())
    });
    let _ = PASSWORD.set(p);
}

/// The password given with `--password` or `SPINDLE_PASSWORD`, if any.
pub fn password() -> Option<String> {
    PASSWORD.get().cloned().flatten()
}

/// Opens an image through the registry. An encrypted image opened without a password asks
/// for one when standard input is a terminal.
pub fn open(path: &Path) -> Result<Arc<Disc>> {
    let password = PASSWORD.get().cloned().flatten();
    let asked = password.is_none();
    match spindle_image::open_with(path, password) {
        Ok(d) => Ok(Arc::new(d)),
        Err(e) if asked && e.needs_password() && std::io::stdin().is_terminal() => {
            let pw = rpassword::prompt_password(format!("password for {}: ", path.display()))?;
            Ok(Arc::new(spindle_image::open_with(path, Some(pw))?))
        }
        Err(e) => Err(e.into()),
    }
}
