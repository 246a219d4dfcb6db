//! The ring protocol on a fake mailbox: a byte buffer laid out as the kernel lays out the
//! TCMU region (mailbox, command ring, data area), filled by a small "kernel" here that
//! writes entries the way target_core_user does: commands with their CDB after the iovecs,
//! PAD entries where a command would cross the end of the ring, TMR notifications.

use spindle_tcmu::ring::{Ring, RingError, ent, mb};
use spindle_tcmu::{CommandHandler, Completion, DataArea, Iov};
use std::sync::Mutex;

#[repr(C, align(64))]
#[derive(Clone, Copy)]
struct Block([u8; 64]);

/// The kernel's side of a fake region.
struct Fake {
    mem: Vec<Block>,
    ring_off: usize,
    ring_size: usize,
    head: usize,
}

const RING_OFF: usize = 128;

impl Fake {
    fn new(ring_size: usize, data_size: usize, flags: u16) -> Fake {
        let total = RING_OFF + ring_size + data_size;
        let mut f = Fake {
            mem: vec![Block([0; 64]); total.div_ceil(64)],
            ring_off: RING_OFF,
            ring_size,
            head: 0,
        };
        let b = f.bytes();
        b[mb::VERSION..][..2].copy_from_slice(&2u16.to_le_bytes());
        b[mb::FLAGS..][..2].copy_from_slice(&flags.to_le_bytes());
        b[mb::CMDR_OFF..][..4].copy_from_slice(&(RING_OFF as u32).to_le_bytes());
        b[mb::CMDR_SIZE..][..4].copy_from_slice(&(ring_size as u32).to_le_bytes());
        f
    }

    fn bytes(&mut self) -> &mut [u8] {
        let n = self.mem.len() * 64;
        // SAFETY: Block is 64 plain bytes with no padding, so the Vec's storage is n
        // initialised bytes; the slice borrows self mutably, as the Vec does.
        unsafe { std::slice::from_raw_parts_mut(self.mem.as_mut_ptr().cast::<u8>(), n) }
    }

    fn data_start(&self) -> usize {
        self.ring_off + self.ring_size
    }

    fn u32_at(&mut self, off: usize) -> u32 {
        u32::from_le_bytes(self.bytes()[off..off + 4].try_into().unwrap())
    }

    fn tail(&mut self) -> usize {
        self.u32_at(mb::CMD_TAIL) as usize
    }

    fn set_head(&mut self, head: usize) {
        self.head = head;
        let h = head as u32;
        self.bytes()[mb::CMD_HEAD..][..4].copy_from_slice(&h.to_le_bytes());
    }

    /// Writes an entry of `len` bytes (op in the low bits) at the head, padding to the end of
    /// the ring first if it does not fit; returns its region offset.
    fn place(&mut self, len: usize, op: u32) -> usize {
        assert!(len.is_multiple_of(8) && len <= self.ring_size);
        if self.head + len > self.ring_size {
            let pad = self.ring_size - self.head;
            let at = self.ring_off + self.head;
            self.bytes()[at..at + 8].fill(0);
            self.bytes()[at..at + 4].copy_from_slice(&(pad as u32 | ent::OP_PAD).to_le_bytes());
            self.set_head(0);
        }
        let at = self.ring_off + self.head;
        self.bytes()[at..at + len].fill(0);
        self.bytes()[at..at + 4].copy_from_slice(&(len as u32 | op).to_le_bytes());
        let next = (self.head + len) % self.ring_size;
        self.set_head(next);
        at
    }

    /// Queues a command with `cdb` and iovecs (region offsets); returns the entry's offset.
    fn command(&mut self, cdb: &[u8], iovs: &[(usize, usize)]) -> usize {
        // As the kernel sizes it: the request with its iovecs, at least the whole entry
        // struct (the response is larger than a request without iovecs), then the CDB.
        let cdb_at = (ent::IOV + iovs.len() * ent::IOV_SIZE).max(ent::CMD_ENTRY_SIZE);
        let len = (cdb_at + cdb.len()).div_ceil(8) * 8;
        let at = self.place(len, ent::OP_CMD);
        let b = self.bytes();
        b[at + ent::IOV_CNT..][..4].copy_from_slice(&(iovs.len() as u32).to_le_bytes());
        b[at + ent::CDB_OFF..][..8].copy_from_slice(&((at + cdb_at) as u64).to_le_bytes());
        for (i, (base, n)) in iovs.iter().enumerate() {
            let p = at + ent::IOV + i * ent::IOV_SIZE;
            b[p..p + 8].copy_from_slice(&(*base as u64).to_le_bytes());
            b[p + 8..p + 16].copy_from_slice(&(*n as u64).to_le_bytes());
        }
        b[at + cdb_at..at + cdb_at + cdb.len()].copy_from_slice(cdb);
        at
    }

