//! What a handler sees of one SCSI command: the CDB, the command's buffer in the ring's data
//! area ([`DataArea`]), and what it answers ([`Completion`]).

use std::marker::PhantomData;
use std::ptr::NonNull;

/// SCSI status GOOD.
pub const GOOD: u8 = 0x00;
/// SCSI status CHECK CONDITION (sense data describes the error).
pub const CHECK_CONDITION: u8 = 0x02;
/// Length of fixed-format sense data (response code 0x70) as a [`Completion`] carries it.
pub const SENSE_LEN: usize = 18;

/// Answers SCSI commands for one device. Called on the device's server thread, one command
/// at a time, in ring order.
pub trait CommandHandler: Send + Sync + 'static {
    /// Executes `cdb`. For a data-in command (the device sends data, e.g. READ), write the
    /// answer into `data` and report how many bytes in [`Completion::data_in`]; for a
    /// data-out command (e.g. MODE SELECT), read the host's bytes with [`DataArea::gather`].
    fn handle(&self, cdb: &[u8], data: &mut DataArea<'_>) -> Completion;
}

/// How a command ended: status, sense when CHECK CONDITION, and the data-in bytes written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Completion {
    /// SCSI status: [`GOOD`] or [`CHECK_CONDITION`] (others are passed through).
    pub status: u8,
    /// Fixed-format sense data (0x70), for CHECK CONDITION.
    pub sense: Option<[u8; SENSE_LEN]>,
    /// Bytes of data-in written from the start of the data area (the rest is zeroed, and
    /// the kernel is told the length when it can take it: residual, not garbage).
    pub data_in: usize,
}

impl Completion {
    /// GOOD after `data_in` bytes.
    pub fn good(data_in: usize) -> Completion {
        Completion {
            status: GOOD,
            sense: None,
            data_in,
        }
    }

    /// CHECK CONDITION with `sense` (fixed format) after `data_in` bytes.
    pub fn check(sense: [u8; SENSE_LEN], data_in: usize) -> Completion {
        Completion {
            status: CHECK_CONDITION,
            sense: Some(sense),
            data_in,
        }
    }

    /// CHECK CONDITION with fixed-format sense built from a sense key and ASC/ASCQ.
    pub fn check_code(key: u8, asc: u8, ascq: u8) -> Completion {
        let mut s = [0u8; SENSE_LEN];
        s[0] = 0x70;
        s[2] = key & 0x0F;
        s[7] = (SENSE_LEN - 8) as u8;
        s[12] = asc;
        s[13] = ascq;
        Completion::check(s, 0)
    }
}

/// One piece of a command's buffer: `len` bytes at `offset` from the start of the mapping.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Iov {
    /// Offset from the start of the shared region.
    pub offset: usize,
    /// Length in bytes.
    pub len: usize,
}

enum Pieces<'a> {
    One(Iov),
    Many(&'a [Iov]),
}

/// A command's buffer in the ring's data area: one or more pieces (iovecs) of shared memory.
/// Data-in goes in with [`scatter`](DataArea::scatter) or straight into
/// [`contiguous_mut`](DataArea::contiguous_mut); data-out comes out with
/// [`gather`](DataArea::gather).
pub struct DataArea<'a> {
    base: NonNull<u8>,
    pieces: Pieces<'a>,
    len: usize,
    _mem: PhantomData<&'a mut [u8]>,
}

// SAFETY: a DataArea is an exclusive borrow of the memory its pieces name (as a `&mut [u8]`
// would be), so moving it to another thread is as safe as moving that borrow.
unsafe impl Send for DataArea<'_> {}

