//! CHD images on arbitrary bytes: the CHT2/CHTR track entry parser on the input, then the
//! input opened as a CHD from memory and a few sectors of every track read. Inputs that do not
//! start with a v5 header get a valid one in front (with the hunk map and metadata offsets
//! taken from the input), so the fuzzer reaches the map, metadata and hunks.
//!
//! chd-rs can panic inside its own decoders on corrupt data; spindle-format-chd catches those
//! panics and reports a corrupt file. libfuzzer's panic hook would abort on them even when
//! caught, so this target installs a silent hook: a panic that is not caught (in our code)
//! still aborts, as it unwinds into libfuzzer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::{Arc, Once};

#[path = "mem.rs"]
mod mem;

static HOOK: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    HOOK.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    let _ = spindle_format_chd::metadata::parse_track(data, true);
    let _ = spindle_format_chd::metadata::parse_track(data, false);
    let owned;
    let bytes = if data.starts_with(b"MComprHD") {
        data
    } else {
        let mut h = Vec::with_capacity(124 + data.len());
        h.extend_from_slice(b"MComprHD");
        h.extend_from_slice(&124u32.to_be_bytes());
        h.extend_from_slice(&5u32.to_be_bytes());
        let codecs: [&[u8; 4]; 4] = [b"cdlz", b"cdzl", b"cdfl", b"\0\0\0\0"];
        for c in codecs {
            h.extend_from_slice(c);
        }
        let frames = 8 * (1 + data.first().copied().unwrap_or(0) as u64 % 8);
        h.extend_from_slice(&(frames * 2448).to_be_bytes());
        let off = |i: usize| 124 + data.get(i).copied().unwrap_or(0) as u64 * 4;
        h.extend_from_slice(&off(1).to_be_bytes());
        h.extend_from_slice(&off(2).to_be_bytes());
        h.extend_from_slice(&(8u32 * 2448).to_be_bytes());
        h.extend_from_slice(&2448u32.to_be_bytes());
        h.resize(124, 0);
        h.extend_from_slice(data);
        owned = h;
        &owned[..]
    };
    let src = Arc::new(mem::Mem::new(bytes.to_vec(), "/fuzz/image.chd"));
    if let Ok(disc) = spindle_format_chd::open_source(src, Path::new("/fuzz/image.chd")) {
        mem::read_tracks(&disc);
    }
});
