//! The wire protocol of the cash-loan app (docs/api.md): canonical JSON, request and response
//! signatures, response envelopes, the DES password codec and every response code.
//!
//! No I/O and no web framework: the API crate feeds it bytes and gets bytes back.

pub mod codes;
pub mod envelope;
pub mod json;
pub mod password;
pub mod sign;

pub use codes::{Outcome, ResponseCode};
pub use envelope::{Envelope, Paging};
pub use json::{parse, Json, Map, ParseError};
pub use password::{PasswordCodec, PasswordError};
pub use sign::{sign, signing_input, verify};
