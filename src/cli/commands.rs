//! One function per subcommand: each builds plain settings from the flags and calls the core.

use std::io::Write;
use std::path::Path;

use crate::campaign::recipients::{self, Recipients, Row};
use crate::campaign::source;
use crate::campaign::Campaign;
use crate::cli::args::{Format, PreviewArgs, RenderArgs, SendArgs, TargetArgs};
use crate::cli::language;
use crate::cli::settings::{letter_inputs, signed_inputs, SignerNeed};
use crate::cli::usage;
use crate::error::{Diag, Error, Result, EXIT_INVALID};
use crate::ledger::{written, State};
use crate::letter::check;
use crate::letter::own::{Others, Tally};
use crate::letter::render::{Letter, LetterInputs};
use crate::letter::run::{Run, Target, MAX_LISTED};
use crate::output::pdf::{Paper, Style, BUNDLED_BOLD, BUNDLED_FONT};
use crate::output::{Outbox, PageInfo, Summary};
use crate::plural;
use crate::send::journal;
use crate::send::{providers, Origin, Sourced};

pub(crate) fn target(args: &TargetArgs) -> Target {
    Target {
        group: args.group.clone(),
        filters: args.filters.clone(),
        limit: args.limit,
    }
}

/// `letterdrive send`: the flags as the send layer's plain settings. `profile` is `--profile`,
/// whose `[smtp]` table may hold the server settings.
pub(super) fn send(campaign: &Campaign, args: &SendArgs, profile: Option<&Path>) -> Result<i32> {
    let inputs = signed_inputs(&args.signer, profile)?;
    let mut config = crate::send::config::resolve_here(&send_flags(args), profile)?;
    let provider = args.provider.as_deref().map(providers::find).transpose()?;
    if let Some(p) = provider {
        let url = p.url(&inputs.signer.email);
        config.url = Some(Sourced {
            value: url,
            origin: Origin::Flag("--provider"),
        });
        println!("provider: {}; it takes {}", p.name, p.password);
    }
    let daily = provider
        .and_then(|p| p.daily_limit)
        .filter(|_| args.max.is_none());
    if let Some(n) = daily {
        println!("provider: at most {n} letters a run, its daily limit (--max changes it)");
    }
    let max = args.max.or(daily);
    let others = others(campaign, &args.target.group, &inputs, &args.ledgers)?;
    let job = crate::send::SendJob {
        target: target(&args.target),
        inputs,
        config,
        insecure: args.insecure,
        timeout: std::time::Duration::from_secs(args.timeout.max(1)),
        journal: args.journal.clone(),
        max,
        retries: args.retries,
        retry_delay: std::time::Duration::from_millis(args.retry_delay_ms),
        resend_uncertain: args.resend_uncertain,
        retry_failed: args.retry_failed,
        yes: args.yes,
        dry_run: args.dry_run,
        strict: args.strict,
        others,
        test_to: args.test_to.clone(),
        failed_csv: args.failed_csv.clone(),
        sent_by_hand: super::ledger::sent_by_hand(campaign, args.journal.as_deref())?,
    };
    crate::send::run(campaign, &job, &crate::cli::terminal::Console)
}

/// `letterdrive providers`: what `--provider` knows.
pub(super) fn providers() -> Result<i32> {
    let mut out = std::io::stdout().lock();
    for p in providers::PROVIDERS {
        let (id, name, host, port, tls) = (p.id, p.name, p.host, p.port, p.security());
        let limit = p
            .daily_limit
            .map_or("no published daily limit".into(), |n| {
                format!("{n} a day (the default --max)")
            });
        let password = p.password;
        let _ = writeln!(
            out,
            "{id}  {name}\n  {host}:{port} ({tls}), {limit}\n  password: {password}\n"
        );
    }
    let _ = writeln!(out, "Use one with `letterdrive send --provider ID --signer-email you@...`; for any other, --smtp smtps://you@host:465 or smtp://you@host:587.");
    Ok(0)
}

