//! The HTTPS listener as a client sees it: versions, cipher suites, ALPN, certificates.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

use std::time::{Duration, Instant};

use rustls::version::{TLS12, TLS13};
use rustls::{CipherSuite, ProtocolVersion};
use termin::tls::fingerprint;
use termin_testkit::TestServer;
use termin_testkit::pki::TestCa;
use termin_testkit::tls_probe::{self, FirstRecord, suites};

const ALERT_FATAL: u8 = 2;
const ALERT_HANDSHAKE_FAILURE: u8 = 40;
const ALERT_PROTOCOL_VERSION: u8 = 70;

/// Sends a hand-made ClientHello and returns the server's first record.
async fn hello(server: &TestServer, legacy_version: u16, offered: &'static [u16]) -> FirstRecord {
    let addr = server.info.https_addr;
    tokio::task::spawn_blocking(move || tls_probe::send_client_hello(addr, legacy_version, offered))
        .await
        .unwrap()
}

fn cert_pem(server: &TestServer) -> Vec<u8> {
    std::fs::read(&server.info.certificate.cert_path).unwrap()
}

#[tokio::test]
async fn healthz_answers_200_over_tls13_and_http2() {
    let server = TestServer::start().await;
    let response = server.get("/healthz").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    assert_eq!(response.text().await.unwrap(), r#"{"status":"ok"}"#);

    let addr = server.info.https_addr;
    let pem = cert_pem(&server);
    let negotiated = tokio::task::spawn_blocking(move || {
        tls_probe::handshake(addr, &pem, &[&TLS13, &TLS12], &[b"h2", b"http/1.1"])
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(negotiated.version, ProtocolVersion::TLSv1_3);
    assert_eq!(negotiated.alpn.as_deref(), Some(&b"h2"[..]));
}

#[tokio::test]
async fn http11_is_offered_by_alpn_too() {
    let server = TestServer::start().await;
    let (addr, pem) = (server.info.https_addr, cert_pem(&server));
    let negotiated = tokio::task::spawn_blocking(move || {
        tls_probe::handshake(addr, &pem, &[&TLS13], &[b"http/1.1"])
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(negotiated.alpn.as_deref(), Some(&b"http/1.1"[..]));
}

#[tokio::test]
async fn tls12_clients_get_an_ecdhe_aead_suite() {
    let server = TestServer::start().await;
    let (addr, pem) = (server.info.https_addr, cert_pem(&server));
    let negotiated =
        tokio::task::spawn_blocking(move || tls_probe::handshake(addr, &pem, &[&TLS12], &[]))
            .await
            .unwrap()
            .unwrap();
    assert_eq!(negotiated.version, ProtocolVersion::TLSv1_2);
    assert!(
        matches!(
            negotiated.cipher_suite,
            CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
                | CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
                | CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
        ),
        "{:?}",
        negotiated.cipher_suite
    );
}

#[tokio::test]
async fn a_hand_made_tls12_hello_with_an_aead_suite_is_answered_with_server_hello() {
    // The control for the refusal tests below: the same hand-made hello, acceptable suite.
    let server = TestServer::start().await;
    let first = hello(&server, 0x0303, &[suites::ECDHE_ECDSA_AES128_GCM_SHA256]).await;
    assert_eq!(first, FirstRecord::Handshake(2));
}

#[tokio::test]
async fn tls11_is_refused() {
    let server = TestServer::start().await;
    let first = hello(
        &server,
        0x0302,
        &[
            suites::ECDHE_ECDSA_AES128_CBC_SHA,
            suites::RSA_AES128_CBC_SHA,
            suites::ECDHE_ECDSA_AES128_GCM_SHA256,
        ],
    )
    .await;
    assert_eq!(
        first,
        FirstRecord::Alert {
            level: ALERT_FATAL,
            description: ALERT_PROTOCOL_VERSION
        }
    );
}

#[tokio::test]
async fn cbc_and_rsa_key_exchange_suites_are_refused() {
    let server = TestServer::start().await;
    let first = hello(
        &server,
        0x0303,
        &[
            suites::ECDHE_ECDSA_AES128_CBC_SHA,
            suites::ECDHE_ECDSA_AES256_CBC_SHA384,
            suites::RSA_AES128_GCM_SHA256,
            suites::RSA_AES128_CBC_SHA,
            suites::RSA_3DES_EDE_CBC_SHA,
        ],
    )
    .await;
    assert_eq!(
        first,
        FirstRecord::Alert {
            level: ALERT_FATAL,
            description: ALERT_HANDSHAKE_FAILURE
        }
    );
}

#[tokio::test]
async fn plain_http_on_the_tls_port_gets_no_http_answer() {
    let server = TestServer::start().await;
    let addr = server.info.https_addr;
    let answer = tokio::task::spawn_blocking(move || {
        tls_probe::send_raw(addr, b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
    })
    .await
    .unwrap();
    assert!(
        !answer.starts_with(b"HTTP/"),
        "{:?}",
        String::from_utf8_lossy(&answer)
    );
    assert!(!String::from_utf8_lossy(&answer).contains("status"));
}

#[tokio::test]
async fn the_self_signed_certificate_fingerprint_is_reported() {
    let server = TestServer::start().await;
    let der = termin::tls::self_signed::leaf_der(&server.info.certificate.cert_path).unwrap();
    assert!(server.info.certificate.self_signed);
    assert_eq!(
        server.info.certificate.fingerprint_sha256,
        fingerprint(&der)
    );
    assert_eq!(server.info.certificate.fingerprint_sha256.len(), 32 * 3 - 1);
}

fn operator_cert_server(ca: &TestCa, dir: &std::path::Path) -> termin_testkit::TestServerBuilder {
    let (cert, key) = (dir.join("chain.pem"), dir.join("key.pem"));
    ca.issue_localhost(&cert, &key);
    TestServer::builder().configure(move |raw| {
        raw.tls.cert = Some(cert);
        raw.tls.key = Some(key);
    })
}

async fn served_chain(
    server: &TestServer,
    root_pem: &str,
) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    let (addr, pem) = (server.info.https_addr, root_pem.as_bytes().to_vec());
    tokio::task::spawn_blocking(move || tls_probe::handshake(addr, &pem, &[&TLS13], &[]))
        .await
        .unwrap()
        .unwrap()
        .peer_chain
}

#[tokio::test]
async fn an_operator_certificate_is_served_with_its_full_chain() {
    let ca = TestCa::new();
    let dir = tempfile::tempdir().unwrap();
    let server = operator_cert_server(&ca, dir.path()).start().await;
    assert!(!server.info.certificate.self_signed);
    let chain = served_chain(&server, &ca.root_pem).await;
    assert_eq!(chain.len(), 2, "leaf and intermediate");
    assert_eq!(
        fingerprint(&chain[0]),
        server.info.certificate.fingerprint_sha256
    );
}

#[tokio::test]
async fn a_renewed_certificate_is_served_without_restart_and_a_broken_one_is_ignored() {
    let ca = TestCa::new();
    let dir = tempfile::tempdir().unwrap();
    let server = operator_cert_server(&ca, dir.path()).start().await;
    let before = fingerprint(&served_chain(&server, &ca.root_pem).await[0]);

    // Renew: write a new chain and key (as certbot or an ACME client would).
    let (cert, key) = (dir.path().join("chain.pem"), dir.path().join("key.pem"));
    ca.issue_localhost(&cert, &key);
    let renewed = fingerprint(&termin::tls::self_signed::leaf_der(&cert).unwrap());
    assert_ne!(renewed, before);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now_served = fingerprint(&served_chain(&server, &ca.root_pem).await[0]);
        if now_served == renewed {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the renewed certificate was not picked up"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // A key that does not belong to the certificate: the renewed one stays in service.
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    ca.issue_localhost(&other.join("c.pem"), &other.join("k.pem"));
    std::fs::copy(other.join("k.pem"), &key).unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        fingerprint(&served_chain(&server, &ca.root_pem).await[0]),
        renewed
    );
    assert_eq!(server.get("/healthz").await.status(), 200);
}
