//! Identity format checks done locally before any third-party call (docs/loans.md "Identity checks").
//!
//! Each type is parsed once at the edge ("parse, don't validate"). The `Debug` output of ID and
//! card numbers is masked, so a value that ends up in a log line does not leak.

use std::fmt;

use chrono::{Datelike, NaiveDate};

/// A mainland mobile number (手机号码): `^1[3-9]\d{9}$`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Mobile(String);

impl Mobile {
    /// Parses a mobile number.
    pub fn parse(text: &str) -> Option<Mobile> {
        let b = text.as_bytes();
        let ok = b.len() == 11
            && b[0] == b'1'
            && (b'3'..=b'9').contains(&b[1])
            && b.iter().all(u8::is_ascii_digit);
        ok.then(|| Mobile(text.to_owned()))
    }

    /// The number.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number with its middle four digits hidden (`137****2611`), for logs.
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }
}

impl fmt::Debug for Mobile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mobile({})", self.masked())
    }
}

/// GB 11643 weights of the first 17 digits.
const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// GB 11643 check characters by weighted sum mod 11.
const ID_CHECK: [u8; 11] = *b"10X98765432";

/// A resident ID card number (身份证号): 18 characters, GB 11643 checksum (last may be `X`),
/// a real birth date. Stored upper-case.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdCardNo {
    number: String,
    birth_date: NaiveDate,
}

impl IdCardNo {
    /// Parses an ID card number (`x` accepted for `X`).
    pub fn parse(text: &str) -> Option<IdCardNo> {
        let upper = text.to_ascii_uppercase();
        let b = upper.as_bytes();
        if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
            return None;
        }
        let sum: u32 = b[..17]
            .iter()
            .zip(ID_WEIGHTS)
            .map(|(d, w)| u32::from(d - b'0') * w)
            .sum();
        if b[17] != ID_CHECK[(sum % 11) as usize] {
            return None;
        }
        let year: i32 = upper[6..10].parse().ok()?;
        let month: u32 = upper[10..12].parse().ok()?;
        let day: u32 = upper[12..14].parse().ok()?;
        let birth_date = NaiveDate::from_ymd_opt(year, month, day).filter(|d| d.year() >= 1900)?;
        Some(IdCardNo {
            number: upper,
            birth_date,
        })
    }

    /// The number, upper-case.
    pub fn as_str(&self) -> &str {
        &self.number
    }

    /// The holder's birth date.
    pub fn birth_date(&self) -> NaiveDate {
        self.birth_date
    }

    /// The holder's age in whole years on `on` (0 if `on` is before the birth date).
    pub fn age_on(&self, on: NaiveDate) -> u32 {
        let b = self.birth_date;
        let mut age = on.year() - b.year();
        if (on.month(), on.day()) < (b.month(), b.day()) {
            age -= 1;
        }
        u32::try_from(age).unwrap_or(0)
    }

    /// The number with all but the first four and last four characters hidden.
    pub fn masked(&self) -> String {
        format!("{}**********{}", &self.number[..4], &self.number[14..])
    }
}

impl fmt::Debug for IdCardNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdCardNo({})", self.masked())
    }
}

/// A bank card number (银行卡号): 15 to 19 digits.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct BankCardNo(String);

impl BankCardNo {
    /// Parses a bank card number.
    pub fn parse(text: &str) -> Option<BankCardNo> {
        ((15..=19).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| BankCardNo(text.to_owned()))
    }

    /// The number.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last four digits (`****1531`), for logs and messages.
    pub fn masked(&self) -> String {
        format!("****{}", &self.0[self.0.len() - 4..])
    }
}

impl fmt::Debug for BankCardNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BankCardNo({})", self.masked())
    }
}

/// A personal name (姓名): 2 to 30 characters, CJK or letters, `·` allowed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PersonName(String);

