//! MDS v2 and MDX (DAEMON Tools): locating, decrypting and inflating the descriptor, and the
//! data encryption header (formats.md §1.1–1.5).
//!
//! - MDS v2: header (48 bytes), encrypted descriptor from 0x30 up to the main encryption
//!   header, whose offset the header gives; track data in `.mdf` files.
//! - MDX: header, then the offset and length of the "footer" (encrypted descriptor + the
//!   64-byte salt of the main encryption header, whose other 448 bytes run to the end of the
//!   file); track data inside the MDX.
//!
//! The main header always opens with the salt-derived password. The data encryption header
//! (at the end of the descriptor) opens with the salt-derived password for password-less
//! (TAGES) images, else with the user's password.

use crate::MAX_DESCRIPTOR_BYTES;
use crate::build::{BuildContext, build};
use crate::crypto::{self, HeaderCipher, HeaderKeys};
use crate::descriptor::{self, Descriptor, Version};
use crate::error::{MdsError, Result};
use crate::le::{Bytes, Le};
use flate2::read::ZlibDecoder;
use spindle_disc::{ByteSource, Disc, OpenContext};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

/// MDX: the value of the encryption header offset field.
pub const MDX_MARKER: u32 = 0xFFFF_FFFF;
/// Prefix of the file header that is put before the inflated descriptor.
pub const PREFIX: usize = 18;

/// A decrypted and inflated descriptor and what it came from.
pub struct Decoded {
    /// Which member of the family the file is.
    pub version: Version,
    /// Prefix + inflated descriptor.
    pub descriptor: Vec<u8>,
}

/// Where the parts of a v2 file are: (descriptor offset, descriptor length, header offset).
pub fn locate(head: &[u8], file_len: u64, path: &Path) -> Result<(bool, u64, u64, u64)> {
    let corrupt = |message: String| MdsError::Corrupt {
        path: path.to_path_buf(),
        message,
    };
    if head.len() < 0x40 {
        return Err(corrupt("too short for an MDS v2/MDX header".into()));
    }
    let enc = head.u32_at(0x2C);
    let (mdx, desc_off, desc_len, hdr_off) = if enc == MDX_MARKER {
        let foot_off = head.u64_at(0x30);
        let foot_len = head.u64_at(0x38);
        if foot_len < 64 || foot_off.checked_add(foot_len).is_none() {
            return Err(corrupt(format!(
                "MDX footer at {foot_off} of {foot_len} bytes"
            )));
        }
        (true, foot_off, foot_len - 64, foot_off + foot_len - 64)
    } else {
        if enc < 0x30 {
            return Err(corrupt(format!(
                "encryption header offset {enc} lies inside the file header"
            )));
        }
        (false, 0x30, enc as u64 - 0x30, enc as u64)
    };
    if hdr_off.checked_add(512).is_none_or(|end| end > file_len) {
        return Err(corrupt(format!(
            "the encryption header at offset {hdr_off} runs past the end of the file ({file_len} bytes): truncated?"
        )));
    }
    if desc_len > MAX_DESCRIPTOR_BYTES || desc_len % 16 != 0 || desc_len == 0 {
        return Err(corrupt(format!(
            "encrypted descriptor of {desc_len} bytes (a non-zero multiple of 16 expected)"
        )));
    }
    Ok((mdx, desc_off, desc_len, hdr_off))
}

