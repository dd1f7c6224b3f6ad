//! Looking at the TLS listener from the outside: real rustls handshakes with chosen
//! versions, and hand-made ClientHellos for what rustls refuses to speak (TLS 1.1, CBC and
//! RSA key exchange), to prove the server refuses them too.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore, SupportedProtocolVersion};

/// What a successful handshake agreed on.
#[derive(Debug)]
pub struct Negotiated {
    pub version: rustls::ProtocolVersion,
    pub cipher_suite: rustls::CipherSuite,
    pub alpn: Option<Vec<u8>>,
    pub peer_chain: Vec<CertificateDer<'static>>,
}

/// The certificates in `roots_pem` as trust anchors, and the crypto provider.
fn roots_and_provider(
    roots_pem: &[u8],
) -> Result<(RootCertStore, Arc<rustls::crypto::CryptoProvider>), String> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(roots_pem) {
        roots
            .add(cert.map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    }
    Ok((
        roots,
        Arc::new(rustls::crypto::aws_lc_rs::default_provider()),
    ))
}

/// Handshakes with `addr` as `localhost`, trusting the certificates in `roots_pem`.
pub fn handshake(
    addr: SocketAddr,
    roots_pem: &[u8],
    versions: &[&'static SupportedProtocolVersion],
    alpn: &[&[u8]],
) -> Result<Negotiated, String> {
    let (roots, provider) = roots_and_provider(roots_pem)?;
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let name = ServerName::try_from("localhost").map_err(|e| e.to_string())?;
    let mut conn =
        rustls::ClientConnection::new(Arc::new(config), name).map_err(|e| e.to_string())?;
    let mut sock = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    while conn.is_handshaking() {
        conn.complete_io(&mut sock).map_err(|e| e.to_string())?;
    }
    Ok(Negotiated {
        version: conn.protocol_version().ok_or("no version")?,
        cipher_suite: conn.negotiated_cipher_suite().ok_or("no suite")?.suite(),
        alpn: conn.alpn_protocol().map(<[u8]>::to_vec),
        peer_chain: conn
            .peer_certificates()
            .map(|c| c.iter().map(|c| c.clone().into_owned()).collect())
            .unwrap_or_default(),
    })
}

/// The first TLS record the server answers a ClientHello with.
#[derive(Debug, PartialEq, Eq)]
pub enum FirstRecord {
    /// A handshake record whose first message has this type (2 = ServerHello).
    Handshake(u8),
    /// An alert: level (2 = fatal) and description (70 = protocol_version,
    /// 40 = handshake_failure).
    Alert {
        level: u8,
        description: u8,
    },
    /// The connection closed without a TLS record.
    Closed,
    Other(Vec<u8>),
}

/// Sends a hand-made ClientHello with `legacy_version` (0x0302 = TLS 1.1, 0x0303 = 1.2)
/// offering exactly `suites`, and no supported_versions extension (so no TLS 1.3).
pub fn send_client_hello(addr: SocketAddr, legacy_version: u16, suites: &[u16]) -> FirstRecord {
    let hello = client_hello(legacy_version, suites);
    let mut sock = TcpStream::connect(addr).expect("connect");
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    sock.write_all(&hello).expect("send ClientHello");
    read_first_record(&mut sock)
}

/// Sends raw bytes (e.g. a plain HTTP request) and returns what came back, if anything.
pub fn send_raw(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let mut sock = TcpStream::connect(addr).expect("connect");
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    sock.write_all(bytes).expect("send");
    let mut out = Vec::new();
    let _ = sock.read_to_end(&mut out);
    out
}

fn read_first_record(sock: &mut TcpStream) -> FirstRecord {
    let mut header = [0u8; 5];
    if sock.read_exact(&mut header).is_err() {
        return FirstRecord::Closed;
    }
    let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
    let mut body = vec![0u8; len];
    if sock.read_exact(&mut body).is_err() {
        return FirstRecord::Other(header.to_vec());
    }
    match (header[0], body.as_slice()) {
        (0x15, [level, description, ..]) => FirstRecord::Alert {
            level: *level,
            description: *description,
        },
        (0x16, [kind, ..]) => FirstRecord::Handshake(*kind),
        _ => FirstRecord::Other(header.to_vec()),
    }
}

fn with_len16(body: &[u8]) -> Vec<u8> {
    let mut out = (body.len() as u16).to_be_bytes().to_vec();
    out.extend_from_slice(body);
    out
}

fn extension(kind: u16, body: &[u8]) -> Vec<u8> {
    let mut out = kind.to_be_bytes().to_vec();
    out.extend(with_len16(body));
    out
}

fn client_hello(legacy_version: u16, suites: &[u16]) -> Vec<u8> {
    let mut exts = Vec::new();
    // server_name: localhost
    let host = b"localhost";
    let mut sni = vec![0u8];
    sni.extend(with_len16(host));
    exts.extend(extension(0x0000, &with_len16(&sni)));
    // supported_groups: x25519, secp256r1, secp384r1
    exts.extend(extension(
        0x000a,
        &with_len16(&[0x00, 0x1d, 0x00, 0x17, 0x00, 0x18]),
    ));
    // ec_point_formats: uncompressed
    exts.extend(extension(0x000b, &[0x01, 0x00]));
    // signature_algorithms: ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256, rsa_pkcs1_sha256
    exts.extend(extension(
        0x000d,
        &with_len16(&[0x04, 0x03, 0x08, 0x04, 0x04, 0x01]),
    ));
    // extended_master_secret, renegotiation_info (empty)
    exts.extend(extension(0x0017, &[]));
    exts.extend(extension(0xff01, &[0x00]));

    let mut body = legacy_version.to_be_bytes().to_vec();
    body.extend([0x42u8; 32]); // client random; its value does not matter here
    body.push(0); // no session id
    let suite_bytes: Vec<u8> = suites.iter().flat_map(|s| s.to_be_bytes()).collect();
    body.extend(with_len16(&suite_bytes));
    body.extend([0x01, 0x00]); // compression: null only
    body.extend(with_len16(&exts));

    let mut handshake = vec![0x01]; // ClientHello
    handshake.extend(&(body.len() as u32).to_be_bytes()[1..]);
    handshake.extend(body);

    let mut record = vec![0x16, 0x03, 0x01]; // handshake record, TLS 1.0 record version
    record.extend(with_len16(&handshake));
    record
}

/// Suite ids used by the tests.
pub mod suites {
    pub const ECDHE_ECDSA_AES128_GCM_SHA256: u16 = 0xc02b;
    pub const ECDHE_ECDSA_AES128_CBC_SHA: u16 = 0xc009;
    pub const ECDHE_ECDSA_AES256_CBC_SHA384: u16 = 0xc024;
    pub const RSA_AES128_GCM_SHA256: u16 = 0x009c;
    pub const RSA_AES128_CBC_SHA: u16 = 0x002f;
    pub const RSA_3DES_EDE_CBC_SHA: u16 = 0x000a;
}

/// Opens a TLS connection to `addr`, sends `partial` (the start of a request that never
/// ends) and waits up to `patience` for the server to close the connection. Returns how long
/// the server took, or `None` if it kept the connection open.
pub fn time_until_closed(
    addr: SocketAddr,
    roots_pem: &[u8],
    partial: &[u8],
    patience: Duration,
) -> Result<Option<Duration>, String> {
    let (roots, provider) = roots_and_provider(roots_pem)?;
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let name = ServerName::try_from("localhost").map_err(|e| e.to_string())?;
    let conn = rustls::ClientConnection::new(Arc::new(config), name).map_err(|e| e.to_string())?;
    let sock = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    let mut tls = rustls::StreamOwned::new(conn, sock);
    tls.write_all(partial).map_err(|e| e.to_string())?;
    tls.flush().map_err(|e| e.to_string())?;
    let started = std::time::Instant::now();
    tls.sock
        .set_read_timeout(Some(patience))
        .map_err(|e| e.to_string())?;
    let mut buf = [0_u8; 1024];
    loop {
        match tls.read(&mut buf) {
            // Closed (with or without an answer first).
            Ok(0) => return Ok(Some(started.elapsed())),
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Ok(None);
            }
            Err(_) => return Ok(Some(started.elapsed())),
        }
        if started.elapsed() > patience {
            return Ok(None);
        }
    }
}
