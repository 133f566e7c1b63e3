//! The journaled state machine of a run: which letters go (the journal, `--max`), each one's
//! queued record on disk before it is handed over at its turn under the rate, retries where they
//! may help, and every outcome recorded. Shared by the connection threads, each of which hands
//! its letters to a [`Deliver`] of its own: SMTP in the binary, a scripted stub in the tests.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use lettre::address::Envelope;

use super::deliver::{Deliver, Failure, Trouble};
use super::journal::{Journal, Pending, State, Status};
use super::rate::{Limiter, Rate};
use super::report::{Report, Unsent};
use super::terminal::{Progress, Step};
use crate::error::{Diag, Error, Result};

/// How often a connection waiting for its turn under the rate looks whether the run has stopped.
const STOP_CHECK: Duration = Duration::from_millis(100);

/// How long the syncer thread lets queued records gather before it syncs them. Letters are queued
/// a few milliseconds before their turn when sending flat out (the channel holds four per
/// connection); measured on an ext4 disk, 1 ms made a sync cover several records and sending as
/// fast as with the journal on tmpfs, where a sync costs nothing.
const SYNC_GATHER: Duration = Duration::from_millis(1);

/// The reply recorded for a letter that was queued but never went.
pub const NOT_SENT: &str = "not sent: the run stopped before this letter's turn";

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

/// One letter, ready to go: formatted once, on a render thread.
pub struct Outgoing {
    pub line: u64,
    pub email: String,
    pub message_id: String,
    pub envelope: Envelope,
    /// The message as it goes on the wire (CRLF line ends).
    pub bytes: Vec<u8>,
}

impl Outgoing {
    pub fn new(line: u64, email: String, message_id: String, message: &lettre::Message) -> Self {
        Outgoing {
            line,
            email,
            message_id,
            envelope: message.envelope().clone(),
            bytes: message.formatted(),
        }
    }
}

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

/// What follows a failed attempt.
enum Next {
    /// Try again after this pause.
    Retry(Duration),
    /// The letter has its outcome; the run goes on.
    Done,
    /// The run stops.
    Stop,
}

/// Sends letters, from one thread or several: the journal, the rate and the report are shared.
pub struct Sender<'a> {
    journal: Mutex<&'a mut Journal>,
    group: String,
    policy: Policy,
    limiter: Mutex<Limiter>,
    progress: Box<dyn Progress + 'a>,
    report: Mutex<Report>,
    /// Letters admitted to this run, for `--max`.
    started: AtomicU64,
    /// The journal could not be written, or a connection thread failed: nothing more may go.
    halted: AtomicBool,
    /// A thread that syncs queued records as soon as they are written (see `with_syncer`).
    syncer: Option<crossbeam_channel::Sender<Pending>>,
}

