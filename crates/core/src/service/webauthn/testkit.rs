//! A software passkey authenticator for tests: a P-256 (ES256) key made in
//! the test, and real authenticatorData, clientDataJSON, attestationObject
//! (`none` or `packed` self-attestation) and assertions, as a browser would
//! hand them to a relying party (RegistrationResponseJSON and
//! AuthenticationResponseJSON). Shared by core's unit tests and the root
//! package's integration tests (included by path).

#![allow(dead_code)]

use aws_lc_rs::digest::{digest, SHA256};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};
use base64::Engine;
use ciborium::value::Value as Cbor;
use serde_json::{json, Value};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub const FLAG_UP: u8 = 0x01;
pub const FLAG_UV: u8 = 0x04;
pub const FLAG_AT: u8 = 0x40;

/// What a test changes in one response (everything else is right).
#[derive(Clone, Debug)]
pub struct Tweaks {
    pub kind: String,
    pub origin: String,
    pub rp_id: String,
    pub flags: u8,
    pub fmt: String,
    /// Bytes appended to the signed data (a wrong signature).
    pub corrupt_signature: bool,
    pub sign_count: Option<u32>,
    pub user_handle: Option<String>,
}

pub struct SoftAuthenticator {
    pair: EcdsaKeyPair,
    /// The key's PKCS#8 document (for certificates of it).
    pub pkcs8: Vec<u8>,
    pub credential_id: Vec<u8>,
    pub sign_count: u32,
    pub rp_id: String,
    pub origin: String,
}

fn sha256(data: &[u8]) -> Vec<u8> {
    digest(&SHA256, data).as_ref().to_vec()
}

fn int(n: i64) -> Cbor {
    Cbor::Integer(n.into())
}

fn cbor(value: &Cbor) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(value, &mut out).expect("cbor");
    out
}

