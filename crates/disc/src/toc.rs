//! The full TOC (MMC READ TOC format 2): the entries a drive reads from each session's
//! lead-in. Images that store it (MDS, CCD, NRG) keep theirs in `Disc::full_toc`; for the
//! others it is generated here from the tracks.

use crate::addr::Msf;
use crate::medium::TocEntry;
use crate::model::Disc;

/// Outermost lead-out a B0 entry announces (the usual 79:59:74 of a 80-minute disc).
const MAX_LEADOUT: Msf = Msf {
    m: 79,
    s: 59,
    f: 74,
};

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
            // B0 (ADR 5): MIN/SEC/FRAME are the start of the next possible program area (the
            // next session's first track), PMIN/PSEC/PFRAME the latest start of the outermost
            // lead-out (MMC's lead-in Q table for mode 5).
            if let Some(next) = self.sessions.get(i + 1).and_then(|n| n.first_track()) {
                let mut b0 = entry((last.control() << 4) | 5, 0xB0, MAX_LEADOUT);
                let at = next.start.to_msf();
                (b0.min, b0.sec, b0.frame) = (at.m, at.s, at.f);
                out.push(b0);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::addr::Lba;
    use crate::extent::Extent;
    use crate::medium::Medium;
    use crate::model::{Disc, Session, SourceInfo, Track, TrackFlags, TrackMode};

    fn track(number: u8, mode: TrackMode, start: i32, length: u32) -> Track {
        Track {
            number,
            mode,
            flags: TrackFlags::default(),
            isrc: None,
            start: Lba(start),
            pregap: 150,
            extra_indexes: vec![],
            length,
            postgap: 0,
            extents: vec![Extent::zero(150 + length)],
        }
    }

    /// Two sessions: B0 in session 1 has the next program area (session 2's first track,
    /// from its pregap) in MIN/SEC/FRAME and the outermost lead-out 79:59:74 in
    /// PMIN/PSEC/PFRAME; the last session has no B0.
    #[test]
    fn b0_fields() {
        let mut disc = Disc::new(Medium::CdRom, SourceInfo::default());
        disc.sessions.push(Session {
            number: 1,
            tracks: vec![track(1, TrackMode::Audio, -150, 300)],
            leadout: Lba(300),
        });
        // Session 2 after the 11400-sector gap (6750 lead-out + 4500 lead-in + 150 pregap).
        disc.sessions.push(Session {
            number: 2,
            tracks: vec![track(2, TrackMode::Mode1, 11550, 500)],
            leadout: Lba(12200),
        });
        let toc = disc.full_toc_entries();
        let b0: Vec<_> = toc.iter().filter(|e| e.point == 0xB0).collect();
        assert_eq!(b0.len(), 1);
        let b0 = b0[0];
        assert_eq!((b0.session, b0.adr_ctl & 0x0F), (1, 5));
        // 11550 + 150 = 11700 frames = 02:36:00.
        assert_eq!((b0.min, b0.sec, b0.frame), (2, 36, 0));
        assert_eq!((b0.pmin, b0.psec, b0.pframe), (79, 59, 74));
    }
}
