//! The terminal layer: clap's definitions of the commands (`args`), one handler per command
//! (`commands`), the second layer of arguments turned into plain settings (`settings`), and the
//! guided run (`wizard`). The only code that names clap, dialoguer or indicatif; the layers below
//! take plain values and ask through the traits `send::Terminal` and `send::Progress`.

pub mod args;
mod commands;
mod interrupt;
mod language;
mod ledger;
pub mod settings;
mod terminal;
mod wizard;

use std::ffi::OsString;

use clap::Parser;

use crate::campaign::source::Source;
use crate::campaign::Campaign;
use crate::error::{Diag, Error, Result, EXIT_USAGE};

use args::{Cli, Command};

/// Parse arguments, run the command, print any error, and return the exit code.
pub fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_USAGE } else { 0 };
        }
    };
    interrupt::install();
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

/// Runs one command; no command at all is the guided run.
fn dispatch(cli: Cli) -> Result<i32> {
    let (dir, profile) = (cli.campaign.as_deref(), cli.profile.as_deref());
    let campaign = || Campaign::load(Source::discover(dir)?);
    match cli.command {
        // On a terminal, no command means the guided run; anywhere else it would hang.
        None => wizard::wizard(dir, profile, true, &[]),
        Some(Command::Wizard { ledgers }) => wizard::wizard(dir, profile, false, &ledgers),
        Some(Command::Init { dir, blank, force }) => commands::init(&dir, blank, force),
        Some(Command::Groups) => commands::groups(&campaign()?),
        Some(Command::Providers) => commands::providers(),
        Some(Command::Check { strict }) => commands::check(&campaign()?, strict),
        Some(Command::Preview(args)) => commands::preview(&campaign()?, &args),
        Some(Command::Render(args)) => commands::render(&campaign()?, &args, profile),
        Some(Command::Send(args)) => commands::send(&campaign()?, &args, profile),
        Some(Command::MarkSent(args)) => ledger::mark_sent(&campaign()?, &args, profile),
        Some(Command::Export(args)) => ledger::export(&campaign()?, &args, profile),
        Some(Command::Report(args)) => ledger::report(&campaign()?, &args),
        Some(Command::Pack { out }) => commands::pack(&campaign()?, &out),
        Some(Command::Completions { shell }) => commands::completions(shell),
        Some(Command::Man { out }) => commands::man(out.as_deref()),
        Some(Command::Replies(args)) => ledger::replies(&campaign()?, &args, profile),
        Some(Command::Status { group, journal }) => {
            ledger::status(&campaign()?, group.as_deref(), journal.as_deref())
        }
    }
}

/// A mistake on the command line (exit code 2), with the hint that fixes it.
pub(crate) fn usage(message: impl Into<String>, hint: impl Into<String>) -> Error {
    Error::Usage(Diag::new(message).hint(hint))
}
