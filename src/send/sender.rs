//! The journaled state machine of a run. One thread, the one the letters are rendered for, takes
//! them in row order through a [`Queue`]: which go (the journal, `--max`), each one's turn under
//! the rate, and its queued record on disk before any connection can take it. The connection
//! threads then [`Sender::deliver`] them, each through a [`Deliver`] of its own (SMTP in the
//! binary, a scripted stub in the tests): retries where they may help, every outcome recorded.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use lettre::address::Envelope;

use super::deliver::{Deliver, Failure, Trouble};
use super::journal::{Journal, State, Status};
use super::rate::Rate;
use super::report::{Report, Unsent};
use super::terminal::{Progress, Step};
use crate::error::{Diag, Error, Result};

/// How often a wait (for a letter's turn, or before a retry) looks whether the run has stopped.
const STOP_CHECK: Duration = Duration::from_millis(100);

/// With no rate to space them out, letters are queued in batches of this many per connection:
/// their records are written, synced once, and only then handed over. The connections' channel
/// holds as many, so that they have the letters of one batch to send while the next one is
/// synced: one sync for several letters, and none on any letter's way to the server. A crash of
/// the machine leaves at most two batches queued and not sent, which then count as uncertain.
const BATCH_PER_CONNECTION: usize = 4;

/// The reply recorded for a letter that was queued but never went.
pub const NOT_SENT: &str = "not sent: the run stopped before this letter's turn";

/// What to do with one recipient, given the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Send,
    AlreadySent,
    Uncertain,
    /// Refused for good (5xx) by an earlier run: sent again only when asked.
    FailedBefore,
}