fn send_flags(a: &SendArgs) -> crate::send::Flags {
    crate::send::Flags {
        smtp: a.smtp.clone(),
        password_command: a.password_command.clone(),
        oauth2_token_command: a.oauth2_token_command.clone(),
        ca_file: a.ca_file.clone(),
        rate: a.rate.clone(),
        connections: a.connections,
    }
}

pub(super) fn groups(campaign: &Campaign) -> Result<i32> {
    let mut out = std::io::stdout().lock();
    let (title, id) = (&campaign.statement.title, &campaign.id);
    let _ = writeln!(
        out,
        "{title}\ncampaign `{id}` ({})\n",
        campaign.source.describe()
    );
    let width = campaign.groups.iter().map(|g| g.id.len()).max();
    let width = width.unwrap_or(0);
    // What follows a group's first line is indented past the ids.
    let pad = " ".repeat(width);
    for g in &campaign.groups {
        let count = match Recipients::open(&campaign.source, g) {
            // Rows with problems are not counted: `check` reports them.
            Ok(mut rows) => plural(rows_of(&mut rows).count() as u64, "recipient"),
            Err(_) => "unreadable recipients (run `letterdrive check`)".to_string(),
        };
        let (id, label, about) = (&g.id, &g.label, &g.description);
        let _ = writeln!(out, "{id:width$}  {label}  ({count})\n{pad}  {about}");
        if !g.target_by.is_empty() {
            let _ = writeln!(out, "{pad}  target by: {}", g.target_by.join(", "));
        }
        let languages = language::names(campaign, g, true);
        let _ = writeln!(out, "{pad}  languages: {languages}\n");
    }
    Ok(0)
}

/// The readable rows of a recipients file, one at a time; rows with problems are skipped.
pub(crate) fn rows_of(rows: &mut Recipients) -> impl Iterator<Item = recipients::Row> + '_ {
    std::iter::from_fn(|| rows.next_row()).flatten()
}

/// `letterdrive check`; `strict` counts warnings as errors.
pub(super) fn check(campaign: &Campaign, strict: bool) -> Result<i32> {
    let report = check::check(campaign, crate::cli::settings::today()?);
    let mut out = std::io::stdout().lock();
    let what = format!("`{}` ({})", campaign.id, campaign.source.describe());
    let _ = writeln!(out, "checking campaign {what}");
    if let Some(updated) = campaign.updated {
        let by = campaign
            .reviewer
            .as_ref()
            .map(|r| format!(" by {r}"))
            .unwrap_or_default();
        let _ = writeln!(out, "  last updated {updated}{by}");
    }
    for g in &report.groups {
        let status = match (g.errors.len(), g.warnings.len()) {
            (0, 0) => "ok",
            (0, _) => "ok, with warnings",
            _ => "errors",
        };
        let recipients = plural(g.recipients, "recipient");
        let demands = plural(campaign.demands_for_group(&g.id).count() as u64, "demand");
        let _ = writeln!(out, "  {}: {recipients}, {demands} — {status}", g.id);
    }
    let _ = out.flush();
    let mut err = std::io::stderr().lock();
    for d in &report.warnings {
        let _ = writeln!(err, "warning: {d}");
    }
    for g in &report.groups {
        for d in g.error_lines() {
            let _ = writeln!(err, "error: {d}");
        }
        for d in &g.warnings {
            let _ = writeln!(err, "warning: {d}");
        }
    }
    let failed = report.errors() > 0 || (strict && report.warnings() > 0);
    let verdict = if failed {
        "the campaign cannot be sent until these are fixed"
    } else {
        "the campaign can be sent"
    };
    let errors = plural(report.errors() as u64, "error");
    let warnings = plural(report.warnings() as u64, "warning");
    let _ = writeln!(out, "{errors}, {warnings}: {verdict}");
    Ok(if failed { EXIT_INVALID } else { 0 })
}

