//! SHA-1 (FIPS 180-4), our own, for one reason: built for BMI2 (`rorx`, which rotates without
//! touching the flags) and fully unrolled, it runs 1.23 times faster than the `sha1` crate in
//! an emulated machine (QEMU TCG: 145 against 118 MB/s), where the digests limit a rip
//! (docs/rip.md). The crate's portable code is built for baseline x86-64 only, with no
//! run-time choice but SHA-NI, which TCG lacks. Natively the crate wins (1.9 GB/s with
//! SHA-NI against 0.85): [`crate::chosen`] measures which one to use.

const K: [u32; 4] = [0x5A82_7999, 0x6ED9_EBA1, 0x8F1B_BCDC, 0xCA62_C1D6];
const H0: [u32; 5] = [
    0x6745_2301,
    0xEFCD_AB89,
    0x98BA_DCFE,
    0x1032_5476,
    0xC3D2_E1F0,
];

/// The compression of whole 64-byte blocks, inlined into each entry point so that each is
/// built for its own instruction set. Fully unrolled, with the five words renamed from
/// round to round instead of moved: straight-line code is what an emulator translates best.
#[inline(always)]
// The last rounds rotate a word no later round reads.
#[allow(unused_assignments)]
fn compress_blocks(state: &mut [u32; 5], blocks: &[u8]) {
    #[inline(always)]
    fn ch(b: u32, c: u32, d: u32) -> u32 {
        (b & c) | (!b & d)
    }
    #[inline(always)]
    fn parity(b: u32, c: u32, d: u32) -> u32 {
        b ^ c ^ d
    }
    #[inline(always)]
    fn maj(b: u32, c: u32, d: u32) -> u32 {
        (b & c) | (b & d) | (c & d)
    }
    for block in blocks.chunks_exact(64) {
        let mut w = [0u32; 16];
        for (i, word) in w.iter_mut().enumerate() {
            *word = u32::from_be_bytes([
                block[4 * i],
                block[4 * i + 1],
                block[4 * i + 2],
                block[4 * i + 3],
            ]);
        }
        let [mut a, mut b, mut c, mut d, mut e] = *state;
        // Round `i` with the words in the roles a..e: e gets the new a, b is rotated.
        macro_rules! round {
            ($f:ident, $i:expr, $a:ident, $b:ident, $c:ident, $d:ident, $e:ident) => {{
                let i: usize = $i;
                let wi = if i < 16 {
                    w[i]
                } else {
                    let x = (w[(i + 13) & 15] ^ w[(i + 8) & 15] ^ w[(i + 2) & 15] ^ w[i & 15]).rotate_left(1);
                    w[i & 15] = x;
                    x
                };
                $e = $e
                    .wrapping_add($a.rotate_left(5))
                    .wrapping_add($f($b, $c, $d))
                    .wrapping_add(K[i / 20])
                    .wrapping_add(wi);
                $b = $b.rotate_left(30);
            }};
        }
        round!(ch, 0, a, b, c, d, e);
        round!(ch, 1, e, a, b, c, d);
        round!(ch, 2, d, e, a, b, c);
        round!(ch, 3, c, d, e, a, b);
        round!(ch, 4, b, c, d, e, a);
        round!(ch, 5, a, b, c, d, e);
        round!(ch, 6, e, a, b, c, d);
        round!(ch, 7, d, e, a, b, c);
        round!(ch, 8, c, d, e, a, b);
        round!(ch, 9, b, c, d, e, a);
        round!(ch, 10, a, b, c, d, e);
        round!(ch, 11, e, a, b, c, d);
        round!(ch, 12, d, e, a, b, c);
        round!(ch, 13, c, d, e, a, b);
        round!(ch, 14, b, c, d, e, a);
        round!(ch, 15, a, b, c, d, e);
        round!(ch, 16, e, a, b, c, d);
        round!(ch, 17, d, e, a, b, c);
        round!(ch, 18, c, d, e, a, b);
        round!(ch, 19, b, c, d, e, a);
        round!(parity, 20, a, b, c, d, e);
        round!(parity, 21, e, a, b, c, d);
        round!(parity, 22, d, e, a, b, c);
        round!(parity, 23, c, d, e, a, b);
        round!(parity, 24, b, c, d, e, a);
        round!(parity, 25, a, b, c, d, e);
        round!(parity, 26, e, a, b, c, d);
        round!(parity, 27, d, e, a, b, c);
        round!(parity, 28, c, d, e, a, b);
        round!(parity, 29, b, c, d, e, a);
        round!(parity, 30, a, b, c, d, e);
        round!(parity, 31, e, a, b, c, d);
        round!(parity, 32, d, e, a, b, c);
        round!(parity, 33, c, d, e, a, b);
        round!(parity, 34, b, c, d, e, a);
        round!(parity, 35, a, b, c, d, e);
        round!(parity, 36, e, a, b, c, d);
        round!(parity, 37, d, e, a, b, c);
        round!(parity, 38, c, d, e, a, b);
        round!(parity, 39, b, c, d, e, a);
        round!(maj, 40, a, b, c, d, e);
        round!(maj, 41, e, a, b, c, d);
        round!(maj, 42, d, e, a, b, c);
        round!(maj, 43, c, d, e, a, b);
        round!(maj, 44, b, c, d, e, a);
        round!(maj, 45, a, b, c, d, e);
        round!(maj, 46, e, a, b, c, d);
        round!(maj, 47, d, e, a, b, c);
        round!(maj, 48, c, d, e, a, b);
        round!(maj, 49, b, c, d, e, a);
        round!(maj, 50, a, b, c, d, e);
        round!(maj, 51, e, a, b, c, d);
        round!(maj, 52, d, e, a, b, c);
        round!(maj, 53, c, d, e, a, b);
        round!(maj, 54, b, c, d, e, a);
        round!(maj, 55, a, b, c, d, e);
        round!(maj, 56, e, a, b, c, d);
        round!(maj, 57, d, e, a, b, c);
        round!(maj, 58, c, d, e, a, b);
        round!(maj, 59, b, c, d, e, a);
        round!(parity, 60, a, b, c, d, e);
        round!(parity, 61, e, a, b, c, d);
        round!(parity, 62, d, e, a, b, c);
        round!(parity, 63, c, d, e, a, b);
        round!(parity, 64, b, c, d, e, a);
        round!(parity, 65, a, b, c, d, e);
        round!(parity, 66, e, a, b, c, d);
        round!(parity, 67, d, e, a, b, c);
        round!(parity, 68, c, d, e, a, b);
        round!(parity, 69, b, c, d, e, a);
        round!(parity, 70, a, b, c, d, e);
        round!(parity, 71, e, a, b, c, d);
        round!(parity, 72, d, e, a, b, c);
        round!(parity, 73, c, d, e, a, b);
        round!(parity, 74, b, c, d, e, a);
        round!(parity, 75, a, b, c, d, e);
        round!(parity, 76, e, a, b, c, d);
        round!(parity, 77, d, e, a, b, c);
        round!(parity, 78, c, d, e, a, b);
        round!(parity, 79, b, c, d, e, a);
        for (s, v) in state.iter_mut().zip([a, b, c, d, e]) {
            *s = s.wrapping_add(v);
        }
    }
}

