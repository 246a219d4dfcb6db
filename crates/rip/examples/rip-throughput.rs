//! Sectors per second of a whole in-process rip from the emulated drive (layout, read mode
//! probe, rescue into a work file, map): raw + P-W subchannel for a CD, user data for a DVD.
//!
//! Usage: rip-throughput IMAGE [cd|dvd] [ROUNDS]

use spindle_mmc::{EmulatedDrive, Mmc};
use spindle_rip::rip::{RipFiles, RipOptions, rip};
use std::sync::Arc;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = args.get(1) else {
        eprintln!("usage: rip-throughput IMAGE [cd|dvd] [ROUNDS]");
        std::process::exit(2);
    };
    let mut disc = spindle_image::open(std::path::Path::new(path)).unwrap_or_else(|e| {
        eprintln!("{path}: {e}");
        std::process::exit(1)
    });
    let dvd = args.get(2).map(String::as_str) == Some("dvd");
    if dvd {
        disc.medium = spindle_disc::Medium::DvdRom;
    }
    let rounds: u32 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(5);
    let drive = EmulatedDrive::new(Some(Arc::new(disc)));
    let dir = std::env::temp_dir().join(format!("spindle-rip-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut best = f64::MAX;
    let mut sectors = 0;
    for _ in 0..rounds {
        let files = RipFiles::beside(&dir.join("x"));
        let _ = std::fs::remove_file(&files.map);
        let _ = std::fs::remove_file(&files.work);
        let t = Instant::now();
        let r = rip(
            &mut Mmc::new(&drive),
            &files,
            &RipOptions::default(),
            None,
            None,
        )
        .unwrap();
        best = best.min(t.elapsed().as_secs_f64());
        sectors = r.plan.sectors();
    }
    let _ = std::fs::remove_dir_all(&dir);
    let rate = sectors as f64 / best;
    let (name, x1) = if dvd {
        ("16x DVD", 16.0 * 1_385_000.0 / 2048.0)
    } else {
        ("52x CD", 52.0 * 75.0)
    };
    println!(
        "{sectors} sectors in {best:.3} s: {rate:.0} sectors/s, {:.1}x a {name}",
        rate / x1
    );
}
