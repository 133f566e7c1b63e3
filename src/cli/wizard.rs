//! The guided run: a volunteer goes from nothing to ready letters by answering questions on the
//! terminal. This is the only file that talks to a terminal (dialoguer, indicatif): it gathers
//! the answers into `WizardAnswers`, hands them to the same core functions the subcommands use,
//! and prints the command line that does the same without questions. `send` asks through
//! `Console`, this file's `send::Terminal`: confirmation, a hidden password, a progress bar.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use dialoguer::console::Term;
use dialoguer::theme::ColorfulTheme;
use dialoguer::{Confirm, Editor, Input, MultiSelect, Select};
use indexmap::IndexMap;

use crate::campaign::recipients::{self, Filter, Recipients};
use crate::campaign::source::Source;
use crate::campaign::{Campaign, Group};
use crate::cli::args::Format;
use crate::cli::commands::{render_letters, show_letter, wrote};
use crate::error::{Diag, Error, Result};
use crate::letter::check;
use crate::letter::render::{LetterInputs, Signer};
use crate::letter::run::{Run, Target};
use crate::plural;
use crate::profile::{self, Profile};
use crate::send::server::{Request, Server};
use crate::send::{self, Origin, ProfileSmtp, SendJob, SmtpConfig, Sourced};

/// What a shell reports for a program stopped by Ctrl-C; the guided run exits with it when the
/// volunteer cancels (Ctrl-C, Esc, or "quit").
pub const EXIT_CANCELLED: i32 = 130;

/// The output directory the guided run offers first.
pub const DEFAULT_OUT: &str = "letters";

/// Where a personal paragraph typed during the guided run is kept, inside the output directory,
/// so the printed command line can pass it with `--note`.
pub const NOTE_FILE: &str = "personal-note.md";

/// Everything the guided run asks; each field is also a flag of `letterdrive render`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WizardAnswers {
    pub group: String,
    /// `--where` conditions such as `country=France,Japan`; empty means the whole group.
    pub filters: Vec<String>,
    pub signer: Signer,
    /// The personal paragraph (Markdown), when the volunteer wrote one.
    pub note: Option<String>,
    pub format: Format,
    pub out: PathBuf,
    /// The mail server to send through, when the volunteer chose to send rather than write files.
    pub smtp: Option<String>,
}

impl WizardAnswers {
    pub fn target(&self) -> Target {
        Target {
            group: self.group.clone(),
            filters: self.filters.clone(),
            limit: None,
        }
    }

    pub fn inputs(&self, date: &jiff::Zoned) -> LetterInputs {
        LetterInputs {
            signer: self.signer.clone(),
            personal_note: self.note.clone().unwrap_or_default(),
            date: date.clone(),
        }
    }

    /// The `letterdrive render` command that writes the same letters without a question.
    pub fn command_line(&self, campaign_dir: Option<&Path>, note_file: Option<&Path>) -> String {
        let format = match self.format {
            Format::Eml => "eml",
            Format::Mbox => "mbox",
            Format::Txt => "txt",
            Format::Html => "html",
            Format::Pdf => "pdf",
        };
        let out = self.out.display().to_string();
        self.command(
            campaign_dir,
            None,
            "render",
            &[("format", format), ("out", &out)],
            note_file,
        )
    }

    /// The `letterdrive send` command that sends the same letters without a question; run again,
    /// it sends only what the journal does not have as sent.
    pub fn send_command_line(
        &self,
        campaign_dir: Option<&Path>,
        profile: Option<&Path>,
        smtp_url: &str,
        note_file: Option<&Path>,
    ) -> String {
        self.command(
            campaign_dir,
            profile,
            "send",
            &[("smtp", smtp_url)],
            note_file,
        )
    }

    fn command(
        &self,
        campaign_dir: Option<&Path>,
        profile: Option<&Path>,
        subcommand: &str,
        options: &[(&str, &str)],
        note_file: Option<&Path>,
    ) -> String {
        let mut words: Vec<String> = vec!["letterdrive".into()];
        for (flag, path) in [("--campaign", campaign_dir), ("--profile", profile)] {
            if let Some(path) = path {
                words.push(flag.into());
                words.push(shell_quote(&path.display().to_string()));
            }
        }
        words.push(subcommand.into());
        let mut flag = |name: &str, value: &str| {
            words.push(format!("--{name}"));
            words.push(shell_quote(value));
        };
        flag("group", &self.group);
        for f in &self.filters {
            flag("where", f);
        }
        for (name, value) in options {
            flag(name, value);
        }
        let s = &self.signer;
        flag("signer-name", &s.name);
        flag("signer-email", &s.email);
        for (name, value) in [
            ("signer-city", &s.city),
            ("signer-country", &s.country),
            ("signer-organisation", &s.organisation),
        ] {
            if !value.is_empty() {
                flag(name, value);
            }
        }
        if let Some(note) = note_file {
            flag("note", &note.display().to_string());
        }
        words.join(" ")
    }
}

