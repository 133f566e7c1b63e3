//! Delivery over SMTP: every letter of a target checked and rendered first, then handed to the
//! server one by one at a set rate, each step written to the journal before the next, with
//! retries for temporary trouble and never a letter sent twice unasked. Below the terminal
//! layer: it takes plain settings ([`SendJob`], [`Flags`]) and asks and reports through
//! [`Terminal`] and [`Progress`], which the cli layer implements.
//!
//! `sender` is the journaled state machine, generic over `deliver::Deliver`; `connection` is
//! SMTP on lettre's published `SmtpConnection`; `run` ties them to a campaign.

pub mod config;
mod connection;
mod deliver;
pub mod journal;
pub mod profile;
pub mod providers;
mod rate;
mod report;
mod run;
mod sender;
pub mod server;
pub mod status;
mod terminal;

pub use config::{Flags, Origin, ProfileSmtp, SmtpConfig, Sourced};
pub use rate::human;
pub use run::{run, SendJob, DEFAULT_RETRIES, DEFAULT_RETRY_DELAY_MS, DEFAULT_TIMEOUT_SECS};
pub use status::status;
pub use terminal::{LogLines, Progress, Step, Terminal};

use crate::error::{Diag, Error};

/// A mistake in what the user asked for, and what to do instead.
fn usage(message: impl Into<String>, hint: impl Into<String>) -> Error {
    Error::Usage(Diag::new(message).hint(hint))
}
