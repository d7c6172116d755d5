//! Messages in the AWS Encryption SDK's format, as Amazon Cognito encrypts
//! the codes and temporary passwords it hands to custom sender triggers:
//! message format version 1, algorithm suite 0x0378
//! (AES-256-GCM, IV 12, tag 16, HKDF-SHA384, ECDSA P-384 signature), framed
//! content with 4096-byte frames, the encryption context
//! `{aws-crypto-public-key, userpool-id}` and one encrypted data key (the
//! `aws-kms` one a KMS `GenerateDataKey` returns). A function decrypts it
//! with any AWS Encryption SDK and a KMS keyring (committing-suite policy
//! `REQUIRE_ENCRYPT_ALLOW_DECRYPT`, as AWS's examples set it).
//!
//! Encryption is two steps, because the data key comes from KMS in
//! between: [`Sealer::new`] makes the message's signing key and id and the
//! full encryption context (the one KMS must be given), then
//! [`Sealer::seal`] encrypts with the data key KMS returned.
//!
//! The format is AWS's published message format reference; nothing here
//! knows about KMS or HTTP.

use std::collections::BTreeMap;

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use aws_lc_rs::hkdf;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P384_SHA384_ASN1_SIGNING};
use base64::Engine;

/// The algorithm suite: AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384.
pub const ALGORITHM_ID: u16 = 0x0378;
/// The encryption context key of the message's signature verification key.
pub const PUBLIC_KEY_CONTEXT: &str = "aws-crypto-public-key";
/// Frame length of the framed body.
pub const FRAME_LENGTH: u32 = 4096;
const IV_LENGTH: usize = 12;
const TAG_LENGTH: usize = 16;
const KEY_LENGTH: usize = 32;
const FRAME_AAD: &[u8] = b"AWSKMSEncryptionClient Frame";
const FINAL_FRAME_AAD: &[u8] = b"AWSKMSEncryptionClient Final Frame";

/// Why a message could not be made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EsdkError {
    #[error("the data key must be 32 bytes")]
    DataKeyLength,
    #[error("an encryption context entry or data key field is longer than 65535 bytes")]
    FieldTooLong,
    #[error("the reserved encryption context key {PUBLIC_KEY_CONTEXT} was given")]
    ReservedContextKey,
    #[error("cryptographic failure")]
    Crypto,
}

/// An encrypted data key as a keyring gives it: KMS's is provider id
/// `aws-kms`, provider info the key ARN, ciphertext the CiphertextBlob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncryptedDataKey {
    pub provider_id: String,
    pub provider_info: String,
    pub ciphertext: Vec<u8>,
}

/// A message being made: its signing key, id and encryption context.
pub struct Sealer {
    signing: EcdsaKeyPair,
    message_id: [u8; 16],
    context: BTreeMap<String, String>,
}

impl Sealer {
    /// A fresh signing key and message id; `context` gains the
    /// `aws-crypto-public-key` entry (the compressed P-384 point, base64).
    pub fn new(mut context: BTreeMap<String, String>) -> Result<Self, EsdkError> {
        if context.contains_key(PUBLIC_KEY_CONTEXT) {
            return Err(EsdkError::ReservedContextKey);
        }
        let signing = EcdsaKeyPair::generate(&ECDSA_P384_SHA384_ASN1_SIGNING)
            .map_err(|_| EsdkError::Crypto)?;
        let public = compress_point(signing.public_key().as_ref()).ok_or(EsdkError::Crypto)?;
        context.insert(
            PUBLIC_KEY_CONTEXT.to_owned(),
            base64::engine::general_purpose::STANDARD.encode(public),
        );
        let mut message_id = [0u8; 16];
        aws_lc_rs::rand::fill(&mut message_id).map_err(|_| EsdkError::Crypto)?;
        Ok(Sealer {
            signing,
            message_id,
            context,
        })
    }

    /// The encryption context the message carries, which the data key must
    /// be generated (and will be decrypted) under.
    pub fn encryption_context(&self) -> &BTreeMap<String, String> {
        &self.context
    }

