//! Compressed images read byte for byte like the plain file, through every kind of random
//! access; reads decode only around what they ask for (asserted on bytes decoded).

use spindle_container::{Kind, open, write_seekable};
use spindle_disc::ByteSource;
use spindle_testkit::pattern::Rng;
use spindle_testkit::samples;
use spindle_testkit::tools::run;
use std::io::Write;
use std::path::Path;
use std::process::Command;

/// Mixed content: text, zeros, pseudo-random bytes.
fn pattern(len: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(len);
    let mut rng = Rng::new(0x1234_5678);
    while v.len() < len {
        match (v.len() / 100_000) % 3 {
            0 => v.extend_from_slice(b"the quick brown fox jumps over the lazy dog\n"),
            1 => v.extend_from_slice(&[0u8; 64]),
            _ => v.extend_from_slice(&rng.next_u32().to_le_bytes()),
        }
    }
    v.truncate(len);
    v
}

/// Reads `src` at scattered offsets and whole, comparing with `plain`.
fn same_bytes(src: &dyn ByteSource, plain: &[u8]) {
    assert_eq!(src.len(), plain.len() as u64);
    let mut offs: Vec<u64> = (0..50)
        .map(|i| (i * 7_919_993u64) % plain.len() as u64)
        .collect();
    offs.extend([0, plain.len() as u64 - 1, plain.len() as u64 / 2]);
    for off in offs {
        let n = 5000.min(plain.len() - off as usize);
        let mut buf = vec![0u8; n];
        src.read_exact_at(&mut buf, off).unwrap();
        assert!(
            buf == plain[off as usize..off as usize + n],
            "bytes at {off}"
        );
    }
    let mut all = vec![0u8; plain.len()];
    for (i, c) in all.chunks_mut(1 << 20).enumerate() {
        src.read_exact_at(c, (i << 20) as u64).unwrap();
    }
    assert!(all == plain);
    let mut past = [0u8; 1];
    assert!(src.read_exact_at(&mut past, plain.len() as u64).is_err());
}

#[test]
fn every_container_reads_like_the_plain_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let plain = pattern(40 << 20);
    let iso = d.join("x.iso");
    std::fs::write(&iso, &plain).unwrap();
    // zstd: one frame (the CLI's default), several frames, seekable.
    run(Command::new("zstd")
        .args(["-q", "-k", "-3", "-f"])
        .arg(&iso)
        .arg("-o")
        .arg(d.join("one.iso.zst")));
    // Concatenated frames (what pzstd and split-and-cat make), with and without content sizes
    // (the CLI leaves the size out when it compresses a pipe).
    let mut multi = Vec::new();
    for c in plain.chunks(1 << 20) {
        multi.extend(zstd::bulk::compress(c, 3).unwrap());
    }
    std::fs::write(d.join("multi.iso.zst"), multi).unwrap();
    let mut piped = Vec::new();
    for c in plain.chunks(plain.len() / 2) {
        let mut child = Command::new("zstd")
            .args(["-q", "-c", "-3"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let c = c.to_vec();
        let feeder = std::thread::spawn(move || stdin.write_all(&c).unwrap());
        let out = child.wait_with_output().unwrap();
        feeder.join().unwrap();
        piped.extend(out.stdout);
    }
    std::fs::write(d.join("piped.iso.zst"), piped).unwrap();
    let mut w = std::fs::File::create(d.join("seek.iso.zst")).unwrap();
    write_seekable(&mut &plain[..], &mut w, 1 << 20, 3).unwrap();
    w.flush().unwrap();
    // xz: one block, several blocks; gzip: one member, several members.
    run(Command::new("xz")
        .args(["-q", "-k", "-0", "-f", "-T1"])
        .arg(&iso));
    std::fs::rename(d.join("x.iso.xz"), d.join("one.iso.xz")).unwrap();
    run(Command::new("xz")
        .args(["-q", "-k", "-0", "-f", "-T2", "--block-size=2MiB"])
        .arg(&iso));
    std::fs::rename(d.join("x.iso.xz"), d.join("multi.iso.xz")).unwrap();
    run(Command::new("gzip").args(["-q", "-k", "-f"]).arg(&iso));
    std::fs::rename(d.join("x.iso.gz"), d.join("one.iso.gz")).unwrap();
    let half = plain.len() / 3;
    let mut gz = Vec::new();
    for part in [&plain[..half], &plain[half..]] {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(part).unwrap();
        gz.extend(e.finish().unwrap());
    }
    std::fs::write(d.join("multi.iso.gz"), gz).unwrap();
    for (name, kind, access) in [
        ("one.iso.zst", Kind::Zstd, "temporary file"),
        ("multi.iso.zst", Kind::Zstd, "40 independent frames"),
        ("seek.iso.zst", Kind::Zstd, "40 independent frames"),
        ("piped.iso.zst", Kind::Zstd, "2 independent frames"),
        ("one.iso.xz", Kind::Xz, "temporary file"),
        ("multi.iso.xz", Kind::Xz, "20 independent frames"),
        ("one.iso.gz", Kind::Gzip, "5 inflate checkpoints"),
        ("multi.iso.gz", Kind::Gzip, "checkpoints"),
    ] {
        let p = d.join(name);
        let head = std::fs::read(&p).unwrap();
        assert_eq!(
            spindle_container::kind_of(&p, &head[..16]),
            Some(kind),
            "{name}"
        );
        let src = open(&p, kind).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(src.access().contains(access), "{name}: {}", src.access());
        same_bytes(&src, &plain);
    }
}

/// 1 GiB of an ISO-like stream: a sector number in every 2048-byte sector, zeros elsewhere.
struct Sectors {
    at: u64,
    end: u64,
}

impl std::io::Read for Sectors {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // Whole sectors only (the writer reads in frames of whole sectors).
        let n = ((buf.len() as u64).min(self.end - self.at) / 2048 * 2048) as usize;
        buf[..n].fill(0);
        for (i, s) in buf[..n].chunks_exact_mut(2048).enumerate() {
            s[..8].copy_from_slice(&(self.at / 2048 + i as u64).to_le_bytes());
        }
        self.at += n as u64;
        Ok(n)
    }
}

