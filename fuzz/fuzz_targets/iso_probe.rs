//! The ISO probe and opener on arbitrary bytes: layout detection must never panic, and an
//! image it accepts must open and read every sector without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spindle_disc::{ByteSource, SectorFormat, SectorView};
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    // Short fuzz inputs never reach sector 16, where volume descriptors sit, so the input
    // chooses a sector size and a file length, and its bytes are laid at sector 0 and at
    // sector 16 of that size.
    if data.len() < 3 {
        return;
    }
    let size = [2048usize, 2336, 2352, 2448][(data[0] % 4) as usize];
    let sectors = 1 + (u16::from_le_bytes([data[1], data[2]]) % 40) as usize;
    let body = &data[3..];
    let mut file = vec![0u8; sectors * size + (data[0] as usize >> 2) % 3 * 100];
    for at in [0, 16 * size] {
        if at < file.len() {
            let n = body.len().min(file.len() - at);
            file[at..at + n].copy_from_slice(&body[..n]);
        }
    }
    let len = file.len() as u64;
    let layout = spindle_format_iso::detect_layout(&file, len);
    let probed = spindle_format_iso::probe(std::path::Path::new("x.iso"), &file, len);
    assert_eq!(layout.is_some(), probed);
    if layout.is_none() {
        return;
    }
    let path = std::path::Path::new("/fuzz/image.iso");
    let src = Arc::new(spindle_disc::MemSource::new(file, path));
    if let Ok(disc) = spindle_format_iso::open_source(src, path) {
        let disc = Arc::new(disc);
        if let Ok(view) = SectorView::first_data_track(disc.clone()) {
            let mut buf = vec![0u8; 4096];
            let _ = view.read_at(&mut buf, 0);
            let _ = view.read_at(&mut buf, view.len().saturating_sub(100));
        }
        let mut raw = vec![0u8; 2352 + 96];
        for lba in [-1, 0, 16] {
            let _ = disc.read_sector(spindle_disc::Lba(lba), SectorFormat::RAW_PW96, &mut raw);
            let _ = disc.read_sector(spindle_disc::Lba(lba), SectorFormat::USER, &mut raw);
        }
    }
});
