//! Sense data (SPC-4 §4.5): sense keys, additional sense codes, and the fixed format (0x70)
//! a drive returns with CHECK CONDITION. Descriptor format (0x72) is parsed too, since
//! some hosts' drivers ask for it.

use std::fmt;

/// The sense key (SPC-4 table 27).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SenseKey {
    /// 0x0: nothing to report.
    NoSense,
    /// 0x1: the command succeeded after recovery.
    RecoveredError,
    /// 0x2: the drive is not ready (no medium, spinning up).
    NotReady,
    /// 0x3: the medium could not be read (unrecovered error).
    MediumError,
    /// 0x4: the drive's hardware failed.
    HardwareError,
    /// 0x5: the command or its parameters are invalid.
    IllegalRequest,
    /// 0x6: the medium may have changed or the drive was reset.
    UnitAttention,
    /// 0x7: the operation is not allowed on this medium (write protected...).
    DataProtect,
    /// 0x8: blank or unwritten medium where data was expected.
    BlankCheck,
    /// 0x9: vendor specific.
    VendorSpecific,
    /// 0xA: a copy command was aborted.
    CopyAborted,
    /// 0xB: the drive aborted the command; the host may retry.
    AbortedCommand,
    /// 0xD: the end of the partition was reached with data left.
    VolumeOverflow,
    /// 0xE: verified data did not match.
    Miscompare,
    /// A reserved key (0xC, 0xF).
    Reserved(u8),
}

impl SenseKey {
    /// The 4-bit key.
    pub fn code(self) -> u8 {
        use SenseKey::*;
        match self {
            NoSense => 0x0,
            RecoveredError => 0x1,
            NotReady => 0x2,
            MediumError => 0x3,
            HardwareError => 0x4,
            IllegalRequest => 0x5,
            UnitAttention => 0x6,
            DataProtect => 0x7,
            BlankCheck => 0x8,
            VendorSpecific => 0x9,
            CopyAborted => 0xA,
            AbortedCommand => 0xB,
            VolumeOverflow => 0xD,
            Miscompare => 0xE,
            Reserved(c) => c & 0xF,
        }
    }

    /// The key for a code (its low 4 bits).
    pub fn from_code(c: u8) -> SenseKey {
        use SenseKey::*;
        match c & 0xF {
            0x0 => NoSense,
            0x1 => RecoveredError,
            0x2 => NotReady,
            0x3 => MediumError,
            0x4 => HardwareError,
            0x5 => IllegalRequest,
            0x6 => UnitAttention,
            0x7 => DataProtect,
            0x8 => BlankCheck,
            0x9 => VendorSpecific,
            0xA => CopyAborted,
            0xB => AbortedCommand,
            0xD => VolumeOverflow,
            0xE => Miscompare,
            c => Reserved(c),
        }
    }
}

/// An additional sense code and qualifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Asc(pub u8, pub u8);

impl Asc {
    /// 00/00 no additional sense information.
    pub const NONE: Asc = Asc(0x00, 0x00);
    /// 04/00 logical unit not ready, cause not reportable.
    pub const NOT_READY: Asc = Asc(0x04, 0x00);
    /// 04/01 logical unit is in process of becoming ready.
    pub const BECOMING_READY: Asc = Asc(0x04, 0x01);
    /// 11/00 unrecovered read error.
    pub const UNRECOVERED_READ_ERROR: Asc = Asc(0x11, 0x00);
    /// 11/05 L-EC uncorrectable error.
    pub const LEC_UNCORRECTABLE: Asc = Asc(0x11, 0x05);
    /// 11/06 CIRC unrecovered error.
    pub const CIRC_UNRECOVERED: Asc = Asc(0x11, 0x06);
    /// 1A/00 parameter list length error.
    pub const PARAMETER_LIST_LENGTH: Asc = Asc(0x1A, 0x00);
    /// 20/00 invalid command operation code.
    pub const INVALID_OPCODE: Asc = Asc(0x20, 0x00);
    /// 21/00 logical block address out of range.
    pub const LBA_OUT_OF_RANGE: Asc = Asc(0x21, 0x00);
    /// 24/00 invalid field in CDB.
    pub const INVALID_FIELD_IN_CDB: Asc = Asc(0x24, 0x00);
    /// 26/00 invalid field in parameter list.
    pub const INVALID_FIELD_IN_PARAMETERS: Asc = Asc(0x26, 0x00);
    /// 2C/00 command sequence error (PAUSE/RESUME with no audio play).
    pub const COMMAND_SEQUENCE_ERROR: Asc = Asc(0x2C, 0x00);
    /// 28/00 not ready to ready change, medium may have changed.
    pub const MEDIUM_MAY_HAVE_CHANGED: Asc = Asc(0x28, 0x00);
    /// 29/00 power on, reset, or bus device reset occurred.
    pub const POWER_ON_RESET: Asc = Asc(0x29, 0x00);
    /// 30/02 cannot read medium, incompatible format.
    pub const INCOMPATIBLE_FORMAT: Asc = Asc(0x30, 0x02);
    /// 39/00 saving parameters not supported.
    pub const SAVING_NOT_SUPPORTED: Asc = Asc(0x39, 0x00);
    /// 3A/00 medium not present.
    pub const MEDIUM_NOT_PRESENT: Asc = Asc(0x3A, 0x00);
    /// 3A/01 medium not present, tray closed.
    pub const MEDIUM_NOT_PRESENT_TRAY_CLOSED: Asc = Asc(0x3A, 0x01);
    /// 3A/02 medium not present, tray open.
    pub const MEDIUM_NOT_PRESENT_TRAY_OPEN: Asc = Asc(0x3A, 0x02);
    /// 53/02 medium removal prevented.
    pub const REMOVAL_PREVENTED: Asc = Asc(0x53, 0x02);
    /// 55/00 system resource failure (no buffer for the request).
    pub const RESOURCE_FAILURE: Asc = Asc(0x55, 0x00);
    /// 64/00 illegal mode for this track.
    pub const ILLEGAL_MODE_FOR_TRACK: Asc = Asc(0x64, 0x00);
}

