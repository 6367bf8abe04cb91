//! What a borrower proves and tells about themselves: identity (§32), bank card (§30), personal
//! information (§34) and contacts (§35), with the authentication statuses they set (§19).

use crate::cached::cached;
use crate::columns::typed::Cents;
use cashloan_domain::Money;
use diesel::prelude::*;

use crate::accounts::new_id;
use crate::db::{write_transaction, DbConnection, DbError, DbResult};
use crate::schema::{bank_cards, contacts, identities, personal_infos, users};
use crate::sealed;

/// A verified identity (实名认证); the ID number is sealed at rest ([`crate::sealed`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// Whose.
    pub user_id: String,
    /// Real name.
    pub real_name: String,
    /// ID card number, upper case.
    pub id_card_no: String,
    /// Verified at (ms).
    pub verified_at: i64,
}

/// The verified identity of a user.
pub fn find_identity(conn: &mut DbConnection, user_id: &str) -> DbResult<Option<Identity>> {
    let row: Option<(String, String, String, Option<String>, i64)> = per_backend!(conn, c => identities::table
            .find(user_id)
            .select((
                identities::user_id,
                identities::real_name,
                identities::id_card_no,
                identities::id_card_sealed,
                identities::verified_at,
            ))
            .first(c)
            .optional()?);
    row.map(|(user_id, real_name, clear, sealed, verified_at)| {
        Ok(Identity {
            user_id,
            real_name,
            id_card_no: match sealed {
                Some(s) => sealed::open(&s, "identities", "id_card_sealed")?,
                None => clear,
            },
            verified_at,
        })
    })
    .transpose()
}

/// The user (if any) whose verified identity carries `id_card_no`.
pub fn identity_owner(conn: &mut DbConnection, id_card_no: &str) -> DbResult<Option<String>> {
    Ok(identities::table
        .filter(identities::id_card_no.eq(sealed::index(id_card_no)?))
        .select(identities::user_id)
        .first(conn)
        .optional()?)
}

/// Outcome of saving an identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaveIdentity {
    /// Stored; `realNameAuthStatus` is now 1.
    Saved,
    /// The user already has an identity (it cannot change).
    AlreadyVerified,
    /// Another user verified this ID number first.
    TakenByAnother,
}

/// Stores a verified identity and sets the user's real-name status, in one transaction.
pub fn save_identity(conn: &mut DbConnection, identity: &Identity) -> DbResult<SaveIdentity> {
    let saved = write_transaction(conn, |conn| {
        diesel::insert_into(identities::table)
            .values((
                identities::user_id.eq(&identity.user_id),
                identities::real_name.eq(&identity.real_name),
                identities::id_card_no.eq(sealed::index(&identity.id_card_no)?),
                identities::id_card_sealed.eq(sealed::seal(&identity.id_card_no)?),
                identities::verified_at.eq(identity.verified_at),
            ))
            .execute(conn)?;
        cached(diesel::update(users::table.find(&identity.user_id)).set((
            users::real_name_auth.eq(true),
            users::updated_at.eq(identity.verified_at),
        )))
        .execute(conn)?;
        Ok::<_, DbError>(())
    });
    match saved {
        Ok(()) => Ok(SaveIdentity::Saved),
        Err(e) if e.is_unique_violation() => {
            if find_identity(conn, &identity.user_id)?.is_some() {
                Ok(SaveIdentity::AlreadyVerified)
            } else {
                Ok(SaveIdentity::TakenByAnother)
            }
        }
        Err(e) => Err(e),
    }
}

/// A verified bank card (the card for disbursement and repayment); its number is sealed at rest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BankCard {
    /// Whose.
    pub user_id: String,
    /// Card number.
    pub card_no: String,
    /// Mobile reserved at the bank.
    pub reserved_mobile: String,
    /// Verified at (ms).
    pub verified_at: i64,
}

/// The user's bank card.
pub fn find_bank_card(conn: &mut DbConnection, user_id: &str) -> DbResult<Option<BankCard>> {
    let row: Option<(String, String, Option<String>, String, i64)> = bank_cards::table
        .find(user_id)
        .select((
            bank_cards::user_id,
            bank_cards::card_no,
            bank_cards::card_sealed,
            bank_cards::reserved_mobile,
            bank_cards::verified_at,
        ))
        .first(conn)
        .optional()?;
    row.map(|(user_id, clear, sealed, reserved_mobile, verified_at)| {
        Ok(BankCard {
            user_id,
            card_no: match sealed {
                Some(s) => sealed::open(&s, "bank_cards", "card_sealed")?,
                None => clear,
            },
            reserved_mobile,
            verified_at,
        })
    })
    .transpose()
}

