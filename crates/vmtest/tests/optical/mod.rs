//! Shared by the optical-drive VM tests (optical_tools.rs on QEMU's own ATAPI drive,
//! scsi_drive.rs on spindle's TCMU drives, drive_bench.rs): the generated discs, the host-side
//! expectations, the guest tools and the guest check functions (checks.sh).

#![allow(dead_code)] // each test binary uses its part

pub mod expect;
pub mod media;

use spindle_vmtest::VmTest;
use std::path::PathBuf;
use std::process::Command;

/// The guest check functions, installed as /vmtest/optical.sh.
pub const CHECKS_SH: &str = include_str!("checks.sh");

/// Check names `optical_cd NAME ...` prints.
pub const CD_CHECKS: [&str; 10] = [
    "cdinfo", "cdrom-id", "isrc", "paranoia", "readcd", "inq", "dd", "mount", "tree", "umount",
];
/// Check names `optical_fs NAME ...` prints.
pub const FS_CHECKS: [&str; 6] = ["cdrom-id", "inq", "dd", "mount", "tree", "umount"];

/// `NAME-check` for every check of a list.
pub fn named(name: &str, checks: &[&str]) -> Vec<String> {
    checks.iter().map(|c| format!("{name}-{c}")).collect()
}

/// systemd's cdrom_id, unpacked from Debian's udev package by scripts/vm/fetch-cdrom-id.
pub fn cdrom_id() -> PathBuf {
    let root = spindle_vmtest::workspace_root();
    let out = Command::new(root.join("scripts/vm/fetch-cdrom-id"))
        .arg(spindle_vmtest::target_dir().join("vm-tools"))
        .output()
        .expect("running scripts/vm/fetch-cdrom-id");
    assert!(
        out.status.success(),
        "scripts/vm/fetch-cdrom-id failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

fn host_tool(name: &str, package: &str) -> PathBuf {
    ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]
        .iter()
        .map(|d| PathBuf::from(d).join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name} is missing: apt-get install {package} (scripts/setup)"))
}

/// Adds the guest tools (with their libraries), the check functions and every expectation
/// file of `media`.
pub fn with_tools(mut vm: VmTest, media: &media::Media) -> VmTest {
    for (tool, package) in [
        ("cd-info", "libcdio-utils"),
        ("cdparanoia", "cdparanoia"),
        ("sg_inq", "sg3-utils"),
        ("sg_raw", "sg3-utils"),
    ] {
        vm = vm.binary(host_tool(tool, package), &format!("/usr/bin/{tool}"));
    }
    // util-linux's eject (busybox has an applet of the same name with fewer features).
    vm = vm
        .binary(host_tool("eject", "eject"), "/opt/util-linux/eject")
        .binary(cdrom_id(), "/usr/lib/udev/cdrom_id")
        .data("/vmtest/optical.sh", CHECKS_SH);
    // cd-info hands CD-TEXT read from a drive to glibc's iconv (ISO-8859-1 to UTF-8), which
    // loads its converters from the gconv folder; without them the fields come out empty.
    let gconv = std::path::Path::new("/usr/lib/x86_64-linux-gnu/gconv");
    for name in ["gconv-modules", "gconv-modules.cache", "ISO8859-1.so"] {
        let host = gconv.join(name);
        assert!(
            host.is_file(),
            "{} is missing (glibc's gconv modules)",
            host.display()
        );
        vm = vm.file(&host, &host.to_string_lossy());
    }
    for (path, bytes) in expect::files(media) {
        vm = vm.data(&path, bytes);
    }
    for (name, lines) in cdrom_id_lines() {
        vm = vm.data(&format!("/data/expect/{name}.cdrom_id"), lines);
    }
    vm
}

/// What cdrom_id must print for each disc (the properties udisks reads).
fn cdrom_id_lines() -> [(&'static str, String); 3] {
    let one = |kind: &str| {
        format!(
            "ID_CDROM=1\nID_CDROM_MEDIA=1\nID_CDROM_MEDIA_{kind}=1\nID_CDROM_MEDIA_TRACK_COUNT=1\n\
             ID_CDROM_MEDIA_TRACK_COUNT_DATA=1\nID_CDROM_MEDIA_SESSION_COUNT=1\n"
        )
    };
    let audio = media::AUDIO.len();
    [
        (
            "cd",
            format!(
                "ID_CDROM=1\nID_CDROM_MEDIA=1\nID_CDROM_MEDIA_CD=1\nID_CDROM_MEDIA_TRACK_COUNT={}\n\
                 ID_CDROM_MEDIA_TRACK_COUNT_DATA=1\nID_CDROM_MEDIA_TRACK_COUNT_AUDIO={audio}\n\
                 ID_CDROM_MEDIA_SESSION_COUNT=1\n",
                audio + 1
            ),
        ),
        ("dvd", one("DVD")),
        ("bd", one("BD")),
    ]
}
