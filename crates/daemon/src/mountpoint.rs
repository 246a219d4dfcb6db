//! Mount points: resolved once, checked on the descriptor, mounted on the descriptor.
//!
//! A mount point the user names is opened once, with the user's filesystem rights
//! ([`creds::as_user`]), by `openat2(O_PATH | O_DIRECTORY, RESOLVE_NO_SYMLINKS |
//! RESOLVE_NO_MAGICLINKS)`: a symbolic link anywhere in the path, the mount point itself
//! included, is refused, and so is a `..`. Every check then looks at that descriptor, never
//! at the path again, and the mount goes onto the descriptor too
//! ([`spindle_fuse::mount_tree_at`]): a rename or a symlink swapped in after the check
//! (`renameat2(RENAME_EXCHANGE)` in a loop) changes nothing, the disc lands on the directory
//! that was checked or nowhere.
//!
//! The checks ([`resolve`], [`check_location`]):
//! * an empty directory (for everyone, root included);
//! * owned by the caller (root may use any empty directory);
//! * not `/` itself, nor anywhere under `/proc`, `/sys` or `/dev` (found by walking `..` from
//!   the descriptor and comparing device and inode numbers, so a symlinked or bind-mounted
//!   parent changes nothing), nor on a kernel pseudo-filesystem (procfs, sysfs, devtmpfs,
//!   devpts, cgroup... by `statfs` type and the mount's type in mountinfo, wherever mounted);
//! * not a spindle mount already, nor on a FUSE filesystem served for another uid than root
//!   (its server could hang the daemon; every look-up as the user is also given up after 10 s).
//!
//! Default mount points (`<media>/<LABEL>`) are made by the daemon itself with `mkdirat`
//! relative to a descriptor of the media directory, which is opened without following any
//! link ([`open_dir_nofollow`]), and then checked like the others.

use crate::creds::{self, User};
use crate::{DaemonError, Result};
use rustix::fs::{AtFlags, Mode, OFlags, ResolveFlags, StatxFlags};
use rustix::io::Errno;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

/// A mount point resolved and checked: the directory (an `O_PATH` descriptor) and the path
/// it was named by.
#[derive(Debug)]
pub struct MountPoint {
    /// The directory, opened `O_PATH` without following links.
    pub fd: OwnedFd,
    /// The path it was named by.
    pub path: PathBuf,
}

