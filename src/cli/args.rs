//! Command-line definitions only: the doc comments here are the `--help` text users read.

use std::path::PathBuf;

use clap::builder::PossibleValue;
use clap::{Args, Parser, Subcommand, ValueEnum};

pub use crate::output::pdf::Paper;
pub use crate::output::Format;

/// Turn a campaign statement into personalised letters: mail files, a page of
/// `mailto:` links, or delivery through your own mail account.
#[derive(Debug, Parser)]
#[command(name = "letterdrive", version, about, max_term_width = 100)]
pub struct Cli {
    /// Campaign directory (holds campaign.toml, templates/, recipients/), or a zip made by `pack`.
    /// Defaults to the current directory when it holds a campaign.toml, otherwise the campaign
    /// bundled in the binary.
    #[arg(long, global = true, env = "LETTERDRIVE_CAMPAIGN", value_name = "DIR")]
    pub campaign: Option<PathBuf>,

    /// Where the guided run keeps your name and address between runs, and `send` finds your mail
    /// server settings ([smtp]: url, password_command or oauth2_token_command, ca_file, rate,
    /// connections). A TOML file; defaults to profile.toml in your platform's config directory.
    #[arg(long, global = true, env = "LETTERDRIVE_PROFILE", value_name = "FILE")]
    pub profile: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the recipient groups: id, label, number of recipients, description.
    #[command(after_help = "Examples:
  letterdrive groups                         # the campaign here, or the bundled one
  letterdrive --campaign my-campaign groups")]
    Groups,
    /// Validate the whole campaign and list every problem; exits 0 only when it can be sent.
    #[command(after_help = "Examples:
  letterdrive check
  letterdrive --campaign my-campaign check --strict   # warnings fail too")]
    Check {
        /// Treat warnings (such as placeholder addresses) as errors.
        #[arg(long)]
        strict: bool,
    },
    /// Show one rendered letter, headers and body.
    #[command(after_help = "Examples:
  letterdrive preview -g ohchr
  letterdrive preview -g governments --where country=France --note note.md
  letterdrive preview -g governments --to minister@mofa.example --raw")]
    Preview(PreviewArgs),
    /// Write every letter of a group as .txt, .eml, one mbox, or one HTML page of mailto: links.
    #[command(after_help = "Examples:
  letterdrive render -g governments -o letters --signer-name \"Ana Example\" --signer-email ana@example.org
  letterdrive render -g governments -f html -o letters --where region=Europe
  letterdrive render -g ohchr -f pdf -o letters --one-file --paper letter")]
    Render(RenderArgs),
    /// Write the bundled campaign (or, with --blank, a short skeleton) into DIR so you can edit it.
    #[command(after_help = "Examples:
  letterdrive init my-campaign --blank    # a short commented skeleton to start your own
  letterdrive init my-campaign            # a copy of the bundled campaign
  letterdrive init my-campaign --blank --force   # replace the campaign already there")]
    Init {
        /// Directory to create (must not exist, or be empty, unless --force).
        dir: PathBuf,

        /// Write a short commented skeleton to start your own campaign from: one group, three
        /// recipients, one letter that shows each template feature once.
        #[arg(long)]
        blank: bool,

        /// Replace the campaign already in DIR: its campaign.toml, templates/ and recipients/ are
        /// replaced as a whole; anything else in DIR (such as the send journal) is left alone.
        #[arg(long)]
        force: bool,
    },
    /// Pack the campaign (campaign.toml, templates, recipient lists) into one zip file to hand to
    /// volunteers; every command takes it with --campaign FILE.zip. Checks the campaign first.
    #[command(after_help = "Examples:
  letterdrive --campaign my-campaign pack --out my-campaign.zip
  letterdrive --campaign my-campaign.zip check      # what a volunteer runs")]
    Pack {
        /// The zip file to write (replaced if it exists).
        #[arg(long, short = 'o', value_name = "FILE")]
        out: PathBuf,
    },
    /// Send a group's letters through your mail server, recorded in a journal so a rerun sends
    /// only what has not been sent.
    #[command(after_help = "Examples:
  letterdrive send -g ohchr --smtp smtps://you@mail.example.org --dry-run
  letterdrive send -g ohchr --smtp smtps://you@mail.example.org --test-to you@example.org
  letterdrive send -g governments --where language=fr --password-command \"pass show mail\"")]
    Send(Box<SendArgs>),
    /// The mail providers `send --provider` knows: server, password, daily limit.
    #[command(after_help = "Examples:
  letterdrive providers
  letterdrive send -g ohchr --provider gmail --signer-email you@gmail.com --dry-run")]
    Providers,
    /// Per group: how many letters were sent, failed, are uncertain, or are still to send.
    #[command(after_help = "Examples:
  letterdrive status
  letterdrive status -g governments")]
    Status {
        /// Only this group.
        #[arg(long, short = 'g', value_name = "GROUP")]
        group: Option<String>,

        /// The send journal (default: one per campaign in your data directory, e.g.
        /// ~/.local/share/letterdrive/journals/ID.jsonl).
        #[arg(long, value_name = "FILE")]
        journal: Option<PathBuf>,
    },
    /// Record letters that went out by hand (by post, from your own mail program, through the
    /// mailto page), so the campaign's ledger counts them.
    MarkSent(MarkSentArgs),
    /// Write this machine's letters as a ledger to share with the campaign: one JSON line per
    /// letter event, addresses only as keyed hashes.
    Export(ExportArgs),
    /// Merge ledgers into report.html and coverage.csv: letters, volunteers and replies per
    /// target, fewest letters first.
    Report(ReportArgs),
    /// Read your mail (an mbox, a maildir or a folder of .eml files) for replies to the
    /// campaign's letters and bounces, and record them for `status`, `export` and `report`.
    Replies(RepliesArgs),
    /// The guided run: questions on the terminal, from choosing recipients to ready letters.
    /// Also what `letterdrive` with no command does on a terminal.
    #[command(after_help = "Examples:
  letterdrive wizard
  letterdrive --campaign my-campaign")]
    Wizard {
        /// Another volunteer's ledger (`letterdrive export`; repeatable): warn about a letter
        /// whose personal paragraph is near-identical to one already written to the same
        /// recipient.
        #[arg(long = "ledger", value_name = "FILE")]
        ledgers: Vec<PathBuf>,
    },
    /// Print a completion script for your shell, so Tab completes commands and options.
    #[command(after_help = "Examples:
  letterdrive completions bash > ~/.local/share/bash-completion/completions/letterdrive
  letterdrive completions zsh > ~/.zfunc/_letterdrive
  letterdrive completions fish > ~/.config/fish/completions/letterdrive.fish
  letterdrive completions powershell >> $PROFILE")]
    Completions {
        /// The shell to complete in.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), to install as letterdrive.1; with --out, write it and one
    /// page per command (letterdrive-send.1, ...) into a folder.
    #[command(after_help = "Examples:
  letterdrive man | man -l -
  letterdrive man --out ~/.local/share/man/man1")]
    Man {
        /// Write every page into this folder (created if missing) instead of printing one.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  letterdrive mark-sent -g governments --where country=France --via post\n  letterdrive mark-sent -g governments --from letterdrive-sent-governments.json"
)]
pub struct MarkSentArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    /// How the letters went (`mailto` with --from).
    #[arg(long, value_enum, required_unless_present = "from")]
    pub via: Option<Via>,

    /// Only the letters ticked "I sent this" on the mailto page, from the file its "Save my
    /// ticks" button wrote.
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,

    /// The journal whose letters file records them (default: the campaign's, as for `send`).
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,

    #[command(flatten)]
    pub signer: SignerArgs,
}

