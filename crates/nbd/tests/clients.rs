//! Real clients against the server: nbdinfo, qemu-img, qemu-io, nbdcopy.

mod common;

use std::process::Command;

use common::*;
use spindle_nbd::ServerConfig;

const SIZE: usize = 8 << 20;

#[test]
fn nbdinfo_shows_export_structured_replies_and_block_sizes() {
    require("nbdinfo");
    let dir = tempfile::tempdir().unwrap();
    let (cat, _, _) = catalog(dir.path(), SIZE);
    let srv = TestServer::unix(dir.path(), cat, ServerConfig::default());
    let out = stdout(Command::new("nbdinfo").arg(srv.uri("disc")));
    assert!(out.contains("using structured packets"), "{out}");
    assert!(out.contains(&format!("export-size: {SIZE}")), "{out}");
    assert!(out.contains("is_read_only: true"), "{out}");
    assert!(out.contains("can_multi_conn: true"), "{out}");
    assert!(out.contains("can_cache: true"), "{out}");
    assert!(out.contains("block_size_minimum: 1"), "{out}");
    assert!(out.contains("block_size_preferred: 2048"), "{out}");
    assert!(out.contains("block_size_maximum: 33554432"), "{out}");
    assert!(out.contains("description: a test disc"), "{out}");
    assert!(out.contains("base:allocation"), "{out}");
    let out = stdout(Command::new("nbdinfo").arg(srv.uri("raw")));
    assert!(out.contains("block_size_preferred: 4096"), "{out}");
    // An unknown export is refused.
    let out = Command::new("nbdinfo")
        .arg(srv.uri("nope"))
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn nbdinfo_list_shows_every_export_with_size_and_block_sizes() {
    require("nbdinfo");
    let dir = tempfile::tempdir().unwrap();
    let (cat, _, _) = catalog(dir.path(), SIZE);
    let srv = TestServer::unix(dir.path(), cat, ServerConfig::default());
    let out = stdout(Command::new("nbdinfo").arg("--list").arg(srv.uri("")));
    for name in ["disc", "raw", "mem", "holes"] {
        assert!(out.contains(&format!("export=\"{name}\"")), "{name}: {out}");
    }
    assert_eq!(
        out.matches(&format!("export-size: {SIZE}")).count(),
        3,
        "{out}"
    );
    assert!(out.contains("export-size: 6291456"), "{out}");
    assert_eq!(
        out.matches("block_size_maximum: 33554432").count(),
        4,
        "{out}"
    );
    assert!(out.contains("block_size_preferred: 4096"), "{out}");
}

#[test]
fn qemu_img_compare_matches_the_file_over_unix_and_tcp() {
    require("qemu-img");
    let dir = tempfile::tempdir().unwrap();
    let (cat, file, _) = catalog(dir.path(), SIZE);
    let srv = TestServer::unix(dir.path(), cat.clone(), ServerConfig::default());
    for name in ["disc", "mem"] {
        let out = stdout(
            Command::new("qemu-img")
                .args(["compare", "-f", "raw", "-F", "raw"])
                .arg(&file)
                .arg(srv.uri(name)),
        );
        assert!(out.contains("Images are identical"), "{out}");
    }
    let tcp = TestServer::tcp(cat, ServerConfig::default());
    let out = stdout(
        Command::new("qemu-img")
            .args(["compare", "-f", "raw", "-F", "raw"])
            .arg(&file)
            .arg(tcp.uri("disc")),
    );
    assert!(out.contains("Images are identical"), "{out}");
    // A file that differs in one byte is told apart.
    let mut other = std::fs::read(&file).unwrap();
    other[SIZE / 2] ^= 1;
    let other_file = dir.path().join("other.iso");
    std::fs::write(&other_file, &other).unwrap();
    let out = Command::new("qemu-img")
        .args(["compare", "-f", "raw", "-F", "raw"])
        .arg(&other_file)
        .arg(srv.uri("disc"))
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "qemu-img compare missed a difference"
    );
}

