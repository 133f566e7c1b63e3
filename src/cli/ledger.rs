//! `export` and `report`: the campaign ledger on the command line.

use std::path::Path;

use crate::campaign::Campaign;
use crate::cli::args::{ExportArgs, MarkSentArgs, ReportArgs};
use crate::cli::settings::signed_inputs;
use crate::cli::usage;
use crate::error::{Error, Result};
use crate::ledger::export::{export as write_ledger, Volunteer};
use crate::ledger::report::Report;
use crate::ledger::{written, State};
use crate::letter::run::Run;
use crate::plural;
use crate::send::journal::choose_path;

/// A flag's value, trimmed, when it says something.
fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// `letterdrive mark-sent`: the targeted letters recorded as sent by hand, each with the
/// Message-ID `render` and `send` give it.
pub(super) fn mark_sent(
    campaign: &Campaign,
    args: &MarkSentArgs,
    profile: Option<&Path>,
) -> Result<i32> {
    let inputs = signed_inputs(&args.signer, profile)?;
    let target = super::commands::target(&args.target);
    let run = Run::open(campaign, &target, &inputs)?;
    let ids = run.settings.clone();
    let journal = choose_path(args.journal.as_deref(), &campaign.source, &campaign.id);
    let mut batch = written::Batch::begin(&journal, &campaign.id, &run.group.id, args.via.name())?;
    run.each(
        target.limit,
        false,
        |letter, _| letter.email.clone(),
        |email| batch.add(&email, &ids.message_id(&email), State::Sent, None, &[]),
    )?;
    let count = batch.count;
    let path = batch.commit()?;
    let via = args.via.name();
    println!(
        "marked {} as sent by {via}, in {}",
        plural(count, "letter"),
        path.display()
    );
    Ok(0)
}

/// `letterdrive export`: the journal as a ledger. The volunteer is the signer of the flags, or
/// of the saved profile.
pub(super) fn export(
    campaign: &Campaign,
    args: &ExportArgs,
    profile: Option<&Path>,
) -> Result<i32> {
    let saved = match crate::profile::location(profile) {
        Some(path) => crate::profile::load(&path)?,
        None => None,
    };
    let email = given(&args.signer_email).or(saved.as_ref().map(|p| p.email.trim()));
    let Some(email) = email.filter(|e| !e.is_empty()) else {
        return Err(usage(
            "whose letters are these? the ledger needs the volunteer's address (it keeps only a keyed hash of it)",
            "pass --signer-email you@your-domain, or save a profile in the guided run",
        ));
    };
    let name = given(&args.signer_name).or(saved.as_ref().map(|p| p.name.trim()));
    let volunteer = Volunteer {
        email,
        name: name.filter(|_| args.with_names),
    };
    let journal = choose_path(args.journal.as_deref(), &campaign.source, &campaign.id);
    let count = write_ledger(&campaign.id, &journal, &volunteer, &args.out)?;
    println!(
        "wrote {} to {} (from {})",
        plural(count, "event"),
        args.out.display(),
        journal.display()
    );
    Ok(0)
}

/// `letterdrive report`: every ledger merged into a page, a spreadsheet and suggestions.
pub(super) fn report(campaign: &Campaign, args: &ReportArgs) -> Result<i32> {
    let report = Report::build(campaign, &args.ledgers)?;
    let out = &args.out;
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let page = out.join("report.html");
    let html = crate::ledger::page(&report);
    crate::ledger::write_whole(&page, |w| w.write_all(html.as_bytes()))?;
    report.write_csv(&out.join("coverage.csv"))?;
    let letters: u64 = report.targets.iter().map(|t| t.letters).sum();
    println!(
        "{} from {}: {} sent to {} targets; open {} in your browser",
        plural(report.events, "event"),
        plural(args.ledgers.len() as u64, "ledger"),
        plural(letters, "letter"),
        report.targets.len(),
        std::path::absolute(&page).unwrap_or(page).display(),
    );
    if let Some(n) = args.suggest {
        println!("\nwhere to write next ({n} targets with the fewest letters):");
        for line in report.suggest(n) {
            println!("  letterdrive send {line}");
        }
    }
    Ok(0)
}
