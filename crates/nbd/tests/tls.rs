//! NBD_OPT_STARTTLS: PSK (psktool files, as nbdkit uses them) and X.509, with nbdinfo and
//! nbdcopy (GnuTLS) as the clients.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use spindle_nbd::client::{self, ClientError};
use spindle_nbd::proto::REP_ERR_TLS_REQD;
use spindle_nbd::{ServerConfig, TlsConfig, TlsMode};

const SIZE: usize = 4 << 20;

fn psk_file(dir: &Path, name: &str, user: &str) -> std::path::PathBuf {
    require("psktool");
    let f = dir.join(name);
    run(Command::new("psktool").args(["-u", user, "-p"]).arg(&f));
    f
}

fn psk_uri(srv: &TestServer, user: &str, keys: &Path, export: &str) -> String {
    format!(
        "nbds+unix://{user}@/{export}?socket={}&tls-psk-file={}",
        srv.sock.display(),
        keys.display()
    )
}

#[test]
fn psk_clients_get_in_and_plain_clients_are_refused() {
    require("nbdinfo");
    require("nbdcopy");
    let dir = tempfile::tempdir().unwrap();
    let (cat, file, data) = catalog(dir.path(), SIZE);
    let keys = psk_file(dir.path(), "keys.psk", "alice");
    let config = ServerConfig {
        tls: TlsMode::Required(TlsConfig::from_psk_file(&keys).unwrap()),
        ..ServerConfig::default()
    };
    let srv = TestServer::unix(dir.path(), cat, config);

    let out = stdout(Command::new("nbdinfo").arg(psk_uri(&srv, "alice", &keys, "disc")));
    assert!(out.contains("newstyle-fixed with TLS"), "{out}");
    assert!(out.contains("using structured packets"), "{out}");
    assert!(out.contains(&format!("export-size: {SIZE}")), "{out}");

    let copy = dir.path().join("copy");
    run(Command::new("nbdcopy")
        .arg("--connections=2")
        .arg(psk_uri(&srv, "alice", &keys, "mem"))
        .arg(&copy));
    assert!(std::fs::read(&copy).unwrap() == data, "TLS copy differs");

    // qemu's own TLS-PSK client (tls-creds-psk reads DIR/keys.psk).
    require("qemu-img");
    let out = stdout(
        Command::new("qemu-img")
            .arg("compare")
            .arg("--object")
            .arg(format!(
                "tls-creds-psk,id=tls0,dir={},endpoint=client,username=alice",
                dir.path().display()
            ))
            .arg("--image-opts")
            .arg(format!(
                "driver=nbd,path={},export=disc,tls-creds=tls0",
                srv.sock.display()
            ))
            .arg(format!("driver=file,filename={}", file.display())),
    );
    assert!(out.contains("Images are identical"), "{out}");

    // Plain clients: nbdinfo fails, our client gets NBD_REP_ERR_TLS_REQD for GO.
    let out = Command::new("nbdinfo")
        .arg(srv.uri("disc"))
        .output()
        .unwrap();
    assert!(!out.status.success(), "a plain client got in");
    let out = Command::new("nbdinfo")
        .arg("--list")
        .arg(srv.uri(""))
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("export=\"disc\""),
        "plain --list showed the exports"
    );
    match client::connect_unix(&srv.sock, "disc") {
        Err(ClientError::Refused { reply, .. }) => assert_eq!(reply, REP_ERR_TLS_REQD),
        other => panic!("plain client: {other:?}"),
    }

    // A wrong key and an unknown identity are refused.
    let other = psk_file(dir.path(), "other.psk", "alice");
    let out = Command::new("nbdinfo")
        .arg(psk_uri(&srv, "alice", &other, "disc"))
        .output()
        .unwrap();
    assert!(!out.status.success(), "a wrong key got in");
    let bob = psk_file(dir.path(), "bob.psk", "bob");
    let out = Command::new("nbdinfo")
        .arg(psk_uri(&srv, "bob", &bob, "disc"))
        .output()
        .unwrap();
    assert!(!out.status.success(), "an unknown identity got in");

    // The server keeps serving the right key afterwards.
    let out = stdout(Command::new("nbdinfo").arg(psk_uri(&srv, "alice", &keys, "raw")));
    assert!(out.contains("with TLS"), "{out}");
}

#[test]
fn optional_tls_serves_plain_and_tls_clients() {
    require("nbdinfo");
    let dir = tempfile::tempdir().unwrap();
    let (cat, _, _) = catalog(dir.path(), SIZE);
    let keys = psk_file(dir.path(), "keys.psk", "alice");
    let config = ServerConfig {
        tls: TlsMode::Optional(TlsConfig::from_psk_file(&keys).unwrap()),
        ..ServerConfig::default()
    };
    let srv = TestServer::unix(dir.path(), cat, config);
    let out = stdout(Command::new("nbdinfo").arg(srv.uri("disc")));
    assert!(out.contains("without TLS"), "{out}");
    let out = stdout(Command::new("nbdinfo").arg(psk_uri(&srv, "alice", &keys, "disc")));
    assert!(out.contains("with TLS"), "{out}");
}

#[test]
fn x509_with_a_self_signed_certificate() {
    require("nbdinfo");
    require("openssl");
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    std::fs::create_dir(&pki).unwrap();
    run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "2", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .arg("-keyout")
        .arg(pki.join("server-key.pem"))
        .arg("-out")
        .arg(pki.join("server-cert.pem")));
    std::fs::copy(pki.join("server-cert.pem"), pki.join("ca-cert.pem")).unwrap();
    let tls = TlsConfig::from_cert_files(pki.join("server-cert.pem"), pki.join("server-key.pem"))
        .unwrap();
    let (cat, _, data) = catalog(dir.path(), SIZE);
    let config = ServerConfig {
        tls: TlsMode::Required(tls),
        ..ServerConfig::default()
    };
    let srv = TestServer::tcp(cat, config);
    let uri = format!(
        "nbds://localhost:{}/disc?tls-certificates={}",
        srv.port,
        pki.display()
    );
    let out = stdout(Command::new("nbdinfo").arg(&uri));
    assert!(out.contains("with TLS"), "{out}");
    let copy = dir.path().join("copy");
    run(Command::new("nbdcopy").arg(&uri).arg(&copy));
    assert!(std::fs::read(&copy).unwrap() == data);
    // Plain TCP is refused.
    let out = Command::new("nbdinfo")
        .arg(srv.uri("disc"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    // A client that does not trust the certificate fails.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let other = tempfile::tempdir().unwrap();
    let pki2 = other.path();
    run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "2", "-subj", "/CN=localhost"])
        .arg("-keyout")
        .arg(pki2.join("k.pem"))
        .arg("-out")
        .arg(pki2.join("ca-cert.pem")));
    let out = Command::new("nbdinfo")
        .arg(format!(
            "nbds://localhost:{}/disc?tls-certificates={}",
            srv.port,
            pki2.display()
        ))
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "an untrusted certificate was accepted"
    );
}

#[test]
fn bad_key_and_certificate_files_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.psk");
    std::fs::write(&f, "alice:zz\n").unwrap();
    let e = TlsConfig::from_psk_file(&f).unwrap_err().to_string();
    assert!(e.contains("bad.psk") && e.contains("line 1"), "{e}");
    std::fs::write(&f, "").unwrap();
    assert!(TlsConfig::from_psk_file(&f).is_err());
    assert!(TlsConfig::from_psk_file(dir.path().join("missing")).is_err());
    let e = TlsConfig::from_cert_files(&f, &f).unwrap_err().to_string();
    assert!(e.contains("bad.psk"), "{e}");
}
