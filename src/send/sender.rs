//! Delivery: every letter of a target validated and rendered first, then handed to a
//! `lettre::Transport` one by one at a set rate, each step written to the journal before the next,
//! with retries for temporary trouble. Generic over the transport, so the rules are tested with a
//! scripted one and the binary uses lettre's pooled `SmtpTransport`.

use std::collections::HashMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use lettre::{Message, Transport};

use crate::campaign::Campaign;
use crate::cli::{SendArgs, StatusArgs};
use crate::error::{Diag, Error, Result, EXIT_UNSENT};
use crate::journal::{self, Journal, Pending, State, Status};
use crate::letters::{Run, Target};
use crate::plural;
use crate::profile::{self, Profile};
use crate::recipients::Recipients;
use crate::render::LetterInputs;
use crate::settings::{letter_inputs, SignerNeed};
use crate::smtp::{Request, Server};
use crate::smtp_config::{self, Origin, ProfileSmtp, SmtpConfig};

/// How fast letters may leave: providers cap messages per minute or per day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rate {
    Unlimited,
    Every { count: u32, period: Duration },
}

impl Rate {
    pub fn parse(s: &str) -> Result<Rate> {
        let bad = || {
            Error::Usage(
                Diag::new(format!("--rate `{s}` is not a rate")).hint(
                    "write it as N/PERIOD: 20/min, 50/5min, 500/day, 3/s, or `unlimited` for a local relay",
                ),
            )
        };
        let t = s.trim().to_ascii_lowercase();
        if t == "unlimited" {
            return Ok(Rate::Unlimited);
        }
        let (n, period) = t.split_once('/').ok_or_else(bad)?;
        let count: u32 = n.trim().parse().ok().filter(|n| *n > 0).ok_or_else(bad)?;
        let period = period.trim();
        let digits = period.bytes().take_while(u8::is_ascii_digit).count();
        let times: u64 = if digits == 0 {
            1
        } else {
            period[..digits]
                .parse()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(bad)?
        };
        let unit = match period[digits..].trim() {
            "s" | "sec" | "second" | "seconds" => 1,
            "m" | "min" | "minute" | "minutes" => 60,
            "h" | "hour" | "hours" => 3600,
            "d" | "day" | "days" => 86400,
            _ => return Err(bad()),
        };
        Ok(Rate::Every {
            count,
            period: Duration::from_secs(times * unit),
        })
    }

    fn interval(self) -> Option<Duration> {
        match self {
            Rate::Unlimited => None,
            Rate::Every { count, period } => Some(period / count),
        }
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rate::Unlimited => write!(f, "unlimited"),
            Rate::Every { count, period } => {
                let s = period.as_secs();
                let (n, unit) = match s {
                    _ if s % 86400 == 0 => (s / 86400, "day"),
                    _ if s % 3600 == 0 => (s / 3600, "h"),
                    _ if s % 60 == 0 => (s / 60, "min"),
                    _ => (s, "s"),
                };
                if n == 1 {
                    write!(f, "{count}/{unit}")
                } else {
                    write!(f, "{count}/{n}{unit}")
                }
            }
        }
    }
}

/// Spaces messages evenly: the n-th leaves no earlier than n intervals after the first.
struct Limiter {
    interval: Option<Duration>,
    next: Option<Instant>,
}

impl Limiter {
    /// The time the next message may leave, taken for it; `None`: now.
    fn reserve(&mut self) -> Option<Instant> {
        let interval = self.interval?;
        let now = Instant::now();
        let at = self.next.map_or(now, |n| n.max(now));
        self.next = Some(at + interval);
        (at > now).then_some(at)
    }

    #[cfg(test)]
    fn wait(&mut self) {
        if let Some(at) = self.reserve() {
            std::thread::sleep(at.saturating_duration_since(Instant::now()));
        }
    }
}

/// How often a connection waiting for its turn under the rate looks whether the run has stopped.
const STOP_CHECK: Duration = Duration::from_millis(100);

/// What kind of trouble a failed send is, which decides what happens next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trouble {
    /// 5xx for this recipient: recorded as failed; the run goes on.
    Permanent,
    /// 4xx: retried, then recorded as deferred; the run goes on.
    Transient,
    /// The server could not be reached or the connection broke: retried, then the run stops.
    Network,
    /// Nothing will work until the user changes something (TLS, login): the run stops now.
    Fatal,
    /// The whole letter went, but no verdict came back (a timeout or a broken connection while
    /// the server had it): it may have arrived. Recorded as uncertain and never retried
    /// unasked; the run goes on.
    Unknown,
}

/// A transport's error, classified.
pub trait Classify: fmt::Display {
    fn trouble(&self) -> Trouble;
}

/// A transport's success, as the text the journal keeps.
pub trait Reply {
    fn reply(&self) -> String;
}

impl Classify for lettre::transport::smtp::Error {
    fn trouble(&self) -> Trouble {
        if self.is_after_data() {
            Trouble::Unknown
        } else if self.is_permanent() {
            // A refused login fails every letter the same way: stop instead of failing them all.
            let auth = self
                .status()
                .is_some_and(|c| matches!(c.to_string().as_str(), "530" | "534" | "535" | "538"));
            if auth {
                Trouble::Fatal
            } else {
                Trouble::Permanent
            }
        } else if self.is_transient() {
            Trouble::Transient
        } else if self.is_tls() || self.is_client() || is_bad_data(self) {
            Trouble::Fatal
        } else {
            Trouble::Network
        }
    }
}

/// TLS failures (an untrusted certificate, a server that does not speak TLS) reach us as I/O
/// errors of kind `InvalidData`; retrying them cannot help.
fn is_bad_data(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = e.source();
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return io.kind() == std::io::ErrorKind::InvalidData;
        }
        source = err.source();
    }
    false
}

impl Classify for lettre::transport::stub::Error {
    fn trouble(&self) -> Trouble {
        Trouble::Permanent
    }
}

impl Reply for lettre::transport::smtp::response::Response {
    fn reply(&self) -> String {
        format!(
            "{} {}",
            self.code(),
            self.message().collect::<Vec<_>>().join(" ")
        )
    }
}

impl Reply for () {
    fn reply(&self) -> String {
        "accepted".to_string()
    }
}

/// What to do with one recipient, given the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Send,
    AlreadySent,
    Uncertain,
}

pub fn decide(state: Option<State>, resend_uncertain: bool) -> Decision {
    match state {
        Some(State::Sent) => Decision::AlreadySent,
        Some(State::Uncertain) if !resend_uncertain => Decision::Uncertain,
        _ => Decision::Send,
    }
}

#[derive(Debug, Clone)]
pub struct Policy {
    pub retries: u32,
    /// No retry starts once this much time has gone into one letter, so a dead server stops the
    /// run within about a minute, whatever `retries` says.
    pub budget: Duration,
    pub retry_delay: Duration,
    pub rate: Rate,
    pub max: Option<u64>,
    pub resend_uncertain: bool,
}

/// A recipient whose letter did not go, with the server's last word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsent {
    pub line: u64,
    pub email: String,
    pub reply: String,
}

