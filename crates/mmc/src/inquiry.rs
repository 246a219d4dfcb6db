//! INQUIRY (SPC-4 §6.6): standard data and the vital product data pages 0x00 (supported
//! pages), 0x80 (unit serial number) and 0x83 (device identification).

use crate::error::{ParseError, need};

/// Peripheral device type of CD/DVD/BD drives (MMC).
pub const DEVICE_TYPE_MMC: u8 = 0x05;

/// Standard INQUIRY data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InquiryData {
    /// Peripheral qualifier (bits 7-5) and device type (bits 4-0) as one byte.
    pub device_type: u8,
    /// RMB (byte 1 bit 7): the medium is removable.
    pub removable: bool,
    /// VERSION: the SPC version claimed (0x05 = SPC-3, 0x06 = SPC-4; ATAPI drives often 0).
    pub version: u8,
    /// 8 characters.
    pub vendor: String,
    /// 16 characters.
    pub product: String,
    /// 4 characters.
    pub revision: String,
}

/// Length of the standard data this crate writes (the minimum SPC asks for).
pub const STANDARD_LEN: usize = 36;

fn put_ascii(out: &mut [u8], s: &str) {
    out.fill(b' ');
    for (o, c) in out
        .iter_mut()
        .zip(s.bytes().filter(|c| (0x20..0x7F).contains(c)))
    {
        *o = c;
    }
}

fn get_ascii(b: &[u8]) -> String {
    b.iter()
        .take_while(|&&c| c != 0)
        .map(|&c| {
            if (0x20..0x7F).contains(&c) {
                c as char
            } else {
                '?'
            }
        })
        .collect::<String>()
        .trim_end()
        .to_string()
}

impl InquiryData {
    /// The 36-byte standard data (response data format 2); strings are padded with spaces and
    /// stripped of characters outside printable ASCII.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = vec![0u8; STANDARD_LEN];
        b[0] = self.device_type;
        b[1] = if self.removable { 0x80 } else { 0 };
        b[2] = self.version;
        // Response data format 2; HISUP off.
        b[3] = 0x02;
        b[4] = (STANDARD_LEN - 5) as u8;
        put_ascii(&mut b[8..16], &self.vendor);
        put_ascii(&mut b[16..32], &self.product);
        put_ascii(&mut b[32..36], &self.revision);
        b
    }

    /// Decodes standard data of 8 bytes or more (strings past its end are empty);
    /// [`ParseError::Short`] when shorter.
    pub fn parse(b: &[u8]) -> Result<InquiryData, ParseError> {
        need("INQUIRY data", b, 8)?;
        let s = |r: std::ops::Range<usize>| b.get(r).map(get_ascii).unwrap_or_default();
        Ok(InquiryData {
            device_type: b[0],
            removable: b[1] & 0x80 != 0,
            version: b[2],
            vendor: s(8..16),
            product: s(16..32),
            revision: s(32..36),
        })
    }

    /// The peripheral device type (bits 4-0).
    pub fn peripheral_type(&self) -> u8 {
        self.device_type & 0x1F
    }
}

/// VPD page codes this crate knows.
pub mod vpd {
    /// Supported VPD pages (0x00).
    pub const SUPPORTED_PAGES: u8 = 0x00;
    /// Unit serial number (0x80).
    pub const UNIT_SERIAL_NUMBER: u8 = 0x80;
    /// Device identification (0x83).
    pub const DEVICE_IDENTIFICATION: u8 = 0x83;
}

/// One designation descriptor of VPD page 0x83.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Designator {
    /// 1 binary, 2 ASCII, 3 UTF-8.
    pub code_set: u8,
    /// 0 the logical unit, 1 the target port, 2 the target device.
    pub association: u8,
    /// 1 T10 vendor ID, 2 EUI-64, 3 NAA, 8 SCSI name string...
    pub kind: u8,
    /// The designator's bytes (at most 255 are written).
    pub value: Vec<u8>,
}

impl Designator {
    /// A T10 vendor ID designator: 8 characters of vendor, then the rest.
    pub fn t10_vendor(vendor: &str, id: &str) -> Designator {
        let mut value = vec![b' '; 8];
        put_ascii(&mut value, vendor);
        value.extend(id.bytes().filter(|c| (0x20..0x7F).contains(c)));
        Designator {
            code_set: 2,
            association: 0,
            kind: 1,
            value,
        }
    }
}

