//! DiscJuggler CDI descriptors on arbitrary bytes: the first byte picks the version (2.0,
//! 3.0, 3.5), the rest is the descriptor, placed after 64 KiB of patterned track data and
//! followed by a footer that finds it; then the disc is built over the image in memory and
//! every track is read. The raw input is also opened as a whole image (footer included).
//! Never a panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::Arc;

#[path = "mem.rs"]
mod mem;

const DATA: usize = 64 << 10;

fn open(image: Arc<[u8]>) {
    let path = Path::new("/fuzz/image.cdi");
    let src = Arc::new(mem::Mem::new(image, path));
    if let Ok(disc) = spindle_format_cdi::open_source(src, path) {
        mem::read_tracks(&disc);
    }
}

fuzz_target!(|data: &[u8]| {
    open(data.to_vec().into());
    let Some((&pick, descriptor)) = data.split_first() else {
        return;
    };
    let version: u32 = 0x8000_0004 + (pick % 3) as u32;
    let mut image = mem::padded(&[], DATA).to_vec();
    image.extend_from_slice(descriptor);
    image.extend_from_slice(&version.to_le_bytes());
    let offset = if version == 0x8000_0006 {
        descriptor.len() as u32 + 8
    } else {
        DATA as u32
    };
    image.extend_from_slice(&offset.to_le_bytes());
    open(image.into());
});
