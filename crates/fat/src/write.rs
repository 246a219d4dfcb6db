//! Writing a volume or disk image to a file or device region.

use spindle_bytes::ByteSource;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// Writes `src` into `file` from byte `at`, in 1 MiB pieces, with its first `head_last` bytes
/// written last (give the size of the region holding the boot sector or MBR: until they are
/// written, the result is not a valid filesystem, so an interrupted write is never taken for
/// a finished one). With `sparse`, all-zero pieces are skipped (for a fresh sparse file).
pub fn write_to(
    src: &dyn ByteSource,
    file: &File,
    at: u64,
    head_last: u64,
    sparse: bool,
) -> io::Result<()> {
    const PIECE: u64 = 1 << 20;
    let len = src.len();
    let head = head_last.min(len);
    let mut buf = vec![0u8; PIECE as usize];
    let zeros = vec![0u8; PIECE as usize];
    let mut off = head;
    let put = |off: u64, n: u64, buf: &mut [u8]| -> io::Result<()> {
        let b = &mut buf[..n as usize];
        src.read_exact_at(b, off)?;
        if sparse && *b == zeros[..b.len()] {
            return Ok(());
        }
        file.write_all_at(b, at + off)
    };
    while off < len {
        let n = PIECE.min(len - off);
        put(off, n, &mut buf)?;
        off += n;
    }
    let mut off = 0;
    while off < head {
        let n = PIECE.min(head - off);
        put(off, n, &mut buf)?;
        off += n;
    }
    Ok(())
}
