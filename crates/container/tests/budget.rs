//! Decompression bombs against the budget for temporary copies: a size declared over the
//! budget is refused before anything is decoded; an undeclared one is stopped when decoding
//! crosses the budget; nothing stays behind (no file in the temporary directory, no open
//! descriptor to an unlinked one); copies within the budget are counted per account and
//! given back when the image is closed. Fixtures are made by the real `zstd` and `xz`.

use spindle_container::{BudgetExceeded, Compressed, DecodeBudget, Kind, open_with};
use spindle_disc::ByteSource;
use spindle_disc::open::find_in_chain;
use spindle_testkit::tools::sh_in as sh;
use std::io::Write;
use std::path::PathBuf;

const MIB: u64 = 1 << 20;

struct Setup {
    dir: tempfile::TempDir,
    /// The temporary directory copies go to (checked empty after).
    tmp: PathBuf,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    Setup { dir, tmp }
}

impl Setup {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn budget(&self, uid: u32, limit: Option<u64>) -> DecodeBudget {
        // No margin: the limits under test, not the free space of a shared machine's disk.
        let b = DecodeBudget::new()
            .for_uid(uid)
            .with_temp_dir(&self.tmp)
            .with_free_space_margin(0);
        match limit {
            Some(l) => b.with_limit(l),
            None => b,
        }
    }
    /// Nothing in the temporary directory, and no descriptor of this process to a file
    /// made in it (copies are unlinked at once: an open descriptor is what would hold them).
    fn assert_nothing_left(&self) {
        assert_eq!(std::fs::read_dir(&self.tmp).unwrap().count(), 0);
        let tmp = self.tmp.to_string_lossy().into_owned();
        for e in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
            if let Ok(target) = std::fs::read_link(e.path()) {
                assert!(
                    !target.to_string_lossy().starts_with(&tmp),
                    "a descriptor still holds {}",
                    target.display()
                );
            }
        }
    }
}

fn refused(r: std::io::Result<Compressed>) -> BudgetExceeded {
    let e = r.err().expect("refused");
    find_in_chain::<BudgetExceeded>(&e)
        .unwrap_or_else(|| panic!("not a budget error: {e}"))
        .clone()
}

#[test]
fn zstd_declaring_more_than_the_budget_is_refused_from_its_header() {
    let s = setup();
    // One frame (the zstd CLI's default for a file), 256 MiB of zeros stated in its header.
    sh(
        s.dir.path(),
        "truncate -s 256M z.iso && zstd -q -1 --single-thread z.iso -o z.iso.zst && rm z.iso",
    );
    let b = refused(open_with(
        &s.path("z.iso.zst"),
        Kind::Zstd,
        &s.budget(0x5100_0001, Some(64 * MIB)),
    ));
    assert!(b.declared, "{b}");
    assert_eq!((b.needed, b.budget), (256 * MIB, 64 * MIB));
    let msg = b.to_string();
    assert!(
        msg.contains("z.iso.zst")
            && msg.contains("64 MiB")
            && msg.contains("SPINDLE_DECODE_BUDGET"),
        "{msg}"
    );
    s.assert_nothing_left();
}

#[test]
fn a_declared_bomb_is_refused_by_the_default_budget() {
    let s = setup();
    // A hand-made frame: 16 GiB declared, one RLE block. Not even the default budget (8 GiB,
    // or less when the disk is fuller) takes it.
    let mut f = Vec::new();
    f.extend_from_slice(&[0x28, 0xB5, 0x2F, 0xFD, 0xC0, 0x00]);
    f.extend_from_slice(&(16u64 << 30).to_le_bytes());
    let block = 1u32 | (1 << 1) | (1000 << 3);
    f.extend_from_slice(&block.to_le_bytes()[..3]);
    f.push(0);
    std::fs::write(s.path("bomb.iso.zst"), &f).unwrap();
    let b = refused(open_with(
        &s.path("bomb.iso.zst"),
        Kind::Zstd,
        &s.budget(0x5100_0002, None),
    ));
    assert!(b.declared);
    assert_eq!(b.needed, 16 << 30);
    assert!(
        b.budget <= spindle_container::DEFAULT_LIMIT
            || std::env::var_os("SPINDLE_DECODE_BUDGET").is_some()
    );
    s.assert_nothing_left();
}

