//! `spindle create DIR... -o OUT`: an ISO 9660 image (Rock Ridge, Joliet) of folders, the
//! same bytes for the same tree (volume dates from `SOURCE_DATE_EPOCH`, else the newest
//! modification time in the tree), checked afterwards by reading it back through spindle's
//! readers; El Torito boot entries (BIOS and UEFI, no emulation) on request. OUT may be
//! `.iso`, or any format `convert` writes (`.cue`, `.mds`, `.mdx`, `.ccd`): the ISO is then
//! written beside it first and converted through the disc model.

use crate::progress;
use anyhow::{Context, Result, bail};
use spindle_author::{Boot, Exclude, Options, Platform, Stamp, Tree};
use spindle_fs::FsKind;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

#[derive(clap::Args)]
pub struct Args {
    /// The folders whose contents form the image's root (merged in the order given).
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// The image to write; its extension picks the format (.iso, .cue, .mds, .mdx, .ccd).
    #[arg(short = 'o', long = "output")]
    output: PathBuf,
    /// Volume label (default CDROM).
    #[arg(long, default_value = "CDROM")]
    label: String,
    /// Leave out entries matching this shell pattern (a name, or a path from the source
    /// folder when the pattern holds a `/`); may be repeated.
    #[arg(long, value_name = "PATTERN")]
    exclude: Vec<String>,
    /// Do not read the image back and compare it with the folders.
    #[arg(long)]
    no_check: bool,
    /// Write no Joliet tree (Windows then shows the ISO 9660 8.3-style names).
    #[arg(long)]
    no_joliet: bool,
    /// Boot image for PC BIOS: a file inside the tree (`isolinux/isolinux.bin`), booted
    /// without emulation; may be repeated (the first is the default entry).
    #[arg(long, value_name = "PATH")]
    boot_bios: Vec<String>,
    /// Patch a boot info table into the BIOS boot images, as isolinux needs.
    #[arg(long, requires = "boot_bios")]
    boot_info_table: bool,
    /// Boot image for UEFI: an EFI system partition image inside the tree; may be repeated.
    #[arg(long, value_name = "PATH")]
    boot_efi: Vec<String>,
    /// Build an EFI system partition image (FAT12/16) from this host folder, which holds
    /// EFI/BOOT/BOOTX64.EFI, put it at the image's root as efi.img and boot it on UEFI.
    #[arg(long, value_name = "DIR")]
    efi_dir: Option<PathBuf>,
    /// Make the image bootable from a disk or USB stick too: with --mbr, an MBR over the
    /// default BIOS entry (needs --boot-bios and --boot-info-table); with an EFI image
    /// (--efi-dir, --boot-efi), a GPT whose EFI System Partition is that image.
    #[arg(long)]
    hybrid: bool,
    /// The MBR boot code for --hybrid, e.g. syslinux's isohdpfx.bin (first 432 bytes used).
    #[arg(long, value_name = "FILE", requires = "hybrid")]
    mbr: Option<PathBuf>,
    /// Refuse a tree that does not fit this medium: cd74, cd80, dvd, dvd-dl, bd, bd-dl.
    #[arg(long)]
    media: Option<String>,
}

/// Sectors of 2048 bytes that each medium holds.
fn media_sectors(name: &str) -> Result<u64> {
    Ok(match name {
        "cd74" => 333_000,
        "cd80" => 360_000,
        "dvd" => 2_295_104,
        "dvd-dl" => 4_173_824,
        "bd" => 12_219_392,
        "bd-dl" => 24_438_784,
        _ => bail!("unknown medium {name:?} (cd74, cd80, dvd, dvd-dl, bd, bd-dl)"),
    })
}

/// `SOURCE_DATE_EPOCH`, when set.
fn source_date_epoch() -> Result<Option<Stamp>> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(s) if !s.trim().is_empty() => {
            let secs: i64 = s.trim().parse().with_context(|| {
                format!("SOURCE_DATE_EPOCH={s:?} is not a number of seconds since 1970")
            })?;
            Ok(Some(Stamp { secs, nanos: 0 }))
        }
        _ => Ok(None),
    }
}

