//! letterdrive: a campaign on disk (statement, demands, recipient groups, templates) turned into
//! personalised letters. `run` is the whole program; `main` only calls it.

// Safe Rust only: what the product needs of the system comes through its dependencies.
#![forbid(unsafe_code)]

pub mod campaign;
pub mod cli;
pub mod clock;
pub mod error;
pub mod ledger;
pub mod letter;
pub mod output;
pub mod send;

/// "1 letter", "2 letters": counts as people read them, in every message.
pub(crate) fn plural(n: u64, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

pub use cli::run;
