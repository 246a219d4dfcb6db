//! A file of 4 GiB - 1 bytes, FAT's largest: its last cluster, its size field and its chain
//! as mtools reads them. The source is mostly zeros with marked blocks, and the image is a
//! sparse file, so the test costs little disk.
//!
//! fsck.fat 4.2 counts a chain's length in 32 bits: for any file of 4 GiB - 1 it says the
//! chain is 0 bytes long and would truncate the file. It says the same of a volume made by
//! `mkfs.fat -F 32` with the same file copied in by `mcopy` (measured on Debian 12), so the
//! test accepts exactly that report for that file and nothing else; mtools then reads the
//! whole file back.

mod common;

use common::*;
use spindle_bytes::ByteSource;
use spindle_fat::{FatType, MAX_FILE, Options, Tree, Volume, write_to};
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::Arc;

/// Zeros, with a pattern in its first 64 KiB, around 2 GiB and in its last 64 KiB.
struct Sparse(u64);

impl Sparse {
    fn byte(&self, at: u64) -> u8 {
        let marked =
            at < 65536 || (2 << 30..(2 << 30) + 65536).contains(&at) || at >= self.0 - 65536;
        if marked { (at % 251) as u8 + 1 } else { 0 }
    }
}

impl ByteSource for Sparse {
    fn len(&self) -> u64 {
        self.0
    }
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        let n = (buf.len() as u64).min(self.0.saturating_sub(offset)) as usize;
        buf[..n].fill(0);
        let marks = [
            (0, 65536),
            (2 << 30, (2 << 30) + 65536),
            (self.0 - 65536, self.0),
        ];
        for (s, e) in marks {
            let (a, b) = (s.max(offset), e.min(offset + n as u64));
            for at in a..b {
                buf[(at - offset) as usize] = self.byte(at);
            }
        }
        Ok(n)
    }
}

#[test]
fn largest_file_fat_allows() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("big.img");
    let mut tree = Tree::new(1_700_000_000);
    let big = Arc::new(Sparse(MAX_FILE));
    tree.add_file("sources/install.wim", big.clone(), 0)
        .unwrap();
    let (src, small) = file(9, 1234);
    tree.add_file("after.txt", src, 0).unwrap();
    let e = tree
        .add_file("toobig", Arc::new(Sparse(MAX_FILE + 1)), 0)
        .unwrap_err();
    assert!(e.to_string().contains("toobig"), "{e}");
    let vol = Volume::build(
        &tree,
        &Options {
            fat_type: Some(FatType::Fat32),
            ..Options::default()
        },
        4200 << 20,
    )
    .unwrap();
    let f = std::fs::File::create(&img).unwrap();
    f.set_len(vol.len()).unwrap();
    write_to(&vol, &f, 0, 512, true).unwrap();
    drop(f);
    fsck_clean_but(
        &img,
        &[
            "/sources/install.wim",
            "File size is 4294967295 bytes, cluster chain length is 0 bytes.",
            "Truncating file to 0 bytes.",
            "Leaving filesystem unchanged.",
        ],
    );
    let mut buf = vec![0u8; 1 << 20];
    let mut want = vec![0u8; 1 << 20];
    let mut child = Command::new("mtype")
        .args(["-i", img.to_str().unwrap(), "::/sources/install.wim"])
        .env("MTOOLS_SKIP_CHECK", "1")
        .stdout(Stdio::piped())
        .spawn()
        .expect("mtype (mtools; scripts/setup installs it)");
    let mut out = child.stdout.take().unwrap();
    let mut total = 0u64;
    loop {
        let n = out.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        let m = (n as u64).min(MAX_FILE.saturating_sub(total)) as usize;
        big.read_exact_at(&mut want[..m], total).unwrap();
        assert!(
            buf[..n] == want[..n.min(m)],
            "mtools reads other bytes near byte {total}"
        );
        total += n as u64;
    }
    assert!(child.wait().unwrap().success());
    assert_eq!(total, MAX_FILE);
    let back = Command::new("mtype")
        .args(["-i", img.to_str().unwrap(), "::/after.txt"])
        .env("MTOOLS_SKIP_CHECK", "1")
        .output()
        .unwrap();
    assert!(
        back.stdout == small,
        "the file after the big one reads back other bytes"
    );
}
