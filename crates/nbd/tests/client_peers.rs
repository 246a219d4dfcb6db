//! The client against real peer servers (nbdkit, qemu-nbd): handshake, sizes, reads.

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use spindle_nbd::client;

fn wait_for(path: &Path, child: &mut Child) {
    let start = Instant::now();
    while !path.exists() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("server exited early: {status}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no socket {}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 4096) as u8).collect()
}

#[test]
fn client_reads_from_nbdkit_and_qemu_nbd() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("disk.img");
    let data = pattern(3 << 20);
    std::fs::write(&file, &data).unwrap();

    let sock = dir.path().join("nbdkit.sock");
    let child = Command::new("nbdkit")
        .args(["-f", "-r", "-U"])
        .arg(&sock)
        .arg("file")
        .arg(&file)
        .spawn()
        .expect("nbdkit must be installed (scripts/setup)");
    let mut k = Kill(child);
    wait_for(&sock, &mut k.0);
    let (mut s, info) = client::connect_unix(&sock, "").unwrap();
    assert_eq!(info.size, data.len() as u64);
    assert!(info.read_only());
    assert!(info.used_go);
    assert_eq!(
        client::read(&mut s, 4096, 8192).unwrap(),
        &data[4096..12288]
    );
    client::disconnect(&mut s).unwrap();
    drop(k);

    let sock = dir.path().join("qemu.sock");
    let child = Command::new("qemu-nbd")
        .args(["-r", "-f", "raw", "-x", "disc", "-k"])
        .arg(&sock)
        .arg(&file)
        .spawn()
        .expect("qemu-nbd must be installed (scripts/setup)");
    let mut k = Kill(child);
    wait_for(&sock, &mut k.0);
    let (mut s, info) = client::connect_unix(&sock, "disc").unwrap();
    assert_eq!(info.size, data.len() as u64);
    assert_eq!(
        client::read(&mut s, 1 << 20, 65536).unwrap(),
        &data[1 << 20..(1 << 20) + 65536]
    );
    assert!(client::read(&mut s, 3 << 20, 4096).is_err());
    drop(k);
    let err = client::connect_unix(&sock, "nope");
    assert!(err.is_err());
}

/// A fake old server: fixed newstyle, but NBD_OPT_GO is unsupported, so the client must
/// fall back to NBD_OPT_EXPORT_NAME (with the 124 zero bytes, as NO_ZEROES is not offered).
#[test]
fn client_falls_back_to_export_name_when_go_is_unsupported() {
    use spindle_nbd::proto::*;
    use std::io::{Read, Write};
    let (ours, mut theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    let fake = std::thread::spawn(move || {
        let mut hello = NBDMAGIC.to_be_bytes().to_vec();
        hello.extend_from_slice(&IHAVEOPT.to_be_bytes());
        hello.extend_from_slice(&FLAG_FIXED_NEWSTYLE.to_be_bytes());
        theirs.write_all(&hello).unwrap();
        let cflags = read_u32(&mut theirs).unwrap();
        assert_eq!(cflags, FLAG_C_FIXED_NEWSTYLE);
        // GO: refused.
        assert_eq!(read_u64(&mut theirs).unwrap(), IHAVEOPT);
        assert_eq!(read_u32(&mut theirs).unwrap(), OPT_GO);
        let len = read_u32(&mut theirs).unwrap();
        let mut d = vec![0; len as usize];
        theirs.read_exact(&mut d).unwrap();
        let mut rep = REPLY_MAGIC.to_be_bytes().to_vec();
        rep.extend_from_slice(&OPT_GO.to_be_bytes());
        rep.extend_from_slice(&REP_ERR_UNSUP.to_be_bytes());
        rep.extend_from_slice(&0u32.to_be_bytes());
        theirs.write_all(&rep).unwrap();
        // EXPORT_NAME "old".
        assert_eq!(read_u64(&mut theirs).unwrap(), IHAVEOPT);
        assert_eq!(read_u32(&mut theirs).unwrap(), OPT_EXPORT_NAME);
        let len = read_u32(&mut theirs).unwrap();
        let mut d = vec![0; len as usize];
        theirs.read_exact(&mut d).unwrap();
        assert_eq!(d, b"old");
        let mut r = 123_456u64.to_be_bytes().to_vec();
        r.extend_from_slice(&(TFLAG_HAS_FLAGS | TFLAG_READ_ONLY).to_be_bytes());
        r.extend_from_slice(&[0; 124]);
        theirs.write_all(&r).unwrap();
        theirs
    });
    let (_s, info) = client::connect(ours, "old").unwrap();
    assert_eq!(info.size, 123_456);
    assert!(info.read_only());
    assert!(!info.used_go);
    fake.join().unwrap();
}

/// serve_stream over a socketpair (how `spindle attach` can feed the kernel without a
/// listening socket).
#[test]
fn serve_stream_over_a_socketpair() {
    use spindle_nbd::ExportInfo;
    use spindle_nbd::files::{SparseFile, StaticCatalog};
    use spindle_nbd::{Server, ServerConfig};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("d.iso");
    let data = pattern(1 << 20);
    std::fs::write(&file, &data).unwrap();
    let mut cat = StaticCatalog::new();
    cat.add(
        ExportInfo::new("drive0", ""),
        Arc::new(SparseFile::open(&file).unwrap()),
    );
    let server = Server::new(Arc::new(cat), ServerConfig::default());
    let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    let s = server.clone();
    let t = std::thread::spawn(move || s.serve_stream(a));
    let (mut c, info) = client::connect(b, "drive0").unwrap();
    assert_eq!(info.size, 1 << 20);
    assert_eq!(
        client::read(&mut c, 777, 4096).unwrap(),
        &data[777..777 + 4096]
    );
    client::disconnect(&mut c).unwrap();
    t.join().unwrap().unwrap();
    // stop() ends a connection that is still open.
    let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    let s = server.clone();
    let t = std::thread::spawn(move || s.serve_stream(a));
    let (mut c, _) = client::connect(b, "drive0").unwrap();
    server.stop();
    t.join().unwrap().ok();
    assert!(client::read(&mut c, 0, 1).is_err());
}
