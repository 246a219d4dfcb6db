//! `spindle share DRIVE --listen HOST:PORT [--tls-cert CERT --tls-key KEY | --tls-psk FILE]`:
//! the daemon serves the drive's NBD exports (`drive<N>`, `drive<N>.raw`) on a TCP address.
//! Off loopback, TLS is required. `--stop` ends the share.

use super::daemon::{absolute, connect};
use anyhow::{Result, bail};
use clap::Parser;
use serde_json::json;
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
    #[arg(long, value_name = "CERT", requires = "tls_key", conflicts_with = "tls_psk")]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, value_name = "KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// TLS with pre-shared keys: a file of `identity:hexkey` lines (as `psktool` writes).
    #[arg(long, value_name = "FILE")]
    tls_psk: Option<PathBuf>,
    /// Stop sharing the drive.
    #[arg(long, conflicts_with_all = ["listen", "tls_cert", "tls_key", "tls_psk"])]
    stop: bool,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let mut c = connect()?;
    if a.stop {
        c.request("unshare", json!({"drive": a.drive}))?;
        eprintln!("drive {}: no longer shared", a.drive);
        return Ok(ExitCode::SUCCESS);
    }
    let Some(listen) = a.listen else {
        bail!("--listen HOST:PORT is required")
    };
    let abs = |p: Option<PathBuf>| p.map(|p| absolute(&p)).transpose();
    let reply = c.request(
        "share",
        json!({
            "drive": a.drive,
            "listen": listen,
            "tls_cert": abs(a.tls_cert)?,
            "tls_key": abs(a.tls_key)?,
            "tls_psk": abs(a.tls_psk)?,
        }),
    )?;
    for uri in reply["uris"].as_array().into_iter().flatten() {
        println!("{}", uri.as_str().unwrap_or_default());
    }
    Ok(ExitCode::SUCCESS)
}
