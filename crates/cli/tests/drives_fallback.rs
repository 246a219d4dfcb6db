//! `spindle drives` where the kernel has no TCMU (this build machine's kernel): the drives
//! work as before, the text says once why there is no `/dev/srN` and what to install, the
//! JSON gives every drive's `device` and `sg` (null) with the reason and hint; an identity
//! set from the CLI is reported, refused when INQUIRY cannot carry it, and survives a
//! restart of the daemon. A real daemon (started on demand) and the real CLI.

mod daemon_common;

use daemon_common::{Env, sample, wait_exit};
use std::time::Duration;

/// What this machine's kernel lacks: the test asserts the fallback only where it applies.
fn kernel_has_tcmu() -> bool {
    std::path::Path::new("/sys/module/target_core_user").exists()
}

#[test]
fn drives_without_tcmu_say_why_and_keep_their_identity() {
    assert!(
        !kernel_has_tcmu(),
        "this test checks the fallback; the kernel has target_core_user loaded (the VM test checks real drives)"
    );
    let mut env = Env::new(120);
    let i = env.start_daemon(&[]);
    let joliet = sample("libcdio/joliet.iso");
    env.ok(&["mount", joliet.to_str().unwrap()]);
    let d = env.drives();
    assert_eq!(d["scsi"]["available"], false, "{d}");
    let reason = d["scsi"]["reason"].as_str().unwrap();
    assert!(reason.contains("target_core_user"), "{reason}");
    let hint = d["scsi"]["hint"].as_str().unwrap();
    assert!(hint.contains("linux-modules-extra"), "{hint}");
    for drive in d["drives"].as_array().unwrap() {
        assert!(
            drive["device"].is_null() && drive["sg"].is_null(),
            "{drive}"
        );
        assert_eq!(drive["locked"], false);
        assert_eq!(drive["identity"]["vendor"], "SPINDLE");
    }
    assert_eq!(d["drives"][0]["image"], joliet.to_str().unwrap());

    // The text: a DEVICE column with no device, and the reason once, with the hint.
    let text = env.ok(&["drives"]);
    assert!(text.lines().next().unwrap().contains("DEVICE"), "{text}");
    let why: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("no /dev/srN drives: "))
        .collect();
    assert_eq!(
        why,
        [format!("no /dev/srN drives: {reason}; {hint}")],
        "{text}"
    );

    // An identity: set, reported, saved.
    let d: serde_json::Value = serde_json::from_str(&env.ok(&[
        "drives",
        "--json",
        "--identity",
        "1",
        "PLEXTOR,DVDR   PX-716A,1.11",
    ]))
    .unwrap();
    let plextor =
        serde_json::json!({"vendor":"PLEXTOR","product":"DVDR   PX-716A","revision":"1.11"});
    assert_eq!(d["drives"][1]["identity"], plextor);
    assert_eq!(d["drives"][0]["identity"]["vendor"], "SPINDLE");
    let text = env.ok(&["drives"]);
    assert!(
        text.contains(r#"drive 1 identifies as "PLEXTOR" "DVDR   PX-716A" "1.11""#),
        "{text}"
    );
    for (bad, says) in [
        (
            "NINECHARS,P,1",
            "\"vendor\" must be 1 to 8 characters, not 9",
        ),
        ("V,P", "is not VENDOR,PRODUCT,REV"),
        ("V,P,12345", "\"revision\" must be 1 to 4 characters, not 5"),
    ] {
        let o = env.run(&["drives", "--identity", "1", bad]);
        assert!(!o.status.success(), "{bad}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{bad}: {err}");
    }
    let o = env.run(&["drives", "--identity", "9", "A,B,C"]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no drive 9"),
        "{o:?}"
    );

    // A restart: the identity and the disc come back.
    let pid = env.children[i].id() as i32;
    // SAFETY: plain kill(2) of our child.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    assert!(wait_exit(&mut env.children[i], Duration::from_secs(5)).success());
    let d = env.drives();
    assert_eq!(d["drives"][1]["identity"], plextor, "{}", env.log());
    assert_eq!(d["drives"][0]["image"], joliet.to_str().unwrap());
    env.ok(&["eject", "--all"]);
}
