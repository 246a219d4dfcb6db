//! The drive slots in process, with real FUSE mounts: 64 drives loaded at once, swap, the
//! saved state and its restore, ejects that leave nothing mounted.

use spindle_daemon::creds::User;
use spindle_daemon::state::SavedState;
use spindle_daemon::{Drives, EjectTarget, LoadRequest, open_image};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

fn sample(rel: &str) -> PathBuf {
    spindle_testkit::samples().join(rel).canonicalize().unwrap()
}

fn mounts_under(root: &Path) -> Vec<PathBuf> {
    spindle_fuse::mounts()
        .into_iter()
        .filter(|m| m.fstype == "fuse.spindle" && m.mount_point.starts_with(root))
        .map(|m| m.mount_point)
        .collect()
}

/// Detaches whatever is left under the directory, even when the test fails.
struct Guard(tempfile::TempDir, Option<mpsc::Sender<()>>);

impl Guard {
    fn new() -> Guard {
        let dir = tempfile::Builder::new()
            .prefix("spindle-drives-test")
            .tempdir()
            .unwrap();
        let root = dir.path().canonicalize().unwrap();
        let (tx, rx) = mpsc::channel::<()>();
        std::thread::spawn(move || {
            if rx.recv_timeout(Duration::from_secs(120)) == Err(mpsc::RecvTimeoutError::Timeout) {
                for p in mounts_under(&root) {
                    let _ = spindle_fuse::detach(&p);
                }
                std::process::exit(101);
            }
        });
        Guard(dir, Some(tx))
    }
    fn root(&self) -> PathBuf {
        self.0.path().canonicalize().unwrap()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        for p in mounts_under(&self.root()).iter().rev() {
            let _ = spindle_fuse::detach(p);
        }
        if let Some(tx) = self.1.take() {
            let _ = tx.send(());
        }
    }
}

#[test]
fn sixty_four_drives_swap_save_restore() {
    let g = Guard::new();
    let me = User::current();
    let state = g.root().join("state/drives.json");
    let media = g.root().join("media");
    let mut d = Drives::new(4, media.clone(), Some(state.clone()));
    d.set_count(64).unwrap();
    let joliet = sample("libcdio/joliet.iso");
    for i in 0..64 {
        let img = open_image(&me, &joliet, None).unwrap();
        assert_eq!(d.mount(&me, img, &LoadRequest::default()).unwrap(), i);
    }
    let img = open_image(&me, &joliet, None).unwrap();
    assert!(
        d.mount(&me, img, &LoadRequest::default())
            .unwrap_err()
            .to_string()
            .contains("every drive is loaded")
    );
    assert_eq!(mounts_under(&g.root()).len(), 64);
    let report = d.report();
    assert_eq!(report[63].mountpoints, [media.join("K3b data project_64")]);
    assert!(
        std::fs::read_dir(&report[10].mountpoints[0])
            .unwrap()
            .next()
            .is_some()
    );

    // Swap drive 5: the same mount point, the other disc.
    let copying = sample("libcdio/copying.iso");
    let at = d.report()[5].mountpoints[0].clone();
    let names = |p: &Path| {
        let mut v: Vec<_> = std::fs::read_dir(p)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        v.sort();
        v
    };
    let before = names(&at);
    d.load(&me, 5, open_image(&me, &copying, None).unwrap())
        .unwrap();
    assert_eq!(d.report()[5].mountpoints, std::slice::from_ref(&at));
    let after = names(&at);
    assert!(
        !after.is_empty() && after != before,
        "{before:?} then {after:?}"
    );
    assert_eq!(d.report()[5].image.as_deref(), Some(copying.as_path()));

    // The saved state names all 64; a new set of drives restores them after a shutdown.
    let saved = SavedState::load(&state).unwrap().unwrap();
    assert_eq!(saved.drives.len(), 64);
    d.shutdown();
    assert!(mounts_under(&g.root()).is_empty());
    assert_eq!(
        SavedState::load(&state).unwrap().unwrap(),
        saved,
        "shutdown keeps the saved drives"
    );
    let mut d2 = Drives::new(4, media.clone(), Some(state.clone()));
    d2.restore(&saved);
    assert_eq!(d2.count(), 64);
    assert_eq!(d2.loaded(), 64);
    assert_eq!(d2.report()[5].mountpoints, std::slice::from_ref(&at));
    assert_eq!(mounts_under(&g.root()).len(), 64);

    // Ejects: by mount point, by image (every drive holding it), all.
    assert_eq!(
        d2.eject(&me, &EjectTarget::Path(at.clone()))
            .unwrap()
            .ejected,
        [5]
    );
    assert!(!at.exists(), "the daemon's own mount point goes");
    assert_eq!(d2.eject(&me, &EjectTarget::Drive(0)).unwrap().ejected, [0]);
    assert_eq!(
        d2.eject(&me, &EjectTarget::Path(joliet.clone()))
            .unwrap()
            .ejected
            .len(),
        62
    );
    assert!(d2.eject(&me, &EjectTarget::Drive(0)).is_err());
    assert_eq!(
        d2.eject(&me, &EjectTarget::All).unwrap().ejected,
        Vec::<u32>::new()
    );
    assert!(mounts_under(&g.root()).is_empty());
    assert!(SavedState::load(&state).unwrap().unwrap().drives.is_empty());
    d2.set_count(4).unwrap();
}

#[test]
fn a_disc_without_a_tree_loads_without_a_mount() {
    let g = Guard::new();
    let me = User::current();
    let mut d = Drives::new(2, g.root().join("media"), None);
    let cdda = sample("libcdio/cdda.cue");
    let drive = d
        .mount(
            &me,
            open_image(&me, &cdda, None).unwrap(),
            &LoadRequest::default(),
        )
        .unwrap();
    let r = &d.report()[drive as usize];
    assert!(r.mountpoints.is_empty());
    assert_eq!(r.format.as_deref(), Some("cue"));
    // The drives table shows it (raw views).
    use spindle_fuse::DriveTable;
    assert!(d.table().drives()[0].1.is_some());
    d.eject(&me, &EjectTarget::All).unwrap();
    assert!(d.table().drives()[0].1.is_none());
}
