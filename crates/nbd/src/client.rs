//! A minimal blocking NBD client: the fixed-newstyle handshake with NBD_OPT_GO (falling back
//! to NBD_OPT_EXPORT_NAME), leaving the stream in the transmission phase so that it can be
//! handed to the kernel's nbd driver, plus simple-reply reads for tests.
//!
//! The client never negotiates structured replies: the kernel speaks simple replies only.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::path::Path;

use crate::proto::*;

/// What connecting to, negotiating with or reading from an NBD server can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The connection failed or closed (a short read included).
    #[error("NBD connection: {0}")]
    Io(#[from] io::Error),
    /// The server sent something the NBD protocol does not allow at that point; the text says what.
    #[error("NBD server broke the protocol: {0}")]
    Protocol(String),
    #[error(
        "NBD server refused option {option} for export {export:?}: {reason} (reply {reply:#x}){message}"
    )]
    /// The server answered an option with an error reply (NBD_REP_ERR_*).
    Refused {
        /// The export asked for.
        export: String,
        /// The option refused (NBD_OPT_*).
        option: u32,
        /// The error reply type (NBD_REP_ERR_*, high bit set).
        reply: u32,
        /// The reply type's meaning in words.
        reason: &'static str,
        /// The server's message text, prefixed with `: `, or empty when it sent none.
        message: String,
    },
    /// The server answered a transmission request with a non-zero error.
    #[error("NBD server answered error {errno} ({name}) to a request at offset {offset}")]
    Command {
        /// The error value of the simple reply (NBD_EIO, NBD_EINVAL...).
        errno: u32,
        /// The error's name (`EIO`, `EINVAL`...).
        name: &'static str,
        /// Byte offset of the request.
        offset: u64,
    },
}

/// Result with [`ClientError`].
pub type Result<T> = std::result::Result<T, ClientError>;

/// What the server said about the export during the handshake.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientExport {
    /// The export name the client asked for.
    pub name: String,
    /// Export size in bytes.
    pub size: u64,
    /// Transmission flags (NBD_FLAG_*; bit 1 = read-only, bit 8 = multi-conn).
    pub flags: u16,
    /// Block size constraints; (1, 4096, 32 MiB) style defaults when the server sent none.
    pub min_block: u32,
    /// Preferred block size in bytes.
    pub preferred_block: u32,
    /// Largest request payload in bytes the server accepts.
    pub max_block: u32,
    /// True when the export was reached with NBD_OPT_GO, false with NBD_OPT_EXPORT_NAME.
    pub used_go: bool,
}

impl ClientExport {
    /// True when the server set NBD_FLAG_READ_ONLY.
    pub fn read_only(&self) -> bool {
        self.flags & TFLAG_READ_ONLY != 0
    }
    /// True when the server set NBD_FLAG_CAN_MULTI_CONN (several connections see the same data).
    pub fn can_multi_conn(&self) -> bool {
        self.flags & TFLAG_CAN_MULTI_CONN != 0
    }
}

fn reply_reason(reply: u32) -> &'static str {
    match reply {
        REP_ERR_UNSUP => "unsupported",
        REP_ERR_POLICY => "forbidden by policy",
        REP_ERR_INVALID => "invalid",
        REP_ERR_PLATFORM => "not on this platform",
        REP_ERR_TLS_REQD => "TLS required",
        REP_ERR_UNKNOWN => "no such export",
        REP_ERR_SHUTDOWN => "server shutting down",
        REP_ERR_TOO_BIG => "too big",
        _ => "error",
    }
}

/// The name of an NBD error value.
pub fn errno_name(errno: u32) -> &'static str {
    match errno {
        EPERM => "EPERM",
        EIO => "EIO",
        ENOMEM => "ENOMEM",
        EINVAL => "EINVAL",
        ENOSPC => "ENOSPC",
        EOVERFLOW => "EOVERFLOW",
        ENOTSUP => "ENOTSUP",
        ESHUTDOWN => "ESHUTDOWN",
        _ => "not an NBD error",
    }
}

