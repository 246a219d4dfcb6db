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
        assert!(start.elapsed() < Duration::from_secs(20), "no socket {}", path.display());
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
    assert_eq!(client::read(&mut s, 4096, 8192).unwrap(), &data[4096..12288]);
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
    assert_eq!(client::read(&mut s, 1 << 20, 65536).unwrap(), &data[1 << 20..(1 << 20) + 65536]);
    assert!(client::read(&mut s, 3 << 20, 4096).is_err());
    drop(k);
    let err = client::connect_unix(&sock, "nope");
    assert!(err.is_err());
}
