//! The parsed cue sheet ([`CueSheet`]) and [`parse_sheet`], which builds it from text without
//! touching any file (a fuzz target can call it on anything).
//!
//! What the parser checks, so that the layout step can trust the sheet:
//! * structure: FILE before TRACK, TRACK before INDEX/FLAGS/ISRC/PREGAP/POSTGAP, PREGAP before
//!   the track's first INDEX, POSTGAP after its last, every TRACK has an INDEX 01, every FILE
//!   holds at least one INDEX, track numbers 1..99 and increasing;
//! * indexes count up by one from 00 or 01, and positions never go back within a file (INDEX
//!   00 and 01 may share a position: an empty pregap);
//! * `REM SESSION nn` counts up by one and each session has a track; other REM lines are
//!   comments;
//! * values: times (`mm:ss:ff`, frames < 75, seconds < 60), CATALOG (13 digits), ISRC, FLAGS.
//!
//! Positions are kept as written, relative to their FILE; [`crate::layout`] turns them into
//! disc addresses.

use crate::error::CueError;
use crate::lexer::{self, Token, is};
use spindle_disc::{CdTextField, Isrc, MainLayout, Mcn, SubLayout, TrackFlags, TrackMode};
use std::path::Path;

/// How a FILE's bytes hold sectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// Sectors as stored; audio in little-endian sample order.
    Binary,
    /// Audio with big-endian (byte-swapped) samples.
    Motorola,
    /// A RIFF WAVE file: 16-bit stereo 44.1 kHz PCM after the header.
    Wave,
}

/// A TRACK's mode keyword: the track mode and how its sectors are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CueMode {
    /// `AUDIO`: 2352 bytes of samples per sector.
    Audio,
    /// Audio with 96 bytes of interleaved P-W subchannel after each sector (CD+G).
    Cdg,
    /// `MODE1/2048`: Mode 1 user data only.
    Mode1_2048,
    /// `MODE1/2352`: raw Mode 1 sectors.
    Mode1_2352,
    /// Mode 2 XA Form 1, user data only.
    Mode2_2048,
    /// Mode 2 XA Form 2, user data only.
    Mode2_2324,
    /// `MODE2/2336`: Mode 2 sectors without sync and header.
    Mode2_2336,
    /// `MODE2/2352`: raw Mode 2 sectors.
    Mode2_2352,
    /// `CDI/2336`: CD-i sectors without sync and header.
    Cdi2336,
    /// `CDI/2352`: raw CD-i sectors.
    Cdi2352,
}

impl CueMode {
    /// Every mode, in the order the keywords are tried.
    pub const ALL: [CueMode; 10] = [
        CueMode::Audio,
        CueMode::Cdg,
        CueMode::Mode1_2048,
        CueMode::Mode1_2352,
        CueMode::Mode2_2048,
        CueMode::Mode2_2324,
        CueMode::Mode2_2336,
        CueMode::Mode2_2352,
        CueMode::Cdi2336,
        CueMode::Cdi2352,
    ];