#[test]
fn zstd_without_a_size_is_stopped_at_the_budget() {
    let s = setup();
    sh(
        s.dir.path(),
        "head -c 256M /dev/zero | zstd -q -1 --single-thread --no-content-size > n.iso.zst",
    );
    let uid = 0x5100_0003;
    let b = refused(open_with(
        &s.path("n.iso.zst"),
        Kind::Zstd,
        &s.budget(uid, Some(64 * MIB)),
    ));
    assert!(!b.declared, "{b}");
    // Stopped at the first chunk past the budget: the copy never held more than 64 MiB.
    assert!(b.needed > 64 * MIB && b.needed <= 65 * MIB, "{}", b.needed);
    assert_eq!(DecodeBudget::live_bytes(uid), 0);
    s.assert_nothing_left();
}

#[test]
fn xz_in_one_block_is_refused_from_its_index() {
    let s = setup();
    sh(
        s.dir.path(),
        "head -c 128M /dev/zero | xz -q -0 -T1 > x.iso.xz",
    );
    let b = refused(open_with(
        &s.path("x.iso.xz"),
        Kind::Xz,
        &s.budget(0x5100_0004, Some(64 * MIB)),
    ));
    assert!(b.declared, "{b}");
    assert_eq!(b.needed, 128 * MIB);
    assert!(b.to_string().contains("index"), "{b}");
    s.assert_nothing_left();
}

#[test]
fn xz_with_no_usable_index_is_stopped_at_the_budget() {
    let s = setup();
    // Two streams with different check types: not indexed as frames, no size taken from
    // the index; decoded until the budget is crossed.
    sh(
        s.dir.path(),
        "head -c 48M /dev/zero | xz -q -0 -T1 -C crc32 > y.iso.xz && head -c 48M /dev/zero | xz -q -0 -T1 -C sha256 >> y.iso.xz",
    );
    let uid = 0x5100_0005;
    let b = refused(open_with(
        &s.path("y.iso.xz"),
        Kind::Xz,
        &s.budget(uid, Some(64 * MIB)),
    ));
    assert!(!b.declared, "{b}");
    assert!(b.needed > 64 * MIB && b.needed <= 65 * MIB, "{}", b.needed);
    assert_eq!(DecodeBudget::live_bytes(uid), 0);
    s.assert_nothing_left();
}

/// Pseudo-random bytes (so that the copy is not all zeros).
fn noise(len: usize) -> Vec<u8> {
    let mut v = spindle_testkit::pattern::bytes(len, 0x9E37_79B9);
    for half in v.chunks_mut(2048).step_by(2) {
        half.fill(0);
    }
    v
}

#[test]
fn copies_within_the_budget_are_counted_per_account_until_closed() {
    let s = setup();
    // 40 MiB in one frame: over the 32 MiB read as one frame in memory, so a copy is made.
    let plain = noise(40 << 20);
    std::fs::File::create(s.path("p.iso"))
        .unwrap()
        .write_all(&plain)
        .unwrap();
    sh(
        s.dir.path(),
        "zstd -q -3 --single-thread p.iso -o p.iso.zst && cp p.iso.zst q.iso.zst",
    );
    let uid = 0x5100_0006;
    let budget = s.budget(uid, Some(64 * MIB));
    let first = open_with(&s.path("p.iso.zst"), Kind::Zstd, &budget).unwrap();
    assert!(
        first.access().contains("temporary file"),
        "{}",
        first.access()
    );
    assert_eq!(DecodeBudget::live_bytes(uid), 40 * MIB);
    let mut buf = vec![0u8; 1 << 20];
    first.read_exact_at(&mut buf, 30 << 20).unwrap();
    assert!(buf[..] == plain[30 << 20..31 << 20]);
    // The same account cannot hold a second 40 MiB copy with 64 MiB...
    let b = refused(open_with(&s.path("q.iso.zst"), Kind::Zstd, &budget));
    assert_eq!((b.needed, b.others), (40 * MIB, 40 * MIB));
    assert!(b.to_string().contains("other open images"), "{b}");
    // ...another account can.
    let other = open_with(
        &s.path("q.iso.zst"),
        Kind::Zstd,
        &s.budget(uid + 1, Some(64 * MIB)),
    )
    .unwrap();
    assert_eq!(other.len(), plain.len() as u64);
    drop(first);
    assert_eq!(DecodeBudget::live_bytes(uid), 0);
    // Closed: the first account's budget is free again.
    let again = open_with(&s.path("q.iso.zst"), Kind::Zstd, &budget).unwrap();
    assert_eq!(DecodeBudget::live_bytes(uid), 40 * MIB);
    drop((again, other));
    assert_eq!(DecodeBudget::live_bytes(uid + 1), 0);
    s.assert_nothing_left();
}
