//! Images built here, for what the two samples do not cover: every mode code (the
//! subchannel ones included), v1 CUES with MSF addresses, DAOI, MCN and ISRC, extra
//! indexes, a pregap longer than what is stored, a TAO session after a DAO one, MTYP.

mod common;

use common::open;
use spindle_disc::{Disc, Lba, Medium, SectorFormat, TrackMode};
use spindle_testkit::pattern::bytes;
use std::path::PathBuf;

fn chunk(out: &mut Vec<u8>, id: &[u8; 4], payload: &[u8]) {
    out.extend_from_slice(id);
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
}

fn bcd(v: u8) -> u8 {
    if v == 0xAA {
        v
    } else {
        (v / 10) << 4 | (v % 10)
    }
}

/// A CUES (`msf`) or CUEX entry.
fn cue(adr_ctl: u8, track: u8, index: u8, lba: i32, msf: bool) -> Vec<u8> {
    let mut e = vec![adr_ctl, bcd(track), bcd(index), 0];
    if msf {
        let f = (lba + 150) as u32;
        e.extend_from_slice(&[0, (f / 4500) as u8, (f / 75 % 60) as u8, (f % 75) as u8]);
    } else {
        e.extend_from_slice(&lba.to_be_bytes());
    }
    e
}

/// One DAO record: ISRC, sector size, mode code, pregap/start/end offsets.
type Rec<'a> = (&'a [u8; 12], u16, u8, u64, u64, u64);

fn dao(wide: bool, mcn: &[u8; 13], first: u8, last: u8, recs: &[Rec]) -> Vec<u8> {
    let mut p = vec![0u8; 4];
    p.extend_from_slice(mcn);
    p.extend_from_slice(&[0, 0, 0, first, last]);
    for (isrc, size, code, a, b, c) in recs {
        p.extend_from_slice(*isrc);
        p.extend_from_slice(&size.to_be_bytes());
        p.extend_from_slice(&[*code, 0, 0, 0]);
        for v in [a, b, c] {
            if wide {
                p.extend_from_slice(&v.to_be_bytes());
            } else {
                p.extend_from_slice(&(*v as u32).to_be_bytes());
            }
        }
    }
    let n = p.len() as u32;
    p[..4].copy_from_slice(&n.to_be_bytes());
    p
}

/// Track data, then the chunks, `END!` and the trailer of `v2` or v1.
fn finish(mut data: Vec<u8>, chunks: &[u8], v2: bool) -> Vec<u8> {
    let off = data.len() as u64;
    data.extend_from_slice(chunks);
    chunk(&mut data, b"END!", &[]);
    if v2 {
        data.extend_from_slice(b"NER5");
        data.extend_from_slice(&off.to_be_bytes());
    } else {
        data.extend_from_slice(b"NERO");
        data.extend_from_slice(&(off as u32).to_be_bytes());
    }
    data
}

/// `n` bytes of a pattern that differs per image position.
fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn read(disc: &Disc, lba: i32, format: SectorFormat) -> Vec<u8> {
    let mut buf = vec![0u8; 2448];
    let n = disc.read_sectors(Lba(lba), 1, format, &mut buf).unwrap();
    buf.truncate(n);
    buf
}