fn send_option(s: &mut impl Write, option: u32, data: &[u8]) -> io::Result<()> {
    let mut msg = Vec::with_capacity(16 + data.len());
    msg.extend_from_slice(&IHAVEOPT.to_be_bytes());
    msg.extend_from_slice(&option.to_be_bytes());
    msg.extend_from_slice(&(data.len() as u32).to_be_bytes());
    msg.extend_from_slice(data);
    s.write_all(&msg)?;
    s.flush()
}

/// One option reply: (reply type, data).
fn read_option_reply(s: &mut impl Read, option: u32) -> Result<(u32, Vec<u8>)> {
    let magic = read_u64(s)?;
    if magic != REPLY_MAGIC {
        return Err(ClientError::Protocol(format!(
            "option reply magic {magic:#x}"
        )));
    }
    let opt = read_u32(s)?;
    if opt != option {
        return Err(ClientError::Protocol(format!(
            "reply to option {opt}, expected {option}"
        )));
    }
    let reply = read_u32(s)?;
    let len = read_u32(s)?;
    if len > 1 << 20 {
        return Err(ClientError::Protocol(format!(
            "option reply of {len} bytes"
        )));
    }
    let mut data = vec![0; len as usize];
    s.read_exact(&mut data)?;
    Ok((reply, data))
}

/// Fixed-newstyle handshake to `export`, ending in the transmission phase.
pub fn connect<S: Read + Write>(mut stream: S, export: &str) -> Result<(S, ClientExport)> {
    if export.len() > 4096 {
        return Err(ClientError::Protocol(format!(
            "export name of {} bytes is longer than 4096",
            export.len()
        )));
    }
    let magic = read_u64(&mut stream)?;
    if magic != NBDMAGIC {
        return Err(ClientError::Protocol(format!(
            "not an NBD server (magic {magic:#x})"
        )));
    }
    let style = read_u64(&mut stream)?;
    if style != IHAVEOPT {
        return Err(ClientError::Protocol(format!(
            "oldstyle or unknown negotiation ({style:#x})"
        )));
    }
    let hflags = read_u16(&mut stream)?;
    let fixed = hflags & FLAG_FIXED_NEWSTYLE != 0;
    let no_zeroes = hflags & FLAG_NO_ZEROES != 0;
    let mut cflags = 0;
    if fixed {
        cflags |= FLAG_C_FIXED_NEWSTYLE;
    }
    if no_zeroes {
        cflags |= FLAG_C_NO_ZEROES;
    }
    stream.write_all(&cflags.to_be_bytes())?;

    if fixed {
        let mut data = Vec::new();
        data.extend_from_slice(&(export.len() as u32).to_be_bytes());
        data.extend_from_slice(export.as_bytes());
        data.extend_from_slice(&1u16.to_be_bytes());
        data.extend_from_slice(&INFO_BLOCK_SIZE.to_be_bytes());
        send_option(&mut stream, OPT_GO, &data)?;
        let mut info = ClientExport {
            name: export.to_string(),
            size: 0,
            flags: 0,
            min_block: 1,
            preferred_block: 4096,
            max_block: 32 << 20,
            used_go: true,
        };
        let mut got_export = false;
        loop {
            let (reply, data) = read_option_reply(&mut stream, OPT_GO)?;
            match reply {
                REP_ACK => {
                    if !got_export {
                        return Err(ClientError::Protocol(
                            "NBD_OPT_GO acknowledged without NBD_INFO_EXPORT".into(),
                        ));
                    }
                    return Ok((stream, info));
                }
                REP_INFO => {
                    if data.len() < 2 {
                        return Err(ClientError::Protocol("short NBD_REP_INFO".into()));
                    }
                    let kind = u16::from_be_bytes([data[0], data[1]]);
                    let body = &data[2..];
                    match kind {
                        INFO_EXPORT if body.len() == 10 => {
                            info.size = u64::from_be_bytes(body[0..8].try_into().unwrap());
                            info.flags = u16::from_be_bytes([body[8], body[9]]);
                            got_export = true;
                        }
                        INFO_BLOCK_SIZE if body.len() == 12 => {
                            let at =
                                |i: usize| u32::from_be_bytes(body[i..i + 4].try_into().unwrap());
                            info.min_block = at(0);
                            info.preferred_block = at(4);
                            info.max_block = at(8);
                        }
                        INFO_EXPORT | INFO_BLOCK_SIZE => {
                            return Err(ClientError::Protocol(format!(
                                "NBD_INFO type {kind} of {} bytes",
                                body.len()
                            )));
                        }
                        _ => {}
                    }
                }
                REP_ERR_UNSUP => break,
                r if rep_is_error(r) => {
                    let message = String::from_utf8_lossy(&data);
                    return Err(ClientError::Refused {
                        export: export.to_string(),
                        option: OPT_GO,
                        reply: r,
                        reason: reply_reason(r),
                        message: if message.is_empty() {
                            String::new()
                        } else {
                            format!(": {message}")
                        },
                    });
                }
                _ => {} // unknown non-error replies are ignored
            }
        }
    }

    // NBD_OPT_EXPORT_NAME: the server answers with size and flags, or hangs up.
    send_option(&mut stream, OPT_EXPORT_NAME, export.as_bytes())?;
    let size = read_u64(&mut stream).map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            ClientError::Refused {
                export: export.to_string(),
                option: OPT_EXPORT_NAME,
                reply: 0,
                reason: "server closed the connection",
                message: String::new(),
            }
        } else {
            e.into()
        }
    })?;
    let flags = read_u16(&mut stream)?;
    if !no_zeroes {
        let mut zeroes = [0; 124];
        stream.read_exact(&mut zeroes)?;
    }
    Ok((
        stream,
        ClientExport {
            name: export.to_string(),
            size,
            flags,
            min_block: 1,
            preferred_block: 4096,
            max_block: 32 << 20,
            used_go: false,
        },
    ))
}

