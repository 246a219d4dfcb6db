//! READ CD's field selection (MMC-6 §6.19): the expected sector type (byte 1), which parts
//! of a sector to return (byte 9: sync, header codes, user data, EDC/ECC, C2 error
//! information) and the subchannel (byte 10), and cutting those fields out of a raw sector.
//!
//! A returned block is the selected main-channel fields in sector order, then C2 error
//! information (294 bytes, one bit per main-channel byte, MSB first; or 296 with the block
//! error byte, the OR of the 294, and a pad byte), then the subchannel (96 raw P-W, 16
//! formatted Q, or 96 R-W).

/// Byte 1 bits 4-2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SectorType {
    /// Code 0: any type; the block size follows each sector.
    Any,
    /// Code 1: CD-DA (audio) sectors only.
    CdDa,
    /// Code 2: Mode 1 sectors only.
    Mode1,
    /// Code 3: Mode 2 formless sectors only (2336 bytes of user data).
    Mode2Formless,
    /// Code 4: Mode 2 Form 1 sectors only.
    Mode2Form1,
    /// Code 5: Mode 2 Form 2 sectors only.
    Mode2Form2,
}

impl SectorType {
    /// The 3-bit code (byte 1 bits 4-2).
    pub fn code(self) -> u8 {
        match self {
            SectorType::Any => 0,
            SectorType::CdDa => 1,
            SectorType::Mode1 => 2,
            SectorType::Mode2Formless => 3,
            SectorType::Mode2Form1 => 4,
            SectorType::Mode2Form2 => 5,
        }
    }
    /// The type for a code; `None` for the reserved codes 6 and 7.
    pub fn from_code(c: u8) -> Option<SectorType> {
        Some(match c {
            0 => SectorType::Any,
            1 => SectorType::CdDa,
            2 => SectorType::Mode1,
            3 => SectorType::Mode2Formless,
            4 => SectorType::Mode2Form1,
            5 => SectorType::Mode2Form2,
            _ => return None,
        })
    }
    /// True when a sector of `kind` satisfies this expected type.
    pub fn accepts(self, kind: SectorKind) -> bool {
        match self {
            SectorType::Any => true,
            SectorType::CdDa => kind == SectorKind::Audio,
            SectorType::Mode1 => kind == SectorKind::Mode1,
            SectorType::Mode2Formless => kind == SectorKind::Mode2Formless,
            SectorType::Mode2Form1 => kind == SectorKind::Mode2Form1,
            SectorType::Mode2Form2 => kind == SectorKind::Mode2Form2,
        }
    }
}

/// What a sector on the disc actually is (for mixed XA: per sector, from its subheader).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SectorKind {
    /// Audio: 2352 bytes of samples, no sync or header.
    Audio,
    /// Mode 0: 2336 zero bytes after the header.
    Mode0,
    /// Mode 1: 2048 bytes of user data, EDC and ECC.
    Mode1,
    /// Mode 2 without a form: 2336 bytes of user data.
    Mode2Formless,
    /// Mode 2 Form 1: subheader, 2048 bytes of user data, EDC and ECC.
    Mode2Form1,
    /// Mode 2 Form 2: subheader, 2324 bytes of user data, EDC.
    Mode2Form2,
}

impl SectorKind {
    /// The sector kind of a raw sector of a track in `mode` (the form of mixed XA from the
    /// subheader).
    pub fn of(mode: spindle_disc::TrackMode, raw: &[u8]) -> SectorKind {
        use spindle_disc::TrackMode as M;
        match mode {
            M::Audio => SectorKind::Audio,
            M::Mode0 => SectorKind::Mode0,
            M::Mode1 => SectorKind::Mode1,
            M::Mode2Formless => SectorKind::Mode2Formless,
            M::Mode2Form1 => SectorKind::Mode2Form1,
            M::Mode2Form2 => SectorKind::Mode2Form2,
            M::Mode2Mixed => {
                if raw.len() >= 24 && spindle_disc::sector::is_form2(&raw[16..24]) {
                    SectorKind::Mode2Form2
                } else {
                    SectorKind::Mode2Form1
                }
            }
        }
    }

