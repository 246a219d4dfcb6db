//! Compressed images through the registry: `.iso.zst`, `.iso.xz`, `.iso.gz` read like the
//! plain ISO; a cue sheet's BIN may be compressed (named as `disc.bin` or `disc.bin.xz`); an
//! MDX inside gzip opens; filesystems list from a compressed image.

use spindle_image::{Disc, open, open_with, verify};
use spindle_testkit::samples;
use std::path::Path;
use std::process::Command;

fn compress(tool: &str, args: &[&str], file: &Path) {
    let out = Command::new(tool)
        .args(args)
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("{tool}: {e} (scripts/setup installs it)"));
    assert!(
        out.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn hashes(d: &Disc) -> Vec<String> {
    verify(d, &mut |_, _| {})
        .unwrap()
        .tracks
        .into_iter()
        .map(|t| t.sha1)
        .collect()
}

#[test]
fn compressed_iso_reads_like_the_plain_file() {
    let dir = tempfile::tempdir().unwrap();
    let src = samples().join("libcdio/joliet.iso");
    let plain = open(&src).unwrap();
    let want = hashes(&plain);
    for (tool, args, ext) in [
        ("zstd", &["-q", "-k", "-f"][..], "zst"),
        ("xz", &["-q", "-k", "-f", "-0"][..], "xz"),
        ("gzip", &["-q", "-k", "-f"][..], "gz"),
    ] {
        let iso = dir.path().join("disc.iso");
        std::fs::copy(&src, &iso).unwrap();
        compress(tool, args, &iso);
        // A different plain disc.iso beside it must not be read instead.
        std::fs::copy(samples().join("libcdio/copying.iso"), &iso).unwrap();
        let packed = dir.path().join(format!("disc.iso.{ext}"));
        let disc = open(&packed).unwrap_or_else(|e| panic!("{ext}: {e:?}"));
        assert_eq!(disc.source.format, "iso");
        assert_eq!(hashes(&disc), want, "{ext}");
        assert_eq!(disc.source.files, vec![packed.clone()]);
        let fs = spindle_image::filesystem(&std::sync::Arc::new(disc), None).unwrap();
        assert_eq!(
            fs.label(),
            spindle_image::filesystem(&std::sync::Arc::new(plain.clone()), None)
                .unwrap()
                .label()
        );
        std::fs::remove_file(&packed).unwrap();
    }
}

#[test]
fn cue_sheet_with_compressed_bins() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::copy(
        samples().join("libcdio/isofs-m1.cue"),
        d.join("isofs-m1.cue"),
    )
    .unwrap();
    std::fs::copy(
        samples().join("libcdio/isofs-m1.bin"),
        d.join("isofs-m1.bin"),
    )
    .unwrap();
    let want = hashes(&open(&d.join("isofs-m1.cue")).unwrap());
    compress("xz", &["-q", "-f", "-0"], &d.join("isofs-m1.bin"));
    assert!(!d.join("isofs-m1.bin").exists());
    // The sheet still names isofs-m1.bin: isofs-m1.bin.xz is found.
    let disc = open(&d.join("isofs-m1.cue")).unwrap();
    assert_eq!(hashes(&disc), want);
    // A sheet that names the compressed file.
    let text = std::fs::read_to_string(d.join("isofs-m1.cue"))
        .unwrap()
        .replace("isofs-m1.bin", "isofs-m1.bin.xz")
        .replace("ISOFS-M1.BIN", "isofs-m1.bin.xz");
    std::fs::write(d.join("named.cue"), text).unwrap();
    assert_eq!(hashes(&open(&d.join("named.cue")).unwrap()), want);
}

#[test]
fn mdx_inside_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let mdx = dir.path().join("test_pass.mdx");
    std::fs::copy(samples().join("mdsx/test_pass.mdx"), &mdx).unwrap();
    compress("gzip", &["-q", "-f"], &mdx);
    let disc = open_with(&dir.path().join("test_pass.mdx.gz"), Some("pass".into())).unwrap();
    assert_eq!(disc.source.format, "mds");
    let iso = open(&samples().join("mdsx/mdxtest.iso")).unwrap();
    assert_eq!(hashes(&disc), hashes(&iso));
}

#[test]
fn a_damaged_container_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.iso.xz");
    std::fs::write(&p, b"\xFD7zXZ\0 this is not an xz stream").unwrap();
    let err = format!("{:?}", open(&p).unwrap_err());
    assert!(err.contains("bad.iso.xz"), "{err}");
    // A name that says gzip over bytes that are not: read as the plain file.
    let q = dir.path().join("plain.iso.gz");
    std::fs::copy(samples().join("libcdio/joliet.iso"), &q).unwrap();
    assert_eq!(open(&q).unwrap().source.format, "iso");
}

/// Single-file formats inside a container: NRG, CDI and CHD read like the plain files.
#[test]
fn single_file_formats_inside_containers() {
    let dir = tempfile::tempdir().unwrap();
    for (rel, name) in [
        ("libcdio/videocd.nrg", "v.nrg"),
        ("cditools/test.cdi", "t.cdi"),
        ("generated-chd/cdda.chd", "c.chd"),
    ] {
        let plain = open(&samples().join(rel)).unwrap();
        let p = dir.path().join(name);
        std::fs::copy(samples().join(rel), &p).unwrap();
        compress("xz", &["-q", "-f", "-0"], &p);
        let disc =
            open(&dir.path().join(format!("{name}.xz"))).unwrap_or_else(|e| panic!("{rel}: {e:?}"));
        assert_eq!(disc.source.format, plain.source.format, "{rel}");
        assert_eq!(hashes(&disc), hashes(&plain), "{rel}");
    }
}