/// Quote a word for a POSIX shell only when it needs it.
fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./@=,:+".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

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
    fn from(e: dialoguer::Error) -> Self {
        let dialoguer::Error::IO(io) = e;
        if io.kind() == std::io::ErrorKind::Interrupted {
            Stop::Cancelled
        } else {
            Stop::Failed(Error::io("the terminal", io))
        }
    }
}

type Ask<T> = std::result::Result<T, Stop>;

/// `None` from dialoguer means Esc (or `q`): the volunteer wants out.
fn chosen<T>(answer: dialoguer::Result<Option<T>>) -> Ask<T> {
    answer?.ok_or(Stop::Cancelled)
}

// Ctrl-C. At a question, dialoguer reads the key itself and raises SIGINT; elsewhere the terminal
// sends it. Either way the handler below runs: it shows the cursor again (a menu hides it), says
// what was and was not done, and exits. While an editor or the writing of letters is under way,
// it only takes note, so the editor keeps the terminal and no output is left half made.
static DEFER: AtomicBool = AtomicBool::new(false);
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static WROTE: AtomicBool = AtomicBool::new(false);
static SENDING: AtomicBool = AtomicBool::new(false);
static REPORTED: Mutex<bool> = Mutex::new(false);

fn install_ctrlc_handler() {
    // Fails only if a handler is already set (a second guided run in one process): keep that one.
    let _ = ctrlc::set_handler(|| {
        if DEFER.load(Ordering::SeqCst) {
            INTERRUPTED.store(true, Ordering::SeqCst);
            return;
        }
        report_cancel();
        std::process::exit(EXIT_CANCELLED);
    });
}

/// Say once, whichever thread gets here first, that the run was cancelled and what that left.
fn report_cancel() {
    let mut done = REPORTED.lock().unwrap_or_else(|e| e.into_inner());
    if *done {
        return;
    }
    *done = true;
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
    let render = "`letterdrive render --group GROUP --format eml --out DIR --signer-name NAME --signer-email ADDRESS`";
    let diag = if no_command {
        Diag::new("no command given, and there is no terminal to ask questions on").hint(format!(
            "try `letterdrive groups` to see the groups, then {render} (add --where COLUMN=VALUE and --note FILE as needed); `letterdrive --help` lists every command"
        ))
    } else {
        Diag::new(
            "the guided run needs a terminal: standard input and standard error must both be one",
        )
        .hint(format!(
            "without a terminal, use {render} (add --where COLUMN=VALUE and --note FILE as needed); `letterdrive groups` lists the groups"
        ))
    };
    Error::Usage(diag)
}

/// The guided run. `no_command` is set when it starts because no subcommand was given.
pub fn wizard(
    campaign_dir: Option<&Path>,
    profile_flag: Option<&Path>,
    no_command: bool,
) -> Result<i32> {
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(not_a_terminal(no_command));
    }
    install_ctrlc_handler();
    let campaign = Campaign::load(Source::discover(campaign_dir)?)?;

    // Everything that would stop the letters is found before the first question.
    let report = check::check(&campaign);
    if report.errors() > 0 {
        eprintln!(
            "the campaign `{}` ({}) has problems, so no letter can be written yet:",
            campaign.id,
            campaign.source.describe()
        );
        let diags = report.groups.iter().flat_map(|g| g.error_lines()).collect();
        Error::from_diags(diags)?;
    }

    let profile_path = profile::location(profile_flag);
    let saved = match profile_path.as_deref().map(profile::load) {
        Some(Ok(p)) => p,
        Some(Err(e)) => {
            eprintln!("warning: {e}");
            None
        }
        None => None,
    };
    let date = crate::cli::settings::letter_date(
        None,
        std::env::var("SOURCE_DATE_EPOCH").ok().as_deref(),
    )?;

    let mut wizard = Wizard {
        campaign: &campaign,
        report: &report,
        saved,
        profile_path,
        profile_flag: profile_flag.map(Path::to_path_buf),
        date,
        theme: ColorfulTheme::default(),
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
}

/// The values of one `target_by` column, each with its number of recipients.
struct Column {
    name: String,
    values: Vec<(String, u64)>,
}

