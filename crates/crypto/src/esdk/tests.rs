//! The messages are read back by a reader written from the format
//! reference (not from the writer), and compared with the layout of a
//! code Amazon Cognito itself sent a custom email sender.

use super::*;
use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use aws_lc_rs::signature::{UnparsedPublicKey, ECDSA_P384_SHA384_ASN1};

/// A CustomEmailSender_SignUp event's `code` as AWS sent it (from a public
/// example's log; the KMS key is not ours, so only its layout is read).
const AWS_CODE: &str = "AYADeJsc8ABfz4We35yeVQUr6A8AgQACABVhd3MtY3J5cHRvLXB1YmxpYy1rZXkAREF1c29tTFBxVGJHZ3BKaHlJMGJVVFVIcGk3bEl4SmhMNVBMejExc043YmI0MzNLb1RVbWZYTzBMV3JZYzFsS1N6Zz09AAt1c2VycG9vbC1pZAATZXUtd2VzdC0xX1VWY3d2WjFFOAABAAdhd3Mta21zAEthcm46YXdzOmttczpldS13ZXN0LTE6MjQ5NzU5Mzk4OTM0OmtleS84YTIzMTAyYy05YjY4LTRmZWQtODJjZS01MjNjNTM2MzUzOWUAuAECAQB4zjtU8csJUK3MLH8Y6WeSR/UlTZ5dBq+1YWcTwrPeeIUB/sLrtmrF6weu6juPsOHF/gAAAH4wfAYJKoZIhvcNAQcGoG8wbQIBADBoBgkqhkiG9w0BBwEwHgYJYIZIAWUDBAEuMBEEDGJqb9919luTGmPbEgIBEIA7wHTDUaKbPmKtg6QETi2TiVJK7tvfTZRP4VWFGxmB5/0lhcAiKTA7EGweo1/BTKTk0x4b3LiluzDd+yMCAAAAAAwAABAAAAAAAAAAAAAAAAAALZddEWiNl+OGHRMKbclmQf////8AAAABAAAAAAAAAAAAAAABAAAABvMlKUZN7tCz953A13RxWz39z56LZ2QAZzBlAjAR+8fFCOlFWEm0hFajxMCD3C3Tuo76l0pJicv6yRw0hQbRHcoD+3RJcvxyX8cq1yMCMQDhZrrFr90sDr1NuKJew6oLDuBFZUz3pIXOe3hJb1/gi1bfN1t/EXAMPLE=";

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        let out = &self.bytes[self.at..self.at + n];
        self.at += n;
        out
    }
    fn uint(&mut self, n: usize) -> u64 {
        self.take(n)
            .iter()
            .fold(0, |acc, b| acc << 8 | u64::from(*b))
    }
    fn field(&mut self) -> &'a [u8] {
        let n = self.uint(2) as usize;
        self.take(n)
    }
}

/// What a message's header says.
#[derive(Debug)]
struct Header {
    version: u64,
    kind: u64,
    suite: u64,
    message_id: Vec<u8>,
    context: Vec<(String, String)>,
    keys: Vec<(String, String, Vec<u8>)>,
    content_type: u64,
    reserved: Vec<u8>,
    iv_length: u64,
    frame_length: u64,
    header_len: usize,
}

fn read_header(r: &mut Reader) -> Header {
    let version = r.uint(1);
    let kind = r.uint(1);
    let suite = r.uint(2);
    let message_id = r.take(16).to_vec();
    let aad = r.field();
    let mut a = Reader { bytes: aad, at: 0 };
    let count = a.uint(2);
    let context = (0..count)
        .map(|_| {
            let k = String::from_utf8(a.field().to_vec()).unwrap();
            let v = String::from_utf8(a.field().to_vec()).unwrap();
            (k, v)
        })
        .collect();
    assert_eq!(a.at, aad.len(), "the context fills its length");
    let key_count = r.uint(2);
    let keys = (0..key_count)
        .map(|_| {
            let id = String::from_utf8(r.field().to_vec()).unwrap();
            let info = String::from_utf8(r.field().to_vec()).unwrap();
            (id, info, r.field().to_vec())
        })
        .collect();
    Header {
        version,
        kind,
        suite,
        message_id,
        context,
        keys,
        content_type: r.uint(1),
        reserved: r.take(4).to_vec(),
        iv_length: r.uint(1),
        frame_length: r.uint(4),
        header_len: r.at,
    }
}

fn open(key: &LessSafeKey, iv: &[u8], aad: &[u8], ct: &[u8], tag: &[u8]) -> Vec<u8> {
    let mut data = [ct, tag].concat();
    let nonce = Nonce::try_assume_unique_for_key(iv).unwrap();
    key.open_in_place(nonce, Aad::from(aad), &mut data)
        .expect("tag verifies")
        .to_vec()
}

