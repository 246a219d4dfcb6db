//! M3U playlists of disc images (multi-disc sets): one image per line, relative to the
//! playlist; `#EXTM3U`, `#EXTINF:<secs>,<label>` and `#LABEL:<label>` (label of the next
//! entry), RetroArch's `<path>|<label>`; other `#` lines are comments. CRLF line ends and a
//! UTF-8 byte order mark are accepted. An entry that is itself a playlist (`.m3u`, `.m3u8`)
//! is read in its place; a playlist that includes itself, directly or through others, is
//! refused. Every error names the playlist and the line.

use std::fmt;
use std::path::{Path, PathBuf};

/// The most discs one set may hold (after nested playlists are read in).
pub const MAX_ENTRIES: usize = 64;
/// The longest line accepted, in bytes.
pub const MAX_LINE: usize = 4096;
/// The largest playlist file read, in bytes.
pub const MAX_FILE: u64 = 256 * 1024;
/// How deep playlists may include each other.
pub const MAX_DEPTH: usize = 8;

/// One line of a playlist that names a disc.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// The line number (from 1).
    pub line: usize,
    /// The path as written.
    pub target: String,
    /// Its label, when the playlist gives one.
    pub label: Option<String>,
}

/// One disc of a set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The image, resolved against its playlist's directory.
    pub path: PathBuf,
    /// Its label, when the playlist gives one.
    pub label: Option<String>,
    /// The playlist that names it.
    pub playlist: PathBuf,
    /// The line that names it.
    pub line: usize,
}

/// What is wrong with a playlist.
#[derive(Debug, thiserror::Error)]
pub enum PlaylistError {
    /// It cannot be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The playlist.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// One of its lines is wrong.
    #[error("{}:{line}: {problem}", path.display())]
    Line {
        /// The playlist.
        path: PathBuf,
        /// The line (from 1; 0: the file as a whole).
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// It names no disc.
    #[error("{}: the playlist names no disc", path.display())]
    Empty {
        /// The playlist.
        path: PathBuf,
    },
}

impl PlaylistError {
    /// The line at fault, if one is.
    pub fn line(&self) -> Option<usize> {
        match self {
            PlaylistError::Line { line, .. } if *line > 0 => Some(*line),
            _ => None,
        }
    }
}

/// An error in text that has no file name yet: the line and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineError {
    /// The line (from 1).
    pub line: usize,
    /// What is wrong.
    pub problem: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.problem)
    }
}

/// True when `path` names a playlist (`.m3u` or `.m3u8`, any case).
pub fn is_playlist(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("m3u") || e.eq_ignore_ascii_case("m3u8"))
}

/// The disc lines of a playlist's bytes, with their labels. Bounded: at most
/// [`MAX_ENTRIES`] entries of at most [`MAX_LINE`] bytes each.
pub fn parse(text: &[u8]) -> Result<Vec<Line>, LineError> {
    let text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
    let mut out = Vec::new();
    let mut pending: Option<String> = None;
    for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
        let line = i + 1;
        let err = |problem: String| LineError { line, problem };
        if raw.len() > MAX_LINE {
            return Err(err(format!("longer than {MAX_LINE} bytes")));
        }
        let s = std::str::from_utf8(raw).map_err(|_| err("not UTF-8 text".into()))?;
        let s = s.trim();
        if s.is_empty() {
            continue;
        }
        if let Some(rest) = s.strip_prefix('#') {
            if let Some(l) = strip_tag(rest, "EXTINF:") {
                // `#EXTINF:<seconds>[ attributes],<label>`
                pending = l.split_once(',').map(|(_, t)| t.trim().to_string());
            } else if let Some(l) = strip_tag(rest, "LABEL:") {
                pending = Some(l.trim().to_string());
            }
            pending = pending.filter(|l| !l.is_empty());
            continue;
        }
        if s.chars().any(char::is_control) {
            return Err(err("a control character in the line".into()));
        }
        let (target, label) = match s.split_once('|') {
            Some((p, l)) => (
                p.trim(),
                Some(l.trim().to_string()).filter(|l| !l.is_empty()),
            ),
            None => (s, None),
        };
        if target.is_empty() {
            return Err(err("no file before the '|'".into()));
        }
        if out.len() == MAX_ENTRIES {
            return Err(err(format!("more than {MAX_ENTRIES} discs")));
        }
        out.push(Line {
            line,
            target: target.to_string(),
            label: label.or(pending.take()),
        });
    }
    Ok(out)
}

fn strip_tag<'a>(s: &'a str, tag: &str) -> Option<&'a str> {
    let head = s.get(..tag.len())?;
    head.eq_ignore_ascii_case(tag).then(|| &s[tag.len()..])
}