#[derive(Debug, Default)]
pub struct Report {
    pub sent: u64,
    pub already_sent: u64,
    pub uncertain: Vec<String>,
    pub failed: Vec<Unsent>,
    pub deferred: Vec<Unsent>,
    /// Handed over in full in this run, with no verdict from the server.
    pub unknown: Vec<Unsent>,
    /// Left for a later run by `--max`.
    pub over_max: u64,
    /// Why the run stopped early, if it did.
    pub aborted: Option<String>,
    /// It stopped on something a rerun alone will not fix (TLS, login).
    pub fatal: bool,
    /// The first record the journal could not take; every error after it only follows from it.
    pub journal_error: Option<Error>,
}

impl Report {
    pub fn all_sent(&self) -> bool {
        self.failed.is_empty()
            && self.deferred.is_empty()
            && self.uncertain.is_empty()
            && self.unknown.is_empty()
            && self.aborted.is_none()
    }
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
/// bar on a terminal (in prompt.rs, the only file that draws on one). Shared by the connection
/// threads.
pub trait Progress: Send + Sync {
    /// `line` is the step as a log line, such as `sent     a@x.example (250 OK)`.
    fn step(&self, step: Step, line: &str);
    /// The run is over, finished or stopped.
    fn finish(&self);
}

/// One line per step, as a log file or a pipe wants it. Lines are buffered and written out by a
/// thread of its own at least every quarter of a second, and at the end: at thousands of letters
/// a second, a write per line is CPU the sending needs, while a line waiting longer would hide
/// the last letter before a pause (a retry, a slow server) from someone watching the log.
pub struct LogLines<W: Write>(Arc<Mutex<std::io::BufWriter<W>>>);

/// How long a log line may wait in the buffer.
const LOG_FLUSH: Duration = Duration::from_millis(250);

impl<W: Write + Send + 'static> LogLines<W> {
    pub fn new(out: W) -> Self {
        let out = Arc::new(Mutex::new(std::io::BufWriter::new(out)));
        let weak = Arc::downgrade(&out);
        // Ends within a quarter second of the last `LogLines` going away.
        std::thread::spawn(move || loop {
            std::thread::sleep(LOG_FLUSH);
            match weak.upgrade() {
                Some(out) => {
                    let _ = out.lock().unwrap_or_else(|e| e.into_inner()).flush();
                }
                None => return,
            }
        });
        LogLines(out)
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

/// One letter, ready to go.
pub struct Outgoing {
    pub line: u64,
    pub email: String,
    pub message_id: String,
    pub message: Message,
}

/// Sends letters, from one thread or several: the journal, the rate and the report are shared.
pub struct Sender<'a, T> {
    transport: &'a T,
    journal: Mutex<&'a mut Journal>,
    group: String,
    policy: Policy,
    limiter: Mutex<Limiter>,
    progress: Box<dyn Progress + 'a>,
    report: Mutex<Report>,
    /// Letters admitted to this run, for `--max`.
    started: AtomicU64,
    /// The journal could not be written: nothing more may go.
    halted: AtomicBool,
    /// A thread that syncs queued records as soon as they are written (see `with_syncer`).
    syncer: Option<crossbeam_channel::Sender<Pending>>,
}

impl<'a, T> Sender<'a, T>
where
    T: Transport,
    T::Ok: Reply,
    T::Error: Classify,
{
    pub fn new(
        transport: &'a T,
        journal: &'a mut Journal,
        group: &str,
        policy: Policy,
        progress: Box<dyn Progress + 'a>,
    ) -> Self {
        Sender {
            transport,
            journal: Mutex::new(journal),
            group: group.to_string(),
            limiter: Mutex::new(Limiter {
                interval: policy.rate.interval(),
                next: None,
            }),
            policy,
            progress,
            report: Mutex::new(Report::default()),
            started: AtomicU64::new(0),
            halted: AtomicBool::new(false),
            syncer: None,
        }
    }

    /// Run `f` with a thread that syncs queued records soon after they are written, in batches,
    /// so that letters queued ahead of their turn ([`Sender::queue`]) are on disk by the time a
    /// connection takes them and no connection waits for the disk.
    pub fn with_syncer<R>(&mut self, f: impl FnOnce(&Self) -> R) -> R {
        std::thread::scope(|scope| {
            // One waiting kick is enough: its sync covers everything written before it starts.
            let (tx, rx) = crossbeam_channel::bounded::<Pending>(1);
            scope.spawn(move || {
                while let Ok(mut pending) = rx.recv() {
                    // Let more records gather first: a sync costs the same CPU for one record
                    // as for ten, and on two cores that CPU is what the sending is short of. A
                    // connection that needs a record sooner syncs it itself.
                    std::thread::sleep(SYNC_GATHER);
                    if let Ok(later) = rx.try_recv() {
                        pending = later;
                    }
                    // A failed sync is remembered by the journal and reported to every waiter.
                    let _ = pending.wait();
                }
            });
            self.syncer = Some(tx);
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(self)));
            // Closing the channel ends the thread, which the scope then joins: also when `f`
            // panicked, or the scope would wait for the thread forever.
            self.syncer = None;
            result.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }

    fn report(&self) -> MutexGuard<'_, Report> {
        self.report.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn say(&self, step: Step, line: std::fmt::Arguments<'_>) {
        self.progress.step(step, &line.to_string());
    }

    /// Sleep until `until`, in steps, so that a stop meanwhile ends the pause within a moment.
    fn pause_until(&self, until: Instant) {
        while !self.stopped() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            std::thread::sleep(left.min(STOP_CHECK));
        }
    }

    /// Whether the run has stopped (on this thread or another).
    pub fn stopped(&self) -> bool {
        self.halted.load(Ordering::SeqCst) || self.report().aborted.is_some()
    }

    /// Send one letter unless the journal says otherwise. An error means the run must stop (the
    /// reason is in the report, or the journal could not be written).
    pub fn offer(&self, letter: Outgoing) -> Result<()> {
        match self.admit(letter) {
            Some(letter) => self.deliver(Ready::unqueued(letter)),
            None => Ok(()),
        }
    }

    /// Whether letters are queued ahead of their turn ([`Sender::queue`]): only when they are not
    /// spaced out by a rate, where the syncs it saves matter and a queued letter waits
    /// milliseconds, not minutes.
    pub fn pipelined(&self) -> bool {
        self.policy.rate.interval().is_none()
    }

    /// Whether the letter goes, from the journal and `--max`. Called in row order, from one
    /// thread, so `--max N` sends the first N letters due whatever the connections do.
    pub fn admit(&self, letter: Outgoing) -> Option<Outgoing> {
        let state = self
            .journal
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .state(&self.group, &letter.email);
        match decide(state, self.policy.resend_uncertain) {
            Decision::AlreadySent => {
                self.report().already_sent += 1;
                return None;
            }
            Decision::Uncertain => {
                self.report().uncertain.push(letter.email);
                return None;
            }
            Decision::Send => {}
        }
        if let Some(max) = self.policy.max {
            if self.started.fetch_add(1, Ordering::SeqCst) >= max {
                self.report().over_max += 1;
                return None;
            }
        }
        Some(letter)
    }

    /// Write the letter's queued record now, ahead of its turn: the syncer thread takes it to
    /// disk while the connections are busy with the letters before it, so that one sync covers
    /// many letters and no connection waits for one. Only where letters are not spaced out by a
    /// rate (see [`Sender::pipelined`]).
    pub fn queue(&self, letter: Outgoing) -> Result<Ready> {
        let queued = self.write(&letter, Status::Queued, None)?;
        Ok(Ready {
            letter,
            queued: Some(queued),
        })
    }

