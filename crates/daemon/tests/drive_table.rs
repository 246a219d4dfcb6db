//! The drive table readers outside the drives lock see (the drives mount, the NBD catalogue):
//! each drive's disc and owner change together, so no reader ever pairs a new owner with the
//! old disc, even while discs of two users are swapped in as fast as the daemon can.

use spindle_daemon::creds::User;
use spindle_daemon::nbd::DriveCatalog;
use spindle_daemon::{Drives, EjectTarget, open_image};
use spindle_nbd::Catalog;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

fn sample(rel: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/samples"
    ))
    .join(rel)
    .canonicalize()
    .unwrap()
}

#[test]
fn a_reader_never_pairs_a_disc_with_another_owner() {
    let user = |uid| User {
        uid,
        gid: uid,
        groups: vec![],
    };
    let (alice, bob) = (user(1000), user(1001));
    let images = [
        (alice.clone(), sample("kdomanski-iso9660/test.iso")),
        (bob.clone(), sample("libcdio/joliet.iso")),
    ];
    let media = tempfile::tempdir().unwrap();
    let mut d = Drives::new(1, media.path().to_path_buf(), None);
    let table = d.table();
    let alices_share = DriveCatalog::shared(d.table(), 0, alice.uid);
    let done = AtomicBool::new(false);
    let (seen, served) = std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let (mut seen, mut served) = (0u64, 0u64);
            while !done.load(Ordering::Relaxed) {
                let entries = table.entries();
                let e = &entries[0];
                if let Some(disc) = &e.disc {
                    let (owner, image) = images
                        .iter()
                        .find(|(_, p)| *p == disc.source.path)
                        .expect("a disc of the test");
                    assert_eq!(e.owner, Some(owner.uid), "{}", image.display());
                    seen += 1;
                } else {
                    assert_eq!(e.owner, None, "an owner without a disc");
                }
                // Alice's share serves her disc, never Bob's.
                if let Some((info, _)) = alices_share.open("drive0") {
                    let hers = images[0].1.display().to_string();
                    assert!(info.description.contains(&hers), "{}", info.description);
                    served += 1;
                }
            }
            (seen, served)
        });
        for round in 0..200 {
            let (who, image) = &images[round % 2];
            let img = open_image(who, image, None).unwrap();
            d.load(who, 0, img).unwrap();
            d.eject(who, &EjectTarget::Drive(0)).unwrap();
        }
        done.store(true, Ordering::Relaxed);
        reader.join().unwrap()
    });
    assert!(seen > 0, "the reader never saw a disc");
    eprintln!("{seen} entries with a disc checked, {served} exports opened on alice's share");
}
