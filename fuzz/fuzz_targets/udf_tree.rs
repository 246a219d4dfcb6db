//! UDF on arbitrary bytes: descriptor parsers directly, then the bytes laid at the anchor
//! (sector 256) of an image and the tree walked. Never a panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

#[path = "walk.rs"]
mod walk;

fuzz_target!(|data: &[u8]| {
    let _ = spindle_udf::parse_tag(data);
    let _ = spindle_udf::parse_anchor(data);
    let _ = spindle_udf::parse_logical_volume(data);
    let _ = spindle_udf::parse_file_set(data);
    let _ = spindle_udf::decode_dstring(data);
    let _ = spindle_udf::parse_fids(data);

    let mut image = vec![0u8; 256 * 2048];
    image.extend_from_slice(data);
    image.resize(image.len().div_ceil(2048).max(258) * 2048, 0);
    let dev: spindle_fs::Device = Arc::new(spindle_disc::MemSource::new(image, "fuzz.iso"));
    if let Ok(fs) = spindle_udf::open_udf(dev) {
        walk::walk(fs.as_ref());
    }
});
