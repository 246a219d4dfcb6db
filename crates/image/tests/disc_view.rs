//! The disc-addressed user-data view on the CD-Extra fixture: the data track sits in session 2
//! at LBA 11485, and its volume descriptor must be where disc addresses put it.

use spindle_image::spindle_disc::{ByteSource, SectorView};
use std::path::PathBuf;
use std::sync::Arc;

#[test]
fn disc_view_addresses_a_second_session_by_lba() {
    let cue = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/cd-extra/disc.cue"
    ));
    let disc = Arc::new(spindle_image::open(&cue).unwrap());
    let data = std::fs::read(cue.with_file_name("data.iso")).unwrap();
    let view = SectorView::disc_user_data(disc.clone()).unwrap();
    let track = disc.track(3).unwrap();
    assert_eq!(view.len(), track.end().0 as u64 * 2048);

    // The PVD at the data track's sector 16, by absolute address.
    let mut pvd = vec![0u8; 2048];
    view.read_at(&mut pvd, (track.index1().0 as u64 + 16) * 2048)
        .unwrap();
    assert_eq!(&pvd[..], &data[16 * 2048..17 * 2048]);
    // Audio, the lead-out/lead-in gap and the pregap read as zeros, across their borders.
    let mut span = vec![0xAAu8; 200 * 2048];
    view.read_at(&mut span, 0).unwrap();
    assert!(span.iter().all(|&b| b == 0));
    let mut edge = vec![0xAAu8; 4 * 2048];
    view.read_at(&mut edge, (track.index1().0 as u64 - 2) * 2048)
        .unwrap();
    assert!(edge[..2 * 2048].iter().all(|&b| b == 0));
    assert_eq!(&edge[2 * 2048..], &data[..2 * 2048]);
    // The whole data track reads back in one go.
    let mut all = vec![0u8; data.len()];
    view.read_at(&mut all, track.index1().0 as u64 * 2048)
        .unwrap();
    assert_eq!(all, data);
}
