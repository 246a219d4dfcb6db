//! The two kinds of connected sockets the server speaks on, and the channel (plain or TLS)
//! that the handshake and transmission phases read and write.

use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// A connected Unix or TCP socket.
#[derive(Debug)]
pub enum Socket {
    /// A Unix domain stream socket.
    Unix(UnixStream),
    /// A TCP connection.
    Tcp(TcpStream),
}

impl From<UnixStream> for Socket {
    fn from(s: UnixStream) -> Socket {
        Socket::Unix(s)
    }
}

impl From<TcpStream> for Socket {
    fn from(s: TcpStream) -> Socket {
        let _ = s.set_nodelay(true);
        Socket::Tcp(s)
    }
}

impl Socket {
    /// A second handle on the same socket (`dup`).
    pub fn try_clone(&self) -> io::Result<Socket> {
        Ok(match self {
            Socket::Unix(s) => Socket::Unix(s.try_clone()?),
            Socket::Tcp(s) => Socket::Tcp(s.try_clone()?),
        })
    }
    /// Shuts both directions down, waking any thread blocked on the socket; errors are ignored.
    pub fn shutdown(&self) {
        let _ = match self {
            Socket::Unix(s) => s.shutdown(Shutdown::Both),
            Socket::Tcp(s) => s.shutdown(Shutdown::Both),
        };
    }
    /// Sets SO_RCVTIMEO (`None`: block forever).
    pub fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        match self {
            Socket::Unix(s) => s.set_read_timeout(t),
            Socket::Tcp(s) => s.set_read_timeout(t),
        }
    }
    /// Sets SO_SNDTIMEO (`None`: block forever).
    pub fn set_write_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        match self {
            Socket::Unix(s) => s.set_write_timeout(t),
            Socket::Tcp(s) => s.set_write_timeout(t),
        }
    }
    /// Sets SO_SNDBUF (best effort).
    pub fn set_send_buffer(&self, bytes: usize) {
        set_int(self.as_raw_fd(), libc::SOL_SOCKET, libc::SO_SNDBUF, bytes);
    }
    /// Sets TCP_NOTSENT_LOWAT on a TCP socket (best effort; nothing for Unix sockets).
    pub fn set_notsent_lowat(&self, bytes: u32) {
        if let Socket::Tcp(s) = self {
            set_int(
                s.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_NOTSENT_LOWAT,
                bytes as usize,
            );
        }
    }
    /// A description of the peer for log lines.
    pub fn peer(&self) -> String {
        match self {
            Socket::Unix(_) => "unix socket".to_string(),
            Socket::Tcp(s) => s
                .peer_addr()
                .map(|a| a.to_string())
                .unwrap_or_else(|_| "tcp".into()),
        }
    }
}

impl AsRawFd for Socket {
    fn as_raw_fd(&self) -> RawFd {
        match self {
            Socket::Unix(s) => s.as_raw_fd(),
            Socket::Tcp(s) => s.as_raw_fd(),
        }
    }
}

impl Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Socket::Unix(s) => s.read(buf),
            Socket::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Socket::Unix(s) => s.write(buf),
            Socket::Tcp(s) => s.write(buf),
        }
    }
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Socket::Unix(s) => s.write_vectored(bufs),
            Socket::Tcp(s) => s.write_vectored(bufs),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A stream after STARTTLS.
pub trait TlsStream: Read + Write + Send {}
impl<T: Read + Write + Send> TlsStream for T {}

/// What the handshake talks over: the socket, or TLS on top of it.
pub enum Channel {
    Plain(Socket),
    Tls(Box<dyn TlsStream>),
}

impl Read for Channel {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Channel::Plain(s) => s.read(buf),
            Channel::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Channel {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Channel::Plain(s) => s.write(buf),
            Channel::Tls(s) => s.write(buf),
        }
    }
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Channel::Plain(s) => s.write_vectored(bufs),
            Channel::Tls(s) => s.write_vectored(bufs),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Channel::Plain(s) => s.flush(),
            Channel::Tls(s) => s.flush(),
        }
    }
}

