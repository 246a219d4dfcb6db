//! Wire constants of the NBD protocol (NetworkBlockDevice/nbd doc/proto.md) and small
//! big-endian helpers shared by the server and the client.

use std::io::{self, Read};

/// "NBDMAGIC": the first 8 bytes a server sends.
pub const NBDMAGIC: u64 = 0x4e42_444d_4147_4943;
/// "IHAVEOPT": newstyle negotiation, and the prefix of every option a client sends.
pub const IHAVEOPT: u64 = 0x4948_4156_454f_5054;
/// The magic of every option reply.
pub const REPLY_MAGIC: u64 = 0x0003_e889_0455_65a9;
/// The magic that starts every transmission request.
pub const REQUEST_MAGIC: u32 = 0x2560_9513;
/// The magic that starts a simple reply.
pub const SIMPLE_REPLY_MAGIC: u32 = 0x6744_6698;
/// The magic that starts each chunk of a structured reply.
pub const STRUCTURED_REPLY_MAGIC: u32 = 0x668e_33ef;

// Handshake flags (server) and client flags.
/// Handshake flag (server): fixed newstyle negotiation is spoken.
pub const FLAG_FIXED_NEWSTYLE: u16 = 1 << 0;
/// Handshake flag (server): the 124 zero bytes after NBD_OPT_EXPORT_NAME's reply may be
/// left out.
pub const FLAG_NO_ZEROES: u16 = 1 << 1;
/// Client flag: the client speaks fixed newstyle negotiation.
pub const FLAG_C_FIXED_NEWSTYLE: u32 = 1 << 0;
/// Client flag: the client does not want the 124 zero bytes after NBD_OPT_EXPORT_NAME's
/// reply.
pub const FLAG_C_NO_ZEROES: u32 = 1 << 1;

// Options.
/// Option: select an export by name and end negotiation at once (no error reply is
/// possible; a server that refuses closes the connection).
pub const OPT_EXPORT_NAME: u32 = 1;
/// Option: the client ends negotiation without selecting an export.
pub const OPT_ABORT: u32 = 2;
/// Option: list the exports (one NBD_REP_SERVER reply each, then NBD_REP_ACK).
pub const OPT_LIST: u32 = 3;
/// Option: upgrade the connection to TLS before going on with negotiation.
pub const OPT_STARTTLS: u32 = 5;
/// Option: describe an export (NBD_REP_INFO replies) without selecting it.
pub const OPT_INFO: u32 = 6;
/// Option: describe an export like NBD_OPT_INFO, then select it and enter transmission.
pub const OPT_GO: u32 = 7;
/// Option: the client accepts structured replies in transmission.
pub const OPT_STRUCTURED_REPLY: u32 = 8;
/// Option: list the metadata contexts matching the client's queries.
pub const OPT_LIST_META_CONTEXT: u32 = 9;
/// Option: select the metadata contexts NBD_CMD_BLOCK_STATUS reports.
pub const OPT_SET_META_CONTEXT: u32 = 10;

// Option reply types.
/// Option reply: the option is done (success).
pub const REP_ACK: u32 = 1;
/// Option reply: one export of an NBD_OPT_LIST answer.
pub const REP_SERVER: u32 = 2;
/// Option reply: one NBD_INFO_* item about an export.
pub const REP_INFO: u32 = 3;
/// Option reply: one metadata context and the id it gets.
pub const REP_META_CONTEXT: u32 = 4;
const REP_ERR: u32 = 1 << 31;
/// Option error: the option is unknown to the server.
pub const REP_ERR_UNSUP: u32 = REP_ERR + 1;
/// Option error: the server forbids the option (or this use of it).
pub const REP_ERR_POLICY: u32 = REP_ERR + 2;
/// Option error: the option's data is malformed or makes no sense here.
pub const REP_ERR_INVALID: u32 = REP_ERR + 3;
/// Option error: the option is not supported on the server's platform.
pub const REP_ERR_PLATFORM: u32 = REP_ERR + 4;
/// Option error: the server requires TLS first (NBD_OPT_STARTTLS).
pub const REP_ERR_TLS_REQD: u32 = REP_ERR + 5;
/// Option error: no export of that name.
pub const REP_ERR_UNKNOWN: u32 = REP_ERR + 6;
/// Option error: the server is shutting down.
pub const REP_ERR_SHUTDOWN: u32 = REP_ERR + 7;
/// Option error: the request or its reply would be too large.
pub const REP_ERR_TOO_BIG: u32 = REP_ERR + 9;

/// Whether an option reply type is an error.
pub fn rep_is_error(rep: u32) -> bool {
    rep & REP_ERR != 0
}