impl AsRef<Path> for MountPoint {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

fn refuse(path: &Path, reason: impl Into<String>) -> DaemonError {
    DaemonError::MountPoint {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

const DIR_FLAGS: OFlags = OFlags::PATH.union(OFlags::DIRECTORY).union(OFlags::CLOEXEC);
const NO_LINKS: ResolveFlags = ResolveFlags::NO_SYMLINKS.union(ResolveFlags::NO_MAGICLINKS);

/// Opens the directory `name` under `dir` (`O_PATH`), following no symbolic link.
fn open_under(dir: BorrowedFd<'_>, name: &Path) -> std::result::Result<OwnedFd, Errno> {
    rustix::fs::openat2(dir, name, DIR_FLAGS, Mode::empty(), NO_LINKS)
}

/// Why an open of a mount point failed, in words.
fn open_reason(e: Errno) -> String {
    match e {
        Errno::LOOP => "it is a symbolic link or has one in its path (mount points are never reached through links)".into(),
        Errno::NOTDIR => "not a directory (or a path component is not one)".into(),
        Errno::NOENT => "no such directory".into(),
        Errno::ACCESS | Errno::PERM => "permission denied".into(),
        Errno::XDEV => "it crosses into a magic link".into(),
        e => std::io::Error::from(e).to_string(),
    }
}

/// How long the look-ups as the user may take (a path through a hung FUSE server).
const LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Resolves and checks the mount point `at` that `user` named (see the module docs).
pub fn resolve(user: &User, at: &Path) -> Result<MountPoint> {
    if !at.is_absolute() {
        return Err(refuse(at, "mount points must be absolute paths"));
    }
    if at.components().any(|c| c == Component::ParentDir) {
        return Err(refuse(
            at,
            "the path has a `..` in it; give the directory itself",
        ));
    }
    let p = at.to_path_buf();
    let fd = creds::as_user_within(user, LIMIT, move || {
        open_under(rustix::fs::CWD, &p).map_err(|e| refuse(&p, open_reason(e)))
    })
    .map_err(|e| refuse(at, e.to_string()))??;
    // Where it is first (a system path is refused as such, whoever owns it), then whose.
    check_location(fd.as_fd(), at)?;
    let (p, uid) = (at.to_path_buf(), user.uid);
    let fd = creds::as_user_within(user, LIMIT, move || {
        check_owner_and_empty(fd.as_fd(), &p, uid).map(|()| fd)
    })
    .map_err(|e| refuse(at, e.to_string()))??;
    Ok(MountPoint {
        fd,
        path: at.to_path_buf(),
    })
}

/// A directory owned by `uid` (any owner for root) with nothing in it. Runs with the user's
/// rights: listing the directory needs their read permission.
fn check_owner_and_empty(fd: BorrowedFd<'_>, path: &Path, uid: u32) -> Result<()> {
    let st = rustix::fs::fstat(fd).map_err(|e| refuse(path, open_reason(e)))?;
    if uid != 0 && st.st_uid != uid {
        return Err(refuse(
            path,
            format!(
                "owned by uid {}, not by you (uid {uid}); use an empty directory of your own",
                st.st_uid
            ),
        ));
    }
    let readable = rustix::fs::openat(
        fd,
        ".",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| refuse(path, format!("cannot list it: {}", open_reason(e))))?;
    let dir =
        rustix::fs::Dir::new(readable).map_err(|e| refuse(path, format!("cannot list it: {e}")))?;
    for entry in dir {
        let entry = entry.map_err(|e| refuse(path, format!("cannot list it: {e}")))?;
        let name = entry.file_name().to_bytes();
        if name != b"." && name != b".." {
            return Err(refuse(path, "not empty (a mount would hide its files)"));
        }
    }
    Ok(())
}

/// Kernel pseudo-filesystems (`statfs` `f_type`), never a mount point.
const PSEUDO_FS: &[(i64, &str)] = &[
    (0x9fa0, "proc"),
    (0x6265_6572, "sysfs"),
    (0x1cd1, "devpts"),
    (0x0027_e0eb, "cgroup"),
    (0x6367_7270, "cgroup2"),
    (0x6462_6720, "debugfs"),
    (0x7472_6163, "tracefs"),
    (0x7363_6673, "securityfs"),
    (0xcafe_4a11, "bpf"),
    (0x6265_6570, "configfs"),
    (0x6165_676c, "pstore"),
    (0xde5e_81e4, "efivarfs"),
    (0x4249_4e4d, "binfmt_misc"),
    (0x6573_5543, "fusectl"),
    (0x1980_0202, "mqueue"),
    (0xf97c_ff8c, "selinuxfs"),
    (0x6e73_6673, "nsfs"),
];

/// Mount types (from mountinfo) that are never a mount point, beyond [`PSEUDO_FS`]:
/// devtmpfs reports tmpfs's `statfs` type.
const PSEUDO_TYPES: &[&str] = &[
    "devtmpfs", "proc", "sysfs", "devpts", "cgroup", "cgroup2", "debugfs", "tracefs",
];

/// Device and inode of a directory, as the kernel has them (`AT_STATX_DONT_SYNC`: never a
/// request to a FUSE server).
fn identity(fd: BorrowedFd<'_>) -> Option<(u64, u64)> {
    let st = rustix::fs::statx(
        fd,
        "",
        AtFlags::EMPTY_PATH | AtFlags::STATX_DONT_SYNC,
        StatxFlags::BASIC_STATS,
    )
    .ok()?;
    Some((
        rustix::fs::makedev(st.stx_dev_major, st.stx_dev_minor),
        st.stx_ino,
    ))
}

/// The uid a FUSE mount's server runs for (`user_id=` of its superblock options).
fn fuse_user(m: &spindle_sys::mountinfo::MountInfo) -> Option<u32> {
    m.super_option("user_id")?.parse().ok()
}

/// Refuses `/` itself, anything under `/proc`, `/sys`, `/dev`, any kernel pseudo-filesystem
/// and an existing spindle mount, judged on the descriptor `fd` (the daemon's rights).
pub fn check_location(fd: BorrowedFd<'_>, path: &Path) -> Result<()> {
    // The mount's type first: nothing here may wait on a user's FUSE server.
    if let Some(m) = spindle_sys::mountinfo::mount_of_fd(fd) {
        if m.fstype == format!("fuse.{}", spindle_fuse::SUBTYPE) {
            return Err(refuse(path, "a spindle disc is mounted there already"));
        }
        let fuse = m.fstype == "fuse" || m.fstype == "fuseblk" || m.fstype.starts_with("fuse.");
        if fuse && let Some(uid) = fuse_user(&m).filter(|&u| u != 0) {
            return Err(refuse(
                path,
                format!(
                    "it is on a FUSE filesystem ({}) served for uid {uid}; only root's FUSE filesystems may hold mount points",
                    m.fstype
                ),
            ));
        }
        if PSEUDO_TYPES.contains(&m.fstype.as_str()) {
            return Err(refuse(
                path,
                format!("it is on a {} filesystem (never a mount point)", m.fstype),
            ));
        }
    }
    let sfs = rustix::fs::fstatfs(fd).map_err(|e| refuse(path, format!("statfs: {e}")))?;
    if let Some((_, name)) = PSEUDO_FS
        .iter()
        .find(|(magic, _)| *magic == sfs.f_type as i64)
    {
        return Err(refuse(
            path,
            format!(
                "it is on a {name} filesystem (kernel pseudo-filesystems are never mount points)"
            ),
        ));
    }
    let root = rustix::fs::open("/", DIR_FLAGS, Mode::empty())
        .map_err(|e| refuse(path, format!("opening /: {e}")))?;
    let root_id = identity(root.as_fd());
    let special: Vec<((u64, u64), &str)> = ["proc", "sys", "dev"]
        .iter()
        .filter_map(|n| {
            let d = open_under(root.as_fd(), Path::new(n)).ok()?;
            Some((identity(d.as_fd())?, *n))
        })
        .collect();
    let mut id = identity(fd).ok_or_else(|| refuse(path, "cannot stat the directory"))?;
    if Some(id) == root_id {
        return Err(refuse(path, "it is the root directory /"));
    }
    // Up through `..` (which crosses mounts upwards) until the root.
    let mut cur = rustix::fs::openat(fd, "..", DIR_FLAGS, Mode::empty())
        .map_err(|e| refuse(path, format!("its parent: {e}")))?;
    for _ in 0..4096 {
        if let Some((_, n)) = special.iter().find(|(s, _)| *s == id) {
            return Err(refuse(
                path,
                format!("it is under /{n}, which is never a place for mounts"),
            ));
        }
        let up =
            identity(cur.as_fd()).ok_or_else(|| refuse(path, "cannot stat a parent directory"))?;
        if up == id {
            return Ok(());
        }
        id = up;
        cur = rustix::fs::openat(&cur, "..", DIR_FLAGS, Mode::empty())
            .map_err(|e| refuse(path, format!("a parent: {e}")))?;
    }
    Err(refuse(path, "too deep"))
}

/// Opens the directory `path` (absolute) without following any link, making the missing
/// components (`mkdirat`, mode 0755) when `create`.
pub fn open_dir_nofollow(path: &Path, create: bool) -> std::io::Result<OwnedFd> {
    let mut cur = rustix::fs::open("/", DIR_FLAGS, Mode::empty())?;
    for c in path.components() {
        let name = match c {
            Component::RootDir | Component::CurDir => continue,
            Component::Normal(n) => Path::new(n),
            Component::Prefix(_) | Component::ParentDir => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("{}: must be absolute without `..`", path.display()),
                ));
            }
        };
        cur = match open_under(cur.as_fd(), name) {
            Ok(fd) => fd,
            Err(Errno::NOENT) if create => {
                match rustix::fs::mkdirat(&cur, name, Mode::from_raw_mode(0o755)) {
                    Ok(()) | Err(Errno::EXIST) => {}
                    Err(e) => return Err(e.into()),
                }
                open_under(cur.as_fd(), name)?
            }
            Err(e) => return Err(e.into()),
        };
    }
    Ok(cur)
}

