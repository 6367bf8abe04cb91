//! Passwords on the wire (docs/api.md "Passwords on the wire"): DES-CBC, key = the first 8 bytes
//! of the app key, IV `01 02 03 04 05 06 07 08`, PKCS#5 padding, standard base64.
//!
//! DES is what the vendor's clients send; it only hides the password from casual eyes on the
//! wire. Stored passwords are argon2id hashes, never this.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};

type DesCbcEnc = cbc::Encryptor<des::Des>;
type DesCbcDec = cbc::Decryptor<des::Des>;

const IV: [u8; 8] = [1, 2, 3, 4, 5, 6, 7, 8];

/// Standard alphabet; padding optional on input (the seed's `t9xLwn19WXS+d7OVW9ocKw` has none),
/// always written on output.
const B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why a wire password could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// The app key has fewer than 8 bytes, so it cannot be a DES key.
    #[error("the app key must have at least 8 bytes to serve as a DES key")]
    KeyTooShort,
    /// Not standard base64.
    #[error("password is not base64")]
    NotBase64,
    /// Base64, but not DES-CBC ciphertext under this key (length or padding wrong).
    #[error("password is not DES ciphertext under this key")]
    NotCiphertext,
    /// Decrypts, but not to UTF-8 text without control characters.
    #[error("decrypted password is not text")]
    NotText,
}

/// Encrypts and decrypts wire passwords under one app key.
#[derive(Clone)]
pub struct PasswordCodec {
    key: [u8; 8],
    strict: bool,
}

impl std::fmt::Debug for PasswordCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key is a secret: never print it.
        f.debug_struct("PasswordCodec")
            .field("strict", &self.strict)
            .finish_non_exhaustive()
    }
}

impl PasswordCodec {
    /// A codec for `app_key`. `strict` refuses plain-text passwords (`strict_password_encryption`).
    pub fn new(app_key: &str, strict: bool) -> Result<Self, PasswordError> {
        let bytes = app_key.as_bytes();
        let key: [u8; 8] = bytes
            .get(..8)
            .and_then(|k| k.try_into().ok())
            .ok_or(PasswordError::KeyTooShort)?;
        Ok(Self { key, strict })
    }

    /// What a client sends for `plain`: base64 of DES-CBC/PKCS#5 ciphertext.
    pub fn encrypt(&self, plain: &str) -> String {
        let ct = DesCbcEnc::new(&self.key.into(), &IV.into())
            .encrypt_padded_vec_mut::<Pkcs7>(plain.as_bytes());
        B64.encode(ct)
    }

    /// Decrypts a base64 DES ciphertext, refusing anything that is not one.
    pub fn decrypt(&self, wire: &str) -> Result<String, PasswordError> {
        let ct = B64.decode(wire).map_err(|_| PasswordError::NotBase64)?;
        if ct.is_empty() || ct.len() % 8 != 0 {
            return Err(PasswordError::NotCiphertext);
        }
        let pt = DesCbcDec::new(&self.key.into(), &IV.into())
            .decrypt_padded_vec_mut::<Pkcs7>(&ct)
            .map_err(|_| PasswordError::NotCiphertext)?;
        let text = String::from_utf8(pt).map_err(|_| PasswordError::NotText)?;
        if text.chars().any(char::is_control) {
            return Err(PasswordError::NotText);
        }
        Ok(text)
    }

    /// The password a client meant. Lenient (the default): a value that is not valid DES
    /// ciphertext is the plain password, because the seed's own samples send plain text.
    /// Strict: only ciphertext is accepted. The mapping is deterministic, so the same wire value
    /// always yields the same password.
    pub fn decode(&self, wire: &str) -> Result<String, PasswordError> {
        match self.decrypt(wire) {
            Ok(plain) => Ok(plain),
            Err(e) if self.strict => Err(e),
            Err(_) => Ok(wire.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_vector_decrypts_and_encrypts() {
        let codec = PasswordCodec::new("12345678", true).unwrap();
        assert_eq!(
            codec.decrypt("t9xLwn19WXS+d7OVW9ocKw").unwrap(),
            "zhongkeborun"
        );
        assert_eq!(
            codec.decrypt("t9xLwn19WXS+d7OVW9ocKw==").unwrap(),
            "zhongkeborun"
        );
        assert_eq!(codec.encrypt("zhongkeborun"), "t9xLwn19WXS+d7OVW9ocKw==");
    }

    #[test]
    fn only_the_first_eight_key_bytes_count() {
        let long = PasswordCodec::new("12345678-and-more", true).unwrap();
        assert_eq!(
            long.decrypt("t9xLwn19WXS+d7OVW9ocKw").unwrap(),
            "zhongkeborun"
        );
    }

    #[test]
    fn short_key_is_refused() {
        assert_eq!(
            PasswordCodec::new("1234567", false).unwrap_err(),
            PasswordError::KeyTooShort
        );
    }

    #[test]
    fn round_trips_text_of_every_kind() {
        let codec = PasswordCodec::new("abcdefgh", true).unwrap();
        for p in [
            "a",
            "12345678",
            "p@ss w0rd!",
            "密码123456",
            "0123456789abcdef",
        ] {
            assert_eq!(codec.decrypt(&codec.encrypt(p)).unwrap(), p);
        }
    }

    #[test]
    fn lenient_mode_takes_non_ciphertext_as_plain_text() {
        let codec = PasswordCodec::new("12345678", false).unwrap();
        assert_eq!(codec.decode("123456").unwrap(), "123456");
        assert_eq!(codec.decode("admin").unwrap(), "admin");
        assert_eq!(
            codec.decode("t9xLwn19WXS+d7OVW9ocKw").unwrap(),
            "zhongkeborun"
        );
    }

    #[test]
    fn strict_mode_refuses_plain_text() {
        let codec = PasswordCodec::new("12345678", true).unwrap();
        assert_eq!(codec.decode("123456!"), Err(PasswordError::NotBase64));
        // Valid base64 of 6 bytes: not a whole DES block.
        assert_eq!(codec.decode("12345678"), Err(PasswordError::NotCiphertext));
        // A whole block under another key: the padding check fails (or the text is garbage).
        let other = PasswordCodec::new("87654321", true).unwrap();
        assert!(codec.decode(&other.encrypt("zhongkeborun")).is_err());
    }
}
