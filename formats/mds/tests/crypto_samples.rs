//! Checks the crypto module against the DAEMON Tools sample images in shared/samples/mdsx
//! (formats.md §1.1-1.8): every .mds/.mdx main header and descriptor, every data encryption header,
//! and LRW-encrypted track data compared with the plain ISO.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use spindle_format_mds::crypto::{
    HeaderCipher, HeaderKeys, decrypt_descriptor, first_tweak, open_header, salt_password,
    seal_header, track_cipher,
};

fn u32_at(d: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(d[at..at + 4].try_into().unwrap())
}

fn u64_at(d: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(d[at..at + 8].try_into().unwrap())
}

fn header_at(d: &[u8], at: usize) -> [u8; 512] {
    d[at..at + 512].try_into().unwrap()
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(spindle_testkit::sample("mdsx").join(name)).unwrap()
}

/// The sample's expected password, if its track data is encrypted.
fn password_for(path: &Path) -> Option<&'static [u8]> {
    let name = path.file_name().unwrap().to_str().unwrap();
    if name.starts_with("test_pass") {
        Some(b"pass")
    } else if name.starts_with("test_pazz") {
        Some(b"pazz")
    } else {
        None
    }
}

/// Opens the main header of an .mds/.mdx file and returns the full descriptor (18-byte prefix included).
fn descriptor(file: &[u8]) -> Vec<u8> {
    assert_eq!(&file[..16], b"MEDIA DESCRIPTOR");
    assert_eq!(file[16], 2);
    let (header_off, desc_off, desc_len) = match u32_at(file, 0x2C) {
        0xFFFF_FFFF => {
            let (foot_off, foot_len) = (u64_at(file, 0x30) as usize, u64_at(file, 0x38) as usize);
            (foot_off + foot_len - 64, foot_off, foot_len - 64)
        }
        off => (off as usize, 0x30, off as usize - 0x30),
    };
    let header = header_at(file, header_off);
    let salt = header[..64].try_into().unwrap();
    let keys =
        open_header(&header, &salt_password(salt), HeaderCipher::CbcWhitened).expect("main header");
    assert_eq!(desc_len, (keys.compressed_size as usize).div_ceil(16) * 16);
    let mut plain = file[desc_off..desc_off + desc_len].to_vec();
    decrypt_descriptor(&keys.key_data, &mut plain);
    let mut out = file[..18].to_vec();
    flate2::read::ZlibDecoder::new(&plain[..keys.compressed_size as usize])
        .read_to_end(&mut out)
        .unwrap();
    assert_eq!(out.len(), 18 + keys.decompressed_size as usize);
    // Sealing the same keys with the same salt reproduces the header byte for byte.
    assert_eq!(
        seal_header(&keys, &salt_password(salt), salt, HeaderCipher::CbcWhitened),
        header
    );
    out
}

/// The data encryption header of a descriptor, if any.
fn data_header(desc: &[u8]) -> Option<[u8; 512]> {
    match u32_at(desc, 0x58) as usize {
        0 => None,
        off => Some(header_at(desc, off)),
    }
}

