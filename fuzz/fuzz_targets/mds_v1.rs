//! MDS v1 descriptors on arbitrary bytes: the parser, then building a disc over in-memory
//! data files (every name opens the input followed by a pattern, 64 KiB at least) and reading
//! sectors of every track. Never a panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spindle_format_mds::build::{BuildContext, build};
use std::path::Path;

#[path = "mem.rs"]
mod mem;

const PREFIX: &[u8] = b"MEDIA DESCRIPTOR\x01\x05";

fuzz_target!(|data: &[u8]| {
    // The signature and version are given, so the fuzzer starts at the header fields.
    let owned;
    let data = if data.starts_with(PREFIX) {
        data
    } else {
        owned = [PREFIX, data].concat();
        &owned[..]
    };
    let path = Path::new("/fuzz/image.mds");
    let Ok(d) = spindle_format_mds::v1::parse(data, path) else {
        return;
    };
    let files = mem::MemFiles(mem::padded(data, 64 << 10));
    let ctx = BuildContext {
        path,
        companions: &files,
        mdx: None,
        cipher: None,
        lenient_lengths: false,
        variant: String::new(),
    };
    if let Ok(disc) = build(&d, &ctx) {
        mem::read_tracks(&disc);
    }
});