#[test]
fn reads_decode_only_near_what_they_ask() {
    let dir = tempfile::tempdir().unwrap();
    // A 1 GiB image in seekable zstd: reading its last sector decodes one 1 MiB frame.
    let p = dir.path().join("big.iso.zst");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&p).unwrap());
    let gib = 1u64 << 30;
    assert_eq!(
        write_seekable(&mut Sectors { at: 0, end: gib }, &mut w, 1 << 20, 1).unwrap(),
        gib
    );
    w.flush().unwrap();
    drop(w);
    let src = open(&p, Kind::Zstd).unwrap();
    assert_eq!((src.len(), src.bytes_decoded()), (gib, 0));
    let mut last = [0u8; 2048];
    src.read_exact_at(&mut last, gib - 2048).unwrap();
    assert_eq!(
        u64::from_le_bytes(last[..8].try_into().unwrap()),
        gib / 2048 - 1
    );
    assert_eq!(src.bytes_decoded(), 1 << 20, "one frame decoded");
    src.read_exact_at(&mut last, gib - 2048).unwrap();
    assert_eq!(src.bytes_decoded(), 1 << 20, "the same frame is cached");
    src.read_exact_at(&mut last, 2048 * 1000).unwrap();
    assert_eq!(u64::from_le_bytes(last[..8].try_into().unwrap()), 1000);
    assert_eq!(src.bytes_decoded(), 2 << 20);
    let plain = pattern(64 << 20);
    let mut last = [0u8; 2048];

    // gzip: after the indexing pass, a read decodes at most one checkpoint spacing.
    let gz = dir.path().join("big.iso.gz");
    let mut e = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    e.write_all(&plain).unwrap();
    e.finish().unwrap();
    let src = open(&gz, Kind::Gzip).unwrap();
    let after_index = src.bytes_decoded();
    assert_eq!(after_index, plain.len() as u64);
    src.read_exact_at(&mut last, plain.len() as u64 - 2048)
        .unwrap();
    assert_eq!(&last[..], &plain[plain.len() - 2048..]);
    let one = src.bytes_decoded() - after_index;
    assert!(one <= 8 << 20, "{one}");
    src.read_exact_at(&mut last, 1000).unwrap();
    assert_eq!(&last[..], &plain[1000..3048]);
    // (inflate writes up to its 32 KiB window at a time)
    assert!(src.bytes_decoded() - after_index <= one + 3048 + 32 * 1024);
}

#[test]
fn damaged_containers_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let plain = pattern(3 << 20);
    let mut files = Vec::new();
    let mut w = Vec::new();
    write_seekable(&mut &plain[..], &mut w, 256 << 10, 3).unwrap();
    files.push(("s.iso.zst", Kind::Zstd, w));
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(&plain).unwrap();
    files.push(("s.iso.gz", Kind::Gzip, e.finish().unwrap()));
    let x = dir.path().join("s.iso");
    std::fs::write(&x, &plain).unwrap();
    run(Command::new("xz")
        .args(["-q", "-k", "-0", "-f", "-T2", "--block-size=512KiB"])
        .arg(&x));
    files.push((
        "s.iso.xz",
        Kind::Xz,
        std::fs::read(dir.path().join("s.iso.xz")).unwrap(),
    ));
    for (name, kind, data) in files {
        let p: &Path = &dir.path().join(name);
        let step = data.len() / 97;
        for cut in (0..data.len()).step_by(step.max(1)) {
            let mut bad = data.clone();
            if cut % 2 == 0 {
                bad.truncate(cut);
            } else {
                bad[cut] ^= 0x55;
            }
            std::fs::write(p, &bad).unwrap();
            match open(p, kind) {
                Err(e) => assert!(
                    e.to_string().contains(name) || e.kind() != std::io::ErrorKind::InvalidData,
                    "{e}"
                ),
                Ok(src) => {
                    let mut buf = vec![0u8; src.len().min(1 << 20) as usize];
                    let _ = src.read_exact_at(&mut buf, 0);
                }
            }
        }
    }
    let _ = samples();
}