impl<'a> DataArea<'a> {
    /// A data area over a plain buffer (one piece): for tests and in-process callers.
    pub fn from_slice(buf: &'a mut [u8]) -> DataArea<'a> {
        let len = buf.len();
        DataArea {
            // The slice's own pointer: the one piece starts at offset 0.
            base: NonNull::from(buf).cast(),
            pieces: Pieces::One(Iov { offset: 0, len }),
            len,
            _mem: PhantomData,
        }
    }

    /// A data area over `pieces` of the memory at `base`.
    ///
    /// # Safety
    ///
    /// Every piece lies inside memory that is valid for reads and writes for `'a`, and
    /// nothing else reads or writes it (through Rust references or otherwise, e.g. the
    /// kernel) while the DataArea lives.
    pub(crate) unsafe fn from_raw(base: NonNull<u8>, pieces: &'a [Iov]) -> DataArea<'a> {
        let len = pieces.iter().map(|p| p.len).sum();
        DataArea {
            base,
            pieces: Pieces::Many(pieces),
            len,
            _mem: PhantomData,
        }
    }

    fn pieces(&self) -> &[Iov] {
        match &self.pieces {
            Pieces::One(p) => std::slice::from_ref(p),
            Pieces::Many(p) => p,
        }
    }

    /// Total length in bytes (the command's transfer length as the kernel allocated it).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the command moves no data.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many pieces (iovecs) the buffer has.
    pub fn pieces_count(&self) -> usize {
        self.pieces().len()
    }

    /// The whole buffer as one slice, when it is one piece (the usual case), so a handler
    /// can write sectors straight into the ring.
    pub fn contiguous_mut(&mut self) -> Option<&mut [u8]> {
        match self.pieces() {
            [] => Some(&mut []),
            [p] => {
                let p = *p;
                // SAFETY: the piece lies in memory valid for reads and writes for 'a that
                // only this DataArea accesses (from_slice / from_raw contract); the returned
                // borrow holds &mut self, so no other access through it overlaps.
                Some(unsafe {
                    std::slice::from_raw_parts_mut(self.base.as_ptr().add(p.offset), p.len)
                })
            }
            _ => None,
        }
    }

    /// Copies the buffer's first `out.len()` bytes (data-out from the host) into `out`;
    /// returns how many were copied (at most [`len`](DataArea::len)).
    pub fn gather(&self, out: &mut [u8]) -> usize {
        let mut done = 0;
        for p in self.pieces() {
            if done == out.len() {
                break;
            }
            let n = p.len.min(out.len() - done);
            // SAFETY: the piece lies in readable memory only this DataArea accesses, and
            // `out` is a distinct Rust buffer with n bytes of room from `done`.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    self.base.as_ptr().add(p.offset),
                    out.as_mut_ptr().add(done),
                    n,
                );
            }
            done += n;
        }
        done
    }

    /// Copies `src` (data-in for the host) into the buffer from its start; returns how many
    /// bytes fitted.
    pub fn scatter(&mut self, src: &[u8]) -> usize {
        self.write_at(0, src)
    }

    /// Copies `src` into the buffer from byte `at`; returns how many bytes fitted.
    pub fn write_at(&mut self, at: usize, src: &[u8]) -> usize {
        let mut skip = at;
        let mut done = 0;
        for p in self.pieces() {
            if done == src.len() {
                break;
            }
            if skip >= p.len {
                skip -= p.len;
                continue;
            }
            let n = (p.len - skip).min(src.len() - done);
            // SAFETY: offset + skip + n stays inside the piece, which lies in writable
            // memory only this DataArea accesses (&mut self); `src` is a distinct buffer.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    src.as_ptr().add(done),
                    self.base.as_ptr().add(p.offset + skip),
                    n,
                );
            }
            skip = 0;
            done += n;
        }
        done
    }

    /// Zeroes the buffer from byte `from` to its end.
    pub fn zero_from(&mut self, from: usize) {
        let mut skip = from;
        for p in self.pieces() {
            if skip >= p.len {
                skip -= p.len;
                continue;
            }
            // SAFETY: offset + skip .. offset + len is inside the piece, writable memory
            // only this DataArea accesses (&mut self).
            unsafe {
                std::ptr::write_bytes(self.base.as_ptr().add(p.offset + skip), 0, p.len - skip);
            }
            skip = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slice_is_one_contiguous_piece() {
        let mut buf = [0u8; 8];
        let mut d = DataArea::from_slice(&mut buf);
        assert_eq!(d.len(), 8);
        d.contiguous_mut().unwrap()[..3].copy_from_slice(b"abc");
        assert_eq!(d.scatter(b"0123456789"), 8);
        let mut out = [0u8; 4];
        assert_eq!(d.gather(&mut out), 4);
        assert_eq!(&out, b"0123");
        d.zero_from(2);
        assert_eq!(buf, *b"01\0\0\0\0\0\0");
    }

    #[test]
    fn check_code_builds_fixed_sense() {
        let c = Completion::check_code(0x05, 0x20, 0x00);
        let s = c.sense.unwrap();
        assert_eq!((s[0], s[2], s[7], s[12], s[13]), (0x70, 5, 10, 0x20, 0));
        assert_eq!(c.status, CHECK_CONDITION);
    }
}
