//! The full TOC (MMC READ TOC format 2): the entries a drive reads from each session's
//! lead-in. Images that store it (MDS, CCD, NRG) keep theirs in `Disc::full_toc`; for the
//! others it is generated here from the tracks.

use crate::addr::Msf;
use crate::medium::TocEntry;
use crate::model::Disc;

/// Outermost lead-out a B0 entry announces (the usual 79:59:74 of a 80-minute disc).
const MAX_LEADOUT: Msf = Msf { m: 79, s: 59, f: 74 };

impl Disc {
    /// The full TOC: stored entries when the image had them, else generated (A0, A1, A2 and
    /// one entry per track for each session, and B0 pointing at the next session for every
    /// session but the last). MSF fields are binary.
    pub fn full_toc_entries(&self) -> Vec<TocEntry> {
        if !self.full_toc.is_empty() {
            return self.full_toc.clone();
        }
        let mut out = Vec::new();
        for (i, s) in self.sessions.iter().enumerate() {
            let (Some(first), Some(last)) = (s.first_track(), s.last_track()) else {
                continue;
            };
            let entry = |adr_ctl: u8, point: u8, p: Msf| TocEntry {
                session: s.number,
                adr_ctl,
                tno: 0,
                point,
                min: 0,
                sec: 0,
                frame: 0,
                zero: 0,
                pmin: p.m,
                psec: p.s,
                pframe: p.f,
            };
            out.push(entry(
                (first.control() << 4) | 1,
                0xA0,
                Msf {
                    m: first.number,
                    s: s.format().code(),
                    f: 0,
                },
            ));
            out.push(entry(
                (last.control() << 4) | 1,
                0xA1,
                Msf {
                    m: last.number,
                    s: 0,
                    f: 0,
                },
            ));
            out.push(entry((last.control() << 4) | 1, 0xA2, s.leadout.to_msf()));
            for t in &s.tracks {
                out.push(entry((t.control() << 4) | 1, t.number, t.index1().to_msf()));
            }
            if let Some(next) = self.sessions.get(i + 1).and_then(|n| n.first_track()) {
                let mut b0 = entry((last.control() << 4) | 5, 0xB0, next.start.to_msf());
                (b0.min, b0.sec, b0.frame) = (MAX_LEADOUT.m, MAX_LEADOUT.s, MAX_LEADOUT.f);
                out.push(b0);
            }
        }
        out
    }
}