#[test]
fn every_mode_code_reads_back_what_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    // (code, mode, main bytes, offset of the stored bytes inside a raw sector, subchannel bytes)
    let codes = [
        (0x00, TrackMode::Mode1, 2048, 16, 0),
        (0x02, TrackMode::Mode2Form1, 2048, 24, 0),
        (0x03, TrackMode::Mode2Mixed, 2336, 16, 0),
        (0x05, TrackMode::Mode1, 2352, 0, 0),
        (0x06, TrackMode::Mode2Mixed, 2352, 0, 0),
        (0x07, TrackMode::Audio, 2352, 0, 0),
        (0x0F, TrackMode::Mode1, 2352, 0, 96),
        (0x10, TrackMode::Audio, 2352, 0, 96),
        (0x11, TrackMode::Mode2Mixed, 2352, 0, 96),
    ];
    for (code, mode, main, at, sub) in codes {
        let stride = main + sub;
        // 150 stored pregap sectors and 3 program sectors.
        let sectors = 153;
        let mut data = bytes(sectors * stride, code as u64);
        if main == 2352 && mode != TrackMode::Audio {
            // Raw data sectors: give each a sync pattern and a header, Form 1 subheaders.
            for (i, s) in data.chunks_mut(stride).enumerate() {
                s[..12].copy_from_slice(&[
                    0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0,
                ]);
                let msf = spindle_disc::Lba(i as i32 - 150).to_msf().to_bcd();
                s[12..15].copy_from_slice(&msf);
                s[15] = mode.mode_byte();
                s[16..24].copy_from_slice(&[0; 8]);
            }
        }
        let end = data.len() as u64;
        let mut chunks = Vec::new();
        let cues = [
            cue(0x41, 0, 0, -150, false),
            cue(0x41, 1, 0, -150, false),
            cue(0x41, 1, 1, 0, false),
            cue(0x41, 0xAA, 1, 3, false),
        ]
        .concat();
        chunk(&mut chunks, b"CUEX", &cues);
        let ctl_isrc = b"\0\0\0\0\0\0\0\0\0\0\0\0";
        chunk(
            &mut chunks,
            b"DAOX",
            &dao(
                true,
                &[0; 13],
                1,
                1,
                &[(ctl_isrc, stride as u16, code, 0, 150 * stride as u64, end)],
            ),
        );
        let img = finish(data.clone(), &chunks, true);
        let path = write(&dir, &format!("mode{code:02x}.nrg"), &img);
        let disc = open(&path).unwrap_or_else(|e| panic!("mode {code:#04x}: {e}"));
        let t = disc.track(1).unwrap();
        assert_eq!(
            (t.mode, t.start.0, t.pregap, t.length),
            (mode, -150, 150, 153),
            "mode {code:#04x}"
        );
        assert!(t.pregap_stored());
        for i in [0usize, 149, 150, 152] {
            let lba = i as i32 - 150;
            let stored = &data[i * stride..][..stride];
            let raw = read(&disc, lba, SectorFormat::RAW_PW96);
            assert_eq!(
                &raw[at..at + main],
                &stored[..main],
                "mode {code:#04x} sector {lba}: main channel"
            );
            if sub > 0 {
                assert_eq!(
                    &raw[2352..],
                    &stored[main..],
                    "mode {code:#04x} sector {lba}: subchannel"
                );
            }
            if mode == TrackMode::Audio {
                // Little-endian samples, as stored (no byte swap).
                assert_eq!(&read(&disc, lba, SectorFormat::USER)[..], &stored[..2352]);
            }
        }
    }
}