    /// (subheader, user data, EDC/ECC) sizes.
    fn layout(self) -> (usize, usize, usize) {
        match self {
            SectorKind::Audio => (0, 2352, 0),
            SectorKind::Mode0 | SectorKind::Mode2Formless => (0, 2336, 0),
            SectorKind::Mode1 => (0, 2048, 288),
            SectorKind::Mode2Form1 => (8, 2048, 280),
            SectorKind::Mode2Form2 => (8, 2324, 4),
        }
    }
}

/// Byte 9 bits 6-5.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderCodes {
    /// No header codes.
    None,
    /// The 4-byte header.
    Header,
    /// The 8-byte XA subheader (Mode 2 Form 1/2 only).
    SubHeader,
    /// Both.
    All,
}

impl HeaderCodes {
    fn code(self) -> u8 {
        match self {
            HeaderCodes::None => 0,
            HeaderCodes::Header => 1,
            HeaderCodes::SubHeader => 2,
            HeaderCodes::All => 3,
        }
    }
    fn header(self) -> bool {
        matches!(self, HeaderCodes::Header | HeaderCodes::All)
    }
    fn subheader(self) -> bool {
        matches!(self, HeaderCodes::SubHeader | HeaderCodes::All)
    }
}

/// Byte 9 bits 2-1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum C2Mode {
    /// No C2 error information.
    None,
    /// 294 bytes: one bit per byte of the 2352-byte main channel.
    Pointers,
    /// 296 bytes: the 294, the block error byte (their OR) and a pad byte.
    PointersAndBlock,
}

impl C2Mode {
    /// Bytes of C2 error information a block carries.
    pub fn size(self) -> usize {
        match self {
            C2Mode::None => 0,
            C2Mode::Pointers => 294,
            C2Mode::PointersAndBlock => 296,
        }
    }
    fn code(self) -> u8 {
        match self {
            C2Mode::None => 0,
            C2Mode::Pointers => 1,
            C2Mode::PointersAndBlock => 2,
        }
    }
}

/// Byte 10 bits 2-0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubSelect {
    /// No subchannel data.
    None,
    /// 96 bytes of raw interleaved P-W.
    RawPw,
    /// 16 bytes: the Q channel (with CRC) and 4 zero bytes.
    Q,
    /// 96 bytes of R-W (bits 5-0 of each raw P-W byte).
    Rw,
}

impl SubSelect {
    /// The 3-bit code (byte 10 bits 2-0).
    pub fn code(self) -> u8 {
        match self {
            SubSelect::None => 0,
            SubSelect::RawPw => 1,
            SubSelect::Q => 2,
            SubSelect::Rw => 4,
        }
    }
    /// The selection for a code (its low 3 bits); `None` for the reserved codes 3, 5, 6 and 7.
    pub fn from_code(c: u8) -> Option<SubSelect> {
        Some(match c & 7 {
            0 => SubSelect::None,
            1 => SubSelect::RawPw,
            2 => SubSelect::Q,
            4 => SubSelect::Rw,
            _ => return None,
        })
    }
    /// Bytes of subchannel data a block carries.
    pub fn size(self) -> usize {
        match self {
            SubSelect::None => 0,
            SubSelect::RawPw | SubSelect::Rw => 96,
            SubSelect::Q => 16,
        }
    }
}

/// The fields READ CD returns of each sector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadCdFields {
    /// Sync (byte 9 bit 7): the 12-byte sync pattern.
    pub sync: bool,
    /// Header codes (byte 9 bits 6-5).
    pub headers: HeaderCodes,
    /// User Data (byte 9 bit 4).
    pub user_data: bool,
    /// EDC & ECC (byte 9 bit 3).
    pub edc_ecc: bool,
    /// C2 error information (byte 9 bits 2-1).
    pub c2: C2Mode,
    /// Subchannel selection (byte 10 bits 2-0).
    pub sub: SubSelect,
}