    /// The keyword as a sheet writes it (`MODE1/2352`).
    pub fn keyword(self) -> &'static str {
        match self {
            CueMode::Audio => "AUDIO",
            CueMode::Cdg => "CDG",
            CueMode::Mode1_2048 => "MODE1/2048",
            CueMode::Mode1_2352 => "MODE1/2352",
            CueMode::Mode2_2048 => "MODE2/2048",
            CueMode::Mode2_2324 => "MODE2/2324",
            CueMode::Mode2_2336 => "MODE2/2336",
            CueMode::Mode2_2352 => "MODE2/2352",
            CueMode::Cdi2336 => "CDI/2336",
            CueMode::Cdi2352 => "CDI/2352",
        }
    }

    /// The mode of a keyword (any case), `None` for an unknown one.
    pub fn parse(text: &str) -> Option<CueMode> {
        CueMode::ALL
            .into_iter()
            .find(|m| m.keyword().eq_ignore_ascii_case(text))
    }

    /// The track mode on the disc. MODE2/2336, MODE2/2352 and the CD-i modes may hold either
    /// form per sector, so they are mixed XA.
    pub fn track_mode(self) -> TrackMode {
        match self {
            CueMode::Audio | CueMode::Cdg => TrackMode::Audio,
            CueMode::Mode1_2048 | CueMode::Mode1_2352 => TrackMode::Mode1,
            CueMode::Mode2_2048 => TrackMode::Mode2Form1,
            CueMode::Mode2_2324 => TrackMode::Mode2Form2,
            CueMode::Mode2_2336 | CueMode::Mode2_2352 | CueMode::Cdi2336 | CueMode::Cdi2352 => {
                TrackMode::Mode2Mixed
            }
        }
    }

    /// The stored layout of one sector (main channel, subchannel).
    pub fn layout(self) -> (MainLayout, SubLayout) {
        match self {
            CueMode::Audio | CueMode::Mode1_2352 | CueMode::Mode2_2352 | CueMode::Cdi2352 => {
                (MainLayout::RAW, SubLayout::None)
            }
            CueMode::Cdg => (MainLayout::RAW, SubLayout::Pw96Interleaved),
            CueMode::Mode1_2048 | CueMode::Mode2_2048 | CueMode::Mode2_2324 => {
                (MainLayout::USER, SubLayout::None)
            }
            CueMode::Mode2_2336 | CueMode::Cdi2336 => (MainLayout::MODE2_2336, SubLayout::None),
        }
    }

    /// Bytes from one stored sector to the next.
    pub fn stride(self) -> usize {
        let (main, sub) = self.layout();
        main.size(self.track_mode()) + sub.size()
    }
}

/// A FILE command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CueFile {
    /// The name as written (relative to the sheet).
    pub name: String,
    /// BINARY, MOTOROLA or WAVE.
    pub kind: FileKind,
    /// The line of the command, from 1.
    pub line: usize,
}

/// An INDEX command: a position in a FILE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CueIndex {
    /// The index number, 0 to 99.
    pub number: u8,
    /// Which of [`CueSheet::files`] the position is in.
    pub file: usize,
    /// Sectors from the start of that file.
    pub frames: u32,
    /// The line of the command, from 1.
    pub line: usize,
}

/// A TRACK with everything stated for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CueTrack {
    /// The track number, 1 to 99.
    pub number: u8,
    /// The mode keyword.
    pub mode: CueMode,
    /// The session the track is in (`REM SESSION`), from 1.
    pub session: u8,
    /// `FLAGS`.
    pub flags: TrackFlags,
    /// `ISRC`, when given.
    pub isrc: Option<Isrc>,
    /// Unstored pregap (`PREGAP`), when stated.
    pub pregap: Option<u32>,
    /// Unstored postgap (`POSTGAP`).
    pub postgap: u32,
    /// INDEX 00 (optional), 01, 02... in order.
    pub indexes: Vec<CueIndex>,
    /// Track CD-TEXT (TITLE, PERFORMER...), in sheet order.
    pub text: Vec<(CdTextField, String)>,
    /// The line of the TRACK command, from 1.
    pub line: usize,
}

impl CueTrack {
    /// The index numbered `number`, when the track has one.
    pub fn index(&self, number: u8) -> Option<&CueIndex> {
        self.indexes.iter().find(|i| i.number == number)
    }
}

/// A whole sheet, as written; positions are still relative to their files.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CueSheet {
    /// The sheet's file name, for messages.
    pub cue: String,
    /// `CATALOG`, when given.
    pub catalog: Option<Mcn>,
    /// CDTEXTFILE name and line.
    pub cdtext_file: Option<(String, usize)>,
    /// Disc CD-TEXT (lines before the first TRACK).
    pub text: Vec<(CdTextField, String)>,
    /// The FILE commands, in order.
    pub files: Vec<CueFile>,
    /// The TRACK commands, in order.
    pub tracks: Vec<CueTrack>,
}

