//! The overview (概览): today's and this month's applications and approval rate, money paid out
//! and collected, the overdue book by bucket with its rate (逾期率: the overdue installments'
//! principal over the unpaid principal of the book), and the last 30 days day by day.

use cashloan_domain::{format_day, ApplyStatus, Money};
use cashloan_persistence::back_office::collection::{self, Bucket};
use cashloan_persistence::back_office::dashboard as figures;
use chrono::{Datelike, NaiveDate};
use serde_json::json;

use super::{business_date, ok, AdminCall, Answer};
use crate::context::{AppState, Lease};

/// The figures of a span of days.
#[derive(Default, Clone, Copy)]
struct Span {
    applications: i64,
    approved: i64,
    rejected: i64,
    disbursed: Money,
    collected: Money,
}

impl Span {
    fn view(&self) -> serde_json::Value {
        let decided = self.approved + self.rejected;
        json!({
            "applications": self.applications,
            "approved": self.approved,
            "rejected": self.rejected,
            "approvalRate": ratio(self.approved, decided),
            "disbursed": self.disbursed.to_string(),
            "collected": self.collected.to_string(),
        })
    }
}

/// `part / whole` to four places, as text (`null` when there is no whole).
fn ratio(part: i64, whole: i64) -> Option<String> {
    if whole <= 0 {
        return None;
    }
    // In ten-thousandths, rounded half up, in integers: exact for any count or amount.
    let (part, whole) = (i128::from(part.max(0)), i128::from(whole));
    let units = (part * 10_000 + whole / 2) / whole;
    Some(format!("{}.{:04}", units / 10_000, units % 10_000))
}

/// `part / whole` of money, to four places.
fn money_ratio(part: Money, whole: Money) -> Option<String> {
    ratio(part.cents(), whole.cents())
}

/// `GET /admin/dashboard`.
pub(super) fn overview(st: &AppState, lease: &mut Lease<'_>, _: &AdminCall) -> Answer {
    let today = business_date(st, lease)?;
    let first_of_month = today.with_day(1).unwrap_or(today);
    let start = (today - chrono::Duration::days(29)).min(first_of_month);
    // A day runs from the second after the day before's 23:59:59 to the second after its own.
    let start_ms = |d: NaiveDate| d.pred_opt().map_or(0, |p| st.end_of_day_ms(p) + 1000);
    let conn = lease.get()?;
    let mut days: std::collections::BTreeMap<NaiveDate, Span> = std::collections::BTreeMap::new();
    let mut d = start;
    while d <= today {
        days.insert(d, Span::default());
        let Some(next) = d.succ_opt() else { break };
        d = next;
    }
    // Each application on the business day it was made in the server's zone.
    let bounds: Vec<(NaiveDate, i64)> = days
        .keys()
        .map(|d| (*d, st.end_of_day_ms(*d) + 1000))
        .collect();
    for (at, status) in figures::applications_since(conn, start_ms(start))? {
        let Some((day, _)) = bounds.iter().find(|(_, end)| at < *end) else {
            continue;
        };
        if let Some(span) = days.get_mut(day) {
            span.applications += 1;
            match ApplyStatus::from_code(i64::from(status)) {
                Some(ApplyStatus::Approved | ApplyStatus::Disbursed | ApplyStatus::Settled) => {
                    span.approved += 1
                }
                Some(ApplyStatus::Rejected) => span.rejected += 1,
                _ => {}
            }
        }
    }
    for (kind, cents, day) in figures::movements_since(conn, start)? {
        let Some(span) = cashloan_domain::parse_day(&day).and_then(|d| days.get_mut(&d)) else {
            continue;
        };
        if kind == "disbursement" {
            span.disbursed += Money::from_cents(cents);
        } else {
            span.collected += Money::from_cents(cents);
        }
    }
    let sum = |from: NaiveDate| {
        days.range(from..).fold(Span::default(), |mut acc, (_, s)| {
            acc.applications += s.applications;
            acc.approved += s.approved;
            acc.rejected += s.rejected;
            acc.disbursed += s.disbursed;
            acc.collected += s.collected;
            acc
        })
    };
    let outstanding = figures::outstanding_principal(conn)?;
    let overdue = collection::overdue_loans(conn, today)?;
    let buckets: Vec<_> = Bucket::ALL
        .iter()
        .map(|b| {
            let of = || overdue.iter().filter(|l| l.bucket == *b);
            let amount: Money = of().map(|l| l.overdue_amount).sum();
            let principal: Money = of().map(|l| l.overdue_principal).sum();
            json!({
                "bucket": b.as_str(),
                "loans": of().count(),
                "amount": amount.to_string(),
                "principal": principal.to_string(),
                "rate": money_ratio(principal, outstanding),
            })
        })
        .collect();
    let overdue_total: Money = overdue.iter().map(|l| l.overdue_amount).sum();
    let overdue_principal: Money = overdue.iter().map(|l| l.overdue_principal).sum();
    let last_30: Vec<_> = days
        .range(today - chrono::Duration::days(29)..)
        .map(|(d, s)| {
            json!({
                "date": format_day(*d),
                "applications": s.applications,
                "disbursed": s.disbursed.to_string(),
                "collected": s.collected.to_string(),
            })
        })
        .collect();
    ok(json!({
        "businessDate": format_day(today),
        "today": sum(today).view(),
        "month": sum(first_of_month).view(),
        "outstandingPrincipal": outstanding.to_string(),
        "overdue": {
            "loans": overdue.len(),
            "amount": overdue_total.to_string(),
            "principal": overdue_principal.to_string(),
            "rate": money_ratio(overdue_principal, outstanding),
            "buckets": buckets,
        },
        "last30Days": last_30,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_have_four_places_and_none_without_a_whole() {
        assert_eq!(ratio(1, 3).as_deref(), Some("0.3333"));
        assert_eq!(ratio(2, 2).as_deref(), Some("1.0000"));
        assert_eq!(ratio(2, 3).as_deref(), Some("0.6667"));
        assert_eq!(ratio(0, 0), None);
    }
}
