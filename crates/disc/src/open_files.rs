//! The plain files a disc reads through, as the descriptors it holds open. A caller that must
//! not write over its own input (spindle burn) takes their identities (`fstat`) from these:
//! a path can be renamed or replaced after the open, the descriptor cannot.
//! [`SourceInfo::files`](crate::SourceInfo) names every file, compressed ones included.

use crate::extent::{ByteSource, ExtentData};
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
