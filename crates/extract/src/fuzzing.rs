//! The `extract_paths` fuzz target's body (also run on fixed inputs by the unit tests):
//! arbitrary bytes become an image tree (names from a dictionary of hostile ones or raw,
//! files, directories, links with any targets, hard links, devices, directories listed
//! twice) and, optionally, an output folder already holding links and hard links to the
//! outside. After [`extract`](crate::extract) the sentinel tree beside the output folder
//! must be unchanged (kinds, modes, bytes), nothing may have appeared beside the output
//! folder, and no temporary file may be left. Any difference panics.

use crate::memfs::MemFs;
use crate::{Options, extract};
use spindle_fs::{FileKind, FileSystem, NodeId};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::AtomicBool;

/// Names worth trying: the hostile ones, and ones that collide with what the output folder
/// may already hold (`x`, `f`, `h`, `d`, `e`, `up`). `@OUT` becomes the sentinel folder's path.
const NAMES: &[&str] = &[
    "x",
    "f",
    "h",
    "d",
    "e",
    "up",
    "..",
    ".",
    "",
    "/",
    "a/b",
    "../x",
    "../outside/secret",
    "x\0",
    "@OUT/secret",
    "@OUT",
    ".spindle-0123456789abcdef.tmp",
    "out",
    "outside",
    "secret",
    "line\nbreak",
];

const TARGETS: &[&str] = &[
    "@OUT",
    "@OUT/secret",
    "@OUT/dir",
    "..",
    "../outside/secret",
    "../..",
    "/",
    "",
    "x",
    "d/e",
    "up/outside",
    "a\0b",
    ".",
];

struct Input<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Input<'_> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.data.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn text(&mut self, dict: &[&str], outside: &str) -> Option<String> {
        let b = self.byte()?;
        if b < 0xE0 {
            return Some(dict[b as usize % dict.len()].replace("@OUT", outside));
        }
        let len = (self.byte()? % 40) as usize;
        let end = (self.pos + len).min(self.data.len());
        let s = String::from_utf8_lossy(&self.data[self.pos..end]).into_owned();
        self.pos = end;
        Some(s)
    }

    fn mode(&mut self) -> Option<u32> {
        Some(u16::from_le_bytes([self.byte()?, self.byte()?]) as u32 & 0o7777)
    }
}

/// Builds the image tree; returns the filesystem and the node to extract with its name.
fn build(input: &mut Input<'_>, outside: &str) -> (MemFs, NodeId, String) {
    let mut fs = MemFs::new();
    let mut cur = vec![fs.root()];
    let mut files = Vec::new();
    let mut dirs = vec![fs.root()];
    for _ in 0..64 {
        let Some(op) = input.byte() else { break };
        let here = *cur.last().expect("root stays");
        let Some(name) = input.text(NAMES, outside) else {
            break;
        };
        match op % 8 {
            0 | 7 => {
                let Some(mode) = input.mode() else { break };
                let len = input.byte().unwrap_or(0) as usize;
                files.push(fs.file(here, &name, mode, &vec![b'P'; len]));
            }
            1 => {
                let Some(mode) = input.mode() else { break };
                let d = fs.dir(here, &name, mode);
                dirs.push(d);
                cur.push(d);
            }
            2 if cur.len() > 1 => {
                cur.pop();
            }
            3 => {
                let Some(target) = input.text(TARGETS, outside) else {
                    break;
                };
                fs.symlink(here, &name, &target);
            }
            4 if !files.is_empty() => {
                let i = input.byte().unwrap_or(0) as usize % files.len();
                fs.link(here, &name, files[i]);
            }
            5 => {
                let kinds = [
                    FileKind::Fifo,
                    FileKind::CharDevice,
                    FileKind::BlockDevice,
                    FileKind::Socket,
                ];
                let k = kinds[input.byte().unwrap_or(0) as usize % 4];
                fs.special(here, &name, k, 0o6777);
            }
            6 => {
                // A directory listed again: a loop when it is an ancestor.
                let i = input.byte().unwrap_or(0) as usize % dirs.len();
                fs.link(here, &name, dirs[i]);
            }
            _ => {}
        }
    }
    let pick = input.byte().unwrap_or(0);
    if pick & 1 == 1 && !files.is_empty() {
        let node = files[pick as usize / 2 % files.len()];
        let name = input.text(NAMES, outside).unwrap_or_else(|| "x".into());
        return (fs, node, name);
    }
    let root = fs.root();
    (fs, root, String::new())
}

type Snapshot = BTreeMap<String, (u32, Vec<u8>)>;

/// Kind+mode and content (or link target) of everything under `root`, links not followed.
fn snapshot(root: &Path) -> Snapshot {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("read a folder of the snapshot") {
            let p = e.expect("entry").path();
            let m = std::fs::symlink_metadata(&p).expect("stat");
            let content = if m.file_type().is_symlink() {
                std::fs::read_link(&p)
                    .expect("readlink")
                    .into_os_string()
                    .into_encoded_bytes()
            } else if m.is_file() {
                std::fs::read(&p).expect("read")
            } else {
                if m.is_dir() {
                    stack.push(p.clone());
                }
                Vec::new()
            };
            out.insert(
                p.to_string_lossy().into_owned(),
                (m.permissions().mode(), content),
            );
        }
    }
    out
}