/// How a letter marked sent went out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Via {
    /// Printed and posted.
    Post,
    /// From your own mail program (an .eml file or the mbox).
    Email,
    /// Through the mailto page.
    Mailto,
}

impl Via {
    pub fn name(self) -> &'static str {
        match self {
            Via::Post => "post",
            Via::Email => "email",
            Via::Mailto => "mailto",
        }
    }
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  letterdrive export --out ada-ledger.jsonl")]
pub struct ExportArgs {
    /// The ledger file to write.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: PathBuf,

    /// The send journal to read (default: the campaign's).
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,

    /// Also write your name into each event (addresses are never written).
    #[arg(long)]
    pub with_names: bool,

    /// Your e-mail address; the ledger keeps only a keyed hash of it (default: the saved
    /// profile's).
    #[arg(long, env = "LETTERDRIVE_SIGNER_EMAIL", value_name = "ADDRESS")]
    pub signer_email: Option<String>,

    /// Your name, for --with-names (default: the saved profile's).
    #[arg(long, env = "LETTERDRIVE_SIGNER_NAME", value_name = "NAME")]
    pub signer_name: Option<String>,
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  letterdrive report ledgers/*.jsonl --out report --suggest 5")]
pub struct ReportArgs {
    /// Ledger files, from `letterdrive export`; in any order, each any number of times.
    #[arg(required = true, value_name = "LEDGER")]
    pub ledgers: Vec<PathBuf>,

    /// Directory for report.html and coverage.csv.
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out: PathBuf,

    /// Also print the N targets with the fewest letters, as ready --where lines.
    #[arg(long, value_name = "N")]
    pub suggest: Option<usize>,
}

#[derive(Debug, Args)]
#[command(
    group(clap::ArgGroup::new("mail").required(true).args(["mbox", "maildir", "eml"])),
    after_help = "Example:\n  letterdrive replies --mbox ~/Inbox.mbox --signer-email you@your-domain"
)]
pub struct RepliesArgs {
    /// One mbox file, as mail programs export a folder.
    #[arg(long, value_name = "FILE")]
    pub mbox: Option<PathBuf>,

    /// A maildir: the folder holding `cur` and `new`.
    #[arg(long, value_name = "DIR")]
    pub maildir: Option<PathBuf>,

    /// A folder of .eml files.
    #[arg(long, value_name = "DIR")]
    pub eml: Option<PathBuf>,

    /// The journal whose letters file records the answers (default: the campaign's, as for
    /// `send`).
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,

    /// The signer the letters went out as: their Message-IDs carry its domain.
    #[command(flatten)]
    pub signer: SignerArgs,
}

/// Which recipients of which group.
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Choosing recipients")]
pub struct TargetArgs {
    /// Recipient group id (see `letterdrive groups`).
    #[arg(long, short = 'g', value_name = "GROUP")]
    pub group: String,

    /// Keep only rows where COLUMN equals one of the VALUES (case-insensitive). Repeatable; every
    /// condition must hold. Example: --where country=Japan,France --where role=third-state
    #[arg(long = "where", value_name = "COLUMN=VALUE[,VALUE...]")]
    pub filters: Vec<String>,

    /// Stop after N letters (after filtering).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: Option<u64>,
}

/// Who signs the letters, and the date they carry.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Signing")]
pub struct SignerArgs {
    /// Your name, as it appears in From: and under the letter.
    #[arg(long, env = "LETTERDRIVE_SIGNER_NAME", value_name = "NAME")]
    pub signer_name: Option<String>,

    /// Your e-mail address (the From: address).
    #[arg(long, env = "LETTERDRIVE_SIGNER_EMAIL", value_name = "ADDRESS")]
    pub signer_email: Option<String>,

    /// Your city (optional).
    #[arg(long, env = "LETTERDRIVE_SIGNER_CITY", value_name = "CITY")]
    pub signer_city: Option<String>,

    /// Your country (optional).
    #[arg(long, env = "LETTERDRIVE_SIGNER_COUNTRY", value_name = "COUNTRY")]
    pub signer_country: Option<String>,

    /// Your organisation (optional).
    #[arg(long, env = "LETTERDRIVE_SIGNER_ORGANISATION", value_name = "ORG")]
    pub signer_organisation: Option<String>,

    /// A file holding your personal paragraph (Markdown); it appears where the template puts
    /// {{personal_note}}. FILE goes in every letter; LANG=FILE (repeatable) only in the letters
    /// in that language, instead of FILE.
    #[arg(long, value_name = "[LANG=]FILE")]
    pub note: Vec<PathBuf>,

    /// A file holding your version of a paragraph the template lets volunteers rewrite
    /// ({{#editable "ID"}}); it replaces that paragraph. ID=FILE in every letter whose template
    /// has it; LANG:ID=FILE (repeatable) only in the letters in that language, instead. An empty
    /// FILE keeps the campaign's paragraph.
    #[arg(long, value_name = "[LANG:]ID=FILE")]
    pub edit: Vec<String>,

    /// Date of the letters (YYYY-MM-DD or RFC 3339). Also read from SOURCE_DATE_EPOCH; fixing it
    /// makes the output reproducible byte for byte.
    #[arg(long, value_name = "DATE")]
    pub date: Option<String>,
}

#[derive(Debug, Args)]
pub struct PreviewArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    /// Show the N-th recipient of the group (1 = first data row), after filtering.
    #[arg(long, value_name = "N", conflicts_with = "to")]
    pub row: Option<u64>,

    /// Show the letter to the recipient with this e-mail address.
    #[arg(long, value_name = "ADDRESS")]
    pub to: Option<String>,

    /// Print the raw RFC 5322 message instead of headers and Markdown body.
    #[arg(long)]
    pub raw: bool,

    #[command(flatten)]
    pub signer: SignerArgs,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Eml)]
    pub format: Format,

    /// Output directory (created if missing).
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out: PathBuf,

    /// PDF: the paper size.
    #[arg(long, value_enum, default_value_t = Paper::A4)]
    pub paper: Paper,

    /// PDF: every letter in one file (GROUP.pdf), each starting on a new page, for a print shop.
    #[arg(long)]
    pub one_file: bool,

    /// PDF: a TrueType/OpenType font for scripts the bundled DejaVu Sans (Latin, Greek, Cyrillic)
    /// does not cover.
    #[arg(long, value_name = "FILE")]
    pub font: Option<PathBuf>,

    /// The journal whose letters file records each letter written (default: the campaign's, as
    /// for `send`).
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,

    /// Refuse letters with fewer of your own words than the campaign's `min_own_words`: then
    /// nothing is written.
    #[arg(long)]
    pub strict: bool,

    /// Another volunteer's ledger (`letterdrive export`; repeatable): warn about a letter whose
    /// personal paragraph is near-identical to one already written to the same recipient.
    #[arg(long = "ledger", value_name = "FILE")]
    pub ledgers: Vec<PathBuf>,

    #[command(flatten)]
    pub signer: SignerArgs,
}

#[derive(Debug, Args)]
pub struct SendArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    /// Your mail server: smtps://you@host[:465] (TLS), smtp://you@host[:587] (STARTTLS, required),
    /// smtp://127.0.0.1:25 (a relay on this machine). Also from LETTERDRIVE_SMTP_URL, or `url` in
    /// the profile's [smtp] table. The password comes from LETTERDRIVE_SMTP_PASSWORD,
    /// --password-command, or a hidden prompt on the terminal; never from the command line.
    #[arg(long, help_heading = "Mail server", value_name = "URL")]
    pub smtp: Option<String>,

    /// Your mail provider instead of --smtp (gmail, outlook, yahoo, icloud, ...; see `letterdrive
    /// providers`): its server, with --signer-email as the login, and its daily limit as --max.
    #[arg(long, value_name = "NAME", conflicts_with = "smtp")]
    pub provider: Option<String>,

    /// A command that prints your SMTP password, e.g. "pass show mail" (or `password_command` in
    /// the profile).
    #[arg(
        long,
        help_heading = "Mail server",
        value_name = "CMD",
        conflicts_with = "oauth2_token_command"
    )]
    pub password_command: Option<String>,

    /// A command that prints an OAuth2 access token for your account, to log in with XOAUTH2
    /// instead of a password (or `oauth2_token_command` in the profile).
    #[arg(long, help_heading = "Mail server", value_name = "CMD")]
    pub oauth2_token_command: Option<String>,

    /// A PEM file with the certificate of a private CA that signed your server's certificate
    /// (or `ca_file` in the profile).
    #[arg(long, help_heading = "Mail server", value_name = "FILE")]
    pub ca_file: Option<PathBuf>,

    /// Allow smtp://HOST?tls=none to a host that is not this machine (letters cross the network
    /// unencrypted). Never allows a password or token without TLS.
    #[arg(long, help_heading = "Mail server")]
    pub insecure: bool,

    /// At most N messages per PERIOD (20/min, 50/5min, 500/day), or `unlimited` for a local relay
    /// (or `rate` in the profile) [default: 20/min]
    #[arg(long, help_heading = "Pace and retries", value_name = "N/PERIOD")]
    pub rate: Option<String>,

    /// Send at most N letters in this run (a provider's daily quota); rerun later for the rest.
    #[arg(long, help_heading = "Pace and retries", value_name = "N")]
    pub max: Option<u64>,

    /// SMTP connections used at once (1 to 16), each logging in once and reused for many letters;
    /// 1 sends strictly in file order (or `connections` in the profile) [default: 4]
    #[arg(long, help_heading = "Pace and retries", value_name = "N")]
    pub connections: Option<u32>,

    /// Send without asking for confirmation.
    #[arg(long, help_heading = "This run", short = 'y')]
    pub yes: bool,

    /// Validate and render everything and show the summary, but send nothing.
    #[arg(long, help_heading = "This run")]
    pub dry_run: bool,

    /// Refuse letters with fewer of your own words than the campaign's `min_own_words`: then
    /// nothing is sent.
    #[arg(long)]
    pub strict: bool,

    /// Another volunteer's ledger (`letterdrive export`; repeatable): warn about a letter whose
    /// personal paragraph is near-identical to one already written to the same recipient.
    #[arg(long = "ledger", value_name = "FILE")]
    pub ledgers: Vec<PathBuf>,

    /// Send only the first letter, to ADDRESS (your own), to see it as its recipient will;
    /// nothing is recorded in the journal.
    #[arg(long, help_heading = "This run", value_name = "ADDRESS")]
    pub test_to: Option<String>,

    /// Retries of a letter after a temporary error (4xx) or a network error.
    #[arg(
        long,
        help_heading = "Pace and retries",
        value_name = "N",
        default_value_t = 3
    )]
    pub retries: u32,

    /// Delay before the first retry, in milliseconds; it doubles with each retry.
    #[arg(
        long,
        help_heading = "Pace and retries",
        value_name = "MS",
        default_value_t = 2000,
        hide = true
    )]
    #[arg(env = "LETTERDRIVE_RETRY_DELAY_MS")]
    pub retry_delay_ms: u64,

    /// Seconds to wait for the server before giving up on a connection or a reply.
    #[arg(
        long,
        help_heading = "Pace and retries",
        value_name = "SECS",
        default_value_t = 30
    )]
    pub timeout: u64,

    /// The send journal (default: one per campaign in your data directory, e.g.
    /// ~/.local/share/letterdrive/journals/ID.jsonl).
    #[arg(long, help_heading = "This run", value_name = "FILE")]
    pub journal: Option<PathBuf>,

    /// Send again the letters that may have arrived: their last attempt has no recorded outcome,
    /// or the server never gave its verdict.
    #[arg(long, help_heading = "This run")]
    pub resend_uncertain: bool,

    /// Send again the letters the server refused for good (5xx) in an earlier run; without it
    /// they are skipped.
    #[arg(long)]
    pub retry_failed: bool,

    /// Write the rows that could not be sent, with the server's reply, to this CSV file.
    #[arg(long, help_heading = "This run", value_name = "FILE")]
    pub failed_csv: Option<PathBuf>,

    #[command(flatten)]
    pub signer: SignerArgs,
}

// The output layer's enums, as clap offers them: the help text of each value is here, with the
// rest of what users read in `--help`.
impl ValueEnum for Format {
    fn value_variants<'a>() -> &'a [Self] {
        use Format::{Eml, Html, Mbox, Pdf, Txt};
        &[Txt, Eml, Mbox, Html, Pdf]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self {
            Format::Txt => PossibleValue::new("txt")
                .help("One plain-text file per letter: headers, then the Markdown body"),
            Format::Eml => PossibleValue::new("eml")
                .help("One RFC 5322 message per letter, ready to open in a mail client"),
            Format::Mbox => {
                PossibleValue::new("mbox").help("Every letter in one mbox file (mboxrd)")
            }
            Format::Html => PossibleValue::new("html")
                .help("One HTML page with a card and a mailto: link per recipient"),
            Format::Pdf => PossibleValue::new("pdf")
                .help("One print-ready PDF per letter (or one for all with --one-file)"),
        })
    }
}

impl ValueEnum for Paper {
    fn value_variants<'a>() -> &'a [Self] {
        &[Paper::A4, Paper::Letter]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self {
            Paper::A4 => PossibleValue::new("a4").help("210 x 297 mm"),
            Paper::Letter => PossibleValue::new("letter").help("US Letter, 8.5 x 11 in"),
        })
    }
}
