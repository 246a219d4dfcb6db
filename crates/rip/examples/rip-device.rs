//! Rips the disc in a real drive over SG_IO and writes it with the image writer OUT's
//! extension picks (the library side of `spindle rip`; the VM test runs it against QEMU's
//! drive). Prints `rip KEY VALUE` lines.
//!
//! Usage: rip-device DEVICE OUT, or rip-device --list (the optical drives in sysfs)

use spindle_mmc::Mmc;
use spindle_mmc::sgio::SgIo;
use spindle_rip::image::disc_from_rip;
use spindle_rip::rip::{RipFiles, RipOptions, rip};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--list") {
        for d in spindle_rip::devices::optical_drives(std::path::Path::new("/sys")) {
            let sg = d
                .generic
                .as_ref()
                .map(|g| g.display().to_string())
                .unwrap_or_else(|| "-".into());
            println!(
                "drive {} {} {:?} {:?} {:?}",
                d.device.display(),
                sg,
                d.vendor,
                d.model,
                d.revision
            );
        }
        return ExitCode::SUCCESS;
    }
    if args.len() != 3 {
        eprintln!("usage: rip-device DEVICE OUT");
        return ExitCode::from(2);
    }
    let (dev, out) = (PathBuf::from(&args[1]), PathBuf::from(&args[2]));
    let run = || -> Result<(), Box<dyn std::error::Error>> {
        let mut m = Mmc::new(SgIo::open(&dev)?);
        let files = RipFiles::beside(&out);
        let t = Instant::now();
        let r = rip(&mut m, &files, &RipOptions::default(), None, None)?;
        let secs = t.elapsed().as_secs_f64();
        println!("rip mode {:?}", r.plan.mode);
        println!("rip sectors {}", r.plan.sectors());
        println!("rip bad {}", r.bad.len());
        println!("rip seconds {secs:.2}");
        let disc = disc_from_rip(&r)?;
        for t in disc.tracks() {
            println!("rip track {} {} {}", t.number, t.mode, t.index1());
        }
        let opts = spindle_image::ConvertOptions {
            format: None,
            data_only: false,
            write: Default::default(),
        };
        spindle_image::convert(&disc, &out, &opts, &mut |_, _| {})?;
        println!("rip wrote {}", out.display());
        Ok(())
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rip-device: {e}");
            ExitCode::FAILURE
        }
    }
}
