//! The kernel's mount table: `/proc/self/mountinfo` (proc(5)), one parser and one type for the
//! workspace, and the mount a descriptor is on (`mnt_id:` of `/proc/self/fdinfo/N`).
//!
//! A line reads
//!
//! ```text
//! 36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue
//! (1)(2)(3)   (4)   (5)         (6)      (7: optional ...)  (8)(9)  (10)      (11)
//! ```
//!
//! Mount point, root, source and options are written with octal escapes (`\040` for a space,
//! `\011` tab, `\012` newline, `\134` backslash), which [`unescape_octal`] undoes; fields are
//! therefore separated by single spaces, and the optional fields end at a lone `-`.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::path::{Path, PathBuf};

/// One line of `/proc/self/mountinfo`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountInfo {
    /// The mount id (as `statx` `STATX_MNT_ID` and fdinfo's `mnt_id:` give it).
    pub id: u64,
    /// The id of the parent mount (its own id for the root of the namespace).
    pub parent: u64,
    /// `major:minor` of the filesystem (`st_dev` of its files; major 0 for anonymous ones).
    pub dev: (u32, u32),
    /// The directory of the filesystem that is the root of this mount (`/` unless a bind
    /// mount of a subtree).
    pub root: PathBuf,
    /// Where it is mounted, in this process's namespace.
    pub mount_point: PathBuf,
    /// The per-mount options (`rw,nosuid,relatime`).
    pub mount_options: String,
    /// The optional fields (`shared:N`, `master:N`, `propagate_from:N`, `unbindable`).
    pub optional: Vec<String>,
    /// The filesystem type (`ext4`, `fuse.spindle`).
    pub fstype: String,
    /// The source (a device node, a server, or whatever the filesystem was given).
    pub source: String,
    /// The superblock options (`rw,user_id=1000,...`).
    pub super_options: String,
}

impl MountInfo {
    /// The value of the superblock option `name` (`user_id` in `rw,user_id=1000`), if set.
    pub fn super_option(&self, name: &str) -> Option<&str> {
        self.super_options
            .split(',')
            .find_map(|o| o.strip_prefix(name)?.strip_prefix('='))
    }
}

/// Undoes the octal escapes (`\040` for a space; also tab, newline and backslash) of the
/// kernel's mount tables: `/proc/self/mountinfo`, `/proc/mounts`, `/proc/swaps`. A backslash
/// not followed by three octal digits worth at most 255 stays as written.
pub fn unescape_octal(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && let Some(d) = b.get(i + 1..i + 4)
            && d.iter().all(|c| (b'0'..=b'7').contains(c))
            && let Ok(v) = u8::try_from(
                u32::from(d[0] - b'0') * 64 + u32::from(d[1] - b'0') * 8 + u32::from(d[2] - b'0'),
            )
        {
            out.push(v);
            i += 4;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One line, or `None` when it is not a mountinfo line.
fn parse_line(line: &str) -> Option<MountInfo> {
    let mut f = line.split(' ');
    let id = f.next()?.parse().ok()?;
    let parent = f.next()?.parse().ok()?;
    let (maj, min) = f.next()?.split_once(':')?;
    let dev = (maj.parse().ok()?, min.parse().ok()?);
    let root = PathBuf::from(unescape_octal(f.next()?));
    let mount_point = PathBuf::from(unescape_octal(f.next()?));
    let mount_options = unescape_octal(f.next()?);
    let mut optional = Vec::new();
    loop {
        match f.next()? {
            "-" => break,
            o => optional.push(o.to_string()),
        }
    }
    Some(MountInfo {
        id,
        parent,
        dev,
        root,
        mount_point,
        mount_options,
        optional,
        fstype: unescape_octal(f.next()?),
        source: unescape_octal(f.next()?),
        super_options: f.next().map(unescape_octal).unwrap_or_default(),
    })
}

/// The mounts a mountinfo text lists, in its order (parents before children; a later mount
/// at the same point is on top). Lines it cannot read are skipped.
pub fn parse_mountinfo(text: &str) -> Vec<MountInfo> {
    text.lines().filter_map(parse_line).collect()
}

/// Every mount of this process's mount namespace (empty when `/proc` cannot be read).
pub fn mounts() -> Vec<MountInfo> {
    parse_mountinfo(&std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default())
}

/// The topmost mount at `path` (compared as given: pass a canonical path) whose type is
/// `fstype`, if any.
pub fn find(path: &Path, fstype: &str) -> Option<MountInfo> {
    mounts()
        .into_iter()
        .rev()
        .find(|m| m.mount_point == path && m.fstype == fstype)
}

/// The `mnt_id:` of an fdinfo text (`/proc/self/fdinfo/N`).
pub fn parse_fdinfo_mnt_id(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix("mnt_id:"))?
        .trim()
        .parse()
        .ok()
}

/// The id of the mount `fd` is on, from `/proc/self/fdinfo/N`: this never asks a FUSE server
/// nor needs its permission (a `statx` of another user's FUSE mount is refused to root).
pub fn mount_id_of_fd(fd: BorrowedFd<'_>) -> io::Result<u64> {
    let text = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", fd.as_raw_fd()))?;
    parse_fdinfo_mnt_id(&text)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "fdinfo has no mnt_id: line"))
}

