//! One run of `send`, shared by the subcommand and the guided run: every targeted letter checked
//! and rendered before any leaves, a summary, the confirmation, then the letters handed to a few
//! connection threads, each with an SMTP connection of its own, and the report.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::config::{Origin, SmtpConfig};
use super::connection::{Dial, Smtp};
use super::deliver::Deliver;
use super::journal::{self, Journal};
use super::rate::{human, Rate, RATE_HINT};
use super::report::finish;
use super::sender::{decide, Decision, Outgoing, Policy, Queue, Sender};
use super::server::{Request, Server};
use super::terminal::Terminal;
use super::usage;
use crate::campaign::recipients::{is_placeholder_address, placeholders_said};
use crate::campaign::Campaign;
use crate::error::{Diag, Error, Result, EXIT_UNSENT};
use crate::letter::own::{Others, Tally};
use crate::letter::render::{Letter, LetterInputs};
use crate::letter::run::{Run, Target, MAX_LISTED};
use crate::plural;

/// `--retries`, `--retry-delay-ms` and `--timeout` when not given, and the guided run's values.
pub const DEFAULT_RETRIES: u32 = 3;
pub const DEFAULT_RETRY_DELAY_MS: u64 = 2000;
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;

/// Time one letter may take, retries included, before the run gives up on it.
pub const RETRY_BUDGET: Duration = Duration::from_secs(60);

/// Everything one run of `send` needs, as plain values: made from the flags by the cli layer,
/// or from the guided run's answers.
pub struct SendJob {
    pub target: Target,
    pub inputs: LetterInputs,
    pub config: SmtpConfig,
    pub insecure: bool,
    pub timeout: Duration,
    pub journal: Option<PathBuf>,
    pub max: Option<u64>,
    pub retries: u32,
    pub retry_delay: Duration,
    pub resend_uncertain: bool,
    /// Send again the letters an earlier run had refused for good (5xx).
    pub retry_failed: bool,
    pub yes: bool,
    pub dry_run: bool,
    /// Refuse letters with fewer own words than `min_own_words`: nothing is sent.
    pub strict: bool,
    /// Other volunteers' letters (`--ledger`), to warn about near-identical paragraphs.
    pub others: Option<Others>,
    pub test_to: Option<String>,
    pub failed_csv: Option<PathBuf>,
    /// Letters recorded as sent by other means (`mark-sent`), as (group, address): already
    /// sent, so never sent again.
    pub sent_by_hand: Vec<(String, String)>,
}

impl SendJob {
    /// What `send` does with no flag beyond the server: the guided run's job.
    pub fn new(target: Target, inputs: LetterInputs, config: SmtpConfig) -> SendJob {
        SendJob {
            target,
            inputs,
            config,
            insecure: false,
            timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECS),
            journal: None,
            max: None,
            retries: DEFAULT_RETRIES,
            retry_delay: Duration::from_millis(DEFAULT_RETRY_DELAY_MS),
            resend_uncertain: false,
            retry_failed: false,
            yes: false,
            dry_run: false,
            strict: false,
            others: None,
            test_to: None,
            failed_csv: None,
            sent_by_hand: Vec::new(),
        }
    }
}

/// What the pre-flight found: every targeted letter, and what the journal says of each.
struct Plan {
    group: String,
    from: String,
    total: u64,
    to_send: u64,
    already: u64,
    uncertain: u64,
    /// Targeted recipients on reserved example domains.
    placeholders: u64,
    /// Refused for good by an earlier run; skipped.
    failed: u64,
    /// To send in this run: `to_send` within `--max`.
    planned: u64,
    /// The own words of the targeted letters.
    own: Tally,
    /// Warnings about letters near-identical to others' (`Others::warning`): the first, at
    /// most `MAX_LISTED`, and how many in all.
    identical: Vec<String>,
    identical_count: usize,
}

