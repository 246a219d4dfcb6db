//! The TCMU command ring, on any byte region laid out as the kernel lays out the UIO mapping
//! (include/uapi/linux/target_core_user.h): a mailbox at offset 0, the command ring at
//! `cmdr_off`, the data area after it. Every field is read at its explicit little-endian
//! offset; `cmd_head` (written by the kernel) and `cmd_tail` (ours) are atomics.
//!
//! The same code runs on the real mapping ([`crate::mapping`]) and on a plain aligned buffer
//! in the unit tests, which build mailboxes that wrap, pad, and carry several iovecs.

use crate::handler::{CHECK_CONDITION, CommandHandler, Completion, DataArea, Iov};
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};

/// Mailbox field offsets.
pub mod mb {
    /// `__u16 version`.
    pub const VERSION: usize = 0;
    /// `__u16 flags` (`TCMU_MAILBOX_FLAG_CAP_*`).
    pub const FLAGS: usize = 2;
    /// `__u32 cmdr_off`: the command ring's offset from the start of the mapping.
    pub const CMDR_OFF: usize = 4;
    /// `__u32 cmdr_size`: the command ring's size in bytes.
    pub const CMDR_SIZE: usize = 8;
    /// `__u32 cmd_head`: the kernel's producer index (offset into the ring).
    pub const CMD_HEAD: usize = 12;
    /// `__u32 cmd_tail`: our consumer index, on its own cache line.
    pub const CMD_TAIL: usize = 64;
    /// The mailbox's size.
    pub const SIZE: usize = 68;
    /// Flag: the kernel takes `read_len` (`TCMU_MAILBOX_FLAG_CAP_READ_LEN`).
    pub const CAP_READ_LEN: u16 = 1 << 1;
}

/// Entry field offsets (header, request and response views of one entry).
pub mod ent {
    /// `__u32 len_op`: length (8-byte aligned) with the opcode in the low 3 bits.
    pub const LEN_OP: usize = 0;
    /// `__u16 cmd_id`.
    pub const CMD_ID: usize = 4;
    /// `__u8 kflags`.
    pub const KFLAGS: usize = 6;
    /// `__u8 uflags` (ours: `TCMU_UFLAG_*`).
    pub const UFLAGS: usize = 7;
    /// Request: `__u32 iov_cnt`.
    pub const IOV_CNT: usize = 8;
    /// Request: `__u32 iov_bidi_cnt`.
    pub const IOV_BIDI_CNT: usize = 12;
    /// Request: `__u32 iov_dif_cnt`.
    pub const IOV_DIF_CNT: usize = 16;
    /// Request: `__u64 cdb_off` (from the start of the mapping). The entry struct is packed
    /// but the request struct inside its union is not, so the u64 is aligned: 24, not 20
    /// (checked with `offsetof` against linux/target_core_user.h, and in the VM).
    pub const CDB_OFF: usize = 24;
    /// Request: the iovec array (`__u64 iov_base` offset, `__u64 iov_len`, 16 bytes each),
    /// after `__pad1` (32) and `__pad2` (40).
    pub const IOV: usize = 48;
    /// Size of one iovec.
    pub const IOV_SIZE: usize = 16;
    /// Response: `__u8 scsi_status`.
    pub const STATUS: usize = 8;
    /// Response: `__u32 read_len`.
    pub const READ_LEN: usize = 12;
    /// Response: `char sense_buffer[96]`.
    pub const SENSE: usize = 16;
    /// Size of the response's sense buffer.
    pub const SENSE_SIZE: usize = 96;
    /// The smallest possible entry (a header).
    pub const HDR_SIZE: usize = 8;
    /// `sizeof(struct tcmu_cmd_entry)`: the header and the larger member of the union (the
    /// response); a command entry is never shorter, so the response always fits.
    pub const CMD_ENTRY_SIZE: usize = HDR_SIZE + 8 + SENSE_SIZE; // 8 + 104 = 112
    /// Opcode: padding up to the end of the ring.
    pub const OP_PAD: u32 = 0;
    /// Opcode: a SCSI command.
    pub const OP_CMD: u32 = 1;
    /// Opcode: a task management notification.
    pub const OP_TMR: u32 = 2;
    /// uflag: the opcode was not understood.
    pub const UFLAG_UNKNOWN_OP: u8 = 0x1;
    /// uflag: `read_len` is valid.
    pub const UFLAG_READ_LEN: u8 = 0x2;
}

/// The largest CDB copied out of the ring (a variable-length CDB's maximum).
pub const MAX_CDB: usize = 260;

