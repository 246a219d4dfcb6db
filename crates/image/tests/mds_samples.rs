//! The DAEMON Tools samples (../shared/samples/mdsx, formats.md §1.8): every MDS v2 and MDX
//! container, plain, compressed, encrypted and both, converts to the very ISO they were made
//! from; encrypted ones tell a missing password from a wrong one.

use spindle_image::{ConvertOptions, ImageError, convert, open_with};
use spindle_testkit::digest::md5_file;
use std::path::PathBuf;

const MDXTEST_MD5: &str = "6583ef09ef598d1b5ad926536c50339a";

fn sample(name: &str) -> PathBuf {
    spindle_testkit::sample("mdsx").join(name)
}

/// The nine containers and their passwords.
const CONTAINERS: [(&str, Option<&str>); 9] = [
    ("test.mds", None),
    ("test.mdx", None),
    ("test_compress.mds", None),
    ("test_compress.mdx", None),
    ("test_pass.mds", Some("pass")),
    ("test_pass.mdx", Some("pass")),
    ("test_pass_compress.mds", Some("pass")),
    ("test_pass_compress.mdx", Some("pass")),
    ("test_pazz.mds", Some("pazz")),
];

#[test]
fn every_container_converts_to_the_source_iso() {
    assert_eq!(md5_file(&sample("mdxtest.iso")), MDXTEST_MD5);
    let out = tempfile::tempdir().unwrap();
    for (name, password) in CONTAINERS {
        let disc = open_with(&sample(name), password.map(str::to_string))
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(disc.source.format, "mds", "{name}");
        let iso = out.path().join(format!("{name}.iso"));
        convert(&disc, &iso, &ConvertOptions::default(), &mut |_, _| {}).unwrap();
        assert_eq!(md5_file(&iso), MDXTEST_MD5, "{name}");
    }
}

#[test]
fn passwords_missing_and_wrong_are_told_apart() {
    for (name, password) in CONTAINERS.iter().filter(|(_, p)| p.is_some()) {
        let missing = open_with(&sample(name), None).unwrap_err();
        assert!(missing.needs_password(), "{name}: {missing:?}");
        let text = format!("{:?}", anyhow_chain(&missing));
        assert!(
            text.contains("encrypted with a password") && text.contains(name),
            "{name}: {text}"
        );
        let wrong = open_with(&sample(name), Some(format!("{}x", password.unwrap()))).unwrap_err();
        assert!(!wrong.needs_password(), "{name}");
        let text = anyhow_chain(&wrong);
        assert!(
            text.contains("wrong password") && text.contains(name),
            "{name}: {text}"
        );
    }
    // An unencrypted image ignores a password.
    assert!(open_with(&sample("test.mdx"), Some("pass".into())).is_ok());
}

/// The error and its sources, as the CLI prints them.
fn anyhow_chain(e: &ImageError) -> String {
    let mut out = e.to_string();
    let mut cur: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(c) = cur {
        out.push_str(" / ");
        out.push_str(&c.to_string());
        cur = c.source();
    }
    out
}

/// TAGES-style images: the track data is encrypted, but the data key is sealed with the
/// password derived from its salt, so no password is asked. Made here from an MDX spindle
/// wrote with a password, by resealing its data key the TAGES way.
#[test]
fn password_less_encryption_opens_without_a_password() {
    use flate2::{Compression, write::ZlibEncoder};
    use spindle_format_mds::crypto::{self, HeaderCipher, HeaderKeys};
    use spindle_format_mds::v2;
    use std::io::Write;

    let dir = tempfile::tempdir().unwrap();
    let disc = open_with(&sample("mdxtest.iso"), None).unwrap();
    let mdx = dir.path().join("tages.mdx");
    let opts = ConvertOptions {
        write: spindle_image::WriteOptions {
            password: Some("user".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    convert(&disc, &mdx, &opts, &mut |_, _| {}).unwrap();
    let mut file = std::fs::read(&mdx).unwrap();
    let src = spindle_disc::FileSource::open(&mdx).unwrap();
    let dec = v2::decode(&src, &mdx).unwrap();
    let mut desc = dec.descriptor;
    let at = u32::from_le_bytes(desc[0x58..0x5C].try_into().unwrap()) as usize;
    let header: [u8; 512] = desc[at..at + 512].try_into().unwrap();
    let salt: [u8; 64] = header[..64].try_into().unwrap();
    let keys = crypto::open_header(&header, b"user", HeaderCipher::Lrw).unwrap();
    desc[at..at + 512].copy_from_slice(&crypto::seal_header(
        &keys,
        &crypto::salt_password(&salt),
        &salt,
        HeaderCipher::Lrw,
    ));
    // Re-encrypt the descriptor in place of the old one (same length: only key bytes changed
    // before compression, so compress and pad again, and rewrite the footer fields).
    let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
    z.write_all(&desc[v2::PREFIX..]).unwrap();
    let mut enc = z.finish().unwrap();
    let main = HeaderKeys {
        key_data: [7u8; 256],
        compressed_size: enc.len() as u32,
        decompressed_size: (desc.len() - v2::PREFIX) as u32,
    };
    enc.resize(enc.len().div_ceil(16) * 16, 0);
    crypto::encrypt_descriptor(&main.key_data, &mut enc);
    let footer_off = u64::from_le_bytes(file[0x30..0x38].try_into().unwrap()) as usize;
    let msalt = [9u8; 64];
    file.truncate(footer_off);
    file.extend_from_slice(&enc);
    file.extend_from_slice(&crypto::seal_header(
        &main,
        &crypto::salt_password(&msalt),
        &msalt,
        HeaderCipher::CbcWhitened,
    ));
    file[0x38..0x40].copy_from_slice(&(enc.len() as u64 + 64).to_le_bytes());
    std::fs::write(&mdx, &file).unwrap();
    let back = open_with(&mdx, None).unwrap();
    assert!(
        back.source.variant.contains("encrypted (no password)"),
        "{}",
        back.source.variant
    );
    let iso = dir.path().join("back.iso");
    convert(&back, &iso, &ConvertOptions::default(), &mut |_, _| {}).unwrap();
    assert_eq!(md5_file(&iso), MDXTEST_MD5);
}
