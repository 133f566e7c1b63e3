//! What a run did, letter by letter, and how it is told at the end: one summary line, a warning
//! or an error per letter that did not simply go, and `--failed-csv` with the rows to fix.

use std::collections::HashMap;
use std::path::Path;

use crate::campaign::recipients::Recipients;
use crate::campaign::Campaign;
use crate::error::{Error, Result, EXIT_UNSENT};
use crate::plural;

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
    /// Refused for good by an earlier run, and not sent again (no `--retry-failed`).
    pub failed_before: u64,
    /// Left for a later run by `--max`.
    pub over_max: u64,
    /// Why the run stopped early, if it did.
    pub aborted: Option<String>,
    /// It stopped on something a rerun alone will not fix (TLS, login).
    pub fatal: bool,
    /// The first record the journal could not take; every error after it only follows from it.
    pub journal_error: Option<Error>,
}

/// A warning or an error for every letter that did not simply go, and why the run stopped.
fn trouble(report: &Report) {
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
}

/// Tell the run's outcome, write `--failed-csv`, and return the exit code.
pub fn finish(
    campaign: &Campaign,
    group: &str,
    report: &Report,
    csv: Option<&Path>,
) -> Result<i32> {
    // The run's one-line summary: what went, and every other outcome that happened.
    let mut summary = format!("{} sent", plural(report.sent, "letter"));
    for (n, what) in [
        (report.failed.len(), "failed"),
        (report.deferred.len(), "deferred (a rerun tries again)"),
        (report.already_sent as usize, "already sent before"),
        (
            report.failed_before as usize,
            "refused before (skipped; see --retry-failed)",
        ),
        (report.over_max as usize, "left by --max"),
        (
            report.unknown.len(),
            "uncertain (no reply from the server; not resent)",
        ),
        (
            report.uncertain.len(),
            "uncertain (skipped; see --resend-uncertain)",
        ),
    ] {
        if n > 0 {
            summary.push_str(&format!(", {n} {what}"));
        }
    }
    println!("{summary}");
    trouble(report);
    if let Some(path) = csv {
        let rows: Vec<&Unsent> = report.failed.iter().chain(&report.deferred).collect();
        write_failed_csv(campaign, group, &rows, path)?;
        if !rows.is_empty() {
            println!(
                "wrote {} with the server's reply to {}",
                plural(rows.len() as u64, "unsent row"),
                path.display()
            );
        }
    }
    let all_sent = report.failed.is_empty()
        && report.failed_before == 0
        && report.deferred.is_empty()
        && report.uncertain.is_empty()
        && report.unknown.is_empty()
        && report.aborted.is_none();
    Ok(if all_sent { 0 } else { EXIT_UNSENT })
}

/// The unsent rows as they are in the recipients file, plus the server's reply: fix, then send
/// that file as a group of its own or fix the original and rerun.
fn write_failed_csv(campaign: &Campaign, group: &str, rows: &[&Unsent], path: &Path) -> Result<()> {
    let mut recipients = Recipients::open(&campaign.source, campaign.group(group)?)?;
    let by_line: HashMap<u64, &str> = rows.iter().map(|u| (u.line, u.reply.as_str())).collect();
    let failed = |e: csv::Error| Error::io(path, e.into());
    let mut w = csv::Writer::from_path(path).map_err(failed)?;
    let mut header = recipients.columns.names.clone();
    header.push("smtp_reply".to_string());
    w.write_record(&header).map_err(failed)?;
    while let Some(row) = recipients.next_row() {
        let Ok(row) = row else { continue };
        if let Some(reply) = by_line.get(&row.line) {
            let mut rec: Vec<&str> = row.record.iter().collect();
            rec.push(reply);
            w.write_record(&rec).map_err(failed)?;
        }
    }
    w.flush().map_err(|e| Error::io(path, e))
}