#[test]
fn nbdcopy_with_four_connections_is_byte_identical() {
    require("nbdcopy");
    let dir = tempfile::tempdir().unwrap();
    let (cat, _, data) = catalog(dir.path(), 40 << 20);
    let srv = TestServer::unix(dir.path(), cat.clone(), ServerConfig::default());
    let tcp = TestServer::tcp(cat, ServerConfig::default());
    for (i, uri) in [
        srv.uri("disc"),
        srv.uri("mem"),
        tcp.uri("disc"),
        tcp.uri("mem"),
    ]
    .iter()
    .enumerate()
    {
        let out = dir.path().join(format!("copy{i}"));
        run(Command::new("nbdcopy")
            .args(["--connections=4", "--request-size=1048576"])
            .arg(uri)
            .arg(&out));
        assert!(std::fs::read(&out).unwrap() == data, "{uri}: copy differs");
        std::fs::remove_file(&out).unwrap();
    }
    // Structured replies off (--no-extents also skips block status): simple replies only.
    let out = dir.path().join("copy-simple");
    run(Command::new("nbdcopy")
        .args(["--connections=2", "--no-extents"])
        .arg(srv.uri("disc"))
        .arg(&out));
    assert!(std::fs::read(&out).unwrap() == data);
}

#[test]
fn qemu_io_random_reads_match() {
    require("qemu-io");
    let dir = tempfile::tempdir().unwrap();
    let (cat, _, data) = catalog(dir.path(), SIZE);
    let srv = TestServer::unix(dir.path(), cat, ServerConfig::default());
    // Deterministic "random" reads inside 64 KiB blocks, each filled with one byte.
    let mut rng = spindle_testkit::pattern::Rng::new(0);
    let mut args = Vec::new();
    let mut expect = 0;
    for _ in 0..40 {
        let x = rng.next_u64();
        let block = x % (SIZE as u64 / 65536);
        let within = (x >> 20) % 65536;
        let len = 1 + (x >> 40) % (65536 - within);
        let off = block * 65536 + within;
        assert_eq!(data[off as usize], block_byte(block));
        args.push("-c".to_string());
        args.push(format!("read -P {} {off} {len}", block_byte(block)));
        expect += 1;
    }
    for name in ["disc", "mem"] {
        let out = stdout(
            Command::new("qemu-io")
                .args(["-r", "-f", "raw"])
                .arg(srv.uri(name))
                .args(&args),
        );
        assert!(!out.contains("Pattern verification failed"), "{out}");
        assert_eq!(out.matches("read ").count(), expect, "{out}");
    }
    // A wrong pattern is caught (the check can fail).
    let out = Command::new("qemu-io")
        .args(["-r", "-f", "raw"])
        .arg(srv.uri("disc"))
        .args(["-c", &format!("read -P {} 0 512", block_byte(0) ^ 0xff)])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Pattern verification failed"), "{text}");
}

#[test]
fn nbdinfo_map_shows_holes_and_zero_regions() {
    require("nbdinfo");
    let dir = tempfile::tempdir().unwrap();
    let (cat, _, _) = catalog(dir.path(), SIZE);
    let srv = TestServer::unix(dir.path(), cat, ServerConfig::default());
    let out = stdout(Command::new("nbdinfo").arg("--map").arg(srv.uri("holes")));
    let rows: Vec<Vec<String>> = out
        .lines()
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect();
    let m = 1u64 << 20;
    let want = [
        (0, m, "0"),
        (m, 2 * m, "3"),
        (3 * m, m, "0"),
        (4 * m, m, "2"),
        (5 * m, m, "0"),
    ];
    assert_eq!(rows.len(), want.len(), "{out}");
    for (row, (off, len, ty)) in rows.iter().zip(want) {
        assert_eq!(row[0], off.to_string(), "{out}");
        assert_eq!(row[1], len.to_string(), "{out}");
        assert_eq!(row[2], ty, "{out}");
    }
    // A sparse file reports its hole through SEEK_HOLE.
    let sparse = dir.path().join("sparse.img");
    let f = std::fs::File::create(&sparse).unwrap();
    f.set_len(8 << 20).unwrap();
    use std::os::unix::fs::FileExt;
    f.write_all_at(&[1; 1 << 20], 2 << 20).unwrap();
    drop(f);
    let mut c = spindle_nbd::files::StaticCatalog::new();
    c.add(
        spindle_nbd::ExportInfo::new("sparse", ""),
        std::sync::Arc::new(spindle_nbd::files::SparseFile::open(&sparse).unwrap()),
    );
    let srv2 = TestServer::unix(dir.path(), c, ServerConfig::default());
    let out = stdout(Command::new("nbdinfo").arg("--map").arg(srv2.uri("sparse")));
    assert!(out.contains("hole,zero"), "{out}");
    assert!(out.contains("data"), "{out}");
    // And qemu-img sees the same bytes through block status.
    let copy = dir.path().join("sparse-copy.img");
    run(Command::new("qemu-img")
        .args(["convert", "-O", "raw"])
        .arg(srv2.uri("sparse"))
        .arg(&copy));
    assert!(std::fs::read(&copy).unwrap() == std::fs::read(&sparse).unwrap());
}

