//! An emulated CD/DVD/BD drive that answers MMC commands from a disc model, the way a real
//! drive does: a tray that opens and closes, a medium that is present or not, unit
//! attentions after power-on (29/00) and after the medium changed (28/00), media events for
//! GET EVENT STATUS NOTIFICATION, and injected faults ([`Faults`]).
//!
//! [`EmulatedDrive::execute_cdb`] takes raw CDB bytes, so the same drive can sit behind
//! [`Transport`] (in-process tests, the ripper) or a kernel interface (TCMU) later.

mod answers;
mod audio;
mod dispatch;
mod faults;
mod mechanism;
mod pages;
mod reads;
mod state;

pub use answers::max_speed;
pub use faults::{FaultHandle, Faults};

use crate::cdb::Command;
use crate::config::interface;
use crate::error::TransportError;
use crate::inquiry::{DEVICE_TYPE_MMC, InquiryData};
use crate::sense::Sense;
use crate::transport::{DataBuffer, Outcome, Transport};
use spindle_disc::Disc;
use state::State;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

/// What the drive says it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// Vendor identification in INQUIRY data (bytes 8-15, 8 ASCII characters).
    pub vendor: String,
    /// Product identification in INQUIRY data (bytes 16-31, 16 ASCII characters).
    pub product: String,
    /// Product revision level in INQUIRY data (bytes 32-35, 4 ASCII characters).
    pub revision: String,
    /// Unit serial number (VPD page 0x80).
    pub serial: String,
    /// Physical interface reported in the core feature.
    pub interface: u32,
}

impl Default for Identity {
    fn default() -> Identity {
        Identity {
            vendor: "SPINDLE".into(),
            product: "Virtual BD-ROM".into(),
            revision: "0001".into(),
            serial: "SPD00000001".into(),
            interface: interface::ATAPI,
        }
    }
}

/// A host action that changed what a user of the drive sees, reported to the listener set
/// with [`EmulatedDrive::set_host_listener`] after the drive's own state has changed (and its
/// lock is released, so the listener may call back into the drive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostEvent {
    /// The host opened the tray (START STOP UNIT with LoEj, Start clear). The disc is still in
    /// the tray ([`EmulatedDrive::disc`]) but no longer present to the host; a daemon that
    /// treats this as "ejected" calls [`EmulatedDrive::remove`].
    TrayOpened,
    /// The host closed the tray (START STOP UNIT with LoEj and Start). The disc in the tray,
    /// if any, is present again with a NewMedia event and no unit attention (shared/notes/
    /// tcmu.md); calling [`EmulatedDrive::insert`] now would add a unit attention 28/00.
    TrayClosed,
}

/// The listener of host events.
type HostListener = Arc<dyn Fn(HostEvent) + Send + Sync>;

/// The emulated drive. Shareable: every method takes `&self`.
pub struct EmulatedDrive {
    identity: RwLock<Identity>,
    name: String,
    state: Mutex<State>,
    faults: FaultHandle,
    listener: Mutex<Option<HostListener>>,
}

/// What a drive answers to one command.
type Answer = Result<usize, (Sense, usize)>;

impl EmulatedDrive {
    /// A drive just powered on, with `disc` loaded (tray closed) or empty.
    pub fn new(disc: Option<Arc<Disc>>) -> EmulatedDrive {
        EmulatedDrive::with_identity(disc, Identity::default())
    }