/// The core of `send`: summary, confirmation, delivery, report. `terminal` asks the questions
/// (confirmation, password) and shows the progress.
pub fn run(campaign: &Campaign, job: &SendJob, terminal: &dyn Terminal) -> Result<i32> {
    let rate = rate(&job.config)?;
    let server = server(job, terminal.can_ask())?;
    let journal_path = journal::choose_path(job.journal.as_deref(), &campaign.source, &campaign.id);
    // Taken before the journal is read, so what it says stays true until this run ends.
    let lock = || journal::lock(&journal_path);
    let _lock = (!job.dry_run).then(lock).transpose()?;
    let mut journal = Journal::open(&journal_path, &campaign.id)?;
    journal.count_as_sent(job.sent_by_hand.iter().cloned());
    if journal.unreadable > 0 {
        eprintln!(
            "warning: {}: {} unreadable (a record cut short by a crash); they are ignored",
            journal_path.display(),
            plural(journal.unreadable, "line")
        );
    }
    let plan = preflight(campaign, job, &journal)?;
    summary(campaign, job, &plan, server.as_ref(), rate, &journal_path);
    if let Some(warning) = plan.own.warning().filter(|_| job.strict) {
        let what = format!("{warning}; --strict refuses them, so nothing was sent");
        return Err(Error::Invalid(
            Diag::new(what).hint("or leave out --strict"),
        ));
    }
    let remote = server.as_ref().filter(|s| !s.is_local());
    if let Some(server) = remote.filter(|_| plan.placeholders > 0 && job.test_to.is_none()) {
        let said = placeholders_said(plan.placeholders, plan.total);
        return Err(usage(
            format!("not sending through {}, a server not on this machine: {said}", server.host),
            "ask the campaign for real addresses (`letterdrive check` lists them), or leave them out with --where; --test-to sends one letter to yourself",
        ));
    }

    let Some(server) = server.filter(|_| !job.dry_run) else {
        println!("dry run: nothing was sent");
        return Ok(0);
    };
    if let Some(address) = &job.test_to {
        return test_letter(campaign, job, &server, address, terminal);
    }
    if plan.planned == 0 {
        println!("nothing to send");
        let skipped = plan.uncertain + plan.failed;
        return Ok(if skipped > 0 { EXIT_UNSENT } else { 0 });
    }
    if !job.yes && !terminal.confirm(plan.planned)? {
        println!("nothing was sent");
        return Ok(EXIT_UNSENT);
    }
    // Only now, with the letters about to go, is the password read or asked for.
    let dial = Dial::new(&server, server.credentials(&|p| terminal.secret(p))?)?;
    let policy = Policy {
        retries: job.retries,
        budget: RETRY_BUDGET,
        retry_delay: job.retry_delay,
        rate,
        max: job.max,
        resend_uncertain: job.resend_uncertain,
        retry_failed: job.retry_failed,
    };
    let progress = terminal.progress(plan.planned, rate.interval());
    let sender = Sender::new(&mut journal, &plan.group, policy, progress);
    let result = deliver_all(campaign, job, &sender, &dial);
    let mut report = sender.into_report();
    // The outcomes of the last letters are written but may not be synced yet; if syncing them
    // fails, what was sent is still reported first.
    let synced = journal.sync();
    if let Some(e) = report.journal_error.take() {
        return Err(e);
    }
    if report.aborted.is_none() {
        result?;
    }
    let code = finish(campaign, &plan.group, &report, job.failed_csv.as_deref())?;
    synced?;
    Ok(code)
}

/// The rate, with where it came from in the message when it is not a rate.
fn rate(config: &SmtpConfig) -> Result<Rate> {
    let rate = &config.rate;
    Rate::parse(&rate.value).ok_or_else(|| {
        let what = match &rate.origin {
            Origin::Flag(flag) => format!("{flag} `{}`", rate.value),
            origin => format!("the rate `{}` ({origin})", rate.value),
        };
        usage(format!("{what} is not a rate"), RATE_HINT)
    })
}

/// The server, checked against the rules; none only for a dry run without one.
fn server(job: &SendJob, can_ask: bool) -> Result<Option<Server>> {
    let config = &job.config;
    match (&config.url, job.dry_run) {
        (Some(url), _) => Ok(Some(Server::parse(Request {
            url: &url.value,
            insecure: job.insecure,
            secret: config.secret.value.clone(),
            can_ask,
            ca_file: config.ca_file.as_ref().map(|f| f.value.clone()),
            timeout: job.timeout,
        })?)),
        (None, true) => Ok(None),
        (None, false) => Err(usage(
            "which mail server? --smtp is missing",
            "pass --smtp smtps://you@mail.example.org (or set LETTERDRIVE_SMTP_URL, or `url` in the profile's [smtp] table); try --dry-run first",
        )),
    }
}