    fn tmr(&mut self) -> usize {
        self.place(32, ent::OP_TMR)
    }

    fn status(&mut self, at: usize) -> (u8, u8, u32, Vec<u8>) {
        let b = self.bytes();
        (
            b[at + ent::STATUS],
            b[at + ent::UFLAGS],
            u32::from_le_bytes(b[at + ent::READ_LEN..][..4].try_into().unwrap()),
            b[at + ent::SENSE..at + ent::SENSE + 18].to_vec(),
        )
    }

    fn ring(&mut self) -> Ring<'_> {
        Ring::new(self.bytes()).unwrap()
    }
}

/// A handler that records each CDB and answers from its first byte:
/// 0x28 READ(10): fills the whole buffer with the LBA's low byte;
/// 0x12 INQUIRY: 5 bytes "INQ!!" (short data);
/// 0x55 MODE SELECT: records the data-out bytes;
/// anything else: CHECK CONDITION 05/20/00.
#[derive(Default)]
struct Recorder {
    cdbs: Mutex<Vec<Vec<u8>>>,
    out: Mutex<Vec<u8>>,
    contiguous: Mutex<Vec<bool>>,
}

impl CommandHandler for Recorder {
    fn handle(&self, cdb: &[u8], data: &mut DataArea<'_>) -> Completion {
        self.cdbs.lock().unwrap().push(cdb.to_vec());
        self.contiguous
            .lock()
            .unwrap()
            .push(data.contiguous_mut().is_some());
        match cdb[0] {
            0x28 => {
                let fill = vec![cdb[5]; data.len()];
                Completion::good(data.scatter(&fill))
            }
            0x12 => Completion::good(data.scatter(b"INQ!!")),
            0x55 => {
                let mut out = vec![0; data.len()];
                data.gather(&mut out);
                *self.out.lock().unwrap() = out;
                Completion::good(0)
            }
            _ => Completion::check_code(0x05, 0x20, 0x00),
        }
    }
}

fn read10(lba: u8, blocks: u8) -> [u8; 10] {
    [0x28, 0, 0, 0, 0, lba, 0, 0, blocks, 0]
}

#[test]
fn a_read_fills_its_buffer_and_reports_its_length() {
    let mut f = Fake::new(1024, 8192, mb::CAP_READ_LEN);
    let d = f.data_start();
    let at = f.command(&read10(7, 1), &[(d, 2048)]);
    let h = Recorder::default();
    let mut iovs = Vec::new();
    let done = f.ring().process(&h, &mut iovs).unwrap();
    assert_eq!(done.commands, 1);
    assert_eq!(f.tail(), f.head);
    let (status, uflags, read_len, _) = f.status(at);
    assert_eq!((status, read_len), (0, 2048));
    assert_eq!(uflags & ent::UFLAG_READ_LEN, ent::UFLAG_READ_LEN);
    assert!(f.bytes()[d..d + 2048].iter().all(|&b| b == 7));
    assert_eq!(h.cdbs.lock().unwrap()[0], read10(7, 1));
    assert_eq!(*h.contiguous.lock().unwrap(), [true]);
}

#[test]
fn short_data_is_reported_and_the_rest_zeroed() {
    let mut f = Fake::new(1024, 4096, mb::CAP_READ_LEN);
    let d = f.data_start();
    f.bytes()[d..d + 96].fill(0xEE); // stale bytes of an earlier command
    let at = f.command(&[0x12, 0, 0, 0, 96, 0], &[(d, 96)]);
    f.ring()
        .process(&Recorder::default(), &mut Vec::new())
        .unwrap();
    let (status, _, read_len, _) = f.status(at);
    assert_eq!((status, read_len), (0, 5));
    assert_eq!(&f.bytes()[d..d + 5], b"INQ!!");
    assert!(
        f.bytes()[d + 5..d + 96].iter().all(|&b| b == 0),
        "stale data left"
    );
}

