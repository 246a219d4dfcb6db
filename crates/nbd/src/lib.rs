//! spindle's NBD server core (the NBD protocol's fixed-newstyle handshake and transmission
//! phase), written for read-only exports of optical discs, and a minimal client for
//! `spindle attach` and tests. See docs/nbd.md for why we do not use the `nbd` crate.

pub mod client;
pub mod export;
pub mod proto;

pub use export::{Allocation, Catalog, Export, ExportInfo};