    /// A drive just powered on that reports `identity`, with `disc` loaded (tray closed) or
    /// empty.
    pub fn with_identity(disc: Option<Arc<Disc>>, identity: Identity) -> EmulatedDrive {
        EmulatedDrive {
            name: format!("emulated drive {} {}", identity.vendor, identity.product),
            identity: RwLock::new(identity),
            state: Mutex::new(State::new(disc)),
            faults: FaultHandle::default(),
            listener: Mutex::new(None),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The faults, to change while the drive is in use.
    pub fn faults(&self) -> FaultHandle {
        self.faults.clone()
    }

    /// What the drive says it is (a copy: [`EmulatedDrive::set_identity`] may change it).
    pub fn identity(&self) -> Identity {
        self.identity
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Changes what the drive says it is: INQUIRY (vendor, product, revision), the serial
    /// number of VPD page 0x80 and the interface of the core feature answer from `identity`
    /// from the next command on. The transport name ([`Transport::name`]) keeps the identity
    /// the drive was made with.
    pub fn set_identity(&self, identity: Identity) {
        *self.identity.write().unwrap_or_else(|p| p.into_inner()) = identity;
    }

    /// Sets the function told of every [`HostEvent`] (replacing any earlier one). It runs on
    /// the thread that executed the command, after the drive's state lock is released and
    /// before `execute_cdb` returns, so it may call [`EmulatedDrive::remove`] or
    /// [`EmulatedDrive::insert`] on this drive.
    pub fn set_host_listener(&self, f: Box<dyn Fn(HostEvent) + Send + Sync>) {
        *self.listener.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::from(f));
    }

    /// The disc in the tray, whether or not the tray is closed.
    pub fn disc(&self) -> Option<Arc<Disc>> {
        self.state().disc.clone()
    }

    /// True when the tray is open (no medium is then ready).
    pub fn tray_open(&self) -> bool {
        self.state().tray_open
    }

    /// True while the host prevents medium removal.
    pub fn removal_prevented(&self) -> bool {
        self.state().prevent
    }

    /// Commands executed so far.
    pub fn commands(&self) -> u64 {
        self.state().commands
    }

    /// Puts `disc` in and closes the tray, as a user (or the daemon) swapping the medium:
    /// a NewMedia event and UNIT ATTENTION 28/00, both from one recorded change (see
    /// `state.rs`), so the host's GESN poll and its TEST UNIT READY agree.
    pub fn insert(&self, disc: Arc<Disc>) {
        let mut s = self.state();
        s.disc = Some(disc);
        s.tray_open = false;
        s.medium_changed(true);
    }

    /// The eject button: opens the tray unless the host prevents removal, in which case
    /// the host gets one EjectRequest event, the tray stays shut and the disc stays in
    /// (the host decides: udev allows removal and ejects). True if the tray is open.
    pub fn press_eject(&self) -> bool {
        let mut s = self.state();
        if s.prevent {
            s.request_eject();
            return false;
        }
        if !s.tray_open {
            s.tray_open = true;
            if s.disc.is_some() {
                s.medium_changed(false);
            }
        }
        true
    }

    /// Takes the disc out (the tray is left open). The host sees a MediaRemoval event and
    /// NOT READY if the medium was present to it.
    pub fn remove(&self) -> Option<Arc<Disc>> {
        let mut s = self.state();
        let was_present = s.medium().is_some();
        s.tray_open = true;
        let disc = s.disc.take();
        if was_present {
            s.medium_changed(false);
        }
        disc
    }

    /// Closes the tray from the outside (a user pushing it in): the disc in it, if any,
    /// becomes present with NewMedia and UNIT ATTENTION 28/00.
    pub fn close_tray(&self) {
        let mut s = self.state();
        if !s.tray_open {
            return;
        }
        s.tray_open = false;
        if s.disc.is_some() {
            s.medium_changed(true);
        }
    }

    /// A bus reset or power cycle: UNIT ATTENTION 29/00, removal allowed again, default
    /// mode pages and speed, audio play stopped.
    pub fn reset(&self) {
        self.state().reset();
    }

    /// Executes one CDB with its data phase, as a drive would: the outcome carries status,
    /// sense and bytes moved. `Err(Timeout)` when a hang fault outlasts `timeout`.
    pub fn execute_cdb(
        &self,
        cdb: &[u8],
        data: DataBuffer<'_>,
        timeout: Duration,
    ) -> Result<Outcome, TransportError> {
        let opcode = cdb.first().copied().unwrap_or(0xFF);
        let (delay, hang_all) = {
            let f = self.faults.lock();
            (f.command_delay, f.hang)
        };
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        if hang_all && !reads::wait_hang(timeout, || self.faults.lock().hang) {
            return Err(self.timeout(opcode, timeout));
        }
        let parsed = Command::parse(cdb);
        if let Ok(cmd) = &parsed
            && let Some((lba, n)) = read_span(cmd)
            && self.faults.lock().hangs(lba, n)
            && !reads::wait_hang(timeout, || self.faults.lock().hangs(lba, n))
        {
            return Err(self.timeout(opcode, timeout));
        }
        let mut s = self.state();
        s.commands += 1;
        let answer = self.answer(&mut s, opcode, parsed, data);
        let outcome = match answer {
            Ok(n) => {
                s.last_sense = None;
                Outcome::good(n)
            }
            Err((sense, n)) => {
                s.last_sense = Some(sense);
                Outcome::check(&sense, n)
            }
        };
        let event = s.host_event.take();
        drop(s);
        if let Some(e) = event {
            let listener = self
                .listener
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            if let Some(f) = listener {
                f(e);
            }
        }
        Ok(outcome)
    }

    fn timeout(&self, opcode: u8, timeout: Duration) -> TransportError {
        TransportError::Timeout {
            device: self.name.clone(),
            opcode,
            timeout,
        }
    }

    fn inquiry_data(&self) -> InquiryData {
        let id = self.identity();
        InquiryData {
            device_type: DEVICE_TYPE_MMC,
            removable: true,
            version: 0x05,
            vendor: id.vendor,
            product: id.product,
            revision: id.revision,
        }
    }
}

/// The sectors a read command touches.
fn read_span(cmd: &Command) -> Option<(i32, u32)> {
    match *cmd {
        Command::Read10 { lba, blocks, .. } => Some((lba as i32, blocks as u32)),
        Command::Read12 { lba, blocks, .. } => Some((lba as i32, blocks)),
        Command::ReadCd(r) | Command::ReadCdMsf(r) => Some((r.lba, r.blocks)),
        _ => None,
    }
}

impl Transport for EmulatedDrive {
    fn name(&self) -> &str {
        &self.name
    }
    fn execute(
        &mut self,
        cdb: &[u8],
        data: DataBuffer<'_>,
        timeout: Duration,
    ) -> Result<Outcome, TransportError> {
        self.execute_cdb(cdb, data, timeout)
    }
}

impl Transport for &EmulatedDrive {
    fn name(&self) -> &str {
        &self.name
    }
    fn execute(
        &mut self,
        cdb: &[u8],
        data: DataBuffer<'_>,
        timeout: Duration,
    ) -> Result<Outcome, TransportError> {
        self.execute_cdb(cdb, data, timeout)
    }
}

impl Transport for Arc<EmulatedDrive> {
    fn name(&self) -> &str {
        &self.name
    }
    fn execute(
        &mut self,
        cdb: &[u8],
        data: DataBuffer<'_>,
        timeout: Duration,
    ) -> Result<Outcome, TransportError> {
        self.execute_cdb(cdb, data, timeout)
    }
}
