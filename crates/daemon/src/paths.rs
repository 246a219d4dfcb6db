//! Where the daemon keeps its socket, mounts and saved state.
//!
//! | what | user | root (system-wide) |
//! |---|---|---|
//! | runtime dir | `$XDG_RUNTIME_DIR/spindle` | `/run/spindle` |
//! | control socket | `<runtime>/control.sock` | `/run/spindle/control.sock` |
//! | NBD socket (exports `drive<N>`, `drive<N>.raw`) | `<runtime>/nbd.sock` | `/run/spindle/nbd.sock` |
//! | default mount points | `<runtime>/media/<LABEL>` | `/run/spindle/media/<LABEL>` |
//! | raw views of every drive | `<runtime>/raw/drives/<N>/...` | `/run/spindle/raw/...` |
//! | saved drives | `$XDG_STATE_HOME/spindle/drives.json` | `/var/lib/spindle/drives.json` |
//!
//! `XDG_RUNTIME_DIR` and `XDG_STATE_HOME` win for root too when they are set (a root login
//! session; the tests); `SPINDLE_SOCKET` names the socket for every command.

use std::path::PathBuf;

/// True when the process runs as root.
pub fn is_root() -> bool {
    spindle_sys::creds::effective_ids().0 == 0
}

fn env_dir(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
}

/// The runtime directory (`$XDG_RUNTIME_DIR/spindle` or `/run/spindle`).
pub fn runtime_dir() -> PathBuf {
    if let Some(d) = env_dir("XDG_RUNTIME_DIR") {
        return d.join("spindle");
    }
    if is_root() {
        return PathBuf::from("/run/spindle");
    }
    let uid = spindle_sys::creds::real_ids().0;
    std::env::temp_dir().join(format!("spindle-{uid}"))
}

/// The state directory (`$XDG_STATE_HOME/spindle`, `~/.local/state/spindle`, or
/// `/var/lib/spindle` for root).
pub fn state_dir() -> PathBuf {
    if let Some(d) = env_dir("XDG_STATE_HOME") {
        return d.join("spindle");
    }
    if is_root() {
        return PathBuf::from("/var/lib/spindle");
    }
    match env_dir("HOME") {
        Some(h) => h.join(".local/state/spindle"),
        None => runtime_dir().join("state"),
    }
}

/// The control socket: `$SPINDLE_SOCKET`, else `<runtime>/control.sock`.
pub fn socket_path() -> PathBuf {
    env_dir("SPINDLE_SOCKET").unwrap_or_else(|| runtime_dir().join("control.sock"))
}

/// The NBD socket every loaded drive is exported on: `$SPINDLE_NBD_SOCKET`, else
/// `nbd.sock` beside the control socket.
pub fn nbd_socket_path() -> PathBuf {
    env_dir("SPINDLE_NBD_SOCKET").unwrap_or_else(|| {
        let control = socket_path();
        control
            .parent()
            .map_or_else(|| runtime_dir().join("nbd.sock"), |d| d.join("nbd.sock"))
    })
}

/// Where default mount points are made.
pub fn media_dir() -> PathBuf {
    runtime_dir().join("media")
}

/// Where the raw views of every drive are mounted.
pub fn raw_dir() -> PathBuf {
    runtime_dir().join("raw")
}

/// The saved drives.
pub fn state_file() -> PathBuf {
    state_dir().join("drives.json")
}
