//! The rip hashes against the tools: md5sum, sha1sum, and the CRC32 in a gzip trailer.

use spindle_rip::hash::Hasher;
use spindle_testkit::digest::tool_sum;
use std::path::Path;
use std::process::Command;

/// gzip's trailer holds the CRC-32 of the input (little-endian) and its size mod 2^32.
fn gzip_crc(path: &Path) -> String {
    let out = Command::new("gzip")
        .args(["-c", "-1"])
        .arg(path)
        .output()
        .expect("gzip");
    let t = &out.stdout[out.stdout.len() - 8..];
    format!("{:08x}", u32::from_le_bytes([t[0], t[1], t[2], t[3]]))
}

#[test]
fn digests_match_the_tools() {
    let root = spindle_testkit::samples();
    for rel in ["debian-ipxe/ipxe.iso", "libcdio/cdda.bin", "mdsx/test.mds"] {
        let p = root.join(rel);
        let d = Hasher::of_file(&p, 0, None).unwrap();
        assert_eq!(d.size, std::fs::metadata(&p).unwrap().len());
        assert_eq!(d.md5, tool_sum("md5sum", &p), "{rel}");
        assert_eq!(d.sha1, tool_sum("sha1sum", &p), "{rel}");
        assert_eq!(d.crc32, gzip_crc(&p), "{rel}");
    }
    // A slice of a file (one track of an image) hashes as that slice.
    let p = root.join("libcdio/cdda.bin");
    let whole = std::fs::read(&p).unwrap();
    let mut h = Hasher::new();
    h.update(&whole[2352..2352 * 10]);
    assert_eq!(
        Hasher::of_file(&p, 2352, Some(2352 * 9)).unwrap(),
        h.finish()
    );
}

/// Redump-form track digests: track 1 of a CUE/BIN from LBA 0 is its BIN file; a later track
/// starts with its pregap (here 150 unstored sectors of silence) then its BIN.
#[test]
fn track_digests_are_the_track_files() {
    let root = spindle_testkit::samples();
    let d = spindle_image::open(&root.join("libcdio/cdda.cue")).unwrap();
    let t = spindle_rip::hash::track_digests(&d).unwrap();
    assert_eq!(t.len(), 1);
    assert_eq!(
        t[0].1.md5,
        tool_sum("md5sum", &root.join("libcdio/cdda.bin"))
    );
    let d = spindle_image::open(&root.join("generated-chd/mixed-mode1-audio.chd")).unwrap();
    let t = spindle_rip::hash::track_digests(&d).unwrap();
    assert_eq!(
        t[0].1.sha1,
        tool_sum("sha1sum", &root.join("libcdio/isofs-m1.bin"))
    );
    let mut h = Hasher::new();
    h.update(&vec![0u8; 150 * 2352]);
    h.update(&std::fs::read(root.join("libcdio/cdda_4_5.bin")).unwrap());
    assert_eq!(t[1].1, h.finish());
}
