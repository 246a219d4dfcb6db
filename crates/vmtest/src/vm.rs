//! A VM test: what goes into the guest, how QEMU is started, what must pass.

use crate::initramfs::Initramfs;
use crate::kernel::Kernel;
use crate::modules::ModuleIndex;
use crate::outcome::{Outcome, parse};
use crate::paths::{spindle_binary, target_dir};
use crate::qemu::{Boot, FileLock, boot};
use crate::{Error, Result};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

const INIT: &str = include_str!("guest/init.sh");
const LIB: &str = include_str!("guest/lib.sh");

/// The busybox the guest runs (Debian's busybox-static; a dynamic one works too).
const BUSYBOX: &str = "/bin/busybox";

enum Entry {
    File(PathBuf, String),
    Binary(PathBuf, String),
    Spindle(String),
    Bytes(String, Vec<u8>, u32),
}

/// One boot of the test VM: built with the methods below, then [`VmTest::run`] or
/// [`VmTest::run_checked`].
pub struct VmTest {
    name: String,
    modules: Vec<String>,
    entries: Vec<Entry>,
    script: String,
    qemu_args: Vec<OsString>,
    expect: Vec<String>,
    timeout: Duration,
    memory_mb: u32,
    append: Vec<String>,
}

impl VmTest {
    /// A test called `name` (also the name of its folder under target/vmtest/).
    pub fn new(name: &str) -> VmTest {
        VmTest {
            name: name.to_string(),
            modules: Vec::new(),
            entries: Vec::new(),
            script: String::new(),
            qemu_args: Vec::new(),
            expect: vec!["modules".to_string()],
            timeout: Duration::from_secs(120),
            memory_mb: 1024,
            append: Vec::new(),
        }
    }

