//! Random 2048-byte reads across the user-data view of an image's first data track, through
//! the registry (so any format or container): `random_reads IMAGE [READS] [SEED]`; prints
//! reads per second. With `--make-seekable ISO OUT.zst` it writes a seekable zstd of an ISO
//! (1 MiB frames), which bench/random_reads.sh reads.

use spindle_disc::{ByteSource, SectorView};
use std::sync::Arc;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 4 && args[1] == "--make-seekable" {
        let mut input = std::io::BufReader::new(std::fs::File::open(&args[2]).expect("input"));
        let mut out = std::io::BufWriter::new(std::fs::File::create(&args[3]).expect("output"));
        spindle_container::write_seekable(&mut input, &mut out, 1 << 20, 3).expect("compress");
        return;
    }
    let path = std::path::Path::new(
        args.get(1)
            .expect("usage: random_reads IMAGE [READS] [SEED]"),
    );
    let reads: u64 = args.get(2).map_or(20_000, |s| s.parse().expect("READS"));
    let mut x: u64 = args
        .get(3)
        .map_or(0x9E37_79B9_7F4A_7C15, |s| s.parse().expect("SEED"));
    let disc = Arc::new(spindle_image::open(path).unwrap_or_else(|e| panic!("{e}")));
    let view = SectorView::first_data_track(disc).expect("a data track");
    let blocks = view.len() / 2048;
    let mut buf = [0u8; 2048];
    let mut sum = 0u64;
    let t0 = Instant::now();
    for _ in 0..reads {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let b = x % blocks;
        view.read_at(&mut buf, b * 2048).expect("read");
        sum = sum.wrapping_add(buf[0] as u64);
    }
    let s = t0.elapsed().as_secs_f64();
    println!(
        "{} reads in {s:.3} s: {:.0} reads/s (checksum {sum})",
        reads,
        reads as f64 / s
    );
}
