//! ISO 9660 directory records and SUSP/Rock Ridge entries on arbitrary bytes: the pure parsers
//! directly, then the bytes laid out as sectors 16 onward of an image (volume descriptors,
//! directories, continuation areas) and every view of the tree walked. Never a panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spindle_fs::{FsKind, iso};
use std::sync::Arc;

#[path = "walk.rs"]
mod walk;

fuzz_target!(|data: &[u8]| {
    let _ = iso::record::parse_directory_record(data, false);
    let _ = iso::record::parse_directory_record(data, true);
    let _ = iso::susp::parse_susp(data);
    let _ = iso::joliet::joliet_name(data);
    let _ = iso::eltorito::parse_catalog(data);

    let mut image = vec![0u8; 16 * 2048];
    image.extend_from_slice(data);
    image.resize(image.len().div_ceil(2048).max(18) * 2048, 0);
    let dev: spindle_fs::Device = Arc::new(spindle_disc::MemSource::new(image, "fuzz.iso"));
    if spindle_fs::detect(dev.as_ref(), 0).is_err() {
        return;
    }
    for kind in [FsKind::RockRidge, FsKind::Joliet, FsKind::Iso9660] {
        if let Ok(fs) = spindle_fs::open_iso(dev.clone(), kind, 0) {
            walk::walk(fs.as_ref());
        }
    }
    let _ = spindle_fs::boot_entries(dev.as_ref(), 0);
});