#[test]
fn our_client_reads_and_sees_the_flags() {
    let dir = tempfile::tempdir().unwrap();
    let (cat, _, data) = catalog(dir.path(), SIZE);
    let srv = TestServer::unix(dir.path(), cat, ServerConfig::default());
    let (mut s, info) = spindle_nbd::client::connect_unix(&srv.sock, "raw").unwrap();
    assert_eq!(info.size, SIZE as u64);
    assert!(info.read_only() && info.can_multi_conn() && info.used_go);
    assert_eq!(
        (info.min_block, info.preferred_block, info.max_block),
        (1, 4096, 32 << 20)
    );
    assert_eq!(
        spindle_nbd::client::read(&mut s, 12345, 100_000).unwrap(),
        &data[12345..112_345]
    );
    let e = spindle_nbd::client::read(&mut s, SIZE as u64 - 10, 11).unwrap_err();
    assert!(e.to_string().contains("EINVAL"), "{e}");
    assert_eq!(spindle_nbd::client::read(&mut s, 0, 1).unwrap(), &data[..1]);
    spindle_nbd::client::disconnect(&mut s).unwrap();
    // Simple replies bigger than a 1 MiB piece, from memory (no sendfile).
    let (mut s, _) = spindle_nbd::client::connect_unix(&srv.sock, "mem").unwrap();
    let big = spindle_nbd::client::read(&mut s, 999, (5 << 20) + 3).unwrap();
    assert!(big == data[999..999 + (5 << 20) + 3]);
    assert!(spindle_nbd::client::connect_unix(&srv.sock, "missing").is_err());
}

/// A loopback listener's connections use the configured congestion control, not the
/// system default (BBR's pacing costs loopback copies up to 40 %: docs/nbd.md).
#[test]
fn loopback_tcp_connections_use_the_configured_congestion_control() {
    require("ss");
    let default = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_congestion_control").unwrap();
    let available =
        std::fs::read_to_string("/proc/sys/net/ipv4/tcp_available_congestion_control").unwrap();
    // One the kernel has that is not the default, so that the test shows a change.
    let want = ["reno", "cubic", "bbr"]
        .into_iter()
        .find(|c| *c != default.trim() && available.split_whitespace().any(|a| a == *c))
        .expect("a second congestion control in this kernel");
    let dir = tempfile::tempdir().unwrap();
    let (cat, _, _) = catalog(dir.path(), SIZE);
    let config = ServerConfig {
        loopback_congestion: vec!["no-such-algorithm".into(), want.into()],
        ..ServerConfig::default()
    };
    let srv = TestServer::tcp(cat, config);
    // serve_tcp sets it on the listener: a connection queued before that would keep the
    // default, so give the server thread a moment first.
    std::thread::sleep(std::time::Duration::from_millis(200));
    let _client = std::net::TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(100));
    let filter = format!("( sport = :{} )", srv.port);
    let out = stdout(Command::new("ss").args(["-tinH", "state", "established", &filter]));
    let words: Vec<&str> = out.split_whitespace().collect();
    assert!(
        words.contains(&want),
        "want {want} (default {}): {out}",
        default.trim()
    );
}
