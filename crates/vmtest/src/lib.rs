//! A kernel test VM for spindle's tests: Debian's stock kernel booted under QEMU (TCG) with an
//! initramfs built per test (busybox, our `spindle` binary and its shared libraries, the kernel
//! modules the test names with their dependencies, data files, a test script). The guest prints
//! `VMTEST PASS name` / `VMTEST FAIL name: detail` for each check and `VMTEST DONE` at the end on
//! its serial console; the host reads them back. See docs/vm.md.
//!
//! ```no_run
//! use spindle_vmtest::VmTest;
//! let outcome = VmTest::new("cdrom")
//!     .modules(["sr_mod", "ata_piix", "isofs"])
//!     .qemu_args(["-cdrom", "/path/to/disc.iso"])
//!     .script("vmtest_check mount mount -t iso9660 -o ro /dev/sr0 /mnt\n")
//!     .expect(["modules", "mount"])
//!     .run_checked();
//! if let Err(e) = outcome { panic!("{e}") }
//! ```

mod error;
mod initramfs;
mod kernel;
mod modules;
mod outcome;
mod paths;
mod qemu;
mod vm;

pub use error::Error;
pub use initramfs::{Initramfs, shared_libraries};
pub use kernel::Kernel;
pub use modules::{ModuleIndex, modinfo_depends};
pub use outcome::Outcome;
pub use paths::{samples_dir, spindle_binary, target_dir, workspace_root};
pub use vm::VmTest;

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
