//! The decryption steps of XML Encryption that SAML providers use for
//! encrypted assertions: the content key unwrapped with RSA-OAEP (SHA-1 or
//! SHA-256, with MGF1 of the same hash; no RSA PKCS#1 v1.5, whose padding
//! oracles are well known), then the content decrypted with AES-CBC
//! (XML Encryption's padding) or AES-GCM (a 12-byte IV, a 16-byte tag).

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM, AES_256_GCM};
use aws_lc_rs::cipher::{DecryptingKey, DecryptionContext, UnboundCipherKey, AES_128, AES_256};
use aws_lc_rs::rsa::{
    OaepPrivateDecryptingKey, PrivateDecryptingKey, OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256,
};

/// Why a decryption failed (one reason: callers must not tell them apart).
#[derive(Debug, PartialEq, Eq)]
pub struct Undecryptable;

/// The hash of an RSA-OAEP key transport (its digest and its MGF1's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OaepHash {
    Sha1,
    Sha256,
}

/// The content cipher.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContentCipher {
    Aes128Cbc,
    Aes256Cbc,
    Aes128Gcm,
    Aes256Gcm,
}

impl ContentCipher {
    fn key_len(self) -> usize {
        match self {
            Self::Aes128Cbc | Self::Aes128Gcm => 16,
            Self::Aes256Cbc | Self::Aes256Gcm => 32,
        }
    }
}

/// The content key of an `EncryptedKey`, unwrapped with the RSA private
/// key `pkcs8`.
pub fn unwrap_key(pkcs8: &[u8], hash: OaepHash, wrapped: &[u8]) -> Result<Vec<u8>, Undecryptable> {
    let key = PrivateDecryptingKey::from_pkcs8(pkcs8).map_err(|_| Undecryptable)?;
    let key = OaepPrivateDecryptingKey::new(key).map_err(|_| Undecryptable)?;
    let algorithm = match hash {
        OaepHash::Sha1 => &OAEP_SHA1_MGF1SHA1,
        OaepHash::Sha256 => &OAEP_SHA256_MGF1SHA256,
    };
    let mut out = vec![0u8; key.min_output_size()];
    let plain = key
        .decrypt(algorithm, wrapped, &mut out, None)
        .map_err(|_| Undecryptable)?;
    Ok(plain.to_vec())
}