/// Opens the main header, decrypts and inflates the descriptor of a v2 file held in `src`.
pub fn decode(src: &dyn ByteSource, path: &Path) -> Result<Decoded> {
    let io = |source| MdsError::Io {
        path: path.to_path_buf(),
        source,
    };
    let corrupt = |message: String| MdsError::Corrupt {
        path: path.to_path_buf(),
        message,
    };
    let mut head = vec![0u8; 0x40.min(src.len()) as usize];
    src.read_exact_at(&mut head, 0).map_err(io)?;
    let (mdx, desc_off, desc_len, hdr_off) = locate(&head, src.len(), path)?;
    let mut header = [0u8; 512];
    src.read_exact_at(&mut header, hdr_off).map_err(io)?;
    let salt: [u8; 64] = header[..64].try_into().unwrap();
    let keys = crypto::open_header(
        &header,
        &crypto::salt_password(&salt),
        HeaderCipher::CbcWhitened,
    )
    .ok_or_else(|| {
        corrupt(format!(
            "the descriptor's encryption header at offset {hdr_off} does not decrypt: damaged"
        ))
    })?;
    if keys.compressed_size as u64 > desc_len
        || (keys.compressed_size as u64).div_ceil(16) * 16 != desc_len
    {
        return Err(corrupt(format!(
            "the descriptor is {desc_len} bytes but its header says {} compressed bytes",
            keys.compressed_size
        )));
    }
    if keys.decompressed_size as u64 > MAX_DESCRIPTOR_BYTES {
        return Err(corrupt(format!(
            "a descriptor of {} bytes is too large",
            keys.decompressed_size
        )));
    }
    if desc_off.checked_add(desc_len).is_none_or(|e| e > src.len()) {
        return Err(corrupt(format!(
            "the descriptor at {desc_off}+{desc_len} runs past the end of the file: truncated?"
        )));
    }
    let mut enc = vec![0u8; desc_len as usize];
    src.read_exact_at(&mut enc, desc_off).map_err(io)?;
    crypto::decrypt_descriptor(&keys.key_data, &mut enc);
    let mut descriptor = head[..PREFIX].to_vec();
    ZlibDecoder::new(&enc[..keys.compressed_size as usize])
        .take(keys.decompressed_size as u64)
        .read_to_end(&mut descriptor)
        .map_err(|e| corrupt(format!("the descriptor does not inflate: {e}")))?;
    if descriptor.len() != PREFIX + keys.decompressed_size as usize {
        return Err(corrupt(format!(
            "the descriptor inflates to {} bytes, its header says {}",
            descriptor.len() - PREFIX,
            keys.decompressed_size
        )));
    }
    Ok(Decoded {
        version: Version::V2 {
            minor: head[17],
            mdx,
        },
        descriptor,
    })
}

/// Parses a decoded descriptor (what the fuzz target drives, after `decode`).
pub fn parse(data: &[u8], version: Version, path: &Path) -> Result<Descriptor> {
    descriptor::parse(Bytes::new(data, path), version)
}

/// How the track data is encrypted.
pub enum DataKey {
    /// Track data is not encrypted.
    None,
    /// Salt-derived password (TAGES-protected images).
    Tages(HeaderKeys),
    /// Encrypted under the user's password.
    User(HeaderKeys),
}

/// Opens the data encryption header with the salt-derived password, else with `password`.
pub fn data_key(
    d: &Descriptor,
    data: &[u8],
    password: Option<&str>,
    path: &Path,
) -> Result<DataKey> {
    if d.data_key_offset == 0 {
        return Ok(DataKey::None);
    }
    let b = Bytes::new(data, path);
    let h: [u8; 512] = b
        .slice(d.data_key_offset as u64, 512, &|| {
            "data encryption header".into()
        })?
        .try_into()
        .unwrap();
    let salt: [u8; 64] = h[..64].try_into().unwrap();
    if let Some(k) = crypto::open_header(&h, &crypto::salt_password(&salt), HeaderCipher::Lrw) {
        return Ok(DataKey::Tages(k));
    }
    let Some(pw) = password else {
        return Err(MdsError::PasswordNeeded {
            path: path.to_path_buf(),
        });
    };
    crypto::open_header(&h, pw.as_bytes(), HeaderCipher::Lrw)
        .map(DataKey::User)
        .ok_or_else(|| MdsError::WrongPassword {
            path: path.to_path_buf(),
        })
}

/// Opens an MDS v2 or MDX image whose file is `src`; an MDS's data files come through
/// `ctx`, and `ctx.password` unlocks encrypted track data.
pub fn open(path: &Path, ctx: &OpenContext, src: Arc<dyn ByteSource>) -> Result<Disc> {
    let dec = decode(&*src, path)?;
    let d = parse(&dec.descriptor, dec.version, path)?;
    let key = data_key(&d, &dec.descriptor, ctx.password.as_deref(), path)?;
    let Version::V2 { minor, mdx } = dec.version else {
        unreachable!()
    };
    let compressed = d
        .sessions
        .iter()
        .flat_map(|s| &s.blocks)
        .flat_map(|b| &b.files)
        .any(|f| f.compressed);
    let mut variant = format!(
        "{} v2.{minor} (DAEMON Tools)",
        if mdx { "MDX" } else { "MDS" }
    );
    if compressed {
        variant.push_str(", compressed");
    }
    let (cipher, lenient) = match &key {
        DataKey::None => (None, false),
        DataKey::Tages(k) => (Some(Arc::new(crypto::track_cipher(&k.key_data))), true),
        DataKey::User(k) => (Some(Arc::new(crypto::track_cipher(&k.key_data))), false),
    };
    match key {
        DataKey::None => {}
        DataKey::Tages(_) => variant.push_str(", encrypted (no password)"),
        DataKey::User(_) => variant.push_str(", encrypted"),
    }
    build(
        &d,
        &BuildContext {
            path,
            companions: ctx.companions,
            mdx: mdx.then(|| src.clone()),
            cipher,
            lenient_lengths: lenient,
            variant,
        },
    )
}
