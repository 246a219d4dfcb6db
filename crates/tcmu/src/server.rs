//! The server: one thread per device that maps the ring, waits on the UIO descriptor (and a
//! stop pipe), completes commands from `cmd_tail` to `cmd_head`, and kicks the kernel.

use crate::error::{Error, Result};
use crate::handler::{CommandHandler, Iov};
use crate::mapping::Mapping;
use rustix::event::{PollFd, PollFlags};
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;

/// Counters of a running server, readable while it runs.
#[derive(Debug, Default)]
pub struct Stats {
    /// SCSI commands completed.
    pub commands: AtomicU64,
    /// Passes over the ring.
    pub passes: AtomicU64,
    /// Wake-ups from the kernel.
    pub wakeups: AtomicU64,
    /// Commands failed before the handler (an impossible CDB or iovec offset).
    pub rejected: AtomicU64,
    /// Commands whose buffer was in more than one piece.
    pub scattered: AtomicU64,
    /// The last such failure.
    pub last_rejection: std::sync::Mutex<Option<crate::ring::Rejection>>,
}

/// Why a server thread ended.
#[derive(Debug)]
pub enum Ended {
    /// [`Server::stop`] asked it to.
    Stopped,
    /// The device went away (the UIO descriptor gave EIO: the backstore was disabled or
    /// removed).
    DeviceGone,
}

/// A running server: the thread that serves one device's ring.
pub struct Server {
    thread: Option<JoinHandle<Result<Ended>>>,
    stop: Option<OwnedFd>,
    stats: Arc<Stats>,
}

impl Server {
    /// Maps the ring of `uio` (an open `/dev/uioN` of a TCMU device, possibly passed by the
    /// privileged helper) and serves it with `handler` on a new thread. Entries a previous
    /// server left between `cmd_tail` and `cmd_head` are completed first (recovery).
    pub fn serve(uio: File, handler: Arc<dyn CommandHandler>) -> Result<Server> {
        let mut map = Mapping::new(&uio)?;
        map.ring()?.mailbox()?; // a bad mailbox fails here, not later on the thread
        let (stop_rx, stop_tx) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
            .map_err(|e| Error::io("creating the stop pipe", e))?;
        let stats = Arc::new(Stats::default());
        let st = stats.clone();
        let thread = std::thread::Builder::new()
            .name("tcmu-ring".into())
            .spawn(move || run(uio, map, &*handler, stop_rx, &st))
            .map_err(|e| Error::io("starting the ring thread", e))?;
        Ok(Server {
            thread: Some(thread),
            stop: Some(stop_tx),
            stats,
        })
    }

    /// The server's counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// True once the thread has ended (device gone or ring error).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }

    /// Stops the thread and waits for it: how it ended, or the error that ended it.
    /// Commands not yet taken stay in the ring for the next server (they time out in the
    /// kernel after `attrib/cmd_time_out` if none comes).
    pub fn stop(mut self) -> Result<Ended> {
        self.finish()
    }

    fn finish(&mut self) -> Result<Ended> {
        if let Some(tx) = self.stop.take() {
            let _ = rustix::io::write(&tx, &[1]);
        }
        match self.thread.take() {
            Some(t) => t
                .join()
                .unwrap_or_else(|_| Err(Error::Kernel("the ring thread panicked".into()))),
            None => Ok(Ended::Stopped),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

fn run(
    mut uio: File,
    mut map: Mapping,
    handler: &dyn CommandHandler,
    stop: OwnedFd,
    stats: &Stats,
) -> Result<Ended> {
    let mut iovs: Vec<Iov> = Vec::with_capacity(64);
    let mut pass = |uio: &mut File| -> Result<()> {
        let done = map.ring()?.process(handler, &mut iovs)?;
        stats.passes.fetch_add(1, Ordering::Relaxed);
        stats
            .commands
            .fetch_add(done.commands as u64, Ordering::Relaxed);
        stats
            .rejected
            .fetch_add(done.rejected as u64, Ordering::Relaxed);
        stats
            .scattered
            .fetch_add(done.scattered as u64, Ordering::Relaxed);
        if let Some(r) = done.rejection {
            *stats
                .last_rejection
                .lock()
                .unwrap_or_else(|p| p.into_inner()) = Some(r);
        }
        if done.advanced() {
            // Any 4-byte write makes the kernel reap completions (tcmu_irqcontrol).
            uio.write_all(&1u32.to_ne_bytes())
                .map_err(|e| Error::io("kicking the uio device", e))?;
        }
        Ok(())
    };
    pass(&mut uio)?;
    loop {
        let (uio_ready, stop_ready) = {
            let mut fds = [
                PollFd::new(&uio, PollFlags::IN),
                PollFd::new(&stop, PollFlags::IN),
            ];
            match rustix::event::poll(&mut fds, None) {
                Ok(_) => {}
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(Error::io("poll on the uio device", e)),
            }
            (fds[0].revents(), fds[1].revents())
        };
        if !stop_ready.is_empty() {
            return Ok(Ended::Stopped);
        }
        if uio_ready.intersects(PollFlags::ERR | PollFlags::HUP | PollFlags::NVAL) {
            return Ok(Ended::DeviceGone);
        }
        if uio_ready.contains(PollFlags::IN) {
            let mut count = [0u8; 4];
            match uio.read(&mut count) {
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(libc::EIO) => return Ok(Ended::DeviceGone),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io("reading the uio device", e)),
            }
            stats.wakeups.fetch_add(1, Ordering::Relaxed);
            match pass(&mut uio) {
                Err(Error::Io { source, .. }) if source.raw_os_error() == Some(libc::EIO) => {
                    return Ok(Ended::DeviceGone);
                }
                r => r?,
            }
        }
    }
}