/// Every targeted letter validated and rendered before any leaves, and counted by what the
/// journal says of it. The message itself is built only on delivery: a row that passes
/// validation holds everything `message::build` can refuse (a valid address, a name on one
/// line), so no letter can fail after the first has gone.
fn preflight(campaign: &Campaign, job: &SendJob, journal: &Journal) -> Result<Plan> {
    let run = Run::open(campaign, &job.target, &job.inputs)?;
    let group = run.group.id.clone();
    let from = run.settings.from.to_string();
    let [mut to_send, mut already, mut uncertain, mut failed, mut placeholders] = [0u64; 5];
    let mut own = Tally::new(campaign.min_own_words(run.group));
    let (mut identical, mut identical_count) = (Vec::new(), 0);
    let others = job.others.as_ref();
    let total = run.each(
        job.target.limit,
        false,
        |letter, _| {
            let warning =
                others.and_then(|o| o.warning(&letter.name, &letter.email, &letter.personal));
            (letter.email.clone(), letter.own_words, warning)
        },
        |(email, own_words, warning)| {
            own.add(own_words);
            identical_count += usize::from(warning.is_some());
            identical.extend(warning.filter(|_| identical.len() < MAX_LISTED));
            placeholders += u64::from(is_placeholder_address(&email));
            let state = journal.state(&group, &email);
            match decide(state, job.resend_uncertain, job.retry_failed) {
                Decision::Send => to_send += 1,
                Decision::AlreadySent => already += 1,
                Decision::Uncertain => uncertain += 1,
                Decision::FailedBefore => failed += 1,
            }
            Ok(())
        },
    )?;
    Ok(Plan {
        group,
        from,
        total,
        to_send,
        already,
        uncertain,
        placeholders,
        failed,
        planned: job.max.map_or(to_send, |m| to_send.min(m)),
        own,
        identical,
        identical_count,
    })
}

/// What is about to happen, and where each setting came from, before anything is sent.
fn summary(
    campaign: &Campaign,
    job: &SendJob,
    plan: &Plan,
    server: Option<&Server>,
    rate: Rate,
    journal_path: &Path,
) {
    let config = &job.config;
    // Errors writing to standard output are ignored, here as in the log lines: they do not
    // stop the run.
    let mut out = std::io::stdout().lock();
    let (total, group, id) = (plural(plan.total, "letter"), &plan.group, &campaign.id);
    let _ = writeln!(
        out,
        "{total} of group `{group}` (campaign `{id}`): {} to send, {} already sent, {} uncertain",
        plan.planned, plan.already, plan.uncertain
    );
    let _ = writeln!(out, "  from:    {}", plan.from);
    if let (Some(server), Some(url)) = (server, &config.url) {
        let describe = server.describe();
        let _ = writeln!(out, "  server:  {describe} — from {}", url.origin);
        if let Some(user) = &server.user {
            let from = match &config.secret.origin {
                Origin::Default => String::new(),
                origin => format!(" — from {origin}"),
            };
            let _ = writeln!(out, "  login:   {user}, {}{from}", server.secret.describe());
        }
        if let Some(ca) = &config.ca_file {
            let file = ca.value.display();
            let _ = writeln!(out, "  CA:      {file} — from {}", ca.origin);
        }
    }
    let left = plan.planned.saturating_sub(1) as u32;
    let eta = rate
        .interval()
        .map(|i| format!(", about {}", human(i * left)));
    let eta = eta.unwrap_or_default();
    let _ = writeln!(out, "  rate:    {rate}{eta} — from {}", config.rate.origin);
    if plan.to_send > plan.planned {
        let left = plan.to_send - plan.planned;
        let _ = writeln!(out, "  --max:   {left} left for a later run");
    }
    let _ = writeln!(out, "  journal: {}", journal_path.display());
    if let Some(line) = plan.own.line() {
        let _ = writeln!(out, "  {line}");
    }
    if let Some(warning) = plan.own.warning() {
        let _ = writeln!(out, "  warning: {warning}");
    }
    for warning in &plan.identical {
        let _ = writeln!(out, "  warning: {warning}");
    }
    if plan.identical_count > plan.identical.len() {
        let more = plan.identical_count - plan.identical.len();
        let _ = writeln!(out, "  warning: and {more} more such letters");
    }
    if plan.placeholders > 0 {
        let said = placeholders_said(plan.placeholders, plan.total);
        let _ = writeln!(out, "  warning: {said}");
    }
    if plan.failed > 0 {
        let _ = writeln!(
            out,
            "  {} refused for good by the server in an earlier run; they are skipped: fix the addresses (`letterdrive status` lists them), or use --retry-failed",
            plural(plan.failed, "letter")
        );
    }
    if plan.uncertain > 0 {
        let _ = writeln!(
            out,
            "  {} may already have arrived (the last run stopped while sending); they are skipped: check with the recipients or your Sent folder, then use --resend-uncertain",
            plural(plan.uncertain, "letter")
        );
    }
}

