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
use spindle_format_mds::crypto::{
    HeaderCipher, HeaderKeys, Lrw, open_header, salt_password, track_cipher,
};
use spindle_format_mds::descriptor::{Descriptor, Version};
use spindle_format_mds::v2::{self, DataKey};
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

#[path = "mem.rs"]
mod mem;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("/fuzz/image.mdx");
    if main_header_may_open(data, path) {
        let _ = v2::decode(&mem::Mem::new(data.to_vec(), path), path);
    }

    let Ok(d) = v2::parse(
        data,
        Version::V2 {
            minor: 1,
            mdx: true,
        },
        path,
    ) else {
        return;
    };
    // Without a header that opens, inputs of odd length still get a (fixed) track cipher, so
    // that encrypted reads are reached.
    let (cipher, lenient) = match data_key(&d, data, path) {
        Some((k, tages)) => (Some(track_cipher(&k.key_data)), tages),
        None if data.len() % 2 == 1 => (Some(Lrw::new(&[0x5A; 32], &[0xA5; 16])), false),
        None => (None, false),
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

/// A data key and whether it is password-less (TAGES).
type Key = Option<(HeaderKeys, bool)>;

thread_local! {
    static KEYS: RefCell<HashMap<Vec<u8>, Key>> = RefCell::new(HashMap::new());
    static MAIN: RefCell<HashMap<Vec<u8>, bool>> = RefCell::new(HashMap::new());
}

/// False when `v2::decode` is known to fail at its main encryption header: the header was
/// seen before and did not open. Opening one runs PBKDF2 (~20 ms under the sanitizer), so
/// without this most of the time went to mutants of a file seed whose header was damaged;
/// what `decode` does before the header (`v2::locate`) is cheap and always runs.
fn main_header_may_open(data: &[u8], path: &Path) -> bool {
    let head = &data[..data.len().min(0x40)];
    let Ok((_, _, _, at)) = v2::locate(head, data.len() as u64, path) else {
        return true;
    };
    let Some(header) = data.get(at as usize..at as usize + 512) else {
        return true;
    };
    MAIN.with(|seen| {
        let mut seen = seen.borrow_mut();
        if let Some(&opens) = seen.get(header) {
            return opens;
        }
        let h: &[u8; 512] = header.try_into().unwrap();
        let opens = open_header(
            h,
            &salt_password(h[..64].try_into().unwrap()),
            HeaderCipher::CbcWhitened,
        )
        .is_some();
        if seen.len() >= 4096 {
            seen.clear();
        }
        seen.insert(header.to_vec(), opens);
        opens
    })
}

/// The data key (and whether it is password-less) from [`v2::data_key`] with password "pass".
/// It may open the header twice, each a PBKDF2 run (~20 ms under the sanitizer, where the rest
/// of an execution takes well under one); mutations mostly leave a seed's header as it is, so
/// results are remembered by the header's bytes (all that `data_key` reads besides its offset).
fn data_key(d: &Descriptor, data: &[u8], path: &Path) -> Key {
    let convert = |k| match k {
        Ok(DataKey::Tages(k)) => Some((k, true)),
        Ok(DataKey::User(k)) => Some((k, false)),
        _ => None,
    };
    let at = d.data_key_offset as usize;
    let Some(header) = data.get(at..at.saturating_add(512)).filter(|_| at != 0) else {
        return convert(v2::data_key(d, data, Some("pass"), path));
    };
    KEYS.with(|keys| {
        let mut keys = keys.borrow_mut();
        if let Some(k) = keys.get(header) {
            return k.clone();
        }
        let k = convert(v2::data_key(d, data, Some("pass"), path));
        if keys.len() >= 4096 {
            keys.clear();
        }
        keys.insert(header.to_vec(), k.clone());
        k
    })
}
