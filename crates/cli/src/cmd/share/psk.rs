//! The key file `spindle share` makes for a private disc: `<dir>/spindle/share-drive<N>/keys.psk`,
//! one `spindle:<64 hex digits>` line (a random 256-bit key, psktool's format), the file 0600 and
//! its directory 0700, both the user's own. `<dir>` is `$XDG_RUNTIME_DIR` when it is the user's
//! (a login session's `/run/user/UID`), else `$XDG_STATE_HOME` or `~/.local/state` under a home
//! the user owns. The directory holds `keys.psk` alone, so qemu's `tls-creds-psk,dir=` takes it.

use anyhow::{Context, Result, bail};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The PSK identity of the key files we make.
pub const IDENTITY: &str = "spindle";

fn euid() -> u32 {
    spindle_sys::creds::effective_ids().0
}

/// A directory the user owns that no one else may write to.
fn owned(p: &Path) -> bool {
    std::fs::symlink_metadata(p)
        .is_ok_and(|m| m.is_dir() && m.uid() == euid() && m.mode() & 0o022 == 0)
}

/// Where the key files go.
fn base() -> Result<PathBuf> {
    if let Some(run) = std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from)
        && run.is_absolute()
        && owned(&run)
    {
        return Ok(run);
    }
    if let Some(home) = std::env::var_os("HOME").map(PathBuf::from)
        && home.is_absolute()
        && owned(&home)
    {
        let state = std::env::var_os("XDG_STATE_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .unwrap_or_else(|| home.join(".local/state"));
        return Ok(state);
    }
    bail!(
        "no private directory for a key file (neither $XDG_RUNTIME_DIR nor $HOME is a directory of yours): give --tls-psk FILE (`psktool -u NAME -p FILE` makes one) or --public"
    )
}

/// Makes `dir` (and its parents) 0700, and checks it is ours and private.
fn private_dir(dir: &Path) -> Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("{}: creating", dir.display()))?;
    let m = std::fs::symlink_metadata(dir).with_context(|| dir.display().to_string())?;
    if !m.is_dir() || m.uid() != euid() {
        bail!("{}: not a directory of yours", dir.display());
    }
    if m.mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("{}: chmod 700", dir.display()))?;
    }
    Ok(())
}

/// Makes a new key file for a share of `drive` (replacing the last one) and returns its path.
pub fn make(drive: u32) -> Result<PathBuf> {
    let dir = base()?.join("spindle").join(format!("share-drive{drive}"));
    private_dir(&dir)?;
    let mut key = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut key))
        .context("/dev/urandom")?;
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    let file = dir.join("keys.psk");
    let tmp = dir.join(format!(".keys.psk.{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("{}: creating", tmp.display()))?;
    f.write_all(format!("{IDENTITY}:{hex}\n").as_bytes())
        .and_then(|()| f.sync_all())
        .with_context(|| format!("{}: writing", tmp.display()))?;
    std::fs::rename(&tmp, &file)
        .with_context(|| format!("{}: renaming to {}", tmp.display(), file.display()))?;
    Ok(file)
}

/// Percent-encodes a path for a URI query.
fn encode(p: &Path) -> String {
    let mut out = String::new();
    for &b in p.as_os_str().as_encoded_bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A share's `nbds://ADDR/EXPORT` as libnbd tools take it with the key file.
pub fn client_uri(uri: &str, file: &Path) -> String {
    let rest = uri.strip_prefix("nbds://").unwrap_or(uri);
    format!("nbds://{IDENTITY}@{rest}?tls-psk-file={}", encode(file))
}

/// Tells how to use the key (on stderr; the URIs went to stdout).
pub fn explain(drive: u32, address: &str, file: &Path) {
    let (host, port) = address.rsplit_once(':').unwrap_or((address, "PORT"));
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let dir = file.parent().unwrap_or(Path::new("."));
    eprintln!(
        "drive {drive}: its disc is private (other users cannot read its image), so it is shared with TLS-PSK.\n\
         key file (yours alone; give it only to whoever may read the disc): {}\n\
         nbdcopy/nbdinfo: use the URIs above, e.g. nbdcopy 'nbds://{IDENTITY}@{address}/drive{drive}?tls-psk-file={}' disc.iso\n\
         qemu-img: qemu-img convert --object tls-creds-psk,id=tls0,endpoint=client,dir={},username={IDENTITY} \
         --image-opts driver=nbd,host={host},port={port},export=drive{drive},tls-creds=tls0 -O raw disc.iso\n\
         (`--public` shares it without TLS instead; `--tls-psk FILE` uses your own key file.)",
        file.display(),
        encode(file),
        dir.display(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_uris_carry_the_identity_and_the_key_file() {
        assert_eq!(
            client_uri(
                "nbds://127.0.0.1:1234/drive0",
                Path::new("/run/user/7/spindle/share-drive0/keys.psk")
            ),
            "nbds://spindle@127.0.0.1:1234/drive0?tls-psk-file=/run/user/7/spindle/share-drive0/keys.psk"
        );
        assert_eq!(encode(Path::new("/a b/c&d")), "/a%20b/c%26d");
    }
}
