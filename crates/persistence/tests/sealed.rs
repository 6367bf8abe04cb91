//! Personal data written before sealing existed is sealed by `seal_existing`, once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use cashloan_domain::Money;
use cashloan_persistence::accounts::create_user;
use cashloan_persistence::profile::{
    bank_card_owner, find_bank_card, find_identity, identity_owner,
};
use cashloan_persistence::schema::{bank_cards, identities};
use cashloan_persistence::sealed::seal_existing;
use diesel::prelude::*;

#[test]
fn rows_stored_in_clear_are_sealed_once() {
    common::each_backend(|db, backend| {
        let mut c = db.dedicated().unwrap();
        let u = create_user(&mut c, "13709812611", "hash", Money::ZERO, 1)
            .unwrap()
            .unwrap();
        // As an older version stored them.
        diesel::insert_into(identities::table)
            .values((
                identities::user_id.eq(&u.id),
                identities::real_name.eq("张某某"),
                identities::id_card_no.eq("110101199003070011"),
                identities::verified_at.eq(1_i64),
            ))
            .execute(&mut c)
            .unwrap();
        diesel::insert_into(bank_cards::table)
            .values((
                bank_cards::user_id.eq(&u.id),
                bank_cards::card_no.eq("6217000730005000011"),
                bank_cards::reserved_mobile.eq("13709812611"),
                bank_cards::verified_at.eq(1_i64),
            ))
            .execute(&mut c)
            .unwrap();
        assert_eq!(seal_existing(&mut c).unwrap(), 2, "{backend}");
        assert_eq!(seal_existing(&mut c).unwrap(), 0, "{backend}: once");
        let stored: String = identities::table
            .select(identities::id_card_no)
            .first(&mut c)
            .unwrap();
        assert_ne!(stored, "110101199003070011");
        assert_eq!(
            find_identity(&mut c, &u.id).unwrap().unwrap().id_card_no,
            "110101199003070011"
        );
        assert_eq!(
            identity_owner(&mut c, "110101199003070011").unwrap(),
            Some(u.id.clone())
        );
        assert_eq!(
            find_bank_card(&mut c, &u.id).unwrap().unwrap().card_no,
            "6217000730005000011"
        );
        assert_eq!(
            bank_card_owner(&mut c, "6217000730005000011").unwrap(),
            Some(u.id.clone())
        );
    });
}
