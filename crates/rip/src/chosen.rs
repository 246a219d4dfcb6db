//! CRC-32 and SHA-1 in whichever implementation is faster on this machine, measured once
//! per process on 256 KiB (about a millisecond natively): `crc32fast` (PCLMULQDQ) or our
//! tables ([`crate::crc32`]), the `sha1` crate (SHA-NI where the CPU has it) or ours with
//! BMI2 ([`crate::fast_sha1`]).
//!
//! Why measure rather than read CPUID: an emulator (QEMU TCG) reports PCLMULQDQ and BMI2
//! alike, yet runs the one as a slow helper call and the other well. Natively the crates
//! win (21 GB/s and 1.9 GB/s against 2.5 and 0.85); under TCG ours do (410 against 300 MB/s,
//! 145 against 118 MB/s), and there the digests set the pace of a rip (docs/rip.md).

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// (tables beat crc32fast, our SHA-1 beats the crate's)
fn choice() -> (bool, bool) {
    static CHOICE: OnceLock<(bool, bool)> = OnceLock::new();
    *CHOICE.get_or_init(|| {
        let data: Vec<u8> = (0..256u32 << 10)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        // Best of three, so that one preempted run does not decide.
        let best = |f: &dyn Fn(&[u8])| -> Duration {
            (0..3)
                .map(|_| {
                    let t = Instant::now();
                    f(&data);
                    t.elapsed()
                })
                .min()
                .unwrap_or_default()
        };
        let simd = best(&|d| {
            let mut h = crc32fast::Hasher::new();
            h.update(d);
            std::hint::black_box(h.finalize());
        });
        let tables = best(&|d| {
            let mut h = crate::crc32::Crc32::new();
            h.update(d);
            std::hint::black_box(h.finalize());
        });
        let krate = best(&|d| {
            use sha1::Digest as _;
            std::hint::black_box(sha1::Sha1::digest(d));
        });
        let ours = best(&|d| {
            let mut h = crate::fast_sha1::Sha1::new();
            h.update(d);
            std::hint::black_box(h.finalize());
        });
        (tables < simd, ours < krate)
    })
}

/// A running CRC-32.
#[derive(Clone)]
pub enum Crc {
    /// crc32fast's SIMD implementation.
    Simd(crc32fast::Hasher),
    /// Our slicing-by-16 tables ([`crate::crc32`]), where they measured faster.
    Tables(crate::crc32::Crc32),
}

impl Crc {
    /// A CRC-32 with nothing fed yet, using whichever implementation measured faster here.
    pub fn new() -> Crc {
        if choice().0 {
            Crc::Tables(crate::crc32::Crc32::new())
        } else {
            Crc::Simd(crc32fast::Hasher::new())
        }
    }
    /// Feeds `data`.
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Crc::Simd(h) => h.update(data),
            Crc::Tables(h) => h.update(data),
        }
    }
    /// The CRC-32 (IEEE 802.3, as zip and redump datfiles give it) of every byte fed.
    pub fn finalize(self) -> u32 {
        match self {
            Crc::Simd(h) => h.finalize(),
            Crc::Tables(h) => h.finalize(),
        }
    }
}

impl Default for Crc {
    fn default() -> Crc {
        Crc::new()
    }
}

/// A running SHA-1.
#[derive(Clone)]
pub enum Sha1 {
    /// The `sha1` crate's implementation.
    Crate(sha1::Sha1),
    /// Ours ([`crate::fast_sha1`]), where it measured faster.
    Ours(crate::fast_sha1::Sha1),
}

impl Sha1 {
    /// A SHA-1 with nothing fed yet, using whichever implementation measured faster here.
    pub fn new() -> Sha1 {
        use sha1::Digest as _;
        if choice().1 {
            Sha1::Ours(crate::fast_sha1::Sha1::new())
        } else {
            Sha1::Crate(sha1::Sha1::new())
        }
    }
    /// Feeds `data`.
    pub fn update(&mut self, data: &[u8]) {
        use sha1::Digest as _;
        match self {
            Sha1::Crate(h) => h.update(data),
            Sha1::Ours(h) => h.update(data),
        }
    }
    /// The 20-byte SHA-1 digest of every byte fed.
    pub fn finalize(self) -> [u8; 20] {
        use sha1::Digest as _;
        match self {
            Sha1::Crate(h) => h.finalize().into(),
            Sha1::Ours(h) => h.finalize(),
        }
    }
}

impl Default for Sha1 {
    fn default() -> Sha1 {
        Sha1::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_choices_give_the_same_digests() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
        let (mut a, mut b) = (
            Crc::Simd(crc32fast::Hasher::new()),
            Crc::Tables(crate::crc32::Crc32::new()),
        );
        let (mut c, mut d) = (
            Sha1::Crate(<sha1::Sha1 as sha1::Digest>::new()),
            Sha1::Ours(crate::fast_sha1::Sha1::new()),
        );
        for part in data.chunks(777) {
            a.update(part);
            b.update(part);
            c.update(part);
            d.update(part);
        }
        assert_eq!(a.finalize(), b.finalize());
        assert_eq!(c.finalize(), d.finalize());
        // Whatever was chosen here agrees too.
        let (mut e, mut f) = (Crc::new(), Sha1::new());
        e.update(&data);
        f.update(&data);
        assert_eq!(e.finalize(), crc32fast::hash(&data));
        let mut g = crate::fast_sha1::Sha1::new();
        g.update(&data);
        assert_eq!(f.finalize(), g.finalize());
    }
}
