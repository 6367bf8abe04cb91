//! The daily job of the loan book (issue #6 fills this crate): marks overdue installments,
//! accrues penalties and writes reminder and overdue messages for a business date.

pub use cashloan_persistence as persistence;