impl ReadCdFields {
    /// The whole 2352-byte sector (byte 9 = 0xF8), no C2, no subchannel.
    pub const RAW: ReadCdFields = ReadCdFields {
        sync: true,
        headers: HeaderCodes::All,
        user_data: true,
        edc_ecc: true,
        c2: C2Mode::None,
        sub: SubSelect::None,
    };
    /// User data only (byte 9 = 0x10).
    pub const USER: ReadCdFields = ReadCdFields {
        sync: false,
        headers: HeaderCodes::None,
        user_data: true,
        edc_ecc: false,
        c2: C2Mode::None,
        sub: SubSelect::None,
    };

    /// The same fields with subchannel selection `sub`.
    pub fn with_sub(self, sub: SubSelect) -> ReadCdFields {
        ReadCdFields { sub, ..self }
    }
    /// The same fields with C2 error information `c2`.
    pub fn with_c2(self, c2: C2Mode) -> ReadCdFields {
        ReadCdFields { c2, ..self }
    }

    /// CDB byte 9 for these fields.
    pub fn byte9(&self) -> u8 {
        ((self.sync as u8) << 7)
            | (self.headers.code() << 5)
            | ((self.user_data as u8) << 4)
            | ((self.edc_ecc as u8) << 3)
            | (self.c2.code() << 1)
    }

    /// Decodes bytes 9 and 10; `None` for a reserved C2 or subchannel code.
    pub fn from_bytes(b9: u8, b10: u8) -> Option<ReadCdFields> {
        let c2 = match (b9 >> 1) & 3 {
            0 => C2Mode::None,
            1 => C2Mode::Pointers,
            2 => C2Mode::PointersAndBlock,
            _ => return None,
        };
        Some(ReadCdFields {
            sync: b9 & 0x80 != 0,
            headers: match (b9 >> 5) & 3 {
                0 => HeaderCodes::None,
                1 => HeaderCodes::Header,
                2 => HeaderCodes::SubHeader,
                _ => HeaderCodes::All,
            },
            user_data: b9 & 0x10 != 0,
            edc_ecc: b9 & 0x08 != 0,
            c2,
            sub: SubSelect::from_code(b10)?,
        })
    }

    /// Rejects the combinations MMC calls illegal: sync without the header, and EDC/ECC
    /// together with sync or header but without the user data between them. Returns the
    /// byte 9 bit to point at.
    pub fn check(&self) -> Result<(), u8> {
        if self.sync && !self.headers.header() {
            return Err(7);
        }
        if self.edc_ecc && !self.user_data && (self.sync || self.headers != HeaderCodes::None) {
            return Err(3);
        }
        Ok(())
    }

    /// Main-channel bytes returned for a sector of `kind`.
    pub fn main_size(&self, kind: SectorKind) -> usize {
        if kind == SectorKind::Audio {
            return if self.user_data { 2352 } else { 0 };
        }
        let (sh, user, tail) = kind.layout();
        let mut n = 0;
        if self.sync {
            n += 12;
        }
        if self.headers.header() {
            n += 4;
        }
        if self.headers.subheader() {
            n += sh;
        }
        if self.user_data {
            n += user;
        }
        if self.edc_ecc {
            n += tail;
        }
        n
    }

    /// Bytes per block for a sector of `kind`, C2 and subchannel included.
    pub fn size(&self, kind: SectorKind) -> usize {
        self.main_size(kind) + self.c2.size() + self.sub.size()
    }

    /// Bytes per block for an expected sector type (`Any`: taken as Mode 1, except that a
    /// full raw selection is 2352 for every type).
    pub fn size_for_type(&self, t: SectorType) -> usize {
        let kind = match t {
            SectorType::Any | SectorType::Mode1 => SectorKind::Mode1,
            SectorType::CdDa => SectorKind::Audio,
            SectorType::Mode2Formless => SectorKind::Mode2Formless,
            SectorType::Mode2Form1 => SectorKind::Mode2Form1,
            SectorType::Mode2Form2 => SectorKind::Mode2Form2,
        };
        self.size(kind)
    }

