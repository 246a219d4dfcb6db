//! # spindle-sys: the Linux system layer
//!
//! The pieces of Linux several spindle crates need, each implemented once, with every raw
//! system call behind a safe function (and a `// SAFETY:` comment on each `unsafe` block):
//!
//! * [`mountinfo`]: the one parser and type of `/proc/self/mountinfo`, and the mount a
//!   descriptor is on (fdinfo `mnt_id`): the FUSE frontend, the daemon's mount-point checks,
//!   the burner's safety checks and `spindle detach` use it;
//! * [`mount`]: unmounting by path, plain or lazy;
//! * [`creds`]: a Unix socket peer's credentials (`SO_PEERCRED`, `SO_PEERGROUPS`) and one
//!   thread's filesystem credentials (per-thread `setfsuid`, `setgroups`, `capset`);
//! * [`activation`]: sockets a service manager passed (`LISTEN_FDS`);
//! * [`block`]: block and loop device ioctls (`BLKGETDISKSEQ`, `BLKROSET`,
//!   `LOOP_GET_STATUS64`);
//! * [`file`](mod@file): `O_DIRECT`, writeback and page-cache control of an open file;
//! * [`nbd`]: the kernel's nbd driver, attach and detach (generic netlink, or the ioctls).
//!
//! What stays elsewhere: `SG_IO` with the MMC commands (spindle-mmc), the FUSE mount calls
//! (spindle-fuse, through rustix), `splice` (spindle-fuse), the NBD protocol (spindle-nbd).
//! docs/architecture.md, "The system layer", has the rules.

pub mod activation;
pub mod block;
pub mod creds;
pub mod file;
pub mod mount;
pub mod mountinfo;
pub mod nbd;