    /// Hand the letter to the server once its queued record is on disk (writing it first, after
    /// its turn under the rate, unless [`Sender::queue`] did), retry what may be retried, and
    /// record the outcome.
    pub fn deliver(&self, ready: Ready) -> Result<()> {
        let Ready { letter, queued } = ready;
        let mut queued = match queued {
            Some(queued) => Some(queued),
            None => {
                // The turn is taken under the lock and waited for outside it, so that a stop is
                // seen within a moment, not after every other connection's turn.
                let turn = self
                    .limiter
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .reserve();
                if let Some(at) = turn {
                    self.pause_until(at);
                }
                if self.stopped() {
                    return Err(aborted());
                }
                Some(self.write(&letter, Status::Queued, None)?)
            }
        };
        let started = Instant::now();
        let mut tries = 0;
        loop {
            if self.stopped() {
                if queued.is_some() {
                    // Queued but never handed over: a rerun must send it.
                    self.record(&letter, Status::Deferred, Some(NOT_SENT))?;
                }
                return Err(aborted());
            }
            tries += 1;
            match queued.take() {
                // After a crash of the machine, the queued record alone says `uncertain`; after
                // the process is killed, the attempt record (in the file, synced or not) does.
                Some(pending) => {
                    pending.wait()?;
                    self.record(&letter, Status::Attempt, None)?;
                }
                // A retry: the deferred record before it may be on disk, and would say "not
                // sent"; this attempt must be on disk before the letter goes again.
                None => self.write(&letter, Status::Attempt, None)?.wait()?,
            }
            match self.transport.send(&letter.message) {
                Ok(ok) => {
                    let reply = ok.reply();
                    self.record(&letter, Status::Sent, Some(&reply))?;
                    self.report().sent += 1;
                    self.say(
                        Step::Sent,
                        format_args!("sent     {} ({reply})", letter.email),
                    );
                    return Ok(());
                }
                Err(e) => {
                    let reply = e.to_string();
                    let trouble = e.trouble();
                    // Final for this run: refused for good, or (Unknown) perhaps delivered, where
                    // sending it again could deliver it twice; the journal keeps it uncertain,
                    // for the volunteer to check and `--resend-uncertain`.
                    let settled = match trouble {
                        Trouble::Permanent => Some((Status::Failed, Step::Failed, "failed   ")),
                        Trouble::Unknown => {
                            Some((Status::Uncertain, Step::Uncertain, "uncertain "))
                        }
                        _ => None,
                    };
                    if let Some((status, step, word)) = settled {
                        self.record(&letter, status, Some(&reply))?;
                        self.say(step, format_args!("{word}{} ({reply})", letter.email));
                        let mut report = self.report();
                        let list = match status {
                            Status::Failed => &mut report.failed,
                            _ => &mut report.unknown,
                        };
                        list.push(unsent(&letter, reply));
                        return Ok(());
                    }
                    // Not delivered: the server said so, or never took the letter.
                    self.record(&letter, Status::Deferred, Some(&reply))?;
                    let delay = self.policy.retry_delay * 2u32.saturating_pow(tries - 1);
                    let retry = matches!(trouble, Trouble::Transient | Trouble::Network)
                        && tries <= self.policy.retries
                        && started.elapsed() + delay < self.policy.budget;
                    if retry {
                        self.say(
                            Step::Retry,
                            format_args!(
                                "retry    {} in {:.1}s ({reply})",
                                letter.email,
                                delay.as_secs_f64()
                            ),
                        );
                        // A stop meanwhile is seen by the loop's first check.
                        self.pause_until(Instant::now() + delay);
                        continue;
                    }
                    let (step, word) = if trouble == Trouble::Fatal {
                        (Step::Stopped, "stopped ")
                    } else {
                        (Step::Deferred, "deferred")
                    };
                    self.say(step, format_args!("{word} {} ({reply})", letter.email));
                    let mut report = self.report();
                    report.deferred.push(unsent(&letter, reply.clone()));
                    if trouble != Trouble::Transient {
                        if report.aborted.is_none() {
                            report.fatal = trouble == Trouble::Fatal;
                            report.aborted = Some(reply);
                        }
                        return Err(aborted());
                    }
                    return Ok(());
                }
            }
        }
    }

    /// A letter that will not be delivered because the run stopped first: if it was queued, the
    /// record gets an outcome, so a rerun sends it even after a crash of the machine.
    pub fn release(&self, ready: Ready) -> Result<()> {
        match ready.queued {
            Some(_) => self.record(&ready.letter, Status::Deferred, Some(NOT_SENT)),
            None => Ok(()),
        }
    }

    /// Ends the run, giving back the journal borrow.
    pub fn into_report(self) -> Report {
        self.progress.finish();
        self.report.into_inner().unwrap_or_else(|e| e.into_inner())
    }

    /// A letter's queued record is on disk before it goes, so a crash of the machine from then
    /// on leaves the letter `uncertain`, never resent unasked; so is the attempt before a retry.
    /// Every other record is written at once but not waited for: a later sync (on any
    /// connection) or the one at the end of the run takes it to disk. Until then only a crash of
    /// the whole machine could lose it (a killed process's writes survive it), and what that
    /// leaves is again `uncertain`. Waiting for each would triple the syncs per letter.
    fn record(&self, letter: &Outgoing, status: Status, reply: Option<&str>) -> Result<()> {
        self.write(letter, status, reply).map(drop)
    }

    /// The fsync runs outside the journal's lock, so other senders' records join it.
    fn write(&self, letter: &Outgoing, status: Status, reply: Option<&str>) -> Result<Pending> {
        let written = self
            .journal
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .write(
                &self.group,
                &letter.email,
                &letter.message_id,
                status,
                reply,
            );
        let pending = match written {
            Ok(pending) => pending,
            Err(e) => {
                self.halted.store(true, Ordering::SeqCst);
                self.report().journal_error.get_or_insert(e);
                return Err(aborted());
            }
        };
        if status == Status::Queued {
            // Start the sync now, so it runs while the connections are busy with earlier letters.
            if let Some(kick) = &self.syncer {
                let _ = kick.try_send(pending.share());
            }
        }
        Ok(pending)
    }
}

/// How long the syncer thread lets queued records gather before it syncs them. Letters are queued
/// a few milliseconds before their turn when sending flat out (the channel holds four per
/// connection); measured on an ext4 disk, 1 ms made a sync cover several records and sending as
/// fast as with the journal on tmpfs, where a sync costs nothing.
const SYNC_GATHER: Duration = Duration::from_millis(1);

/// The reply recorded for a letter that was queued but never went.
const NOT_SENT: &str = "not sent: the run stopped before this letter's turn";

/// A letter on its way to a connection, its queued record written or not yet.
pub struct Ready {
    letter: Outgoing,
    queued: Option<Pending>,
}

impl Ready {
    /// A letter to be queued only when its turn comes.
    pub fn unqueued(letter: Outgoing) -> Ready {
        Ready {
            letter,
            queued: None,
        }
    }
}

fn unsent(letter: &Outgoing, reply: String) -> Unsent {
    Unsent {
        line: letter.line,
        email: letter.email.clone(),
        reply,
    }
}

