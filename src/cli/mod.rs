//! The terminal layer: clap's definitions of the commands (`args`), one handler per command
//! (`commands`), the second layer of arguments turned into plain settings (`settings`), and the
//! guided run (`wizard`). The only code that names clap, dialoguer or indicatif; the layers below
//! take plain values and ask through the traits `send::Terminal` and `send::Progress`.

pub mod args;
mod commands;
pub mod settings;
mod terminal;
mod wizard;

use std::ffi::OsString;

use clap::Parser;

use crate::campaign::source::Source;
use crate::campaign::Campaign;
use crate::error::{Result, EXIT_USAGE};

use args::{Cli, Command};

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
    let Some(command) = cli.command else {
        // On a terminal, no command means the guided run; anywhere else it would hang.
        return wizard::wizard(cli.campaign.as_deref(), cli.profile.as_deref(), true);
    };
    if let Command::Wizard = &command {
        return wizard::wizard(cli.campaign.as_deref(), cli.profile.as_deref(), false);
    }
    if let Command::Init(args) = &command {
        return commands::init(args);
    }
    let campaign = Campaign::load(Source::discover(cli.campaign.as_deref())?)?;
    match command {
        Command::Groups => commands::groups(&campaign),
        Command::Check(args) => commands::check(&campaign, &args),
        Command::Preview(args) => commands::preview(&campaign, &args),
        Command::Render(args) => commands::render(&campaign, &args),
        Command::Send(args) => commands::send(&campaign, &args, cli.profile.as_deref()),
        Command::Status(args) => {
            crate::send::status(&campaign, args.group.as_deref(), args.journal.as_deref())
        }
        Command::Init(_) | Command::Wizard => unreachable!("handled above"),
    }
}
