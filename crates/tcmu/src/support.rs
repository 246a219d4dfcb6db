//! Whether this kernel can give us TCMU drives, and if not, what a user can do about it.

use crate::configfs::TARGET;
use crate::error::{Error, Result};
use std::path::Path;
use std::process::Command;

/// Whether TCMU drives can be made here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Support {
    /// configfs, `target_core_user` and `tcm_loop` are there.
    Available,
    /// Something is missing.
    Unavailable {
        /// What is missing, e.g. "the kernel has no target_core_user module".
        reason: String,
        /// What to do, e.g. "install linux-modules-extra-6.8.0-40-generic".
        hint: String,
    },
}

const MODULES: [&str; 2] = ["target_core_user", "tcm_loop"];

fn loaded(module: &str) -> bool {
    Path::new("/sys/module").join(module).exists()
}

fn release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}

/// True when the module is loadable: a `.ko` (possibly compressed) under this kernel's
/// module tree, or built in.
fn available(module: &str, release: &str) -> bool {
    let dir = Path::new("/lib/modules").join(release);
    let builtin = std::fs::read_to_string(dir.join("modules.builtin")).unwrap_or_default();
    let dep = std::fs::read_to_string(dir.join("modules.dep")).unwrap_or_default();
    let file = format!("/{module}.ko");
    builtin.lines().chain(dep.lines()).any(|l| {
        let path = l.split(':').next().unwrap_or("");
        path.ends_with(&file) || path.contains(&format!("{file}."))
    })
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Checks the kernel: configfs mounted, `target_core_user` and `tcm_loop` loaded. As root it
/// first loads what is missing (`modprobe`, and mounts configfs), as the kernel NBD attach
/// does; otherwise it only looks (modules that are installed but not loaded count as
/// available when `spindle-drive-helper`'s socket exists: the helper loads them).
pub fn support() -> Support {
    let rel = release();
    let missing: Vec<&str> = MODULES.into_iter().filter(|m| !loaded(m)).collect();
    if !missing.is_empty() {
        let unavailable: Vec<&str> = missing
            .iter()
            .copied()
            .filter(|m| !available(m, &rel))
            .collect();
        if !unavailable.is_empty() {
            return Support::Unavailable {
                reason: format!("kernel {rel} has no {} module", unavailable.join(" or ")),
                hint: format!(
                    "install the kernel's extra modules (Debian/Ubuntu: linux-modules-extra-{rel}; \
                     Fedora: kernel-modules-extra), or use a kernel with CONFIG_TCM_USER2 and \
                     CONFIG_LOOPBACK_TARGET"
                ),
            };
        }
        if is_root() {
            let _ = Command::new("modprobe")
                .args(&missing)
                .arg("sr_mod")
                .status();
        }
        let still: Vec<&str> = missing.into_iter().filter(|m| !loaded(m)).collect();
        if !still.is_empty() {
            return Support::Unavailable {
                reason: format!("{} not loaded", still.join(" and ")),
                hint: format!("run `modprobe {} sr_mod` as root", still.join(" ")),
            };
        }
    }
    if !Path::new(TARGET).is_dir() {
        if is_root() && Path::new("/sys/kernel/config").is_dir() {
            let _ = Command::new("mount")
                .args(["-t", "configfs", "configfs", "/sys/kernel/config"])
                .status();
        }
        if !Path::new(TARGET).is_dir() {
            return Support::Unavailable {
                reason: format!("{TARGET} is missing (configfs not mounted)"),
                hint: "run `mount -t configfs configfs /sys/kernel/config` as root".into(),
            };
        }
    }
    Support::Available
}

/// `Ok` when [`support`] says available, else the reason as an error.
pub fn require() -> Result<()> {
    match support() {
        Support::Available => Ok(()),
        Support::Unavailable { reason, hint } => Err(Error::Unsupported { reason, hint }),
    }
}

/// The provisioner for this process: [`Local`](crate::Local) as root, else
/// [`Helper`](crate::Helper) on [`DEFAULT_SOCKET`](crate::helper::DEFAULT_SOCKET) when it
/// exists; otherwise an error saying how to enable the helper.
pub fn default_provisioner() -> Result<Box<dyn crate::Provisioner>> {
    if is_root() {
        return Ok(Box::new(crate::Local));
    }
    let sock = Path::new(crate::helper::DEFAULT_SOCKET);
    if sock.exists() {
        return Ok(Box::new(crate::Helper::new(sock)));
    }
    Err(Error::Unsupported {
        reason: format!(
            "TCMU drives need root, and spindle-drive-helper is not listening on {}",
            sock.display()
        ),
        hint: "run `systemctl enable --now spindle-drive-helper.socket` as root".into(),
    })
}
