//! `letterdrive status`: per group, what the journal says about its recipients: sent, failed
//! (refused for good; never resent unasked), uncertain (may have arrived; never resent unasked)
//! and still to send.

use std::io::Write;
use std::path::Path;

use super::journal::{self, Journal, State};
use crate::campaign::recipients::Recipients;
use crate::campaign::{Campaign, EMAIL_COLUMN};
use crate::error::Result;

/// `letterdrive status`: every group, or only `group`; the journal at `journal`, or the
/// campaign's default one.
pub fn status(campaign: &Campaign, group: Option<&str>, journal: Option<&Path>) -> Result<i32> {
    let journal_path = journal::choose_path(journal, &campaign.source, &campaign.id);
    let journal = Journal::open(&journal_path, &campaign.id)?;
    let groups: Vec<_> = match group {
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
    let (mut uncertain_list, mut failed_list) = (Vec::new(), Vec::new());
    for g in groups {
        let mut rows = Recipients::open(&campaign.source, g)?;
        let email_idx = rows.columns.get(EMAIL_COLUMN);
        let [mut sent, mut failed, mut uncertain, mut pending] = [0u64; 4];
        while let Some(row) = rows.next_row() {
            let Ok(row) = row else { continue };
            let Some(email) = email_idx.and_then(|i| row.record.get(i)) else {
                continue;
            };
            match journal.state(&g.id, email) {
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
    for f in failed_list {
        let _ = writeln!(out, "failed:    {f}");
    }
    Ok(0)
}
