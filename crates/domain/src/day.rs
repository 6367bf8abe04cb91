//! Business dates as text: `YYYY-MM-DD` on the wire, in the database and in messages.

use chrono::NaiveDate;

/// The one text form of a business date (they sort as dates).
pub const DAY_FORMAT: &str = "%Y-%m-%d";

/// `d` as `YYYY-MM-DD`.
pub fn format_day(d: NaiveDate) -> String {
    d.format(DAY_FORMAT).to_string()
}

/// The date written `YYYY-MM-DD`, if it is one.
pub fn parse_day(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, DAY_FORMAT).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_other_shapes() {
        let d = NaiveDate::from_ymd_opt(2026, 2, 28).unwrap();
        assert_eq!(format_day(d), "2026-02-28");
        assert_eq!(parse_day("2026-02-28"), Some(d));
        assert_eq!(parse_day("2026-02-30"), None);
        assert_eq!(parse_day("28/02/2026"), None);
        assert_eq!(parse_day(""), None);
    }
}
