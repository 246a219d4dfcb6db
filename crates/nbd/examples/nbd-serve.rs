//! Serves files as read-only NBD exports (for tests and bench/nbd.sh).
//!
//! nbd-serve (--unix PATH | --tcp HOST:PORT) [--tls-psk FILE | --tls-cert CERT --tls-key KEY]
//!           [--tls-required] [--no-zero-copy] [--workers N] [--max-connections N]
//!           [--block N] [--sndbuf BYTES (0: leave the kernel's)]
//!           [--notsent-lowat BYTES (0: unset)]
//!           [--congestion ALG,ALG... (loopback listeners; empty: the default)] NAME=FILE...
//!
//! Prints "ready" on stdout once listening; stops on SIGTERM/SIGINT or when stdin closes
//! if --stdin-stop is given.

use std::net::TcpListener;
use std::os::unix::net::UnixListener;
use std::sync::Arc;

use anyhow::{Context, bail};
use spindle_nbd::files::{SparseFile, StaticCatalog};
use spindle_nbd::{ExportInfo, Server, ServerConfig, TlsConfig, TlsMode};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut unix = None;
    let mut tcp = None;
    let mut psk = None;
    let mut cert = None;
    let mut key = None;
    let mut required = false;
    let mut block = 2048;
    let mut config = ServerConfig::default();
    let mut catalog = StaticCatalog::new();
    while let Some(a) = args.next() {
        let mut value = || args.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--unix" => unix = Some(value()?),
            "--tcp" => tcp = Some(value()?),
            "--tls-psk" => psk = Some(value()?),
            "--tls-cert" => cert = Some(value()?),
            "--tls-key" => key = Some(value()?),
            "--tls-required" => required = true,
            "--no-zero-copy" => config.zero_copy = false,
            "--workers" => config.workers = value()?.parse()?,
            "--max-connections" => config.max_connections = value()?.parse()?,
            "--block" => block = value()?.parse()?,
            // 0: leave SO_SNDBUF alone (TCP autotuning stays on).
            "--sndbuf" => config.send_buffer = Some(value()?.parse()?).filter(|&b| b > 0),
            // 0: leave TCP_NOTSENT_LOWAT unset.
            "--notsent-lowat" => {
                config.tcp_notsent_lowat = Some(value()?.parse()?).filter(|&b| b > 0)
            }
            // Comma-separated; empty: the system's default for loopback listeners too.
            "--congestion" => {
                config.loopback_congestion = value()?
                    .split(',')
                    .filter(|c| !c.is_empty())
                    .map(String::from)
                    .collect()
            }
            s if s.contains('=') => {
                let (name, file) = s.split_once('=').unwrap();
                let info = ExportInfo::new(name, format!("file {file}")).with_block_size(block);
                catalog.add(info, Arc::new(SparseFile::open(file)?));
            }
            s => bail!("unknown argument {s}"),
        }
    }
    let tls = match (psk, cert, key) {
        (Some(p), None, None) => Some(TlsConfig::from_psk_file(p)?),
        (None, Some(c), Some(k)) => Some(TlsConfig::from_cert_files(c, k)?),
        (None, None, None) => None,
        _ => bail!("give --tls-psk FILE or --tls-cert CERT --tls-key KEY"),
    };
    config.tls = match (tls, required) {
        (None, _) => TlsMode::None,
        (Some(t), true) => TlsMode::Required(t),
        (Some(t), false) => TlsMode::Optional(t),
    };
    let server = Server::new(Arc::new(catalog), config);

    // Stop on SIGTERM/SIGINT: a thread waits for them with sigwait.
    // SAFETY: plain signal-mask calls with valid sets.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        let stopper = server.clone();
        std::thread::spawn(move || {
            let mut sig = 0;
            libc::sigwait(&set, &mut sig);
            stopper.stop();
        });
    }

    match (unix, tcp) {
        (Some(path), None) => {
            let _ = std::fs::remove_file(&path);
            let l = UnixListener::bind(&path).with_context(|| format!("binding {path}"))?;
            println!("ready");
            server.serve_unix(l)?;
        }
        (None, Some(addr)) => {
            let l = TcpListener::bind(&addr).with_context(|| format!("binding {addr}"))?;
            println!("ready {}", l.local_addr()?);
            server.serve_tcp(l)?;
        }
        _ => bail!("give --unix PATH or --tcp HOST:PORT"),
    }
    Ok(())
}
