//! MDS v2/MDX on arbitrary bytes, two ways:
//! - as a decrypted, inflated descriptor: the parser, the data encryption header (password
//!   "pass"), then building a disc whose data (MDX footers and named files alike) is the input
//!   followed by a pattern, 64 KiB at least, and reading sectors of every track;
//! - as a whole MDS v2/MDX file: locating, decrypting and inflating its descriptor.
//!
//! Never a panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spindle_disc::ByteSource;
use spindle_format_mds::build::{BuildContext, build};
use spindle_format_mds::crypto::{Lrw, track_cipher};
use spindle_format_mds::descriptor::Version;
use spindle_format_mds::v2::{self, DataKey};
use std::path::Path;
use std::sync::Arc;

#[path = "mem.rs"]
mod mem;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("/fuzz/image.mdx");
    let whole = mem::Mem::new(data.into(), path);
    let _ = v2::decode(&whole, path);

    let Ok(d) = v2::parse(data, Version::V2 { minor: 1, mdx: true }, path) else { return };
    let key = v2::data_key(&d, data, Some("pass"), path);
    // Without a header that opens, inputs of odd length still get a (fixed) track cipher, so
    // that encrypted reads are reached.
    let (cipher, lenient) = match key {
        Ok(DataKey::Tages(k)) => (Some(track_cipher(&k.key_data)), true),
        Ok(DataKey::User(k)) => (Some(track_cipher(&k.key_data)), false),
        _ if data.len() % 2 == 1 => (Some(Lrw::new(&[0x5A; 32], &[0xA5; 16])), false),
        _ => (None, false),
    };
    let bytes = mem::padded(data, 64 << 10);
    let files = mem::MemFiles(bytes.clone());
    let mdx: Arc<dyn ByteSource> = Arc::new(mem::Mem::new(bytes, path));
    let ctx = BuildContext {
        path,
        companions: &files,
        mdx: Some(mdx),
        cipher: cipher.map(Arc::new),
        lenient_lengths: lenient,
        variant: String::new(),
    };
    if let Ok(disc) = build(&d, &ctx) {
        mem::read_tracks(&disc);
    }
});
