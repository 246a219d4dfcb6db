//! Lists a UDF image: `cargo run -p spindle-udf --example udfls -- IMAGE`.

use std::sync::Arc;

use spindle_fs::{FileKind, FileSystem, NodeId};

fn walk(fs: &dyn FileSystem, dir: NodeId, prefix: &str, depth: u32) -> spindle_fs::Result<()> {
    if depth > 64 {
        return Ok(());
    }
    for e in fs.read_dir(dir)? {
        let m = fs.metadata(e.node)?;
        println!("{:?} {:o} {:>10} {}{}", m.kind, m.mode, m.size, prefix, e.name);
        if m.kind == FileKind::Dir {
            walk(fs, e.node, &format!("{prefix}{}/", e.name), depth + 1)?;
        }
    }
    Ok(())
}

fn main() {
    let path = std::env::args().nth(1).expect("usage: udfls IMAGE");
    let data = std::fs::read(&path).expect("reading the image");
    let dev: spindle_fs::Device = Arc::new(data);
    println!("detect: {}", spindle_udf::detect(dev.clone()));
    match spindle_udf::open_udf(dev) {
        Ok(fs) => {
            println!("label: {:?}", fs.label());
            if let Err(e) = walk(&*fs, fs.root(), "/", 0) {
                println!("error: {e}");
            }
        }
        Err(e) => println!("open: {e}"),
    }
}
