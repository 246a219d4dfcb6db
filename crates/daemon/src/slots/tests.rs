//! Ejecting and swapping let go of the disc.

use super::*;
use spindle_fuse::MountOptions;
use spindle_protocol::EjectTarget;
use std::path::Path;
use std::sync::Weak;
use std::time::Duration;
use std::time::Instant;

fn dies_within_5s<T: ?Sized>(w: &Weak<T>) -> bool {
    let t = Instant::now();
    while w.strong_count() > 0 {
        if t.elapsed() > Duration::from_secs(5) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

fn walk(p: &Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(p).unwrap() {
        let e = e.unwrap();
        let meta = e.metadata().unwrap();
        n += 1;
        if meta.is_dir() {
            n += walk(&e.path());
        }
    }
    n
}

/// An eject (and a swap) lets go of the disc and its filesystem: no cycle, session thread
/// or table of the daemon or of the drives mount keeps them.
#[test]
fn eject_and_swap_drop_the_disc_and_its_filesystem() {
    let dir = tempfile::Builder::new()
        .prefix("spindle-slots-test")
        .tempdir()
        .unwrap();
    let root = dir.path().canonicalize().unwrap();
    let me = User::current();
    let image = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/samples/libcdio/joliet.iso"
    ))
    .canonicalize()
    .unwrap();
    let mut d = Drives::new(2, root.join("media"), None);
    let raw = root.join("raw");
    std::fs::create_dir(&raw).unwrap();
    let raw_mount = spindle_fuse::mount_drives(d.table(), &raw, &MountOptions::default()).unwrap();
    d.table().notify(raw_mount.drives_refresh().unwrap());
    let opened = || {
        let img = open_image(&me, &image, None).unwrap();
        let weak = (
            Arc::downgrade(img.fs.as_ref().unwrap()),
            Arc::downgrade(&img.disc),
        );
        (img, weak)
    };
    let (img, (fs_a, disc_a)) = opened();
    let drive = d.mount(&me, img, &LoadRequest::default()).unwrap();
    let at = d.report()[drive as usize].mountpoints[0].clone();
    assert!(walk(&at) > 0);
    // The raw views of the drive too: the drives mount builds its files of the disc.
    assert!(walk(&raw) > 0);
    // A swap drops the old disc.
    let (img, (fs_b, disc_b)) = opened();
    d.load(&me, drive, img).unwrap();
    assert!(
        dies_within_5s(&fs_a),
        "the swapped-out filesystem stayed alive"
    );
    assert!(dies_within_5s(&disc_a), "the swapped-out disc stayed alive");
    assert!(walk(&at) > 0);
    assert!(walk(&raw) > 0);
    d.eject(&me, &EjectTarget::All).unwrap();
    assert!(spindle_fuse::find_mount(&at).is_none());
    assert!(dies_within_5s(&fs_b), "the ejected filesystem stayed alive");
    // The drives mount was told: it let go of the disc before anyone looked at it again.
    assert!(dies_within_5s(&disc_b), "the ejected disc stayed alive");
    assert_eq!(walk(&raw), 1 + 2);
    raw_mount.unmount().unwrap();
}