impl<'a> Sender<'a> {
    pub fn new(
        journal: &'a mut Journal,
        group: &str,
        policy: Policy,
        progress: Box<dyn Progress + 'a>,
    ) -> Self {
        Sender {
            journal: Mutex::new(journal),
            group: group.to_string(),
            limiter: Mutex::new(Limiter::new(policy.rate)),
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

    pub fn report(&self) -> MutexGuard<'_, Report> {
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

    /// Stop the run: every connection stops before its next letter.
    pub fn halt(&self) {
        self.halted.store(true, Ordering::SeqCst);
    }

    /// Send one letter through `link` unless the journal says otherwise, as `run` does in two
    /// steps on two threads ([`Sender::admit`], then [`Sender::deliver`]). An error means the
    /// run must stop (the reason is in the report, or the journal could not be written).
    #[cfg(test)]
    pub fn offer(&self, letter: Outgoing, link: &mut impl Deliver) -> Result<()> {
        match self.admit(letter) {
            Some(letter) => self.deliver(Ready::unqueued(letter), link),
            None => Ok(()),
        }
    }

    /// Whether letters are queued ahead of their turn ([`Sender::queue`]): only when they are not
    /// spaced out by a rate, where the syncs it saves matter and a queued letter waits
    /// milliseconds, not minutes.
    pub fn queues_ahead(&self) -> bool {
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
    /// rate (see [`Sender::queues_ahead`]).
    pub fn queue(&self, letter: Outgoing) -> Result<Ready> {
        let queued = self.write(&letter, Status::Queued, None)?;
        Ok(Ready {
            letter,
            queued: Some(queued),
        })
    }

    /// One connection's loop: deliver letters through `link` until there are no more or the run
    /// stops.
    pub fn work(
        &self,
        letters: &crossbeam_channel::Receiver<Ready>,
        link: &mut impl Deliver,
    ) -> Result<()> {
        for ready in letters {
            self.deliver(ready, link)?;
        }
        Ok(())
    }

    /// Hand the letter to `link` once its queued record is on disk (writing it first, after its
    /// turn under the rate, unless [`Sender::queue`] did), retry what may be retried, and record
    /// the outcome.
    pub fn deliver(&self, ready: Ready, link: &mut impl Deliver) -> Result<()> {
        let Ready { letter, queued } = ready;
        let mut queued = Some(match queued {
            Some(queued) => queued,
            None => self.take_turn(&letter)?,
        });
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
            self.attempt(&letter, queued.take())?;
            let failure = match link.deliver(&letter.envelope, &letter.bytes) {
                Ok(reply) => return self.sent(&letter, &reply),
                Err(failure) => failure,
            };
            match self.settle(&letter, failure, tries, started)? {
                Next::Retry(delay) => self.pause_until(Instant::now() + delay),
                Next::Done => return Ok(()),
                Next::Stop => return Err(aborted()),
            }
        }
    }

    /// Wait for the letter's turn under the rate, then write its queued record. The turn is
    /// taken under the lock and waited for outside it, so that a stop is seen within a moment,
    /// not after every other connection's turn.
    fn take_turn(&self, letter: &Outgoing) -> Result<Pending> {
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
        self.write(letter, Status::Queued, None)
    }

    /// The record that the letter is being handed over, on disk first where it must be.
    fn attempt(&self, letter: &Outgoing, queued: Option<Pending>) -> Result<()> {
        match queued {
            // After a crash of the machine, the queued record alone says `uncertain`; after the
            // process is killed, the attempt record (in the file, synced or not) does.
            Some(pending) => {
                pending.wait()?;
                self.record(letter, Status::Attempt, None)
            }
            // A retry: the deferred record before it may be on disk, and would say "not sent";
            // this attempt must be on disk before the letter goes again.
            None => self.write(letter, Status::Attempt, None)?.wait(),
        }
    }

    fn sent(&self, letter: &Outgoing, reply: &str) -> Result<()> {
        self.record(letter, Status::Sent, Some(reply))?;
        self.report().sent += 1;
        self.say(
            Step::Sent,
            format_args!("sent     {} ({reply})", letter.email),
        );
        Ok(())
    }

    /// Record a failed attempt and say what comes next. Refused for good, or perhaps delivered
    /// (`Unknown`, where sending it again could deliver it twice), is final for this run: the
    /// journal keeps the latter uncertain, for the volunteer to check and `--resend-uncertain`.
    fn settle(
        &self,
        letter: &Outgoing,
        failure: Failure,
        tries: u32,
        started: Instant,
    ) -> Result<Next> {
        let (status, step, word) = if failure.may_have_arrived() {
            (Status::Uncertain, Step::Uncertain, "uncertain ")
        } else if failure.trouble == Trouble::Permanent {
            (Status::Failed, Step::Failed, "failed   ")
        } else {
            return self.not_delivered(letter, failure, tries, started);
        };
        let reply = failure.reply;
        self.record(letter, status, Some(&reply))?;
        self.say(step, format_args!("{word}{} ({reply})", letter.email));
        let mut report = self.report();
        let list = match status {
            Status::Failed => &mut report.failed,
            _ => &mut report.unknown,
        };
        list.push(unsent(letter, reply));
        Ok(Next::Done)
    }

    /// Not delivered: the server said so, or never had the whole letter. Retried while that may
    /// help and the budget lasts; then deferred, and the run stops unless the server only asked
    /// to come back later.
    fn not_delivered(
        &self,
        letter: &Outgoing,
        failure: Failure,
        tries: u32,
        started: Instant,
    ) -> Result<Next> {
        let Failure { trouble, reply } = failure;
        self.record(letter, Status::Deferred, Some(&reply))?;
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
            // A stop meanwhile is seen by the delivery loop's first check.
            return Ok(Next::Retry(delay));
        }
        let (step, word) = if trouble == Trouble::Fatal {
            (Step::Stopped, "stopped ")
        } else {
            (Step::Deferred, "deferred")
        };
        self.say(step, format_args!("{word} {} ({reply})", letter.email));
        let mut report = self.report();
        report.deferred.push(unsent(letter, reply.clone()));
        if trouble == Trouble::Transient {
            return Ok(Next::Done);
        }
        if report.aborted.is_none() {
            report.fatal = trouble == Trouble::Fatal;
            report.aborted = Some(reply);
        }
        Ok(Next::Stop)
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
                self.halt();
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

fn unsent(letter: &Outgoing, reply: String) -> Unsent {
    Unsent {
        line: letter.line,
        email: letter.email.clone(),
        reply,
    }
}

/// The error of a run that stopped; the reason is in the report.
pub fn aborted() -> Error {
    Error::Invalid(Diag::new("the run stopped"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::send::journal;
    use crate::send::terminal::LogLines;
    use std::collections::VecDeque;

    /// A link that answers from a script (then accepts everything), and keeps the recipient of
    /// every letter it accepted: every rule of the sender, without a network.
    #[derive(Default)]
    struct Scripted {
        answers: VecDeque<std::result::Result<(), Failure>>,
        sent: Vec<String>,
        tries: usize,
    }

    impl Scripted {
        fn answering(answers: impl IntoIterator<Item = (Trouble, &'static str)>) -> Scripted {
            Scripted {
                answers: answers
                    .into_iter()
                    .map(|(trouble, reply)| Err(Failure::new(trouble, reply)))
                    .collect(),
                ..Scripted::default()
            }
        }

        /// Refuses every letter for good, as a server refusing every recipient would.
        fn refusing() -> Scripted {
            Scripted::answering(std::iter::repeat_n(
                (Trouble::Permanent, "550 refused"),
                100,
            ))
        }
    }

    impl Deliver for Scripted {
        fn deliver(
            &mut self,
            envelope: &Envelope,
            _: &[u8],
        ) -> std::result::Result<String, Failure> {
            self.tries += 1;
            let to = envelope.to()[0].to_string();
            self.answers.pop_front().unwrap_or(Ok(()))?;
            self.sent.push(to);
            Ok("250 accepted".to_string())
        }
    }

    fn outgoing(email: &str) -> Outgoing {
        let message = lettre::Message::builder()
            .from("Sam <sam@signers.example>".parse().unwrap())
            .to(email.parse().unwrap())
            .subject("s")
            .body(String::from("b"))
            .unwrap();
        Outgoing::new(2, email.to_string(), format!("<{email}>"), &message)
    }

    /// A sender for group `g` whose progress goes nowhere.
    fn quiet<'a>(journal: &'a mut Journal, policy: Policy) -> Sender<'a> {
        Sender::new(
            journal,
            "g",
            policy,
            Box::new(LogLines::new(std::io::sink())),
        )
    }

    fn policy() -> Policy {
        Policy {
            retries: 2,
            budget: Duration::from_secs(60),
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

    fn statuses(path: &std::path::Path) -> Vec<Status> {
        records(path).into_iter().map(|r| r.1).collect()
    }

    /// Letters for a connection, queued ahead as the sending thread does when unthrottled, or
    /// left to be queued at their turn.
    fn letters(s: &Sender<'_>, ahead: bool, emails: &[&str]) -> crossbeam_channel::Receiver<Ready> {
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
    fn a_connection_waiting_for_its_turn_sees_a_stop_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open(&dir.path().join("j.jsonl"), "c").unwrap();
        let s = quiet(
            &mut journal,
            Policy {
                rate: Rate::parse("1/hour").unwrap(),
                ..policy()
            },
        );
        // The first letter takes this hour's turn; the second waits for the next one.
        let mut first = Scripted::default();
        s.offer(outgoing("a@x.example"), &mut first).unwrap();
        let (waited, second) = std::thread::scope(|scope| {
            let second = scope.spawn(|| {
                let mut link = Scripted::default();
                let t0 = Instant::now();
                let result = s.offer(outgoing("b@x.example"), &mut link);
                ((result.is_err(), t0.elapsed()), link)
            });
            std::thread::sleep(Duration::from_millis(300));
            s.report().aborted = Some("stopped by the test".into());
            second.join().unwrap()
        });
        // A bound on the wait, not a speed check: without the stop it would be an hour.
        assert!(waited.0);
        assert!(waited.1 < Duration::from_secs(60), "{:?}", waited.1);
        assert_eq!((first.sent.len(), second.tries), (1, 0));
        drop(s);
        assert_eq!(journal.state("g", "b@x.example"), None);
    }

    #[test]
    fn letters_queued_ahead_share_a_sync_and_each_is_attempted_only_at_its_turn() {
        use Status::*;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let mut journal = Journal::open(&path, "c").unwrap();
        let mut link = Scripted::default();
        let mut s = quiet(&mut journal, policy());
        assert!(s.queues_ahead());
        s.with_syncer(|s| {
            let rx = letters(s, true, &["a@x.example", "b@x.example", "c@x.example"]);
            s.work(&rx, &mut link)
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
            &mut journal,
            Policy {
                rate: Rate::parse("1000/s").unwrap(),
                ..policy()
            },
        );
        assert!(!s.queues_ahead());
        s.with_syncer(|s| {
            let rx = letters(s, false, &["a@x.example", "b@x.example"]);
            s.work(&rx, &mut link)
        })
        .unwrap();
        drop(s);
        journal.sync().unwrap();
        assert_eq!(
            statuses(&path),
            [Queued, Attempt, Sent, Queued, Attempt, Sent]
        );
    }

    #[test]
    fn letters_queued_behind_one_that_stops_the_run_are_recorded_as_not_sent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let mut journal = Journal::open(&path, "c").unwrap();
        let mut link = Scripted::answering([(Trouble::Fatal, "535 login refused")]);
        let mut s = quiet(&mut journal, policy());
        s.with_syncer(|s| {
            let rx = letters(s, true, &["a@x.example", "b@x.example", "c@x.example"]);
            assert!(s.work(&rx, &mut link).is_err());
            // What `run` does with the letters no connection took; a connection that takes one
            // after the stop does the same.
            let b = rx.recv().unwrap();
            assert!(s.deliver(b, &mut link).is_err());
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
        assert!(link.sent.is_empty());
        assert_eq!(link.tries, 1);
        let journal = Journal::open(&path, "c").unwrap();
        assert_eq!(journal.state("g", "b@x.example"), Some(State::Deferred));
        assert_eq!(journal.state("g", "c@x.example"), Some(State::Deferred));
    }

    /// A link that checks, as each letter is handed to it, that the letter's queued record is
    /// on disk: its line in the journal (line n is the n-th record written) is synced.
    struct ChecksSync {
        path: std::path::PathBuf,
        synced: Box<dyn Fn() -> u64>,
        checked: usize,
    }

    impl Deliver for ChecksSync {
        fn deliver(
            &mut self,
            envelope: &Envelope,
            _: &[u8],
        ) -> std::result::Result<String, Failure> {
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
            self.checked += 1;
            Ok("250 ok".into())
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
            let mut link = ChecksSync {
                path: path.clone(),
                synced: Box::new(journal.synced_count()),
                checked: 0,
            };
            let rate = if ahead { "unlimited" } else { "1000/s" };
            let mut s = quiet(
                &mut journal,
                Policy {
                    rate: Rate::parse(rate).unwrap(),
                    ..policy()
                },
            );
            let emails = ["a@x.example", "b@x.example", "c@x.example", "d@x.example"];
            s.with_syncer(|s| s.work(&letters(s, ahead, &emails), &mut link))
                .unwrap();
            assert_eq!(s.into_report().sent, 4);
            assert_eq!(link.checked, 4);
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
        let mut link = Scripted::default();
        let mut s = quiet(&mut journal, policy());
        let result = s.with_syncer(|s| {
            s.work(
                &letters(s, false, &["a@x.example", "b@x.example"]),
                &mut link,
            )
        });
        assert!(result.is_err());
        let report = s.into_report();
        // The disk's own words, not "the run stopped".
        let err = report
            .journal_error
            .expect("the first error is kept")
            .to_string();
        assert!(err.contains("No space left on device"), "{err}");
        assert_eq!(link.tries, 0);
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
            let mut s = quiet(&mut journal, policy());
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                s.with_syncer(|_| -> u8 { panic!("a connection thread panicked") })
            }));
            let _ = done_tx.send(r.is_err());
        });
        // A bound on a hang, not a speed check.
        assert_eq!(done_rx.recv_timeout(Duration::from_secs(60)), Ok(true));
    }

    #[test]
    fn a_stub_link_sends_and_journals() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let mut journal = Journal::open(&path, "c").unwrap();
        let mut link = Scripted::default();
        let s = quiet(&mut journal, policy());
        s.offer(outgoing("a@x.example"), &mut link).unwrap();
        s.offer(outgoing("a@x.example"), &mut link).unwrap();
        let r = s.into_report();
        assert_eq!((r.sent, r.already_sent), (1, 1));
        assert_eq!(link.sent, ["a@x.example"]);
        assert_eq!(
            statuses(&path),
            [Status::Queued, Status::Attempt, Status::Sent]
        );

        let mut failing = Scripted::refusing();
        let s = quiet(&mut journal, policy());
        s.offer(outgoing("b@x.example"), &mut failing).unwrap();
        assert_eq!(s.into_report().failed.len(), 1);
        assert_eq!(journal.state("g", "b@x.example"), Some(State::Failed));
    }

    #[test]
    fn retries_then_defers_or_stops() {
        use Trouble::*;
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open(&dir.path().join("j.jsonl"), "c").unwrap();
        let mut link = Scripted::answering([(Transient, "451 later")]);
        link.answers.push_back(Ok(()));
        link.answers.extend(
            [
                (Permanent, "550 no such user"),
                (Transient, "451 a"),
                (Transient, "451 b"),
                (Transient, "451 c"),
                (Network, "connection refused"),
                (Network, "connection refused"),
                (Network, "connection refused"),
            ]
            .map(|(t, r)| Err(Failure::new(t, r))),
        );
        let s = quiet(&mut journal, policy());
        s.offer(outgoing("a@x.example"), &mut link).unwrap();
        s.offer(outgoing("b@x.example"), &mut link).unwrap();
        s.offer(outgoing("c@x.example"), &mut link).unwrap();
        assert!(s.offer(outgoing("d@x.example"), &mut link).is_err());
        let r = s.into_report();
        assert_eq!(r.sent, 1);
        assert_eq!(r.failed[0].reply, "550 no such user");
        assert_eq!(r.deferred.len(), 2);
        assert_eq!(r.aborted.as_deref(), Some("connection refused"));
        assert_eq!(link.sent, ["a@x.example"]);
        assert_eq!(journal.state("g", "c@x.example"), Some(State::Deferred));
        assert_eq!(journal.state("g", "d@x.example"), Some(State::Deferred));
    }

    /// The server had the whole letter and gave no verdict: it may have arrived, so it is never
    /// tried again in this run, whatever `--retries` says, and the run goes on.
    #[test]
    fn a_letter_that_may_have_arrived_is_uncertain_and_never_retried() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let mut journal = Journal::open(&path, "c").unwrap();
        let mut link = Scripted::answering([(Trouble::Unknown, "timed out after the data")]);
        let s = quiet(&mut journal, policy());
        s.offer(outgoing("a@x.example"), &mut link).unwrap();
        s.offer(outgoing("b@x.example"), &mut link).unwrap();
        let r = s.into_report();
        assert_eq!(r.sent, 1);
        assert_eq!(r.unknown[0].email, "a@x.example");
        assert!(r.aborted.is_none() && r.deferred.is_empty());
        assert_eq!(link.tries, 2);
        let a: Vec<Status> = records(&path)
            .into_iter()
            .filter(|r| r.0 == "a@x.example")
            .map(|r| r.1)
            .collect();
        assert_eq!(a, [Status::Queued, Status::Attempt, Status::Uncertain]);
        assert_eq!(journal.state("g", "a@x.example"), Some(State::Uncertain));
    }

    #[test]
    fn the_time_budget_bounds_retries() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open(&dir.path().join("j.jsonl"), "c").unwrap();
        let mut link =
            Scripted::answering(std::iter::repeat_n((Trouble::Network, "timed out"), 10));
        let policy = Policy {
            retries: 9,
            retry_delay: Duration::from_millis(20),
            budget: Duration::from_millis(50),
            ..policy()
        };
        let s = quiet(&mut journal, policy);
        assert!(s.offer(outgoing("a@x.example"), &mut link).is_err());
        // 20 ms, then 40 ms would pass the budget: two attempts in all.
        assert_eq!(link.tries, 2);
    }

    #[test]
    fn uncertain_is_skipped_unless_asked_and_max_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open(&dir.path().join("j.jsonl"), "c").unwrap();
        journal
            .append("g", "u@x.example", "<u>", Status::Attempt, None)
            .unwrap();
        let mut link = Scripted::default();
        let s = quiet(
            &mut journal,
            Policy {
                max: Some(1),
                ..policy()
            },
        );
        s.offer(outgoing("u@x.example"), &mut link).unwrap();
        s.offer(outgoing("a@x.example"), &mut link).unwrap();
        s.offer(outgoing("b@x.example"), &mut link).unwrap();
        let r = s.into_report();
        assert_eq!(r.uncertain, ["u@x.example"]);
        assert_eq!((r.sent, r.over_max), (1, 1));
        let s = quiet(
            &mut journal,
            Policy {
                resend_uncertain: true,
                ..policy()
            },
        );
        s.offer(outgoing("u@x.example"), &mut link).unwrap();
        assert_eq!(s.into_report().sent, 1);
    }
}