pub(super) fn preview(campaign: &Campaign, args: &PreviewArgs) -> Result<i32> {
    let inputs = letter_inputs(&args.signer, SignerNeed::PlaceholderOk)?;
    let mut run = Run::open(campaign, &target(&args.target), &inputs)?;
    let wanted_row = args.row.unwrap_or(1);
    if wanted_row == 0 {
        let hint = "use --row 1 for the first recipient";
        return Err(usage("--row counts from 1", hint));
    }
    let wanted_to = args.to.as_deref().map(|s| s.trim().to_lowercase());
    let email_idx = run.rows.columns.get(crate::campaign::EMAIL_COLUMN);
    let (found, seen) = first_letter(&mut run, |row, seen| match &wanted_to {
        Some(to) => email_idx
            .and_then(|i| row.record.get(i))
            .is_some_and(|e| e.trim().to_lowercase() == *to),
        None => seen == wanted_row,
    })?;
    if let Some((letter, message)) = found {
        let mut out = std::io::stdout().lock();
        let _ = if args.raw {
            out.write_all(&message.formatted())
        } else {
            write!(out, "{}", show_letter(&letter, &message))
        };
        eprintln!("{}", own_words_of(campaign, run.group, &letter));
        return Ok(0);
    }
    if seen == 0 {
        return Err(crate::letter::run::no_letter(
            campaign,
            run.group,
            &run.filters,
        ));
    }
    let seen = plural(seen, "recipient");
    let what = match &args.to {
        Some(to) => format!("no recipient with address `{to}`"),
        None => format!("there is no row {wanted_row}: only {seen}"),
    };
    let hint = "see the recipients with `letterdrive groups` or open the CSV file";
    let diag = Diag::new(format!("{what} in group `{}`", run.group.id));
    Err(Error::Usage(diag.file(run.rows.file.clone()).hint(hint)))
}

/// The letter, with its message, to the first row that passes the run's `--where` filters and
/// `wanted` (given the row and its number among those that pass); also how many passed. A row
/// with a problem stops the search, as it would stop the run.
pub(crate) fn first_letter(
    run: &mut Run,
    mut wanted: impl FnMut(&Row, u64) -> bool,
) -> Result<(Option<(Letter, lettre::Message)>, u64)> {
    let mut seen = 0;
    while let Some(next) = run.rows.next_row() {
        let row = next.map_err(Error::Invalid)?;
        if !recipients::matches_all(&run.filters, &row) {
            continue;
        }
        seen += 1;
        if wanted(&row, seen) {
            let (letter, message) = run.letter(&row, true).map_err(Error::Many)?;
            let message = message.expect("the message was asked for");
            return Ok((Some((letter, message)), seen));
        }
    }
    Ok((None, seen))
}

/// "own words: 18% (min 10%)" for one letter, with a warning when below the minimum.
pub(crate) fn own_words_of(
    campaign: &Campaign,
    group: &crate::campaign::Group,
    letter: &Letter,
) -> String {
    let mut own = Tally::new(campaign.min_own_words(group));
    own.add(letter.own_words);
    let line = own.line().unwrap_or_default();
    match own.min.filter(|_| own.below > 0) {
        Some(min) => format!("{line}\nwarning: this letter has fewer of your own words than the campaign asks (min_own_words = {min}%): add a paragraph in your own words (--note FILE)"),
        None => line,
    }
}

/// A letter as `preview` shows it: the main headers, a blank line, the Markdown body.
pub(crate) fn show_letter(letter: &Letter, message: &lettre::Message) -> String {
    let mut out = String::new();
    let headers = message.headers();
    for name in ["From", "To", "Subject", "Date", "Message-ID"] {
        if let Some(v) = headers.get_raw(name) {
            out.push_str(&format!("{name}: {v}\n"));
        }
    }
    out.push_str(&format!("\n{}\n", letter.body.trim_end()));
    out
}