/// The user (if any) whose verified card is `card_no`.
pub fn bank_card_owner(conn: &mut DbConnection, card_no: &str) -> DbResult<Option<String>> {
    Ok(bank_cards::table
        .filter(bank_cards::card_no.eq(sealed::index(card_no)?))
        .select(bank_cards::user_id)
        .first(conn)
        .optional()?)
}

/// Stores (or replaces) the user's card and sets `bankCardAuthStatus`; false when another user
/// holds the card (a concurrent race included).
pub fn save_bank_card(conn: &mut DbConnection, card: &BankCard) -> DbResult<bool> {
    let saved = write_transaction(conn, |conn| {
        diesel::delete(bank_cards::table.find(&card.user_id)).execute(conn)?;
        diesel::insert_into(bank_cards::table)
            .values((
                bank_cards::user_id.eq(&card.user_id),
                bank_cards::card_no.eq(sealed::index(&card.card_no)?),
                bank_cards::card_sealed.eq(sealed::seal(&card.card_no)?),
                bank_cards::reserved_mobile.eq(&card.reserved_mobile),
                bank_cards::verified_at.eq(card.verified_at),
            ))
            .execute(conn)?;
        cached(diesel::update(users::table.find(&card.user_id)).set((
            users::bank_card_auth.eq(true),
            users::updated_at.eq(card.verified_at),
        )))
        .execute(conn)?;
        Ok::<_, DbError>(())
    });
    match saved {
        Ok(()) => Ok(true),
        Err(e) if e.is_unique_violation() => Ok(false),
        Err(e) => Err(e),
    }
}

/// Basic and work information (完善信息, §33/§34).
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = personal_infos)]
pub struct PersonalInfo {
    /// Whose.
    pub user_id: String,
    /// 学历 `1`..`7`.
    pub education: String,
    /// 婚姻状况 `1`..`4`.
    pub marital_status: String,
    /// 户籍所在省.
    pub registry_province: String,
    /// 户籍所在市.
    pub registry_city: String,
    /// 户籍所在详情.
    pub registry_detail: String,
    /// 居住省份.
    pub house_province: String,
    /// 居住城市.
    pub house_city: String,
    /// 居住区.
    pub house_county: String,
    /// 现住址详细地址.
    pub house_detail: String,
    /// 居住时长 `01`..`05`.
    pub residence_length: String,
    /// 行业 `1`..`14`.
    pub industry_type: String,
    /// 单位地址-省.
    pub work_province: String,
    /// 单位地址-市.
    pub work_city: String,
    /// 单位地址-区.
    pub work_county: String,
    /// 单位地址-详细.
    pub work_detail: String,
    /// 工作时长 `01`..`05`.
    pub working_hours: String,
    /// 单位名称.
    pub employer: String,
    /// 职位.
    pub job_position: String,
    /// 月收入, 分.
    #[diesel(column_name = month_income_cents, deserialize_as = Cents, serialize_as = Cents)]
    pub month_income: Money,
    /// 工资发放日 1..31.
    pub payroll_day: Option<i32>,
    /// Saved at (ms).
    pub updated_at: i64,
}

/// The user's personal information.
pub fn find_personal_info(
    conn: &mut DbConnection,
    user_id: &str,
) -> DbResult<Option<PersonalInfo>> {
    Ok(personal_infos::table
        .find(user_id)
        .select(PersonalInfo::as_select())
        .first(conn)
        .optional()?)
}

/// Replaces the user's personal information (an absent payday keeps the stored one) and
/// refreshes `customerInfoStatus`.
pub fn save_personal_info(conn: &mut DbConnection, info: &PersonalInfo) -> DbResult<()> {
    write_transaction(conn, |conn| {
        let mut info = info.clone();
        let existing = find_personal_info(conn, &info.user_id)?;
        if info.payroll_day.is_none() {
            info.payroll_day = existing.as_ref().and_then(|e| e.payroll_day);
        }
        if existing.is_some() {
            cached(diesel::update(personal_infos::table.find(&info.user_id)).set(info.clone()))
                .execute(conn)?;
        } else {
            diesel::insert_into(personal_infos::table)
                .values(info.clone())
                .execute(conn)?;
        }
        refresh_customer_info_status(conn, &info.user_id, info.updated_at)
    })
}

