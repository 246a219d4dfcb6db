//! The M3U playlist parser on arbitrary bytes: never panics, never hangs, stays bounded.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(lines) = spindle_image::playlist::parse(data) {
        assert!(lines.len() <= spindle_image::playlist::MAX_ENTRIES);
    }
});
