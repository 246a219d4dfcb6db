//! # spindle-tcmu: SCSI devices served from userspace through LIO's TCMU
//!
//! Linux's `target_core_user` (TCMU) hands every SCSI command of a LIO backstore to a
//! process through a UIO device: a shared region holding a mailbox, a command ring and a data
//! area. With the `tcm_loop` fabric the backstore becomes a local SCSI device, and when the
//! handler answers INQUIRY as an MMC device, `sr_mod` binds it as `/dev/srN`.
//!
//! * [`CommandHandler`], [`DataArea`], [`Completion`]: what a handler sees and answers;
//! * [`ring`]: the ring protocol on any byte region (unit-tested on a fake mailbox);
//! * [`Server`]: one thread per device that serves the mapped ring;
//! * [`Device`], [`DeviceSpec`], [`Nodes`]: configfs setup, attach, teardown, recovery;
//! * [`support`]: whether the kernel has TCMU, and what to install if not;
//! * [`Provisioner`] with [`Local`] (root) and [`Helper`] (`spindle-drive-helper`).
//!
//! docs/tcmu.md describes the whole sequence and what was measured.

mod configfs;
mod error;
mod handler;
pub mod helper;
mod mapping;
mod names;
mod provision;
pub mod ring;
mod server;
mod support;

pub use configfs::{Device, HBA, Nodes, SUBTYPE, TARGET};
pub use error::{Error, Result};
pub use handler::{CHECK_CONDITION, CommandHandler, Completion, DataArea, GOOD, Iov, SENSE_LEN};
pub use helper::Helper;
pub use mapping::{Mapping, uio_sysfs};
pub use names::{DEFAULT_SIZE, DeviceSpec, PREFIX};
pub use provision::{Local, Provisioner};
pub use server::{Ended, Server, Stats};
pub use support::{Support, default_provisioner, require, support};
