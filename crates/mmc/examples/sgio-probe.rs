//! Talks MMC to a real drive over Linux SG_IO and prints what it answers, one `probe KEY
//! VALUE` line per fact, then dumps the disc's 2048-byte blocks with READ(10) to OUT.
//! The VM test runs it against QEMU's emulated ATAPI drive.
//!
//! Usage: sgio-probe DEVICE OUT

use spindle_mmc::cdb::{ConfigRequest, PageControl, TrackAddress};
use spindle_mmc::mode::Capabilities;
use spindle_mmc::readcd::{ReadCdFields, SectorType};
use spindle_mmc::sgio::SgIo;
use spindle_mmc::{Mmc, SenseKey};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: sgio-probe DEVICE OUT");
        return ExitCode::from(2);
    }
    match run(&PathBuf::from(&args[1]), &PathBuf::from(&args[2])) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sgio-probe: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(dev: &std::path::Path, out: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    let mut m = Mmc::new(SgIo::open(dev)?);
    m.timeout = Duration::from_secs(20);
    // Wait for the drive: unit attentions and "becoming ready" are normal after a load.
    let mut ready = false;
    for _ in 0..100 {
        match m.test_unit_ready() {
            Ok(()) => {
                ready = true;
                break;
            }
            Err(e)
                if matches!(
                    e.sense().map(|s| s.key),
                    Some(SenseKey::UnitAttention | SenseKey::NotReady)
                ) =>
            {
                println!("probe tur-sense {}", e.sense().unwrap());
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => return Err(e.into()),
        }
    }
    println!("probe ready {ready}");
    let inq = m.inquiry()?;
    println!(
        "probe inquiry type={} removable={} vendor={:?} product={:?}",
        inq.peripheral_type(),
        inq.removable,
        inq.vendor,
        inq.product
    );
    let conf = m.get_configuration(ConfigRequest::All, 0)?;
    println!("probe profile {:#06x}", conf.current_profile);
    let codes: Vec<String> = conf
        .features
        .iter()
        .map(|f| format!("{:04x}", f.feature.code()))
        .collect();
    println!("probe features {}", codes.join(","));
    let cap = m.read_capacity()?;
    println!("probe capacity {} {}", cap.last_lba, cap.block_size);
    for msf in [false, true] {
        let toc = m.read_toc(msf, 0)?;
        for t in &toc.tracks {
            println!(
                "probe toc msf={msf} track={} control={} lba={}",
                t.track,
                t.control,
                t.address.lba().0
            );
        }
    }
    let si = m.session_info(false)?;
    println!("probe sessions {} {}", si.first_session, si.last_session);
    match m.disc_information() {
        Ok(di) => println!(
            "probe discinfo sessions={} status={} first={}",
            di.sessions, di.disc_status, di.first_track
        ),
        Err(e) => println!("probe discinfo error {e}"),
    }
    match m.track_information(TrackAddress::Track(1)) {
        Ok(ti) => println!("probe trackinfo start={} size={}", ti.start, ti.size),
        Err(e) => println!("probe trackinfo error {e}"),
    }
    match m.mode_sense(0x2A, PageControl::Current) {
        Ok(md) => match md.page(0x2A).map(|p| Capabilities::parse(&p.bytes)) {
            Some(Ok(c)) => println!(
                "probe caps eject={} lock={} dvd={}",
                c.eject, c.lock, c.read_dvd_rom
            ),
            _ => println!("probe caps none"),
        },
        Err(e) => println!("probe caps error {e}"),
    }
    let ev = m.media_event()?;
    println!(
        "probe event present={}",
        ev.media.map(|e| e.present).unwrap_or(false)
    );
    // The whole disc through READ(10), 32 blocks at a time.
    let blocks = cap.last_lba + 1;
    let mut file = std::fs::File::create(out)?;
    let mut buf = vec![0u8; 32 * 2048];
    let mut at = 0u32;
    while at < blocks {
        let n = (blocks - at).min(32);
        let got = m.read10(at, n as u16, &mut buf)?;
        file.write_all(&buf[..got])?;
        at += n;
    }
    println!("probe dumped {blocks}");
    // READ CD of the volume descriptor: user data equals READ(10); raw has sync and header.
    let mut user = vec![0u8; 2048];
    m.read10(16, 1, &mut user)?;
    let mut cd = vec![0u8; 2048];
    m.read_cd(16, 1, SectorType::Mode1, ReadCdFields::USER, &mut cd)?;
    println!(
        "probe readcd-user {}",
        if cd == user { "same" } else { "differs" }
    );
    let mut raw = vec![0u8; 2352];
    m.read_cd(16, 1, SectorType::Any, ReadCdFields::RAW, &mut raw)?;
    let sync_ok = raw[..12] == spindle_disc::sector::SYNC;
    println!(
        "probe readcd-raw sync={sync_ok} header={:02x}{:02x}{:02x}{:02x} user={}",
        raw[12],
        raw[13],
        raw[14],
        raw[15],
        if raw[16..2064] == user[..] {
            "same"
        } else {
            "differs"
        }
    );
    // A read past the end: the drive's sense comes back through SG_IO.
    match m.read10(blocks + 10, 1, &mut user) {
        Ok(_) => println!("probe past-end no error"),
        Err(e) => match e.sense() {
            Some(s) => println!(
                "probe past-end {:02x}/{:02x}/{:02x}",
                s.key.code(),
                s.asc.0,
                s.asc.1
            ),
            None => println!("probe past-end {e}"),
        },
    }
    Ok(())
}