/// Decrypts and verifies a whole message as a reader of the format would.
fn decrypt(message: &[u8], data_key: &[u8]) -> (Header, Vec<u8>) {
    let mut r = Reader {
        bytes: message,
        at: 0,
    };
    let header = read_header(&mut r);
    let mut info = (header.suite as u16).to_be_bytes().to_vec();
    info.extend_from_slice(&header.message_id);
    struct L;
    impl hkdf::KeyType for L {
        fn len(&self) -> usize {
            32
        }
    }
    let mut k = [0u8; 32];
    hkdf::Salt::new(hkdf::HKDF_SHA384, &[0u8; 48])
        .extract(data_key)
        .expand(&[&info], L)
        .unwrap()
        .fill(&mut k)
        .unwrap();
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &k).unwrap());
    let header_bytes = &message[..header.header_len];
    let iv = r.take(12);
    let tag = r.take(16);
    assert!(open(&key, iv, header_bytes, &[], tag).is_empty());
    let mut plaintext = Vec::new();
    let mut expected_sequence = 1u64;
    loop {
        let mut sequence = r.uint(4);
        let last = sequence == 0xFFFF_FFFF;
        if last {
            sequence = r.uint(4);
        }
        assert_eq!(sequence, expected_sequence);
        let iv = r.take(12).to_vec();
        assert_eq!(&iv[..8], &[0u8; 8]);
        assert_eq!(
            u64::from(u32::from_be_bytes(iv[8..].try_into().unwrap())),
            sequence
        );
        let len = if last {
            r.uint(4) as usize
        } else {
            header.frame_length as usize
        };
        let ct = r.take(len);
        let tag = r.take(16);
        let mut aad = header.message_id.clone();
        aad.extend_from_slice(if last {
            b"AWSKMSEncryptionClient Final Frame".as_slice()
        } else {
            b"AWSKMSEncryptionClient Frame".as_slice()
        });
        aad.extend_from_slice(&(sequence as u32).to_be_bytes());
        aad.extend_from_slice(&(len as u64).to_be_bytes());
        plaintext.extend(open(&key, &iv, &aad, ct, tag));
        expected_sequence += 1;
        if last {
            break;
        }
    }
    let signed = &message[..r.at];
    let signature = r.field();
    assert_eq!(r.at, message.len(), "nothing after the footer");
    let public = header
        .context
        .iter()
        .find(|(k, _)| k == "aws-crypto-public-key")
        .map(|(_, v)| base64::engine::general_purpose::STANDARD.decode(v).unwrap())
        .expect("the public key is in the context");
    assert_eq!(public.len(), 49, "a compressed P-384 point");
    UnparsedPublicKey::new(&ECDSA_P384_SHA384_ASN1, &public)
        .verify(signed, signature)
        .expect("the footer's signature verifies");
    (header, plaintext)
}

fn kms_key() -> EncryptedDataKey {
    EncryptedDataKey {
        provider_id: "aws-kms".into(),
        provider_info:
            "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab".into(),
        ciphertext: vec![7; 184],
    }
}

fn sealer() -> Sealer {
    Sealer::new(BTreeMap::from([(
        "userpool-id".to_owned(),
        "eu-west-1_AbCdEf123".to_owned(),
    )]))
    .unwrap()
}

#[test]
fn a_code_reads_back_with_the_layout_cognito_sends() {
    let data_key = [42u8; 32];
    let s = sealer();
    let context = s.encryption_context().clone();
    assert_eq!(
        context.keys().collect::<Vec<_>>(),
        ["aws-crypto-public-key", "userpool-id"]
    );
    let message = s.seal(&data_key, &kms_key(), b"123456").unwrap();
    let (ours, plaintext) = decrypt(&message, &data_key);
    assert_eq!(plaintext, b"123456");
    assert_eq!(
        ours.keys,
        vec![("aws-kms".into(), kms_key().provider_info, vec![7; 184])]
    );
    assert_eq!(ours.context, context.into_iter().collect::<Vec<_>>());

    let aws = base64::engine::general_purpose::STANDARD
        .decode(AWS_CODE)
        .unwrap();
    let theirs = read_header(&mut Reader { bytes: &aws, at: 0 });
    let layout = |h: &Header| {
        (
            h.version,
            h.kind,
            h.suite,
            h.content_type,
            h.reserved.clone(),
            h.iv_length,
            h.frame_length,
            h.context.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(),
            h.context[0].1.len(),
            h.keys
                .iter()
                .map(|(id, _, _)| id.clone())
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(layout(&ours), layout(&theirs));
    // AWS's body is one final frame (sequence 1, its IV the sequence
    // number, a six-digit code), then the signature footer, as ours.
    let mut r = Reader {
        bytes: &aws,
        at: theirs.header_len + 12 + 16,
    };
    assert_eq!(r.uint(4), 0xFFFF_FFFF);
    assert_eq!(r.uint(4), 1);
    assert_eq!(r.take(12), &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    assert_eq!(r.uint(4), 6);
    r.take(6 + 16);
    // The footer: a DER ECDSA signature (the published copy lacks its
    // last six bytes, so only its start is read).
    assert_eq!(r.uint(2), 103);
    assert_eq!(r.take(2), &[0x30, 0x65]);
}

#[test]
fn long_plaintexts_are_framed() {
    let data_key = [9u8; 32];
    for len in [0usize, 1, 4095, 4096, 4097, 8192, 10_000] {
        let plaintext: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let message = sealer().seal(&data_key, &kms_key(), &plaintext).unwrap();
        assert_eq!(decrypt(&message, &data_key).1, plaintext, "{len} bytes");
    }
}

#[test]
fn refusals() {
    assert_eq!(
        sealer().seal(&[1; 16], &kms_key(), b"x").unwrap_err(),
        EsdkError::DataKeyLength
    );
    assert_eq!(
        Sealer::new(BTreeMap::from([(
            PUBLIC_KEY_CONTEXT.to_owned(),
            "x".to_owned()
        )]))
        .err(),
        Some(EsdkError::ReservedContextKey)
    );
    let mut long = kms_key();
    long.ciphertext = vec![0; 70_000];
    assert_eq!(
        sealer().seal(&[1; 32], &long, b"x").unwrap_err(),
        EsdkError::FieldTooLong
    );
    // Two messages of the same plaintext share nothing but their layout.
    let a = sealer().seal(&[1; 32], &kms_key(), b"123456").unwrap();
    let b = sealer().seal(&[1; 32], &kms_key(), b"123456").unwrap();
    assert_ne!(a[4..20], b[4..20], "message ids differ");
}
