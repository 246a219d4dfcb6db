//! Shared by the tests: opening an image held in memory, and a writer of CDI images following the
//! layout the reader implements (`docs/cdi.md`), for the paths the sample does not take.
#![allow(dead_code)]

use spindle_disc::MemSource;
use std::path::PathBuf;
use std::sync::Arc;

pub fn open_mem(
    data: Vec<u8>,
    name: &str,
) -> Result<spindle_disc::Disc, spindle_format_cdi::CdiError> {
    let path = PathBuf::from(name);
    spindle_format_cdi::open_source(Arc::new(MemSource::new(data, path.clone())), &path)
}

pub const MARK: [u8; 10] = [0, 0, 1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF];

/// One track to write.
#[derive(Clone)]
pub struct T {
    pub mode: u32,
    pub read_mode: u32,
    /// Start field: pregap start + 150.
    pub start: u32,
    pub index_lengths: Vec<u32>,
    pub control: u32,
    pub isrc: Option<&'static [u8; 12]>,
    pub cdtext: Vec<Vec<&'static [u8]>>,
    /// Non-zero lead-in u32 (DiscJuggler 4): 8 more bytes follow.
    pub dj4_lead: bool,
    /// Short tail (9 bytes, before DiscJuggler 3.00.780).
    pub short_tail: bool,
}

impl T {
    pub fn new(mode: u32, read_mode: u32, start: u32, index_lengths: &[u32]) -> T {
        T {
            mode,
            read_mode,
            start,
            index_lengths: index_lengths.to_vec(),
            control: if mode == 0 { 0 } else { 4 },
            isrc: None,
            cdtext: Vec::new(),
            dj4_lead: false,
            short_tail: false,
        }
    }
    pub fn total(&self) -> u32 {
        self.index_lengths.iter().sum()
    }
    pub fn stride(&self) -> usize {
        [2048, 2336, 2352, 2368, 2448][self.read_mode as usize]
    }
}

fn u32le(v: &mut Vec<u8>, x: u32) {
    v.extend_from_slice(&x.to_le_bytes());
}

fn head(v: &mut Vec<u8>, dj4: bool, tracks: u8) {
    if dj4 {
        u32le(v, 1);
        v.extend_from_slice(&[0; 8]);
    } else {
        u32le(v, 0);
    }
    v.extend_from_slice(&MARK);
    v.extend_from_slice(&MARK);
    v.extend_from_slice(&[0xAB, 0, 0x10, tracks]);
    let name = b"C:\\x.iso";
    v.push(name.len() as u8);
    v.extend_from_slice(name);
    v.extend_from_slice(&[0; 11]);
    v.extend_from_slice(&[2, 0, 0, 0]);
    v.extend_from_slice(&[0; 4]);
    u32le(v, 0x8000_0000);
    u32le(v, 0x57E40);
    v.extend_from_slice(&[0, 0, 0x98, 0]);
}

/// The descriptor for `sessions` (track data not included).
pub fn descriptor(
    version: u32,
    sessions: &[Vec<T>],
    mcn: Option<&[u8; 13]>,
    cdtext: &[u8],
) -> Vec<u8> {
    let all: u8 = sessions.iter().map(|s| s.len() as u8).sum();
    let mut v = Vec::new();
    v.extend_from_slice(&(sessions.len() as u16).to_le_bytes());
    for (si, s) in sessions.iter().enumerate() {
        v.extend_from_slice(&(s.len() as u16).to_le_bytes());
        for (ti, t) in s.iter().enumerate() {
            head(&mut v, t.dj4_lead, all);
            v.extend_from_slice(&(t.index_lengths.len() as u16).to_le_bytes());
            for &i in &t.index_lengths {
                u32le(&mut v, i);
            }
            u32le(&mut v, t.cdtext.len() as u32);
            for block in &t.cdtext {
                for f in 0..18 {
                    let text = block.get(f).copied().unwrap_or(b"");
                    v.push(text.len() as u8);
                    v.extend_from_slice(text);
                }
            }
            v.extend_from_slice(&[0, 0]);
            u32le(&mut v, t.mode);
            u32le(&mut v, 0);
            u32le(&mut v, si as u32);
            u32le(&mut v, ti as u32);
            u32le(&mut v, t.start);
            u32le(&mut v, t.total());
            v.extend_from_slice(&[0; 16]);
            u32le(&mut v, t.read_mode);
            u32le(&mut v, t.control);
            v.push(0);
            u32le(&mut v, t.total());
            u32le(&mut v, 0);
            v.extend_from_slice(t.isrc.map(|i| &i[..]).unwrap_or(&[0; 12]));
            u32le(&mut v, t.isrc.is_some() as u32);
            if version != 0x8000_0004 {
                if t.short_tail {
                    v.extend_from_slice(&[0; 9]);
                } else {
                    v.extend_from_slice(&[0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
                    v.extend_from_slice(&[0; 78]);
                }
            }
        }
        // Session footer: type, zeros, the last track's start.
        let mut footer = vec![0u8; if version == 0x8000_0004 { 12 } else { 13 }];
        footer[0] = if s.iter().any(|t| t.mode == 2) {
            2
        } else if s.iter().any(|t| t.mode == 1) {
            1
        } else {
            0
        };
        footer[8..12].copy_from_slice(&s.last().unwrap().start.to_le_bytes());
        v.extend_from_slice(&footer);
    }
    // The empty session and the disc block.
    v.extend_from_slice(&[0, 0]);
    head(&mut v, false, all);
    u32le(&mut v, 1234);
    v.push(4);
    v.extend_from_slice(b"TEST");
    v.extend_from_slice(&[0, 1, 0, 0, 0, 1, 0, 0, 0]);
    v.extend_from_slice(mcn.map(|m| &m[..]).unwrap_or(&[0; 13]));
    u32le(&mut v, mcn.is_some() as u32);
    u32le(&mut v, cdtext.len() as u32);
    v.extend_from_slice(cdtext);
    v.extend_from_slice(&[0; 8]);
    v
}

/// A whole image: `data` (the track data), the descriptor and the footer.
pub fn image(version: u32, data: &[u8], descriptor: &[u8]) -> Vec<u8> {
    let mut v = data.to_vec();
    let start = v.len() as u32;
    v.extend_from_slice(descriptor);
    u32le(&mut v, version);
    let offset = if version == 0x8000_0006 {
        descriptor.len() as u32 + 8
    } else {
        start
    };
    u32le(&mut v, offset);
    v
}

/// Track data: sector `i` of track `t` (counted over the whole image) is filled with a
/// pattern naming both, `stride` bytes.
pub fn track_data(tracks: &[&T]) -> Vec<u8> {
    let mut v = Vec::new();
    for (n, t) in tracks.iter().enumerate() {
        for i in 0..t.total() {
            let s = t.stride();
            v.extend((0..s).map(|b| (b as u32 ^ i.wrapping_mul(7) ^ (n as u32) << 5) as u8));
        }
    }
    v
}