#[test]
fn without_the_read_len_capability_no_flag_is_set() {
    let mut f = Fake::new(1024, 4096, 0);
    let d = f.data_start();
    let at = f.command(&[0x12, 0, 0, 0, 96, 0], &[(d, 96)]);
    f.ring()
        .process(&Recorder::default(), &mut Vec::new())
        .unwrap();
    assert_eq!(f.status(at).1 & ent::UFLAG_READ_LEN, 0);
}

#[test]
fn check_condition_puts_fixed_sense_in_the_entry() {
    let mut f = Fake::new(1024, 4096, mb::CAP_READ_LEN);
    let at = f.command(&[0xA4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], &[]);
    f.ring()
        .process(&Recorder::default(), &mut Vec::new())
        .unwrap();
    let (status, _, read_len, sense) = f.status(at);
    assert_eq!((status, read_len), (2, 0));
    assert_eq!(
        (sense[0], sense[2], sense[12], sense[13]),
        (0x70, 0x05, 0x20, 0x00)
    );
    assert_eq!(f.tail(), f.head);
}

#[test]
fn several_iovecs_are_filled_in_order_and_gathered_in_order() {
    let mut f = Fake::new(1024, 16384, mb::CAP_READ_LEN);
    let d = f.data_start();
    // Three pieces, out of order in the data area.
    let pieces = [(d + 8192, 2048), (d, 4096), (d + 12288, 2048)];
    f.command(&read10(3, 4), &pieces);
    let h = Recorder::default();
    let done = f.ring().process(&h, &mut Vec::new()).unwrap();
    assert_eq!(done.scattered, 1);
    for (base, n) in pieces {
        assert!(f.bytes()[base..base + n].iter().all(|&b| b == 3));
    }
    assert_eq!(*h.contiguous.lock().unwrap(), [false]);
    // Data out across pieces comes back in piece order.
    for (i, (base, n)) in pieces.iter().enumerate() {
        f.bytes()[*base..base + n].fill(i as u8 + 1);
    }
    f.command(&[0x55, 0, 0, 0, 0, 0, 0, 0x20, 0, 0], &pieces);
    f.ring().process(&h, &mut Vec::new()).unwrap();
    let out = h.out.lock().unwrap().clone();
    assert_eq!(out.len(), 8192);
    assert!(out[..2048].iter().all(|&b| b == 1));
    assert!(out[2048..6144].iter().all(|&b| b == 2));
    assert!(out[6144..].iter().all(|&b| b == 3));
}

#[test]
fn entries_wrap_with_padding_at_the_end_of_the_ring() {
    // A 400-byte ring: each READ(10) entry is 112 + 10 -> 128 bytes, so the fourth cannot
    // fit before the end (384 + 128 > 400) and the kernel pads 16 bytes.
    let mut f = Fake::new(400, 8192, mb::CAP_READ_LEN);
    let d = f.data_start();
    let h = Recorder::default();
    let mut iovs = Vec::new();
    let mut pads = 0;
    let mut entries = Vec::new();
    for round in 0..10u8 {
        // Two commands per round, completed together.
        for k in 0..2u8 {
            let lba = round * 2 + k;
            entries.push((
                f.command(&read10(lba, 1), &[(d + k as usize * 2048, 2048)]),
                lba,
            ));
        }
        let done = f.ring().process(&h, &mut iovs).unwrap();
        assert_eq!(done.commands, 2);
        pads += done.pads;
        assert_eq!(f.tail(), f.head);
    }
    assert!(pads >= 3, "the ring never wrapped ({pads} pads)");
    let lbas: Vec<u8> = h.cdbs.lock().unwrap().iter().map(|c| c[5]).collect();
    assert_eq!(lbas, (0..20).collect::<Vec<u8>>());
}

#[test]
fn tmr_entries_are_skipped() {
    let mut f = Fake::new(1024, 4096, mb::CAP_READ_LEN);
    let d = f.data_start();
    f.tmr();
    f.command(&read10(1, 1), &[(d, 2048)]);
    f.tmr();
    let done = f
        .ring()
        .process(&Recorder::default(), &mut Vec::new())
        .unwrap();
    assert_eq!((done.commands, done.tmrs), (1, 2));
    assert_eq!(f.tail(), f.head);
}