pub fn run(a: Args) -> Result<ExitCode> {
    let options = Options {
        label: a.label.clone(),
        joliet: !a.no_joliet,
        volume_time: source_date_epoch()?,
        max_sectors: a.media.as_deref().map(media_sectors).transpose()?,
        boot: a
            .boot_bios
            .iter()
            .map(|p| Boot {
                path: p.clone(),
                platform: Platform::Bios,
                info_table: a.boot_info_table,
            })
            .chain(a.efi_dir.iter().map(|_| Boot {
                path: spindle_author::efi::EFI_IMAGE_NAME.into(),
                platform: Platform::Efi,
                info_table: false,
            }))
            .chain(a.boot_efi.iter().map(|p| Boot {
                path: p.clone(),
                platform: Platform::Efi,
                info_table: false,
            }))
            .collect(),
        hybrid: a.hybrid,
        hybrid_mbr: match &a.mbr {
            Some(p) => {
                Some(std::fs::read(p).with_context(|| format!("reading the MBR {}", p.display()))?)
            }
            None => None,
        },
    };
    // Kept (a temporary folder) until the image is written and checked.
    let efi = match &a.efi_dir {
        Some(d) => Some(spindle_author::efi::build(d)?),
        None => None,
    };
    let mut dirs = a.dirs.clone();
    if let Some(e) = &efi {
        dirs.push(e.root().to_path_buf());
    }
    let spinner = progress::entries("reading the folders");
    let tree = Tree::scan_with(&dirs, &Exclude::new(&a.exclude).file(&a.output), &mut |n| {
        spinner.set_position(n)
    });
    spinner.finish_and_clear();
    let tree = tree?;
    for s in &tree.skipped {
        eprintln!(
            "spindle: warning: {}: a device node, FIFO or socket: left out",
            s.display()
        );
    }
    let plan = spindle_author::plan(&tree, &options)?;
    let cancel = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // A second signal while stopping ends the process at once (the temporary file,
        // `.spindle-create-*` beside the output, may then stay behind).
        signal_hook::flag::register_conditional_shutdown(sig, 130, cancel.clone())?;
        signal_hook::flag::register(sig, cancel.clone())?;
    }
    let iso = a
        .output
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("iso"));
    let bar = progress::bytes("writing");
    let written = if iso {
        spindle_author::write(
            &tree,
            &plan,
            &a.output,
            &mut progress::updater(&bar),
            &cancel,
        )
        .map(|()| vec![a.output.clone()])
        .map_err(anyhow::Error::from)
    } else {
        convert_to(&tree, &plan, &a.output, &bar, &cancel)
    };
    bar.finish_and_clear();
    let written = match written {
        Err(e)
            if e.downcast_ref::<spindle_author::Error>()
                .is_some_and(|e| matches!(e, spindle_author::Error::Cancelled { .. })) =>
        {
            eprintln!("spindle: {e}");
            return Ok(ExitCode::from(130));
        }
        other => other?,
    };
    let dirs = tree
        .nodes
        .iter()
        .filter(|n| matches!(n.kind, spindle_author::Kind::Dir(_)))
        .count();
    println!(
        "wrote {}: {} entries ({} directories, {} files), {} sectors ({} bytes)",
        a.output.display(),
        tree.nodes.len() - 1,
        dirs - 1,
        tree.files.len(),
        plan.sectors,
        plan.bytes()
    );
    if !a.no_check
        && let Err(e) = self_check(&tree, &plan, &a.output)
    {
        for f in &written {
            let _ = std::fs::remove_file(f);
        }
        return Err(e.context(format!(
            "{} failed its check and was removed",
            a.output.display()
        )));
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes the ISO beside `out`, then converts it to `out`'s format; the files written.
fn convert_to(
    tree: &Tree,
    plan: &spindle_author::Plan,
    out: &Path,
    bar: &indicatif::ProgressBar,
    cancel: &Arc<AtomicBool>,
) -> Result<Vec<PathBuf>> {
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".spindle-create-")
        .suffix(".iso")
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?
        .into_temp_path();
    spindle_author::write(tree, plan, &tmp, &mut progress::updater(bar), cancel)?;
    let disc = super::open(&tmp)?;
    let opts = spindle_image::ConvertOptions {
        format: None,
        data_only: false,
        write: spindle_image::WriteOptions {
            cancel: Some(cancel.clone()),
            ..Default::default()
        },
    };
    let outcome = spindle_image::convert(&disc, out, &opts, &mut progress::updater(bar))
        .with_context(|| format!("writing {}", out.display()))?;
    for w in &outcome.warnings {
        eprintln!("spindle: warning: {w}");
    }
    Ok(outcome.files)
}

/// Reads `image` back and compares it with the tree.
fn self_check(tree: &Tree, plan: &spindle_author::Plan, image: &Path) -> Result<()> {
    let joliet = plan.options.joliet;
    let disc = super::open(image)?;
    let rr = spindle_image::filesystem(&disc, Some(FsKind::RockRidge))
        .with_context(|| format!("reading the Rock Ridge tree of {}", image.display()))?;
    let jo = if joliet {
        Some(
            spindle_image::filesystem(&disc, Some(FsKind::Joliet))
                .with_context(|| format!("reading the Joliet tree of {}", image.display()))?,
        )
    } else {
        None
    };
    let bar = progress::bytes("checking");
    let c = spindle_author::check_with(
        tree,
        plan,
        image,
        rr.as_ref(),
        jo.as_deref(),
        &mut progress::updater(&bar),
    );
    bar.finish_and_clear();
    let c = c?;
    println!(
        "checked: {} entries and {} bytes of content read back equal the source",
        c.entries, c.bytes
    );
    Ok(())
}
