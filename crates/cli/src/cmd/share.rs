//! `spindle share DRIVE --listen HOST:PORT [--tls-cert CERT --tls-key KEY | --tls-psk FILE |
//! --public]`: the daemon serves the drive's NBD exports (`drive<N>`, `drive<N>.raw`) on a TCP
//! address. Off loopback, TLS is required. A disc other local users cannot read is shared only
//! with TLS-PSK or `--public`: without any TLS option, this command then makes a key file
//! only its user can read and shares with it (see [`psk`]). `--stop` ends the share.

mod psk;

use super::daemon::{absolute, connect};
use anyhow::{Result, bail};
use clap::Parser;
use spindle_daemon::protocol::{ErrorCode, ShareArgs};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
pub struct Args {
    /// The drive to share.
    drive: u32,
    /// Where to listen (`HOST:PORT`; `127.0.0.1:10809`, `[::]:10809`...).
    #[arg(long, value_name = "HOST:PORT", required_unless_present = "stop")]
    listen: Option<String>,
    /// TLS with an X.509 certificate chain (PEM); needs --tls-key.
    #[arg(
        long,
        value_name = "CERT",
        requires = "tls_key",
        conflicts_with = "tls_psk"
    )]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, value_name = "KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// TLS with pre-shared keys: a file of `identity:hexkey` lines (as `psktool` writes).
    #[arg(long, value_name = "FILE")]
    tls_psk: Option<PathBuf>,
    /// Serve the disc to anyone who can connect, even if other users cannot read its image.
    #[arg(long, conflicts_with = "tls_psk")]
    public: bool,
    /// Stop sharing the drive.
    #[arg(long, conflicts_with_all = ["listen", "tls_cert", "tls_key", "tls_psk", "public"])]
    stop: bool,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let mut c = connect()?;
    if a.stop {
        c.unshare(a.drive)?;
        eprintln!("drive {}: no longer shared", a.drive);
        return Ok(ExitCode::SUCCESS);
    }
    let Some(listen) = a.listen else {
        bail!("--listen HOST:PORT is required")
    };
    let abs = |p: Option<PathBuf>| p.map(|p| absolute(&p)).transpose();
    let req = ShareArgs {
        drive: a.drive,
        listen,
        tls_cert: abs(a.tls_cert.clone())?,
        tls_key: abs(a.tls_key.clone())?,
        tls_psk: abs(a.tls_psk.clone())?,
        public: a.public,
    };
    let no_tls_asked = a.tls_cert.is_none() && a.tls_psk.is_none() && !a.public;
    let (reply, made) = match c.share(req.clone()) {
        Err(e) if e.code() == Some(ErrorCode::PrivateDisc) && no_tls_asked => {
            // A private disc and no TLS option: share it with a key made for it.
            let file = psk::make(a.drive)?;
            let req = ShareArgs {
                tls_psk: Some(file.clone()),
                ..req
            };
            (c.share(req)?, Some(file))
        }
        r => (r?, None),
    };
    let uris: Vec<&str> = reply.uris.iter().map(String::as_str).collect();
    match made {
        None => {
            for uri in uris {
                println!("{uri}");
            }
        }
        Some(file) => {
            for uri in &uris {
                println!("{}", psk::client_uri(uri, &file));
            }
            psk::explain(a.drive, &reply.address, &file);
        }
    }
    Ok(ExitCode::SUCCESS)
}
