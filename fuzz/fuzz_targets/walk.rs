// Shared by the filesystem targets: walks a tree with spindle_fs::walk_tree (the walker
// `spindle ls -R` uses: no recursion, MAX_DEPTH, no directory twice), reading links and file
// heads, resolving the paths of the first directories, with a bound on the entries read.
use spindle_fs::{FileKind, FileSystem, FsError};

pub fn walk(fs: &dyn FileSystem) {
    let mut seen = 0;
    let mut dirs = 0;
    let mut buf = vec![0u8; 8192];
    let _ = spindle_fs::walk_tree(fs, fs.root(), "/", &mut |path, _depth, dir, subdirs| {
        dirs += 1;
        if dirs <= 64 {
            let _ = spindle_fs::resolve(fs, path);
        }
        // An unreadable directory is skipped; the walk goes on with the others.
        let Ok(entries) = fs.read_dir(dir) else {
            return Ok(());
        };
        for e in entries {
            seen += 1;
            if seen > 5000 {
                return Err(FsError::Unsupported("enough entries".into()));
            }
            let Ok(m) = fs.metadata(e.node) else { continue };
            match m.kind {
                FileKind::Dir => subdirs.push((e.name, e.node)),
                FileKind::Symlink => {
                    let _ = fs.read_link(e.node);
                }
                FileKind::File => {
                    let _ = fs.read(e.node, 0, &mut buf);
                    let _ = fs.read(e.node, m.size.saturating_sub(100), &mut buf);
                }
                _ => {}
            }
        }
        Ok(())
    });
}
