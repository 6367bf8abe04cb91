//! Secrets the server checks but never needs to read back (session ids, SMS and graphic codes)
//! are stored as SHA-256 digests: a copy of the database does not hand out live sessions.

use sha2::{Digest, Sha256};

/// Lowercase hex SHA-256 of `secret`, as stored.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_sha256_hex() {
        assert_eq!(
            digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
