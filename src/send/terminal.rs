//! How a run asks and reports without knowing what is there to ask: the cli layer implements
//! [`Terminal`] (a y/N question, a hidden password, a progress bar) and this layer only calls it.
//! [`LogLines`], the plain report for a log file or a pipe, needs no terminal and lives here.

use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

use crate::error::Result;

/// What `send` asks of whoever runs it; the cli layer answers on the terminal.
pub trait Terminal {
    /// Whether someone is there to answer: a password the URL's user needs may then be asked
    /// for instead of refused.
    fn can_ask(&self) -> bool;
    /// The last question before the first of `letters` letters leaves; `false` sends nothing.
    fn confirm(&self, letters: u64) -> Result<bool>;
    /// A secret typed without echo, asked with `prompt` (such as "Password for ada at host").
    fn secret(&self, prompt: &str) -> Result<String>;
    /// Where the run reports each of its `total` letters, which go at most one per `interval`
    /// (none for an unlimited rate).
    fn progress(&self, total: u64, interval: Option<Duration>) -> Box<dyn Progress>;
}

/// What just happened to a letter, for whoever shows the run's progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Sent,
    /// Tried again after a pause.
    Retry,
    Failed,
    Deferred,
    /// Handed over, but the server's verdict never came.
    Uncertain,
    /// The run stops on this letter.
    Stopped,
}

/// Where the run reports each step: plain lines for a log or a pipe ([`LogLines`]), a progress
/// bar on a terminal (in the cli layer, the only one that draws on one). Shared by the
/// connection threads.
pub trait Progress: Send + Sync {
    /// `line` is the step as a log line, such as `sent     a@x.example (250 OK)`.
    fn step(&self, step: Step, line: &str);
    /// The run is over, finished or stopped.
    fn finish(&self);
}

/// One line per step, as a log file or a pipe wants it, each written as it happens.
pub struct LogLines<W: Write>(Mutex<W>);

impl<W: Write + Send> LogLines<W> {
    pub fn new(out: W) -> Self {
        LogLines(Mutex::new(out))
    }
}

impl<W: Write + Send> Progress for LogLines<W> {
    fn step(&self, _: Step, line: &str) {
        let mut out = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(out, "{line}");
    }

    fn finish(&self) {
        let _ = self.0.lock().unwrap_or_else(|e| e.into_inner()).flush();
    }
}