    /// Writes the selected main-channel fields of `raw` (a 2352-byte sector of `kind`) to
    /// `out`; returns the bytes written.
    pub fn extract_main(&self, raw: &[u8], kind: SectorKind, out: &mut [u8]) -> usize {
        if kind == SectorKind::Audio {
            if self.user_data {
                out[..2352].copy_from_slice(&raw[..2352]);
                return 2352;
            }
            return 0;
        }
        let (sh, user, tail) = kind.layout();
        let mut n = 0;
        let mut put = |range: std::ops::Range<usize>| {
            let len = range.len();
            out[n..n + len].copy_from_slice(&raw[range]);
            n += len;
        };
        if self.sync {
            put(0..12);
        }
        if self.headers.header() {
            put(12..16);
        }
        if self.headers.subheader() && sh > 0 {
            put(16..24);
        }
        let data = 16 + sh;
        if self.user_data {
            put(data..data + user);
        }
        if self.edc_ecc && tail > 0 {
            put(data + user..data + user + tail);
        }
        n
    }
}

/// Writes C2 error information for a sector whose bad main-channel bytes are `bad`
/// (offsets in 0..2352) into `out` (`mode.size()` bytes).
pub fn write_c2(mode: C2Mode, bad: &[u16], out: &mut [u8]) {
    let n = mode.size();
    out[..n].fill(0);
    if n == 0 {
        return;
    }
    for &b in bad {
        let b = b as usize;
        if b < 2352 {
            out[b / 8] |= 0x80 >> (b % 8);
        }
    }
    if mode == C2Mode::PointersAndBlock {
        out[294] = out[..294].iter().fold(0, |a, &b| a | b);
    }
}

/// The byte offsets a C2 block flags (the inverse of [`write_c2`]).
pub fn c2_offsets(c2: &[u8]) -> Vec<u16> {
    let mut v = Vec::new();
    for (i, &b) in c2.iter().take(294).enumerate() {
        for bit in 0..8 {
            if b & (0x80 >> bit) != 0 {
                v.push((i * 8 + bit) as u16);
            }
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_match_mmc_table() {
        let f = ReadCdFields::RAW;
        for k in [
            SectorKind::Mode1,
            SectorKind::Mode2Formless,
            SectorKind::Mode2Form1,
            SectorKind::Mode2Form2,
            SectorKind::Audio,
        ] {
            assert_eq!(f.main_size(k), 2352, "{k:?}");
        }
        assert_eq!(ReadCdFields::USER.main_size(SectorKind::Mode2Form2), 2324);
        assert_eq!(
            ReadCdFields::USER.main_size(SectorKind::Mode2Formless),
            2336
        );
        let hdr_user = ReadCdFields {
            headers: HeaderCodes::All,
            ..ReadCdFields::USER
        };
        assert_eq!(hdr_user.main_size(SectorKind::Mode2Form1), 2060);
        assert_eq!(hdr_user.main_size(SectorKind::Mode1), 2052);
        assert_eq!(
            ReadCdFields::RAW
                .with_c2(C2Mode::PointersAndBlock)
                .with_sub(SubSelect::RawPw)
                .size(SectorKind::Audio),
            2352 + 296 + 96
        );
        assert_eq!(ReadCdFields::RAW.byte9(), 0xF8);
        assert_eq!(ReadCdFields::USER.byte9(), 0x10);
        let sync_only = ReadCdFields {
            sync: true,
            ..ReadCdFields::USER
        };
        assert_eq!(sync_only.check(), Err(7));
    }

    #[test]
    fn c2_bits() {
        let mut out = [0u8; 296];
        write_c2(C2Mode::PointersAndBlock, &[0, 9, 2351], &mut out);
        assert_eq!(out[0], 0x80);
        assert_eq!(out[1], 0x40);
        assert_eq!(out[293], 0x01);
        assert_eq!(out[294], 0xC1);
        assert_eq!(c2_offsets(&out), vec![0, 9, 2351]);
    }
}