fn samples_with(ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(spindle_testkit::sample("mdsx"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    v.sort();
    v
}

#[test]
fn headers_and_descriptors_of_all_samples() {
    let files: Vec<_> = samples_with("mds")
        .into_iter()
        .chain(samples_with("mdx"))
        .collect();
    assert_eq!(files.len(), 9);
    for path in files {
        let desc = descriptor(&std::fs::read(&path).unwrap());
        let expected = password_for(&path);
        let Some(header) = data_header(&desc) else {
            assert!(
                expected.is_none(),
                "{path:?} should have a data encryption header"
            );
            continue;
        };
        let password = expected.expect("only password samples have a data header");
        let salt = header[..64].try_into().unwrap();
        assert_eq!(
            open_header(&header, &salt_password(salt), HeaderCipher::Lrw),
            None,
            "{path:?}: not TAGES-style"
        );
        let wrong: &[u8] = if password == b"pass" {
            b"pazz"
        } else {
            b"pass"
        };
        assert_eq!(
            open_header(&header, wrong, HeaderCipher::Lrw),
            None,
            "{path:?}: wrong password"
        );
        let keys = open_header(&header, password, HeaderCipher::Lrw).expect("right password");
        assert_eq!(
            seal_header(&keys, password, salt, HeaderCipher::Lrw),
            header,
            "{path:?}: reseal"
        );
        println!(
            "{path:?}: descriptor {} bytes, data header opened with {:?}",
            desc.len(),
            String::from_utf8_lossy(password)
        );
    }
}

/// Data keys of an encrypted sample and the (start offset, sector size) of its only track.
fn data_keys_and_track(desc: &[u8], password: &[u8]) -> (HeaderKeys, usize, usize) {
    let keys = open_header(&data_header(desc).unwrap(), password, HeaderCipher::Lrw).unwrap();
    let session = u32_at(desc, 0x50) as usize;
    let blocks = u32_at(desc, session + 0x14) as usize;
    let track = (0..desc[session + 0x0A] as usize)
        .map(|i| &desc[blocks + 80 * i..blocks + 80 * i + 80])
        .find(|t| t[4] < 99 && t[0] & 7 != 0)
        .unwrap();
    (
        keys,
        u64_at(track, 0x28) as usize,
        u16::from_le_bytes([track[0x10], track[0x11]]) as usize,
    )
}

#[test]
fn track_sectors_decrypt_to_the_iso() {
    let iso = sample("mdxtest.iso");
    let desc = descriptor(&sample("test_pass.mds"));
    let (keys, start, sector_size) = data_keys_and_track(&desc, b"pass");
    assert_eq!((start, sector_size), (0, 2048));
    let mdf = sample("test_pass.mdf");
    let lrw = track_cipher(&keys.key_data);
    for sector in [0usize, 16] {
        let mut data = mdf[sector * 2048..(sector + 1) * 2048].to_vec();
        assert_ne!(data, iso[sector * 2048..(sector + 1) * 2048]);
        lrw.decrypt(&mut data, first_tweak(sector as u64, 2048));
        assert_eq!(
            data,
            iso[sector * 2048..(sector + 1) * 2048],
            "sector {sector}"
        );
    }
    assert_eq!(&iso[16 * 2048..16 * 2048 + 6], b"\x01CD001");
}

#[test]
fn whole_encrypted_tracks_decrypt_to_the_iso() {
    let iso = sample("mdxtest.iso");
    for (image, data_file, password) in [
        ("test_pass.mds", "test_pass.mdf", b"pass"),
        ("test_pazz.mds", "test_pazz.mdf", b"pazz"),
        ("test_pass.mdx", "test_pass.mdx", b"pass"),
    ] {
        let desc = descriptor(&sample(image));
        let (keys, start, sector_size) = data_keys_and_track(&desc, password);
        let mut track = sample(data_file)[start..start + iso.len()].to_vec();
        // Contiguous 2048-byte sectors have contiguous tweaks, so one call covers the whole track.
        track_cipher(&keys.key_data).decrypt(&mut track, first_tweak(0, sector_size));
        assert!(track == iso, "{image}");
    }
}

/// Compressed + encrypted samples: each stored group is one LRW unit (its trailing `len % 16` bytes stay
/// plain) starting at the tweak of the group's first sector; RLE groups store nothing (§1.7).
#[test]
fn compressed_encrypted_tracks_decrypt_to_the_iso() {
    let iso = sample("mdxtest.iso");
    for (image, data_file) in [
        ("test_pass_compress.mds", "test_pass_compress.mdf"),
        ("test_pass_compress.mdx", "test_pass_compress.mdx"),
    ] {
        let desc = descriptor(&sample(image));
        let (keys, start, s) = data_keys_and_track(&desc, b"pass");
        let data = sample(data_file);
        let session = u32_at(&desc, 0x50) as usize;
        let blocks = u32_at(&desc, session + 0x14) as usize;
        let track = (0..desc[session + 0x0A] as usize)
            .map(|i| blocks + 80 * i)
            .find(|&t| desc[t + 4] < 99 && desc[t] & 7 != 0)
            .unwrap();
        let footer = u32_at(&desc, track + 0x34) as usize;
        assert_eq!(desc[footer + 4] & 1, 1, "{image}: compressed");
        let (g, sectors, table_off) = (
            u32_at(&desc, footer + 0x0C) as usize,
            u64_at(&desc, footer + 0x10) as usize,
            u64_at(&desc, footer + 0x18),
        );
        let n_groups = sectors.div_ceil(g);
        let mut table = Vec::new();
        flate2::read::ZlibDecoder::new(&data[start + table_off as usize..])
            .take(2 * n_groups as u64)
            .read_to_end(&mut table)
            .unwrap();
        let (lrw, mut pos, mut track_data) = (track_cipher(&keys.key_data), start, Vec::new());
        for (group, entry) in table
            .chunks_exact(2)
            .map(|e| u16::from_le_bytes([e[0], e[1]]) as usize)
            .enumerate()
        {
            let len = g.min(sectors - group * g) * s;
            let stored = match entry {
                0 => len,
                e if e & 0x8000 != 0 => {
                    track_data.resize(track_data.len() + len, e as u8);
                    continue;
                }
                e => e,
            };
            let mut unit = data[pos..pos + stored].to_vec();
            pos += stored;
            lrw.decrypt(&mut unit, first_tweak((group * g) as u64, s));
            if entry == 0 {
                track_data.extend_from_slice(&unit);
            } else {
                assert_ne!(
                    stored % 16,
                    0,
                    "the samples' deflate group has a plain tail"
                );
                flate2::read::DeflateDecoder::new(&unit[..])
                    .read_to_end(&mut track_data)
                    .unwrap();
            }
        }
        assert!(track_data == iso, "{image}");
    }
}

#[test]
fn lrw_throughput() {
    let lrw = track_cipher(&[0x5A; 256]);
    let size = if cfg!(debug_assertions) {
        4 << 20
    } else {
        64 << 20
    };
    let mut data: Vec<u8> = (0..size).map(|i| i as u8).collect(); // touched, so no page faults are timed
    let start = Instant::now();
    for (i, sector) in data.chunks_mut(2048).enumerate() {
        lrw.decrypt(sector, first_tweak(i as u64, 2048));
    }
    let per_sector = start.elapsed();
    let start = Instant::now();
    lrw.decrypt(&mut data, 1);
    let whole = start.elapsed();
    let mbs = |t: std::time::Duration| size as f64 / 1e6 / t.as_secs_f64();
    println!(
        "LRW decrypt {} MiB: {:.0} MB/s per 2048-byte sector, {:.0} MB/s in one call",
        size >> 20,
        mbs(per_sector),
        mbs(whole)
    );
}