/// A few connections at once, each reused for many letters and saying QUIT at the end; this
/// thread hands them the letters through a [`Queue`] as they are rendered.
fn deliver_all(campaign: &Campaign, job: &SendJob, sender: &Sender, dial: &Dial) -> Result<()> {
    // A connection is opened at its first letter: one with none opens none.
    let connections = job.config.connections.value.clamp(1, 16) as usize;
    let run = Run::open(campaign, &job.target, &job.inputs)?;
    let ids = run.settings.clone();
    std::thread::scope(|scope| {
        let (mut queue, letters) = Queue::new(sender, connections);
        for _ in 0..connections {
            let letters = letters.clone();
            scope.spawn(move || sender.work(letters, &mut Smtp::new(dial)));
        }
        // Only the connections hold this end: should they all end, the queue stops.
        drop(letters);
        run.each(
            job.target.limit,
            true,
            // On the render threads: the message is formatted there, once.
            |letter, message| {
                let message = message.expect("asked for messages");
                Outgoing {
                    line: letter.line,
                    email: letter.email.clone(),
                    message_id: ids.message_id(&letter.email),
                    envelope: message.envelope().clone(),
                    bytes: message.formatted(),
                    personal: letter.personal.clone(),
                }
            },
            |outgoing| queue.push(outgoing),
        )?;
        queue.flush()
    })
}

/// `--test-to`: the first targeted letter, exactly as it would go, but to the volunteer.
fn test_letter(
    campaign: &Campaign,
    job: &SendJob,
    server: &Server,
    address: &str,
    terminal: &dyn Terminal,
) -> Result<i32> {
    let run = Run::open(campaign, &job.target, &job.inputs)?;
    let (group, settings) = (run.group.id.clone(), run.settings.clone());
    let mut first = None;
    let keep = |letter: Letter| {
        first.get_or_insert(letter);
        Ok(())
    };
    run.each(Some(1), false, |letter, _| letter.clone(), keep)?;
    let Some(letter) = first else {
        let no_one = format!("no recipient of group `{group}` matches");
        return Err(Error::Usage(Diag::new(no_one)));
    };
    let original = letter.email.clone();
    let test = Letter {
        email: address.trim().to_string(),
        name: job.inputs.signer.name.clone(),
        ..letter
    };
    let message = crate::letter::message::build(&test, &settings)
        .map_err(|d| Error::Usage(d.hint("pass your own address: --test-to you@your-domain")))?;
    let dial = Dial::new(server, server.credentials(&|p| terminal.secret(p))?)?;
    let mut link = Smtp::new(&dial);
    match link.deliver(message.envelope(), &message.formatted()) {
        Ok(reply) => {
            println!(
                "sent the letter for `{original}` to `{}` ({reply}); nothing was recorded in the journal",
                test.email,
            );
            Ok(0)
        }
        Err(e) => {
            eprintln!("error: the test letter was not sent: {}", e.reply);
            Ok(EXIT_UNSENT)
        }
    }
}
