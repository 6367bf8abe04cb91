//! What read-only requests read on every call, held in the process: a session and its user, a
//! user's identity, unpaid installments and principal paid out, products and the business-date
//! override.
//!
//! Nothing here is ever believed on its own. A request that reads from the cache asks the replay
//! writer for its session and user as the database has them after its nonce's commit (one
//! statement for the whole batch, [`crate::replay`]); the answer stands only if that user row is
//! the one the request worked with, column for column. The user row carries `data_version`,
//! which the database's triggers move with every change to the user's identity, applications
//! and installments, and the statement brings the read epoch, which moves with every change to
//! products and settings. Entries are kept under the version (or epoch) seen before they were
//! read, so an entry is never older than its tag; a request whose tag still holds after it
//! arrived therefore saw exactly what the database held then. Otherwise the request is run again
//! against the database, and the cache takes what the writer brought.
//!
//! Two instances on one database each hold their own cache; each request is checked against the
//! database, so a change made through one is seen by the next request through the other.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use cashloan_domain::Money;
use cashloan_persistence::accounts::{Session, User};
use cashloan_persistence::loans::InstallmentWithLoan;
use cashloan_persistence::products::ProductRow;
use chrono::NaiveDate;

/// Sessions held at most; past that the map starts again empty (each entry is a few hundred
/// bytes).
const MAX_SESSIONS: usize = 100_000;
/// Users whose reads are held at most (each a few kilobytes at most); past that, the same.
const MAX_USERS: usize = 20_000;
/// Products held at most, the same way.
const MAX_PRODUCTS: usize = 1_000;

/// What one user's requests read, all as of one `data_version` or later.
#[derive(Default)]
struct UserReads {
    version: i64,
    unpaid: Option<Arc<Vec<InstallmentWithLoan>>>,
    real_name: Option<Option<String>>,
    disbursed: Option<Money>,
}

/// What every request may read, as of one read epoch or later.
#[derive(Default)]
struct SharedReads {
    epoch: Option<i64>,
    products: HashMap<String, Option<ProductRow>>,
    business_date: Option<Option<NaiveDate>>,
}

/// The cache of one server process.
#[derive(Default)]
pub struct ReadCache {
    sessions: Mutex<HashMap<String, (Session, User)>>,
    users: Mutex<HashMap<String, UserReads>>,
    shared: Mutex<SharedReads>,
}

impl std::fmt::Debug for ReadCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadCache").finish_non_exhaustive()
    }
}

/// A lock whose holder panicked still guards plain maps that no panic leaves half-written.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Inserts into a bounded map: a full map is emptied first.
fn bounded_insert<V>(map: &mut HashMap<String, V>, limit: usize, key: String, value: V) {
    if map.len() >= limit && !map.contains_key(&key) {
        map.clear();
    }
    map.insert(key, value);
}

/// Which of a user's reads.
pub enum UserRead {
    /// Unpaid installments with their loans.
    Unpaid(Arc<Vec<InstallmentWithLoan>>),
    /// The verified real name, if any.
    RealName(Option<String>),
    /// Principal paid out on disbursed and settled loans.
    Disbursed(Money),
}

impl ReadCache {
    /// The session stored under `key` and its user, as last seen.
    pub fn session(&self, key: &str) -> Option<(Session, User)> {
        lock(&self.sessions).get(key).cloned()
    }

    /// What the database had for the session `key` after a request arrived: kept, or forgotten
    /// when `found` is none.
    pub fn saw_session(&self, key: &str, found: Option<(&Session, &User)>) {
        let mut sessions = lock(&self.sessions);
        match found {
            Some((s, u)) => bounded_insert(
                &mut sessions,
                MAX_SESSIONS,
                key.to_owned(),
                (s.clone(), u.clone()),
            ),
            None => {
                sessions.remove(key);
            }
        }
    }

    /// The read epoch last seen, if any.
    pub fn epoch(&self) -> Option<i64> {
        lock(&self.shared).epoch
    }

    /// The database's read epoch after a request arrived: a new one drops every shared read.
    pub fn saw_epoch(&self, epoch: i64) {
        let mut shared = lock(&self.shared);
        if shared.epoch != Some(epoch) {
            *shared = SharedReads {
                epoch: Some(epoch),
                ..SharedReads::default()
            };
        }
    }

    /// `user`'s unpaid installments, if held for the user's version.
    pub fn unpaid(&self, user: &User) -> Option<Arc<Vec<InstallmentWithLoan>>> {
        self.with_user(user, |r| r.unpaid.clone())
    }

    /// `user`'s real name, if held for the user's version.
    pub fn real_name(&self, user: &User) -> Option<Option<String>> {
        self.with_user(user, |r| r.real_name.clone())
    }

    /// `user`'s principal paid out, if held for the user's version.
    pub fn disbursed(&self, user: &User) -> Option<Money> {
        self.with_user(user, |r| r.disbursed)
    }

