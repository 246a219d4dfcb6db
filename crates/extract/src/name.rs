//! Names from an image are data, never paths: one name is one directory entry.

use std::fmt;
use std::path::Path;

/// Why a name from the image is not used as a directory entry name.
pub fn refusal(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("an empty name")
    } else if name == "." || name == ".." {
        Some("a name that means a directory itself or its parent")
    } else if name.contains('/') {
        Some("a name with a '/' in it (an absolute or multi-part path)")
    } else if name.contains('\0') {
        Some("a name with a NUL byte in it")
    } else if name.len() > 255 {
        Some("a name longer than 255 bytes")
    } else if is_temp_name(name) {
        Some("a name of the form extract uses for its unfinished files")
    } else {
        None
    }
}

/// The prefix of the temporary names files are written under before they are renamed into
/// place; names of this form in an image are refused, so that none is mistaken for one.
pub const TEMP_PREFIX: &str = ".spindle-";

/// Whether `name` is of the form of extract's temporary names (`.spindle-<16 hex>.tmp`).
pub fn is_temp_name(name: &str) -> bool {
    name.strip_prefix(TEMP_PREFIX)
        .and_then(|r| r.strip_suffix(".tmp"))
        .is_some_and(|hex| hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Shows a path with control characters escaped (`\n`, `\u{1b}`): a name from an image
/// cannot move the cursor or rewrite a terminal line of our messages.
pub struct Shown<'a>(pub &'a Path);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0.to_string_lossy();
        for c in s.chars() {
            if c.is_control() {
                write!(f, "{}", c.escape_debug())?;
            } else {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

/// [`Shown`] for a name.
pub fn shown(name: &str) -> String {
    Shown(Path::new(name)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_names_that_are_not_one_entry() {
        for bad in [
            "",
            ".",
            "..",
            "/",
            "/etc/passwd",
            "a/b",
            "../x",
            "a\0b",
            ".spindle-0123456789abcdef.tmp",
        ] {
            assert!(refusal(bad).is_some(), "{bad:?}");
        }
        assert!(refusal(&"x".repeat(256)).is_some());
        for good in [
            "x",
            "...",
            ".hidden",
            "a b",
            "é",
            ".spindle-x.tmp",
            "a\nb",
            &"x".repeat(255),
        ] {
            assert_eq!(refusal(good), None, "{good:?}");
        }
    }

    #[test]
    fn escapes_control_characters() {
        assert_eq!(shown("a\nb\u{1b}[2J"), "a\\nb\\u{1b}[2J");
        assert_eq!(shown("plain é"), "plain é");
    }
}
