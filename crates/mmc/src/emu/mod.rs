//! An emulated CD/DVD/BD drive that answers MMC commands from a disc model, the way a real
//! drive does: a tray that opens and closes, a medium that is present or not, unit
//! attentions after power-on (29/00) and after the medium changed (28/00), media events for
//! GET EVENT STATUS NOTIFICATION, and injected faults ([`Faults`]).
//!
//! [`EmulatedDrive::execute_cdb`] takes raw CDB bytes, so the same drive can sit behind
//! [`Transport`] (in-process tests, the ripper) or a kernel interface (TCMU) later.

mod answers;
mod faults;
mod reads;

pub use answers::max_speed;
pub use faults::{FaultHandle, Faults};

use crate::cdb::{Command, ConfigRequest, PageControl, op};
use crate::config::interface;
use crate::error::TransportError;
use crate::events::{EventStatus, MediaEvent, MediaStatus, class};
use crate::inquiry::{DEVICE_TYPE_MMC, Designator, InquiryData, VpdPage, vpd};
use crate::mode::{self, Capabilities, ErrorRecovery, LoadingMechanism, ModeData, RawPage};
use crate::sense::{Asc, Sense, SenseKey};
use crate::transport::{DataBuffer, Outcome, Transport};
use spindle_disc::{Disc, Lba, MediumFamily};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

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

struct State {
    /// The disc in the tray (present to the host only when the tray is closed).
    disc: Option<Arc<Disc>>,
    tray_open: bool,
    prevent: bool,
    unit_attention: VecDeque<Asc>,
    media_event: Option<MediaEvent>,
    /// The sense of the last CHECK CONDITION, for a host that asks with REQUEST SENSE.
    last_sense: Option<Sense>,
    error_recovery: ErrorRecovery,
    /// kB/s set with SET CD SPEED (0: the maximum).
    read_speed: u32,
    /// The last sector read (READ SUB-CHANNEL's current position).
    position: Lba,
    loaded_at: Instant,
    commands: u64,
    /// What the command being answered did that the listener must hear of.
    host_event: Option<HostEvent>,
}

impl State {
    fn medium(&self) -> Option<&Arc<Disc>> {
        if self.tray_open {
            None
        } else {
            self.disc.as_ref()
        }
    }
    fn not_ready(&self) -> Sense {
        Sense::new(
            SenseKey::NotReady,
            if self.tray_open {
                Asc::MEDIUM_NOT_PRESENT_TRAY_OPEN
            } else {
                Asc::MEDIUM_NOT_PRESENT_TRAY_CLOSED
            },
        )
    }
}

/// Default page 0x01: read retries on, 16 of them.
const DEFAULT_RECOVERY: ErrorRecovery = ErrorRecovery {
    flags: 0,
    read_retries: 16,
    write_retries: 0,
    time_limit: 0,
};

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

fn copy_out(answer: &[u8], alloc: usize, buf: &mut [u8]) -> usize {
    let n = answer.len().min(alloc).min(buf.len());
    buf[..n].copy_from_slice(&answer[..n]);
    n
}

impl EmulatedDrive {
    /// A drive just powered on, with `disc` loaded (tray closed) or empty.
    pub fn new(disc: Option<Arc<Disc>>) -> EmulatedDrive {
        EmulatedDrive::with_identity(disc, Identity::default())
    }

