//! Linux SG_IO: SCSI commands through `ioctl(fd, SG_IO, &sg_io_hdr)` on `/dev/sr*` or
//! `/dev/sg*` (include/scsi/sg.h). The device is opened `O_RDONLY | O_NONBLOCK`: non-blocking
//! so that opening a drive without a disc (or with the tray open) succeeds, and read-only
//! because the sr driver accepts MMC commands on a read-only descriptor.

use crate::error::TransportError;
use crate::transport::{DataBuffer, Outcome, Transport};
use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

const SG_IO: libc::c_ulong = 0x2285;
const SG_DXFER_NONE: libc::c_int = -1;
const SG_DXFER_TO_DEV: libc::c_int = -2;
const SG_DXFER_FROM_DEV: libc::c_int = -3;
/// Host status: the command timed out.
const DID_TIME_OUT: u16 = 0x03;
/// Driver status: the command timed out.
const DRIVER_TIMEOUT: u16 = 0x06;
/// Driver status: sense data is valid (not an error by itself).
const DRIVER_SENSE: u16 = 0x08;
const SENSE_MAX: usize = 64;

/// `struct sg_io_hdr` (interface 'S').
#[repr(C)]
struct SgIoHdr {
    interface_id: libc::c_int,
    dxfer_direction: libc::c_int,
    cmd_len: libc::c_uchar,
    mx_sb_len: libc::c_uchar,
    iovec_count: libc::c_ushort,
    dxfer_len: libc::c_uint,
    dxferp: *mut libc::c_void,
    cmdp: *const libc::c_uchar,
    sbp: *mut libc::c_uchar,
    timeout: libc::c_uint,
    flags: libc::c_uint,
    pack_id: libc::c_int,
    usr_ptr: *mut libc::c_void,
    status: libc::c_uchar,
    masked_status: libc::c_uchar,
    msg_status: libc::c_uchar,
    sb_len_wr: libc::c_uchar,
    host_status: libc::c_ushort,
    driver_status: libc::c_ushort,
    resid: libc::c_int,
    duration: libc::c_uint,
    info: libc::c_uint,
}

/// An open SCSI device.
pub struct SgIo {
    file: File,
    path: PathBuf,
    name: String,
}

impl SgIo {
    /// Opens `path` (`/dev/sr0`, `/dev/sg1`...).
    pub fn open(path: &Path) -> Result<SgIo, TransportError> {
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
            .map_err(|source| TransportError::Io {
                path: path.to_path_buf(),
                what: "opening the device",
                source,
            })?;
        Ok(SgIo {
            file,
            path: path.to_path_buf(),
            name: path.display().to_string(),
        })
    }

    /// The device's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Transport for SgIo {
    fn name(&self) -> &str {
        &self.name
    }

    fn reads_by_dma(&self) -> bool {
        true
    }

    fn execute(
        &mut self,
        cdb: &[u8],
        data: DataBuffer<'_>,
        timeout: Duration,
    ) -> Result<Outcome, TransportError> {
        if cdb.is_empty() || cdb.len() > 16 {
            return Err(TransportError::Invalid {
                device: self.name.clone(),
                why: format!("a CDB of {} bytes", cdb.len()),
            });
        }
        let (dir, ptr, len) = match data {
            DataBuffer::None => (SG_DXFER_NONE, std::ptr::null_mut(), 0),
            DataBuffer::In(b) => (
                SG_DXFER_FROM_DEV,
                b.as_mut_ptr() as *mut libc::c_void,
                b.len(),
            ),
            // The kernel only reads from the buffer for TO_DEV transfers.
            DataBuffer::Out(b) => (SG_DXFER_TO_DEV, b.as_ptr() as *mut libc::c_void, b.len()),
        };
        let dir = if len == 0 { SG_DXFER_NONE } else { dir };
        let mut sense = [0u8; SENSE_MAX];
        let mut hdr = SgIoHdr {
            interface_id: b'S' as libc::c_int,
            dxfer_direction: dir,
            cmd_len: cdb.len() as u8,
            mx_sb_len: SENSE_MAX as u8,
            iovec_count: 0,
            dxfer_len: len as libc::c_uint,
            dxferp: ptr,
            cmdp: cdb.as_ptr(),
            sbp: sense.as_mut_ptr(),
            timeout: timeout.as_millis().clamp(1, u32::MAX as u128 - 1) as libc::c_uint,
            flags: 0,
            pack_id: 0,
            usr_ptr: std::ptr::null_mut(),
            status: 0,
            masked_status: 0,
            msg_status: 0,
            sb_len_wr: 0,
            host_status: 0,
            driver_status: 0,
            resid: 0,
            duration: 0,
            info: 0,
        };
        // SAFETY: hdr points at live buffers of the stated lengths for the whole call; the
        // kernel writes at most dxfer_len bytes to dxferp and mx_sb_len bytes to sbp.
        let r = unsafe { libc::ioctl(self.file.as_raw_fd(), SG_IO as _, &mut hdr as *mut SgIoHdr) };
        if r < 0 {
            return Err(TransportError::Io {
                path: self.path.clone(),
                what: "ioctl SG_IO",
                source: std::io::Error::last_os_error(),
            });
        }
        let opcode = cdb[0];
        if hdr.host_status == DID_TIME_OUT || hdr.driver_status & 0x0F == DRIVER_TIMEOUT {
            return Err(TransportError::Timeout {
                device: self.name.clone(),
                opcode,
                timeout,
            });
        }
        if hdr.host_status != 0 || (hdr.driver_status & !DRIVER_SENSE) != 0 && hdr.sb_len_wr == 0 {
            return Err(TransportError::Host {
                device: self.name.clone(),
                opcode,
                host: hdr.host_status,
                driver: hdr.driver_status,
            });
        }
        let transferred = len.saturating_sub(hdr.resid.max(0) as usize);
        Ok(Outcome {
            status: hdr.status,
            sense: sense[..(hdr.sb_len_wr as usize).min(SENSE_MAX)].to_vec(),
            transferred,
        })
    }
}
