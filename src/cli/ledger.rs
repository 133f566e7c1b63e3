//! The campaign ledger on the command line: `mark-sent`, `replies`, `export`, `report`, and the
//! answers `status` shows.

use std::collections::HashSet;
use std::path::Path;

use crate::campaign::Campaign;
use crate::cli::args::{ExportArgs, MarkSentArgs, RepliesArgs, ReportArgs, Via};
use crate::cli::settings::signed_inputs;
use crate::cli::usage;
use crate::error::{Diag, Error, Result};
use crate::ledger::export::{export as write_ledger, Volunteer};
use crate::ledger::mailbox::Mailbox;
use crate::ledger::replies::{self, Letter, Letters};
use crate::ledger::report::Report;
use crate::ledger::{written, State};
use crate::letter::run::{Run, Target};
use crate::plural;
use crate::send::journal::{choose_path, key};

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
    let mut ticked = match &args.from {
        Some(file) => Some(read_ticks(file, &campaign.id, &target.group)?),
        None => None,
    };
    let run = Run::open(campaign, &target, &inputs)?;
    let ids = run.settings.clone();
    let journal = choose_path(args.journal.as_deref(), &campaign.source, &campaign.id);
    let via = args.via.unwrap_or(Via::Mailto).name();
    let mut batch = written::Batch::begin(&journal, &campaign.id, &run.group.id, via)?;
    run.each(
        target.limit,
        false,
        |letter, _| letter.email.clone(),
        |email| {
            // With ticks, only the ticked letters; each tick is used up, so what is left over at
            // the end was not among the targeted recipients.
            let wanted = ticked.as_mut().is_none_or(|t| t.remove(&key(&email)));
            match wanted {
                true => batch.add(&email, &ids.message_id(&email), State::Sent, None, &[]),
                false => Ok(()),
            }
        },
    )?;
    if let Some(left) = ticked.filter(|t| !t.is_empty()) {
        eprintln!(
            "warning: {} ticked on the page not among the targeted recipients, left out: {}",
            plural(left.len() as u64, "address"),
            left.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    let count = batch.count;
    let path = batch.commit()?;
    println!(
        "marked {} as sent by {via}, in {}",
        plural(count, "letter"),
        path.display()
    );
    Ok(0)
}

/// What the mailto page's "Save my ticks" button writes.
#[derive(serde::Deserialize)]
struct Ticks {
    campaign: String,
    group: String,
    sent: Vec<String>,
}

/// The addresses ticked on the mailto page of this campaign's `group`, as journal keys.
fn read_ticks(file: &Path, campaign: &str, group: &str) -> Result<HashSet<String>> {
    let name = file.display().to_string();
    let text = std::fs::read(file).map_err(|e| Error::io(file, e))?;
    let ticks: Ticks = serde_json::from_slice(&text).map_err(|e| {
        let why = format!("not a file of ticks from the mailto page: {e}");
        let hint = "use the file the page's \"Save my ticks\" button wrote";
        Error::Invalid(Diag::new(why).file(&name).line(e.line() as u64).hint(hint))
    })?;
    if ticks.campaign != campaign || ticks.group != group {
        let why = format!(
            "these ticks are of campaign `{}`, group `{}`, not `{campaign}`, `{group}`",
            ticks.campaign, ticks.group
        );
        let hint = "pass the --group (and --campaign) of the page the ticks come from";
        return Err(Error::Usage(Diag::new(why).file(&name).hint(hint)));
    }
    Ok(ticks.sent.iter().map(|e| key(e)).collect())
}

/// `letterdrive export`: the journal as a ledger. The volunteer is the signer of the flags, or
/// of the saved profile.
pub(super) fn export(
    campaign: &Campaign,
    args: &ExportArgs,
    profile: Option<&Path>,
) -> Result<i32> {
    let saved = match crate::send::profile::location(profile) {
        Some(path) => crate::send::profile::load(&path)?,
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

/// The letters recorded as sent by other means (`mark-sent`) beside the journal at `journal`
/// (or the campaign's), for `send` to count as sent.
pub(super) fn sent_by_hand(
    campaign: &Campaign,
    journal: Option<&Path>,
) -> Result<Vec<(String, String)>> {
    let path = choose_path(journal, &campaign.source, &campaign.id);
    written::sent_by_hand(&path, &campaign.id)
}

/// `letterdrive status`: the send journal, and the answers recorded beside it.
pub(super) fn status(
    campaign: &Campaign,
    group: Option<&str>,
    journal: Option<&Path>,
) -> Result<i32> {
    let path = choose_path(journal, &campaign.source, &campaign.id);
    let answers = written::answers(&path, &campaign.id)?;
    crate::send::status(campaign, group, &path, &answers)
}

/// `letterdrive replies`: the volunteer's mail read for answers to every letter of the
/// campaign, each known by the Message-ID `render` and `send` give it and by its subject.
pub(super) fn replies(
    campaign: &Campaign,
    args: &RepliesArgs,
    profile: Option<&Path>,
) -> Result<i32> {
    let inputs = signed_inputs(&args.signer, profile)?;
    let mut list = Vec::new();
    for group in &campaign.groups {
        let target = Target {
            group: group.id.clone(),
            ..Target::default()
        };
        let run = Run::open(campaign, &target, &inputs)?;
        let ids = run.settings.clone();
        let subjects = |letter: &crate::letter::render::Letter, _| {
            (letter.email.clone(), letter.subject.clone())
        };
        run.each(None, false, subjects, |(email, subject)| {
            let message_id = ids.message_id(&email);
            let group = group.id.clone();
            list.push(Letter {
                group,
                email,
                message_id,
                subject,
            });
            Ok(())
        })?;
    }
    let letters = Letters::new(&inputs.signer.email, list);
    // clap lets exactly one of them through.
    let (mailbox, path) = match (&args.mbox, &args.maildir, &args.eml) {
        (Some(p), _, _) => (Mailbox::Mbox(p.clone()), p),
        (_, Some(p), _) => (Mailbox::Maildir(p.clone()), p),
        (_, _, Some(p)) => (Mailbox::Eml(p.clone()), p),
        _ => {
            return Err(usage(
                "where is your mail?",
                "pass --mbox FILE, --maildir DIR or --eml DIR",
            ))
        }
    };
    let journal = choose_path(args.journal.as_deref(), &campaign.source, &campaign.id);
    let tally = replies::record(&campaign.id, &journal, &letters, &mailbox)?;
    print_tally(&tally, &letters, path);
    Ok(0)
}

fn print_tally(tally: &replies::Tally, letters: &Letters, path: &Path) {
    let unreadable = match tally.unreadable {
        0 => String::new(),
        n => format!(" ({n} not mail, skipped)"),
    };
    println!(
        "read {} from {}{unreadable}, looking for answers to {}",
        plural(tally.messages, "message"),
        path.display(),
        plural(letters.len() as u64, "letter"),
    );
    let replies = match tally.replies {
        1 => "1 reply".to_string(),
        n => format!("{n} replies"),
    };
    let found = format!(
        "{replies}, {} and {}",
        plural(tally.auto_replies, "auto-reply").replace("replys", "replies"),
        plural(tally.bounces, "bounce"),
    );
    match &tally.file {
        Some(file) => println!("recorded {found} in {}", file.display()),
        None => println!("recorded nothing new"),
    }
    if tally.known > 0 {
        println!("{} already recorded", plural(tally.known, "answer"));
    }
    if !tally.bounced.is_empty() {
        println!("bounced: fix or remove these addresses in the recipient lists");
        for (letter, status) in &tally.bounced {
            let letter = letters.get(*letter);
            let status = status
                .as_deref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            println!("  {}: {}{status}", letter.group, letter.email);
        }
    }
}
