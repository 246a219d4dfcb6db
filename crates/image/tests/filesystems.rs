//! Which track's volume a disc's file tree comes from.

use spindle_testkit::samples;
use std::sync::Arc;

/// A Video CD keeps its ISO 9660 volume in track 1 and MPEG streams in tracks 2-5: the tree
/// comes from track 1 although it is not the last data track.
#[test]
fn video_cd_volume_in_track_1() {
    let disc = Arc::new(spindle_image::open(&samples().join("libcdio/videocd.nrg")).unwrap());
    assert_eq!(disc.tracks().filter(|t| t.mode.is_data()).count(), 5);
    let fs = spindle_image::filesystem(&disc, None).unwrap();
    assert_eq!(fs.label(), "SVIDEOCD");
    let names: Vec<String> = fs
        .read_dir(fs.root())
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    for want in ["EXT", "MPEG2", "SEGMENT", "SVCD"] {
        assert!(names.iter().any(|n| n == want), "{names:?}");
    }
}
