//! Serves a disc image as a SCSI CD/DVD/BD drive (`/dev/srN`) through TCMU: the emulated
//! drive of spindle-mmc answers every command. Used by the VM smoke test; the daemon has its
//! own adapter.
//!
//! ```text
//! tcmu_serve IMAGE [--index N] [--helper SOCKET] [--timeout-ms N] [--device NAME]
//! ```
//!
//! It makes the device `spindle_u<euid>_d<N>` (or reopens it when it exists: recovery after
//! the previous server was killed), serves the ring, attaches the LUN, prints
//! `nodes sr=... sg=... address=...`, and on SIGTERM or SIGINT stops and removes the device.
//! With `--helper` the privileged part goes to `spindle-drive-helper` on SOCKET.

use anyhow::{Context, Result, bail};
use spindle_mmc::cdb::Direction;
use spindle_mmc::{Command, DataBuffer, EmulatedDrive};
use spindle_tcmu::{
    CommandHandler, Completion, DataArea, DeviceSpec, Helper, Local, Provisioner, SENSE_LEN, Server,
};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The emulated drive behind a ring.
struct Drive {
    emu: EmulatedDrive,
    /// `TCMU_TRACE` set: log every command to stderr.
    trace: bool,
    /// For the rare command whose buffer is in several pieces.
    scratch: Mutex<Vec<u8>>,
}

impl Drive {
    /// After a restart the host never saw the drive power off: clear the power-on unit
    /// attention and the new-medium event a fresh drive starts with, so the commands the
    /// kernel queued meanwhile get their answers, not 06/29/00 (which would make sr refuse
    /// the next read as after a media change).
    fn resume(&self) {
        let t = Duration::from_secs(1);
        for _ in 0..4 {
            match self.emu.execute_cdb(&[0; 6], DataBuffer::None, t) {
                Ok(o) if o.status == 0 => break,
                _ => {}
            }
        }
        // GET EVENT STATUS NOTIFICATION, polled, media class: takes the NewMedia event.
        let mut buf = [0u8; 8];
        let gesn = [0x4A, 0x01, 0, 0, 0x10, 0, 0, 0, 8, 0];
        let _ = self.emu.execute_cdb(&gesn, DataBuffer::In(&mut buf), t);
    }
}

impl CommandHandler for Drive {
    fn handle(&self, cdb: &[u8], data: &mut DataArea<'_>) -> Completion {
        let dir = match Command::parse(cdb) {
            Ok(c) => c.direction(),
            Err(_) => Direction::In, // the drive answers ILLEGAL REQUEST itself
        };
        let timeout = Duration::from_secs(20);
        let mut scratch = self.scratch.lock().unwrap_or_else(|p| p.into_inner());
        let outcome = if data.is_empty() || matches!(dir, Direction::None) {
            self.emu.execute_cdb(cdb, DataBuffer::None, timeout)
        } else if matches!(dir, Direction::Out) {
            scratch.resize(data.len(), 0);
            let n = data.gather(&mut scratch);
            self.emu
                .execute_cdb(cdb, DataBuffer::Out(&scratch[..n]), timeout)
        } else if let Some(buf) = data.contiguous_mut() {
            // The usual case: sectors go straight into the ring.
            self.emu.execute_cdb(cdb, DataBuffer::In(buf), timeout)
        } else {
            scratch.resize(data.len(), 0);
            let r = self
                .emu
                .execute_cdb(cdb, DataBuffer::In(&mut scratch), timeout);
            if let Ok(o) = &r {
                data.scatter(&scratch[..o.transferred.min(scratch.len())]);
            }
            r
        };
        if self.trace {
            match &outcome {
                Ok(o) => eprintln!(
                    "cdb {:02x?} len {} -> status {} data {} sense {:02x?}",
                    cdb,
                    data.len(),
                    o.status,
                    o.transferred,
                    o.sense.get(..14)
                ),
                Err(e) => eprintln!("cdb {cdb:02x?} -> {e}"),
            }
        }
        match outcome {
            Ok(o) => {
                let mut sense = None;
                if !o.sense.is_empty() {
                    let mut s = [0u8; SENSE_LEN];
                    let n = o.sense.len().min(SENSE_LEN);
                    s[..n].copy_from_slice(&o.sense[..n]);
                    sense = Some(s);
                }
                Completion {
                    status: o.status,
                    sense,
                    data_in: o.transferred,
                }
            }
            // A timeout fault: 02/04/01 LOGICAL UNIT IS IN PROCESS OF BECOMING READY.
            Err(_) => Completion::check_code(0x02, 0x04, 0x01),
        }
    }
}

