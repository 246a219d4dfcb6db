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
}