    fn with_user<T>(&self, user: &User, pick: impl Fn(&UserReads) -> Option<T>) -> Option<T> {
        lock(&self.users)
            .get(&user.id)
            .filter(|r| r.version == user.data_version)
            .and_then(pick)
    }

    /// Keeps `read`, read from the database after `user` (with its version) was seen. An entry
    /// for a later version is left alone.
    pub fn keep(&self, user: &User, read: UserRead) {
        let mut users = lock(&self.users);
        let entry = match users.get_mut(&user.id) {
            Some(e) if e.version > user.data_version => return,
            Some(e) if e.version == user.data_version => e,
            _ => {
                let fresh = UserReads {
                    version: user.data_version,
                    ..UserReads::default()
                };
                bounded_insert(&mut users, MAX_USERS, user.id.clone(), fresh);
                match users.get_mut(&user.id) {
                    Some(e) => e,
                    None => return,
                }
            }
        };
        match read {
            UserRead::Unpaid(rows) => entry.unpaid = Some(rows),
            UserRead::RealName(name) => entry.real_name = Some(name),
            UserRead::Disbursed(amount) => entry.disbursed = Some(amount),
        }
    }

    /// Product `id` (none: no such product), if held for `epoch`.
    pub fn product(&self, epoch: i64, id: &str) -> Option<Option<ProductRow>> {
        let shared = lock(&self.shared);
        if shared.epoch != Some(epoch) {
            return None;
        }
        shared.products.get(id).cloned()
    }

    /// Keeps product `id` as read after `epoch` was seen, unless the epoch moved meanwhile.
    pub fn keep_product(&self, epoch: i64, id: &str, row: Option<ProductRow>) {
        let mut shared = lock(&self.shared);
        if shared.epoch == Some(epoch) {
            bounded_insert(&mut shared.products, MAX_PRODUCTS, id.to_owned(), row);
        }
    }

    /// The business-date override, if held for `epoch`.
    pub fn business_date(&self, epoch: i64) -> Option<Option<NaiveDate>> {
        let shared = lock(&self.shared);
        shared.business_date.filter(|_| shared.epoch == Some(epoch))
    }

    /// Keeps the business-date override as read after `epoch` was seen, unless it moved.
    pub fn keep_business_date(&self, epoch: i64, date: Option<NaiveDate>) {
        let mut shared = lock(&self.shared);
        if shared.epoch == Some(epoch) {
            shared.business_date = Some(date);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(version: i64) -> User {
        User {
            id: "u1".into(),
            mobile: "13800000000".into(),
            password_hash: String::new(),
            failed_logins: 0,
            locked_until: None,
            disabled: false,
            is_risk: false,
            total_credit: Money::ZERO,
            real_name_auth: false,
            bank_card_auth: false,
            customer_info_auth: false,
            mobile_auth: false,
            created_at: 0,
            updated_at: 0,
            data_version: version,
        }
    }

    #[test]
    fn a_users_reads_hold_for_their_version_only() {
        let cache = ReadCache::default();
        cache.keep(&user(3), UserRead::RealName(Some("张三".into())));
        assert_eq!(cache.real_name(&user(3)), Some(Some("张三".into())));
        assert_eq!(cache.real_name(&user(4)), None);
        assert_eq!(cache.disbursed(&user(3)), None);
        // A later version replaces the entry; an earlier one never does.
        cache.keep(&user(4), UserRead::Disbursed(Money::ZERO));
        assert_eq!(cache.real_name(&user(3)), None);
        cache.keep(&user(3), UserRead::RealName(None));
        assert_eq!(cache.real_name(&user(3)), None);
        assert_eq!(cache.disbursed(&user(4)), Some(Money::ZERO));
    }

    #[test]
    fn shared_reads_end_with_their_epoch() {
        let cache = ReadCache::default();
        cache.keep_product(1, "p", None);
        assert_eq!(
            cache.product(1, "p"),
            None,
            "no epoch seen yet: nothing is kept"
        );
        cache.saw_epoch(1);
        cache.keep_product(1, "p", None);
        cache.keep_business_date(1, None);
        assert_eq!(cache.product(1, "p"), Some(None));
        assert_eq!(cache.business_date(1), Some(None));
        cache.saw_epoch(2);
        assert_eq!(cache.product(2, "p"), None);
        assert_eq!(cache.business_date(2), None);
        cache.keep_product(1, "p", None);
        assert_eq!(
            cache.product(1, "p"),
            None,
            "read under an epoch that moved on"
        );
    }

    #[test]
    fn a_session_seen_gone_is_forgotten() {
        let cache = ReadCache::default();
        let s = Session {
            id: "k".into(),
            user_id: "u1".into(),
            device_token: String::new(),
            app_type: String::new(),
            created_at: 0,
            last_seen_at: 0,
            expires_at: 1,
        };
        cache.saw_session("k", Some((&s, &user(0))));
        assert!(cache.session("k").is_some());
        cache.saw_session("k", None);
        assert!(cache.session("k").is_none());
    }
}
