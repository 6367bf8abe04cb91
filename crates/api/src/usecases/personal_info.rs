//! Personal information (§34 完善信息保存): the borrower's education, family, home and work,
//! each checked against its code list or format, kept whole or not at all.

use cashloan_domain::Money;
use cashloan_persistence::profile::{save_personal_info as store, PersonalInfo};
use cashloan_persistence::{DbConnection, DbError};

/// 居住时长 and 工作时长 codes.
const DURATIONS: [&str; 5] = ["01", "02", "03", "04", "05"];
/// 学历 codes.
const EDUCATION: [&str; 7] = ["1", "2", "3", "4", "5", "6", "7"];
/// 婚姻状况 codes.
const MARITAL: [&str; 4] = ["1", "2", "3", "4"];
/// 行业 codes.
const INDUSTRIES: [&str; 14] = [
    "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14",
];

/// What the borrower sent, as sent.
#[derive(Clone, Copy, Debug)]
pub struct PersonalInfoInput<'a> {
    /// 学历 `1`..`7`.
    pub education: &'a str,
    /// 婚姻状况 `1`..`4`.
    pub marital_status: &'a str,
    /// 户籍所在省, a six-digit region code.
    pub registry_province: &'a str,
    /// 户籍所在市.
    pub registry_city: &'a str,
    /// 户籍所在详情, at most 200 characters.
    pub registry_detail: &'a str,
    /// 居住省份.
    pub house_province: &'a str,
    /// 居住城市.
    pub house_city: &'a str,
    /// 居住区.
    pub house_county: &'a str,
    /// 现住址详细地址, at most 200 characters.
    pub house_detail: &'a str,
    /// 居住时长 `01`..`05`.
    pub residence_length: &'a str,
    /// 行业 `1`..`14`.
    pub industry_type: &'a str,
    /// 单位地址-省.
    pub work_province: &'a str,
    /// 单位地址-市.
    pub work_city: &'a str,
    /// 单位地址-区.
    pub work_county: &'a str,
    /// 单位地址-详细, at most 200 characters.
    pub work_detail: &'a str,
    /// 工作时长 `01`..`05`.
    pub working_hours: &'a str,
    /// 单位名称, at most 100 characters.
    pub employer: &'a str,
    /// 职位, at most 50 characters.
    pub job_position: &'a str,
    /// 月收入 `^\d{1,10}(\.\d{1,2})?$`.
    pub month_income: &'a str,
    /// 工资发放日 1..31; none keeps the stored one.
    pub payroll_day: Option<&'a str>,
}

