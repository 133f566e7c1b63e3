//! The guided run: a volunteer goes from nothing to ready letters by answering questions on the
//! terminal. It gathers the answers into `Answers`, hands them to the same core functions the
//! subcommands use, and prints the command line that does the same without questions. Menus go
//! through `select` and typed answers through `ask_text`, so Esc, Ctrl-C and asking again after a
//! refused answer work alike at each; `send` asks through `terminal::Console`: confirmation, a
//! hidden password, a progress bar.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use dialoguer::console::Term;
use dialoguer::theme::ColorfulTheme;
use dialoguer::{Editor, Input, MultiSelect, Select};

use crate::campaign::recipients::{self, Filter, Recipients};
use crate::campaign::source::{Source, CAMPAIGN_FILE};
use crate::campaign::{Campaign, Group, Prompt};
use crate::cli::args::Format;
use crate::cli::commands::{first_letter, others, own_words_of, render_letters, rows_of};
use crate::cli::commands::{show_letter, wrote, RenderExtras};
use crate::cli::language;
use crate::cli::terminal::{can_ask, yes_no, Console};
use crate::cli::usage;
use crate::error::{Error, Result};
use crate::letter::check;
use crate::letter::own::Others;
use crate::letter::render::{LetterInputs, Notes, Signer};
use crate::letter::run::{Run, Target};
use crate::plural;
use crate::send::profile::{self, Profile};
use crate::send::server::{Request, Server};
use crate::send::{self, Origin, ProfileSmtp, SendJob, SmtpConfig, Sourced};

mod answers;
mod edits;
mod open;
mod output;
mod signer;
mod targeting;

pub use answers::{Answers, Kept};

// The guided run exits with it when the volunteer cancels (Ctrl-C, Esc, or "quit").
use crate::cli::interrupt::EXIT_CANCELLED;

/// The output directory the guided run offers first.
pub const DEFAULT_OUT: &str = "letters";

/// Where a personal paragraph typed during the guided run is kept, inside the output directory,
/// so the printed command line can pass it with `--note`; one per language is
/// `personal-note.LANG.md`.
pub const NOTE_FILE: &str = "personal-note.md";

/// Why the questions stopped: the volunteer cancelled, or something failed.
enum Stop {
    Cancelled,
    Failed(Error),
}

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        Stop::Failed(e)
    }
}

impl From<dialoguer::Error> for Stop {
    fn from(dialoguer::Error::IO(e): dialoguer::Error) -> Self {
        match e.kind() {
            std::io::ErrorKind::Interrupted => Stop::Cancelled,
            _ => Stop::Failed(Error::io("the terminal", e)),
        }
    }
}

type Ask<T> = std::result::Result<T, Stop>;

/// What a check of a typed answer says: nothing, or why it cannot be taken.
type Verdict = std::result::Result<(), String>;

/// `None` from dialoguer means Esc (or `q`): the volunteer wants out.
fn chosen<T>(answer: dialoguer::Result<Option<T>>) -> Ask<T> {
    answer?.ok_or(Stop::Cancelled)
}

// Ctrl-C. At a question, dialoguer reads the key itself and raises SIGINT; elsewhere the terminal
// sends it. Either way `interrupted` runs: it shows the cursor again (a menu hides it), says
// what was and was not done, and exits. While an editor or the writing of letters is under way,
// it only takes note, so the editor keeps the terminal and no output is left half made.
static DEFER: AtomicBool = AtomicBool::new(false);
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static WROTE: AtomicBool = AtomicBool::new(false);
static SENDING: AtomicBool = AtomicBool::new(false);
static REPORTED: Mutex<bool> = Mutex::new(false);

fn interrupted() {
    if DEFER.load(Ordering::SeqCst) {
        INTERRUPTED.store(true, Ordering::SeqCst);
        return;
    }
    report_cancel();
    std::process::exit(EXIT_CANCELLED);
}

/// Say once, whichever thread gets here first, that the run was cancelled and what that left,
/// and remove an unpacked campaign (the handler's exit drops nothing).
fn report_cancel() {
    // Held meanwhile, so that the other thread exits only after both.
    let mut reported = REPORTED.lock().unwrap_or_else(|e| e.into_inner());
    if std::mem::replace(&mut *reported, true) {
        return;
    }
    crate::campaign::archive::remove_unpacked();
    let term = Term::stderr();
    let _ = term.show_cursor();
    let what = if SENDING.load(Ordering::SeqCst) {
        "cancelled: letters already sent are in the send journal (`letterdrive status`); your details were not saved"
    } else if WROTE.load(Ordering::SeqCst) {
        "cancelled: the letters were written; your details were not saved"
    } else {
        "cancelled: nothing was written and no profile was saved"
    };
    let _ = term.write_line(&format!("\n{what}"));
}

