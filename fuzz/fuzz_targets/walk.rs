// Shared by the filesystem targets: walks a tree with bounds, reading links and file heads.
use spindle_fs::{FileKind, FileSystem};

pub fn walk(fs: &dyn FileSystem) {
    let mut stack = vec![(fs.root(), 0u32)];
    let mut seen = 0;
    let mut buf = vec![0u8; 8192];
    while let Some((node, depth)) = stack.pop() {
        let Ok(entries) = fs.read_dir(node) else { continue };
        for e in entries {
            seen += 1;
            if seen > 5000 {
                return;
            }
            let Ok(m) = fs.metadata(e.node) else { continue };
            match m.kind {
                FileKind::Dir if depth < 64 => stack.push((e.node, depth + 1)),
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
    }
}
