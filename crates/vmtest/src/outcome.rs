//! The markers the guest prints on its serial console, read back.

use std::path::PathBuf;
use std::time::Duration;

/// What one boot printed and how it ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The test's name.
    pub name: String,
    /// The whole serial console (QEMU's standard output).
    pub console: String,
    /// QEMU's standard error.
    pub stderr: String,
    /// Where the console was saved.
    pub log: PathBuf,
    /// Checks that printed `VMTEST PASS name`, in order.
    pub passed: Vec<String>,
    /// Checks that printed `VMTEST FAIL name: detail`, in order.
    pub failed: Vec<(String, String)>,
    /// Values the guest reported with `VMTEST VALUE name value` (timings, sizes), in order.
    pub values: Vec<(String, String)>,
    /// The guest printed `VMTEST DONE`.
    pub done: bool,
    /// The run was killed at its time limit.
    pub timed_out: bool,
    /// Wall time from QEMU's start to its exit.
    pub elapsed: Duration,
}

/// The markers of one console.
#[derive(Debug, Default)]
pub(crate) struct Markers {
    pub passed: Vec<String>,
    pub failed: Vec<(String, String)>,
    pub values: Vec<(String, String)>,
    pub done: bool,
}

/// The markers found in `console`.
pub(crate) fn parse(console: &str) -> Markers {
    let mut m = Markers::default();
    for line in console.lines() {
        // Kernel messages can share a line with ours: look for the marker anywhere.
        let Some(at) = line.find("VMTEST ") else {
            continue;
        };
        let marker = line[at + 7..].trim_end_matches(['\r', ' ']);
        if let Some(name) = marker.strip_prefix("PASS ") {
            m.passed.push(name.trim().to_string());
        } else if let Some(rest) = marker.strip_prefix("FAIL ") {
            let (name, detail) = rest.split_once(':').unwrap_or((rest, ""));
            m.failed
                .push((name.trim().to_string(), detail.trim().to_string()));
        } else if let Some(rest) = marker.strip_prefix("VALUE ") {
            let (name, value) = rest.trim().split_once(' ').unwrap_or((rest.trim(), ""));
            m.values.push((name.to_string(), value.trim().to_string()));
        } else if marker == "DONE" {
            m.done = true;
        }
    }
    m
}

impl Outcome {
    /// The last value the guest reported as `name` (`vmtest_value name value`).
    pub fn value(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Why this run does not count as a pass with every check in `expected` passed: `None` when
    /// it does (`DONE` printed, no failure, every expected check passed).
    pub fn problems<S: AsRef<str>>(&self, expected: &[S]) -> Option<String> {
        let mut problems = Vec::new();
        if self.timed_out {
            problems.push(format!(
                "timed out after {:.0} s",
                self.elapsed.as_secs_f64()
            ));
        }
        if !self.done {
            problems.push("the guest never printed VMTEST DONE".to_string());
        }
        for (name, detail) in &self.failed {
            problems.push(format!("{name} failed: {detail}"));
        }
        let missing: Vec<&str> = expected
            .iter()
            .map(AsRef::as_ref)
            .filter(|e| !self.passed.iter().any(|p| p == e))
            .collect();
        if !missing.is_empty() {
            problems.push(format!("no PASS from {}", missing.join(", ")));
        }
        if problems.is_empty() {
            None
        } else {
            Some(problems.join("; "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_read_from_noisy_lines() {
        let console = "boot\r\nVMTEST PASS modules\r\n[ 1.0] sr 0:0:0:0: VMTEST PASS sr0\nVMTEST FAIL hash: COPYING: FAILED\n\
                       VMTEST VALUE rip-seconds 1.25\r\nVMTEST DONE\r\n";
        let m = parse(console);
        assert_eq!(m.passed, ["modules", "sr0"]);
        assert_eq!(
            m.failed,
            [("hash".to_string(), "COPYING: FAILED".to_string())]
        );
        assert_eq!(m.values, [("rip-seconds".to_string(), "1.25".to_string())]);
        assert!(m.done);
    }

    #[test]
    fn a_missing_check_or_done_is_a_problem() {
        let Markers {
            passed,
            failed,
            values,
            done,
        } = parse("VMTEST PASS a\n");
        let o = Outcome {
            name: "t".into(),
            console: String::new(),
            stderr: String::new(),
            log: PathBuf::new(),
            passed,
            failed,
            values,
            done,
            timed_out: false,
            elapsed: Duration::from_secs(1),
        };
        let p = o.problems(&["a", "b"]).unwrap();
        assert!(
            p.contains("VMTEST DONE") && p.contains("no PASS from b"),
            "{p}"
        );
        let o = Outcome { done: true, ..o };
        assert!(o.problems(&["a"]).is_none());
    }
}
