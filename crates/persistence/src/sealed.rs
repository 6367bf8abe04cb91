//! Personal data at rest (ID-card numbers, bank-card numbers, phone books): sealed with
//! AES-256-GCM under the data key, each value carrying the id of the key that sealed it
//! (`v1:KEYID:base64(nonce ‖ ciphertext)`), so a copy of the database alone reveals none of them.
//! Where a value must be unique or found (an ID number belongs to one account), the column holds
//! a keyed HMAC-SHA256 of it instead (a blind index), which matches equal values and reveals none.
//!
//! One data key serves the process; it is installed at start ([`install`]). A previous key may be
//! installed beside it while rotating: [`seal_existing`] re-seals what the previous key sealed.

use std::sync::OnceLock;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::cached::cached;
use crate::db::{DbConnection, DbError, DbResult};
use crate::schema::{applications, bank_cards, identities};

/// A 32-byte data key.
pub struct DataKey {
    cipher: Aes256Gcm,
    mac_key: [u8; 32],
    id: String,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl DataKey {
    /// From 64 hex characters.
    pub fn from_hex(text: &str) -> Result<DataKey, String> {
        let bytes = hex::decode(text.trim()).map_err(|_| "not hex".to_owned())?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "not 64 hex characters (32 bytes)".to_owned())?;
        let id = hex::encode(Sha256::digest(key))[..8].to_owned();
        // The index key is derived, so the cipher key never keys anything else.
        let mac_key: [u8; 32] =
            Sha256::digest([b"cashloan blind index".as_slice(), &key].concat()).into();
        Ok(DataKey {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key)),
            mac_key,
            id,
        })
    }

    /// A new random key, as 64 hex characters.
    pub fn generate_hex() -> String {
        let mut key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        hex::encode(key)
    }

    /// The key's id, stored with every value it seals.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// `plain` sealed.
    pub fn seal(&self, plain: &str) -> DbResult<String> {
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        let ct = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plain.as_bytes())
            .map_err(|_| DbError::Config("sealing a value failed".into()))?;
        let b64 =
            base64::engine::general_purpose::STANDARD.encode([nonce.as_slice(), &ct].concat());
        Ok(format!("v1:{}:{b64}", self.id))
    }

    fn open_own(&self, body: &str) -> Option<String> {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(body)
            .ok()?;
        let (nonce, ct) = raw.split_at_checked(12)?;
        let plain = self.cipher.decrypt(Nonce::from_slice(nonce), ct).ok()?;
        String::from_utf8(plain).ok()
    }

    /// The blind index of `value`: hex HMAC-SHA256 under the derived index key.
    pub fn index(&self, value: &str) -> String {
        let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(&self.mac_key) {
            Ok(m) => m,
            // HMAC takes keys of any length: this cannot happen.
            Err(_) => return String::new(),
        };
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

static CURRENT: OnceLock<DataKey> = OnceLock::new();
static PREVIOUS: OnceLock<DataKey> = OnceLock::new();

/// Installs the process's data key (and, while rotating, the previous one). The first key
/// installed stays; installing another is refused.
pub fn install(current: DataKey, previous: Option<DataKey>) -> Result<(), String> {
    let id = current.id.clone();
    let installed = CURRENT.get_or_init(|| current);
    if installed.id != id {
        return Err("another data key is already installed in this process".into());
    }
    if let Some(p) = previous {
        let _ = PREVIOUS.set(p);
    }
    Ok(())
}

/// The installed data key.
pub fn key() -> DbResult<&'static DataKey> {
    CURRENT
        .get()
        .ok_or_else(|| DbError::Config("no data key installed (CASHLOAN_DATA_KEY)".into()))
}

/// Seals `plain` under the installed key.
pub fn seal(plain: &str) -> DbResult<String> {
    key()?.seal(plain)
}

/// The blind index of `value` under the installed key.
pub fn index(value: &str) -> DbResult<String> {
    Ok(key()?.index(value))
}

