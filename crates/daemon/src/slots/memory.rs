//! Giving the memory of ejected discs back to the kernel.

use spindle_fs::FileSystem;
use std::sync::Weak;
#[cfg(all(target_os = "linux", target_env = "gnu"))]
use std::time::Duration;

/// Gives the heap pages freed by an eject or a swap back to the kernel, once the file
/// trees of `gone` are dropped.
///
/// A walked disc's tables (inode maps, the filesystem's directory caches) are many small
/// allocations spread over the glibc arenas of its session threads; once the disc is
/// dropped they are free but stay resident (eight walked 100,000-entry discs: 144 to 218 MiB
/// resident, with live allocations back at the idle level, after `eject --all`; see
/// docs/daemon.md).
/// `malloc_trim` releases the free pages of every arena. The session threads drop the tree
/// when the kernel ends the connection, which may come after the unmount returned (a big
/// tree's inodes take a while to evict; an open file keeps it until its close), so a thread
/// waits for that (up to a minute; after that the next eject or swap trims) and trims then.
pub(super) fn release_freed_memory(gone: Vec<Weak<dyn FileSystem>>) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    std::thread::spawn(move || {
        let start = std::time::Instant::now();
        while gone.iter().any(|w| w.strong_count() > 0) && start.elapsed() < Duration::from_secs(60)
        {
            std::thread::sleep(Duration::from_millis(20));
        }
        // The tree goes first; the mount's inode tables right after it.
        std::thread::sleep(Duration::from_millis(50));
        // SAFETY: malloc_trim only walks the allocator's own free lists.
        unsafe {
            libc::malloc_trim(0);
        }
    });
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    drop(gone);
}
