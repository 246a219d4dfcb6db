//! The DAEMON Tools samples (../shared/samples/mdsx, formats.md §1.8): every MDS v2 and MDX
//! container, plain, compressed, encrypted and both, converts to the very ISO they were made
//! from; encrypted ones tell a missing password from a wrong one.

use md5::{Digest, Md5};
use spindle_image::{ConvertOptions, ImageError, convert, open_with};
use std::path::{Path, PathBuf};

const MDXTEST_MD5: &str = "6583ef09ef598d1b5ad926536c50339a";

fn sample(name: &str) -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/samples/mdsx")).join(name)
}

fn md5_file(p: &Path) -> String {
    format!("{:x}", Md5::digest(std::fs::read(p).unwrap()))
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
        let disc = open_with(&sample(name), password.map(str::to_string)).unwrap_or_else(|e| panic!("{name}: {e:?}"));
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
        assert!(text.contains("encrypted with a password") && text.contains(name), "{name}: {text}");
        let wrong = open_with(&sample(name), Some(format!("{}x", password.unwrap()))).unwrap_err();
        assert!(!wrong.needs_password(), "{name}");
        let text = anyhow_chain(&wrong);
        assert!(text.contains("wrong password") && text.contains(name), "{name}: {text}");
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
