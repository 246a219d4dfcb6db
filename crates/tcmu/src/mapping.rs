//! The UIO device's shared region, mapped: the size comes from sysfs
//! (`/sys/dev/char/MAJ:MIN/maps/map0/size`), found from the descriptor alone so that a
//! descriptor passed by a privileged helper works the same as one we opened.

use crate::error::Error;
use crate::ring::Ring;
use std::fs::File;
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::ptr::NonNull;

/// The sysfs folder of the UIO device behind `uio` (`/sys/dev/char/MAJ:MIN`).
pub fn uio_sysfs(uio: &File) -> Result<PathBuf, Error> {
    let st = rustix::fs::fstat(uio.as_fd()).map_err(|e| Error::io("fstat of the uio device", e))?;
    let rdev = st.st_rdev;
    let (maj, min) = (rustix::fs::major(rdev), rustix::fs::minor(rdev));
    let dir = PathBuf::from(format!("/sys/dev/char/{maj}:{min}"));
    if !dir.join("maps/map0/size").exists() {
        return Err(Error::NotUio(format!(
            "the descriptor is device {maj}:{min}, which has no UIO map (no {})",
            dir.join("maps/map0/size").display()
        )));
    }
    Ok(dir)
}

/// Reads a sysfs value that is a decimal or 0x-prefixed hexadecimal number.
pub(crate) fn read_number(path: &std::path::Path) -> Result<u64, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::path("reading", path, e))?;
    let t = text.trim();
    let v = match t.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16),
        None => t.parse(),
    };
    v.map_err(|_| Error::Kernel(format!("{} holds {t:?}, not a number", path.display())))
}

/// The mapped region of one UIO device.
pub struct Mapping {
    base: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain shared memory owned by this value; moving the owner to
// another thread moves the only handle this process has to it.
unsafe impl Send for Mapping {}

impl Mapping {
    /// Maps the whole of map 0 of `uio` read-write, shared.
    pub fn new(uio: &File) -> Result<Mapping, Error> {
        let dir = uio_sysfs(uio)?;
        let len = read_number(&dir.join("maps/map0/size"))? as usize;
        if len == 0 {
            return Err(Error::NotUio("the UIO map is empty".into()));
        }
        // SAFETY: a fresh mapping at an address the kernel picks: it aliases nothing in
        // this process. The UIO driver backs it with the TCMU region (offset 0 = map 0).
        let ptr = unsafe {
            rustix::mm::mmap(
                std::ptr::null_mut(),
                len,
                rustix::mm::ProtFlags::READ | rustix::mm::ProtFlags::WRITE,
                rustix::mm::MapFlags::SHARED,
                uio.as_fd(),
                0,
            )
        }
        .map_err(|e| Error::io("mmap of the uio device", e))?;
        let base =
            NonNull::new(ptr.cast()).ok_or_else(|| Error::NotUio("mmap gave null".into()))?;
        Ok(Mapping { base, len })
    }

    /// The region's size in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for an empty region (never, once mapped).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The ring over the mapping.
    pub fn ring(&mut self) -> Result<Ring<'_>, crate::ring::RingError> {
        // SAFETY: base..base+len is our live mapping, readable and writable, and the &mut
        // borrow of self keeps any other Ring or access from this process away from it.
        unsafe { Ring::from_raw(self.base, self.len) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: base/len are exactly what mmap returned, and no Ring borrows it (a Ring
        // borrows &mut self, which cannot outlive this drop).
        let _ = unsafe { rustix::mm::munmap(self.base.as_ptr().cast(), self.len) };
    }
}