/// Writes every byte of `parts` with as few syscalls as the socket allows.
pub fn write_all_vectored<W: Write + ?Sized>(w: &mut W, parts: &[&[u8]]) -> io::Result<()> {
    let mut slices: Vec<IoSlice<'_>> = parts
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| IoSlice::new(p))
        .collect();
    let mut bufs = &mut slices[..];
    while !bufs.is_empty() {
        match w.write_vectored(bufs) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut bufs, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Sets an int socket option (best effort), `value` capped at `i32::MAX`.
fn set_int(fd: RawFd, level: libc::c_int, option: libc::c_int, value: usize) {
    let v = value.min(i32::MAX as usize) as libc::c_int;
    // SAFETY: a valid fd and a pointer to an int of the given size.
    unsafe {
        libc::setsockopt(
            fd,
            level,
            option,
            (&v as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

/// Sets TCP_CONGESTION on a TCP socket (or listener) to the first of `names` the kernel
/// accepts; the one set, or None when it refused them all (not built, or not in
/// net.ipv4.tcp_allowed_congestion_control for an unprivileged process).
pub fn set_congestion(fd: RawFd, names: &[String]) -> Option<String> {
    names.iter().find_map(|name| {
        // SAFETY: a valid fd and a buffer of the given length.
        let r = unsafe {
            libc::setsockopt(
                fd,
                libc::IPPROTO_TCP,
                libc::TCP_CONGESTION,
                name.as_ptr().cast(),
                name.len() as libc::socklen_t,
            )
        };
        (r == 0).then(|| name.clone())
    })
}

/// Sends `len` bytes of `file` from `offset` to the socket with sendfile(2).
pub fn send_file(
    sock: &Socket,
    file: &std::fs::File,
    mut offset: u64,
    mut len: u64,
) -> io::Result<()> {
    while len > 0 {
        let mut off = offset as libc::off_t;
        let chunk = len.min(1 << 30) as usize;
        // SAFETY: both fds are open for the duration of the call; `off` is a valid pointer.
        let n = unsafe { libc::sendfile(sock.as_raw_fd(), file.as_raw_fd(), &mut off, chunk) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "backing file ended before the export did",
            ));
        }
        offset += n as u64;
        len -= n as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn get_int(fd: RawFd, opt: libc::c_int) -> libc::c_int {
        let mut v: libc::c_int = -1;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: a valid fd and an int-sized out buffer.
        let r = unsafe {
            libc::getsockopt(
                fd,
                libc::IPPROTO_TCP,
                opt,
                (&mut v as *mut libc::c_int).cast(),
                &mut len,
            )
        };
        assert_eq!(r, 0, "{}", io::Error::last_os_error());
        v
    }

    fn congestion(fd: RawFd) -> String {
        let mut buf = [0u8; 16];
        let mut len = buf.len() as libc::socklen_t;
        // SAFETY: a valid fd and a buffer of the given length.
        let r = unsafe {
            libc::getsockopt(
                fd,
                libc::IPPROTO_TCP,
                libc::TCP_CONGESTION,
                buf.as_mut_ptr().cast(),
                &mut len,
            )
        };
        assert_eq!(r, 0, "{}", io::Error::last_os_error());
        String::from_utf8_lossy(&buf[..len as usize])
            .trim_end_matches('\0')
            .to_string()
    }

    #[test]
    fn accepted_sockets_inherit_the_listeners_congestion_control() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let want = ["reno", "cubic"]
            .into_iter()
            .find(|c| *c != congestion(l.as_raw_fd()))
            .unwrap();
        let names = vec!["not-an-algorithm".to_string(), want.to_string()];
        assert_eq!(set_congestion(l.as_raw_fd(), &names).as_deref(), Some(want));
        assert_eq!(
            set_congestion(l.as_raw_fd(), &["not-an-algorithm".to_string()]),
            None
        );
        let _c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (s, _) = l.accept().unwrap();
        assert_eq!(congestion(s.as_raw_fd()), want);
    }

    #[test]
    fn notsent_lowat_is_set_on_tcp_sockets() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let c = Socket::from(TcpStream::connect(l.local_addr().unwrap()).unwrap());
        c.set_notsent_lowat(16 << 10);
        assert_eq!(get_int(c.as_raw_fd(), libc::TCP_NOTSENT_LOWAT), 16 << 10);
    }
}