struct Args {
    image: PathBuf,
    index: u32,
    helper: Option<PathBuf>,
    timeout: Duration,
    /// A device name instead of `spindle_u<euid>_d<index>` (to test the helper's checks).
    device: Option<String>,
}

fn args() -> Result<Args> {
    let mut it = std::env::args_os().skip(1);
    let mut a = Args {
        image: PathBuf::new(),
        index: 0,
        helper: None,
        timeout: Duration::from_secs(20),
        device: None,
    };
    while let Some(arg) = it.next() {
        let mut value = || it.next().context("an option lacks its value");
        match arg.to_str() {
            Some("--index") => a.index = value()?.to_string_lossy().parse()?,
            Some("--helper") => a.helper = Some(value()?.into()),
            Some("--device") => a.device = Some(value()?.to_string_lossy().into_owned()),
            Some("--timeout-ms") => {
                a.timeout = Duration::from_millis(value()?.to_string_lossy().parse()?)
            }
            Some(s) if s.starts_with("--") => bail!("unknown option {s}"),
            _ => a.image = arg.into(),
        }
    }
    if a.image.as_os_str().is_empty() {
        bail!("usage: tcmu_serve IMAGE [--index N] [--helper SOCKET] [--timeout-ms N]");
    }
    Ok(a)
}

/// Blocks SIGTERM and SIGINT in this thread (and the threads it starts later), so that
/// [`wait_signal`] receives them.
fn block_signals() -> libc::sigset_t {
    // SAFETY: sigset_t is plain data that sigemptyset initialises before any use.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: set is a valid sigset_t; the calls only write it and this thread's mask.
    unsafe {
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
    set
}

/// Waits up to half a second for a signal of `set`; true when one came.
fn wait_signal(set: &libc::sigset_t) -> bool {
    let t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 500_000_000,
    };
    // SAFETY: set and t are valid for reading; a null siginfo pointer is allowed.
    unsafe { libc::sigtimedwait(set, std::ptr::null_mut(), &t) > 0 }
}

fn main() -> Result<()> {
    let signals = block_signals();
    let a = args()?;
    let disc =
        spindle_image::open(&a.image).with_context(|| format!("opening {}", a.image.display()))?;
    let handler = Arc::new(Drive {
        emu: EmulatedDrive::new(Some(Arc::new(disc))),
        scratch: Mutex::new(Vec::new()),
        trace: std::env::var_os("TCMU_TRACE").is_some(),
    });
    let prov: Box<dyn Provisioner> = match &a.helper {
        Some(s) => Box::new(Helper::new(s)),
        None => Box::new(Local),
    };
    let uid = rustix::process::geteuid().as_raw();
    let mut spec = DeviceSpec::for_user(uid, a.index);
    if let Some(name) = a.device.clone() {
        spec.name = name;
    }
    let existing = prov.list()?.contains(&spec.name);
    let uio = if existing {
        println!("reopening {}", spec.name);
        prov.reopen(&spec.name)?
    } else {
        prov.create(&spec)?
    };
    if existing {
        handler.resume();
    }
    let server = Server::serve(uio, handler)?;
    let nodes = match prov.attach(&spec.name, a.timeout) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("server {:?}", server.stats());
            if server.is_finished() {
                eprintln!("the ring thread ended: {:?}", server.stop());
            }
            return Err(e.into());
        }
    };
    let show = |p: &Option<PathBuf>| p.as_ref().map_or("-".into(), |p| p.display().to_string());
    println!(
        "nodes sr={} sg={} address={}",
        show(&nodes.sr),
        show(&nodes.sg),
        nodes.address
    );
    while !wait_signal(&signals) {
        if server.is_finished() {
            break;
        }
    }
    let relaxed = std::sync::atomic::Ordering::Relaxed;
    let commands = server.stats().commands.load(relaxed);
    let scattered = server.stats().scattered.load(relaxed);
    // Remove first: the kernel fails what is queued, and the server then sees EIO.
    prov.remove(&spec.name)?;
    let ended = server.stop()?;
    println!(
        "removed {} after {commands} commands, {scattered} in several pieces ({ended:?})",
        spec.name
    );
    Ok(())
}