pub(super) fn render(
    campaign: &Campaign,
    args: &RenderArgs,
    profile: Option<&Path>,
) -> Result<i32> {
    let inputs = signed_inputs(&args.signer, profile)?;
    let pdf_flags = args.one_file || args.font.is_some() || args.paper != Paper::A4;
    if pdf_flags && args.format != Format::Pdf {
        let what = "--one-file, --paper and --font are for PDF output";
        return Err(usage(what, "add --format pdf, or leave them out"));
    }
    let pdf = (args.format == Format::Pdf)
        .then(|| pdf_options(args, &inputs))
        .transpose()?;
    let target = target(&args.target);
    // Ctrl-C or SIGTERM: the staging directory goes, as on any other failure.
    super::interrupt::on_interrupt(render_interrupted);
    let others = others(campaign, &target.group, &inputs, &args.ledgers)?;
    let extras = RenderExtras {
        pdf,
        journal: args.journal.as_deref(),
        strict: args.strict,
        others: others.as_ref(),
    };
    let (summary, own) =
        render_letters(campaign, &target, &inputs, args.format, &args.out, extras)?;
    println!("{}", wrote(args.format, &summary, &own));
    Ok(0)
}

/// Ctrl-C during `render`: what was staged is removed, and said so if letters were under way.
fn render_interrupted() {
    let (unfinished, _held) = crate::output::outbox::abandon();
    if unfinished {
        eprintln!("\ninterrupted: nothing was written");
    }
    super::interrupt::stop();
}

/// `--paper`, `--font` and `--one-file` made into a PDF style, the signer as its sender block.
fn pdf_options(args: &RenderArgs, inputs: &LetterInputs) -> Result<(Style, bool)> {
    let font: &'static [u8] = match &args.font {
        None => BUNDLED_FONT,
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
            if ttf_parser::Face::parse(&bytes, 0).is_err() {
                let what = format!("`{}` is not a TrueType or OpenType font", path.display());
                return Err(usage(what, "pass a .ttf or .otf file to --font"));
            }
            // Read once and kept for the whole run, which every worker thread shares.
            Box::leak(bytes.into_boxed_slice())
        }
    };
    let s = &inputs.signer;
    let place = match (s.city.trim(), s.country.trim()) {
        ("", c) | (c, "") => c.to_string(),
        (a, b) => format!("{a}, {b}"),
    };
    let sender = [s.name.trim(), s.organisation.trim(), &place, s.email.trim()]
        .into_iter()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    let paper = args.paper;
    // A volunteer's own font has no bold face here: the writer emboldens it instead.
    let bold = if args.font.is_some() {
        font
    } else {
        BUNDLED_BOLD
    };
    Ok((
        Style {
            paper,
            font,
            bold,
            sender,
        },
        args.one_file,
    ))
}

/// What `render` adds to the guided run's way of writing letters (which takes the defaults).
#[derive(Default)]
pub(crate) struct RenderExtras<'a> {
    pub pdf: Option<(Style, bool)>,
    pub journal: Option<&'a Path>,
    /// Refuse letters with fewer own words than `min_own_words`: nothing is written.
    pub strict: bool,
    /// Other volunteers' letters (`--ledger`), to warn about near-identical paragraphs.
    pub others: Option<&'a Others>,
}

/// Other volunteers' letters to recipients of `group`, from the `--ledger` files; none without.
pub(crate) fn others(
    campaign: &Campaign,
    group: &str,
    inputs: &LetterInputs,
    ledgers: &[std::path::PathBuf],
) -> Result<Option<Others>> {
    if ledgers.is_empty() {
        return Ok(None);
    }
    let (id, me) = (&campaign.id, &inputs.signer.email);
    crate::ledger::others(ledgers, id, group, me, campaign.similarity).map(Some)
}

/// Says the warnings about near-identical letters: the first (at most `MAX_LISTED`) of all
/// `count`.
fn say_identical(listed: &[String], count: usize) {
    for warning in listed {
        eprintln!("warning: {warning}");
    }
    if count > listed.len() {
        eprintln!("warning: and {} more such letters", count - listed.len());
    }
}