/// Why the information was not saved.
#[derive(Debug, thiserror::Error)]
pub enum PersonalInfoError {
    /// The member (its wire name) is not in its format or code list.
    #[error("{0} is malformed")]
    Invalid(&'static str),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

type Checked<T> = Result<T, PersonalInfoError>;

fn one_of(field: &'static str, value: &str, allowed: &[&str]) -> Checked<()> {
    allowed
        .contains(&value)
        .then_some(())
        .ok_or(PersonalInfoError::Invalid(field))
}

fn region(field: &'static str, value: &str) -> Checked<()> {
    (value.len() == 6 && value.bytes().all(|b| b.is_ascii_digit()))
        .then_some(())
        .ok_or(PersonalInfoError::Invalid(field))
}

fn text(field: &'static str, value: &str, max: usize) -> Checked<()> {
    ((1..=max).contains(&value.chars().count()) && !value.trim().is_empty())
        .then_some(())
        .ok_or(PersonalInfoError::Invalid(field))
}

/// `^\d{1,10}(\.\d{1,2})?$`: a monthly income.
pub fn monthly_income(text: &str) -> Option<Money> {
    let (int, frac) = text
        .split_once('.')
        .map_or((text, None), |(i, f)| (i, Some(f)));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || int.len() > 10 || frac.is_some_and(|f| !digits(f) || f.len() > 2) {
        return None;
    }
    Money::parse_amount(text)
}

/// `1`..`31`, one or two digits: a payroll day.
pub fn payroll_day(text: &str) -> Option<i32> {
    (text.len() <= 2 && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse::<i32>().ok())
        .flatten()
        .filter(|n| (1..=31).contains(n))
}

/// The row `input` makes for `user_id`, once every member is in its format.
pub fn checked(user_id: &str, input: &PersonalInfoInput<'_>, now: i64) -> Checked<PersonalInfo> {
    let i = input;
    one_of("education", i.education, &EDUCATION)?;
    one_of("martialStatus", i.marital_status, &MARITAL)?;
    region("registry_province", i.registry_province)?;
    region("registry_city", i.registry_city)?;
    text("registry_detail", i.registry_detail, 200)?;
    region("house_address_province", i.house_province)?;
    region("house_address_city", i.house_city)?;
    region("house_address_county", i.house_county)?;
    text("house_address_detail", i.house_detail, 200)?;
    one_of("residenceLength", i.residence_length, &DURATIONS)?;
    one_of("industryType", i.industry_type, &INDUSTRIES)?;
    region("work_address_province", i.work_province)?;
    region("work_address_city", i.work_city)?;
    region("work_address_county", i.work_county)?;
    text("work_address_detail", i.work_detail, 200)?;
    one_of("workingHours", i.working_hours, &DURATIONS)?;
    text("currentWorkInfo", i.employer, 100)?;
    text("currentPosition", i.job_position, 50)?;
    let month_income =
        monthly_income(i.month_income).ok_or(PersonalInfoError::Invalid("monthIncome"))?;
    let payroll_day = i
        .payroll_day
        .map(|d| payroll_day(d).ok_or(PersonalInfoError::Invalid("payrollDay")))
        .transpose()?;
    Ok(PersonalInfo {
        user_id: user_id.to_owned(),
        education: i.education.into(),
        marital_status: i.marital_status.into(),
        registry_province: i.registry_province.into(),
        registry_city: i.registry_city.into(),
        registry_detail: i.registry_detail.into(),
        house_province: i.house_province.into(),
        house_city: i.house_city.into(),
        house_county: i.house_county.into(),
        house_detail: i.house_detail.into(),
        residence_length: i.residence_length.into(),
        industry_type: i.industry_type.into(),
        work_province: i.work_province.into(),
        work_city: i.work_city.into(),
        work_county: i.work_county.into(),
        work_detail: i.work_detail.into(),
        working_hours: i.working_hours.into(),
        employer: i.employer.into(),
        job_position: i.job_position.into(),
        month_income,
        payroll_day,
        updated_at: now,
    })
}

/// Checks and saves `user_id`'s personal information in one transaction (which also refreshes
/// `customerInfoStatus`).
pub fn save_personal_info(
    conn: &mut DbConnection,
    user_id: &str,
    input: &PersonalInfoInput<'_>,
    now: i64,
) -> Result<(), PersonalInfoError> {
    let row = checked(user_id, input, now)?;
    store(conn, &row)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> PersonalInfoInput<'static> {
        PersonalInfoInput {
            education: "3",
            marital_status: "1",
            registry_province: "110000",
            registry_city: "110100",
            registry_detail: "某街道1号",
            house_province: "110000",
            house_city: "110100",
            house_county: "110105",
            house_detail: "某小区2号楼",
            residence_length: "03",
            industry_type: "14",
            work_province: "110000",
            work_city: "110100",
            work_county: "110105",
            work_detail: "某大厦10层",
            working_hours: "02",
            employer: "某公司",
            job_position: "工程师",
            month_income: "12000.50",
            payroll_day: Some("10"),
        }
    }

    #[test]
    fn a_whole_form_makes_its_row() {
        let row = checked("u", &input(), 7).unwrap();
        assert_eq!(row.month_income, Money::from_cents(1_200_050));
        assert_eq!((row.payroll_day, row.updated_at), (Some(10), 7));
        assert_eq!(row.industry_type, "14");
    }

    #[test]
    fn each_bad_member_is_named() {
        type Spoil = fn(&mut PersonalInfoInput<'static>);
        let cases: [(&str, Spoil); 8] = [
            ("education", |i| i.education = "8"),
            ("martialStatus", |i| i.marital_status = "0"),
            ("registry_city", |i| i.registry_city = "11010"),
            ("house_address_detail", |i| i.house_detail = "   "),
            ("industryType", |i| i.industry_type = "15"),
            ("workingHours", |i| i.working_hours = "6"),
            ("monthIncome", |i| i.month_income = "12345678901"),
            ("payrollDay", |i| i.payroll_day = Some("32")),
        ];
        for (field, spoil) in cases {
            let mut i = input();
            spoil(&mut i);
            match checked("u", &i, 0) {
                Err(PersonalInfoError::Invalid(f)) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn incomes_and_paydays() {
        assert_eq!(monthly_income("0"), Some(Money::ZERO));
        assert_eq!(
            monthly_income("9999999999.99").map(Money::cents),
            Some(999_999_999_999)
        );
        for bad in ["", ".5", "5.", "5.123", "-1", "1e3", "12345678901"] {
            assert_eq!(monthly_income(bad), None, "{bad:?}");
        }
        assert_eq!(payroll_day("1"), Some(1));
        assert_eq!(payroll_day("31"), Some(31));
        for bad in ["0", "32", "001", "", "+1", "a"] {
            assert_eq!(payroll_day(bad), None, "{bad:?}");
        }
    }
}