impl PersonName {
    /// Parses a name.
    pub fn parse(text: &str) -> Option<PersonName> {
        let count = text.chars().count();
        let ok = (2..=30).contains(&count)
            && text.chars().all(|c| c == '·' || c.is_alphabetic())
            && text.chars().any(|c| c != '·');
        ok.then(|| PersonName(text.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Another phone number (联系电话: §23 `contactPhone`, §35 `phoneNum`): spaces and `-` removed,
/// then `^\+?\d{5,20}$`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ContactPhone(String);

impl ContactPhone {
    /// Parses a contact phone, dropping spaces and dashes.
    pub fn parse(text: &str) -> Option<ContactPhone> {
        let cleaned: String = text.chars().filter(|c| *c != ' ' && *c != '-').collect();
        let digits = cleaned.strip_prefix('+').unwrap_or(&cleaned);
        ((5..=20).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()))
            .then_some(ContactPhone(cleaned))
    }

    /// The number as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobiles() {
        for ok in ["13709812611", "19912345678", "18911647521"] {
            assert!(Mobile::parse(ok).is_some(), "{ok}");
        }
        for bad in [
            "12709812611",
            "1370981261",
            "137098126111",
            "1370981261a",
            "+8613709812611",
            "",
            "admin",
            "１３７０９８１２６１１",
        ] {
            assert!(Mobile::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(
            Mobile::parse("13709812611").unwrap().masked(),
            "137****2611"
        );
        assert_eq!(
            format!("{:?}", Mobile::parse("13709812611").unwrap()),
            "Mobile(137****2611)"
        );
    }

    #[test]
    fn id_cards() {
        // The seed's §19 number carries a valid checksum.
        let id = IdCardNo::parse("110106197606292150").unwrap();
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1976, 6, 29).unwrap()
        );
        // A checksum of X, given in lower case.
        let x = IdCardNo::parse("11010519491231002x").unwrap();
        assert_eq!(x.as_str(), "11010519491231002X");
        // The seed's §13 and §32 samples fail the checksum.
        assert!(IdCardNo::parse("210104198812123366").is_none());
        assert!(IdCardNo::parse("123456789456123456").is_none());
        // Wrong lengths and characters.
        assert!(IdCardNo::parse("11010619760629215").is_none());
        assert!(IdCardNo::parse("1101061976062921500").is_none());
        assert!(IdCardNo::parse("11010619760629215Y").is_none());
        assert!(!format!("{id:?}").contains("19760629"));
    }

    #[test]
    fn id_card_birth_dates_must_exist() {
        // Build numbers with a correct checksum around a given birth date.
        let with_check = |first17: &str| {
            let sum: u32 = first17
                .bytes()
                .zip(ID_WEIGHTS)
                .map(|(d, w)| u32::from(d - b'0') * w)
                .sum();
            format!("{first17}{}", ID_CHECK[(sum % 11) as usize] as char)
        };
        assert!(IdCardNo::parse(&with_check("11010120000229123")).is_some());
        assert!(IdCardNo::parse(&with_check("11010119000229123")).is_none());
        assert!(IdCardNo::parse(&with_check("11010120011301123")).is_none());
        assert!(IdCardNo::parse(&with_check("11010120010431123")).is_none());
        assert!(IdCardNo::parse(&with_check("11010118991231123")).is_none());
    }

    #[test]
    fn ages() {
        let id = IdCardNo::parse("110106197606292150").unwrap();
        let on = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(id.age_on(on(1994, 6, 28)), 17);
        assert_eq!(id.age_on(on(1994, 6, 29)), 18);
        assert_eq!(id.age_on(on(1970, 1, 1)), 0);
    }

    #[test]
    fn bank_cards() {
        assert!(BankCardNo::parse("624156325632141").is_some());
        assert!(BankCardNo::parse("6217000730005201531").is_some());
        assert!(BankCardNo::parse("62415632563214").is_none());
        assert!(BankCardNo::parse("62170007300052015311").is_none());
        assert!(BankCardNo::parse("6217 0007 3000 5201").is_none());
        let c = BankCardNo::parse("6217000730005201531").unwrap();
        assert_eq!(format!("{c:?}"), "BankCardNo(****1531)");
    }

    #[test]
    fn names() {
        for ok in [
            "张某",
            "张某某",
            "殷晓岚",
            "阿依古丽·买买提",
            "Smith",
            "木木",
        ] {
            assert!(PersonName::parse(ok).is_some(), "{ok}");
        }
        for bad in ["张", "张 三", "张3", "··", "", &"张".repeat(31), "O'Neil"] {
            assert!(PersonName::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn contact_phones() {
        assert_eq!(
            ContactPhone::parse("138-0000 0000").unwrap().as_str(),
            "13800000000"
        );
        assert_eq!(
            ContactPhone::parse("+86 10 1234 5678").unwrap().as_str(),
            "+861012345678"
        );
        assert!(ContactPhone::parse("1234").is_none());
        assert!(ContactPhone::parse("123456789012345678901").is_none());
        assert!(ContactPhone::parse("12345a").is_none());
        assert!(ContactPhone::parse("++12345").is_none());
    }
}
