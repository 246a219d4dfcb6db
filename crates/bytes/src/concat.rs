//! Pieces laid end to end: the one way spindle builds a composite file.

use crate::{Backing, ByteSource, Run, push_run};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One piece of a [`Concat`].
#[derive(Clone)]
pub enum Piece {
    /// Another source (a sector view, a file).
    Source(Arc<dyn ByteSource>),
    /// Bytes made up front (a WAV header, a cue sheet).
    Data(Arc<[u8]>),
    /// This many zero bytes, stored nowhere.
    Zeros(u64),
}

impl Piece {
    /// Length in bytes.
    pub fn len(&self) -> u64 {
        match self {
            Piece::Source(s) => s.len(),
            Piece::Data(d) => d.len() as u64,
            Piece::Zeros(n) => *n,
        }
    }

    /// Whether the piece holds no byte.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Pieces laid end to end, read as one source. Empty pieces are dropped.
#[derive(Clone)]
pub struct Concat {
    /// (start offset, piece), in order.
    pieces: Vec<(u64, Piece)>,
    len: u64,
    path: PathBuf,
}

impl Concat {
    /// The pieces in order, named `path` in errors.
    pub fn new(pieces: impl IntoIterator<Item = Piece>, path: impl Into<PathBuf>) -> Concat {
        let mut at = 0u64;
        let pieces = pieces
            .into_iter()
            .filter(|p| !p.is_empty())
            .map(|p| {
                let start = at;
                at += p.len();
                (start, p)
            })
            .collect();
        Concat {
            pieces,
            len: at,
            path: path.into(),
        }
    }

    /// The pieces with their start offsets.
    pub fn pieces(&self) -> impl Iterator<Item = (u64, &Piece)> {
        self.pieces.iter().map(|(s, p)| (*s, p))
    }

    /// The piece holding byte `offset` (which must be below the length): its index.
    fn index_of(&self, offset: u64) -> usize {
        self.pieces.partition_point(|(s, _)| *s <= offset) - 1
    }
}

impl ByteSource for Concat {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let mut done = 0usize;
        while done < buf.len() {
            let at = offset + done as u64;
            if at >= self.len {
                break;
            }
            let (start, piece) = &self.pieces[self.index_of(at)];
            let within = at - start;
            let want = (buf.len() - done).min((piece.len() - within) as usize);
            let dst = &mut buf[done..done + want];
            match piece {
                Piece::Source(s) => s.read_exact_at(dst, within)?,
                Piece::Data(d) => dst.copy_from_slice(&d[within as usize..within as usize + want]),
                Piece::Zeros(_) => dst.fill(0),
            }
            done += want;
        }
        Ok(done)
    }

    fn path(&self) -> &Path {
        &self.path
    }

    fn backing(&self, offset: u64, len: u64) -> Option<Backing<'_>> {
        if offset >= self.len || len == 0 {
            return None;
        }
        let (start, piece) = &self.pieces[self.index_of(offset)];
        let within = offset - start;
        match piece {
            Piece::Source(s) => s.backing(within, len.min(piece.len() - within)),
            _ => None,
        }
    }

    /// A concatenation of one source is that source's plain file, if it has one.
    fn plain_file(&self) -> Option<&std::fs::File> {
        match self.pieces.as_slice() {
            [(_, Piece::Source(s))] => s.plain_file(),
            _ => None,
        }
    }

    fn runs(&self, offset: u64, len: u64) -> Vec<Run> {
        let end = offset.saturating_add(len).min(self.len);
        let mut out = Vec::new();
        let mut at = offset;
        while at < end {
            let (start, piece) = &self.pieces[self.index_of(at)];
            let within = at - start;
            let take = (piece.len() - within).min(end - at);
            match piece {
                Piece::Source(s) => {
                    for r in s.runs(within, take) {
                        push_run(&mut out, r);
                    }
                }
                Piece::Data(_) => push_run(
                    &mut out,
                    Run {
                        len: take,
                        stored: true,
                        zero: false,
                    },
                ),
                Piece::Zeros(_) => push_run(
                    &mut out,
                    Run {
                        len: take,
                        stored: false,
                        zero: true,
                    },
                ),
            }
            at += take;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemSource;

    fn mem(b: &[u8]) -> Piece {
        Piece::Source(Arc::new(MemSource::new(b.to_vec(), "m")))
    }

    #[test]
    fn reads_across_pieces() {
        let c = Concat::new(
            [
                Piece::Data(Arc::from(&b"ab"[..])),
                Piece::Zeros(3),
                mem(b"xyz"),
                Piece::Zeros(0),
            ],
            "c",
        );
        assert_eq!(c.len(), 8);
        let mut buf = [9u8; 10];
        assert_eq!(c.read_at(&mut buf, 1).unwrap(), 7);
        assert_eq!(&buf[..7], b"b\0\0\0xyz");
        assert_eq!(c.read_at(&mut buf, 8).unwrap(), 0);
        assert!(c.read_exact_at(&mut buf[..2], 7).is_err());
    }

    #[test]
    fn runs_merge_and_clip() {
        let c = Concat::new(
            [
                mem(b"ab"),
                Piece::Data(Arc::from(&b"cd"[..])),
                Piece::Zeros(4),
                Piece::Zeros(2),
            ],
            "c",
        );
        assert_eq!(
            c.runs(1, 100),
            vec![
                Run {
                    len: 3,
                    stored: true,
                    zero: false
                },
                Run {
                    len: 6,
                    stored: false,
                    zero: true
                }
            ]
        );
        assert!(c.runs(10, 5).is_empty());
    }

    #[test]
    fn backing_goes_through_to_a_file() {
        use std::io::Write;
        struct F(std::fs::File);
        impl ByteSource for F {
            fn len(&self) -> u64 {
                4
            }
            fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
                std::os::unix::fs::FileExt::read_at(&self.0, buf, offset)
            }
            fn backing(&self, offset: u64, len: u64) -> Option<Backing<'_>> {
                Some(Backing {
                    file: &self.0,
                    offset,
                    len: len.min(4 - offset),
                })
            }
        }
        let mut t = tempfile::tempfile().unwrap();
        t.write_all(b"wxyz").unwrap();
        let c = Concat::new([Piece::Zeros(2), Piece::Source(Arc::new(F(t)))], "c");
        assert!(c.backing(0, 6).is_none());
        let b = c.backing(3, 10).unwrap();
        assert_eq!((b.offset, b.len), (1, 3));
        assert!(c.plain_file().is_none());
    }
}