// NBD_REP_INFO types.
/// NBD_REP_INFO item: export size (bytes) and transmission flags.
pub const INFO_EXPORT: u16 = 0;
/// NBD_REP_INFO item: the export's canonical name.
pub const INFO_NAME: u16 = 1;
/// NBD_REP_INFO item: a human-readable description of the export.
pub const INFO_DESCRIPTION: u16 = 2;
/// NBD_REP_INFO item: minimum, preferred and maximum block sizes (bytes).
pub const INFO_BLOCK_SIZE: u16 = 3;

// Transmission flags.
/// Transmission flag: always set (the other flags are meaningful).
pub const TFLAG_HAS_FLAGS: u16 = 1 << 0;
/// Transmission flag: the export is read-only; writes fail with EPERM.
pub const TFLAG_READ_ONLY: u16 = 1 << 1;
/// Transmission flag: the server accepts NBD_CMD_FLUSH.
pub const TFLAG_SEND_FLUSH: u16 = 1 << 2;
/// Transmission flag: the server honours NBD_CMD_FLAG_DF on reads.
pub const TFLAG_SEND_DF: u16 = 1 << 7;
/// Transmission flag: several connections to the export see the same data.
pub const TFLAG_CAN_MULTI_CONN: u16 = 1 << 8;
/// Transmission flag: the server accepts NBD_CMD_CACHE.
pub const TFLAG_SEND_CACHE: u16 = 1 << 10;

// Commands.
/// Command: read `length` bytes at `offset`.
pub const CMD_READ: u16 = 0;
/// Command: write the payload at `offset`.
pub const CMD_WRITE: u16 = 1;
/// Command: disconnect (no reply).
pub const CMD_DISC: u16 = 2;
/// Command: make completed writes durable.
pub const CMD_FLUSH: u16 = 3;
/// Command: the client no longer needs a range.
pub const CMD_TRIM: u16 = 4;
/// Command: prefetch a range into the server's cache.
pub const CMD_CACHE: u16 = 5;
/// Command: write zeros over a range.
pub const CMD_WRITE_ZEROES: u16 = 6;
/// Command: report the selected metadata contexts' state over a range.
pub const CMD_BLOCK_STATUS: u16 = 7;

// Command flags.
/// Command flag "don't fragment": answer a read with a single data chunk.
pub const CMD_FLAG_DF: u16 = 1 << 2;
/// Command flag: a block status reply holds one extent per context.
pub const CMD_FLAG_REQ_ONE: u16 = 1 << 3;

// Structured reply chunks.
/// Structured reply chunk flag: the last chunk of the reply.
pub const REPLY_FLAG_DONE: u16 = 1 << 0;
/// Chunk type: no payload (ends a reply).
pub const REPLY_TYPE_NONE: u16 = 0;
/// Chunk type: an offset (8 bytes) and the data read there.
pub const REPLY_TYPE_OFFSET_DATA: u16 = 1;
/// Chunk type: an offset and a length that read as zeros.
pub const REPLY_TYPE_OFFSET_HOLE: u16 = 2;
/// Chunk type: a context id and (length, flags) extents.
pub const REPLY_TYPE_BLOCK_STATUS: u16 = 5;
/// Chunk type: an error value and message (the high bit marks error types).
pub const REPLY_TYPE_ERROR: u16 = (1 << 15) + 1;

// base:allocation states.
/// `base:allocation` state: the range is not allocated.
pub const STATE_HOLE: u32 = 1 << 0;
/// `base:allocation` state: the range reads as zeros.
pub const STATE_ZERO: u32 = 1 << 1;

// The only error values allowed on the wire.
/// Wire error: operation not permitted (writes to a read-only export).
pub const EPERM: u32 = 1;
/// Wire error: input/output error.
pub const EIO: u32 = 5;
/// Wire error: out of memory.
pub const ENOMEM: u32 = 12;
/// Wire error: invalid argument (a malformed or out-of-range request).
pub const EINVAL: u32 = 22;
/// Wire error: no space left.
pub const ENOSPC: u32 = 28;
/// Wire error: value too large (a read with NBD_CMD_FLAG_DF that cannot be sent as one chunk).
pub const EOVERFLOW: u32 = 75;
/// Wire error: operation not supported.
pub const ENOTSUP: u32 = 95;
/// Wire error: the server is shutting down.
pub const ESHUTDOWN: u32 = 108;

/// The only metadata context we offer (allocation state of each range).
pub const BASE_ALLOCATION: &str = "base:allocation";
/// The id our replies give the `base:allocation` context.
pub const BASE_ALLOCATION_ID: u32 = 1;

/// The largest read we serve (NBD_INFO_BLOCK_SIZE maximum).
pub const MAX_PAYLOAD: usize = 32 << 20;

/// Size of a request header in bytes.
pub const REQUEST_LEN: usize = 28;
/// Size of a simple reply header in bytes.
pub const SIMPLE_REPLY_LEN: usize = 16;
/// Size of a structured reply chunk header in bytes.
pub const CHUNK_HEADER_LEN: usize = 20;