fn aborted() -> Error {
    Error::Invalid(Diag::new("the run stopped"))
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}min {}s", s / 60, s % 60),
        _ => format!("{}h {}min", s / 3600, (s % 3600) / 60),
    }
}

/// `--retries`, `--retry-delay-ms` and `--timeout` when not given, and the guided run's values.
pub const DEFAULT_RETRIES: u32 = 3;
pub const DEFAULT_RETRY_DELAY_MS: u64 = 2000;
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;

/// Everything one run of `send` needs, as plain values: made from the flags by `command`, or
/// from the guided run's answers.
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
    pub yes: bool,
    pub dry_run: bool,
    pub test_to: Option<String>,
    pub failed_csv: Option<PathBuf>,
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
            yes: false,
            dry_run: false,
            test_to: None,
            failed_csv: None,
        }
    }
}

/// The profile `send` reads its `[smtp]` table from, if there is one.
pub fn load_profile(flag: Option<&Path>) -> Result<Option<(PathBuf, Profile)>> {
    match profile::location(flag) {
        Some(path) => Ok(profile::load(&path)?.map(|p| (path, p))),
        None => Ok(None),
    }
}

/// `letterdrive send`. `profile_flag` is `--profile`: the profile's `[smtp]` table may hold the
/// server settings.
pub fn command(campaign: &Campaign, args: &SendArgs, profile_flag: Option<&Path>) -> Result<i32> {
    let inputs = letter_inputs(&args.signer, SignerNeed::Required)?;
    let profile = load_profile(profile_flag)?;
    let config = smtp_config::resolve(
        &args.into(),
        &|key| std::env::var(key).ok(),
        profile.as_ref().map(|(path, p)| ProfileSmtp {
            path,
            smtp: &p.smtp,
        }),
    )?;
    let job = SendJob {
        target: crate::commands::target(&args.target),
        inputs,
        config,
        insecure: args.insecure,
        timeout: Duration::from_secs(args.timeout.max(1)),
        journal: args.journal.clone(),
        max: args.max,
        retries: args.retries,
        retry_delay: Duration::from_millis(args.retry_delay_ms),
        resend_uncertain: args.resend_uncertain,
        yes: args.yes,
        dry_run: args.dry_run,
        test_to: args.test_to.clone(),
        failed_csv: args.failed_csv.clone(),
    };
    run(campaign, &job)
}

/// The core of `send`, shared with the guided run: summary, confirmation, delivery, report.
pub fn run(campaign: &Campaign, job: &SendJob) -> Result<i32> {
    let (config, inputs, target) = (&job.config, &job.inputs, &job.target);
    let rate = Rate::parse(&config.rate.value).map_err(|e| match &config.rate.origin {
        Origin::Flag(_) => e,
        origin => Error::Usage(
            Diag::new(format!("the rate `{}` ({origin}) is not a rate", config.rate.value))
                .hint("write it as N/PERIOD: 20/min, 50/5min, 500/day, 3/s, or `unlimited` for a local relay"),
        ),
    })?;
    let server = match (&config.url, job.dry_run) {
        (Some(url), _) => Some(Server::parse(Request {
            url: &url.value,
            insecure: job.insecure,
            secret: config.secret.value.clone(),
            can_ask: crate::prompt::can_ask(),
            ca_file: config.ca_file.as_ref().map(|f| f.value.clone()),
            timeout: job.timeout,
        })?),
        (None, true) => None,
        (None, false) => {
            return Err(Error::Usage(
                Diag::new("which mail server? --smtp is missing").hint(
                    "pass --smtp smtps://you@mail.example.org (or set LETTERDRIVE_SMTP_URL, or `url` in the profile's [smtp] table); try --dry-run first",
                ),
            ))
        }
    };
    let journal_path = job
        .journal
        .clone()
        .unwrap_or_else(|| journal::default_path(&campaign.source));
    // Taken before the journal is read, so what it says stays true until this run ends.
    let _lock = if job.dry_run {
        None
    } else {
        Some(journal::lock(&journal_path)?)
    };
    let mut journal = Journal::open(&journal_path, &campaign.id)?;
    if journal.unreadable > 0 {
        eprintln!(
            "warning: {}: {} unreadable (a record cut short by a crash); they are ignored",
            journal_path.display(),
            plural(journal.unreadable, "line")
        );
    }

    // Pre-flight: every targeted letter validated, rendered and built before any leaves.
    let run = Run::open(campaign, target, inputs)?;
    let group = run.group.id.clone();
    let from = run.settings.from.to_string();
    let (mut to_send, mut already, mut uncertain) = (0u64, 0u64, 0u64);
    let total = run.each(
        target.limit,
        true,
        |letter, _| letter.email.clone(),
        |email| {
            match decide(journal.state(&group, &email), job.resend_uncertain) {
                Decision::Send => to_send += 1,
                Decision::AlreadySent => already += 1,
                Decision::Uncertain => uncertain += 1,
            }
            Ok(())
        },
    )?;
    let planned = job.max.map_or(to_send, |m| to_send.min(m));

    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{} of group `{group}` (campaign `{}`): {} to send, {} already sent, {} uncertain",
        plural(total, "letter"),
        campaign.id,
        planned,
        already,
        uncertain
    );
    let _ = writeln!(out, "  from:    {from}");
    if let (Some(server), Some(url)) = (&server, &config.url) {
        let _ = writeln!(
            out,
            "  server:  {} — from {}",
            server.describe(),
            url.origin
        );
        if let Some(user) = &server.user {
            let from = match &config.secret.origin {
                Origin::Default => String::new(),
                origin => format!(" — from {origin}"),
            };
            let _ = writeln!(out, "  login:   {user}, {}{from}", server.secret.describe());
        }
        if let Some(ca) = &config.ca_file {
            let _ = writeln!(
                out,
                "  CA:      {} — from {}",
                ca.value.display(),
                ca.origin
            );
        }
    }
    let eta = rate
        .interval()
        .map(|i| format!(", about {}", human(i * planned.saturating_sub(1) as u32)))
        .unwrap_or_default();
    let _ = writeln!(out, "  rate:    {rate}{eta} — from {}", config.rate.origin);
    if to_send > planned {
        let _ = writeln!(out, "  --max:   {} left for a later run", to_send - planned);
    }
    let _ = writeln!(out, "  journal: {}", journal_path.display());
    if uncertain > 0 {
        let _ = writeln!(
            out,
            "  {} may already have arrived (the last run stopped while sending); they are skipped: check with the recipients or your Sent folder, then use --resend-uncertain",
            plural(uncertain, "letter")
        );
    }
    let _ = out.flush();
    drop(out);

    if job.dry_run {
        println!("dry run: nothing was sent");
        return Ok(0);
    }
    let server = server.expect("a server unless --dry-run");
    if let Some(address) = &job.test_to {
        return test_letter(campaign, target, inputs, &server, address);
    }
    if planned == 0 {
        println!("nothing to send");
        return Ok(if uncertain > 0 { EXIT_UNSENT } else { 0 });
    }
    if !job.yes && !crate::prompt::confirm_send(planned)? {
        println!("nothing was sent");
        return Ok(EXIT_UNSENT);
    }

    let connections = config
        .connections
        .value
        .clamp(1, 16)
        .min(planned.max(1) as u32);
    // Only now, with the letters about to go, is the password read or asked for.
    let login = server.credentials(&crate::prompt::ask_secret)?;
    let transport = server.transport(connections, login)?;
    let policy = Policy {
        retries: job.retries,
        budget: RETRY_BUDGET,
        retry_delay: job.retry_delay,
        rate,
        max: job.max,
        resend_uncertain: job.resend_uncertain,
    };
    let run = Run::open(campaign, target, inputs)?;
    let id_settings = run.settings.clone();
    let mut sender = Sender::new(
        &transport,
        &mut journal,
        &group,
        policy,
        crate::prompt::send_progress(planned),
    );
    // A few connections at once, each reused for many letters; letters are rendered on this
    // thread's pipeline and handed to the connections as they are ready.
    let connections = connections as usize;
    let stop = AtomicBool::new(false);
    let failure: Mutex<Option<Error>> = Mutex::new(None);
    let result = sender.with_syncer(|sender| {
        // Room for letters queued ahead of the connections, so a sync covers several (see
        // `Sender::queue`).
        let (tx, rx) = crossbeam_channel::bounded::<Ready>(connections * 4);
        let result = std::thread::scope(|scope| {
            for _ in 0..connections {
                let (rx, stop, failure) = (rx.clone(), &stop, &failure);
                scope.spawn(move || {
                    // Even a panic must stop the thread below, which would otherwise wait for
                    // room in the queue forever.
                    let _stop = StopOnPanic(stop);
                    let _halt = StopOnPanic(&sender.halted);
                    if let Err(e) = connection(sender, &rx) {
                        stop.store(true, Ordering::SeqCst);
                        // The other connections stop too, rather than work through the queue.
                        sender.halted.store(true, Ordering::SeqCst);
                        // An error the report does not already give as the reason to stop.
                        if sender.report().aborted.is_none() {
                            let mut f = failure.lock().unwrap_or_else(|e| e.into_inner());
                            f.get_or_insert(e);
                        }
                    }
                });
            }
            let pipelined = sender.pipelined();
            let result = run.each(
                target.limit,
                true,
                |letter, message| Outgoing {
                    line: letter.line,
                    email: letter.email.clone(),
                    message_id: id_settings.message_id(&letter.email),
                    message: message.expect("asked for messages"),
                },
                |outgoing| {
                    if stop.load(Ordering::SeqCst) {
                        return Err(aborted());
                    }
                    let Some(outgoing) = sender.admit(outgoing) else {
                        return Ok(());
                    };
                    let mut ready = if pipelined {
                        sender.queue(outgoing)?
                    } else {
                        Ready::unqueued(outgoing)
                    };
                    // This thread keeps a receiver, so a send would wait forever once every
                    // connection has stopped: it looks at the stop flag while it waits.
                    loop {
                        if stop.load(Ordering::SeqCst) {
                            sender.release(ready)?;
                            return Err(aborted());
                        }
                        match tx.send_timeout(ready, Duration::from_millis(20)) {
                            Ok(()) => return Ok(()),
                            Err(crossbeam_channel::SendTimeoutError::Timeout(r)) => ready = r,
                            Err(crossbeam_channel::SendTimeoutError::Disconnected(r)) => {
                                sender.release(r)?;
                                return Err(aborted());
                            }
                        }
                    }
                },
            );
            drop(tx);
            result
        });
        // Letters queued for connections that stopped before taking them.
        for ready in rx.try_iter() {
            sender.release(ready)?;
        }
        result
    });
    let mut report = sender.into_report();
    // The outcomes of the last letters may still wait for their sync (see `Sender::record`); if
    // it fails, what was sent is still reported first.
    let synced = journal.sync();
    if let Some(e) = report.journal_error.take() {
        return Err(e);
    }
    if let Some(e) = failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(e);
    }
    if report.aborted.is_none() {
        result?;
    }
    let code = finish(campaign, target, &report, job.failed_csv.as_deref())?;
    synced?;
    Ok(code)
}

