//! NRG images on arbitrary bytes: the chunk list parser, then building the disc over the
//! image in memory and reading sectors of every track. Never a panic or hang.
//!
//! The trailer sits at the end of a file, where mutations rarely keep it valid, so the input
//! is taken as a chunk list: byte 0 picks the trailer (bit 0: NER5 or NERO) and whether the
//! input is used as a whole file instead (bit 1); the rest follows 64 KiB of track data and
//! is pointed to by the trailer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

#[path = "mem.rs"]
mod mem;

const DATA: usize = 64 << 10;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let file: Arc<[u8]> = if mode & 2 != 0 {
        rest.into()
    } else {
        let mut f = mem::padded(&[], DATA).to_vec();
        f.extend_from_slice(rest);
        if mode & 1 != 0 {
            f.extend_from_slice(b"NER5");
            f.extend_from_slice(&(DATA as u64).to_be_bytes());
        } else {
            f.extend_from_slice(b"NERO");
            f.extend_from_slice(&(DATA as u32).to_be_bytes());
        }
        f.into()
    };
    let path = std::path::Path::new("/fuzz/image.nrg");
    let src = Arc::new(mem::Mem::new(file, path));
    if let Ok(disc) = spindle_format_nrg::open_source(src, path) {
        mem::read_tracks(&disc);
    }
});