    /// A drive just powered on that reports `identity`, with `disc` loaded (tray closed) or
    /// empty.
    pub fn with_identity(disc: Option<Arc<Disc>>, identity: Identity) -> EmulatedDrive {
        let media_event = disc.as_ref().map(|_| MediaEvent::NewMedia);
        EmulatedDrive {
            name: format!("emulated drive {} {}", identity.vendor, identity.product),
            identity: RwLock::new(identity),
            state: Mutex::new(State {
                disc,
                tray_open: false,
                prevent: false,
                unit_attention: VecDeque::from([Asc::POWER_ON_RESET]),
                media_event,
                last_sense: None,
                error_recovery: DEFAULT_RECOVERY,
                read_speed: 0,
                position: Lba(0),
                loaded_at: Instant::now(),
                commands: 0,
                host_event: None,
            }),
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
    /// a NewMedia event and UNIT ATTENTION 28/00.
    pub fn insert(&self, disc: Arc<Disc>) {
        let mut s = self.state();
        s.disc = Some(disc);
        s.tray_open = false;
        s.loaded_at = Instant::now();
        s.media_event = Some(MediaEvent::NewMedia);
        s.unit_attention.push_back(Asc::MEDIUM_MAY_HAVE_CHANGED);
    }

    /// The eject button: opens the tray unless the host prevents removal, in which case
    /// the host gets an EjectRequest event and the tray stays shut. True if it opened.
    pub fn press_eject(&self) -> bool {
        let mut s = self.state();
        if s.prevent {
            s.media_event = Some(MediaEvent::EjectRequest);
            return false;
        }
        s.tray_open = true;
        s.media_event = Some(MediaEvent::MediaRemoval);
        true
    }

    /// Takes the disc out (the tray is left open).
    pub fn remove(&self) -> Option<Arc<Disc>> {
        let mut s = self.state();
        s.tray_open = true;
        s.media_event = Some(MediaEvent::MediaRemoval);
        s.disc.take()
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
            s.loaded_at = Instant::now();
            s.media_event = Some(MediaEvent::NewMedia);
            s.unit_attention.push_back(Asc::MEDIUM_MAY_HAVE_CHANGED);
        }
    }

    /// A bus reset or power cycle: UNIT ATTENTION 29/00, removal allowed again, default
    /// mode pages.
    pub fn reset(&self) {
        let mut s = self.state();
        s.prevent = false;
        s.error_recovery = DEFAULT_RECOVERY;
        s.read_speed = 0;
        s.unit_attention.clear();
        s.unit_attention.push_back(Asc::POWER_ON_RESET);
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

    fn answer(
        &self,
        s: &mut State,
        opcode: u8,
        parsed: Result<Command, Sense>,
        data: DataBuffer<'_>,
    ) -> Answer {
        // INQUIRY, REQUEST SENSE, GET CONFIGURATION and GET EVENT STATUS NOTIFICATION run
        // while a unit attention is pending; everything else reports (and clears) it.
        let exempt = matches!(
            opcode,
            op::INQUIRY | op::REQUEST_SENSE | op::GET_CONFIGURATION | op::GET_EVENT_STATUS
        );
        if !exempt && let Some(asc) = s.unit_attention.pop_front() {
            return Err((Sense::new(SenseKey::UnitAttention, asc), 0));
        }
        let cmd = parsed.map_err(|e| (e, 0))?;
        let (buf, out): (&mut [u8], &[u8]) = match data {
            DataBuffer::In(b) => (b, &[]),
            DataBuffer::Out(b) => (&mut [], b),
            DataBuffer::None => (&mut [], &[]),
        };
        let alloc = cmd.transfer_length();
        let reply = |bytes: &[u8], buf: &mut [u8]| Ok(copy_out(bytes, alloc, buf));
        match cmd {
            Command::Inquiry { evpd: false, .. } => reply(&self.inquiry_data().to_bytes(), buf),
            Command::Inquiry { page, .. } => {
                let id = self.identity();
                let p = match page {
                    vpd::SUPPORTED_PAGES => VpdPage::SupportedPages(vec![0x00, 0x80, 0x83]),
                    vpd::UNIT_SERIAL_NUMBER => VpdPage::SerialNumber(id.serial.clone()),
                    vpd::DEVICE_IDENTIFICATION => {
                        VpdPage::DeviceIdentification(vec![Designator::t10_vendor(
                            &id.vendor,
                            &format!("{} {}", id.product, id.serial),
                        )])
                    }
                    _ => return Err((Sense::invalid_cdb_field(2, None), 0)),
                };
                reply(&p.to_bytes(DEVICE_TYPE_MMC), buf)
            }
            Command::RequestSense {
                descriptor: true, ..
            } => Err((Sense::invalid_cdb_field(1, Some(0)), 0)),
            Command::RequestSense { .. } => {
                let sense = if let Some(asc) = s.unit_attention.pop_front() {
                    Sense::new(SenseKey::UnitAttention, asc)
                } else if let Some(l) = s.last_sense.take() {
                    l
                } else if s.medium().is_none() {
                    s.not_ready()
                } else {
                    Sense::NO_SENSE
                };
                reply(&sense.to_fixed(), buf)
            }
            Command::GetConfiguration { rt, start, .. } => {
                let mut c =
                    answers::configuration(s.medium().map(|d| d.medium), self.identity().interface);
                c.features.retain(|f| {
                    let code = f.feature.code();
                    match rt {
                        ConfigRequest::All => code >= start,
                        ConfigRequest::Current => code >= start && f.current,
                        ConfigRequest::One => code == start,
                    }
                });
                reply(&c.to_bytes(), buf)
            }
            Command::GetEventStatus { polled: false, .. } => {
                Err((Sense::invalid_cdb_field(1, Some(0)), 0))
            }
            Command::GetEventStatus { classes, .. } => {
                let supported = class::bit(class::MEDIA);
                let e = if classes & supported != 0 {
                    EventStatus {
                        nea: false,
                        class: class::MEDIA,
                        supported,
                        media: Some(MediaStatus {
                            event: s.media_event.take().unwrap_or(MediaEvent::NoChange),
                            tray_open: s.tray_open,
                            present: s.disc.is_some(),
                        }),
                    }
                } else {
                    EventStatus {
                        nea: true,
                        class: 0,
                        supported,
                        media: None,
                    }
                };
                reply(&e.to_bytes(), buf)
            }
            Command::ModeSense6 { pc, page, .. } | Command::ModeSense10 { pc, page, .. } => {
                let ten = matches!(cmd, Command::ModeSense10 { .. });
                let md = self.mode_data(s, pc, page).map_err(|e| (e, 0))?;
                reply(&md.to_bytes(ten), buf)
            }
            Command::ModeSelect10 { save, length, .. } => {
                if save {
                    return Err((
                        Sense::new(SenseKey::IllegalRequest, Asc::SAVING_NOT_SUPPORTED),
                        0,
                    ));
                }
                let list = &out[..(length as usize).min(out.len())];
                let md = ModeData::parse(list, true, true).map_err(|_| {
                    (
                        Sense::new(SenseKey::IllegalRequest, Asc::PARAMETER_LIST_LENGTH),
                        0,
                    )
                })?;
                for p in &md.pages {
                    if p.code != mode::PAGE_ERROR_RECOVERY || p.bytes.len() < 4 {
                        return Err((
                            Sense::new(SenseKey::IllegalRequest, Asc::INVALID_FIELD_IN_PARAMETERS),
                            0,
                        ));
                    }
                }
                for p in &md.pages {
                    let er = ErrorRecovery::parse(&p.bytes).map_err(|_| {
                        (
                            Sense::new(SenseKey::IllegalRequest, Asc::PARAMETER_LIST_LENGTH),
                            0,
                        )
                    })?;
                    s.error_recovery.flags = er.flags;
                    s.error_recovery.read_retries = er.read_retries;
                }
                Ok(0)
            }
            Command::StartStopUnit {
                load_eject: true,
                start,
                ..
            } => {
                if start {
                    // Host-initiated load: a NewMedia event, no unit attention (see
                    // shared/notes/tcmu.md: a UA here fails the mount that loaded it).
                    if s.tray_open {
                        s.tray_open = false;
                        if s.disc.is_some() {
                            s.loaded_at = Instant::now();
                            s.media_event = Some(MediaEvent::NewMedia);
                        }
                        s.host_event = Some(HostEvent::TrayClosed);
                    }
                } else {
                    if s.prevent {
                        return Err((
                            Sense::new(SenseKey::IllegalRequest, Asc::REMOVAL_PREVENTED),
                            0,
                        ));
                    }
                    if !s.tray_open {
                        s.tray_open = true;
                        if s.disc.is_some() {
                            s.media_event = Some(MediaEvent::MediaRemoval);
                        }
                        s.host_event = Some(HostEvent::TrayOpened);
                    }
                }
                Ok(0)
            }
            Command::StartStopUnit { start, .. } => {
                if start && s.medium().is_none() {
                    return Err((s.not_ready(), 0));
                }
                Ok(0)
            }
            Command::PreventAllow { prevent } => {
                s.prevent = prevent & 1 != 0;
                Ok(0)
            }
            Command::SetCdSpeed { read_speed, .. } => {
                s.read_speed = if read_speed == 0xFFFF {
                    0
                } else {
                    read_speed as u32
                };
                Ok(0)
            }
            _ => self.medium_command(s, cmd, buf, alloc),
        }
    }

    /// Commands that need a medium.
    fn medium_command(&self, s: &mut State, cmd: Command, buf: &mut [u8], alloc: usize) -> Answer {
        let disc = s.medium().cloned().ok_or_else(|| (s.not_ready(), 0))?;
        let spin_up = self.faults.lock().spin_up;
        if !spin_up.is_zero() && s.loaded_at.elapsed() < spin_up {
            return Err((Sense::new(SenseKey::NotReady, Asc::BECOMING_READY), 0));
        }
        let reply = |r: Result<Vec<u8>, Sense>, buf: &mut [u8]| {
            r.map(|b| copy_out(&b, alloc, buf)).map_err(|e| (e, 0))
        };
        match cmd {
            Command::TestUnitReady => Ok(0),
            Command::ReadCapacity => reply(Ok(answers::capacity(&disc).to_bytes().to_vec()), buf),
            Command::ReadToc {
                msf,
                format,
                number,
                ..
            } => reply(answers::read_toc(&disc, format, msf, number), buf),
            Command::ReadDiscInformation { data_type, .. } => {
                if data_type != 0 {
                    return Err((Sense::invalid_cdb_field(1, Some(0)), 0));
                }
                reply(
                    Ok(answers::disc_information(&disc).to_bytes().to_vec()),
                    buf,
                )
            }
            Command::ReadTrackInformation { address, .. } => reply(
                answers::track_information(&disc, address).map(|t| t.to_bytes().to_vec()),
                buf,
            ),
            Command::ReadSubChannel { subq: false, .. } => reply(
                Ok(crate::subq::SubChannel {
                    audio_status: crate::subq::audio_status::NO_STATUS,
                    data: crate::subq::SubChannelData::HeaderOnly,
                }
                .to_bytes()),
                buf,
            ),
            Command::ReadSubChannel {
                msf, format, track, ..
            } => reply(
                answers::sub_channel(&disc, format, track, msf, s.position).map(|a| a.to_bytes()),
                buf,
            ),
            Command::ReadDiscStructure {
                media_type,
                layer,
                format,
                ..
            } => reply(
                answers::disc_structure(&disc, media_type, layer, format),
                buf,
            ),
            Command::GetPerformance { kind, .. } => {
                if kind != 0 {
                    return Err((Sense::invalid_cdb_field(10, None), 0));
                }
                let speed = if s.read_speed == 0 {
                    max_speed(disc.medium.family())
                } else {
                    s.read_speed.min(max_speed(disc.medium.family()))
                };
                reply(Ok(answers::performance(&disc, speed).to_bytes()), buf)
            }
            Command::Read10 { lba, blocks, .. } => self.read(
                s,
                lba as i32,
                blocks as u32,
                reads::read_user(&disc, &self.faults, lba, blocks as u32, buf),
            ),
            Command::Read12 { lba, blocks, .. } => self.read(
                s,
                lba as i32,
                blocks,
                reads::read_user(&disc, &self.faults, lba, blocks, buf),
            ),
            Command::ReadCd(r) => self.read(
                s,
                r.lba,
                r.blocks,
                reads::read_cd(&disc, &self.faults, &r, buf),
            ),
            _ => Err((Sense::invalid_opcode(), 0)),
        }
    }

    fn read(&self, s: &mut State, lba: i32, blocks: u32, r: Answer) -> Answer {
        if blocks > 0 && r.is_ok() {
            s.position = Lba(lba + blocks as i32 - 1);
        }
        r
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

    fn capabilities(&self, s: &State) -> Capabilities {
        let family = s
            .medium()
            .map(|d| d.medium.family())
            .unwrap_or(MediumFamily::Cd);
        let max = (max_speed(MediumFamily::Cd)).min(0xFFFF) as u16;
        let current = if s.read_speed == 0 {
            max_speed(family)
        } else {
            s.read_speed
        };
        Capabilities {
            read_cd_r: true,
            read_cd_rw: true,
            method2: true,
            read_dvd_rom: true,
            read_dvd_r: true,
            read_dvd_ram: true,
            write_cd_r: false,
            write_cd_rw: false,
            audio_play: false,
            mode2_form1: true,
            mode2_form2: true,
            multi_session: true,
            cdda: true,
            cdda_accurate: true,
            rw_supported: true,
            rw_deinterleaved: false,
            c2_pointers: true,
            isrc: true,
            upc: true,
            read_bar_code: false,
            lock: true,
            locked: s.prevent,
            prevent_jumper: false,
            eject: true,
            loading: LoadingMechanism::Tray,
            max_read_speed: max,
            volume_levels: 0,
            buffer_size: 2048,
            current_read_speed: current.min(0xFFFF) as u16,
        }
    }

    fn mode_data(&self, s: &State, pc: PageControl, page: u8) -> Result<ModeData, Sense> {
        if pc == PageControl::Saved {
            return Err(Sense::new(
                SenseKey::IllegalRequest,
                Asc::SAVING_NOT_SUPPORTED,
            ));
        }
        let recovery = match pc {
            PageControl::Current => s.error_recovery,
            PageControl::Default => DEFAULT_RECOVERY,
            // Changeable: the flags and the read retry count.
            _ => ErrorRecovery {
                flags: 0xFF,
                read_retries: 0xFF,
                write_retries: 0,
                time_limit: 0,
            },
        };
        let mut caps = if pc == PageControl::Changeable {
            [0u8; Capabilities::LEN]
        } else {
            self.capabilities(s).to_bytes()
        };
        caps[0] = mode::PAGE_CAPABILITIES;
        caps[1] = 0x14;
        let p01 = RawPage {
            code: mode::PAGE_ERROR_RECOVERY,
            savable: false,
            bytes: recovery.to_bytes(false).to_vec(),
        };
        let p2a = RawPage {
            code: mode::PAGE_CAPABILITIES,
            savable: false,
            bytes: caps.to_vec(),
        };
        let pages = match page {
            mode::PAGE_ERROR_RECOVERY => vec![p01],
            mode::PAGE_CAPABILITIES => vec![p2a],
            mode::PAGE_ALL => vec![p01, p2a],
            _ => return Err(Sense::invalid_cdb_field(2, Some(5))),
        };
        Ok(ModeData {
            medium_type: 0,
            device_specific: 0,
            pages,
        })
    }
}

/// The sectors a read command touches.
fn read_span(cmd: &Command) -> Option<(i32, u32)> {
    match *cmd {
        Command::Read10 { lba, blocks, .. } => Some((lba as i32, blocks as u32)),
        Command::Read12 { lba, blocks, .. } => Some((lba as i32, blocks)),
        Command::ReadCd(r) => Some((r.lba, r.blocks)),
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
