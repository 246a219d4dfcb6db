//! CloneCD control files on arbitrary bytes: the INI parser, then building a disc over an
//! in-memory `.img`/`.sub` (every name opens the input followed by a pattern, 64 KiB at least)
//! and reading sectors of every track. Never a panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

#[path = "mem.rs"]
mod mem;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("/fuzz/image.ccd");
    let Ok(ccd) = spindle_format_ccd::parse_ccd(data, path) else {
        return;
    };
    let files = mem::MemFiles(mem::padded(data, 64 << 10));
    let Ok(files) = spindle_format_ccd::build::open_data_files(path, &files) else {
        return;
    };
    if let Ok(disc) = spindle_format_ccd::build::build(&ccd, &files) {
        mem::read_tracks(&disc);
    }
});
