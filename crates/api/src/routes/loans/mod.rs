//! Products (§20, §21), quote (§22), application (§23), messages (§24, §25), repayment list
//! (§26), user centre (§27), my loans (§28, §29) and repayment (§36).

mod account;
mod applying;
mod messages;
mod products;
mod repayment;

pub use account::{loan_plan, my_loans, repay_list, user_centre};
pub use applying::{apply, quote_terms};
pub use messages::{customer_messages, system_messages};
pub use products::{product_details, product_list};
pub use repayment::repay;

use cashloan_domain::Money;
use cashloan_persistence::loans::PageRequest;
use cashloan_persistence::products::ProductRow;
use cashloan_protocol::{Envelope, Json, Paging, ResponseCode as R};

use crate::context::{to_json, ApiError, Ctx, Reply};
use crate::usecases::pricing::{self, PricingError};

fn money(amount: Money) -> String {
    amount.to_string()
}

fn page_request(num: u32, size: u32) -> PageRequest {
    PageRequest {
        offset: i64::from(num - 1) * i64::from(size),
        limit: i64::from(size),
    }
}

/// A page of typed rows.
fn paged_rows<T: serde::Serialize>(
    code: R,
    rows: &[T],
    num: u32,
    size: u32,
    total: i64,
) -> Result<Reply, ApiError> {
    let rows = rows.iter().map(to_json).collect::<Result<Vec<_>, _>>()?;
    paged(code, rows, num, size, total)
}

fn paged(code: R, rows: Vec<Json>, num: u32, size: u32, total: i64) -> Result<Reply, ApiError> {
    Ok(Reply {
        envelope: Envelope::paged(
            code,
            rows,
            Paging {
                page_num: num,
                page_size: size,
                total: u64::try_from(total).unwrap_or(0),
            },
        ),
        cookie: None,
    })
}

/// A pricing refusal as the app hears it.
fn pricing_refusal(e: PricingError) -> ApiError {
    match e {
        PricingError::ProductNotFound => R::ProductNotFound.into(),
        PricingError::Terms(t) => applying::terms_code(t).into(),
        PricingError::Db(e) => e.into(),
    }
}

/// The product `id` if it is on sale.
fn product_on_sale(ctx: &mut Ctx<'_>, id: &str) -> Result<ProductRow, ApiError> {
    pricing::product_on_sale(ctx.conn.get()?, id)
        .map(|(row, _)| row)
        .map_err(pricing_refusal)
}
