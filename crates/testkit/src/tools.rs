//! Running the external tools the tests use as oracles and to build fixtures. A tool that is
//! missing or fails fails the test, naming the command and what it printed: scripts/setup
//! installs every tool, so a missing one is a setup bug, not a reason to pass.

use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Fails the test unless `tool` is an executable file on `$PATH`.
pub fn require(tool: &str) {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false);
    assert!(found, "{tool} is not installed: run scripts/setup");
}

/// Runs `cmd` and fails the test unless it starts and succeeds; what it printed.
pub fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e} (scripts/setup installs the tools)"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs `cmd` as [`run`] does; its standard output as text.
pub fn stdout(cmd: &mut Command) -> String {
    String::from_utf8_lossy(&run(cmd).stdout).into_owned()
}

/// Runs the tool `name` with `args` as [`run`] does; its standard output as text.
pub fn tool(name: &str, args: &[&str]) -> String {
    stdout(Command::new(name).args(args))
}

/// Runs `sh -c script` in `dir` (standard input from /dev/null) as [`run`] does.
pub fn sh_in(dir: &Path, script: &str) {
    run(Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .stdin(Stdio::null()));
}