/// Run `f` with Ctrl-C noted rather than acted on; report whether it came.
fn deferring<T>(f: impl FnOnce() -> T) -> (T, bool) {
    DEFER.store(true, Ordering::SeqCst);
    let out = f();
    DEFER.store(false, Ordering::SeqCst);
    (out, INTERRUPTED.swap(false, Ordering::SeqCst))
}

fn not_a_terminal(no_command: bool) -> Error {
    let render = "`letterdrive render --group GROUP --format eml --out DIR --signer-name NAME --signer-email ADDRESS` (add --where COLUMN=VALUE and --note FILE as needed)";
    if no_command {
        let hint = format!("try `letterdrive groups` to see the groups, then {render}; `letterdrive --help` lists every command");
        return usage(
            "no command given, and there is no terminal to ask questions on",
            hint,
        );
    }
    let hint = format!("without a terminal, use {render}; `letterdrive groups` lists the groups");
    let what =
        "the guided run needs a terminal: standard input and standard error must both be one";
    usage(what, hint)
}

/// The guided run. `no_command` is set when it starts because no subcommand was given.
pub fn wizard(
    campaign_dir: Option<&Path>,
    profile_flag: Option<&Path>,
    no_command: bool,
    ledgers: &[PathBuf],
) -> Result<i32> {
    if !can_ask() {
        return Err(not_a_terminal(no_command));
    }
    super::interrupt::on_interrupt(interrupted);
    let campaign = match open::choose_campaign(campaign_dir) {
        Ok(campaign) => campaign,
        Err(Stop::Cancelled) => {
            report_cancel();
            return Ok(EXIT_CANCELLED);
        }
        Err(Stop::Failed(e)) => return Err(e),
    };
    // A ledger that cannot be read is said before the first question, not after the last.
    for ledger in ledgers {
        std::fs::File::open(ledger).map_err(|e| Error::io(ledger, e))?;
    }

    // Everything that would stop the letters is found before the first question.
    let report = check::check(&campaign, crate::cli::settings::today()?);
    if report.errors() > 0 {
        let (id, source) = (&campaign.id, campaign.source.describe());
        eprintln!("the campaign `{id}` ({source}) has problems, so no letter can be written yet:");
        Error::from_diags(report.groups.iter().flat_map(|g| g.error_lines()).collect())?;
    }

    let profile_path = profile::location(profile_flag);
    // A profile that cannot be read only loses its defaults; saving replaces it.
    let saved = match profile_path.as_deref().map(profile::load).transpose() {
        Ok(saved) => saved.flatten(),
        Err(e) => {
            eprintln!("warning: {e}");
            None
        }
    };
    let epoch = std::env::var("SOURCE_DATE_EPOCH").ok();
    let date = crate::cli::settings::letter_date(None, epoch.as_deref())?;

    let mut wizard = Wizard {
        campaign: &campaign,
        report: &report,
        saved,
        profile_path,
        profile_flag: profile_flag.map(Path::to_path_buf),
        date,
        theme: ColorfulTheme::default(),
        ledgers: ledgers.to_vec(),
    };
    match wizard.run() {
        Ok(code) => Ok(code),
        Err(Stop::Cancelled) => {
            report_cancel();
            Ok(EXIT_CANCELLED)
        }
        Err(Stop::Failed(e)) => {
            let _ = Term::stderr().show_cursor();
            Err(e)
        }
    }
}

struct Wizard<'c> {
    campaign: &'c Campaign,
    report: &'c check::Report,
    saved: Option<Profile>,
    profile_path: Option<PathBuf>,
    /// `--profile` or LETTERDRIVE_PROFILE as given, for the command lines printed at the end.
    profile_flag: Option<PathBuf>,
    date: jiff::Zoned,
    theme: ColorfulTheme,
    /// `--ledger`: other volunteers' ledgers, to warn about near-identical paragraphs.
    ledgers: Vec<PathBuf>,
}

/// The values of one `target_by` column, each with its number of recipients.
struct Column {
    name: String,
    values: Vec<(String, u64)>,
}