/// The plaintext of an `EncryptedData`'s cipher value (the IV first).
pub fn decrypt_content(
    cipher: ContentCipher,
    key: &[u8],
    data: &[u8],
) -> Result<Vec<u8>, Undecryptable> {
    if key.len() != cipher.key_len() {
        return Err(Undecryptable);
    }
    match cipher {
        ContentCipher::Aes128Cbc | ContentCipher::Aes256Cbc => {
            let algorithm = if cipher == ContentCipher::Aes128Cbc {
                &AES_128
            } else {
                &AES_256
            };
            if data.len() < 32 || !data.len().is_multiple_of(16) {
                return Err(Undecryptable);
            }
            let (iv, body) = data.split_at(16);
            let iv: [u8; 16] = iv.try_into().map_err(|_| Undecryptable)?;
            let key = UnboundCipherKey::new(algorithm, key).map_err(|_| Undecryptable)?;
            let key = DecryptingKey::cbc(key).map_err(|_| Undecryptable)?;
            let mut buffer = body.to_vec();
            let plain = key
                .decrypt(&mut buffer, DecryptionContext::Iv128(iv.into()))
                .map_err(|_| Undecryptable)?;
            // XML Encryption's padding: the last byte counts the padding
            // (1 to 16 bytes); the others are arbitrary.
            let pad = usize::from(*plain.last().ok_or(Undecryptable)?);
            if pad == 0 || pad > 16 || pad > plain.len() {
                return Err(Undecryptable);
            }
            let end = plain.len() - pad;
            Ok(plain[..end].to_vec())
        }
        ContentCipher::Aes128Gcm | ContentCipher::Aes256Gcm => {
            let algorithm = if cipher == ContentCipher::Aes128Gcm {
                &AES_128_GCM
            } else {
                &AES_256_GCM
            };
            if data.len() < 12 + 16 {
                return Err(Undecryptable);
            }
            let (iv, body) = data.split_at(12);
            let nonce = Nonce::try_assume_unique_for_key(iv).map_err(|_| Undecryptable)?;
            let key = LessSafeKey::new(UnboundKey::new(algorithm, key).map_err(|_| Undecryptable)?);
            let mut buffer = body.to_vec();
            let plain = key
                .open_in_place(nonce, Aad::empty(), &mut buffer)
                .map_err(|_| Undecryptable)?;
            Ok(plain.to_vec())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::cipher::EncryptingKey;
    use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
    use aws_lc_rs::rsa::{KeySize, OaepPublicEncryptingKey};

    #[test]
    fn oaep_unwraps_with_the_hash_it_was_wrapped_with() {
        let private = PrivateDecryptingKey::generate(KeySize::Rsa2048).unwrap();
        let pkcs8 = AsDer::<Pkcs8V1Der>::as_der(&private).unwrap();
        let public = OaepPublicEncryptingKey::new(private.public_key()).unwrap();
        let cek = [7u8; 32];
        let mut out = vec![0u8; public.ciphertext_size()];
        let wrapped = public
            .encrypt(&OAEP_SHA1_MGF1SHA1, &cek, &mut out, None)
            .unwrap()
            .to_vec();
        assert_eq!(
            unwrap_key(pkcs8.as_ref(), OaepHash::Sha1, &wrapped).unwrap(),
            cek
        );
        assert_eq!(
            unwrap_key(pkcs8.as_ref(), OaepHash::Sha256, &wrapped),
            Err(Undecryptable)
        );
    }

    #[test]
    fn cbc_strips_xml_encryptions_padding_and_refuses_bad_padding() {
        let key = [3u8; 16];
        // 20 bytes of content + 12 bytes of padding whose last byte is 12.
        let mut block = b"<saml:Assertion/>xyz".to_vec();
        block.extend_from_slice(&[0xAA; 11]);
        block.push(12);
        let encrypting =
            EncryptingKey::cbc(UnboundCipherKey::new(&AES_128, &key).unwrap()).unwrap();
        let mut buffer = block.clone();
        let context = encrypting.encrypt(&mut buffer).unwrap();
        let DecryptionContext::Iv128(iv) = context else {
            panic!("an IV")
        };
        let iv: &[u8] = iv.as_ref();
        let mut data = iv.to_vec();
        data.extend_from_slice(&buffer);
        assert_eq!(
            decrypt_content(ContentCipher::Aes128Cbc, &key, &data).unwrap(),
            b"<saml:Assertion/>xyz"
        );
        assert_eq!(
            decrypt_content(ContentCipher::Aes256Cbc, &key, &data),
            Err(Undecryptable)
        );
        assert_eq!(
            decrypt_content(ContentCipher::Aes128Cbc, &key, &data[..20]),
            Err(Undecryptable)
        );
    }

    #[test]
    fn gcm_checks_its_tag() {
        let key = [5u8; 32];
        let sealing = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &key).unwrap());
        let iv = [9u8; 12];
        let mut buffer = b"<Assertion/>".to_vec();
        sealing
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(iv), Aad::empty(), &mut buffer)
            .unwrap();
        let mut data = iv.to_vec();
        data.extend_from_slice(&buffer);
        assert_eq!(
            decrypt_content(ContentCipher::Aes256Gcm, &key, &data).unwrap(),
            b"<Assertion/>"
        );
        let last = data.len() - 1;
        data[last] ^= 1;
        assert_eq!(
            decrypt_content(ContentCipher::Aes256Gcm, &key, &data),
            Err(Undecryptable)
        );
    }
}
