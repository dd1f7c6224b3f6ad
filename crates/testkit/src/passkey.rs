//! A software passkey authenticator for API tests: what a phone or security key does, in a
//! few lines — an ECDSA P-256 key per credential, "none" attestation, a signature counter.
//! It answers the options Termin sends exactly as `navigator.credentials` would, encoded as
//! Termin's pages send them (binary fields base64url).

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// Authenticator data flags: user present, user verified, attested credential data.
const UP: u8 = 0x01;
const UV: u8 = 0x04;
const AT: u8 = 0x40;

pub struct SoftPasskey {
    origin: String,
    rp_id: String,
    credential_id: Vec<u8>,
    user_handle: Vec<u8>,
    key: EcdsaKeyPair,
    counter: u32,
}

impl SoftPasskey {
    /// Answers `navigator.credentials.create` options (`{"publicKey": …}`) as the browser
    /// at `origin` would: the new passkey and the registration credential to send.
    pub fn create(origin: &str, options: &Value) -> (Self, Value) {
        let options = &options["publicKey"];
        let rp_id = options["rp"]["id"].as_str().expect("rp.id").to_owned();
        let challenge = options["challenge"].as_str().expect("challenge");
        let user_handle = URL_SAFE_NO_PAD
            .decode(options["user"]["id"].as_str().expect("user.id"))
            .expect("user.id is base64url");
        let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).expect("P-256 key");
        let credential_id = uuid::Uuid::new_v4().as_bytes().to_vec();
        let passkey = Self {
            origin: origin.to_owned(),
            rp_id,
            credential_id,
            user_handle,
            key,
            counter: 0,
        };
        let client_data = passkey.client_data("webauthn.create", challenge);
        let mut auth_data = passkey.auth_data_head(UP | UV | AT);
        auth_data.extend_from_slice(&[0; 16]); // AAGUID: none
        let id_len = u16::try_from(passkey.credential_id.len()).expect("short id");
        auth_data.extend_from_slice(&id_len.to_be_bytes());
        auth_data.extend_from_slice(&passkey.credential_id);
        auth_data.extend_from_slice(&passkey.cose_key());
        let mut attestation = Vec::new();
        cbor_head(&mut attestation, 5, 3);
        cbor_text(&mut attestation, "fmt");
        cbor_text(&mut attestation, "none");
        cbor_text(&mut attestation, "attStmt");
        cbor_head(&mut attestation, 5, 0);
        cbor_text(&mut attestation, "authData");
        cbor_bytes(&mut attestation, &auth_data);
        let credential = json!({
            "id": passkey.id(),
            "rawId": passkey.id(),
            "type": "public-key",
            "response": {
                "attestationObject": URL_SAFE_NO_PAD.encode(attestation),
                "clientDataJSON": URL_SAFE_NO_PAD.encode(client_data),
            },
            "extensions": {},
        });
        (passkey, credential)
    }

    /// Enrols a new software passkey named `name` for the user signed in on `browser`,
    /// through the API; returns it and its id.
    pub async fn enrol(
        server: &crate::TestServer,
        browser: &crate::Browser,
        name: &str,
    ) -> (Self, String) {
        let options = browser
            .post("/api/v1/me/passkeys/challenge", &json!({}))
            .await;
        assert_eq!(options.status, 200, "challenge: {:?}", options.body);
        let (passkey, credential) = Self::create(&server.url(""), &options.body);
        let created = browser
            .post(
                "/api/v1/me/passkeys",
                &json!({"name": name, "credential": credential}),
            )
            .await;
        assert_eq!(created.status, 201, "enrol: {:?}", created.body);
        let id = created.body["id"].as_str().expect("an id").to_owned();
        (passkey, id)
    }

    /// Answers `navigator.credentials.get` options with a signed assertion.
    pub fn get(&mut self, options: &Value) -> Value {
        let challenge = options["publicKey"]["challenge"]
            .as_str()
            .expect("challenge");
        self.sign("webauthn.get", challenge, &self.origin.clone())
    }

    /// An assertion as from another site (`origin`): what a phishing page would relay.
    pub fn get_for_origin(&mut self, options: &Value, origin: &str) -> Value {
        let challenge = options["publicKey"]["challenge"]
            .as_str()
            .expect("challenge");
        self.sign("webauthn.get", challenge, origin)
    }

    /// The credential id, base64url.
    pub fn id(&self) -> String {
        URL_SAFE_NO_PAD.encode(&self.credential_id)
    }

    fn sign(&mut self, kind: &str, challenge: &str, origin: &str) -> Value {
        self.counter += 1;
        let client_data = serde_json::to_vec(&json!({
            "type": kind, "challenge": challenge, "origin": origin, "crossOrigin": false,
        }))
        .expect("json");
        let auth_data = self.auth_data_head(UP | UV);
        let mut signed = auth_data.clone();
        signed.extend_from_slice(digest(&SHA256, &client_data).as_ref());
        let signature = self
            .key
            .sign(&SystemRandom::new(), &signed)
            .expect("signature");
        json!({
            "id": self.id(),
            "rawId": self.id(),
            "type": "public-key",
            "response": {
                "authenticatorData": URL_SAFE_NO_PAD.encode(auth_data),
                "clientDataJSON": URL_SAFE_NO_PAD.encode(client_data),
                "signature": URL_SAFE_NO_PAD.encode(signature.as_ref()),
                "userHandle": URL_SAFE_NO_PAD.encode(&self.user_handle),
            },
            "extensions": {},
        })
    }

    fn client_data(&self, kind: &str, challenge: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": false,
        }))
        .expect("json")
    }

    /// RP ID hash, flags, signature counter.
    fn auth_data_head(&self, flags: u8) -> Vec<u8> {
        let mut data = digest(&SHA256, self.rp_id.as_bytes()).as_ref().to_vec();
        data.push(flags);
        data.extend_from_slice(&self.counter.to_be_bytes());
        data
    }

    /// The public key as a COSE_Key: EC2, ES256, P-256, x and y.
    fn cose_key(&self) -> Vec<u8> {
        let point = self.key.public_key().as_ref(); // 0x04 || x || y
        let mut key = Vec::new();
        cbor_head(&mut key, 5, 5);
        cbor_int(&mut key, 1);
        cbor_int(&mut key, 2);
        cbor_int(&mut key, 3);
        cbor_int(&mut key, -7);
        cbor_int(&mut key, -1);
        cbor_int(&mut key, 1);
        cbor_int(&mut key, -2);
        cbor_bytes(&mut key, &point[1..33]);
        cbor_int(&mut key, -3);
        cbor_bytes(&mut key, &point[33..65]);
        key
    }
}

// The few CBOR items (RFC 8949) an attestation object needs.
fn cbor_head(out: &mut Vec<u8>, major: u8, len: usize) {
    let major = major << 5;
    match len {
        0..=23 => out.push(major | u8::try_from(len).expect("small")),
        24..=255 => out.extend_from_slice(&[major | 24, u8::try_from(len).expect("byte")]),
        _ => {
            out.push(major | 25);
            out.extend_from_slice(&u16::try_from(len).expect("short").to_be_bytes());
        }
    }
}

fn cbor_int(out: &mut Vec<u8>, value: i64) {
    if value >= 0 {
        cbor_head(out, 0, usize::try_from(value).expect("small"));
    } else {
        cbor_head(out, 1, usize::try_from(-1 - value).expect("small"));
    }
}

fn cbor_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    cbor_head(out, 2, bytes.len());
    out.extend_from_slice(bytes);
}

fn cbor_text(out: &mut Vec<u8>, text: &str) {
    cbor_head(out, 3, text.len());
    out.extend_from_slice(text.as_bytes());
}
