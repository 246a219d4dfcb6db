//! spindle's NBD server core (the NBD protocol's fixed-newstyle handshake and transmission
//! phase), written for read-only exports of optical discs. See docs/nbd.md for why we do not
//! use the `nbd` crate.

pub mod export;

pub use export::{Allocation, Catalog, Export, ExportInfo};