    /// Kernel modules to load (by name; their dependencies are added and loaded first).
    pub fn modules<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.modules.extend(names.into_iter().map(Into::into));
        self
    }

    /// Copies host file `host` to `guest` (e.g. `/data/sample.iso`).
    pub fn file(mut self, host: impl Into<PathBuf>, guest: &str) -> Self {
        self.entries
            .push(Entry::File(host.into(), guest.to_string()));
        self
    }

    /// Writes `bytes` to `guest` (mode 0644), e.g. an expected-hashes file.
    pub fn data(mut self, guest: &str, bytes: impl Into<Vec<u8>>) -> Self {
        self.entries
            .push(Entry::Bytes(guest.to_string(), bytes.into(), 0o644));
        self
    }

    /// Copies an executable with its shared libraries.
    pub fn binary(mut self, host: impl Into<PathBuf>, guest: &str) -> Self {
        self.entries
            .push(Entry::Binary(host.into(), guest.to_string()));
        self
    }

    /// Puts our `spindle` binary (built now, debug profile) at `/bin/spindle`.
    pub fn spindle(mut self) -> Self {
        self.entries
            .push(Entry::Spindle("/bin/spindle".to_string()));
        self
    }

    /// Appends shell text to the test script (run by busybox sh after the modules are loaded,
    /// with the helpers of guest/lib.sh: vmtest_check, vmtest_pass, vmtest_fail, vmtest_wait,
    /// vmtest_sums).
    pub fn script(mut self, text: &str) -> Self {
        self.script.push_str(text);
        if !text.ends_with('\n') {
            self.script.push('\n');
        }
        self
    }

    /// Extra QEMU arguments (`-cdrom X`, `-drive ...`, `-device ...`).
    pub fn qemu_args<I: IntoIterator<Item = S>, S: Into<OsString>>(mut self, args: I) -> Self {
        self.qemu_args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Checks that must print `VMTEST PASS name` (`modules` is always expected).
    pub fn expect<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.expect.extend(names.into_iter().map(Into::into));
        self
    }

    /// The time limit of the boot (default 120 s; TCG boots take 10-30 s).
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    /// Guest memory in MiB (default 1024).
    pub fn memory_mb(mut self, mb: u32) -> Self {
        self.memory_mb = mb;
        self
    }

    /// An extra kernel command-line word.
    pub fn append(mut self, word: &str) -> Self {
        self.append.push(word.to_string());
        self
    }

    /// The folder the test's initramfs, staging tree and console log go in.
    pub fn work_dir(&self) -> PathBuf {
        target_dir().join("vmtest").join(&self.name)
    }

    /// Builds the initramfs and boots it once; an `Err` means the VM could not be built or
    /// started (a missing tool, kernel or module). Whether the checks passed is in the outcome.
    pub fn run(&self) -> Result<Outcome> {
        let kernel = Kernel::get()?;
        let work = self.work_dir();
        std::fs::create_dir_all(&work).map_err(|e| Error::io(&work, e))?;
        let initrd = work.join("initrd.cpio");
        self.build(&kernel, &work.join("root"), &initrd)?;
        let mut append = vec![
            "console=ttyS0".to_string(),
            "quiet".to_string(),
            "panic=-1".to_string(),
        ];
        append.extend(self.append.iter().cloned());
        let lock = FileLock::take(&target_dir().join("vmtest/.boot.lock"))?;
        let log = work.join("console.log");
        let run = boot(&Boot {
            vmlinuz: &kernel.vmlinuz,
            initrd: &initrd,
            memory_mb: self.memory_mb,
            append: append.join(" "),
            extra: &self.qemu_args,
            timeout: self.timeout,
            log: log.clone(),
        })?;
        drop(lock);
        let m = parse(&run.console);
        Ok(Outcome {
            name: self.name.clone(),
            console: run.console,
            stderr: run.stderr,
            log,
            passed: m.passed,
            failed: m.failed,
            values: m.values,
            done: m.done,
            timed_out: run.timed_out,
            elapsed: run.elapsed,
        })
    }

    /// [`VmTest::run`], then an error (with the console) unless the guest printed `VMTEST DONE`,
    /// no `VMTEST FAIL`, and a `VMTEST PASS` for every expected check.
    pub fn run_checked(&self) -> Result<Outcome> {
        let outcome = self.run()?;
        match outcome.problems(&self.expect) {
            None => Ok(outcome),
            Some(summary) => {
                let mut console = outcome.console.replace('\r', "");
                if !outcome.stderr.trim().is_empty() {
                    console.push_str("--- qemu stderr ---\n");
                    console.push_str(&outcome.stderr);
                }
                if !console.ends_with('\n') {
                    console.push('\n');
                }
                Err(Error::Failed {
                    name: self.name.clone(),
                    summary,
                    console,
                    log: outcome.log,
                })
            }
        }
    }

    fn build(&self, kernel: &Kernel, stage: &Path, initrd: &Path) -> Result<()> {
        let busybox = Path::new(BUSYBOX);
        if !busybox.is_file() {
            return Err(Error::MissingTool {
                tool: BUSYBOX.into(),
                hint: "apt-get install busybox-static (scripts/setup installs it)".into(),
            });
        }
        let mut fs = Initramfs::new(stage)?;
        // busybox-static needs nothing else; a dynamic busybox brings its libraries.
        fs.binary(busybox, "/bin/busybox")?;
        fs.bytes("/init", INIT.as_bytes(), 0o755)?;
        fs.bytes("/vmtest/lib.sh", LIB.as_bytes(), 0o644)?;
        fs.bytes("/vmtest/test.sh", self.script.as_bytes(), 0o644)?;
        let index = ModuleIndex::new(&kernel.modules)?;
        let mut list = String::new();
        for ko in index.resolve(&self.modules)? {
            let rel = ko.strip_prefix(&kernel.modules).unwrap_or(&ko);
            let guest = format!("/lib/modules/{}/{}", kernel.release, rel.display());
            fs.file(&ko, &guest)?;
            list.push_str(&guest);
            list.push('\n');
        }
        fs.bytes("/vmtest/modules", list.as_bytes(), 0o644)?;
        for entry in &self.entries {
            match entry {
                Entry::File(host, guest) => fs.file(host, guest)?,
                Entry::Binary(host, guest) => fs.binary(host, guest)?,
                Entry::Spindle(guest) => fs.binary(&spindle_binary()?, guest)?,
                Entry::Bytes(guest, bytes, mode) => fs.bytes(guest, bytes, *mode)?,
            }
        }
        fs.pack(initrd)
    }
}
