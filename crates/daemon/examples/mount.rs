//! Mounts one image with the library alone (no daemon): `mount IMAGE MOUNTPOINT [--drives DIR]`.
//!
//! Opens IMAGE through the registry, mounts its file tree at MOUNTPOINT with
//! `spindle_fuse::mount_tree` and, with `--drives DIR`, the raw views with the disc as drive 0
//! at DIR. Prints `ready` on stdout once everything is mounted, then waits until stdin reaches
//! end of file or SIGTERM/SIGINT arrives, unmounts, prints each mount's request counters on
//! stderr and exits 0. bench/fuse.sh drives it.

use spindle_disc::Disc;
use spindle_fuse::{DriveTable, MountOptions, mount_drives, mount_tree};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::{Arc, mpsc};

struct OneDrive(Arc<Disc>);

impl DriveTable for OneDrive {
    fn drives(&self) -> Vec<(u32, Option<Arc<Disc>>)> {
        vec![(0, Some(self.0.clone()))]
    }
}

fn usage() -> ! {
    eprintln!("usage: mount IMAGE MOUNTPOINT [--drives DIR]");
    std::process::exit(2)
}

fn main() {
    let mut args = std::env::args_os().skip(1);
    let (Some(image), Some(at)) = (
        args.next().map(PathBuf::from),
        args.next().map(PathBuf::from),
    ) else {
        usage()
    };
    let drives_at = match (args.next(), args.next()) {
        (None, _) => None,
        (Some(flag), Some(dir)) if flag == "--drives" => Some(PathBuf::from(dir)),
        _ => usage(),
    };

    // SIGTERM and SIGINT are blocked before any thread starts (the mount's threads inherit
    // the mask) and taken by one thread with sigwait, so they end the program like EOF.
    // SAFETY: plain libc calls on a local, initialised signal set.
    let set = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    };

    let fail = |what: &dyn std::fmt::Display| -> ! {
        eprintln!("mount: {what}");
        std::process::exit(1)
    };
    let disc = Arc::new(spindle_image::open(&image).unwrap_or_else(|e| fail(&e)));
    let fs = spindle_image::filesystem(&disc, None).unwrap_or_else(|e| fail(&e));
    // SPINDLE_DIRECT_IO_FROM=BYTES overrides MountOptions::direct_io_from (bench/fuse.sh).
    let direct_io_from = std::env::var("SPINDLE_DIRECT_IO_FROM")
        .ok()
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| fail(&"SPINDLE_DIRECT_IO_FROM: not a number"))
        })
        .unwrap_or(spindle_fuse::DIRECT_IO_FROM);
    // SPINDLE_SPLICE=0 turns MountOptions::splice off.
    let splice = std::env::var("SPINDLE_SPLICE").map_or(true, |v| v != "0");
    // SPINDLE_THREADS=N overrides MountOptions::threads.
    let threads = std::env::var("SPINDLE_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4);
    let opts = MountOptions {
        fsname: image.display().to_string(),
        direct_io_from,
        splice,
        threads,
        ..Default::default()
    };
    let tree = mount_tree(fs, &at, &opts).unwrap_or_else(|e| fail(&e));
    let drives = drives_at.map(|d| {
        mount_drives(Arc::new(OneDrive(disc.clone())), &d, &opts).unwrap_or_else(|e| fail(&e))
    });

    let (tx, rx) = mpsc::channel::<&'static str>();
    let stdin_tx = tx.clone();
    std::thread::spawn(move || {
        let mut sink = [0u8; 4096];
        let mut stdin = std::io::stdin().lock();
        while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
        let _ = stdin_tx.send("end of input");
    });
    std::thread::spawn(move || {
        let mut sig = 0;
        // SAFETY: `set` is an initialised signal set; `sig` is a valid out pointer.
        unsafe { libc::sigwait(&set, &mut sig) };
        let _ = tx.send(if sig == libc::SIGINT {
            "SIGINT"
        } else {
            "SIGTERM"
        });
    });

    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "ready");
    let _ = out.flush();
    drop(out);

    let why = rx.recv().unwrap_or("no input");
    let mut status = 0;
    for (name, m) in [("tree", Some(tree)), ("drives", drives)] {
        let Some(m) = m else { continue };
        let s = m.stats();
        eprintln!(
            "mount: {name} {}: {} reads, {} bytes, {} passthrough opens, {} errors, {} direct-I/O opens, {} read-ahead hits, {} spliced",
            m.path().display(),
            s.reads,
            s.bytes,
            s.passthrough_opens,
            s.errors,
            s.direct_opens,
            s.read_ahead_hits,
            s.spliced
        );
        if let Err(e) = m.unmount() {
            eprintln!("mount: {e}");
            status = 1;
        }
    }
    eprintln!("mount: unmounted ({why})");
    std::process::exit(status)
}
