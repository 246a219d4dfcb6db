//! TLS after NBD_OPT_STARTTLS: X.509 certificates with rustls, pre-shared keys (the psktool
//! "identity:hexkey" files that nbdkit, qemu-nbd and nbdinfo use) with OpenSSL, because
//! rustls has no external-PSK support (see docs/nbd.md).

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use openssl::ssl::{SslContext, SslMethod, SslVersion};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::socket::{Socket, TlsStream};

/// What loading TLS keys and certificates can fail with.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A key, certificate or PSK file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why reading it failed.
        source: io::Error,
    },
    /// A key, certificate or PSK file's contents are unusable; the text says why.
    #[error("{path}: {problem}")]
    Bad {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// rustls refused the certificate setup.
    #[error("TLS setup: {0}")]
    Rustls(#[from] rustls::Error),
    /// OpenSSL refused the PSK setup.
    #[error("TLS (PSK) setup: {0}")]
    OpenSsl(#[from] openssl::error::ErrorStack),
}

#[derive(Clone)]
enum Kind {
    X509(Arc<rustls::ServerConfig>),
    Psk(Arc<SslContext>),
}

/// Server-side TLS settings for NBD_OPT_STARTTLS.
#[derive(Clone)]
pub struct TlsConfig {
    kind: Kind,
}

impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.kind {
            Kind::X509(_) => "TlsConfig(X.509)",
            Kind::Psk(_) => "TlsConfig(PSK)",
        })
    }
}

/// Parses a psktool key file: lines of `identity:hexkey`.
pub fn parse_psk_file(path: &Path, text: &str) -> Result<HashMap<String, Vec<u8>>, TlsError> {
    let bad = |line: usize, what: &str| TlsError::Bad {
        path: path.to_path_buf(),
        problem: format!("line {line}: {what}"),
    };
    let mut keys = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((id, hex)) = line.rsplit_once(':') else {
            return Err(bad(i + 1, "not identity:hexkey"));
        };
        if id.is_empty() || hex.is_empty() || hex.len() % 2 != 0 {
            return Err(bad(i + 1, "empty identity or odd-length key"));
        }
        let key = (0..hex.len())
            .step_by(2)
            .map(|j| u8::from_str_radix(&hex[j..j + 2], 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| bad(i + 1, "key is not hexadecimal"))?;
        if key.len() > 256 {
            return Err(bad(i + 1, "key longer than 256 bytes"));
        }
        keys.insert(id.to_string(), key);
    }
    if keys.is_empty() {
        return Err(TlsError::Bad {
            path: path.to_path_buf(),
            problem: "no keys".into(),
        });
    }
    Ok(keys)
}

impl TlsConfig {
    /// A certificate chain and its private key, both PEM files.
    pub fn from_cert_files(
        cert: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<TlsConfig, TlsError> {
        let (cert, key) = (cert.as_ref(), key.as_ref());
        let certs = CertificateDer::pem_file_iter(cert)
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| TlsError::Bad {
                path: cert.to_path_buf(),
                problem: format!("not a PEM certificate file: {e}"),
            })?;
        if certs.is_empty() {
            return Err(TlsError::Bad {
                path: cert.to_path_buf(),
                problem: "no certificate in it".into(),
            });
        }
        let key = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Bad {
            path: key.to_path_buf(),
            problem: format!("no PEM private key: {e}"),
        })?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(certs, key)?;
        Ok(TlsConfig {
            kind: Kind::X509(Arc::new(config)),
        })
    }

    /// A psktool key file (`identity:hexkey` lines), as nbdkit's `--tls-psk`.
    pub fn from_psk_file(path: impl AsRef<Path>) -> Result<TlsConfig, TlsError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| TlsError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_psk_keys(parse_psk_file(path, &text)?)
    }

    /// Pre-shared keys by identity.
    pub fn from_psk_keys(keys: HashMap<String, Vec<u8>>) -> Result<TlsConfig, TlsError> {
        let mut b = SslContext::builder(SslMethod::tls_server())?;
        b.set_min_proto_version(Some(SslVersion::TLS1_2))?;
        // TLS 1.2 suites keyed by the PSK (with (EC)DHE first); TLS 1.3 uses the same
        // callback with its default SHA-256 suites.
        b.set_cipher_list("ECDHE-PSK-CHACHA20-POLY1305:DHE-PSK-AES256-GCM-SHA384:DHE-PSK-AES128-GCM-SHA256:ECDHE-PSK-AES256-CBC-SHA384:ECDHE-PSK-AES128-CBC-SHA256:PSK-AES256-GCM-SHA384:PSK-AES128-GCM-SHA256")?;
        // AES-GCM first (AES-NI makes it several times faster than ChaCha20 here); the
        // server's order wins.
        b.set_ciphersuites("TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256")?;
        b.set_options(openssl::ssl::SslOptions::CIPHER_SERVER_PREFERENCE);
        b.set_psk_server_callback(move |_ssl, identity, out| {
            let Some(key) = identity
                .and_then(|id| std::str::from_utf8(id).ok())
                .and_then(|id| keys.get(id))
            else {
                return Ok(0); // unknown identity: the handshake fails
            };
            if key.len() > out.len() {
                return Ok(0);
            }
            out[..key.len()].copy_from_slice(key);
            Ok(key.len())
        });
        Ok(TlsConfig {
            kind: Kind::Psk(Arc::new(b.build())),
        })
    }

    /// Runs the server side of the TLS handshake on `sock`.
    pub(crate) fn accept(&self, mut sock: Socket) -> io::Result<Box<dyn TlsStream>> {
        match &self.kind {
            Kind::X509(cfg) => {
                let mut conn =
                    rustls::ServerConnection::new(Arc::clone(cfg)).map_err(io::Error::other)?;
                while conn.is_handshaking() {
                    conn.complete_io(&mut sock)?;
                }
                Ok(Box::new(rustls::StreamOwned::new(conn, sock)))
            }
            Kind::Psk(ctx) => {
                let ssl = openssl::ssl::Ssl::new(ctx).map_err(io::Error::other)?;
                let stream = ssl.accept(sock).map_err(|e| {
                    io::Error::new(
                        io::ErrorKind::PermissionDenied,
                        format!("TLS-PSK handshake: {e}"),
                    )
                })?;
                Ok(Box::new(stream))
            }
        }
    }
}
