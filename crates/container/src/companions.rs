//! Companion files that may be compressed: a descriptor's `disc.bin` is read from
//! `disc.bin.xz` when only that exists, and a name that ends in `.gz`/`.xz`/`.zst` (with the
//! matching magic) reads decompressed. Opened containers are kept, so a file named twice
//! (an image and its own descriptor lookup) is indexed once.
//!
//! Each file is opened once by name, checked on its descriptor (a regular file or a block
//! device: `spindle_disc::open`), and that descriptor is what is read and decompressed.

use crate::{DecodeBudget, Kind, kind_of, open_file};
use spindle_disc::open::name_error;
use spindle_disc::{ByteSource, Companions, DirCompanions, FileSource};
use std::collections::HashMap;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// [`DirCompanions`] that see through compression.
pub struct ContainerCompanions {
    dir: DirCompanions,
    opened: Mutex<HashMap<PathBuf, Arc<dyn ByteSource>>>,
    /// The image the user named, by the inner name its format asks for (`game.iso` for
    /// `game.iso.zst`): that file wins over a plain `game.iso` lying beside it.
    alias: Mutex<Option<(String, PathBuf)>>,
    /// Bounds temporary copies of files with no random access.
    budget: DecodeBudget,
}

impl ContainerCompanions {
    /// The files a descriptor (a cue sheet, a TOC...) names, looked up in the folder of
    /// `descriptor`, compressed or not; the default [`DecodeBudget`] bounds their temporary
    /// copies.
    pub fn beside(descriptor: &Path) -> ContainerCompanions {
        ContainerCompanions {
            dir: DirCompanions::beside(descriptor),
            opened: Mutex::new(HashMap::new()),
            alias: Mutex::new(None),
            budget: DecodeBudget::default(),
        }
    }

    /// Decompresses within `budget` (instead of the default one).
    pub fn with_budget(mut self, budget: DecodeBudget) -> ContainerCompanions {
        self.budget = budget;
        self
    }

    /// Makes `name` resolve to `path` (the compressed image the user named).
    pub fn alias(&self, name: &str, path: &Path) {
        *self.alias.lock().unwrap() = Some((name.to_string(), path.to_path_buf()));
    }

    /// Opens `path`, decompressing when its name and first bytes say it is compressed.
    /// Errors name the file.
    pub fn open_path(&self, path: &Path) -> io::Result<Arc<dyn ByteSource>> {
        if let Some(s) = self.opened.lock().unwrap().get(path) {
            return Ok(s.clone());
        }
        let plain = FileSource::open(path).map_err(|e| name_error(path, e))?;
        self.adopt(path, plain)
    }

    /// Takes `plain` (the file `path`, opened by the caller) as that path's source,
    /// decompressing it when its name and first bytes say it is compressed.
    pub fn adopt(&self, path: &Path, plain: FileSource) -> io::Result<Arc<dyn ByteSource>> {
        let file = plain.file();
        let mut head = [0u8; 16];
        let n = (plain.len() as usize).min(16);
        file.read_exact_at(&mut head[..n], 0)
            .map_err(|e| name_error(path, e))?;
        let src: Arc<dyn ByteSource> = match kind_of(path, &head[..n]) {
            Some(kind) => Arc::new(open_file(
                file.try_clone()?,
                plain.len(),
                path,
                kind,
                &self.budget,
            )?),
            None => Arc::new(plain),
        };
        self.opened
            .lock()
            .unwrap()
            .insert(path.to_path_buf(), src.clone());
        Ok(src)
    }
}

impl Companions for ContainerCompanions {
    fn resolve(&self, name: &str) -> io::Result<PathBuf> {
        if let Some((alias, path)) = self.alias.lock().unwrap().as_ref()
            && alias == name
        {
            return Ok(path.clone());
        }
        match self.dir.resolve(name) {
            Ok(p) => Ok(p),
            Err(e) => {
                for ext in ["zst", "xz", "gz"] {
                    if let Ok(p) = self.dir.resolve(&format!("{name}.{ext}")) {
                        return Ok(p);
                    }
                }
                Err(e)
            }
        }
    }

    fn open(&self, name: &str) -> io::Result<Arc<dyn ByteSource>> {
        let path = self.resolve(name)?;
        self.open_path(&path)
    }
}

/// The kind of a path by its name alone (for choosing how to open an image).
pub fn kind_by_name(path: &Path) -> Option<Kind> {
    let ext = path.extension()?.to_string_lossy().to_lowercase();
    match ext.as_str() {
        "gz" | "gzip" => Some(Kind::Gzip),
        "xz" => Some(Kind::Xz),
        "zst" | "zstd" => Some(Kind::Zstd),
        _ => None,
    }
}