/// Opens a stored value: sealed by the installed (or previous) key; a value stored before
/// sealing (no `v1:` prefix) is returned as it is, until [`seal_existing`] seals it.
pub fn open(stored: &str, table: &'static str, column: &'static str) -> DbResult<String> {
    let Some(rest) = stored.strip_prefix("v1:") else {
        return Ok(stored.to_owned());
    };
    let corrupt = || DbError::Corrupt {
        table,
        column,
        value: "a sealed value that no installed key opens".into(),
    };
    let (id, body) = rest.split_once(':').ok_or_else(corrupt)?;
    let k = [CURRENT.get(), PREVIOUS.get()]
        .into_iter()
        .flatten()
        .find(|k| k.id == id)
        .ok_or_else(corrupt)?;
    k.open_own(body).ok_or_else(corrupt)
}

fn sealed_by_current(stored: &str) -> bool {
    CURRENT
        .get()
        .is_some_and(|k| stored.starts_with(&format!("v1:{}:", k.id)))
}

/// Seals what is stored in clear (rows written before sealing) and re-seals what the previous
/// key sealed, recomputing blind indexes; returns how many values changed. Idempotent.
pub fn seal_existing(conn: &mut DbConnection) -> DbResult<usize> {
    crate::db::write_statement(conn, |conn| {
        let mut changed = 0;
        let rows: Vec<(String, String, Option<String>)> = identities::table
            .select((
                identities::user_id,
                identities::id_card_no,
                identities::id_card_sealed,
            ))
            .load(conn)?;
        for (user, stored_index, sealed) in rows {
            if sealed.as_deref().is_some_and(sealed_by_current) {
                continue;
            }
            let plain = match &sealed {
                Some(s) => open(s, "identities", "id_card_sealed")?,
                None => stored_index,
            };
            cached(diesel::update(identities::table.find(&user)).set((
                identities::id_card_no.eq(index(&plain)?),
                identities::id_card_sealed.eq(seal(&plain)?),
            )))
            .execute(conn)?;
            changed += 1;
        }
        let rows: Vec<(String, String, Option<String>)> = bank_cards::table
            .select((
                bank_cards::user_id,
                bank_cards::card_no,
                bank_cards::card_sealed,
            ))
            .load(conn)?;
        for (user, stored_index, sealed) in rows {
            if sealed.as_deref().is_some_and(sealed_by_current) {
                continue;
            }
            let plain = match &sealed {
                Some(s) => open(s, "bank_cards", "card_sealed")?,
                None => stored_index,
            };
            cached(diesel::update(bank_cards::table.find(&user)).set((
                bank_cards::card_no.eq(index(&plain)?),
                bank_cards::card_sealed.eq(seal(&plain)?),
            )))
            .execute(conn)?;
            changed += 1;
        }
        let rows: Vec<(String, String)> = applications::table
            .select((applications::id, applications::phonebook))
            .load(conn)?;
        for (id, stored) in rows {
            if sealed_by_current(&stored) {
                continue;
            }
            let plain = open(&stored, "applications", "phonebook")?;
            cached(
                diesel::update(applications::table.find(&id))
                    .set(applications::phonebook.eq(seal(&plain)?)),
            )
            .execute(conn)?;
            changed += 1;
        }
        Ok(changed)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_and_indexes_match() {
        let k = DataKey::from_hex(&"11".repeat(32)).unwrap();
        let a = k.seal("110101199003070011").unwrap();
        let b = k.seal("110101199003070011").unwrap();
        assert_ne!(a, b, "a fresh nonce each time");
        assert!(a.starts_with(&format!("v1:{}:", k.id())));
        assert!(!a.contains("110101"));
        assert_eq!(
            k.open_own(a.rsplit(':').next().unwrap()).unwrap(),
            "110101199003070011"
        );
        assert_eq!(k.index("x"), k.index("x"));
        assert_ne!(k.index("x"), k.index("y"));
        let other = DataKey::from_hex(&"22".repeat(32)).unwrap();
        assert_ne!(other.index("x"), k.index("x"));
        assert!(other.open_own(a.rsplit(':').next().unwrap()).is_none());
        assert!(DataKey::from_hex("abc").is_err());
        assert_eq!(DataKey::generate_hex().len(), 64);
    }
}