/// The file name to show in messages.
pub(crate) fn display_name(path: &Path) -> String {
    path.file_name()
        .unwrap_or(path.as_os_str())
        .to_string_lossy()
        .into_owned()
}

/// Parses a cue sheet. Pure: no file is opened.
pub fn parse_sheet(text: &[u8], name: &Path) -> Result<CueSheet, CueError> {
    let text = lexer::decode(text);
    let mut p = Parser {
        sheet: CueSheet {
            cue: display_name(name),
            ..CueSheet::default()
        },
        session: 1,
        session_tracks: 0,
        file_marks: Vec::new(),
    };
    for (line, content) in lexer::lines(&text) {
        p.line(line, content)?;
    }
    p.finish()
}

struct Parser {
    sheet: CueSheet,
    /// The session the next TRACK goes into, and how many tracks it has so far.
    session: u8,
    session_tracks: usize,
    /// INDEX count of each FILE.
    file_marks: Vec<usize>,
}

impl Parser {
    fn err(&self, line: usize, message: String) -> CueError {
        CueError::Syntax {
            cue: self.sheet.cue.clone(),
            line,
            message,
        }
    }

    fn line(&mut self, line: usize, content: &str) -> Result<(), CueError> {
        let tokens = lexer::tokenize(content).map_err(|m| self.err(line, m))?;
        let Some((cmd, args)) = tokens.split_first() else {
            return Ok(());
        };
        let keyword = cmd.text.to_ascii_uppercase();
        match keyword.as_str() {
            _ if cmd.quoted => Err(self.err(
                line,
                format!("expected a command, found quoted text \"{}\"", cmd.text),
            )),
            "REM" => self.rem(line, args),
            "CATALOG" => self.catalog(line, args),
            "CDTEXTFILE" => {
                let name = self.one_arg(line, "CDTEXTFILE", "a file name", args)?;
                self.sheet.cdtext_file = Some((name.to_string(), line));
                Ok(())
            }
            "FILE" => self.file(line, args),
            "TRACK" => self.track(line, args),
            "INDEX" => self.index(line, args),
            "PREGAP" | "POSTGAP" => self.gap(line, &keyword, args),
            "FLAGS" => self.flags(line, args),
            "ISRC" => {
                let text = self.one_arg(line, "ISRC", "a 12-character ISRC", args)?;
                let isrc = Isrc::parse(&text.to_ascii_uppercase()).ok_or_else(|| {
                    self.err(line, format!("bad ISRC \"{text}\" (expected CCOOOYYNNNNN)"))
                })?;
                self.current_track(line, "ISRC")?.isrc = Some(isrc);
                Ok(())
            }
            _ => match CdTextField::TEXT
                .into_iter()
                .find(|f| f.cue_keyword() == keyword)
            {
                Some(field) => self.cdtext(line, content, field, args),
                None => Err(self.err(line, format!("unknown command \"{}\"", cmd.text))),
            },
        }
    }

