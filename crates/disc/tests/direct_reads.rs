//! `prefer_direct_reads`: a FileSource opened after it reads aligned runs with O_DIRECT and
//! everything else through the page cache, and every read returns the file's bytes, the
//! short one at the end included.

use spindle_bytes::ByteSource;
use spindle_disc::{FileSource, prefer_direct_reads};

#[repr(C, align(4096))]
#[derive(Clone, Copy)]
struct Page([u8; 4096]);

#[test]
fn direct_and_plain_reads_give_the_same_bytes() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let path = dir.path().join("image.iso");
    // 1 MiB and a half sector: the last read is short and unaligned.
    let len = (1 << 20) + 1024;
    let bytes: Vec<u8> = (0..len).map(|i| (i * 7 + i / 2048) as u8).collect();
    std::fs::write(&path, &bytes).unwrap();
    prefer_direct_reads(true);
    let src = FileSource::open(&path).unwrap();
    prefer_direct_reads(false);
    let mut pages = vec![Page([0; 4096]); 64];
    // SAFETY: Page is 4096 plain bytes without padding: the Vec's storage is initialised
    // bytes, borrowed mutably as the Vec is.
    let buf = unsafe {
        std::slice::from_raw_parts_mut(pages.as_mut_ptr().cast::<u8>(), pages.len() * 4096)
    };
    // Aligned address, offset and length: the direct path.
    let n = src.read_at(&mut buf[..128 << 10], 2048 * 16).unwrap();
    assert_eq!(n, 128 << 10);
    assert_eq!(&buf[..n], &bytes[2048 * 16..2048 * 16 + n]);
    assert!(
        src.reads_directly(),
        "O_DIRECT taken (the target dir is on a disk)"
    );
    // An unaligned address: the page cache.
    let n = src.read_at(&mut buf[1..2049], 4096).unwrap();
    assert_eq!(&buf[1..1 + n], &bytes[4096..4096 + 2048]);
    // Aligned, running past the end: what is there, the tail read normally.
    buf.fill(0xEE);
    let from = (1 << 20) - 4096;
    let n = src.read_at(&mut buf[..16384], from as u64).unwrap();
    assert_eq!(n, len - from);
    assert_eq!(&buf[..n], &bytes[from..]);
    assert!(
        buf[n..16384].iter().all(|&b| b == 0xEE),
        "nothing past the end"
    );
    // A source opened without the preference reads the same.
    let plain = FileSource::open(&path).unwrap();
    assert!(!plain.reads_directly());
    let mut other = vec![0u8; 128 << 10];
    plain.read_at(&mut other, 2048 * 16).unwrap();
    assert_eq!(other, bytes[2048 * 16..2048 * 16 + (128 << 10)]);
}
