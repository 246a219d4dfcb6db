//! Finding the samples of a `FILE ... WAVE`.
//!
//! A RIFF WAVE file is `RIFF <size> WAVE` followed by chunks (`id`, little-endian `u32` size,
//! data padded to an even length). Cue sheets index the samples of the `data` chunk, which
//! must be CD audio: PCM (format tag 1, or WAVE_FORMAT_EXTENSIBLE 0xFFFE with the PCM
//! sub-format), 2 channels, 44100 Hz, 16 bits. Samples are little-endian, like CD audio, so
//! the `data` chunk is used in place as 2352-byte sectors.
//!
//! Quirks: a `data` size of 0 or 0xFFFFFFFF (written by streaming encoders that never went
//! back to fix the header) or one that runs past the end of the file means "to the end of
//! the file".

use spindle_disc::ByteSource;

/// Where the samples are: a byte range of the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaveData {
    /// Byte offset of the first sample.
    pub offset: u64,
    /// Bytes of samples.
    pub len: u64,
}

/// Chunks walked before giving up (a hostile file could hold millions of tiny ones).
const MAX_CHUNKS: usize = 4096;

/// Finds the `data` chunk of a CD-audio WAVE file; the error says what is wrong.
pub fn find_data(src: &dyn ByteSource) -> Result<WaveData, String> {
    let file_len = src.len();
    let read = |offset: u64, buf: &mut [u8]| {
        src.read_exact_at(buf, offset)
            .map_err(|e| format!("reading the WAVE header at offset {offset}: {e}"))
    };
    let mut head = [0u8; 12];
    if file_len < 12 {
        return Err(format!("{file_len} bytes is too short for a WAVE file"));
    }
    read(0, &mut head)?;
    if &head[0..4] != b"RIFF" || &head[8..12] != b"WAVE" {
        return Err("not a RIFF WAVE file (no RIFF/WAVE header)".into());
    }
    let mut format_ok = false;
    let mut offset: u64 = 12;
    for _ in 0..MAX_CHUNKS {
        if offset.saturating_add(8) > file_len {
            break;
        }
        let mut hdr = [0u8; 8];
        read(offset, &mut hdr)?;
        let size = u32::from_le_bytes([hdr[4], hdr[5], hdr[6], hdr[7]]) as u64;
        let body = offset + 8;
        match &hdr[0..4] {
            b"fmt " => {
                let mut fmt = [0u8; 40];
                let n = size.min(40).min(file_len - body) as usize;
                if n < 16 {
                    return Err(format!("the fmt chunk is {size} bytes, too short"));
                }
                read(body, &mut fmt[..n])?;
                check_format(&fmt[..n])?;
                format_ok = true;
            }
            b"data" => {
                if !format_ok {
                    return Err("the data chunk comes before any fmt chunk".into());
                }
                let left = file_len - body;
                let len = if size == 0 || size == 0xFFFF_FFFF || size > left {
                    left
                } else {
                    size
                };
                return Ok(WaveData { offset: body, len });
            }
            _ => {}
        }
        offset = body.saturating_add(size).saturating_add(size & 1);
    }
    Err("no data chunk".into())
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

/// Checks a `fmt ` chunk body (at least 16 bytes) for 16-bit stereo 44.1 kHz PCM.
fn check_format(fmt: &[u8]) -> Result<(), String> {
    let mut tag = u16_at(fmt, 0);
    let channels = u16_at(fmt, 2);
    let rate = u32::from_le_bytes([fmt[4], fmt[5], fmt[6], fmt[7]]);
    let bits = u16_at(fmt, 14);
    // WAVE_FORMAT_EXTENSIBLE: the real format is the first two bytes of the sub-format GUID.
    if tag == 0xFFFE && fmt.len() >= 26 {
        tag = u16_at(fmt, 24);
    }
    if tag == 1 && channels == 2 && rate == 44100 && bits == 16 {
        return Ok(());
    }
    let what = if tag == 1 {
        "PCM".to_string()
    } else {
        format!("format 0x{tag:04X} (not PCM)")
    };
    Err(format!(
        "CD audio must be PCM 16-bit stereo 44100 Hz; this WAVE file is {what}, {bits}-bit, {channels} channel(s), {rate} Hz"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test's WAV bytes as a file.
    fn mem(v: Vec<u8>) -> spindle_disc::MemSource {
        spindle_disc::MemSource::new(v, "mem.wav")
    }

    fn wav(channels: u16, rate: u32, bits: u16, extra_chunk: bool, data: &[u8]) -> Vec<u8> {
        let mut v = b"RIFF\0\0\0\0WAVE".to_vec();
        if extra_chunk {
            v.extend_from_slice(b"LIST\x03\0\0\0abc\0");
        }
        v.extend_from_slice(b"fmt \x10\0\0\0");
        v.extend_from_slice(&1u16.to_le_bytes());
        v.extend_from_slice(&channels.to_le_bytes());
        v.extend_from_slice(&rate.to_le_bytes());
        v.extend_from_slice(&(rate * 4).to_le_bytes());
        v.extend_from_slice(&4u16.to_le_bytes());
        v.extend_from_slice(&bits.to_le_bytes());
        v.extend_from_slice(b"data");
        v.extend_from_slice(&(data.len() as u32).to_le_bytes());
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn finds_data_after_other_chunks() {
        let w = wav(2, 44100, 16, true, &[7; 100]);
        let d = find_data(&mem(w.clone())).unwrap();
        assert_eq!(d.len, 100);
        assert_eq!(&w[d.offset as usize..], &[7; 100][..]);
    }

    #[test]
    fn rejects_other_formats_and_garbage() {
        let e = find_data(&mem(wav(1, 22050, 8, false, &[0; 4]))).unwrap_err();
        assert!(e.contains("1 channel") && e.contains("22050"), "{e}");
        assert!(find_data(&mem(b"RIFF\0\0\0\0WAVEdata\x04\0\0\0abcd".to_vec())).is_err());
        assert!(find_data(&mem(b"RIFF\0\0\0\0WAVEfmt \xff\xff\xff\xff".to_vec())).is_err());
        assert!(find_data(&mem(b"ID3 mp3".to_vec())).is_err());
        assert!(find_data(&mem(b"RIFF\0\0\0\0WAVE".to_vec())).is_err());
    }
}