/// The core of `render`, shared with the guided run: plain values in, letters on disk out, all
/// or nothing; with the own words of the letters written.
pub(crate) fn render_letters(
    campaign: &Campaign,
    target: &Target,
    inputs: &LetterInputs,
    format: Format,
    out: &Path,
    extras: RenderExtras,
) -> Result<(Summary, Tally)> {
    let RenderExtras {
        pdf,
        journal,
        strict,
        others,
    } = extras;
    let (mut identical, mut identical_count) = (Vec::new(), 0);
    let mut run = Run::open(campaign, target, inputs)?;
    let mut own = Tally::new(campaign.min_own_words(run.group));
    let page = PageInfo {
        title: campaign.statement.title.clone(),
        group_label: run.group.label.clone(),
        signer: inputs.signer.name.clone(),
        campaign_id: campaign.id.clone(),
        group_id: run.group.id.clone(),
        date: crate::letter::locale::letter_date(&inputs.date),
    };
    let (group, from) = (&run.group.id, &run.settings.from);
    let mut outbox = Outbox::create(out, format, group, from, &inputs.date, &page)?;
    // Decided by the format, not by the PDF options: the guided run renders PDFs without any.
    if format == Format::Pdf {
        run.print();
    }
    if let Some((style, one_file)) = pdf {
        outbox.set_pdf(style, one_file, &run.rows.file)?;
    }
    let encoder = outbox.encoder().clone();
    let journal = journal::choose_path(journal, &campaign.source, &campaign.id);
    let channel = crate::output::outbox::extension(format);
    let records = written::Batch::begin(&journal, &campaign.id, &run.group.id, channel)?;
    let mut records = records.unsynced();
    let ids = run.settings.clone();
    // The outbox is dropped on error, which removes its staging directory: nothing is left
    // behind, and no letter is recorded.
    run.each(
        target.limit,
        encoder.needs_message(),
        |letter, message| {
            (
                encoder.encode(letter, message.as_ref()),
                letter.email.clone(),
                letter.own_words,
                letter.personal.clone(),
                others.and_then(|o| o.warning(&letter.name, &letter.email, &letter.personal)),
            )
        },
        |(encoded, email, own_words, personal, warning)| {
            own.add(own_words);
            identical_count += usize::from(warning.is_some());
            identical.extend(warning.filter(|_| identical.len() < MAX_LISTED));
            let file = encoded.file_name.clone();
            outbox.write(encoded)?;
            let id = ids.message_id(&email);
            records.add(&email, &id, State::Drafted, file.as_deref(), &personal)
        },
    )?;
    say_identical(&identical, identical_count);
    // Before the outbox is finished: on refusal it is dropped, and nothing is written.
    if let Some(warning) = own.warning().filter(|_| strict) {
        let what = format!("{warning}; --strict refuses them, so nothing was written");
        return Err(Error::Invalid(
            Diag::new(what).hint("or leave out --strict"),
        ));
    }
    let summary = outbox.finish()?;
    records.commit()?;
    Ok((summary, own))
}

/// What `render` says when it is done: how many of what, where, and how much of them is the
/// volunteer's own words.
pub(crate) fn wrote(format: Format, summary: &Summary, own: &Tally) -> String {
    let what = match format {
        Format::Eml => plural(summary.count, "e-mail file") + " (.eml)",
        Format::Txt => plural(summary.count, "text file"),
        Format::Mbox => plural(summary.count, "letter") + " in one mbox",
        Format::Html => plural(summary.count, "letter") + " on one page of mailto: links",
        Format::Pdf if summary.location.extension().is_some_and(|e| e == "pdf") => {
            plural(summary.count, "letter") + " in one PDF"
        }
        Format::Pdf => plural(summary.count, "PDF file"),
    };
    let mut said = format!("wrote {what} to {}", summary.location.display());
    let at = std::path::absolute(&summary.location);
    let at = at.as_deref().unwrap_or(&summary.location).display();
    let next = match format {
        Format::Eml => format!("open the files in {at} with your mail program and send each"),
        Format::Txt => format!("open the files in {at} to print them or paste them into e-mails"),
        Format::Mbox => format!("import {at} into your mail program (Thunderbird: the ImportExportTools NG add-on; Apple Mail: File > Import Mailboxes), then send each letter"),
        Format::Html => format!("open {at} in your browser and use each letter's button"),
        Format::Pdf if summary.location.extension().is_some_and(|e| e == "pdf") => {
            format!("print {at}, then sign and post each letter")
        }
        Format::Pdf => format!("print the PDF files in {at}, then sign and post each letter"),
    };
    if let Some(line) = own.line() {
        said.push_str(&format!("\n{line}"));
    }
    if let Some(warning) = own.warning() {
        said.push_str(&format!("\nwarning: {warning}"));
    }
    if summary.placeholders > 0 {
        let n = recipients::placeholders_said(summary.placeholders, summary.count);
        said.push_str(&format!("\nwarning: {n}"));
    }
    said.push_str(&format!("\nnext: {next}"));
    said
}

