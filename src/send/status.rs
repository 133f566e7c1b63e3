//! `letterdrive status`: per group, what the journal says about its recipients: sent (by `send`
//! or, as `mark-sent` recorded, by hand), failed
//! (refused for good; never resent unasked), uncertain (may have arrived; never resent unasked)
//! and still to send; and what came back (`letterdrive replies`): replies and bounces, with the
//! bounced addresses listed so the campaigner can fix the lists.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use super::journal::{self, Journal, State};
use crate::campaign::recipients::Recipients;
use crate::campaign::{Campaign, EMAIL_COLUMN};
use crate::error::Result;

/// What came back for one recipient's letter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answered {
    pub replied: bool,
    /// Out of office and the like: not a reply.
    pub auto_replied: bool,
    /// The status codes of its bounces (`5.1.1`), in the order met; empty if none gave one.
    pub bounce_codes: Vec<String>,
    pub bounced: bool,
    /// Recorded as sent by other means (`mark-sent`): sent, though the journal does not say so.
    pub sent_by_hand: bool,
}

/// Answers by group and address (as [`journal::key`] gives it).
pub type Answers = HashMap<(String, String), Answered>;

/// `letterdrive status`: every group, or only `group`, from the journal at `journal_path` and
/// the `answers` recorded beside it.
pub fn status(
    campaign: &Campaign,
    group: Option<&str>,
    journal_path: &Path,
    answers: &Answers,
) -> Result<i32> {
    let journal = Journal::open(journal_path, &campaign.id)?;
    let groups: Vec<_> = match group {
        Some(g) => vec![campaign.group(g)?],
        None => campaign.groups.iter().collect(),
    };
    let width = groups.iter().map(|g| g.id.len()).max().unwrap_or(5).max(5);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "journal: {}", journal_path.display());
    let _ = writeln!(
        out,
        "{:width$}  {:>7}  {:>7}  {:>9}  {:>7}  {:>7}  {:>7}",
        "group", "sent", "failed", "uncertain", "pending", "replied", "bounced"
    );
    let (mut uncertain_list, mut failed_list, mut bounced_list) = (Vec::new(), Vec::new(), vec![]);
    let mut auto = 0u64;
    for g in groups {
        let mut rows = Recipients::open(&campaign.source, g)?;
        let email_idx = rows.columns.get(EMAIL_COLUMN);
        let [mut sent, mut failed, mut uncertain, mut pending, mut replied, mut bounced] =
            [0u64; 6];
        while let Some(row) = rows.next_row() {
            let Ok(row) = row else { continue };
            let Some(email) = email_idx.and_then(|i| row.record.get(i)) else {
                continue;
            };
            let answered = answers.get(&(g.id.clone(), journal::key(email)));
            let state = match answered.is_some_and(|a| a.sent_by_hand) {
                true => Some(State::Sent),
                false => journal.state(&g.id, email),
            };
            match state {
                Some(State::Sent) => sent += 1,
                Some(State::Failed) => {
                    failed += 1;
                    let reply = journal.refusal(&g.id, email).unwrap_or("");
                    failed_list.push(format!("{}: {} ({reply})", g.id, journal::key(email)));
                }
                Some(State::Uncertain) => {
                    uncertain += 1;
                    uncertain_list.push(format!("{}: {}", g.id, journal::key(email)));
                }
                Some(State::Deferred) | None => pending += 1,
            }
            let Some(a) = answered else {
                continue;
            };
            replied += u64::from(a.replied);
            auto += u64::from(a.auto_replied);
            if a.bounced {
                bounced += 1;
                let codes = match a.bounce_codes.join(", ") {
                    c if c.is_empty() => String::new(),
                    c => format!(" ({c})"),
                };
                bounced_list.push(format!("{}: {}{codes}", g.id, journal::key(email)));
            }
        }
        let _ = writeln!(
            out,
            "{:width$}  {sent:>7}  {failed:>7}  {uncertain:>9}  {pending:>7}  {replied:>7}  {bounced:>7}",
            g.id
        );
    }
    lists(&mut out, uncertain_list, failed_list, bounced_list, auto);
    Ok(0)
}

/// The recipients that want a look: uncertain, refused, bounced; and the auto-replies, which
/// are not counted as replies.
fn lists(
    out: &mut impl Write,
    uncertain: Vec<String>,
    failed: Vec<String>,
    bounced: Vec<String>,
    auto: u64,
) {
    for u in uncertain {
        let _ = writeln!(out, "uncertain: {u}");
    }
    for f in failed {
        let _ = writeln!(out, "failed:    {f}");
    }
    for b in &bounced {
        let _ = writeln!(out, "bounced:   {b}");
    }
    if !bounced.is_empty() {
        let _ = writeln!(
            out,
            "fix or remove the bounced addresses in the recipient lists"
        );
    }
    if auto > 0 {
        let (noun, verb) = match auto {
            1 => ("auto-reply", "is"),
            _ => ("auto-replies", "are"),
        };
        let _ = writeln!(
            out,
            "{auto} {noun} (out of office and the like) {verb} not counted as replies"
        );
    }
}
