//! CD-TEXT: titles and names for the disc and each track, in up to 8 language blocks.
//!
//! Stored on a disc as 18-byte packs in the lead-in (MMC READ TOC format 5; CUE
//! `CDTEXTFILE`; `.cdt` files): type, track, sequence number, block/character position,
//! 12 bytes of text, CRC-16 (the Q channel's, inverted, big-endian). Strings are
//! NUL-terminated and run on from pack to pack; a lone TAB repeats the previous track's text.

use crate::subchannel::crc16;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The text items a pack type carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum CdTextField {
    /// Title of the disc or track (pack type 0x80).
    Title,
    /// Performer (pack type 0x81).
    Performer,
    /// Songwriter (pack type 0x82).
    Songwriter,
    /// Composer (pack type 0x83).
    Composer,
    /// Arranger (pack type 0x84).
    Arranger,
    /// Message from the content provider or artist (pack type 0x85).
    Message,
    /// UPC/EAN for the disc, ISRC for tracks.
    UpcIsrc,
}

impl CdTextField {
    /// The fields that hold text (all but UPC/ISRC), as CUE sheets write them.
    pub const TEXT: [CdTextField; 6] = [
        CdTextField::Title,
        CdTextField::Performer,
        CdTextField::Songwriter,
        CdTextField::Composer,
        CdTextField::Arranger,
        CdTextField::Message,
    ];
    /// Every field this model keeps, text fields first.
    pub const ALL: [CdTextField; 7] = [
        CdTextField::Title,
        CdTextField::Performer,
        CdTextField::Songwriter,
        CdTextField::Composer,
        CdTextField::Arranger,
        CdTextField::Message,
        CdTextField::UpcIsrc,
    ];

    /// The pack type byte (first byte of an 18-byte pack) that carries the field.
    pub fn pack_type(self) -> u8 {
        match self {
            CdTextField::Title => 0x80,
            CdTextField::Performer => 0x81,
            CdTextField::Songwriter => 0x82,
            CdTextField::Composer => 0x83,
            CdTextField::Arranger => 0x84,
            CdTextField::Message => 0x85,
            CdTextField::UpcIsrc => 0x8E,
        }
    }
    /// The field a pack type byte carries; `None` for pack types this model does not keep.
    pub fn from_pack_type(t: u8) -> Option<CdTextField> {
        CdTextField::ALL.into_iter().find(|f| f.pack_type() == t)
    }
    /// The CUE sheet keyword.
    pub fn cue_keyword(self) -> &'static str {
        match self {
            CdTextField::Title => "TITLE",
            CdTextField::Performer => "PERFORMER",
            CdTextField::Songwriter => "SONGWRITER",
            CdTextField::Composer => "COMPOSER",
            CdTextField::Arranger => "ARRANGER",
            CdTextField::Message => "MESSAGE",
            CdTextField::UpcIsrc => "UPC_EAN",
        }
    }
}

/// One language block: text per track (0 = the disc).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CdTextBlock {
    /// Language code (0x09 = English, 0x00 = unknown).
    pub language: u8,
    /// Character set: 0x00 ISO 8859-1, 0x01 ASCII, 0x80 MS-JIS.
    pub charset: u8,
    /// The text, keyed by track number (0 = the disc) and field.
    pub items: BTreeMap<(u8, CdTextField), String>,
}

impl CdTextBlock {
    /// The text of `field` for `track` (0 = the disc), if set.
    pub fn get(&self, track: u8, field: CdTextField) -> Option<&str> {
        self.items.get(&(track, field)).map(String::as_str)
    }
    /// Sets the text of `field` for `track` (0 = the disc), replacing any previous text.
    pub fn set(&mut self, track: u8, field: CdTextField, text: String) {
        self.items.insert((track, field), text);
    }
}

/// All CD-TEXT of a disc.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CdText {
    /// The language blocks, in block order (at most 8).
    pub blocks: Vec<CdTextBlock>,
}

