//! Turning cue sheet bytes into numbered lines of tokens, and the small value parsers
//! (numbers, `mm:ss:ff` times) the commands share.
//!
//! Text: a UTF-8 BOM is skipped; UTF-16 (with its BOM, as some Windows tools write) is
//! decoded; anything else that is not valid UTF-8 is taken as Latin-1, the encoding older
//! rippers (EAC, CDRWIN) use for CD-TEXT titles. Lines end with LF, CRLF or a lone CR.
//!
//! Tokens are separated by whitespace. A token that starts with `"` runs to the next `"`
//! that is followed by whitespace or the end of the line, so that names with spaces and even
//! names with quotes inside (`"My "Song".wav"`, seen in the wild) survive.

/// Decodes a whole cue sheet into text.
pub(crate) fn decode(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return decode_8bit(rest);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return decode_utf16(rest, u16::from_le_bytes);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return decode_utf16(rest, u16::from_be_bytes);
    }
    decode_8bit(bytes)
}

fn decode_8bit(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        // Latin-1: every byte is the code point of the same value.
        Err(_) => bytes.iter().map(|&b| b as char).collect(),
    }
}

fn decode_utf16(bytes: &[u8], word: fn([u8; 2]) -> u16) -> String {
    let units = bytes.chunks_exact(2).map(|c| word([c[0], c[1]]));
    char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// The lines of `text` with their 1-based numbers (LF, CRLF and lone CR all end a line).
pub(crate) fn lines(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut number = 1;
    while !rest.is_empty() {
        match rest.find(['\n', '\r']) {
            Some(at) => {
                out.push((number, &rest[..at]));
                let skip = if rest[at..].starts_with("\r\n") { 2 } else { 1 };
                rest = &rest[at + skip..];
            }
            None => {
                out.push((number, rest));
                rest = "";
            }
        }
        number += 1;
    }
    out
}

/// One word of a line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    /// The text, without the quotes of a quoted token.
    pub text: &'a str,
    pub quoted: bool,
    /// Byte offset of the token (its opening quote) in the line.
    pub start: usize,
}

/// Splits a line into tokens. Fails (with the offending text) on a quote that never closes.
pub(crate) fn tokenize(line: &str) -> Result<Vec<Token<'_>>, String> {
    let mut tokens = Vec::new();
    let mut chars = line.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        if c == '"' {
            chars.next();
            let body = start + 1;
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                if c == '"' && chars.peek().is_none_or(|&(_, n)| n.is_whitespace()) {
                    end = Some(i);
                    break;
                }
            }
            let end =
                end.ok_or_else(|| format!("unterminated quoted text {:?}", &line[start..]))?;
            tokens.push(Token {
                text: &line[body..end],
                quoted: true,
                start,
            });
        } else {
            let mut end = line.len();
            while let Some(&(i, c)) = chars.peek() {
                if c.is_whitespace() {
                    end = i;
                    break;
                }
                chars.next();
            }
            tokens.push(Token {
                text: &line[start..end],
                quoted: false,
                start,
            });
        }
    }
    Ok(tokens)
}

/// A decimal number of at most `max_digits` digits (so that it cannot overflow).
pub(crate) fn number(text: &str, max_digits: usize) -> Option<u32> {
    if text.is_empty() || text.len() > max_digits || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Parses a cue time `mm:ss:ff` (75 frames a second) into a count of frames. The error says
/// what is wrong, for messages like `bad time "00:00:100" (frames must be below 75)`.
pub(crate) fn msf(text: &str) -> Result<u32, &'static str> {
    let parts: Vec<&str> = text.split(':').collect();
    let [m, s, f] = parts.as_slice() else {
        return Err("expected mm:ss:ff");
    };
    // Generous digit limits: the range checks below give the useful message.
    let (Some(m), Some(s), Some(f)) = (number(m, 9), number(s, 9), number(f, 9)) else {
        return Err("expected mm:ss:ff with decimal digits");
    };
    if f >= 75 {
        return Err("frames must be below 75");
    }
    if s >= 60 {
        return Err("seconds must be below 60");
    }
    if m >= 100 {
        return Err("minutes must be below 100");
    }
    Ok((m * 60 + s) * 75 + f)
}

/// Case-insensitive keyword comparison.
pub(crate) fn is(token: &Token, keyword: &str) -> bool {
    !token.quoted && token.text.eq_ignore_ascii_case(keyword)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_endings_and_bom() {
        let text = decode(b"\xEF\xBB\xBFFILE a\r\nTRACK\rINDEX\n\nlast");
        let l = lines(&text);
        assert_eq!(
            l,
            vec![
                (1, "FILE a"),
                (2, "TRACK"),
                (3, "INDEX"),
                (4, ""),
                (5, "last")
            ]
        );
        assert_eq!(decode(b"caf\xE9"), "caf\u{e9}");
        assert_eq!(decode(b"\xFF\xFEA\0B\0"), "AB");
    }

    #[test]
    fn tokens() {
        let t = tokenize(r#"  FILE "My "Song".wav"   WAVE"#).unwrap();
        assert_eq!(
            t.iter().map(|t| t.text).collect::<Vec<_>>(),
            vec!["FILE", r#"My "Song".wav"#, "WAVE"]
        );
        assert!(t[1].quoted && !t[2].quoted);
        assert_eq!(tokenize(r#"TITLE """#).unwrap()[1].text, "");
        assert!(tokenize(r#"FILE "abc BINARY"#).is_err());
        assert!(tokenize("\u{a0}é\"").is_ok());
    }

    #[test]
    fn times() {
        assert_eq!(msf("00:02:00"), Ok(150));
        assert_eq!(msf("99:59:74"), Ok(449_999));
        assert_eq!(msf("00:00:100"), Err("frames must be below 75"));
        assert_eq!(msf("00:90:00"), Err("seconds must be below 60"));
        assert!(msf("xx:yy:0").is_err());
        assert!(msf("99999999999:00:00").is_err());
        assert!(msf("1:2").is_err());
        assert!(msf("").is_err());
    }
}