/// A corrupt or unexpected ring: the server stops instead of guessing.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RingError {
    /// The region is smaller than the mailbox.
    #[error("the TCMU region ({0} bytes) is smaller than its mailbox")]
    TooSmall(usize),
    /// The region's start is not 64-byte aligned (the mailbox's atomics need it).
    #[error("the TCMU region is not 64-byte aligned")]
    Misaligned,
    /// The mailbox names a ring outside the region, or indices outside the ring.
    #[error("bad TCMU mailbox: {0}")]
    Mailbox(String),
    /// An entry's header is impossible (zero length, past the end of the ring).
    #[error("bad TCMU ring entry at ring offset {offset}: {why}")]
    Entry {
        /// The entry's offset in the ring.
        offset: u32,
        /// What is wrong with it.
        why: &'static str,
    },
}

/// A snapshot of the mailbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mailbox {
    /// Mailbox version (2 on current kernels).
    pub version: u16,
    /// Capability flags.
    pub flags: u16,
    /// The command ring's offset from the start of the region.
    pub cmdr_off: u32,
    /// The command ring's size.
    pub cmdr_size: u32,
    /// The kernel's head (next entry it will write).
    pub head: u32,
    /// Our tail (next entry to complete).
    pub tail: u32,
}

/// What one pass over the ring did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Processed {
    /// SCSI commands completed.
    pub commands: usize,
    /// Padding entries skipped.
    pub pads: usize,
    /// Task management entries skipped.
    pub tmrs: usize,
    /// Entries with an unknown opcode (flagged back to the kernel).
    pub unknown: usize,
    /// Commands failed without reaching the handler (a CDB or iovec outside the region).
    pub rejected: usize,
    /// What was wrong with the last of them.
    pub rejection: Option<Rejection>,
    /// Commands whose buffer came in more than one piece (the handler cannot write into one
    /// slice, so the daemon's adapter copies twice).
    pub scattered: usize,
}

/// Why a command was failed without reaching the handler (diagnostics).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// The command's id.
    pub cmd_id: u16,
    /// What was impossible.
    pub why: &'static str,
    /// The offending offset (the CDB's, or the iovec's base).
    pub offset: u64,
    /// The offending length (the iovec's), 0 for a CDB.
    pub len: u64,
    /// Where the data area starts and the region ends, as the ring saw them.
    pub bounds: (u64, u64),
}

impl Processed {
    /// True when the tail moved (the kernel must be told).
    pub fn advanced(&self) -> bool {
        self.commands + self.pads + self.tmrs + self.unknown > 0
    }
}

/// The shared region: mailbox, command ring and data area.
pub struct Ring<'a> {
    base: NonNull<u8>,
    len: usize,
    _mem: PhantomData<&'a mut [u8]>,
}

// SAFETY: a Ring is an exclusive borrow of its region (like `&mut [u8]`), and the fields
// another agent writes concurrently (cmd_head) are only read atomically.
unsafe impl Send for Ring<'_> {}

/// The CDB length the opcode's group implies (SAM: 6, 10, 12, 16, or variable).
pub fn cdb_len(first: u8, byte7: Option<u8>) -> usize {
    match first >> 5 {
        0 => 6,
        1 | 2 => 10,
        3 if first == 0x7F => 8 + byte7.unwrap_or(0) as usize,
        4 => 16,
        5 => 12,
        _ => 10,
    }
}

impl<'a> Ring<'a> {
    /// A ring over `mem` (a buffer laid out like the kernel's mapping; 64-byte aligned).
    pub fn new(mem: &'a mut [u8]) -> Result<Ring<'a>, RingError> {
        let len = mem.len();
        // SAFETY: the slice is valid for reads and writes for 'a and borrowed exclusively.
        unsafe { Ring::from_raw(NonNull::from(mem).cast(), len) }
    }

    /// A ring over `len` bytes at `base`.
    ///
    /// # Safety
    ///
    /// `base..base+len` is valid for reads and writes for `'a`, and nothing else in this
    /// process accesses it while the Ring lives (the kernel may, as the TCMU protocol says).
    pub(crate) unsafe fn from_raw(base: NonNull<u8>, len: usize) -> Result<Ring<'a>, RingError> {
        if len < mb::SIZE {
            return Err(RingError::TooSmall(len));
        }
        if !(base.as_ptr() as usize).is_multiple_of(64) {
            return Err(RingError::Misaligned);
        }
        Ok(Ring {
            base,
            len,
            _mem: PhantomData,
        })
    }

    fn atomic(&self, off: usize) -> &AtomicU32 {
        debug_assert!(off.is_multiple_of(4) && off + 4 <= self.len);
        // SAFETY: off is 4-aligned within the region (callers pass the mailbox's
        // CMD_HEAD/CMD_TAIL, and the region is at least a mailbox long and 64-aligned); the
        // memory lives for 'a and is only accessed atomically at these offsets.
        unsafe { AtomicU32::from_ptr(self.base.as_ptr().add(off).cast()) }
    }

