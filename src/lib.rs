//! letterdrive: a campaign on disk (statement, demands, recipient groups, templates) turned into
//! personalised letters. `run` is the whole program; `main` only calls it.

pub mod campaign;
pub mod cli;
pub mod error;
pub mod letter;
pub mod output;
pub mod profile;
pub mod send;
pub mod settings;

mod commands;
mod prompt;

use std::ffi::OsString;

use clap::Parser;

use crate::error::EXIT_USAGE;

/// "1 letter", "2 letters": counts as people read them, in every message.
pub(crate) fn plural(n: u64, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// Parse arguments, run the command, print any error, and return the exit code.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match cli::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_USAGE } else { 0 };
        }
    };
    match commands::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}
