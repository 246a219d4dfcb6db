//! Lists a UDF image: `cargo run -p spindle-udf --example udfls -- IMAGE`.

use std::sync::Arc;

use spindle_fs::{FileKind, FileSystem, NodeId};

/// Lists the tree below `dir` (iteratively: [`spindle_fs::walk_tree`]).
fn walk(fs: &dyn FileSystem, dir: NodeId) -> spindle_fs::Result<()> {
    spindle_fs::walk_tree(fs, dir, "/", &mut |path, _, dir, subdirs| {
        for e in fs.read_dir(dir)? {
            let m = fs.metadata(e.node)?;
            let sep = if path.ends_with('/') { "" } else { "/" };
            println!(
                "{:?} {:o} {:>10} {path}{sep}{}",
                m.kind, m.mode, m.size, e.name
            );
            if m.kind == FileKind::Dir {
                subdirs.push((e.name, e.node));
            }
        }
        Ok(())
    })
}

fn main() {
    let path = std::env::args().nth(1).expect("usage: udfls IMAGE");
    let data = std::fs::read(&path).expect("reading the image");
    let dev: spindle_fs::Device = Arc::new(spindle_bytes::MemSource::new(data, path));
    println!("detect: {}", spindle_udf::detect(dev.clone()));
    match spindle_udf::open_udf(dev) {
        Ok(fs) => {
            println!("label: {:?}", fs.label());
            if let Err(e) = walk(&*fs, fs.root()) {
                println!("error: {e}");
            }
        }
        Err(e) => println!("open: {e}"),
    }
}
