//! Pricing (§22 获取申请确认页面信息, and the same checks in §23): the product on sale, the terms
//! within its limits, the quote within the APR cap, the amount within the borrower's available
//! credit.

use cashloan_domain::{
    available_credit, check_credit, quote, validate_terms, LendingPolicy, LoanProduct, LoanTerms,
    Money, Quote, TermsError, TermsRequest,
};
use cashloan_persistence::accounts::User;
use cashloan_persistence::loans::{user_unpaid_installments, InstallmentWithLoan};
use cashloan_persistence::products::{find_product, ProductRow};
use cashloan_persistence::{DbConnection, DbError, DbResult};
use chrono::NaiveDate;

/// Loan terms that passed every check, with the product they were priced on.
pub struct Priced {
    /// The product as stored.
    pub row: ProductRow,
    /// The product as the domain sees it.
    pub product: LoanProduct,
    /// The terms asked for.
    pub terms: LoanTerms,
    /// What they cost: the plan, the totals and the APR.
    pub quote: Quote,
}

/// Why terms cannot be priced.
#[derive(Debug, thiserror::Error)]
pub enum PricingError {
    /// No such product, or not on sale.
    #[error("no such product on sale")]
    ProductNotFound,
    /// The terms break a rule of the product, the APR cap or the credit.
    #[error(transparent)]
    Terms(#[from] TermsError),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The product `id` if it is on sale, as row and domain product.
pub fn product_on_sale(
    conn: &mut DbConnection,
    id: &str,
) -> Result<(ProductRow, LoanProduct), PricingError> {
    let row = find_product(conn, id)?
        .filter(|p| p.on_sale)
        .ok_or(PricingError::ProductNotFound)?;
    let product = row.to_domain()?;
    Ok((row, product))
}

/// What `user` may borrow in all (total credit), and still (less the unpaid principal of loans
/// paid out).
pub fn credit(conn: &mut DbConnection, user: &User) -> DbResult<(Money, Money)> {
    Ok(credit_of(user, &user_unpaid_installments(conn, &user.id)?))
}

/// [`credit`], given the user's unpaid installments already read.
pub fn credit_of(user: &User, unpaid: &[InstallmentWithLoan]) -> (Money, Money) {
    let principal: Money = unpaid.iter().map(|i| i.installment.principal).sum();
    let total = user.total_credit;
    (total, available_credit(total, principal))
}

/// Prices `terms` on product `product_id` for `user` at `today`: formats and ranges, the APR
/// cap, then the credit.
pub fn price(
    conn: &mut DbConnection,
    policy: &LendingPolicy,
    user: &User,
    product_id: &str,
    terms: &TermsRequest<'_>,
    today: NaiveDate,
) -> Result<Priced, PricingError> {
    let priced = price_terms(find_product(conn, product_id)?, policy, terms, today)?;
    within_credit(&priced, user, &user_unpaid_installments(conn, &user.id)?)?;
    Ok(priced)
}

/// [`price`] up to the credit: `row` (the product as read, if any) must be on sale, the terms
/// within its limits and the quote within the APR cap.
pub fn price_terms(
    row: Option<ProductRow>,
    policy: &LendingPolicy,
    terms: &TermsRequest<'_>,
    today: NaiveDate,
) -> Result<Priced, PricingError> {
    let row = row
        .filter(|p| p.on_sale)
        .ok_or(PricingError::ProductNotFound)?;
    let product = row.to_domain()?;
    let terms = validate_terms(terms, &product)?;
    let q = quote(&product, &terms, today, policy)?;
    Ok(Priced {
        row,
        product,
        terms,
        quote: q,
    })
}

/// The last check of [`price`]: the amount within what `user` may still borrow, given their
/// unpaid installments.
pub fn within_credit(
    priced: &Priced,
    user: &User,
    unpaid: &[InstallmentWithLoan],
) -> Result<(), PricingError> {
    let (_, available) = credit_of(user, unpaid);
    Ok(check_credit(priced.terms.amount, available)?)
}