#[test]
fn v1_dao_session_with_msf_cues_then_a_tao_session() {
    let dir = tempfile::tempdir().unwrap();
    // Session 1 (DAOI): track 1 Mode 1/2048 with its 150-sector pregap stored and 10
    // sectors; track 2 audio with no stored pregap (index 0 is 5 sectors before index 1),
    // 8 sectors, an index 2. Session 2 (ETNF): one Mode 1 track of 4 sectors.
    let t1 = bytes(160 * 2048, 1);
    let t2 = bytes(8 * 2352, 2);
    let t3 = bytes(4 * 2048, 3);
    let data = [t1.clone(), t2.clone(), t3.clone()].concat();
    let (o2, o3) = (t1.len() as u64, (t1.len() + t2.len()) as u64);
    let mut chunks = Vec::new();
    let cues = [
        cue(0x41, 0, 0, -150, true),
        cue(0x41, 1, 0, -150, true),
        cue(0x41, 1, 1, 0, true),
        cue(0x11, 2, 0, 10, true),
        cue(0x11, 2, 1, 15, true),
        cue(0x11, 2, 2, 17, true),
        cue(0x01, 0xAA, 1, 23, true),
    ]
    .concat();
    chunk(&mut chunks, b"CUES", &cues);
    chunk(
        &mut chunks,
        b"DAOI",
        &dao(
            false,
            b"0123456789012",
            1,
            2,
            &[
                (b"USABC9900001", 2048, 0x00, 0, 150 * 2048, o2),
                (&[0; 12], 2352, 0x07, o2, o2, o3),
            ],
        ),
    );
    chunk(&mut chunks, b"SINF", &2u32.to_be_bytes());
    let mut etn = Vec::new();
    etn.extend_from_slice(&(o3 as u32).to_be_bytes());
    etn.extend_from_slice(&(t3.len() as u32).to_be_bytes());
    etn.extend_from_slice(&[0, 0, 0, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]);
    chunk(&mut chunks, b"ETNF", &etn);
    chunk(&mut chunks, b"SINF", &1u32.to_be_bytes());
    chunk(&mut chunks, b"MTYP", &1u32.to_be_bytes());
    let path = write(&dir, "two-sessions.nrg", &finish(data, &chunks, false));
    let disc = open(&path).unwrap();
    assert_eq!(disc.source.variant, "NRG v1 (NERO)");
    assert_eq!(disc.medium, Medium::CdRom);
    assert_eq!(disc.mcn.as_ref().map(|m| m.as_str()), Some("0123456789012"));
    assert_eq!(disc.sessions.len(), 2);
    let table: Vec<_> = disc
        .tracks()
        .map(|t| (t.number, t.mode, t.start.0, t.pregap, t.length))
        .collect();
    assert_eq!(
        table,
        vec![
            (1, TrackMode::Mode1, -150, 150, 160),
            (2, TrackMode::Audio, 10, 5, 13),
            (3, TrackMode::Mode1, 23 + 11_250, 150, 154),
        ]
    );
    assert_eq!(disc.sessions[0].leadout.0, 23);
    let (a, b, c) = (
        disc.track(1).unwrap(),
        disc.track(2).unwrap(),
        disc.track(3).unwrap(),
    );
    assert_eq!(a.isrc.as_ref().map(|i| i.as_str()), Some("USABC9900001"));
    assert!(b.flags.pre_emphasis && !b.flags.copy_permitted);
    assert_eq!(b.extra_indexes, vec![Lba(17)]);
    assert!(a.pregap_stored() && !b.pregap_stored() && !c.pregap_stored());
    // Stored bytes come back where the layout says.
    assert_eq!(read(&disc, -150, SectorFormat::USER), &t1[..2048]);
    assert_eq!(read(&disc, 9, SectorFormat::USER), &t1[159 * 2048..]);
    assert_eq!(
        read(&disc, 12, SectorFormat::RAW),
        vec![0u8; 2352],
        "unstored pregap"
    );
    assert_eq!(read(&disc, 15, SectorFormat::RAW), &t2[..2352]);
    assert_eq!(read(&disc, 22, SectorFormat::RAW), &t2[7 * 2352..]);
    assert_eq!(
        read(&disc, c.index1().0 + 3, SectorFormat::USER),
        &t3[3 * 2048..]
    );
}

#[test]
fn dvd_medium_from_mtyp() {
    let dir = tempfile::tempdir().unwrap();
    let data = bytes(32 * 2048, 9);
    let mut chunks = Vec::new();
    chunk(
        &mut chunks,
        b"CUEX",
        &[cue(0x41, 1, 1, 0, false), cue(0x41, 0xAA, 1, 32, false)].concat(),
    );
    chunk(
        &mut chunks,
        b"DAOX",
        &dao(
            true,
            &[0; 13],
            1,
            1,
            &[(&[0; 12], 2048, 0x00, 0, 0, data.len() as u64)],
        ),
    );
    chunk(&mut chunks, b"MTYP", &0x200u32.to_be_bytes());
    let path = write(&dir, "dvd.nrg", &finish(data.clone(), &chunks, true));
    let disc = open(&path).unwrap();
    assert_eq!(disc.medium, Medium::DvdRom);
    let t = disc.track(1).unwrap();
    assert_eq!((t.start.0, t.pregap, t.length), (0, 0, 32));
    assert_eq!(read(&disc, 31, SectorFormat::USER), &data[31 * 2048..]);
}