pub fn decide(state: Option<State>, resend_uncertain: bool, retry_failed: bool) -> Decision {
    match state {
        Some(State::Sent) => Decision::AlreadySent,
        Some(State::Uncertain) if !resend_uncertain => Decision::Uncertain,
        Some(State::Failed) if !retry_failed => Decision::FailedBefore,
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
    pub retry_failed: bool,
}

/// One letter, ready to go: formatted once, on a render thread.
pub struct Outgoing {
    pub line: u64,
    pub email: String,
    pub message_id: String,
    pub envelope: Envelope,
    /// The message as it goes on the wire (CRLF line ends).
    pub bytes: Vec<u8>,
    /// The sketch of its personal paragraph, recorded with `queued` for the ledger.
    pub personal: std::sync::Arc<Vec<u64>>,
}

/// What a run shares between its threads: the journal, the report, and whether it has stopped.
pub struct Sender<'a> {
    journal: Mutex<&'a mut Journal>,
    group: String,
    policy: Policy,
    progress: Box<dyn Progress + 'a>,
    report: Mutex<Report>,
    /// Nothing more may go: a letter stopped the run (the reason is in the report), or the
    /// journal could not be written.
    halted: AtomicBool,
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
            policy,
            progress,
            report: Mutex::new(Report::default()),
            halted: AtomicBool::new(false),
        }
    }

    fn journal(&self) -> MutexGuard<'_, &'a mut Journal> {
        self.journal.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn report(&self) -> MutexGuard<'_, Report> {
        self.report.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the run has stopped (on this thread or another).
    fn stopped(&self) -> bool {
        self.halted.load(Ordering::SeqCst)
    }

    fn halt(&self) {
        self.halted.store(true, Ordering::SeqCst);
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

    /// A step as a log line, such as `sent     a@x.example (250 OK)`.
    fn say(&self, step: Step, word: &str, letter: &Outgoing, detail: &str) {
        let line = format!("{word:<8} {} {detail}", letter.email);
        self.progress.step(step, &line);
    }

    /// One connection's loop: every letter handed over goes through `link`. After a stop, the
    /// letters left are still taken, each to be recorded as never sent, until none are left.
    pub fn work(&self, letters: Receiver<Outgoing>, link: &mut impl Deliver) {
        for letter in letters {
            // An error is a stop, which the report gives the reason for.
            let _ = self.deliver(&letter, link);
        }
    }

    /// Hand a queued letter to `link`, retry what may be retried, and record the outcome. An
    /// error means the run has stopped; the reason is in the report.
    pub fn deliver(&self, letter: &Outgoing, link: &mut impl Deliver) -> Result<()> {
        let started = Instant::now();
        let mut tries = 0;
        loop {
            if self.stopped() {
                if tries == 0 {
                    // Queued but never handed over: a rerun must send it, even after a crash of
                    // the machine, when the queued record alone would say `uncertain`.
                    self.record(letter, Status::Deferred, Some(NOT_SENT))?;
                }
                return Err(aborted());
            }
            tries += 1;
            // In the file before the letter goes, so that after the process is killed the letter
            // counts as uncertain. A retry's is synced too: the deferred record before it, if it
            // reached the disk alone, would say that the letter never went.
            self.record(letter, Status::Attempt, None)?;
            if tries > 1 {
                self.sync()?;
            }
            let failure = match link.deliver(&letter.envelope, &letter.bytes) {
                Ok(reply) => {
                    self.record(letter, Status::Sent, Some(&reply))?;
                    self.report().sent += 1;
                    self.say(Step::Sent, "sent", letter, &format!("({reply})"));
                    return Ok(());
                }
                Err(failure) => failure,
            };
            // Not delivered is retried while that may help and the budget lasts.
            let delay = self.policy.retry_delay * 2u32.saturating_pow(tries - 1);
            let retry = matches!(failure.trouble, Trouble::Transient | Trouble::Network)
                && tries <= self.policy.retries
                && started.elapsed() + delay < self.policy.budget;
            self.failed(letter, failure, retry.then_some(delay))?;
            if !retry {
                return Ok(());
            }
            self.pause_until(Instant::now() + delay);
        }
    }

    /// Record a failed attempt, to be tried again after `retry` if that is set. Refused for good,
    /// or perhaps delivered (`Unknown`, where sending it again could deliver it twice), is final
    /// for this run: the journal keeps the latter uncertain, for the volunteer to check and
    /// `--resend-uncertain`. Not delivered, once not retried, is deferred, and the run stops
    /// unless the server only asked to come back later.
    fn failed(&self, letter: &Outgoing, failure: Failure, retry: Option<Duration>) -> Result<()> {
        let Failure { trouble, reply } = failure;
        let (status, step, word) = match trouble {
            Trouble::Unknown => (Status::Uncertain, Step::Uncertain, "uncertain"),
            Trouble::Permanent => (Status::Failed, Step::Failed, "failed"),
            Trouble::Fatal => (Status::Deferred, Step::Stopped, "stopped"),
            Trouble::Transient | Trouble::Network => (Status::Deferred, Step::Deferred, "deferred"),
        };
        self.record(letter, status, Some(&reply))?;
        if let Some(delay) = retry {
            let detail = format!("in {:.1}s ({reply})", delay.as_secs_f64());
            self.say(Step::Retry, "retry", letter, &detail);
            return Ok(());
        }
        self.say(step, word, letter, &format!("({reply})"));
        let mut report = self.report();
        let unsent = Unsent {
            line: letter.line,
            email: letter.email.clone(),
            reply,
        };
        match trouble {
            Trouble::Unknown => report.unknown.push(unsent),
            Trouble::Permanent => report.failed.push(unsent),
            Trouble::Transient => report.deferred.push(unsent),
            Trouble::Network | Trouble::Fatal => {
                if report.aborted.is_none() {
                    report.fatal = trouble == Trouble::Fatal;
                    report.aborted = Some(unsent.reply.clone());
                }
                report.deferred.push(unsent);
                self.halt();
            }
        }
        Ok(())
    }

    /// Ends the run, giving back the journal borrow.
    pub fn into_report(self) -> Report {
        self.progress.finish();
        self.report.into_inner().unwrap_or_else(|e| e.into_inner())
    }

    /// Write a record, not waiting for the disk: see [`Sender::deliver`] and [`Queue`] for the
    /// records that are synced before a letter goes. Any other one reaches the disk with a later
    /// sync; until then only a crash of the whole machine could lose it (a killed process's
    /// writes survive it), and what that leaves is again `uncertain`.
    fn record(&self, letter: &Outgoing, status: Status, reply: Option<&str>) -> Result<()> {
        let (email, id) = (&letter.email, &letter.message_id);
        let personal = match status {
            Status::Queued => letter.personal.as_slice(),
            _ => &[],
        };
        let written = (self.journal()).write(&self.group, email, id, status, reply, personal);
        written.map_err(|e| self.fail(e))
    }

    /// Take every record written so far to disk. The sync runs outside the journal's lock, so
    /// the connections go on writing meanwhile.
    fn sync(&self) -> Result<()> {
        let sync = self.journal().syncer();
        sync().map_err(|e| self.fail(e))
    }

    /// The journal could not be written or synced: the run stops, with this as its error. After
    /// a failed sync, Linux may drop the pages it could not write, so no later sync could vouch
    /// for them: nothing more is handed over.
    fn fail(&self, e: Error) -> Error {
        self.halt();
        self.report().journal_error.get_or_insert(e);
        aborted()
    }
}

/// The letters' way to the connections, on the thread they are rendered for, in row order.
pub struct Queue<'s, 'a> {
    sender: &'s Sender<'a>,
    to: crossbeam_channel::Sender<Outgoing>,
    /// Letters admitted to this run, for `--max`.
    admitted: u64,
    /// Admitted, not yet queued.
    batch: Vec<Outgoing>,
    /// Letters queued together; under a rate each is queued alone, at its turn.
    batch_size: usize,
    /// When the next letter may go, under the rate.
    turn: Instant,
}

impl<'s, 'a> Queue<'s, 'a> {
    /// A queue for `connections`, and the end of it they take the letters from. Where the rate
    /// spaces letters out, it holds none: a letter is handed over at its turn only when a
    /// connection takes it, so that the spacing holds at the server too.
    pub fn new(sender: &'s Sender<'a>, connections: usize) -> (Self, Receiver<Outgoing>) {
        let batch_size = match sender.policy.rate.interval() {
            Some(_) => 0,
            None => BATCH_PER_CONNECTION * connections,
        };
        let (to, letters) = crossbeam_channel::bounded(batch_size);
        let queue = Queue {
            sender,
            to,
            admitted: 0,
            batch: Vec::with_capacity(batch_size),
            batch_size,
            turn: Instant::now(),
        };
        (queue, letters)
    }

    /// Take the next letter: skipped as the journal and `--max` say, or queued and handed over
    /// at its turn under the rate, or with its batch.
    pub fn push(&mut self, letter: Outgoing) -> Result<()> {
        let s = self.sender;
        if s.stopped() {
            return Err(aborted());
        }
        let state = s.journal().state(&s.group, &letter.email);
        match decide(state, s.policy.resend_uncertain, s.policy.retry_failed) {
            Decision::AlreadySent => s.report().already_sent += 1,
            Decision::FailedBefore => s.report().failed_before += 1,
            Decision::Uncertain => s.report().uncertain.push(letter.email),
            Decision::Send if s.policy.max.is_some_and(|max| self.admitted >= max) => {
                s.report().over_max += 1;
            }
            Decision::Send => {
                self.admitted += 1;
                self.batch.push(letter);
                if let Some(interval) = s.policy.rate.interval() {
                    s.pause_until(self.turn);
                    self.flush()?;
                    self.turn = Instant::now() + interval;
                } else if self.batch.len() >= self.batch_size {
                    self.flush()?;
                }
            }
        }
        Ok(())
    }

    /// Queue the letters admitted so far: their queued records written and on disk, so that a
    /// crash of the machine from then on leaves each `uncertain`, never resent unasked; then
    /// hand them to the connections.
    pub fn flush(&mut self) -> Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        if self.sender.stopped() {
            return Err(aborted());
        }
        for letter in &self.batch {
            self.sender.record(letter, Status::Queued, None)?;
        }
        self.sender.sync()?;
        for letter in self.batch.drain(..) {
            self.to.send(letter).map_err(|_| aborted())?;
        }
        Ok(())
    }
}