/// What [`make_in`] found at a name.
pub enum Made {
    /// A new directory, owned by the user.
    New(MountPoint),
    /// An empty directory of the user's left from before (not mounted).
    Reused(MountPoint),
}

/// Makes the directory `name` in `media` (a descriptor of the media directory, at
/// `media_path`) for `user`, or takes an empty one of theirs that is there already;
/// `Ok(None)` when the name is taken by something else. Checked like any mount point.
pub fn make_in(
    media: BorrowedFd<'_>,
    media_path: &Path,
    name: &str,
    user: &User,
) -> Result<Option<Made>> {
    let path = media_path.join(name);
    let chown = crate::paths::is_root() && user.uid != 0;
    let made = match rustix::fs::mkdirat(media, name, Mode::from_raw_mode(0o755)) {
        Ok(()) => true,
        Err(Errno::EXIST) => false,
        Err(e) => {
            return Err(DaemonError::io(
                format!("{}: creating", path.display()),
                e.into(),
            ));
        }
    };
    let fd = match open_under(media, Path::new(name)) {
        Ok(fd) => fd,
        Err(_) if !made => return Ok(None),
        Err(e) => {
            return Err(DaemonError::io(
                format!("{}: opening", path.display()),
                e.into(),
            ));
        }
    };
    if made && chown {
        rustix::fs::chownat(
            &fd,
            "",
            Some(rustix::fs::Uid::from_raw(user.uid)),
            Some(rustix::fs::Gid::from_raw(user.gid)),
            AtFlags::EMPTY_PATH,
        )
        .map_err(|e| DaemonError::io(format!("{}: chown", path.display()), e.into()))?;
    }
    if !made {
        // Someone else's, not a directory, not empty, mounted: another name.
        let owner_ok = rustix::fs::fstat(&fd).is_ok_and(|s| s.st_uid == user.uid);
        if !owner_ok
            || check_owner_and_empty(fd.as_fd(), &path, user.uid).is_err()
            || check_location(fd.as_fd(), &path).is_err()
        {
            return Ok(None);
        }
    }
    check_location(fd.as_fd(), &path)?;
    let mp = MountPoint { fd, path };
    Ok(Some(if made {
        Made::New(mp)
    } else {
        Made::Reused(mp)
    }))
}

