//! The emulated MMC drive (crates/mmc) on arbitrary command streams: every CDB, with any
//! buffer and parameter list, interleaved with the daemon's own actions (swap, eject button,
//! remove, tray, reset, faults), answers GOOD with at most the buffer's bytes or CHECK
//! CONDITION with parseable fixed-format sense; it never panics or hangs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spindle_disc::{Medium, MemSource};
use spindle_mmc::transport::status;
use spindle_mmc::{DataBuffer, EmulatedDrive, Faults, Sense};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// A 64-sector disc of 2048-byte blocks with a pattern, as the medium `kind` picks.
fn disc(kind: u8) -> Arc<spindle_disc::Disc> {
    let bytes: Vec<u8> = (0..64 * 2048usize).map(|i| (i ^ (i >> 11)) as u8).collect();
    let src = Arc::new(MemSource::new(bytes, "/fuzz/disc.iso"));
    let mut d = spindle_format_iso::open_source(src, Path::new("disc.iso")).unwrap();
    d.medium = [Medium::CdRom, Medium::DvdRom, Medium::BdRom][kind as usize % 3];
    Arc::new(d)
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, mut rest)) = data.split_first() else {
        return;
    };
    let drive = EmulatedDrive::new((first & 3 != 3).then(|| disc(first)));
    let mut buf = vec![0u8; 70_000];
    // Each step: a control byte, then the CDB (6, 10, 12 or 16 bytes), then for data-out
    // commands up to 255 bytes of parameter list.
    while let Some((&control, after)) = rest.split_first() {
        rest = after;
        match control >> 5 {
            0 => drive.insert(disc(control)),
            1 => {
                drive.press_eject();
            }
            2 => {
                drive.remove();
            }
            3 => drive.close_tray(),
            4 => drive.reset(),
            5 => drive
                .faults()
                .set(Faults::none().unreadable_range((control & 31) as i32, 2)),
            _ => {}
        }
        let len = [6usize, 10, 12, 16][(control & 3) as usize].min(rest.len());
        let (cdb, after) = rest.split_at(len);
        rest = after;
        let out_len = if spindle_mmc::cdb::is_data_out(cdb) {
            let n = rest.first().copied().unwrap_or(0) as usize;
            rest = rest.get(1..).unwrap_or(&[]);
            n.min(rest.len())
        } else {
            0
        };
        let (out, after) = rest.split_at(out_len);
        rest = after;
        let size = ((control as usize) * 977) % buf.len();
        let data = if spindle_mmc::cdb::is_data_out(cdb) {
            DataBuffer::Out(out)
        } else {
            DataBuffer::In(&mut buf[..size])
        };
        let o = drive
            .execute_cdb(cdb, data, Duration::from_millis(10))
            .unwrap();
        match o.status {
            status::GOOD => assert!(o.transferred <= size.max(out.len())),
            status::CHECK_CONDITION => assert!(Sense::parse(&o.sense).is_some()),
            s => panic!("status {s:#x}"),
        }
    }
});
