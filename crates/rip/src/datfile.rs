//! Redump-style datfiles: the `<rom>` line of one file ([`Digests::rom_line`]), the hash log
//! a rip writes beside its image ([`hash_log`]), and the XML escaping both need.

use crate::hash::Digests;
use std::path::Path;

/// Sorted LBAs as ranges for a message or a comment: `[10, 11, 12, 500]` as `10-12, 500`.
pub fn ranges(lbas: &[i64]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < lbas.len() {
        let mut j = i;
        while j + 1 < lbas.len() && lbas[j + 1] == lbas[j] + 1 {
            j += 1;
        }
        out.push(if i == j {
            lbas[i].to_string()
        } else {
            format!("{}-{}", lbas[i], lbas[j])
        });
        i = j + 1;
    }
    out.join(", ")
}

/// The redump name of track `n`'s file of a disc with `tracks` tracks: `STEM (Track N).EXT`
/// with several tracks (the number padded to two digits when there are ten or more), `STEM.EXT`
/// with one. Rip hash logs and `spindle verify` both name track files with it.
pub fn track_file_name(stem: &str, ext: &str, n: u8, tracks: usize) -> String {
    match tracks {
        0 | 1 => format!("{stem}.{ext}"),
        2..=9 => format!("{stem} (Track {n}).{ext}"),
        _ => format!("{stem} (Track {n:02}).{ext}"),
    }
}

/// The redump-form hash log of a rip to `out`: one `<game>` of the track files (named
/// `STEM (Track N).bin` on a CD with several tracks, `STEM.bin` or `STEM.iso` with one),
/// then, with several tracks, one of the whole image. `cd` picks `.bin` over `.iso`;
/// `source` (the drive) and `bad` (the LBAs read as zeros) go into comments.
pub fn hash_log(
    out: &Path,
    cd: bool,
    tracks: &[(u8, Digests)],
    whole: &Digests,
    source: &str,
    bad: &[i64],
) -> String {
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let ext = if cd { "bin" } else { "iso" };
    let mut s = String::from("<?xml version=\"1.0\"?>\n");
    s.push_str(&format!(
        "<!-- spindle rip from {}: {} -->\n",
        xml_comment(source),
        out.display()
    ));
    if bad.is_empty() {
        s.push_str("<!-- no errors -->\n");
    } else {
        s.push_str(&format!(
            "<!-- {} unreadable sector(s), zeros in the image: {} -->\n",
            bad.len(),
            ranges(bad)
        ));
    }
    s.push_str("<datafile>\n");
    s.push_str(&format!("\t<game name=\"{}\">\n", xml_escape(&stem)));
    s.push_str(&format!(
        "\t\t<description>{}</description>\n",
        xml_escape(&stem)
    ));
    for (n, d) in tracks {
        let name = track_file_name(&stem, ext, *n, tracks.len());
        s.push_str(&format!("\t\t{}\n", d.rom_line(&name)));
    }
    s.push_str("\t</game>\n");
    if tracks.len() > 1 {
        s.push_str(&format!(
            "\t<game name=\"{} (whole image)\">\n",
            xml_escape(&stem)
        ));
        s.push_str(&format!(
            "\t\t{}\n",
            whole.rom_line(&format!("{stem}.{ext}"))
        ));
        s.push_str("\t</game>\n");
    }
    s.push_str("</datafile>\n");
    s
}

/// `s` made safe inside a double-quoted XML attribute value: `&`, `"`, `<` and `>` become
/// entity references (what datfile `name="..."` values need).
pub fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `s` made safe inside an XML comment, which may not contain `--`.
fn xml_comment(s: &str) -> String {
    s.replace("--", "- -")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_ranges() {
        assert_eq!(
            xml_escape(r#"A & "B" <C>"#),
            "A &amp; &quot;B&quot; &lt;C&gt;"
        );
        assert_eq!(xml_comment("a--b"), "a- -b");
        assert_eq!(ranges(&[10, 11, 12, 500, 502, 503]), "10-12, 500, 502-503");
    }

    #[test]
    fn track_names_follow_redump() {
        assert_eq!(track_file_name("G", "iso", 1, 1), "G.iso");
        assert_eq!(track_file_name("G", "bin", 2, 3), "G (Track 2).bin");
        assert_eq!(track_file_name("G", "bin", 2, 12), "G (Track 02).bin");
        assert_eq!(track_file_name("G", "bin", 11, 12), "G (Track 11).bin");
    }
}
