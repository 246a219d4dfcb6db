//! `spindle boot`: the El Torito boot catalog of an image, and its boot images.

use anyhow::{Context, Result};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The image.
    image: PathBuf,
    /// Write each boot image into this folder (boot-NN-PLATFORM.img).
    #[arg(short = 'o', long = "output")]
    output: Option<PathBuf>,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let disc = super::open(&a.image)?;
    let (dev, base) = spindle_image::disc_device(&disc)?;
    let entries =
        spindle_fs::boot_entries(dev.as_ref(), base).with_context(|| format!("reading the boot catalog of {}", a.image.display()))?;
    if entries.is_empty() {
        println!("{}: no El Torito boot record", a.image.display());
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:>3}  {:<8} {:<9} {:<16} {:>9} {:>9} {:>10}  id",
        "#", "platform", "bootable", "emulation", "load RBA", "sectors", "bytes"
    );
    for (i, e) in entries.iter().enumerate() {
        println!(
            "{:>3}  {:<8} {:<9} {:<16} {:>9} {:>9} {:>10}  {}",
            i + 1,
            e.platform_name(),
            if e.bootable { "yes" } else { "no" },
            e.emulation.name(),
            e.load_rba,
            e.sector_count,
            e.load_size,
            e.section_id.as_deref().filter(|s| !s.is_empty()).unwrap_or("-")
        );
        if let Some(dir) = &a.output {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            let path = dir.join(format!(
                "boot-{:02}-{}.img",
                i + 1,
                e.platform_name().to_lowercase().replace(' ', "-")
            ));
            let bytes = spindle_fs::read_boot_image(dev.as_ref(), e)?;
            std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
            println!("     wrote {} ({} bytes)", path.display(), bytes.len());
        }
    }
    Ok(ExitCode::SUCCESS)
}