/// The mount `fd` is on: [`mount_id_of_fd`], then its line of mountinfo.
pub fn mount_of_fd(fd: BorrowedFd<'_>) -> Option<MountInfo> {
    let id = mount_id_of_fd(fd).ok()?;
    mounts().into_iter().find(|m| m.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn fields_are_unescaped_and_bad_lines_skipped() {
        let t = "36 35 98:0 /mnt1 /mnt/with\\040space\\134 rw master:1 - ext3 /dev/root rw\n\
                 garbage line\n\
                 22 1 0:21 / /odd\\777\\04 rw - fuse.spindle spindle\\011x rw\n";
        let m = parse_mountinfo(t);
        assert_eq!(m.len(), 2);
        assert_eq!((m[0].id, m[1].id), (36, 22));
        assert_eq!((m[0].parent, m[1].parent), (35, 1));
        assert_eq!(m[0].dev, (98, 0));
        assert_eq!(m[0].root, Path::new("/mnt1"));
        assert_eq!(m[0].mount_point, Path::new("/mnt/with space\\"));
        assert_eq!(m[0].fstype, "ext3");
        // Not escapes: a value over 255 and a short one stay as written.
        assert_eq!(m[1].mount_point, Path::new("/odd\\777\\04"));
        assert_eq!(m[1].source, "spindle\tx");
        assert_eq!(m[1].super_options, "rw");
    }

    #[test]
    fn optional_fields_end_at_the_dash() {
        let t = "36 35 98:0 / /a rw,noatime shared:2 master:1 propagate_from:7 unbindable - \
                 ext4 /dev/sda1 rw,errors=continue\n\
                 37 35 0:50 / /b rw - fuse.sshfs host:\\040dir rw,user_id=1000,group_id=100\n\
                 38 35 0:51 / /c rw - tmpfs\n";
        let m = parse_mountinfo(t);
        assert_eq!(m.len(), 2, "a line without a source is not a mount");
        assert_eq!(
            m[0].optional,
            ["shared:2", "master:1", "propagate_from:7", "unbindable"]
        );
        assert_eq!(m[0].mount_options, "rw,noatime");
        assert_eq!(m[0].fstype, "ext4");
        assert_eq!(m[0].source, "/dev/sda1");
        assert_eq!(m[0].super_options, "rw,errors=continue");
        assert!(m[1].optional.is_empty());
        assert_eq!(m[1].source, "host: dir");
        assert_eq!(m[1].super_option("user_id"), Some("1000"));
        assert_eq!(m[1].super_option("group_id"), Some("100"));
        assert_eq!(m[1].super_option("user"), None);
        assert_eq!(m[0].super_option("rw"), None);
    }

    #[test]
    fn a_dash_in_a_field_is_not_the_separator() {
        // A mount point named "-" is written as is; the separator is the first lone `-`
        // after the six fixed fields.
        let m = parse_mountinfo("40 1 0:5 / /- rw - tmpfs none rw\n");
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].mount_point, Path::new("/-"));
        assert_eq!(m[0].fstype, "tmpfs");
    }

    #[test]
    fn fdinfo_mnt_id() {
        let t = "pos:\t0\nflags:\t02100000\nmnt_id:\t29\nino:\t1234\n";
        assert_eq!(parse_fdinfo_mnt_id(t), Some(29));
        assert_eq!(parse_fdinfo_mnt_id("pos:\t0\n"), None);
        assert_eq!(parse_fdinfo_mnt_id("mnt_id:\tx\n"), None);
    }

    #[test]
    fn a_descriptor_is_on_the_mount_statx_names() {
        let dir = tempfile::tempdir().unwrap();
        let f = std::fs::File::create(dir.path().join("f")).unwrap();
        let id = mount_id_of_fd(f.as_fd()).unwrap();
        let st = rustix::fs::statx(
            &f,
            "",
            rustix::fs::AtFlags::EMPTY_PATH,
            rustix::fs::StatxFlags::MNT_ID,
        )
        .unwrap();
        assert_eq!(id, st.stx_mnt_id);
        let m = mount_of_fd(f.as_fd()).expect("the mount is in mountinfo");
        assert_eq!(m.id, id);
        let canon = dir.path().canonicalize().unwrap();
        assert!(canon.starts_with(&m.mount_point), "{m:?}");
        // The root of the namespace is in the table too.
        let root = std::fs::File::open("/").unwrap();
        assert_eq!(
            mount_of_fd(root.as_fd()).unwrap().mount_point,
            Path::new("/")
        );
    }
}
