//! One error type, rendered in one place, so every message carries where it happened and what to
//! do about it.

use std::fmt;
use std::path::{Path, PathBuf};

/// Exit codes, documented in the README and docs/commands.md.
pub const EXIT_INVALID: i32 = 1;
pub const EXIT_USAGE: i32 = 2;
pub const EXIT_IO: i32 = 3;
/// `send`: some letters were not sent (refused, deferred, skipped as uncertain, or the run stopped).
pub const EXIT_UNSENT: i32 = 4;
/// `send`: another run is sending with the same journal; nothing was done.
pub const EXIT_BUSY: i32 = 5;

/// A problem found in the user's input, with as much location as is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diag {
    pub file: Option<String>,
    pub line: Option<u64>,
    pub column: Option<u64>,
    /// CSV column or TOML key the problem is about.
    pub field: Option<String>,
    pub message: String,
    pub hint: Option<String>,
}

impl Diag {
    pub fn new(message: impl Into<String>) -> Self {
        Diag {
            file: None,
            line: None,
            column: None,
            field: None,
            message: message.into(),
            hint: None,
        }
    }
    pub fn file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }
    pub fn line(mut self, line: u64) -> Self {
        self.line = Some(line);
        self
    }
    pub fn column(mut self, column: u64) -> Self {
        self.column = Some(column);
        self
    }
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The last line of a list cut short: how many problems were found but not listed.
    pub fn unlisted(count: usize) -> Self {
        Diag::new(format!("... and {count} more problems not listed"))
    }

    fn is_unlisted(&self) -> bool {
        self.file.is_none() && self.message.starts_with("... and ")
    }
}

impl fmt::Display for Diag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}")?;
            if let Some(line) = self.line {
                write!(f, ":{line}")?;
                if let Some(col) = self.column {
                    write!(f, ":{col}")?;
                }
            }
            write!(f, ": ")?;
        }
        if let Some(field) = &self.field {
            let kind = match &self.file {
                Some(file) if file.ends_with(".csv") => "column",
                _ => "key",
            };
            write!(f, "{kind} `{field}`: ")?;
        }
        write!(f, "{}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  help: {hint}")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The campaign or its data cannot be used as it is.
    #[error("{0}")]
    Invalid(Diag),
    /// Several problems, all reported, so a campaigner can fix them in one go.
    #[error("{}", render_many(.0))]
    Many(Vec<Diag>),
    /// The command line asks for something that does not exist.
    #[error("{0}")]
    Usage(Diag),
    /// Another run holds what this one needs (the send journal).
    #[error("{0}")]
    Busy(Diag),
    /// Reading or writing a file failed.
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn render_many(diags: &[Diag]) -> String {
    let mut out = String::new();
    for (i, d) in diags.iter().enumerate() {
        if i > 0 {
            out.push_str("\nerror: ");
        }
        out.push_str(&d.to_string());
    }
    // The line saying how many more there were is not one of them.
    let listed = diags.iter().filter(|d| !d.is_unlisted()).count();
    out.push_str(&format!(
        "\n{} problem{} found; nothing was written",
        listed,
        if listed == 1 { "" } else { "s" }
    ));
    out
}

impl Error {
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Invalid(_) | Error::Many(_) => EXIT_INVALID,
            Error::Usage(_) => EXIT_USAGE,
            Error::Busy(_) => EXIT_BUSY,
            Error::Io { .. } => EXIT_IO,
        }
    }

    /// Collapse a list of problems into one error (or none). Problems that share a place in a
    /// template (a misspelt variable fails for every row) are listed once, with a count.
    pub fn from_diags(diags: Vec<Diag>) -> Result<(), Error> {
        if diags.is_empty() {
            return Ok(());
        }
        let mut out: Vec<(Diag, usize)> = Vec::new();
        for d in diags {
            let same_place = |o: &&mut (Diag, usize)| {
                o.0.file == d.file
                    && o.0.line == d.line
                    && o.0.column.is_some()
                    && o.0.column == d.column
                    && o.0.field == d.field
            };
            match out.iter_mut().find(|o| same_place(o)) {
                Some(o) => o.1 += 1,
                None => out.push((d, 0)),
            }
        }
        Err(Error::Many(
            out.into_iter()
                .map(|(mut d, more)| {
                    if more > 0 {
                        d.message
                            .push_str(&format!(" (the same problem for {more} more recipients)"));
                    }
                    d
                })
                .collect(),
        ))
    }
}

impl From<Diag> for Error {
    fn from(d: Diag) -> Self {
        Error::Invalid(d)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
