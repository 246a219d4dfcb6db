//! The fixed-newstyle handshake: option haggling up to NBD_OPT_GO / NBD_OPT_EXPORT_NAME.

use std::io::{self, Read, Write};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use spindle_bytes::ByteSource;

use crate::proto::*;
use crate::server::{Inner, TlsMode};
use crate::socket::{Channel, Socket};

/// Longest option payload we read; longer ones end the connection (a GO with a 4096-byte
/// name and every info type is about 4.2 KiB; meta-context queries are similar).
const MAX_OPTION_LEN: u32 = 64 * 1024;
/// Most options one handshake may send before we hang up.
const MAX_OPTIONS: usize = 1024;

/// What the transmission phase needs.
pub struct Negotiated {
    pub channel: Channel,
    pub export: Arc<dyn ByteSource>,
    pub structured: bool,
    pub base_allocation: bool,
}

/// Reads of the handshake, all due by one deadline: every read waits at most for the time
/// left, so a client that trickles bytes cannot stretch the handshake.
struct Deadline<'a> {
    ctl: &'a Socket,
    deadline: Instant,
}

impl Deadline<'_> {
    /// Sets the socket's read timeout to the time left; an error once it is up.
    fn arm(&mut self) -> io::Result<()> {
        let left = self
            .deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| io::Error::new(io::ErrorKind::TimedOut, "handshake took too long"))?;
        self.ctl.set_read_timeout(Some(left))
    }

    fn exact(&mut self, ch: &mut Channel, buf: &mut [u8]) -> io::Result<()> {
        let mut got = 0;
        while got < buf.len() {
            self.arm()?;
            match ch.read(&mut buf[got..]) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn u32(&mut self, ch: &mut Channel) -> io::Result<u32> {
        let mut b = [0; 4];
        self.exact(ch, &mut b)?;
        Ok(u32::from_be_bytes(b))
    }

    fn u64(&mut self, ch: &mut Channel) -> io::Result<u64> {
        let mut b = [0; 8];
        self.exact(ch, &mut b)?;
        Ok(u64::from_be_bytes(b))
    }
}

struct State {
    no_zeroes: bool,
    tls: bool,
    structured: bool,
    /// The export name SET_META_CONTEXT chose base:allocation for.
    meta_for: Option<String>,
}

impl State {
    /// The end of the handshake: `export`, reached by the name `name`.
    fn negotiated(&self, channel: Channel, export: Arc<dyn ByteSource>, name: &str) -> Negotiated {
        Negotiated {
            channel,
            export,
            structured: self.structured,
            base_allocation: self.meta_for.as_deref() == Some(name),
        }
    }
}

fn reply(ch: &mut Channel, option: u32, kind: u32, data: &[u8]) -> io::Result<()> {
    let mut msg = Vec::with_capacity(20 + data.len());
    msg.extend_from_slice(&REPLY_MAGIC.to_be_bytes());
    msg.extend_from_slice(&option.to_be_bytes());
    msg.extend_from_slice(&kind.to_be_bytes());
    msg.extend_from_slice(&(data.len() as u32).to_be_bytes());
    msg.extend_from_slice(data);
    ch.write_all(&msg)?;
    ch.flush()
}

fn err(ch: &mut Channel, option: u32, kind: u32, message: &str) -> io::Result<()> {
    reply(ch, option, kind, message.as_bytes())
}

/// Reads a length-prefixed string at `*pos` of `data`.
fn take_string(data: &[u8], pos: &mut usize) -> Option<String> {
    let len = u32::from_be_bytes(data.get(*pos..*pos + 4)?.try_into().ok()?) as usize;
    *pos += 4;
    if len > 4096 {
        return None;
    }
    let s = data.get(*pos..*pos + len)?;
    *pos += len;
    String::from_utf8(s.to_vec()).ok()
}

/// The payload of NBD_OPT_GO / NBD_OPT_INFO: the export name and the info types asked for.
fn parse_go(data: &[u8]) -> Result<(String, Vec<u16>), &'static str> {
    let mut pos = 0;
    let name = take_string(data, &mut pos).ok_or("bad export name")?;
    let n = data.get(pos..pos + 2).ok_or("no info request count")?;
    let n = u16::from_be_bytes([n[0], n[1]]) as usize;
    pos += 2;
    if data.len() != pos + 2 * n {
        return Err("option length does not match its info requests");
    }
    Ok((
        name,
        data[pos..]
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect(),
    ))
}

/// The payload of NBD_OPT_LIST_META_CONTEXT / SET_META_CONTEXT: the export name and the queries.
fn parse_meta(data: &[u8]) -> Result<(String, Vec<String>), &'static str> {
    let mut pos = 0;
    let name = take_string(data, &mut pos).ok_or("bad export name")?;
    let n = data.get(pos..pos + 4).ok_or("no query count")?;
    let n = u32::from_be_bytes([n[0], n[1], n[2], n[3]]);
    pos += 4;
    // Each query takes at least 4 bytes, so a huge count stops at the end of the data.
    let queries = (0..n)
        .map(|_| take_string(data, &mut pos))
        .collect::<Option<Vec<String>>>()
        .filter(|_| pos == data.len())
        .ok_or("malformed meta context queries")?;
    Ok((name, queries))
}

