//! The ISO probe and opener on arbitrary bytes: layout detection must never panic, and an
//! image it accepts must open and read every sector without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spindle_disc::{ImageFormat, SectorFormat, SectorView};
use std::io::Write;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let len = data.len() as u64;
    let layout = spindle_format_iso::detect_layout(data, len);
    let probed = spindle_format_iso::IsoFormat.probe(std::path::Path::new("x.iso"), data, len);
    assert_eq!(layout.is_some(), probed && len > 0);
    if layout.is_none() {
        return;
    }
    let mut f = tempfile_in_memory(data);
    let _ = f.flush();
    if let Ok(disc) = spindle_format_iso::open(f.path()) {
        let disc = Arc::new(disc);
        if let Ok(view) = SectorView::first_data_track(disc.clone()) {
            let mut buf = vec![0u8; 4096];
            let _ = view.read_at(0, &mut buf);
            let _ = view.read_at(view.len().saturating_sub(100), &mut buf);
        }
        let mut raw = vec![0u8; 2352 + 96];
        let _ = disc.read_sector(spindle_disc::Lba(0), SectorFormat::RAW_PW96, &mut raw);
    }
});

struct Temp(std::path::PathBuf, std::fs::File);
impl Temp {
    fn path(&self) -> &std::path::Path {
        &self.0
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.1.flush()
    }
}
impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn tempfile_in_memory(data: &[u8]) -> Temp {
    let path = std::env::temp_dir().join(format!("spindle-fuzz-{}.iso", std::process::id()));
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(data).unwrap();
    Temp(path, f)
}
