//! The TCMU handler of one drive: every command the kernel sends goes to the drive model
//! ([`EmulatedDrive::execute_cdb`]).
//!
//! The direction of a command's buffer comes from its CDB ([`is_data_out`]: TCMU says only
//! how long the buffer is). A buffer that is one piece of the ring's data area (the usual
//! case) is handed to the model as it is, so sectors are copied once, by the disc's read
//! path, straight into the ring. A buffer in several pieces goes through one scratch buffer
//! per drive, kept and reused (it only grows), so no command allocates.

use spindle_mmc::cdb::is_data_out;
use spindle_mmc::{DataBuffer, EmulatedDrive, Outcome};
use spindle_tcmu::{CommandHandler, Completion, DataArea, SENSE_LEN};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long one command may take in the model (an injected hang fault); the kernel's own
/// timeout is 30 s (`attrib/cmd_time_out`).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(20);

/// ABORTED COMMAND, no additional sense: what a command the model gave up on returns.
const ABORTED_COMMAND: u8 = 0x0B;

/// One drive's handler.
pub struct ModelHandler {
    model: Arc<EmulatedDrive>,
    /// For buffers in several pieces; the server runs one command at a time, so the lock is
    /// never contended.
    scratch: Mutex<Vec<u8>>,
}

impl ModelHandler {
    /// The handler of `model`.
    pub fn new(model: Arc<EmulatedDrive>) -> ModelHandler {
        ModelHandler {
            model,
            scratch: Mutex::new(Vec::new()),
        }
    }

    fn run(&self, cdb: &[u8], data: DataBuffer<'_>) -> Completion {
        match self.model.execute_cdb(cdb, data, COMMAND_TIMEOUT) {
            Ok(o) => completion(&o),
            Err(_) => Completion::check_code(ABORTED_COMMAND, 0, 0),
        }
    }
}

/// Makes a drive that takes over a device of a killed daemon continue where that one
/// stopped: the kernel already saw its power-on and its disc, and a removable device's unit
/// attention fails the I/O it arrives on (commands queued in the ring while no daemon ran
/// would get one). So, before the ring is served, the power-on and medium-changed unit
/// attentions are reported to nobody (TEST UNIT READY until none is left) and the NewMedia
/// event is taken (one media event poll), exactly as the kernel took them from the old drive.
/// The host's lock (PREVENT) is not known and starts released.
pub fn resume(model: &EmulatedDrive) {
    let mut m = spindle_mmc::Mmc::new(model);
    for _ in 0..8 {
        match m.test_unit_ready() {
            Err(e)
                if e.sense()
                    .is_some_and(|s| s.key == spindle_mmc::SenseKey::UnitAttention) => {}
            _ => break,
        }
    }
    let _ = m.media_event();
}

fn completion(o: &Outcome) -> Completion {
    if o.is_good() {
        return Completion::good(o.transferred);
    }
    let mut sense = [0u8; SENSE_LEN];
    let n = o.sense.len().min(SENSE_LEN);
    sense[..n].copy_from_slice(&o.sense[..n]);
    Completion {
        status: o.status,
        sense: (n > 0).then_some(sense),
        data_in: o.transferred,
    }
}

impl CommandHandler for ModelHandler {
    fn handle(&self, cdb: &[u8], data: &mut DataArea<'_>) -> Completion {
        let len = data.len();
        if len == 0 {
            return self.run(cdb, DataBuffer::None);
        }
        let out = is_data_out(cdb);
        if let Some(buf) = data.contiguous_mut() {
            return if out {
                let c = self.run(cdb, DataBuffer::Out(buf));
                Completion { data_in: 0, ..c }
            } else {
                self.run(cdb, DataBuffer::In(buf))
            };
        }
        let mut scratch = self.scratch.lock().unwrap_or_else(|p| p.into_inner());
        if scratch.len() < len {
            scratch.resize(len, 0);
        }
        let buf = &mut scratch[..len];
        if out {
            data.gather(buf);
            let c = self.run(cdb, DataBuffer::Out(buf));
            Completion { data_in: 0, ..c }
        } else {
            let c = self.run(cdb, DataBuffer::In(buf));
            let n = c.data_in.min(len);
            data.scatter(&buf[..n]);
            c
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spindle_disc::Disc;
    use std::path::Path;

    fn disc() -> Arc<Disc> {
        let p = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/samples/libcdio/joliet.iso"
        ));
        Arc::new(spindle_image::open(p).unwrap())
    }

    /// Until the unit attentions are cleared, as the kernel's first commands do.
    fn ready(h: &ModelHandler) {
        for _ in 0..4 {
            let c = h.handle(&[0, 0, 0, 0, 0, 0], &mut DataArea::from_slice(&mut []));
            if c.status == 0 {
                return;
            }
        }
        panic!("never ready");
    }

