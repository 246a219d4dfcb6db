//! spindle's NBD server core (the NBD protocol's fixed-newstyle handshake and transmission
//! phase), written for read-only exports of optical discs, and a minimal client for
//! `spindle attach` and tests. See docs/nbd.md for why we do not use the `nbd` crate.

pub mod client;
pub mod export;
pub mod files;
mod handshake;
pub mod proto;
mod server;
mod socket;
mod tls;
mod transmission;

pub use export::{Catalog, ExportInfo};
pub use server::{Server, ServerConfig, TlsMode};
pub use socket::Socket;
pub use spindle_bytes::{Backing, ByteSource, Run};
pub use tls::{TlsConfig, TlsError, parse_psk_file};
