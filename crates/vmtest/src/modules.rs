//! Kernel modules by name, with their dependencies in load order.
//!
//! Debian's kernel package ships no `modules.dep` (depmod writes it at install time), so the
//! dependencies come from each module's own `.modinfo` ELF section (`depends=a,b`), which is what
//! `modinfo -F depends` prints. A `modules.dep` that is present is not needed.

use crate::{Error, Result};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Every module file of a kernel's module tree, by name.
#[derive(Debug)]
pub struct ModuleIndex {
    root: PathBuf,
    files: HashMap<String, PathBuf>,
    builtin: HashSet<String>,
}

/// Module names compare with `-` and `_` alike (`crc-itu-t` is `crc_itu_t`).
fn normalise(name: &str) -> String {
    name.replace('-', "_")
}

impl ModuleIndex {
    /// Indexes `lib/modules/<release>` (its `kernel/` tree and `modules.builtin`).
    pub fn new(root: &Path) -> Result<ModuleIndex> {
        let mut files = HashMap::new();
        let mut stack = vec![root.join("kernel")];
        while let Some(dir) = stack.pop() {
            let entries = std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))?;
            for entry in entries {
                let entry = entry.map_err(|e| Error::io(&dir, e))?;
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                if entry.file_type().map_err(|e| Error::io(&path, e))?.is_dir() {
                    stack.push(path);
                } else if let Some(stem) = name.strip_suffix(".ko") {
                    files.insert(normalise(stem), path);
                } else if let Some((stem, _)) = name.split_once(".ko.") {
                    // Compressed modules: indexed so that asking for one gives a clear error.
                    files.entry(normalise(stem)).or_insert(path);
                }
            }
        }
        let builtin = std::fs::read_to_string(root.join("modules.builtin"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.rsplit('/').next())
            .filter_map(|f| f.strip_suffix(".ko"))
            .map(normalise)
            .collect();
        Ok(ModuleIndex {
            root: root.to_path_buf(),
            files,
            builtin,
        })
    }

    /// The file of module `name`, if the tree has it as a loadable module.
    pub fn path(&self, name: &str) -> Option<&Path> {
        self.files.get(&normalise(name)).map(PathBuf::as_path)
    }

    /// The module tree this index was built from.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The files to load for `names`, dependencies first, each once. Modules built into the
    /// kernel are left out; a name that is neither a module nor built in is an error.
    pub fn resolve<S: AsRef<str>>(&self, names: &[S]) -> Result<Vec<PathBuf>> {
        let mut order = Vec::new();
        let mut done = HashSet::new();
        for name in names {
            self.visit(name.as_ref(), &mut Vec::new(), &mut done, &mut order)?;
        }
        Ok(order)
    }

    fn visit(
        &self,
        name: &str,
        path: &mut Vec<String>,
        done: &mut HashSet<String>,
        order: &mut Vec<PathBuf>,
    ) -> Result<()> {
        let key = normalise(name);
        if done.contains(&key) {
            return Ok(());
        }
        if path.contains(&key) {
            return Err(Error::Module {
                name: name.into(),
                detail: format!("dependency cycle: {} -> {name}", path.join(" -> ")),
            });
        }
        let Some(file) = self.files.get(&key) else {
            if self.builtin.contains(&key) {
                done.insert(key);
                return Ok(());
            }
            return Err(Error::Module {
                name: name.into(),
                detail: format!(
                    "not in {} (neither a module nor built in)",
                    self.root.display()
                ),
            });
        };
        if file.extension().is_some_and(|e| e != "ko") {
            return Err(Error::Module {
                name: name.into(),
                detail: format!(
                    "{} is compressed; the harness loads plain .ko files",
                    file.display()
                ),
            });
        }
        path.push(key.clone());
        for dep in modinfo_depends(file)? {
            self.visit(&dep, path, done, order)?;
        }
        path.pop();
        done.insert(key);
        order.push(file.clone());
        Ok(())
    }
}

/// The `depends=` list of a module file's `.modinfo` section (like `modinfo -F depends`).
pub fn modinfo_depends(file: &Path) -> Result<Vec<String>> {
    let data = std::fs::read(file).map_err(|e| Error::io(file, e))?;
    let bad = |detail: &str| Error::Module {
        name: file.display().to_string(),
        detail: detail.to_string(),
    };
    let modinfo = elf_section(&data, ".modinfo")
        .ok_or_else(|| bad("not an ELF64 module with a .modinfo section"))?;
    let mut deps = Vec::new();
    for field in modinfo.split(|&b| b == 0) {
        if let Some(list) = field.strip_prefix(b"depends=") {
            let list = std::str::from_utf8(list).map_err(|_| bad("depends= is not UTF-8"))?;
            deps.extend(
                list.split(',')
                    .filter(|d| !d.is_empty())
                    .map(str::to_string),
            );
        }
    }
    Ok(deps)
}

/// The contents of the section called `want` in a little-endian ELF64 file.
fn elf_section<'a>(data: &'a [u8], want: &str) -> Option<&'a [u8]> {
    let u16_at = |o: usize| {
        data.get(o..o + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]) as usize)
    };
    let u32_at = |o: usize| {
        data.get(o..o + 4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap()) as usize)
    };
    let u64_at = |o: usize| {
        data.get(o..o + 8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap()) as usize)
    };
    if data.get(..6)? != b"\x7fELF\x02\x01" {
        return None;
    }
    let shoff = u64_at(0x28)?;
    let shentsize = u16_at(0x3a)?;
    let shnum = u16_at(0x3c)?;
    let shstrndx = u16_at(0x3e)?;
    if shentsize < 64 {
        return None;
    }
    let header = |i: usize| -> Option<(usize, usize, usize)> {
        let h = shoff.checked_add(i.checked_mul(shentsize)?)?;
        Some((u32_at(h)?, u64_at(h + 24)?, u64_at(h + 32)?))
    };
    let slice = |off: usize, len: usize| data.get(off..off.checked_add(len)?);
    let (_, stroff, strsize) = header(shstrndx)?;
    let strtab = slice(stroff, strsize)?;
    for i in 0..shnum {
        let (name, off, size) = header(i)?;
        let name = strtab.get(name..)?.split(|&b| b == 0).next()?;
        if name == want.as_bytes() {
            return slice(off, size);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_not_an_elf_module() {
        assert!(elf_section(b"not an elf file at all", ".modinfo").is_none());
        let mut head = b"\x7fELF\x02\x01".to_vec();
        head.resize(64, 0xff);
        assert!(elf_section(&head, ".modinfo").is_none());
    }

    #[test]
    fn names_match_with_dashes_or_underscores() {
        assert_eq!(normalise("crc-itu-t"), normalise("crc_itu_t"));
    }
}
