//! Helpers the integration tests of several crates share, so that each exists once: where the
//! samples are and sheets built from them, running and reading libcdio's `cd-info`, a
//! comparable table of contents and raw-sector digests, one seeded pattern generator, digests
//! and host-tree walks, running tools, loop devices, and the host side of the VM tests.
//!
//! A dev-dependency only. It depends on spindle-disc and on no format or frontend crate, so any
//! crate but spindle-disc (and what spindle-disc depends on) may use it in its tests without a
//! dependency cycle. A test must not pass when a sample or a tool it needs is missing: the
//! helpers here panic then, naming what is missing.

pub mod cd_info;
pub mod deep_images;
pub mod digest;
pub mod fixtures;
pub mod loopdev;
pub mod mount_guard;
pub mod pattern;
pub mod samples;
pub mod sectors;
pub mod toc;
pub mod tools;
pub mod tree;
pub mod udf_build;
pub mod vm;

pub use samples::{sample, samples};