/// The output folder's state before extraction: links and a hard link to the outside.
fn populate(out: &Path, outside: &Path) {
    std::fs::create_dir(out).expect("output folder");
    use std::os::unix::fs::symlink as link;
    link(outside.join("dir"), out.join("x")).expect("x");
    link(outside.join("secret"), out.join("f")).expect("f");
    std::fs::hard_link(outside.join("secret2"), out.join("h")).expect("h");
    std::fs::create_dir(out.join("d")).expect("d");
    link(outside, out.join("d/e")).expect("d/e");
    link("..", out.join("up")).expect("up");
}

/// Lets every folder under `root` be emptied (extracted modes may forbid it).
fn unlock(root: &Path) {
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(e.path());
            }
        }
    }
}

/// Checks one input (see the module documentation); panics on a breach.
pub fn run(data: &[u8]) {
    let mut input = Input { data, pos: 0 };
    let flags = input.byte().unwrap_or(0);
    let shm = Path::new("/dev/shm");
    let base = if shm.is_dir() {
        tempfile::Builder::new()
            .prefix("spindle-fuzz")
            .tempdir_in(shm)
    } else {
        tempfile::Builder::new().prefix("spindle-fuzz").tempdir()
    }
    .expect("temporary folder");
    let outside = base.path().join("outside");
    std::fs::create_dir_all(outside.join("dir")).expect("sentinel");
    std::fs::write(outside.join("dir/keep"), b"keep").expect("sentinel");
    std::fs::write(outside.join("secret"), b"secret").expect("sentinel");
    std::fs::set_permissions(
        outside.join("secret"),
        std::fs::Permissions::from_mode(0o600),
    )
    .expect("sentinel");
    std::fs::write(outside.join("secret2"), b"secret2").expect("sentinel");
    let out = base.path().join("out");
    if flags & 4 != 0 {
        populate(&out, &outside);
    }
    let (fs, node, name) = build(&mut input, outside.to_str().expect("utf-8 temp path"));
    let before = snapshot(&outside);
    let beside: Vec<_> = snapshot(base.path())
        .into_keys()
        .filter(|k| !k.starts_with(out.to_str().unwrap()))
        .collect();
    let opts = Options {
        overwrite: flags & 1 != 0,
        keep_special_bits: flags & 2 != 0,
        umask: if flags & 8 != 0 { 0o022 } else { 0 },
        workers: 2,
    };
    let report = extract(
        &fs,
        node,
        &name,
        &out,
        &opts,
        &AtomicBool::new(false),
        &|_| {},
    );
    assert_eq!(
        snapshot(&outside),
        before,
        "the outside changed: {report:?}"
    );
    let after: Vec<_> = snapshot(base.path())
        .into_keys()
        .filter(|k| !k.starts_with(out.to_str().unwrap()))
        .collect();
    assert_eq!(
        after, beside,
        "something appeared beside the output folder: {report:?}"
    );
    if out.exists() {
        for (p, _) in snapshot(&out) {
            let file = Path::new(&p)
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            assert!(
                !crate::name::is_temp_name(&file),
                "left behind: {p} ({report:?})"
            );
        }
    }
    unlock(&out);
}

#[cfg(test)]
mod tests {
    /// Inputs that exercise each attack (and what the fuzzer found worth keeping).
    #[test]
    fn fixed_inputs() {
        let cases: &[&[u8]] = &[
            // Link "x" -> @OUT/dir, then directory "x" with a file "f" inside.
            &[0, 3, 0, 2, 1, 0, 0xed, 0x01, 0, 1, 0xff, 0x0f, 8],
            // Link "f" -> @OUT/secret, then a setuid file "f", with --keep-special-bits.
            &[2, 3, 1, 1, 0, 1, 0xff, 0x0f, 8],
            // Pre-populated output, --overwrite: file "f", dir "x", hard link "h", dir "d"/"e".
            &[
                5, 0, 1, 0xa4, 0x01, 4, 1, 0, 0xed, 0x01, 0, 2, 0xa4, 0x01, 3, 1, 3, 0xed, 0x01, 0,
                4, 0xa4, 0x01, 2,
            ],
            // Same without --overwrite.
            &[4, 0, 1, 0xa4, 0x01, 4, 1, 0, 0xed, 0x01],
            // "..", ".", "/", absolute and relative escapes as names.
            &[
                0, 0, 6, 0xa4, 1, 1, 0, 7, 0xa4, 1, 1, 0, 9, 0xa4, 1, 1, 0, 11, 0xa4, 1, 1, 0, 14,
                0xa4, 1, 1,
            ],
            // A loop: directory "d" listing its parent and itself.
            &[0, 1, 3, 0xed, 1, 6, 0, 0, 6, 5, 1, 0, 0, 0, 0, 1],
            // Hard links to a file, and a device, a FIFO.
            &[0, 0, 0, 0xa4, 1, 5, 4, 1, 0, 5, 2, 0, 5, 3, 1],
            // A single file extracted under the name "..".
            &[0, 0, 0, 0xa4, 1, 3, 1, 6],
            // Through the pre-populated "up" -> "..".
            &[4, 1, 5, 0xed, 1, 0, 0, 0xa4, 1, 3],
        ];
        for c in cases {
            super::run(c);
        }
    }
}
