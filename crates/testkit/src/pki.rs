//! A throw-away certificate authority for tests of operator certificates: a root, an
//! intermediate, and leaves for `localhost`, like a real CA's chain.

use std::path::Path;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

pub struct TestCa {
    pub root_pem: String,
    intermediate_pem: String,
    intermediate: Issuer<'static, KeyPair>,
}

impl TestCa {
    pub fn new() -> Self {
        let root_key = KeyPair::generate().expect("root key");
        let mut root = CertificateParams::new(Vec::<String>::new()).expect("params");
        root.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        root.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        root.distinguished_name
            .push(DnType::CommonName, "Termin Test Root CA");
        let root_cert = root.self_signed(&root_key).expect("root cert");
        let root_issuer = Issuer::new(root, root_key);

        let int_key = KeyPair::generate().expect("intermediate key");
        let mut int = CertificateParams::new(Vec::<String>::new()).expect("params");
        int.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        int.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        int.distinguished_name
            .push(DnType::CommonName, "Termin Test Intermediate CA");
        let int_cert = int
            .signed_by(&int_key, &root_issuer)
            .expect("intermediate cert");
        Self {
            root_pem: root_cert.pem(),
            intermediate_pem: int_cert.pem(),
            intermediate: Issuer::new(int, int_key),
        }
    }

    /// Issues a leaf for localhost and writes the full chain (leaf, intermediate) and the
    /// key as PEM files.
    pub fn issue_localhost(&self, cert_path: &Path, key_path: &Path) {
        let key = KeyPair::generate().expect("leaf key");
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        let leaf = params
            .signed_by(&key, &self.intermediate)
            .expect("leaf cert");
        std::fs::write(
            cert_path,
            format!("{}{}", leaf.pem(), self.intermediate_pem),
        )
        .expect("write chain");
        std::fs::write(key_path, key.serialize_pem()).expect("write key");
    }
}

impl Default for TestCa {
    fn default() -> Self {
        Self::new()
    }
}