/// Why CD-TEXT packs could not be decoded or encoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CdTextError {
    /// The data's length (bytes) is not a multiple of 18.
    #[error("CD-TEXT data is {0} bytes, not a whole number of 18-byte packs")]
    Length(usize),
    /// The pack at this index fails its CRC-16.
    #[error("CD-TEXT pack {0} has a bad CRC")]
    Crc(usize),
    /// Encoding needs this many packs, more than an 8-bit sequence number can count.
    #[error("CD-TEXT needs {0} packs; sequence numbers allow at most 256")]
    TooLarge(usize),
}

impl CdText {
    /// The first block (the one players show).
    pub fn first(&self) -> Option<&CdTextBlock> {
        self.blocks.first()
    }

    /// Decodes packs. A 4-byte header (length + 2 reserved, as READ TOC and some `.cdt`
    /// files have) is skipped; a trailing NUL byte some writers add is ignored. With
    /// `check_crc`, a pack whose CRC does not match is an error.
    pub fn from_packs(data: &[u8], check_crc: bool) -> Result<CdText, CdTextError> {
        let mut d = data;
        if d.len() % 18 == 4 || (d.len() % 18 == 5 && d.last() == Some(&0)) {
            d = &d[4..];
        }
        if d.len() % 18 == 1 && d.last() == Some(&0) {
            d = &d[..d.len() - 1];
        }
        if !d.len().is_multiple_of(18) {
            return Err(CdTextError::Length(data.len()));
        }
        let mut streams: BTreeMap<(u8, u8), (u8, Vec<u8>)> = BTreeMap::new();
        let mut sizes: BTreeMap<u8, Vec<u8>> = BTreeMap::new();
        for (i, p) in d.chunks_exact(18).enumerate() {
            if check_crc && crc16(&p[..16]).to_be_bytes() != [p[16], p[17]] {
                return Err(CdTextError::Crc(i));
            }
            let block = (p[3] >> 4) & 7;
            if p[0] == 0x8F {
                sizes.entry(block).or_default().extend_from_slice(&p[4..16]);
                continue;
            }
            if CdTextField::from_pack_type(p[0]).is_none() {
                continue;
            }
            let e = streams
                .entry((block, p[0]))
                .or_insert_with(|| (p[1] & 0x7F, Vec::new()));
            e.1.extend_from_slice(&p[4..16]);
        }
        let mut blocks: BTreeMap<u8, CdTextBlock> = BTreeMap::new();
        for ((block, ty), (first_track, bytes)) in streams {
            let b = blocks.entry(block).or_default();
            let field = CdTextField::from_pack_type(ty).unwrap();
            let mut track = first_track;
            let mut prev = String::new();
            let mut parts: Vec<&[u8]> = bytes.split(|&c| c == 0).collect();
            // The text after the last NUL is padding.
            parts.pop();
            for part in parts {
                let text = if part == b"\t" {
                    prev.clone()
                } else {
                    part.iter().map(|&c| c as char).collect()
                };
                if !text.is_empty() {
                    b.set(track, field, text.clone());
                }
                prev = text;
                track = track.saturating_add(1);
            }
        }
        for (block, info) in sizes {
            if info.len() >= 36 {
                let b = blocks.entry(block).or_default();
                b.charset = info[0];
                b.language = info[28 + block as usize];
            }
        }
        Ok(CdText {
            blocks: blocks.into_values().collect(),
        })
    }

