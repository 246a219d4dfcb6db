use anyhow::Result;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The image (ISO, CUE...).
    image: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let disc = super::open(&a.image)?;
    let info = spindle_image::info(&disc);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&info)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("Image:    {}", info.path);
    if let Some(c) = info.container {
        println!("Container: {c} (read as the file inside it)");
    }
    println!("Format:   {} ({})", info.format, info.variant);
    println!("Medium:   {}", info.medium);
    let same = |a: &str, b: &str| {
        a == b
            || std::fs::canonicalize(a)
                .ok()
                .is_some_and(|c| std::fs::canonicalize(b).ok() == Some(c))
    };
    if info.files.len() > 1 || !info.files.first().is_some_and(|f| same(f, &info.path)) {
        println!("Files:    {}", info.files.join(", "));
    }
    if let Some(l) = &info.label {
        println!("Label:    {l}");
    }
    if let Some(c) = &info.content {
        println!("Content:  {c}");
    }
    if let Some(m) = &info.mcn {
        println!("MCN:      {m}");
    }
    for (k, v) in &info.cdtext {
        println!("CD-TEXT:  {k}: {v}");
    }
    for s in &info.sessions {
        println!(
            "Session {} (lead-out at {} = {})",
            s.number, s.leadout, s.leadout_msf
        );
        println!(
            "  {:>5}  {:<11} {:>7}  {:<8}  {:>7}  {:>6}  {:<9} ISRC",
            "Track", "Mode", "Start", "MSF", "Length", "Pregap", "Flags"
        );
        for t in &s.tracks {
            let pregap = if t.pregap == 0 {
                "0".to_string()
            } else {
                format!(
                    "{}{}",
                    t.pregap,
                    if t.pregap_synthesised == 0 { "" } else { "*" }
                )
            };
            let flags = if t.flags.is_empty() {
                "-".to_string()
            } else {
                t.flags.join(",")
            };
            println!(
                "  {:>5}  {:<11} {:>7}  {:<8}  {:>7}  {:>6}  {:<9} {}",
                t.number,
                t.mode,
                t.start,
                t.start_msf,
                t.length,
                pregap,
                flags,
                t.isrc.as_deref().unwrap_or("-")
            );
            if !t.indexes.is_empty() {
                println!("         indexes 2..: {:?}", t.indexes);
            }
            if t.postgap > 0 {
                println!("         postgap: {} sectors", t.postgap);
            }
            for (k, v) in &t.cdtext {
                println!("         {k}: {v}");
            }
        }
    }
    if info
        .sessions
        .iter()
        .flat_map(|s| &s.tracks)
        .any(|t| t.pregap_synthesised > 0)
    {
        println!("(* pregap sectors not stored in the image: synthesised)");
    }
    Ok(ExitCode::SUCCESS)
}
