//! Walking a directory tree without recursion, with the nesting limit and the loop guard every
//! walker over an image needs.
//!
//! The nesting of an image's directories is the image's choice: a crafted ISO nests 100,000
//! directories in 200 MB. A recursive walk would use one stack frame per level (and abort on
//! stack overflow), and a walk that keeps each pending directory's full path would use memory
//! quadratic in the depth. [`walk_tree`] keeps an explicit stack of pending subdirectories
//! (each name stored once) and one path buffer that grows and shrinks with the walk, so its
//! memory is linear in what it has listed; it refuses:
//!
//! - entries nested deeper than [`MAX_DEPTH`] components below the root ([`FsError::TooDeep`]):
//!   a path that deep cannot be named to the kernel anyway (`PATH_MAX` is 4096 bytes, so at
//!   most 2048 components of one character and a slash);
//! - a directory reached a second time ([`FsError::Corrupt`]): a child that is one of its
//!   ancestors (a loop, which would never end) or a directory linked from two places (which
//!   can double the work at every level). The readers refuse most such images themselves
//!   (the ISO 9660 reader lets each directory extent be listed by one node, the UDF reader
//!   tracks parents); this guard holds for any [`FileSystem`].

use crate::api::{FileSystem, FsError, NodeId};
use std::collections::HashSet;

/// Most path components below the root any walk, path resolution or mount shows: Linux's
/// `PATH_MAX` (4096 bytes) halved, the most components a path the kernel accepts can have.
pub const MAX_DEPTH: usize = 2048;

/// Subdirectories a directory visit asks [`walk_tree`] to enter next, in order: (name, node).
pub type Subdirs = Vec<(String, NodeId)>;

/// What [`walk_tree`] calls with each directory: (path, depth, node, subdirectories to enter).
pub type DirVisitor<'f, E> =
    dyn FnMut(&str, usize, NodeId, &mut Subdirs) -> std::result::Result<(), E> + 'f;

/// Number of components of a `/`-separated path (empty ones and `.` do not count).
pub fn depth_of(path: &str) -> usize {
    path.split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .count()
}

/// Walks the directories below `start` (whose path is `start_path`) depth first, in pre-order,
/// without recursion: `visit(path, depth, dir, subdirs)` is called for each directory (first
/// `start`) with its path (`start_path` joined with the names below it by `/`; relative when
/// `start_path` is empty), its depth in
/// components below the root, and an empty list it fills with the subdirectories to enter
/// next, in the order to enter them. Every subdirectory of one directory is entered (and its
/// tree walked) before the next.
///
/// Fails with [`FsError::TooDeep`] when a directory deeper than [`MAX_DEPTH`] would be
/// entered, or a non-empty one at that depth (its entries would lie deeper); and with
/// [`FsError::Corrupt`] when a directory comes up a second time (a loop, or a directory
/// linked twice). Memory: the pending subdirectories' names and the current path.
pub fn walk_tree<E: From<FsError>>(
    fs: &dyn FileSystem,
    start: NodeId,
    start_path: &str,
    visit: &mut DirVisitor<'_, E>,
) -> std::result::Result<(), E> {
    struct Frame {
        node: NodeId,
        /// Length of the path buffer while this directory is the current one.
        path_end: usize,
        /// Subdirectories still to enter, last first.
        pending: Subdirs,
    }
    let mut path = String::from(start_path);
    let mut visited = HashSet::new();
    let mut stack: Vec<Frame> = Vec::new();
    let base = depth_of(start_path);
    let mut next = Some(start);
    loop {
        if let Some(node) = next.take() {
            let depth = base + stack.len();
            if !visited.insert(node) {
                return Err(loop_error(
                    fs,
                    &path,
                    node,
                    &stack
                        .iter()
                        .map(|f| (f.node, f.path_end))
                        .collect::<Vec<_>>(),
                )
                .into());
            }
            if depth > MAX_DEPTH {
                return Err(too_deep(&path).into());
            }
            if depth == MAX_DEPTH
                && let Some(e) = fs.read_dir(node)?.first()
            {
                let mut p = path.clone();
                join(&mut p, &e.name);
                return Err(too_deep(&p).into());
            }
            let mut pending = Subdirs::new();
            visit(&path, depth, node, &mut pending)?;
            pending.reverse();
            stack.push(Frame {
                node,
                path_end: path.len(),
                pending,
            });
        }
        let Some(top) = stack.last_mut() else {
            return Ok(());
        };
        match top.pending.pop() {
            Some((name, node)) => {
                path.truncate(top.path_end);
                join(&mut path, &name);
                next = Some(node);
            }
            None => {
                stack.pop();
            }
        }
    }
}

/// Appends `/name` to `path` (no second slash after one that ends it; no slash at all to an
/// empty path, whose walk gives relative paths).
fn join(path: &mut String, name: &str) {
    if !path.is_empty() && !path.ends_with('/') {
        path.push('/');
    }
    path.push_str(name);
}

fn too_deep(path: &str) -> FsError {
    FsError::TooDeep {
        path: short_path(path),
        limit: MAX_DEPTH,
    }
}

/// `node`, reached at `path`, was entered before: name the ancestor it is, if it is one.
fn loop_error(
    fs: &dyn FileSystem,
    path: &str,
    node: NodeId,
    ancestors: &[(NodeId, usize)],
) -> FsError {
    let what = match ancestors.iter().find(|a| a.0 == node) {
        Some(&(_, end)) => format!(
            "directory loop: {} is its own ancestor {}",
            short_path(path),
            short_path(&path[..end])
        ),
        None => format!(
            "{} is a directory already listed at another path (directories linked twice)",
            short_path(path)
        ),
    };
    FsError::Corrupt {
        fs: fs.kind().name(),
        what,
    }
}

/// A path for a message: whole when short, else its start and end with the number of
/// components (a 2048-component path would fill a screen).
pub fn short_path(path: &str) -> String {
    const KEEP: usize = 48;
    if path.len() <= 3 * KEEP {
        return path.to_string();
    }
    let mut head = KEEP;
    while !path.is_char_boundary(head) {
        head -= 1;
    }
    let mut tail = path.len() - KEEP;
    while !path.is_char_boundary(tail) {
        tail += 1;
    }
    format!(
        "{}…{} ({} components)",
        &path[..head],
        &path[tail..],
        depth_of(path)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depths_and_short_paths() {
        assert_eq!(depth_of("/"), 0);
        assert_eq!(depth_of(""), 0);
        assert_eq!(depth_of("./a//b/./c/"), 3);
        assert_eq!(short_path("/a/b"), "/a/b");
        let long = "/é".repeat(100);
        let s = short_path(&long);
        assert!(s.ends_with("(100 components)") && s.contains('…'), "{s}");
        assert!(s.len() < 160, "{s}");
        let mut p = String::from("/");
        join(&mut p, "x");
        join(&mut p, "y");
        assert_eq!(p, "/x/y");
        let mut p = String::new();
        join(&mut p, "x");
        join(&mut p, "y");
        assert_eq!(p, "x/y");
    }
}
