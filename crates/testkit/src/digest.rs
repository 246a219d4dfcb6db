//! Digests as lowercase hex: of bytes and files with the RustCrypto hashes, and with the
//! coreutils tools (`sha256sum`, `sha1sum`, `md5sum`) where a test wants an independent oracle.

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// MD5 of `data`.
pub fn md5_hex(data: &[u8]) -> String {
    hex(&Md5::digest(data))
}

/// SHA-1 of `data`.
pub fn sha1_hex(data: &[u8]) -> String {
    hex(&Sha1::digest(data))
}

/// SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// MD5 of a file's bytes.
pub fn md5_file(path: &Path) -> String {
    md5_hex(&read(path))
}

/// SHA-1 of a file's bytes.
pub fn sha1_file(path: &Path) -> String {
    sha1_hex(&read(path))
}

/// SHA-256 of a file's bytes.
pub fn sha256_file(path: &Path) -> String {
    sha256_hex(&read(path))
}

/// The first word a coreutils sum tool (`sha256sum`, `sha1sum`, `md5sum` ...) prints for
/// `path` (a file or a device); fails the test when the tool is missing or fails.
pub fn tool_sum(tool: &str, path: &Path) -> String {
    let out = Command::new(tool)
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("{tool} (coreutils) must be installed: {e}"));
    assert!(
        out.status.success(),
        "{tool} {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    first_word(&out.stdout, tool)
}

/// `sha256sum` of a file or device: the independent oracle that a refused write changed
/// nothing.
pub fn sha256sum(path: &Path) -> String {
    tool_sum("sha256sum", path)
}

/// The first word a coreutils sum tool prints for `data` given on its standard input.
pub fn tool_sum_bytes(tool: &str, data: &[u8]) -> String {
    let mut child = Command::new(tool)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{tool} (coreutils) must be installed: {e}"));
    child.stdin.take().unwrap().write_all(data).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{tool} failed");
    first_word(&out.stdout, tool)
}

fn first_word(stdout: &[u8], tool: &str) -> String {
    String::from_utf8_lossy(stdout)
        .split_whitespace()
        .next()
        .unwrap_or_else(|| panic!("{tool} printed nothing"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ours_agree_with_coreutils() {
        let data = crate::pattern::bytes(100_000, 3);
        assert_eq!(sha256_hex(&data), tool_sum_bytes("sha256sum", &data));
        assert_eq!(sha1_hex(&data), tool_sum_bytes("sha1sum", &data));
        assert_eq!(md5_hex(&data), tool_sum_bytes("md5sum", &data));
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
    }
}