/// `letterdrive init DIR [--blank] [--force]`: the bundled campaign, or the blank skeleton,
/// written out for editing.
pub(super) fn init(dir: &Path, blank: bool, force: bool) -> Result<i32> {
    // An empty directory is as good as none: nothing in it can be overwritten.
    let empty = || std::fs::read_dir(dir).map(|mut entries| entries.next().is_none());
    if dir.exists() && !dir.is_dir() {
        let what = format!(
            "`{}` is a file, not a directory; nothing was written",
            dir.display()
        );
        return Err(usage(
            what,
            "choose a new directory name, e.g. `letterdrive init my-campaign`",
        ));
    }
    if dir.exists() && !force && !empty().map_err(|e| Error::io(dir, e))? {
        let what = format!("`{}` already exists and is not empty", dir.display());
        let hint = "choose a new directory name, e.g. `letterdrive init my-campaign`, or add \
                    --force to replace the campaign in it";
        return Err(usage(format!("{what}; nothing was written"), hint));
    }
    let (files, what) = match blank {
        true => (source::blank_files(), "a blank campaign"),
        false => (source::bundled_files(), "the bundled campaign"),
    };
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    // Written beside the old campaign first, so a failed write leaves the old one whole.
    let staging = tempfile::Builder::new()
        .prefix(".letterdrive-init-")
        .tempdir_in(dir)
        .map_err(|e| Error::io(dir, e))?;
    for (rel, bytes) in &files {
        let path = staging.path().join(rel);
        let parent = path.parent().unwrap_or(staging.path());
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        std::fs::write(&path, bytes).map_err(|e| Error::io(&path, e))?;
    }
    // The whole of each part is replaced, so no template or list of an old group stays behind.
    for part in [source::CAMPAIGN_FILE, "templates", "recipients"] {
        let (old, new) = (dir.join(part), staging.path().join(part));
        let removed = match std::fs::symlink_metadata(&old) {
            Ok(m) if m.is_dir() => std::fs::remove_dir_all(&old),
            Ok(_) => std::fs::remove_file(&old),
            Err(_) => Ok(()),
        };
        removed.map_err(|e| Error::io(&old, e))?;
        if new.exists() {
            std::fs::rename(&new, &old).map_err(|e| Error::io(&old, e))?;
        }
    }
    let (n, toml) = (files.len(), dir.join(source::CAMPAIGN_FILE));
    let (dir, toml) = (dir.display(), toml.display());
    println!("wrote {what} ({n} files) to {dir}\nnext: edit {toml}, then run `letterdrive --campaign {dir} check`");
    Ok(0)
}

/// `letterdrive pack --out FILE`: the campaign's files in one zip, once `check` finds no error
/// (warnings, such as placeholder addresses, are the campaigner's to weigh).
pub(super) fn pack(campaign: &Campaign, out: &Path) -> Result<i32> {
    let report = check::check(campaign, crate::cli::settings::today()?);
    if report.errors() > 0 {
        let (id, source) = (&campaign.id, campaign.source.describe());
        eprintln!("the campaign `{id}` ({source}) has problems, so it was not packed:");
        Error::from_diags(report.groups.iter().flat_map(|g| g.error_lines()).collect())?;
    }
    let files = campaign.files();
    crate::campaign::archive::pack(&campaign.source, &files, out)?;
    let (n, out) = (files.len(), out.display());
    println!("packed campaign `{}` ({n} files) into {out}", campaign.id);
    println!("volunteers use it with `letterdrive --campaign {out}`, e.g. `letterdrive --campaign {out} check`");
    Ok(0)
}

