//! One catalogue, one set of bytes: for every sample image the registry opens and for a
//! generated two-session mixed-mode disc, every entry of the disc's catalogue
//! (`spindle_disc::Catalogue`) read
//! (a) through the catalogue in this process,
//! (b) through the daemon's FUSE raw views (`raw/drives/0/<entry>`),
//! (c) through the daemon's NBD export `drive0/<entry>` with `nbdcopy`, and
//! (d) through the burner's source
//! has the same length and SHA-256. The aliases `drive0` and `drive0.raw` are `disc.iso`
//! and `disc.raw`, and FUSE and NBD list exactly the catalogue's names. Files the registry
//! does not open are listed with the reason, never left out silently.

mod daemon_common;

use daemon_common::{Env, run_timeout, sample};
use sha2::{Digest, Sha256};
use spindle_disc::{Catalogue, Entry, EntryKind};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

/// Length and SHA-256 (hex) of some bytes.
fn digest(b: &[u8]) -> (u64, String) {
    let h = Sha256::digest(b);
    (
        b.len() as u64,
        h.iter().map(|x| format!("{x:02x}")).collect(),
    )
}

/// Every file under the samples directory, sorted, but the notes about them.
fn sample_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![sample("")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
            } else if !matches!(
                p.extension().and_then(|x| x.to_str()),
                Some("md" | "tsv" | "right")
            ) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The password of an encrypted mdsx sample: in its file name (samples/SOURCES.md).
fn password_of(p: &Path) -> Option<String> {
    let name = p.file_name()?.to_str()?;
    ["pass", "pazz"]
        .into_iter()
        .find(|pw| name.starts_with(&format!("test_{pw}")))
        .map(String::from)
}

