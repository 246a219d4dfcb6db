//! Reading request lines under deadlines: at most [`crate::limits::Limits::idle_timeout`]
//! between requests, and [`crate::limits::Limits::line_timeout`] from a line's first byte to
//! its newline; a line longer than [`MAX_LINE`] is skipped to its newline.

use spindle_protocol::MAX_LINE;
use std::io::{BufRead, ErrorKind};
use std::time::{Duration, Instant};

pub(super) enum Line {
    Request(Vec<u8>),
    TooLong,
    /// The peer closed in the middle of a line.
    Partial,
    Eof,
    Timeout,
    Failed,
}

/// When a line must be complete: [`Limits::idle_timeout`] after `since` (the previous reply,
/// or the connection), and [`Limits::line_timeout`] after its first byte, whichever is first.
pub(super) struct Deadlines {
    pub(super) since: Instant,
    pub(super) idle: Duration,
    pub(super) line: Duration,
}

impl Deadlines {
    fn deadline(&self, first_byte: Option<Instant>) -> Instant {
        let idle = self.since + self.idle;
        first_byte.map_or(idle, |f| idle.min(f + self.line))
    }
}

/// Reads one line; `set_timeout` arms the next read's timeout (the time left before the
/// deadline).
pub(super) fn read_line<R: BufRead>(
    r: &mut R,
    d: &Deadlines,
    mut set_timeout: impl FnMut(&mut R, Duration),
) -> Line {
    let mut line = Vec::new();
    let mut too_long = false;
    let mut first_byte = None;
    loop {
        let left = d
            .deadline(first_byte)
            .saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Line::Timeout;
        }
        set_timeout(r, left.max(Duration::from_millis(1)));
        let buf = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Line::Timeout;
            }
            Err(_) => return Line::Failed,
        };
        if buf.is_empty() {
            return if line.is_empty() && !too_long {
                Line::Eof
            } else {
                Line::Partial
            };
        }
        first_byte.get_or_insert_with(Instant::now);
        let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        if !too_long {
            if line.len() + chunk.len() > MAX_LINE {
                too_long = true;
                line = Vec::new();
            } else {
                line.extend_from_slice(chunk);
            }
        }
        let used = done.unwrap_or(buf.len());
        r.consume(used);
        if done.is_some() {
            return if too_long {
                Line::TooLong
            } else {
                Line::Request(line)
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufReader;

    fn lines(input: &[u8]) -> Vec<String> {
        let mut r = BufReader::with_capacity(16, input);
        let mut out = Vec::new();
        let d = Deadlines {
            since: Instant::now(),
            idle: Duration::from_secs(60),
            line: Duration::from_secs(60),
        };
        loop {
            match read_line(&mut r, &d, |_, _| {}) {
                Line::Request(l) => out.push(String::from_utf8(l).unwrap()),
                Line::TooLong => out.push("<long>".into()),
                Line::Partial => out.push("<partial>".into()),
                Line::Eof => return out,
                Line::Timeout | Line::Failed => out.push("<err>".into()),
            }
            if out.last().is_some_and(|l| l == "<partial>") {
                return out;
            }
        }
    }

    #[test]
    fn the_line_deadline_counts_from_the_first_byte_and_the_idle_one_from_the_reply() {
        let now = Instant::now();
        let d = Deadlines {
            since: now,
            idle: Duration::from_secs(120),
            line: Duration::from_secs(10),
        };
        assert_eq!(d.deadline(None), now + Duration::from_secs(120));
        assert_eq!(
            d.deadline(Some(now + Duration::from_secs(5))),
            now + Duration::from_secs(15)
        );
        assert_eq!(
            d.deadline(Some(now + Duration::from_secs(115))),
            now + Duration::from_secs(120)
        );
        // A reader past its deadline is not read again.
        let past = Deadlines {
            since: now - Duration::from_secs(200),
            ..d
        };
        let mut r = BufReader::new(&b"{}\n"[..]);
        assert!(matches!(read_line(&mut r, &past, |_, _| {}), Line::Timeout));
    }

    #[test]
    fn splits_lines_and_skips_long_ones() {
        let mut input = b"a\nbc\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', MAX_LINE + 10));
        input.extend(b"\nd\npart");
        assert_eq!(lines(&input), ["a", "bc", "<long>", "d", "<partial>"]);
    }
}