/// Where in the CDB or parameter list an ILLEGAL REQUEST points (sense-key specific field).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldPointer {
    /// True: the field is in the CDB; false: in the parameter data.
    pub in_cdb: bool,
    /// The byte of the CDB or parameter list the error is in.
    pub byte: u16,
    /// The bit within the byte, when known.
    pub bit: Option<u8>,
}

/// Decoded sense data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sense {
    /// The sense key.
    pub key: SenseKey,
    /// Additional sense code and qualifier.
    pub asc: Asc,
    /// INFORMATION field (the failing LBA of a read), with the VALID bit.
    pub information: Option<u32>,
    /// Incorrect length indicator.
    pub ili: bool,
    /// Sense-key specific field pointer, for ILLEGAL REQUEST.
    pub field: Option<FieldPointer>,
    /// True for deferred errors (response codes 0x71/0x73).
    pub deferred: bool,
}

/// Length of the fixed sense data this crate writes.
pub const FIXED_SENSE_LEN: usize = 18;

impl Sense {
    /// Current sense with `key` and `asc`, no information or field pointer.
    pub const fn new(key: SenseKey, asc: Asc) -> Sense {
        Sense {
            key,
            asc,
            information: None,
            ili: false,
            field: None,
            deferred: false,
        }
    }

    /// NO SENSE, nothing pending.
    pub const NO_SENSE: Sense = Sense::new(SenseKey::NoSense, Asc::NONE);

    /// ILLEGAL REQUEST, invalid field in CDB, pointing at `byte` (and `bit`) of the CDB.
    pub fn invalid_cdb_field(byte: u16, bit: Option<u8>) -> Sense {
        Sense {
            field: Some(FieldPointer {
                in_cdb: true,
                byte,
                bit,
            }),
            ..Sense::new(SenseKey::IllegalRequest, Asc::INVALID_FIELD_IN_CDB)
        }
    }

    /// ILLEGAL REQUEST, invalid command operation code (05/20/00), pointing at CDB byte 0.
    pub fn invalid_opcode() -> Sense {
        Sense {
            field: Some(FieldPointer {
                in_cdb: true,
                byte: 0,
                bit: None,
            }),
            ..Sense::new(SenseKey::IllegalRequest, Asc::INVALID_OPCODE)
        }
    }

    /// The same sense with the INFORMATION field set to `info` (the failing LBA of a read).
    pub fn with_information(mut self, info: u32) -> Sense {
        self.information = Some(info);
        self
    }

    /// Fixed-format sense data (response code 0x70, 18 bytes).
    pub fn to_fixed(&self) -> [u8; FIXED_SENSE_LEN] {
        let mut b = [0u8; FIXED_SENSE_LEN];
        b[0] = if self.deferred { 0x71 } else { 0x70 };
        if let Some(info) = self.information {
            b[0] |= 0x80;
            b[3..7].copy_from_slice(&info.to_be_bytes());
        }
        b[2] = self.key.code() | if self.ili { 0x20 } else { 0 };
        b[7] = (FIXED_SENSE_LEN - 8) as u8;
        b[12] = self.asc.0;
        b[13] = self.asc.1;
        if let Some(f) = self.field {
            b[15] = 0x80 | if f.in_cdb { 0x40 } else { 0 };
            if let Some(bit) = f.bit {
                b[15] |= 0x08 | (bit & 7);
            }
            b[16..18].copy_from_slice(&f.byte.to_be_bytes());
        }
        b
    }