/// The disc as the registry opens it, and the password it took.
fn open(p: &Path) -> Result<(Arc<spindle_disc::Disc>, Option<String>), String> {
    let pw = password_of(p);
    match spindle_image::open_with(p, None) {
        Ok(d) => Ok((Arc::new(d), None)),
        Err(e) if e.needs_password() && pw.is_some() => spindle_image::open_with(p, pw.clone())
            .map(|d| (Arc::new(d), pw))
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// A two-session mixed-mode CD as CUE/BIN: a Mode 1 track (libcdio's isofs-m1 data), an
/// audio track behind an unstored two-second pregap, an audio track with a stored pregap,
/// then a second session holding another Mode 1 track.
fn mixed_disc(dir: &Path) -> PathBuf {
    let data = std::fs::read(sample("libcdio/isofs-m1.bin")).unwrap();
    let mut x = 0x2545_F491_u32;
    let audio: Vec<u8> = (0..(300 + 75 + 200) * 2352)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    std::fs::write(dir.join("s1.bin"), [&data[..], &audio[..]].concat()).unwrap();
    std::fs::write(dir.join("s2.bin"), &data).unwrap();
    let d = data.len() / 2352;
    let msf = |s: usize| format!("{:02}:{:02}:{:02}", s / 4500, s / 75 % 60, s % 75);
    let cue = dir.join("mixed.cue");
    std::fs::write(
        &cue,
        format!(
            "FILE \"s1.bin\" BINARY\n  TRACK 01 MODE1/2352\n    INDEX 01 00:00:00\n\
             \x20 TRACK 02 AUDIO\n    PREGAP 00:02:00\n    INDEX 01 {}\n\
             \x20 TRACK 03 AUDIO\n    INDEX 00 {}\n    INDEX 01 {}\n\
             REM SESSION 02\n\
             FILE \"s2.bin\" BINARY\n  TRACK 04 MODE1/2352\n    INDEX 01 00:00:00\n",
            msf(d),
            msf(d + 300),
            msf(d + 375)
        ),
    )
    .unwrap();
    cue
}

fn nbd_uri(env: &Env, export: &str) -> String {
    format!(
        "nbd+unix:///{export}?socket={}",
        env.runtime().join("spindle/nbd.sock").display()
    )
}

/// The bytes of an NBD export, copied by `nbdcopy` to its standard output.
fn nbdcopy(env: &Env, export: &str) -> Vec<u8> {
    let mut c = Command::new("nbdcopy");
    c.args([&nbd_uri(env, export), "-"]);
    let o = run_timeout(c, Duration::from_secs(30));
    assert!(
        o.status.success(),
        "nbdcopy {export}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o.stdout
}

/// The export names `nbdinfo --list` gives.
fn nbd_names(env: &Env) -> BTreeSet<String> {
    let mut c = Command::new("nbdinfo");
    c.args(["--list", "--json", &nbd_uri(env, "")]);
    let o = run_timeout(c, Duration::from_secs(30));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v["exports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["export-name"].as_str().unwrap().to_string())
        .collect()
}

/// The names of the files under a FUSE drive directory, `tracks/` ones with their prefix.
fn fuse_names(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if e.file_type().unwrap().is_dir() {
            for t in std::fs::read_dir(e.path()).unwrap().flatten() {
                out.insert(format!("{name}/{}", t.file_name().to_string_lossy()));
            }
        } else {
            out.insert(name);
        }
    }
    out
}

/// The bytes the burner writes of an entry: its source made of the entry's bytes, read the
/// way the writer reads (front to back, in 1 MiB chunks).
fn burner(e: &Entry, disc: &Arc<spindle_disc::Disc>) -> Vec<u8> {
    let s = spindle_burn::Source::from_bytes(e.bytes().clone(), e.name(), Some(disc.clone()));
    let mut out = Vec::with_capacity(s.len() as usize);
    s.read_all(1 << 20, |_, b| {
        out.extend_from_slice(b);
        Ok(())
    })
    .unwrap();
    out
}

/// The bytes the burner writes when given the image itself: the first data track's user
/// data, which must be the catalogue's `disc.iso`.
fn burner_of_image(image: &Path, c: &Catalogue) -> Vec<u8> {
    let s = spindle_burn::Source::from_disc(image, c.disc().clone()).unwrap();
    let mut out = Vec::with_capacity(s.len() as usize);
    s.read_all(1 << 20, |_, b| {
        out.extend_from_slice(b);
        Ok(())
    })
    .unwrap();
    out
}

#[test]
fn every_entry_reads_the_same_through_catalogue_fuse_nbd_and_burner() {
    let env = Env::new(300);
    let work = tempfile::tempdir().unwrap();
    let mut images: Vec<PathBuf> = Vec::new();
    let mut refused = Vec::new();
    for p in sample_files() {
        match open(&p) {
            Ok(_) => images.push(p),
            Err(why) => refused.push(why),
        }
    }
    images.push(mixed_disc(work.path()));
    eprintln!("images read ({}):", images.len());
    for p in &images {
        eprintln!("  {}", p.display());
    }
    eprintln!("not opened by the registry ({}):", refused.len());
    for r in &refused {
        eprintln!("  {r}");
    }
    assert!(images.len() > 20, "too few samples open: {refused:?}");
    raw_layout(images.last().unwrap());

    let drive = env.runtime().join("spindle/raw/drives/0");
    let (mut entries, mut burned) = (0, 0);
    let mut kinds = BTreeSet::new();
    for (i, image) in images.iter().enumerate() {
        let (disc, pw) = open(image).unwrap();
        let c = Catalogue::of(disc);
        assert!(
            c.skipped().is_empty(),
            "{}: {:?}",
            image.display(),
            c.skipped()
        );
        if i > 0 {
            env.ok(&["eject", "0"]);
        }
        let img = image.to_str().unwrap();
        match &pw {
            Some(pw) => env.ok(&["--password", pw, "load", "0", img]),
            None => env.ok(&["load", "0", img]),
        };
        let names: BTreeSet<String> = c.entries().iter().map(|e| e.name().to_string()).collect();
        assert_eq!(fuse_names(&drive), names, "{img}: FUSE lists other names");
        let mut exports: BTreeSet<String> = names.iter().map(|n| format!("drive0/{n}")).collect();
        for (alias, kind) in [
            ("drive0", EntryKind::DiscIso),
            ("drive0.raw", EntryKind::DiscRaw),
        ] {
            if c.by_kind(kind).is_some() {
                exports.insert(alias.into());
            }
        }
        assert_eq!(nbd_names(&env), exports, "{img}: NBD lists other names");

        for e in c.entries() {
            let mut direct = vec![0u8; e.len() as usize];
            e.bytes().read_exact_at(&mut direct, 0).unwrap();
            let want = digest(&direct);
            let what = format!("{img}: {}", e.name());
            let fuse = std::fs::read(drive.join(e.name())).unwrap();
            assert_eq!(digest(&fuse), want, "{what} through FUSE");
            assert_eq!(
                digest(&nbdcopy(&env, &format!("drive0/{}", e.name()))),
                want,
                "{what} through NBD"
            );
            let alias = match e.kind() {
                EntryKind::DiscIso => Some("drive0"),
                EntryKind::DiscRaw => Some("drive0.raw"),
                _ => None,
            };
            if let Some(a) = alias {
                assert_eq!(digest(&nbdcopy(&env, a)), want, "{what} through NBD {a}");
            }
            assert_eq!(
                digest(&burner(e, c.disc())),
                want,
                "{what} through the burner's source"
            );
            if e.kind() == EntryKind::DiscIso {
                assert_eq!(
                    digest(&burner_of_image(image, &c)),
                    want,
                    "{what}: what the burner writes of the image itself"
                );
                burned += 1;
            }
            entries += 1;

            kinds.insert(
                format!("{:?}", e.kind())
                    .split('(')
                    .next()
                    .unwrap()
                    .to_string(),
            );
        }
    }
    eprintln!(
        "{entries} entries of {} images compared, each also through the burner's source ({burned} images burned as themselves); kinds: {kinds:?}",
        images.len()
    );
    for k in [
        "DiscIso", "DiscCue", "DiscBin", "DiscRaw", "Toc", "TrackIso", "TrackBin", "TrackWav",
    ] {
        assert!(kinds.contains(k), "no {k} entry among the samples");
    }
}

/// `disc.raw` of the two-session disc is laid out as documented: byte `(lba - start) * 2352`
/// is sector `lba` from the first track's start, and the sectors between the sessions read
/// as zeros and are unstored zero runs.
fn raw_layout(cue: &Path) {
    let (disc, _) = open(cue).unwrap();
    assert_eq!(disc.sessions.len(), 2);
    let c = Catalogue::of(disc.clone());
    let raw = c.by_kind(EntryKind::DiscRaw).unwrap().bytes().clone();
    let (t1, t3, t4) = (
        disc.track(1).unwrap(),
        disc.track(3).unwrap(),
        disc.track(4).unwrap(),
    );
    let start = t1.start;
    assert_eq!(raw.len(), t4.end().since(start) as u64 * 2352);
    for lba in [t1.index1(), t3.start, t3.end().offset(-1), t4.index1()] {
        let mut want = vec![0u8; 2352];
        disc.read_sectors(lba, 1, spindle_disc::SectorFormat::RAW, &mut want)
            .unwrap();
        let mut got = vec![0u8; 2352];
        raw.read_exact_at(&mut got, lba.since(start) as u64 * 2352)
            .unwrap();
        assert!(got == want, "sector {lba:?} of disc.raw");
    }
    let gap = (
        t3.end().since(start) as u64 * 2352,
        t4.start.since(start) as u64 * 2352,
    );
    assert!(gap.1 > gap.0, "no gap between the sessions");
    let mut zeros = vec![1u8; (gap.1 - gap.0) as usize];
    raw.read_exact_at(&mut zeros, gap.0).unwrap();
    assert!(
        zeros.iter().all(|&b| b == 0),
        "the session gap is not zeros"
    );
    let runs = raw.runs(gap.0, gap.1 - gap.0);
    assert!(
        runs.iter().all(|r| r.zero && !r.stored),
        "the session gap is not an unstored zero run: {runs:?}"
    );
}
