//! The volunteer's mail as a mail program exports it: one mbox file, a maildir (the files of its
//! `cur/` and `new/`), or a folder of `.eml` files. Each message is handed on as its bytes with
//! where it came from, so that a message that cannot be read is named in a warning.

use std::fmt;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use crate::error::{Diag, Error, Result};

/// Where the mail is.
#[derive(Debug, Clone)]
pub enum Mailbox {
    Mbox(PathBuf),
    Maildir(PathBuf),
    Eml(PathBuf),
}

/// Where one message came from: its file, and in an mbox the line its `From ` line is on.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    pub file: &'a Path,
    pub line: Option<u64>,
}

impl fmt::Display for Place<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}", self.file.display()),
            None => write!(f, "{}", self.file.display()),
        }
    }
}

impl Mailbox {
    /// Hands every message to `each`, in file order (a folder's files by name), and says how
    /// many there were. A file of a folder that cannot be read is skipped with a warning; an
    /// mbox or folder that cannot be read at all is an error.
    pub fn each(&self, mut each: impl FnMut(Place, &[u8])) -> Result<u64> {
        match self {
            Mailbox::Mbox(path) => mbox(path, each),
            Mailbox::Maildir(dir) => {
                let hint = "a maildir is the folder holding `cur` and `new`; for a folder of .eml files pass --eml";
                let mut files = Vec::new();
                for sub in ["cur", "new"] {
                    files.extend(files_in(&dir.join(sub), hint, |_| true)?);
                }
                Ok(read_files(&files, &mut each))
            }
            Mailbox::Eml(dir) => {
                let hint = "pass the folder your mail program saved the .eml files in";
                let eml = |name: &str| name.to_ascii_lowercase().ends_with(".eml");
                Ok(read_files(&files_in(dir, hint, eml)?, &mut each))
            }
        }
    }
}

/// An mbox split with mail-parser's reader (which undoes `>From ` quoting). Lines are counted
/// to name each message's place; that needs the file to start with a `From ` line, as every
/// mbox does, or the reader would drop what comes before it unseen.
fn mbox(path: &Path, mut each: impl FnMut(Place, &[u8])) -> Result<u64> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let start = reader.fill_buf().map_err(|e| Error::io(path, e))?;
    if !start.is_empty() && !start.starts_with(b"From ") {
        let why = "this is not an mbox file: it does not start with a `From ` line";
        let hint = "export the folder as mbox from your mail program, or pass --eml DIR for a folder of .eml files";
        let diag = Diag::new(why).file(path.display().to_string()).line(1);
        return Err(Error::Invalid(diag.hint(hint)));
    }
    let (mut line, mut count) = (1u64, 0u64);
    for message in mail_parser::mailbox::mbox::MessageIterator::new(reader) {
        let message = message.map_err(|e| Error::io(path, e))?;
        let contents = message.contents();
        each(
            Place {
                file: path,
                line: Some(line),
            },
            contents,
        );
        count += 1;
        line += 1 + memchr::memchr_iter(b'\n', contents).count() as u64;
    }
    Ok(count)
}

/// The files of `dir` whose names `keep`, by name; hidden files (a mail program's own) left out.
fn files_in(dir: &Path, hint: &str, keep: impl Fn(&str) -> bool) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            Error::Invalid(Diag::new(format!("no folder {}", dir.display())).hint(hint))
        }
        _ => Error::io(dir, e),
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if !name.starts_with('.') && keep(&name) && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

fn read_files(files: &[PathBuf], each: &mut impl FnMut(Place, &[u8])) -> u64 {
    let mut count = 0;
    for file in files {
        match std::fs::read(file) {
            Ok(bytes) => {
                each(Place { file, line: None }, &bytes);
                count += 1;
            }
            Err(e) => eprintln!("warning: {}: cannot read it, skipped: {e}", file.display()),
        }
    }
    count
}
