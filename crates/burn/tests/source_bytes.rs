//! A burn source made of any bytes of the byte layer: read front to back as the writer reads
//! it, errors naming the source and the offset, and the one plain file behind it guarded.

use spindle_burn::Source;
use spindle_disc::{ByteSource, Concat, FileSource, MemSource, Piece};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::sync::Arc;

fn pattern(n: usize) -> Vec<u8> {
    (0..n as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

/// Every chunk `read_all` hands out: (offset, bytes).
fn chunks(src: &Source, chunk: usize) -> Vec<(u64, Vec<u8>)> {
    let mut out = Vec::new();
    src.read_all(chunk, |off, b| {
        out.push((off, b.to_vec()));
        Ok(())
    })
    .unwrap();
    out
}

#[test]
fn bytes_in_memory_read_back_in_writer_chunks() {
    let data = pattern(10_000);
    let src = Source::from_memory("mem.img".as_ref(), data.clone());
    assert_eq!(src.len(), 10_000);
    let got = chunks(&src, 4096);
    assert_eq!(
        got.iter().map(|(o, b)| (*o, b.len())).collect::<Vec<_>>(),
        [(0, 4096), (4096, 4096), (8192, 1808)]
    );
    assert_eq!(got.concat_bytes(), data);
    assert!(src.reads.files.is_empty(), "memory is no file to guard");
    // A read past the end names the source and where.
    let e = src.read_chunk(&mut [0u8; 16], 9_990).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("mem.img") && msg.contains("at byte 9990"),
        "{msg}"
    );
}

#[test]
fn a_file_source_is_guarded_by_its_identity() {
    let data = pattern(3 * 4096 + 5);
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(&data).unwrap();
    f.flush().unwrap();
    let bytes: Arc<dyn ByteSource> = Arc::new(FileSource::open(f.path()).unwrap());
    let src = Source::from_bytes(bytes, "a plain file", None);
    assert_eq!(src.description, "a plain file");
    assert_eq!(src.path, f.path());
    let m = std::fs::metadata(f.path()).unwrap();
    assert_eq!(src.reads.files.len(), 1);
    assert_eq!(src.reads.files[0].id.ino, m.ino());
    assert_eq!(chunks(&src, 4096).concat_bytes(), data);
}

#[test]
fn a_concatenation_reads_as_its_pieces() {
    let a = pattern(5000);
    let c = Concat::new(
        [
            Piece::Data(Arc::from(&b"head"[..])),
            Piece::Zeros(3000),
            Piece::Source(Arc::new(MemSource::new(a.clone(), "a"))),
        ],
        "entry.bin",
    );
    let src = Source::from_bytes(Arc::new(c), "a catalogue entry", None);
    let mut want = b"head".to_vec();
    want.extend(std::iter::repeat_n(0u8, 3000));
    want.extend_from_slice(&a);
    for chunk in [1, 4096, 1 << 20] {
        assert_eq!(chunks(&src, chunk).concat_bytes(), want, "chunk {chunk}");
    }
    assert!(src.reads.files.is_empty());
}

trait ConcatBytes {
    fn concat_bytes(&self) -> Vec<u8>;
}

impl ConcatBytes for Vec<(u64, Vec<u8>)> {
    /// The chunks laid end to end, checking each starts where the last ended.
    fn concat_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (off, b) in self {
            assert_eq!(*off, out.len() as u64, "chunks in order, without gaps");
            out.extend_from_slice(b);
        }
        out
    }
}