    /// The whole message: header, header authentication, framed body and
    /// signature footer.
    pub fn seal(
        self,
        data_key: &[u8],
        key: &EncryptedDataKey,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, EsdkError> {
        if data_key.len() != KEY_LENGTH {
            return Err(EsdkError::DataKeyLength);
        }
        let cipher = self.content_key(data_key)?;
        let mut out = self.header(key)?;
        // Header authentication: the tag of an empty plaintext under the
        // header as additional data, with an all-zero IV.
        let zero_iv = [0u8; IV_LENGTH];
        let tag = seal_in_place(&cipher, zero_iv, &out, &mut [])?;
        out.extend_from_slice(&zero_iv);
        out.extend_from_slice(&tag);

        let frame = FRAME_LENGTH as usize;
        let mut rest = plaintext;
        let mut sequence: u32 = 1;
        while rest.len() > frame {
            let (chunk, tail) = rest.split_at(frame);
            self.frame(&cipher, &mut out, sequence, chunk, false)?;
            rest = tail;
            sequence = sequence.checked_add(1).ok_or(EsdkError::Crypto)?;
        }
        self.frame(&cipher, &mut out, sequence, rest, true)?;

        let rng = SystemRandom::new();
        let signature = self
            .signing
            .sign(&rng, &out)
            .map_err(|_| EsdkError::Crypto)?;
        push_field(&mut out, signature.as_ref())?;
        Ok(out)
    }

    /// HKDF-SHA384 of the data key, salt empty, info = suite id || message id.
    fn content_key(&self, data_key: &[u8]) -> Result<LessSafeKey, EsdkError> {
        struct Len(usize);
        impl hkdf::KeyType for Len {
            fn len(&self) -> usize {
                self.0
            }
        }
        let mut info = ALGORITHM_ID.to_be_bytes().to_vec();
        info.extend_from_slice(&self.message_id);
        let mut derived = [0u8; KEY_LENGTH];
        hkdf::Salt::new(hkdf::HKDF_SHA384, &[])
            .extract(data_key)
            .expand(&[&info], Len(KEY_LENGTH))
            .and_then(|okm| okm.fill(&mut derived))
            .map_err(|_| EsdkError::Crypto)?;
        let key = UnboundKey::new(&AES_256_GCM, &derived).map_err(|_| EsdkError::Crypto)?;
        Ok(LessSafeKey::new(key))
    }

    /// The header up to its authentication tag.
    fn header(&self, key: &EncryptedDataKey) -> Result<Vec<u8>, EsdkError> {
        let mut out = vec![0x01, 0x80];
        out.extend_from_slice(&ALGORITHM_ID.to_be_bytes());
        out.extend_from_slice(&self.message_id);
        let mut aad = Vec::new();
        push_u16(&mut aad, self.context.len())?;
        // BTreeMap<String, _> iterates in byte order of the keys, the order
        // the format asks for.
        for (k, v) in &self.context {
            push_field(&mut aad, k.as_bytes())?;
            push_field(&mut aad, v.as_bytes())?;
        }
        push_field(&mut out, &aad)?;
        push_u16(&mut out, 1)?;
        push_field(&mut out, key.provider_id.as_bytes())?;
        push_field(&mut out, key.provider_info.as_bytes())?;
        push_field(&mut out, &key.ciphertext)?;
        out.push(0x02); // framed content
        out.extend_from_slice(&[0, 0, 0, 0]);
        out.push(IV_LENGTH as u8);
        out.extend_from_slice(&FRAME_LENGTH.to_be_bytes());
        Ok(out)
    }

    fn frame(
        &self,
        cipher: &LessSafeKey,
        out: &mut Vec<u8>,
        sequence: u32,
        chunk: &[u8],
        last: bool,
    ) -> Result<(), EsdkError> {
        let mut iv = [0u8; IV_LENGTH];
        iv[IV_LENGTH - 4..].copy_from_slice(&sequence.to_be_bytes());
        let mut aad = self.message_id.to_vec();
        aad.extend_from_slice(if last { FINAL_FRAME_AAD } else { FRAME_AAD });
        aad.extend_from_slice(&sequence.to_be_bytes());
        aad.extend_from_slice(&(chunk.len() as u64).to_be_bytes());
        let mut data = chunk.to_vec();
        let tag = seal_in_place(cipher, iv, &aad, &mut data)?;
        if last {
            out.extend_from_slice(&u32::MAX.to_be_bytes());
        }
        out.extend_from_slice(&sequence.to_be_bytes());
        out.extend_from_slice(&iv);
        if last {
            let len = u32::try_from(chunk.len()).map_err(|_| EsdkError::FieldTooLong)?;
            out.extend_from_slice(&len.to_be_bytes());
        }
        out.extend_from_slice(&data);
        out.extend_from_slice(&tag);
        Ok(())
    }
}

fn seal_in_place(
    cipher: &LessSafeKey,
    iv: [u8; IV_LENGTH],
    aad: &[u8],
    data: &mut [u8],
) -> Result<[u8; TAG_LENGTH], EsdkError> {
    let tag = cipher
        .seal_in_place_separate_tag(Nonce::assume_unique_for_key(iv), Aad::from(aad), data)
        .map_err(|_| EsdkError::Crypto)?;
    let mut out = [0u8; TAG_LENGTH];
    out.copy_from_slice(tag.as_ref());
    Ok(out)
}

fn push_u16(out: &mut Vec<u8>, n: usize) -> Result<(), EsdkError> {
    let n = u16::try_from(n).map_err(|_| EsdkError::FieldTooLong)?;
    out.extend_from_slice(&n.to_be_bytes());
    Ok(())
}

/// A field with its two-byte length before it.
fn push_field(out: &mut Vec<u8>, bytes: &[u8]) -> Result<(), EsdkError> {
    push_u16(out, bytes.len())?;
    out.extend_from_slice(bytes);
    Ok(())
}

/// The compressed form (SEC 1 §2.3.3) of an uncompressed point `04 || X || Y`.
fn compress_point(uncompressed: &[u8]) -> Option<Vec<u8>> {
    let (&tag, xy) = uncompressed.split_first()?;
    if tag != 0x04 || xy.len() % 2 != 0 {
        return None;
    }
    let (x, y) = xy.split_at(xy.len() / 2);
    let mut out = vec![0x02 | (y.last()? & 1)];
    out.extend_from_slice(x);
    Some(out)
}

#[cfg(test)]
mod tests;