/// `letterdrive completions SHELL`: the completion script clap_complete makes from the clap
/// definitions, so it never falls behind them. Made in memory first: clap_complete panics on a
/// failed write, and a closed pipe is a plain error.
pub(super) fn completions(shell: clap_complete::Shell) -> Result<i32> {
    let mut script = Vec::new();
    let mut cli = <crate::cli::args::Cli as clap::CommandFactory>::command();
    clap_complete::generate(shell, &mut cli, "letterdrive", &mut script);
    print_bytes(&script)
}

/// `letterdrive man [--out DIR]`: the manual pages (roff) clap_mangen makes from the clap
/// definitions: the main one on standard output, or every one into DIR.
pub(super) fn man(out: Option<&Path>) -> Result<i32> {
    let cli = <crate::cli::args::Cli as clap::CommandFactory>::command();
    if let Some(dir) = out {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        clap_mangen::generate_to(cli, dir).map_err(|e| Error::io(dir, e))?;
        println!("wrote the manual pages to {}", dir.display());
        return Ok(0);
    }
    let mut page = Vec::new();
    let man = clap_mangen::Man::new(cli);
    man.render(&mut page)
        .map_err(|e| Error::io("the manual page", e))?;
    print_bytes(&page)
}

fn print_bytes(bytes: &[u8]) -> Result<i32> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| Error::io("standard output", e))?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::args::{Cli, Command};
    use clap::Parser;

    /// The examples under each command's --help are real command lines: each parses.
    #[test]
    fn every_help_example_parses() {
        let cli = <Cli as clap::CommandFactory>::command();
        for sub in cli.get_subcommands() {
            let help = sub
                .get_after_help()
                .map(|h| h.to_string())
                .unwrap_or_default();
            let lines = help
                .lines()
                .map(str::trim)
                .filter(|l| l.starts_with("letterdrive"));
            let mut n = 0;
            for line in lines {
                // What the shell does around the command is not the command's.
                let command = line.split(['#', '>', '|']).next().unwrap();
                let mut argv = Vec::new();
                for (i, part) in command.split('"').enumerate() {
                    match i % 2 {
                        0 => argv.extend(part.split_whitespace().map(String::from)),
                        _ => argv.push(part.to_string()),
                    }
                }
                if let Err(e) = Cli::try_parse_from(&argv) {
                    panic!("`{line}` does not parse: {e}");
                }
                n += 1;
            }
            assert!(n > 0, "`{}` has no examples", sub.get_name());
        }
    }

    fn send_args(extra: &[&str]) -> SendArgs {
        let mut argv = vec!["letterdrive", "send", "-g", "g"];
        argv.extend_from_slice(extra);
        match Cli::parse_from(argv).command {
            Some(Command::Send(a)) => *a,
            _ => unreachable!(),
        }
    }

    /// cli.rs spells the defaults as literals, so that it needs nothing from the send layer:
    /// they must be the send layer's, which the guided run uses.
    #[test]
    fn send_flags_default_to_what_the_guided_run_uses() {
        let a = send_args(&[]);
        assert_eq!(a.retries, crate::send::DEFAULT_RETRIES);
        if std::env::var_os("LETTERDRIVE_RETRY_DELAY_MS").is_none() {
            assert_eq!(a.retry_delay_ms, crate::send::DEFAULT_RETRY_DELAY_MS);
        }
        assert_eq!(a.timeout, crate::send::DEFAULT_TIMEOUT_SECS);
    }

    #[test]
    fn send_flags_reach_the_send_layer() {
        let a = send_args(&[
            "--smtp",
            "smtp://flag.example",
            "--rate",
            "unlimited",
            "--connections",
            "1",
            "--oauth2-token-command",
            "tok",
            "--ca-file",
            "ca.pem",
        ]);
        let f = send_flags(&a);
        assert_eq!(f.smtp.as_deref(), Some("smtp://flag.example"));
        assert_eq!(f.rate.as_deref(), Some("unlimited"));
        assert_eq!(f.connections, Some(1));
        assert_eq!(f.oauth2_token_command.as_deref(), Some("tok"));
        assert_eq!(f.ca_file.as_deref(), Some(Path::new("ca.pem")));
        assert_eq!(f.password_command, None);
    }
}