fn compress_portable(state: &mut [u32; 5], blocks: &[u8]) {
    compress_blocks(state, blocks)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "bmi1,bmi2")]
unsafe fn compress_bmi2(state: &mut [u32; 5], blocks: &[u8]) {
    compress_blocks(state, blocks)
}

fn compress(state: &mut [u32; 5], blocks: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("bmi2") && std::is_x86_feature_detected!("bmi1") {
        // SAFETY: the CPU has the features the function was built for.
        return unsafe { compress_bmi2(state, blocks) };
    }
    compress_portable(state, blocks)
}

/// A running SHA-1.
#[derive(Clone)]
pub struct Sha1 {
    state: [u32; 5],
    pending: [u8; 64],
    pending_len: usize,
    total: u64,
}

impl Default for Sha1 {
    fn default() -> Sha1 {
        Sha1::new()
    }
}

impl Sha1 {
    /// A SHA-1 with nothing fed yet.
    pub fn new() -> Sha1 {
        Sha1 {
            state: H0,
            pending: [0; 64],
            pending_len: 0,
            total: 0,
        }
    }

    /// Feeds `data`.
    pub fn update(&mut self, mut data: &[u8]) {
        self.total = self.total.wrapping_add(data.len() as u64);
        if self.pending_len > 0 {
            let take = (64 - self.pending_len).min(data.len());
            self.pending[self.pending_len..self.pending_len + take].copy_from_slice(&data[..take]);
            self.pending_len += take;
            data = &data[take..];
            if self.pending_len < 64 {
                return;
            }
            let block = self.pending;
            compress(&mut self.state, &block);
            self.pending_len = 0;
        }
        let whole = data.len() - data.len() % 64;
        compress(&mut self.state, &data[..whole]);
        let rest = &data[whole..];
        self.pending[..rest.len()].copy_from_slice(rest);
        self.pending_len = rest.len();
    }

    /// The 20-byte SHA-1 digest of every byte fed.
    pub fn finalize(mut self) -> [u8; 20] {
        let bits = self.total.wrapping_mul(8);
        let mut tail = [0u8; 128];
        tail[..self.pending_len].copy_from_slice(&self.pending[..self.pending_len]);
        tail[self.pending_len] = 0x80;
        let len = if self.pending_len < 56 { 64 } else { 128 };
        tail[len - 8..len].copy_from_slice(&bits.to_be_bytes());
        compress(&mut self.state, &tail[..len]);
        let mut out = [0u8; 20];
        for (o, s) in out.chunks_exact_mut(4).zip(self.state) {
            o.copy_from_slice(&s.to_be_bytes());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha1::Digest as _;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn known_answers() {
        assert_eq!(
            hex(&Sha1::new().finalize()),
            "da39a3ee5e6b4b0d3255bfef95601890afd80709"
        );
        let mut h = Sha1::new();
        h.update(b"abc");
        assert_eq!(
            hex(&h.finalize()),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        let mut h = Sha1::new();
        h.update(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq");
        assert_eq!(
            hex(&h.finalize()),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
    }

    #[test]
    fn matches_the_sha1_crate_on_every_length_and_split() {
        let data = crate::test_bytes(3000, 0x9E37_79B9_7F4A_7C15);
        for len in (0..200).chain([1000, 2047, 2048, 3000]) {
            let want = sha1::Sha1::digest(&data[..len]);
            for split in [0, 1, 63, 64, 65, len / 2] {
                let split = split.min(len);
                let mut h = Sha1::new();
                h.update(&data[..split]);
                h.update(&data[split..len]);
                assert_eq!(h.finalize()[..], want[..], "length {len} split {split}");
            }
            let mut state = H0;
            let mut p = H0;
            let whole = len - len % 64;
            compress_portable(&mut p, &data[..whole]);
            compress(&mut state, &data[..whole]);
            assert_eq!(state, p, "both builds agree at length {len}");
        }
    }
}