    /// The single argument of a command.
    fn one_arg<'t>(
        &self,
        line: usize,
        cmd: &str,
        what: &str,
        args: &'t [Token],
    ) -> Result<&'t str, CueError> {
        match args {
            [a] => Ok(a.text),
            [] => Err(self.err(line, format!("{cmd} needs {what}"))),
            [_, extra, ..] => Err(self.err(
                line,
                format!(
                    "unexpected \"{}\" after {cmd} (quote names that contain spaces)",
                    extra.text
                ),
            )),
        }
    }

    fn current_track(&mut self, line: usize, cmd: &str) -> Result<&mut CueTrack, CueError> {
        if self.sheet.tracks.is_empty() {
            return Err(self.err(line, format!("{cmd} before any TRACK")));
        }
        Ok(self.sheet.tracks.last_mut().expect("checked above"))
    }

    fn rem(&mut self, line: usize, args: &[Token]) -> Result<(), CueError> {
        // Only `REM SESSION nn` (Redump, IsoBuster, cdrdao's toc2cue) means anything; other
        // REM lines (GENRE, DATE, DISCID, COMMENT, LEAD-OUT...) are comments.
        let [first, rest @ ..] = args else {
            return Ok(());
        };
        if !is(first, "SESSION") {
            return Ok(());
        }
        let text = self.one_arg(line, "REM SESSION", "a session number", rest)?;
        let n = lexer::number(text, 3)
            .filter(|n| (1..=99).contains(n))
            .ok_or_else(|| {
                self.err(
                    line,
                    format!("bad session number \"{text}\" (must be 1 to 99)"),
                )
            })?;
        let n = n as u8;
        if n == self.session && self.session_tracks == 0 {
            return Ok(());
        }
        if n == self.session.saturating_add(1) && self.session_tracks > 0 {
            self.session = n;
            self.session_tracks = 0;
            return Ok(());
        }
        Err(self.err(
            line,
            format!(
                "REM SESSION {text} follows session {:02} with {} track(s) (sessions count up by one from 01, each with a track)",
                self.session, self.session_tracks
            ),
        ))
    }

    fn catalog(&mut self, line: usize, args: &[Token]) -> Result<(), CueError> {
        let text = self.one_arg(line, "CATALOG", "a 13-digit media catalog number", args)?;
        let mcn = Mcn::parse(text).ok_or_else(|| {
            self.err(
                line,
                format!("bad CATALOG \"{text}\" (must be 13 decimal digits)"),
            )
        })?;
        if self.sheet.catalog.is_some() {
            return Err(self.err(line, "second CATALOG".into()));
        }
        self.sheet.catalog = Some(mcn);
        Ok(())
    }

    fn file(&mut self, line: usize, args: &[Token]) -> Result<(), CueError> {
        let (name, kind) = match args {
            [name, kind] => (name, kind),
            [] => return Err(self.err(line, "FILE needs a name and a type".into())),
            [name] => {
                return Err(self.err(
                    line,
                    format!(
                        "FILE \"{}\" needs a type (BINARY, MOTOROLA or WAVE)",
                        name.text
                    ),
                ));
            }
            [name, ..] if !name.quoted => {
                return Err(self.err(
                    line,
                    format!(
                        "unquoted file name with spaces \"{}...\" (put the name in quotes)",
                        name.text
                    ),
                ));
            }
            [_, _, extra, ..] => {
                return Err(self.err(line, format!("unexpected \"{}\" after FILE", extra.text)));
            }
        };
        let kind = match kind.text.to_ascii_uppercase().as_str() {
            "BINARY" => FileKind::Binary,
            "MOTOROLA" => FileKind::Motorola,
            "WAVE" => FileKind::Wave,
            "MP3" | "AIFF" => {
                return Err(self.err(
                    line,
                    format!(
                        "FILE type {} is not supported (convert \"{}\" to WAVE or BINARY)",
                        kind.text, name.text
                    ),
                ));
            }
            _ => {
                return Err(self.err(
                    line,
                    format!(
                        "bad FILE type \"{}\" (expected BINARY, MOTOROLA or WAVE)",
                        kind.text
                    ),
                ));
            }
        };
        if name.text.is_empty() {
            return Err(self.err(line, "FILE with an empty name".into()));
        }
        self.check_file_used()?;
        self.sheet.files.push(CueFile {
            name: name.text.to_string(),
            kind,
            line,
        });
        self.file_marks.push(0);
        Ok(())
    }

    /// The previous FILE must have held an INDEX.
    fn check_file_used(&self) -> Result<(), CueError> {
        if let (Some(f), Some(0)) = (self.sheet.files.last(), self.file_marks.last()) {
            return Err(self.err(f.line, format!("FILE \"{}\" holds no INDEX", f.name)));
        }
        Ok(())
    }

    /// The previous TRACK must have had an INDEX 01.
    fn check_track_done(&self) -> Result<(), CueError> {
        match self.sheet.tracks.last() {
            Some(t) if t.index(1).is_none() => {
                Err(self.err(t.line, format!("TRACK {:02} has no INDEX 01", t.number)))
            }
            _ => Ok(()),
        }
    }

    fn track(&mut self, line: usize, args: &[Token]) -> Result<(), CueError> {
        let [number, mode] = args else {
            return Err(self.err(
                line,
                "TRACK needs a number and a mode (TRACK 01 AUDIO)".into(),
            ));
        };
        if self.sheet.files.is_empty() {
            return Err(self.err(line, "TRACK before any FILE".into()));
        }
        self.check_track_done()?;
        let n = lexer::number(number.text, 3)
            .filter(|n| (1..=99).contains(n))
            .ok_or_else(|| {
                self.err(
                    line,
                    format!("bad track number \"{}\" (must be 1 to 99)", number.text),
                )
            })?;
        let n = n as u8;
        if let Some(prev) = self.sheet.tracks.last()
            && n <= prev.number
        {
            return Err(self.err(
                line,
                format!(
                    "TRACK {:02} follows TRACK {:02} (track numbers must increase)",
                    n, prev.number
                ),
            ));
        }
        let mode = CueMode::parse(mode.text).ok_or_else(|| {
            let all: Vec<&str> = CueMode::ALL.iter().map(|m| m.keyword()).collect();
            self.err(
                line,
                format!(
                    "bad track mode \"{}\" (expected one of {})",
                    mode.text,
                    all.join(", ")
                ),
            )
        })?;
        self.sheet.tracks.push(CueTrack {
            number: n,
            mode,
            session: self.session,
            flags: TrackFlags::default(),
            isrc: None,
            pregap: None,
            postgap: 0,
            indexes: Vec::new(),
            text: Vec::new(),
            line,
        });
        self.session_tracks += 1;
        Ok(())
    }

    fn time(&self, line: usize, cmd: &str, text: &str) -> Result<u32, CueError> {
        lexer::msf(text)
            .map_err(|why| self.err(line, format!("bad time \"{text}\" in {cmd} ({why})")))
    }

    fn index(&mut self, line: usize, args: &[Token]) -> Result<(), CueError> {
        let [number, time] = args else {
            return Err(self.err(
                line,
                "INDEX needs a number and a time (INDEX 01 00:00:00)".into(),
            ));
        };
        if self.sheet.tracks.is_empty() {
            return Err(self.err(line, "INDEX before any TRACK".into()));
        }
        let n = lexer::number(number.text, 3)
            .filter(|n| *n <= 99)
            .ok_or_else(|| {
                self.err(
                    line,
                    format!("bad index number \"{}\" (must be 0 to 99)", number.text),
                )
            })?;
        let n = n as u8;
        let frames = self.time(line, "INDEX", time.text)?;
        let file = self.sheet.files.len().saturating_sub(1);
        // The previous INDEX of the sheet, to keep positions going forward within a file.
        let prev_mark = self
            .sheet
            .tracks
            .iter()
            .rev()
            .find_map(|t| t.indexes.last().map(|i| (t.number, *i)));
        let track = self.sheet.tracks.last().expect("checked above");
        if track.postgap > 0 {
            return Err(self.err(
                line,
                format!("INDEX {n:02} after POSTGAP (POSTGAP comes after the last INDEX)"),
            ));
        }
        match track.indexes.last() {
            None if n > 1 => {
                return Err(self.err(
                    line,
                    format!("INDEX {n:02} before INDEX 01 of TRACK {:02}", track.number),
                ));
            }
            Some(last) if n != last.number + 1 => {
                return Err(self.err(
                    line,
                    format!(
                        "INDEX {n:02} follows INDEX {:02} (indexes count up by one)",
                        last.number
                    ),
                ));
            }
            _ => {}
        }
        if let Some((prev_track, prev)) = prev_mark
            && prev.file == file
        {
            let may_equal = prev_track == track.number && prev.number == 0 && n == 1;
            if frames < prev.frames || (frames == prev.frames && !may_equal) {
                return Err(self.err(
                    line,
                    format!(
                        "INDEX {n:02} {time} is not after the previous INDEX ({}, line {})",
                        spindle_disc::Msf::from_frames(prev.frames),
                        prev.line,
                        time = time.text
                    ),
                ));
            }
        }
        let track = self.sheet.tracks.last_mut().expect("checked above");
        track.indexes.push(CueIndex {
            number: n,
            file,
            frames,
            line,
        });
        if let Some(m) = self.file_marks.last_mut() {
            *m += 1;
        }
        Ok(())
    }

    fn gap(&mut self, line: usize, cmd: &str, args: &[Token]) -> Result<(), CueError> {
        let text = self.one_arg(line, cmd, "a time (mm:ss:ff)", args)?;
        let frames = self.time(line, cmd, text)?;
        let err = |m: String| self.err(line, m);
        let Some(track) = self.sheet.tracks.last() else {
            return Err(err(format!("{cmd} before any TRACK")));
        };
        if cmd == "PREGAP" {
            if track.pregap.is_some() {
                return Err(err("second PREGAP".into()));
            }
            if !track.indexes.is_empty() {
                return Err(err(
                    "PREGAP after INDEX (PREGAP comes before the first INDEX)".into(),
                ));
            }
        } else if track.postgap > 0 {
            return Err(err("second POSTGAP".into()));
        } else if track.index(1).is_none() {
            return Err(err(
                "POSTGAP before INDEX 01 (POSTGAP comes after the last INDEX)".into(),
            ));
        }
        let track = self.sheet.tracks.last_mut().expect("checked above");
        if cmd == "PREGAP" {
            track.pregap = Some(frames);
        } else {
            track.postgap = frames;
        }
        Ok(())
    }

    fn flags(&mut self, line: usize, args: &[Token]) -> Result<(), CueError> {
        let mut flags = TrackFlags::default();
        for a in args {
            // Some writers add DATA for data tracks; the mode already says so.
            if !a.text.eq_ignore_ascii_case("DATA") && !flags.set_by_name(a.text) {
                return Err(self.err(
                    line,
                    format!("bad flag \"{}\" (expected DCP, 4CH, PRE or SCMS)", a.text),
                ));
            }
        }
        self.current_track(line, "FLAGS")?.flags = flags;
        Ok(())
    }

    fn cdtext(
        &mut self,
        line: usize,
        content: &str,
        field: CdTextField,
        args: &[Token],
    ) -> Result<(), CueError> {
        let text = match args {
            [] => return Err(self.err(line, format!("{} needs a text", field.cue_keyword()))),
            // Unquoted text runs to the end of the line (`TITLE Join us now`).
            [first, ..] if !first.quoted => {
                content.get(first.start..).unwrap_or("").trim().to_string()
            }
            [one, rest @ ..] => match rest.first() {
                None => one.text.to_string(),
                Some(extra) => {
                    return Err(self.err(
                        line,
                        format!(
                            "unexpected \"{}\" after the quoted {}",
                            extra.text,
                            field.cue_keyword()
                        ),
                    ));
                }
            },
        };
        let items = match self.sheet.tracks.last_mut() {
            Some(t) => &mut t.text,
            None => &mut self.sheet.text,
        };
        items.retain(|(f, _)| *f != field);
        if !text.is_empty() {
            items.push((field, text));
        }
        Ok(())
    }

    fn finish(mut self) -> Result<CueSheet, CueError> {
        self.check_track_done()?;
        self.check_file_used()?;
        if self.sheet.tracks.is_empty() {
            return Err(CueError::Sheet {
                cue: self.sheet.cue.clone(),
                message: "the cue sheet has no TRACK".into(),
            });
        }
        if self.session_tracks == 0 {
            return Err(CueError::Sheet {
                cue: self.sheet.cue.clone(),
                message: format!("session {:02} has no TRACK", self.session),
            });
        }
        self.file_marks.clear();
        Ok(self.sheet)
    }
}