/// Export size and transmission flags, as NBD_INFO_EXPORT and the NBD_OPT_EXPORT_NAME reply
/// both carry them.
fn size_and_flags(export: &dyn ByteSource, structured: bool) -> [u8; 10] {
    let mut b = [0; 10];
    b[..8].copy_from_slice(&export.len().to_be_bytes());
    b[8..].copy_from_slice(&transmission_flags(structured).to_be_bytes());
    b
}

/// The protocol wants a power of two between 512 and the maximum: 2352-byte raw sectors
/// are announced as 4096 (the next power of two; reads of any size still work).
pub fn preferred_block(b: u32) -> u32 {
    b.clamp(512, MAX_PAYLOAD as u32).next_power_of_two()
}

pub fn transmission_flags(structured: bool) -> u16 {
    let mut f = TFLAG_HAS_FLAGS
        | TFLAG_READ_ONLY
        | TFLAG_SEND_FLUSH
        | TFLAG_CAN_MULTI_CONN
        | TFLAG_SEND_CACHE;
    if structured {
        f |= TFLAG_SEND_DF;
    }
    f
}

/// Runs the handshake on `sock`. `Ok(None)`: the client aborted or was dropped.
pub fn negotiate(inner: &Inner, sock: Socket, ctl: &Socket) -> io::Result<Option<Negotiated>> {
    let start = Instant::now();
    let deadline = start + inner.config.handshake_timeout;
    let mut rx = Deadline { ctl, deadline };
    let mut ch = Channel::Plain(sock);
    let mut hello = Vec::with_capacity(18);
    hello.extend_from_slice(&NBDMAGIC.to_be_bytes());
    hello.extend_from_slice(&IHAVEOPT.to_be_bytes());
    hello.extend_from_slice(&(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES).to_be_bytes());
    ch.write_all(&hello)?;
    let cflags = rx.u32(&mut ch)?;
    if cflags & !(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES) != 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("unknown client flags {cflags:#x}"),
        ));
    }
    let mut st = State {
        no_zeroes: cflags & FLAG_C_NO_ZEROES != 0,
        tls: false,
        structured: false,
        meta_for: None,
    };
    let tls_required = matches!(inner.config.tls, TlsMode::Required(_));

    for _ in 0..MAX_OPTIONS {
        if start.elapsed() > inner.config.handshake_timeout {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "handshake took too long",
            ));
        }
        let magic = rx.u64(&mut ch)?;
        if magic != IHAVEOPT {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("option magic {magic:#x}"),
            ));
        }
        let option = rx.u32(&mut ch)?;
        let len = rx.u32(&mut ch)?;
        if len > MAX_OPTION_LEN {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("option {option} with {len} bytes of data"),
            ));
        }
        let mut data = vec![0; len as usize];
        rx.exact(&mut ch, &mut data)?;

        if inner.stopping.load(Ordering::Relaxed) && option != OPT_ABORT {
            if option == OPT_EXPORT_NAME {
                return Ok(None);
            }
            err(&mut ch, option, REP_ERR_SHUTDOWN, "server is shutting down")?;
            continue;
        }
        if tls_required && !st.tls && !matches!(option, OPT_STARTTLS | OPT_ABORT) {
            if option == OPT_EXPORT_NAME {
                return Ok(None); // no way to answer with an error: hang up
            }
            err(
                &mut ch,
                option,
                REP_ERR_TLS_REQD,
                "TLS is required: use NBD_OPT_STARTTLS",
            )?;
            continue;
        }

        match option {
            OPT_ABORT => {
                let _ = reply(&mut ch, option, REP_ACK, &[]);
                return Ok(None);
            }
            OPT_EXPORT_NAME => {
                let Ok(name) = String::from_utf8(data) else {
                    return Ok(None);
                };
                let Some((_, export)) = inner.catalog.open(&name) else {
                    return Ok(None);
                };
                let mut msg = size_and_flags(&*export, st.structured).to_vec();
                if !st.no_zeroes {
                    msg.extend_from_slice(&[0; 124]);
                }
                ch.write_all(&msg)?;
                ch.flush()?;
                return Ok(Some(st.negotiated(ch, export, &name)));
            }
            OPT_LIST => {
                if !data.is_empty() {
                    err(
                        &mut ch,
                        option,
                        REP_ERR_INVALID,
                        "NBD_OPT_LIST takes no data",
                    )?;
                    continue;
                }
                for e in inner.catalog.list() {
                    let mut d = Vec::with_capacity(4 + e.name.len() + e.description.len());
                    d.extend_from_slice(&(e.name.len() as u32).to_be_bytes());
                    d.extend_from_slice(e.name.as_bytes());
                    d.extend_from_slice(e.description.as_bytes());
                    reply(&mut ch, option, REP_SERVER, &d)?;
                }
                reply(&mut ch, option, REP_ACK, &[])?;
            }
            OPT_STARTTLS => {
                if !data.is_empty() {
                    err(
                        &mut ch,
                        option,
                        REP_ERR_INVALID,
                        "NBD_OPT_STARTTLS takes no data",
                    )?;
                    continue;
                }
                if st.tls {
                    err(&mut ch, option, REP_ERR_INVALID, "TLS is already on")?;
                    continue;
                }
                let tls = match &inner.config.tls {
                    TlsMode::None => {
                        err(&mut ch, option, REP_ERR_POLICY, "this server has no TLS")?;
                        continue;
                    }
                    TlsMode::Optional(t) | TlsMode::Required(t) => t.clone(),
                };
                reply(&mut ch, option, REP_ACK, &[])?;
                let Channel::Plain(sock) = ch else {
                    unreachable!("TLS is off, so the channel is plain")
                };
                rx.arm()?;
                ch = Channel::Tls(tls.accept(sock)?);
                // Whatever was negotiated in the clear does not carry over.
                st.tls = true;
                st.structured = false;
                st.meta_for = None;
            }
            OPT_STRUCTURED_REPLY => {
                if !data.is_empty() {
                    err(
                        &mut ch,
                        option,
                        REP_ERR_INVALID,
                        "NBD_OPT_STRUCTURED_REPLY takes no data",
                    )?;
                } else if st.structured {
                    err(
                        &mut ch,
                        option,
                        REP_ERR_INVALID,
                        "structured replies are already on",
                    )?;
                } else {
                    st.structured = true;
                    reply(&mut ch, option, REP_ACK, &[])?;
                }
            }
            OPT_INFO | OPT_GO => {
                let (name, wanted) = match parse_go(&data) {
                    Ok(x) => x,
                    Err(why) => {
                        err(&mut ch, option, REP_ERR_INVALID, why)?;
                        continue;
                    }
                };
                let Some((info, export)) = inner.catalog.open(&name) else {
                    err(
                        &mut ch,
                        option,
                        REP_ERR_UNKNOWN,
                        &format!("no export called {name:?}"),
                    )?;
                    continue;
                };
                let mut d = INFO_EXPORT.to_be_bytes().to_vec();
                d.extend_from_slice(&size_and_flags(&*export, st.structured));
                reply(&mut ch, option, REP_INFO, &d)?;
                let mut d = Vec::with_capacity(14);
                d.extend_from_slice(&INFO_BLOCK_SIZE.to_be_bytes());
                d.extend_from_slice(&1u32.to_be_bytes());
                d.extend_from_slice(&preferred_block(info.block_size).to_be_bytes());
                d.extend_from_slice(&(MAX_PAYLOAD as u32).to_be_bytes());
                reply(&mut ch, option, REP_INFO, &d)?;
                if wanted.contains(&INFO_NAME) {
                    let mut d = INFO_NAME.to_be_bytes().to_vec();
                    d.extend_from_slice(info.name.as_bytes());
                    reply(&mut ch, option, REP_INFO, &d)?;
                }
                if wanted.contains(&INFO_DESCRIPTION) && !info.description.is_empty() {
                    let mut d = INFO_DESCRIPTION.to_be_bytes().to_vec();
                    d.extend_from_slice(info.description.as_bytes());
                    reply(&mut ch, option, REP_INFO, &d)?;
                }
                reply(&mut ch, option, REP_ACK, &[])?;
                if option == OPT_GO {
                    return Ok(Some(st.negotiated(ch, export, &name)));
                }
            }
            OPT_LIST_META_CONTEXT | OPT_SET_META_CONTEXT => {
                let set = option == OPT_SET_META_CONTEXT;
                if set && !st.structured {
                    err(
                        &mut ch,
                        option,
                        REP_ERR_INVALID,
                        "negotiate structured replies first",
                    )?;
                    continue;
                }
                let (name, queries) = match parse_meta(&data) {
                    Ok(x) => x,
                    Err(why) => {
                        err(&mut ch, option, REP_ERR_INVALID, why)?;
                        continue;
                    }
                };
                if inner.catalog.open(&name).is_none() {
                    err(
                        &mut ch,
                        option,
                        REP_ERR_UNKNOWN,
                        &format!("no export called {name:?}"),
                    )?;
                    continue;
                }
                let matches = if set {
                    queries.iter().any(|q| q == BASE_ALLOCATION)
                } else {
                    queries.is_empty()
                        || queries.iter().any(|q| q == BASE_ALLOCATION || q == "base:")
                };
                if set {
                    st.meta_for = matches.then(|| name.clone());
                }
                if matches {
                    let id = if set { BASE_ALLOCATION_ID } else { 0 };
                    let mut d = id.to_be_bytes().to_vec();
                    d.extend_from_slice(BASE_ALLOCATION.as_bytes());
                    reply(&mut ch, option, REP_META_CONTEXT, &d)?;
                }
                reply(&mut ch, option, REP_ACK, &[])?;
            }
            _ => {
                err(
                    &mut ch,
                    option,
                    REP_ERR_UNSUP,
                    &format!("option {option} is not supported"),
                )?;
            }
        }
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidData,
        "too many options",
    ))
}
