//! Writing the image: a temporary file next to the output, sized first (so unwritten ranges
//! stay holes), the metadata in one write, each file's data ranges copied in the kernel
//! (`copy_file_range`; holes found with `SEEK_DATA`/`SEEK_HOLE` are skipped), then renamed
//! over the output once synced to the disk. On any error the temporary file is removed and a
//! previous output is left as it was.

use crate::error::{Error, Result, read_err};
use crate::layout::SECTOR;
use crate::meta;
use crate::plan::Plan;
use crate::tree::Tree;
use rustix::fs::SeekFrom;
use std::fs::File;
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// Writes the image planned as `plan` to `out`; `progress(done, total)` is called with bytes
/// of file content placed. Setting `cancel` (from a signal handler) stops the copy within
/// 64 MiB: [`Error::Cancelled`], the temporary file removed, a previous output untouched.
pub fn write(
    tree: &Tree,
    plan: &Plan,
    out: &Path,
    progress: &mut dyn FnMut(u64, u64),
    cancel: &AtomicBool,
) -> Result<()> {
    let werr = |source: io::Error| Error::Write {
        path: out.to_path_buf(),
        source,
    };
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".spindle-create-")
        .suffix(".part")
        // As any new file: 0666 less the umask (tempfile's own default is 0600).
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
        .tempfile_in(dir)
        .map_err(werr)?;
    let file = tmp.as_file();
    file.set_len(plan.bytes()).map_err(werr)?;
    let meta = meta::metadata(tree, plan);
    file.write_all_at(&meta, 0).map_err(werr)?;
    if let Some(g) = meta::gpt(plan, &meta) {
        let (at, backup) = g.backup();
        file.write_all_at(&backup, at).map_err(werr)?;
    }
    drop(meta);
    let total: u64 = tree.files.iter().map(|f| f.size).sum();
    let mut done = 0u64;
    progress(0, total);
    let stop = || {
        if cancel.load(Ordering::Relaxed) {
            Err(Error::Cancelled {
                path: out.to_path_buf(),
            })
        } else {
            Ok(())
        }
    };
    for (i, f) in tree.files.iter().enumerate() {
        stop()?;
        if f.size == 0 {
            continue;
        }
        let at = u64::from(plan.file_lba[i]) * SECTOR;
        let src = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc_o_nofollow())
            .open(&f.source)
            .map_err(read_err(&f.source))?;
        let now = src.metadata().map_err(read_err(&f.source))?;
        if now.len() != f.size || !now.is_file() {
            return Err(Error::Source {
                path: f.source.clone(),
                what: format!(
                    "changed while the image was written (was {} bytes, now {})",
                    f.size,
                    now.len()
                ),
            });
        }
        copy_sparse(&src, file, at, f.size, &f.source, out, &stop, &mut |n| {
            done += n;
            progress(done, total);
        })?;
        if let Some((off, bytes)) =
            crate::eltorito::patch_for(tree, &plan.boot, &plan.file_lba, i as u32)?
        {
            file.write_all_at(&bytes, at + off).map_err(werr)?;
        }
    }
    // Durable before it takes the output's name, as every spindle output.
    file.sync_all().map_err(werr)?;
    tmp.persist(out).map_err(|e| werr(e.error))?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn libc_o_nofollow() -> i32 {
    rustix::fs::OFlags::NOFOLLOW.bits() as i32
}

/// Copies the `size` bytes of `src` to `dst` at `at`, data ranges only, in pieces of at
/// most 64 MiB with `stop` asked before each.
#[allow(clippy::too_many_arguments)]
fn copy_sparse(
    src: &File,
    dst: &File,
    at: u64,
    size: u64,
    path: &Path,
    out: &Path,
    stop: &dyn Fn() -> Result<()>,
    step: &mut dyn FnMut(u64),
) -> Result<()> {
    let mut pos = 0u64;
    while pos < size {
        let data = match rustix::fs::seek(src, SeekFrom::Data(pos)) {
            Ok(d) => d,
            // No data after pos: the rest is a hole.
            Err(rustix::io::Errno::NXIO) => break,
            // A filesystem without SEEK_DATA: all data.
            Err(_) => pos,
        };
        if data >= size {
            break;
        }
        let hole = rustix::fs::seek(src, SeekFrom::Hole(data))
            .unwrap_or(size)
            .min(size)
            .min(data + (64 << 20));
        stop()?;
        copy_range(src, dst, data, at + data, hole - data, path, out)?;
        step(hole - pos);
        pos = hole;
    }
    if pos < size {
        step(size - pos);
    }
    Ok(())
}

/// Copies `len` bytes in the kernel, or by reading when it cannot.
fn copy_range(
    src: &File,
    dst: &File,
    from: u64,
    to: u64,
    len: u64,
    path: &Path,
    out: &Path,
) -> Result<()> {
    let mut done = spindle_fs::copy_file_range(src, from, dst, to, len).unwrap_or(0);
    let mut buf = Vec::new();
    while done < len {
        if buf.is_empty() {
            buf = vec![0u8; 1 << 20];
        }
        let want = (len - done).min(buf.len() as u64) as usize;
        let n = src
            .read_at(&mut buf[..want], from + done)
            .map_err(read_err(path))?;
        if n == 0 {
            return Err(Error::Source {
                path: path.to_path_buf(),
                what: "shrank while the image was written".into(),
            });
        }
        dst.write_all_at(&buf[..n], to + done)
            .map_err(|source| Error::Write {
                path: out.to_path_buf(),
                source,
            })?;
        done += n as u64;
    }
    Ok(())
}