/// Maps an I/O error from an export to an NBD error value (never a raw errno).
pub(crate) fn wire_error(e: &io::Error) -> u32 {
    match e.raw_os_error() {
        Some(libc::EPERM) | Some(libc::EACCES) | Some(libc::EROFS) => EPERM,
        Some(libc::ENOMEM) => ENOMEM,
        Some(libc::EINVAL) => EINVAL,
        Some(libc::ENOSPC) => ENOSPC,
        Some(libc::EOVERFLOW) => EOVERFLOW,
        Some(libc::ENOTSUP) => ENOTSUP,
        Some(libc::ESHUTDOWN) => ESHUTDOWN,
        _ => match e.kind() {
            io::ErrorKind::InvalidInput => EINVAL,
            io::ErrorKind::OutOfMemory => ENOMEM,
            io::ErrorKind::PermissionDenied => EPERM,
            io::ErrorKind::Unsupported => ENOTSUP,
            _ => EIO,
        },
    }
}

/// Reads a big-endian u16; fails (`UnexpectedEof`) when the stream ends first.
pub fn read_u16(r: &mut impl Read) -> io::Result<u16> {
    let mut b = [0; 2];
    r.read_exact(&mut b)?;
    Ok(u16::from_be_bytes(b))
}

/// Reads a big-endian u32; fails (`UnexpectedEof`) when the stream ends first.
pub fn read_u32(r: &mut impl Read) -> io::Result<u32> {
    let mut b = [0; 4];
    r.read_exact(&mut b)?;
    Ok(u32::from_be_bytes(b))
}

/// Reads a big-endian u64; fails (`UnexpectedEof`) when the stream ends first.
pub fn read_u64(r: &mut impl Read) -> io::Result<u64> {
    let mut b = [0; 8];
    r.read_exact(&mut b)?;
    Ok(u64::from_be_bytes(b))
}

/// A transmission-phase request header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    /// Command flags (NBD_CMD_FLAG_*).
    pub flags: u16,
    /// Command type (NBD_CMD_*).
    pub kind: u16,
    /// Opaque value the reply echoes, matching replies to requests.
    pub cookie: u64,
    /// Byte offset in the export.
    pub offset: u64,
    /// Bytes to read (or the length of the range the command covers).
    pub length: u32,
}

impl Request {
    /// The 28-byte wire form.
    pub fn encode(&self) -> [u8; REQUEST_LEN] {
        let mut b = [0; REQUEST_LEN];
        b[0..4].copy_from_slice(&REQUEST_MAGIC.to_be_bytes());
        b[4..6].copy_from_slice(&self.flags.to_be_bytes());
        b[6..8].copy_from_slice(&self.kind.to_be_bytes());
        b[8..16].copy_from_slice(&self.cookie.to_be_bytes());
        b[16..24].copy_from_slice(&self.offset.to_be_bytes());
        b[24..28].copy_from_slice(&self.length.to_be_bytes());
        b
    }

    /// Decodes a header; `None` when the magic is wrong.
    pub fn decode(b: &[u8; REQUEST_LEN]) -> Option<Request> {
        let u16_at = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
        let u32_at = |i: usize| u32::from_be_bytes(b[i..i + 4].try_into().unwrap());
        let u64_at = |i: usize| u64::from_be_bytes(b[i..i + 8].try_into().unwrap());
        (u32_at(0) == REQUEST_MAGIC).then(|| Request {
            flags: u16_at(4),
            kind: u16_at(6),
            cookie: u64_at(8),
            offset: u64_at(16),
            length: u32_at(24),
        })
    }
}

/// A simple reply header: `error` (0 on success, else an NBD error value) for the request
/// with `cookie`.
pub(crate) fn simple_reply(error: u32, cookie: u64) -> [u8; SIMPLE_REPLY_LEN] {
    let mut b = [0; SIMPLE_REPLY_LEN];
    b[0..4].copy_from_slice(&SIMPLE_REPLY_MAGIC.to_be_bytes());
    b[4..8].copy_from_slice(&error.to_be_bytes());
    b[8..16].copy_from_slice(&cookie.to_be_bytes());
    b
}

/// A structured reply chunk header for the request with `cookie`, announcing `length`
/// bytes of payload.
pub(crate) fn chunk_header(
    flags: u16,
    kind: u16,
    cookie: u64,
    length: u32,
) -> [u8; CHUNK_HEADER_LEN] {
    let mut b = [0; CHUNK_HEADER_LEN];
    b[0..4].copy_from_slice(&STRUCTURED_REPLY_MAGIC.to_be_bytes());
    b[4..6].copy_from_slice(&flags.to_be_bytes());
    b[6..8].copy_from_slice(&kind.to_be_bytes());
    b[8..16].copy_from_slice(&cookie.to_be_bytes());
    b[16..20].copy_from_slice(&length.to_be_bytes());
    b
}