impl Wizard<'_> {
    fn run(&mut self) -> Ask<i32> {
        let c = self.campaign;
        eprintln!("{}", c.statement.title);
        eprintln!(
            "A campaign of {}. A few questions, and your letters are ready; Ctrl-C stops at any point and writes nothing.\n",
            c.statement.organisation
        );
        let warnings = self.report.warnings();
        if warnings > 0 {
            eprintln!(
                "note: `letterdrive check` has {warnings} warning{} about this campaign (such as placeholder addresses); read them before sending.\n",
                if warnings == 1 { "" } else { "s" }
            );
        }

        let mut prev: Option<WizardAnswers> = None;
        let mut answers = loop {
            let answers = self.ask_letters(prev.as_ref())?;
            self.preview(&answers)?;
            let next = Select::with_theme(&self.theme)
                .with_prompt("Is this the letter you want to send?")
                .items([
                    "Yes, go on to writing the letters",
                    "Go back and change my answers",
                    "Quit without writing anything",
                ])
                .default(0)
                .interact_opt();
            match chosen(next)? {
                0 => break answers,
                1 => prev = Some(answers),
                _ => return Err(Stop::Cancelled),
            }
        };
        if let Some(config) = self.ask_output(&mut answers)? {
            return self.send_letters(&answers, config);
        }

        let inputs = answers.inputs(&self.date);
        let (result, interrupted) = deferring(|| -> Result<_> {
            let summary = render_letters(
                self.campaign,
                &answers.target(),
                &inputs,
                answers.format,
                &answers.out,
            )?;
            // A typed paragraph is kept beside the letters, so the command line can repeat it.
            let note_file = match &answers.note {
                Some(note) => {
                    let path = answers.out.join(NOTE_FILE);
                    std::fs::write(&path, note).map_err(|e| Error::io(&path, e))?;
                    Some(path)
                }
                None => None,
            };
            Ok((summary, note_file))
        });
        let (summary, note_file) = result?;
        WROTE.store(true, Ordering::SeqCst);
        println!("\n{}", wrote(answers.format, &summary));
        if let Some(path) = &note_file {
            println!("your personal paragraph is in {}", path.display());
        }
        println!(
            "\nTo write the same letters again without questions:\n  {}\n",
            answers.command_line(self.campaign_dir(), note_file.as_deref())
        );
        if interrupted {
            return Err(Stop::Cancelled);
        }
        self.offer_to_save(&answers.signer, None)?;
        Ok(0)
    }

    /// The campaign as `--campaign` would name it; none for the bundled one or the current directory.
    fn campaign_dir(&self) -> Option<&Path> {
        match &self.campaign.source {
            Source::Dir(d) if d != Path::new(".") => Some(d.as_path()),
            _ => None,
        }
    }

    /// The SMTP output: the same core as `letterdrive send` (summary, confirmation, password,
    /// progress, journal), then the offer to keep the server for next time.
    fn send_letters(&self, answers: &WizardAnswers, config: SmtpConfig) -> Ask<i32> {
        let url = config.url.as_ref().map(|u| u.value.clone());
        let job = SendJob::new(answers.target(), answers.inputs(&self.date), config);
        eprintln!();
        SENDING.store(true, Ordering::SeqCst);
        let code = send::run(self.campaign, &job, &Console)?;
        SENDING.store(false, Ordering::SeqCst);
        if code == 0 {
            eprintln!("\n`letterdrive status` shows what was sent; the send journal keeps it, so nothing goes twice.");
        }
        // A typed paragraph is kept beside the send journal, so the command line can repeat it.
        let note_file = match &answers.note {
            Some(note) => {
                let path =
                    send::journal::default_path(&self.campaign.source).with_file_name(NOTE_FILE);
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
                }
                std::fs::write(&path, note).map_err(|e| Error::io(&path, e))?;
                Some(path)
            }
            None => None,
        };
        if let Some(url) = &url {
            println!(
                "\nTo send the same letters again without questions (only those not sent yet go):\n  {}\n",
                answers.send_command_line(
                    self.campaign_dir(),
                    self.profile_flag.as_deref(),
                    url,
                    note_file.as_deref()
                )
            );
        }
        self.offer_to_save(&answers.signer, url.as_deref())?;
        Ok(code)
    }

    /// Steps 1 to 4: group, targeting, signer, personal paragraph.
    fn ask_letters(&self, prev: Option<&WizardAnswers>) -> Ask<WizardAnswers> {
        let group = self.ask_group(prev)?;
        let prev = prev.filter(|p| p.group == group.id);
        let filters = self.ask_targeting(group, prev)?;
        let signer = self.ask_signer(prev)?;
        let note = self.ask_note(prev.and_then(|p| p.note.as_deref()))?;
        Ok(WizardAnswers {
            group: group.id.clone(),
            filters,
            signer,
            note,
            format: prev.map_or(Format::Eml, |p| p.format),
            out: prev.map_or_else(|| PathBuf::from(DEFAULT_OUT), |p| p.out.clone()),
            smtp: prev.and_then(|p| p.smtp.clone()),
        })
    }

    fn ask_group(&self, prev: Option<&WizardAnswers>) -> Ask<&Group> {
        let groups = &self.campaign.groups;
        let count = |g: &Group| {
            self.report
                .groups
                .iter()
                .find(|r| r.id == g.id)
                .map_or(0, |r| r.recipients)
        };
        if groups.len() == 1 {
            let g = &groups[0];
            eprintln!(
                "Writing to: {} ({})\n  {}\n  languages: {}\n",
                g.label,
                plural(count(g), "recipient"),
                g.description,
                self.campaign.languages_line(g)
            );
            return Ok(g);
        }
        eprintln!("Who can you write to?");
        for g in groups {
            eprintln!("  {} ({})", g.label, plural(count(g), "recipient"));
            eprintln!("      {}", g.description);
            eprintln!("      languages: {}", self.campaign.languages_line(g));
        }
        eprintln!();
        let items: Vec<String> = groups
            .iter()
            .map(|g| format!("{} ({})", g.label, plural(count(g), "recipient")))
            .collect();
        let default = prev
            .and_then(|p| groups.iter().position(|g| g.id == p.group))
            .unwrap_or(0);
        let i = chosen(
            Select::with_theme(&self.theme)
                .with_prompt("Which group do you want to write to?")
                .items(&items)
                .default(default)
                .interact_opt(),
        )?;
        Ok(&groups[i])
    }

    /// The distinct values of the group's `target_by` columns, read in one pass over the file.
    fn columns(&self, group: &Group) -> Result<(u64, Vec<Column>)> {
        let mut rows = Recipients::open(&self.campaign.source, group)?;
        let idx: Vec<Option<usize>> = group
            .target_by
            .iter()
            .map(|c| rows.columns.get(c))
            .collect();
        let mut seen: Vec<IndexMap<String, (String, u64)>> = vec![IndexMap::new(); idx.len()];
        let mut total = 0u64;
        while let Some(next) = rows.next_row() {
            let Ok(row) = next else { continue };
            total += 1;
            for (i, map) in idx.iter().zip(seen.iter_mut()) {
                let value = i.and_then(|i| row.record.get(i)).unwrap_or("").trim();
                // A value with a comma cannot be written in `--where`, so it is not offered.
                if value.is_empty() || value.contains(',') {
                    continue;
                }
                map.entry(value.to_lowercase())
                    .or_insert_with(|| (value.to_string(), 0))
                    .1 += 1;
            }
        }
        let columns = group
            .target_by
            .iter()
            .zip(seen)
            .map(|(name, map)| {
                let mut values: Vec<(String, u64)> = map.into_values().collect();
                values.sort_by_key(|v| v.0.to_lowercase());
                Column {
                    name: name.clone(),
                    values,
                }
            })
            .collect();
        Ok((total, columns))
    }

    fn count_matching(&self, group: &Group, filters: &[String]) -> Result<u64> {
        let mut rows = Recipients::open(&self.campaign.source, group)?;
        let filters = Filter::parse_all(filters, &rows.columns, &rows.file)?;
        let mut n = 0;
        while let Some(next) = rows.next_row() {
            if next.is_ok_and(|row| recipients::matches_all(&filters, &row)) {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Step 2: which recipients of the group, as `--where` conditions.
    fn ask_targeting(&self, group: &Group, prev: Option<&WizardAnswers>) -> Ask<Vec<String>> {
        let (total, columns) = self.columns(group)?;
        let choosable: Vec<&Column> = columns.iter().filter(|c| c.values.len() > 1).collect();
        // Writing to one's own government is the letter that counts most: offer it first.
        let home = prev
            .map(|p| p.signer.country.clone())
            .or_else(|| self.saved.as_ref().map(|p| p.country.clone()))
            .unwrap_or_default();
        let own = columns
            .iter()
            .filter(|c| c.name.eq_ignore_ascii_case("country"))
            .find_map(|c| {
                c.values
                    .iter()
                    .find(|(v, _)| !home.is_empty() && v.to_lowercase() == home.to_lowercase())
                    .map(|(v, n)| (format!("{}={v}", c.name), v.clone(), *n))
            });

        #[derive(Clone, Copy, PartialEq)]
        enum Way {
            Own,
            All,
            Choose,
        }
        let mut ways = Vec::new();
        let mut items = Vec::new();
        if let Some((_, value, n)) = &own {
            ways.push(Way::Own);
            items.push(format!(
                "Only {value}, your own country: the letter that counts most ({})",
                plural(*n, "recipient")
            ));
        }
        ways.push(Way::All);
        items.push(format!("All {} in this group", plural(total, "recipient")));
        if !choosable.is_empty() {
            ways.push(Way::Choose);
            let names: Vec<&str> = choosable.iter().map(|c| c.name.as_str()).collect();
            items.push(format!("Let me choose by {}", names.join(", ")));
        }
        if ways.len() == 1 {
            return Ok(Vec::new());
        }
        let want = match prev {
            Some(p) if p.filters.is_empty() => Way::All,
            Some(p) if own.as_ref().is_some_and(|o| p.filters == [o.0.clone()]) => Way::Own,
            Some(_) => Way::Choose,
            None => ways[0],
        };
        let default = ways.iter().position(|w| *w == want).unwrap_or(0);
        let i = chosen(
            Select::with_theme(&self.theme)
                .with_prompt("Who in this group?")
                .items(&items)
                .default(default)
                .interact_opt(),
        )?;
        match ways[i] {
            Way::Own => Ok(vec![own.expect("offered only when known").0]),
            Way::All => Ok(Vec::new()),
            Way::Choose => loop {
                let filters = self.choose_values(&choosable, prev)?;
                let n = self.count_matching(group, &filters)?;
                if n > 0 {
                    eprintln!("{} chosen.\n", plural(n, "recipient"));
                    break Ok(filters);
                }
                eprintln!("No recipient matches all of these together; choose again.\n");
            },
        }
    }

    fn choose_values(&self, columns: &[&Column], prev: Option<&WizardAnswers>) -> Ask<Vec<String>> {
        let mut filters = Vec::new();
        for col in columns {
            let ticked: Vec<String> = prev
                .into_iter()
                .flat_map(|p| &p.filters)
                .filter_map(|f| f.split_once('='))
                .filter(|(c, _)| c.trim() == col.name)
                .flat_map(|(_, vals)| vals.split(',').map(|v| v.trim().to_lowercase()))
                .collect();
            let items: Vec<String> = col
                .values
                .iter()
                .map(|(v, n)| format!("{v} ({n})"))
                .collect();
            let defaults: Vec<bool> = col
                .values
                .iter()
                .map(|(v, _)| ticked.contains(&v.to_lowercase()))
                .collect();
            let picked = chosen(
                MultiSelect::with_theme(&self.theme)
                    .with_prompt(format!(
                        "{}: space ticks, enter goes on (nothing ticked = all)",
                        col.name
                    ))
                    .items(&items)
                    .defaults(&defaults)
                    .max_length(15)
                    .report(false)
                    .interact_opt(),
            )?;
            if picked.is_empty() || picked.len() == col.values.len() {
                eprintln!("  {}: all", col.name);
                continue;
            }
            let values: Vec<&str> = picked.iter().map(|&i| col.values[i].0.as_str()).collect();
            eprintln!("  {}: {}", col.name, values.join(", "));
            filters.push(format!("{}={}", col.name, values.join(",")));
        }
        Ok(filters)
    }

    /// Step 3: who signs. Defaults come from the answers being changed, else the saved profile.
    fn ask_signer(&self, prev: Option<&WizardAnswers>) -> Ask<Signer> {
        let base = prev
            .map(|p| p.signer.clone())
            .or_else(|| self.saved.as_ref().map(Profile::to_signer))
            .unwrap_or_default();
        if prev.is_none() && self.saved.is_some() {
            if let Some(path) = &self.profile_path {
                eprintln!("Your saved details (from {}) are offered in brackets; press enter to keep them.", path.display());
            }
        }
        let mut name = Input::<String>::with_theme(&self.theme)
            .with_prompt("Your name (it signs the letters)")
            .allow_empty(true)
            .validate_with(|s: &String| -> std::result::Result<(), String> {
                if s.trim().is_empty() {
                    Err("a name is needed: it signs every letter".into())
                } else if s.chars().any(char::is_control) {
                    Err("a name cannot hold control characters".into())
                } else {
                    Ok(())
                }
            });
        if !base.name.is_empty() {
            name = name.default(base.name.clone());
        }
        let name = name.interact_text()?.trim().to_string();

        let mut email = Input::<String>::with_theme(&self.theme)
            .with_prompt("Your e-mail address (the letters come from it)")
            .allow_empty(true)
            .validate_with(|s: &String| -> std::result::Result<(), String> {
                let s = s.trim();
                if s.is_empty() {
                    return Err("an address is needed: replies come to it".into());
                }
                s.parse::<lettre::Address>().map(|_| ()).map_err(|e| {
                    format!("`{s}` is not an e-mail address ({e}); write it as name@domain")
                })
            });
        if !base.email.is_empty() {
            email = email.default(base.email.clone());
        }
        let email = email.interact_text()?.trim().to_string();

        let city = self.ask_optional("Your city", &base.city)?;
        let country = self.ask_optional("Your country", &base.country)?;
        let organisation = self.ask_optional("Your organisation", &base.organisation)?;
        Ok(Signer {
            name,
            email,
            city,
            country,
            organisation,
        })
    }

    fn ask_optional(&self, what: &str, default: &str) -> Ask<String> {
        let prompt = if default.is_empty() {
            format!("{what} (optional, enter to skip)")
        } else {
            format!("{what} (optional, - for none)")
        };
        let mut input = Input::<String>::with_theme(&self.theme)
            .with_prompt(prompt)
            .allow_empty(true)
            .validate_with(|s: &String| -> std::result::Result<(), String> {
                if s.chars().any(char::is_control) {
                    Err("this cannot hold control characters".into())
                } else {
                    Ok(())
                }
            });
        if !default.is_empty() {
            input = input.default(default.to_string());
        }
        let value = input.interact_text()?.trim().to_string();
        Ok(if value == "-" { String::new() } else { value })
    }

    /// Step 4: a paragraph of the volunteer's own, in their editor, typed here, or none.
    fn ask_note(&self, prev: Option<&str>) -> Ask<Option<String>> {
        let editor = std::env::var("VISUAL")
            .or_else(|_| std::env::var("EDITOR"))
            .unwrap_or_else(|_| "vi".into());
        let mut items = Vec::new();
        if let Some(note) = prev {
            items.push(format!(
                "Keep the paragraph I wrote ({})",
                first_words(note)
            ));
        }
        items.push(format!("Write it in my editor ({editor})"));
        items.push("Type one line here".into());
        items.push("No personal paragraph".into());
        let offset = usize::from(prev.is_some());
        eprintln!(
            "A paragraph in your own words is what makes a letter count: why this matters to you."
        );
        let i = chosen(
            Select::with_theme(&self.theme)
                .with_prompt("Add a personal paragraph?")
                .items(&items)
                .default(0)
                .interact_opt(),
        )?;
        if prev.is_some() && i == 0 {
            return Ok(prev.map(str::to_string));
        }
        match i - offset {
            0 => {
                eprintln!("Opening {editor}: write your paragraph, save, and close the editor.");
                let (edited, interrupted) = deferring(|| {
                    // Read the file whether or not it was saved: an editor that writes within
                    // the same clock tick would otherwise look as if it saved nothing.
                    Editor::new()
                        .extension(".md")
                        .require_save(false)
                        .edit(prev.unwrap_or(""))
                });
                if interrupted {
                    return Err(Stop::Cancelled);
                }
                match edited {
                    Ok(Some(text)) if !text.trim().is_empty() => Ok(Some(text.trim().to_string())),
                    Ok(_) => {
                        eprintln!("The editor saved nothing: no personal paragraph.");
                        Ok(None)
                    }
                    Err(e) => {
                        eprintln!("Could not start the editor `{editor}` ({e}); type the paragraph here instead.");
                        self.ask_line(prev)
                    }
                }
            }
            1 => self.ask_line(prev),
            _ => Ok(None),
        }
    }

    fn ask_line(&self, prev: Option<&str>) -> Ask<Option<String>> {
        let mut input = Input::<String>::with_theme(&self.theme)
            .with_prompt("Your paragraph (enter when done; empty for none)")
            .allow_empty(true);
        if let Some(p) = prev {
            input = input.with_initial_text(p);
        }
        let text = input.interact_text()?.trim().to_string();
        Ok((!text.is_empty()).then_some(text))
    }

    /// Step 5: the first letter exactly as it will go out.
    fn preview(&self, answers: &WizardAnswers) -> Ask<()> {
        let inputs = answers.inputs(&self.date);
        let mut run = Run::open(self.campaign, &answers.target(), &inputs)?;
        let n = self.count_matching(run.group, &answers.filters)?;
        while let Some(next) = run.rows.next_row() {
            let row = next.map_err(Error::Invalid)?;
            if !recipients::matches_all(&run.filters, &row) {
                continue;
            }
            let (letter, message) = run.letter(&row, true).map_err(Error::Many)?;
            let message = message.expect("the preview asks for the message");
            let rule = "─".repeat(60);
            println!(
                "\nThe first of {}, exactly as it will go out:\n{rule}\n{}{rule}\n",
                plural(n, "letter"),
                show_letter(&letter, &message)
            );
            return Ok(());
        }
        Ok(())
    }

    /// Step 6: the kind of output and where it goes, or the mail server to send through (then
    /// its settings are returned).
    fn ask_output(&self, answers: &mut WizardAnswers) -> Ask<Option<SmtpConfig>> {
        let formats = [
            Format::Eml,
            Format::Mbox,
            Format::Txt,
            Format::Html,
            Format::Pdf,
        ];
        let i = chosen(
            Select::with_theme(&self.theme)
                .with_prompt("How do you want your letters?")
                .items([
                    "E-mail files (.eml), one per letter: open each in your mail program and send it",
                    "One mbox file with every letter, to import into a mail program",
                    "Text files, one per letter, to print or paste",
                    "One web page with a button per letter that opens it in your mail program",
                    "PDF letters, one per letter (A4), to print, sign and post",
                    "Send them now through my mail account (SMTP)",
                ])
                .default(if answers.smtp.is_some() {
                    formats.len()
                } else {
                    formats.iter().position(|f| *f == answers.format).unwrap_or(0)
                })
                .interact_opt(),
        )?;
        if i == formats.len() {
            let config = self.ask_server(answers.smtp.as_deref())?;
            answers.smtp = config.url.as_ref().map(|u| u.value.clone());
            return Ok(Some(config));
        }
        answers.smtp = None;
        answers.format = formats[i];
        loop {
            let out: String = Input::with_theme(&self.theme)
                .with_prompt("Folder to write them to")
                .default(answers.out.display().to_string())
                .validate_with(|s: &String| -> std::result::Result<(), String> {
                    let p = Path::new(s.trim());
                    if s.trim().is_empty() {
                        Err("a folder name is needed".into())
                    } else if p.exists() && !p.is_dir() {
                        Err(format!("`{}` exists and is not a folder", s.trim()))
                    } else {
                        Ok(())
                    }
                })
                .interact_text()?;
            let out = PathBuf::from(out.trim());
            let has_files = std::fs::read_dir(&out).is_ok_and(|mut d| d.next().is_some());
            if has_files {
                let go = chosen(
                    Confirm::with_theme(&self.theme)
                        .with_prompt(format!(
                            "`{}` already holds files; files with the same names will be replaced. Write there?",
                            out.display()
                        ))
                        .default(false)
                        .interact_opt(),
                )?;
                if !go {
                    answers.out = out;
                    continue;
                }
            }
            answers.out = out;
            return Ok(None);
        }
    }

    /// The mail server, checked as `send` checks it; the login comes from where `send` finds it
    /// (the environment, the profile) or is asked for, hidden, just before sending.
    fn ask_server(&self, prev: Option<&str>) -> Ask<SmtpConfig> {
        let smtp = self
            .saved
            .as_ref()
            .map(|p| p.smtp.clone())
            .unwrap_or_default();
        let profile = self
            .profile_path
            .as_deref()
            .map(|path| ProfileSmtp { path, smtp: &smtp });
        let mut config = send::config::resolve(
            &send::Flags::default(),
            &|key| std::env::var(key).ok(),
            profile,
        )?;
        let default = prev
            .map(str::to_string)
            .or_else(|| config.url.as_ref().map(|u| u.value.clone()));
        eprintln!("Your mail server as a URL: smtps://you@mail.example.org (TLS) or smtp://you@mail.example.org:587 (STARTTLS). Your password is asked for just before sending and never saved.");
        let secret = config.secret.value.clone();
        let mut input = Input::<String>::with_theme(&self.theme)
            .with_prompt("Mail server (SMTP URL)")
            .validate_with(move |s: &String| -> std::result::Result<(), String> {
                Server::parse(Request {
                    url: s.trim(),
                    insecure: false,
                    secret: secret.clone(),
                    can_ask: true,
                    ca_file: None,
                    timeout: std::time::Duration::from_secs(crate::send::DEFAULT_TIMEOUT_SECS),
                })
                .map(|_| ())
                .map_err(|e| e.to_string())
            });
        if let Some(d) = &default {
            input = input.default(d.clone());
        }
        let url = input.interact_text()?.trim().to_string();
        let origin = match &config.url {
            Some(u) if u.value == url => u.origin.clone(),
            _ => Origin::Answer,
        };
        config.url = Some(Sourced { value: url, origin });
        Ok(config)
    }

    /// At the end, offer to keep what was typed for next time; only a complete profile is saved.
    fn offer_to_save(&self, signer: &Signer, smtp_url: Option<&str>) -> Ask<()> {
        let Some(path) = &self.profile_path else {
            return Ok(());
        };
        // Only what was asked changes: other server settings saved in the profile stay.
        let mut profile = match &self.saved {
            Some(saved) => saved.with_signer(signer),
            None => Profile::from_signer(signer),
        };
        if let Some(url) = smtp_url {
            profile.smtp.url = Some(url.to_string());
        }
        if self.saved.as_ref() == Some(&profile) {
            return Ok(());
        }
        let what = if smtp_url.is_some() {
            "your name, address and mail server (never your password)"
        } else {
            "your name and address"
        };
        let save = Confirm::with_theme(&self.theme)
            .with_prompt(format!("Save {what} in {} for next time?", path.display()))
            .default(true)
            .interact_opt()?;
        if save == Some(true) {
            let (saved, interrupted) = deferring(|| profile::save(path, &profile));
            saved?;
            eprintln!("Saved; the next guided run offers them as defaults.");
            if interrupted {
                return Err(Stop::Cancelled);
            }
        } else {
            eprintln!("Not saved.");
        }
        Ok(())
    }
}

/// How `send` asks and reports on this process's terminal, or without one.
pub struct Console;

impl send::Terminal for Console {
    fn can_ask(&self) -> bool {
        can_ask()
    }

    fn confirm(&self, letters: u64) -> Result<bool> {
        confirm_send(letters)
    }

    fn secret(&self, prompt: &str) -> Result<String> {
        ask_secret(prompt)
    }

    fn progress(&self, total: u64) -> Box<dyn send::Progress> {
        send_progress(total)
    }
}

/// Whether someone is at a terminal to ask: standard input to answer on, standard error to ask on.
pub fn can_ask() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// `send`'s last question before the first letter leaves. Without a terminal it refuses
/// rather than guess.
pub fn confirm_send(count: u64) -> Result<bool> {
    if !can_ask() {
        return Err(Error::Usage(
            Diag::new("not sending without confirmation, and there is no terminal to ask on")
                .hint("check the summary above (or run with --dry-run), then pass --yes"),
        ));
    }
    let answer = Confirm::with_theme(&ColorfulTheme::default())
        .with_prompt(format!("Send {}?", plural(count, "letter")))
        .default(false)
        .interact_opt();
    match answer {
        Ok(answer) => Ok(answer == Some(true)),
        // Ctrl-C at the question: a no.
        Err(dialoguer::Error::IO(e)) if e.kind() == std::io::ErrorKind::Interrupted => {
            let _ = Term::stderr().show_cursor();
            Ok(false)
        }
        Err(dialoguer::Error::IO(e)) => Err(Error::io("the terminal", e)),
    }
}

/// A password typed without echo. It is returned to the caller and nowhere else: not drawn,
/// not logged.
pub fn ask_secret(prompt: &str) -> Result<String> {
    if !can_ask() {
        return Err(Error::Usage(
            Diag::new("a password is needed and there is no terminal to ask on").hint(
                "set LETTERDRIVE_SMTP_PASSWORD or pass --password-command \"pass show mail\"",
            ),
        ));
    }
    dialoguer::Password::with_theme(&ColorfulTheme::default())
        .with_prompt(prompt)
        .report(false)
        .interact()
        .map_err(|dialoguer::Error::IO(e)| Error::io("the terminal", e))
}

/// How `send` shows its progress: a bar with rate and ETA on a terminal, and the usual log lines
/// on standard output otherwise. A redirected standard output keeps the lines, so a log file
/// gets them even when standard error is a terminal.
pub fn send_progress(total: u64) -> Box<dyn crate::send::Progress> {
    if std::io::stdout().is_terminal() && std::io::stderr().is_terminal() {
        Box::new(Bar::new(total))
    } else {
        Box::new(crate::send::LogLines::new(std::io::stdout()))
    }
}

/// The progress bar on standard error. Letters that did not simply go (retries, refusals) are
/// printed above it, so the bar never hides trouble.
struct Bar(indicatif::ProgressBar);

impl Bar {
    fn new(total: u64) -> Bar {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(total),
            indicatif::ProgressDrawTarget::stderr(),
        );
        let style = indicatif::ProgressStyle::with_template(
            "{bar:30} {pos}/{len} letters  {per_sec}  elapsed {elapsed}  ETA {eta}",
        )
        .expect("a valid template")
        .progress_chars("=> ");
        bar.set_style(style);
        // At 20 letters a minute the bar would otherwise sit still between letters.
        bar.enable_steady_tick(std::time::Duration::from_secs(1));
        Bar(bar)
    }
}

impl crate::send::Progress for Bar {
    fn step(&self, step: crate::send::Step, line: &str) {
        use crate::send::Step;
        match step {
            Step::Sent => self.0.inc(1),
            Step::Failed | Step::Deferred | Step::Uncertain | Step::Stopped => {
                self.0.println(line);
                self.0.inc(1);
            }
            Step::Retry => self.0.println(line),
        }
    }

    fn finish(&self) {
        // The final state stays on screen: how many went, and how long it took.
        self.0.abandon();
    }
}

fn first_words(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().take(6).collect();
    let mut s = words.join(" ");
    if text.split_whitespace().count() > 6 {
        s.push_str(" ...");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_quotes_what_the_shell_would_split() {
        let a = WizardAnswers {
            group: "governments".into(),
            filters: vec!["country=France,United Kingdom".into()],
            signer: Signer {
                name: "Ada O'Volunteer".into(),
                email: "ada@example.org".into(),
                city: "Lyon".into(),
                ..Default::default()
            },
            note: Some("Mine.".into()),
            format: Format::Html,
            out: PathBuf::from("letters"),
            smtp: None,
        };
        assert_eq!(
            a.command_line(
                Some(Path::new("my campaign")),
                Some(Path::new("letters/personal-note.md"))
            ),
            "letterdrive --campaign 'my campaign' render --group governments \
             --where 'country=France,United Kingdom' --format html --out letters \
             --signer-name 'Ada O'\\''Volunteer' --signer-email ada@example.org \
             --signer-city Lyon --note letters/personal-note.md"
        );
        assert_eq!(
            a.send_command_line(
                None,
                Some(Path::new("my profile.toml")),
                "smtps://ada%40example.org@mail.example.org",
                Some(Path::new(".letterdrive/personal-note.md"))
            ),
            "letterdrive --profile 'my profile.toml' send --group governments \
             --where 'country=France,United Kingdom' \
             --smtp 'smtps://ada%40example.org@mail.example.org' \
             --signer-name 'Ada O'\\''Volunteer' --signer-email ada@example.org \
             --signer-city Lyon --note .letterdrive/personal-note.md"
        );
    }
}