/// Sets the flag if the thread it lives on unwinds.
struct StopOnPanic<'a>(&'a AtomicBool);

impl Drop for StopOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(true, Ordering::SeqCst);
        }
    }
}

/// One connection's loop: deliver letters until there are no more or the run stops.
fn connection<T>(sender: &Sender<'_, T>, rx: &crossbeam_channel::Receiver<Ready>) -> Result<()>
where
    T: Transport,
    T::Ok: Reply,
    T::Error: Classify,
{
    for ready in rx {
        sender.deliver(ready)?;
    }
    Ok(())
}

/// `--test-to`: the first targeted letter, exactly as it would go, but to the volunteer.
fn test_letter(
    campaign: &Campaign,
    target: &Target,
    inputs: &crate::render::LetterInputs,
    server: &Server,
    address: &str,
) -> Result<i32> {
    let mut run = Run::open(campaign, target, inputs)?;
    let first = loop {
        match run.rows.next_row() {
            Some(row) => {
                let row = row.map_err(Error::Invalid)?;
                if crate::recipients::matches_all(&run.filters, &row) {
                    break row;
                }
            }
            None => {
                return Err(Error::Usage(Diag::new(format!(
                    "no recipient of group `{}` matches",
                    run.group.id
                ))))
            }
        }
    };
    let (letter, _) = run.letter(&first, false).map_err(Error::Many)?;
    let original = letter.email.clone();
    let test = crate::render::Letter {
        email: address.trim().to_string(),
        name: inputs.signer.name.clone(),
        ..letter
    };
    let message = crate::message::build(&test, &run.settings)
        .map_err(|d| Error::Usage(d.hint("pass your own address: --test-to you@your-domain")))?;
    let login = server.credentials(&crate::prompt::ask_secret)?;
    let transport = server.transport(1, login)?;
    match transport.send(&message) {
        Ok(reply) => {
            println!(
                "sent the letter for `{original}` to `{}` ({}); nothing was recorded in the journal",
                test.email,
                reply.reply()
            );
            Ok(0)
        }
        Err(e) => {
            eprintln!("error: the test letter was not sent: {e}");
            Ok(EXIT_UNSENT)
        }
    }
}

/// Time one letter may take, retries included, before the run gives up on it.
pub const RETRY_BUDGET: Duration = Duration::from_secs(60);

fn finish(
    campaign: &Campaign,
    target: &Target,
    report: &Report,
    failed_csv: Option<&Path>,
) -> Result<i32> {
    let mut summary = format!("{} sent", plural(report.sent, "letter"));
    for (n, what) in [
        (report.failed.len() as u64, "failed"),
        (
            report.deferred.len() as u64,
            "deferred (a rerun tries again)",
        ),
        (report.already_sent, "already sent before"),
        (report.over_max, "left by --max"),
    ] {
        if n > 0 {
            summary.push_str(&format!(", {n} {what}"));
        }
    }
    if !report.unknown.is_empty() {
        summary.push_str(&format!(
            ", {} uncertain (no reply from the server; not resent)",
            report.unknown.len()
        ));
    }
    if !report.uncertain.is_empty() {
        summary.push_str(&format!(
            ", {} uncertain (skipped; see --resend-uncertain)",
            report.uncertain.len()
        ));
    }
    println!("{summary}");
    for u in &report.unknown {
        eprintln!(
            "warning: `{}`: the letter went, but the server never said whether it took it ({}); check with the recipient or your Sent folder before `--resend-uncertain`",
            u.email, u.reply
        );
    }
    for email in &report.uncertain {
        eprintln!("warning: `{email}`: uncertain whether the last letter arrived; not resent");
    }
    for u in &report.failed {
        eprintln!(
            "error: `{}`: the server refused the letter: {}",
            u.email, u.reply
        );
    }
    if let Some(reason) = &report.aborted {
        let help = if report.fatal {
            "check the server URL, your user name and password, and --ca-file for a server whose certificate comes from a private CA; then rerun the same command"
        } else {
            "the server could not be reached: check it and your connection, then rerun the same command"
        };
        eprintln!(
            "error: the run stopped: {reason}\n  help: {help}; letters already sent are not sent again"
        );
    }
    if let Some(path) = failed_csv {
        let rows: Vec<&Unsent> = report.failed.iter().chain(&report.deferred).collect();
        write_failed_csv(campaign, target, &rows, path)?;
        if !rows.is_empty() {
            println!(
                "wrote {} with the server's reply to {}",
                plural(rows.len() as u64, "unsent row"),
                path.display()
            );
        }
    }
    Ok(if report.all_sent() { 0 } else { EXIT_UNSENT })
}

/// The unsent rows as they are in the recipients file, plus the server's reply: fix, then send
/// that file as a group of its own or fix the original and rerun.
fn write_failed_csv(
    campaign: &Campaign,
    target: &Target,
    unsent: &[&Unsent],
    path: &Path,
) -> Result<()> {
    let group = campaign.group(&target.group)?;
    let mut rows = Recipients::open(&campaign.source, group)?;
    let by_line: HashMap<u64, &str> = unsent.iter().map(|u| (u.line, u.reply.as_str())).collect();
    let mut w = csv::Writer::from_path(path).map_err(|e| Error::io(path, e.into()))?;
    let mut header = rows.columns.names.clone();
    header.push("smtp_reply".to_string());
    w.write_record(&header)
        .map_err(|e| Error::io(path, e.into()))?;
    while let Some(row) = rows.next_row() {
        let Ok(row) = row else { continue };
        if let Some(reply) = by_line.get(&row.line) {
            let mut rec: Vec<&str> = row.record.iter().collect();
            rec.push(reply);
            w.write_record(&rec)
                .map_err(|e| Error::io(path, e.into()))?;
        }
    }
    w.flush().map_err(|e| Error::io(path, e))
}

/// `letterdrive status`: per group, what the journal says about its recipients.
pub fn status(campaign: &Campaign, args: &StatusArgs) -> Result<i32> {
    let journal_path = args
        .journal
        .clone()
        .unwrap_or_else(|| journal::default_path(&campaign.source));
    let journal = Journal::open(&journal_path, &campaign.id)?;
    let groups: Vec<_> = match &args.group {
        Some(g) => vec![campaign.group(g)?],
        None => campaign.groups.iter().collect(),
    };
    let width = groups.iter().map(|g| g.id.len()).max().unwrap_or(5).max(5);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "journal: {}", journal_path.display());
    let _ = writeln!(
        out,
        "{:width$}  {:>7}  {:>7}  {:>9}  {:>7}",
        "group", "sent", "failed", "uncertain", "pending"
    );
    let mut uncertain_list = Vec::new();
    for g in groups {
        let mut rows = Recipients::open(&campaign.source, g)?;
        let email_idx = rows.columns.get(crate::campaign::EMAIL_COLUMN);
        let (mut sent, mut failed, mut uncertain, mut pending) = (0u64, 0u64, 0u64, 0u64);
        while let Some(row) = rows.next_row() {
            let Ok(row) = row else { continue };
            let Some(email) = email_idx.and_then(|i| row.record.get(i)) else {
                continue;
            };
            match journal.state(&g.id, email) {
                Some(State::Sent) => sent += 1,
                Some(State::Failed) => failed += 1,
                Some(State::Uncertain) => {
                    uncertain += 1;
                    uncertain_list.push(format!("{}: {}", g.id, journal::key(email)));
                }
                Some(State::Deferred) | None => pending += 1,
            }
        }
        let _ = writeln!(
            out,
            "{:width$}  {sent:>7}  {failed:>7}  {uncertain:>9}  {pending:>7}",
            g.id
        );
    }
    for u in uncertain_list {
        let _ = writeln!(out, "uncertain: {u}");
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::VecDeque;

    #[test]
    fn rates() {
        assert_eq!(Rate::parse("unlimited").unwrap(), Rate::Unlimited);
        let r = Rate::parse("50/5min").unwrap();
        assert_eq!(r.interval(), Some(Duration::from_secs(6)));
        assert_eq!(r.to_string(), "50/5min");
        assert_eq!(Rate::parse("500/day").unwrap().to_string(), "500/day");
        assert_eq!(Rate::parse("20/min").unwrap().to_string(), "20/min");
        assert_eq!(
            Rate::parse("3/s").unwrap().interval(),
            Some(Duration::from_millis(333) + Duration::from_nanos(333_333))
        );
        for bad in ["", "0/min", "5", "5/fortnight", "x/min", "5/0min"] {
            assert!(Rate::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_limiter_spaces_messages() {
        let mut l = Limiter {
            interval: Rate::parse("20/s").unwrap().interval(),
            next: None,
        };
        let t0 = Instant::now();
        for _ in 0..3 {
            l.wait();
        }
        // The first goes at once, the third two intervals (100 ms) later.
        assert!(t0.elapsed() >= Duration::from_millis(100));
        let mut unlimited = Limiter {
            interval: None,
            next: None,
        };
        let t0 = Instant::now();
        for _ in 0..1000 {
            unlimited.wait();
        }
        assert!(t0.elapsed() < Duration::from_millis(100));
    }

    #[test]
    fn a_connection_waiting_for_its_turn_sees_a_stop_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open(&dir.path().join("j.jsonl"), "c").unwrap();
        let stub = lettre::transport::stub::StubTransport::new_ok();
        let s = quiet(
            &stub,
            &mut journal,
            Policy {
                rate: Rate::parse("1/hour").unwrap(),
                ..policy()
            },
        );
        // The first letter takes this hour's turn; the second waits for the next one.
        s.offer(outgoing("a@x.example")).unwrap();
        let waited = std::thread::scope(|scope| {
            let second = scope.spawn(|| {
                let t0 = Instant::now();
                let result = s.offer(outgoing("b@x.example"));
                (result.is_err(), t0.elapsed())
            });
            std::thread::sleep(Duration::from_millis(300));
            s.report().aborted = Some("stopped by the test".into());
            second.join().unwrap()
        });
        // A bound on the wait, not a speed check: without the stop it would be an hour.
        assert!(waited.0);
        assert!(waited.1 < Duration::from_secs(60), "{:?}", waited.1);
        assert_eq!(stub.messages().len(), 1);
        drop(s);
        assert_eq!(journal.state("g", "b@x.example"), None);
    }

    /// A transport that answers from a script, so every path is exercised without a network.
    struct Scripted {
        answers: RefCell<VecDeque<Result<(), Fake>>>,
        sent: RefCell<Vec<String>>,
    }

    #[derive(Debug)]
    struct Fake(Trouble, &'static str);

    impl fmt::Display for Fake {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.1)
        }
    }
    impl std::error::Error for Fake {}
    impl Classify for Fake {
        fn trouble(&self) -> Trouble {
            self.0
        }
    }

    impl Transport for Scripted {
        type Ok = ();
        type Error = Fake;
        fn send_raw(&self, envelope: &lettre::address::Envelope, _: &[u8]) -> Result<(), Fake> {
            let to = envelope.to()[0].to_string();
            let answer = self.answers.borrow_mut().pop_front().unwrap_or(Ok(()));
            if answer.is_ok() {
                self.sent.borrow_mut().push(to);
            }
            answer
        }
    }

    fn outgoing(email: &str) -> Outgoing {
        let message = Message::builder()
            .from("Sam <sam@signers.example>".parse().unwrap())
            .to(email.parse().unwrap())
            .subject("s")
            .body(String::from("b"))
            .unwrap();
        Outgoing {
            line: 2,
            email: email.to_string(),
            message_id: format!("<{email}>"),
            message,
        }
    }

    /// A sender for group `g` whose progress goes nowhere.
    fn quiet<'a, T>(transport: &'a T, journal: &'a mut Journal, policy: Policy) -> Sender<'a, T>
    where
        T: Transport,
        T::Ok: Reply,
        T::Error: Classify,
    {
        Sender::new(
            transport,
            journal,
            "g",
            policy,
            Box::new(LogLines::new(std::io::sink())),
        )
    }

    fn policy() -> Policy {
        Policy {
            retries: 2,
            budget: RETRY_BUDGET,
            retry_delay: Duration::from_millis(1),
            rate: Rate::Unlimited,
            max: None,
            resend_uncertain: false,
        }
    }

    /// Every record in the journal file, as (address, status, reply).
    fn records(path: &std::path::Path) -> Vec<(String, Status, Option<String>)> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| {
                let r: journal::Record = serde_json::from_str(l).unwrap();
                (r.email, r.status, r.reply)
            })
            .collect()
    }

    /// Letters for a connection, queued ahead as the sending thread does when unthrottled, or
    /// left to be queued at their turn.
    fn letters<T>(
        s: &Sender<'_, T>,
        ahead: bool,
        emails: &[&str],
    ) -> crossbeam_channel::Receiver<Ready>
    where
        T: Transport,
        T::Ok: Reply,
        T::Error: Classify,
    {
        let (tx, rx) = crossbeam_channel::unbounded();
        for email in emails {
            let ready = if ahead {
                s.queue(outgoing(email)).unwrap()
            } else {
                Ready::unqueued(outgoing(email))
            };
            tx.send(ready).unwrap();
        }
        rx
    }

    #[test]
    fn letters_queued_ahead_share_a_sync_and_each_is_attempted_only_at_its_turn() {
        use Status::*;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let mut journal = Journal::open(&path, "c").unwrap();
        let stub = lettre::transport::stub::StubTransport::new_ok();
        let mut s = quiet(&stub, &mut journal, policy());
        assert!(s.pipelined());
        s.with_syncer(|s| {
            let rx = letters(s, true, &["a@x.example", "b@x.example", "c@x.example"]);
            connection(s, &rx)
        })
        .unwrap();
        assert_eq!(s.into_report().sent, 3);
        journal.sync().unwrap();
        let order: Vec<(String, Status)> = records(&path)
            .into_iter()
            .map(|(email, status, _)| (email, status))
            .collect();
        let r = |e: &str, st| (format!("{e}@x.example"), st);
        assert_eq!(
            order,
            [
                r("a", Queued),
                r("b", Queued),
                r("c", Queued),
                r("a", Attempt),
                r("a", Sent),
                r("b", Attempt),
                r("b", Sent),
                r("c", Attempt),
                r("c", Sent),
            ]
        );

        // With a rate, letters are spaced out anyway: each is queued only when its turn comes.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let mut journal = Journal::open(&path, "c").unwrap();
        let mut s = quiet(
            &stub,
            &mut journal,
            Policy {
                rate: Rate::parse("1000/s").unwrap(),
                ..policy()
            },
        );
        assert!(!s.pipelined());
        s.with_syncer(|s| {
            let rx = letters(s, false, &["a@x.example", "b@x.example"]);
            connection(s, &rx)
        })
        .unwrap();
        drop(s);
        journal.sync().unwrap();
        let statuses: Vec<Status> = records(&path).into_iter().map(|r| r.1).collect();
        assert_eq!(statuses, [Queued, Attempt, Sent, Queued, Attempt, Sent]);
    }

    #[test]
    fn letters_queued_behind_one_that_stops_the_run_are_recorded_as_not_sent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let mut journal = Journal::open(&path, "c").unwrap();
        let t = Scripted {
            answers: RefCell::new([Err(Fake(Trouble::Fatal, "535 login refused"))].into()),
            sent: RefCell::new(Vec::new()),
        };
        let mut s = quiet(&t, &mut journal, policy());
        s.with_syncer(|s| {
            let rx = letters(s, true, &["a@x.example", "b@x.example", "c@x.example"]);
            assert!(connection(s, &rx).is_err());
            // What `run` does with the letters no connection took; a connection that takes one
            // after the stop does the same.
            let b = rx.recv().unwrap();
            assert!(s.deliver(b).is_err());
            for ready in rx.try_iter() {
                s.release(ready).unwrap();
            }
        });
        let report = s.into_report();
        assert_eq!(report.aborted.as_deref(), Some("535 login refused"));
        journal.sync().unwrap();
        for email in ["b@x.example", "c@x.example"] {
            let rs: Vec<(Status, Option<String>)> = records(&path)
                .into_iter()
                .filter(|r| r.0 == email)
                .map(|r| (r.1, r.2))
                .collect();
            assert_eq!(
                rs,
                [
                    (Status::Queued, None),
                    (Status::Deferred, Some(NOT_SENT.to_string()))
                ],
                "{email}"
            );
        }
        // Nothing went, and a rerun sends both again.
        assert!(t.sent.borrow().is_empty());
        let journal = Journal::open(&path, "c").unwrap();
        assert_eq!(journal.state("g", "b@x.example"), Some(State::Deferred));
        assert_eq!(journal.state("g", "c@x.example"), Some(State::Deferred));
    }

    /// A transport that checks, as each letter is handed to it, that the letter's queued record
    /// is on disk: its line in the journal (line n is the n-th record written) is synced.
    struct ChecksSync {
        path: std::path::PathBuf,
        synced: Box<dyn Fn() -> u64>,
        checked: RefCell<usize>,
    }

    impl Transport for ChecksSync {
        type Ok = ();
        type Error = Fake;
        fn send_raw(&self, envelope: &lettre::address::Envelope, _: &[u8]) -> Result<(), Fake> {
            let to = envelope.to()[0].to_string();
            let text = std::fs::read_to_string(&self.path).unwrap();
            let line = text
                .lines()
                .position(|l| {
                    let r: journal::Record = serde_json::from_str(l).unwrap();
                    r.email == to && r.status == Status::Queued
                })
                .expect("queued before it is sent") as u64
                + 1;
            assert!(
                (self.synced)() >= line,
                "{to} handed over before its queued record (line {line}) was synced"
            );
            *self.checked.borrow_mut() += 1;
            Ok(())
        }
    }

    #[test]
    fn no_letter_is_handed_over_before_its_queued_record_is_on_disk() {
        for ahead in [true, false] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("j.jsonl");
            let mut journal = Journal::open(&path, "c").unwrap();
            journal
                .append("g", "earlier@x.example", "<e>", Status::Failed, None)
                .unwrap();
            let t = ChecksSync {
                path: path.clone(),
                synced: Box::new(journal.synced_count()),
                checked: RefCell::new(0),
            };
            let rate = if ahead { "unlimited" } else { "1000/s" };
            let mut s = quiet(
                &t,
                &mut journal,
                Policy {
                    rate: Rate::parse(rate).unwrap(),
                    ..policy()
                },
            );
            let emails = ["a@x.example", "b@x.example", "c@x.example", "d@x.example"];
            s.with_syncer(|s| connection(s, &letters(s, ahead, &emails)))
                .unwrap();
            assert_eq!(s.into_report().sent, 4);
            assert_eq!(*t.checked.borrow(), 4);
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_journal_that_cannot_be_written_stops_the_run_with_its_own_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open(&dir.path().join("j.jsonl"), "c").unwrap();
        journal
            .append("g", "earlier@x.example", "<e>", Status::Failed, None)
            .unwrap();
        journal.write_to_full_disk();
        let stub = lettre::transport::stub::StubTransport::new_ok();
        let mut s = quiet(&stub, &mut journal, policy());
        let result =
            s.with_syncer(|s| connection(s, &letters(s, false, &["a@x.example", "b@x.example"])));
        assert!(result.is_err());
        let report = s.into_report();
        // The disk's own words, not "the run stopped".
        let err = report
            .journal_error
            .expect("the first error is kept")
            .to_string();
        assert!(err.contains("No space left on device"), "{err}");
        assert!(stub.messages().is_empty());
        // Nothing more is written: it would join the torn line.
        let again = journal
            .append("g", "c@x.example", "<c>", Status::Queued, None)
            .unwrap_err()
            .to_string();
        assert!(
            again.contains("an earlier record could not be written"),
            "{again}"
        );
    }

    #[test]
    fn a_panic_inside_with_syncer_propagates_instead_of_hanging() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut journal = Journal::open(&path, "c").unwrap();
            let stub = lettre::transport::stub::StubTransport::new_ok();
            let mut s = quiet(&stub, &mut journal, policy());
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                s.with_syncer(|_| -> u8 { panic!("a connection thread panicked") })
            }));
            let _ = done_tx.send(r.is_err());
        });
        // A bound on a hang, not a speed check.
        assert_eq!(done_rx.recv_timeout(Duration::from_secs(60)), Ok(true));
    }

    #[test]
    fn stub_transport_sends_and_journals() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let mut journal = Journal::open(&path, "c").unwrap();
        let stub = lettre::transport::stub::StubTransport::new_ok();
        let s = quiet(&stub, &mut journal, policy());
        s.offer(outgoing("a@x.example")).unwrap();
        s.offer(outgoing("a@x.example")).unwrap();
        let r = s.into_report();
        assert_eq!((r.sent, r.already_sent), (1, 1));
        assert_eq!(stub.messages().len(), 1);
        let text = std::fs::read_to_string(&path).unwrap();
        let statuses: Vec<Status> = text
            .lines()
            .map(|l| serde_json::from_str::<journal::Record>(l).unwrap().status)
            .collect();
        assert_eq!(statuses, [Status::Queued, Status::Attempt, Status::Sent]);

        let failing = lettre::transport::stub::StubTransport::new_error();
        let s = quiet(&failing, &mut journal, policy());
        s.offer(outgoing("b@x.example")).unwrap();
        assert_eq!(s.into_report().failed.len(), 1);
        assert_eq!(journal.state("g", "b@x.example"), Some(State::Failed));
    }

    #[test]
    fn retries_then_defers_or_stops() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open(&dir.path().join("j.jsonl"), "c").unwrap();
        let t = Scripted {
            answers: RefCell::new(VecDeque::from([
                Err(Fake(Trouble::Transient, "451 later")),
                Ok(()),
                Err(Fake(Trouble::Permanent, "550 no such user")),
                Err(Fake(Trouble::Transient, "451 a")),
                Err(Fake(Trouble::Transient, "451 b")),
                Err(Fake(Trouble::Transient, "451 c")),
                Err(Fake(Trouble::Network, "connection refused")),
                Err(Fake(Trouble::Network, "connection refused")),
                Err(Fake(Trouble::Network, "connection refused")),
            ])),
            sent: RefCell::new(Vec::new()),
        };
        let s = quiet(&t, &mut journal, policy());
        s.offer(outgoing("a@x.example")).unwrap();
        s.offer(outgoing("b@x.example")).unwrap();
        s.offer(outgoing("c@x.example")).unwrap();
        assert!(s.offer(outgoing("d@x.example")).is_err());
        let r = s.into_report();
        assert_eq!(r.sent, 1);
        assert_eq!(r.failed[0].reply, "550 no such user");
        assert_eq!(r.deferred.len(), 2);
        assert_eq!(r.aborted.as_deref(), Some("connection refused"));
        assert_eq!(*t.sent.borrow(), ["a@x.example"]);
        assert_eq!(journal.state("g", "c@x.example"), Some(State::Deferred));
        assert_eq!(journal.state("g", "d@x.example"), Some(State::Deferred));
    }

    #[test]
    fn the_time_budget_bounds_retries() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open(&dir.path().join("j.jsonl"), "c").unwrap();
        let t = Scripted {
            answers: RefCell::new(
                std::iter::repeat_with(|| Err(Fake(Trouble::Network, "timed out")))
                    .take(10)
                    .collect(),
            ),
            sent: RefCell::new(Vec::new()),
        };
        let policy = Policy {
            retries: 9,
            retry_delay: Duration::from_millis(20),
            budget: Duration::from_millis(50),
            ..policy()
        };
        let s = quiet(&t, &mut journal, policy);
        assert!(s.offer(outgoing("a@x.example")).is_err());
        // 20 ms, then 40 ms would pass the budget: two attempts in all.
        assert_eq!(t.answers.borrow().len(), 8);
    }

    #[test]
    fn uncertain_is_skipped_unless_asked_and_max_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open(&dir.path().join("j.jsonl"), "c").unwrap();
        journal
            .append("g", "u@x.example", "<u>", Status::Attempt, None)
            .unwrap();
        let stub = lettre::transport::stub::StubTransport::new_ok();
        let s = quiet(
            &stub,
            &mut journal,
            Policy {
                max: Some(1),
                ..policy()
            },
        );
        s.offer(outgoing("u@x.example")).unwrap();
        s.offer(outgoing("a@x.example")).unwrap();
        s.offer(outgoing("b@x.example")).unwrap();
        let r = s.into_report();
        assert_eq!(r.uncertain, ["u@x.example"]);
        assert_eq!((r.sent, r.over_max), (1, 1));
        let s = quiet(
            &stub,
            &mut journal,
            Policy {
                resend_uncertain: true,
                ..policy()
            },
        );
        s.offer(outgoing("u@x.example")).unwrap();
        assert_eq!(s.into_report().sent, 1);
    }
}
