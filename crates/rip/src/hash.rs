//! CRC32, MD5 and SHA-1 of a stream of bytes, and the `<rom>` lines redump datfiles list per
//! track file.

use crate::chosen::{Crc, Sha1};
use md5::{Digest as _, Md5};

/// The three digests of one file, computed as its bytes go by.
#[derive(Clone)]
pub struct Hasher {
    crc: Crc,
    md5: Md5,
    sha1: Sha1,
    size: u64,
}

impl Default for Hasher {
    fn default() -> Hasher {
        Hasher::new()
    }
}

/// Finished digests, lower-case hex.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Digests {
    /// Bytes hashed.
    pub size: u64,
    /// CRC-32, 8 hex digits.
    pub crc32: String,
    /// MD5, 32 hex digits.
    pub md5: String,
    /// SHA-1, 40 hex digits.
    pub sha1: String,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Hasher {
    /// Hashes with nothing fed yet.
    pub fn new() -> Hasher {
        Hasher {
            crc: Crc::new(),
            md5: Md5::new(),
            sha1: Sha1::new(),
            size: 0,
        }
    }

    /// Feeds `data` to all three digests.
    pub fn update(&mut self, data: &[u8]) {
        self.crc.update(data);
        self.md5.update(data);
        self.sha1.update(data);
        self.size += data.len() as u64;
    }

    /// The digests of every byte fed.
    pub fn finish(self) -> Digests {
        Digests {
            size: self.size,
            crc32: format!("{:08x}", self.crc.finalize()),
            md5: hex(&self.md5.finalize()),
            sha1: hex(&self.sha1.finalize()),
        }
    }

    /// The digests of a file read from the start (`len` bytes from `offset`, or to its end).
    pub fn of_file(
        path: &std::path::Path,
        offset: u64,
        len: Option<u64>,
    ) -> std::io::Result<Digests> {
        use std::io::{Read, Seek, SeekFrom};
        let mut f = std::fs::File::open(path)?;
        f.seek(SeekFrom::Start(offset))?;
        let mut left = len.unwrap_or(u64::MAX);
        let mut h = Hasher::new();
        let mut buf = vec![0u8; 1 << 20];
        while left > 0 {
            let want = (buf.len() as u64).min(left) as usize;
            let n = f.read(&mut buf[..want])?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
            left -= n as u64;
        }
        Ok(h.finish())
    }
}

/// The three digests on two threads of their own, fed shared buffers without a copy (a copy
/// costs as much as a digest where memory is slow, as in an emulated machine): SHA-1, the
/// slowest, on one; CRC-32 and MD5, which together take about as long, on the other; the
/// caller goes on reading meanwhile. (Three threads beside the reader on two vCPUs measured
/// worse in the TCG VM: 0.90–0.91x dd against 0.96–1.01x, from more context switches.)
pub struct StreamHasher {
    feeds: Vec<std::sync::mpsc::Sender<crate::buffers::SharedBuf>>,
    crc_md5: std::thread::JoinHandle<(Crc, Md5)>,
    sha1: std::thread::JoinHandle<Sha1>,
    size: u64,
}

