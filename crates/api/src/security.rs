//! Password hashes (argon2id), session ids and verification codes.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::rngs::OsRng;
use rand::Rng;

/// An argon2id PHC string of `password`.
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("password hashing failed: {e}"))
}

/// Whether `password` matches the stored hash (a malformed hash matches nothing).
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Password rule of §10, §14, §15 (docs/api.md, "Passwords"): 6 to 20 printable ASCII characters.
pub fn password_acceptable(password: &str) -> bool {
    (6..=20).contains(&password.len()) && password.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

/// A new session id: 32 uppercase hex characters from 128 random bits.
pub fn new_session_id() -> String {
    let bits: u128 = OsRng.gen();
    format!("{bits:032X}")
}

/// A graphic code: 4 characters of `[a-z0-9]`.
pub fn new_captcha() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = OsRng;
    (0..4)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect()
}

/// An SMS code: 6 digits.
pub fn new_sms_code() -> String {
    format!("{:06}", OsRng.gen_range(0..1_000_000u32))
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

/// A fresh flow cookie value: 128 random bits, hex.
pub fn new_flow_token() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ_per_salt() {
        let a = hash_password("zhongkeborun").unwrap();
        let b = hash_password("zhongkeborun").unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b);
        assert!(verify_password("zhongkeborun", &a));
        assert!(!verify_password("zhongkeborum", &a));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn password_rule() {
        assert!(password_acceptable("123456"));
        assert!(password_acceptable("p@ss!W0rd~"));
        assert!(!password_acceptable("12345"));
        assert!(!password_acceptable(&"a".repeat(21)));
        assert!(!password_acceptable("pass word"));
        assert!(!password_acceptable("密码123456"));
    }

    #[test]
    fn ids_and_codes_have_their_shapes() {
        let s = new_session_id();
        assert_eq!(s.len(), 32);
        assert!(s
            .chars()
            .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c)));
        let c = new_captcha();
        assert!(
            c.len() == 4
                && c.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        );
        let m = new_sms_code();
        assert!(m.len() == 6 && m.chars().all(|c| c.is_ascii_digit()));
    }
}
