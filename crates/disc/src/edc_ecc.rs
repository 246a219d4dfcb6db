//! CD-ROM error detection and correction codes (ECMA-130 Annex A/B/C).
//!
//! * EDC: CRC-32 with polynomial x^32+x^31+x^16+x^15+x^4+x^3+x+1, processed LSB first
//!   (reflected constant 0xD8018001), initial value 0, no final XOR, stored little-endian.
//! * ECC: the Reed-Solomon product code over GF(2^8) (polynomial 0x11D): 172 bytes of P parity
//!   (86 columns of 24 bytes) then 104 bytes of Q parity (52 diagonals of 43 bytes), computed
//!   over the 2064 bytes from the header to the end of the EDC/pad area. For Mode 2 Form 1 the
//!   4 header bytes count as zero.
//!
//! The tables are built at compile time; everything here is pure and allocation-free.

/// Reflected EDC polynomial.
const EDC_POLY: u32 = 0xD801_8001;

const fn edc_table() -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ EDC_POLY
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

static EDC_TABLE: [u32; 256] = edc_table();

/// Continues an EDC computation over `data`.
pub fn edc_update(mut crc: u32, data: &[u8]) -> u32 {
    for &b in data {
        crc = (crc >> 8) ^ EDC_TABLE[((crc ^ b as u32) & 0xFF) as usize];
    }
    crc
}

/// EDC of `data`.
pub fn edc(data: &[u8]) -> u32 {
    edc_update(0, data)
}

/// GF(2^8) "multiply by x" table (F) and its companion (B) used by the ECC generator.
const fn ecc_tables() -> ([u8; 256], [u8; 256]) {
    let mut f = [0u8; 256];
    let mut b = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let j = ((i << 1) ^ if i & 0x80 != 0 { 0x11D } else { 0 }) as u8;
        f[i] = j;
        b[(i as u8 ^ j) as usize] = i as u8;
        i += 1;
    }
    (f, b)
}

static ECC_TABLES: ([u8; 256], [u8; 256]) = ecc_tables();

/// Computes one ECC parity set over `src` (the sector from byte 12 on) into `dest`
/// (`2 * major_count` bytes).
fn ecc_block(
    src: &[u8],
    major_count: usize,
    minor_count: usize,
    major_mult: usize,
    minor_inc: usize,
    dest: &mut [u8],
) {
    let (f, b) = (&ECC_TABLES.0, &ECC_TABLES.1);
    let size = major_count * minor_count;
    for major in 0..major_count {
        let mut idx = (major >> 1) * major_mult + (major & 1);
        let (mut ea, mut eb) = (0u8, 0u8);
        for _ in 0..minor_count {
            let t = src[idx];
            idx += minor_inc;
            if idx >= size {
                idx -= size;
            }
            ea ^= t;
            eb ^= t;
            ea = f[ea as usize];
        }
        ea = b[(f[ea as usize] ^ eb) as usize];
        dest[major] = ea;
        dest[major + major_count] = ea ^ eb;
    }
}

/// Offset of the P parity bytes (172 bytes, ECMA-130 Annex A) in a 2352-byte sector.
pub const ECC_P_OFFSET: usize = 0x81C;
/// Offset of the Q parity bytes (104 bytes, ECMA-130 Annex A) in a 2352-byte sector.
pub const ECC_Q_OFFSET: usize = 0x8C8;

/// Writes ECC P and Q into a 2352-byte sector whose header, data and EDC are in place.
/// `zero_header` treats bytes 12..16 as zero (Mode 2 Form 1).
pub fn write_ecc(sector: &mut [u8; 2352], zero_header: bool) {
    let saved = [sector[12], sector[13], sector[14], sector[15]];
    if zero_header {
        sector[12..16].fill(0);
    }
    let (head, tail) = sector.split_at_mut(ECC_P_OFFSET);
    let mut p = [0u8; 172];
    {
        // P covers 0x0C..0x81C (2064 bytes) = head[12..].
        ecc_block(&head[12..], 86, 24, 2, 86, &mut p);
    }
    tail[..172].copy_from_slice(&p);
    let mut q = [0u8; 104];
    // Q covers 0x0C..0x8C8 (2236 bytes: data + P parity).
    ecc_block(&sector[12..ECC_Q_OFFSET], 52, 43, 86, 88, &mut q);
    sector[ECC_Q_OFFSET..ECC_Q_OFFSET + 104].copy_from_slice(&q);
    if zero_header {
        sector[12..16].copy_from_slice(&saved);
    }
}

/// Writes the EDC (and for Mode 1 the 8 zero bytes) and ECC of a Mode 1 sector.
pub fn finish_mode1(sector: &mut [u8; 2352]) {
    let e = edc(&sector[..0x810]);
    sector[0x810..0x814].copy_from_slice(&e.to_le_bytes());
    sector[0x814..0x81C].fill(0);
    write_ecc(sector, false);
}

/// Writes the EDC and ECC of a Mode 2 Form 1 sector (subheader at 16..24 in place).
pub fn finish_mode2_form1(sector: &mut [u8; 2352]) {
    let e = edc(&sector[16..0x818]);
    sector[0x818..0x81C].copy_from_slice(&e.to_le_bytes());
    write_ecc(sector, true);
}

/// Writes the EDC of a Mode 2 Form 2 sector.
pub fn finish_mode2_form2(sector: &mut [u8; 2352]) {
    let e = edc(&sector[16..0x92C]);
    sector[0x92C..0x930].copy_from_slice(&e.to_le_bytes());
}

/// ECMA-130 Annex B scrambler table: 2340 bytes XORed onto bytes 12..2352 of data sectors.
const fn scramble_table() -> [u8; 2340] {
    let mut t = [0u8; 2340];
    let mut reg: u16 = 1;
    let mut i = 0;
    while i < 2340 {
        let mut byte = 0u8;
        let mut bit = 0;
        while bit < 8 {
            byte |= ((reg & 1) as u8) << bit;
            let fb = (reg ^ (reg >> 1)) & 1;
            reg = (reg >> 1) | (fb << 14);
            bit += 1;
        }
        t[i] = byte;
        i += 1;
    }
    t
}

static SCRAMBLE: [u8; 2340] = scramble_table();

/// Scrambles or descrambles (the operation is its own inverse) a raw 2352-byte sector in place.
pub fn scramble(sector: &mut [u8; 2352]) {
    for (b, s) in sector[12..].iter_mut().zip(SCRAMBLE.iter()) {
        *b ^= s;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edc_known_value() {
        // The EDC of an all-zero Mode 1 sector's covered area is zero (linear CRC, init 0).
        assert_eq!(edc(&[0u8; 2064]), 0);
        assert_ne!(edc(b"spindle"), 0);
    }

    #[test]
    fn scrambler_starts_as_ecma130() {
        // ECMA-130 Annex B: the sequence starts 0x01, 0x80, 0x00, 0x60.
        assert_eq!(&SCRAMBLE[..4], &[0x01, 0x80, 0x00, 0x60]);
    }
}