#[test]
fn a_new_ring_resumes_from_the_tail_a_previous_one_left() {
    let mut f = Fake::new(512, 8192, mb::CAP_READ_LEN);
    let d = f.data_start();
    let first = Recorder::default();
    f.command(&read10(1, 1), &[(d, 2048)]);
    f.ring().process(&first, &mut Vec::new()).unwrap();
    // The process dies; the kernel queues more meanwhile; a new process maps the region.
    f.command(&read10(2, 1), &[(d, 2048)]);
    f.command(&read10(3, 1), &[(d + 2048, 2048)]);
    let second = Recorder::default();
    let done = f.ring().process(&second, &mut Vec::new()).unwrap();
    assert_eq!(done.commands, 2);
    let lbas: Vec<u8> = second.cdbs.lock().unwrap().iter().map(|c| c[5]).collect();
    assert_eq!(lbas, [2, 3], "completed entries must not run again");
    assert_eq!(f.tail(), f.head);
    // Nothing queued: nothing done.
    assert_eq!(
        f.ring().process(&second, &mut Vec::new()).unwrap().commands,
        0
    );
}

#[test]
fn an_iovec_outside_the_data_area_fails_the_command_not_the_server() {
    let mut f = Fake::new(1024, 4096, mb::CAP_READ_LEN);
    let d = f.data_start();
    let total = f.bytes().len();
    let bad = f.command(&read10(1, 1), &[(RING_OFF, 64)]); // points into the ring
    let past = f.command(&read10(1, 1), &[(total - 16, 2048)]); // runs past the end
    let good = f.command(&read10(5, 1), &[(d, 2048)]);
    let h = Recorder::default();
    assert_eq!(f.ring().process(&h, &mut Vec::new()).unwrap().commands, 3);
    for at in [bad, past] {
        let (status, _, _, sense) = f.status(at);
        assert_eq!((status, sense[2], sense[12]), (2, 0x04, 0x44));
    }
    assert_eq!(f.status(good).0, 0);
    assert_eq!(
        h.cdbs.lock().unwrap().len(),
        1,
        "bad commands must not reach the handler"
    );
}

#[test]
fn a_corrupt_ring_is_an_error() {
    let mut f = Fake::new(1024, 4096, mb::CAP_READ_LEN);
    // A zero-length command entry: following it would loop forever.
    f.set_head(64);
    assert!(matches!(
        f.ring().process(&Recorder::default(), &mut Vec::new()),
        Err(RingError::Entry { offset: 0, .. })
    ));
    // An entry claiming to run past the end of the ring.
    let at = RING_OFF;
    f.bytes()[at..at + 4].copy_from_slice(&(2048u32 | ent::OP_CMD).to_le_bytes());
    assert!(
        f.ring()
            .process(&Recorder::default(), &mut Vec::new())
            .is_err()
    );
    // A mailbox whose ring lies outside the region.
    let mut g = Fake::new(1024, 4096, 0);
    g.bytes()[mb::CMDR_SIZE..][..4].copy_from_slice(&(1u32 << 30).to_le_bytes());
    assert!(matches!(g.ring().mailbox(), Err(RingError::Mailbox(_))));
    // A region too small or misaligned.
    let mut small = [0u8; 16];
    assert!(matches!(
        Ring::new(&mut small),
        Err(RingError::TooSmall(16))
    ));
    let mut h = Fake::new(1024, 4096, 0);
    assert!(matches!(
        Ring::new(&mut h.bytes()[8..]),
        Err(RingError::Misaligned)
    ));
}

#[test]
fn iovs_scratch_is_reused() {
    let mut f = Fake::new(4096, 65536, mb::CAP_READ_LEN);
    let d = f.data_start();
    let mut iovs: Vec<Iov> = Vec::with_capacity(8);
    let cap = iovs.capacity();
    for i in 0..50u8 {
        let pieces: Vec<(usize, usize)> = (0..4).map(|k| (d + k * 4096, 2048)).collect();
        f.command(&read10(i, 4), &pieces);
        f.ring().process(&Recorder::default(), &mut iovs).unwrap();
    }
    assert_eq!(
        iovs.capacity(),
        cap,
        "the scratch list grew although it had room"
    );
}