/// Connects to a server on a Unix socket.
pub fn connect_unix(path: impl AsRef<Path>, export: &str) -> Result<(UnixStream, ClientExport)> {
    let stream = UnixStream::connect(path.as_ref()).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("connecting to {}: {e}", path.as_ref().display()),
        )
    })?;
    connect(stream, export)
}

/// Connects to a server over TCP.
pub fn connect_tcp(addr: impl ToSocketAddrs, export: &str) -> Result<(TcpStream, ClientExport)> {
    let stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    connect(stream, export)
}

/// Reads `len` bytes at `offset` with one NBD_CMD_READ (simple replies).
pub fn read<S: Read + Write>(stream: &mut S, offset: u64, len: u32) -> Result<Vec<u8>> {
    let cookie = offset ^ 0x5350_494e_444c_4500;
    let req = Request {
        flags: 0,
        kind: CMD_READ,
        cookie,
        offset,
        length: len,
    };
    stream.write_all(&req.encode())?;
    stream.flush()?;
    let mut head = [0; SIMPLE_REPLY_LEN];
    stream.read_exact(&mut head)?;
    let magic = u32::from_be_bytes(head[0..4].try_into().unwrap());
    let errno = u32::from_be_bytes(head[4..8].try_into().unwrap());
    let got = u64::from_be_bytes(head[8..16].try_into().unwrap());
    if magic != SIMPLE_REPLY_MAGIC {
        return Err(ClientError::Protocol(format!("reply magic {magic:#x}")));
    }
    if got != cookie {
        return Err(ClientError::Protocol(format!(
            "reply cookie {got:#x}, expected {cookie:#x}"
        )));
    }
    if errno != 0 {
        return Err(ClientError::Command {
            errno,
            name: errno_name(errno),
            offset,
        });
    }
    let mut data = vec![0; len as usize];
    stream.read_exact(&mut data)?;
    Ok(data)
}

/// Ends the transmission phase cleanly (NBD_CMD_DISC); the server sends no reply.
pub fn disconnect<S: Write>(stream: &mut S) -> Result<()> {
    let req = Request {
        flags: 0,
        kind: CMD_DISC,
        cookie: 0,
        offset: 0,
        length: 0,
    };
    stream.write_all(&req.encode())?;
    stream.flush()?;
    Ok(())
}