    /// Parses fixed (0x70/0x71) or descriptor (0x72/0x73) sense data. `None` when the bytes
    /// are too short or carry no known response code.
    pub fn parse(b: &[u8]) -> Option<Sense> {
        let code = *b.first()? & 0x7F;
        match code {
            0x70 | 0x71 => {
                if b.len() < 14 {
                    // Some devices send 8 bytes + a short tail; take what is there.
                    if b.len() < 3 {
                        return None;
                    }
                }
                let at = |i: usize| b.get(i).copied().unwrap_or(0);
                let information = (b[0] & 0x80 != 0 && b.len() >= 7)
                    .then(|| u32::from_be_bytes([b[3], b[4], b[5], b[6]]));
                let field = (at(15) & 0x80 != 0
                    && SenseKey::from_code(at(2)) == SenseKey::IllegalRequest)
                    .then(|| FieldPointer {
                        in_cdb: at(15) & 0x40 != 0,
                        byte: u16::from_be_bytes([at(16), at(17)]),
                        bit: (at(15) & 0x08 != 0).then_some(at(15) & 7),
                    });
                Some(Sense {
                    key: SenseKey::from_code(at(2)),
                    asc: Asc(at(12), at(13)),
                    information,
                    ili: at(2) & 0x20 != 0,
                    field,
                    deferred: code == 0x71,
                })
            }
            0x72 | 0x73 => {
                if b.len() < 4 {
                    return None;
                }
                let mut s = Sense::new(SenseKey::from_code(b[1]), Asc(b[2], b[3]));
                s.deferred = code == 0x73;
                // Walk the descriptors for the information descriptor (type 0).
                let total = b.get(7).map(|&l| 8 + l as usize).unwrap_or(8).min(b.len());
                let mut at = 8;
                while at + 2 <= total {
                    let (ty, len) = (b[at], b[at + 1] as usize);
                    if ty == 0 && at + 12 <= total && b[at + 2] & 0x80 != 0 {
                        let v = u64::from_be_bytes(b[at + 4..at + 12].try_into().ok()?);
                        s.information = u32::try_from(v).ok();
                    }
                    at += 2 + len;
                }
                Some(s)
            }
            _ => None,
        }
    }
}

impl fmt::Display for Sense {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} {:02X}/{:02X}/{:02X} ({})",
            self.key,
            self.key.code(),
            self.asc.0,
            self.asc.1,
            describe(self.asc)
        )?;
        if let Some(i) = self.information {
            write!(f, " at {i}")?;
        }
        Ok(())
    }
}

/// A short description of the additional sense codes this crate knows.
pub fn describe(asc: Asc) -> &'static str {
    match (asc.0, asc.1) {
        (0x00, 0x00) => "no additional sense information",
        (0x04, 0x00) => "logical unit not ready",
        (0x04, 0x01) => "becoming ready",
        (0x11, 0x00) => "unrecovered read error",
        (0x11, 0x05) => "L-EC uncorrectable error",
        (0x11, 0x06) => "CIRC unrecovered error",
        (0x1A, 0x00) => "parameter list length error",
        (0x20, 0x00) => "invalid command operation code",
        (0x21, 0x00) => "logical block address out of range",
        (0x24, 0x00) => "invalid field in CDB",
        (0x26, 0x00) => "invalid field in parameter list",
        (0x28, 0x00) => "medium may have changed",
        (0x2C, 0x00) => "command sequence error",
        (0x29, _) => "power on or reset occurred",
        (0x30, 0x02) => "incompatible medium format",
        (0x39, 0x00) => "saving parameters not supported",
        (0x3A, 0x00) => "medium not present",
        (0x3A, 0x01) => "medium not present, tray closed",
        (0x3A, 0x02) => "medium not present, tray open",
        (0x53, 0x02) => "medium removal prevented",
        (0x55, 0x00) => "system resource failure",
        (0x64, 0x00) => "illegal mode for this track",
        _ => "unknown additional sense code",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_round_trip() {
        let s =
            Sense::new(SenseKey::MediumError, Asc::UNRECOVERED_READ_ERROR).with_information(1234);
        let b = s.to_fixed();
        assert_eq!(b[0], 0xF0);
        assert_eq!(b[2], 0x03);
        assert_eq!(b[7], 10);
        assert_eq!((b[12], b[13]), (0x11, 0x00));
        assert_eq!(Sense::parse(&b), Some(s));
        let f = Sense::invalid_cdb_field(9, Some(4));
        let b = f.to_fixed();
        assert_eq!(b[15], 0x80 | 0x40 | 0x08 | 4);
        assert_eq!(Sense::parse(&b), Some(f));
    }

    #[test]
    fn descriptor_format() {
        let mut b = vec![0x72, 0x03, 0x11, 0x00, 0, 0, 0, 12, 0x00, 0x0A, 0x80, 0];
        b.extend_from_slice(&77u64.to_be_bytes());
        let s = Sense::parse(&b).unwrap();
        assert_eq!(s.key, SenseKey::MediumError);
        assert_eq!(s.information, Some(77));
    }
}