impl StreamHasher {
    /// Starts the hashing threads (one for CRC-32 and MD5, one for SHA-1); fails when a
    /// thread cannot be spawned.
    pub fn start() -> std::io::Result<StreamHasher> {
        use crate::buffers::SharedBuf;
        use std::sync::mpsc::{Receiver, channel};
        fn spawn<H: Send + 'static>(
            name: &str,
            mut h: H,
            rx: Receiver<SharedBuf>,
            update: fn(&mut H, &[u8]),
        ) -> std::io::Result<std::thread::JoinHandle<H>> {
            std::thread::Builder::new()
                .name(name.into())
                .spawn(move || {
                    for data in rx {
                        update(&mut h, &data);
                    }
                    h
                })
        }
        let (crc_tx, crc_rx) = channel();
        let (sha1_tx, sha1_rx) = channel();
        Ok(StreamHasher {
            crc_md5: spawn("crc32+md5", (Crc::new(), Md5::new()), crc_rx, |h, d| {
                h.0.update(d);
                h.1.update(d);
            })?,
            sha1: spawn("sha1", Sha1::new(), sha1_rx, |h, d| h.update(d))?,
            feeds: vec![crc_tx, sha1_tx],
            size: 0,
        })
    }

    /// Adds `data` (the threads drop their handles when done).
    pub fn update(&mut self, data: &crate::buffers::SharedBuf) {
        for f in &self.feeds {
            // A thread that is gone (it panicked) shows in `finish`.
            let _ = f.send(data.clone());
        }
        self.size += data.len() as u64;
    }

    /// Waits for the threads; `None` if one of them died.
    pub fn finish(self) -> Option<Digests> {
        drop(self.feeds);
        let ((crc, md5), sha1) = (self.crc_md5.join().ok()?, self.sha1.join().ok()?);
        Some(Digests {
            size: self.size,
            crc32: format!("{:08x}", crc.finalize()),
            md5: hex(&md5.finalize()),
            sha1: hex(&sha1.finalize()),
        })
    }
}

/// Per-track digests of a disc's track files in redump's form
/// ([`spindle_disc::track_files()`], the definition `spindle verify` uses too): raw 2352-byte
/// sectors of a CD from each track's pregap, track 1 from LBA 0; DVD/BD user data.
pub fn track_digests(disc: &spindle_disc::Disc) -> spindle_disc::Result<Vec<(u8, Digests)>> {
    Ok(disc_digests(disc)?.0)
}

/// The track digests of [`track_digests`] and, in the same pass, the digest of the whole
/// image as one file of those sectors (every track's sectors in order: a single-BIN dump of
/// a CD, the ISO of a DVD).
pub fn disc_digests(
    disc: &spindle_disc::Disc,
) -> spindle_disc::Result<(Vec<(u8, Digests)>, Digests)> {
    disc_digests_as(disc, disc.medium.is_cd())
}

/// [`disc_digests`] of raw 2352-byte sectors (`raw`) or of 2048-byte user data (a CD read
/// as user data, whose raw sectors would be made up).
pub fn disc_digests_as(
    disc: &spindle_disc::Disc,
    raw: bool,
) -> spindle_disc::Result<(Vec<(u8, Digests)>, Digests)> {
    let files = spindle_disc::track_files(disc);
    let mut hashers: Vec<Hasher> = files.iter().map(|_| Hasher::new()).collect();
    let mut whole = Hasher::new();
    spindle_disc::read_track_files(disc, raw, &mut |i, _, bytes| {
        hashers[i].update(bytes);
        whole.update(bytes);
    })?;
    let out = files
        .iter()
        .zip(hashers)
        .map(|(f, h)| (f.track, h.finish()))
        .collect();
    Ok((out, whole.finish()))
}

impl Digests {
    /// The datfile line for a file: `<rom name="..." size="..." crc="..." md5="..." sha1="..."/>`,
    /// with `name` escaped ([`crate::datfile::xml_escape`]). `spindle rip` and `spindle verify` both print it.
    pub fn rom_line(&self, name: &str) -> String {
        format!(
            "<rom name=\"{}\" size=\"{}\" crc=\"{}\" md5=\"{}\" sha1=\"{}\"/>",
            crate::datfile::xml_escape(name),
            self.size,
            self.crc32,
            self.md5,
            self.sha1
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        let mut h = Hasher::new();
        h.update(b"The quick brown fox ");
        h.update(b"jumps over the lazy dog");
        let d = h.finish();
        assert_eq!(d.crc32, "414fa339");
        assert_eq!(d.md5, "9e107d9d372bb6826bd81d3542a419d6");
        assert_eq!(d.sha1, "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12");
        assert_eq!(d.size, 43);
        assert_eq!(
            d.rom_line("A & B (Track 1).bin"),
            "<rom name=\"A &amp; B (Track 1).bin\" size=\"43\" crc=\"414fa339\" md5=\"9e107d9d372bb6826bd81d3542a419d6\" sha1=\"2fd4e1c67a2d28fced849ee1bb76e7391b93eb12\"/>"
        );
    }
}
