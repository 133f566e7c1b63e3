//! Command-line definitions only: the doc comments here are the `--help` text users read.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Turn a campaign statement into personalised letters: mail files, a page of
/// `mailto:` links, or (later) delivery through your own mail account.
#[derive(Debug, Parser)]
#[command(name = "letterdrive", version, about, max_term_width = 100)]
pub struct Cli {
    /// Campaign directory (holds campaign.toml, templates/, recipients/). Defaults to the current
    /// directory when it holds a campaign.toml, otherwise the campaign bundled in the binary.
    #[arg(long, global = true, env = "LETTERDRIVE_CAMPAIGN", value_name = "DIR")]
    pub campaign: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the recipient groups: id, label, number of recipients, description.
    Groups,
    /// Validate the whole campaign and list every problem; exits 0 only when it can be sent.
    Check(CheckArgs),
    /// Show one rendered letter, headers and body.
    Preview(PreviewArgs),
    /// Write every letter of a group as .txt, .eml, one mbox, or one HTML page of mailto: links.
    Render(RenderArgs),
    /// Write the bundled campaign into DIR so you can edit it; refuses to overwrite.
    Init(InitArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Treat warnings (such as placeholder addresses) as errors.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Directory to create (must not exist, or be empty).
    pub dir: PathBuf,
}

/// Which recipients of which group.
#[derive(Debug, Args, Clone)]
pub struct TargetArgs {
    /// Recipient group id (see `letterdrive groups`).
    #[arg(long, short = 'g', value_name = "GROUP")]
    pub group: String,

    /// Keep only rows where COLUMN equals one of the VALUES (case-insensitive). Repeatable; every
    /// condition must hold. Example: --where country=Japan,France --where role=third-state
    #[arg(long = "where", value_name = "COLUMN=VALUE[,VALUE...]")]
    pub filters: Vec<String>,

    /// Stop after N letters (after filtering).
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
}

/// Who signs the letters, and the date they carry.
#[derive(Debug, Args, Clone, Default)]
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
    /// {{personal_note}}.
    #[arg(long, value_name = "FILE")]
    pub note: Option<PathBuf>,

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

    #[command(flatten)]
    pub signer: SignerArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One plain-text file per letter: headers, then the Markdown body.
    Txt,
    /// One RFC 5322 message per letter, ready to open in a mail client.
    Eml,
    /// Every letter in one mbox file (mboxrd).
    Mbox,
    /// One HTML page with a card and a mailto: link per recipient.
    Html,
}
