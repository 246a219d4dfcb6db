//! `--exclude` patterns: shell wildcards (`*`, `?`, `[abc]`, `[a-z]`, `[!x]`) matched against
//! an entry's name, or against its path from the source folder when the pattern holds a `/`
//! (`*` then matches across `/` too, as rsync's `**` would; a leading `/` is ignored).

/// A set of exclusion patterns.
#[derive(Clone, Debug, Default)]
pub struct Exclude {
    patterns: Vec<Vec<u8>>,
    /// Device and inode of a file never taken (the output being replaced).
    file: Option<(u64, u64)>,
}

impl Exclude {
    /// The patterns as given on the command line.
    pub fn new<S: AsRef<str>>(patterns: impl IntoIterator<Item = S>) -> Exclude {
        Exclude {
            patterns: patterns
                .into_iter()
                .map(|p| p.as_ref().trim_start_matches('/').as_bytes().to_vec())
                .collect(),
            file: None,
        }
    }

    /// Also leaves out `path` if it exists (the output, when it lies inside a source folder:
    /// the old image is not put into the new one).
    pub fn file(mut self, path: &std::path::Path) -> Exclude {
        use std::os::unix::fs::MetadataExt;
        self.file = std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()));
        self
    }

    /// Whether the file with this device and inode is the one left out.
    pub fn excludes_file(&self, dev: u64, ino: u64) -> bool {
        self.file == Some((dev, ino))
    }

    /// Whether the entry `name`, at `rel` (its path below the source folder, no leading `/`),
    /// is excluded.
    pub fn excludes(&self, name: &[u8], rel: &[u8]) -> bool {
        self.patterns.iter().any(|p| {
            let subject = if p.contains(&b'/') { rel } else { name };
            matches(p, subject)
        })
    }
}

/// Wildcard match without recursion: on a mismatch after a `*`, the star takes one more byte.
fn matches(pat: &[u8], s: &[u8]) -> bool {
    let (mut p, mut i) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        if p < pat.len() {
            match pat[p] {
                b'*' => {
                    star = Some((p, i));
                    p += 1;
                    continue;
                }
                b'?' => {
                    p += 1;
                    i += 1;
                    continue;
                }
                b'[' => {
                    if let Some((hit, next)) = class(&pat[p..], s[i]) {
                        if hit {
                            p += next;
                            i += 1;
                            continue;
                        }
                    } else if s[i] == b'[' {
                        p += 1;
                        i += 1;
                        continue;
                    }
                }
                c => {
                    if c == s[i] {
                        p += 1;
                        i += 1;
                        continue;
                    }
                }
            }
        }
        match star {
            Some((sp, si)) => {
                p = sp + 1;
                i = si + 1;
                star = Some((sp, si + 1));
            }
            None => return false,
        }
    }
    pat[p..].iter().all(|&c| c == b'*')
}

/// A `[...]` class at the start of `pat`: whether `c` is in it, and the class's length;
/// `None` when the bracket is not closed (then it is a literal `[`).
fn class(pat: &[u8], c: u8) -> Option<(bool, usize)> {
    let mut j = 1;
    let negate = matches!(pat.get(j), Some(b'!' | b'^'));
    if negate {
        j += 1;
    }
    let mut hit = false;
    let mut first = true;
    while j < pat.len() {
        if pat[j] == b']' && !first {
            return Some((hit != negate, j + 1));
        }
        first = false;
        if pat.get(j + 1) == Some(&b'-') && pat.get(j + 2).is_some_and(|&e| e != b']') {
            hit |= (pat[j]..=pat[j + 2]).contains(&c);
            j += 3;
        } else {
            hit |= pat[j] == c;
            j += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(matches(b"*.o", b"main.o"));
        assert!(!matches(b"*.o", b"main.c"));
        assert!(matches(b"a*b*c", b"aXXbYYbc"));
        assert!(matches(b"?.txt", b"a.txt"));
        assert!(!matches(b"?.txt", b"ab.txt"));
        assert!(matches(b"[a-c]x", b"bx"));
        assert!(!matches(b"[!a-c]x", b"bx"));
        assert!(matches(b"[x", b"[x"));
        assert!(matches(b"*", b""));
        let e = Exclude::new(["/build/*.tmp", ".git"]);
        assert!(e.excludes(b"a.tmp", b"build/a.tmp"));
        assert!(!e.excludes(b"a.tmp", b"src/a.tmp"));
        assert!(e.excludes(b".git", b"x/.git"));
    }
}