impl SoftAuthenticator {
    pub fn new(rp_id: &str, origin: &str) -> Self {
        let rng = SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).expect("key");
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, doc.as_ref()).expect("key");
        let mut credential_id = vec![0u8; 32];
        aws_lc_rs::rand::fill(&mut credential_id).expect("random");
        SoftAuthenticator {
            pair,
            pkcs8: doc.as_ref().to_vec(),
            credential_id,
            sign_count: 0,
            rp_id: rp_id.to_owned(),
            origin: origin.to_owned(),
        }
    }

    pub fn id(&self) -> String {
        B64.encode(&self.credential_id)
    }

    pub fn tweaks(&self, kind: &str) -> Tweaks {
        Tweaks {
            kind: kind.to_owned(),
            origin: self.origin.clone(),
            rp_id: self.rp_id.clone(),
            flags: FLAG_UP | FLAG_UV,
            fmt: "none".into(),
            corrupt_signature: false,
            sign_count: None,
            user_handle: None,
        }
    }

    pub fn cose_key(&self) -> Vec<u8> {
        let public = self.pair.public_key().as_ref();
        cbor(&Cbor::Map(vec![
            (int(1), int(2)),
            (int(3), int(-7)),
            (int(-1), int(1)),
            (int(-2), Cbor::Bytes(public[1..33].to_vec())),
            (int(-3), Cbor::Bytes(public[33..65].to_vec())),
        ]))
    }

    fn client_data(&self, t: &Tweaks, challenge: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "type": t.kind,
            "challenge": challenge,
            "origin": t.origin,
            "crossOrigin": false,
        }))
        .expect("json")
    }

    fn auth_data(&self, t: &Tweaks, count: u32, attested: bool) -> Vec<u8> {
        let mut out = sha256(t.rp_id.as_bytes());
        out.push(t.flags | if attested { FLAG_AT } else { 0 });
        out.extend_from_slice(&count.to_be_bytes());
        if attested {
            out.extend_from_slice(&[0u8; 16]);
            let len = u16::try_from(self.credential_id.len()).expect("id length");
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(&self.credential_id);
            out.extend_from_slice(&self.cose_key());
        }
        out
    }

    fn sign(&self, auth_data: &[u8], client_data: &[u8], corrupt: bool) -> Vec<u8> {
        let mut signed = auth_data.to_vec();
        signed.extend_from_slice(&sha256(client_data));
        if corrupt {
            signed.push(0);
        }
        self.pair
            .sign(&SystemRandom::new(), &signed)
            .expect("sign")
            .as_ref()
            .to_vec()
    }

    /// A RegistrationResponseJSON for `challenge` (attestation `none`).
    pub fn register(&self, challenge: &str) -> Value {
        self.register_with(challenge, &self.tweaks("webauthn.create"))
    }

    pub fn register_with(&self, challenge: &str, t: &Tweaks) -> Value {
        let mut response = self.registration(challenge, t, |auth_data, client_data| {
            match t.fmt.as_str() {
                "packed" => Cbor::Map(vec![
                    (Cbor::Text("alg".into()), int(-7)),
                    (
                        Cbor::Text("sig".into()),
                        Cbor::Bytes(self.sign(auth_data, client_data, t.corrupt_signature)),
                    ),
                ]),
                _ => Cbor::Map(vec![]),
            }
        });
        response["authenticatorAttachment"] = json!("platform");
        response["response"]["transports"] = json!(["internal"]);
        response
    }

    /// A RegistrationResponseJSON (no attachment, no transports) whose
    /// attestation statement `statement` makes of (authenticatorData,
    /// clientDataJSON), in format `t.fmt`.
    fn registration(
        &self,
        challenge: &str,
        t: &Tweaks,
        statement: impl FnOnce(&[u8], &[u8]) -> Cbor,
    ) -> Value {
        let client_data = self.client_data(t, challenge);
        let auth_data = self.auth_data(t, t.sign_count.unwrap_or(self.sign_count), true);
        let statement = statement(&auth_data, &client_data);
        let attestation = cbor(&Cbor::Map(vec![
            (Cbor::Text("fmt".into()), Cbor::Text(t.fmt.clone())),
            (Cbor::Text("attStmt".into()), statement),
            (Cbor::Text("authData".into()), Cbor::Bytes(auth_data)),
        ]));
        json!({
            "id": self.id(),
            "rawId": self.id(),
            "type": "public-key",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": B64.encode(&client_data),
                "attestationObject": B64.encode(&attestation),
            },
        })
    }

    /// The public key as an uncompressed P-256 point.
    pub fn public_point(&self) -> Vec<u8> {
        self.pair.public_key().as_ref().to_vec()
    }

    /// An ECDSA P-256 / SHA-256 signature (DER) of `message`.
    pub fn sign_message(&self, message: &[u8]) -> Vec<u8> {
        self.pair
            .sign(&SystemRandom::new(), message)
            .expect("sign")
            .as_ref()
            .to_vec()
    }

    /// A RegistrationResponseJSON for `challenge` whose attestation is
    /// `fmt` with the statement `statement` makes of (authenticatorData,
    /// clientDataJSON).
    pub fn register_attested(
        &self,
        challenge: &str,
        fmt: &str,
        statement: impl FnOnce(&[u8], &[u8]) -> Cbor,
    ) -> Value {
        let mut t = self.tweaks("webauthn.create");
        t.fmt = fmt.to_owned();
        let mut response = self.registration(challenge, &t, statement);
        response["response"]["transports"] = json!(["usb"]);
        response
    }

    /// An AuthenticationResponseJSON for `challenge`; the counter moves on.
    pub fn assert(&mut self, challenge: &str, user_handle: &str) -> Value {
        let mut t = self.tweaks("webauthn.get");
        t.user_handle = Some(user_handle.to_owned());
        self.assert_with(challenge, &t)
    }

    pub fn assert_with(&mut self, challenge: &str, t: &Tweaks) -> Value {
        let count = match t.sign_count {
            Some(c) => c,
            None => {
                self.sign_count += 1;
                self.sign_count
            }
        };
        let client_data = self.client_data(t, challenge);
        let auth_data = self.auth_data(t, count, false);
        let signature = self.sign(&auth_data, &client_data, t.corrupt_signature);
        let mut response = json!({
            "clientDataJSON": B64.encode(&client_data),
            "authenticatorData": B64.encode(&auth_data),
            "signature": B64.encode(&signature),
        });
        if let Some(handle) = &t.user_handle {
            response["userHandle"] = json!(handle);
        }
        json!({
            "id": self.id(),
            "rawId": self.id(),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": response,
        })
    }
}
