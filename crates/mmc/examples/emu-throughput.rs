//! Sectors per second the emulated drive serves through the typed client: READ CD raw with
//! P-W subchannel (2448-byte blocks, 27 per command, as rippers read) and READ(10) (32
//! blocks per command), looping over an image.
//!
//! Usage: emu-throughput IMAGE [SECONDS]

use spindle_mmc::readcd::{ReadCdFields, SectorType, SubSelect};
use spindle_mmc::{EmulatedDrive, Mmc};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = args.get(1) else {
        eprintln!("usage: emu-throughput IMAGE [SECONDS]");
        std::process::exit(2);
    };
    let secs: f64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2.0);
    let disc = Arc::new(
        spindle_image::open(std::path::Path::new(path)).unwrap_or_else(|e| {
            eprintln!("{path}: {e}");
            std::process::exit(1)
        }),
    );
    let first = disc
        .first_data_track()
        .map(|t| (t.index1().0, t.end().0))
        .unwrap_or((0, disc.leadout().0));
    let drive = EmulatedDrive::new(Some(disc.clone()));
    let mut m = Mmc::new(&drive);
    let _ = m.test_unit_ready();
    let span = Duration::from_secs_f64(secs);
    let raw = ReadCdFields::RAW.with_sub(SubSelect::RawPw);
    let mut buf = vec![0u8; 27 * 2448];
    let (start, end) = (disc.tracks().next().unwrap().index1().0, disc.leadout().0);
    let t = Instant::now();
    let mut n = 0u64;
    let mut at = start;
    while t.elapsed() < span {
        let c = (end - at).min(27) as u32;
        m.read_cd(at, c, SectorType::Any, raw, &mut buf).unwrap();
        n += c as u64;
        at = if at + c as i32 >= end {
            start
        } else {
            at + c as i32
        };
    }
    let raw_rate = n as f64 / t.elapsed().as_secs_f64();
    let mut buf = vec![0u8; 32 * 2048];
    let t = Instant::now();
    let mut n = 0u64;
    let mut at = first.0;
    while t.elapsed() < span {
        let c = (first.1 - at).min(32) as u32;
        m.read10(at as u32, c as u16, &mut buf).unwrap();
        n += c as u64;
        at = if at + c as i32 >= first.1 {
            first.0
        } else {
            at + c as i32
        };
    }
    let user_rate = n as f64 / t.elapsed().as_secs_f64();
    // 52x CD: 52 * 75 sectors/s; 16x DVD: 16 * 1385 kB/s in 2048-byte sectors.
    println!(
        "read-cd-raw-pw {raw_rate:.0} sectors/s ({:.1}x of a 52x CD)",
        raw_rate / (52.0 * 75.0)
    );
    println!(
        "read10 {user_rate:.0} sectors/s ({:.1}x of a 16x DVD)",
        user_rate / (16.0 * 1_385_000.0 / 2048.0)
    );
}