/// A vital product data page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VpdPage {
    /// Page 0x00: the codes of the pages the drive supports.
    SupportedPages(Vec<u8>),
    /// Page 0x80: the unit serial number (printable ASCII).
    SerialNumber(String),
    /// Page 0x83: designation descriptors.
    DeviceIdentification(Vec<Designator>),
}

impl VpdPage {
    /// The page code.
    pub fn code(&self) -> u8 {
        match self {
            VpdPage::SupportedPages(_) => vpd::SUPPORTED_PAGES,
            VpdPage::SerialNumber(_) => vpd::UNIT_SERIAL_NUMBER,
            VpdPage::DeviceIdentification(_) => vpd::DEVICE_IDENTIFICATION,
        }
    }

    /// The page with its 4-byte header; `device_type` is the peripheral byte (byte 0).
    pub fn to_bytes(&self, device_type: u8) -> Vec<u8> {
        let mut b = vec![device_type, self.code(), 0, 0];
        match self {
            VpdPage::SupportedPages(p) => b.extend_from_slice(p),
            VpdPage::SerialNumber(s) => b.extend(s.bytes().filter(|c| (0x20..0x7F).contains(c))),
            VpdPage::DeviceIdentification(ds) => {
                for d in ds {
                    b.push(d.code_set & 0xF);
                    b.push(((d.association & 3) << 4) | (d.kind & 0xF));
                    b.push(0);
                    b.push(d.value.len().min(255) as u8);
                    b.extend_from_slice(&d.value[..d.value.len().min(255)]);
                }
            }
        }
        let len = (b.len() - 4) as u16;
        b[2..4].copy_from_slice(&len.to_be_bytes());
        b
    }

    /// Decodes a page; [`ParseError::Short`] under the 4-byte header, [`ParseError::Invalid`]
    /// for a page code other than 0x00, 0x80 and 0x83.
    pub fn parse(b: &[u8]) -> Result<VpdPage, ParseError> {
        need("VPD page", b, 4)?;
        let len = u16::from_be_bytes([b[2], b[3]]) as usize;
        let body = &b[4..(4 + len).min(b.len())];
        Ok(match b[1] {
            vpd::SUPPORTED_PAGES => VpdPage::SupportedPages(body.to_vec()),
            vpd::UNIT_SERIAL_NUMBER => VpdPage::SerialNumber(get_ascii(body).trim().to_string()),
            vpd::DEVICE_IDENTIFICATION => {
                let mut ds = Vec::new();
                let mut at = 0;
                while at + 4 <= body.len() {
                    let n = body[at + 3] as usize;
                    let end = (at + 4 + n).min(body.len());
                    ds.push(Designator {
                        code_set: body[at] & 0xF,
                        association: (body[at + 1] >> 4) & 3,
                        kind: body[at + 1] & 0xF,
                        value: body[at + 4..end].to_vec(),
                    });
                    at = end;
                }
                VpdPage::DeviceIdentification(ds)
            }
            p => {
                return Err(ParseError::Invalid {
                    what: "VPD page",
                    why: format!("page {p:#04x} is not one this crate decodes"),
                });
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_round_trip() {
        let d = InquiryData {
            device_type: DEVICE_TYPE_MMC,
            removable: true,
            version: 5,
            vendor: "SPINDLE".into(),
            product: "Virtual DVD-ROM".into(),
            revision: "0.1".into(),
        };
        let b = d.to_bytes();
        assert_eq!(b.len(), 36);
        assert_eq!(&b[8..16], b"SPINDLE ");
        assert_eq!(InquiryData::parse(&b).unwrap(), d);
    }

    #[test]
    fn vpd_round_trip() {
        for p in [
            VpdPage::SupportedPages(vec![0, 0x80, 0x83]),
            VpdPage::SerialNumber("SPD0001".into()),
            VpdPage::DeviceIdentification(vec![Designator::t10_vendor("SPINDLE", "drive0")]),
        ] {
            assert_eq!(VpdPage::parse(&p.to_bytes(5)).unwrap(), p);
        }
    }
}