/// A contact person (联系人).
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = contacts)]
pub struct Contact {
    /// Id.
    pub id: String,
    /// Whose.
    pub user_id: String,
    /// 1.. in the order contacts were added.
    pub position: i32,
    /// Relationship `1`,`2`,`3`,`4`,`6`,`7`,`9`.
    pub rel_type: String,
    /// Name.
    pub real_name: String,
    /// Phone.
    pub phone: String,
    /// Added at (ms).
    pub created_at: i64,
    /// Changed at (ms).
    pub updated_at: i64,
}

/// The user's contacts in the order they were added.
pub fn list_contacts(conn: &mut DbConnection, user_id: &str) -> DbResult<Vec<Contact>> {
    Ok(contacts::table
        .filter(contacts::user_id.eq(user_id))
        .order(contacts::position.asc())
        .select(Contact::as_select())
        .load(conn)?)
}

/// Outcome of adding or changing a contact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SaveContact {
    /// Saved; the contact's id.
    Saved(String),
    /// `update` of an id that is not the user's.
    NotFound,
    /// Another of the user's contacts has this phone.
    DuplicatePhone,
    /// The user already has the maximum number of contacts.
    LimitReached,
}

/// Adds a contact (at most `max` per user).
pub fn add_contact(
    conn: &mut DbConnection,
    user_id: &str,
    rel_type: &str,
    real_name: &str,
    phone: &str,
    max: i64,
    now: i64,
) -> DbResult<SaveContact> {
    let outcome = write_transaction(conn, |conn| {
        let existing = list_contacts(conn, user_id)?;
        if existing.iter().any(|c| c.phone == phone) {
            return Ok(SaveContact::DuplicatePhone);
        }
        if i64::try_from(existing.len()).unwrap_or(i64::MAX) >= max {
            return Ok(SaveContact::LimitReached);
        }
        let position = existing.iter().map(|c| c.position).max().unwrap_or(0) + 1;
        let contact = Contact {
            id: new_id(),
            user_id: user_id.to_owned(),
            position,
            rel_type: rel_type.to_owned(),
            real_name: real_name.to_owned(),
            phone: phone.to_owned(),
            created_at: now,
            updated_at: now,
        };
        diesel::insert_into(contacts::table)
            .values(&contact)
            .execute(conn)?;
        refresh_customer_info_status(conn, user_id, now)?;
        Ok::<_, DbError>(SaveContact::Saved(contact.id))
    });
    match outcome {
        Err(e) if e.is_unique_violation() => Ok(SaveContact::DuplicatePhone),
        other => other,
    }
}

/// Changes one of the user's contacts.
pub fn update_contact(
    conn: &mut DbConnection,
    user_id: &str,
    id: &str,
    rel_type: &str,
    real_name: &str,
    phone: &str,
    now: i64,
) -> DbResult<SaveContact> {
    let outcome = write_transaction(conn, |conn| {
        let existing = list_contacts(conn, user_id)?;
        if !existing.iter().any(|c| c.id == id) {
            return Ok(SaveContact::NotFound);
        }
        if existing.iter().any(|c| c.phone == phone && c.id != id) {
            return Ok(SaveContact::DuplicatePhone);
        }
        cached(
            diesel::update(
                contacts::table
                    .find(id)
                    .filter(contacts::user_id.eq(user_id)),
            )
            .set((
                contacts::rel_type.eq(rel_type),
                contacts::real_name.eq(real_name),
                contacts::phone.eq(phone),
                contacts::updated_at.eq(now),
            )),
        )
        .execute(conn)?;
        Ok::<_, DbError>(SaveContact::Saved(id.to_owned()))
    });
    match outcome {
        Err(e) if e.is_unique_violation() => Ok(SaveContact::DuplicatePhone),
        other => other,
    }
}

/// `customerInfoStatus` is 1 once personal information is saved and there is a contact (§19).
fn refresh_customer_info_status(conn: &mut DbConnection, user_id: &str, now: i64) -> DbResult<()> {
    let has_info: i64 = personal_infos::table
        .filter(personal_infos::user_id.eq(user_id))
        .count()
        .get_result(conn)?;
    let has_contact: i64 = contacts::table
        .filter(contacts::user_id.eq(user_id))
        .count()
        .get_result(conn)?;
    cached(diesel::update(users::table.find(user_id)).set((
        users::customer_info_auth.eq(has_info > 0 && has_contact > 0),
        users::updated_at.eq(now),
    )))
    .execute(conn)?;
    Ok(())
}
