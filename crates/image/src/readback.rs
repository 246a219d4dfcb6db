//! Reading a written image back and comparing it with the disc it was written from, so that
//! a writer that drops or moves something it claims to keep fails the conversion instead of
//! leaving a quietly different image.

use spindle_disc::{Disc, WriterCaps};

/// What differs between `src` and `back` (the image just written, read back) among the things
/// a writer with `caps` says it keeps: sessions, lead-outs, track numbers, index 0/1/2+
/// addresses, track ends, audio/data, CONTROL, MCN, ISRCs, CD-TEXT. Empty when they agree.
pub fn differences(src: &Disc, back: &Disc, caps: WriterCaps) -> Vec<String> {
    let mut out = Vec::new();
    if src.sessions.len() != back.sessions.len() {
        out.push(format!(
            "{} session(s) read back as {}",
            src.sessions.len(),
            back.sessions.len()
        ));
        return out;
    }
    for (a, b) in src.sessions.iter().zip(&back.sessions) {
        let na: Vec<u8> = a.tracks.iter().map(|t| t.number).collect();
        let nb: Vec<u8> = b.tracks.iter().map(|t| t.number).collect();
        if na != nb {
            out.push(format!(
                "session {}: tracks {na:?} read back as {nb:?}",
                a.number
            ));
            continue;
        }
        if a.leadout != b.leadout {
            out.push(format!(
                "session {}: lead-out at {} reads back at {}",
                a.number, a.leadout, b.leadout
            ));
        }
        for (t, u) in a.tracks.iter().zip(&b.tracks) {
            let n = t.number;
            let mut diff = |what: &str, x: String, y: String| {
                if x != y {
                    out.push(format!("track {n}: {what} {x} reads back as {y}"));
                }
            };
            diff(
                "index 0 (start) at",
                t.start.to_string(),
                u.start.to_string(),
            );
            diff("index 1 at", t.index1().to_string(), u.index1().to_string());
            diff("end at", t.end().to_string(), u.end().to_string());
            let kind = |d: &spindle_disc::Track| if d.mode.is_audio() { "audio" } else { "data" };
            diff("type", kind(t).into(), kind(u).into());
            diff(
                "CONTROL",
                format!("{:#x}", t.control()),
                format!("{:#x}", u.control()),
            );
            if caps.indexes {
                let list = |v: &[spindle_disc::Lba]| {
                    format!(
                        "[{}]",
                        v.iter()
                            .map(|l| l.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                diff(
                    "index 2 and later at",
                    list(&t.extra_indexes),
                    list(&u.extra_indexes),
                );
            }
            if caps.codes {
                let isrc = |d: &spindle_disc::Track| {
                    d.isrc
                        .as_ref()
                        .map_or("none".to_string(), |i| i.as_str().to_string())
                };
                diff("ISRC", isrc(t), isrc(u));
            }
        }
    }
    if caps.codes && src.mcn != back.mcn {
        let mcn = |d: &Disc| {
            d.mcn
                .as_ref()
                .map_or("none".to_string(), |m| m.as_str().to_string())
        };
        out.push(format!("MCN {} reads back as {}", mcn(src), mcn(back)));
    }
    let text = |d: &Disc| d.cdtext.clone().filter(|t| !t.blocks.is_empty());
    if caps.cdtext && text(src) != text(back) {
        out.push("CD-TEXT reads back different".into());
    }
    out
}