    #[test]
    fn reads_land_in_the_data_area_and_errors_carry_sense() {
        let d = disc();
        let h = ModelHandler::new(Arc::new(EmulatedDrive::new(Some(d.clone()))));
        ready(&h);
        // READ(10) of 2 sectors from LBA 16 into one piece: the image's bytes.
        let mut buf = vec![0u8; 4096];
        let c = h.handle(
            &[0x28, 0, 0, 0, 0, 16, 0, 0, 2, 0],
            &mut DataArea::from_slice(&mut buf),
        );
        assert_eq!((c.status, c.data_in), (0, 4096));
        let image = std::fs::read(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/samples/libcdio/joliet.iso"
        )))
        .unwrap();
        assert_eq!(buf, image[16 * 2048..18 * 2048]);
        // Past the end: CHECK CONDITION with fixed sense, ILLEGAL REQUEST.
        let c = h.handle(
            &[0x28, 0, 0x7F, 0, 0, 0, 0, 0, 1, 0],
            &mut DataArea::from_slice(&mut buf[..2048]),
        );
        assert_eq!(c.status, 2);
        let sense = c.sense.unwrap();
        assert_eq!((sense[0] & 0x7F, sense[2] & 0x0F), (0x70, 0x05));
        // INQUIRY: the MMC device type the kernel binds sr_mod to.
        let mut inq = [0u8; 36];
        let c = h.handle(&[0x12, 0, 0, 0, 36, 0], &mut DataArea::from_slice(&mut inq));
        assert_eq!((c.status, c.data_in, inq[0]), (0, 36, 0x05));
    }

    #[repr(C, align(64))]
    #[derive(Clone, Copy)]
    struct Block([u8; 64]);

    /// A READ(10) whose buffer the kernel split in two pieces of the data area, through the
    /// real ring code on a region laid out as the kernel lays it out: the sectors land in
    /// both pieces, in order, through the reused scratch buffer.
    #[test]
    fn a_split_buffer_gets_the_sectors_in_order() {
        use spindle_tcmu::ring::{Ring, ent, mb};
        const RING: usize = 128;
        const RING_SIZE: usize = 1024;
        const DATA: usize = RING + RING_SIZE;
        let mut mem = vec![Block([0; 64]); (DATA + 16384).div_ceil(64)];
        // SAFETY: Block is 64 plain bytes without padding: the Vec's storage is initialised
        // bytes, borrowed mutably as the Vec is.
        let b = unsafe {
            std::slice::from_raw_parts_mut(mem.as_mut_ptr().cast::<u8>(), mem.len() * 64)
        };
        let put = |b: &mut [u8], at: usize, v: &[u8]| b[at..at + v.len()].copy_from_slice(v);
        put(b, mb::VERSION, &2u16.to_le_bytes());
        put(b, mb::FLAGS, &mb::CAP_READ_LEN.to_le_bytes());
        put(b, mb::CMDR_OFF, &(RING as u32).to_le_bytes());
        put(b, mb::CMDR_SIZE, &(RING_SIZE as u32).to_le_bytes());
        let pieces = [(DATA, 3000usize), (DATA + 8192, 1096usize)];
        let h = ModelHandler::new(Arc::new(EmulatedDrive::new(Some(disc()))));
        // A fresh drive answers its first command with a unit attention; clear it outside
        // the ring.
        ready(&h);
        let mut scratch_at = None;
        let mut at = 0;
        for _ in 0..2 {
            // Twice: the second command reuses the scratch buffer the first grew.
            let e = RING + at;
            let len = ent::CMD_ENTRY_SIZE;
            put(
                b,
                e + ent::LEN_OP,
                &(len as u32 | ent::OP_CMD).to_le_bytes(),
            );
            put(b, e + ent::IOV_CNT, &2u32.to_le_bytes());
            for (i, (off, n)) in pieces.iter().enumerate() {
                let iov = e + ent::IOV + i * ent::IOV_SIZE;
                put(b, iov, &(*off as u64).to_le_bytes());
                put(b, iov + 8, &(*n as u64).to_le_bytes());
                b[*off..*off + *n].fill(0xAA);
            }
            let cdb = e + ent::IOV + 2 * ent::IOV_SIZE;
            put(b, e + ent::CDB_OFF, &(cdb as u64).to_le_bytes());
            put(b, cdb, &[0x28, 0, 0, 0, 0, 16, 0, 0, 2, 0]);
            at += len;
            put(b, mb::CMD_HEAD, &(at as u32).to_le_bytes());
            let mut iovs = Vec::new();
            let done = Ring::new(b).unwrap().process(&h, &mut iovs).unwrap();
            assert_eq!(done.commands, 1);
            assert_eq!(b[e + ent::STATUS], 0, "GOOD");
            let image = std::fs::read(Path::new(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/samples/libcdio/joliet.iso"
            )))
            .unwrap();
            let mut got = b[pieces[0].0..pieces[0].0 + pieces[0].1].to_vec();
            got.extend_from_slice(&b[pieces[1].0..pieces[1].0 + pieces[1].1]);
            assert_eq!(got, image[16 * 2048..18 * 2048]);
            let scratch = h.scratch.lock().unwrap();
            assert!(scratch.len() >= 4096);
            let p = scratch.as_ptr() as usize;
            assert_eq!(
                *scratch_at.get_or_insert(p),
                p,
                "the same buffer, not a new one"
            );
        }
    }

    /// A drive taking over from a killed daemon has no unit attention and no media event
    /// left for the kernel: the first command queued in the ring reads.
    #[test]
    fn a_resumed_drive_reads_at_once() {
        let model = Arc::new(EmulatedDrive::new(None));
        model.insert(disc());
        resume(&model);
        let h = ModelHandler::new(model.clone());
        let mut buf = vec![0u8; 2048];
        let c = h.handle(
            &[0x28, 0, 0, 0, 0, 16, 0, 0, 1, 0],
            &mut DataArea::from_slice(&mut buf),
        );
        assert_eq!((c.status, c.data_in), (0, 2048));
        let e = spindle_mmc::Mmc::new(&*model).media_event().unwrap();
        assert_eq!(
            e.media.unwrap().event,
            spindle_mmc::events::MediaEvent::NoChange
        );
        // Without it, the same read fails with a unit attention (what the kernel saw).
        let fresh = ModelHandler::new(Arc::new(EmulatedDrive::new(Some(disc()))));
        let c = fresh.handle(
            &[0x28, 0, 0, 0, 0, 16, 0, 0, 1, 0],
            &mut DataArea::from_slice(&mut buf),
        );
        assert_eq!((c.status, c.sense.unwrap()[2] & 0x0F), (2, 0x06));
    }
}