#[test]
fn inconsistent_chunks_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = bytes(10 * 2352, 4);
    let rec: Rec = (&[0; 12], 2352, 0x07, 0, 0, data.len() as u64);
    let cases: [(&str, Vec<u8>, &str); 4] = [
        (
            "no-index1",
            [cue(1, 1, 0, 0, false)].concat(),
            "no index 1 entry for track 1",
        ),
        (
            "extra-track",
            [cue(1, 1, 1, 0, false), cue(1, 5, 1, 20, false)].concat(),
            "an entry for track 5",
        ),
        (
            "index0-late",
            [cue(1, 1, 0, 3, false), cue(1, 1, 1, 0, false)].concat(),
            "leaves less pregap",
        ),
        (
            "not-bcd",
            [cue(1, 1, 1, 0, false), vec![1, 0x1A, 1, 0, 0, 0, 0, 0]].concat(),
            "not BCD",
        ),
    ];
    for (name, cues, want) in cases {
        let mut chunks = Vec::new();
        chunk(&mut chunks, b"CUEX", &cues);
        chunk(&mut chunks, b"DAOX", &dao(true, &[0; 13], 1, 1, &[rec]));
        let path = write(
            &dir,
            &format!("{name}.nrg"),
            &finish(data.clone(), &chunks, true),
        );
        let e = open(&path).expect_err(name).to_string();
        assert!(
            e.contains(want) && e.contains(&format!("{name}.nrg")),
            "{name}: {e}"
        );
    }
    // A DAO chunk with no CUE chunk before it.
    let mut chunks = Vec::new();
    chunk(&mut chunks, b"DAOX", &dao(true, &[0; 13], 1, 1, &[rec]));
    let path = write(&dir, "no-cue.nrg", &finish(data.clone(), &chunks, true));
    let e = open(&path).unwrap_err().to_string();
    assert!(e.contains("has no CUES/CUEX chunk before it"), "{e}");
    // No session at all.
    let path = write(&dir, "empty.nrg", &finish(Vec::new(), &[], false));
    let e = open(&path).unwrap_err().to_string();
    assert!(e.contains("no session"), "{e}");
}

#[test]
fn probe_claims_by_extension_or_whole_file_trailer() {
    use std::path::Path;
    let img = finish(Vec::new(), &[], true);
    assert!(spindle_format_nrg::probe(
        Path::new("x.NRG"),
        &[0; 64],
        1 << 20
    ));
    assert!(spindle_format_nrg::probe(
        Path::new("x.bin"),
        &img,
        img.len() as u64
    ));
    assert!(!spindle_format_nrg::probe(
        Path::new("x.bin"),
        &[0; 64],
        1 << 20
    ));
    assert!(!spindle_format_nrg::probe(Path::new("x.nrg"), &[0; 8], 8));
    // Through the registry's trait: the first 64 KiB of the sample, then open.
    use spindle_disc::{DirCompanions, ImageFormat, OpenContext};
    let path = spindle_testkit::sample("libcdio/videocd.nrg");
    let bytes = std::fs::read(&path).unwrap();
    let f = spindle_format_nrg::NrgFormat;
    assert_eq!(f.id(), "nrg");
    assert!(f.probe(&path, &bytes[..64 << 10], bytes.len() as u64));
    let ctx = OpenContext {
        companions: &DirCompanions::beside(&path),
        password: None,
    };
    assert_eq!(f.open(&path, &ctx).unwrap().track_count(), 5);
}
