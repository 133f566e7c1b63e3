//! The terminal layer: clap's definitions of the commands (`args`), one handler per command
//! (`commands`), the second layer of arguments turned into plain settings (`settings`), and the
//! guided run (`wizard`). The only code that names clap, dialoguer or indicatif; the layers below
//! take plain values and ask through the traits `send::Terminal` and `send::Progress`.

pub mod args;
mod commands;
pub mod settings;
mod wizard;

use std::ffi::OsString;

use clap::Parser;

use crate::error::EXIT_USAGE;

/// Parse arguments, run the command, print any error, and return the exit code.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match args::Cli::try_parse_from(args) {
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