impl Wizard<'_> {
    fn run(&mut self) -> Ask<i32> {
        let statement = &self.campaign.statement;
        let (title, organisation) = (&statement.title, &statement.organisation);
        eprintln!("{title}\nA campaign of {organisation}. A few questions, and your letters are ready; Ctrl-C stops at any point and writes nothing.\n");
        if self.report.warnings() > 0 {
            let warnings = plural(self.report.warnings() as u64, "warning");
            eprintln!("note: `letterdrive check` has {warnings} about this campaign (such as placeholder addresses); read them before sending.\n");
        }

        let mut prev: Option<Answers> = None;
        let mut answers = loop {
            let answers = self.ask_letters(prev.as_ref())?;
            if self.approve(&answers)? {
                break answers;
            }
            prev = Some(answers);
        };
        match self.ask_output(&mut answers)? {
            Some(config) => self.send_letters(&answers, config),
            None => self.write_letters(&answers),
        }
    }

    /// Step 5: the letter in each language the letters are in, on request; whether the
    /// volunteer goes on (else they go back to change their answers).
    fn approve(&self, answers: &Answers) -> Ask<bool> {
        let mut shown = answers.languages.first().map(|l| l.0.as_str());
        loop {
            self.preview(answers, shown)?;
            let others = answers
                .languages
                .iter()
                .filter(|l| Some(l.0.as_str()) != shown);
            let others: Vec<_> = others.collect();
            let show = others
                .iter()
                .map(|l| format!("Show a letter in {}", language::with_count(l)));
            let items: Vec<String> = std::iter::once("Yes, go on to writing the letters".into())
                .chain(show)
                .chain([
                    "Go back and change my answers".into(),
                    "Quit without writing anything".into(),
                ])
                .collect();
            match self.select("Is this the letter you want to send?", &items, None)? {
                0 => return Ok(true),
                i if i <= others.len() => shown = Some(others[i - 1].0.as_str()),
                i if i == others.len() + 1 => return Ok(false),
                _ => return Err(Stop::Cancelled),
            }
        }
    }

    /// Steps 1 to 4: group, targeting, signer, personal paragraph and editable paragraphs.
    fn ask_letters(&self, prev: Option<&Answers>) -> Ask<Answers> {
        let group = self.ask_group(prev)?;
        let prev = prev.filter(|p| p.target.group == group.id);
        let filters = self.ask_targeting(group, prev)?;
        let signer = self.ask_signer(prev)?;
        let prompts = &group.prompts;
        let (group, date) = (group.id.clone(), self.date.clone());
        let target = Target {
            group,
            filters,
            limit: None,
        };
        let inputs = LetterInputs {
            signer,
            notes: Notes::default(),
            edits: Default::default(),
            date,
        };
        let languages = self.languages_of(&target, &inputs)?;
        let prev_notes = prev.map(Answers::notes_by_language).unwrap_or_default();
        // A paragraph is asked for only where the letters have a place for it: one written for
        // letters without `{{personal_note}}` would be lost without a word.
        let with_note = self.languages_with_note(&target, &inputs)?;
        let note_languages: Vec<(String, u64)> = languages
            .iter()
            .filter(|(l, _)| with_note.contains(l))
            .cloned()
            .collect();
        let notes = match note_languages.is_empty() {
            true => {
                eprintln!("These letters have no place for a personal paragraph.");
                Notes::default()
            }
            false => self.ask_notes(&note_languages, &prev_notes, prompts)?,
        };
        let prev_edits = prev.map(Answers::edits_by_language).unwrap_or_default();
        let edits = self.ask_edits(&target, &inputs, &languages, &prev_edits)?;
        Ok(Answers {
            target,
            inputs: LetterInputs {
                notes,
                edits,
                ..inputs
            },
            languages,
            format: prev.map_or(Format::Eml, |p| p.format),
            out: prev.map_or_else(|| PathBuf::from(DEFAULT_OUT), |p| p.out.clone()),
            smtp: prev.and_then(|p| p.smtp.clone()),
            max: None,
        })
    }

    /// Other volunteers' letters to the chosen group, from `--ledger`; none without.
    fn others(&self, answers: &Answers) -> Result<Option<Others>> {
        let group = &answers.target.group;
        others(self.campaign, group, &answers.inputs, &self.ledgers)
    }

    /// A menu, on `default` or else the first item; Esc (or `q`) cancels the run.
    fn select(&self, prompt: &str, items: &[impl Display], default: Option<usize>) -> Ask<usize> {
        let select = Select::with_theme(&self.theme)
            .with_prompt(prompt)
            .items(items);
        chosen(select.default(default.unwrap_or(0)).interact_opt())
    }

    /// One line of text, trimmed. A non-empty `offer` is shown in brackets and kept with enter;
    /// an answer `check` refuses is asked again, under the reason it gives.
    fn ask_text(&self, prompt: &str, offer: &str, check: impl Fn(&str) -> Verdict) -> Ask<String> {
        let mut input = Input::<String>::with_theme(&self.theme)
            .with_prompt(prompt)
            .allow_empty(true)
            .validate_with(|s: &String| check(s));
        if !offer.is_empty() {
            input = input.default(offer.to_string());
        }
        Ok(input.interact_text()?.trim().to_string())
    }

    /// The campaign as `--campaign` would name it; none for the bundled one or the current directory.
    fn campaign_dir(&self) -> Option<&Path> {
        match &self.campaign.source {
            Source::Dir(d) if d != Path::new(".") => Some(d.as_path()),
            Source::Zip { file, .. } => Some(file.as_path()),
            _ => None,
        }
    }

    /// The command line that does the same again without questions.
    fn print_command(&self, answers: &Answers, kept: &Kept) {
        let what = match answers.smtp {
            Some(_) => "send the same letters again without questions (only those not sent yet go)",
            None => "write the same letters again without questions",
        };
        let profile = self.profile_flag.as_deref();
        let mut line = answers.command_line(self.campaign_dir(), profile, kept);
        for ledger in &self.ledgers {
            let ledger = answers::shell_quote(&ledger.display().to_string());
            line.push_str(&format!(" --ledger {ledger}"));
        }
        println!("\nTo {what}:\n  {line}\n");
    }

    /// The files: the same core as `letterdrive render`, all or nothing, with Ctrl-C held off
    /// until they are complete; then the offer to keep the signer for next time.
    fn write_letters(&self, answers: &Answers) -> Ask<i32> {
        let (result, interrupted) = deferring(|| -> Result<_> {
            let (target, inputs, out) = (&answers.target, &answers.inputs, &answers.out);
            let (campaign, format) = (self.campaign, answers.format);
            let others = self.others(answers)?;
            let others = others.as_ref();
            let extras = RenderExtras {
                others,
                ..Default::default()
            };
            let written = render_letters(campaign, target, inputs, format, out, extras)?;
            // A typed paragraph is kept beside the letters, so the command line can repeat it.
            Ok((written, answers.keep(out)?))
        });
        let ((summary, own), kept) = result?;
        WROTE.store(true, Ordering::SeqCst);
        println!("\n{}", wrote(answers.format, &summary, &own));
        let in_language = |lang: &Option<String>| {
            let name = lang.as_deref().map(language::name);
            name.map(|l| format!("{l} ")).unwrap_or_default()
        };
        for (lang, file) in &kept.notes {
            let what = in_language(lang);
            println!("your {what}personal paragraph is in {}", file.display());
        }
        for (lang, id, file) in &kept.edits {
            let what = in_language(lang);
            println!(
                "your {what}version of the paragraph `{id}` is in {}",
                file.display()
            );
        }
        self.print_command(answers, &kept);
        if interrupted {
            return Err(Stop::Cancelled);
        }
        self.offer_to_save(answers)?;
        Ok(0)
    }

    /// The SMTP output: the same core as `letterdrive send` (summary, confirmation, password,
    /// progress, journal), then the offer to keep the server for next time.
    fn send_letters(&self, answers: &Answers, config: SmtpConfig) -> Ask<i32> {
        let mut job = SendJob::new(answers.target.clone(), answers.inputs.clone(), config);
        job.max = answers.max;
        job.others = self.others(answers)?;
        job.sent_by_hand = super::ledger::sent_by_hand(self.campaign, None)?;
        eprintln!();
        SENDING.store(true, Ordering::SeqCst);
        let code = send::run(self.campaign, &job, &Console)?;
        SENDING.store(false, Ordering::SeqCst);
        if code == 0 {
            eprintln!("\n`letterdrive status` shows what was sent; the send journal keeps it, so nothing goes twice.");
        }
        // A typed paragraph is kept beside the campaign, so the command line can repeat it.
        let local = send::journal::local_dir(&self.campaign.source);
        let kept = answers.keep(&local)?;
        self.print_command(answers, &kept);
        self.offer_to_save(answers)?;
        Ok(code)
    }
}
