//! Contacts (§35 联系人): a borrower keeps up to ten, never themself, never one phone twice.

use cashloan_domain::{ContactPhone, PersonName};
use cashloan_persistence::accounts::User;
use cashloan_persistence::profile::{add_contact, list_contacts, update_contact, SaveContact};
use cashloan_persistence::{DbConnection, DbError};

/// The relation codes (relType) a contact may have.
pub const RELATIONS: [&str; 7] = ["1", "2", "3", "4", "6", "7", "9"];

/// Most contacts one borrower may keep.
pub const MAX_CONTACTS: i64 = 10;

/// A contact to add (no id) or change (its id).
pub struct ContactInput<'a> {
    /// The contact to change; none to add one.
    pub id: Option<&'a str>,
    /// The relation code.
    pub rel_type: &'a str,
    /// Their name.
    pub name: &'a PersonName,
    /// Their phone.
    pub phone: &'a ContactPhone,
}

/// Why a contact was not saved (the message is the borrower's).
#[derive(Debug, thiserror::Error)]
pub enum ContactError {
    /// No such contact of this borrower.
    #[error("联系人不存在")]
    NotFound,
    /// The borrower's own mobile.
    #[error("联系人不能为本人")]
    Oneself,
    /// Another contact has this phone.
    #[error("该联系人电话已存在")]
    DuplicatePhone,
    /// Ten already.
    #[error("联系人数量已达上限")]
    LimitReached,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Adds or changes a contact of `user`.
pub fn save_contact(
    conn: &mut DbConnection,
    user: &User,
    input: &ContactInput<'_>,
    now: i64,
) -> Result<(), ContactError> {
    if let Some(id) = input.id {
        if !list_contacts(conn, &user.id)?.iter().any(|c| c.id == id) {
            return Err(ContactError::NotFound);
        }
    }
    if input.phone.as_str() == user.mobile {
        return Err(ContactError::Oneself);
    }
    let (name, phone) = (input.name.as_str(), input.phone.as_str());
    let saved = match input.id {
        Some(id) => update_contact(conn, &user.id, id, input.rel_type, name, phone, now)?,
        None => add_contact(
            conn,
            &user.id,
            input.rel_type,
            name,
            phone,
            MAX_CONTACTS,
            now,
        )?,
    };
    match saved {
        SaveContact::Saved(_) => Ok(()),
        SaveContact::NotFound => Err(ContactError::NotFound),
        SaveContact::DuplicatePhone => Err(ContactError::DuplicatePhone),
        SaveContact::LimitReached => Err(ContactError::LimitReached),
    }
}