/// The error of a run that stopped; the reason is in the report.
pub fn aborted() -> Error {
    Error::Invalid(Diag::new("the run stopped"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_letter_refused_before_goes_again_only_when_asked() {
        let failed = Some(State::Failed);
        assert_eq!(decide(failed, true, false), Decision::FailedBefore);
        assert_eq!(decide(failed, false, true), Decision::Send);
        assert_eq!(decide(Some(State::Deferred), false, false), Decision::Send);
        assert_eq!(
            decide(Some(State::Sent), false, true),
            Decision::AlreadySent
        );
    }
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
        Outgoing {
            line: 2,
            email: email.to_string(),
            message_id: format!("<{email}>"),
            envelope: message.envelope().clone(),
            bytes: message.formatted(),
            personal: Default::default(),
        }
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
            retry_failed: false,
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

    /// Letters through a queue, as `run` hands them over, to a connection thread with `link`.
    fn send(s: &Sender<'_>, emails: &[&str], link: &mut (impl Deliver + Send)) -> Result<()> {
        std::thread::scope(|scope| {
            let (mut queue, letters) = Queue::new(s, 1);
            scope.spawn(move || s.work(letters, link));
            for email in emails {
                queue.push(outgoing(email))?;
            }
            queue.flush()
        })
    }

    #[test]
    fn a_letter_waiting_for_its_turn_sees_a_stop_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open(&dir.path().join("j.jsonl"), "c").unwrap();
        let rate = Rate::parse("1/hour").unwrap();
        let s = quiet(&mut journal, Policy { rate, ..policy() });
        let mut link = Scripted::default();
        let (stopped, waited) = std::thread::scope(|scope| {
            let (mut queue, letters) = Queue::new(&s, 1);
            scope.spawn(|| s.work(letters, &mut link));
            // The first letter takes this hour's turn; the second waits for the next one.
            queue.push(outgoing("a@x.example")).unwrap();
            scope.spawn(|| {
                std::thread::sleep(Duration::from_millis(300));
                s.halt();
            });
            let t0 = Instant::now();
            (queue.push(outgoing("b@x.example")).is_err(), t0.elapsed())
        });
        // A bound on the wait, not a speed check: without the stop it would be an hour.
        assert!(stopped);
        assert!(waited < Duration::from_secs(60), "{waited:?}");
        assert_eq!(link.sent, ["a@x.example"]);
        drop(s);
        assert_eq!(journal.state("g", "b@x.example"), None);
    }

    #[test]
    fn letters_are_queued_in_batches_or_at_their_turn_and_attempted_as_they_go() {
        use Status::*;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let mut journal = Journal::open(&path, "c").unwrap();
        let mut link = Scripted::default();
        let s = quiet(&mut journal, policy());
        send(
            &s,
            &["a@x.example", "b@x.example", "c@x.example"],
            &mut link,
        )
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

        // With a rate, each letter is queued only when its turn comes, and turns are spaced.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let mut journal = Journal::open(&path, "c").unwrap();
        let rate = Rate::parse("10/s").unwrap();
        let s = quiet(&mut journal, Policy { rate, ..policy() });
        let t0 = Instant::now();
        send(
            &s,
            &["a@x.example", "b@x.example", "c@x.example"],
            &mut link,
        )
        .unwrap();
        // The first goes at once, the third two intervals (200 ms) later.
        assert!(t0.elapsed() >= Duration::from_millis(200));
        drop(s);
        assert_eq!(
            statuses(&path),
            [Queued, Attempt, Sent, Queued, Attempt, Sent, Queued, Attempt, Sent]
        );
    }

    #[test]
    fn letters_queued_behind_one_that_stops_the_run_are_recorded_as_not_sent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let mut journal = Journal::open(&path, "c").unwrap();
        let mut link = Scripted::answering([(Trouble::Fatal, "535 login refused")]);
        let s = quiet(&mut journal, policy());
        send(
            &s,
            &["a@x.example", "b@x.example", "c@x.example"],
            &mut link,
        )
        .unwrap();
        let report = s.into_report();
        assert_eq!(report.aborted.as_deref(), Some("535 login refused"));
        assert!(report.fatal);
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

    /// Syncs fail where the journal goes to a pipe: so a letter whose record must be on disk
    /// before it goes never reaches the link, and the run stops with the journal's error.
    #[cfg(target_os = "linux")]
    #[test]
    fn no_letter_goes_before_its_record_is_on_disk() {
        for rate in ["unlimited", "1000/s"] {
            let dir = tempfile::tempdir().unwrap();
            let mut journal = Journal::open(&dir.path().join("j.jsonl"), "c").unwrap();
            journal.write_to_a_pipe();
            let mut link = Scripted::default();
            let rate = Rate::parse(rate).unwrap();
            let s = quiet(&mut journal, Policy { rate, ..policy() });
            assert!(send(&s, &["a@x.example", "b@x.example"], &mut link).is_err());
            assert_eq!(link.tries, 0);
            let err = s
                .into_report()
                .journal_error
                .expect("its error")
                .to_string();
            assert!(err.contains("Invalid argument"), "{err}");
        }
        // The attempt before a retry, likewise.
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open(&dir.path().join("j.jsonl"), "c").unwrap();
        let mut link = Scripted::answering([(Trouble::Transient, "451 later")]);
        let s = quiet(&mut journal, policy());
        let (mut queue, letters) = Queue::new(&s, 1);
        queue.push(outgoing("a@x.example")).unwrap();
        queue.flush().unwrap();
        drop(queue);
        s.journal.lock().unwrap().write_to_a_pipe();
        s.work(letters, &mut link);
        assert_eq!(link.tries, 1);
        assert!(s.into_report().journal_error.is_some());
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
        let s = quiet(&mut journal, policy());
        assert!(send(&s, &["a@x.example", "b@x.example"], &mut link).is_err());
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
    fn a_stub_link_sends_and_journals() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let mut journal = Journal::open(&path, "c").unwrap();
        let mut link = Scripted::default();
        let s = quiet(&mut journal, policy());
        send(&s, &["a@x.example"], &mut link).unwrap();
        send(&s, &["a@x.example"], &mut link).unwrap();
        let r = s.into_report();
        assert_eq!((r.sent, r.already_sent), (1, 1));
        assert_eq!(link.sent, ["a@x.example"]);
        assert_eq!(
            statuses(&path),
            [Status::Queued, Status::Attempt, Status::Sent]
        );

        let mut failing = Scripted::refusing();
        let s = quiet(&mut journal, policy());
        send(&s, &["b@x.example"], &mut failing).unwrap();
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
        send(&s, &["a@x.example"], &mut link).unwrap();
        send(&s, &["b@x.example"], &mut link).unwrap();
        send(&s, &["c@x.example"], &mut link).unwrap();
        send(&s, &["d@x.example"], &mut link).unwrap();
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
        send(&s, &["a@x.example"], &mut link).unwrap();
        send(&s, &["b@x.example"], &mut link).unwrap();
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
        send(&s, &["a@x.example"], &mut link).unwrap();
        assert!(s.stopped());
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
        send(
            &s,
            &["u@x.example", "a@x.example", "b@x.example"],
            &mut link,
        )
        .unwrap();
        let r = s.into_report();
        assert_eq!(r.uncertain, ["u@x.example"]);
        assert_eq!((r.sent, r.over_max), (1, 1));
        let s = quiet(
            &mut journal,
            Policy {
                resend_uncertain: true,
                retry_failed: false,
                ..policy()
            },
        );
        send(&s, &["u@x.example"], &mut link).unwrap();
        assert_eq!(s.into_report().sent, 1);
    }
}