/// Removes the (empty) directory the daemon made at `path`, by a descriptor of its parent
/// opened without following links.
pub fn remove_made(path: &Path) {
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    if let Ok(dir) = open_dir_nofollow(parent, false) {
        let _ = rustix::fs::unlinkat(&dir, name, AtFlags::REMOVEDIR);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(r: Result<impl std::fmt::Debug>) -> String {
        r.unwrap_err().full_message()
    }

    #[test]
    fn open_dir_nofollow_makes_what_is_missing_and_never_follows_links() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().canonicalize().unwrap();
        open_dir_nofollow(&root.join("a/b"), true).unwrap();
        assert!(root.join("a/b").is_dir());
        std::os::unix::fs::symlink(root.join("a"), root.join("l")).unwrap();
        let e = open_dir_nofollow(&root.join("l/b"), true).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ELOOP), "{e}");
        assert!(open_dir_nofollow(&root.join("a/../a"), false).is_err());
    }

    #[test]
    fn resolve_refuses_links_dotdot_and_full_directories() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().canonicalize().unwrap();
        let me = User::current();
        std::fs::create_dir(root.join("empty")).unwrap();
        std::fs::create_dir(root.join("full")).unwrap();
        std::fs::write(root.join("full/f"), b"x").unwrap();
        std::os::unix::fs::symlink(root.join("empty"), root.join("link")).unwrap();
        std::os::unix::fs::symlink(&root, root.join("parent-link")).unwrap();
        let mp = resolve(&me, &root.join("empty")).unwrap();
        assert_eq!(mp.path, root.join("empty"));
        assert!(
            message(resolve(&me, &root.join("link")))
                .contains("cannot mount there: it is a symbolic link")
        );
        assert!(message(resolve(&me, &root.join("parent-link/empty"))).contains("symbolic link"));
        assert!(message(resolve(&me, &root.join("full/../empty"))).contains("`..`"));
        assert!(message(resolve(&me, &root.join("full"))).contains("not empty"));
        assert!(message(resolve(&me, &root.join("full/f"))).contains("not a directory"));
        assert!(message(resolve(&me, &root.join("none"))).contains("no such directory"));
        assert!(message(resolve(&me, Path::new("relative"))).contains("absolute"));
    }

    #[test]
    fn system_places_are_refused_on_the_descriptor() {
        let open = |p: &str| rustix::fs::open(p, DIR_FLAGS, Mode::empty()).unwrap();
        let why = |p: &str| message(check_location(open(p).as_fd(), Path::new(p)).map(|()| 0));
        assert!(why("/").contains("the root directory"), "{}", why("/"));
        for (p, words) in [
            ("/proc", "proc filesystem"),
            ("/proc/self/fd", "proc filesystem"),
            ("/sys", "sysfs filesystem"),
        ] {
            assert!(why(p).contains(words), "{p}: {}", why(p));
        }
        // devtmpfs by its mount type; a /dev of another type by the walk.
        assert!(
            why("/dev").contains("devtmpfs filesystem") || why("/dev").contains("under /dev"),
            "{}",
            why("/dev")
        );
        let t = tempfile::tempdir().unwrap();
        check_location(open(t.path().to_str().unwrap()).as_fd(), t.path()).unwrap();
    }

    #[test]
    fn fuse_servers_uid_from_the_superblock_options() {
        let m = |o: &str| {
            spindle_sys::mountinfo::parse_mountinfo(&format!(
                "40 1 0:50 / /m rw - fuse.sshfs host: {o}\n"
            ))
            .remove(0)
        };
        assert_eq!(fuse_user(&m("rw,user_id=1000,group_id=1000")), Some(1000));
        assert_eq!(
            fuse_user(&m("rw,user_id=0,group_id=0,allow_other")),
            Some(0)
        );
        assert_eq!(fuse_user(&m("rw")), None);
    }

    #[test]
    fn make_in_makes_takes_back_or_skips() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().canonicalize().unwrap();
        let media = open_dir_nofollow(&root, false).unwrap();
        let me = User::current();
        assert!(matches!(
            make_in(media.as_fd(), &root, "DISC", &me).unwrap(),
            Some(Made::New(_))
        ));
        assert!(matches!(
            make_in(media.as_fd(), &root, "DISC", &me).unwrap(),
            Some(Made::Reused(_))
        ));
        std::fs::write(root.join("DISC/f"), b"x").unwrap();
        assert!(
            make_in(media.as_fd(), &root, "DISC", &me)
                .unwrap()
                .is_none()
        );
        std::os::unix::fs::symlink("/", root.join("LINK")).unwrap();
        assert!(
            make_in(media.as_fd(), &root, "LINK", &me)
                .unwrap()
                .is_none()
        );
        remove_made(&root.join("LINK"));
        assert!(
            root.join("LINK").symlink_metadata().is_ok(),
            "a link is never removed as a directory"
        );
    }
}
