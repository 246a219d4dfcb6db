//! The plain files a disc reads through, as the descriptors it holds open. A caller that must
//! not write over its own input (spindle burn) takes their identities (`fstat`) from these:
//! a path can be renamed or replaced after the open, the descriptor cannot.
//! [`SourceInfo::files`](crate::SourceInfo) names every file, compressed ones included.

use crate::ByteSource;
use crate::extent::ExtentData;
use crate::model::Disc;
use std::fs::File;
use std::sync::Arc;

impl Disc {
    /// The open plain files behind the disc's stored extents and subchannel streams, each
    /// once. Compressed and custom-decoded sources (a `.gz` container, CHD hunks) have no plain
    /// file mapped 1:1 and are not listed: their paths are in `source.files`.
    pub fn open_plain_files(&self) -> Vec<&File> {
        fn add<'a>(out: &mut Vec<&'a File>, s: &'a Arc<dyn ByteSource>) {
            if let Some(f) = s.plain_file()
                && !out.iter().any(|o| std::ptr::eq(*o, f))
            {
                out.push(f);
            }
        }
        let mut out = Vec::new();
        for t in self.tracks() {
            for e in &t.extents {
                if let ExtentData::Stored(s) = &e.data {
                    add(&mut out, &s.file);
                    if let Some(sub) = &s.sub_stream {
                        add(&mut out, &sub.file);
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::MemSource;
    use crate::extent::{Extent, FileSource, MainLayout, Stored, SubLayout, SubStream};
    use crate::model::{Disc, Session, SourceInfo, Track, TrackFlags, TrackMode};
    use crate::{Lba, Medium};
    use std::os::unix::fs::MetadataExt;
    use std::sync::Arc;

    #[test]
    fn each_plain_file_once_and_no_memory_source() {
        let dir = tempfile::tempdir().unwrap();
        let (img, sub) = (dir.path().join("d.img"), dir.path().join("d.sub"));
        std::fs::write(&img, vec![0u8; 4 * 2048]).unwrap();
        std::fs::write(&sub, vec![0u8; 4 * 96]).unwrap();
        let img_src: Arc<dyn crate::ByteSource> = Arc::new(FileSource::open(&img).unwrap());
        let sub_src: Arc<dyn crate::ByteSource> = Arc::new(FileSource::open(&sub).unwrap());
        let mem: Arc<dyn crate::ByteSource> =
            Arc::new(MemSource::new(vec![0u8; 2048], dir.path().join("mem")));
        let mut with_sub = Stored::new(img_src.clone(), 2048, MainLayout::USER);
        with_sub.sub_stream = Some(SubStream {
            file: sub_src,
            offset: 0,
            layout: SubLayout::Pw96Linear,
        });
        let track = Track {
            number: 1,
            mode: TrackMode::Mode1,
            flags: TrackFlags::default(),
            isrc: None,
            start: Lba(0),
            pregap: 0,
            extra_indexes: vec![],
            length: 4,
            postgap: 0,
            extents: vec![
                Extent::stored(1, Stored::new(img_src.clone(), 0, MainLayout::USER)),
                Extent::stored(1, with_sub),
                Extent::stored(1, Stored::new(mem, 0, MainLayout::USER)),
                Extent::zero(1),
            ],
        };
        let mut disc = Disc::new(Medium::CdRom, SourceInfo::default());
        disc.sessions.push(Session {
            number: 1,
            tracks: vec![track],
            leadout: Lba(4),
        });
        let ids: Vec<u64> = disc
            .open_plain_files()
            .iter()
            .map(|f| f.metadata().unwrap().ino())
            .collect();
        let want = |p: &std::path::Path| std::fs::metadata(p).unwrap().ino();
        assert_eq!(ids, vec![want(&img), want(&sub)]);
    }
}