    fn read<const N: usize>(&self, off: usize) -> [u8; N] {
        assert!(off + N <= self.len, "ring read out of bounds");
        let mut b = [0u8; N];
        // SAFETY: off..off+N is inside the region (asserted), readable for 'a.
        unsafe { std::ptr::copy_nonoverlapping(self.base.as_ptr().add(off), b.as_mut_ptr(), N) };
        b
    }

    fn write(&mut self, off: usize, bytes: &[u8]) {
        assert!(off + bytes.len() <= self.len, "ring write out of bounds");
        // SAFETY: off..off+len is inside the region (asserted), writable for 'a, and we hold
        // the region exclusively (&mut self).
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.base.as_ptr().add(off), bytes.len())
        };
    }

    fn u16_at(&self, off: usize) -> u16 {
        u16::from_le_bytes(self.read(off))
    }
    fn u32_at(&self, off: usize) -> u32 {
        u32::from_le_bytes(self.read(off))
    }
    fn u64_at(&self, off: usize) -> u64 {
        u64::from_le_bytes(self.read(off))
    }

    /// The mailbox, checked: the ring lies inside the region, head and tail inside the ring.
    pub fn mailbox(&self) -> Result<Mailbox, RingError> {
        let m = Mailbox {
            version: self.u16_at(mb::VERSION),
            flags: self.u16_at(mb::FLAGS),
            cmdr_off: self.u32_at(mb::CMDR_OFF),
            cmdr_size: self.u32_at(mb::CMDR_SIZE),
            head: self.atomic(mb::CMD_HEAD).load(Ordering::Acquire),
            tail: self.atomic(mb::CMD_TAIL).load(Ordering::Acquire),
        };
        let end = m.cmdr_off as usize + m.cmdr_size as usize;
        if (m.cmdr_off as usize) < mb::SIZE || end > self.len || m.cmdr_size == 0 {
            return Err(RingError::Mailbox(format!(
                "command ring {}+{} outside the {}-byte region",
                m.cmdr_off, m.cmdr_size, self.len
            )));
        }
        if m.head >= m.cmdr_size
            || m.tail >= m.cmdr_size
            || !m.head.is_multiple_of(8)
            || !m.tail.is_multiple_of(8)
        {
            return Err(RingError::Mailbox(format!(
                "head {} / tail {} outside the {}-byte ring or unaligned",
                m.head, m.tail, m.cmdr_size
            )));
        }
        Ok(m)
    }

    /// Completes every entry from `cmd_tail` to `cmd_head`: commands go to `handler`,
    /// padding and TMR entries are skipped, and the tail advances after each. `iovs` is
    /// scratch space reused across calls (no allocation per command once it has grown).
    /// The caller tells the kernel (a 4-byte write to the UIO fd) when
    /// [`Processed::advanced`].
    pub fn process(
        &mut self,
        handler: &dyn CommandHandler,
        iovs: &mut Vec<Iov>,
    ) -> Result<Processed, RingError> {
        let m = self.mailbox()?;
        let ring = m.cmdr_off as usize;
        let data_start = ring + m.cmdr_size as usize;
        let mut done = Processed::default();
        let mut tail = m.tail;
        let mut head = m.head;
        loop {
            if tail == head {
                // Commands queued while we worked: take them in the same pass.
                head = self.atomic(mb::CMD_HEAD).load(Ordering::Acquire);
                if head == tail {
                    break;
                }
                if head >= m.cmdr_size || !head.is_multiple_of(8) {
                    return Err(RingError::Mailbox(format!("head {head} outside the ring")));
                }
            }
            let at = ring + tail as usize;
            let bad = |why| RingError::Entry { offset: tail, why };
            if tail as usize + ent::HDR_SIZE > m.cmdr_size as usize {
                return Err(bad("header past the end of the ring"));
            }
            let len_op = self.u32_at(at + ent::LEN_OP);
            let (op, len) = (len_op & 7, len_op & !7);
            if len < ent::HDR_SIZE as u32 {
                return Err(bad("entry shorter than its header"));
            }
            if tail as u64 + len as u64 > m.cmdr_size as u64 {
                return Err(bad("entry past the end of the ring"));
            }
            match op {
                ent::OP_PAD => done.pads += 1,
                ent::OP_TMR => done.tmrs += 1,
                ent::OP_CMD => {
                    if let Some(r) = self
                        .command(at, len as usize, m, data_start, handler, iovs)
                        .map_err(bad)?
                    {
                        done.rejected += 1;
                        done.rejection = Some(r);
                    }
                    if iovs.len() > 1 {
                        done.scattered += 1;
                    }
                    done.commands += 1;
                }
                _ => {
                    let flags = self.read::<1>(at + ent::UFLAGS)[0] | ent::UFLAG_UNKNOWN_OP;
                    self.write(at + ent::UFLAGS, &[flags]);
                    done.unknown += 1;
                }
            }
            tail = ((tail as u64 + len as u64) % m.cmdr_size as u64) as u32;
            self.atomic(mb::CMD_TAIL).store(tail, Ordering::Release);
        }
        Ok(done)
    }

    /// Runs one command entry of `len` bytes at region offset `at` and writes its response.
    fn command(
        &mut self,
        at: usize,
        len: usize,
        m: Mailbox,
        data_start: usize,
        handler: &dyn CommandHandler,
        iovs: &mut Vec<Iov>,
    ) -> Result<Option<Rejection>, &'static str> {
        if len < ent::CMD_ENTRY_SIZE {
            return Err("command entry shorter than struct tcmu_cmd_entry");
        }
        let iov_cnt = self.u32_at(at + ent::IOV_CNT) as usize;
        if iov_cnt > (len - ent::IOV) / ent::IOV_SIZE {
            return Err("more iovecs than the entry holds");
        }
        // Copy everything out of the request before the response overwrites it (a union).
        let cdb_off = self.u64_at(at + ent::CDB_OFF);
        iovs.clear();
        let cmd_id = self.u16_at(at + ent::CMD_ID);
        let reject = |why, offset, len| Rejection {
            cmd_id,
            why,
            offset,
            len,
            bounds: (data_start as u64, self.len as u64),
        };
        let mut rejection = None;
        for i in 0..iov_cnt {
            let p = at + ent::IOV + i * ent::IOV_SIZE;
            let (base, n) = (self.u64_at(p), self.u64_at(p + 8));
            match base.checked_add(n) {
                Some(end) if base as usize >= data_start && end <= self.len as u64 => {
                    iovs.push(Iov {
                        offset: base as usize,
                        len: n as usize,
                    })
                }
                _ => rejection = Some(reject("iovec outside the data area", base, n)),
            }
        }
        let mut cdb = [0u8; MAX_CDB];
        let cdb_n = self.copy_cdb(cdb_off, &mut cdb);
        if cdb_n == 0 {
            rejection = Some(reject("CDB outside the region", cdb_off, 0));
        }
        let answer = if rejection.is_some() {
            // 04/44/00 INTERNAL TARGET FAILURE: the kernel gave us something impossible.
            Completion::check_code(0x04, 0x44, 0x00)
        } else {
            // SAFETY: every iovec lies inside the data area (checked above: from data_start,
            // past the mailbox and the ring, to the end of the region), which the kernel
            // leaves to us until this command completes; the Ring is borrowed mutably for
            // the DataArea's life, so nothing else here touches the region.
            let mut data = unsafe { DataArea::from_raw(self.base, iovs) };
            let c = handler.handle(&cdb[..cdb_n], &mut data);
            let filled = c.data_in.min(data.len());
            data.zero_from(filled);
            c
        };
        let total: usize = iovs.iter().map(|p| p.len).sum();
        let mut rsp = [0u8; 8 + ent::SENSE_SIZE];
        rsp[0] = answer.status;
        let read_len = answer.data_in.min(total) as u32;
        rsp[4..8].copy_from_slice(&read_len.to_le_bytes());
        if answer.status == CHECK_CONDITION
            && let Some(s) = answer.sense
        {
            rsp[8..8 + s.len()].copy_from_slice(&s);
        }
        self.write(at + ent::STATUS, &rsp);
        if m.flags & mb::CAP_READ_LEN != 0 {
            let flags = self.read::<1>(at + ent::UFLAGS)[0] | ent::UFLAG_READ_LEN;
            self.write(at + ent::UFLAGS, &[flags]);
        }
        Ok(rejection)
    }

    /// Copies region bytes from `offset` into `out` (for diagnostics); how many were copied.
    pub fn peek(&self, offset: usize, out: &mut [u8]) -> usize {
        let n = out.len().min(self.len.saturating_sub(offset));
        // SAFETY: offset..offset+n is inside the region (n is clamped to it).
        unsafe {
            std::ptr::copy_nonoverlapping(self.base.as_ptr().add(offset), out.as_mut_ptr(), n)
        };
        n
    }

    /// Copies the CDB at region offset `off` into `out`; its length (0 when it lies outside
    /// the region).
    fn copy_cdb(&self, off: u64, out: &mut [u8; MAX_CDB]) -> usize {
        let off = off as usize;
        if off >= self.len {
            return 0;
        }
        let first = self.read::<1>(off)[0];
        let byte7 = (off + 8 <= self.len).then(|| self.read::<1>(off + 7)[0]);
        let n = cdb_len(first, byte7).min(MAX_CDB);
        if off + n > self.len {
            return 0;
        }
        // SAFETY: off..off+n is inside the region (checked), out has MAX_CDB >= n bytes.
        unsafe { std::ptr::copy_nonoverlapping(self.base.as_ptr().add(off), out.as_mut_ptr(), n) };
        n
    }
}