/// Reads the playlist at `path` (absolute) and every playlist it names: the discs in
/// order. Each disc file must exist and be a file; the caller opens them.
pub fn read(path: &Path) -> Result<Vec<Entry>, PlaylistError> {
    let mut out = Vec::new();
    let mut stack = Vec::new();
    read_into(path, &mut stack, &mut out)?;
    if out.is_empty() {
        return Err(PlaylistError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(out)
}

fn read_into(
    path: &Path,
    stack: &mut Vec<PathBuf>,
    out: &mut Vec<Entry>,
) -> Result<(), PlaylistError> {
    let io = |source| PlaylistError::Io {
        path: path.to_path_buf(),
        source,
    };
    let at_line = |line: usize, problem: String| PlaylistError::Line {
        path: path.to_path_buf(),
        line,
        problem,
    };
    let canonical = path.canonicalize().map_err(io)?;
    let file = std::fs::File::open(&canonical).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(at_line(0, "not a regular file".into()));
    }
    if meta.len() > MAX_FILE {
        return Err(at_line(0, format!("larger than {MAX_FILE} bytes")));
    }
    let mut text = Vec::new();
    use std::io::Read;
    file.take(MAX_FILE + 1).read_to_end(&mut text).map_err(io)?;
    let lines = parse(&text).map_err(|e| at_line(e.line, e.problem))?;
    let dir = canonical.parent().unwrap_or(Path::new("/")).to_path_buf();
    stack.push(canonical);
    for l in lines {
        let p = dir.join(&l.target);
        let meta = std::fs::metadata(&p).map_err(|e| {
            let why = match e.kind() {
                std::io::ErrorKind::NotFound => "no such file".to_string(),
                _ => e.to_string(),
            };
            at_line(l.line, format!("{}: {why}", p.display()))
        })?;
        if !meta.is_file() {
            return Err(at_line(
                l.line,
                format!("{}: not a file (a disc image is)", p.display()),
            ));
        }
        if is_playlist(&p) {
            let c = p
                .canonicalize()
                .map_err(|e| at_line(l.line, e.to_string()))?;
            if stack.contains(&c) {
                return Err(at_line(
                    l.line,
                    format!(
                        "{}: a loop: this playlist is already being read",
                        p.display()
                    ),
                ));
            }
            if stack.len() >= MAX_DEPTH {
                return Err(at_line(
                    l.line,
                    format!("{}: playlists nested deeper than {MAX_DEPTH}", p.display()),
                ));
            }
            read_into(&p, stack, out).map_err(|e| match e {
                PlaylistError::Empty { path } => {
                    at_line(l.line, format!("{}: names no disc", path.display()))
                }
                e => e,
            })?;
            continue;
        }
        if out.len() == MAX_ENTRIES {
            return Err(at_line(l.line, format!("more than {MAX_ENTRIES} discs")));
        }
        out.push(Entry {
            path: p,
            label: l.label,
            playlist: path.to_path_buf(),
            line: l.line,
        });
    }
    stack.pop();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_three_ways_crlf_and_bom() {
        let t = b"\xEF\xBB\xBF#EXTM3U\r\n#EXTINF:0,First\r\na.iso\r\n# note\r\n#LABEL: Second \r\nb.cue\r\nc.chd|Third\r\n\r\nd.iso\r\n";
        let l = parse(t).unwrap();
        let got: Vec<_> = l
            .iter()
            .map(|l| (l.line, l.target.as_str(), l.label.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                (3, "a.iso", Some("First")),
                (6, "b.cue", Some("Second")),
                (7, "c.chd", Some("Third")),
                (9, "d.iso", None)
            ]
        );
    }

    #[test]
    fn bounds_and_bad_text_name_the_line() {
        let long = format!("a\n{}\n", "x".repeat(MAX_LINE + 1));
        assert_eq!(parse(long.as_bytes()).unwrap_err().line, 2);
        assert_eq!(parse(b"a.iso\n\xff.iso\n").unwrap_err().line, 2);
        assert_eq!(parse(b"a.iso\n|label\n").unwrap_err().line, 2);
        let many = "a.iso\n".repeat(MAX_ENTRIES + 1);
        assert_eq!(parse(many.as_bytes()).unwrap_err().line, MAX_ENTRIES + 1);
        assert!(parse(b"#EXTM3U\n# nothing\n").unwrap().is_empty());
    }

    #[test]
    fn files_loops_and_empty_lists() {
        let d = tempfile::tempdir().unwrap();
        let w = |n: &str, t: &str| std::fs::write(d.path().join(n), t).unwrap();
        w("a.iso", "x");
        w("set.m3u", "a.iso|A\nsub/../inner.m3u\n");
        std::fs::create_dir(d.path().join("sub")).unwrap();
        w("inner.m3u", "#LABEL:B\na.iso\n");
        let e = read(&d.path().join("set.m3u")).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[1].label.as_deref(), Some("B"));
        assert_eq!(e[1].line, 2);

        w("missing.m3u", "a.iso\n\nnone.iso\n");
        let m = read(&d.path().join("missing.m3u")).unwrap_err();
        assert_eq!(m.line(), Some(3), "{m}");
        assert!(m.to_string().contains("none.iso: no such file"), "{m}");

        w("self.m3u", "a.iso\nself.m3u\n");
        let s = read(&d.path().join("self.m3u")).unwrap_err();
        assert_eq!(s.line(), Some(2));
        assert!(s.to_string().contains("loop"), "{s}");

        w("x.m3u", "y.m3u\n");
        w("y.m3u", "a.iso\nx.m3u\n");
        let s = read(&d.path().join("x.m3u")).unwrap_err();
        assert!(s.to_string().contains("y.m3u:2:"), "{s}");

        w("empty.m3u", "#EXTM3U\n");
        assert!(matches!(
            read(&d.path().join("empty.m3u")),
            Err(PlaylistError::Empty { .. })
        ));
        w("dir.m3u", "sub\n");
        assert_eq!(read(&d.path().join("dir.m3u")).unwrap_err().line(), Some(1));
    }
}
