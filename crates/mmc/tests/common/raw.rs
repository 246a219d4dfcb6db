//! Raw CDBs against the emulated drive, the way a kernel or sg_raw sends them: bytes in,
//! status, sense and data out, with no typed layer of ours in between.

use spindle_mmc::{DataBuffer, EmulatedDrive, Sense, Transport};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(5);

/// Runs a data-in CDB with a buffer of `len` bytes: the bytes moved, or the sense with the
/// bytes moved before it.
pub fn data_in(d: &EmulatedDrive, cdb: &[u8], len: usize) -> Result<Vec<u8>, (Sense, Vec<u8>)> {
    let mut buf = vec![0u8; len];
    let mut t = d;
    let o = t.execute(cdb, DataBuffer::In(&mut buf), TIMEOUT).unwrap();
    buf.truncate(o.transferred);
    match o.sense() {
        None if o.is_good() => Ok(buf),
        s => Err((s.expect("CHECK CONDITION without sense"), buf)),
    }
}

/// Runs a CDB without data.
pub fn no_data(d: &EmulatedDrive, cdb: &[u8]) -> Result<(), Sense> {
    let mut t = d;
    let o = t.execute(cdb, DataBuffer::None, TIMEOUT).unwrap();
    match o.sense() {
        None if o.is_good() => Ok(()),
        s => Err(s.expect("CHECK CONDITION without sense")),
    }
}

/// Runs a data-out CDB with `data`.
pub fn data_out(d: &EmulatedDrive, cdb: &[u8], data: &[u8]) -> Result<(), Sense> {
    let mut t = d;
    let o = t.execute(cdb, DataBuffer::Out(data), TIMEOUT).unwrap();
    match o.sense() {
        None if o.is_good() => Ok(()),
        s => Err(s.expect("CHECK CONDITION without sense")),
    }
}

/// The media event code of a polled GESN for the media class (what sr sends: alloc 8).
pub fn gesn_media(d: &EmulatedDrive) -> u8 {
    let b = data_in(d, &[0x4A, 1, 0, 0, 0x10, 0, 0, 0, 8, 0], 8).unwrap();
    assert_eq!(b.len(), 8, "{b:02x?}");
    b[4] & 0xF
}

/// READ SUB-CHANNEL, current position in LBA form: (audio status, absolute LBA).
pub fn position(d: &EmulatedDrive) -> (u8, i32) {
    let b = data_in(d, &[0x42, 0, 0x40, 1, 0, 0, 0, 0, 16, 0], 16).unwrap();
    assert_eq!(b[4], 1, "format 1 descriptor");
    (b[1], i32::from_be_bytes([b[8], b[9], b[10], b[11]]))
}
