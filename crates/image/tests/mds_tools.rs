//! Other tools read what the MDS writers write: `mdf2iso` (Debian) turns our MDF of a raw
//! Mode 1 disc into the ISO `spindle convert` makes, and the reference MDX decoder
//! (../shared/notes/reference/mdx_decode.py, written from formats.md and checked on DAEMON
//! Tools' own images) decodes our compressed, encrypted MDX to the sectors of the source BIN.

use spindle_image::{ConvertOptions, WriteOptions, convert, open};
use spindle_testkit::digest::md5_file;
use spindle_testkit::samples;
use std::path::Path;
use std::process::Command;

#[test]
fn mdf2iso_reads_our_mdf() {
    let dir = tempfile::tempdir().unwrap();
    let disc = open(&samples().join("libcdio/isofs-m1.cue")).unwrap();
    let mds = dir.path().join("disc.mds");
    convert(&disc, &mds, &ConvertOptions::default(), &mut |_, _| {}).unwrap();
    // Raw sectors, as Alcohol stores a Mode 1 CD.
    assert_eq!(
        std::fs::metadata(dir.path().join("disc.mdf"))
            .unwrap()
            .len(),
        302 * 2352
    );
    let ours = dir.path().join("ours.iso");
    convert(
        &open(&mds).unwrap(),
        &ours,
        &ConvertOptions::default(),
        &mut |_, _| {},
    )
    .unwrap();
    let theirs = dir.path().join("theirs.iso");
    let out = Command::new("mdf2iso")
        .arg(dir.path().join("disc.mdf"))
        .arg(&theirs)
        .output()
        .expect("mdf2iso must be installed (scripts/setup)");
    assert!(
        out.status.success(),
        "mdf2iso: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::metadata(&ours).unwrap().len(), 302 * 2048);
    assert_eq!(md5_file(&theirs), md5_file(&ours));
}

/// Runs the reference decoder; returns the md5 it prints for each track.
fn reference_decode(mdx: &Path, password: &str) -> Vec<(u8, String)> {
    let script = samples().join("../notes/reference/mdx_decode.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(mdx)
        .arg(password)
        .output()
        .expect("python3");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "mdx_decode.py: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            let rest = l.strip_prefix("track ")?;
            let (n, rest) = rest.split_once(':')?;
            let md5 = rest.split("md5 ").nth(1)?.split(',').next()?;
            Some((n.parse().ok()?, md5.to_string()))
        })
        .collect()
}

#[test]
fn reference_decoder_reads_our_mdx() {
    let dir = tempfile::tempdir().unwrap();
    for (cue, bin) in [("isofs-m1.cue", "isofs-m1.bin"), ("cdda.cue", "cdda.bin")] {
        let disc = open(&samples().join("libcdio").join(cue)).unwrap();
        for (name, write) in [
            ("packed.mdx", WriteOptions::default()),
            (
                "secret.mdx",
                WriteOptions {
                    password: Some("pazz".into()),
                    ..Default::default()
                },
            ),
            (
                "plain-secret.mdx",
                WriteOptions {
                    password: Some("pazz".into()),
                    uncompressed: true,
                    ..Default::default()
                },
            ),
        ] {
            let mdx = dir.path().join(format!("{bin}-{name}"));
            let opts = ConvertOptions {
                write,
                ..Default::default()
            };
            convert(&disc, &mdx, &opts, &mut |_, _| {}).unwrap();
            let tracks = reference_decode(&mdx, "pazz");
            assert_eq!(
                tracks,
                vec![(1, md5_file(&samples().join("libcdio").join(bin)))],
                "{cue} as {name}"
            );
        }
    }
}