    /// Encodes packs (no header), with size information packs and CRCs, for tracks
    /// `first_track..=last_track`. Fails when the text needs more than 256 packs.
    pub fn to_packs(&self, first_track: u8, last_track: u8) -> Result<Vec<u8>, CdTextError> {
        let mut out = Vec::new();
        let nblocks = self.blocks.len().min(8);
        let mut seq: u8 = 0;
        let mut last_seq = [0u8; 8];
        for (bi, b) in self.blocks.iter().take(8).enumerate() {
            let mut counts = [0usize; 16];
            for field in CdTextField::ALL {
                if !b.items.keys().any(|(_, f)| *f == field) {
                    continue;
                }
                // Disc text first, then each track.
                let mut strings: Vec<(u8, &[u8])> = Vec::new();
                for t in std::iter::once(0).chain(first_track..=last_track) {
                    strings.push((t, b.get(t, field).map(str::as_bytes).unwrap_or(b"")));
                }
                let mut stream: Vec<(u8, u8)> = Vec::new(); // (track, char position) per byte
                let mut bytes = Vec::new();
                for (t, s) in &strings {
                    for (ci, &c) in s.iter().chain(std::iter::once(&0u8)).enumerate() {
                        bytes.push(c);
                        stream.push((*t, ci.min(15) as u8));
                    }
                }
                for (ci, chunk) in bytes.chunks(12).enumerate() {
                    let (track, pos) = stream[ci * 12];
                    let mut p = [0u8; 18];
                    p[0] = field.pack_type();
                    p[1] = track;
                    p[2] = seq;
                    p[3] = ((bi as u8) << 4) | pos;
                    p[4..4 + chunk.len()].copy_from_slice(chunk);
                    seal(&mut p);
                    out.extend_from_slice(&p);
                    seq = seq.wrapping_add(1);
                    counts[(field.pack_type() - 0x80) as usize] += 1;
                }
            }
            counts[15] = 3;
            last_seq[bi] = seq.wrapping_add(2);
            let mut info = [0u8; 36];
            info[0] = b.charset;
            info[1] = first_track;
            info[2] = last_track;
            for (slot, &c) in info[4..20].iter_mut().zip(counts.iter()) {
                *slot = c.min(255) as u8;
            }
            for (i, blk) in self.blocks.iter().take(nblocks).enumerate() {
                info[28 + i] = blk.language;
            }
            // last_seq for this block (and earlier ones) is known only now.
            info[20..28].copy_from_slice(&last_seq);
            for k in 0..3 {
                let mut p = [0u8; 18];
                p[0] = 0x8F;
                p[1] = k as u8;
                p[2] = seq;
                p[3] = (bi as u8) << 4;
                p[4..16].copy_from_slice(&info[k * 12..k * 12 + 12]);
                seal(&mut p);
                out.extend_from_slice(&p);
                seq = seq.wrapping_add(1);
            }
        }
        let packs = out.len() / 18;
        if packs > 256 {
            Err(CdTextError::TooLarge(packs))
        } else {
            Ok(out)
        }
    }
}

fn seal(p: &mut [u8; 18]) {
    let c = crc16(&p[..16]);
    p[16..18].copy_from_slice(&c.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_round_trip() {
        let mut b = CdTextBlock {
            language: 9,
            charset: 0,
            ..Default::default()
        };
        b.set(
            0,
            CdTextField::Title,
            "Join us now we have the software".into(),
        );
        b.set(0, CdTextField::Performer, "Richard Stallman".into());
        b.set(1, CdTextField::Title, "Soft".into());
        b.set(
            2,
            CdTextField::Title,
            "A title long enough to span several packs".into(),
        );
        let t = CdText { blocks: vec![b] };
        let packs = t.to_packs(1, 2).unwrap();
        assert_eq!(packs.len() % 18, 0);
        let back = CdText::from_packs(&packs, true).unwrap();
        assert_eq!(back, t);
        let mut broken = packs.clone();
        broken[5] ^= 1;
        assert_eq!(CdText::from_packs(&broken, true), Err(CdTextError::Crc(0)));
        // 99 tracks of long titles need more packs than sequence numbers allow.
        let mut big = CdTextBlock::default();
        for t in 1..=99 {
            big.set(t, CdTextField::Title, "x".repeat(100));
        }
        assert!(matches!(
            CdText { blocks: vec![big] }.to_packs(1, 99),
            Err(CdTextError::TooLarge(_))
        ));
    }
}
