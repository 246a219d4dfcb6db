//! The CUE sheet parser on arbitrary bytes: never panics, never hangs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = spindle_format_cue::parse_sheet(data, std::path::Path::new("fuzz.cue"));
});
