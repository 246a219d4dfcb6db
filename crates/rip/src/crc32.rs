//! CRC-32 (the zlib/PNG/redump one: reflected polynomial 0xEDB88320) by tables, 16 bytes a
//! step ("slicing-by-16").
//!
//! Beside `crc32fast`, which uses PCLMULQDQ: on a real CPU that is far faster (21 against
//! 2.5 GB/s, both dozens of times what any optical drive delivers), but in an emulated
//! machine (QEMU TCG, where PCLMULQDQ is a helper call) the tables ran 1.35 times faster
//! (410 against 300 MB/s), and there the digests limit a rip. [`crate::chosen`] measures
//! which one to use.

const POLY: u32 = 0xEDB8_8320;

/// `TABLES[k][b]`: the CRC of byte `b` followed by `k` zero bytes.
static TABLES: [[u32; 256]; 16] = make_tables();

const fn make_tables() -> [[u32; 256]; 16] {
    let mut t = [[0u32; 256]; 16];
    let mut b = 0;
    while b < 256 {
        let mut c = b as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { (c >> 1) ^ POLY } else { c >> 1 };
            k += 1;
        }
        t[0][b] = c;
        b += 1;
    }
    let mut k = 1;
    while k < 16 {
        let mut b = 0;
        while b < 256 {
            let prev = t[k - 1][b];
            t[k][b] = (prev >> 8) ^ t[0][(prev & 0xff) as usize];
            b += 1;
        }
        k += 1;
    }
    t
}

/// A running CRC-32.
#[derive(Clone, Copy, Debug, Default)]
pub struct Crc32 {
    /// The register, inverted (as the algorithm keeps it between bytes).
    state: u32,
}

impl Crc32 {
    /// A CRC-32 with nothing fed yet.
    pub fn new() -> Crc32 {
        Crc32 { state: 0 }
    }

    /// Feeds `data`.
    pub fn update(&mut self, data: &[u8]) {
        let t = &TABLES;
        let mut c = !self.state;
        let mut chunks = data.chunks_exact(16);
        for b in &mut chunks {
            let lo = c ^ u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            c = t[15][(lo & 0xff) as usize]
                ^ t[14][((lo >> 8) & 0xff) as usize]
                ^ t[13][((lo >> 16) & 0xff) as usize]
                ^ t[12][(lo >> 24) as usize]
                ^ t[11][b[4] as usize]
                ^ t[10][b[5] as usize]
                ^ t[9][b[6] as usize]
                ^ t[8][b[7] as usize]
                ^ t[7][b[8] as usize]
                ^ t[6][b[9] as usize]
                ^ t[5][b[10] as usize]
                ^ t[4][b[11] as usize]
                ^ t[3][b[12] as usize]
                ^ t[2][b[13] as usize]
                ^ t[1][b[14] as usize]
                ^ t[0][b[15] as usize];
        }
        for &b in chunks.remainder() {
            c = (c >> 8) ^ t[0][((c ^ b as u32) & 0xff) as usize];
        }
        self.state = !c;
    }

    /// The CRC-32 (IEEE 802.3, reflected, as zip gives it) of every byte fed.
    pub fn finalize(self) -> u32 {
        self.state
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_crc32fast_on_every_length_and_split() {
        assert_eq!(Crc32::new().finalize(), 0);
        let mut c = Crc32::new();
        c.update(b"123456789");
        assert_eq!(c.finalize(), 0xCBF4_3926, "the catalogue check value");
        let data = crate::test_bytes(5000, 0x2545_F491_4F6C_DD1D);
        for len in (0..100).chain([1000, 4096, 4999, 5000]) {
            let want = crc32fast::hash(&data[..len]);
            let mut one = Crc32::new();
            one.update(&data[..len]);
            assert_eq!(one.finalize(), want, "length {len}");
            let mut split = Crc32::new();
            let (a, b) = data[..len].split_at(len / 3);
            split.update(a);
            split.update(b);
            assert_eq!(split.finalize(), want, "length {len} in two");
        }
    }
}
