//! What can go wrong when building or booting a test VM.

use std::path::PathBuf;

/// A harness error: the VM could not be built or booted, or its checks failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A tool the harness needs is not installed.
    #[error("{tool} is missing ({hint})")]
    MissingTool {
        /// The tool's name.
        tool: String,
        /// How to install it.
        hint: String,
    },
    /// The kernel package could not be found or fetched.
    #[error("kernel: {0}")]
    Kernel(String),
    /// A kernel module the test names does not exist or cannot be read.
    #[error("kernel module {name}: {detail}")]
    Module {
        /// The module's name.
        name: String,
        /// What is wrong.
        detail: String,
    },
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
    /// A helper command failed.
    #[error("{command} failed: {detail}")]
    Command {
        /// The command line, or the command's name.
        command: String,
        /// What went wrong: its exit status and output, or why it could not run.
        detail: String,
    },
    /// The VM ran, but a check failed, a check is missing, or it did not finish.
    #[error("VM test {name} failed: {summary}\n--- console ({}) ---\n{console}--- end of console ---", log.display())]
    Failed {
        /// The test's name.
        name: String,
        /// The failed and missing checks, or why the VM did not finish.
        summary: String,
        /// The guest's serial console output, then QEMU's stderr if it wrote any.
        console: String,
        /// Where the whole console log was saved.
        log: PathBuf,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
